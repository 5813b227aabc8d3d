#!/bin/sh
# make check: every stage the CI runs, each timed, with one summary line.
#
# A stage that prints "N passed, N failed" contributes those counts; any
# other stage counts as one check, passed when it exits 0.  Stage logs are
# kept in build/check/.  Exit status is non-zero when anything failed.
set -u
cd "$(dirname "$0")/.."
LOGS=build/check
rm -rf "$LOGS"
mkdir -p "$LOGS"
JOBS=${JOBS:-2}
TOTAL_P=0
TOTAL_F=0
T0=$(date +%s)

stage() {
	name=$1
	shift
	s=$(date +%s)
	"$@" >"$LOGS/$name.log" 2>&1
	rc=$?
	e=$(date +%s)
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOGS/$name.log" | tail -1)
	if [ -n "$line" ]; then
		p=$(echo "$line" | cut -d' ' -f1)
		f=$(echo "$line" | cut -d' ' -f3)
	elif [ $rc -eq 0 ]; then
		p=1 f=0
	else
		p=0 f=1
	fi
	[ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
	TOTAL_P=$((TOTAL_P + p))
	TOTAL_F=$((TOTAL_F + f))
	if [ "$f" -eq 0 ]; then st=ok; else st=FAILED; fi
	printf '%-22s %-6s %5d passed %3d failed %5ds\n' "$name" "$st" "$p" "$f" $((e - s))
	if [ "$f" -ne 0 ]; then
		echo "---- last lines of $LOGS/$name.log"
		tail -n 40 "$LOGS/$name.log" | sed 's/^/    /'
		echo "----"
	fi
	return $rc
}

stage deps sh toolchain/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
stage build-x86_64 make -j"$JOBS" bin unit-bin
stage build-aarch64 make -j"$JOBS" TARGET=aarch64 bin client unit-bin
stage build-armv7 make -j"$JOBS" TARGET=armv7 bin unit-bin
stage build-asan make -j"$JOBS" TARGET=asan bin unit-bin
stage unit-asan build/asan/unit
stage unit-x86_64 build/x86_64/unit
stage unit-aarch64 qemu-aarch64-static build/aarch64/unit
stage unit-armv7 qemu-arm-static build/armv7/unit
stage proto-purity sh test/purity.sh
stage size-budget sh test/size.sh --check
stage lint sh test/lint.sh
stage fuzz sh test/fuzz.sh check
for t in test/integration/*.sh; do
	[ -f "$t" ] || continue
	case $t in */lib.sh) continue ;; esac
	n=$(basename "$t" .sh)
	# the file's own interpreter (#!/bin/sh or #!/bin/bash), executable or not
	interp=$(head -1 "$t" | sed -n 's|^#! *\([^ ]*\).*|\1|p')
	stage "it-$n" "${interp:-sh}" "$t"
done

echo "make check: $(( $(date +%s) - T0 ))s in all; logs in $LOGS/"
echo "$TOTAL_P passed, $TOTAL_F failed"
[ "$TOTAL_F" -eq 0 ]
