#!/bin/sh
# The dispatcher's contract (DESIGN.md "Conventions"): usage errors exit 64
# with one clear line, nothing crashes (also under ASan+UBSan), every
# target's binary reports its own triple, and the static binary runs alone
# in an empty root.
. "$(dirname "$0")/lib.sh"

long=$(head -c 100000 /dev/zero | tr '\0' x)
bad=$(printf 'pub\377\376')
for bin in build/x86_64/dmqtt build/asan/dmqtt; do
	b=$(basename "$(dirname "$bin")")
	expect_rc "$b: no arguments -> 64" 64 "$bin"
	expect_grep "$b: no arguments says what is missing" "missing command" "$T_ERR"
	expect_rc "$b: --bogus -> 64" 64 "$bin" --bogus
	expect_grep "$b: --bogus named" "unknown option '--bogus'" "$T_ERR"
	expect_rc "$b: 100 kB command name -> 64" 64 "$bin" "$long"
	if [ "$(wc -c <"$T_ERR")" -lt 300 ]; then ok "$b: long name is truncated in the message"; else fail "$b: long name" "message of $(wc -c <"$T_ERR") bytes"; fi
	expect_rc "$b: invalid UTF-8 command name -> 64" 64 "$bin" "$bad"
	expect_grep "$b: invalid bytes escaped" 'pub\\xff\\xfe' "$T_ERR"
	expect_rc "$b: version --bogus -> 64" 64 "$bin" version --bogus
	expect_rc "$b: version extra argument -> 64" 64 "$bin" version extra
	expect_rc "$b: help" 0 "$bin" help
	expect_grep "$b: help lists version" "version" "$T_OUT"
	expect_rc "$b: help unknown -> 64" 64 "$bin" help nosuch
done

expect_rc "x86_64 version" 0 build/x86_64/dmqtt version
expect_grep "x86_64 triple" "^target: x86_64-linux-musl$" "$T_OUT"
expect_rc "aarch64 version under qemu" 0 qemu-aarch64-static build/aarch64/dmqtt version
expect_grep "aarch64 triple" "^target: aarch64-linux-musl$" "$T_OUT"
expect_rc "armv7 version under qemu" 0 qemu-arm-static build/armv7/dmqtt version
expect_grep "armv7 triple" "^target: armv7-linux-musleabihf$" "$T_OUT"

for t in x86_64 aarch64 armv7; do
	if file "build/$t/dmqtt" | grep -q "statically linked" &&
	   LC_ALL=C readelf -d "build/$t/dmqtt" 2>&1 | grep -q "no dynamic section"; then
		ok "$t binary is static with no dynamic section"
	else
		fail "$t binary is static" "$(file "build/$t/dmqtt")"
	fi
done

# alone in an empty root: no /etc, no libc, no shell
root=$T_TMP/root
mkdir -p "$root"
cp build/x86_64/dmqtt "$root/dmqtt"
if [ "$(id -u)" -eq 0 ]; then
	expect_rc "runs alone in an empty chroot" 0 chroot "$root" /dmqtt version
	expect_grep "chroot version output" "^dmqtt [0-9]" "$T_OUT"
else
	expect_rc "runs alone in an empty root (unshare)" 0 unshare -r chroot "$root" /dmqtt version
fi
finish
