#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# examples/router.xfsm: a 3-namespace router.  Client C and server S are
# on two links of router R, whose two ports run the datapath in native
# mode with the example applied.  IPv4 and IPv6 pings and a UDP exchange
# cross it both ways; the replies arrive with TTL 63 and hop limit 63 (one
# router); the fib counters say the XDP path forwarded them, and that the
# first packet to a next hop not yet resolved went to the kernel (which
# resolved it).  A blackhole route drops, telnet is dropped and counted.

. "$(dirname "$0")/lib.sh"

xt_require_root
xt_require_cmd ip nsenter jq ping ethtool timeout "$XT_PY"
CTL="$XT_BUILD/xfsmctl"
LOADER="$XT_BUILD/xfsm-loader"
xt_require_file "$CTL" "$LOADER" "$XT_BUILD/xfsm.bpf.o"
xt_bpffs || xt_skip "cannot mount bpffs"

xt_netns_add C
xt_netns_add R
xt_netns_add S
xt_veth C c0 "198.18.10.1/24 2001:2:10::1/64" R r_c "198.18.10.254/24 2001:2:10::fe/64" ||
	{ xt_fail veth; xt_done; }
xt_veth S s0 "198.18.20.1/24 2001:2:20::1/64" R r_s "198.18.20.254/24 2001:2:20::fe/64" ||
	{ xt_fail veth; xt_done; }
ip -n "$XT_NS_C" route add default via 198.18.10.254
ip -n "$XT_NS_C" -6 route add default via 2001:2:10::fe
ip -n "$XT_NS_S" route add default via 198.18.20.254
ip -n "$XT_NS_S" -6 route add default via 2001:2:20::fe
ip -n "$XT_NS_R" route add blackhole 198.18.30.0/24
xt_in R sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
# native redirects into a veth need NAPI on its peer; frames from local
# sockets must carry full checksums (an XDP redirect keeps no offload)
for e in "C c0" "S s0"; do
	set -- $e
	xt_in "$1" ethtool -K "$2" gro on tx off >/dev/null || { xt_fail "ethtool $2"; xt_done; }
done

INST="xt$XT_ID-rt"
xt_defer "rm -rf '/sys/fs/bpf/xfsm/$INST'"
xt_defer "xt_in R '$LOADER' unload --instance '$INST'"
xt_ok "attach natively to r_c and r_s" \
	xt_in R "$LOADER" -q load --mode native --instance "$INST" r_c r_s || xt_done
X() { xt_in R "$CTL" --instance "$INST" "$@"; }
xt_ok "apply router" X apply "$XT_TOP/examples/router.xfsm" || xt_done
fib() { X -j stats | jq -r ".fib.$1"; }

out=$(xt_in C ping -c 4 -i 0.2 -W 2 198.18.20.1 2>&1)
xt_check "IPv4 ping through the router: 4 replies" \
	"$(grep -c 'bytes from 198.18.20.1' <<<"$out")" -eq 4 || xt_info "$out"
xt_match "IPv4 reply TTL 63: one hop, decremented" "ttl=63" "$out"
out=$(xt_in C ping -6 -c 4 -i 0.2 -W 2 2001:2:20::1 2>&1)
xt_check "IPv6 ping through the router: 4 replies" \
	"$(grep -c 'bytes from 2001:2:20::1' <<<"$out")" -eq 4 || xt_info "$out"
xt_match "IPv6 reply hop limit 63" "ttl=63" "$out"
xt_ok "UDP both ways (IPv4)" xt_udp C S 198.18.20.1 7500
xt_ok "UDP both ways (IPv6)" xt_udp C S 2001:2:20::1 7501

fwd=$(fib forwarded)
xt_check "XDP forwarded the pings and datagrams both ways (fib forwarded $fwd >= 14)" \
	"${fwd:-0}" -ge 14
xt_check "the first packet to an unresolved next hop went to the kernel (no_neigh $(fib no_neigh))" \
	"$(fib no_neigh)" -ge 1
xt_check "the application saw them on its ports: port 2 sent" \
	"$(X -j port show | jq '[.ports[] | select(.port == 2) | .tx_packets] | add')" -ge 7

xt_nok "a blackhole route drops" xt_in C ping -q -c 1 -W 1 198.18.30.1
xt_check "counted as blackhole" "$(fib blackhole)" -ge 1
xt_in C timeout 2 "$XT_PY" -c '
import socket
s = socket.socket(); s.settimeout(1)
try: s.connect(("198.18.20.1", 23))
except OSError: pass
' 2>/dev/null
xt_check "telnet dropped and counted" \
	"$(X -j stats | jq '[.counters[] | select(.name == "telnet") | .packets] | add')" -ge 1
xt_done
