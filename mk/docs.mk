# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# make docs: the state machine of every stateful stage of every example,
# drawn by `xfsmctl show fsm STAGE --dot --app FILE` and Graphviz into
# docs/img/APP-STAGE.svg.  The pictures are committed, so that
# docs/language.md shows them wherever it is read; rerun after changing an
# example.

DOC_EXAMPLES := $(wildcard examples/*.xfsm)

docs: $(BUILD)/xfsmctl
	$(Q)command -v dot >/dev/null || { echo "make docs needs Graphviz (make deps)" >&2; exit 1; }
	$(Q)mkdir -p docs/img
	$(Q)set -e; for f in $(DOC_EXAMPLES); do \
		app=$$(basename $$f .xfsm); \
		stages=$$($(BUILD)/xfsmctl -j apply --dry-run $$f | \
			jq -r '.stages[] | select(has("lookup_key")) | .name'); \
		for s in $$stages; do \
			$(BUILD)/xfsmctl show fsm $$s --dot --app $$f > $(BUILD)/fsm.dot; \
			dot -Tsvg $(BUILD)/fsm.dot -o docs/img/$$app-$$s.svg; \
			echo "  SVG      docs/img/$$app-$$s.svg"; \
		done; \
	done

.PHONY: docs
