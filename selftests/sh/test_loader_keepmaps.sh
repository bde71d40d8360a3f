#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsm-loader unload --keep-maps detaches an instance but keeps its pins:
# a later load of its interfaces, in any order, gets the same port numbers
# and the same flows (the port-knocking flow stays open, TCP 22 accepted
# without knocking again).  unload --instance NAME IFACE takes an
# interface out of that instance, attached or detached already; an
# interface that is not its port is refused and nothing changes.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

ctl_setup	# A <-> B (a0, b0), instance $INST loaded on b0 by the loader
xt_veth A a1 198.18.21.1/24 B b1 198.18.21.2/24 || { xt_fail "veth a1-b1"; xt_done; }
L() { xt_in B "$LOADER" "$@"; }
xt_ok "load b1 into the instance too" L load --mode skb --instance "$INST" b0 b1
port_of() {
	L status -j | jq -r --arg n "$INST" --arg i "$1" \
		'.instances[] | select(.name == $n) | .ports[] | select(.ifname == $i) |
		 "\(.port) \(.attached)"'
}
attached() { [ -n "$(xt_xfsm_prog_id B "$1")" ]; }
open_flow() { X state list knock | grep -Eq "ip.src=$CLI +state open"; }

ctl_listen 22
# The open state lasts an hour, not 30 s: under emulation (make vmtest)
# each load takes half a minute.
APP=$(mktemp /tmp/xt-keepmaps.XXXXXX)
xt_defer "rm -f '$APP'"
sed 's/hard 30s/hard 1h/' "$XT_TOP/examples/portknock.xfsm" > "$APP"
xt_ok "apply portknock (open for an hour)" X apply "$APP"
for p in 1111 2222 3333 4444; do ctl_udp_send $p; done
xt_ok "knocked: TCP 22 accepted" ctl_connect 22

xt_ok "unload --keep-maps --instance" L unload --keep-maps --instance "$INST"
xt_nok "b0 detached" attached b0
xt_nok "b1 detached" attached b1
xt_check "the pins are kept" -e "/sys/fs/bpf/xfsm/$INST/xfsm_flows"
xt_check "status: b0 is port 1, not attached" "$(port_of b0)" = "1 false"
xt_check "status: b1 is port 2, not attached" "$(port_of b1)" = "2 false"
xt_ok "the flow is kept" open_flow

xt_ok "load again, the interfaces in the other order" L load --mode skb --instance "$INST" b1 b0
xt_check "b0 is port 1 again" "$(port_of b0)" = "1 true"
xt_check "b1 is port 2 again" "$(port_of b1)" = "2 true"
xt_ok "resumed: the flow is open" open_flow
xt_ok "resumed: TCP 22 accepted without knocking" ctl_connect 22

xt_ok "unload --keep-maps b1" L unload --keep-maps b1
xt_nok "b1 detached" attached b1
xt_check "b1 is still port 2" "$(port_of b1)" = "2 false"
xt_ok "unload --instance NAME b1 (a detached port)" L unload --instance "$INST" b1
xt_check "b1 is no port any more" "$(port_of b1)" = ""
xt_ok "b0 still runs the instance" attached b0
# this instance only: other suites may load and unload theirs meanwhile
inst_status() { L status -j | jq -c --arg i "$INST" '.instances[] | select(.name == $i)'; }
snap=$(inst_status)
out=$(L unload --instance "$INST" b1 2>&1)
xt_check "unload --instance NAME of a non-port fails" $? -ne 0
xt_match "... saying so" "b1 is not a port of instance '$INST'" "$out"
xt_check "... and changes nothing" "$(inst_status)" = "$snap"
xt_nok "unload of an interface that runs nothing still fails" L unload b1

xt_ok "unload --instance NAME" L unload --instance "$INST"
xt_check "the pins are removed" ! -e "/sys/fs/bpf/xfsm/$INST"
xt_done
