#!/bin/sh
# Soak: one `dmqtt node --fleet 200` process (200 simulated hubs, one MQTT
# session each) against a real mosquitto with the mesh credentials, under
# steady request traffic for SOAK_SECONDS (default 120; `make soak` is
# meant to run 600):
#
#   - every 2 s a QoS 1 {"cmd":"ping","id":N} on req/all (200 replies each)
#     and a request to one random serial, {"cmd":C,"id":"tN"} on req/<sn>
#     with C rotating over built-in commands (1 reply each);
#   - a mosquitto_sub -v on rsp/# (QoS 1) collects every reply.
#
# Passes when, for the fleet process:
#   - VmRSS (sampled every 10 s) grows by at most 5 % after the first
#     minute of traffic (after the first third when SOAK_SECONDS < 180):
#     the largest later sample is compared with the sample at that point;
#   - its open file descriptors are the same number at the start of the
#     traffic and after the last reply;
#   - its log has no reconnect ("connected to the broker again",
#     "connection lost", "reconnecting with backoff");
#   - every request got exactly its replies: 200 distinct serials with
#     "pong" for each req/all, one reply from the right serial for each
#     targeted one, and nothing else on rsp/#;
#   - it is still running at the end and exits 0 on SIGTERM.
# The whole test ends within SOAK_SECONDS + 30 s: traffic stops
# SOAK_SECONDS after the test started, then at most 12 s of draining and
# a bounded shutdown.  SOAK_SEED (default 1) picks the random serials.
. "$(dirname "$0")/lib.sh"
. "$ROOT/test/integration/peers.lib"
SOAK_SECONDS=${SOAK_SECONDS:-120}
SOAK_SEED=${SOAK_SEED:-1}
FLEET=200
PREFIX=C25DTADSR
UUID=6f1d2c3e-8a4b-4c5d-9e6f-7a8b9c0d1e2f
PY=/usr/bin/python3
T_START=$(date +%s)
DEADLINE=$((T_START + SOAK_SECONDS))

case $SOAK_SECONDS in
'' | *[!0-9]*) echo "SOAK_SECONDS must be a number of seconds" >&2; exit 64 ;;
esac
if [ "$SOAK_SECONDS" -lt 30 ]; then
	echo "SOAK_SECONDS must be at least 30" >&2
	exit 64
fi
[ -x "$DMQTT" ] || { fail "dmqtt binary" "$DMQTT missing (make -s bin)"; finish; exit 1; }

# ------------------------------------------------------------ set-up
CRED=$(DMQTT_MESH_UUID=$UUID "$DMQTT" secret --show-secrets) || { fail "dmqtt secret" "failed"; finish; exit 1; }
MU=$(echo "$CRED" | sed -n 's/^username: //p')
MP=$(echo "$CRED" | sed -n 's/^password: //p')
if [ -z "$MU" ] || [ -z "$MP" ]; then fail "mesh credentials" "$CRED"; finish; exit 1; fi
mosq_start mesh --user "$MU" --password "$MP" || { fail "mosquitto" "did not start"; finish; exit 1; }
# shellcheck disable=SC2154 # mesh_PORT is set by mosq_start
AUTH="-h 127.0.0.1 -p $mesh_PORT -u $MU -P $MP"

sub_collect rsp "$mesh_PORT" 'rsp/#' 100000000 -u "$MU" -P "$MP" -q 1 ||
	{ fail "reply collector" "no subscription"; finish; exit 1; }

# the log exists before the background shell opens it, so it can be read at once
: >"$T_TMP/fleet.log"
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T_TMP/no-bus DMQTT_MESH_UUID=$UUID \
	"$DMQTT" node --fleet $FLEET --serial-prefix $PREFIX --broker "127.0.0.1:$mesh_PORT" \
	>>"$T_TMP/fleet.log" 2>&1 &
NODE=$!
cleanup_add "_peer_end \"\${NODE:-}\" TERM 5"

# all 200 sessions up (each logs "connected to the broker" once)
connected() { grep -c 'connected to the broker$' "$T_TMP/fleet.log" 2>/dev/null || true; }
i=0
while [ $i -lt 150 ] && [ "$(connected)" -lt $FLEET ]; do
	_peer_alive "$NODE" || break
	sleep 0.1
	i=$((i + 1))
done
up=$(connected)
if [ "$up" -eq $FLEET ]; then ok "fleet of $FLEET connected in $((i / 10)).$((i % 10)) s"; else
	fail "fleet connect" "$up of $FLEET connected; log: $(tail -5 "$T_TMP/fleet.log")"
	finish
	exit 1
fi
sleep 1 # subscriptions acknowledged, first telemetry out

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$NODE/status" 2>/dev/null; }
fds() { find "/proc/$NODE/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
replies() { grep -c '^rsp/' "$T_TMP/rsp.log"; }

# ------------------------------------------------------------ traffic
T0=$(date +%s)
FD0=$(fds)
"$PY" -c 'import random, sys
r = random.Random(int(sys.argv[1]))
print("\n".join(str(r.randint(1, int(sys.argv[2]))) for _ in range(int(sys.argv[3]))))' \
	"$SOAK_SEED" $FLEET $((SOAK_SECONDS / 2 + 10)) >"$T_TMP/targets"
: >"$T_TMP/sent"
: >"$T_TMP/pub.err"
(
	n=0
	while read -r k; do
		[ "$(date +%s)" -lt "$DEADLINE" ] || break
		n=$((n + 1))
		# shellcheck disable=SC2086
		if timeout 10 mosquitto_pub $AUTH -q 1 -t req/all -m "{\"cmd\":\"ping\",\"id\":$n}" 2>>"$T_TMP/pub.err"; then
			echo "all $n" >>"$T_TMP/sent"
		else
			echo "all $n FAILED" >>"$T_TMP/sent"
		fi
		sn=$(printf '%s%011d' "$PREFIX" "$k")
		case $((n % 5)) in
		0) cmd=ping ;; 1) cmd=uptime ;; 2) cmd=serial ;; 3) cmd=version ;; *) cmd=loadavg ;;
		esac
		# shellcheck disable=SC2086
		if timeout 10 mosquitto_pub $AUTH -q 1 -t "req/$sn" -m "{\"cmd\":\"$cmd\",\"id\":\"t$n\"}" 2>>"$T_TMP/pub.err"; then
			echo "one $sn t$n $cmd" >>"$T_TMP/sent"
		else
			echo "one $sn t$n $cmd FAILED" >>"$T_TMP/sent"
		fi
		sleep 2
	done <"$T_TMP/targets"
) &
LOOP=$!
cleanup_add "kill $LOOP 2>/dev/null"

# samples every 10 s from the start of the traffic
: >"$T_TMP/samples"
sample() { # SECONDS
	echo "$1 $(rss) $(fds) $(replies)" >>"$T_TMP/samples"
}
next=0
while :; do
	now=$(date +%s)
	if [ $((now - T0)) -ge $next ]; then
		sample $((now - T0))
		next=$((next + 10))
	fi
	[ "$now" -lt "$DEADLINE" ] || break
	_peer_alive "$NODE" || break
	sleep 1
done
# the loop stops on its own at the deadline (one more cycle at most)
i=0
while _peer_alive "$LOOP" && [ $i -lt 60 ]; do sleep 0.2; i=$((i + 1)); done
wait "$LOOP" 2>/dev/null

# drain: every reply in, or 12 s
n_all=$(grep -c '^all [0-9]*$' "$T_TMP/sent")
n_one=$(grep -c '^one [^ ]* [^ ]* [^ ]*$' "$T_TMP/sent")
want=$((n_all * FLEET + n_one))
i=0
while [ "$(replies)" -lt "$want" ] && [ $i -lt 120 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1 # anything beyond the expected ones (duplicates) shows up too
sample $(($(date +%s) - T0))
FD1=$(fds)
ALIVE=0
_peer_alive "$NODE" && ALIVE=1
sub_wait rsp 0

# ------------------------------------------------------------ verdicts
echo "samples (seconds since the traffic started, VmRSS kB, open fds, replies so far):"
awk '{ printf "  t=%4d s  VmRSS %6d kB  fds %4d  replies %6d\n", $1, $2, $3, $4 }' "$T_TMP/samples"

# RSS: baseline at the first sample at or after one minute of traffic, or
# a third of it when the traffic is shorter than three minutes
traffic=$(($(tail -n 1 "$T_TMP/samples" | cut -d' ' -f1)))
base_t=60
[ "$traffic" -lt 180 ] && base_t=$((traffic / 3))
rss_line=$(awk -v bt="$base_t" '
	$1 >= bt && !b { b = $2; bt0 = $1 }
	b && $2 > m { m = $2 }
	END { if (b) printf "%d %d %d %.2f", bt0, b, m, (m - b) * 100 / b; else print "-" }' "$T_TMP/samples")
if [ "$rss_line" = - ]; then
	fail "RSS" "no sample after ${base_t} s"
else
	# shellcheck disable=SC2086 # four numbers
	set -- $rss_line
	if awk -v b="$2" -v m="$3" 'BEGIN { exit !(m <= b * 1.05) }'; then
		ok "RSS after ${1} s of traffic $2 kB, largest later sample $3 kB (+$4 %, limit 5 %)"
	else
		fail "RSS growth" "$2 kB at ${1} s, up to $3 kB later (+$4 %, limit 5 %)"
	fi
fi
if [ "$FD0" -eq "$FD1" ]; then ok "open fds constant: $FD0 at the start, $FD1 at the end"; else
	fail "fd count" "$FD0 at the start, $FD1 at the end: $(for f in "/proc/$NODE/fd"/*; do readlink "$f"; done 2>/dev/null | sed 's/:\[.*//' | sort | uniq -c | sort -rn | head -5 | tr '\n' ';')"
fi
again=$(grep -c 'connected to the broker again' "$T_TMP/fleet.log")
lost=$(grep -c 'connection lost' "$T_TMP/fleet.log")
backoff=$(grep -c 'reconnecting with backoff' "$T_TMP/fleet.log")
if [ "$again" -eq 0 ] && [ "$lost" -eq 0 ] && [ "$backoff" -eq 0 ]; then ok "no reconnects (0 'again', 0 'connection lost', 0 'reconnecting')"; else
	fail "reconnects" "$again 'connected to the broker again', $lost 'connection lost', $backoff 'reconnecting with backoff'; e.g. $(grep -m 3 -e 'again' -e 'connection lost' -e 'reconnecting' "$T_TMP/fleet.log" | tr '\n' ';')"
fi
nfail=$(grep -c 'FAILED$' "$T_TMP/sent")
if [ "$nfail" -eq 0 ]; then ok "$n_all req/all and $n_one targeted requests published"; else
	fail "publishing requests" "$nfail mosquitto_pub failures: $(head -c 300 "$T_TMP/pub.err")"
fi

# every request answered exactly: match replies to what was sent
awk -v fleet=$FLEET -v prefix=$PREFIX '
	FNR == NR {
		if ($1 == "all" && NF == 2) { all[$2] = 0 }
		else if ($1 == "one" && NF == 4) { one[$3] = $2; onecmd[$3] = $4 }
		next
	}
	/^rsp\// {
		topic = $1
		if (!match($0, /"id":("[^"]*"|[0-9]+)[,}]/)) { stray++; if (stray <= 3) bad = bad " no-id:" topic; next }
		id = substr($0, RSTART + 5, RLENGTH - 6)
		gsub(/"/, "", id)
		if (topic ~ "^rsp/all/" prefix "[0-9]+$") {
			sn = substr(topic, 9)
			if (!(id in all)) { stray++; if (stray <= 3) bad = bad " unknown:" topic "/" id; next }
			if (seen[id, sn]++) { dup++; next }
			if ($0 !~ /"data":"pong","rc":0/) { wrong++; if (wrong <= 3) bad = bad " not-pong:" topic; }
			all[id]++
		} else if (topic ~ "^rsp/" prefix "[0-9]+$") {
			sn = substr(topic, 5)
			if (!(id in one) || one[id] != sn) { stray++; if (stray <= 3) bad = bad " unexpected:" topic "/" id; next }
			if (got[id]++) { dup++; next }
			if ($0 !~ /"rc":0[,}]/ || $0 !~ "\"cmd\":\"" onecmd[id] "\"") { wrong++; if (wrong <= 3) bad = bad " rc!=0:" topic }
		} else { stray++; if (stray <= 3) bad = bad " topic:" topic }
	}
	END {
		for (id in all) { n_all++; if (all[id] != fleet) { short_all++; if (short_all <= 3) bad = bad " req/all " id ": " all[id] " replies" } total += all[id] }
		for (id in one) { n_one++; if (!got[id]) { short_one++; if (short_one <= 3) bad = bad " " one[id] " " id ": no reply" } else total++ }
		printf "%d %d %d %d %d %d %d %d%s\n", n_all, short_all, n_one, short_one, dup, stray, wrong, total, bad
	}' "$T_TMP/sent" "$T_TMP/rsp.out" >"$T_TMP/match"
# shellcheck disable=SC2046 # numbers, then words
set -- $(cat "$T_TMP/match")
m_all=$1 m_short_all=$2 m_one=$3 m_short_one=$4 m_dup=$5 m_stray=$6 m_wrong=$7 m_total=$8
shift 8
if [ "$m_all" -gt 0 ] && [ "$m_short_all" -eq 0 ]; then ok "all $m_all req/all answered by all $FLEET serials ($((m_all * FLEET)) replies)"; else
	fail "req/all replies" "$m_short_all of $m_all requests without $FLEET distinct replies:$*"; fi
if [ "$m_one" -gt 0 ] && [ "$m_short_one" -eq 0 ]; then ok "all $m_one targeted requests answered by their serial"; else
	fail "targeted replies" "$m_short_one of $m_one unanswered:$*"; fi
if [ "$m_dup" -eq 0 ] && [ "$m_stray" -eq 0 ] && [ "$m_wrong" -eq 0 ]; then ok "no duplicate, stray or failed reply ($m_total replies in all)"; else
	fail "reply contents" "$m_dup duplicates, $m_stray stray, $m_wrong with a wrong answer:$*"; fi

if [ $ALIVE -eq 1 ]; then ok "fleet still running after ${traffic} s of traffic"; else
	fail "fleet" "exited during the soak: $(tail -5 "$T_TMP/fleet.log")"; fi
_peer_end "$NODE" TERM 8
rc=$?
NODE=""
if [ $ALIVE -eq 1 ]; then
	if [ $rc -eq 0 ]; then ok "fleet exits 0 on SIGTERM"; else fail "fleet exit" "status $rc; $(tail -3 "$T_TMP/fleet.log")"; fi
fi
echo "soak: $((SOAK_SECONDS)) s budget, $(($(date +%s) - T_START)) s used; log lines: $(wc -l <"$T_TMP/fleet.log"), warnings: $(grep -c 'warn' "$T_TMP/fleet.log")"
finish
