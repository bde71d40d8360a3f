#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsm-pktgen (bench/pktgen.c): a generator namespace G sends over the veth
# g0 -> d0 into a receiving namespace D.  At the receiver, an XDP program
# (bench/sink.bpf.o) counts frames and distinct (source address, port)
# pairs; then the kernel stack of D checks the generated checksums (its
# SNMP counters).  Asserts: packets delivered = packets requested, flows
# varied as asked (IPv4, IPv6, beyond 65536 flows), count and duration
# bounds, refusal of addresses outside the benchmarking ranges.  Each
# check runs once per engine: the AF_PACKET engine always, the live-frames
# engine where the kernel allows it (some kernels refuse live frames with
# EPERM: then those checks are reported skipped, and --engine auto must
# fall back to the packet engine and say so).
# No performance assertion: rates are for `make bench`.
#
# Under selftests/run.sh's lanes it runs alone: its unpaced bursts must all
# arrive, and a receiver that shares its CPU with another suite drops some
# (70000 flows: 114544 of 140000 delivered in the 6.1 guest beside another
# lane).
# xt-lanes: alone

. "$(dirname "$0")/lib.sh"

xt_require_root
xt_require_cmd ip nsenter jq ethtool
PKTGEN="$XT_BUILD/xfsm-pktgen"
SINK="$XT_BUILD/bench/sink.bpf.o"
xt_require_file "$PKTGEN" "$SINK" "$XT_BUILD/bench/sink" "$XT_BUILD/bench/pktgen.bpf.o"

xt_netns_add G
xt_netns_add D
xt_veth G g0 - D d0 "198.19.255.1/16 2001:2:0:ffff::1/64" || { xt_fail veth; xt_done; }
DMAC=$(ip -n "$XT_NS_D" -j link show d0 | jq -r '.[0].address')

ENGINE=packet
gen() { xt_in G "$PKTGEN" --dev g0 --dst-mac "$DMAC" --engine "$ENGINE" -j "$@"; }

# Does this kernel run live frames?  The probe's own message decides.
probe_err=$(xt_in G "$PKTGEN" --dev g0 --dst-mac "$DMAC" --engine live --count 1 -j 2>&1 >/dev/null)
probe_rc=$?
if [ "$probe_rc" -eq 0 ]; then
	LIVE=1
elif grep -q "refuses live frames" <<<"$probe_err"; then
	LIVE=0
	echo "SKIP: the live-frames engine's checks: this kernel refuses live frames ($probe_err)"
else
	xt_fail "live-frames probe failed for another reason: $probe_err"
	xt_done
fi
xt_tmpdir TMP
out=$(xt_in G "$PKTGEN" --dev g0 --dst-mac "$DMAC" --engine auto --count 1 -j 2>"$TMP/err")
if [ "$LIVE" = 1 ]; then
	xt_check "--engine auto: live frames where the kernel runs them" "$(jq -r .engine <<<"$out")" = live
else
	xt_check "--engine auto: falls back to the packet engine" "$(jq -r .engine <<<"$out")" = packet
	xt_ok "--engine auto: says why it falls back" grep -q "refuses live frames" "$TMP/err"
fi
xt_nok "refuses an unknown engine" gen --engine warp --count 1

# ---- at the XDP sink ----------------------------------------------------------
SINKSTAT="$XT_BUILD/bench/sink"
sink_stat() { xt_in D "$SINKSTAT" d0 | jq ".$1"; }
sink_pkts() { sink_stat packets; }
sink_srcs() { sink_stat sources; }
sink_ports() { sink_stat ports; }
sink_reset() {	# reattaching gives the sink fresh maps
	ip -n "$XT_NS_D" link set dev d0 xdp off
	ip -n "$XT_NS_D" link set dev d0 xdp obj "$SINK" sec xdp
}
sleep_drain() { sleep 0.3; }

at_sink() {
	xt_check "sink readable" "$(sink_pkts)" = 0 || return

	out=$(gen --count 20000)
	xt_check "1 flow: reports 20000 sent" "$(jq .sent <<<"$out")" = 20000
	sleep_drain
	xt_check "1 flow: 20000 delivered" "$(sink_pkts)" = 20000
	xt_check "1 flow: one source seen" "$(sink_srcs)" = 1

	sink_reset
	out=$(gen --count 5000 --flows 1000 --udp)
	sleep_drain
	xt_check "IPv4 UDP, 1000 flows: 5000 delivered" "$(sink_pkts)" = 5000
	xt_check "IPv4 UDP, 1000 flows: 1000 distinct sources" "$(sink_srcs)" = 1000
	xt_check "IPv4 UDP, 1000 flows: one source port" "$(sink_ports)" = 1

	sink_reset
	out=$(gen --count 3000 --flows 300 --ipv6 --tcp --tcp-flags syn,ack)
	sleep_drain
	xt_check "IPv6 TCP, 300 flows: 3000 delivered" "$(sink_pkts)" = 3000
	xt_check "IPv6 TCP, 300 flows: 300 distinct sources" "$(sink_srcs)" = 300
	xt_check "IPv6 TCP, 300 flows: one source port" "$(sink_ports)" = 1

	sink_reset
	out=$(gen --count 140000 --flows 70000)
	sleep_drain
	got=$(sink_pkts)
	xt_check "70000 flows: 140000 delivered" "$got" = 140000
	xt_check "70000 flows: 70000 distinct address/port pairs" "$(sink_srcs)" = 70000
	xt_check "70000 flows: two source ports (65536 addresses each)" "$(sink_ports)" = 2

	# Bounds.  Unpaced, the receiver may lose frames (its ring is full), but
	# it never sees more than were sent, and the generator stops where told.
	sink_reset
	out=$(gen --count 300000)
	xt_check "count bound: reports exactly 300000 sent" "$(jq .sent <<<"$out")" = 300000
	sleep_drain
	got=$(sink_pkts)
	xt_check "count bound: receiver saw at most 300000 ($got)" "$got" -le 300000 -a "$got" -gt 0

	out=$(gen --duration 0.5)
	dur=$(jq .duration_s <<<"$out")
	xt_check "duration bound: stopped after 0.5 s ($dur s, generous upper bound 2 s)" \
		"$(jq '.duration_s >= 0.5 and .duration_s < 2' <<<"$out")" = true
	xt_check "duration bound: packets sent" "$(jq '.sent > 0' <<<"$out")" = true

	out=$(gen --duration 5 --count 1000)
	xt_check "count ends a run before its duration" "$(jq '.sent == 1000 and .duration_s < 5' <<<"$out")" = true

	out=$(gen --count 256 --rate 1000 --batch 64)
	xt_check "rate bound: 256 packets at 1000/s take >= 0.19 s" \
		"$(jq '.sent == 256 and .duration_s >= 0.19' <<<"$out")" = true
	# The paced program sends at most one frame per 1/rate of the clock after
	# a start of at most 8 (its catch-up): over the run's own duration, never
	# more than rate x duration + 8, whatever the machine's speed.
	out=$(gen --duration 0.3 --rate 20000)
	xt_check "rate bound: at most 20000/s over the run's duration (+8) ($(jq -c '[.sent, .duration_s]' <<<"$out"))" \
		"$(jq '.sent > 0 and .sent <= 20000 * .duration_s + 8' <<<"$out")" = true
	sink_reset
	out=$(gen --count 3000 --rate 100000 --flows 3000)
	sleep_drain
	xt_check "paced, 3000 flows: reports exactly 3000 sent" "$(jq .sent <<<"$out")" = 3000
	xt_check "paced, 3000 flows: 3000 delivered" "$(sink_pkts)" = 3000
	xt_check "paced, 3000 flows: 3000 distinct sources (the sequence goes on across calls)" \
		"$(sink_srcs)" = 3000
}

# Benchmarking ranges only
xt_nok "refuses a source outside 198.18.0.0/15" gen --count 1 --src 10.0.0.1
xt_nok "refuses a destination outside 198.18.0.0/15" gen --count 1 --dst 192.0.2.1
xt_nok "refuses flows that leave 198.18.0.0/15" gen --count 1 --src 198.19.255.0 --flows 1000
xt_nok "refuses IPv6 outside 2001:2::/48" gen --count 1 --ipv6 --src 2001:db8::1
xt_nok "refuses a missing device" xt_in G "$PKTGEN" --dev nosuch0 --count 1

# ---- at D's kernel stack: checksums of varied flows --------------------------
at_stack() {
	ip -n "$XT_NS_D" link set dev d0 xdp off
	# XDP frames into a veth without an XDP program need NAPI, i.e. GRO on.
	xt_ok "GRO on d0" xt_in D ethtool -K d0 gro on
	snmp() {	# snmp FILE PROTO FIELD
		xt_in D cat "/proc/net/$1" | awk -v p="$2:" -v f="$3" '
			$1 == p && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
			$1 == p && h { print $col[f] }'
	}
	snmp6() { xt_in D cat /proc/net/snmp6 | awk -v f="$1" '$1 == f { print $2 }'; }

	u0=$(snmp snmp Udp NoPorts); e0=$(snmp snmp Udp InCsumErrors); h0=$(snmp snmp Ip InHdrErrors)
	gen --count 2000 --flows 500 --dport 7 --dst 198.19.255.1 >/dev/null
	sleep_drain
	xt_check "IPv4 UDP checksums valid: 2000 reached UDP" "$(( $(snmp snmp Udp NoPorts) - u0 ))" = 2000
	xt_check "IPv4 UDP: no checksum errors" "$(snmp snmp Udp InCsumErrors)" = "$e0"
	xt_check "IPv4: no header errors" "$(snmp snmp Ip InHdrErrors)" = "$h0"

	t0=$(snmp snmp Tcp InSegs); e0=$(snmp snmp Tcp InCsumErrors)
	gen --count 1000 --flows 100 --tcp --dport 22 --size 100 --dst 198.19.255.1 >/dev/null
	sleep_drain
	xt_check "IPv4 TCP checksums valid: 1000 segments reached TCP" "$(( $(snmp snmp Tcp InSegs) - t0 ))" = 1000
	xt_check "IPv4 TCP: no checksum errors" "$(snmp snmp Tcp InCsumErrors)" = "$e0"

	u0=$(snmp6 Udp6NoPorts); e0=$(snmp6 Udp6InCsumErrors)
	gen --count 1500 --flows 70000 --ipv6 --dport 7 --dst 2001:2:0:ffff::1 >/dev/null
	sleep_drain
	xt_check "IPv6 UDP checksums valid: 1500 reached UDP" "$(( $(snmp6 Udp6NoPorts) - u0 ))" = 1500
	xt_check "IPv6 UDP: no checksum errors" "$(snmp6 Udp6InCsumErrors)" = "$e0"
}

for ENGINE in packet live; do
	[ "$ENGINE" = live ] && [ "$LIVE" = 0 ] && continue
	echo "-- engine $ENGINE"
	xt_ok "attach the sink to d0" \
		ip -n "$XT_NS_D" link set dev d0 xdp obj "$SINK" sec xdp || continue
	at_sink
	ip -n "$XT_NS_D" link set dev d0 xdp off
	at_stack
	xt_in D ethtool -K d0 gro off >/dev/null
done

# The packet engine sends a frame the veth refuses again (it is held back
# to what the receiver takes); a receiver that takes nothing ends the run
# with an error instead of a spin.
ENGINE=packet
ip -n "$XT_NS_D" link set dev d0 down
t0=$SECONDS
xt_nok "packet engine: a receiver that takes nothing ends the run" \
	timeout 20 nsenter --net="/run/netns/$XT_NS_G" "$PKTGEN" --dev g0 --dst-mac "$DMAC" --engine packet --count 100000
xt_check "packet engine: ... within seconds, by itself ($((SECONDS - t0)) s)" $((SECONDS - t0)) -lt 10
ip -n "$XT_NS_D" link set dev d0 up

xt_done
