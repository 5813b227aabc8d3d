#!/bin/sh
# README.md's benchmark and size tables, generated from the benchmark rows
# (results.tsv, see lib.sh's record) so the README quotes the report and
# nothing is typed by hand.  Each table sits between marker comments:
#   <!-- bench-table:begin --> ... <!-- bench-table:end -->
#   <!-- size-table:begin -->  ... <!-- size-table:end -->
# Usage: readme.sh RESULTS.TSV README.md   (rewrites README.md in place)
set -u
tsv=$1 readme=$2
[ -s "$tsv" ] || { echo "readme.sh: no rows in $tsv" >&2; exit 1; }
tmp=$readme.tmp.$$

bench_rows() {
	echo "| figure | dmqtt | reference | ratio | target | met |"
	echo "|---|---:|---:|---:|---|---|"
	awk -F'\t' -f test/bench/readme.awk -v part=bench "$tsv"
}
size_rows() {
	echo "| target | stripped bytes | budget | met |"
	echo "|---|---:|---|---|"
	awk -F'\t' -f test/bench/readme.awk -v part=size "$tsv"
}
bench_rows >"$tmp.bench"
size_rows >"$tmp.size"
for m in bench-table size-table; do
	grep -q "^<!-- $m:begin -->$" "$readme" && grep -q "^<!-- $m:end -->$" "$readme" ||
		{ echo "readme.sh: $readme has no $m markers" >&2; rm -f "$tmp".*; exit 1; }
done
awk -v bench="$tmp.bench" -v size="$tmp.size" '
	/^<!-- (bench|size)-table:begin -->$/ {
		print; f = ($0 ~ /bench/) ? bench : size
		while ((getline l < f) > 0) print l
		skip = 1; next
	}
	/^<!-- (bench|size)-table:end -->$/ { skip = 0 }
	!skip { print }' "$readme" >"$tmp" && mv "$tmp" "$readme"
rm -f "$tmp.bench" "$tmp.size"
