#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# examples/maclearn.xfsm as an L2 switch: namespace S has three ports
# (s1, s2, s3: ports 1..3) to hosts H1..H3 in one subnet; the datapath
# forwards between them with XDP redirects (no bridge).  Pings between all
# hosts work; the switch has learned each host's MAC on its port; unknown
# destinations were flooded.

. "$(dirname "$0")/lib.sh"

xt_require_root
xt_require_cmd ip nsenter jq ping "$XT_PY"
CTL="$XT_BUILD/xfsmctl"
LOADER="$XT_BUILD/xfsm-loader"
xt_require_file "$CTL" "$LOADER" "$XT_BUILD/xfsm.bpf.o"
xt_bpffs || xt_skip "cannot mount bpffs"

xt_netns_add S
for i in 1 2 3; do
	xt_netns_add "H$i"
	xt_veth "H$i" "h$i" "198.18.40.$i/24" S "s$i" - || { xt_fail veth; xt_done; }
	ip -n "$(xt_ns H$i)" link set h$i address 02:00:00:00:40:0$i
done

INST="xt$XT_ID-l2"
xt_defer "rm -rf '/sys/fs/bpf/xfsm/$INST'"
xt_defer "xt_in S '$LOADER' unload --instance '$INST'"
xt_ok "attach to s1 s2 s3" xt_in S "$LOADER" load --mode skb --instance "$INST" s1 s2 s3 || xt_done
X() { xt_in S "$CTL" --instance "$INST" "$@"; }
xt_ok "apply maclearn" X apply "$XT_TOP/examples/maclearn.xfsm" || xt_done

xt_ok "H1 -> H2 ping" xt_ping H1 198.18.40.2
xt_ok "H1 -> H3 ping" xt_ping H1 198.18.40.3
xt_ok "H3 -> H2 ping" xt_ping H3 198.18.40.2
xt_ok "H2 -> H1 UDP" xt_udp H2 H1 198.18.40.1 7200

flows=$(X -j state list switch)
for i in 1 2 3; do
	port=$(jq -r '.flows[] | select(.key["eth.src"] == "02:00:00:00:40:0'$i'") | .regs[0]' <<<"$flows")
	xt_check "H$i learned on port $i" "$port" = "$i"
done
stats=$(X -j stats)
xt_check "unknown destinations flooded" "$(jq -r '.actions.flood' <<<"$stats")" -ge 1
xt_check "known destinations output" "$(jq -r '.actions.output' <<<"$stats")" -ge 1
xt_done
