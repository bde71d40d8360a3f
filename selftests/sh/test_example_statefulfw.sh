#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# examples/statefulfw.xfsm on a router namespace R between an inside host
# (IN) and an outside host (OUT): the datapath runs on both router ports
# (port 1 = inside, port 2 = outside), the kernel forwards.  Connections
# opened from the inside work both ways (TCP, UDP, ICMP); the outside
# cannot open any; the flow table shows the connections in state open with
# the idle timeout of their protocol.  The same on an instance loaded with
# --flow-value compact, on the generic and the specialized datapath.

. "$(dirname "$0")/lib.sh"

xt_require_root
xt_require_cmd ip nsenter jq timeout ping "$XT_PY"
CTL="$XT_BUILD/xfsmctl"
LOADER="$XT_BUILD/xfsm-loader"
xt_require_file "$CTL" "$LOADER" "$XT_BUILD/xfsm.bpf.o"
xt_bpffs || xt_skip "cannot mount bpffs"

xt_netns_add IN
xt_netns_add R
xt_netns_add OUT
xt_veth IN i0 198.18.30.1/24 R r_in 198.18.30.254/24 || { xt_fail veth; xt_done; }
xt_veth OUT o0 198.18.31.1/24 R r_out 198.18.31.254/24 || { xt_fail veth; xt_done; }
ip -n "$XT_NS_IN" route add default via 198.18.30.254
ip -n "$XT_NS_OUT" route add default via 198.18.31.254
xt_in R sysctl -qw net.ipv4.ip_forward=1

INST="xt$XT_ID-fw"
xt_defer "rm -rf '/sys/fs/bpf/xfsm/$INST'"
xt_defer "xt_in R '$LOADER' unload --instance '$INST'"
xt_ok "attach to r_in (port 1) and r_out (port 2)" \
	xt_in R "$LOADER" load --mode skb --instance "$INST" r_in r_out || xt_done
X() { xt_in R "$CTL" --instance "$INST" "$@"; }
ports=$(X -j port show)
xt_check "port 1 is r_in" "$(jq -r '.ports[] | select(.port == 1) | .ifname' <<<"$ports")" = r_in
xt_check "port 2 is r_out" "$(jq -r '.ports[] | select(.port == 2) | .ifname' <<<"$ports")" = r_out

xt_ok "before apply: outside can reach inside" xt_ping OUT 198.18.30.1
xt_ok "apply statefulfw" X apply "$XT_TOP/examples/statefulfw.xfsm" || xt_done
xt_match "ports named by the application" "port 1 +inside +r_in" "$(X port show)"
# a symmetric 5-tuple fits the medium key (5 words): its flows are in
# xfsm_flows_m
xt_match "show stages: the 5-tuple stage's flows are in the medium table" \
	'^  flows in xfsm_flows_m \(medium: keys of at most 5 words\)' "$(X show stages)"
xt_check "show -j: its flow table" \
	"$(X -j show stages | jq -r '.stages[] | select(.name == "conntrack") | .flow_table')" = xfsm_flows_m

xt_ok "inside -> outside: TCP" xt_tcp IN OUT 198.18.31.1 7001
xt_ok "inside -> outside: UDP with reply" xt_udp IN OUT 198.18.31.1 7002
xt_ok "inside -> outside: ping" xt_ping IN 198.18.31.1

flows=$(X -j state list conntrack)
# the loader's status counts them in the medium table, none in the wide one
used() { xt_in R "$LOADER" status -j | jq -r --arg i "$INST" --arg t "$1" '.instances[] |
	select(.name == $i) | .tables[] | select(.name == $t) | .used'; }
xt_check "status: the connections are in xfsm_flows_m" \
	"$(used xfsm_flows_m)" = "$(jq '.flows | length' <<<"$flows")"
xt_check "status: none in xfsm_flows" "$(used xfsm_flows)" = 0
xt_check "TCP connection tracked as open" \
	"$(jq -r '[.flows[] | select(.key["ip.proto"] == 6 and .state == "open")] | length' <<<"$flows")" -ge 1
xt_check "UDP idle timeout is at most 30s" \
	"$(jq -r '[.flows[] | select(.key["ip.proto"] == 17) | .idle.remaining_s <= 30] | all' <<<"$flows")" = true
xt_check "TCP idle timeout is longer than 30s" \
	"$(jq -r '[.flows[] | select(.key["ip.proto"] == 6) | .idle.remaining_s > 30] | all' <<<"$flows")" = true
# ICMP flows have no ports: the inside's ping opened the pair for 10 s.
# Forget every connection, then the outside tries on its own.
xt_ok "state flush" X state flush conntrack
# the outside opens nothing (short timeouts: a refused attempt must fail fast)
out_tcp() {
	xt_in IN timeout 6 "$XT_PY" -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.30.1", 7003)); s.listen(1); s.settimeout(4)
try:
    c, a = s.accept(); print("accepted")
except socket.timeout:
    pass
' >/tmp/xt$XT_ID-acc 2>&1 &
	xt_wait_tcp IN 7003
	xt_in OUT timeout 3 "$XT_PY" -c '
import socket
socket.create_connection(("198.18.30.1", 7003), timeout=1)
' >/dev/null 2>&1
}
xt_defer "rm -f /tmp/xt$XT_ID-acc"
xt_nok "outside -> inside: TCP refused" out_tcp
xt_nok "outside -> inside: ping refused" xt_in OUT ping -q -c 1 -W 1 198.18.30.1

xt_match "refused counter" "counter refused: packets [1-9]" "$(X stats)"

# -- the same firewall on compact flow values (xfsm-loader --flow-value
# compact): a state and an idle timeout are all it keeps per connection,
# on the generic datapath and on its specialized program
for dp in generic specialized; do
	xt_ok "compact, $dp: unload" xt_in R "$LOADER" unload --instance "$INST"
	xt_ok "compact, $dp: load --flow-value compact" \
		xt_in R "$LOADER" load --mode skb --flow-value compact --instance "$INST" r_in r_out ||
		continue
	xt_ok "compact, $dp: apply statefulfw --datapath $dp" \
		X apply --datapath "$dp" "$XT_TOP/examples/statefulfw.xfsm" || continue
	j=$(X -j show app)
	xt_check "compact, $dp: the $dp datapath runs it on compact flow values" \
		"$(jq -r '"\(.app.datapath.runs) \(.app.flow_value)"' <<<"$j")" = "$dp compact"
	xt_ok "compact, $dp: inside -> outside: TCP" xt_tcp IN OUT 198.18.31.1 7011
	xt_ok "compact, $dp: inside -> outside: UDP with reply" xt_udp IN OUT 198.18.31.1 7012
	xt_ok "compact, $dp: inside -> outside: ping" xt_ping IN 198.18.31.1
	flows=$(X -j state list conntrack)
	xt_check "compact, $dp: TCP connection tracked as open" \
		"$(jq -r '[.flows[] | select(.key["ip.proto"] == 6 and .state == "open")] | length' <<<"$flows")" -ge 1
	xt_check "compact, $dp: UDP idle timeout is at most 30s" \
		"$(jq -r '[.flows[] | select(.key["ip.proto"] == 17) | .idle.remaining_s <= 30] | all' <<<"$flows")" = true
	xt_ok "compact, $dp: state flush" X state flush conntrack
	xt_nok "compact, $dp: outside -> inside: TCP refused" out_tcp
	xt_nok "compact, $dp: outside -> inside: ping refused" xt_in OUT ping -q -c 1 -W 1 198.18.30.1
done
xt_done
