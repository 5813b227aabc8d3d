#!/bin/sh
# The cores in proto/ stay pure: no libc beyond an allow-list of string
# functions (plus BearSSL's br_* and compiler helpers), and no writable
# global state (.data and .bss empty).  Checked on the x86_64 musl objects,
# the ones that ship, and on aarch64 for the compiler-helper names.
set -u
cd "$(dirname "$0")/.."
ALLOW='^(memcpy|memmove|memset|memcmp|memchr|strlen|strcmp|strncmp|strchr|br_[a-z0-9_]+|__aeabi_[a-z0-9]+|__stack_chk_fail)$'
pass=0 fail=0
for t in x86_64 aarch64 armv7; do
	# symbols the cores define for each other (utf8_valid, mqtt_*...) are fine
	own=$(nm --defined-only build/$t/obj/proto/*.o 2>/dev/null | awk 'NF == 3 && $2 ~ /[TtDdRr]/ { print $3 }' | sort -u | tr '\n' '|')
	for o in build/$t/obj/proto/*.o; do
		[ -f "$o" ] || continue
		bad=$(nm -u "$o" | awk '{print $NF}' | grep -Ev "$ALLOW" | grep -Exv "${own%|}" | tr '\n' ' ')
		if [ -n "$bad" ]; then
			echo "FAIL $o references: $bad"
			fail=$((fail + 1))
		else
			pass=$((pass + 1))
		fi
		# sizes of writable sections (any name starting .data or .bss)
		w=$(LC_ALL=C readelf -SW "$o" | awk '$2 ~ /^\.(data|bss)/ && $6 != "000000" { print $2 "=" $6 }' | tr '\n' ' ')
		if [ -n "$w" ]; then
			echo "FAIL $o has writable globals: $w"
			fail=$((fail + 1))
		else
			pass=$((pass + 1))
		fi
	done
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
