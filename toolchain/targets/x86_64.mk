# x86_64-linux-musl: developer machines and the cloud side (Debian musl-tools).
TRIPLE  := x86_64-linux-musl
CC      := musl-gcc
AR      := ar
STRIP   := strip
T_CFLAGS  :=
T_LDFLAGS := -static
QEMU    :=
