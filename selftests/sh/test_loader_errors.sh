#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsm-loader errors: each gives one clear message, a non-zero exit, and
# leaves nothing attached or pinned.  Nonexistent interface, interface
# down (attach with a warning), MTU too large for single-buffer XDP, no
# privileges, no bpffs, instance clash, ABI mismatch (fake pinned rodata,
# wrong value size), unknown mode, foreign program without --force; bad
# --flows lists, and the flow tables each sized on its own; --flow-value
# (compact kept by a reload, a change of layout refused leaving the pins
# and the attachment as they were, hw refusing compact).

. "$(dirname "$0")/lib.sh"

xt_require_root
xt_require_cmd ip ping nsenter jq bpftool "$XT_PY"
LOADER="$XT_BUILD/xfsm-loader"
xt_require_file "$LOADER" "$XT_BUILD/xfsmctl" "${XFSM_BPF_DIR:-$XT_BUILD}/xfsm.bpf.o"
xt_bpffs || xt_skip "cannot mount bpffs"

L() { local ns=$1; shift; xt_in "$ns" "$LOADER" "$@"; }

xt_netns_add A
xt_netns_add B
xt_veth A a0 "198.18.11.1/24" B b0 "198.18.11.2/24"
ROOT=/sys/fs/bpf/xfsm
I1="xt$XT_ID-e1"
I2="xt$XT_ID-e2"
for i in "$I1" "$I2"; do xt_defer "rm -rf '$ROOT/$i'"; done

no_xdp() {
	! ip -n "$XT_NS_B" link show b0 | grep -q "prog/xdp"
}

nothing_left() {
	xt_ok "$1: nothing attached" no_xdp
	xt_check "$1: nothing pinned" ! -e "$ROOT/$I1"
}

xt_ok "ping before" xt_ping A 198.18.11.2

# -- nonexistent interface
xt_fails_with "nonexistent interface" "interface 'xtnope0' does not exist" \
	L B load --instance "$I1" xtnope0
nothing_left "nonexistent interface"
# ... also when the good one comes first: nothing half-done
xt_fails_with "good + nonexistent interface" "'xtnope0' does not exist" \
	L B load --instance "$I1" b0 xtnope0
nothing_left "good + nonexistent interface"

# -- unknown mode
xt_fails_with "unknown mode" "unknown mode 'turbo'.*native, skb, hw or auto" \
	L B load --mode turbo --instance "$I1" b0
nothing_left "unknown mode"

# -- numeric options go through libxfsm's one number parser: exact and in
# range, or refused (no leading space, no exponent, no wrap)
xt_fails_with "--flows with a leading space" "--flows: ' 65536' is not a number" \
	L B load --instance "$I1" --flows ' 65536' b0
nothing_left "--flows with a leading space"
xt_fails_with "--rules 1e3" "--rules: '1e3' is not a number" \
	L B load --instance "$I1" --rules 1e3 b0
nothing_left "--rules 1e3"
xt_fails_with "--flows beyond 32 bits" "--flows: 4294967297 is out of range" \
	L B load --instance "$I1" --flows 4294967297 b0
nothing_left "--flows beyond 32 bits"
# -- every item of a TABLE=N list is used: none empty, no table twice
for v in "0=5," ",0=5" "0=5,,1=5"; do
	xt_fails_with "--acl-rules '$v'" "--acl-rules wants N or TABLE=N.*an empty item" \
		L B load --instance "$I1" --acl-rules "$v" b0
done
xt_fails_with "--acl-nodes naming a table twice" "--acl-nodes names table 0 twice in '0=64,0=128'" \
	L B load --instance "$I1" --acl-nodes 0=64,0=128 b0
nothing_left "--acl-rules and --acl-nodes lists"
# -- --flows is one N for every flow table, or TABLE=N items naming the
# tables as xfsmctl show does (the sizes themselves: "flow tables" below)
for v in "narrow=1000," ",narrow=1000" "narrow=1000,,wide=300"; do
	xt_fails_with "--flows '$v'" "--flows wants N or TABLE=N.*'$v' \\(an empty item\\)" \
		L B load --instance "$I1" --flows "$v" b0
done
nothing_left "--flows with an empty item"
xt_fails_with "--flows mixing N and TABLE=N" "--flows wants N or TABLE=N.*item '5000' has no TABLE=" \
	L B load --instance "$I1" --flows narrow=1000,5000 b0
nothing_left "--flows mixing N and TABLE=N"
xt_fails_with "--flows naming an unknown table" \
	"--flows: no flow table 'huge' \\(the tables are wide, narrow or medium\\)" \
	L B load --instance "$I1" --flows narrow=1000,huge=5 b0
nothing_left "--flows naming an unknown table"
xt_fails_with "--flows naming a table twice" "--flows names table narrow twice in 'narrow=10,wide=5,narrow=20'" \
	L B load --instance "$I1" --flows narrow=10,wide=5,narrow=20 b0
nothing_left "--flows naming a table twice"
xt_fails_with "--flows medium=0" "--flows medium: 0 is out of range \\(1\\.\\.268435456\\)" \
	L B load --instance "$I1" --flows narrow=10,medium=0 b0
nothing_left "--flows medium=0"
xt_fails_with "--flows wide beyond the bound" "--flows wide: 268435457 is out of range" \
	L B load --instance "$I1" --flows wide=268435457 b0
nothing_left "--flows wide beyond the bound"
xt_fails_with "--flows narrow=1e3" "--flows narrow: '1e3' is not a number" \
	L B load --instance "$I1" --flows narrow=1e3 b0
nothing_left "--flows narrow=1e3"

# -- hw mode on a device without offload
xt_fails_with "hw mode on veth" "b0: cannot offload.*--mode auto" \
	L B load --mode hw --instance "$I1" b0
nothing_left "hw mode on veth"

# -- auto says what it got
out=$(L B load --mode auto --instance "$I1" b0 2>&1)
xt_check "auto mode: loads" $? -eq 0 || printf '%s\n' "$out"
xt_match "auto mode: says which mode it got" "auto: attached in native mode" "$out"
xt_ok "auto mode: ping" xt_ping A 198.18.11.2

# -- instance clash: an interface belongs to one instance (the one just
# loaded: each load verifies the whole datapath, seconds under emulation)
xt_fails_with "clash: same interface, instance 2" "b0 is already a port of xfsm instance '$I1'" \
	L B load --instance "$I2" b0
xt_check "clash: instance 2 not created" ! -e "$ROOT/$I2"
xt_check "clash: instance 1 still runs b0" -n "$(xt_xfsm_prog_id B b0)"
xt_ok "auto mode: unload" L B unload --instance "$I1"
nothing_left "auto mode unloaded"

# -- interface down: attach, but warn
ip -n "$XT_NS_B" link set b0 down
out=$(L B load --instance "$I1" b0 2>&1)
xt_check "interface down: attached anyway" $? -eq 0 || printf '%s\n' "$out"
xt_match "interface down: warning" "warning: b0 is down: attaching anyway" "$out"
xt_check "interface down: status says down" \
	"$(L B status -j | jq -r ".instances[] | select(.name == \"$I1\") | .ports[0].up")" = false
ip -n "$XT_NS_B" link set b0 up
xt_ok "interface down: traffic once up" xt_ping A 198.18.11.2
xt_ok "interface down: unload" L B unload b0
nothing_left "interface down"

# -- MTU too large for single-buffer XDP in native mode
ip -n "$XT_NS_A" link set a0 mtu 9000
ip -n "$XT_NS_B" link set b0 mtu 9000
xt_fails_with "MTU 9000 native" "b0: MTU 9000 is larger than a single-buffer XDP program.*--mode skb" \
	L B load --instance "$I1" b0
nothing_left "MTU 9000 native"
xt_ok "MTU 9000: skb mode works" L B load --mode skb --instance "$I1" b0
xt_ok "MTU 9000: ping in skb mode" xt_ping A 198.18.11.2
xt_ok "MTU 9000: unload" L B unload b0
ip -n "$XT_NS_A" link set a0 mtu 1500
ip -n "$XT_NS_B" link set b0 mtu 1500
# The veth peer's MTU is checked by the kernel at attach time.
ip -n "$XT_NS_A" link set a0 mtu 9000
xt_fails_with "veth peer MTU 9000 native" "b0: native XDP refused: the MTU of b0 or of its veth peer" \
	L B load --instance "$I1" b0
nothing_left "veth peer MTU 9000"
ip -n "$XT_NS_A" link set a0 mtu 1500

# -- no privileges
if command -v setpriv >/dev/null; then
	xt_fails_with "unprivileged" "needs root, or the capabilities CAP_BPF and CAP_NET_ADMIN" \
		xt_in B setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$LOADER" load --instance "$I1" b0
	nothing_left "unprivileged"
	xt_fails_with "root without CAP_BPF/CAP_SYS_ADMIN" "missing: CAP_BPF" \
		xt_in B setpriv --inh-caps=-all --bounding-set=-bpf,-sys_admin \
		"$LOADER" load --instance "$I1" b0
	nothing_left "without CAP_BPF"
fi

# -- bpffs missing: a pin directory that is not on a bpffs
tmpd=$(mktemp -d /tmp/xt-nobpffs.XXXXXX)
xt_defer "rm -rf '$tmpd'"
xt_fails_with "pin dir not on bpffs" "not on a BPF filesystem.*mount -t bpf" \
	L B load --pin-dir "$tmpd/inst" b0
xt_check "pin dir not on bpffs: nothing created" ! -e "$tmpd/inst"
nothing_left "pin dir not on bpffs"

# -- bpffs not mounted and not mountable: a private mount namespace where
# /sys/fs/bpf is gone and the loader may not mount (no CAP_SYS_ADMIN).
if command -v unshare >/dev/null && command -v setpriv >/dev/null; then
	xt_fails_with "bpffs not mountable" "bpffs is not mounted on /sys/fs/bpf and mounting it failed" \
		xt_in B unshare -m sh -c "while umount -l /sys/fs/bpf 2>/dev/null; do :; done; \
			exec setpriv --inh-caps=-all --bounding-set=-sys_admin \
			'$LOADER' load --instance '$I1' b0"
	nothing_left "bpffs not mountable"
fi

# -- ABI mismatch: a pinned map with a wrong value size
mkdir -p "$ROOT/$I1" && chmod 700 "$ROOT/$I1"
bpftool map create "$ROOT/$I1/xfsm_ports" type hash key 4 value 4 entries 256 name xfsm_ports
xt_fails_with "layout: wrong value size" "pinned map $ROOT/$I1/xfsm_ports has key/value sizes 4/4.*wants 4/8" \
	L B load --instance "$I1" b0
xt_match "layout: suggests --reset" "--reset" "$(L B load --instance "$I1" b0 2>&1)"
xt_ok "layout: nothing attached" no_xdp
xt_check "layout: no other map pinned" ! -e "$ROOT/$I1/xfsm_flows"
rm -rf "${ROOT:?}/$I1"

# -- ABI mismatch: a pinned rodata of another ABI version
mkdir -p "$ROOT/$I1" && chmod 700 "$ROOT/$I1"
xt_ok "abi: fake rodata pinned" bpftool map create "$ROOT/$I1/xfsm_rodata" \
	type array key 4 value 24 entries 1 name xfsm_rodata
bpftool map update pinned "$ROOT/$I1/xfsm_rodata" key 0 0 0 0 value 99 $(printf '0 %.0s' {1..23})
xt_fails_with "abi: another ABI version" "loaded with ABI version 99.*new datapath is ABI version $XT_ABI" \
	L B load --instance "$I1" b0
xt_match "abi: suggests --reset" "--reset" "$(L B load --instance "$I1" b0 2>&1)"
xt_ok "abi: nothing attached" no_xdp
xt_check "abi: fake pin left untouched" -e "$ROOT/$I1/xfsm_rodata"
xt_check "abi: no map pinned beside it" ! -e "$ROOT/$I1/xfsm_flows"
# ... with sizes of its own (the next case reads them)
xt_ok "abi: --reset recreates the instance" \
	L B load --reset --instance "$I1" --flows 4096 --flow-table hash --rules 100 b0
xt_check "abi: --reset pinned the new rodata" \
	"$(L B status -j | jq -r ".instances[] | select(.name == \"$I1\") | .abi_version")" = "$XT_ABI"

# -- the sizes of a load are kept by a reload; resizing a pinned map is
# refused the same way (the instance --reset made above)
j=$(L B status -j | jq -c ".instances[] | select(.name == \"$I1\")")
xt_check "sizing: flow table is a plain hash" "$(jq -r .flow_table <<<"$j")" = hash
xt_check "sizing: 4096 flows" "$(jq -r '.tables[] | select(.name == "xfsm_flows") | .max_entries' <<<"$j")" = 4096
xt_check "sizing: 100 rules in each of 2 slots" "$(jq -r '.tables[] | select(.name == "xfsm_rules") | .max_entries' <<<"$j")" = 200
xt_ok "sizing: a reload without options keeps the sizes" L B load --instance "$I1" b0
xt_check "sizing: still 4096 flows in a hash" \
	"$(L B status -j | jq -r ".instances[] | select(.name == \"$I1\") | \"\\(.flow_table) \\(.tables[0].max_entries)\"")" = "hash 4096"
xt_fails_with "resize: another flow table kind" "xfsm_flows is a hash, the datapath wants a lru_hash \\(see --flow-table\\)" \
	L B load --instance "$I1" --flow-table lru b0
xt_fails_with "resize: --flows differs from the pinned table" "xfsm_flows has 4096 entries, this load asks for 1024" \
	L B load --instance "$I1" --flows 1024 b0
xt_check "resize: still attached" -n "$(xt_xfsm_prog_id B b0)"
xt_ok "resize: unload" L B unload b0
nothing_left "resize"

# -- flow tables sized each on its own (--flows TABLE=N), as the pins,
# status and xfsmctl show (a stage of the narrow table) have them
pinned_entries() {
	bpftool -j map show pinned "$ROOT/$I1/$1" | jq -r .max_entries
}
flow_sizes() {	# "wide narrow medium" as pinned
	echo "$(pinned_entries xfsm_flows) $(pinned_entries xfsm_flows_n) $(pinned_entries xfsm_flows_m)"
}
xt_ok "flow tables: load --flows narrow=1000,medium=200,wide=300" \
	L B load --instance "$I1" --flows narrow=1000,medium=200,wide=300 b0
xt_check "flow tables: pinned wide, narrow, medium" "$(flow_sizes)" = "300 1000 200"
j=$(L B status -j | jq -c ".instances[] | select(.name == \"$I1\")")
xt_check "flow tables: status -j names each flow table and its entries" \
	"$(jq -r '[.tables[] | select(.flows) | "\(.name)=\(.flows):\(.max_entries)"] | join(" ")' <<<"$j")" = \
	"xfsm_flows=wide:300 xfsm_flows_n=narrow:1000 xfsm_flows_m=medium:200"
xt_match "flow tables: status text" \
	"xfsm_flows \\(wide\\) 0/300 xfsm_flows_n \\(narrow\\) 0/1000 xfsm_flows_m \\(medium\\) 0/200 xfsm_rules" \
	"$(L B status | awk -v i="$I1" '/^instance /{on = $2 == i} on')"
xt_tmpdir T
cat >"$T/narrow.xfsm" <<'APP'
app narrow
default pass
stage bysrc {
	key ip.src
	rule seen when ip.proto == 17 => count seen, pass
}
APP
CTL() { xt_in B "$XT_BUILD/xfsmctl" --instance "$I1" "$@"; }
xt_ok "flow tables: apply a stage keyed by ip.src" CTL apply "$T/narrow.xfsm"
xt_check "flow tables: xfsmctl show -j, the stage's table and its size" \
	"$(CTL -j show stages | jq -r '.stages[] | select(.name == "bysrc") | "\(.flow_table) \(.table_size)"')" = \
	"xfsm_flows_n 1000"
xt_match "flow tables: xfsmctl show, how to resize it" \
	'^  table size 1000 lru \(xfsm-loader --flows narrow=N, --flow-table\)$' "$(CTL show stages)"
xt_ok "flow tables: a reload naming one table keeps the others" \
	L B load --instance "$I1" --flows narrow=1000 b0
xt_check "flow tables: still 300 1000 200" "$(flow_sizes)" = "300 1000 200"
xt_fails_with "flow tables: resizing one is refused" "xfsm_flows_m has 200 entries, this load asks for 100" \
	L B load --instance "$I1" --flows medium=100 b0
xt_check "flow tables: unchanged after the refusal" "$(flow_sizes)" = "300 1000 200"
xt_ok "flow tables: unload" L B unload b0
nothing_left "flow tables"
xt_ok "flow tables: --flows wide=300 alone" L B load --instance "$I1" --flows wide=300 b0
xt_check "flow tables: the others keep the default" "$(flow_sizes)" = "300 65536 65536"
xt_ok "flow tables: unload after wide=300" L B unload b0
nothing_left "flow tables, wide=300"
xt_ok "flow tables: --flows 5000" L B load --instance "$I1" --flows 5000 b0
xt_check "flow tables: --flows 5000 sizes all three" "$(flow_sizes)" = "5000 5000 5000"
xt_ok "flow tables: unload after --flows 5000" L B unload b0
nothing_left "flow tables, --flows 5000"

# -- flow value layouts (--flow-value): compact for a new instance, kept by
# a reload, a change refused with everything as it was
layout() {	# the pinned instance's, as status -j says it
	L B status -j | jq -r --arg i "$I1" '.instances[] | select(.name == $i) | .flow_value'
}
value_sizes() {	# the three flow tables' value sizes, as pinned
	local m
	for m in xfsm_flows xfsm_flows_n xfsm_flows_m; do
		bpftool -j map show pinned "$ROOT/$I1/$m" | jq -r .bytes_value
	done | xargs
}
pin_ids() {	# the instance's pinned maps and what b0 runs
	local f
	for f in "$ROOT/$I1"/*; do
		printf '%s=%s ' "${f##*/}" "$(bpftool -j map show pinned "$f" 2>/dev/null | jq -r .id)"
	done
	echo "prog=$(xt_xfsm_prog_id B b0)"
}
xt_fails_with "flow value: an unknown layout" "--flow-value is full or compact, not 'small'" \
	L B load --instance "$I1" --flow-value small b0
nothing_left "flow value: an unknown layout"
xt_fails_with "flow value: the offload profile has no compact values" \
	"the offload profile \\(--mode hw\\) has full flow values only; load with --flow-value full" \
	L B load --instance "$I1" --mode hw --flow-value compact b0
nothing_left "flow value: hw and compact"
xt_ok "flow value: load --flow-value compact" L B load --instance "$I1" --flow-value compact b0
xt_check "flow value: status -j says compact" "$(layout)" = compact
xt_match "flow value: status text says compact" "abi $XT_ABI  flow-value compact" \
	"$(L B status | awk -v i="$I1" '/^instance /{on = $2 == i} on')"
xt_check "flow value: the flow tables hold 32-byte values" "$(value_sizes)" = "32 32 32"
xt_ok "flow value: a reload without --flow-value" L B load --instance "$I1" b0
xt_check "flow value: the reload kept compact" "$(layout)" = compact
xt_check "flow value: still 32-byte values" "$(value_sizes)" = "32 32 32"
before=$(pin_ids)
xt_fails_with "flow value: full asked of a compact instance" \
	"instance '$I1' has compact flow values, this load asks for full ones: flows cannot be carried between the layouts; unload the instance first" \
	L B load --instance "$I1" --flow-value full b0
xt_check "flow value: pins and attachment unchanged after the refusal" "$(pin_ids)" = "$before"
xt_fails_with "flow value: a full --obj on a compact instance" \
	"instance '$I1' has compact flow values, this load asks for full ones" \
	L B load --instance "$I1" --obj "${XFSM_BPF_DIR:-$XT_BUILD}/xfsm.bpf.o" b0
xt_check "flow value: pins and attachment unchanged after the --obj refusal" "$(pin_ids)" = "$before"
xt_fails_with "flow value: --obj that is not the layout asked for" \
	"xfsm.bpf.o has full flow values, --flow-value asks for compact ones" \
	L B load --instance "$I1" --flow-value compact --obj "${XFSM_BPF_DIR:-$XT_BUILD}/xfsm.bpf.o" b0
xt_ok "flow value: unload the compact instance" L B unload b0
nothing_left "flow value: compact"
xt_ok "flow value: a new instance without --flow-value" L B load --instance "$I1" b0
xt_check "flow value: a new instance is full" "$(layout)" = full
xt_check "flow value: full flow tables hold 80-byte values" "$(value_sizes)" = "80 80 80"
before=$(pin_ids)
xt_fails_with "flow value: compact asked of a full instance" \
	"instance '$I1' has full flow values, this load asks for compact ones" \
	L B load --instance "$I1" --flow-value compact b0
xt_check "flow value: full instance unchanged after the refusal" "$(pin_ids)" = "$before"
xt_ok "flow value: --reset --flow-value compact recreates the maps" \
	L B load --instance "$I1" --reset --flow-value compact b0
xt_check "flow value: compact after --reset" "$(value_sizes) $(layout)" = "32 32 32 compact"
xt_ok "flow value: unload after --reset" L B unload b0
nothing_left "flow value: --reset"

# -- a foreign XDP program is left alone without --force
EMPTY="$XT_BUILD/xdp_empty.bpf.o"
if [ -e "$EMPTY" ]; then
	ip -n "$XT_NS_B" link set dev b0 xdpgeneric obj "$EMPTY" sec xdp
	fid=$(ip -n "$XT_NS_B" -j link show b0 | jq -r '.[0].xdp.prog.id')
	xt_fails_with "foreign program" "b0 already runs XDP program '.*' \\(id $fid, skb mode\\).*--force" \
		L B load --instance "$I1" b0
	xt_check "foreign program: still there" \
		"$(ip -n "$XT_NS_B" -j link show b0 | jq -r '.[0].xdp.prog.id')" = "$fid"
	xt_check "foreign program: nothing pinned" ! -e "$ROOT/$I1"
	xt_ok "foreign program: --force replaces it" L B load --force --mode skb --instance "$I1" b0
	xt_check "foreign program: xfsm runs" -n "$(xt_xfsm_prog_id B b0)"
	xt_ok "foreign program: unload" L B unload b0
	nothing_left "foreign program"
	xt_fails_with "unload of a non-xfsm interface" "a0 does not run xfsm" L A unload a0
fi

xt_ok "ping after" xt_ping A 198.18.11.2
xt_done
