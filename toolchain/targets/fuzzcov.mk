# libFuzzer harnesses as in fuzz.mk, plus clang's source-based coverage
# (-fprofile-instr-generate -fcoverage-mapping): for test/fuzz.sh coverage,
# which replays each corpus and reports with llvm-cov.  ASan stays in: the
# hidden-visibility BearSSL includes (proto/pem.c, tls.c, kdf.c) leave
# hidden references to strlen/memchr that only a static definition (ASan's
# interceptors here, musl's libc.a in the product) satisfies.  The harness
# binaries go to build/fuzzcov/bin/; the fuzzing ones stay in build/fuzz/.
TRIPLE  := x86_64-linux-gnu-fuzzcov
CC      := clang
AR      := ar
STRIP   := true
T_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -DDMQTT_FUZZ=1 \
	-fprofile-instr-generate -fcoverage-mapping
T_LDFLAGS := -fsanitize=fuzzer,address,undefined -fprofile-instr-generate
QEMU    :=
NOSTRIP := 1
BR_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address
FUZZ_DIR := build/fuzzcov/bin
