# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsmctl and the xfsm language: `make check-examples` compiles every
# examples/*.xfsm with `xfsmctl apply --dry-run` (no datapath needed).

.PHONY: check-examples

check-examples: $(BUILD)/xfsmctl
	$(Q)for f in examples/*.xfsm; do \
		$(BUILD)/xfsmctl apply --dry-run "$$f" >/dev/null || exit 1; \
		printf '  %-8s %s\n' OK "$$f"; \
	done
