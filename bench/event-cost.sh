#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# The cost of a flow event (xfsmctl monitor) to the datapath, from the
# kernel's bpf_stats: the program's run time per packet over a burst of
# UDP datagrams that each make one event (a table-full refusal: the flow
# table of selftests/lang/monitor_events.xfsm is 4 entries, filled first),
# with no monitor, with a monitor listening, and with none again, ROUNDS
# times in turn.  Traffic between two namespaces of its own over a veth
# pair (198.18.20.0/24), the datapath in skb mode on the receiving end.
#
# Usage (root, after make): bench/event-cost.sh [PACKETS] [ROUNDS]
# Not a test: it prints figures and asserts nothing.

. "$(dirname "$0")/../selftests/sh/lib.sh"
. "$(dirname "$0")/../selftests/lang/ctl_lib.sh"

N=${1:-20000}
ROUNDS=${2:-3}
CTL_LOAD_ARGS="--flows 4 --flow-table hash"
xt_require_cmd bpftool
ctl_setup
X apply "$XT_TOP/selftests/lang/monitor_events.xfsm" >/dev/null || exit 1
for p in 1003 1004 1005 1006; do ctl_udp_send $p; done
id=$(xt_xfsm_prog_id B b0)
[ -n "$id" ] || { echo "no xfsm program on b0"; exit 1; }
old=$(sysctl -n kernel.bpf_stats_enabled)
xt_defer "sysctl -qw kernel.bpf_stats_enabled=$old"
sysctl -qw kernel.bpf_stats_enabled=1

stats() { bpftool -j prog show id "$id" | jq -r '"\(.run_time_ns) \(.run_cnt)"'; }

# burst LABEL: N datagrams to a port without a flow; prints ns per packet
burst() {
	local t0 c0 t1 c1
	read -r t0 c0 < <(stats)
	xt_in A "$XT_PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    s.sendto(b"x", (sys.argv[1], int(sys.argv[2])))
' "$SRV" 1007 "$N"
	read -r t1 c1 < <(stats)
	printf '%-22s %8d packets %8.1f ns/packet\n' "$1" $((c1 - c0)) \
		"$(echo "($t1 - $t0) / ($c1 - $c0)" | bc -l)"
}

W=$(mktemp -d)
xt_defer "rm -rf '$W'"
for ((r = 1; r <= ROUNDS; r++)); do
	burst "round $r: no monitor"
	ctl_monitor /dev/null "$W/err" monitor
	mon=$CTL_MON
	burst "round $r: monitor"
	kill -TERM $mon
	wait $mon
	grep "shown" "$W/err"
done
uname -r
