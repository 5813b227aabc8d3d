#!/bin/sh
# The JSON tokenizer beside cJSON on a 10 MB document, and the end-to-end
# config load, from test/bench/json.sh (which builds and runs the program).
. "$(dirname "$0")/lib.sh"
out=$BENCH_DIR/json.out
sh test/bench/json.sh >"$out" 2>&1
ours=$(awk -F'|' '/proto\/json \(tokens into an array\)/ { gsub(/ ms| /, "", $3); print $3 }' "$out")
ref=$(awk -F'|' '/cJSON_ParseWithLength/ { gsub(/ ms| /, "", $3); print $3 }' "$out")
mbs=$(awk -F'|' '/proto\/json \(tokens into an array\)/ { gsub(/ /, "", $4); print $4 }' "$out")
record "JSON tokenize 10 MB (best time)" "${ours:--}" "${ref:--}" ms "ratio<=1.0" "reference: cJSON parse; ours ${mbs:-?} MB/s"
cfg=$(awk -F'|' '/with its CA \(the target\)/ { gsub(/ us| /, "", $4); print $4 }' "$out")
nocfg=$(awk -F'|' '/without the CA key/ { gsub(/ us| /, "", $4); print $4 }' "$out")
record "config load 4 KB end to end, median" "${cfg:--}" - us "max=50" "without the CA check: ${nocfg:-?} us (BearSSL PEM+X.509 decoding dominates)"
