# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# `make bench-micro`: ns per packet through BPF_PROG_TEST_RUN, each figure
# next to the empty XDP program measured in the same run (bench/micro.c).
# BENCH_MICRO_ARGS passes options, e.g. "-q" to skip the 1M-flow case.

BENCH_MICRO_ARGS ?=

bench-micro: $(BUILD)/bench/micro $(BUILD)/xfsm.bpf.o $(BUILD)/xdp_empty.bpf.o
	$(Q)$(BUILD)/bench/micro -b $(BUILD) $(BENCH_MICRO_ARGS)
