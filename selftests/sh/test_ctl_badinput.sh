#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Bad input leaves the datapath untouched: with examples/portknock.xfsm
# running and a flow in the table, every malformed application of the
# corpus (selftests/lang/bad_*.xfsm) and a list of malformed command lines
# fail with an error and a non-zero exit, and a dump of every table
# (show, state list, globals) is identical before and after.  Also: no
# datapath / unknown instance gives one clear message.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

ctl_setup
xt_ok "apply portknock" X apply "$XT_TOP/examples/portknock.xfsm" || xt_done
ctl_udp_send 1111
ctl_udp_send 2222
xt_ok "global set" X global set 2 7

before=$(ctl_snapshot)
is_json() { printf '%s\n' "$before" | jq -e . >/dev/null; }
xt_ok "snapshot is JSON" is_json
xt_match "snapshot has the knocking flow" '"state":"k2"' "$before"

n=0
for f in "$XT_TOP"/selftests/lang/bad_*.xfsm; do
	want=$(head -1 "$f" | sed 's/^# expect: //')
	out=$(X apply "$f" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		xt_fail "$(basename "$f"): apply succeeded"
	elif ! printf '%s\n' "$out" | grep -qF -- "${want%%: *}: error: ${want#*: }"; then
		xt_fail "$(basename "$f"): wrong error: $out"
	else
		n=$((n + 1))
	fi
done
xt_check "every malformed file refused with its error ($n)" "$n" -ge 30

bad_cmds=(
	"apply"
	"apply /nonexistent.xfsm"
	"apply $XT_TOP/examples/portknock.xfsm --bogus"
	"frobnicate"
	"zzz"
	"show nothing"
	"rule add knock"
	"rule add nostage 'rule x => drop'"
	"rule add knock 'rule x when ip.srcx == 1 => drop'"
	"rule add knock 'rule ssh_open => drop'"
	"rule del knock nope"
	"state get knock"
	"state get knock 1.2.3.4.5"
	"state get nostage 198.18.20.1"
	"state set knock 198.18.20.1 state nowhere"
	"state set knock 198.18.20.1 state open idle 30s hard 10s"
	"state set knock 198.18.20.1"
	"state del knock 198.18.20.99"
	"global set 99 1"
	"global set 1 notanumber"
	"global get nosuch"
	"stats --bogus"
	"stats -c 0"
)
for c in "${bad_cmds[@]}"; do
	eval "xt_nok \"refused: xfsmctl $c\" X $c"
done

after=$(ctl_snapshot)
xt_check "every table unchanged after the bad input" "$before" = "$after"
if [ "$before" != "$after" ]; then
	diff <(printf '%s\n' "$before" | jq .) <(printf '%s\n' "$after" | jq .) | head -20
fi

out=$(xt_in B "$CTL" --instance "nosuch$XT_ID" show 2>&1)
rc=$?
xt_check "unknown instance: non-zero exit" $rc -ne 0
xt_match "unknown instance: clear message" "unknown instance 'nosuch$XT_ID'" "$out"
out=$(xt_in A "$CTL" -i a0 show 2>&1)
rc=$?
xt_check "interface without datapath: non-zero exit" $rc -ne 0
xt_match "interface without datapath: clear message" "no XDP program is attached to a0" "$out"
out=$(xt_in A "$CTL" --pin-dir /sys/fs/bpf/nosuch$XT_ID show 2>&1)
xt_match "missing pin dir: clear message" "no xfsm datapath pinned at" "$out"
xt_done
