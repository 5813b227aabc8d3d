#!/bin/sh
# make bench: every benchmark, one report (build/bench/report.md) with its
# charts (build/bench/ratios.png, size.png), non-zero exit when a target is
# missed (named in the output) or the charts could not be drawn.
set -u
cd "$(dirname "$0")/../.." || exit 1
BENCH_DIR=$(pwd)/build/bench
export BENCH_DIR BENCH_TSV="$BENCH_DIR/results.tsv"
mkdir -p "$BENCH_DIR"
: >"$BENCH_TSV"
sh toolchain/deps.sh || exit 1
make -s -j2 bin cross >/dev/null || exit 1
for b in ${BENCHES:-$(ls test/bench/*.sh | grep -v -e /run.sh -e /lib.sh -e /report.sh -e /charts.sh -e /readme.sh -e /json.sh)}; do
	echo "== $b"
	sh "$b" || echo "!! $b exited non-zero"
	# let the previous benchmark's peers finish exiting (fleet.sh tears
	# down 10,000 sessions) before the next one measures anything
	sleep 3
done
rm -f "$BENCH_DIR/ratios.png" "$BENCH_DIR/size.png"
charts_ok=1
sh test/bench/charts.sh "$BENCH_TSV" "$BENCH_DIR" >"$BENCH_DIR/charts.out" || charts_ok=0
sed 's/^/chart: /' "$BENCH_DIR/charts.out"
sh test/bench/report.sh "$BENCH_TSV" >"$BENCH_DIR/report.md"
echo "report: $BENCH_DIR/report.md"
# the README's tables and the committed copy of the report come from this run
if [ -z "${BENCHES:-}" ]; then
	sh test/bench/readme.sh "$BENCH_TSV" README.md && echo "README.md: tables regenerated"
	mkdir -p docs/bench
	cp "$BENCH_DIR/report.md" docs/bench/report.md
	for p in ratios.png size.png; do [ -f "$BENCH_DIR/$p" ] && cp "$BENCH_DIR/$p" docs/bench/; done
	echo "docs/bench/: report and charts copied"
fi
missed=$(awk -F'\t' '$7 == "FAIL" { print "  " $1 " (" $2 " " $4 ", check " $6 ")" }' "$BENCH_TSV")
[ $charts_ok = 1 ] || missed="$missed
  charts (test/bench/charts.sh failed)"
if [ -n "$missed" ]; then
	echo "targets missed:"
	echo "$missed"
	exit 1
fi
echo "all targets met"
