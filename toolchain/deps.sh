#!/bin/sh
# Install every Debian package the build, tests and demo need, then fetch the
# per-architecture musl sysroots and the BearSSL source package into build/deps.
#
# Idempotent: packages that dpkg already shows installed are skipped, and files
# already fetched (and verified) are kept.  Quiet unless something fails.
#
# The machine's own apt configuration is used only to install host packages.
# The arm64/armhf package lists and the source index come through a private
# apt configuration under build/deps/apt, so no foreign architecture or deb-src
# line is added to the system.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEPS=${DMQTT_DEPS_DIR:-$ROOT/build/deps}
LOG=$DEPS/deps.log
mkdir -p "$DEPS"
: >"$LOG"

die() { echo "deps: $*" >&2; echo "deps: see $LOG" >&2; exit 1; }

# Host packages, one concern a line.
PKGS="
make gcc clang llvm libclang-rt-14-dev musl-tools binutils file xz-utils ca-certificates
gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf qemu-user-static
cppcheck clang-tidy
mosquitto mosquitto-clients openssl
chromium
dbus-daemon python3-dbusmock python3-dnslib systemd dnsutils dnsmasq-base unbound
iproute2 procps psmisc util-linux
libcjson-dev libc-ares-dev libsystemd-dev libmosquitto-dev wrk valgrind strace gnuplot-nox time curl
"

missing=""
for p in $PKGS; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
# Node.js (aedes, playwright-core): the machine's own node/npm when present
# (they may come from outside Debian); Debian's otherwise.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

# apt-get update can fail for one index while the archive is mid-sync; retry,
# and judge by whether the install then succeeds.
apt_update() {
	i=0
	while [ $i -lt 3 ]; do
		if "$@" update >>"$LOG" 2>&1; then return 0; fi
		i=$((i + 1)); sleep 3
	done
	echo "deps: apt-get update reported errors (continuing; packages decide)" >>"$LOG"
	return 0
}

if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt_update apt-get
	i=0
	until apt-get install -y -q --no-install-recommends $missing >>"$LOG" 2>&1; do
		i=$((i + 1))
		[ $i -lt 3 ] || die "could not install:$missing"
		sleep 5; apt_update apt-get
	done
fi

# ---- private apt configuration for foreign-architecture and source packages
APT=$DEPS/apt
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/etc/preferences.d" \
	"$APT/etc/apt.conf.d" "$APT/etc/trusted.gpg.d"
# The archive address is the one this machine already uses for bookworm.
mirror=$( (cat /etc/apt/sources.list 2>/dev/null; cat /etc/apt/sources.list.d/*.list 2>/dev/null) |
	awk '$1=="deb" && / bookworm / { for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }')
if [ -z "$mirror" ]; then
	mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '/^URIs:/ { u=$2 } /^Suites:/ && / bookworm( |$)/ && u !~ /security/ { print u; exit }')
fi
[ -n "$mirror" ] || die "no bookworm archive found in the machine's apt sources"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat >"$APT/sources.list" <<SRC
deb [arch=arm64,armhf signed-by=$keyring] $mirror bookworm main
deb-src [signed-by=$keyring] $mirror bookworm main
SRC
PAPT="-o Dir::Etc::SourceList=$APT/sources.list -o Dir::Etc::SourceParts=/dev/null
 -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=$APT/etc/preferences.d
 -o Dir::State::Lists=$APT/lists -o Dir::Cache=$APT/cache -o Dir::State::status=/var/lib/dpkg/status
 -o APT::Architectures::=arm64 -o APT::Architectures::=armhf -o APT::Get::List-Cleanup=0"

fetch_private() { # subsequent args: what apt-get does, run in $DEPS/dl
	mkdir -p "$DEPS/dl"
	(cd "$DEPS/dl" && apt-get $PAPT "$@") >>"$LOG" 2>&1
}

need_private=0
for a in arm64 armhf; do ls "$DEPS"/dl/musl-dev_*_$a.deb >/dev/null 2>&1 || need_private=1; done
ls "$DEPS"/dl/bearssl_0.6+dfsg.1.orig.tar.xz >/dev/null 2>&1 || need_private=1
if [ $need_private = 1 ]; then
	# shellcheck disable=SC2086
	apt_update apt-get $PAPT
	i=0
	until fetch_private download musl-dev:arm64 musl-dev:armhf && \
	      fetch_private source --download-only bearssl; do
		i=$((i + 1)); [ $i -lt 3 ] || die "could not fetch musl-dev:arm64/armhf or the bearssl source"
		sleep 5; apt_update apt-get $PAPT
	done
fi

# ---- BearSSL: verify the pinned tarball
BEARSSL_SHA256=102a625bd8f6155260867a50c508df8d8c3f796985dd744df1a68e5cd1a79004
tarball=$DEPS/dl/bearssl_0.6+dfsg.1.orig.tar.xz
got=$(sha256sum "$tarball" | cut -d' ' -f1)
[ "$got" = "$BEARSSL_SHA256" ] || { rm -f "$tarball"; die "bearssl tarball sha256 $got, expected $BEARSSL_SHA256 (deleted)"; }
if [ ! -f "$DEPS/bearssl-src/inc/bearssl.h" ]; then
	rm -rf "$DEPS/bearssl-src" && mkdir -p "$DEPS/bearssl-src"
	tar -xJf "$tarball" -C "$DEPS/bearssl-src" --strip-components=1 || die "cannot unpack $tarball"
fi

# ---- musl sysroots for the ARM targets: unpack, rewrite the specs file's paths
sysroot() { # debarch triple
	dst=$DEPS/sysroot-$1
	spec=$dst/usr/lib/$2/musl-gcc.specs
	[ -f "$dst/musl-gcc.specs" ] && return 0
	rm -rf "$dst" && mkdir -p "$dst"
	dpkg-deb -x "$(ls "$DEPS"/dl/musl-dev_*_$1.deb | head -1)" "$dst" || die "cannot unpack musl-dev:$1"
	[ -f "$spec" ] || die "musl-dev:$1 has no $spec"
	sed -e "s|/usr/include/$2|$dst/usr/include/$2|g" -e "s|/usr/lib/$2|$dst/usr/lib/$2|g" \
		"$spec" >"$dst/musl-gcc.specs.tmp" && mv "$dst/musl-gcc.specs.tmp" "$dst/musl-gcc.specs"
}
sysroot arm64 aarch64-linux-musl
sysroot armhf arm-linux-musleabihf


# ---- Node.js test peers (aedes, mqtt-packet, playwright-core), locked
sh "$ROOT/toolchain/deps-node.sh" || die "npm ci in test/node failed"
touch "$DEPS/.done"
