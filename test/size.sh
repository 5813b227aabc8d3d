#!/bin/sh
# Stripped size of dmqtt per target, and of aarch64's dmqtt-client (pub,
# sub and tls only: the TLS stage's budget); with --check, over budget fails.
#
# Budgets are in toolchain/size-budgets (target bytes); they grow only when a
# capability lands, and the README's size table quotes this output.
set -u
cd "$(dirname "$0")/.."
check=0
[ "${1:-}" = "--check" ] && check=1
fail=0 pass=0
printf '%-15s %10s %10s %10s\n' target bytes KiB budget
for t in x86_64 aarch64 armv7 aarch64-client; do
	case $t in
	*-client) f=build/${t%-client}/dmqtt-client ;;
	*) f=build/$t/dmqtt ;;
	esac
	if [ ! -f "$f" ]; then
		echo "$t: $f missing (run make cross)"
		fail=$((fail + 1))
		continue
	fi
	b=$(stat -c %s "$f")
	budget=$(awk -v t="$t" '$1 == t { print $2 }' toolchain/size-budgets)
	printf '%-15s %10d %10.1f %10s\n' "$t" "$b" "$(awk -v b="$b" 'BEGIN { print b / 1024 }')" "${budget:--}"
	if [ -n "$budget" ] && [ "$b" -gt "$budget" ]; then
		echo "FAIL $t: $b bytes is over the budget of $budget"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done
[ $check = 1 ] && echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
