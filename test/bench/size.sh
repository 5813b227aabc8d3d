#!/bin/sh
# Binary size per target and the share of each module on aarch64.
. "$(dirname "$0")/lib.sh"
for t in x86_64 aarch64 armv7; do
	b=$(stat -c %s "build/$t/dmqtt")
	if [ "$t" = aarch64 ]; then
		record "stripped size, $t" "$b" - bytes "max=307200" "budget 300 KiB (aim 256)"
		if [ -f build/aarch64/dmqtt-client ]; then
			record "stripped size, aarch64 dmqtt-client" "$(stat -c %s build/aarch64/dmqtt-client)" - bytes \
				"max=204800" "pub, sub, tls only (make client): the TLS stage's 200 KiB"
		fi
	else
		record "stripped size, $t" "$b" - bytes - ""
	fi
done
# module shares on aarch64: text of each group of objects (before gc-sections)
for group in "mqtt:proto/mqtt*.o src/mqttc.o" "dns:proto/dns.o src/resolv.o" "dbus:proto/dbus*.o src/bus.o" \
	"tls:proto/tls.o proto/pem.o src/tls*.o" "json:proto/json.o"; do
	name=${group%%:*}
	files=""
	for g in ${group#*:}; do files="$files $(ls build/aarch64/obj/$g 2>/dev/null)"; done
	[ -n "$(echo $files)" ] || continue
	sz=$(size $files 2>/dev/null | awk 'NR > 1 { s += $1 + $2 } END { print s + 0 }')
	case $name in
	mqtt) chk="max=24576" ;; dns) chk="max=12288" ;; dbus) chk="max=16384" ;; *) chk="-" ;;
	esac
	record "code of $name (aarch64 -Os, text+data)" "$sz" - bytes "$chk" "objects: $(echo $files | wc -w)"
done
