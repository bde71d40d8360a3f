# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# `make demo`: install dependencies, build, and run the port-knocking demo.
demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./scripts/demo.sh $(BUILD)
