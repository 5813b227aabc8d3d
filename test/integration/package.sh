#!/bin/sh
# Container packaging (deploy/, docs/packaging.md) without docker: each
# image's root filesystem is assembled from its Dockerfile's own COPY lines
# (parsed here, so the test follows the Dockerfile), given only what a hub
# provides (/proc, /sys, the config file, the hub's D-Bus socket) and run
# with chroot, as PID 1 of fresh PID and UTS namespaces, the way a
# container starts.  The broker is a mosquitto outside (peers.lib) with the
# mesh credentials; the emulated hubs' DNS carries its SRV record, written by
# `dmqtt broker --no-run` on the emulated MEN.  mosquitto_sub is the
# independent peer.  Alpine cannot be pulled here: the broker image is
# checked through its own layer (the static dmqtt) only.
#
# Every mount is made inside a private mount namespace of this test (so
# none can outlive it, even a killed one), undone in the cleanup trap
# (umount, then umount -l), and /proc/mounts is checked at the end.
if [ "$(id -u)" != 0 ]; then
	echo "package.sh: needs root (chroot, mount, namespaces)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
if [ -z "${DMQTT_PKG_MNTNS:-}" ]; then
	DMQTT_PKG_MNTNS=1 exec unshare --mount --propagation private -- /bin/sh "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$ROOT/test/integration/peers.lib"
EMU=$ROOT/test/emu/veeahub
UUID=0b7e51c4-2d39-4f6a-8e15-c3a9d7f20b64
SN_MEN=C25DTADSR00000000301 # chroot, x86_64 stand-in for arm64v8's dmqtt
SN_MN=C25DTADSR00000000302  # chroot, the arm32v7 image as built, under qemu-arm-static
SN_QEMU=C25DTADSR00000000303 # build/aarch64/dmqtt under qemu-aarch64-static, no chroot
HUB_CONFIG=/usr/local/config/defaults/user-config.json
HUB_BUS=/var/run/dbus/system_bus_socket
DOCKER_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

for b in x86_64 aarch64 armv7; do
	[ -x "build/$b/dmqtt" ] || { fail "binaries" "no build/$b/dmqtt: make bin cross"; finish; exit 1; }
done

# ----------------------------------------------------------- Dockerfile plan

# df_plan DOCKERFILE ARCH: what the final stage of DOCKERFILE is made of when
# built with --build-arg ARCH=ARCH, base image first, one instruction a line:
#   from IMAGE | copy SRC DEST | run ... | entrypoint ARGV... | cmd ARGV... |
#   expose ... | <other instruction in lower case> ... | error WHY
# Follows FROM ... AS name chains; global ARGs apply to FROM lines, a stage
# sees an ARG only once it declares it (Docker's scoping).  COPY --from and
# shell-form ENTRYPOINT/CMD are reported as errors: a scratch image has no
# shell, and only the build context can be copied from here.
df_plan() {
	awk -v arch="$2" '
	function subst(s, v,    out, name) {
		out = ""
		while (match(s, /[$][{][A-Za-z_][A-Za-z0-9_]*[}]|[$][A-Za-z_][A-Za-z0-9_]*/)) {
			name = substr(s, RSTART, RLENGTH)
			gsub(/[${}]/, "", name)
			out = out substr(s, 1, RSTART - 1) ((name in v) ? v[name] : "")
			s = substr(s, RSTART + RLENGTH)
		}
		return out s
	}
	function argv(s,    out) {          # exec form ["a", "b"] -> a b
		if (s !~ /^[ \t]*\[.*\][ \t]*$/)
			return ""
		gsub(/^[ \t]*\[[ \t]*"|"[ \t]*\][ \t]*$/, "", s)
		gsub(/"[ \t]*,[ \t]*"/, " ", s)
		return s
	}
	function err(why) { errs = errs "error " why "\n" }
	BEGIN { given["ARCH"] = arch; n = 0 }
	{
		if (cont != "") { $0 = cont " " $0; cont = "" }
		if ($0 ~ /\\[ \t]*$/) { sub(/\\[ \t]*$/, ""); cont = $0; next }
		if ($0 ~ /^[ \t]*(#.*)?$/) next
		ins = toupper($1)
		rest = $0
		sub(/^[ \t]*[^ \t]+[ \t]*/, "", rest)
		if (ins == "ARG") {
			nm = rest; dv = ""; hasdef = 0
			if (index(rest, "=") > 0) {
				nm = substr(rest, 1, index(rest, "=") - 1)
				dv = substr(rest, index(rest, "=") + 1); hasdef = 1
				gsub(/^"|"$/, "", dv)
			}
			if (n == 0) {
				if (nm in given) g[nm] = given[nm]
				else if (hasdef) g[nm] = subst(dv, g)
			} else {
				if (nm in given) s[nm] = given[nm]
				else if (hasdef) s[nm] = subst(dv, s)
				else if (nm in g) s[nm] = g[nm]
			}
			next
		}
		if (ins == "FROM") {
			n++; nins[n] = 0
			for (k in s) delete s[k]
			i = 2
			while ($i ~ /^--/) i++          # --platform=...
			base[n] = subst($i, g)
			if (toupper($(i + 1)) == "AS") idx[tolower($(i + 2))] = n
			next
		}
		if (n == 0) { err(ins " before the first FROM"); next }
		line = tolower(ins)
		if (ins == "COPY" || ins == "ADD") {
			while (rest ~ /^--/) {
				if (rest ~ /^--from=/) err("COPY --from is not followed by this test")
				sub(/^--[^ \t]*[ \t]*/, "", rest)
			}
			if (argv(rest) != "") rest = argv(rest)
			line = line " " subst(rest, s)
		} else if (ins == "ENTRYPOINT" || ins == "CMD") {
			if (argv(rest) == "") err(ins " in shell form: there is no shell in the image")
			line = line " " argv(rest)
		} else {
			line = line " " subst(rest, s)
		}
		body[n, ++nins[n]] = line
	}
	END {
		if (n == 0) err("no FROM")
		st = n; depth = 0
		while (depth < 64) {
			chain[++depth] = st
			if (!(base[st] in idx) || idx[base[st]] >= st) break
			st = idx[base[st]]
		}
		printf "%s", errs
		if (n == 0) exit
		print "from " base[st]
		for (d = depth; d >= 1; d--)
			for (k = 1; k <= nins[chain[d]]; k++)
				print body[chain[d], k]
	}' "$1"
}

# plan_get PLAN KEYWORD: the last such line's arguments (the one in force)
plan_get() { sed -n "s/^$2 //p" "$1" | tail -n 1; }

# elf_ok FILE E_MACHINE: an ELF of that machine without a program interpreter
elf_ok() {
	[ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ] &&
		[ "$(od -An -tu2 -j18 -N2 "$1" | tr -d ' ')" = "$2" ] &&
		! readelf -lW "$1" 2>/dev/null | grep -q INTERP
}

for img in node broker; do
	for arch in arm64v8 arm32v7; do
		P=$T_TMP/plan-$img-$arch
		df_plan "deploy/$img/Dockerfile" $arch >"$P"
		if grep -q '^error' "$P"; then fail "$img/$arch: Dockerfile parsed" "$(grep '^error' "$P")"; continue; fi
		case $arch in arm64v8) d=aarch64 m=183 ;; *) d=armv7 m=40 ;; esac
		want_from=scratch
		[ $img = broker ] && want_from="$arch/alpine:*"
		# shellcheck disable=SC2254 # want_from is a pattern on purpose
		case $(plan_get "$P" from) in $want_from) ok "$img/$arch: FROM $(plan_get "$P" from)" ;;
		*) fail "$img/$arch: base" "FROM $(plan_get "$P" from), want $want_from" ;; esac
		if [ "$(grep -c '^copy ' "$P")" = 1 ] && [ "$(plan_get "$P" copy)" = "build/$d/dmqtt /dmqtt" ]; then
			ok "$img/$arch: one COPY, build/$d/dmqtt -> /dmqtt"
		else fail "$img/$arch: COPY" "$(grep '^copy' "$P")"; fi
		src=$(plan_get "$P" copy | cut -d' ' -f1)
		if [ -f "$src" ] && elf_ok "$src" $m; then ok "$img/$arch: COPY source $src exists, static $arch ELF"
		else fail "$img/$arch: COPY source" "$src missing, foreign or dynamic"; fi
		if [ "$(plan_get "$P" entrypoint)" = "/dmqtt $img" ]; then ok "$img/$arch: ENTRYPOINT [\"/dmqtt\", \"$img\"]"
		else fail "$img/$arch: ENTRYPOINT" "$(plan_get "$P" entrypoint)"; fi
		runs=$(grep '^run ' "$P")
		if [ $img = node ] && [ -z "$runs" ]; then ok "node/$arch: no RUN step"
		elif [ $img = broker ] && [ "$runs" = "run apk add --no-cache mosquitto" ]; then ok "broker/$arch: only mosquitto added"
		else fail "$img/$arch: RUN" "$runs"; fi
	done
done
# the parser itself: a shell-form ENTRYPOINT and COPY --from are refused
printf 'FROM scratch\nCOPY --from=x /a /b\nENTRYPOINT /dmqtt node\n' >"$T_TMP/bad.Dockerfile"
if [ "$(df_plan "$T_TMP/bad.Dockerfile" arm64v8 | grep -c '^error')" = 2 ]; then ok "parser refuses COPY --from and shell-form ENTRYPOINT"
else fail "parser" "$(df_plan "$T_TMP/bad.Dockerfile" arm64v8)"; fi

# ------------------------------------------------------------ image roots

# Roots live outside $T_TMP: lib.sh removes that folder with rm -rf, which
# must never meet a mount.  Ours goes only with --one-file-system, and only
# when nothing is mounted below it.
RT=$(mktemp -d /tmp/dmqtt-pkgroot.XXXXXX)
: >"$RT/.mounts"
umount_all() {
	[ -f "$RT/.mounts" ] || return 0
	tac "$RT/.mounts" | while read -r mp; do
		umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null
	done
	: >"$RT/.mounts"
}
mounted_below() { awk -v p="$RT/" 'index($2, p) == 1 { print $2 }' /proc/mounts; }
cleanup_roots() {
	umount_all
	if [ -z "$(mounted_below)" ]; then rm -rf --one-file-system "$RT"; else echo "package.sh: mounts left below $RT" >&2; fi
}
cleanup_add cleanup_roots

# image_root DIR PLAN [BIN]: an empty DIR filled from PLAN's COPY lines,
# sources relative to the build context (the repo root, which holds the
# same build/<arch>/dmqtt paths deploy/build-images.sh stages).  BIN, when
# given, stands in for the copied dmqtt (x86_64 for a chroot on this host).
image_root() {
	mkdir "$1" || return 1
	sed -n 's/^copy //p' "$2" | while read -r src dst; do
		[ -n "${3:-}" ] && src=$3
		mkdir -p "$1$(dirname "$dst")"
		cp --preserve=mode "$src" "$1$dst" || return 1
	done
}

# hub_mount DIR HUBDIR CONFIG [QEMU]: what a VeeaHub gives a container: /proc,
# /sys, the app's config file (read-only) and the hub's system D-Bus socket
# at their in-container paths; QEMU (a static qemu-user) at /qemu for a
# foreign-architecture root.  The mount points are all that is created.
hub_mount() {
	mkdir -p "$1/proc" "$1/sys" "$1$(dirname $HUB_CONFIG)" "$1$(dirname $HUB_BUS)"
	touch "$1$HUB_CONFIG" "$1$HUB_BUS"
	[ -n "${4:-}" ] && touch "$1/qemu"
	find "$1" -mindepth 1 | sed "s|^$1||" | sort >"$1.listing"
	_bind() { mount --bind "$1" "$2" && echo "$2" >>"$RT/.mounts" && { [ -z "${3:-}" ] || mount -o remount,bind,ro "$2"; }; }
	_bind /proc "$1/proc" && _bind /sys "$1/sys" &&
		_bind "$3" "$1$HUB_CONFIG" ro && _bind "$2/bus.sock" "$1$HUB_BUS" &&
		{ [ -z "${4:-}" ] || _bind "$4" "$1/qemu" ro; }
}

# expected listing of a root: /dmqtt, the mount points and their folders
expect_listing() {
	{
		echo /dmqtt
		for p in /proc /sys $HUB_CONFIG $HUB_BUS ${1:+/qemu}; do
			while [ "$p" != / ]; do echo "$p"; p=$(dirname "$p"); done
		done
	} | sort -u
}

# run_root DIR HOSTNAME LOG [QEMU_IN_ROOT] : the plan's ENTRYPOINT chrooted
# into DIR as PID 1 of new PID and UTS namespaces (host name HOSTNAME), with
# only the environment docker gives (PATH, HOSTNAME) plus DMQTT_DNS_SERVER:
# the root has no /etc/resolv.conf.  Sets RUN_PID (unshare's pid).
run_root() {
	_rr_dir=$1 _rr_h=$2 _rr_log=$3
	shift 3
	# shellcheck disable=SC2046 # the entrypoint is a word list
	env -i PATH=$DOCKER_PATH HOSTNAME="$_rr_h" DMQTT_DNS_SERVER="$DNS" \
		unshare --uts --pid --fork --kill-child -- /bin/sh -c \
		'h=$1 r=$2; shift 2; hostname "$h" && exec chroot "$r" "$@"' sh "$_rr_h" "$_rr_dir" \
		"$@" $(plan_get "$P" entrypoint) >"$_rr_log" 2>&1 &
	RUN_PID=$!
}
# pid1_of UNSHARE_PID: the process unshare forked (PID 1 inside)
pid1_of() {
	_po_i=0
	while [ $_po_i -lt 50 ]; do
		_po=$(pgrep -P "$1" | head -n 1)
		[ -n "$_po" ] && { echo "$_po"; return 0; }
		sleep 0.05
		_po_i=$((_po_i + 1))
	done
	return 1
}

# -------------------------------------------------- emulated mesh, broker

CA_B64=$(sed -n 's/.*"mqtt_cloud_broker_ca_cert_b64": *"\([^"]*\)".*/\1/p' test/data/config/valid-veea.json)
CRED=$(DMQTT_MESH_UUID=$UUID "$DMQTT" secret --show-secrets)
MU=$(echo "$CRED" | sed -n 's/^username: //p')
MP=$(echo "$CRED" | sed -n 's/^password: //p')
[ -n "$MU" ] && [ -n "$MP" ] || { fail "mesh credentials" "$CRED"; finish; exit 1; }
mosq_start pk --user "$MU" --password "$MP" || { fail mosquitto "did not start"; finish; exit 1; }
S="-u $MU -P $MP"

cleanup_add "'$EMU' stop --dir '$T_TMP/men'"
"$EMU" start --dir "$T_TMP/men" --serial $SN_MEN --node-type MEN --mesh-uuid $UUID -q >/dev/null ||
	{ fail emulator "MEN did not start"; finish; exit 1; }
for h in mn:$SN_MN qemu:$SN_QEMU; do
	cleanup_add "'$EMU' stop --dir '$T_TMP/${h%%:*}'"
	"$EMU" start --dir "$T_TMP/${h%%:*}" --serial "${h#*:}" --node-type MN --mesh-uuid $UUID \
		--dns "$T_TMP/men" -q >/dev/null || fail emulator "${h%%:*} did not start"
done
DNS=$(sed -n 's/^DMQTT_DNS_SERVER=//p' "$T_TMP/men/env")

# the app's user-config.json, mounted read-only into every root
CFG=$T_TMP/user-config.json
cat >"$CFG" <<JSON
{
  "mqtt_cloud_broker_hostname": "mqtt.cloud.example.com",
  "mqtt_cloud_broker_port": "8883",
  "mqtt_cloud_broker_username": "men-$SN_MEN",
  "mqtt_cloud_broker_password": "correct horse battery staple",
  "mqtt_cloud_broker_ca_cert_b64": "$CA_B64",
  "mqtt_mesh_broker_port": "$pk_PORT",
  "telemetry_interval_s": "2",
  "allowed_commands": { "selfversion": ["/dmqtt", "version"] }
}
JSON
chmod 644 "$CFG"

# broker image: its layer (dmqtt) in a root with the hub's mounts; --check
P=$T_TMP/plan-broker-arm64v8
image_root "$RT/broker" "$P" "$DMQTT" && hub_mount "$RT/broker" "$T_TMP/men" "$CFG" ||
	fail "broker root" "assembly or mounts failed"
# shellcheck disable=SC2046 # the entrypoint is a word list
env -i PATH=$DOCKER_PATH chroot "$RT/broker" $(plan_get "$P" entrypoint) --check >"$T_TMP/bcheck" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "^ok: configuration valid, VeeaHub services answer (serial $SN_MEN)" "$T_TMP/bcheck"; then
	ok "broker image: dmqtt broker --check ok from the mounted config and D-Bus socket"
else fail "broker --check in root" "rc $rc: $(head -c 300 "$T_TMP/bcheck")"; fi
for q in aarch64:qemu-aarch64-static armv7:qemu-arm-static; do
	expect_rc "broker --check, build/${q%%:*}/dmqtt under ${q#*:}" 0 \
		env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T_TMP/men/bus.sock" DMQTT_CONFIG="$CFG" \
		"${q#*:}" "build/${q%%:*}/dmqtt" broker --check
done
grep -v mqtt_cloud_broker_hostname "$CFG" >"$T_TMP/bad-config.json"
expect_rc "broker --check: config without mqtt_cloud_broker_hostname -> 78" 78 \
	env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T_TMP/men/bus.sock" "$DMQTT" broker --check --config "$T_TMP/bad-config.json"
expect_grep "  ... and names the key" "mqtt_cloud_broker_hostname" "$T_TMP/err"

# As the container does, as root: mosquitto's files go to user mosquitto,
# mode 0600, and the broker registers its SRV record (the mesh port is our
# mosquitto's, so the nodes below find it the way a hub does).
(set -a; . "$T_TMP/men/env"; exec "$DMQTT" broker --no-run --config "$CFG" --mosquitto-dir "$T_TMP/mosq") \
	>"$T_TMP/norun.log" 2>&1
rc=$?
if [ $rc -eq 0 ]; then ok "broker --no-run: files written, records registered"; else fail "broker --no-run" "rc $rc: $(tail -3 "$T_TMP/norun.log")"; fi
for f in mosquitto.conf passwd acl cloud-ca.pem; do
	o=$(stat -c '%U:%G %a' "$T_TMP/mosq/$f" 2>/dev/null)
	if [ "$o" = "mosquitto:mosquitto 600" ]; then ok "$f: mosquitto:mosquitto 0600"; else fail "$f owner/mode" "$o"; fi
done
o=$(stat -c '%U' "$T_TMP/mosq/data" 2>/dev/null)
if [ "$o" = mosquitto ]; then ok "persistence folder belongs to mosquitto"; else fail "data/ owner" "$o"; fi
expect_rc "SRV _dmqtt._tcp registered by the broker" 0 "$DMQTT" srv _dmqtt._tcp.service.veeamesh.local --server "$DNS"
expect_grep "  ... pointing at our mosquitto" "^0 0 $pk_PORT dmqtt-broker-application.service.veeamesh.local 127.0.0.1$" "$T_TMP/out"

# ------------------------------------------------------------- node roots

# the MEN: arm64v8's plan, x86_64 binary (nothing here runs arm64 natively)
P=$T_TMP/plan-node-arm64v8
image_root "$RT/men" "$P" "$DMQTT"
L=$(find "$RT/men" -mindepth 1 | sed "s|^$RT/men||")
if [ "$L" = /dmqtt ]; then ok "node image root holds /dmqtt and nothing else"; else fail "node root" "$L"; fi
hub_mount "$RT/men" "$T_TMP/men" "$CFG" || fail "men mounts" "mount failed"
if expect_listing | cmp -s - "$RT/men.listing"; then ok "MEN root: /dmqtt + mount points only ($(wc -l <"$RT/men.listing") entries)"
else fail "MEN root listing" "$(expect_listing | diff - "$RT/men.listing" | tr '\n' ' ')"; fi
run_root "$RT/men" pkg-men "$T_TMP/node-men.log"
MEN_RUN=$RUN_PID
cleanup_add "kill -KILL \$MEN_RUN 2>/dev/null; wait \$MEN_RUN 2>/dev/null"

# an MN: the arm32v7 image exactly as built, its binary run by qemu-arm-static
P=$T_TMP/plan-node-arm32v7
image_root "$RT/mn" "$P"
if cmp -s "$RT/mn/dmqtt" build/armv7/dmqtt; then ok "arm32v7 root: /dmqtt is build/armv7/dmqtt"; else fail "mn root" "binary differs"; fi
hub_mount "$RT/mn" "$T_TMP/mn" "$CFG" "$(command -v qemu-arm-static)" || fail "mn mounts" "mount failed"
if expect_listing qemu | cmp -s - "$RT/mn.listing"; then ok "MN root: /dmqtt + mount points only (+ /qemu)"
else fail "MN root listing" "$(expect_listing qemu | diff - "$RT/mn.listing" | tr '\n' ' ')"; fi
run_root "$RT/mn" pkg-mn "$T_TMP/node-mn.log" /qemu
MN_RUN=$RUN_PID
cleanup_add "kill -KILL \$MN_RUN 2>/dev/null; wait \$MN_RUN 2>/dev/null"

# an MN running the aarch64 binary under qemu, no chroot
env -i PATH=$DOCKER_PATH DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T_TMP/qemu/bus.sock" \
	DMQTT_DNS_SERVER="$DNS" DMQTT_CONFIG="$CFG" \
	qemu-aarch64-static build/aarch64/dmqtt node >"$T_TMP/node-qemu.log" 2>&1 &
QEMU_PID=$!
cleanup_add "kill \$QEMU_PID 2>/dev/null; wait \$QEMU_PID 2>/dev/null"

sub_collect st "$pk_PORT" 'status/+' 3 $S
if sub_wait st 20; then ok "three nodes online (retained status/<sn>)"; else
	fail "online" "$(cat "$T_TMP/st.out") | men: $(tail -3 "$T_TMP/node-men.log") | mn: $(tail -3 "$T_TMP/node-mn.log")"; fi
for sn in $SN_MEN $SN_MN $SN_QEMU; do expect_grep "status/$sn online" "^status/$sn online$" "$T_TMP/st.out"; done
for r in men mn qemu; do
	expect_grep "  $r found the broker by DNS SRV" "broker by DNS SRV _dmqtt._tcp.service.veeamesh.local" "$T_TMP/node-$r.log"
done

# req/all hostname: from /proc/sys/kernel/hostname of each node's own UTS
# namespace, read through the bind-mounted /proc
HOSTN=$(cat /proc/sys/kernel/hostname)
sub_collect hn "$pk_PORT" 'rsp/all/+' 3 $S -q 1
mosquitto_pub -h 127.0.0.1 -p "$pk_PORT" $S -q 1 -t req/all -m '{"cmd":"hostname","id":"h1"}'
if sub_wait hn 15; then ok "req/all hostname: three replies"; else fail "req/all hostname" "$(cat "$T_TMP/hn.out")"; fi
for r in $SN_MEN:pkg-men $SN_MN:pkg-mn $SN_QEMU:$HOSTN; do
	expect_grep "hostname of ${r%%:*} is ${r#*:}" \
		"^rsp/all/${r%%:*} \{\"sn\":\"${r%%:*}\",\"cmd\":\"hostname\",\"data\":\"${r#*:}\",\"rc\":0,\"id\":\"h1\"\}$" "$T_TMP/hn.out"
done
# req/all interfaces: /sys/class/net through the bind-mounted /sys (the
# command leaves out lo)
sub_collect if "$pk_PORT" 'rsp/all/+' 3 $S -q 1
mosquitto_pub -h 127.0.0.1 -p "$pk_PORT" $S -q 1 -t req/all -m '{"cmd":"interfaces","id":"i1"}'
if sub_wait if 15; then ok "req/all interfaces: three replies"; else fail "req/all interfaces" "$(cat "$T_TMP/if.out")"; fi
IFS_HOST=$(ls /sys/class/net | grep -vx lo)
NIF=$(echo "$IFS_HOST" | wc -l)
for sn in $SN_MEN $SN_MN $SN_QEMU; do
	line=$(grep "^rsp/all/$sn " "$T_TMP/if.out")
	miss=""
	for i in $IFS_HOST; do
		case $line in *"$i Up"* | *"$i Down"* | *"$i unknown"*) ;; *) miss="$miss $i" ;; esac
	done
	if [ -n "$line" ] && [ -z "$miss" ] && printf '%s\n' "$line" | grep -q '"rc":0,"id":"i1"}$'; then
		ok "interfaces of $sn: all $NIF of /sys/class/net but lo"
	else fail "interfaces of $sn" "missing:$miss in $line"; fi
done

# the mounted config's allow-list, run without a shell inside the scratch root
sub_collect sv "$pk_PORT" "rsp/$SN_MEN" 1 $S -q 1
mosquitto_pub -h 127.0.0.1 -p "$pk_PORT" $S -q 1 -t "req/$SN_MEN" -m '{"cmd":"selfversion","id":"v1"}'
VER=$("$DMQTT" version | head -1)
if sub_wait sv 10 && grep -q "\"cmd\":\"selfversion\",\"data\":\"$VER" "$T_TMP/sv.out" && grep -q '"rc":0,"id":"v1"}$' "$T_TMP/sv.out"; then
	ok "allowed_commands from the mounted config: /dmqtt version ran in the root"
else fail "selfversion" "$(cat "$T_TMP/sv.out")"; fi

# docker stop: SIGTERM to PID 1; it says offline and exits 0
sub_collect off "$pk_PORT" "status/$SN_MEN" 2 $S
if PID1=$(pid1_of $MEN_RUN); then
	kill -TERM "$PID1"
	i=0; while [ $i -lt 100 ] && kill -0 $MEN_RUN 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
	if kill -0 $MEN_RUN 2>/dev/null; then fail "SIGTERM to PID 1" "still running after 5 s"; else
		wait $MEN_RUN; rc=$?
		if [ $rc -eq 0 ]; then ok "SIGTERM to PID 1 (docker stop): exit 0"; else fail "SIGTERM exit" "rc $rc"; fi
	fi
else fail "PID 1" "no child of unshare $MEN_RUN"; fi
if sub_wait off 10 && grep -q "^status/$SN_MEN offline$" "$T_TMP/off.out"; then ok "status/$SN_MEN offline after stop"
else fail "offline" "$(cat "$T_TMP/off.out")"; fi

# stop the rest (unshare ignores SIGTERM: the signal goes to PID 1 inside)
stop_root() {
	_sr=$(pid1_of "$1") && kill -TERM "$_sr" 2>/dev/null
	_sr_i=0
	while [ $_sr_i -lt 100 ] && kill -0 "$1" 2>/dev/null; do sleep 0.05; _sr_i=$((_sr_i + 1)); done
	kill -KILL "$1" 2>/dev/null # --kill-child takes PID 1 along
	wait "$1" 2>/dev/null
}
stop_root $MN_RUN
kill $QEMU_PID 2>/dev/null
wait $QEMU_PID 2>/dev/null
n=$(wc -l <"$RT/.mounts")
umount_all
left=$(mounted_below)
if [ -z "$left" ]; then ok "all $n mounts undone (/proc/mounts)"; else fail "mounts left" "$left"; fi
# unmounted, each root is as it was: the nodes wrote nothing into it
for r in men mn; do
	if find "$RT/$r" -mindepth 1 | sed "s|^$RT/$r||" | sort | cmp -s - "$RT/$r.listing"; then ok "$r root unchanged after the run"
	else fail "$r root changed" "$(find "$RT/$r" -mindepth 1 | sed "s|^$RT/$r||" | sort | diff "$RT/$r.listing" - | head -5 | tr '\n' ' ')"; fi
done

# ----------------------------------------------- descriptors and the script

/usr/bin/python3 - deploy/veeahub >"$T_TMP/yaml.out" 2>&1 <<'PY'
import os, sys, yaml
d = sys.argv[1]
app = yaml.safe_load(open(os.path.join(d, "config.yaml")))
want = {"dmqtt-broker": ["MEN"], "dmqtt-node": ["MEN", "MN"]}
cs = {c["name"]: c for c in app["pkg_info"]["containers"]}
assert set(cs) == set(want), cs
for name, types in want.items():
    c = cs[name]
    assert sorted(c["architectures"]) == ["arm32v7", "arm64v8"], c
    img = yaml.safe_load(open(os.path.join(d, c["path"], "config.yaml")))
    assert img["version"] == 3 and img["app"] == name, img
    assert img["app_info"]["node_types"] == types, img["app_info"]
    assert sorted(img["app_info"]["platforms"]) == ["arm32v7", "arm64v8"], img["app_info"]
    assert img["app_info"]["version"] == app["pkg_info"]["version"]
    print(name, "node_types", types)
b = yaml.safe_load(open(os.path.join(d, "dmqtt-broker", "config.yaml")))
assert b["docker"]["ports"]["publish"] == ["1883:1883"], b["docker"]
sw = yaml.safe_load(open(os.path.join(d, "dmqtt-node", "swarm.conf")))
assert sw["docker"]["service"]["dmqtt-node"]["mode"] == "global", sw
print("ok")
PY
if tail -1 "$T_TMP/yaml.out" | grep -q '^ok$'; then ok "VeeaHub descriptors: broker MEN, node MEN+MN (global), both arm32v7/arm64v8"
else fail "descriptors" "$(tail -3 "$T_TMP/yaml.out")"; fi

if command -v shellcheck >/dev/null 2>&1; then
	expect_rc "deploy/build-images.sh is shellcheck-clean" 0 shellcheck -s sh deploy/build-images.sh
fi
# build-images.sh against a docker stand-in that records its calls
mkdir -p "$T_TMP/fakebin"
cat >"$T_TMP/fakebin/docker" <<'SH'
#!/bin/sh
echo "docker $*" >>"$FAKE_LOG"
case "$1 $2" in
"buildx version") exit 0 ;;
"buildx inspect") echo "Platforms: linux/amd64, linux/arm64, linux/arm/v7"; exit 0 ;;
"buildx build")
	for ctx; do :; done
	(cd "$ctx" && find . -type f | sort | while read -r f; do echo "ctx $f $(cksum <"$f")"; done) >>"$FAKE_LOG"
	exit 0 ;;
"buildx imagetools") exit 0 ;;
esac
exit 1
SH
chmod +x "$T_TMP/fakebin/docker"
export FAKE_LOG="$T_TMP/fake.log"
expect_rc "build-images.sh --push (docker stand-in)" 0 env PATH="$T_TMP/fakebin:$PATH" TMPDIR="$T_TMP" \
	sh deploy/build-images.sh --push --registry reg.example/veea/
for ia in node:arm64v8:linux/arm64 node:arm32v7:linux/arm/v7 broker:arm64v8:linux/arm64 broker:arm32v7:linux/arm/v7; do
	i=${ia%%:*} a=${ia#*:}; p=${a#*:}; a=${a%%:*}
	expect_grep "  buildx build $i $a" "^docker buildx build --platform $p --build-arg ARCH=$a --provenance=false --file $ROOT/deploy/$i/Dockerfile --tag reg.example/veea/dmqtt-$i-$a:0\.1\.0 --push " "$FAKE_LOG"
done
expect_grep "  multi-arch index for node" "^docker buildx imagetools create --tag reg.example/veea/dmqtt-node:0\.1\.0 reg.example/veea/dmqtt-node-arm64v8:0\.1\.0 reg.example/veea/dmqtt-node-arm32v7:0\.1\.0$" "$FAKE_LOG"
c64=$(cksum <build/aarch64/dmqtt) c32=$(cksum <build/armv7/dmqtt)
if [ "$(grep -c "^ctx \./build/aarch64/dmqtt $c64$" "$FAKE_LOG")" = 4 ] && [ "$(grep -c "^ctx \./build/armv7/dmqtt $c32$" "$FAKE_LOG")" = 4 ] &&
	[ "$(grep -c '^ctx ' "$FAKE_LOG")" = 8 ]; then ok "  build context: exactly the two ARM binaries"
else fail "build context" "$(grep '^ctx' "$FAKE_LOG" | head -4)"; fi
if [ -z "$(find "$T_TMP" -maxdepth 1 -name 'dmqtt-images.*')" ]; then ok "  staging folder removed"; else fail "staging" "left behind"; fi
expect_rc "build-images.sh: unknown arch -> 1" 1 env PATH="$T_TMP/fakebin:$PATH" sh deploy/build-images.sh --arch x86
finish
