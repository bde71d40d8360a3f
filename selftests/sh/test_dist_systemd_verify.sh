#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# `systemd-analyze verify` on the installed unit (an instance of it, with
# the installed xfsm-service and man pages, which it checks exist): no
# message at all.  Skips where systemd-analyze is missing (the VM guest);
# it needs no running systemd.

. "$(dirname "$0")/lib.sh"

xt_require_cmd systemd-analyze man
xt_require_file "$XT_BUILD/libxfsm.vars" "$XT_BUILD/xfsm-loader"

D=$(mktemp -d /tmp/xt-sdv.XXXXXX)
xt_defer "rm -rf '$D'"
xt_ok "install.sh into $D" "$XT_TOP/scripts/install.sh" "" "$D" "$XT_BUILD" || xt_done
mkdir -p "$D/units"
cp "$D/lib/systemd/system/xfsm@.service" "$D/units/xfsm@lab.service"
out=$(cd "$D/units" && MANPATH="$D/share/man" systemd-analyze verify ./xfsm@lab.service 2>&1)
rc=$?
xt_check "systemd-analyze verify xfsm@lab.service: exit 0" $rc = 0
xt_check "systemd-analyze verify xfsm@lab.service: no message" -z "$out" ||
	printf '%s\n' "$out" | sed 's/^/    /'
xt_done
