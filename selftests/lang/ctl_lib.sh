# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Helpers shared by the xfsmctl end-to-end tests (sourced after lib.sh):
# a client namespace A and a server namespace B joined by a veth pair, the
# datapath attached to B's end, xfsmctl run in B against that instance, and
# a table snapshot to prove that failures change nothing.

CTL="$XT_BUILD/xfsmctl"
LOADER="$XT_BUILD/xfsm-loader"
SRV=198.18.20.2
CLI=198.18.20.1

ctl_setup() {
	xt_require_root
	xt_require_cmd ip nsenter jq timeout "$XT_PY"
	xt_require_file "$CTL" "$XT_BUILD/xfsm.bpf.o"
	xt_bpffs || xt_skip "cannot mount bpffs"
	xt_netns_add A
	xt_netns_add B
	xt_veth A a0 "$CLI/24" B b0 "$SRV/24" || { xt_fail "veth"; xt_done; }
	INST="xt$XT_ID-ctl"
	PIN=/sys/fs/bpf/xfsm/$INST	# the instance's pin directory
	xt_defer "rm -rf '$PIN'"
	if [ -x "$LOADER" ]; then
		xt_defer "xt_in B '$LOADER' unload --instance '$INST'"
		if ! xt_ok "attach the datapath to b0 (xfsm-loader)" \
			xt_in B "$LOADER" load --mode skb --instance "$INST" ${CTL_LOAD_ARGS:-} b0; then
			xt_done
		fi
		X() { xt_in B "$CTL" --instance "$INST" "$@"; }
	else
		# no loader: attach with iproute2 and find the maps by program id
		if ! xt_ok "attach the datapath to b0 (ip link)" \
			ip -n "$XT_NS_B" link set dev b0 xdpgeneric obj "$XT_BUILD/xfsm.bpf.o" sec xdp; then
			xt_done
		fi
		X() { xt_in B "$CTL" -i b0 "$@"; }
	fi
}

# ctl_monitor OUT ERR ARGS...: `xfsmctl ARGS` (a monitor) run in B in the
# background, its output in OUT and ERR, returned once it says it listens
# (its readiness line on stderr); its pid in CTL_MON.
ctl_monitor() {
	local out=$1 err=$2 i
	shift 2
	nsenter --net="/run/netns/$XT_NS_B" -- "$CTL" --instance "$INST" "$@" >"$out" 2>"$err" &
	CTL_MON=$!
	xt_defer "kill -9 $CTL_MON 2>/dev/null"
	for ((i = 0; i < 200; i++)); do
		grep -q "monitoring flow events" "$err" 2>/dev/null && return 0
		kill -0 "$CTL_MON" 2>/dev/null || break
		sleep 0.05
	done
	xt_log "the monitor did not start: $(cat "$err")"
	return 1
}

# A TCP listener that accepts any number of connections on port $1, in
# namespace $2 at address $3 (default: B, $SRV).
ctl_listen() {
	xt_in "${2:-B}" timeout 300 "$XT_PY" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
while True:
    c, a = s.accept()
    c.close()
' "${3:-$SRV}" "$1" >/dev/null 2>&1 &
	xt_defer "kill $! 2>/dev/null"
	xt_wait_tcp "${2:-B}" "${3:-$SRV}:$1"
}

# TCP connect from A to port $1 of $2 (default $SRV) within one second (a
# dropped SYN fails); three under emulation (XT_EMULATED), where starting
# Python alone can take seconds.
ctl_connect() {
	local wait=1 limit=3

	[ -n "${XT_EMULATED:-}" ] && { wait=3; limit=12; }
	xt_in A timeout "$limit" "$XT_PY" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
s.close()
' "${2:-$SRV}" "$1" "$wait" >/dev/null 2>&1
}

# One UDP datagram from A to port $1 of $2 (default $SRV).
ctl_udp_send() {
	xt_in A "$XT_PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"knock", (sys.argv[1], int(sys.argv[2])))
' "${2:-$SRV}" "$1"
}

# Every table, as JSON, without what moves on its own (timers, counters of
# background traffic such as IPv6 router solicitations).
ctl_snapshot() {
	{
		X -j show
		X -j state list
		X -j global get
	} 2>&1 | jq -S -c 'walk(if type == "object" then
		del(.remaining_s, .expired, .age_s, .stats, .packets, .bytes, .rx_packets, .rx_bytes, .tx_packets, .tx_bytes) else . end)' 2>&1
}

# ---- observers (trace, capture) and xfsm_progs ------------------------------------

# The observe word of the instance's control block, and the observer's pid.
ctl_observe() { X -j trace status | jq -r .observe; }
ctl_observer_pid() { X -j trace status | jq -r .pid; }

# ctl_bg NAME CMD...: xfsmctl CMD in the background (output $T/NAME, exit
# status $T/NAME.rc; T is the caller's temporary directory), returning
# once the datapath observes.
ctl_bg() {
	local name=$1 i
	shift
	(X "$@" >"$T/$name" 2>"$T/$name.err"; echo $? >"$T/$name.rc") &
	for ((i = 0; i < 100; i++)); do
		if [ "$(ctl_observe)" != 0 ]; then
			xt_defer "kill $(ctl_observer_pid)"
			return 0
		fi
		[ -e "$T/$name.rc" ] && break
		sleep 0.05
	done
	xt_log "the observer did not start: $(cat "$T/$name.err")"
	return 1
}

# ctl_bg_wait NAME: its exit status, within 10 s.
ctl_bg_wait() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ -s "$T/$1.rc" ] && { cat "$T/$1.rc"; return; }
		sleep 0.05
	done
	echo timeout
}

# The instance's xfsm_progs as "KEY=PROG_ID ..." (a program array's values
# read back as program ids; bpftool prints them as little-endian hex
# bytes, or as numbers with BTF).
ctl_progs() {
	bpftool -j map dump pinned "/sys/fs/bpf/xfsm/$INST/xfsm_progs" 2>/dev/null | jq -r '
		def hex: ltrimstr("0x") | ascii_downcase | explode |
			reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end));
		def num: if type == "array" then (reverse | reduce .[] as $b (0; . * 256 + ($b | hex)))
			 else . end;
		[.[] | "\(.key | num)=\(.value | num)"] | join(" ")'
}
# ctl_progs_entry KEY: the program id in xfsm_progs[KEY], "" when empty.
ctl_progs_entry() { ctl_progs | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }
