#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsm-loader -j (issue 16 item 2): every command's output, and its errors,
# checked against the shapes of docs/json.md's "xfsm-loader" section (read
# from there, by the same validator as test_ctl_json.sh), with -j first and
# last on the line: load and status of an instance attached to a veth in the
# test's own namespace (its trap warnings included), unload, features, help,
# -V, and a usage error and a failure, whose {"error": ...} is on stdout
# with nothing on stderr.  Every command of `help -j` must have a case, and
# outputs made wrong on purpose must be refused (the check can fail).

. "$(dirname "$0")/lib.sh"

xt_require_root
xt_require_cmd ip nsenter jq "$XT_PY"
LOADER="$XT_BUILD/xfsm-loader"
xt_require_file "$LOADER" "$XT_BUILD/xfsm.bpf.o"
xt_bpffs || xt_skip "cannot mount bpffs"

xt_netns_add S
xt_netns_add H
xt_veth S s1 198.18.42.1/24 H h1 198.18.42.2/24 || { xt_fail veth; xt_done; }
INST="xt$XT_ID-json"
xt_defer "rm -rf '/sys/fs/bpf/xfsm/$INST'"
xt_defer "xt_in S '$LOADER' unload --instance '$INST'"
xt_tmpdir T
JS_DIR=$T
. "$(dirname "$0")/json_lib.sh"

JS_TOOL=xfsm-loader
JS_RUN="xt_in S '$LOADER'"
# "SHAPE|EXIT|COMMAND", run by json_lib.sh's case_json
cases=(
	"loader_load|0|first:load --mode native --instance $INST s1"
	"loader_status|0|status"
	"loader_status|0|show"
	"loader_unload|0|last:unload --instance $INST"
	"loader_load|0|last:load --mode skb --instance $INST s1"
	"loader_unload|0|first:unload s1"
	"loader_load|0|last:load --mode native --instance $INST s1"
	"loader_features|0|features"
	"help|0|help"
	"help|0|-h"
	"version|0|-V"
	"error|2|load --instance $INST --flows 0 s1"
	"error|2|frobnicate"
	"error|1|load --instance $INST xt$XT_ID-none"
	"error|1|unload --instance xt$XT_ID-none"
)
for c in "${cases[@]}"; do
	shape=${c%%|*}
	rest=${c#*|}
	case_json "$shape" "${rest%%|*}" "${rest#*|}"
done

# the attached instance is in the status checked above, with its port
st=$(xt_in S "$LOADER" status -j | jq -c --arg n "$INST" '.instances[] | select(.name == $n)')
xt_check "status -j shows the instance on s1" "$(jq -r '.ports[0].ifname' <<<"$st")" = s1
xt_check "its prog_id is a number" "$(jq -r '.ports[0].prog_id | type' <<<"$st")" = number
# wrong on purpose: a number as a string, an unknown key, a missing key
check_later "!loader_status" "a prog_id as a string is refused" \
	<<<"$(jq -c '{instances: [.|.prog_id |= tostring]}' <<<"$st")"
check_later "!loader_status" "an undocumented key is refused" \
	<<<"$(jq -c '{instances: [.|.extra = 1]}' <<<"$st")"
check_later "!loader_features" "a feature without its state is refused" \
	<<<"$(xt_in S "$LOADER" features -j | jq -c 'del(.features[0].state)')"

check_all

# every command of `help -j` has a case above
for cmd in $("$LOADER" help -j | jq -r '.commands[].command'); do
	found=0
	for c in "${covered[@]}"; do
		case "$c " in "$cmd "*) found=1 ;; esac
	done
	xt_check "xfsm-loader $cmd has a JSON case" $found = 1
done
xt_done
