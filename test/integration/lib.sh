# Shared helpers for integration tests (sourced, POSIX sh).
#
# Each test: `. test/integration/lib.sh`, then `ok NAME` / `fail NAME WHY`
# or `expect_rc NAME WANT CMD...`, and `finish` at the end, which prints
# "N passed, N failed" and sets the exit status.  Servers a test starts are
# registered with `cleanup_add "kill PID"` and stopped on exit.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
DMQTT=${DMQTT:-$ROOT/build/x86_64/dmqtt}
T_PASS=0
T_FAIL=0
T_TMP=$(mktemp -d /tmp/dmqtt-it.XXXXXX)
T_CLEAN=""
. "$ROOT/test/ports.lib"

cleanup_add() { T_CLEAN="$1; $T_CLEAN"; }
t_cleanup() {
	eval "$T_CLEAN" >/dev/null 2>&1
	if [ -n "${KEEP:-}" ]; then echo "kept $T_TMP" >&2; else rm -rf "$T_TMP"; fi
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

# now_ms: wall clock in milliseconds
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# wait_for SECONDS CMD...: poll CMD every 50 ms until it succeeds (1 when
# SECONDS pass first)
wait_for() {
	_wf_n=$(($1 * 20))
	shift
	while ! "$@"; do
		_wf_n=$((_wf_n - 1))
		[ $_wf_n -le 0 ] && return 1
		sleep 0.05
	done
}

ok() { T_PASS=$((T_PASS + 1)); echo "ok   $1"; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL $1: $2"; }

# expect_rc NAME WANT CMD... : run CMD (stdout/stderr kept in $T_OUT/$T_ERR)
expect_rc() {
	name=$1 want=$2
	shift 2
	T_OUT=$T_TMP/out T_ERR=$T_TMP/err
	"$@" >"$T_OUT" 2>"$T_ERR"
	got=$?
	if [ "$got" -eq "$want" ]; then
		ok "$name"
	else
		fail "$name" "exit $got, expected $want; stderr: $(head -c 300 "$T_ERR")"
	fi
}

# expect_grep NAME PATTERN FILE
expect_grep() {
	if grep -qE -- "$2" "$3"; then ok "$1"; else fail "$1" "no /$2/ in $(head -c 300 "$3")"; fi
}

# free_port and wait_port come from test/ports.lib.

finish() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}
