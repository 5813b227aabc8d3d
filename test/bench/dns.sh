#!/bin/sh
# DNS SRV discovery speed against dnsmasq on loopback, serving the records
# the MEN registers (_dmqtt._tcp.service.veeamesh.local -> the broker host
# and its A record) plus a two-target SRV with A and AAAA records.
#
#   in-process:   test/bench/dns_bench.c, our resolver (src/resolv.c)
#                 beside c-ares (libc-ares-dev), median of 1,000 lookups each;
#                 also some of ours' costs timed alone (the fresh UDP
#                 socket per query, with the kernel's random port or an
#                 explicit random bind; the hosts-file stat and read)
#   processes:    `dmqtt srv NAME --server 127.0.0.1:P` beside
#                 `dig @127.0.0.1 -p P SRV NAME +short`, median of 100
#   parser:       dns_response_check + walking every record of responses
#                 captured from dnsmasq, MB/s (c-ares' ares_parse_*_reply
#                 on the same bytes beside it), report only
. "$(dirname "$0")/lib.sh"
N=${DNS_BENCH_N:-1000}
NPROC=${DNS_BENCH_NPROC:-100}
NAME=_dmqtt._tcp.service.veeamesh.local
HOST=dmqtt-broker-application.service.veeamesh.local
T=$(mktemp -d /tmp/dmqtt-bench-dns.XXXXXX)
DNSMASQ=""
cleanup() {
	if [ -n "$DNSMASQ" ]; then kill "$DNSMASQ" 2>/dev/null; wait "$DNSMASQ" 2>/dev/null; fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

[ -x "$DMQTT" ] || { echo "dns.sh: $DMQTT missing (make -s bin)" >&2; exit 2; }
[ -f /usr/include/ares.h ] || { echo "dns.sh: libc-ares-dev is not installed" >&2; exit 2; }
command -v dnsmasq >/dev/null || { echo "dns.sh: dnsmasq (dnsmasq-base) is not installed" >&2; exit 2; }

cc -std=c11 -O2 -I. -D_POSIX_C_SOURCE=200809L -o "$BENCH_DIR/dns_bench" test/bench/dns_bench.c \
	src/resolv.c proto/dns.c platform/net.c platform/clock.c platform/random.c platform/log.c platform/fmt.c \
	-lcares >"$T/cc.log" 2>&1 || { echo "dns.sh: build failed" >&2; cat "$T/cc.log" >&2; exit 2; }

free_udp_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
for _ in 1 2 3; do
	PORT=$(free_udp_port)
	dnsmasq -C /dev/null --keep-in-foreground --no-resolv --no-hosts --user=root \
		--port="$PORT" --listen-address=127.0.0.1 --bind-interfaces --pid-file="$T/dnsmasq.pid" \
		--log-facility="$T/dnsmasq.log" --local-ttl=60 --local=/service.veeamesh.local/ \
		--srv-host="$NAME,$HOST,1883,0,0" --host-record="$HOST,127.0.0.1" \
		--srv-host=_multi._tcp.service.veeamesh.local,b1.service.veeamesh.local,1883,10,60 \
		--srv-host=_multi._tcp.service.veeamesh.local,b2.service.veeamesh.local,1883,10,40 \
		--srv-host=_multi._tcp.service.veeamesh.local,b3.service.veeamesh.local,8883,20,0 \
		--host-record=b1.service.veeamesh.local,10.0.0.1,fd00::1 \
		--host-record=b2.service.veeamesh.local,10.0.0.2,fd00::2 \
		--host-record=b3.service.veeamesh.local,10.0.0.3,fd00::3 \
		>"$T/dnsmasq.err" 2>&1 &
	DNSMASQ=$!
	i=0
	while [ $i -lt 30 ] && ! dig @127.0.0.1 -p "$PORT" SRV "$NAME" +short +time=1 +tries=1 2>/dev/null | grep -q 1883; do
		sleep 0.1; i=$((i + 1))
	done
	[ $i -lt 30 ] && break
	kill "$DNSMASQ" 2>/dev/null; wait "$DNSMASQ" 2>/dev/null; DNSMASQ=""
done
[ -n "$DNSMASQ" ] || { echo "dns.sh: dnsmasq did not answer: $(cat "$T/dnsmasq.err")" >&2; exit 1; }

# in-process: ours beside c-ares, then the parser over captured responses
"$BENCH_DIR/dns_bench" "$PORT" "$N" "$NAME" \
	"SRV:$NAME" "SRV:_multi._tcp.service.veeamesh.local" "A:$HOST" \
	"A:b1.service.veeamesh.local" "AAAA:b1.service.veeamesh.local" "AAAA:$HOST" >"$T/bench.out" 2>"$T/bench.err"
rc=$?
cat "$T/bench.out"
[ $rc -eq 0 ] || echo "dns_bench exit $rc: $(cat "$T/bench.err")" >&2
val() { awk -v k="$1" '$1 == k { print $2 }' "$T/bench.out"; }
o=$(val ours_median_us); c=$(val cares_median_us)
record "SRV lookup in-process, median" "${o:--}" "${c:--}" us "ratio<=1.0" \
	"median of $N; reference: c-ares ares_query (1.18: a new UDP socket per query too); p90 ours $(val ours_p90_us) c-ares $(val cares_p90_us) us; alone: fresh socket, kernel port $(val ours_socket_us) us (explicit random bind $(val ours_bind_socket_us)); hosts revalidation stat $(val ours_hosts_stat_us) us (at most 1/s), uncached hosts read $(val ours_hosts_read_us) us (on change only)"
record "DNS response check+walk throughput" "$(val ours_parse_mbs)" "$(val cares_parse_mbs)" MB/s "-" \
	"$(sed -n 's/^captured //p' "$T/bench.out"); reference: ares_parse_srv/a/aaaa_reply"

# whole processes: dmqtt srv beside dig, alternating, wall ms per process
"$DMQTT" srv "$NAME" --server "127.0.0.1:$PORT" >"$T/srv.out" 2>&1 ||
	{ echo "dns.sh: dmqtt srv failed: $(cat "$T/srv.out")" >&2; }
bash -c '
n=$1 a=$2 b=$3 oa=$4 ob=$5
: >"$oa"; : >"$ob"
ms() { d=$(( ${2/./} - ${1/./} )); printf "%d.%03d\n" $((d / 1000)) $((d % 1000)); }
for i in $(seq "$n"); do
	s=$EPOCHREALTIME; $a >/dev/null 2>&1; ra=$?; e=$EPOCHREALTIME
	if [ $ra -eq 0 ]; then ms "$s" "$e" >>"$oa"; else echo "run $i: dmqtt srv exit $ra" >&2; fi
	s=$EPOCHREALTIME; $b >/dev/null 2>&1; rb=$?; e=$EPOCHREALTIME
	if [ $rb -eq 0 ]; then ms "$s" "$e" >>"$ob"; else echo "run $i: dig exit $rb" >&2; fi
done' _ "$NPROC" "$DMQTT srv $NAME --server 127.0.0.1:$PORT" \
	"dig @127.0.0.1 -p $PORT SRV $NAME +short" "$T/ours.ms" "$T/ref.ms"
o=$(median <"$T/ours.ms"); r=$(median <"$T/ref.ms")
[ "$(wc -l <"$T/ours.ms")" -eq "$NPROC" ] || o=-
[ "$(wc -l <"$T/ref.ms")" -eq "$NPROC" ] || r=-
record "SRV lookup as a process, wall" "$o" "$r" ms "-" \
	"median of $NPROC; reference: dig +short (dmqtt srv also resolves the target)"
