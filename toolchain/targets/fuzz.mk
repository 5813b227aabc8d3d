# libFuzzer build: clang, coverage instrumentation, ASan and UBSan.
TRIPLE  := x86_64-linux-gnu-fuzz
CC      := clang
AR      := ar
STRIP   := true
T_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -DDMQTT_FUZZ=1
T_LDFLAGS := -fsanitize=fuzzer,address,undefined
QEMU    :=
NOSTRIP := 1
BR_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address
