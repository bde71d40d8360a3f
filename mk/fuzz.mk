# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Fuzzing (selftests/fuzz/): libFuzzer targets for the language compiler,
# the ACL parser and classifier, packets through the datapath, and the
# differential test of the generic and the specialized datapath
# (fuzz_spec_diff: generated applications and packets), built
# with clang, ASan and UBSan into $(BUILD)/fuzz/ (libxfsm rebuilt there
# with the sanitizers and coverage).
#
#   make fuzz [FUZZ_TIME=S] [FUZZ_TARGETS=fuzz_lang,...]
#	run each target for S seconds (default 300) on a working corpus in
#	$(BUILD)/fuzz/corpus/ seeded from selftests/fuzz/corpus/; a crash is
#	saved in $(BUILD)/fuzz/artifacts/ and fails the run
#   make fuzz-smoke	replay the checked-in corpus and fuzz a few seconds
#			each (part of `make test`, well under a minute)
#   make fuzz-build	build the targets only

FUZZ_CC    ?= clang
FUZZ_BUILD := $(BUILD)/fuzz
FUZZ_TIME  ?= 300
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -Werror \
               -Wno-unused-parameter -Wno-missing-field-initializers -D_GNU_SOURCE \
               -Iinclude -Ilib -Iselftests/harness $(FUZZ_SAN) \
               $(shell $(PKG_CONFIG) --cflags libnl-3.0 libnl-route-3.0 2>/dev/null)
FUZZ_LIB_OBJS := $(patsubst lib/%.c,$(FUZZ_BUILD)/lib/%.o,$(LIB_SRCS))
FUZZ_HARNESS  := $(patsubst %,$(FUZZ_BUILD)/harness/%.o,bpf pkt diff gen_app gen_pkt golden xt_assert)
FUZZ_BINS     := $(patsubst selftests/fuzz/%.c,$(FUZZ_BUILD)/%,$(wildcard selftests/fuzz/fuzz_*.c))

.PHONY: fuzz fuzz-build fuzz-smoke

fuzz-build: $(FUZZ_BINS)

$(FUZZ_BUILD)/lib/%.o: lib/%.c $(LIB_HDRS) $(ABI_HDRS) | $(BUILD)
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/harness/%.o: selftests/harness/%.c $(wildcard selftests/harness/*.h) $(LIB_HDRS) $(ABI_HDRS) | $(BUILD)
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: selftests/fuzz/fuzz_%.c selftests/fuzz/fuzz.h $(FUZZ_LIB_OBJS) $(FUZZ_HARNESS)
	$(call msg,FUZZLD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB_OBJS) $(FUZZ_HARNESS) \
		$(USER_LIBS) -o $@

fuzz: fuzz-build $(BUILD)/xfsm.bpf.o
	$(Q)FUZZ_TIME=$(FUZZ_TIME) FUZZ_TARGETS="$(FUZZ_TARGETS)" ./selftests/fuzz/run.sh run $(BUILD)

fuzz-smoke: fuzz-build $(BUILD)/xfsm.bpf.o
	$(Q)./selftests/fuzz/run.sh smoke $(BUILD)
