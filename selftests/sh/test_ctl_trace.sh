#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsmctl trace and capture (issue 15 items 1 and 4): live packets sent
# from namespace A over a veth pair to the datapath on B's end.  Trace:
# for examples/portknock.xfsm, statefulfw.xfsm, ratelimit.xfsm,
# synflood.xfsm and arpresponder.xfsm, the records of
# a scripted sequence carry the expected stage, rule, state before and
# after and verdict (and an idle timeout's rollback); MATCH selects
# packets in the datapath; -c ends it; over the rate, records are counted
# lost; SIGINT ends it; the observe word is 0 after each; a second
# observer is refused, a killed one is taken over and cleared by `trace
# stop`.  Capture: tcpdump reads the file, its packets are byte for byte
# the frames sent; --verdict, --stage and -s choose and cut them.  Bad
# arguments exit 2 and change nothing.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

ctl_setup
xt_require_cmd tcpdump
xt_tmpdir T
# Whatever happens, no observer is left behind.
xt_defer "X trace stop"
# No IPv6 chatter on the link.
xt_in A sysctl -qw net.ipv6.conf.a0.disable_ipv6=1
xt_in B sysctl -qw net.ipv6.conf.b0.disable_ipv6=1
# A second client address: packets MATCH must not select.
ip -n "$XT_NS_A" addr add 198.18.20.3/24 dev a0
OTHER=198.18.20.3

# udp_from SRC PORT [N]: N datagrams from address SRC (one socket: one
# source port) to B.
udp_from() {
	xt_in A "$XT_PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
for i in range(int(sys.argv[4])):
    s.sendto(b"knock", (sys.argv[2], int(sys.argv[3])))
' "$1" "$SRV" "$2" "${3:-1}"
}

# The decisions of a trace's records, one line each:
# "stage rule state_before>state_after verdict".
decisions() {
	jq -r 'select(.packet) | .stages[] as $s |
		"\($s.name) \($s.rule.name // "miss") \($s.state_before)>\($s.state_after) \(.verdict)"' "$1"
}

# ---- portknock: the knock sequence, then SSH ---------------------------------------
xt_ok "apply portknock" X apply "$XT_TOP/examples/portknock.xfsm" || xt_done
xt_check "no observer at the start (observe word 0)" "$(ctl_observe)" = 0
ctl_bg knock -j trace "ip.src == $CLI" -c 5 || xt_fail "trace started"
udp_from $OTHER 1111		# not selected: another source
udp_from $CLI 1111
udp_from $OTHER 2222
udp_from $CLI 2222
udp_from $CLI 3333
udp_from $CLI 4444
ctl_connect 22			# SYN, then the ACK: -c 5 takes the SYN only
xt_check "trace -c 5 exits 0" "$(ctl_bg_wait knock)" = 0
xt_check "portknock: the records are the expected decisions" "$(decisions "$T/knock")" = \
"knock knock1 closed>k1 drop
knock knock2 k1>k2 drop
knock knock3 k2>k3 drop
knock knock4 k3>open drop
knock ssh_open open>open pass"
xt_check "portknock: the first knock created the flow" \
	"$(jq -r 'select(.packet == 1) | .stages[0] | "\(.flow_before) \(.flow_after)"' "$T/knock")" = "false true"
xt_check "MATCH: only the selected source's packets" \
	"$(jq -r 'select(.packet) | .fields["ip.src"]' "$T/knock" | sort -u)" = "$CLI"
xt_check "-c 5: five records, none lost" \
	"$(jq -r 'select(.records != null) | "\(.records) \(.lost)"' "$T/knock")" = "5 0"
xt_check "trace off after -c (observe word 0)" "$(ctl_observe)" = 0

# An idle timeout's rollback: k1 with a 1 ms idle timeout has expired by
# the next packet, which sees closed.
xt_ok "k1 with a 1 ms idle timeout" X state set knock $CLI state k1 idle 1ms
ctl_bg expire -j trace "ip.src == $CLI, udp.dport == 2222" -c 1 || xt_fail "trace started"
udp_from $OTHER 2222		# not selected: another source
udp_from $CLI 2222
xt_check "trace -c 1 exits 0" "$(ctl_bg_wait expire)" = 0
xt_check "portknock: the rollback is in the record" \
	"$(jq -r 'select(.packet) | .stages[0] | "\(.state_before) \(.expired) \(.state_seen) \(.rule) \(.miss)"' "$T/expire")" = \
	"k1 idle closed null pass"
xt_check "MATCH with two fields: one record" "$(jq -r 'select(.packet) | .fields["udp.dport"]' "$T/expire")" = 2222

# ---- statefulfw: a UDP conversation opened from the inside --------------------------
xt_ok "apply statefulfw" X apply "$XT_TOP/examples/statefulfw.xfsm" || xt_done
ctl_bg fw -j trace "ip.src == $CLI, udp.dport == 7002" -c 2 || xt_fail "trace started"
udp_from $CLI 7002 2
xt_check "trace -c 2 exits 0" "$(ctl_bg_wait fw)" = 0
xt_check "statefulfw: the records are the expected decisions" "$(decisions "$T/fw")" = \
"conntrack udp_new none>open pass
conntrack udp_open open>open pass"

# ---- ratelimit: a burst of 1400-byte datagrams from one source -----------------------
# The bucket holds 16 KiB at 1 Mbit/s: the first datagrams conform and
# pass, and once it is empty most of the rest are over the rate and
# dropped (a datagram's worth of refill takes 11 ms, far longer than
# sending one, even under emulation).
xt_ok "apply ratelimit" X apply "$XT_TOP/examples/ratelimit.xfsm" || xt_done
ctl_bg rl -j trace "ip.src == $CLI, udp.dport == 7003" -c 30 --rate 0 || xt_fail "trace started"
xt_in A "$XT_PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(30):
    s.sendto(b"x" * 1400, (sys.argv[1], 7003))
' "$SRV"
xt_check "trace -c 30 exits 0" "$(ctl_bg_wait rl)" = 0
rl=$(jq -r 'select(.packet) | .stages[0].rule.name // "miss"' "$T/rl")
xt_check "ratelimit: 30 records" "$(wc -l <<<"$rl")" = 30
xt_check "ratelimit: the first 8 conform (the bucket holds 11)" \
	"$(head -8 <<<"$rl" | sort -u)" = conform
xt_check "ratelimit: once it is empty the next exceed (11 ms of refill a datagram)" \
	"$(grep -c exceed <<<"$rl")" -ge 10
xt_check "ratelimit: each conforming datagram passes, each exceeding one is dropped" \
	"$(decisions "$T/rl" | awk '{print $2, $4}' | sort -u | tr '\n' ' ')" = "conform pass exceed drop "

# ---- synflood: a TCP connection through both stages ---------------------------------
xt_ok "apply synflood" X apply "$XT_TOP/examples/synflood.xfsm" || xt_done
ctl_listen 7022 || xt_fail "listener on 7022"
ctl_bg syn -j trace "ip.src == $CLI, tcp.dport == 7022" -c 2 || xt_fail "trace started"
ctl_connect 7022		# the SYN, then the ACK of the handshake
xt_check "trace -c 2 exits 0" "$(ctl_bg_wait syn)" = 0
xt_check "synflood: the SYN is counted and opens the handshake, the ACK establishes it" \
	"$(decisions "$T/syn")" = \
"detect first_syn normal>counting pass
guard syn new>handshake pass
detect miss counting>counting pass
guard ack handshake>established pass"

# ---- arpresponder: a request learns its sender, a later one is answered ------------
# Crafted ARP requests from A (addresses nobody holds, so the kernels stay
# out of it): .10 asks for an unknown .9 (the sender is learned), then .9
# asks for .10, which the datapath now answers itself.
arp_req() {	# SPA TPA: a broadcast ARP request out of a0
	xt_in A "$XT_PY" -c '
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("a0", 0))
mac = s.getsockname()[4]
ip = lambda a: socket.inet_aton(a)
s.send(b"\xff" * 6 + mac + b"\x08\x06" + b"\x00\x01\x08\x00\x06\x04\x00\x01" +
       mac + ip(sys.argv[1]) + b"\x00" * 6 + ip(sys.argv[2]))
' "$1" "$2"
}
xt_ok "apply arpresponder" X apply "$XT_TOP/examples/arpresponder.xfsm" || xt_done
ctl_bg arp -j trace "eth.type == arp, arp.tpa == 198.18.20.8/29" -c 2 || xt_fail "trace started"
arp_req 198.18.20.10 198.18.20.9
arp_req 198.18.20.9 198.18.20.10
xt_check "trace -c 2 exits 0" "$(ctl_bg_wait arp)" = 0
xt_check "arpresponder: the first request is learned and passed, the second answered" \
	"$(decisions "$T/arp")" = \
"responder learn unknown>unknown pass
responder answer known>known tx"

# ---- the rate limit, SIGINT ---------------------------------------------------------
xt_ok "apply portknock" X apply "$XT_TOP/examples/portknock.xfsm"
ctl_bg rate -j trace "ip.src == $CLI" --rate 1/s || xt_fail "trace started"
pid=$(ctl_observer_pid)
udp_from $CLI 9000 6
kill -INT "$pid"
xt_check "SIGINT: trace exits 0" "$(ctl_bg_wait rate)" = 0
xt_check "over the rate: at most 2 records, the rest counted lost" \
	"$(jq -r 'select(.records != null) | "\(.records <= 2) \(.lost_rate >= 4) \(.records + .lost == 6)"' "$T/rate")" = \
	"true true true"
xt_check "trace off after SIGINT (observe word 0)" "$(ctl_observe)" = 0

# ---- one observer at a time; a killed one ------------------------------------------
ctl_bg one trace || xt_fail "trace started"
pid=$(ctl_observer_pid)
out=$(X trace -c 1 2>&1)
xt_check "a second trace is refused (exit 1)" $? = 1
xt_match "the refusal names the running one" "a trace .process $pid. is observing" "$out"
# A refused capture does not touch its output file.
echo "not a pcap: keep me" > "$T/kept"
out=$(X capture -w "$T/kept" -c 1 2>&1)
xt_check "a capture beside the trace is refused (exit 1)" $? = 1
xt_match "... naming the trace" "a trace .process $pid. is observing" "$out"
xt_check "... and its -w file is as before" "$(cat "$T/kept")" = "not a pcap: keep me"
kill -KILL "$pid"
xt_check "after SIGKILL the observe word stays set" "$(ctl_observe)" = 1
xt_check "trace status shows its process gone" "$(X -j trace status | jq -r '"\(.observer) \(.alive)"')" = "trace false"
ctl_bg takeover -j trace "ip.src == $CLI" -c 1 || xt_fail "a new trace takes over from the killed one"
udp_from $CLI 9001
xt_check "the new trace runs (exit 0)" "$(ctl_bg_wait takeover)" = 0
xt_check "the new trace has its record" "$(jq -r 'select(.packet) | .fields["udp.dport"]' "$T/takeover")" = 9001
ctl_bg killed trace || xt_fail "trace started"
kill -KILL "$(ctl_observer_pid)"
xt_check "trace stop turns off a killed trace's recording" \
	"$(X -j trace stop | jq -r .observer) $(ctl_observe)" = "trace 0"

# ---- capture -------------------------------------------------------------------------
# Frames sent raw from A: UDP from $CLI to ports 1111 (dropped by the
# knock rule), 9100 and 9101 (passed), of 60 to 1200 bytes; one from
# $OTHER.  Written to $T/sent as "hex" lines in the order sent.
send_frames() {
	xt_in A "$XT_PY" - "$@" <<'PY'
import socket, struct, sys
dst_mac, src_mac, out = sys.argv[1], sys.argv[2], sys.argv[3]
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
def frame(src, dport, n):
    payload = bytes((i * 7) & 0xff for i in range(n))
    udp = struct.pack("!HHHH", 40000, dport, 8 + n, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton("198.18.20.2"))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    mac = lambda m: bytes.fromhex(m.replace(":", ""))
    return mac(dst_mac) + mac(src_mac) + b"\x08\x00" + ip + udp
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("a0", 0))
with open(out, "w") as f:
    for src, dport, n in [("198.18.20.1", 1111, 18), ("198.18.20.3", 9100, 30),
                          ("198.18.20.1", 9100, 1000), ("198.18.20.1", 9101, 300)]:
        fr = frame(src, dport, n)
        s.send(fr)
        f.write("%s %d %s\n" % (src, dport, fr.hex()))
PY
}
# pcap_hex FILE: "caplen origlen hex" of each packet (a classic pcap).
pcap_hex() {
	"$XT_PY" - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
magic, = struct.unpack("<I", d[:4])
assert magic == 0xa1b2c3d4, hex(magic)
o = 24
while o < len(d):
    _, _, cap, orig = struct.unpack("<IIII", d[o:o + 16])
    print(cap, orig, d[o + 16:o + 16 + cap].hex())
    o += 16 + cap
PY
}
B_MAC=$(ip -n "$XT_NS_B" -j link show b0 | jq -r '.[0].address')
A_MAC=$(ip -n "$XT_NS_A" -j link show a0 | jq -r '.[0].address')

# -Z root: a guest without the tcpdump user (the VM) reads it too.
ctl_bg cap capture "ip.src == $CLI" -w "$T/all.pcap" -c 3 || xt_fail "capture started"
send_frames "$B_MAC" "$A_MAC" "$T/sent"
xt_check "capture -c 3 exits 0" "$(ctl_bg_wait cap)" = 0
xt_ok "tcpdump reads the file" tcpdump -Z root -nn -r "$T/all.pcap"
xt_check "tcpdump sees three UDP packets" "$(tcpdump -Z root -nn -r "$T/all.pcap" 2>/dev/null | grep -c 'UDP')" = 3
want=$(awk -v c="$CLI" '$1 == c { print length($3) / 2, length($3) / 2, $3 }' "$T/sent")
xt_check "the packets are the frames sent from $CLI, byte for byte" "$(pcap_hex "$T/all.pcap")" = "$want"
xt_check "capture off after -c (observe word 0)" "$(ctl_observe)" = 0

ctl_bg drop capture "ip.src == $CLI" --verdict drop -w "$T/drop.pcap" -c 1 || xt_fail "capture started"
send_frames "$B_MAC" "$A_MAC" "$T/sent"
xt_check "capture --verdict drop exits 0" "$(ctl_bg_wait drop)" = 0
xt_check "--verdict drop: only the dropped knock" \
	"$(pcap_hex "$T/drop.pcap" | awk '{ print $3 }')" = "$(awk '$2 == 1111 { print $3 }' "$T/sent" | grep .)"
xt_ok "state flush" X state flush

ctl_bg snap -j capture "udp.dport == 9100" --stage knock -s 40 -w "$T/snap.pcap" -c 2 || xt_fail "capture started"
send_frames "$B_MAC" "$A_MAC" "$T/sent"
xt_check "capture --stage -s 40 exits 0" "$(ctl_bg_wait snap)" = 0
xt_check "-s 40: packets cut to 40 bytes, their length kept" \
	"$(pcap_hex "$T/snap.pcap" | awk '{ print $1, $2, $3 }')" = \
	"$(awk '$2 == 9100 { print 40, length($3) / 2, substr($3, 1, 80) }' "$T/sent" | grep .)"
xt_check "capture -j: the summary" "$(jq -r '"\(.file) \(.packets) \(.lost)"' "$T/snap")" = "$T/snap.pcap 2 0"

# ---- bad arguments: exit 2, nothing changes -------------------------------------------
before=$(ctl_snapshot)
bad() {
	local label=$1 want=$2
	shift 2
	out=$(X "$@" 2>&1)
	xt_check "$label: exit 2" $? = 2
	xt_match "$label: names the argument" "$want" "$out"
}
bad "bad MATCH" "tcp.dprot" trace "tcp.dprot == 22" -c 1
bad "bad MATCH (capture)" "tcp.dprot" capture "tcp.dprot == 22" -w "$T/x.pcap"
bad "unknown stage" "no stage 'nosuch'" capture --stage nosuch -w "$T/x.pcap"
bad "missing -w" "-w FILE" capture "ip.src == $CLI"
bad "unknown verdict" "'dorp'" capture --verdict dorp -w "$T/x.pcap"
bad "--stage and --verdict" "one" capture --stage knock --verdict drop -w "$T/x.pcap"
bad "bad rate" "--rate" trace --rate fast
bad "snap length 0" "-s" capture -s 0 -w "$T/x.pcap"
bad "unknown option" "'--frobnicate'" trace --frobnicate
xt_check "bad arguments left no file" "$(ls "$T"/x.pcap 2>/dev/null)" = ""
xt_check "bad arguments left the observe word 0" "$(ctl_observe)" = 0
xt_check "bad arguments changed no table" "$(ctl_snapshot)" = "$before"

xt_done
