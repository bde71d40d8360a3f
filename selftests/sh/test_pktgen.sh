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
# check runs once per engine: the AF_PACKET engine and the loop engine
# (frames round the veth pair l0 -> l1 in G) always, the live-frames
# engine where the kernel allows it (some kernels refuse live frames with
# EPERM: then those checks are reported skipped, and --engine auto must
# fall back to the loop engine with --loop-dev, else the packet engine,
# and say so).  The loop's own checks: its attachment goes with the
# process, even killed; its frames stop at the program's own time bound,
# the process stopped; --clone; bad loops refused.
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
# The loop engine's pair: the generator feeds l0, its program runs on l1.
ip -n "$XT_NS_G" link add l0 type veth peer name l1 &&
	ip -n "$XT_NS_G" link set l0 up && ip -n "$XT_NS_G" link set l1 up ||
	{ xt_fail "loop veth"; xt_done; }

# The loop engine broadcasts to a devmap (Linux 5.14): the loader's probe says.
LOOP=1
if [ "$("$XT_BUILD/xfsm-loader" features -j | jq -r '.features[] | select(.name == "broadcast") | .state')" != yes ]; then
	LOOP=0
	echo "SKIP: the loop engine's checks: this kernel cannot broadcast to a devmap"
fi

ENGINE=packet
gen() { xt_in G "$PKTGEN" --dev g0 --dst-mac "$DMAC" --engine "$ENGINE" --loop-dev l0 -j "$@"; }
l1_xdp() { ip -n "$XT_NS_G" -j link show l1 | jq -r '.[0].xdp.prog.id // .[0].xdp.attached[0].prog.id // "none"'; }

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
	if [ "$LOOP" = 1 ]; then
		out=$(xt_in G "$PKTGEN" --dev g0 --dst-mac "$DMAC" --engine auto --loop-dev l0 --count 1 -j 2>"$TMP/err")
		xt_check "--engine auto --loop-dev: falls back to the loop engine" "$(jq -r .engine <<<"$out")" = loop
		xt_ok "--engine auto --loop-dev: says so" grep -q "round the loop instead" "$TMP/err"
	fi
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

for ENGINE in packet loop live; do
	[ "$ENGINE" = live ] && [ "$LIVE" = 0 ] && continue
	[ "$ENGINE" = loop ] && [ "$LOOP" = 0 ] && continue
	echo "-- engine $ENGINE"
	xt_ok "attach the sink to d0" \
		ip -n "$XT_NS_D" link set dev d0 xdp obj "$SINK" sec xdp || continue
	at_sink
	ip -n "$XT_NS_D" link set dev d0 xdp off
	at_stack
	xt_in D ethtool -K d0 gro off >/dev/null
	[ "$ENGINE" = loop ] && xt_check "loop engine: no program left on l1 after the runs" "$(l1_xdp)" = none
done

# ---- the loop engine's own checks ---------------------------------------------
loop_checks() {
	ENGINE=loop
	xt_nok "loop: --engine loop without --loop-dev refused" \
		xt_in G "$PKTGEN" --dev g0 --dst-mac "$DMAC" --engine loop --count 1
	xt_nok "loop: a device that is not a veth refused" gen --count 1 --loop-dev lo
	xt_nok "loop: a veth whose peer is in another netns refused" gen --count 1 --loop-dev g0
	xt_nok "loop: --count not a multiple of --clone refused" gen --count 1000 --clone 3
	xt_nok "loop: --clone past 8 refused" gen --count 900 --clone 9
	xt_ok "attach the sink to d0" ip -n "$XT_NS_D" link set dev d0 xdp obj "$SINK" sec xdp
	# Each flow's frames 3 in a row: 3000 frames of 1500 flows are flows
	# 0-999.  Paced, so that a slow receiver (a guest's) loses none of the
	# bursts.
	sink_reset
	out=$(gen --count 3000 --clone 3 --flows 1500 --rate 100000)
	sleep_drain
	xt_check "loop, --clone 3: reports 3000 sent" "$(jq .sent <<<"$out")" = 3000
	xt_check "loop, --clone 3: 3000 delivered" "$(sink_pkts)" = 3000
	xt_check "loop, --clone 3: 1000 distinct sources (3 frames each)" "$(sink_srcs)" = 1000
	# Paced, the loop sends its copies at once and keeps the rate in frames.
	out=$(gen --duration 0.3 --rate 20000 --clone 4)
	xt_check "loop, --clone 4: at most 20000/s over the run's duration (+8 x 4) ($(jq -c '[.sent, .duration_s]' <<<"$out"))" \
		"$(jq '.sent > 0 and .sent <= 20000 * .duration_s + 32' <<<"$out")" = true
	# Sends further apart than a second are no stall: 2 frames/s in sends of
	# 4, the first 9 sends at once (the catch-up), the 10th 2 s later.
	out=$(gen --count 40 --rate 2 --clone 4)
	xt_check "loop, sends 2 s apart: 40 sent, no stall ($(jq -c '[.sent, .duration_s]' <<<"$out"))" \
		"$(jq '.sent == 40 and .duration_s >= 1.5' <<<"$out")" = true
	ENGINE=packet
	sink_reset
	out=$(gen --count 3000 --clone 3 --flows 1500)
	sleep_drain
	xt_check "packet engine, --clone 3: 3000 delivered, 1000 distinct sources" \
		"$(sink_pkts) $(sink_srcs)" = "3000 1000"
	ENGINE=loop

	# bg_gen ARGS: the loop engine in the background, $! its own pid (nsenter
	# execs it), killed at exit whatever happens.
	bg_gen() {
		nsenter --net="/run/netns/$XT_NS_G" "$PKTGEN" --dev g0 --dst-mac "$DMAC" --engine loop \
			--loop-dev l0 "$@" >/dev/null 2>&1 &
		gpid=$!
		xt_defer "kill -KILL $gpid 2>/dev/null"
	}
	# A generator killed mid-run takes its attachment (a BPF link) with it:
	# nothing is left on l1, and nothing more reaches the sink.
	bg_gen --duration 20
	for _ in $(seq 50); do [ "$(l1_xdp)" != none ] && break; sleep 0.1; done
	xt_check "loop: the program runs on l1 during a run" "$(l1_xdp)" != none
	kill -KILL "$gpid" 2>/dev/null; wait "$gpid" 2>/dev/null
	xt_check "loop: killed, its program is gone from l1" "$(l1_xdp)" = none
	sleep_drain
	a=$(sink_pkts); sleep 0.5
	xt_check "loop: killed, no more frames reach the receiver ($a)" "$(sink_pkts)" = "$a"

	# The program bounds the loop by itself: a process that can no longer say
	# stop (SIGSTOP) still has its frames leave the loop a second after the
	# longest run it asked for (--duration 0.5).
	bg_gen --duration 0.5
	for _ in $(seq 50); do [ "$(l1_xdp)" != none ] && break; sleep 0.1; done
	kill -STOP "$gpid"
	sleep 2.5
	a=$(sink_pkts); sleep 0.5; b=$(sink_pkts)
	xt_check "loop: process stopped, the program ended the loop by itself ($a, $b)" "$a" = "$b"
	xt_check "loop: ... after sending ($a)" "$a" -gt 0
	kill -CONT "$gpid"; wait "$gpid" 2>/dev/null
	xt_check "loop: the stopped process, resumed, ended and left nothing on l1" "$(l1_xdp)" = none
	ip -n "$XT_NS_D" link set dev d0 xdp off
}
[ "$LOOP" = 1 ] && loop_checks

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
