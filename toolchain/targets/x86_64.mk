# x86_64-linux-musl: developer machines and the cloud side (Debian musl-tools).
TRIPLE  := x86_64-linux-musl
CC      := musl-gcc
AR      := gcc-ar
STRIP   := strip
T_CFLAGS  :=
# No PT_GNU_RELRO: static musl has no dynamic linker to mprotect it, so it
# only pads the data segment to a page boundary (~4 KiB of file).
T_LDFLAGS := -static -Wl,-z,norelro
QEMU    :=
# Link-time optimisation over the program and BearSSL (-Os across module
# boundaries: ~16 KiB less on aarch64).  Fat objects keep ordinary code too,
# so nm/size on an object (the purity check, the per-module size table)
# still see what that module compiles to.
T_LTO := -flto -ffat-lto-objects
T_LTO_LINK := -flto=auto
