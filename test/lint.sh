#!/bin/sh
# make lint: cppcheck and clang-tidy over our own C (proto, platform, src,
# fuzz, test/unit).  Clean means no finding at all.
set -u
cd "$(dirname "$0")/.."
INC="-I. -Itest/unit -isystem build/deps/bearssl-src/inc -Ibuild/x86_64/gen"
DEFS="-D_POSIX_C_SOURCE=200809L"
FILES=$(ls proto/*.c platform/*.c src/*.c 2>/dev/null)
pass=0 fail=0

[ -f build/x86_64/gen/build.h ] || make -s build/x86_64/gen/build.h >/dev/null

if cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
	--inline-suppr --suppress=missingIncludeSystem $INC $DEFS $FILES; then
	pass=$((pass + 1))
else
	echo "FAIL cppcheck"
	fail=$((fail + 1))
fi

# clang-tidy: checks are in .clang-tidy; run per file, two at a time
out=build/lint
mkdir -p "$out"
rm -f "$out"/*.tidy
echo $FILES | tr ' ' '\n' | xargs -P 2 -I{} sh -c \
	'clang-tidy --quiet "{}" -- -std=c11 '"$INC $DEFS"' >"'"$out"'/$(echo {} | tr / _).tidy" 2>/dev/null; true'
for f in "$out"/*.tidy; do
	if grep -qE 'warning:|error:' "$f"; then
		cat "$f"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
