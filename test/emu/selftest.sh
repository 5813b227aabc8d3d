#!/bin/bash
# Self-test of the VeeaHub emulator (test/emu/veeahub): every D-Bus method with
# busctl, DNS with dig, the test hooks, two hubs on one DNS server, and that
# `stop` leaves no process behind. Ends with "N passed, N failed"; exit status
# is non-zero on any failure. Needs: dbus-daemon, busctl (systemd), dig
# (dnsutils), python3-dbusmock and python3-dnslib for /usr/bin/python3.
set -u

EMU_DIR=$(cd "$(dirname "$0")" && pwd)
VH="$EMU_DIR/veeahub"
T=$(mktemp -d /tmp/veeahub-selftest.XXXXXX)
HUBS=()
MON_PID=
PASS=0
FAIL=0

cleanup() {
    [ -n "$MON_PID" ] && kill "$MON_PID" 2>/dev/null && wait "$MON_PID" 2>/dev/null
    local d
    for d in "${HUBS[@]}"; do "$VH" stop --dir "$d" >/dev/null 2>&1; done
    "$VH" dns-stop --dns "$T/shared-dns" >/dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { PASS=$((PASS + 1)); echo "ok   $1"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL $1"; [ $# -gt 1 ] && printf '     %s\n' "${@:2}"; }

# eq NAME EXPECTED ACTUAL
eq() {
    if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "expected: $2" "got:      $3"; fi
}
# match NAME EXTENDED-REGEX ACTUAL
match() {
    if [[ "$3" =~ $2 ]]; then pass "$1"; else fail "$1" "expected /$2/" "got:      $3"; fi
}
# ok NAME CMD... : the command succeeds
ok() { local n=$1; shift; if "$@" >/dev/null 2>&1; then pass "$n"; else fail "$n" "command failed: $*"; fi; }
# nok NAME CMD... : the command fails
nok() { local n=$1; shift; if "$@" >/dev/null 2>&1; then fail "$n" "command succeeded: $*"; else pass "$n"; fi; }

NETP=(io.veea.VeeaHub.Networking /io/veea/VeeaHub/Networking io.veea.VeeaHub.Networking)
INFOP=(io.veea.VeeaHub.Info /io/veea/VeeaHub/Info io.veea.VeeaHub.Info)
info() { busctl --address="$1" call "${INFOP[@]}" "${@:2}" 2>&1; }
net() { busctl --address="$1" call "${NETP[@]}" "${@:2}" 2>&1; }
owner() {
    busctl --address="$1" call org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus GetNameOwner s "$2" 2>/dev/null
}
q() { dig @127.0.0.1 -p "$1" +time=2 +tries=1 "${@:2}"; }
rcode() { q "$@" +noall +comments | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
ans() { q "$@" +noall +answer | awk '{$2=""; print}' | sort; }
addl() { q "$@" +noall +additional | grep -v '^;' | grep -v OPT | awk '{$2=""; print}' | sort; }

BROKER=dmqtt-broker-application.service.veeamesh.local
SRVNAME=_dmqtt._tcp.service.veeamesh.local
UUIDRE='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
START=$(date +%s%N)

# ------------------------------------------------------------ hub A
A="$T/a"
HUBS+=("$A")
t0=$(date +%s%N)
OUT=$("$VH" start --dir "$A" --serial C25DTADSR00000001134 --node-type MEN \
        --mesh-uuid 0b6f3c1e-2a4d-4e8f-9c0b-1d2e3f405162 --hostname vh-men --mesh-ip 10.9.8.7)
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
eq "start exits 0" 0 "$rc"
if [ "$ms" -lt 3000 ]; then pass "start took ${ms} ms (< 3 s)"; else fail "start took ${ms} ms (>= 3 s)"; fi
eq "DIR/env equals what start printed" "$OUT" "$(cat "$A/env" 2>/dev/null)"
eq "env: DBUS_SYSTEM_BUS_ADDRESS" "DBUS_SYSTEM_BUS_ADDRESS=unix:path=$A/bus.sock" \
    "$(grep '^DBUS_SYSTEM_BUS_ADDRESS=' <<<"$OUT")"
match "env: DMQTT_DNS_SERVER" '^DMQTT_DNS_SERVER=127\.0\.0\.1:[0-9]+$' "$(grep '^DMQTT_DNS_SERVER=' <<<"$OUT")"
eq "env: VEEAHUB_DIR" "VEEAHUB_DIR=$A" "$(grep '^VEEAHUB_DIR=' <<<"$OUT")"
BUS=unix:path=$A/bus.sock
PORT=$(sed -n 's/^DMQTT_DNS_SERVER=127\.0\.0\.1:\([0-9]*\)$/\1/p' <<<"$OUT")
[ -n "$PORT" ] || PORT=9   # keep going; the DNS checks below then fail visibly
(set -a; . "$A/env"; set +a; [ "$DBUS_SYSTEM_BUS_ADDRESS" = "$BUS" ] && [ "$VEEAHUB_DIR" = "$A" ]) &&
    pass "DIR/env is shell-sourceable" || fail "DIR/env is shell-sourceable"

# Info
eq "Info.MeshUUID" 's "0b6f3c1e-2a4d-4e8f-9c0b-1d2e3f405162"' "$(info "$BUS" MeshUUID)"
eq "Info.VeeaSerial" 's "C25DTADSR00000001134"' "$(info "$BUS" VeeaSerial)"
eq "Info.NodeType" 's "MEN"' "$(info "$BUS" NodeType)"
eq "Info.Hostname" 's "vh-men"' "$(info "$BUS" Hostname)"
eq "Networking.GetMeshIPAddress" 's "10.9.8.7"' "$(net "$BUS" GetMeshIPAddress)"

# Registration exactly as DESIGN.md spells the broker's calls
R=$(net "$BUS" RegisterDnsHost ssss shared:trusted "$BROKER" 127.0.0.1 mesh)
match "RegisterDnsHost -> 0, token, info" \
    "^isa\{sv\} 0 \"$UUIDRE\" 4 \"fqdn\" s \"$BROKER\" \"ipAddr\" s \"127\.0\.0\.1\" \"scope\" s \"mesh\" \"network\" s \"shared:trusted\"$" "$R"
HOST_TOKEN=$(sed -nE 's/^isa\{sv\} 0 "([^"]+)".*/\1/p' <<<"$R")
R=$(net "$BUS" RegisterDnsSRV ssissss shared:trusted "$BROKER" 1883 service.veeamesh.local tcp dmqtt mesh)
match "RegisterDnsSRV -> 0, token, info" \
    "^isa\{sv\} 0 \"$UUIDRE\" 5 \"fqdn\" s \"$SRVNAME\" \"target\" s \"$BROKER\" \"port\" i 1883 \"scope\" s \"mesh\" \"network\" s \"shared:trusted\"$" "$R"
SRV_TOKEN=$(sed -nE 's/^isa\{sv\} 0 "([^"]+)".*/\1/p' <<<"$R")
[ -n "$HOST_TOKEN" ] && [ "$HOST_TOKEN" != "$SRV_TOKEN" ] && pass "tokens are fresh" || fail "tokens are fresh"

# DNS
eq "dig SRV: answer" "$SRVNAME.  IN SRV 0 0 1883 $BROKER." "$(ans "$PORT" SRV "$SRVNAME")"
eq "dig SRV: target's A in additional" "$BROKER.  IN A 127.0.0.1" "$(addl "$PORT" SRV "$SRVNAME")"
eq "dig SRV over TCP" "$SRVNAME.  IN SRV 0 0 1883 $BROKER." "$(ans "$PORT" +tcp SRV "$SRVNAME")"
eq "dig A of the broker host" "$BROKER.  IN A 127.0.0.1" "$(ans "$PORT" A "$BROKER")"
eq "TTL is 5" "5" "$(q "$PORT" +noall +answer A "$BROKER" | awk '{print $2}')"
q "$PORT" +noall +comments SRV "$SRVNAME" | grep -q 'flags: qr aa' && pass "answers are authoritative" ||
    fail "answers are authoritative"
eq "unknown name in zone -> NXDOMAIN" NXDOMAIN "$(rcode "$PORT" A nothing.service.veeamesh.local)"
eq "known name, other type -> NOERROR" NOERROR "$(rcode "$PORT" AAAA "$BROKER")"
eq "known name, other type -> no answer" "" "$(ans "$PORT" AAAA "$BROKER")"
eq "name outside the zone -> REFUSED" REFUSED "$(rcode "$PORT" A example.com)"

# invalid arguments: non-zero status, no token
for args in "shared:trusted $BROKER 127.0.0.1 galaxy" "shared:trusted $BROKER not-an-ip mesh" \
            "shared:trusted bad..name 127.0.0.1 mesh"; do
    read -r -a av <<<"$args"
    match "RegisterDnsHost rejects: $args" '^isa\{sv\} [1-9][0-9]* "" ' \
        "$(net "$BUS" RegisterDnsHost ssss "${av[@]}")"
done
match "RegisterDnsHost rejects an empty network" '^isa\{sv\} [1-9][0-9]* "" ' \
    "$(net "$BUS" RegisterDnsHost ssss "" "$BROKER" 127.0.0.1 mesh)"
for args in "$BROKER 0 service.veeamesh.local tcp dmqtt mesh" \
            "$BROKER 65536 service.veeamesh.local tcp dmqtt mesh" \
            "$BROKER 1883 service.veeamesh.local sctp dmqtt mesh" \
            "$BROKER 1883 service.veeamesh.local tcp dmqtt world"; do
    read -r -a av <<<"$args"
    match "RegisterDnsSRV rejects: $args" '^isa\{sv\} [1-9][0-9]* "" ' \
        "$(net "$BUS" RegisterDnsSRV ssissss shared:trusted "${av[@]}")"
done
match "RegisterDnsSRV rejects an empty network" '^isa\{sv\} [1-9][0-9]* "" ' \
    "$(net "$BUS" RegisterDnsSRV ssissss "" "$BROKER" 1883 service.veeamesh.local tcp dmqtt mesh)"

# IPv6 host -> AAAA
R=$(net "$BUS" RegisterDnsHost ssss shared:trusted v6.service.veeamesh.local fd00::7 all)
match "RegisterDnsHost with an IPv6 address" '^isa\{sv\} 0 ' "$R"
eq "dig AAAA" "v6.service.veeamesh.local.  IN AAAA fd00::7" "$(ans "$PORT" AAAA v6.service.veeamesh.local)"

# Unregister
eq "Unregister(SRV token) -> 0" "i 0" "$(net "$BUS" Unregister s "$SRV_TOKEN")"
eq "SRV gone from DNS" "" "$(ans "$PORT" SRV "$SRVNAME")"
eq "SRV name now NXDOMAIN" NXDOMAIN "$(rcode "$PORT" SRV "$SRVNAME")"
eq "A record still there" "$BROKER.  IN A 127.0.0.1" "$(ans "$PORT" A "$BROKER")"
eq "Unregister same token again -> 2" "i 2" "$(net "$BUS" Unregister s "$SRV_TOKEN")"
eq "Unregister(unknown) -> 2" "i 2" "$(net "$BUS" Unregister s no-such-token)"
eq "Unregister(host token) -> 0" "i 0" "$(net "$BUS" Unregister s "$HOST_TOKEN")"
eq "A record gone" NXDOMAIN "$(rcode "$PORT" A "$BROKER")"

# calls
C=$("$VH" calls --dir "$A" --method RegisterDnsSRV | head -1)
eq "calls shows RegisterDnsSRV with its arguments" \
    "Networking RegisterDnsSRV [\"shared:trusted\", \"$BROKER\", 1883, \"service.veeamesh.local\", \"tcp\", \"dmqtt\", \"mesh\"]" "$C"
eq "calls --service info" "Info MeshUUID []|Info VeeaSerial []|Info NodeType []|Info Hostname []" \
    "$("$VH" calls --dir "$A" --service info | paste -sd'|')"
ok "calls --clear" "$VH" calls --dir "$A" --clear
eq "calls empty after --clear" "" "$("$VH" calls --dir "$A")"

# restart-networking: owner changes, NameOwnerChanged fires, old records dropped
net "$BUS" RegisterDnsSRV ssissss shared:trusted "$BROKER" 1883 service.veeamesh.local tcp dmqtt mesh >/dev/null
OLD=$(owner "$BUS" io.veea.VeeaHub.Networking)
busctl --address="$BUS" monitor \
    --match "type='signal',member='NameOwnerChanged',arg0='io.veea.VeeaHub.Networking'" \
    >"$T/monitor.txt" 2>&1 &
MON_PID=$!
for _ in $(seq 50); do grep -q Monitoring "$T/monitor.txt" 2>/dev/null && break; sleep 0.05; done
ok "restart-networking" "$VH" restart-networking --dir "$A"
NEW=$(owner "$BUS" io.veea.VeeaHub.Networking)
match "Networking has a new owner" '^s ":1\.[0-9]+"$' "$NEW"
[ -n "$NEW" ] && [ "$OLD" != "$NEW" ] && pass "owner changed ($OLD -> $NEW)" || fail "owner changed" "$OLD -> $NEW"
for _ in $(seq 40); do [ "$(grep -c 'NameOwnerChanged' "$T/monitor.txt")" -ge 2 ] && break; sleep 0.05; done
kill "$MON_PID" 2>/dev/null; wait "$MON_PID" 2>/dev/null; MON_PID=
eq "NameOwnerChanged seen twice (gone, back)" 2 "$(grep -c 'Member=NameOwnerChanged' "$T/monitor.txt")"
eq "restarted service forgot old registrations" "" "$(ans "$PORT" SRV "$SRVNAME")"
eq "Networking answers after restart" 's "10.9.8.7"' "$(net "$BUS" GetMeshIPAddress)"
ok "stop-networking" "$VH" stop-networking --dir "$A"
match "Networking absent" 'not activatable|ServiceUnknown|was not provided' "$(net "$BUS" GetMeshIPAddress)"
ok "start-networking" "$VH" start-networking --dir "$A"

# fault injection
ok "net-fail --status 7 --count 2" "$VH" net-fail --dir "$A" --status 7 --count 2
match "1st Register fails with 7" '^isa\{sv\} 7 "" ' "$(net "$BUS" RegisterDnsHost ssss shared:trusted "$BROKER" 127.0.0.1 mesh)"
match "2nd Register fails with 7" '^isa\{sv\} 7 "" ' "$(net "$BUS" RegisterDnsSRV ssissss shared:trusted "$BROKER" 1883 service.veeamesh.local tcp dmqtt mesh)"
match "3rd Register succeeds" '^isa\{sv\} 0 ' "$(net "$BUS" RegisterDnsHost ssss shared:trusted "$BROKER" 127.0.0.1 mesh)"
ok "net-fail --dbus-error" "$VH" net-fail --dir "$A" --dbus-error io.veea.VeeaHub.Error.Busy
match "Register fails with a D-Bus error" 'injected failure' "$(net "$BUS" RegisterDnsHost ssss shared:trusted "$BROKER" 127.0.0.1 mesh)"
ok "net-fail --clear" "$VH" net-fail --dir "$A" --clear
match "Register works again" '^isa\{sv\} 0 ' "$(net "$BUS" RegisterDnsHost ssss shared:trusted x.service.veeamesh.local 127.0.0.2 mesh)"

# dns-add: several SRV records
ok "dns-add srv" "$VH" dns-add --dns "$A/dns" srv "$SRVNAME" b1.service.veeamesh.local 1884 10 60
ok "dns-add srv (default prio/weight)" "$VH" dns-add --dir "$A" srv "$SRVNAME" b2.service.veeamesh.local 1885
ok "dns-add a" "$VH" dns-add --dns "$A/dns" a b1.service.veeamesh.local 192.0.2.1
eq "two SRV records" "$SRVNAME.  IN SRV 0 0 1885 b2.service.veeamesh.local.|$SRVNAME.  IN SRV 10 60 1884 b1.service.veeamesh.local." \
    "$(ans "$PORT" SRV "$SRVNAME" | paste -sd'|')"
eq "known target's A in additional" "b1.service.veeamesh.local.  IN A 192.0.2.1" "$(addl "$PORT" SRV "$SRVNAME")"
ok "dns-add del" "$VH" dns-add --dns "$A/dns" del "$SRVNAME"
eq "SRV records deleted" "" "$(ans "$PORT" SRV "$SRVNAME")"
nok "dns-add rejects a bad port" "$VH" dns-add --dns "$A/dns" srv "$SRVNAME" b1.service.veeamesh.local 70000
nok "--dns-port of a busy port fails" "$VH" start --dir "$T/busy" --dns-port "$PORT"
HUBS+=("$T/busy")

# ------------------------------------------------------------ hub B on A's DNS, Networking late
B="$T/b"
HUBS+=("$B")
OUTB=$(VEEAHUB_NO_NETWORKING=1 "$VH" start --dir "$B" --dns "$A" --serial C25DTADSR00000002222 --node-type MN)
eq "hub B starts on hub A's DNS" "DMQTT_DNS_SERVER=127.0.0.1:$PORT" "$(grep '^DMQTT_DNS_SERVER=' <<<"$OUTB")"
BUSB=unix:path=$B/bus.sock
eq "hub B: Info.NodeType" 's "MN"' "$(info "$BUSB" NodeType)"
eq "hub B: Info.VeeaSerial" 's "C25DTADSR00000002222"' "$(info "$BUSB" VeeaSerial)"
match "hub B: Networking absent (VEEAHUB_NO_NETWORKING)" 'not activatable|ServiceUnknown|was not provided' "$(net "$BUSB" GetMeshIPAddress)"
ok "hub B: start-networking" "$VH" start-networking --dir "$B"
net "$BUS" RegisterDnsSRV ssissss shared:trusted "$BROKER" 1883 service.veeamesh.local tcp dmqtt mesh >/dev/null
net "$BUSB" RegisterDnsHost ssss shared:trusted hub-b.service.veeamesh.local 127.0.0.3 mesh >/dev/null
R=$(net "$BUSB" RegisterDnsSRV ssissss shared:trusted hub-b.service.veeamesh.local 2883 service.veeamesh.local tcp dmqtt mesh)
BTOKEN=$(sed -nE 's/^isa\{sv\} 0 "([^"]+)".*/\1/p' <<<"$R")
eq "shared DNS serves both hubs' SRV" "$SRVNAME.  IN SRV 0 0 1883 $BROKER.|$SRVNAME.  IN SRV 0 0 2883 hub-b.service.veeamesh.local." \
    "$(ans "$PORT" SRV "$SRVNAME" | paste -sd'|')"
eq "hub A cannot unregister hub B's token" "i 2" "$(net "$BUS" Unregister s "$BTOKEN")"
PIDS_B=$(cat "$B"/*.pid 2>/dev/null)
ok "hub B: stop" "$VH" stop --dir "$B"
eq "hub B's records gone with it" "$SRVNAME.  IN SRV 0 0 1883 $BROKER." "$(ans "$PORT" SRV "$SRVNAME")"
eq "hub A's DNS still answers" NOERROR "$(rcode "$PORT" SRV "$SRVNAME")"

# ------------------------------------------------------------ stand-alone DNS + delayed Networking
OUTD=$("$VH" dns-start --dns "$T/shared-dns")
DPORT=$(sed -n 's/^DMQTT_DNS_SERVER=127\.0\.0\.1:\([0-9]*\)$/\1/p' <<<"$OUTD")
match "dns-start prints DMQTT_DNS_SERVER" '^[0-9]+$' "$DPORT"
C="$T/c"
HUBS+=("$C")
"$VH" start --dir "$C" --dns "$T/shared-dns" --networking-delay 0.5 -q
match "hub C: Networking not there yet" 'not activatable|ServiceUnknown|was not provided' "$(net "unix:path=$C/bus.sock" GetMeshIPAddress)"
for _ in $(seq 60); do owner "unix:path=$C/bus.sock" io.veea.VeeaHub.Networking >/dev/null && break; sleep 0.05; done
eq "hub C: Networking appears after the delay" 's "127.0.0.1"' "$(net "unix:path=$C/bus.sock" GetMeshIPAddress)"
net "unix:path=$C/bus.sock" RegisterDnsHost ssss shared:trusted c.service.veeamesh.local 127.0.0.4 mesh >/dev/null
eq "hub C registers on the stand-alone DNS" "c.service.veeamesh.local.  IN A 127.0.0.4" "$(ans "$DPORT" A c.service.veeamesh.local)"

# ------------------------------------------------------------ stop, nothing left behind
PIDS="$PIDS_B $(cat "$A"/*.pid "$A"/dns/dns.pid "$C"/*.pid "$T"/shared-dns/dns.pid 2>/dev/null)"
t0=$(date +%s%N)
ok "hub A: stop" "$VH" stop --dir "$A"
ok "hub C: stop" "$VH" stop --dir "$C"
ok "dns-stop" "$VH" dns-stop --dns "$T/shared-dns"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ "$ms" -lt 3000 ]; then pass "stopping took ${ms} ms"; else fail "stopping took ${ms} ms (>= 3 s)"; fi
ok "stop again is harmless" "$VH" stop --dir "$A"
left=
for p in $PIDS; do
    st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)   # a zombie (Z) is dead
    [ -n "$st" ] && [ "$st" != Z ] && left="$left $p"
done
for p in /proc/[0-9]*; do
    st=$(awk '{print $3}' "$p/stat" 2>/dev/null)
    [ -n "$st" ] && [ "$st" != Z ] && grep -qaF "$T" "$p/cmdline" 2>/dev/null && left="$left ${p#/proc/}"
done
eq "no emulator process left" "" "${left# }"
eq "DNS port closed" "" "$(q "$PORT" +noall +answer A "$BROKER" 2>/dev/null | grep -v '^;')"
[ -e "$A/bus.sock" ] && fail "bus socket removed" || pass "bus socket removed"

echo "selftest took $(( ($(date +%s%N) - START) / 1000000 )) ms"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
