#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsm-loader attach and detach in native and skb modes, with ping, UDP and
# TCP before, during (no application: the datapath passes everything) and
# after; pins, status -j, unload removing pins; a load from inside
# `ip netns exec` (fresh /sys: the loader mounts bpffs itself).

. "$(dirname "$0")/lib.sh"

xt_require_root
xt_require_cmd ip ping nsenter jq stat "$XT_PY"
LOADER="$XT_BUILD/xfsm-loader"
xt_require_file "$LOADER" "${XFSM_BPF_DIR:-$XT_BUILD}/xfsm.bpf.o"
xt_bpffs || xt_skip "cannot mount bpffs"

L() { local ns=$1; shift; xt_in "$ns" "$LOADER" "$@"; }

xt_netns_add A
xt_netns_add B
xt_veth A a0 "198.18.10.1/24 2001:2:0:10::1/64" B b0 "198.18.10.2/24 2001:2:0:10::2/64"

traffic() {
	xt_ok "$1: ping" xt_ping A 198.18.10.2
	xt_ok "$1: ping6" xt_ping A 2001:2:0:10::2
	xt_ok "$1: udp" xt_udp A B 198.18.10.2 5001
	xt_ok "$1: tcp" xt_tcp A B 198.18.10.2 5002
	xt_ok "$1: tcp6" xt_tcp A B 2001:2:0:10::2 5003
}

traffic "before attach"

for mode in native skb; do
	inst="xt$XT_ID-$mode"
	dir="/sys/fs/bpf/xfsm/$inst"
	xt_defer "rm -rf '$dir'"

	xt_ok "$mode: load" L B load --mode "$mode" --instance "$inst" b0 || continue
	# iproute2 JSON: xdp.mode 1 is driver (native), 2 generic (skb).
	link=$(ip -n "$XT_NS_B" -j link show b0)
	want=1
	[ "$mode" = skb ] && want=2
	# Alone, or as a component of libxdp's dispatcher where the kernel
	# lets libxdp load one (xfsm-loader features: dispatcher).
	xt_check "$mode: xfsm_xdp attached" -n "$(xt_xfsm_prog_id B b0)"
	xt_check "$mode: attached in $mode mode" "$(jq -r '.[0].xdp.mode' <<<"$link")" = "$want"
	xt_check "$mode: pin directory has mode 0700" "$(stat -c %a "$dir" 2>/dev/null)" = 700
	for pin in prog xfsm_rodata xfsm_flows xfsm_ports xfsm_tx_ports xfsm_ctl xfsm_apps xfsm_rules; do
		[ -e "$dir/$pin" ] || xt_fail "$mode: pin $pin missing"
	done
	xt_check "$mode: pins present" -e "$dir/xfsm_rodata"

	traffic "$mode attached"

	json=$(L B status -j)
	xt_ok "$mode: status -j is valid JSON" jq -e . <<<"$json"
	q=".instances[] | select(.name == \"$inst\")"
	xt_check "$mode: status pin_dir" "$(jq -r "$q.pin_dir" <<<"$json")" = "$dir"
	xt_check "$mode: status pinned" "$(jq -r "$q.pinned" <<<"$json")" = true
	xt_check "$mode: status abi_version" "$(jq -r "$q.abi_version" <<<"$json")" = "$XT_ABI"
	xt_check "$mode: status port ifname" "$(jq -r "$q.ports[0].ifname" <<<"$json")" = b0
	xt_check "$mode: status port number" "$(jq -r "$q.ports[0].port" <<<"$json")" = 1
	xt_check "$mode: status mode" "$(jq -r "$q.ports[0].mode" <<<"$json")" = "$mode"
	xt_check "$mode: status attached" "$(jq -r "$q.ports[0].attached" <<<"$json")" = true
	pid=$(xt_xfsm_prog_id B b0)
	xt_check "$mode: status prog id matches the running xfsm_xdp" \
		"$(jq -r "$q.ports[0].prog_id" <<<"$json")" = "$pid"
	disp=false
	[ "$(xt_xdp_progs B b0 | head -n1 | cut -d' ' -f1)" = xdp_dispatcher ] && disp=true
	xt_check "$mode: status tells whether a dispatcher holds it" \
		"$(jq -r "$q.ports[0].dispatcher" <<<"$json")" = "$disp"
	xt_check "$mode: status flow table" "$(jq -r "$q.flow_table" <<<"$json")" = lru
	xt_check "$mode: status flows fill level" \
		"$(jq -r "$q.tables[] | select(.name == \"xfsm_flows\") | .max_entries" <<<"$json")" = 65536
	xt_match "$mode: text status names the interface" "port 1 +b0 .*$mode" "$(L B status)"

	xt_ok "$mode: unload" L B unload b0
	xt_check "$mode: unload removed the pins" ! -e "$dir"
	xt_nok "$mode: no XDP program left" sh -c "ip -n '$XT_NS_B' link show b0 | grep -q prog/xdp"
	traffic "$mode detached"
done

# Inside `ip netns exec`, /sys is fresh and has no bpffs: the loader mounts
# it.  Those pins die with that mount namespace; the attachment stays
# and is found (unpinned) by status, and removed by unload.
inst="xt$XT_ID-ipns"
out=$(xt_in_ipns B "$LOADER" load --mode skb --instance "$inst" b0 2>&1)
xt_check "load inside ip netns exec (bpffs mounted by the loader)" $? -eq 0 ||
	printf '%s\n' "$out"
xt_match "it says it mounted bpffs" "mounted bpffs" "$out"
traffic "attached from ip netns exec"
xt_check "status shows the unpinned datapath" \
	"$(L B status -j | jq -r '.instances[] | select(.pinned == false) | .ports[0].ifname')" = b0
xt_ok "unload of the unpinned datapath" L B unload b0
xt_nok "no XDP program left" sh -c "ip -n '$XT_NS_B' link show b0 | grep -q prog/xdp"

xt_done
