#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsmctl monitor: flow events of a scripted UDP sequence from a client
# namespace to the datapath on the server's veth end, with
# selftests/lang/monitor_events.xfsm (short idle and hard timeouts) and a
# flow table of 4 entries, in JSON, in order: created, state change with
# from/to/rule, idle and hard expiry with their rollback states, a delete
# by `state del`, a table-full refusal; the stage filter and flush; the
# lost-events counter when the ring overflows; one monitor per instance;
# the observe word cleared at exit and after a killed monitor; bad input.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

CTL_LOAD_ARGS="--flows 4 --flow-table hash"
ctl_setup
APP="$XT_TOP/selftests/lang/monitor_events.xfsm"
xt_ok "apply the test application" X apply "$APP"

WORK=$(mktemp -d)
xt_defer "rm -rf '$WORK'"
MPID=

# monitor_start NAME ARGS...: a monitor writing NAME.out and NAME.err
monitor_start() {
	local name=$1
	shift
	ctl_monitor "$WORK/$name.out" "$WORK/$name.err" "$@"
	MPID=$CTL_MON
}

# monitor_end: SIGTERM, and the monitor's exit status.
monitor_end() {
	kill -TERM "$MPID"
	wait "$MPID"
}

events_on() { [ "$(X -j monitor status | jq -r .events)" = true ]; }

# The events of a JSON output as "event stage key from>to rule" lines.
summary() {
	jq -r 'select(.event) | [.event, .stage // "-", (.key // {} | to_entries | map("\(.key)=\(.value)") | join(",")),
		"\(.from // .state // "-")>\(.to // "-")", .rule // "-"] | join(" ")' "$1"
}

xt_nok "no monitor: flow events off" events_on

# ---- the scripted flow -----------------------------------------------------
monitor_start all -j monitor || xt_fail "monitor starts"
xt_ok "monitor listening: flow events on" events_on
xt_fails_with "a second monitor is refused" "already monitored by pid $MPID" \
	xt_in B timeout 10 "$CTL" --instance "$INST" monitor
out=$(xt_in B timeout 10 "$CTL" --instance "$INST" -j monitor)
xt_check "refused with -j: one error object, no summary" "$(jq -s -c 'map(keys)' <<<"$out")" = '[["error"]]'
ctl_udp_send 2000			# stage sources: new, update
ctl_udp_send 1001			# ports: new, update (idle 300ms)
sleep 0.5				# past the idle timeout (the behaviour under test)
ctl_udp_send 1001			# noticed here: idle expiry
ctl_udp_send 1002			# new, update (hard 300ms)
sleep 0.5
ctl_udp_send 1002			# hard expiry
# The delete reaches the monitor through its socket, the packets' events
# through the ring: a monitor that runs late (a loaded machine, here
# stopped) must still print them in the order they happened.
kill -STOP "$MPID"
xt_ok "state del of a flow" X state del ports 1002
ctl_udp_send 1003			# new, update: the table holds 3 flows
ctl_udp_send 1004			# and now 4: full
ctl_udp_send 1005			# refused
kill -CONT "$MPID"
monitor_end
xt_check "the monitor exits 0 on SIGTERM" $? -eq 0
out=$(summary "$WORK/all.out")
want="new sources ip.src=$CLI seen_none>- -
update sources ip.src=$CLI seen_none>seen mark
new ports udp.dport=1001 init>- -
update ports udp.dport=1001 init>idle_on to_idle
idle_expire ports udp.dport=1001 idle_on>idle_back -
new ports udp.dport=1002 init>- -
update ports udp.dport=1002 init>hard_on to_hard
hard_expire ports udp.dport=1002 hard_on>hard_back -
delete ports udp.dport=1002 hard_back>- -
new ports udp.dport=1003 init>- -
update ports udp.dport=1003 init>idle_on fill
new ports udp.dport=1004 init>- -
update ports udp.dport=1004 init>idle_on fill
table_full ports udp.dport=1005 ->- -"
xt_check "the events, in order: new, update, idle and hard expiry, delete, table full" \
	"$out" = "$want"
[ "$out" = "$want" ] || xt_log "got:"$'\n'"$out"
xt_check "each event has a timestamp" \
	"$(jq -s '[.[] | select(.event) | select((.ts | type) == "number" and .mono_ns > 0)] | length' "$WORK/all.out")" -eq 14
xt_check "an expiry says how long before it was noticed the timeout expired" \
	"$(jq -r 'select(.event == "idle_expire") | .expired_s >= 0.1' "$WORK/all.out")" = true
xt_check "the summary: 14 events, 0 lost" \
	"$(jq -c 'select(.summary) | .summary' "$WORK/all.out")" = '{"events":14,"lost":0}'
xt_nok "after the monitor's exit: flow events off" events_on

# ---- the stage filter, flush -------------------------------------------------
xt_ok "state flush (nobody listens)" X state flush
monitor_start sources monitor sources || xt_fail "monitor sources starts"
ctl_udp_send 1001
ctl_udp_send 2000
xt_ok "state flush" X state flush
monitor_end
xt_check "the monitor of stage sources exits 0" $? -eq 0
out=$(cat "$WORK/sources.out")
xt_match "text: the stage's new flow, as state list prints it" \
	"\[NEW\] +sources ip.src=$CLI  state seen_none" "$out"
xt_match "text: its change, with the rule" \
	"\[UPDATE\] +sources ip.src=$CLI  state seen_none -> seen  rule mark" "$out"
xt_match "text: the flush of every stage" "\[FLUSH\] +all stages: 2 flow\(s\) deleted" "$out"
xt_check "nothing of stage ports" "$(grep -c 'ports' <<<"$out")" -eq 0
xt_check "three events" "$(grep -c '^[0-9:.]* \[' <<<"$out")" -eq 3
xt_match "the text summary on stderr" "3 flow event\(s\) shown, 0 lost" "$(cat "$WORK/sources.err")"

# ---- lost events -------------------------------------------------------------
# The ring holds about 2500 records: a stopped monitor misses the rest.
N=4000
monitor_start lost -j monitor ports || xt_fail "monitor ports starts"
for p in 1003 1004 1005 1006; do ctl_udp_send $p; done	# fill the table
kill -STOP "$MPID"
full0=$(X -j stats | jq '.stages[0].table_full')
xt_in A "$XT_PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    s.sendto(b"x", (sys.argv[1], int(sys.argv[2])))
' "$SRV" 1007 "$N"
full1=$(X -j stats | jq '.stages[0].table_full')
kill -CONT "$MPID"
monitor_end
xt_check "the monitor exits 0" $? -eq 0
lost=$(jq 'select(.summary) | .summary.lost' "$WORK/lost.out")
events=$(jq 'select(.summary) | .summary.events' "$WORK/lost.out")
xt_check "events were lost (ring full)" "${lost:-0}" -gt 0
xt_check "shown and lost add up to the datapath's events ($events + $lost, $((full1 - full0)) refusals)" \
	"$((events + lost))" -eq $((8 + full1 - full0))
xt_check "the lost count is reported as it grows" \
	"$(jq -s '[.[] | select(.event == "lost")] | last | .lost' "$WORK/lost.out")" = "$lost"
xt_match "the datapath counts them too" "events_lost $((lost))" "$(X stats)"

# ---- a killed monitor ------------------------------------------------------------
monitor_start killed monitor || xt_fail "monitor starts"
kill -KILL "$MPID"
wait "$MPID" 2>/dev/null
xt_ok "a killed monitor leaves flow events on" events_on
xt_check "status: no monitor listens" "$(X -j monitor status | jq '.monitors | length')" -eq 0
xt_ok "monitor stop" X monitor stop
xt_nok "monitor stop turned them off" events_on
monitor_start again monitor || xt_fail "the next monitor starts after a killed one"
kill -KILL "$MPID"
wait "$MPID" 2>/dev/null
monitor_start again2 monitor || xt_fail "and the next one"
monitor_end
xt_check "the next monitor's exit" $? -eq 0
xt_nok "turns off what the killed one left" events_on

# The registry holds the monitors' sockets: a file of another kind named
# like a pid is not one, and clearing a killed monitor's leaves it.
monitor_start reg monitor || xt_fail "monitor starts"
reg=$(ls -d /run/xfsm/monitor/*/"$MPID" 2>/dev/null | head -1)
xt_check "the monitor's socket is in the registry" -S "$reg"
reg=$(dirname "$reg")
xt_defer "rm -f '$reg/4242424'"
echo "not a socket" > "$reg/4242424"
kill -KILL "$MPID"
wait "$MPID" 2>/dev/null
xt_check "status removes the killed monitor's socket only" \
	"$(X -j monitor status | jq '"\(.stale_removed) \(.monitors | length)"')" = '"1 0"'
xt_check "the other file of the registry is still there" "$(cat "$reg/4242424")" = "not a socket"
xt_ok "monitor stop" X monitor stop

# ---- bad input -------------------------------------------------------------------
bad=$(X monitor nosuch 2>&1)
xt_check "an unknown stage is a usage error (exit 2)" $? -eq 2
xt_match "naming it" "unknown stage 'nosuch'" "$bad"
bad=$(X monitor ports extra 2>&1)
xt_check "an extra word is a usage error (exit 2)" $? -eq 2
xt_match "naming it" "extra" "$bad"
bad=$(X monitor status now 2>&1)
xt_check "status takes no argument (exit 2)" $? -eq 2
xt_nok "bad input leaves flow events off" events_on
xt_done
