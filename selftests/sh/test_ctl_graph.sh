#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsmctl show pipeline and show fsm, text and Graphviz, with live counts:
# after scripted traffic through examples/portknock.xfsm the DOT output
# parses with dot, every stage's out-edges add up to its packet count, and
# each rule's edge carries the rule's counter from `xfsmctl stats`.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

xt_require_cmd dot
CTL_LOAD_ARGS="--rules 256 --acl-rules 4 --acl-nodes 16"
ctl_setup
APP="$XT_TOP/examples/portknock.xfsm"
xt_in A sysctl -qw net.ipv6.conf.a0.disable_ipv6=1
xt_in B sysctl -qw net.ipv6.conf.b0.disable_ipv6=1
# No packet after the scripted ones: with the neighbours written in both
# ways there is no ARP at all (B would otherwise probe A a few seconds
# after its ICMP port unreachable to 9999, a packet that came in between
# reading the statistics and the graph).
mac_of() { ip -n "$1" -j link show dev "$2" | jq -r '.[0].address'; }
xt_ok "A knows B's MAC for good" ip -n "$XT_NS_A" neigh replace "$SRV" \
	lladdr "$(mac_of "$XT_NS_B" b0)" dev a0 nud permanent
xt_ok "B knows A's MAC for good" ip -n "$XT_NS_B" neigh replace "$CLI" \
	lladdr "$(mac_of "$XT_NS_A" a0)" dev b0 nud permanent

xt_ok "apply portknock" X apply "$APP"
ctl_udp_send 1111
ctl_udp_send 2222
ctl_udp_send 2222	# a wrong knock in k2: back to closed
ctl_udp_send 9999	# closed, not a knock: miss
xt_nok "TCP 22 refused" ctl_connect 22

# Edge counts of a DOT graph: "FROM TO LABEL COUNT" lines.
dot_edges() {
	sed -n 's/^\t"\([^"]*\)" -> "\([^"]*\)" \[label="\([^"\\]*\).*xfsm_count=\([0-9]*\)\];$/\1|\2|\3|\4/p'
}
rule_pk() { echo "$stats" | jq -r --arg r "$1" '.stages[0].rules[] | select(.name == $r) | .packets'; }

# The statistics and the graph from one moment: nothing arrives after the
# scripted traffic (no ARP, no IPv6), so the statistics read before and
# after the graph are the same (the first try; before, the time of the
# reading in the statistics made every try differ, so the graph was
# compared with whatever came last); should a stray packet ever come in
# between, read again, and say so if the traffic never stops.
# The counters only: the time of the reading always moves.
counters() { X -j stats | jq -c 'del(.time) | del(.. | .rx_bytes?, .bytes?)'; }
quiet=
for try in $(seq 1 30); do
	stats=$(counters)
	pipe=$(X show pipeline --dot)
	if [ "$(counters)" = "$stats" ]; then
		quiet=1
		break
	fi
	sleep 1
done
xt_check "statistics and graph read while no packet came in" "$quiet" = 1
xt_ok "show pipeline --dot parses with dot" sh -c 'printf "%s\n" "$1" | dot -Tsvg >/dev/null' _ "$pipe"
edges=$(echo "$pipe" | dot_edges)
out_sum=$(echo "$edges" | awk -F'|' '$1 == "stage0" { s += $4 } END { print s + 0 }')
xt_check "stage 0's out-edges add up to its packets" \
	"$out_sum" = "$(echo "$stats" | jq -r '.stages[0].packets')"
xt_check "the miss edge carries the stage's misses" \
	"$(echo "$edges" | awk -F'|' '$1 == "stage0" && $3 == "miss" { print $4 }')" = \
	"$(echo "$stats" | jq -r '.stages[0].misses')"
for r in knock1 knock2 wrong_k2 ssh_closed; do
	xt_check "pipeline edge $r = its rule counter ($(rule_pk $r))" \
		"$(echo "$edges" | awk -F'|' -v r=$r '$1 == "stage0" && $3 == r { print $4 }')" = "$(rule_pk $r)"
done
xt_check "knock1's edge leads to drop" \
	"$(echo "$edges" | awk -F'|' '$3 == "knock1" { print $2 }')" = v_drop
# A packet that came in before the apply (the veths' own IPv6 or ARP
# before they were silenced) met no application: counted in rx_packets and
# in exceptions.no_app, drawn as the parser's "no application" edge.
xt_check "the parser's edge into stage 0 counts every parsed packet an application saw" \
	"$(echo "$edges" | awk -F'|' '$1 == "parse" && $2 == "stage0" { print $4 }')" = \
	"$(echo "$stats" | jq -r '.datapath.rx_packets - .datapath.malformed - (.exceptions.no_app // 0)')"
txt=$(X show pipeline)
xt_match "text pipeline: stage to verdict with a count" "stage knock +-> drop +knock1 +1" "$txt"
xt_check "show -j pipeline is JSON with the same edges" \
	"$(X -j show pipeline | jq '.edges | length')" = "$(echo "$edges" | wc -l)"

fsm=$(X show fsm knock --dot)
xt_ok "show fsm --dot parses with dot" sh -c 'printf "%s\n" "$1" | dot -Tsvg >/dev/null' _ "$fsm"
fedges=$(echo "$fsm" | dot_edges)
xt_check "fsm: closed -> k1 by knock1, hit once" \
	"$(echo "$fedges" | grep '^s_closed|s_k1|knock1|')" = "s_closed|s_k1|knock1|$(rule_pk knock1)"
xt_check "fsm: k2 -> closed by wrong_k2, hit once" \
	"$(echo "$fedges" | grep '^s_k2|s_closed|wrong_k2|')" = "s_k2|s_closed|wrong_k2|1"
xt_match "fsm: the idle timeout is a dashed edge k1 -> closed" \
	'"s_k1" -> "s_closed" \[label="idle 10s", style=dashed' "$fsm"
xt_match "fsm: open rolls back to closed after 30 s" '"s_open" -> "s_closed" \[label="hard 30s"' "$fsm"
xt_match "fsm: the initial state is marked" '"s_closed" \[shape=ellipse, penwidth=2' "$fsm"
xt_match "fsm text" "closed +-> k1 +knock1 \(udp.dport == 1111\) +1" "$(X show fsm knock)"
xt_nok "show fsm of an unknown stage fails" X show fsm nosuch
xt_match "show fsm of an unknown stage says so" "no stage 'nosuch'" "$(X show fsm nosuch 2>&1)"

# --app: no datapath, no counts (what make docs draws)
xt_ok "show fsm --app draws a file's stage" sh -c \
	'"$1" show fsm conntrack --dot --app "$2" | dot -Tsvg >/dev/null' _ "$CTL" "$XT_TOP/examples/statefulfw.xfsm"
xt_check "--app has no counts in labels" \
	"$("$CTL" show fsm knock --dot --app "$APP" | grep -c 'label="knock1\\nudp.dport == 1111"')" = 1

xt_done
