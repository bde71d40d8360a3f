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

# Numbers (one parser, lib/num.c: exact and in range or refused) and files
# (one reader: empty, a directory or a failing read refused): each refused
# with a message that names the argument or file, "COMMAND|MESSAGE".
bad_args=(
	"state set knock 198.18.20.1 state open idle nan|idle: 'nan' is not a number"
	"state set knock 198.18.20.1 state open hard inf|hard: 'inf' is not a number"
	"state set knock 198.18.20.1 state open idle -5s|idle: '-5s' is not a number"
	"state set knock 198.18.20.1 state open idle 1e3|idle: unknown unit 'e3' in '1e3'"
	"state set knock 198.18.20.1 state open idle 10KiB|idle: '10KiB' is not a duration"
	"state set knock 198.18.20.1 state open hard 5124096h|hard: number '5124096h' does not fit in 64 bits"
	"state set knock 198.18.20.1 state open reg0 ' -1'|reg0: ' -1' is not a number"
	"state set knock 198.18.20.1 state open reg0 18446744073709551616|reg0: 18446744073709551616 is out of range"
	"state set knock 198.18.20.1 state 4294967296|state number: 4294967296 is out of range"
	"global set 1 ' -1'|global set VALUE: ' -1' is not a number"
	"global set 1 -1|global set VALUE: '-1' is not a number"
	"global set 1 18446744073709551616|global set VALUE: 18446744073709551616 is out of range"
	"global set 1 0x|global set VALUE: '0x' has no digits after its base prefix"
	"global set 1 '7 '|global set VALUE: '7 ' is not a number"
	"global set 1 1.5|global set VALUE: '1.5' is not a whole number"
	"global set 010x 1|unknown global register '010x'"
	"state get knock '198.18.20.1;junk'|'198.18.20.1;junk' is not a value for ip.src"
	"state get knock 1KiB|'1KiB' is not a value for ip.src"
	"state get knock 198.300.20.1|'198.300.20.1' is not a value for ip.src"
	"state get knock 198.018.20.1|'198.018.20.1' is not a value for ip.src"
	"state get knock 198.18.20.1,|empty value in the key '198.18.20.1,'"
	"state del knock ,198.18.20.1|empty value in the key ',198.18.20.1'"
	"stats --interval nan|--interval: 'nan' is not a number"
	"stats --interval inf|--interval: 'inf' is not a number"
	"stats --interval 1e-1|--interval: unknown unit 'e-1'"
	"stats -c ' 2'|-c COUNT: ' 2' is not a number"
	"group add 1 weighted 3:0x|group: bad member 3:0x"
	"apply /dev/null|/dev/null: error: the file is empty"
	"apply /|/: error: is a directory, not a file"
	"apply /proc/self/mem|/proc/self/mem: error: read failed: Input/output error"
)
for c in "${bad_args[@]}"; do
	cmd=${c%%|*}
	want=${c#*|}
	out=$(eval "X $cmd" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		xt_fail "refused: xfsmctl $cmd (succeeded)"
	elif ! printf '%s\n' "$out" | grep -qF -- "$want"; then
		xt_fail "refused: xfsmctl $cmd: wrong message: $out (want: $want)"
	else
		xt_pass "refused: xfsmctl $cmd: $want"
	fi
done

after=$(ctl_snapshot)
xt_check "every table unchanged after the bad input" "$before" = "$after"
if [ "$before" != "$after" ]; then
	diff <(printf '%s\n' "$before" | jq .) <(printf '%s\n' "$after" | jq .) | head -20
fi

# Leading zeros are decimal everywhere, never octal.
xt_ok "global set 1 010" X global set 1 010
xt_check "010 is ten" "$(X -j global get 1 | jq -r '.[0].value')" = 10
# A member argument longer than any buffer keeps its meaning.
w17="3:$(printf '0%.0s' {1..70})17"
if xt_ok "group add with a long weight" X group add 9 weighted "$w17"; then
	xt_match "the weight is 17, not cut" "port 3 weight 17" "$(X group show 9)"
	X group del 9 >/dev/null 2>&1
fi

# An application source longer than the datapath's room: kept whole
# (compressed), so rule add edits all of it and loses no stage.
T=$(mktemp -d)
xt_defer "rm -rf '$T'"
big_app() {	# $1: comment generator (python expression for one line, i = line)
	{
		printf 'app big\nstage a {\n\tkey ip.src\n\trule r1 when tcp.dport == 1 => drop\n}\n'
		"$XT_PY" -c "import random
random.seed(7)
for i in range(1500):
    print('# ' + $1)"
		printf 'stage b {\n\tkey ip.src\n\trule r2 when tcp.dport == 2 => drop\n}\n'
	} >"$T/big.xfsm"
}
big_app "'x' * 70"
xt_check "the application source is over 64 KiB" "$(stat -c %s "$T/big.xfsm")" -gt 65536
xt_ok "apply the large application" X apply "$T/big.xfsm"
xt_ok "rule add to its first stage" X rule add a 'rule r3 when tcp.dport == 3 => drop'
xt_match "no stage was lost" '"name":"b"' "$(X -j show stages)"
xt_match "the rule was added" 'r3' "$(X show rules)"
xt_match "the second stage's rule is there" 'r2' "$(X show rules)"
# One that does not fit even compressed is not kept: rule add refuses
# and changes nothing.
big_app "''.join(random.choice('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/') for _ in range(70))"
out=$(X apply "$T/big.xfsm" 2>&1)
xt_check "apply an incompressible large source" $? -eq 0
xt_match "apply says the source is not kept" "is not kept" "$out"
# (the snapshot without stderr: every command warns that names are missing)
quiet_snapshot() {
	{ X -j show; X -j state list; X -j global get; } 2>/dev/null |
		jq -S -c 'walk(if type == "object" then del(.remaining_s, .expired, .age_s, .stats, .packets, .bytes) else . end)'
}
before=$(quiet_snapshot)
xt_match "snapshot of the large application has both stages" '"index":1,' "$before"
out=$(X rule add a 'rule r3 when tcp.dport == 3 => drop' 2>&1)
xt_check "rule add refused" $? -ne 0
xt_match "rule add says why" "too large for the datapath to keep" "$out"
xt_check "rule add changed nothing" "$before" = "$(quiet_snapshot)"

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
# A pin directory too long for the instance's record is refused, not cut
# (a cut path would name another directory).
long=/sys/fs/bpf/$(printf 'd%.0s' {1..300})
out=$(xt_in A "$CTL" --pin-dir "$long" show 2>&1)
xt_check "too long pin dir: non-zero exit" $? -ne 0
xt_match "too long pin dir: clear message" "pin directory path is longer than 255 bytes" "$out"
xt_done
