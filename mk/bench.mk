# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# `make bench`: the traffic benchmark of issue 6 (bench/run-bench.sh):
# xfsm-pktgen in a generator netns sends over a veth into a device-under-
# test netns running xfsm, a bare XDP drop, nftables or iptables; the rates
# the DUT absorbs go to docs/BENCHMARKS.md and build/bench/results.json.
# BENCH_ARGS passes options to run-bench.sh (e.g. "--repeats 5 --quick").
#
# build/xfsm-pktgen is the generator (bench/pktgen.c + bench/pktgen.bpf.c).

BENCH_ARGS ?=

all: $(BUILD)/xfsm-pktgen

$(BUILD)/xfsm-pktgen: $(BUILD)/bench/pktgen $(BUILD)/bench/pktgen.bpf.o
	$(call msg,LN,$@)
	$(Q)ln -sf bench/pktgen $@

bench: all $(BUILD)/bench/micro
	$(Q)./bench/run-bench.sh --build $(BUILD) $(BENCH_ARGS)
