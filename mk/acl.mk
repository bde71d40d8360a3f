# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# `make bench-acl`: the ACL module's per-packet cost at 100, 1000 and 10k
# ClassBench rules through BPF_PROG_TEST_RUN (selftests/test_acl.c bench;
# the sets are read from $XFSM_CLASSBENCH, else ../shared/classbench beside
# the tree; a set that is missing is named and skipped, the generated sets
# always run).

.PHONY: bench-acl

bench-acl: $(BUILD)/selftests/test_acl $(BUILD)/xfsm.bpf.o
	$(Q)XFSM_BUILD=$(BUILD) $(BUILD)/selftests/test_acl bench
