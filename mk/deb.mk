# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Debian packages (debian/): xfsm, libxfsm0 and libxfsm-dev.
#
#   make deb		dpkg-buildpackage -us -uc -b on a clean copy of the
#			tree, then lintian (errors fail); results in $(BUILD)/deb
#   make deb-check	make deb, then check the packages: version, contents
#			lists, and an install into a Debian 12 chroot where
#			the installed tools run (selftests/deb/test_deb.sh)
#
# A package build takes minutes, so `make test` does not run it; .ci/run
# runs `make deb-check`.

DEB_DIR := $(BUILD)/deb

.PHONY: deb deb-check

deb: deps
	$(Q)./scripts/mkdeb.sh $(DEB_DIR)

deb-check: deb
	$(Q)XT_BUILD=$(abspath $(BUILD)) bash selftests/deb/test_deb.sh $(DEB_DIR)
