# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# `make bench-micro`: ns per packet through BPF_PROG_TEST_RUN, each xfsm job
# next to its hand-written reference (bench/ref/) measured alternately in
# the same run, CPU scaling, the per-component breakdown and the
# specialized program's parts (-o specbreak: generated with parts left out,
# lib/xfsm_spec.h XFSM_SPEC_OMIT_*) (bench/micro.c).  BENCH_MICRO_ARGS
# passes options, e.g. "-q" to skip the 1M-flow cases.
#
# The breakdown runs build/bench/xfsm-stopN.bpf.o: the datapath built with
# -DXFSM_BENCH_STOP=N, which ends every packet after phase N
# (enum xfsm_bench_phase in bpf/common.h).  Benchmark objects only.

BENCH_MICRO_ARGS ?=

REF_BPF   := $(patsubst bench/ref/%.bpf.c,$(BUILD)/bench/ref/%.bpf.o,$(wildcard bench/ref/*.bpf.c))
PHASE_BPF := $(foreach n,1 2 3 4 5,$(BUILD)/bench/xfsm-stop$(n).bpf.o)

all: $(REF_BPF) $(PHASE_BPF)

$(BUILD)/bench/ref/%.bpf.o: bench/ref/%.bpf.c bench/ref/ref.h bench/ref/xstats.h $(ABI_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/xfsm-stop%.bpf.o: bpf/xfsm.bpf.c $(BPF_HDRS) $(ABI_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DXFSM_BENCH_STOP=$* -c $< -o $@

# The cost of trace (docs/BENCHMARKS.md): the datapath without the test
# of xfsm_ctl.observe, and one that traces every packet.
OBS_BPF := $(BUILD)/bench/xfsm-noobserve.bpf.o $(BUILD)/bench/xfsm-traceall.bpf.o
all: $(OBS_BPF)

$(BUILD)/bench/xfsm-noobserve.bpf.o: bpf/xfsm.bpf.c $(BPF_HDRS) $(ABI_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DXFSM_BENCH_NO_OBSERVE -c $< -o $@

$(BUILD)/bench/xfsm-traceall.bpf.o: bpf/xfsm.bpf.c $(BPF_HDRS) $(ABI_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DXFSM_BENCH_TRACE -c $< -o $@

# The prelude of a specialized application (docs/BENCHMARKS.md): the
# datapath with its tail call moved to the very top.
TAIL_BPF := $(BUILD)/bench/xfsm-tailfirst.bpf.o
all: $(TAIL_BPF)

$(TAIL_BPF): bpf/xfsm.bpf.c $(BPF_HDRS) $(ABI_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DXFSM_BENCH_TAIL_FIRST -c $< -o $@

# micro.c and refload.c include bench/ref/load.h.
$(BUILD)/bench/micro $(BUILD)/bench/refload: bench/ref/load.h

bench-micro: $(BUILD)/bench/micro $(BUILD)/xfsm.bpf.o $(BUILD)/xdp_empty.bpf.o \
	     $(BUILD)/bench/flowdrv.bpf.o $(REF_BPF) $(PHASE_BPF)
	$(Q)$(BUILD)/bench/micro -b $(BUILD) $(BENCH_MICRO_ARGS)
