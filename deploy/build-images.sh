#!/bin/sh
# Build the dmqtt container images for VeeaHubs with docker buildx, from the
# static binaries `make bin cross` left in build/ (this script compiles
# nothing).  See docs/packaging.md.
#
#   deploy/build-images.sh [--image node|broker]... [--arch arm64v8|arm32v7]...
#                          [--registry PREFIX] [--tag TAG]
#                          [--load | --push | --save DIR]
#
# Each image and architecture is one `docker buildx build` of
# deploy/<image>/Dockerfile with --build-arg ARCH=<arch>, tagged the way vhc
# names images: PREFIXdmqtt-<image>-<arch>:TAG.
#   --load      (default) into the local image store
#   --push      to the registry; then PREFIXdmqtt-<image>:TAG is made a
#               multi-architecture index of the per-architecture tags
#   --save DIR  as `docker save` archives DIR/dmqtt-<image>-<arch>-TAG.tar
# TAG defaults to the version `build/x86_64/dmqtt version` prints.  PREFIX is
# prepended as given (e.g. registry.example.com/veea/).
#
# The build context is a temporary folder holding only build/aarch64/dmqtt
# and build/armv7/dmqtt.  The broker image runs `apk add` for an ARM
# platform: the builder needs ARM emulation (on a plain Docker host:
# `docker run --privileged --rm tonistiigi/binfmt --install arm64,arm`).
# The node image has no RUN step and needs none.
set -eu

usage() {
	sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2
	exit 64
}
die() {
	echo "build-images: $*" >&2
	exit 1
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
images="" arches="" registry="" tag="" mode=load savedir=""
while [ $# -gt 0 ]; do
	case $1 in
	--image)
		[ $# -ge 2 ] || usage
		case $2 in node | broker) images="$images $2" ;; *) die "unknown image '$2' (node, broker)" ;; esac
		shift 2
		;;
	--arch)
		[ $# -ge 2 ] || usage
		case $2 in arm64v8 | arm32v7) arches="$arches $2" ;; *) die "unknown arch '$2' (arm64v8, arm32v7)" ;; esac
		shift 2
		;;
	--registry)
		[ $# -ge 2 ] || usage
		registry=$2
		shift 2
		;;
	--tag)
		[ $# -ge 2 ] || usage
		tag=$2
		shift 2
		;;
	--load) mode=load; shift ;;
	--push) mode=push; shift ;;
	--save)
		[ $# -ge 2 ] || usage
		mode=save savedir=$2
		shift 2
		;;
	-h | --help) usage ;;
	*) echo "build-images: unknown argument '$1'" >&2; usage ;;
	esac
done
images=${images:-node broker}
arches=${arches:-arm64v8 arm32v7}

# the binary folder and ELF machine (e_machine) of each architecture
build_dir() {
	case $1 in arm64v8) echo aarch64 ;; arm32v7) echo armv7 ;; esac
}
elf_machine() {
	case $1 in arm64v8) echo 183 ;; arm32v7) echo 40 ;; esac
}
platform() {
	case $1 in arm64v8) echo linux/arm64 ;; arm32v7) echo linux/arm/v7 ;; esac
}

command -v docker >/dev/null 2>&1 || die "docker is not installed"
docker buildx version >/dev/null 2>&1 || die "docker buildx is not available"

if [ -z "$tag" ]; then
	[ -x "$ROOT/build/x86_64/dmqtt" ] || die "no build/x86_64/dmqtt to take the version from: run make bin, or pass --tag"
	tag=$("$ROOT/build/x86_64/dmqtt" version | sed -n 's/^dmqtt \([^ ]*\)$/\1/p')
	[ -n "$tag" ] || die "cannot read the version from build/x86_64/dmqtt; pass --tag"
fi

ctx=$(mktemp -d "${TMPDIR:-/tmp}/dmqtt-images.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
trap 'exit 130' INT TERM

# Stage the binaries, refusing a missing, foreign or dynamically linked one.
for arch in $arches; do
	d=$(build_dir "$arch")
	bin=$ROOT/build/$d/dmqtt
	[ -f "$bin" ] || die "no $bin: run make cross"
	m=$(od -An -tu2 -j18 -N2 "$bin" | tr -d ' ')
	[ "$m" = "$(elf_machine "$arch")" ] || die "$bin is not an $arch ELF binary (e_machine $m)"
	if command -v readelf >/dev/null 2>&1 && readelf -lW "$bin" | grep -q INTERP; then
		die "$bin is dynamically linked"
	fi
	mkdir -p "$ctx/build/$d"
	cp "$bin" "$ctx/build/$d/dmqtt"
	chmod 0755 "$ctx/build/$d/dmqtt"
done

if [ "$mode" = save ]; then
	mkdir -p "$savedir"
	savedir=$(cd "$savedir" && pwd)
fi
case " $images " in
*" broker "*)
	for arch in $arches; do
		p=$(platform "$arch")
		if ! docker buildx inspect --bootstrap 2>/dev/null | grep '^Platforms:' | grep -q "$p"; then
			echo "build-images: warning: the current builder does not list $p; the broker's RUN step needs ARM emulation" >&2
		fi
	done
	;;
esac

for image in $images; do
	refs=""
	for arch in $arches; do
		ref=${registry}dmqtt-$image-$arch:$tag
		case $mode in
		load) out=--load ;;
		push) out=--push ;;
		save) out=--output=type=docker,dest=$savedir/dmqtt-$image-$arch-$tag.tar ;;
		esac
		echo "build-images: $ref ($(platform "$arch"))" >&2
		docker buildx build \
			--platform "$(platform "$arch")" \
			--build-arg "ARCH=$arch" \
			--provenance=false \
			--file "$ROOT/deploy/$image/Dockerfile" \
			--tag "$ref" \
			"$out" \
			"$ctx"
		refs="$refs $ref"
	done
	if [ "$mode" = push ]; then
		# one name for both architectures; each hub pulls its own
		# shellcheck disable=SC2086 # refs is a list of image names
		docker buildx imagetools create --tag "${registry}dmqtt-$image:$tag" $refs
	fi
done
