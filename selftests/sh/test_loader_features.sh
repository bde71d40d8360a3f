#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsm-loader features: the kernel probes, checked against what actually
# happens on this kernel.  The "required" verdict must agree with the
# verifier taking the datapath object; the dispatcher probe must agree with
# what libxdp does when the loader attaches (a dispatcher on the interface,
# or xfsm attached alone with the loader's notice), and where libxdp runs
# its dispatcher for a plain program, xfsm shares the interface with it.
# Under emulation this is one of the few suites run with the dispatcher
# (selftests/run.sh):
# xt-dispatcher: libxdp

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/features.sh"

xt_require_root
xt_require_cmd ip jq bpftool nsenter uname
LOADER="$XT_BUILD/xfsm-loader"
OBJ="${XFSM_BPF_DIR:-$XT_BUILD}/xfsm.bpf.o"
SHARE="$XT_BUILD/selftests/xt_libxdp"
PASS="$XT_BUILD/xdp_pass.bpf.o"
CTL="$XT_BUILD/xfsmctl"
xt_require_file "$LOADER" "$OBJ" "$SHARE" "$PASS" "$CTL"
xt_bpffs || xt_skip "cannot mount bpffs"

json=$("$LOADER" features -j)
xt_ok "features -j is valid JSON" jq -e . <<<"$json"
st() { jq -r --arg n "$1" '.features[] | select(.name == $n) | .state' <<<"$json"; }

xt_check "kernel release is uname -r" "$(jq -r .kernel <<<"$json")" = "$(uname -r)"
xt_check "every feature probed to yes or no" \
	"$(jq -r '[.features[] | select(.state != "yes" and .state != "no")] | length' <<<"$json")" = 0
for f in xdp btf global_func spin_lock atomics lru_hash percpu_array map_in_map \
	 devmap_hash broadcast xskmap dispatcher; do
	xt_check "feature $f is reported" -n "$(st "$f")"
done
xt_check "twelve features" "$(jq -r '.features | length' <<<"$json")" = 12
xt_check "a missing feature says what xfsm loses" \
	"$(jq -r '[.features[] | select(.state == "no" and (.without // "") == "")] | length' <<<"$json")" = 0

# The verdict against the verifier: the datapath object loads here iff no
# required feature is missing.
xt_bpf_obj_loads "$OBJ"
loads=$?
want=false
[ $loads -eq 0 ] && want=true
xt_check "datapath_loads agrees with the verifier" "$(jq -r .datapath_loads <<<"$json")" = "$want"

# The text form names the kernel and every feature.
text=$("$LOADER" features)
xt_match "text: kernel line" "^kernel $(uname -r), lockdown " "$text"
xt_match "text: atomics line" "atomics +(yes|no) +BPF atomic fetch operations, Linux 5.12, required" "$text"
xt_match "text: dispatcher line" "dispatcher +(yes|no) +freplace programs" "$text"

xt_nok "features rejects an unknown argument" "$LOADER" features --bogus
out=$("$LOADER" features --bogus 2>&1)
xt_match "the error names the argument" "unknown argument '--bogus'" "$out"

xt_netns_add A
xt_netns_add B
xt_veth A a0 "198.18.14.1/24" B b0 "198.18.14.2/24"
inst="xt$XT_ID-feat"
xt_defer "rm -rf '/sys/fs/bpf/xfsm/$inst'"
xt_defer "xt_in B '$LOADER' unload --instance '$inst' >/dev/null 2>&1"

# A kernel older than the minimum: the refusal names what it lacks, and
# nothing is left attached or pinned.
if [ $loads -ne 0 ]; then
	out=$(xt_in B "$LOADER" load --mode skb --instance "$inst" b0 2>&1)
	xt_check "refused: load fails" $? -ne 0
	xt_match "refused: the loader names this kernel" "this kernel \\($(uname -r)\\) lacks" "$out"
	lacks=$(jq -r '.features[] | select(.required and .state == "no") | .what' <<<"$json")
	xt_check "refused: the probes found what is missing" -n "$lacks"
	while read -r what; do
		[ -n "$what" ] && xt_match "refused: names '$what'" "$what" "$out"
	done <<<"$lacks"
	xt_check "refused: nothing attached" -z "$(xt_xdp_progs B b0)"
	xt_check "refused: nothing pinned" ! -e "/sys/fs/bpf/xfsm/$inst"
	xt_done
fi

# The dispatcher probe against libxdp: attach in skb mode (libxdp's
# dispatcher, if it can load, holds the datapath as a component).
out=$(xt_in B "$LOADER" load --mode skb --instance "$inst" b0 2>&1)
xt_check "load in skb mode" $? = 0 || printf '%s\n' "$out"
first=$(xt_xdp_progs B b0 | head -n1 | cut -d' ' -f1)
xt_check "xfsm runs on b0" -n "$(xt_xfsm_prog_id B b0)"
if [ "$(st dispatcher)" = yes ]; then
	xt_check "dispatcher yes: libxdp's dispatcher runs on b0" "$first" = xdp_dispatcher
	xt_nok "dispatcher yes: no fallback notice" grep -q "dispatcher is not usable" <<<"$out"
else
	xt_check "dispatcher no: xfsm attached alone" "$first" = xfsm_xdp
	xt_match "dispatcher no: the loader says so" "dispatcher is not usable here" "$out"
fi
xt_ok "unload" xt_in B "$LOADER" unload --instance "$inst"
xt_check "nothing left on b0" -z "$(xt_xdp_progs B b0)"

# Behind the dispatcher, a reload joins the new datapath next to the old
# one, which leaves only once every interface has taken the new one: a
# reload failing on its second interface (c0 cannot take native XDP: its
# veth peer's MTU is too large) gives b0 back exactly the old datapath,
# still in the dispatcher.  Then XFSM_NO_DISPATCHER=1 (what the other
# suites run with under emulation, selftests/run.sh): the loader attaches
# directly even here and says why.  (This suite is where the guest's run
# tests the dispatcher; test_loader_ports checks the same rollback on
# plainly attached interfaces.)
disp_status() {
	xt_in B "$LOADER" status -j | jq -r --arg n "$inst" \
		'.instances[] | select(.name == $n) | .ports[0] | "\(.dispatcher) \(.prog_id)"'
}
if [ "$(st dispatcher)" = yes ]; then
	xt_veth A a1 "198.18.15.1/24" B c0 "198.18.15.2/24"
	ip -n "$XT_NS_A" link set a1 mtu 9000
	xt_ok "native: load behind the dispatcher" \
		xt_in B "$LOADER" load --mode native --instance "$inst" b0
	old=$(xt_xfsm_prog_id B b0)
	xt_check "native: the dispatcher runs b0" \
		"$(xt_xdp_progs B b0 | head -n1 | cut -d' ' -f1)" = xdp_dispatcher
	xt_check "native: status says a dispatcher holds b0" "$(disp_status)" = "true $old"
	out=$(xt_in B "$LOADER" load --mode native --instance "$inst" b0 c0 2>&1)
	xt_check "failed reload: refused" $? -ne 0
	xt_match "failed reload: names c0" "c0: native XDP refused" "$out"
	progs=$(xt_xdp_progs B b0)
	xt_check "failed reload: b0 runs the old datapath" "$(xt_xfsm_prog_id B b0)" = "${old:-none}"
	xt_check "failed reload: one xfsm component left" "$(grep -c '^xfsm_xdp ' <<<"$progs")" = 1
	xt_check "failed reload: still behind the dispatcher" \
		"$(head -n1 <<<"$progs" | cut -d' ' -f1)" = xdp_dispatcher
	xt_check "failed reload: c0 runs nothing" -z "$(xt_xdp_progs B c0)"
	xt_ok "failed reload: ping" xt_ping A 198.18.14.2
	out=$(xt_in B env XFSM_NO_DISPATCHER=1 "$LOADER" load --mode native --instance "$inst" b0 2>&1)
	xt_check "XFSM_NO_DISPATCHER=1: reload" $? = 0 || printf '%s\n' "$out"
	xt_check "XFSM_NO_DISPATCHER=1: xfsm attached alone" \
		"$(xt_xdp_progs B b0 | head -n1 | cut -d' ' -f1)" = xfsm_xdp
	xt_match "XFSM_NO_DISPATCHER=1: the loader names it" \
		"dispatcher is not usable here \(XFSM_NO_DISPATCHER is set\)" "$out"
	xt_check "XFSM_NO_DISPATCHER=1: status says no dispatcher" \
		"$(disp_status)" = "false $(xt_xfsm_prog_id B b0)"
	xt_ok "XFSM_NO_DISPATCHER=1: ping" xt_ping A 198.18.14.2
	xt_ok "native: unload" xt_in B "$LOADER" unload --instance "$inst"
	xt_check "native: nothing left on b0" -z "$(xt_xdp_progs B b0)"
fi

# Sharing the interface with another program through libxdp, as xdp-loader
# would put one there.  Where libxdp runs its dispatcher for a plain
# program (the kernel loads freplace programs), xfsm must join it: the
# dispatcher probe says yes, xfsm becomes a component next to the other
# program, and an application specialized in xfsm_progs runs there (the
# datapath's copy in the dispatcher tail-calls through xfsm_progs, which
# kernels with the 2025 tail-call check refuse unless every program
# sharing the array has the copy's expected attach type).
X() { xt_in B "$CTL" --instance "$inst" "$@"; }
how=$(xt_in B "$SHARE" attach b0 "$PASS" 10 skb)
xt_check "libxdp attaches xdp_pass to b0" $? = 0
xt_defer "xt_in B '$SHARE' detach b0 xdp_pass >/dev/null 2>&1"
if [ "$how" != dispatcher ]; then
	xt_check "no dispatcher: the probe agrees" "$(st dispatcher)" = no
	xt_log "libxdp runs no dispatcher here (${how:-failed}): xfsm cannot share b0"
	xt_ok "detach xdp_pass" xt_in B "$SHARE" detach b0 xdp_pass
	xt_done
fi
xt_check "libxdp runs a dispatcher here: the dispatcher probe says yes" \
	"$(st dispatcher)" = yes
out=$(xt_in B "$LOADER" load --mode skb --instance "$inst" b0 2>&1)
xt_check "shared: xfsm joins the dispatcher" $? = 0 || printf '%s\n' "$out"
progs=$(xt_xdp_progs B b0)
xt_check "shared: the dispatcher still runs b0" "$(head -n1 <<<"$progs" | cut -d' ' -f1)" = \
	xdp_dispatcher
xt_match "shared: xdp_pass is a component" "^xdp_pass " "$progs"
xt_match "shared: xfsm_xdp is a component" "^xfsm_xdp " "$progs"
xt_nok "shared: no fallback notice" grep -q "dispatcher is not usable" <<<"$out"
xt_tmpdir T
cat >"$T/noping.xfsm" <<'APP'
app noping
default pass
stage s {
	key ip.src
	rule noping when ip.proto == icmp => drop
}
APP
xt_ok "shared: apply an application dropping ICMP, specialized" \
	X apply --datapath specialized "$T/noping.xfsm"
xt_check "shared: it runs specialized" "$(X -j show app | jq -r .app.datapath.runs)" = specialized
xt_nok "shared: ping dropped by xfsm behind the dispatcher" xt_ping A 198.18.14.2
xt_ok "shared: unload xfsm" xt_in B "$LOADER" unload --instance "$inst"
progs=$(xt_xdp_progs B b0)
xt_match "shared: xdp_pass stays" "^xdp_pass " "$progs"
xt_nok "shared: xfsm_xdp left" grep -q "^xfsm_xdp " <<<"$progs"
xt_ok "shared: ping passes again" xt_ping A 198.18.14.2
xt_ok "detach xdp_pass" xt_in B "$SHARE" detach b0 xdp_pass
xt_check "nothing left on b0 at the end" -z "$(xt_xdp_progs B b0)"

xt_done
