#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# scripts/install.sh (what `make install` runs) lays out binaries, BPF
# objects, the systemd unit (with the installed paths), the example
# configuration, man pages and documentation under DESTDIR.

. "$(dirname "$0")/lib.sh"

xt_require_file "$XT_BUILD/xfsm-loader" "$XT_BUILD/xfsm.bpf.o" "$XT_BUILD/xfsm-offload.bpf.o"
D=$(mktemp -d /tmp/xt-install.XXXXXX)
xt_defer "rm -rf '$D'"

for prefix in /usr/local /usr; do
	rm -rf "${D:?}"/*
	xt_ok "$prefix: install.sh runs" "$XT_TOP/scripts/install.sh" "$D" "$prefix" "$XT_BUILD"
	for f in sbin/xfsm-loader lib/xfsm/xfsm.bpf.o lib/xfsm/xfsm-offload.bpf.o \
		 lib/systemd/system/xfsm@.service share/man/man8/xfsm-loader.8 \
		 share/doc/xfsm/loader.md; do
		xt_check "$prefix: $f installed" -e "$D$prefix/$f"
	done
	xt_check "$prefix: xfsm-loader is executable" -x "$D$prefix/sbin/xfsm-loader"
	xt_check "$prefix: example configuration in /etc/xfsm" -e "$D/etc/xfsm/xfsm.conf.example"
	unit=$(cat "$D$prefix/lib/systemd/system/xfsm@.service" 2>/dev/null)
	xt_match "$prefix: unit runs the installed loader" "^ExecStart=$prefix/sbin/xfsm-loader load --instance %i" "$unit"
	xt_match "$prefix: unit applies the configured application" "xfsmctl --instance %i apply" "$unit"
	xt_match "$prefix: unit reads /etc/xfsm/<instance>.conf" "^EnvironmentFile=/etc/xfsm/%i.conf" "$unit"
	xt_check "$prefix: no placeholder left" "$(grep -c @SBINDIR@ <<<"$unit")" = 0
	if command -v man >/dev/null; then
		xt_ok "$prefix: man page renders" sh -c "MANWIDTH=80 man -l '$D$prefix/share/man/man8/xfsm-loader.8' >/dev/null 2>&1"
	fi
	xt_ok "$prefix: installed loader runs" "$D$prefix/sbin/xfsm-loader" help
done
xt_done
