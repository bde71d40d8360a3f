# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsm top-level build.  Everything goes into build/; `make clean` removes it.
# Quiet by default; `make V=1` shows the commands.

VERSION    := 0.1
BUILD      ?= build
CLANG      ?= clang
CC         ?= gcc
BPFTOOL    ?= bpftool
PKG_CONFIG ?= pkg-config
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
DESTDIR    ?=

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:

ARCH_INC   := /usr/include/$(shell uname -m)-linux-gnu
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -Wall -Wextra -Werror \
              -Wno-unused-parameter -Wno-address-of-packed-member \
              -Iinclude -Ibpf -I$(ARCH_INC)
USER_CFLAGS := -g -O2 -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
               -Wno-missing-field-initializers -D_GNU_SOURCE -Iinclude -Ilib \
               $(shell $(PKG_CONFIG) --cflags libnl-3.0 libnl-route-3.0 2>/dev/null) \
               $(CPPFLAGS) $(CFLAGS)
USER_LIBS  := -lbpf -lxdp -lelf -lz \
              $(shell $(PKG_CONFIG) --libs libnl-3.0 libnl-route-3.0 2>/dev/null || echo -lnl-3 -lnl-route-3) \
              -lpthread -lm $(LDLIBS)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm)

ABI_HDRS   := $(wildcard include/xfsm/*.h)
BPF_HDRS   := $(wildcard bpf/*.h)
LIB_SRCS   := $(wildcard lib/*.c lib/lang/*.c lib/codegen/*.c lib/spec/*.c)
LIB_HDRS   := $(wildcard lib/*.h lib/lang/*.h lib/codegen/*.h lib/spec/*.h)
LIB_OBJS   := $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRCS))
LIBXFSM    := $(BUILD)/libxfsm.a

BPF_OBJS   := $(BUILD)/xfsm.bpf.o $(BUILD)/xfsm-offload.bpf.o $(BUILD)/xfsm-compact.bpf.o \
              $(BUILD)/xdp_empty.bpf.o
TOOLS      := $(if $(wildcard loader/*.c),$(BUILD)/xfsm-loader) \
              $(if $(wildcard ctl/*.c),$(BUILD)/xfsmctl) \
              $(BUILD)/xfsm-offload-check
EXTRA_BINS := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c)) \
              $(patsubst bench/%.c,$(BUILD)/bench/%,$(filter-out bench/%.bpf.c,$(wildcard bench/*.c)))
EXTRA_BPF  := $(patsubst bench/%.bpf.c,$(BUILD)/bench/%.bpf.o,$(wildcard bench/*.bpf.c))

# Check suites: every selftests/test_*.c is one suite binary, linked with the
# shared harness (selftests/harness/*.c).
TEST_SRCS    := $(wildcard selftests/test_*.c)
TEST_BINS    := $(patsubst selftests/%.c,$(BUILD)/selftests/%,$(TEST_SRCS))
HARNESS_SRCS := $(wildcard selftests/harness/*.c)
HARNESS_OBJS := $(patsubst selftests/harness/%.c,$(BUILD)/selftests/harness/%.o,$(HARNESS_SRCS))
SHELL_TESTS  := $(sort $(wildcard selftests/sh/test_*.sh))
# Helpers of the shell suites: selftests/tools/NAME.c is build/selftests/NAME,
# and the programs they place next to xfsm.
TEST_TOOLS   := $(patsubst selftests/tools/%.c,$(BUILD)/selftests/%,$(wildcard selftests/tools/*.c))
TEST_BPF     := $(BUILD)/xdp_pass.bpf.o

.PHONY: all installable clean deps test check-deps install demo bench bench-micro vmtest

# `installable` is what `make install` installs (mk/libxfsm.mk adds the shared
# library and the public headers); `all` adds examples, benchmarks and tests.
all: installable $(EXTRA_BPF) $(EXTRA_BINS) $(TEST_BINS) $(TEST_TOOLS) $(TEST_BPF)
installable: $(BPF_OBJS) $(LIBXFSM) $(TOOLS) $(BUILD)/offload-check.ok

# ---- dependencies --------------------------------------------------------
deps:
	$(Q)./scripts/deps.sh

# ---- BPF ----------------------------------------------------------------
$(BUILD)/xfsm.bpf.o: bpf/xfsm.bpf.c $(BPF_HDRS) $(ABI_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/xfsm-offload.bpf.o: bpf/xfsm.bpf.c $(BPF_HDRS) $(ABI_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DXFSM_OFFLOAD -c $< -o $@

# Compact flow values (struct xfsm_flow_head): the generic program of the
# instances loaded with them (bpf/common.h, flow_value).
$(BUILD)/xfsm-compact.bpf.o: bpf/xfsm.bpf.c $(BPF_HDRS) $(ABI_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DXFSM_COMPACT_FLOWS -c $< -o $@

$(BUILD)/xdp_empty.bpf.o: bpf/xdp_empty.bpf.c | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/xdp_pass.bpf.o: bpf/xdp_pass.bpf.c | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/%.bpf.o: bench/%.bpf.c $(ABI_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# The offload profile must stay inside what SmartNIC offload accepts.
$(BUILD)/offload-check.ok: $(BUILD)/xfsm-offload-check $(BUILD)/xfsm-offload.bpf.o
	$(call msg,CHECK,$(BUILD)/xfsm-offload.bpf.o)
	$(Q)$(BUILD)/xfsm-offload-check $(BUILD)/xfsm-offload.bpf.o
	$(Q)touch $@

# ---- user space -----------------------------------------------------------
$(BUILD)/lib/%.o: lib/%.c $(LIB_HDRS) $(ABI_HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(LIBXFSM): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/xfsm-loader: $(wildcard loader/*.c loader/*.h) $(LIBXFSM)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) -DXFSM_VERSION='"$(VERSION)"' -Iloader $(wildcard loader/*.c) $(LDFLAGS) $(LIBXFSM) $(USER_LIBS) -o $@

$(BUILD)/xfsmctl: $(wildcard ctl/*.c ctl/*.h) $(LIBXFSM)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) -DXFSM_VERSION='"$(VERSION)"' -Ictl $(wildcard ctl/*.c) $(LDFLAGS) $(LIBXFSM) $(USER_LIBS) -o $@

$(BUILD)/xfsm-offload-check: tools/offload_check.c $(ABI_HDRS) | $(BUILD)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) $< $(LDFLAGS) -lbpf -lelf -lz -o $@

# examples/*.c are built by mk/libxfsm.mk, against the public headers only.

$(BUILD)/bench/%: bench/%.c $(LIBXFSM)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) $< $(LIBXFSM) $(USER_LIBS) -o $@

$(BUILD)/selftests/harness/%.o: selftests/harness/%.c $(wildcard selftests/harness/*.h) $(LIB_HDRS) $(ABI_HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -Iselftests/harness -c $< -o $@

$(BUILD)/selftests/test_%: selftests/test_%.c $(HARNESS_OBJS) $(LIBXFSM) $(wildcard selftests/harness/*.h)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -Iselftests/harness $< $(HARNESS_OBJS) $(LIBXFSM) $(USER_LIBS) $(CHECK_LIBS) -o $@

# (the suite of xfsmctl's output helpers builds them in)
$(BUILD)/selftests/test_ctl_print: ctl/print.c ctl/print.h

$(BUILD)/selftests/%: selftests/tools/%.c | $(BUILD)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) $< $(LDFLAGS) $(USER_LIBS) -o $@

$(BUILD):
	$(Q)mkdir -p $@

# The jobs of a build that a target runs as a sub-make (make test, make
# vmtest): one per CPU when the command line gave no -j, each target's
# output printed whole (-Otarget) so that an error is not interleaved with
# another target's lines; nothing when it gave one, whose job server the
# sub-make then shares.  MAKEFLAGS holds -j only in a recipe (make 4.3),
# so this is expanded there.
NPROC      := $(shell nproc 2>/dev/null || echo 1)
build_jobs  = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(NPROC) -Otarget)

# ---- tests ----------------------------------------------------------------
# C suites first (Check prints its own summary per suite), then the shell
# suites through one runner that prints "N passed, N failed"; the shell
# suites include a short fuzzing smoke run (mk/fuzz.mk), whose targets
# `make test` builds and requires.  The build runs one job per CPU unless
# the command line chose (`make -jN test`, `make -j1 test`): serially it
# took a minute of the run on two CPUs, in parallel 40 s.
test: deps
	$(Q)$(MAKE) --no-print-directory $(build_jobs) all fuzz-build
	$(Q)XFSM_FUZZ_REQUIRED=1 ./selftests/run.sh $(BUILD)

# ---- install ----------------------------------------------------------------
install: installable
	$(Q)LIBDIR="$(LIBDIR)" ./scripts/install.sh "$(DESTDIR)" "$(PREFIX)" "$(BUILD)"

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

-include mk/*.mk
