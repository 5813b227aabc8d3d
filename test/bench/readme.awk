# rows of results.tsv (name ours ref unit ratio check verdict note) as
# README table rows; part=bench: every row but the stripped sizes,
# part=size: the stripped sizes per target
function target(c) {
	if (c == "-") return "report only"
	if (c ~ /^ratio<=/) { sub(/^ratio<=/, "", c); return "ratio ≤ " c }
	if (c ~ /^max=/) { sub(/^max=/, "", c); return "≤ " c }
	if (c ~ /^min=/) { sub(/^min=/, "", c); return "≥ " c }
	return c
}
function met(v) { return v == "pass" ? "yes" : v == "FAIL" ? "**no**" : "—" }
function refname(note,   r) {
	if (match(note, /reference: [^;(]+/)) {
		r = substr(note, RSTART + 11, RLENGTH - 11)
		sub(/ +$/, "", r)
		return " (" r ")"
	}
	return ""
}
{
	size = $1 ~ /^stripped size, /
	if (part == "size" && size) {
		t = $1; sub(/^stripped size, /, "", t)
		printf "| %s | %s | %s | %s |\n", t, $2, target($6), met($7)
	} else if (part == "bench" && !size) {
		ours = $2 == "-" ? "—" : $2 " " $4
		ref = $3 == "-" ? "—" : $3 " " $4 refname($8)
		printf "| %s | %s | %s | %s | %s | %s |\n", $1, ours, ref, $5, target($6), met($7)
	}
}
