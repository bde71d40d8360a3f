#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# An instance's ports are interfaces of the network namespace it was
# loaded in, which its pins record.  Asked from another namespace, where
# the same ifindexes are other interfaces:
#  - status and xfsmctl port show name the instance's interfaces, and say
#    which namespace they are in; port sync reads their link state there;
#  - unload --instance detaches the program there (not: pins removed and
#    the program left running unpinned);
#  - load into the instance is refused, naming the namespace;
#  - unload --all leaves it alone;
#  - an unnamed namespace is found through a process in it; once it is gone,
#    status says so and unload refuses without --force.

. "$(dirname "$0")/lib.sh"

xt_require_root
xt_require_cmd ip nsenter unshare jq bpftool
LOADER="$XT_BUILD/xfsm-loader"
CTL="$XT_BUILD/xfsmctl"
xt_require_file "$LOADER" "$CTL" "${XFSM_BPF_DIR:-$XT_BUILD}/xfsm.bpf.o"
xt_bpffs || xt_skip "cannot mount bpffs"

ROOT="/sys/fs/bpf/xt$XT_ID-netns"
export XFSM_PIN_ROOT="$ROOT"
xt_defer "rm -rf '$ROOT'"
I="xt$XT_ID-n"

xt_netns_add A
xt_netns_add B
xt_netns_add C
# Both ends get ifindex 77 (and in C, 77 is a third interface): the port's
# ifindex names an interface in every namespace.
ip link add a0 index 77 netns "$XT_NS_A" type veth peer name b0 index 77 netns "$XT_NS_B"
ip -n "$XT_NS_A" addr add 198.18.51.1/24 dev a0
ip -n "$XT_NS_B" addr add 198.18.51.2/24 dev b0
ip -n "$XT_NS_A" link set a0 up
ip -n "$XT_NS_B" link set b0 up
ip -n "$XT_NS_C" link add c77 index 77 type veth peer name c78
xt_check "a0 and b0 share ifindex 77" \
	"$(ip -n "$XT_NS_A" -j link show a0 | jq .[0].ifindex)/$(ip -n "$XT_NS_B" -j link show b0 | jq .[0].ifindex)" = 77/77

in_ns() { local ns=$1; shift; xt_in "$ns" "$@"; }
status_q() { in_ns "$1" "$LOADER" status -j | jq -r ".instances[] | select(.name == \"$I\") | $2"; }

xt_ok "load into b0 (namespace B)" in_ns B "$LOADER" load --instance "$I" b0
pid=$(xt_xfsm_prog_id B b0)
xt_check "b0 runs xfsm" -n "$pid"

# ---- status and port show from elsewhere --------------------------------------
for ns in A C; do
	xt_check "status from $ns: the port is b0" "$(status_q $ns '.ports[0].ifname')" = b0
	xt_check "status from $ns: attached, its program" \
		"$(status_q $ns '"\(.ports[0].attached) \(.ports[0].prog_id)"')" = "true $pid"
	xt_check "status from $ns: names the namespace" \
		"$(status_q $ns '"\(.netns.name) \(.netns.here)"')" = "$XT_NS_B false"
	out=$(in_ns $ns "$LOADER" status)
	xt_match "status text from $ns: netns B" "instance $I .* netns '$XT_NS_B' \\(net:\\[[0-9]+\\]\\)" "$out"
	xt_match "status text from $ns: port 1 b0" "port 1  b0  ifindex 77  native" "$out"
	out=$(in_ns $ns "$CTL" --instance "$I" port show 2>&1)
	xt_match "port show from $ns: b0" "port 1 +- +b0 +ifindex 77" "$out"
	# b0's peer is a0 (of A), which a note on b0's tx may name rightly
	out=$(grep -v 'tx is not delivered' <<<"$out")
	xt_check "port show from $ns: no interface of $ns" "${out/a0/}${out/c77/}" = "$out$out"
	out=$(in_ns $ns "$CTL" -j --instance "$I" port show 2>&1)
	xt_check "port show -j from $ns: b0" "$(jq -r '.ports[0].ifname' <<<"$out" 2>/dev/null)" = b0
	out=$(in_ns $ns "$CTL" -j --instance "$I" show 2>&1)
	xt_check "show -j from $ns: b0" "$(jq -r '.ports[0].ifname' <<<"$out" 2>/dev/null)" = b0
done
xt_check "status from B: here" "$(status_q B '.netns.here')" = true
xt_check "status from B: the port is b0" "$(status_q B '.ports[0].ifname')" = b0
# port sync reads b0's link state in B: up and running, while C's c77
# (ifindex 77 there) is down
out=$(in_ns C "$CTL" --instance "$I" port sync 2>&1)
xt_match "port sync from C: b0 is up (not c77, down)" "^0 port\\(s\\) down" "$out"

# ---- load and unload from elsewhere ----------------------------------------------
out=$(in_ns A "$LOADER" load --instance "$I" a0 2>&1)
xt_check "load from A into B's instance: refused" $? -ne 0
xt_match "load from A: names both namespaces" \
	"instance '$I' has its ports in network namespace '$XT_NS_B' .*this is '$XT_NS_A'" "$out"
xt_check "load from A: b0 still runs the same program" "$(xt_xfsm_prog_id B b0)" = "$pid"
xt_check "load from A: a0 runs nothing" -z "$(xt_xfsm_prog_id A a0)"
xt_check "load from A: still one port" "$(status_q B '.ports | length')" = 1
out=$(in_ns A "$LOADER" unload --all 2>&1)
xt_check "unload --all from A: exit 0" $? -eq 0
xt_match "unload --all from A: skips B's instance" "skipping instance '$I': its ports are in network namespace '$XT_NS_B'" "$out"
xt_check "unload --all from A: b0 still runs xfsm" "$(xt_xfsm_prog_id B b0)" = "$pid"
xt_check "unload --all from A: pins kept" -e "$ROOT/$I/xfsm_ports"

xt_ok "unload --instance from A" in_ns A "$LOADER" unload --instance "$I"
xt_check "unload from A: b0 runs nothing" -z "$(xt_xfsm_prog_id B b0)"
xt_check "unload from A: pins removed" ! -e "$ROOT/$I"
xt_ok "after unload: ping A -> B" xt_ping A 198.18.51.2

# ---- a namespace without a name, then gone -----------------------------------------
# A process in a namespace of its own holds it; d0 moves in.
unshare -n sleep 600 &
holder=$!
xt_defer "kill $holder"
sleep 0.2
ip -n "$XT_NS_A" link add d0 type veth peer name d1
ip -n "$XT_NS_A" link set d0 netns "$holder"
nsenter -t "$holder" -n ip link set d0 up
ip -n "$XT_NS_A" link set d1 up
ino=$(stat -L -c %i "/proc/$holder/ns/net")
xt_ok "load in an unnamed namespace" nsenter -t "$holder" -n "$LOADER" load --instance "$I" d0
xt_check "status from A: the unnamed namespace by inode (no name: null)" \
	"$(status_q A '"\(.netns.inode) \(.netns.name) \(.netns.reachable)"')" = "$ino null true"
xt_check "status from A: its port is d0" "$(status_q A '.ports[0].ifname')" = d0
xt_match "status text from A: net:[inode]" "netns net:\\[$ino\\]" "$(in_ns A "$LOADER" status)"
kill "$holder"
wait "$holder" 2>/dev/null
xt_check "gone: status says it cannot be entered" "$(status_q A '.netns.reachable')" = false
xt_match "gone: status text says so" "netns net:\\[$ino\\] \\(cannot be entered" \
	"$(in_ns A "$LOADER" status)"
out=$(in_ns A "$LOADER" unload --instance "$I" 2>&1)
xt_check "gone: unload refused" $? -ne 0
xt_match "gone: names the namespace and --force" "network namespace net:\\[$ino\\].*--force" "$out"
xt_check "gone: pins kept" -e "$ROOT/$I/xfsm_ports"
out=$(in_ns A "$CTL" --instance "$I" port show 2>&1)
xt_check "gone: port show refused" $? -ne 0
xt_match "gone: port show names the namespace" "network namespace net:\\[$ino\\]" "$out"
xt_ok "gone: unload --force" in_ns A "$LOADER" unload --force --instance "$I"
xt_check "gone: pins removed" ! -e "$ROOT/$I"

xt_done
