#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsmctl -j (issue 16 item 2): every command's output, and every error,
# is checked against the shapes documented in docs/json.md (read from
# there: a shape changed in the code and not in the document fails), with
# -j before and after the command.  Every command that `xfsmctl help`
# lists must have a case here, so a new command cannot go unchecked.
# Values are typed (numbers are numbers), and stats --watch samples carry
# their time.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

ctl_setup
T=$(mktemp -d)
xt_defer "rm -rf '$T'"
cat >"$T/acl.xfsm" <<'APP'
app withacl
acl front table 2 {
	miss allow
	rule prio 10 src 198.18.0.0/15 proto tcp dport 22 => deny
}
stage s {
	key ip.src
	rule r1 when udp.dport == 9 => drop
}
APP
xt_ok "apply portknock" X apply "$XT_TOP/examples/portknock.xfsm" || xt_done
ctl_udp_send 1111

# ---- the validator: docs/json.md's shapes -------------------------------------------
cat >"$T/check_shape.py" <<'PY'
import json, re, sys
doc = open(sys.argv[1]).read()
shapes = {m.group(1): json.loads(m.group(2))
          for m in re.finditer(r"```shape (\w+)\n(.*?)```", doc, re.S)}

def check(v, t, path):
    if isinstance(t, str):
        errs = []
        for alt in t.split("|"):
            if alt.startswith("@"):
                e = check(v, shapes[alt[1:]], path)
                if not e:
                    return []
                errs += e
            elif (alt == "string" and isinstance(v, str)) or \
                 (alt == "number" and isinstance(v, (int, float)) and not isinstance(v, bool)) or \
                 (alt == "bool" and isinstance(v, bool)) or (alt == "null" and v is None):
                return []
        return errs or ["%s: %r is not %s" % (path, v, t)]
    if isinstance(t, list):
        if not isinstance(v, list):
            return ["%s: not an array" % path]
        return [e for i, x in enumerate(v) for e in check(x, t[0], "%s[%d]" % (path, i))]
    if not isinstance(v, dict):
        return ["%s: not an object" % path]
    errs = []
    keys = {k.rstrip("?"): k for k in t if k != "*"}
    for k, spec in keys.items():
        if k not in v:
            if not spec.endswith("?"):
                errs.append("%s: no key %s" % (path, k))
            continue
        errs += check(v[k], t[spec], path + "." + k)
    for k in v:
        if k not in keys:
            if "*" in t:
                errs += check(v[k], t["*"], path + "." + k)
            else:
                errs.append("%s: key %s is not in the shape" % (path, k))
    return errs

def verdict(shape, text):
    if shape not in shapes:
        return "docs/json.md has no shape %s" % shape
    n = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        n += 1
        try:
            v = json.loads(line)
        except ValueError as e:
            return "not JSON (%s): %s" % (e, line[:200])
        errs = check(v, "@" + shape, "$")
        if errs:
            return "; ".join(errs[:5])
    return None if n else "no output"

# argv[2]: a list of "SHAPE FILE" lines; prints "ok" or the problem, one
# line per entry (the whole run in one interpreter: cheap under emulation)
for entry in open(sys.argv[2]).read().splitlines():
    shape, path = entry.split(" ", 1)
    print(verdict(shape, open(path).read()) or "ok")
PY
# check_later SHAPE LABEL: the JSON on stdin is checked against SHAPE by
# check_all (one python run for every output)
n_out=0
labels=()
: >"$T/list"
check_later() {
	n_out=$((n_out + 1))
	cat >"$T/out.$n_out"
	printf '%s %s\n' "$1" "$T/out.$n_out" >>"$T/list"
	labels+=("$2")
}
check_all() {
	local i=0 line
	while IFS= read -r line; do
		if [ "$line" = ok ]; then
			xt_pass "${labels[i]}"
		else
			xt_fail "${labels[i]}: $line"
		fi
		i=$((i + 1))
	done < <("$XT_PY" "$T/check_shape.py" "$XT_TOP/docs/json.md" "$T/list")
	xt_check "every output was checked ($i of $n_out)" $i = $n_out
}

# "SHAPE|EXIT|COMMAND": run with -j first and last on the line (a change:
# "SHAPE|EXIT|first:COMMAND" or "last:COMMAND", run once)
covered=()
case_json() {
	local shape=$1 want=$2 cmd=$3 out rc where err places="first last"
	case $cmd in
	first:* | last:*) places=${cmd%%:*}; cmd=${cmd#*:} ;;
	esac
	covered+=("$cmd")
	for where in $places; do
		if [ $where = first ]; then
			out=$(eval "X -j $cmd" 2>/dev/null)
		else
			out=$(eval "X $cmd -j" 2>/dev/null)
		fi
		rc=$?
		if [ "$rc" != "$want" ]; then
			xt_fail "xfsmctl $cmd (-j $where): exit $rc, want $want: $out"
			continue
		fi
		check_later "$shape" "xfsmctl $cmd (-j $where): @$shape" <<<"$out"
	done
}

cases=(
	"show|0|show"
	"show|0|show app"
	"show|0|show stages"
	"show|0|show rules"
	"show|0|show conditions"
	"show|0|show globals"
	"show|0|show ports"
	"show|0|apply --dry-run $T/acl.xfsm"
	"show|0|apply --dry-run $XT_TOP/examples/loadbalancer.xfsm"
	"flows|0|state list"
	"flows|0|state list knock"
	"flow|0|state get knock 198.18.20.1"
	"flow|0|state get knock 198.18.20.77"
	"flow|0|first:state set knock 198.18.20.9 state k2 idle 30s reg0 5"
	"deleted|0|last:state del knock 198.18.20.9"
	"flow|0|last:state set knock 198.18.20.9 state k2 idle 30s reg0 5"
	"deleted|0|first:state del knock 198.18.20.9"
	"stats|0|stats"
	"stats|0|stats --watch -c 2 --interval 0.1"
	"globals|0|global get"
	"globals|0|global get 2"
	"globals|0|global set 2 7"
	"show|0|rule show"
	"rule_change|0|first:rule add knock 'rule extra when udp.dport == 9 => drop'"
	"rule_change|0|last:rule del knock extra"
	"rule_change|0|last:rule add knock 'rule extra when udp.dport == 9 => drop'"
	"rule_change|0|first:rule del knock extra"
	"show|0|port show"
	"ports|0|port set 1 down"
	"ports|0|port set 1 up"
	"port_sync|0|port sync"
	"acl_change|0|first:acl add id 7 dport 9 '=>' deny"
	"acl_change|0|last:acl del 7"
	"acl_change|0|last:acl add id 7 dport 9 '=>' deny"
	"acl_table|0|acl show"
	"acl_change|0|first:acl del 7"
	"acl_change|0|acl load table 3 $T/rules.acl"
	"acl_change|0|acl flush table 3"
	"groups|0|first:group add 4 weighted 1:3"
	"group_deleted|0|last:group del 4"
	"groups|0|last:group add 4 weighted 1:3"
	"groups|0|group set 4 rr 1"
	"groups|0|group show"
	"groups|0|group show 4"
	"group_deleted|0|first:group del 4"
	"help|0|help"
	"help|0|help state"
	"help|0|state list --help"
	"version|0|-V"
	"error|2|state list knock extra"
	"error|1|port set 9 down"
	"error|1|group del 5"
	"error|1|apply $XT_TOP/selftests/lang/bad_char.xfsm"
	"error|2|frobnicate"
	"deleted|0|first:state flush"
	"deleted|0|last:state flush"
	"applied|0|apply $XT_TOP/examples/portknock.xfsm"
	"reset|0|stats --reset"
)
printf 'dport 11 => deny\nsrc 198.18.0.0/16 => allow\n' >"$T/rules.acl"
for c in "${cases[@]}"; do
	shape=${c%%|*}
	rest=${c#*|}
	case_json "$shape" "${rest%%|*}" "${rest#*|}"
done

check_all

# every command of `xfsmctl help` has a case above
for cmd in $("$CTL" -j help | jq -r '.commands[].command' | tr ' ' '_'); do
	cmd=${cmd//_/ }
	found=0
	for c in "${covered[@]}"; do
		case "$c " in "$cmd "*) found=1 ;; esac
	done
	xt_check "xfsmctl $cmd has a JSON case" $found = 1
done

# ---- typed values and timestamps ---------------------------------------------------------
ctl_udp_send 1111
xt_check "a flow key's address is a string" \
	"$(X -j state list knock | jq -r '.flows[0].key["ip.src"] | type')" = string
X apply "$XT_TOP/examples/statefulfw.xfsm" >/dev/null 2>&1
ctl_udp_send 7002
out=$(X -j state list)
xt_check "a flow key's protocol is a number" \
	"$(jq -r '[.flows[].key["ip.proto"] | type] | unique | join(",")' <<<"$out")" = number
xt_check "a flow key's port is a number" \
	"$(jq -r '[.flows[].key | to_entries[] | select(.key | test("port")) | .value | type] | unique | join(",")' <<<"$out")" = number
xt_check "lookup_key is an array" "$(X -j show stages | jq -r '.stages[0].lookup_key | type')" = array
xt_check "an unnamed global's name is null" \
	"$(X -j global get 7 | jq -r '.globals[0].name')" = null
out=$(X -j stats --watch -c 2 --interval 0.2)
xt_check "stats --watch -j: two samples" "$(grep -c . <<<"$out")" = 2
t1=$(sed -n 1p <<<"$out" | jq .time)
t2=$(sed -n 2p <<<"$out" | jq .time)
now=$(date +%s)
xt_check "stats samples carry their time ($t1)" \
	"$(jq -n "$t1 > $now - 60 and $t1 <= $now + 1")" = true
xt_check "the second sample is later by the interval ($t1, $t2)" \
	"$(jq -n "$t2 - $t1 >= 0.19")" = true
xt_check "the second sample has rates" \
	"$(sed -n 2p <<<"$out" | jq '.datapath | has("rx_packets_per_s")')" = true
xt_done
