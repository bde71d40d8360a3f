# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# xfsm-loader: the installed loader finds the BPF objects in $(PREFIX)/lib/xfsm.
$(BUILD)/lib/attach.o: USER_CFLAGS += -DXFSM_LIBDIR='"$(PREFIX)/lib/xfsm"'

.PHONY: test-loader
test-loader: all
	$(Q)for t in selftests/sh/test_loader_*.sh; do \
		BUILD=$(BUILD) bash $$t || exit 1; done
