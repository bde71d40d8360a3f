#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# An instance loaded with --flow-value compact (32-byte flow values: a
# state and an idle timeout): its flow tables' values are 32 bytes; apply
# refuses, before anything changes, an application that reads or writes a
# flow register (condition, update, action operand) or sets a hard
# timeout, naming the stage and rule; one with states and idle timeouts
# runs, its flows made by packets; xfsmctl state list, get, set and delete
# work there, show no registers, hard timeout or age, and set refuses
# registers and a hard timeout; xfsmctl show says the layout.
# simulate runs a compact copy of the datapath: the live flow read from
# it, an idle timeout's rollback, no registers in the records, and an
# application needing registers refused as apply refuses it; trace's
# records of live packets show the states and the rollback, no registers
# (a full copy, or a record's tail past the head, would give them); state
# flush empties the compact tables; monitor reports a flow's events, an
# idle expiry among them.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

xt_require_file "$XT_BUILD/xfsm-compact.bpf.o"
CTL_LOAD_ARGS="--flow-value compact"
ctl_setup
xt_tmpdir T

# -- the maps
for m in xfsm_flows xfsm_flows_n xfsm_flows_m; do
	xt_check "$m holds 32-byte values" \
		"$(bpftool -j map show pinned "$PIN/$m" | jq -r .bytes_value)" = 32
done
xt_check "status -j: flow_value compact" \
	"$(xt_in B "$LOADER" status -j | jq -r --arg i "$INST" '.instances[] | select(.name == $i) | .flow_value')" = compact

# -- an application of states and idle timeouts runs
cat >"$T/seen.xfsm" <<'APP'
app seen
default pass
stage bysrc {
	key ip.src
	states new, seen
	rule first when state new, ip.proto == udp => goto state seen idle 60s -> new, pass
	rule again when state seen, ip.proto == udp => goto state seen idle 60s -> new, pass
}
APP
xt_ok "apply an application of states and idle timeouts" X apply --datapath generic "$T/seen.xfsm"
xt_match "show app: flow values compact" "flow values compact" "$(X show app)"
xt_check "show app -j: flow_value" "$(X -j show app | jq -r .app.flow_value)" = compact
xt_ok "a UDP datagram from A" ctl_udp_send 7001
xt_match "state list: the datapath's flow" \
	"^bysrc ip.src=$CLI  state seen  idle [0-9.]+s -> new$" "$(X state list)"
j=$(X -j state list)
xt_check "state list -j: one flow in state seen" \
	"$(jq -r '[.flows[] | .state] | join(" ")' <<<"$j")" = seen
xt_check "state list -j: no registers, hard timeout or age (a compact flow has none)" \
	"$(jq -r '.flows[0] | [has("regs"), has("hard"), has("age_s")] | any' <<<"$j")" = false
xt_check "state list -j: its idle timeout" \
	"$(jq -r '.flows[0].idle.remaining_s > 50' <<<"$j")" = true
xt_match "state get" "state seen  idle" "$(X state get bysrc "$CLI")"
xt_check "state get -j: no registers" "$(X -j state get bysrc "$CLI" | jq -r 'has("regs")')" = false

# -- state set: a state and an idle timeout, not registers or a hard timeout
xt_ok "state set: state and idle timeout" X state set bysrc 198.18.20.9 state seen idle 30s
xt_match "state get: the flow set" "state seen  idle (29|30)\\.[0-9]s -> new$" \
	"$(X state get bysrc 198.18.20.9)"
xt_fails_with "state set: a register is refused" \
	"instance $INST has compact flow values \\(loaded with --flow-value compact\\).*not registers" \
	X state set bysrc 198.18.20.10 state seen reg0 5
xt_fails_with "state set: a hard timeout is refused" \
	"instance $INST has compact flow values.*not a hard timeout" \
	X state set bysrc 198.18.20.10 state seen hard 10s
xt_check "state set: the refused flows are not there, and without registers (get -j)" \
	"$(X -j state get bysrc 198.18.20.10 | jq -r '[.exists, has("regs")] | any')" = false
xt_ok "state delete" X state delete bysrc 198.18.20.9
xt_check "state delete: gone" "$(X -j state get bysrc 198.18.20.9 | jq -r .exists)" = false
xt_check "state list: the datapath's flow is left" "$(X -j state list | jq -r .count)" = 1

# -- apply refuses what needs more than the head, for every datapath
cat >"$T/cond.xfsm" <<'APP'
app regcond
default pass
stage bysrc {
	key ip.src
	register 0 hits
	condition many = hits > 5
	rule plain when ip.proto == tcp => pass
	rule busy when many => drop
}
APP
cat >"$T/update.xfsm" <<'APP'
app regupdate
default pass
stage bysrc {
	key ip.src
	register 0 hits
	rule plain when ip.proto == tcp => pass
	rule bump when ip.proto == udp => hits = meta.len, pass
}
APP
cat >"$T/action.xfsm" <<'APP'
app regaction
default pass
stage bysrc {
	key ip.src
	register 1 mac
	rule plain when ip.proto == tcp => pass
	rule fwd when ip.proto == udp => set eth.dst = mac, pass
}
APP
cat >"$T/hard.xfsm" <<'APP'
app hardtimeout
default pass
stage bysrc {
	key ip.src
	states new, open
	rule plain when ip.proto == tcp => pass
	rule open when state new, ip.proto == udp => goto state open hard 10s -> new, pass
}
APP
before=$(ctl_snapshot)
gen=$(X -j show app | jq -r .app.generation)
for c in "cond busy reads a flow register in a condition" \
	 "update bump writes a flow register" \
	 "action fwd reads a flow register in an action" \
	 "hard open sets a hard timeout"; do
	read -r f rule what <<<"$c"
	for dp in generic specialized auto; do
		xt_fails_with "apply $f.xfsm --datapath $dp: refused" \
			"stage bysrc, rule bysrc/$rule $what: the instance was loaded with --flow-value compact" \
			X apply --datapath "$dp" "$T/$f.xfsm"
	done
	xt_check "apply $f.xfsm: the running application is untouched" "$(ctl_snapshot)" = "$before"
done
xt_check "the refusals switched nothing (generation $gen)" \
	"$(X -j show app | jq -r .app.generation)" = "$gen"

# -- simulate: a copy of the compact datapath
# A decision record's stage 0 as "state_before>state_after rule", and
# "expired state_seen" after it where a timeout ran out (jq).
STAGE0='.stages[0] | "\(.state_before)>\(.state_after) \(.rule.name // "miss")" +
	(if .expired then " \(.expired) \(.state_seen)" else "" end)'
sim_decisions() { jq -r "[.[] | $STAGE0] | join(\", \")" <<<"$1"; }
xt_ok "state set: a flow whose 1 ms idle timeout has run out" \
	X state set bysrc 198.18.20.11 state seen idle 1ms
live=$(X -j state list | jq -S -c '[.flows[] | {key, state}]')
out=$(X -j simulate ip.src=$CLI udp.dport=7001 then ip.src=198.18.20.77 udp.dport=7001 \
	then ip.src=198.18.20.11 udp.dport=7001)
xt_check "simulate: the live flow, a new one, the rollback of an expired one" \
	"$(sim_decisions "$out")" = "seen>seen again, new>seen first, seen>seen first idle new"
xt_check "simulate: the live flow is read from the copy, the others are created" \
	"$(jq -r '[.[] | .stages[0].flow_before] | join(" ")' <<<"$out")" = "true false true"
xt_check "simulate -j: no registers (a compact flow has none)" \
	"$(jq -r '[.. | objects | has("registers")] | any' <<<"$out")" = false
xt_check "simulate: the live flows are untouched" \
	"$(X -j state list | jq -S -c '[.flows[] | {key, state}]')" = "$live"
xt_match "simulate --app: an application of states and idle timeouts runs" \
	"state new \\(no flow\\) -> seen, created" \
	"$(X simulate --app "$T/seen.xfsm" ip.src=$CLI udp.dport=7001)"
xt_fails_with "simulate --app: an application writing a flow register is refused" \
	"stage bysrc, rule bysrc/bump writes a flow register: the instance was loaded with --flow-value compact" \
	X simulate --app "$T/update.xfsm" ip.src=$CLI udp.dport=7001
xt_fails_with "simulate --app: a hard timeout is refused" \
	"rule bysrc/open sets a hard timeout: the instance was loaded with --flow-value compact" \
	X simulate --app "$T/hard.xfsm" ip.src=$CLI udp.dport=7001

# -- trace: records of live packets, states and an idle rollback
xt_defer "X trace stop"
trace_decisions() { jq -r "select(.packet) | $STAGE0" "$1"; }
xt_ok "state set: the client's flow with a 1 ms idle timeout" \
	X state set bysrc "$CLI" state seen idle 1ms
ctl_bg tr -j trace "ip.src == $CLI, ip.proto == udp" -c 2 || xt_fail "trace started"
ctl_udp_send 7002
ctl_udp_send 7002
xt_check "trace -c 2 exits 0" "$(ctl_bg_wait tr)" = 0
xt_check "trace: the expired flow rolls back to new, the next packet finds seen" \
	"$(trace_decisions "$T/tr" | paste -sd,)" = "seen>seen first idle new,seen>seen again"
xt_check "trace -j: no registers (a compact flow has none)" \
	"$(jq -s -r '[.. | objects | has("registers")] | any' "$T/tr")" = false

# -- state flush
n=$(X -j state list | jq -r .count)
xt_check "state flush bysrc: every flow of the stage deleted" \
	"$(X -j state flush bysrc | jq -r .deleted)" = "$n"
xt_check "state flush: the tables are empty" "$(X -j state list | jq -r .count)" = 0

# -- monitor: a flow's events, its idle timeout's expiry among them
xt_in A sysctl -qw net.ipv6.conf.a0.disable_ipv6=1
xt_in B sysctl -qw net.ipv6.conf.b0.disable_ipv6=1
ctl_monitor "$T/mon" "$T/mon.err" -j monitor -c 4 || xt_fail "monitor started"
ctl_udp_send 7004
xt_ok "state set: the new flow with a 1 ms idle timeout" X state set bysrc "$CLI" state seen idle 1ms
ctl_udp_send 7004
for ((i = 0; i < 200; i++)); do
	grep -q '"summary"' "$T/mon" && break
	sleep 0.05
done
xt_check "monitor: new, update, idle_expire (seen -> new), update" \
	"$(jq -r 'select(.event) | [.event, .from // .state, .to // ""] | join(" ")' "$T/mon" | paste -sd,)" = \
	"new new ,update new seen,idle_expire seen new,update new seen"

xt_done
