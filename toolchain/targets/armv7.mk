# armv7-linux-musleabihf: arm32v7 hubs (VHC05, VHC25).
# Debian's armhf cross gcc (ARMv7-A, Thumb-2, VFPv3-D16, hard float) with
# Debian's musl-dev:armhf as the sysroot.
TRIPLE  := armv7-linux-musleabihf
CC      := arm-linux-gnueabihf-gcc -specs=$(DEPS)/sysroot-armhf/musl-gcc.specs
AR      := arm-linux-gnueabihf-gcc-ar
STRIP   := arm-linux-gnueabihf-strip
T_CFLAGS  := -march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard -mthumb
# No PT_GNU_RELRO: static musl has no dynamic linker to mprotect it, so it
# only pads the data segment to a page boundary (~4 KiB of file).
T_LDFLAGS := -static -Wl,-z,max-page-size=4096 -Wl,-z,norelro
QEMU    := qemu-arm-static
# Link-time optimisation over the program and BearSSL (-Os across module
# boundaries: ~16 KiB less on aarch64).  Fat objects keep ordinary code too,
# so nm/size on an object (the purity check, the per-module size table)
# still see what that module compiles to.
T_LTO := -flto -ffat-lto-objects
T_LTO_LINK := -flto=auto
