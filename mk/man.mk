# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Man pages: man/*.[0-9] are written by hand; xfsm.xfsm(5) is generated from
# docs/language.md (scripts/md2man.py), so the page and the document are
# one text.  scripts/install.sh installs both kinds, with the installed
# paths filled in; selftests/sh/test_man.sh lints them and checks that
# every command and option of the tools' --help is in their page.

MAN_DATE := $(shell date -u -d "@$${SOURCE_DATE_EPOCH:-$$(date +%s)}" +%F)
GEN_MANS := $(BUILD)/man/xfsm.xfsm.5

installable: $(GEN_MANS)

$(BUILD)/man/xfsm.xfsm.5: docs/language.md scripts/md2man.py | $(BUILD)
	$(call msg,MAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)python3 scripts/md2man.py --name xfsm.xfsm --section 5 \
		--title "the xfsm application language" --date $(MAN_DATE) \
		--source "xfsm $(VERSION)" --manual "File Formats" \
		--see-also "xfsmctl(8), xfsm(7), xfsm-loader(8)" $< $@
