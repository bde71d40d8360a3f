#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Bad input leaves the datapath untouched: with examples/portknock.xfsm
# running and a flow in the table, every malformed application of the
# corpus (selftests/lang/bad_*.xfsm) and a list of malformed command lines
# fail with an error and a non-zero exit, and a dump of every table
# (show, state list, globals) is identical before and after.  Every
# subcommand is run with an extra word, a misspelled keyword and an object
# that does not exist: exit 2 for a usage error, 1 for an error, a message
# naming the word, and every table (ACL, groups, port flags too) unchanged.
# Also: no datapath / unknown instance gives one clear message.

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
	"state set knock 198.18.20.1 state open idle 5s '->' open|idle 5s -> open: the rollback is the state the flow is set to ('state open')"
	"state set knock 198.18.20.1 hard 9s '->' k1 state k1|hard 9s -> k1: the rollback is the state the flow is set to ('state k1')"
	"state set knock 198.18.20.1 state closed idle 5s|idle 5s: the timeout rolls back to state 0 when no '-> STATE' follows, and the flow is set to it ('state closed')"
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
	"group add 1 weighted 3:0x|group add: bad member 3:0x"
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

# ---- every subcommand: an extra word, a misspelled keyword, a missing object -------
# "EXIT|COMMAND|MESSAGE": EXIT 2 is a usage error, 1 an error; MESSAGE must
# name the offending word.  An ACL rule, a group and port 1 exist, so a
# command that ignored a word (acl flush 3) would change what it names.
APP=$XT_TOP/examples/portknock.xfsm
# Ports must exist too (the instance has port 1 only): an application or
# rule that sends to port 9 is refused where it names it.
PD=$(mktemp -d)
xt_defer "rm -rf '$PD'"
sed 's/=> pass$/=> output 9/' "$APP" >"$PD/out9.xfsm"
out9_at=$(grep -n 'output 9' "$PD/out9.xfsm" | head -1 | cut -d: -f1)
out9_col=$(($(grep 'output 9' "$PD/out9.xfsm" | head -1 | sed 's/output 9.*//' | wc -c) + 7))
{ cat "$APP"; printf 'group g = 3 rr 1, 9\n'; } >"$PD/group9.xfsm"
group9_at=$(wc -l <"$PD/group9.xfsm")
xt_ok "acl add a rule to table 0" X acl add id 7 dst 198.18.20.2 dport 9 '=>' deny
xt_ok "acl add a rule to table 2" X acl add table 2 id 8 dport 10 '=>' deny
xt_ok "group add 1" X group add 1 rr 1
full_snapshot() {
	ctl_snapshot
	for t in 0 1 2 3 4 5 6 7; do X acl show table $t 2>&1 | grep -v '^  packets'; done
	X group show 2>&1 | sed 's/packets [0-9]*//; s/drops [0-9]*, skipped [0-9]*//'
	X port show 2>&1 | grep -c '(down)'
}
before_all=$(full_snapshot)
xt_match "snapshot has the ACL rule" "id 7" "$before_all"
xt_match "snapshot has group 1" "group 1: rr" "$before_all"
cases=(
	"2|apply $APP extra|'$APP' and 'extra'"
	"2|apply $APP --dry-rn|unknown option '--dry-rn'"
	"2|apply $APP --datapath fast|unknown datapath 'fast'"
	"2|apply $APP --datapath|expected a datapath"
	"2|apply $APP --datapath=keep|unknown datapath 'keep'"
	"2|rule add knock 'rule x => drop' --datapath fast|unknown datapath 'fast'"
	"2|rule del knock ssh_open --datapath|expected a datapath"
	"2|show program extra|unexpected argument 'extra'"
	"1|apply /nonexistent.xfsm|/nonexistent.xfsm"
	"2|show stages extra|unexpected argument 'extra'"
	"2|show stagse|unknown section 'stagse'"
	"2|shwo|unknown command 'shwo'"
	"2|st|'st' is ambiguous: state, stats"
	"2|state list knock extra|unexpected argument 'extra'"
	"2|state list -N|unknown option '-N'"
	"1|state list nostage|unknown stage 'nostage'"
	"2|state get knock 198.18.20.1 extra|unexpected argument 'extra'"
	"2|state gte knock 198.18.20.1|unknown subcommand 'gte'"
	"1|state get nostage 198.18.20.1|unknown stage 'nostage'"
	"2|state set knock 198.18.20.1 state open extra|unknown 'extra'"
	"2|state set knock 198.18.20.1 stat open|unknown 'stat'"
	"1|state set knock 198.18.20.1 state nowhere|unknown state 'nowhere'"
	"1|state set nostage 198.18.20.1 state open|unknown stage 'nostage'"
	"2|state del knock 198.18.20.1 extra|unexpected argument 'extra'"
	"2|state dle knock 198.18.20.1|unknown subcommand 'dle'"
	"1|state del knock 198.18.20.99|no such flow in stage knock"
	"2|state flush knock extra|unexpected argument 'extra'"
	"2|state flsuh knock|unknown subcommand 'flsuh'"
	"1|state flush nostage|unknown stage 'nostage'"
	"2|stats extra|unknown argument 'extra'"
	"2|stats --wacth|unknown argument '--wacth'"
	"2|rule show extra|unexpected argument 'extra'"
	"2|rule add knock 'rule x => drop' extra|unexpected argument 'extra'"
	"2|rule dd knock x|unknown subcommand 'dd'"
	"1|rule add nostage 'rule x => drop'|unknown stage 'nostage'"
	"2|rule del knock ssh_open extra|unexpected argument 'extra'"
	"1|rule del knock nope|no rule 'nope'"
	"1|rule add knock \$'rule x when tcp.dport == 7 => drop\\nregister 0 stolen'|rule:2:1: error: found 'register' after the rule"
	"1|rule add knock \$'rule x when tcp.dport == 7 => drop\\n  miss drop'|rule:2:3: error: stage 'knock' already has a miss verdict"
	"1|rule add knock \$'x when tcp.dport == 7 => drop\\n}\\nstage evil {\\nkey ip.dst\\nrule y => drop'|rule:2:1: error: found '}' after the rule"
	"2|global get 1 extra|unexpected argument 'extra'"
	"2|global gte 1|unknown subcommand 'gte'"
	"1|global get nosuch|unknown global register 'nosuch'"
	"2|global set 1 5 extra|unexpected argument 'extra'"
	"1|global set nosuch 5|unknown global register 'nosuch'"
	"2|port show extra|unexpected argument 'extra'"
	"2|port set 1 down extra|unexpected argument 'extra'"
	"2|port set 1 dwn|not 'dwn'"
	"1|port set 9 down|port 9 does not exist"
	"1|group add 5 rr 9|port 9 does not exist in instance"
	"1|group set 1 rr 1 9:2|port 9 does not exist in instance"
	"1|apply $PD/out9.xfsm|$PD/out9.xfsm:$out9_at:$out9_col: error: port 9 does not exist in instance"
	"1|apply $PD/group9.xfsm|$PD/group9.xfsm:$group9_at:19: error: port 9 does not exist in instance"
	"1|rule add knock 'rule x when tcp.dport == 7 => output 9'|rule:1:38: error: port 9 does not exist in instance"
	"2|port sync extra|unexpected argument 'extra'"
	"2|port snyc|unknown subcommand 'snyc'"
	"2|acl show extra|unexpected argument 'extra'"
	"2|acl show tabel 2|unexpected argument 'tabel'"
	"2|acl show table 8|ACL table: 8 is out of range"
	"2|acl flush 3|unexpected argument '3'"
	"2|acl flush tabel 2|unexpected argument 'tabel'"
	"2|acl fluhs|unknown subcommand 'fluhs'"
	"2|acl add tabel 2 dport 11 '=>' deny|tabel"
	"2|acl del 7 extra|unexpected argument 'extra'"
	"2|acl del tabel 2 8|'tabel'"
	"1|acl del 999|table 0 has no rule 999"
	"2|acl load /dev/null extra|unexpected argument 'extra'"
	"1|acl load /nonexistent.acl|/nonexistent.acl"
	"2|simulate --prot 5 ip.src=198.18.20.1|unknown option '--prot'"
	"2|simulate ip.srx=198.18.20.1|ip.srx"
	"2|simulate ip.src=198.18.20.1 then|an empty packet"
	"2|simulate hex:zz|not a hex byte"
	"2|show pipeline extra|unexpected argument 'extra'"
	"2|show pipeline --dto|unexpected argument '--dto'"
	"2|show fsm knock extra|unexpected argument 'extra'"
	"2|show fsm|which stage"
	"2|trace --rate fast|--rate"
	"2|trace tcp.dprot == 22|tcp.dprot"
	"2|trace stop extra|unexpected argument 'extra'"
	"2|capture ip.src == 198.18.20.1|-w FILE"
	"2|capture --stage nosuch -w /dev/null|no stage 'nosuch'"
	"2|group show 1 extra|unexpected argument 'extra'"
	"1|group show 5|group 5 does not exist"
	"2|group add 5 rrr 1|unknown policy 'rrr'"
	"1|group add 1 rr 1|group 1 exists"
	"2|group set 1 rr extra|bad member extra"
	"2|group del 1 extra|unexpected argument 'extra'"
	"2|group dle 1|unknown subcommand 'dle'"
	"1|group del 5|group 5 does not exist"
	"2|help nosuch|unknown command 'nosuch'"
	"2|help state nosuch|unknown command 'nosuch'"
)
for c in "${cases[@]}"; do
	want_rc=${c%%|*}
	rest=${c#*|}
	cmd=${rest%%|*}
	want=${rest#*|}
	out=$(eval "X $cmd" 2>&1)
	rc=$?
	if [ $rc -ne "$want_rc" ]; then
		xt_fail "xfsmctl $cmd: exit $rc, want $want_rc ($out)"
	elif ! printf '%s\n' "$out" | grep -qF -- "$want"; then
		xt_fail "xfsmctl $cmd: wrong message: $out (want: $want)"
	else
		xt_pass "xfsmctl $cmd: exit $rc, $want"
	fi
done
# libxfsm refuses the port and says so; xfsmctl adds no second message.
xt_check "port set 9 down: one message" "$(X port set 9 down 2>&1 | wc -l)" -eq 1
after_all=$(full_snapshot)
xt_check "every table, ACL, group and port flag unchanged" "$before_all" = "$after_all"
[ "$before_all" != "$after_all" ] && diff <(echo "$before_all") <(echo "$after_all") | head -20
X acl flush >/dev/null 2>&1
X acl flush table 2 >/dev/null 2>&1
X group del 1 >/dev/null 2>&1

# Leading zeros are decimal everywhere, never octal.
xt_ok "global set 1 010" X global set 1 010
xt_check "010 is ten" "$(X -j global get 1 | jq -r '.globals[0].value')" = 10
# A member argument longer than any buffer keeps its meaning.
w17="1:$(printf '0%.0s' {1..70})17"
if xt_ok "group add with a long weight" X group add 9 weighted "$w17"; then
	xt_match "the weight is 17, not cut" "port 1 weight 17" "$(X group show 9)"
	X group del 9 >/dev/null 2>&1
fi

# An application source longer than the datapath's room: kept whole
# (compressed), so rule add edits all of it and loses no stage.
xt_tmpdir T
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
		jq -S -c 'walk(if type == "object" then del(.remaining_s, .expired, .age_s, .stats, .packets, .bytes, .rx_packets, .rx_bytes, .tx_packets, .tx_bytes) else . end)'
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
for ifc in "nosuch$XT_ID" ""; do
	out=$(xt_in A "$CTL" -i "$ifc" show 2>&1)
	xt_check "-i '$ifc': exit 1" $? -eq 1
	xt_match "-i '$ifc': names the interface, quoted" "interface '$ifc' does not exist" "$out"
done
out=$(xt_in A "$CTL" --pin-dir /sys/fs/bpf/nosuch$XT_ID show 2>&1)
xt_match "missing pin dir: clear message" "no xfsm datapath pinned at" "$out"
# A pin directory too long for the instance's record is refused, not cut
# (a cut path would name another directory).
long=/sys/fs/bpf/$(printf 'd%.0s' {1..300})
out=$(xt_in A "$CTL" --pin-dir "$long" show 2>&1)
xt_check "too long pin dir: non-zero exit" $? -ne 0
xt_match "too long pin dir: clear message" "pin directory path is longer than 255 bytes" "$out"
xt_done
