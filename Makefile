# dmqtt -- one Makefile, one small fragment per target (toolchain/targets/).
#
#   make               build/x86_64/dmqtt (static, stripped)
#   make cross         build/aarch64/dmqtt and build/armv7/dmqtt
#   make check         everything the CI runs; last line "N passed, N failed"
#   make unit          unit tests under ASan+UBSan
#   make fuzz          every harness for FUZZ_SECONDS (default 60)
#   make fuzz-coverage each harness over its corpus; writes docs/fuzzing.md
#   make lint | size | bench | demo | soak | clean
#
# TARGET selects a fragment: x86_64 (default), aarch64, armv7, asan, fuzz, fuzzcov.

TARGET ?= x86_64
DEPS   := $(CURDIR)/build/deps
include toolchain/targets/$(TARGET).mk

VERSION         := 0.1.0
BEARSSL_VERSION := 0.6
B := build/$(TARGET)
ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wformat=2 -Wundef -Wcast-align
OPT  ?= -Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables
CPPFLAGS := -I. -isystem $(DEPS)/bearssl-src/inc -D_POSIX_C_SOURCE=200809L
CFLAGS   := $(WARN) $(OPT) $(T_LTO) $(T_CFLAGS) $(CPPFLAGS) -MMD -MP
LDFLAGS  := $(T_LDFLAGS) $(T_LTO_LINK) -Wl,--gc-sections
BR_CFLAGS ?= -Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables -fno-pic $(T_LTO) $(T_CFLAGS)

PROTO_SRC := $(sort $(wildcard proto/*.c))
PLAT_SRC  := $(sort $(wildcard platform/*.c))
APP_SRC   := $(sort $(filter-out src/main.c,$(wildcard src/*.c)))
UNIT_SRC  := $(sort $(wildcard test/unit/*.c))
FUZZ_SRC  := $(sort $(wildcard fuzz/*.c))

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
PROTO_OBJ := $(call obj,$(PROTO_SRC))
LIB_OBJ   := $(PROTO_OBJ) $(call obj,$(PLAT_SRC) $(APP_SRC))
BEARSSL   := $(B)/bearssl/libbearssl.a
FUZZ_DIR  ?= build/fuzz
FUZZ_BIN  := $(patsubst fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRC))

.PHONY: all bin client cross unit unit-bin fuzz fuzz-bins fuzz-coverage check lint size bench demo soak clean deps
.DEFAULT_GOAL := all

all: bin
bin: $(B)/dmqtt

deps: $(DEPS)/.done
$(DEPS)/.done: toolchain/deps.sh
	sh toolchain/deps.sh

# ---- BearSSL, built once per target from the verified Debian tarball
$(BEARSSL): | $(DEPS)/.done
	@mkdir -p $(B)/bearssl
	@echo "  BEARSSL $(TARGET)"
	$(Q)$(MAKE) -s -C $(DEPS)/bearssl-src BUILD=$(CURDIR)/$(B)/bearssl \
		CC="$(CC)" AR="$(AR)" CFLAGS="$(BR_CFLAGS)" lib >$(B)/bearssl/build.log 2>&1 \
		|| { cat $(B)/bearssl/build.log; exit 1; }

# ---- our objects
$(B)/obj/%.o: %.c | $(DEPS)/.done
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $(TARGET) $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# the build id lives in one generated header, rewritten only when it changes
$(B)/gen/build.h: FORCE
	@mkdir -p $(@D); id=$$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown); \
	git diff --quiet HEAD -- 2>/dev/null || id="$$id-dirty"; \
	printf '#define DMQTT_VERSION "%s"\n#define DMQTT_TRIPLE "%s"\n#define DMQTT_BEARSSL_VERSION "%s"\n#define DMQTT_BUILD_ID "%s"\n' \
		'$(VERSION)' '$(TRIPLE)' '$(BEARSSL_VERSION)' "$$id" >$@.tmp; \
	cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(B)/obj/src/version.o: CFLAGS += -I$(B)/gen
$(B)/obj/src/version.o: $(B)/gen/build.h
FORCE:

# ---- link layout of the release binary (targets with LTO)
#
# The kernel maps a file's pages in 64 KiB "fault-around" windows, so every
# window of the static binary that a process touches is resident, whole.
# `dmqtt sub` and `dmqtt pub` run a small part of the program: the objects
# below and some of the C library.  Their code and read-only data go first,
# together, right after .init and _start, with .fini (run at exit), so a
# plain `dmqtt sub` touches one 64 KiB window of the file instead of all of
# them (docs/mqtt.md, "Memory").  Their read-only data (~7 KiB) is thus in
# the executable segment, as all of it was before -z separate-code.  LTO would mix these objects with
# everything else (its partitions follow no input order), so they are
# compiled without it, and without merging their strings with the rest's
# (-fno-merge-constants), which would move strings they use elsewhere.
# libc members the client never calls (sorting, processes, time, threads,
# files) stay out of the cluster so that it fits the first window.
CLIENT_SRC := src/main.c src/cmd_sub.c src/connopt.c src/mqttc.c proto/mqtt.c \
	proto/mqtt_codec.c platform/net.c src/cli.c platform/fmt.c platform/log.c \
	platform/clock.c platform/proc.c proto/utf8.c
CLIENT_OBJ := $(call obj,$(CLIENT_SRC))
LIBC_COLD  := abort accept4 chown closedir execvp fchmod fchown fork _Fork fstat fstatat \
	fsync geteuid getrlimit gmtime_r kill memrchr mkdir mremap ntohl opendir \
	posix_spawn procfdname pthread_cleanup_push pthread_rwlock_timedwrlock \
	pthread_rwlock_unlock pthread_testcancel putchar puts qsort qsort_nr raise readdir \
	realloc rename __secs_to_tm sem_destroy sem_init sem_post sem_timedwait \
	sem_trywait sem_wait setrlimit shutdown stat stpcpy strcat strcpy strerror \
	strrchr strstr synccall syscall time __timedwait __tm_to_secs unlink
ifneq ($(T_LTO),)
$(CLIENT_OBJ): CFLAGS := $(filter-out $(T_LTO),$(CFLAGS)) -fno-merge-constants
$(CLIENT_OBJ): Makefile
LAYOUT    := $(B)/layout.ld
LAYOUT_LD := -Wl,-T,$(LAYOUT)
endif
# the client objects first on the command line
LINK_OBJ := $(CLIENT_OBJ) $(filter-out $(CLIENT_OBJ),$(B)/obj/src/main.o $(LIB_OBJ))
LIBC_HOT := EXCLUDE_FILE($(foreach m,$(LIBC_COLD),*libc.a:$(m).lo)) *libc.a:*

$(B)/layout.ld: Makefile
	@mkdir -p $(@D)
	@{ echo '/* generated by the Makefile: see "link layout" there */'; \
	echo 'SECTIONS {'; \
	echo '  .text.client : {'; \
	echo '    *crt1.o(.text .text.*) *crtbegin*.o(.text .text.*) *crtend*.o(.text .text.*)'; \
	echo '    *(.text.exit .text.exit.*) *(.text.startup .text.startup.*)'; \
	for o in $(CLIENT_OBJ); do echo "    $$o(.text .text.*)"; done; \
	echo '    $(LIBC_HOT)(.text .text.*)'; \
	echo '    KEEP(*(SORT_NONE(.fini)))'; \
	echo '  }'; \
	echo '  .rodata.client : {'; \
	for o in $(CLIENT_OBJ); do echo "    $$o(.rodata .rodata.*)"; done; \
	echo '    $(LIBC_HOT)(.rodata .rodata.*)'; \
	echo '  }'; \
	echo '} INSERT BEFORE .text;'; } >$@.tmp && mv $@.tmp $@

$(B)/dmqtt: $(LINK_OBJ) $(BEARSSL) $(LAYOUT)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(LAYOUT_LD) -o $@ $(LINK_OBJ) $(BEARSSL)
ifndef NOSTRIP
	$(STRIP) --strip-all $@
endif

# dmqtt-client: pub, sub and tls only (DMQTT_CLIENT_ONLY in src/main.c),
# from the same objects; the TLS stage's size budget is measured on it
client: $(B)/dmqtt-client
$(B)/obj/src/main-client.o: src/main.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $(TARGET) $< (client only)")
	$(Q)$(CC) $(CFLAGS) -DDMQTT_CLIENT_ONLY -c -o $@ $<
$(B)/dmqtt-client: $(B)/obj/src/main-client.o $(LIB_OBJ) $(BEARSSL)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^
ifndef NOSTRIP
	$(STRIP) --strip-all $@
endif

# ---- unit tests: one binary per target
unit-bin: $(B)/unit
$(B)/unit: $(call obj,$(UNIT_SRC)) $(LIB_OBJ) $(BEARSSL)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^
$(B)/obj/test/unit/%.o: CFLAGS += -Itest/unit

unit:
	$(MAKE) TARGET=asan unit-bin
	build/asan/unit

# ---- fuzzing: fuzz/<name>.c -> build/fuzz/<name> (FUZZ_DIR: the fragment's)
fuzz-bins: $(FUZZ_BIN)
$(FUZZ_DIR)/%: $(B)/obj/fuzz/%.o $(LIB_OBJ) $(BEARSSL)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) TARGET=fuzz fuzz-bins
	sh test/fuzz.sh run $(FUZZ_SECONDS)

# every harness over its corpus: libFuzzer's cov/ft and llvm-cov line
# coverage of the file it targets, written to docs/fuzzing.md
fuzz-coverage:
	sh test/fuzz.sh coverage

cross:
	$(MAKE) TARGET=aarch64 bin client
	$(MAKE) TARGET=armv7 bin

check:
	sh test/check.sh

lint: $(DEPS)/.done
	sh test/lint.sh

size:
	@$(MAKE) -s bin client cross >/dev/null
	@sh test/size.sh

bench:
	sh test/bench/run.sh

demo: bin
	sh test/demo.sh

SOAK_SECONDS ?= 600
soak: bin
	SOAK_SECONDS=$(SOAK_SECONDS) sh test/integration/soak.sh

clean:
	rm -rf build/x86_64 build/aarch64 build/armv7 build/asan build/fuzz build/fuzzcov build/bench

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
