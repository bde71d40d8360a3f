#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsmctl -i IFACE on a datapath attached by iproute2 alone (`ip link set
# dev IF xdpgeneric obj build/xfsm.bpf.o sec xdp`, no loader, no pins): the
# maps are found through the interface's XDP program; apply, show, state
# and stats work; port knocking behaves as with the loader.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

LOADER=/nonexistent	# force the iproute2 path of ctl_setup
ctl_setup
out=$(X show 2>&1)
case "$out" in
*"has no map xfsm_"*)
	# The program only holds the maps its code uses; a map that only user
	# space touches is not reachable from the program id.
	xt_skip "the datapath program does not reference every map, -i cannot find them: $out" ;;
esac
xt_ok "xfsmctl -i b0 apply" X apply "$XT_TOP/examples/portknock.xfsm" || xt_done
xt_match "show through the program id" "^app portknock" "$(X show app)"
ctl_listen 22
xt_nok "TCP 22 refused" ctl_connect 22
for p in 1111 2222 3333 4444; do ctl_udp_send $p; done
xt_ok "TCP 22 accepted after knocking" ctl_connect 22
xt_match "state list by name" "ip.src=$CLI +state open" "$(X state list knock)"
xt_match "stats" "counter opened: packets 1 " "$(X stats)"
xt_done
