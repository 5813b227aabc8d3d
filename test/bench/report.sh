#!/bin/sh
# Markdown report from the benchmark rows (see lib.sh's record).
tsv=${1:-build/bench/results.tsv}
echo "# dmqtt benchmark report"
echo
echo "Measured on $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d). Ratios are ours / reference,"
echo "measured in the same run; 'check' is the target from the issues."
echo
echo "| metric | dmqtt | reference | unit | ratio | check | verdict | note |"
echo "|---|---:|---:|---|---:|---|---|---|"
awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$tsv"
