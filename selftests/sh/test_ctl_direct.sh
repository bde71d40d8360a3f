#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# The program attached to a port (docs/specializer.md, "How a specialized
# program runs"): where the datapath is attached plainly, the active
# slot's generated program itself, else the generic program:
# - apply (auto) attaches the active slot's program, by id from the
#   pinned xfsm_progs; traffic gets the application's verdicts;
# - --datapath generic attaches the generic program again; a switch to
#   another application attaches the new slot's program, and the old
#   one is freed;
# - trace and capture still see packets (observe -> guard -> generic);
# - status and show say what is attached, in text and JSON;
# - a program that is not the instance's is never replaced;
# - a reload keeps the generated program attached, unload leaves nothing;
# - with xfsm_progs[2] empty, the generated program is still the
#   instance's (its xfsm_ctl): for status, show, load and unload;
# - behind libxdp's dispatcher (where the kernel lets libxdp load one,
#   the 6.1 guest) nothing is attached directly and the tail-call entry
#   runs the application; then the same checks, attached directly
#   (XFSM_NO_DISPATCHER=1).
# xt-dispatcher: libxdp

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

ctl_setup
xt_require_cmd bpftool
xt_tmpdir T
APP=$XT_TOP/examples/portknock.xfsm

generic_id() { bpftool -j prog show pinned "$PIN/prog" | jq -r .id; }
# "NAME ID" of the program b0 runs (a dispatcher: the dispatcher's)
attached() { xt_xdp_progs B b0 | head -n1; }
active_slot() { X -j show program | jq -r .slot; }
port_status() { xt_in B "$LOADER" status -j | jq -c --arg n "$INST" \
	'.instances[] | select(.name == $n) | .ports[0] | {prog_id, prog_name, specialized, dispatcher}'; }

# portknock's verdicts: SSH dropped until the knocks, then open.
knock_verdicts() {
	local tag=$1
	X state flush knock >/dev/null
	xt_nok "$tag: SSH is closed before the knocks" ctl_connect 22
	for p in 1111 2222 3333 4444; do ctl_udp_send $p; done
	xt_ok "$tag: SSH opens after the knocks" ctl_connect 22
}

ctl_listen 22 || xt_fail "listener"

# ---- behind libxdp's dispatcher (where the kernel lets libxdp load one) ----------
if [ "$(attached | cut -d' ' -f1)" = xdp_dispatcher ]; then
	disp=$(attached)
	xt_ok "dispatcher: apply portknock" X apply "$APP"
	xt_check "dispatcher: still attached, nothing directly" "$(attached)" = "$disp"
	xt_match "dispatcher: show says the generic program is the entry" \
		"attached: b0 xfsm_xdp \\(id [0-9]+, behind a libxdp dispatcher" "$(X show app)"
	xt_check "dispatcher: status -j" "$(port_status | jq -c '{specialized, dispatcher}')" = \
		'{"specialized":false,"dispatcher":true}'
	knock_verdicts dispatcher
	xt_ok "reload, attached directly" \
		xt_in B env XFSM_NO_DISPATCHER=1 "$LOADER" load --mode skb --instance "$INST" b0
	xt_check "reload without the dispatcher: b0 runs what it should, directly" \
		"$(attached | cut -d' ' -f2)" = "$(xt_xfsm_should_run "$PIN")"
	if [ "$(X -j show app | jq -r .app.datapath.runs)" = specialized ]; then
		xt_match "... the running slot's generated program" "^xfsm_spec_s$(active_slot) " "$(attached)"
	fi
	xt_ok "back to the generic datapath" X apply --datapath generic "$APP"
else
	xt_log "no libxdp dispatcher here (plain attach): its part is skipped"
fi

# ---- attached directly ----------------------------------------------------------------
xt_check "load: b0 runs the generic program" "$(attached)" = "xfsm_xdp $(generic_id)"
xt_match "load: show says it is the entry" "attached: b0 xfsm_xdp \\(id $(generic_id), entry\\)" \
	"$(X show app)"
xt_ok "apply portknock (auto)" X apply "$APP"
if [ "$(X -j show app | jq -r .app.datapath.runs)" != specialized ]; then
	xt_log "SKIP: portknock is not specialized here: $(X -j show app | jq -r .app.datapath.why)"
	xt_done
fi
slot=$(active_slot)
pid=$(ctl_progs_entry "$slot")
xt_check "auto: xfsm_progs[$slot] holds a program" -n "$pid"
xt_check "auto: b0 runs it, attached directly" "$(attached)" = "xfsm_spec_s$slot $pid"
knock_verdicts specialized
xt_match "show: the generated program is attached" \
	"attached: b0 xfsm_spec_s$slot \\(id $pid, specialized, directly\\)" "$(X show app)"
xt_check "show -j: attached" "$(X -j show app | jq -c '.app.attached[0] | {ifname, prog_id, specialized, ours}')" = \
	"{\"ifname\":\"b0\",\"prog_id\":$pid,\"specialized\":true,\"ours\":true}"
xt_check "status -j: the port runs it" "$(port_status)" = \
	"{\"prog_id\":$pid,\"prog_name\":\"xfsm_spec_s$slot\",\"specialized\":true,\"dispatcher\":false}"
xt_match "status: text" "prog $pid xfsm_spec_s$slot \\(specialized, directly\\)" \
	"$(xt_in B "$LOADER" status)"
xt_check "status: the instance's program is the generic one" \
	"$(xt_in B "$LOADER" status -j | jq -r --arg n "$INST" '.instances[] | select(.name == $n) | .prog_id')" = \
	"$(generic_id)"

# Observers: the generated program hands every packet to the generic one.
ctl_bg tr -j trace "ip.src == $CLI, udp.dport == 5555" -c 1 ||
	xt_fail "trace started while the generated program is attached"
ctl_udp_send 5555
xt_check "trace: exits 0" "$(ctl_bg_wait tr)" = 0
xt_check "trace: the packet's record" "$(jq -r 'select(.packet) | .verdict' "$T/tr")" = pass
ctl_bg cap capture "ip.src == $CLI, udp.dport == 5556" -w "$T/cap.pcap" -c 1 ||
	xt_fail "capture started while the generated program is attached"
ctl_udp_send 5556
xt_check "capture: exits 0" "$(ctl_bg_wait cap)" = 0
xt_check "capture: a packet written" "$(stat -c %s "$T/cap.pcap")" -gt 24
xt_check "observers gone: still attached directly" "$(attached)" = "xfsm_spec_s$slot $pid"

# Modes and switches.
xt_ok "apply --datapath generic" X apply --datapath generic "$APP"
xt_check "generic: b0 runs the generic program" "$(attached)" = "xfsm_xdp $(generic_id)"
knock_verdicts generic
xt_ok "apply auto again" X apply "$APP"
slot=$(active_slot)
pid=$(ctl_progs_entry "$slot")
xt_check "auto again: b0 runs slot $slot's program" "$(attached)" = "xfsm_spec_s$slot $pid"
cat >"$T/open.xfsm" <<'APP'
app open
default pass
stage nothing {
	key ip.src
	rule ssh when tcp.dport == 22 => pass
}
APP
xt_ok "switch to another application" X apply "$T/open.xfsm"
nslot=$(active_slot)
npid=$(ctl_progs_entry "$nslot")
xt_check "switch: the other slot" "$nslot" != "$slot"
xt_check "switch: b0 runs the new slot's program" "$(attached)" = "xfsm_spec_s$nslot $npid"
xt_nok "switch: the old slot's program is freed" bpftool prog show id "$pid"
xt_ok "switch: SSH passes without knocks" ctl_connect 22
xt_ok "back to portknock" X apply "$APP"
slot=$(active_slot)
pid=$(ctl_progs_entry "$slot")
knock_verdicts "back"

# A reload attaches the new generic program, then the running slot's.
old_generic=$(generic_id)
xt_ok "reload" xt_in B env XFSM_NO_DISPATCHER=1 "$LOADER" load --mode skb --instance "$INST" b0
xt_check "reload: a new generic program" "$(generic_id)" != "$old_generic"
xt_check "reload: xfsm_progs[2] holds it" "$(ctl_progs_entry 2)" = "$(generic_id)"
xt_check "reload: b0 runs the running slot's program again" "$(attached)" = "xfsm_spec_s$slot $pid"
knock_verdicts reload

# A program that is not the instance's is never replaced: b0 detached by
# hand and given another program, still in the port table.
xt_ok "b0: another program in place of xfsm" \
	ip -n "$XT_NS_B" link set dev b0 xdpgeneric off
xt_ok "b0: xdp_empty attached" \
	ip -n "$XT_NS_B" link set dev b0 xdpgeneric obj "$XT_BUILD/xdp_empty.bpf.o" sec xdp
foreign=$(attached)
xt_ok "apply with a foreign program on the port" X apply --force "$T/open.xfsm"
xt_check "the foreign program stays" "$(attached)" = "$foreign"
xt_match "show: not this instance's" "attached: b0 xdp_empty \\(id [0-9]+, not this instance's\\)" \
	"$(X show app)"
ip -n "$XT_NS_B" link set dev b0 xdpgeneric off
xt_ok "load again" xt_in B env XFSM_NO_DISPATCHER=1 "$LOADER" load --mode skb --instance "$INST" b0
slot=$(active_slot)
xt_check "load again: the running slot's program" "$(attached)" = \
	"xfsm_spec_s$slot $(ctl_progs_entry "$slot")"

# xfsm_progs[2] emptied (by hand here; the kernel empties a program array
# whose pins and descriptors are all gone): the generated program on b0
# is still the instance's, known by its xfsm_ctl, to status, show, load
# and unload alike.
pid=$(ctl_progs_entry "$slot")
xt_ok "xfsm_progs[2] emptied" bpftool map delete pinned "$PIN/xfsm_progs" key 2 0 0 0
xt_check "... it is empty; b0 runs slot $slot's program" \
	"$(ctl_progs_entry 2)/$(attached)" = "/xfsm_spec_s$slot $pid"
xt_check "generic entry empty: status -j says b0 runs it" "$(port_status)" = \
	"{\"prog_id\":$pid,\"prog_name\":\"xfsm_spec_s$slot\",\"specialized\":true,\"dispatcher\":false}"
xt_check "generic entry empty: status lists no unpinned datapath on b0" \
	"$(xt_in B "$LOADER" status -j |
		jq '[.instances[] | select((.pinned | not) and any(.ports[]?; .ifname == "b0"))] | length')" = 0
xt_check "generic entry empty: show -j agrees" \
	"$(X -j show app | jq -c '.app.attached[0] | {prog_id, specialized, ours}')" = \
	"{\"prog_id\":$pid,\"specialized\":true,\"ours\":true}"
xt_defer "rm -rf '$PIN-other'"
xt_fails_with "generic entry empty: another instance's load names the owner" \
	"b0 is already a port of xfsm instance '$INST'" \
	xt_in B env XFSM_NO_DISPATCHER=1 "$LOADER" load --mode skb --instance "$INST-other" b0
# unload --all of another pin root: this instance is pinned outside it,
# and its generated program (which names the port table itself) is left.
xt_defer "rmdir '/sys/fs/bpf/xt$XT_ID-root'"
mkdir -p "/sys/fs/bpf/xt$XT_ID-root"
out=$(xt_in B env XFSM_PIN_ROOT="/sys/fs/bpf/xt$XT_ID-root" "$LOADER" unload --all 2>&1)
xt_match "generic entry empty: unload --all of another root skips b0" \
	"skipping b0: it is port 1 of an xfsm instance pinned outside" "$out"
xt_check "generic entry empty: ... and b0 still runs it" "$(attached)" = "xfsm_spec_s$slot $pid"

# Unload detaches it and leaves nothing.
xt_ok "unload" xt_in B "$LOADER" unload --instance "$INST"
xt_check "unload: nothing attached to b0" "$(attached)" = ""
xt_check "unload: no pins" ! -e "$PIN"
xt_done
