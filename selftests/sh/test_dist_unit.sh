#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# The systemd unit as installed (dist/xfsm@.service through
# scripts/install.sh into a scratch prefix): its ExecStart, ExecReload and
# ExecStop command lines are read from the unit file and run, with %i
# filled in and systemd's empty environment, in a server namespace joined
# to a client namespace by two veth pairs.  The sequence start, reload
# with an interface added, reload with it removed, restart (stop, start)
# must keep the port-knocking flow open throughout: TCP 22 stays accepted
# without knocking again.  Also: a configuration without XFSM_MODE works,
# the application defaults to NAME.xfsm beside the configuration, start
# waits for a late interface, bad configurations fail naming the file and
# line and change nothing (also a glob in XFSM_INTERFACES, and a reload
# adding or removing an interface whose application compiles but does not
# fit the datapath: no interface added or removed), and the unit is
# ordered before network-pre.target.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

xt_require_root
xt_require_cmd ip nsenter jq timeout "$XT_PY"
xt_require_file "$XT_BUILD/xfsm-loader" "$XT_BUILD/xfsmctl" "$XT_BUILD/xfsm.bpf.o" \
	"$XT_BUILD/libxfsm.vars"
xt_bpffs || xt_skip "cannot mount bpffs"

D=$(mktemp -d /tmp/xt-unit.XXXXXX)
xt_defer "rm -rf '$D'"
xt_ok "install.sh into $D" "$XT_TOP/scripts/install.sh" "" "$D" "$XT_BUILD" || xt_done
UNIT="$D/lib/systemd/system/xfsm@.service"
ETC="$D/etc/xfsm"
INST="xt$XT_ID-unit"
CONF="$ETC/$INST.conf"
xt_defer "rm -rf '/sys/fs/bpf/xfsm/$INST'"
xt_defer "xt_in B '$D/sbin/xfsm-loader' unload --instance '$INST'"

# ---- the unit file -------------------------------------------------------------

unit=$(cat "$UNIT")
xt_match "ordered before network-pre.target" '^Before=.*\bnetwork-pre\.target\b' "$unit"
xt_match "pulls in network-pre.target" '^Wants=.*\bnetwork-pre\.target\b' "$unit"
xt_check "not ordered after network-pre.target" \
	"$(grep -Ec '^After=.*\bnetwork-pre\.target\b' <<<"$unit")" = 0
xt_check "no placeholder left in the unit" "$(grep -c '@[A-Z]*@' <<<"$unit")" = 0
cond=$(sed -n 's/^ConditionPathExists=//p' <<<"$unit")
xt_check "the condition names the configuration" "${cond//%i/$INST}" = "$CONF"

# The unit's capability bounding set and no_new_privs, as setpriv options:
# its commands run with exactly what the unit grants them.
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
xt_check "the unit bounds its capabilities" -n "$caps"
SETPRIV=(setpriv --bounding-set="-all$(for c in $caps; do
	c=${c#CAP_}; printf ',+%s' "${c,,}"; done)" --inh-caps=-all)
grep -q '^NoNewPrivileges=yes' "$UNIT" && SETPRIV+=(--no-new-privs)

# unit_run KEY...: run the unit's KEY= lines in order in namespace B, as
# systemd would for this instance (empty environment, the unit's
# capability bounding set); stop at the first failure (a '-' prefix ignores
# it).  Anything this emulation does not know fails the test.
unit_run() {
	local key line cmd ignore rc
	local -a argv
	for key in "$@"; do
		while IFS= read -r line; do
			cmd=${line#"$key="}
			ignore=0
			while :; do
				case $cmd in
				-*) ignore=1; cmd=${cmd#-} ;;
				[@+!:]*) cmd=${cmd#?} ;;
				*) break ;;
				esac
			done
			cmd=${cmd//%i/$INST}
			cmd=${cmd//%I/$INST}
			if [[ $cmd == *[%\$\"\'\\]* ]]; then
				echo "unit_run: '$line' needs more than this test emulates"
				return 99
			fi
			read -r -a argv <<<"$cmd"
			xt_in B "${SETPRIV[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${argv[@]}"
			rc=$?
			[ $rc -eq 0 ] || [ $ignore -eq 1 ] || return $rc
		done < <(grep "^$key=" "$UNIT")
	done
}
u_start()   { unit_run ExecStartPre ExecStart ExecStartPost; }
u_reload()  { unit_run ExecReload; }
u_stop()    { unit_run ExecStop ExecStopPost; }

# ---- a server with two interfaces -----------------------------------------------

xt_netns_add A
xt_netns_add B
xt_veth A a0 "$CLI/24" B b0 "$SRV/24" || { xt_fail "veth a0-b0"; xt_done; }
xt_veth A a1 198.18.21.1/24 B b1 198.18.21.2/24 || { xt_fail "veth a1-b1"; xt_done; }
ctl_listen 22
X() { xt_in B "$D/sbin/xfsmctl" --instance "$INST" "$@"; }
attached() { [ -n "$(xt_xfsm_prog_id B "$1")" ]; }
port_of() {
	xt_in B "$D/sbin/xfsm-loader" status -j | jq -r --arg n "$INST" --arg i "$1" \
		'.instances[] | select(.name == $n) | .ports[] | select(.ifname == $i) | .port'
}
open_flow() { X state list knock | grep -Eq "ip.src=$CLI +state open"; }

# Port knocking with the open state lasting an hour, not 30 s: under
# emulation (make vmtest) each load takes half a minute.
sed 's/hard 30s/hard 1h/' "$XT_TOP/examples/portknock.xfsm" > "$ETC/$INST.xfsm"
printf '# no XFSM_MODE, no XFSM_APPLICATION: the defaults\nXFSM_INTERFACES="b0"\n' > "$CONF"

xt_ok "without the unit: TCP 22 accepted" ctl_connect 22
xt_ok "start (no XFSM_MODE; application $INST.xfsm by default)" u_start
xt_ok "start: b0 runs xfsm" attached b0
xt_check "start: b0 is port 1" "$(port_of b0)" = 1
xt_nok "start: portknock applied, TCP 22 refused" ctl_connect 22
for p in 1111 2222 3333 4444; do ctl_udp_send $p; done
xt_ok "knocked: TCP 22 accepted" ctl_connect 22
xt_ok "knocked: the flow is open" open_flow

sed -i 's/^XFSM_INTERFACES=.*/XFSM_INTERFACES="b0 b1"/' "$CONF"
xt_ok "reload with b1 added" u_reload
xt_ok "reload: b1 runs xfsm" attached b1
xt_check "reload: b1 is port 2" "$(port_of b1)" = 2
xt_ok "reload: the flow is still open" open_flow

sed -i 's/^XFSM_INTERFACES=.*/XFSM_INTERFACES="b0"/' "$CONF"
xt_ok "reload with b1 removed" u_reload
xt_nok "reload: b1 detached" attached b1
xt_check "reload: b1 is no port" "$(port_of b1)" = ""
xt_ok "reload: b0 still runs xfsm" attached b0
xt_ok "reload: TCP 22 still accepted" ctl_connect 22

xt_ok "restart: stop" u_stop
xt_nok "stopped: b0 detached" attached b0
xt_ok "stopped: TCP 22 accepted (nothing filters)" ctl_connect 22
xt_check "stopped: the instance's maps are kept" -e "/sys/fs/bpf/xfsm/$INST/xfsm_flows"
xt_ok "restart: start" u_start
xt_ok "restarted: b0 runs xfsm" attached b0
xt_check "restarted: b0 is still port 1" "$(port_of b0)" = 1
xt_ok "restarted: the flow survived, open" open_flow
xt_ok "restarted: TCP 22 accepted without knocking again" ctl_connect 22

# ---- bad configurations change nothing ----------------------------------------------
# The instance as status -j shows it, less program ids: a reload that
# fails after its load runs a new copy of the same datapath on the same maps.
snap() {
	xt_in B "$D/sbin/xfsm-loader" status -j |
		jq -c --arg n "$INST" '.instances[] | select(.name == $n) | del(.. | .prog_id?)'
}
before=$(snap)
cp "$CONF" "$D/good.conf"
# bad_reload WHAT REGEX CONF-LINE...: with that configuration, reload fails
# and says REGEX.
bad_reload() {
	local what=$1 want=$2 out rc
	shift 2
	printf '%s\n' "$@" > "$CONF"
	out=$(u_reload 2>&1)
	rc=$?
	xt_check "$what: reload fails" $rc -ne 0
	xt_match "$what: the message says so" "$want" "$out"
}
bad_reload "XFSM_MODE=turbo" "$CONF: XFSM_MODE is 'turbo'" 'XFSM_INTERFACES="b0 b1"' XFSM_MODE=turbo
bad_reload "a misspelled setting" "$CONF:2: unknown setting 'XFSM_INTERFACE'" \
	'XFSM_INTERFACES="b0 b1"' XFSM_INTERFACE=b1
bad_reload "an application that does not compile" "does not compile.*nothing was changed" \
	'XFSM_INTERFACES="b0 b1"' "XFSM_APPLICATION=$XT_TOP/selftests/sh/lib.sh"
bad_reload "a missing interface" "interface 'nosuch0' does not exist" 'XFSM_INTERFACES="b0 nosuch0"'
# A word of XFSM_INTERFACES is an interface name, not a pattern: with a
# file b1 in the working directory, "b?" must not become b1.
mkdir "$D/cwd" && touch "$D/cwd/b1"
pushd "$D/cwd" > /dev/null || xt_fail "cd $D/cwd"
bad_reload "a glob in XFSM_INTERFACES" "interface 'b\?' does not exist" 'XFSM_INTERFACES="b0 b?"'
popd > /dev/null || xt_fail "cd back"
# An application that compiles (so --dry-run passes) but does not fit the
# loaded datapath: more rules than an ACL table holds (4096 by default).
{
	printf 'app bigacl\ndefault pass\nacl front {\n'
	for ((i = 1; i <= 4097; i++)); do printf '\trule dport %d => deny\n' $i; done
	printf '}\n'
} > "$D/bigacl.xfsm"
bad_reload "adding b1 with an application over an ACL table's capacity" \
	"ports and its running application are unchanged" \
	'XFSM_INTERFACES="b0 b1"' "XFSM_APPLICATION=$D/bigacl.xfsm"
xt_nok "... b1 was not left attached" attached b1
xt_check "bad configurations: the instance is as before" "$(snap)" = "$before"
xt_ok "bad configurations: the flow is still open" open_flow
# The same with b1 removed: it stays attached, with its port number.
printf 'XFSM_INTERFACES="b0 b1"\n' > "$CONF"
xt_ok "reload with b1 added again" u_reload
before=$(snap)
bad_reload "removing b1 with an application over an ACL table's capacity" \
	"ports and its running application are unchanged" \
	'XFSM_INTERFACES="b0"' "XFSM_APPLICATION=$D/bigacl.xfsm"
xt_ok "... b1 still runs xfsm" attached b1
xt_check "... as port 2" "$(port_of b1)" = 2
xt_check "... the instance is as before" "$(snap)" = "$before"
xt_ok "... the flow is still open" open_flow
# A start that fails the same way detaches everything again and keeps the
# port numbers of the stopped instance, also of interfaces no longer listed.
xt_ok "stop (maps kept, b0 and b1 ports)" u_stop
printf 'XFSM_INTERFACES="b0"\nXFSM_APPLICATION=%s\n' "$D/bigacl.xfsm" > "$CONF"
out=$(u_start 2>&1)
xt_check "start with an application over an ACL table's capacity fails" $? -ne 0
xt_match "... saying the datapath was detached again" "detached again" "$out"
xt_nok "... b0 does not run xfsm" attached b0
xt_check "... b1 is still port 2" "$(port_of b1)" = 2
cp "$D/good.conf" "$CONF"

# ---- stop without keeping state; start waits for its interfaces ----------------------
printf 'XFSM_INTERFACES="b0"\nXFSM_KEEP_STATE=no\n' > "$CONF"
xt_ok "stop with XFSM_KEEP_STATE=no" u_stop
xt_check "XFSM_KEEP_STATE=no: the maps are removed" ! -e "/sys/fs/bpf/xfsm/$INST"
xt_ok "stop again: nothing to do, success" u_stop

printf 'XFSM_INTERFACES="b0 late0"\nXFSM_MODE=skb\nXFSM_DEVICE_TIMEOUT=10\n' > "$CONF"
( sleep 1; ip link add late0 netns "$XT_NS_B" type veth peer name late1 netns "$XT_NS_A" ) &
late=$!
xt_ok "start waits for an interface that appears later" u_start
wait $late
xt_ok "late0 runs xfsm" attached late0
xt_ok "stop" u_stop
printf 'XFSM_INTERFACES="b0 never0"\nXFSM_DEVICE_TIMEOUT=1\n' > "$CONF"
out=$(u_start 2>&1)
xt_check "an interface that never appears: start fails" $? -ne 0
xt_match "... naming it and the timeout" "interface never0 did not appear within 1s" "$out"
xt_nok "... and attaches nothing" attached b0

xt_done
