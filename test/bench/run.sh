#!/bin/sh
# make bench: every benchmark, one report (build/bench/report.md), non-zero
# exit when a target is missed (named in the output).
set -u
cd "$(dirname "$0")/../.." || exit 1
BENCH_DIR=$(pwd)/build/bench
export BENCH_DIR BENCH_TSV="$BENCH_DIR/results.tsv"
mkdir -p "$BENCH_DIR"
: >"$BENCH_TSV"
sh toolchain/deps.sh || exit 1
make -s -j2 bin cross >/dev/null || exit 1
for b in ${BENCHES:-$(ls test/bench/*.sh | grep -v -e /run.sh -e /lib.sh -e /report.sh -e /json.sh)}; do
	echo "== $b"
	sh "$b" || echo "!! $b exited non-zero"
done
sh test/bench/report.sh "$BENCH_TSV" >"$BENCH_DIR/report.md"
echo "report: $BENCH_DIR/report.md"
missed=$(awk -F'\t' '$7 == "FAIL" { print "  " $1 " (" $2 " " $4 ", check " $6 ")" }' "$BENCH_TSV")
if [ -n "$missed" ]; then
	echo "targets missed:"
	echo "$missed"
	exit 1
fi
echo "all targets met"
