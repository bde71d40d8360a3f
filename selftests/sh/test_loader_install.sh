#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# scripts/install.sh (what `make install` runs) lays out binaries, BPF
# objects, the systemd unit and its xfsm-service (with the installed
# paths), the library (shared and static, headers, libxfsm.pc), the example
# configuration, man pages and documentation under DESTDIR.

. "$(dirname "$0")/lib.sh"

xt_require_file "$XT_BUILD/xfsm-loader" "$XT_BUILD/xfsm.bpf.o" "$XT_BUILD/xfsm-offload.bpf.o" \
	"$XT_BUILD/xfsm-compact.bpf.o"
D=$(mktemp -d /tmp/xt-install.XXXXXX)
xt_defer "rm -rf '$D'"

for prefix in /usr/local /usr; do
	rm -rf "${D:?}"/*
	xt_ok "$prefix: install.sh runs" "$XT_TOP/scripts/install.sh" "$D" "$prefix" "$XT_BUILD"
	for f in sbin/xfsm-loader sbin/xfsmctl lib/xfsm/xfsm.bpf.o lib/xfsm/xfsm-offload.bpf.o \
		 lib/xfsm/xfsm-compact.bpf.o \
		 lib/xfsm/xfsm-service lib/systemd/system/xfsm@.service \
		 lib/libxfsm.so.0 lib/libxfsm.so lib/libxfsm.a lib/pkgconfig/libxfsm.pc \
		 include/xfsm/libxfsm.h include/xfsm/abi.h \
		 share/man/man8/xfsm-loader.8 share/man/man8/xfsmctl.8 share/man/man7/xfsm.7 \
		 share/man/man5/xfsm.xfsm.5 share/doc/xfsm/loader.md share/doc/xfsm/libxfsm.md \
		 share/xfsm/examples/controller.c; do
		xt_check "$prefix: $f installed" -e "$D$prefix/$f"
	done
	xt_check "$prefix: xfsm-loader is executable" -x "$D$prefix/sbin/xfsm-loader"
	xt_check "$prefix: xfsm-service is executable" -x "$D$prefix/lib/xfsm/xfsm-service"
	xt_check "$prefix: example configuration in /etc/xfsm" -e "$D/etc/xfsm/xfsm.conf.example"
	unit=$(cat "$D$prefix/lib/systemd/system/xfsm@.service" 2>/dev/null)
	for cmd in start reload stop; do
		xt_match "$prefix: the unit's $cmd runs the installed xfsm-service" \
			"^Exec[A-Z][a-z]*=$prefix/lib/xfsm/xfsm-service $cmd %i\$" "$unit"
	done
	xt_match "$prefix: unit needs /etc/xfsm/<instance>.conf" "^ConditionPathExists=/etc/xfsm/%i.conf" "$unit"
	svc=$(cat "$D$prefix/lib/xfsm/xfsm-service" 2>/dev/null)
	xt_match "$prefix: xfsm-service runs the installed tools" "SBIN=\\\$\\{XFSM_SBINDIR:-$prefix/sbin\\}" "$svc"
	xt_match "$prefix: xfsm-service reads /etc/xfsm" "CONF_DIR=\\\$\\{XFSM_CONF_DIR:-/etc/xfsm\\}" "$svc"
	for f in lib/systemd/system/xfsm@.service lib/xfsm/xfsm-service lib/pkgconfig/libxfsm.pc \
		 etc/xfsm/xfsm.conf.example; do
		[ "$f" = etc/xfsm/xfsm.conf.example ] && p="$D/$f" || p="$D$prefix/$f"
		xt_check "$prefix: no placeholder left in $f" "$(grep -c '@[A-Z][A-Z]*@' "$p")" = 0
	done
	xt_check "$prefix: libxfsm.so.0 is a link to the versioned file" \
		"$(readlink "$D$prefix/lib/libxfsm.so.0")" = "libxfsm.so.$(. "$XT_BUILD/libxfsm.vars"; echo "$LIBXFSM_VERSION")"
	xt_check "$prefix: libxfsm.pc names the prefix" \
		"$(sed -n 's/^prefix=//p' "$D$prefix/lib/pkgconfig/libxfsm.pc")" = "$prefix"
	xt_ok "$prefix: installed loader runs" "$D$prefix/sbin/xfsm-loader" help
done
xt_done
