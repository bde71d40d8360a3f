#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsmctl -j (issue 16 item 2): every command's output, and every error,
# is checked against the shapes documented in docs/json.md (read from
# there: a shape changed in the code and not in the document fails), with
# -j before and after the command.  Every command that `xfsmctl help`
# lists must have a case here, so a new command cannot go unchecked.
# Values are typed (numbers are numbers), and stats --watch samples carry
# their time.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

ctl_setup
xt_tmpdir T
cat >"$T/acl.xfsm" <<'APP'
app withacl
acl front table 2 {
	miss allow
	rule prio 10 src 198.18.0.0/15 proto tcp dport 22 => deny
}
stage s {
	key ip.src
	rule r1 when udp.dport == 9 => drop
}
APP
xt_ok "apply portknock" X apply "$XT_TOP/examples/portknock.xfsm" || xt_done
ctl_udp_send 1111

JS_DIR=$T
. "$(dirname "$0")/json_lib.sh"
JS_TOOL=xfsmctl
JS_RUN=X
# "SHAPE|EXIT|COMMAND", run by json_lib.sh's case_json
cases=(
	"show|0|show"
	"show|0|show app"
	"show|0|show stages"
	"show|0|show rules"
	"show|0|show conditions"
	"show|0|show globals"
	"show|0|show ports"
	"show|0|apply --dry-run $T/acl.xfsm"
	"show|0|apply --dry-run $XT_TOP/examples/loadbalancer.xfsm"
	"flows|0|state list"
	"flows|0|state list knock"
	"flow|0|state get knock 198.18.20.1"
	"flow|0|state get knock 198.18.20.77"
	"flow|0|first:state set knock 198.18.20.9 state k2 idle 30s reg0 5"
	"deleted|0|last:state del knock 198.18.20.9"
	"flow|0|last:state set knock 198.18.20.9 state k2 idle 30s reg0 5"
	"deleted|0|first:state del knock 198.18.20.9"
	"stats|0|stats"
	"stats|0|stats --watch -c 2 --interval 0.1"
	"globals|0|global get"
	"globals|0|global get 2"
	"globals|0|global set 2 7"
	"show|0|rule show"
	"rule_change|0|first:rule add knock 'rule extra when udp.dport == 9 => drop'"
	"rule_change|0|last:rule del knock extra"
	"rule_change|0|last:rule add knock 'rule extra when udp.dport == 9 => drop'"
	"rule_change|0|first:rule del knock extra"
	"show|0|port show"
	"ports|0|port set 1 down"
	"ports|0|port set 1 up"
	"port_sync|0|port sync"
	"acl_change|0|first:acl add id 7 dport 9 '=>' deny"
	"acl_change|0|last:acl del 7"
	"acl_change|0|last:acl add id 7 dport 9 '=>' deny"
	"acl_table|0|acl show"
	"acl_change|0|first:acl del 7"
	"acl_change|0|acl load table 3 $T/rules.acl"
	"acl_change|0|acl flush table 3"
	"groups|0|first:group add 4 weighted 1:3"
	"group_deleted|0|last:group del 4"
	"groups|0|last:group add 4 weighted 1:3"
	"groups|0|group set 4 rr 1"
	"groups|0|group set 4 rr 1 mac 02:00:00:00:01:00"
	"groups|0|group show"
	"groups|0|group show 4"
	"group_deleted|0|first:group del 4"
	"graph|0|show pipeline"
	"graph|0|show fsm knock"
	"simulation|0|simulate ip.src=198.18.20.1 udp.dport=3333 then ip.src=198.18.20.1 tcp.dport=22"
	"simulation|0|simulate --app $T/acl.xfsm ip.src=198.18.0.1 tcp.dport=22 then udp.dport=9"
	"error|2|simulate tcp.dprot=22"
	"trace|0|trace ip.src == 198.18.20.5 -c 1 --rate 1000/s"
	"trace_status|0|trace status"
	"trace_status|0|trace stop"
	"capture|0|capture ip.src == 198.18.20.5 -w $T/c.pcap -c 1"
	"error|2|trace tcp.dprot == 22"
	"error|2|capture ip.src == 198.18.20.1"
	"monitor_status|0|monitor status"
	"monitor_status|0|monitor stop"
	"error|2|monitor nosuch"
	"fields|0|fields"
	"fields|0|fields tcp.dport meta.random"
	"error|2|fields ip.srcx"
	"help|0|help"
	"help|0|help state"
	"help|0|state list --help"
	"version|0|-V"
	"error|2|state list knock extra"
	"error|1|port set 9 down"
	"error|1|group del 5"
	"error|1|apply $XT_TOP/selftests/lang/bad_char.xfsm"
	"error|2|frobnicate"
	"deleted|0|first:state flush"
	"deleted|0|last:state flush"
	"applied|0|apply $XT_TOP/examples/portknock.xfsm"
	"program|0|show program"
	"applied|0|apply --datapath generic $XT_TOP/examples/portknock.xfsm"
	"program|0|show program"
	"error|2|apply --datapath fast $XT_TOP/examples/portknock.xfsm"
	"reset|0|stats --reset"
)
printf 'dport 11 => deny\nsrc 198.18.0.0/16 => allow\n' >"$T/rules.acl"
# Packets for trace and capture to see: 5 a second from an address of
# their own (port 3333 from it changes no flow), for as long as the cases
# take (under emulation, simulate's datapath loads take minutes), at most
# half an hour.
ip -n "$XT_NS_A" addr add 198.18.20.5/24 dev a0
nsenter --net="/run/netns/$XT_NS_A" -- timeout 1800 "$XT_PY" -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.20.5", 0))
for i in range(9000):
    s.sendto(b"json", ("198.18.20.2", 3333))
    time.sleep(0.2)
' &
xt_defer "kill $!"
for c in "${cases[@]}"; do
	shape=${c%%|*}
	rest=${c#*|}
	case_json "$shape" "${rest%%|*}" "${rest#*|}"
done

# monitor: its event lines and summary (it runs until -c events were shown)
ctl_monitor "$T/monitor.out" "$T/monitor.err" -j monitor -c 3
mon=$CTL_MON
ctl_udp_send 1111			# the source has no flow yet: new and update
X state del knock 198.18.20.1 >/dev/null	# delete
timeout 10 tail --pid="$mon" -f /dev/null
covered+=("monitor -c 3")
check_later monitor "xfsmctl -j monitor -c 3: @monitor" <"$T/monitor.out"
check_later '!monitor' "a wrong monitor line is refused" <<<'{"ts": 1, "mono_ns": 2, "event": "new", "extra": 1}'
xt_check "monitor -c 3: three events and the summary" "$(grep -c . "$T/monitor.out")" -eq 4

check_all

# every command of `xfsmctl help` has a case above
for cmd in $("$CTL" -j help | jq -r '.commands[].command' | tr ' ' '_'); do
	cmd=${cmd//_/ }
	found=0
	for c in "${covered[@]}"; do
		case "$c " in "$cmd "*) found=1 ;; esac
	done
	xt_check "xfsmctl $cmd has a JSON case" $found = 1
done

# ---- typed values and timestamps ---------------------------------------------------------
ctl_udp_send 1111
xt_check "a flow key's address is a string" \
	"$(X -j state list knock | jq -r '.flows[0].key["ip.src"] | type')" = string
X apply "$XT_TOP/examples/statefulfw.xfsm" >/dev/null 2>&1
ctl_udp_send 7002
out=$(X -j state list)
xt_check "a flow key's protocol is a number" \
	"$(jq -r '[.flows[].key["ip.proto"] | type] | unique | join(",")' <<<"$out")" = number
xt_check "a flow key's port is a number" \
	"$(jq -r '[.flows[].key | to_entries[] | select(.key | test("port")) | .value | type] | unique | join(",")' <<<"$out")" = number
# the exact keys of a multi-field stage, numbers read by the listing's own
# decimal reader (0 and the largest port included)
X state set conntrack 198.18.20.9,198.18.21.9,udp,4000,53 state open >/dev/null
X state set conntrack 198.18.20.10,198.18.21.9,udp,0,65535 state open >/dev/null
out=$(X -j state list conntrack)
xt_match "a 5-tuple key's exact JSON" \
	'"key":\{"ip.src":"198.18.20.9","ip.dst":"198.18.21.9","ip.proto":17,"l4.sport":4000,"l4.dport":53\}' "$out"
xt_match "a 5-tuple key's exact JSON, port 0 and 65535" \
	'"key":\{"ip.src":"198.18.20.10","ip.dst":"198.18.21.9","ip.proto":17,"l4.sport":0,"l4.dport":65535\}' "$out"
xt_match "a 5-tuple key's exact text" \
	'^conntrack ip.src=198.18.20.10 ip.dst=198.18.21.9 ip.proto=17 l4.sport=0 l4.dport=65535  state open  age [0-9]+\.[0-9]s$' \
	"$(X state list conntrack)"
# One writer makes a flow's JSON object (by hand, compact); -j -p indents
# it again token by token: state list -j, -j -p and state get -j give the
# same flows the same objects, times aside (they move between two runs).
X state set conntrack 198.18.20.11,198.18.21.9,tcp,1,2 state open idle 20s hard 90s '->' none \
	reg1 18446744073709551615 reg3 7 >/dev/null
X state set conntrack 198.18.20.12,198.18.21.9,tcp,1,2 state open idle 1ms >/dev/null
sleep 0.1
times='walk(if type == "object" then del(.remaining_s, .age_s) else . end)'
list=$(X -j state list conntrack)
xt_check "state list -j: the objects of -j -p" "$(jq -S -c "$times" <<<"$list")" = \
	"$(X -j -p state list conntrack | jq -S -c "$times")"
for k in 198.18.20.11,198.18.21.9,tcp,1,2 198.18.20.12,198.18.21.9,tcp,1,2 \
	 198.18.20.9,198.18.21.9,udp,4000,53; do
	xt_check "state list -j: the object of state get -j $k" \
		"$(jq -S -c --arg s "${k%%,*}" ".flows[] | select(.key[\"ip.src\"] == \$s) | $times" <<<"$list")" = \
		"$(X -j state get conntrack "$k" | jq -S -c "$times")"
done
nokey=198.18.20.77,198.18.21.9,udp,1,2
xt_check "state get -j of no flow: exists false, the initial state" \
	"$(X -j state get conntrack $nokey)" = \
	'{"stage":"conntrack","key":{"ip.src":"198.18.20.77","ip.dst":"198.18.21.9","ip.proto":17,"l4.sport":1,"l4.dport":2},"exists":false,"state_id":0,"state":"none","regs":[0,0,0,0]}'
xt_check "state get -j -p of no flow: the same object" \
	"$(X -j -p state get conntrack $nokey | jq -c .)" = "$(X -j state get conntrack $nokey)"
xt_check "state get of no flow: text" "$(X state get conntrack $nokey)" = "no flow: in state none (initial)"
xt_match "state list -j: timeouts, registers and age exactly" \
	'"state":"open","idle":\{"remaining_s":[0-9]+\.[0-9]{3},"expired":false,"rollback":"none"\},"hard":\{"remaining_s":[0-9]+\.[0-9]{3},"expired":false,"rollback":"none"\},"regs":\[0,18446744073709551615,0,7\],"age_s":[0-9]+\.[0-9]{3}\}' \
	"$list"
xt_match "state list -j: a timeout run out" \
	'"idle":\{"remaining_s":0\.000,"expired":true,"rollback":"none"\},"regs":\[0,0,0,0\],"age_s"' "$list"
text=$(X state list conntrack)
xt_match "state list: timeouts, registers and age exactly" \
	'^conntrack ip.src=198.18.20.11 ip.dst=198.18.21.9 ip.proto=6 l4.sport=1 l4.dport=2  state open  idle [0-9]+\.[0-9]s -> none  hard [0-9]+\.[0-9]s -> none  reg1=18446744073709551615  reg3=7  age [0-9]+\.[0-9]s$' \
	"$text"
xt_match "state list: a timeout run out" \
	'^conntrack ip.src=198.18.20.12 ip.dst=198.18.21.9 ip.proto=6 l4.sport=1 l4.dport=2  state open idle expired -> none  age [0-9]+\.[0-9]s$' \
	"$text"
xt_check "lookup_key is an array" "$(X -j show stages | jq -r '.stages[0].lookup_key | type')" = array
xt_check "an unnamed global's name is null" \
	"$(X -j global get 7 | jq -r '.globals[0].name')" = null
out=$(X -j stats --watch -c 2 --interval 0.2)
xt_check "stats --watch -j: two samples" "$(grep -c . <<<"$out")" = 2
t1=$(sed -n 1p <<<"$out" | jq .time)
t2=$(sed -n 2p <<<"$out" | jq .time)
now=$(date +%s)
xt_check "stats samples carry their time ($t1)" \
	"$(jq -n "$t1 > $now - 60 and $t1 <= $now + 1")" = true
xt_check "the second sample is later by the interval ($t1, $t2)" \
	"$(jq -n "$t2 - $t1 >= 0.19")" = true
xt_check "the second sample has rates" \
	"$(sed -n 2p <<<"$out" | jq '.datapath | has("rx_packets_per_s")')" = true
xt_done
