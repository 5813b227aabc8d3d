#!/bin/sh
# Fuzzing driver.
#   test/fuzz.sh check    build every harness, replay its committed corpus,
#                         then fuzz it briefly (the whole stage <= 3 minutes)
#   test/fuzz.sh run N    fuzz every harness for N seconds, adding what it
#                         finds to fuzz/corpus/<name>/ (commit the new files)
#   test/fuzz.sh coverage each harness over its corpus: libFuzzer's cov/ft and
#                         llvm-cov coverage of its target, into docs/fuzzing.md
#                         (test/fuzzcov.sh; make fuzz-coverage)
# A crash input is kept in build/fuzz/crashes/<name>/; commit it to the
# corpus so every later run replays it.
set -u
cd "$(dirname "$0")/.."
mode=${1:-check}
[ "$mode" = coverage ] && exec sh test/fuzzcov.sh
make -s -j"${JOBS:-2}" TARGET=fuzz fuzz-bins || { echo "0 passed, 1 failed"; exit 1; }
harnesses=$(ls fuzz/*.c 2>/dev/null | sed 's|fuzz/||; s|\.c$||')
count=$(echo "$harnesses" | grep -c . || true)
pass=0 fail=0
if [ "$count" -eq 0 ]; then
	echo "no harnesses"
	echo "0 passed, 0 failed"
	exit 0
fi
if [ "$mode" = run ]; then
	secs=${2:-60}
else
	# brief runs share a 110 s budget (the stage, building and replaying
	# included, stays under 3 minutes), at most 15 s each
	secs=$((110 / count))
	[ $secs -gt 15 ] && secs=15
	[ $secs -lt 2 ] && secs=2
fi
mkdir -p build/fuzz/crashes build/fuzz/stats
for h in $harnesses; do
	bin=build/fuzz/$h
	corpus=fuzz/corpus/$h
	mkdir -p "$corpus" "build/fuzz/crashes/$h"
	dict=""
	[ -f "fuzz/$h.dict" ] && dict="-dict=fuzz/$h.dict"
	if [ "$mode" = check ]; then
		# 1. replay every committed file (regressions included)
		if [ -n "$(ls "$corpus")" ]; then
			if "$bin" -runs=0 $dict "$corpus"/* >"build/fuzz/stats/$h.replay" 2>&1; then
				pass=$((pass + 1))
			else
				echo "FAIL $h: a corpus file crashes it"; tail -30 "build/fuzz/stats/$h.replay"
				fail=$((fail + 1))
			fi
		fi
		work=$(mktemp -d)
		cp "$corpus"/* "$work"/ 2>/dev/null || true
	else
		work=$corpus
	fi
	# 2. fuzz for a while
	if "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="build/fuzz/crashes/$h/" $dict "$work" >"build/fuzz/stats/$h.log" 2>&1; then
		pass=$((pass + 1))
		execs=$(grep -E 'stat::number_of_executed_units' "build/fuzz/stats/$h.log" | awk '{print $2}')
		cov=$(grep -E '^#[0-9]+.*DONE' "build/fuzz/stats/$h.log" | grep -oE 'cov: [0-9]+' | tail -1)
		echo "ok   $h: ${secs}s, ${execs:-?} runs, ${cov:-cov: ?}"
	else
		echo "FAIL $h: crash or leak, input kept in build/fuzz/crashes/$h/"
		tail -40 "build/fuzz/stats/$h.log"
		fail=$((fail + 1))
	fi
	[ "$mode" = check ] && rm -rf "$work"
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
