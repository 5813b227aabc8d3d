#!/bin/sh
# The MQTT client against a hostile broker (test/integration/fakebroker.py),
# run as the ASan+UBSan binary.  Every case checks the exit code (DESIGN.md
# "Conventions"), that stderr says what went wrong in one clear line, that
# no sanitizer reported anything, and that it was over in a few seconds.
#
#  - Before CONNACK (the first connection fails): `dmqtt sub`/`dmqtt pub`
#    report and exit (CONNACK 1,2 -> 76; 3 -> 69; 4,5 -> 77; malformed or
#    unexpected bytes -> 76; closed or silent broker -> 69), and do not
#    retry (the fake broker serves a later connection well: a retry would
#    succeed and exit 0).
#  - After a good CONNACK (sub: at SUBSCRIBE, pub: at PUBLISH): a protocol
#    error ends that connection with one "connection lost: ..." warning;
#    the client reconnects, subscribes or resends again and finishes with
#    exit 0 on the fake broker's well-behaved second connection.  Acks with
#    ids the client never used are ignored (no reconnect).
. "$(dirname "$0")/lib.sh"
. "$ROOT/test/integration/peers.lib"
BIN=${DMQTT_ASAN:-$ROOT/build/asan/dmqtt}
FB=$ROOT/test/integration/fakebroker.py
[ -x "$BIN" ] || { fail "asan binary" "$BIN missing (make TARGET=asan bin)"; finish; exit 1; }
# a private copy: a rebuild in the tree while this runs cannot pull it away
cp "$BIN" "$T_TMP/dmqtt-asan" && BIN=$T_TMP/dmqtt-asan
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
N=0

# fb_start SCENARIO: the fake broker on a free port (FB_PORT, FB_PID, FB_LOG)
fb_start() {
	N=$((N + 1))
	FB_LOG=$T_TMP/fb$N.log
	: >"$FB_LOG"
	: >"$T_TMP/fb$N.out"
	/usr/bin/python3 "$FB" "$1" --log "$FB_LOG" --life 20 </dev/null >"$T_TMP/fb$N.out" 2>"$T_TMP/fb$N.err" &
	FB_PID=$!
	cleanup_add "kill $FB_PID"
	i=0
	while [ $i -lt 100 ]; do
		FB_PORT=$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$T_TMP/fb$N.out")
		[ -n "$FB_PORT" ] && return 0
		sleep 0.05
		i=$((i + 1))
	done
	echo "fakebroker $1 did not start: $(cat "$T_TMP/fb$N.err")" >&2
	return 1
}
fb_stop() { kill "$FB_PID" 2>/dev/null; wait "$FB_PID" 2>/dev/null; }


# case SCENARIO WANT_RC STDERR_REGEX MAX_MS TOOL ARGS... : one client run.
# STDERR_REGEX must match the (single) error line for a non-zero exit, or
# the single "connection lost" warning for 0 ('' = stderr must be empty).
# Sets C_OUT/C_ERR/C_MS for extra checks.
case_run() {
	scen=$1 want=$2 re=$3 max=$4 tool=$5
	shift 5
	name="$tool $scen"
	C_OUT=$T_TMP/c$N.out C_ERR=$T_TMP/c$N.err
	if ! fb_start "$scen"; then fail "$name" "fake broker did not start"; return; fi
	t0=$(now_ms)
	timeout -s KILL $((max / 1000 + 1)) "$BIN" "$tool" -p "$FB_PORT" --connect-timeout 2000 "$@" </dev/null >"$C_OUT" 2>"$C_ERR"
	rc=$?
	C_MS=$(($(now_ms) - t0))
	fb_stop
	why=""
	[ "$rc" -eq "$want" ] || why="$why exit $rc, expected $want;"
	if grep -qE 'Sanitizer|runtime error|SUMMARY:' "$C_ERR"; then why="$why sanitizer report;"; fi
	[ "$C_MS" -le "$max" ] || why="$why took $C_MS ms (> $max);"
	if [ "$want" -ne 0 ]; then
		# the one clear line: "dmqtt TOOL: what happened"
		if [ "$(wc -l <"$C_ERR")" -ne 1 ] || ! grep -qE "^dmqtt $tool: .*($re)" "$C_ERR"; then
			why="$why stderr not one line matching /$re/;"
		fi
		# gave up: no second connection
		if grep -q '^[0-9.]* conn 2 ' "$FB_LOG"; then why="$why retried after a fatal first connection;"; fi
	elif [ -z "$re" ]; then
		[ -s "$C_ERR" ] && why="$why unexpected stderr;"
	else
		if [ "$(grep -c 'connection lost' "$C_ERR")" -ne 1 ] ||
			! grep -qE "warn $tool: connection lost: .*($re).*; reconnecting" "$C_ERR"; then
			why="$why no single 'connection lost: /$re/' warning;"
		fi
		grep -q "info $tool: reconnected to the broker" "$C_ERR" || why="$why no 'reconnected' line;"
		grep -q '^[0-9.]* conn 2 accepted' "$FB_LOG" || why="$why did not reconnect;"
	fi
	if [ -z "$why" ]; then
		ok "$name -> $rc in $C_MS ms: $(head -c 160 "$C_ERR" | head -n 1)"
	else
		fail "$name" "$why stderr: $(head -c 400 "$C_ERR"); fake broker: $(tail -n 4 "$FB_LOG" | tr '\n' '|')"
	fi
}

# ---------------------------------------------------------------- first connection
# scenario, exit code, the error line, time limit
PRE='trunc_close 69 closed.the.connection 4000
varint5 76 protocol.error.from.the.broker:.malformed.packet 4000
connect 76 protocol.error.from.the.broker:.protocol.violation 4000
type0 76 protocol.error.from.the.broker:.bad.packet.type 4000
type15 76 protocol.error.from.the.broker:.bad.packet.type 4000
suback_first 76 protocol.error.from.the.broker:.protocol.violation 4000
publish_first 76 protocol.error.from.the.broker:.protocol.violation 4000
huge_connack 76 protocol.error.from.the.broker:.packet.too.large 4000
huge_publish_first 76 protocol.error.from.the.broker:.protocol.violation 4000
connack1 76 refused.the.connection:.unacceptable.protocol.version.\(CONNACK.1\)$ 4000
connack2 76 refused.the.connection:.client.identifier.rejected.\(CONNACK.2\)$ 4000
connack3 69 refused.the.connection:.server.unavailable.\(CONNACK.3\)$ 4000
connack4 77 refused.the.connection:.bad.user.name.or.password.\(CONNACK.4\)$ 4000
connack5 77 refused.the.connection:.not.authorised.\(CONNACK.5\)$ 4000
connack6 76 protocol.error.from.the.broker:.bad.return.code 4000
connack_sp_refused 76 protocol.error.from.the.broker:.malformed.packet 4000
connack_flags 76 protocol.error.from.the.broker:.malformed.packet 4000
connack_long 76 protocol.error.from.the.broker:.malformed.packet 4000
silent 69 no.CONNACK.from.the.broker.in.time 3000
close_now 69 closed.the.connection|connection.lost 4000
close_after_connect 69 closed.the.connection 4000'

echo "$PRE" >"$T_TMP/pre.list"
while read -r scen want re max; do
	case_run "$scen" "$want" "$re" "$max" sub -t x -C 1 -q 1
	case_run "$scen" "$want" "$re" "$max" pub -t x -m hello -q 1
	if [ "$scen" = silent ]; then
		# the deadline is --connect-timeout, not earlier
		if [ "$C_MS" -ge 1900 ]; then ok "pub silent: waited the whole --connect-timeout ($C_MS ms)"; else
			fail "pub silent" "gave up after $C_MS ms, before --connect-timeout 2000"; fi
	fi
done <"$T_TMP/pre.list"

# ---------------------------------------------------------------- sub after CONNACK
# scenario, exit code, the warning ('-' = no stderr at all), time limit
SUB='suback_wrongid 0 - 4000
suback_count 0 protocol.violation 4000
suback_code3 0 bad.return.code 4000
suback_id0 0 packet.id.0 4000
suback_refused 77 refused.a.subscription.\(SUBACK.0x80\) 4000
publish_qos3 0 bad.QoS 4000
publish_wildcard 0 bad.topic 4000
publish_hash 0 bad.topic 4000
publish_badutf8 0 bad.UTF-8 4000
publish_surrogate 0 bad.UTF-8 4000
publish_nul 0 bad.UTF-8 4000
publish_empty_topic 0 bad.topic 4000
publish_id0 0 packet.id.0 4000
publish_topic_overrun 0 malformed.packet 4000
publish_dup_qos0 0 bad.fixed-header.flags 4000
publish_huge 0 closed.the.connection 4000
connect 0 protocol.violation 4000
connack_again 0 protocol.violation 4000
pingreq 0 protocol.violation 4000
type0 0 bad.packet.type 4000
type15 0 bad.packet.type 4000
varint5 0 malformed.packet 4000'
echo "$SUB" >"$T_TMP/sub.list"
while read -r scen want re max; do
	[ "$re" = - ] && re=""
	case_run "sub:$scen" "$want" "$re" "$max" sub -t x -C 1 -q 1
	if [ "$want" -eq 0 ]; then
		# exactly the good message: nothing from the bad packet was printed
		if [ "$(cat "$C_OUT")" = hello ]; then ok "sub:$scen: printed only the good message"; else
			fail "sub:$scen output" "$(head -c 200 "$C_OUT" | od -c | head -3)"; fi
	fi
done <"$T_TMP/sub.list"

# ---------------------------------------------------------------- pub after CONNACK
# scenario, QoS, exit code, the warning ('-' = none), time limit
PUB='puback_wrongid 1 0 - 4000
pubrec_wrongid 2 0 - 4000
pubcomp_wrongid 2 0 - 4000
suback 1 0 - 4000
pubrel_unknown 1 0 - 4000
puback_id0 1 0 packet.id.0 4000
puback_long 1 0 malformed.packet 4000
publish_qos3 1 0 bad.QoS 4000
publish_wildcard 1 0 bad.topic 4000
connect 1 0 protocol.violation 4000
type15 1 0 bad.packet.type 4000
huge 1 0 packet.too.large 4000'
echo "$PUB" >"$T_TMP/pub.list"
while read -r scen qos want re max; do
	[ "$re" = - ] && re=""
	case_run "pub:$scen" "$want" "$re" "$max" pub -t x -m hello -q "$qos"
	log=$FB_LOG
	case $scen in
	*wrongid)
		# the wrong ids did not complete the message: DISCONNECT only after the right one
		r=$(grep -n 'right id' "$log" | head -1 | cut -d: -f1)
		d=$(grep -n 'recv DISCONNECT' "$log" | head -1 | cut -d: -f1)
		if [ -n "$r" ] && [ -n "$d" ] && [ "$d" -gt "$r" ] && ! grep -q 'conn 2' "$log"; then
			ok "pub:$scen: wrong ids ignored, done after the right one, same connection"
		else
			fail "pub:$scen order" "$(tr '\n' '|' <"$log")"
		fi
		;;
	pubrel_unknown)
		expect_grep "pub:pubrel_unknown: answered with PUBCOMP 777 (MQTT-4.3.3-2)" 'recv PUBCOMP flags=0x0 id=777' "$log"
		;;
	puback_id0 | puback_long | huge)
		# the message went out again on the new connection, marked DUP
		expect_grep "pub:$scen: resent with DUP=1 after reconnecting" "conn 2 recv PUBLISH flags=0xa dup=1 qos=1 id=[0-9]+ topic='x' len=5" "$log"
		;;
	publish_*)
		expect_grep "pub:$scen: the message arrived on the new connection" "conn 2 recv PUBLISH .*qos=1 .*topic='x' len=5" "$log"
		;;
	esac
done <"$T_TMP/pub.list"
finish
