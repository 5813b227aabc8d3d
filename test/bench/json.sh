#!/bin/sh
# proto/json against cJSON (10 MB document, best of N) and the
# user-config.json load time (4 KB file, median of 1,000), natively with
# cc -O2.  Builds build/bench/json_bench and runs it; its exit status is
# this script's: non-zero when proto/json is not faster than cJSON or the
# config median is above 50 us.  Needs Debian's libcjson-dev.
set -u
cd "$(dirname "$0")/../.." || exit 1
OUT=build/bench
mkdir -p "$OUT"

if [ ! -f /usr/include/cjson/cJSON.h ]; then
	echo "json.sh: libcjson-dev is not installed (apt-get install libcjson-dev)" >&2
	exit 2
fi

# BearSSL (the config validates its CA with it): the native build's library.
# It is built -fno-pic, so the bench is linked -no-pie.
BR=build/x86_64/bearssl/libbearssl.a
if [ ! -f "$BR" ]; then
	make -s "$BR" || { echo "json.sh: cannot build $BR" >&2; exit 2; }
fi

CFLAGS="-std=c11 -O2 -march=native -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
	-Wmissing-prototypes -Wvla -Wformat=2 -Wundef -D_POSIX_C_SOURCE=200809L
	-I. -isystem build/deps/bearssl-src/inc"
# shellcheck disable=SC2086
cc $CFLAGS -no-pie -o "$OUT/json_bench" test/bench/json_bench.c \
	proto/json.c proto/utf8.c proto/base64.c proto/pem.c src/config.c platform/file.c platform/log.c platform/clock.c platform/fmt.c \
	"$BR" -lcjson || { echo "json.sh: build failed" >&2; exit 2; }

"$OUT/json_bench" "$OUT/config-4k.json"
