#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# The ACL module end to end: an application with an ACL block in front of a
# stateful stage, `xfsmctl acl add|del|show|flush|load` on its table while
# the datapath runs between two namespaces, ClassBench and native rule
# files, and the errors that change nothing.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

ctl_setup
xt_tmpdir T
cat >"$T/acl.xfsm" <<'APP'
app guarded
default pass
acl front table 2 {
	miss allow
	rule prio 10 src 198.18.20.1 proto udp dport 7001 => deny
	rule prio 5 proto udp dport 7002 => goto counted mark 9
}
stage counted {
	key ip.src
	rule marked when meta.mark == 9 => count marked, pass
}
APP
xt_ok "compile an application with an ACL block" X apply --dry-run "$T/acl.xfsm" || xt_done
xt_match "dry run lists the ACL rules" 'dport 7001 => deny' "$(X apply --dry-run "$T/acl.xfsm")"
xt_match "dry run shows the ACL stage as one (the file's rule count)" \
	'^  acl table 2  rules 2  miss allow$' "$(X apply --dry-run "$T/acl.xfsm")"
xt_ok "apply it" X apply "$T/acl.xfsm" || xt_done
# show: an ACL stage is its table, rule count, miss verdict and counters,
# none of a stateful stage's keys, tuples or flow table; the stateful
# stage says which flow table holds its flows (ip.src: the narrow one).
stage_text() { X show stages | awk -v s="$1" '/^stage /{on = $3 == s} on'; }
out=$(stage_text front)
xt_match "show stages: the ACL stage's table, rules and miss" 	'^  acl table 2  rules 2  miss allow$' "$out"
xt_match "show stages: the ACL stage's counters" '^  packets [0-9]+  hits [0-9]+  misses [0-9]+$' "$out"
xt_check "show stages: no stateful lines on the ACL stage" 	"$(grep -cE 'lookup key|update key|tuples|flows|table size|match on' <<<"$out")" = 0
xt_match "show stages: the ip.src stage's flows are in the narrow table" 	'^  flows in xfsm_flows_n ' "$(stage_text counted)"
acl_json() { X -j show stages | jq -c '.stages[] | select(.name == "front") |
	[.kind, .acl_table, .acl_rules, .miss, (.stats | keys), (keys - ["index", "name",
	 "kind", "acl_table", "acl_rules", "miss", "stats", "conditions", "rules"])]'; }
xt_check "show -j: the ACL stage, with nothing of a stateful one" "$(acl_json)" = 	'["acl",2,2,"allow",["hits","misses","packets"],[]]'
xt_check "show -j: the ip.src stage's flow table" 	"$(X -j show stages | jq -r '.stages[] | select(.name == "counted") | [.kind, .flow_table] | join(" ")')" = 	"xfsm xfsm_flows_n"
# The flow table's size and kind are the datapath's, as loaded (the stage
# declares none: not "size 0"); a stage's declaration (informative) is
# said apart, and without a datapath (--dry-run) the loader's default.
if [ -x "$LOADER" ]; then
	want=$(xt_in B "$LOADER" status -j | jq -r --arg i "$INST" '.instances[] |
		select(.name == $i) | "\(.tables[] | select(.name == "xfsm_flows_n") |
		.max_entries) \(.flow_table)"')
else
	want="65536 lru"	# the object's own sizing (XFSM_DEFAULT_FLOWS)
fi
xt_match "show stages: the flow table's size and kind as loaded ($want)" \
	"^  table size $want \\(xfsm-loader --flows narrow=N, --flow-table\\)\$" "$(stage_text counted)"
xt_check "show -j: table_size and table_kind as loaded, nothing declared" \
	"$(X -j show stages | jq -r '.stages[] | select(.name == "counted") |
		"\(.table_size) \(.table_kind) \(.declared_table_size // "-")"')" = "$want -"
sed 's/^\tkey ip.src$/&\n\ttable size 1000 hash/' "$T/acl.xfsm" >"$T/sized.xfsm"
xt_match "dry run: the loader's default, the declaration apart" \
	'^  table size default \(xfsm-loader --flows, 65536 entries unless given\); declared size 1000 hash \(informative\)$' \
	"$(X apply --dry-run "$T/sized.xfsm")"
xt_check "dry run -j: no table_size without a datapath; the declared size and kind" \
	"$(X -j apply --dry-run "$T/sized.xfsm" | jq -r '.stages[] | select(.name == "counted") |
		"\(.table_size // "-") \(.declared_table_size) \(.declared_table_kind)"')" = "- 1000 hash"
xt_ok "acl add one rule" X acl add table 2 id 40 prio 1 proto udp dport 7040 '=>' deny
xt_match "show counts the running table's rules, not the source's" 	'^  acl table 2  rules 3  miss allow$' "$(stage_text front)"
xt_ok "acl del it" X acl del table 2 40
# rule add|del keep ACL tables as they run: on an ACL block they are
# refused (the rule would be in the source only), naming acl add|del.
# The application as shown, without its counters: a packet the kernel
# sends on its own (IPv6 router solicitation, MLD report) may pass
# between the two snapshots.
app_shape() {
	X -j show app | jq -S 'walk(if type == "object" then del(.packets, .bytes, .hits,
		.misses, .flows_created, .rx_packets, .rx_bytes, .tx_packets, .tx_bytes) else . end)'
}
src_before=$(app_shape)
xt_fails_with "rule add to an ACL block" "front is an ACL block.*'xfsmctl acl add table 2" \
	X rule add front 'rule prio 1 proto udp dport 7009 => deny'
xt_fails_with "rule del of an ACL block's rule" "front is an ACL block.*'xfsmctl acl del table 2" \
	X rule del front 'prio 5 proto udp dport 7002 => goto counted mark 9'
xt_check "rule add|del on an ACL block: the application is as before" "$(app_shape)" = "$src_before"
xt_ping A "$SRV" || xt_fail "ping through the ACL (miss allow)"

xt_nok "udp 7001 from the client is denied" xt_udp A B "$SRV" 7001
xt_ok "udp 7002 passes (goto + mark)" xt_udp A B "$SRV" 7002
xt_match "the mark reached the stateful stage" 'marked' "$(X stats)"

xt_match "acl show lists the application's rules" 'dport 7001 => deny' "$(X acl show table 2)"
xt_ok "acl add a higher-priority allow" X acl add table 2 id 50 prio 20 proto udp dport 7001 '=>' allow
xt_ok "udp 7001 now passes" xt_udp A B "$SRV" 7001
xt_ok "acl del removes it" X acl del table 2 50
xt_nok "udp 7001 denied again" xt_udp A B "$SRV" 7001
xt_nok "acl del of an unknown id fails" X acl del table 2 4242
xt_nok "a bad rule is refused" X acl add table 2 src 198.18.0.1/40 '=>' deny
xt_match "and the table is unchanged" 'dport 7001 => deny' "$(X acl show table 2)"

printf 'prio 3 proto udp dport 7003 => deny\n# comment\n\nprio 2 ip4 => allow\n' >"$T/rules.acl"
xt_ok "acl load a native rule file" X acl load table 2 "$T/rules.acl"
xt_nok "udp 7003 denied by the loaded file" xt_udp A B "$SRV" 7003
xt_ok "udp 7001 allowed (old rules replaced)" xt_udp A B "$SRV" 7001
printf 'prio 3 proto udp dport 7003 => explode\n' >"$T/bad.acl"
xt_nok "a bad file is refused" X acl load table 2 "$T/bad.acl"
xt_nok "udp 7003 still denied" xt_udp A B "$SRV" 7003

# Refused files change nothing: the rules (not the moving counters) are
# compared before and after.
acl_rules() { X acl show table 2 | grep '^  id '; }
rules_before=$(acl_rules)
: >"$T/empty.acl"
printf '# only a comment\n\n   \n' >"$T/comments.acl"
for f in "$T/empty.acl" "$T/comments.acl" /dev/null "$T" /proc/self/mem /nonexistent.acl; do
	out=$(X acl load table 2 "$f" 2>&1)
	xt_check "acl load $f: refused" $? -ne 0
	xt_match "acl load $f: names the file" "$f" "$out"
done
xt_match "an empty file: says so and what empties a table" "acl flush" \
	"$(X acl load table 2 "$T/comments.acl" 2>&1)"
xt_check "refused loads left the rules as they were" "$rules_before" = "$(acl_rules)"
xt_nok "udp 7003 still denied after the refused loads" xt_udp A B "$SRV" 7003

# Numbers are decimal unless a base is written; nothing is cut.
xt_ok "acl add dport 022" X acl add table 2 id 60 prio 1 proto udp dport 022 '=>' deny
xt_match "dport 022 is 22, not octal 18" 'id 60 prio 1 proto 17 dport 22 => deny' "$(acl_rules)"
xt_ok "acl add with an argument longer than any buffer" \
	X acl add table 2 id 61 "prio 1 $(printf '%1100s' '') proto udp dport 7010" '=>' allow mark 1234567
xt_match "the words after it count: mark 1234567, not 12" 'id 61 .*dport 7010 => allow mark 1234567' "$(acl_rules)"
printf 'proto udp dport 7011 mark 5%1100s=> deny\n' '' >"$T/long.acl"
xt_ok "acl load a line longer than any buffer" X acl load table 3 "$T/long.acl"
xt_check "one line is one rule" "$(X acl show table 3 | grep -c '^  id ')" = 1
xt_match "and it is the whole rule" 'dport 7011 => deny mark 5' "$(X acl show table 3)"
xt_ok "acl flush table 3" X acl flush table 3
xt_nok "acl del ' 61' refused" X acl del table 2 ' 61'
xt_nok "acl add table 010x refused" X acl add table 010x dport 1 '=>' deny
xt_ok "acl del 61" X acl del table 2 61
xt_ok "acl del 60" X acl del table 2 60

# A file in ClassBench's format, generated here: 300 rules, each host pair
# with its own port range and protocol, so that none shadows another.
for i in $(seq 0 299); do
	printf '@198.18.%d.%d/32\t198.19.%d.0/24\t0 : 65535\t%d : %d\t0x%02x/0xFF\t0x0000/0x0000\t\n' \
		$((i / 200)) $((i % 200 + 1)) $((i % 250)) $((1000 + i)) $((1000 + 2 * i)) \
		$((i % 2 ? 6 : 17))
done >"$T/gen.cb"
xt_ok "acl load a generated ClassBench-format file" X acl load table 5 "$T/gen.cb"
xt_match "all of its rules are in" ' 300 rules' "$(X acl show table 5)"
xt_ok "acl flush" X acl flush table 5
xt_match "the table is empty" ' 0 rules' "$(X acl show table 5)"

# The ClassBench sets themselves are not in the tree.
CB=${XFSM_CLASSBENCH:-$XT_TOP/../shared/classbench}
if [ -r "$CB/acl1_1000" ]; then
	xt_ok "acl load a ClassBench set" X acl load table 5 "$CB/acl1_1000"
	xt_match "all of its rules are in" '976 rules' "$(X acl show table 5)"
	xt_ok "acl flush" X acl flush table 5
	xt_match "the table is empty" ' 0 rules' "$(X acl show table 5)"
else
	xt_log "SKIP acl load of ClassBench acl1_1000: cannot read $CB/acl1_1000;" \
		"set XFSM_CLASSBENCH to the directory of the ClassBench sets" \
		"(default: ../shared/classbench beside the source tree)"
fi
# A table of more rules than are compared inline (48): the specialized
# program walks its cut trees (docs/specializer.md), so the application
# stays specialized, and the walk counts its lookups as the generic one.
dp() { X -j show app | jq -r ".app.datapath.$1"; }
if [ "$(dp runs)" = specialized ]; then
	{ for i in $(seq 1 299); do echo "prio 1 proto udp dport $((8000 + i)) => deny"; done
	  echo "prio 2 src 198.18.0.0/15 proto udp dport 7004 => deny"; } >"$T/r300.acl"
	xt_ok "acl load 300 rules" X acl load table 2 "$T/r300.acl"
	xt_check "300 rules: the application stays specialized ($(dp why))" "$(dp runs)" = specialized
	xt_match "show program: the stage walks the cut trees" \
		'stage 0: cut-tree walk over xfsm_acl_nodes' "$(X show program)"
	# lookups made = lookups/packet x packets (rounded)
	probes() { X -j acl show table 2 | jq '.stats.lookups_per_packet * .stats.packets | round'; }
	p0=$(probes)
	xt_nok "udp 7004 is denied by the walk" xt_udp A B "$SRV" 7004
	xt_ok "udp 7005 passes (no rule)" xt_udp A B "$SRV" 7005
	p1=$(probes)
	xt_check "the walk counts its lookups ($p0 -> $p1)" "$p1" -gt "$p0"
	xt_ok "acl del one rule" X acl del table 2 300
	xt_check "and still specialized" "$(dp runs)" = specialized
	xt_ok "udp 7004 passes once its rule is gone" xt_udp A B "$SRV" 7004
fi
xt_ok "acl flush table 2" X acl flush table 2
xt_ok "udp 7003 passes with an empty table" xt_udp A B "$SRV" 7003

# Capacities are per table, chosen when the datapath is loaded.
if [ -x "$LOADER" ]; then
	for i in $(seq 1 101); do echo "proto udp dport $((7100 + i)) => deny"; done >"$T/r101.acl"
	head -n 100 "$T/r101.acl" >"$T/r100.acl"
	xt_match "tables hold 4096 rules by default" '0 rules of 4096,' "$(X acl show table 6)"
	out=$(xt_in B "$LOADER" load --mode skb --instance "$INST" --acl-rules 6=100 b0 2>&1)
	xt_match "a reload asking other capacities is refused, naming --reset" 'add --reset' "$out"
	xt_ok "reload with table 6 at 100 rules and 60 nodes" \
		xt_in B "$LOADER" load --mode skb --instance "$INST" --reset \
		--acl-rules 6=100 --acl-nodes 6=60 b0
	out=$(X acl load table 6 "$T/r101.acl" 2>&1)
	xt_match "101 rules are refused, naming the table, the limit and the option" \
		'ACL table 6 .*holds 100 rules, this set has 101.*--acl-rules 6=N' "$out"
	xt_match "and the table is unchanged" ' 0 rules of 100,' "$(X acl show table 6)"
	xt_ok "100 rules fit" X acl load table 6 "$T/r100.acl"
	xt_match "acl show tells capacities and the lookup bound" \
		'100 rules of 100, 1 trees, [0-9]+ nodes of 60, at most [0-9]+ lookups' \
		"$(X acl show table 6)"
	xt_ok "a reload with the same capacities" \
		xt_in B "$LOADER" load --mode skb --instance "$INST" --acl-rules 6=100 \
		--acl-nodes 6=60 b0
	xt_match "keeps the rules" '100 rules of 100,' "$(X acl show table 6)"
	xt_match "table 5 keeps the default" '0 rules of 4096,' "$(X acl show table 5)"
	out=$(xt_in B "$LOADER" load --mode skb --instance "$INST" --acl-rules 5=4097,6=99 \
		--acl-nodes 5=16384,6=60 b0 2>&1)
	xt_match "capacities moved between tables (same map sizes) are refused" \
		'other ACL capacities than --acl-rules/--acl-nodes ask for' "$out"
	xt_nok "--acl-rules rejects a table out of range" \
		xt_in B "$LOADER" load --mode skb --instance "$INST" --acl-rules 8=1 b0
fi
xt_done
