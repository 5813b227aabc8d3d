# Shared helpers for benchmark scripts (sourced, POSIX sh).
#
# A benchmark measures ours and, where there is one, the reference tool in
# the same run, then calls
#
#   record METRIC OURS REF UNIT CHECK [NOTE]
#
# CHECK is how the target is judged: "ratio<=1.0" (OURS/REF), "max=262144"
# (OURS <= the number), "min=..." (OURS >= the number), or "-" (report only).
# Rows go to $BENCH_TSV; test/bench/run.sh turns them into the report and
# fails when a row missed its target.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
. "$ROOT/test/ports.lib"
BENCH_DIR=${BENCH_DIR:-$ROOT/build/bench}
BENCH_TSV=${BENCH_TSV:-$BENCH_DIR/results.tsv}
mkdir -p "$BENCH_DIR"
DMQTT=${DMQTT:-$ROOT/build/x86_64/dmqtt}

record() {
	metric=$1 ours=$2 ref=$3 unit=$4 check=$5 note=${6:-}
	verdict=$(awk -v o="$ours" -v r="$ref" -v c="$check" 'BEGIN {
		if (o == "" || o == "-") { print "FAIL"; exit }
		if (c == "-") { print "info"; exit }
		split(c, kv, "=");
		if (kv[1] == "max") { print (o + 0 <= kv[2] + 0) ? "pass" : "FAIL"; exit }
		if (kv[1] == "min") { print (o + 0 >= kv[2] + 0) ? "pass" : "FAIL"; exit }
		if (kv[1] == "ratio<") { if (r + 0 <= 0) { print "FAIL"; exit }
			print (o / r <= kv[2] + 0) ? "pass" : "FAIL"; exit }
		print "FAIL" }')
	ratio=$(awk -v o="$ours" -v r="$ref" 'BEGIN { if (r == "-" || r + 0 == 0) print "-"; else printf "%.2f", o / r }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$metric" "$ours" "$ref" "$unit" "$ratio" "$check" "$verdict" "$note" >>"$BENCH_TSV"
	printf '%-48s %12s %12s %-6s %6s %-14s %s\n' "$metric" "$ours" "$ref" "$unit" "$ratio" "$check" "$verdict"
}

# median of numbers on stdin
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# peak RSS (KiB) and CPU seconds of a command: sets PEAK_KB, CPU_S, WALL_S
measure() {
	/usr/bin/time -f '%M %U %S %e' -o "$BENCH_DIR/.time" "$@"
	rc=$?
	read -r PEAK_KB u s WALL_S <"$BENCH_DIR/.time"
	CPU_S=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.3f", u + s }')
	return $rc
}
