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

$(B)/dmqtt: $(B)/obj/src/main.o $(LIB_OBJ) $(BEARSSL)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^
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
