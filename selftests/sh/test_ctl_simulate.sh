#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsmctl simulate: packets run through a private copy of the datapath.
# Against a live instance (examples/portknock.xfsm with a source that has
# knocked twice for real), the decision records follow the live flow
# (k2 -> k3 -> open) while every pinned map of the instance, statistics
# included, stays byte for byte what it was; with --app the examples'
# scripted sequences give the expected stage, rule, states and verdict;
# bad packets are refused with the place of the error.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

# Small rule and ACL tables: the maps are dumped whole, twice per check.
CTL_LOAD_ARGS="--rules 256 --acl-rules 4 --acl-nodes 16"
ctl_setup
APP="$XT_TOP/examples/portknock.xfsm"
S() { "$CTL" "$@"; }	# no datapath needed: --app runs alone

# No IPv6 chatter (router solicitations) on the link: the live maps must
# change only because of the packets this test sends.
xt_in A sysctl -qw net.ipv6.conf.a0.disable_ipv6=1
xt_in B sysctl -qw net.ipv6.conf.b0.disable_ipv6=1

xt_ok "apply portknock" X apply "$APP"
ctl_udp_send 1111
ctl_udp_send 2222
xt_match "live: the client knocked twice (k2)" "state k2" "$(X state get knock $CLI)"
# Without the 10 s idle timeout, which an emulated guest can outlast
# before the simulation starts: k2 for as long as the test needs it.
xt_ok "live: k2 without a timeout" X state set knock $CLI state k2

# Every map pinned for the instance, dumped by bpftool.
dump_maps() {
	local f
	for f in /sys/fs/bpf/xfsm/"$INST"/xfsm_*; do
		echo "== ${f##*/}"
		bpftool map dump pinned "$f" 2>&1
	done | sha256sum
}
xt_require_cmd bpftool sha256sum
before=$(dump_maps)
SEQ="ip.src=$CLI udp.dport=3333 then ip.src=$CLI udp.dport=4444 then \
ip.src=$CLI tcp.dport=22 tcp.flags=syn then ip.src=198.18.0.99 udp.dport=1111"
out=$(X -j simulate $SEQ)
after=$(dump_maps)
xt_check "simulate leaves every map of the instance byte-identical" "$after" = "$before"
xt_match "the live flow is still in k2" "state k2" "$(X state get knock $CLI)"

rec() { echo "$out" | jq -r "$1"; }
xt_check "four records" "$(rec length)" = 4
xt_check "packet 1 reads the live flow: k2 -> k3 by knock3" \
	"$(rec '.[0].stages[0] | [.state_before, .state_after, .rule.name] | join(" ")')" = "k2 k3 knock3"
xt_check "packet 1 is dropped" "$(rec '.[0].verdict')" = drop
xt_check "packet 2 sees packet 1's write in the copy: k3 -> open by knock4" \
	"$(rec '.[1].stages[0] | [.state_before, .state_after, .rule.name] | join(" ")')" = "k3 open knock4"
xt_check "packet 2 counts 'opened'" "$(rec '.[1].counters[0] | "\(.name) \(.packets)"')" = "opened 1"
xt_check "packet 3: ssh_open passes TCP 22" \
	"$(rec '.[2] | "\(.stages[0].rule.name) \(.verdict)"')" = "ssh_open pass"
xt_check "packet 3's key is the client" "$(rec '.[2].stages[0].key["ip.src"]')" = "$CLI"
xt_check "packet 4: a new source's flow is created in k1" \
	"$(rec '.[3].stages[0] | [.flow_before, .flow_after, .state_after] | map(tostring) | join(" ")')" = "false true k1"
xt_check "packet 4's fields as given" "$(rec '.[3].fields["udp.dport"]')" = 1111

txt=$(X simulate ip.src=$CLI udp.dport=3333)
xt_match "text record: stage, key, states" "stage knock: key ip.src=$CLI" "$txt"
xt_match "text record: transition and rule" "state k2 -> k3" "$txt"
xt_match "text record: rule and effects" "rule knock3 \[id [0-9]+\]: goto state k3 idle 10s -> closed, drop" "$txt"
xt_match "text record: verdict" "verdict drop" "$txt"

# The same packet as a hex frame and from a pcap file.
frame="hex:020000000002020000000001080045000024000000004011000000000000000000000000"
xt_ok "a hex frame runs" X simulate "$frame"
pcap=$(mktemp /tmp/xt$XT_ID-XXXX.pcap)
xt_defer "rm -f '$pcap'"
"$XT_PY" - "$pcap" "$CLI" <<'EOF'
import socket, struct, sys
src = socket.inet_aton(sys.argv[2]); dst = socket.inet_aton("198.18.20.2")
def frame(dport):
    udp = struct.pack("!HHHH", 40000, dport, 8, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0, src, dst)
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + udp
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for p in (3333, 4444):
        d = frame(p)
        f.write(struct.pack("<IIII", 0, 0, len(d), len(d)) + d)
EOF
pc=$(X -j simulate "pcap:$pcap" 2>&1)
xt_check "pcap: both packets, knock3 then knock4" \
	"$(echo "$pc" | jq -r 'map(.stages[0].rule.name) | join(" ")')" = "knock3 knock4"
xt_check "still nothing changed after the hex and pcap runs" "$(dump_maps)" = "$before"

# --app: the examples' own sequences, no datapath involved.
pk=$(S -j simulate --app "$APP" udp.dport=1111 then udp.dport=2222 then udp.dport=5555 \
	then tcp.dport=22)
xt_check "--app portknock: knock, knock, wrong knock, ssh" \
	"$(echo "$pk" | jq -r 'map("\(.stages[0].state_before)>\(.stages[0].state_after):\(.stages[0].rule.name):\(.verdict)") | join(" ")')" \
	= "closed>k1:knock1:drop k1>k2:knock2:drop k2>closed:wrong_k2:drop closed>closed:ssh_closed:drop"

FW="$XT_TOP/examples/statefulfw.xfsm"
fw=$(S -j simulate --app "$FW" meta.port=inside ip.src=198.18.1.1 ip.dst=198.18.2.2 tcp.sport=40000 tcp.dport=80 tcp.flags=syn \
	then meta.port=outside ip.src=198.18.2.2 ip.dst=198.18.1.1 tcp.sport=80 tcp.dport=40000 tcp.flags=syn\|ack \
	then meta.port=outside ip.src=198.18.2.3 ip.dst=198.18.1.1 tcp.sport=80 tcp.dport=40001 tcp.flags=syn)
xt_check "--app statefulfw: outbound SYN opens (tcp_new), the reply passes (tcp_open), an unsolicited SYN is refused" \
	"$(echo "$fw" | jq -r 'map("\(.stages[0].rule.name):\(.stages[0].state_after):\(.verdict)") | join(" ")')" \
	= "tcp_new:open:pass tcp_open:open:pass refuse:none:drop"
xt_check "--app statefulfw: the reply finds the symmetric flow" \
	"$(echo "$fw" | jq -r '.[1].stages[0].flow_before')" = true
xt_check "--app statefulfw: the refusal counts 'refused'" \
	"$(echo "$fw" | jq -r '.[2].counters[0].name')" = refused

# Record as "stage:before>after:rule" per stage, then the verdict.
decisions() {
	jq -r 'map([.stages[] | "\(.name):\(.state_before)>\(.state_after):\(.rule.name // "miss")"] + [.verdict] | join(" ")) | .[]'
}
EX="$XT_TOP/examples"
ml=$(S -j simulate --app "$EX/maclearn.xfsm" \
	meta.port=p1 eth.src=02:00:00:00:00:0a eth.dst=ff:ff:ff:ff:ff:ff \
	then meta.port=p2 eth.src=02:00:00:00:00:0b eth.dst=02:00:00:00:00:0a)
xt_check "--app maclearn: a broadcast floods, the reply finds the learnt source" \
	"$(echo "$ml" | decisions | tr '\n' ' ')" \
	= "switch:unknown>unknown:bcast redirect switch:known>known:known drop "
xt_check "--app maclearn: the broadcast learnt its source on port 1 (update key)" \
	"$(echo "$ml" | jq -r '.[0].other_flows[0] | "\(.key["eth.dst"]) \(.state_after) \(.registers[0].name)=\(.registers[0].after)"')" \
	= "02:00:00:00:00:0a known out_port=1"
xt_check "--app maclearn: output to port 1 has no device in a lone copy (bad_port)" \
	"$(echo "$ml" | jq -r '.[1].exceptions | join(",")')" = bad_port
lb=$(S -j simulate --app "$EX/loadbalancer.xfsm" meta.port=client ip.dst=198.18.0.100 tcp.sport=1000 \
	then meta.port=client ip.dst=198.18.0.100 tcp.sport=1000 \
	then meta.port=client ip.dst=198.18.0.100 tcp.sport=1001)
xt_check "--app loadbalancer: a new flow picks, the same flow again keeps, the next one picks" \
	"$(echo "$lb" | decisions | cut -d' ' -f1 | tr '\n' ' ')" \
	= "lb:new>assigned:pick lb:assigned>assigned:to_backend lb:new>assigned:pick "
xt_check "--app loadbalancer: fetch_add moves the ticket global 0 -> 1 -> 2" \
	"$(echo "$lb" | jq -r '[.[] | .globals[] | "\(.name):\(.before)>\(.after)"] | join(" ")')" \
	= "next_backend:0>1 next_backend:1>2"
xt_check "--app loadbalancer: tickets 0 and 1 give backends 0 and 1 (their MACs)" \
	"$(echo "$lb" | jq -r '[.[] | .stages[0].registers[] | select(.name == "backend_mac") | .after] | join(" ")')" \
	= "$((0x020000000100)) $((0x020000000101))"
rt=$(S -j simulate --app "$EX/router.xfsm" ip.dst=198.18.0.1 ip.ttl=1 \
	then ip.dst=198.18.0.1 tcp.dport=23)
xt_check "--app router: TTL 1 goes to the stack (fib ttl_expired); telnet is dropped first" \
	"$(echo "$rt" | jq -r '[.[] | "\(.fib // "-"):\(.verdict)"] | join(" ")')" = "ttl_expired:pass -:drop"
sf=$(S -j simulate --app "$EX/synflood.xfsm" \
	ip.src=198.18.1.1 ip.dst=198.18.2.2 tcp.sport=1000 tcp.dport=80 tcp.flags=syn \
	then ip.src=198.18.2.2 ip.dst=198.18.1.1 tcp.sport=80 tcp.dport=1000 tcp.flags=ack)
xt_check "--app synflood: SYN counted then handshake; the ACK of the reverse direction establishes" \
	"$(echo "$sf" | decisions | tr '\n' ' ')" \
	= "detect:normal>counting:first_syn guard:new>handshake:syn pass detect:normal>normal:miss guard:handshake>established:ack pass "
xt_check "--app synflood: first_syn writes syns = 1" \
	"$(echo "$sf" | jq -r '.[0].stages[0].registers[] | select(.name == "syns") | .after')" = 1
rl=$(S -j simulate --app "$EX/ratelimit.xfsm" meta.len=3000 udp.dport=9 then meta.len=3000 udp.dport=9)
xt_check "--app ratelimit: UDP conforms and passes" \
	"$(echo "$rl" | decisions | tr '\n' ' ')" = "meter:0>0:conform pass meter:0>0:conform pass "
xt_check "--app ratelimit: cost = 3000 bytes * 8000 ns" \
	"$(echo "$rl" | jq -r '.[0].stages[0].registers[] | select(.name == "cost") | .after')" = 24000000
xt_nok "a frame longer than a test run takes is refused" S simulate --app "$EX/ratelimit.xfsm" meta.len=4000

# An ACL stage in front of a stateful one (the docs/modules.md example).
acl_app=$(mktemp /tmp/xt$XT_ID-XXXX.xfsm)
xt_defer "rm -f '$acl_app'"
cat > "$acl_app" <<'EOF'
app guarded
default pass
acl front table 2 {
	miss allow
	rule prio 10 src 198.18.20.1 proto udp dport 7001 => deny
	rule prio 5 proto udp dport 7002 => goto counted mark 9
}
stage counted {
	key ip.src
	rule marked when meta.mark == 9 => count marked, pass
}
EOF
ac=$(S -j simulate --app "$acl_app" ip.src=198.18.20.1 udp.dport=7001 then udp.dport=7002 \
	then ip6.src=2001:2::5 tcp.dport=9)
xt_check "--app ACL: deny, goto with mark 9 into the counting stage, IPv6 miss" \
	"$(echo "$ac" | jq -r 'map([.stages[] | .acl_action // .rule.name // "miss"] + [.verdict] | join(",")) | join(" ")')" \
	= "deny,drop goto,marked,pass miss,miss,pass"
xt_check "--app ACL: the mark is reported" "$(echo "$ac" | jq -r '.[1].stages[0].mark')" = 9

# The frame builder: every field given comes back from the datapath's
# parser as given (an application whose keys read them all).
fields_app=$(mktemp /tmp/xt$XT_ID-XXXX.xfsm)
xt_defer "rm -f '$fields_app'"
cat > "$fields_app" <<'EOF'
app fields
default pass
stage a {
	key eth.src, eth.dst, eth.type, vlan.id, vlan.pcp, vlan.inner
	miss continue
}
stage b {
	key ip.src, ip.dst, ip.proto, ip.ttl, ip.dscp, ip.ecn, ip6.flow
	miss continue
}
stage c {
	key ip6.src, ip6.dst
	miss continue
}
stage d {
	key tcp.sport, tcp.dport, tcp.flags, udp.sport, udp.dport, icmp.type, icmp.code, icmp6.type, icmp6.code
	miss continue
}
stage e {
	key arp.op, arp.spa, arp.tpa, meta.len
	miss continue
}
stage f {
	key ip.len, ip.id, ip6.nexthdr, tcp.seq, tcp.ack, tcp.win
	miss pass
}
EOF
P1="eth.src=02:11:22:33:44:55 vlan.id=100 vlan.pcp=5 ip.src=198.18.5.1 ip.dst=198.18.6.1 ip.ttl=7 ip.dscp=46 ip.ecn=1 tcp.sport=1234 tcp.dport=443 tcp.flags=18 meta.len=100"
P2="ip6.src=2001:2::7 ip6.dst=2001:2::8 ip6.flow=12345 udp.sport=53 udp.dport=5353 vlan.id=10 vlan.inner=20"
P3="icmp.type=0 icmp.code=3"
P4="arp.op=2 arp.spa=198.18.0.7 arp.tpa=198.18.0.8"
P5="icmp6.type=135 icmp6.code=0 ip6.dst=2001:2::9"
P6="ip.id=4660 ip.len=200 tcp.seq=4000000000 tcp.ack=7 tcp.win=1024 tcp.dport=80"
P7="ip6.nexthdr=17 ip.len=100 udp.dport=53"
fr=$(S -j simulate --app "$fields_app" $P1 then $P2 then $P3 then $P4 then $P5 then $P6 then $P7)
i=0
for p in "$P1" "$P2" "$P3" "$P4" "$P5" "$P6" "$P7"; do
	want=$(echo "$p" | tr ' ' '\n' | sort)
	got=$(echo "$fr" | jq -r --argjson i $i --arg p "$p" \
		'.[$i].fields as $f | $p | split(" ") | map(split("=")[0]) | map("\(.)=\($f[.])") | .[]' | sort)
	xt_check "frame builder, packet $((i + 1)): the parser reads back every field given" "$got" = "$want"
	i=$((i + 1))
done

# Bad packets: the error names the place, nothing runs.
xt_nok "an unknown field is refused" S simulate --app "$APP" tcp.dprot=22
xt_match "the error names the field and its column" "packet:1:1: error: unknown field 'tcp.dprot'" \
	"$(S simulate --app "$APP" tcp.dprot=22 2>&1)"
xt_match "a bad value names its column" "packet:1:8: error: invalid IPv4 address" \
	"$(S simulate --app "$APP" ip.src=198.18.0.300 2>&1)"
xt_nok "an empty packet after 'then' is refused" S simulate --app "$APP" udp.dport=1 then
xt_nok "IPv4 and IPv6 fields together are refused" S simulate --app "$APP" ip.src=198.18.0.1 ip6.dst=2001:2::1
xt_nok "a short hex frame is refused" S simulate --app "$APP" hex:0200
xt_nok "a file that is not pcap is refused" S simulate --app "$APP" "pcap:$APP"
# ... before the datapath is copied (a verification: seconds on a slow
# machine, nothing to copy for a packet that cannot run): so also without
# the privileges to copy it.
if command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$CTL" simulate --app "$APP" ip.src=198.18.0.300 2>&1)
	xt_check "unprivileged: a bad packet exits 2 (usage)" $? = 2
	xt_match "unprivileged: refused for the packet, not for the copy" \
		"packet:1:8: error: invalid IPv4 address" "$out"
fi
xt_check "after the refusals nothing changed" "$(dump_maps)" = "$before"
# (real traffic last: it changes the live statistics)
xt_nok "live: TCP 22 is still refused" ctl_connect 22

xt_done
