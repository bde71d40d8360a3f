# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# The selftests inside a qemu guest on a Debian kernel (docs/testing.md).
#
#   make vmtest [KERNEL=6.1] [TESTS=pattern]	every suite in the guest
#   make vmtest-selftest			the runner's own tests (tiny guests)
#   make vmtest-kernel [KERNEL=...]		fetch and unpack a kernel only
#
# `make vmtest` first runs the runner's own tests (a few seconds of tiny
# guests: a failing, a panicking and a hung guest must fail), then the
# suites in the guest; it prints the guest's summary lines and exits with
# the guest's status.  Kernels and logs are kept in $(BUILD)/vmtest/.
#
# VMTEST_TIMEOUT (seconds, default 3000), VMTEST_MEM (MiB, 2048),
# VMTEST_SMP (2), VMTEST_ACCEL (tcg), VMTEST_SKIP, VMTEST_CMD, VMTEST_VERBOSE:
# see scripts/vmtest/run.sh.

KERNEL ?= 6.1

.PHONY: vmtest vmtest-deps vmtest-selftest vmtest-kernel vmtest-run

vmtest-deps: deps
	$(Q)./scripts/vmtest/deps.sh

vmtest-kernel: vmtest-deps
	$(Q)./scripts/vmtest/kernel.sh $(BUILD)/vmtest/kernels $(KERNEL)

vmtest-selftest: vmtest-deps
	$(Q)VMTEST_SELFTEST=1 BUILD=$(BUILD) KERNEL=$(KERNEL) bash selftests/sh/test_vmtest.sh

vmtest-run: vmtest-deps
	$(Q)$(MAKE) --no-print-directory $(build_jobs) all
	$(Q)KERNEL=$(KERNEL) ./scripts/vmtest/run.sh $(BUILD)

# The runner's tests first: a runner that cannot tell a failing guest from a
# passing one must not report the suites.
# VMTEST_SELFCHECK=0 leaves them out.
VMTEST_SELFCHECK ?= 1

vmtest: vmtest-deps
ifneq ($(VMTEST_SELFCHECK),0)
	$(Q)$(MAKE) --no-print-directory vmtest-selftest
endif
	$(Q)$(MAKE) --no-print-directory vmtest-run
