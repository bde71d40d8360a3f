#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Two instances whose interfaces run their applications' generated
# programs directly (docs/specializer.md, "How a specialized program
# runs"): instance 1 on b0 in namespace B, instance 2 on c0 in namespace
# C, both interfaces of ifindex 90, so that an ifindex of one instance's
# port table is the other's interface in the other's namespace.  What is
# done to one instance -- a switch to another application, the generic
# datapath and back, a writer's recovery, a reload, status, unload --
# leaves the other's interface running the program it ran, with its
# application's verdicts, and the other's pins; then the same the other
# way round.  Every xfsmctl and unload command of an instance runs in the
# other instance's namespace, where its ifindex is the other's interface.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

xt_require_root
xt_require_cmd ip nsenter jq bpftool timeout "$XT_PY"
xt_require_file "$LOADER" "$CTL" "${XFSM_BPF_DIR:-$XT_BUILD}/xfsm.bpf.o"
xt_bpffs || xt_skip "cannot mount bpffs"

ROOT="/sys/fs/bpf/xt$XT_ID-two"
export XFSM_PIN_ROOT="$ROOT"
xt_defer "rm -rf '$ROOT'"
xt_tmpdir T

xt_netns_add A
xt_netns_add B
xt_netns_add C
if ! ip link add a0 index 80 netns "$XT_NS_A" type veth peer name b0 index 90 netns "$XT_NS_B" ||
   ! ip link add a1 index 81 netns "$XT_NS_A" type veth peer name c0 index 90 netns "$XT_NS_C"; then
	xt_fail "veth pairs"
	xt_done
fi
ip -n "$XT_NS_A" addr add 198.18.30.1/24 dev a0
ip -n "$XT_NS_B" addr add 198.18.30.2/24 dev b0
ip -n "$XT_NS_A" addr add 198.18.31.1/24 dev a1
ip -n "$XT_NS_C" addr add 198.18.31.2/24 dev c0
ip -n "$XT_NS_A" link set a0 up
ip -n "$XT_NS_A" link set a1 up
ip -n "$XT_NS_B" link set b0 up
ip -n "$XT_NS_C" link set c0 up
xt_check "b0 and c0 share ifindex 90" \
	"$(ip -n "$XT_NS_B" -j link show b0 | jq .[0].ifindex)/$(ip -n "$XT_NS_C" -j link show c0 | jq .[0].ifindex)" = 90/90

# Instance N: its name, namespace, interface, address, pins, applications.
NAME=("" "xt$XT_ID-one" "xt$XT_ID-two")
NS=("" B C)
IF=("" b0 c0)
ADDR=("" 198.18.30.2 198.18.31.2)
PIN=("" "$ROOT/${NAME[1]}" "$ROOT/${NAME[2]}")
APP=("" "$XT_TOP/examples/portknock.xfsm" "$T/web.xfsm")
OTHER=("" 2 1)
cat >"$T/web.xfsm" <<'APP'
app web
default pass
stage web {
	key ip.src
	rule closed when tcp.dport == 80 => drop
	rule ssh when tcp.dport == 22 => pass
}
APP
cat >"$T/other.xfsm" <<'APP'
app other
default pass
stage tally {
	key ip.src
	rule ssh when tcp.dport == 22 => count ssh, pass
	rule web when tcp.dport == 80 => count web, pass
}
APP

# xfsmctl for instance N, run in the other instance's namespace.
X() { local n=$1; shift; xt_in "${NS[${OTHER[$n]}]}" "$CTL" --instance "${NAME[$n]}" "$@"; }
load() {
	xt_ok "$2: load instance $1 on ${IF[$1]}" xt_in "${NS[$1]}" env XFSM_NO_DISPATCHER=1 \
		"$LOADER" load --mode skb --instance "${NAME[$1]}" "${IF[$1]}"
}
# "NAME ID" of what instance N's interface runs.
runs() { xt_xdp_progs "${NS[$1]}" "${IF[$1]}" | head -n1; }
pins() { find "${PIN[$1]}" -mindepth 1 2>/dev/null | sort | tr '\n' ' '; }

# Instance N's verdicts under its own application.
verdicts() {
	local n=$1 tag=$2
	if [ "$n" = 1 ]; then
		X 1 state flush knock >/dev/null
		xt_nok "$tag: instance 1: SSH is closed before the knocks" ctl_connect 22 "${ADDR[1]}"
		for p in 1111 2222 3333 4444; do ctl_udp_send $p "${ADDR[1]}"; done
		xt_ok "$tag: instance 1: SSH opens after the knocks" ctl_connect 22 "${ADDR[1]}"
	else
		xt_ok "$tag: instance 2: SSH passes" ctl_connect 22 "${ADDR[2]}"
		xt_nok "$tag: instance 2: port 80 is dropped" ctl_connect 80 "${ADDR[2]}"
	fi
}

# Instance N runs its application specialized, attached directly.
specialized() {
	local n=$1 slot
	slot=$(X "$n" -j show program | jq -r .slot)
	[ "$(X "$n" -j show app | jq -r .app.datapath.runs)" = specialized ] &&
		[ "$(runs "$n")" = "xfsm_spec_s$slot $(xt_xfsm_should_run "${PIN[$n]}")" ]
}

# What the instance that is left alone (M) was before: program, pins.
KEEP_RUNS=
KEEP_PINS=
keep() {
	KEEP_RUNS=$(runs "$1")
	KEEP_PINS=$(pins "$1")
}
kept() {
	local m=$1 tag=$2
	xt_check "$tag: ${IF[$m]} still runs instance $m's program ($KEEP_RUNS)" \
		"$(runs "$m")" = "$KEEP_RUNS"
	xt_check "$tag: instance $m's pins are all there" "$(pins "$m")" = "$KEEP_PINS"
	xt_check "$tag: instance $m's control block is not dirty" \
		"$(( $(bpftool -j map lookup pinned "${PIN[$m]}/xfsm_ctl" key 0 0 0 0 |
			jq -c '.value' | xt_bpf_num 12 4) & 1 ))" = 0
	verdicts "$m" "$tag"
}

# Mark instance N's control block as a writer left it when it died
# between its flip and settling (XFSM_CTLF_DIRTY, include/xfsm/abi.h).
set_dirty() {
	local v
	v=$(bpftool -j map lookup pinned "${PIN[$1]}/xfsm_ctl" key 0 0 0 0 | jq -r '
		def hex: ltrimstr("0x") | ascii_downcase | explode |
			reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end));
		.value | map(hex) | .[12] |= (if . % 2 == 0 then . + 1 else . end) | map(tostring) | join(" ")')
	# shellcheck disable=SC2086 # the value's bytes are words
	bpftool map update pinned "${PIN[$1]}/xfsm_ctl" key 0 0 0 0 value $v
}

# Everything done to instance N while M is watched; N ends unloaded.
exercise() {
	local n=$1 m=${OTHER[$1]} generic out
	keep "$m"
	xt_ok "instance $n: switch to another application" X "$n" apply "$T/other.xfsm"
	xt_check "instance $n: it runs" "$(X "$n" -j show app | jq -r .app.name)" = other
	xt_ok "instance $n: the switch runs, attached directly" specialized "$n"
	xt_ok "instance $n: port 80 passes" ctl_connect 80 "${ADDR[$n]}"
	kept "$m" "instance $n switched"

	xt_ok "instance $n: the generic datapath" X "$n" apply --datapath generic "$T/other.xfsm"
	generic=$(bpftool -j prog show pinned "${PIN[$n]}/prog" | jq -r .id)
	xt_check "instance $n: ${IF[$n]} runs its generic program" "$(runs "$n")" = "xfsm_xdp $generic"
	kept "$m" "instance $n generic"

	xt_ok "instance $n: its application again (auto)" X "$n" apply "${APP[$n]}"
	xt_ok "instance $n: specialized, attached directly" specialized "$n"
	verdicts "$n" "instance $n back"
	kept "$m" "instance $n back"

	# A writer died after its flip: the interface runs another of the
	# instance's programs (here its generic one), the block is dirty.
	# (ip -n would mount another /sys, without the pins.)
	xt_in "${NS[$n]}" ip link set dev "${IF[$n]}" xdpgeneric off
	xt_in "${NS[$n]}" ip link set dev "${IF[$n]}" xdpgeneric pinned "${PIN[$n]}/prog"
	xt_check "instance $n: ${IF[$n]} runs the generic program by hand" \
		"$(runs "$n" | cut -d' ' -f1)" = xfsm_xdp
	xt_ok "instance $n: its control block marked dirty" set_dirty "$n"
	out=$(X "$n" -v apply --force "${APP[$n]}" 2>&1)
	xt_match "instance $n: the next writer recovers" "did not finish; cleaning up" "$out"
	xt_ok "instance $n: recovered, specialized, attached directly" specialized "$n"
	verdicts "$n" "instance $n recovered"
	kept "$m" "instance $n recovered"

	load "$n" "instance $n reloaded" &&
		xt_ok "instance $n: reloaded, specialized, attached directly" specialized "$n"
	kept "$m" "instance $n reloaded"

	out=$(xt_in "${NS[$m]}" "$LOADER" status -j)
	xt_check "status: instance $n's port runs its program" \
		"$(jq -r --arg i "${NAME[$n]}" '.instances[] | select(.name == $i) | .ports[0] | "\(.prog_name) \(.prog_id)"' <<<"$out")" = \
		"$(runs "$n")"
	xt_check "status: instance $m's port runs its program" \
		"$(jq -r --arg i "${NAME[$m]}" '.instances[] | select(.name == $i) | .ports[0] | "\(.prog_name) \(.prog_id)"' <<<"$out")" = \
		"$KEEP_RUNS"

	xt_ok "instance $n: unload" xt_in "${NS[$m]}" "$LOADER" unload --instance "${NAME[$n]}"
	xt_check "instance $n: nothing attached to ${IF[$n]}" "$(runs "$n")" = ""
	xt_check "instance $n: no pins" ! -e "${PIN[$n]}"
	kept "$m" "instance $n unloaded"
}

ctl_listen 22 B "${ADDR[1]}" || xt_fail "listener on ${ADDR[1]}:22"
ctl_listen 80 B "${ADDR[1]}" || xt_fail "listener on ${ADDR[1]}:80"
ctl_listen 22 C "${ADDR[2]}" || xt_fail "listener on ${ADDR[2]}:22"
ctl_listen 80 C "${ADDR[2]}" || xt_fail "listener on ${ADDR[2]}:80"
for n in 1 2; do
	xt_defer "xt_in ${NS[$n]} '$LOADER' unload --instance '${NAME[$n]}'"
	load "$n" "start" || xt_done
	xt_ok "instance $n: apply its application" X "$n" apply "${APP[$n]}"
	if [ "$(X "$n" -j show app | jq -r .app.datapath.runs)" != specialized ]; then
		xt_skip "instance $n's application is not specialized here: $(X "$n" -j show app | jq -r .app.datapath.why)"
	fi
	xt_ok "instance $n: specialized, attached directly" specialized "$n"
done
verdicts 1 start
verdicts 2 start

exercise 1
load 1 "again" && xt_ok "instance 1: apply its application again" X 1 apply "${APP[1]}"
xt_ok "instance 1: specialized, attached directly again" specialized 1
exercise 2
xt_done
