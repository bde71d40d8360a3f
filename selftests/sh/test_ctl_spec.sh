#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Which program runs the application (docs/specializer.md):
# - xfsm-loader puts the generic program into xfsm_progs[2] and pins the
#   array, on a load and on a reload (the new program replaces the old);
# - apply --datapath generic empties the slot's entry and show says so,
#   with why; the mode sticks to rule add|del;
# - --datapath specialized on an application no program is generated for
#   fails with exit 1 and leaves application, tables, flows, globals and
#   xfsm_progs exactly as they were; auto runs it generic and says why;
# - show program prints the listing, or says that the generic datapath runs;
# - an instance whose xfsm_progs pin is gone runs generic, said once;
# - where the specializer generates a program for an application: it runs
#   in xfsm_progs[slot], show program prints it with the generator's notes,
#   traffic gets the same verdicts and counters as on the generic datapath,
#   and flows and registers survive switches generic <-> specialized.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

ctl_setup
xt_require_cmd bpftool
xt_tmpdir T

progs() { ctl_progs; }
prog_id() { bpftool -j prog show pinned "$PIN/prog" | jq -r .id; }
dp() { X -j show app | jq -r ".app.datapath.$1"; }

# ---- the generic entry -----------------------------------------------------------
xt_check "xfsm_progs is pinned with the other maps" -e "$PIN/xfsm_progs"
id1=$(prog_id)
xt_match "load: xfsm_progs[2] holds the generic program ($id1)" "(^| )2=$id1( |\$)" "$(progs)"
xt_ok "reload the datapath" xt_in B "$LOADER" load --mode skb --instance "$INST" b0
id2=$(prog_id)
xt_check "reload: a new program ($id1 -> $id2)" "$id1" != "$id2"
xt_match "reload: xfsm_progs[2] holds the new generic program" "(^| )2=$id2( |\$)" "$(progs)"

# ---- modes on an application the specializer is not asked for ------------------------
xt_ok "apply portknock, generic" X apply --datapath generic "$XT_TOP/examples/portknock.xfsm"
xt_check "generic: show says generic" "$(dp runs)" = generic
xt_check "generic: the mode is kept" "$(dp mode)" = generic
xt_match "generic: and why" "generic datapath was asked for" "$(dp why)"
slot=$(X -j apply --force --datapath generic "$XT_TOP/examples/portknock.xfsm" | jq -r .slot)
xt_check "generic: the active slot's entry is empty" \
	"$(progs | tr ' ' '\n' | grep -c "^$slot=")" = 0
xt_match "generic: show (text) says it" "datapath generic \\(mode generic\\)" "$(X show app)"
out=$(X show program)
xt_match "generic: show program says the generic datapath runs" \
	"the generic datapath runs slot $slot" "$out"
xt_check "generic: show program -j lists nothing" \
	"$(X -j show program | jq -r '"\(.source) \(.insns | length)"')" = "none 0"
xt_ok "rule add keeps the mode" X rule add knock 'rule spec_a when udp.dport == 9 => drop'
xt_check "rule add: still generic" "$(dp mode)" = generic
xt_ok "rule del keeps the mode" X rule del knock spec_a
xt_check "rule del: still generic" "$(dp mode)" = generic
out=$(X apply "$XT_TOP/examples/portknock.xfsm")
xt_match "the same application in another mode is applied, not unchanged" "^applied" "$out"
xt_check "apply without --datapath: auto" "$(dp mode)" = auto

# A flow and a register to see that nothing moves.
ctl_udp_send 1111
ctl_udp_send 2222
xt_ok "global set" X global set 2 7

# An application the specializer refuses (a large stage whose rules
# behave in more ways than it generates): no program for it.
{
	echo "app big"
	echo "default pass"
	echo "stage knock {"
	echo "	key ip.src"
	for ((i = 1; i <= 300; i++)); do
		echo "	rule r$i when udp.dport == $i => mark = $i, drop"
	done
	echo "}"
} >"$T/big.xfsm"
snap() {
	ctl_snapshot
	progs
	X -j show app | jq -c .app.datapath
}
before=$(snap)
xt_match "snapshot has the knocking flow" '"state":"k2"' "$before"
out=$(X apply --datapath specialized "$T/big.xfsm" 2>&1)
rc=$?
xt_check "specialized, no program for it: exit 1" "$rc" = 1
xt_match "specialized: the error says why" \
	"cannot run the application specialized: stage 0: 300 rules of more than 64 different writes and actions" "$out"
xt_match "specialized: the running application is unchanged" "the running application is unchanged" "$out"
after=$(snap)
xt_check "specialized refused: application, tables, flows, globals, xfsm_progs as before" \
	"$before" = "$after"
[ "$before" != "$after" ] && diff <(echo "$before") <(echo "$after") | head -10

out=$(X apply "$T/big.xfsm" 2>&1)
rc=$?
xt_check "auto, no program for it: exit 0" "$rc" = 0
xt_match "auto: the apply says the generic datapath runs it, and why" \
	"datapath generic \\(mode auto\\).*: stage 0: 300 rules of more than 64" "$out"
xt_check "auto: show says generic" "$(dp runs)" = generic
xt_match "auto: show says why" "300 rules of more than 64" "$(dp why)"
xt_check "auto: the application is installed" "$(X -j show app | jq -r .app.name)" = big
slot=$(X -j show program | jq -r .slot)
xt_check "auto: the active slot's entry is empty" \
	"$(progs | tr ' ' '\n' | grep -c "^$slot=")" = 0

# ---- no generic program in xfsm_progs[2] (a datapath not loaded by xfsm-loader) ----------
bpftool map delete pinned "$PIN/xfsm_progs" key 2 0 0 0
out=$(X apply --force "$XT_TOP/examples/portknock.xfsm" 2>&1)
xt_match "no generic entry: auto runs generic and says why" \
	"datapath generic \(mode auto\): xfsm_progs\[2\] holds no generic program" "$out"
xt_nok "no generic entry: specialized refused" \
	X apply --datapath specialized "$XT_TOP/examples/portknock.xfsm"
xt_ok "reload puts the generic program back" xt_in B "$LOADER" load --mode skb --instance "$INST" b0
xt_match "reload: xfsm_progs[2] holds it" "(^| )2=$(prog_id)( |\$)" "$(progs)"

# ---- an instance without xfsm_progs (pinned by an older loader) ------------------------
xt_ok "apply portknock" X apply "$XT_TOP/examples/portknock.xfsm"
rm -f "$PIN/xfsm_progs"
out=$(X apply --force "$XT_TOP/examples/portknock.xfsm" 2>&1)
xt_match "no xfsm_progs: said" "has no xfsm_progs map" "$out"
xt_check "no xfsm_progs: warned once" "$(printf '%s\n' "$out" | grep -c 'warning: .*no xfsm_progs')" = 1
xt_match "no xfsm_progs: show says why" "no xfsm_progs map" "$(dp why)"
xt_nok "no xfsm_progs: specialized refused" X apply --datapath specialized "$XT_TOP/examples/portknock.xfsm"
xt_ok "reload pins a new xfsm_progs" xt_in B "$LOADER" load --mode skb --instance "$INST" b0
xt_match "reload: xfsm_progs[2] holds the generic program" "(^| )2=$(prog_id)( |\$)" "$(progs)"

# ---- specialized programs (where the specializer generates one) -------------------------
cat >"$T/empty.xfsm" <<'APP'
app empty
default pass
stage nothing {
	key ip.src
}
APP
if ! X apply --datapath specialized "$T/empty.xfsm" >"$T/out" 2>&1; then
	xt_log "SKIP the specialized half: no program is generated yet ($(tail -1 "$T/out"))"
	xt_done
fi
slot=$(X -j show program | jq -r .slot)
pid=$(X -j show program | jq -r .datapath.program_id)
xt_check "specialized: show says specialized" "$(dp runs)" = specialized
xt_match "specialized: xfsm_progs[$slot] holds program $pid" "(^| )$slot=$pid( |\$)" "$(progs)"
xt_check "specialized: the program is loaded under the slot's name" \
	"$(bpftool -j prog show id "$pid" | jq -r .name)" = "xfsm_spec_s$slot"
out=$(X show program)
xt_match "show program: instructions" "^ *0: " "$out"
xt_match "show program: ends in exit" ": exit\$" "$out"
xt_match "show program: the generator's notes" "^ *; " "$out"
xt_check "show program -j: as many instructions as generated" \
	"$(X -j show program | jq '[.insns[] | .pc] | last + 1')" -ge \
	"$(X -j show program | jq '.datapath.insns')"
# The plan's choices are in the notes: the 2-stage benchmark's cursor, a
# single-register chain, runs by compare and swap, without the lock.
xt_ok "apply the 2-stage application, specialized" \
	X apply --datapath specialized "$XT_TOP/bench/ref/twostage.xfsm"
out=$(X show program)
xt_match "show program: the cursor's chain by compare and swap" \
	"; .*flow register 0: compare-and-swap, no lock" "$out"
xt_check "show program: no locked flow transaction in it" \
	"$(grep -c 'flow transaction under its striped lock' <<<"$out")" = 0
xt_ok "switch to generic" X apply --datapath generic "$T/empty.xfsm"
xt_check "generic again: the entry is empty" "$(progs | tr ' ' '\n' | grep -c '^[01]=')" = 0
xt_ok "and back" X apply --datapath specialized "$T/empty.xfsm"
xt_check "the old slot's program is freed after the switch" \
	"$(progs | tr ' ' '\n' | grep -c '^[01]=')" = 1
xt_ping A "$SRV" >/dev/null
xt_ok "ping through the specialized empty application" xt_ping A "$SRV"

# An xfsm_progs pinned by an xfsm from before XFSM_PROGS_ATTACH_TYPE: its
# first user was loaded as libbpf loads SEC("xdp"), with BPF_XDP, which a
# kernel with the 2025 tail-call check (6.1.192, this machine's) keeps
# apart from the datapath loaded now.  The reload replaces the array; the
# application runs generic until the next apply.
OLDP=/sys/fs/bpf/xt$XT_ID-oldprogs
xt_defer "rm -f '$OLDP' '$OLDP-prog'"
if bpftool map create "$OLDP" type prog_array key 4 value 4 entries 3 name xfsm_progs &&
   bpftool prog load "$XT_BUILD/xfsm.bpf.o" "$OLDP-prog" type xdp \
	map name xfsm_progs pinned "$OLDP" && mv -f "$OLDP" "$PIN/xfsm_progs"; then
	rm -f "$OLDP-prog"
	oldid=$(bpftool -j map show pinned "$PIN/xfsm_progs" | jq -r .id)
	out=$(xt_in B "$LOADER" load --mode skb --instance "$INST" b0 2>&1)
	xt_check "older xfsm_progs: the reload succeeds" $? = 0 || printf '%s\n' "$out"
	xt_match "older xfsm_progs: the loader says it replaces it" \
		"xfsm_progs holds programs of an older xfsm .*replacing it" "$out"
	xt_check "older xfsm_progs: a new array is pinned" \
		"$(bpftool -j map show pinned "$PIN/xfsm_progs" | jq -r .id)" != "$oldid"
	xt_match "older xfsm_progs: xfsm_progs[2] holds the generic program" \
		"(^| )2=$(prog_id)( |\$)" "$(progs)"
	xt_check "older xfsm_progs: show says generic" "$(dp runs)" = generic
	xt_ok "older xfsm_progs: the next apply specializes" \
		X apply --force --datapath specialized "$T/empty.xfsm"
	xt_check "older xfsm_progs: specialized again" "$(dp runs)" = specialized
	xt_ok "older xfsm_progs: ping through it" xt_ping A "$SRV"
else
	xt_fail "cannot pin an array owned by a BPF_XDP program (bpftool)"
fi

# The same traffic, generic then specialized: same verdicts and counters;
# flows and registers survive the switches.
run_traffic() {
	X stats --reset >/dev/null
	ctl_udp_send 1111
	ctl_udp_send 2222
	ctl_udp_send 3333
	ctl_udp_send 4444
	xt_in A timeout 3 "$XT_PY" -c 'import socket; socket.create_connection(("'$SRV'", 22), timeout=1)' \
		>/dev/null 2>&1
	# not what background packets (ARP, IPv6 neighbour discovery) move:
	# the datapath's rx and pass counters
	X -j stats | jq -c '{a: (.actions | del(.pass)), drop: .datapath.verdict_drop,
		s: [.stages[] | {name, rules: [.rules[] | del(.bytes)]}]}'
}
APP=$XT_TOP/examples/portknock.xfsm
if X apply --datapath specialized "$APP" >"$T/out" 2>&1; then
	X state flush knock >/dev/null
	X apply --datapath generic "$APP" >/dev/null
	gen=$(run_traffic)
	flows_gen=$(X -j state list | jq -S -c '[.flows[] | del(.idle, .hard, .age_s)]')
	X state flush knock >/dev/null
	X apply --datapath specialized "$APP" >/dev/null
	spec=$(run_traffic)
	flows_spec=$(X -j state list | jq -S -c '[.flows[] | del(.idle, .hard, .age_s)]')
	xt_check "portknock: the same counters specialized as generic" "$gen" = "$spec"
	xt_check "portknock: the same flows specialized as generic" "$flows_gen" = "$flows_spec"
	xt_ok "global set" X global set 2 9
	X apply --datapath generic "$APP" >/dev/null
	xt_check "switch to generic: flows kept" \
		"$(X -j state list | jq -S -c '[.flows[] | del(.idle, .hard, .age_s)]')" = "$flows_spec"
	xt_check "switch to generic: register kept" "$(X -j global get 2 | jq '.globals[0].value')" = 9
	X apply --datapath specialized "$APP" >/dev/null
	xt_check "switch to specialized: flows kept" \
		"$(X -j state list | jq -S -c '[.flows[] | del(.idle, .hard, .age_s)]')" = "$flows_spec"
	xt_check "switch to specialized: register kept" "$(X -j global get 2 | jq '.globals[0].value')" = 9
	# A change without an image (a group, an ACL table) regenerates from
	# the running rules, in the mode the application runs in.
	pid=$(X -j show program | jq -r .datapath.program_id)
	xt_ok "group add regenerates" X group add 1 rr 1
	xt_check "group add: still specialized" "$(dp runs)" = specialized
	xt_check "group add: a new program" "$(X -j show program | jq -r .datapath.program_id)" != "$pid"
	X state flush knock >/dev/null
	xt_check "group add: the same counters from fresh flows" "$(run_traffic)" = "$spec"
	xt_ok "rule add, generic" X rule add --datapath generic knock 'rule spec_b when udp.dport == 9 => drop'
	xt_check "rule add --datapath generic: generic" "$(dp runs) $(dp mode)" = "generic generic"
	xt_ok "acl add keeps generic" X acl add id 7 dport 9 '=>' deny
	xt_check "acl add: still generic" "$(dp runs) $(dp mode)" = "generic generic"
	xt_ok "rule del, specialized" X rule del knock spec_b --datapath specialized
	xt_check "rule del --datapath specialized: specialized" "$(dp runs) $(dp mode)" = \
		"specialized specialized"
else
	xt_log "portknock is not specialized yet: $(tail -1 "$T/out")"
fi

# skb and native mode (in native mode the datapath is a component of
# libxdp's dispatcher where the kernel lets libxdp load one, as on 6.1,
# unless XFSM_NO_DISPATCHER is set, as in the VM guest's run, where
# test_loader_features runs a specialized application behind it):
# the loaded generic program in xfsm_progs[2], the application specialized,
# traffic through it.  (Which program ran a packet is not observable from
# user space: the kernel's run counts leave out tail-called programs; the
# verdicts of test_kill's specialized switch show it, through
# BPF_PROG_TEST_RUN.)
for mode in skb native; do
	xt_ok "$mode: load" xt_in B "$LOADER" load --mode $mode --instance "$INST" b0 || continue
	xt_ok "$mode: apply specialized" X apply --force --datapath specialized "$T/empty.xfsm"
	xt_match "$mode: xfsm_progs[2] holds the program loaded" "(^| )2=$(prog_id)( |\$)" "$(progs)"
	xt_ok "$mode: ping through the specialized application" xt_ping A "$SRV"
done
xt_done
