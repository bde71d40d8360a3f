# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Tests of the offload-profile checker (tools/offload_check.c): small BPF
# objects under selftests/offload/, ok*.bpf.c inside the profile and
# bad_*.bpf.c each stepping outside it in one way, built into
# $(BUILD)/selftests/offload/.  selftests/sh/test_offload_check.sh builds
# them with `make -s offload-test-objs` and checks the checker's verdicts;
# `make offload-check-test` runs it.

OFFLOAD_TEST_SRCS := $(wildcard selftests/offload/*.bpf.c)
OFFLOAD_TEST_OBJS := $(patsubst selftests/offload/%.bpf.c,$(BUILD)/selftests/offload/%.bpf.o,$(OFFLOAD_TEST_SRCS))

.PHONY: offload-test-objs offload-check-test

offload-test-objs: $(OFFLOAD_TEST_OBJS)

$(BUILD)/selftests/offload/%.bpf.o: selftests/offload/%.bpf.c mk/offload.mk | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

offload-check-test: $(BUILD)/xfsm-offload-check offload-test-objs
	$(Q)BUILD=$(BUILD) ./selftests/sh/test_offload_check.sh
