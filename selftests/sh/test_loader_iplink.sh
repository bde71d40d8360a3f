#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# A datapath attached with iproute2 (ip link ... xdp obj) is reported by
# status (found from the interface's program and its maps), is not
# replaced without --force, can be taken over into a pinned instance, and
# is detached by unload.  unload --all, in a private mount namespace.

. "$(dirname "$0")/lib.sh"

xt_require_root
xt_require_cmd ip ping nsenter unshare jq "$XT_PY"
LOADER="$XT_BUILD/xfsm-loader"
OBJ="${XFSM_BPF_DIR:-$XT_BUILD}/xfsm.bpf.o"
xt_require_file "$LOADER" "$OBJ"
xt_bpffs || xt_skip "cannot mount bpffs"

L() { xt_in B "$LOADER" "$@"; }
INST="xt$XT_ID-ip"
DIR="/sys/fs/bpf/xfsm/$INST"
xt_defer "rm -rf '$DIR'"

xt_netns_add A
xt_netns_add B
xt_veth A a0 "198.18.12.1/24 2001:2:0:12::1/64" B b0 "198.18.12.2/24 2001:2:0:12::2/64"
xt_veth A a1 "198.18.13.1/24" B b1 "198.18.13.2/24"

prog_of() { ip -n "$XT_NS_B" -j link show "$1" | jq -r '.[0].xdp.prog.id // 0'; }

xt_ok "ip link attaches the datapath" ip -n "$XT_NS_B" link set dev b0 xdp obj "$OBJ" sec xdp || xt_done
pid=$(prog_of b0)
json=$(L status -j)
q='.instances[] | select(.pinned == false)'
xt_check "status: one unpinned instance" "$(jq -r "[$q] | length" <<<"$json")" = 1
xt_check "status: its name comes from the program" "$(jq -r "$q | .name" <<<"$json")" = "prog-$pid"
xt_check "status: its program id" "$(jq -r "$q | .prog_id" <<<"$json")" = "$pid"
xt_check "status: its interface" "$(jq -r "$q | .ports[0].ifname" <<<"$json")" = b0
xt_check "status: native mode" "$(jq -r "$q | .ports[0].mode" <<<"$json")" = native
xt_check "status: ABI version from its .rodata" "$(jq -r "$q | .abi_version" <<<"$json")" = "$XT_ABI"
xt_check "status: its flow table" \
	"$(jq -r "$q | .tables[] | select(.name == \"xfsm_flows\") | .max_entries" <<<"$json")" = 65536
xt_match "status text" "instance prog-$pid +pins - " "$(L status)"
xt_ok "ip link datapath: ping" xt_ping A 198.18.12.2
xt_ok "ip link datapath: tcp" xt_tcp A B 198.18.12.2 5101
xt_ok "ip link datapath: udp6" xt_udp A B 2001:2:0:12::2 5102

# The control tool finds the same datapath from the interface.
CTL="$XT_BUILD/xfsmctl"
if [ -x "$CTL" ]; then
	out=$(xt_in B "$CTL" -i b0 -j stats 2>&1)
	rx=$(jq -r '.datapath.rx_packets // 0' <<<"$out" 2>/dev/null)
	xt_check "xfsmctl -i b0 stats counts the traffic" "${rx:-0}" -gt 0 ||
		printf '%s\n' "$out"
fi

out=$(L load --instance "$INST" b0 2>&1)
xt_check "load over it without --force fails" $? -ne 0
xt_match "... and says how to replace it" "b0 runs an xfsm datapath that is not pinned \\(program id $pid.*--force" "$out"
xt_check "... and leaves it running" "$(prog_of b0)" = "$pid"
xt_check "... and pins nothing" ! -e "$DIR"

xt_ok "load --force takes it over" L load --force --instance "$INST" b0
xt_check "a new program runs" "$(prog_of b0)" != "$pid"
json=$(L status -j)
xt_check "status: no unpinned instance left" "$(jq -r "[$q] | length" <<<"$json")" = 0
xt_check "status: b0 is port 1 of the pinned instance" \
	"$(jq -r ".instances[] | select(.name == \"$INST\") | .ports[0].port" <<<"$json")" = 1
xt_ok "taken over: ping" xt_ping A 198.18.12.2
xt_ok "unload" L unload b0
xt_check "unload removed the pins" ! -e "$DIR"

xt_ok "ip link attaches again (skb)" ip -n "$XT_NS_B" link set dev b0 xdpgeneric obj "$OBJ" sec xdp
xt_check "status: skb mode" \
	"$(L status -j | jq -r "$q | .ports[0].mode")" = skb
xt_ok "unload detaches an ip-link datapath" L unload b0
xt_check "nothing left on b0" "$(prog_of b0)" = 0
xt_ok "after unload: ping" xt_ping A 198.18.12.2

# unload --all, with a bpffs of our own so that other instances on this
# machine are out of reach.
out=$(xt_in B unshare -m sh -c "
	mount -t bpf bpf /sys/fs/bpf || exit 9
	'$LOADER' -q load --instance one b0 || exit 10
	'$LOADER' -q load --instance two --mode skb b1 || exit 11
	ip link set dev lo xdpgeneric obj '$OBJ' sec xdp || exit 12
	'$LOADER' status -j | jq -r '.instances | length' || exit 13
	'$LOADER' unload --all >/dev/null || exit 14
	ls /sys/fs/bpf/xfsm | wc -l
	'$LOADER' status -j | jq -r '.instances | length'
" 2>&1)
xt_check "unload --all: ran" $? -eq 0 || printf '%s\n' "$out"
xt_check "unload --all: three datapaths before, no pins, none after" \
	"$(echo $out)" = "3 0 0"
xt_check "unload --all: b0 detached" "$(prog_of b0)" = 0
xt_check "unload --all: b1 detached" "$(prog_of b1)" = 0
xt_check "unload --all: lo detached" "$(prog_of lo)" = 0

xt_done
