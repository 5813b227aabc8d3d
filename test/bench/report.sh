#!/bin/sh
# Markdown report from the benchmark rows (see lib.sh's record), linking
# the charts test/bench/charts.sh drew beside the rows (ratios.png,
# size.png), when they are there.
tsv=${1:-build/bench/results.tsv}
dir=$(dirname "$tsv")
echo "# dmqtt benchmark report"
echo
echo "Measured on $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d). Ratios are ours / reference,"
echo "measured in the same run; 'check' is the target from the issues."
charts=""
[ -f "$dir/ratios.png" ] && charts="$charts [ours / reference](ratios.png),"
[ -f "$dir/size.png" ] && charts="$charts [size against budget](size.png),"
[ -n "$charts" ] && echo "Charts, drawn from these rows:${charts%,}."
echo
echo "| metric | dmqtt | reference | unit | ratio | check | verdict | note |"
echo "|---|---:|---:|---|---:|---|---|---|"
awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$tsv"
if [ -f "$dir/ratios.png" ]; then
	echo
	echo "![ours / reference, per row measured beside a reference](ratios.png)"
fi
if [ -f "$dir/size.png" ]; then
	echo
	echo "![stripped size per target and code per module, against their budgets](size.png)"
fi
