# Host build for tests: clang with AddressSanitizer and UBSan, glibc.
TRIPLE  := x86_64-linux-gnu-asan
CC      := clang
AR      := ar
STRIP   := true
T_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
T_LDFLAGS := -fsanitize=address,undefined
QEMU    :=
NOSTRIP := 1
BR_CFLAGS := -O1 -g -fsanitize=address
