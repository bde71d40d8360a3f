#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# examples/loadbalancer.xfsm: client C reaches the virtual IP 198.18.0.100
# through namespace L, whose port 1 (l_c, facing the client) runs the
# datapath; port 2 (l_b) leads to three backends B0..B2, macvlans with the
# backend MACs 02:00:00:00:01:0x that all hold the VIP.  Each new UDP flow
# goes to the next backend (round robin by a fetch_add ticket); every
# datagram of a flow goes to the same backend (affinity in the flow table).

. "$(dirname "$0")/lib.sh"

xt_require_root
xt_require_cmd ip nsenter jq timeout "$XT_PY"
CTL="$XT_BUILD/xfsmctl"
LOADER="$XT_BUILD/xfsm-loader"
xt_require_file "$CTL" "$LOADER" "$XT_BUILD/xfsm.bpf.o"
xt_bpffs || xt_skip "cannot mount bpffs"
VIP=198.18.0.100

xt_netns_add C
xt_netns_add L
xt_netns_add K
xt_veth C c0 198.18.50.1/24 L l_c 198.18.50.254/24 || { xt_fail veth; xt_done; }
xt_veth K k0 - L l_b 198.18.0.254/24 || { xt_fail veth; xt_done; }
ip -n "$XT_NS_C" route add default via 198.18.50.254
xt_in L sysctl -qw net.ipv4.ip_forward=1
for i in 0 1 2; do
	xt_netns_add "B$i"
	ns=$(xt_ns "B$i")
	ip -n "$XT_NS_K" link add "mv$i" link k0 address "02:00:00:00:01:0$i" type macvlan mode bridge &&
	ip -n "$XT_NS_K" link set "mv$i" netns "$ns" &&
	ip -n "$ns" addr add "$VIP/24" dev "mv$i" &&
	ip -n "$ns" link set "mv$i" up &&
	ip -n "$ns" route add default via 198.18.0.254 || { xt_fail "backend $i"; xt_done; }
	xt_in "B$i" timeout 60 "$XT_PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("'$VIP'", 7400))
while True:
    d, a = s.recvfrom(100)
    s.sendto(b"b'$i'", a)
' >/dev/null 2>&1 &
	xt_defer "kill $! 2>/dev/null"
done

INST="xt$XT_ID-lb"
xt_defer "rm -rf '/sys/fs/bpf/xfsm/$INST'"
xt_defer "xt_in L '$LOADER' unload --instance '$INST'"
xt_ok "attach to l_c (port 1) and l_b (port 2)" \
	xt_in L "$LOADER" load --mode skb --instance "$INST" l_c l_b || xt_done
X() { xt_in L "$CTL" --instance "$INST" "$@"; }
xt_ok "apply loadbalancer" X apply "$XT_TOP/examples/loadbalancer.xfsm" || xt_done
for i in 0 1 2; do xt_wait_udp "B$i" 7400; done

# six flows (source ports), three datagrams each: which backend answered
out=$(xt_in C timeout 20 "$XT_PY" -c '
import socket
res = []
for f in range(6):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
    got = []
    for k in range(3):
        for attempt in range(3):
            s.sendto(b"hi", ("'$VIP'", 7400))
            try:
                got.append(s.recv(100).decode()); break
            except socket.timeout:
                pass
    res.append(",".join(got))
print(" ".join(res))
')
xt_info "answers: $out"
read -r -a flows <<<"$out"
xt_check "six flows answered" "${#flows[@]}" = 6
aff=1
for f in "${flows[@]}"; do
	IFS=, read -r a b c <<<"$f"
	[ -n "$a" ] && [ "$a" = "$b" ] && [ "$b" = "$c" ] || aff=0
done
xt_check "affinity: every datagram of a flow went to one backend ($out)" "$aff" = 1
firsts=$(for f in "${flows[@]}"; do echo "${f%%,*}"; done | tr '\n' ' ')
xt_check "strict round robin: flows in turn to backends 0 1 2 0 1 2 ($firsts)" \
	"$firsts" = "b0 b1 b2 b0 b1 b2 "
st=$(X -j state list lb)
xt_check "six flows in the table, each assigned" \
	"$(jq -r '[.flows[] | select(.state == "assigned")] | length' <<<"$st")" = 6
xt_check "six tickets taken from next_backend" \
	"$(X -j global get | jq -r '.globals[] | select(.name == "next_backend") | .value')" = 6
xt_done
