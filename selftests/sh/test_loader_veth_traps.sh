#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# The two traps of veth ports in native mode (lib/veth_traps.c, docs/loader.md
# "Traps of veth ports"): xfsm-loader warns, once per port and with the
# command that fixes it, when the port's peer has neither an XDP program nor
# GRO (frames redirected into the port are dropped) and when the peer's tx
# checksumming is on (TCP/UDP of local sockets behind it leaves a redirect
# with a partial checksum); the warnings disappear once fixed, show in
# `status`, go into the JSON output under -j, and stay off with -q, in skb
# mode and on devices that are not veths.  The traffic checks show the traps
# are real: ping needs GRO, TCP and UDP need tx checksumming off.  `xfsmctl
# port show` flags a port's tx counter while the kernel drops what it counts.

. "$(dirname "$0")/lib.sh"

xt_require_root
xt_require_cmd ip nsenter unshare jq ethtool "$XT_PY"
CTL="$XT_BUILD/xfsmctl"
LOADER="$XT_BUILD/xfsm-loader"
xt_require_file "$CTL" "$LOADER" "$XT_BUILD/xfsm.bpf.o"
xt_bpffs || xt_skip "cannot mount bpffs"
# Before 5.13 GRO does not start a veth's NAPI: the GRO fix does not exist.
IFS=. read -r kmaj kmin _ <<<"$(uname -r)"
[ "$kmaj" -gt 5 ] || { [ "$kmaj" = 5 ] && [ "${kmin%%[!0-9]*}" -ge 13 ]; } ||
	xt_skip "Linux $(uname -r) < 5.13: GRO does not start veth NAPI (the loader's fix is an XDP program on the peer there)"

xt_netns_add S
for i in 1 2; do
	xt_netns_add "H$i"
	xt_veth "H$i" "h$i" "198.18.41.$i/24" S "s$i" - || { xt_fail veth; xt_done; }
done
NS1=$(xt_ns H1)
NS2=$(xt_ns H2)
# a veth whose peer is in the port's own namespace
ip -n "$XT_NS_S" link add s3 type veth peer name p3 &&
	ip -n "$XT_NS_S" link set s3 up && ip -n "$XT_NS_S" link set p3 up ||
	{ xt_fail "veth s3/p3"; xt_done; }

INST="xt$XT_ID-traps"
xt_defer "rm -rf '/sys/fs/bpf/xfsm/$INST'"
xt_defer "xt_in S '$LOADER' unload --instance '$INST'"
L() { xt_in S "$LOADER" "$@"; }
load() { L "$@" load --mode native --instance "$INST" s1 s2 s3; }

# count REGEX TEXT: lines of TEXT matching REGEX
count() { grep -cE -- "$1" <<<"$2"; }
# fix_of PORT KIND: the command the warnings in $err give for that trap
fix_of() {
	case $2 in
	redirect) sed -n "s/^xfsm-loader: warning: $1: frames .*; fix: \(.*\) (or .*/\1/p" <<<"$err" ;;
	csum) sed -n "s/^xfsm-loader: warning: $1: TCP and UDP .*; fix: \(.*\)$/\1/p" <<<"$err" ;;
	esac
}

err=$(load 2>&1 >/dev/null)
xt_check "load succeeds" $? = 0 || { printf '%s\n' "$err"; xt_done; }
xt_match "s1: redirects dropped, peer named, fix: GRO on in its netns" \
	"^xfsm-loader: warning: s1: frames redirected .* dropped .*peer h1 \(netns $NS1\).*; fix: ip netns exec $NS1 ethtool -K h1 gro on \(or ip netns exec $NS1 ip link set dev h1 xdpdrv obj" \
	"$err"
xt_match "s2: the same with its own peer and netns" \
	"^xfsm-loader: warning: s2: .*dropped.*; fix: ip netns exec $NS2 ethtool -K h2 gro on" "$err"
xt_match "s1: tx checksum, fix: tx off on the sender side" \
	"^xfsm-loader: warning: s1: TCP and UDP .*peer h1 .*partial checksum.*; fix: ip netns exec $NS1 ethtool -K h1 tx off$" \
	"$err"
xt_match "s3: a peer in the port's own namespace: the command has no netns" \
	"^xfsm-loader: warning: s3: .*peer p3 has .*; fix: ethtool -K p3 gro on" "$err"
xt_check "once per port and trap: 6 warnings" "$(count 'warning: s[123]:' "$err")" = 6

out=$(L -j status)
xt_check "status -j: s1 carries both traps" \
	"$(jq -r --arg i "$INST" '.instances[] | select(.name == $i) | .ports[] |
		select(.ifname == "s1") | [.warnings[].kind] | join(",")' <<<"$out")" = \
	"veth-redirect-drop,veth-tx-checksum"
xt_match "status (text) shows the fix under the port" \
	"warning: s2: .*fix: ip netns exec $NS2 ethtool -K h2 gro on" "$(L status)"

# The traps are real: with the peers as they are, nothing crosses.
xt_ok "apply maclearn" xt_in S "$CTL" --instance "$INST" apply "$XT_TOP/examples/maclearn.xfsm" ||
	xt_done
xt_nok "without GRO on the peers, H1 -> H2 ping is lost" xt_in H1 ping -c2 -W1 198.18.41.2
X() { xt_in S "$CTL" --instance "$INST" "$@"; }
out=$(X port show)
xt_match "port show: s2's tx is flagged as not delivered, with the fix" \
	"tx is not delivered: s2: .*; fix: ip netns exec $NS2 ethtool -K h2 gro on" "$out"
xt_check "and so is s1's, and s3's" "$(count 'tx is not delivered' "$out")" = 3

fix1=$(fix_of s1 redirect)
fix2=$(fix_of s2 redirect)
csum1=$(fix_of s1 csum)
csum2=$(fix_of s2 csum)
xt_ok "the fix the loader gave for s1, as given: $fix1" eval "$fix1"
err=$(load 2>&1 >/dev/null)
xt_check "reload: s1's redirect warning is gone" "$(count 'warning: s1: frames' "$err")" = 0
xt_check "reload: s2's stays" "$(count 'warning: s2: frames' "$err")" = 1
xt_ok "the fix for s2: $fix2" eval "$fix2"
xt_ok "with GRO on both peers, H1 -> H2 ping" xt_ping H1 198.18.41.2
out=$(X port show)
xt_check "port show: only s3's tx is still flagged" \
	"$(grep -o 'tx is not delivered: s[0-9]' <<<"$out" | tr '\n' ' ')" = "tx is not delivered: s3 "
xt_nok "but TCP H1 -> H2 dies on its partial checksum" xt_tcp H1 H2 198.18.41.2 7300
xt_nok "and so does UDP" xt_udp H1 H2 198.18.41.2 7301

xt_ok "the checksum fix for the sender behind s1: $csum1" eval "$csum1"
xt_ok "and behind s2 (it answers): $csum2" eval "$csum2"
err=$(load 2>&1 >/dev/null)
xt_check "reload: no warning on s1 or s2 any more" "$(count 'warning: s[12]:' "$err")" = 0
xt_check "s3's two remain" "$(count 'warning: s3:' "$err")" = 2
xt_check "status -j: s1 and s2 have no warnings" \
	"$(L -j status | jq --arg i "$INST" '[.instances[] | select(.name == $i) | .ports[] |
		select(.ifname != "s3") | .warnings[]] | length')" = 0
xt_ok "TCP H1 -> H2" xt_tcp H1 H2 198.18.41.2 7302
xt_ok "UDP H1 -> H2" xt_udp H1 H2 198.18.41.2 7303

# -j: warnings objects on stdout, no text; -q: nothing at all.
errf=$(mktemp)
xt_defer "rm -f '$errf'"
out=$(load -j 2>"$errf")
xt_check "-j: no warning text on stderr" "$(count 'warning' "$(cat "$errf")")" = 0
xt_check "-j: s3's warnings as objects with the fix" \
	"$(jq -r '.warnings[] | "\(.ifname) \(.kind) \(.peer) \(.peer_netns)|\(.fix)"' <<<"$out")" = \
	"$(printf 's3 veth-redirect-drop p3 null|ethtool -K p3 gro on\ns3 veth-tx-checksum p3 null|ethtool -K p3 tx off')"
xt_check "-j after the command: the same" \
	"$(L load --mode native --instance "$INST" -j s1 s2 s3 2>/dev/null | jq '.warnings | length')" = 2
out=$(load -q 2>&1)
xt_check "-q: nothing printed (exit 0)" "$?:$out" = "0:"

# A peer in a namespace without a name: reached through a process in it.
unshare --net sleep 120 &
upid=$!
xt_defer "kill $upid 2>/dev/null"
for _ in $(seq 50); do
	[ "$(readlink /proc/$upid/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
	sleep 0.1
done
if ip -n "$XT_NS_S" link add s4 type veth peer name u4 netns "$upid" &&
	ip -n "$XT_NS_S" link set s4 up && nsenter --net=/proc/$upid/ns/net ip link set u4 up; then
	err=$(L load --mode native --instance "$INST" s4 2>&1 >/dev/null)
	xt_match "an unnamed peer namespace: the fix enters it through a process" \
		"^xfsm-loader: warning: s4: frames .*peer u4 \(netns pid [0-9]+\).*; fix: nsenter --net=/proc/[0-9]+/ns/net ethtool -K u4 gro on" \
		"$err"
	fix4=$(fix_of s4 redirect)
	xt_ok "which works as given: $fix4" eval "$fix4"
	err=$(L load --mode native --instance "$INST" s4 2>&1 >/dev/null)
	xt_check "and the warning is gone" "$(count 'warning: s4: frames' "$err")" = 0
else
	xt_fail "a veth into an unnamed namespace"
fi
kill $upid 2>/dev/null

# skb mode has neither trap.
xt_ok "unload" L unload --instance "$INST"
err=$(L load --mode skb --instance "$INST" s1 s2 s3 2>&1 >/dev/null)
xt_check "skb mode: no warnings" "$(count 'warning: s' "$err")" = 0
xt_ok "unload" L unload --instance "$INST"

# Not a veth: a tap runs native XDP but has no peer.
if ip -n "$XT_NS_S" tuntap add dev t0 mode tap 2>/dev/null &&
	ip -n "$XT_NS_S" link set t0 up; then
	err=$(L load --mode native --instance "$INST" t0 2>&1 >/dev/null)
	rc=$?
	xt_check "a tap in native mode: loaded" "$rc" = 0
	xt_check "and no warning about it" "$(count 'warning: t0' "$err")" = 0
	[ $rc = 0 ] && xt_ok "unload" L unload --instance "$INST"
else
	xt_log "no tap device here: the non-veth case is not checked"
fi
xt_done
