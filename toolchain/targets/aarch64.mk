# aarch64-linux-musl: arm64v8 hubs (VHE09, VHH09, VHE10, VHH10).
# Debian's cross gcc with Debian's musl-dev:arm64 as the sysroot.
TRIPLE  := aarch64-linux-musl
CC      := aarch64-linux-gnu-gcc -specs=$(DEPS)/sysroot-arm64/musl-gcc.specs
AR      := aarch64-linux-gnu-gcc-ar
STRIP   := aarch64-linux-gnu-strip
T_CFLAGS  :=
# 64 KiB segment alignment would pad a small static file by tens of KiB.
# No PT_GNU_RELRO: static musl has no dynamic linker to mprotect it, so it
# only pads the data segment to a page boundary (~4 KiB of file).
T_LDFLAGS := -static -Wl,-z,max-page-size=4096 -Wl,-z,norelro
QEMU    := qemu-aarch64-static
# Link-time optimisation over the program and BearSSL (-Os across module
# boundaries: ~16 KiB less on aarch64).  Fat objects keep ordinary code too,
# so nm/size on an object (the purity check, the per-module size table)
# still see what that module compiles to.
T_LTO := -flto -ffat-lto-objects
T_LTO_LINK := -flto=auto
