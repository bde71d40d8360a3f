#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# `make bench` (issue 6): xfsm against a bare XDP program, nftables and
# iptables on one machine in one run.
#
# Topology: namespace GEN runs build/xfsm-pktgen (pinned to $GEN_CPU) on
# g<pid>; its veth peer d<pid> is in namespace DUT, where the job under
# test runs.  d<pid> has GRO on (so it accepts XDP frames with or without
# an XDP program) and threaded NAPI, whose kthread is pinned to $DUT_CPU
# and runs SCHED_FIFO 50 (unless --no-rt) so that other tasks of a shared
# machine do not take its CPU: everything the DUT does for a packet runs
# in that thread.
#
# Measure: the generator runs for warm-up + window + tail seconds; the
# DUT's own counter (veth XDP counter, xfsm statistics, nft or iptables
# counter) is read at the start and the end of the window; rate = delta /
# window.  Repeated --repeats times, median reported, next to the
# generator's own (offered) rate.  Ratios are against scenario 1 of the same
# run.
#
# Traffic uses only 198.18.0.0/15 (sources 198.18.0.1 + flow, destination
# 198.19.255.1, the DUT's address: packets that a job passes are delivered
# to the DUT's UDP (no listener) or TCP (closed port) stack, never forwarded).  Everything is removed on exit (trap), also on
# failure or Ctrl-C.
#
# Usage: bench/run-bench.sh [--build DIR] [--repeats N] [--window SEC]
#                           [--quick] [--no-micro] [--no-rt] [--md FILE] [--json FILE]
#                           [--only REGEX]

set -u

BUILD=build
REPEATS=3
WINDOW=2
WARMUP=0.6
QUICK=0
MICRO=1
RT=1
ONLY=
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MD=$TOP/docs/BENCHMARKS.md
JSON=
APPLY_TIMEOUT=${APPLY_TIMEOUT:-150}
GEN_CPU=${GEN_CPU:-0}
GEN_BATCH=${GEN_BATCH:-64}	# frames per BPF_PROG_TEST_RUN batch
DUT_CPU=${DUT_CPU:-1}

while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift ;;
	--repeats) REPEATS=$2; shift ;;
	--window) WINDOW=$2; shift ;;
	--quick) QUICK=1 ;;
	--no-micro) MICRO=0 ;;
	--no-rt) RT=0 ;;
	--md) MD=$2; shift ;;
	--json) JSON=$2; shift ;;
	--only) ONLY=$2; shift ;;
	-h|--help) sed -n '3,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run-bench.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
: "${JSON:=$BUILD/bench/results.json}"

PKTGEN=$BUILD/xfsm-pktgen
LOADER=$BUILD/xfsm-loader
CTL=$BUILD/xfsmctl
EMPTY=$BUILD/bench/apply_empty

die() { echo "run-bench: $*" >&2; exit 1; }
log() { echo "[bench $(date +%T)] $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "must run as root (netns, XDP, nftables)"
for f in "$PKTGEN" "$LOADER" "$CTL" "$EMPTY" "$BUILD/bench/apply_rules" "$BUILD/xdp_empty.bpf.o" "$BUILD/xfsm.bpf.o"; do
	[ -e "$f" ] || die "missing $f (run make)"
done
for c in ip nsenter jq ethtool taskset chrt nft iptables awk bpftool bc timeout; do
	command -v "$c" >/dev/null || die "missing command $c"
done
[ "$(nproc)" -ge 2 ] || log "only one CPU: generator and DUT share it"

ID=$$
NS_G=xb$ID-gen
NS_D=xb$ID-dut
IF_G=g$ID
IF_D=d$ID
INST=xb$ID
PIN=/sys/fs/bpf/xfsm/$INST
TMP=$(mktemp -d /tmp/xfsm-bench.XXXXXX)
RESULTS=$TMP/results.tsv	# id \t label \t mpps \t offered \t note
: >"$RESULTS"
CT_MAX_SAVED=

cleanup() {
	trap - EXIT INT TERM
	[ -n "${GEN_PID:-}" ] && kill -INT "$GEN_PID" 2>/dev/null && wait "$GEN_PID" 2>/dev/null
	[ -d "$PIN" ] && nsenter --net=/run/netns/"$NS_D" "$LOADER" unload --instance "$INST" >/dev/null 2>&1
	rm -rf "$PIN"
	ip netns del "$NS_G" 2>/dev/null
	ip netns del "$NS_D" 2>/dev/null
	[ -n "$CT_MAX_SAVED" ] && sysctl -qw net.netfilter.nf_conntrack_max="$CT_MAX_SAVED"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

G() { nsenter --net=/run/netns/"$NS_G" -- "$@"; }
D() { nsenter --net=/run/netns/"$NS_D" -- "$@"; }
X() { D "$CTL" --instance "$INST" "$@"; }
now() { date +%s.%N; }
want() { [ -z "$ONLY" ] || [[ $1 =~ $ONLY ]]; }

# ---- topology ------------------------------------------------------------------
ip netns add "$NS_G" || die "ip netns add"
ip netns add "$NS_D" || die "ip netns add"
ip link add "$IF_G" netns "$NS_G" type veth peer name "$IF_D" netns "$NS_D" || die "veth"
ip -n "$NS_G" link set lo up
ip -n "$NS_D" link set lo up
ip -n "$NS_G" link set "$IF_G" up
# The destination is the DUT's own address: passed packets are delivered
# locally (conntrack confirms them in INPUT) to a UDP port nobody listens
# on, i.e. they end as UdpNoPorts (the ICMP errors are rate-limited).
ip -n "$NS_D" addr add 198.19.255.1/32 dev "$IF_D"
ip -n "$NS_D" link set "$IF_D" up
D ethtool -K "$IF_D" gro on >/dev/null || die "cannot enable GRO on $IF_D"
ip netns exec "$NS_D" sh -c "echo 1 > /sys/class/net/$IF_D/threaded" ||
	die "cannot enable threaded NAPI on $IF_D"
DMAC=$(ip -n "$NS_D" -j link show "$IF_D" | jq -r '.[0].address')

# The NAPI kthread ("napi/<dev>-<id>") of the DUT's veth, pinned to DUT_CPU.
pin_napi() {
	local pid n=0
	for pid in $(ps -eo pid=,comm= | awk -v p="napi/$IF_D-" 'index($2, p) == 1 { print $1 }'); do
		taskset -pc "$DUT_CPU" "$pid" >/dev/null && n=$((n + 1))
		[ "$RT" = 1 ] && chrt -f -p 50 "$pid"
	done
	[ $n -gt 0 ] || log "warning: no NAPI thread of $IF_D found to pin"
}
pin_napi

# ---- measurement ---------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Counters of the DUT, each printing one packet count.
cnt_veth_xdp() { D ethtool -S "$IF_D" | awk '/rx_queue_[0-9]+_xdp_packets:/ { s += $2 } END { print s + 0 }'; }
cnt_xfsm() { X -j stats | jq '.datapath.rx_packets'; }
cnt_nft() { D nft -j list counter "$1" "$2" "$3" | jq '[.nftables[] | select(.counter) | .counter.packets][0]'; }
# iptables: the packet counter of the chain's first rule, which every
# packet meets (a count-only rule where the job has several rules)
cnt_ipt() { D iptables -w -t raw -v -x -n -L PREROUTING 1 | awk '{ print $1 + 0 }'; }

# gen ARGS...: pktgen in GEN on GEN_CPU, JSON on stdout.
gen() { taskset -c "$GEN_CPU" ip netns exec "$NS_G" "$PKTGEN" --dev "$IF_G" --dst-mac "$DMAC" \
	--batch "$GEN_BATCH" -j "$@"; }

# measure ID LABEL COUNTER-CMD -- PKTGEN-ARGS
measure() {
	local id=$1 label=$2 cnt=$3 r c1 c2 t1 t2 rates=() offered=() out
	shift 4
	pin_napi
	for ((r = 0; r < REPEATS; r++)); do
		out=$TMP/gen.$id.$r
		gen --duration "$(echo "$WARMUP + $WINDOW + 0.5" | bc)" "$@" >"$out" &
		GEN_PID=$!
		sleep "$WARMUP"
		c1=$($cnt); t1=$(now)
		sleep "$WINDOW"
		c2=$($cnt); t2=$(now)
		kill -INT "$GEN_PID" 2>/dev/null
		wait "$GEN_PID"
		GEN_PID=
		rates+=("$(echo "($c2 - $c1) / ($t2 - $t1) / 1000000" | bc -l)")
		offered+=("$(jq .mpps "$out" 2>/dev/null || echo nan)")
	done
	local m o
	m=$(printf '%s\n' "${rates[@]}" | median)
	o=$(printf '%s\n' "${offered[@]}" | median)
	printf '%s\t%s\t%.3f\t%.3f\t%s\n' "$id" "$label" "$m" "$o" \
		"runs: $(printf '%.3f ' "${rates[@]}")" >>"$RESULTS"
	log "$id $label: $(printf '%.3f' "$m") Mpps (offered $(printf '%.2f' "$o")); runs ${rates[*]}"
}
na() { printf '%s\t%s\tnan\tnan\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; log "$1 $2: $3"; }

# prefill ARGS...: unmeasured traffic that creates the flows first.
prefill() { gen "$@" >/dev/null; sleep 0.3; }

CP=$TMP/cp.tsv	# control plane / memory: key \t value \t unit \t note
: >"$CP"
cp_put() { printf '%s\t%s\t%s\t%s\n' "$@" >>"$CP"; log "$1: $2 $3 $4"; }

N1M=1000000
[ "$QUICK" = 1 ] && N1M=200000

# ---- 1: bare XDP ---------------------------------------------------------------
ip -n "$NS_D" link set dev "$IF_D" xdpdrv obj "$BUILD/xdp_empty.bpf.o" sec xdp ||
	die "cannot attach xdp_empty to $IF_D"
measure s1 "bare XDP drop (xdp_empty.bpf.o)" cnt_veth_xdp -- --udp
ip -n "$NS_D" link set dev "$IF_D" xdpdrv off
# Reference: the same, but reading the packet first (the frame's cache
# lines come from the generator's CPU, as a NIC's DMA would bring them).
if want s1b && [ -e "$BUILD/bench/xdp_touch.bpf.o" ]; then
	ip -n "$NS_D" link set dev "$IF_D" xdpdrv obj "$BUILD/bench/xdp_touch.bpf.o" sec xdp &&
		measure s1b "reference: XDP drop after reading the headers (xdp_touch.bpf.o)" \
			cnt_veth_xdp -- --udp
	ip -n "$NS_D" link set dev "$IF_D" xdpdrv off
fi

# ---- 2-5: xfsm -----------------------------------------------------------------
D "$LOADER" load --mode native --instance "$INST" --flows 2097152 --rules 262144 \
	--acl-rules 0=16384 "$IF_D" \
	>/dev/null || die "xfsm-loader load failed"
D "$EMPTY" "$PIN" || die "cannot apply the empty application"
want s2 && measure s2 "xfsm empty application (parse, drop)" cnt_xfsm -- --udp

if want s3; then
	X apply "$TOP/examples/portknock.xfsm" >/dev/null || die "apply portknock"
	measure s3 "xfsm portknock.xfsm, closed port (TCP 22, never knocked)" cnt_xfsm -- \
		--tcp --tcp-flags syn --dport 22
	knock_drop=$(X -j stats | jq '.datapath.verdict_drop')
	log "portknock: datapath drops so far $knock_drop"
fi

if want s4; then
	X apply "$TOP/examples/statefulfw.xfsm" >/dev/null || die "apply statefulfw"
	for n in 1 10000 $N1M; do
		X state flush conntrack >/dev/null
		prefill --udp --flows "$n" --count $((n * 8 > 100000 ? n * 8 : 100000))
		measure "s4_$n" "xfsm statefulfw.xfsm, $n flow(s) (UDP from inside, pass)" cnt_xfsm -- \
			--udp --flows "$n"
	done
	# control plane: list the flows (the 1M case just ran)
	nflows=$(X state list -n conntrack 2>/dev/null | grep -Eo '[0-9]+' | head -1)
	cp_put flows_in_table "${nflows:-nan}" flows "xfsm flow table after the $N1M-flow case (pre-run + measured runs)"
	t1=$(now)
	lines=$(X state list conntrack | wc -l)
	t2=$(now)
	cp_put list_flows_s "$(echo "$t2 - $t1" | bc -l | xargs printf '%.2f')" s \
		"xfsmctl state list conntrack (text, $lines lines; $nflows flows)"
	t1=$(now)
	X -j state list conntrack >/dev/null
	t2=$(now)
	cp_put list_flows_json_s "$(echo "$t2 - $t1" | bc -l | xargs printf '%.2f')" s \
		"xfsmctl -j state list conntrack"
	# Reference: the same application with every pass turned into drop, so
	# the stack's cost is left out (clearly not the example as written).
	sed -E 's/, pass$/, drop/; s/=> pass$/=> drop/' "$TOP/examples/statefulfw.xfsm" >"$TMP/fw_drop.xfsm"
	if want s4d && X apply "$TMP/fw_drop.xfsm" >/dev/null; then
		for n in 1 $N1M; do
			X state flush conntrack >/dev/null
			prefill --udp --flows "$n" --count $((n * 8 > 100000 ? n * 8 : 100000))
			measure "s4d_$n" "reference: statefulfw.xfsm with pass -> drop, $n flow(s)" cnt_xfsm -- \
				--udp --flows "$n"
		done
	fi
	m=$(bpftool -j map show pinned "$PIN/xfsm_flows")
	cp_put flow_bytes_per_entry \
		"$(jq '.bytes_memlock / .max_entries | floor' <<<"$m")" B \
		"xfsm_flows $(jq -r '.type' <<<"$m"): memlock $(jq .bytes_memlock <<<"$m") B / $(jq .max_entries <<<"$m") entries (key $(jq .bytes_key <<<"$m") B, value $(jq .bytes_value <<<"$m") B)"
fi

# ---- control plane: 100k rules -------------------------------------------------
if want cp_rules; then
	# 65536 rules (the datapath's default capacity, xfsm-loader --rules) through
	# xfsmctl, and 100k rules as an image via libxfsm.

	rules=$TMP/rules64k.xfsm
	awk 'BEGIN {
		print "app rules64k"; print "default pass"; print "stage filter {";
		print "\tkey ip.src"; print "\tmiss continue";
		for (i = 0; i < 65536; i++)
			printf "\trule r%d priority %d when ip.src == 198.%d.%d.%d, tcp.dport == %d => drop\n",
				i, 24 - int(i / 4096), 18 + int(i / 65536), int(i / 256) % 256, i % 256, 1 + i % 1000;
		print "}" }' >"$rules"
	t1=$(now)
	if timeout "$APPLY_TIMEOUT" nsenter --net=/run/netns/"$NS_D" -- "$CTL" --instance "$INST" \
		apply "$rules" >"$TMP/apply.out" 2>&1; then
		t2=$(now)
		cp_put apply_64k_rules_xfsmctl_s "$(echo "$t2 - $t1" | bc -l | xargs printf '%.2f')" s \
			"xfsmctl apply of a 65536-rule .xfsm (compile + atomic apply; the datapath's default rule capacity)"
	elif [ "$(wc -c <"$TMP/apply.out")" -eq 0 ]; then
		cp_put apply_64k_rules_xfsmctl_s nan s "did not finish within ${APPLY_TIMEOUT} s (killed)"
	else
		cp_put apply_64k_rules_xfsmctl_s nan s "failed: $(head -c 200 "$TMP/apply.out" | tr '\n\t' '  ')"
	fi
	if out=$(D "$BUILD/bench/apply_rules" "$PIN" 100000 2>"$TMP/apply2.err"); then
		cp_put apply_100k_rules_s "$(jq '.build_s + .apply_s' <<<"$out")" s \
			"libxfsm image of 100000 rules (bench/apply_rules.c): build $(jq .build_s <<<"$out") s + xfsm_apply $(jq .apply_s <<<"$out") s"
	else
		cp_put apply_100k_rules_s nan s "failed: $(head -c 200 "$TMP/apply2.err" | tr '\n\t' '  ')"
	fi
fi

# ---- 5: xfsm ACL ----------------------------------------------------------------
# ClassBench acl1_10000 with addresses rewritten into 198.18.0.0/15:
# source a.b.c.d/L -> 198.18.c.d/max(L,16), destination -> 198.19.c.d/max(L,16)
# (the low 16 bits are kept, the high 16 replaced; a prefix shorter than
# 16 becomes the whole /16).  Ports, protocol and order are kept; the TCP
# flags column is dropped.  Every rule denies (drop); no match passes.
CB=$TOP/../shared/classbench/acl1_10000
ACL_RW=$TMP/acl1_10000.bench
if [ -r "$CB" ]; then
	awk -F'\t' '
	function rw(p, net,   a, q, l, lo) {
		split(p, a, "/"); l = a[2] + 0; split(a[1], q, ".")
		if (l < 16) { l = 16; q[3] = 0; q[4] = 0 }
		return net "." q[3] "." q[4] "/" l
	}
	{ sub(/^@/, "", $1); printf "@%s\t%s\t%s\t%s\t%s\t0x0000/0x0000\t\n", rw($1, "198.18"), rw($2, "198.19"), $3, $4, $5 }' "$CB" >"$ACL_RW"
fi
ACL_OK=0
if D "$CTL" help 2>&1 | grep -qw acl || X acl show >/dev/null 2>&1; then
	ACL_OK=1
fi
if want s5; then
	if [ "$ACL_OK" = 1 ] && [ -s "$ACL_RW" ]; then
		t1=$(now)
		if X acl load "$ACL_RW" >"$TMP/acl.out" 2>&1; then
			t2=$(now)
			cp_put install_10k_acl_xfsm_s "$(echo "$t2 - $t1" | bc -l | xargs printf '%.2f')" s \
				"xfsmctl acl load (rewritten acl1_10000)"
			measure s5 "xfsm ACL, ClassBench acl1_10000 (rewritten)" cnt_xfsm -- \
				--tcp --flows 10000 --dport 80
		else
			na s5 "xfsm ACL, ClassBench acl1_10000 (rewritten)" \
				"not available: xfsmctl acl load failed: $(head -c 160 "$TMP/acl.out" | tr '\n\t' '  ')"
		fi
	elif [ -x "$BUILD/bench/apply_acl" ] && [ -s "$ACL_RW" ]; then
		# no `xfsmctl acl` yet: libxfsm's ACL module directly
		if out=$(D "$BUILD/bench/apply_acl" "$PIN" "$ACL_RW" 2>"$TMP/acl.out"); then
			cp_put install_10k_acl_xfsm_s "$(jq .install_s <<<"$out")" s \
				"xfsm_acl_install of the rewritten acl1_10000 ($(jq .rules <<<"$out") rules; bench/apply_acl.c, libxfsm)"
			measure s5 "xfsm ACL stage, ClassBench acl1_10000 rewritten (via libxfsm)" cnt_xfsm -- \
				--tcp --flows 10000 --dport 80
			hits=$(X -j stats | jq '[.stages[]?.hits // empty] | add // empty' 2>/dev/null)
			log "ACL stage hits: ${hits:-?}; drops: $(X -j stats | jq .datapath.verdict_drop)"
		else
			na s5 "xfsm ACL, ClassBench acl1_10000 (rewritten)" \
				"not available: libxfsm ACL: $(head -c 160 "$TMP/acl.out" | tr '\n\t' '  ')"
		fi
	else
		na s5 "xfsm ACL, ClassBench acl1_10000 (rewritten)" "not available (no xfsmctl acl in this build)"
	fi
fi
D "$LOADER" unload --instance "$INST" >/dev/null || log "warning: unload failed"

# ---- 6: nftables, iptables -----------------------------------------------------
if want s6a; then
	D nft -f - <<EOF || die "nft netdev drop"
table netdev xbdrop {
	counter pkts { }
	chain in {
		type filter hook ingress device "$IF_D" priority 0; policy accept;
		counter name "pkts" drop
	}
}
EOF
	measure s6a "nftables netdev ingress: drop" "cnt_nft netdev xbdrop pkts" -- --udp
	D nft delete table netdev xbdrop
fi

if want s6b; then
	D nft -f - <<EOF || die "nft port knocking"
table netdev xbknock {
	counter pkts { }
	set k1 { type ipv4_addr; flags dynamic, timeout; timeout 10s; size 65536; }
	set k2 { type ipv4_addr; flags dynamic, timeout; timeout 10s; size 65536; }
	set k3 { type ipv4_addr; flags dynamic, timeout; timeout 10s; size 65536; }
	set open { type ipv4_addr; flags dynamic, timeout; timeout 30s; size 65536; }
	chain in {
		type filter hook ingress device "$IF_D" priority 0; policy accept;
		counter name "pkts"
		meta protocol ip tcp dport 22 ip saddr @open accept
		meta protocol ip tcp dport 22 drop
		meta protocol ip udp dport 1111 add @k1 { ip saddr } drop
		meta protocol ip udp dport 2222 ip saddr @k1 add @k2 { ip saddr } drop
		meta protocol ip udp dport 3333 ip saddr @k2 add @k3 { ip saddr } drop
		meta protocol ip udp dport 4444 ip saddr @k3 add @open { ip saddr } drop
	}
}
EOF
	if [ $? -eq 0 ]; then
		measure s6b "nftables port knocking (netdev ingress, sets with timeouts), closed port" \
			"cnt_nft netdev xbknock pkts" -- --tcp --tcp-flags syn --dport 22
		D nft delete table netdev xbknock
	fi
fi

if want s6c; then
	cur=$(sysctl -n net.netfilter.nf_conntrack_max 2>/dev/null || echo 0)
	if [ "$cur" -lt $((N1M * 2)) ]; then
		CT_MAX_SAVED=$cur
		sysctl -qw net.netfilter.nf_conntrack_max=$((N1M * 2)) ||
			log "warning: cannot raise nf_conntrack_max ($cur)"
	fi
	D nft -f - <<EOF || die "nft conntrack"
table inet xbfw {
	counter pkts { }
	chain pre {
		type filter hook prerouting priority filter; policy drop;
		counter name "pkts"
		ct state established,related accept
		iifname "$IF_D" ct state new accept
	}
}
EOF
	for n in 1 10000 $N1M; do
		prefill --udp --flows "$n" --count $((n * 8 > 100000 ? n * 8 : 100000))
		measure "s6c_$n" "nftables conntrack firewall (inet prerouting), $n flow(s)" \
			"cnt_nft inet xbfw pkts" -- --udp --flows "$n"
	done
	cte=$(D sh -c 'cat /proc/sys/net/netfilter/nf_conntrack_count' 2>/dev/null)
	osz=$(awk '$1 == "nf_conntrack" { print $4 }' /proc/slabinfo 2>/dev/null)
	[ -n "$osz" ] && cp_put conntrack_bytes_per_entry "$osz" B \
		"slab object size of nf_conntrack (entries in the DUT: ${cte:-?}; hash buckets not counted)"
	D nft delete table inet xbfw
fi

if want s6d && [ -s "$ACL_RW" ]; then
	# First match by priority with overlapping rules: nft's concatenated
	# interval sets (pipapo) refuse overlapping elements ("File exists":
	# the rewritten acl1_10000 starts overlapping at its first wildcard), so
	# the faithful formulation is one rule per ACL entry, in order.
	awk -F'\t' -v dev="$IF_D" '
	function hex(h,   i, v) { v = 0; h = tolower(substr(h, 3)); for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1; return v }
	BEGIN {
		print "table netdev xbacl {"; print "\tcounter pkts { }"; print "\tchain in {"
		print "\t\ttype filter hook ingress device \"" dev "\" priority 0; policy accept;"
		print "\t\tcounter name \"pkts\""
	}
	{
		sub(/^@/, "", $1); split($3, s, " : "); split($4, d, " : "); split($5, p, "/")
		r = "\t\tmeta protocol ip ip saddr " $1 " ip daddr " $2
		if (p[2] != "0x00") {
			pr = hex(p[1]); r = r " meta l4proto " pr
			if (pr == 6 || pr == 17) r = r " th sport " s[1] "-" s[2] " th dport " d[1] "-" d[2]
		}
		print r " drop"
	}
	END { print "\t}"; print "}" }' "$ACL_RW" >"$TMP/acl.nft"
	t1=$(now)
	if D nft -f "$TMP/acl.nft" 2>"$TMP/nftacl.err"; then
		t2=$(now)
		cp_put install_10k_acl_nft_s "$(echo "$t2 - $t1" | bc -l | xargs printf '%.2f')" s \
			"nft -f: the rewritten acl1_10000 as $(grep -c ' drop$' "$TMP/acl.nft") rules in one netdev ingress chain"
		measure s6d "nftables 10k ACL (netdev ingress, one rule per entry, first match)" \
			"cnt_nft netdev xbacl pkts" -- --tcp --flows 10000 --dport 80
		D nft delete table netdev xbacl
	else
		na s6d "nftables 10k ACL (netdev ingress, one rule per entry)" \
			"refused by nft: $(head -c 160 "$TMP/nftacl.err" | tr '\n\t' '  ')"
	fi
fi

if want s6e; then
	D iptables -w -t raw -A PREROUTING -i "$IF_D" -j DROP || die "iptables"
	measure s6e "iptables raw PREROUTING: drop ($(iptables --version | grep -Eo 'nf_tables|legacy' | sed 's/nf_tables/iptables-nft/'))" cnt_ipt -- --udp
	D iptables -w -t raw -F PREROUTING
fi

if want s6f && [ -s "$ACL_RW" ]; then
	awk -F'\t' -v dev="$IF_D" '
	function hex(h,   i, v) { v = 0; h = tolower(substr(h, 3)); for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1; return v }
	BEGIN { print "*raw"; print "-A PREROUTING -i " dev }
	{
		sub(/^@/, "", $1); split($3, s, " : "); split($4, d, " : "); split($5, p, "/")
		r = "-A PREROUTING -i " dev " -s " $1 " -d " $2
		if (p[2] != "0x00") {
			pr = hex(p[1]); r = r " -p " pr
			if (pr == 6 || pr == 17) r = r " --sport " s[1] ":" s[2] " --dport " d[1] ":" d[2]
		}
		print r " -j DROP"
	}
	END { print "COMMIT" }' "$ACL_RW" >"$TMP/acl.ipt"
	t1=$(now)
	if D iptables-restore -w <"$TMP/acl.ipt" 2>"$TMP/iptacl.err"; then
		t2=$(now)
		cp_put install_10k_acl_iptables_s "$(echo "$t2 - $t1" | bc -l | xargs printf '%.2f')" s \
			"iptables-restore: the rewritten acl1_10000 as linear raw rules"
		measure s6f "iptables 10k ACL (raw PREROUTING, linear rules)" cnt_ipt -- \
			--tcp --flows 10000 --dport 80
		D iptables -w -t raw -F PREROUTING
	else
		na s6f "iptables 10k ACL (raw PREROUTING, linear rules)" \
			"refused: $(head -c 160 "$TMP/iptacl.err" | tr '\n\t' '  ')"
	fi
fi

# ---- micro benchmark (issue 2) ------------------------------------------------
MICRO_MD=
if [ "$MICRO" = 1 ] && [ -x "$BUILD/bench/micro" ]; then
	log "micro benchmark (build/bench/micro)"
	MICRO_MD=$("$BUILD/bench/micro" -b "$BUILD" 2>"$TMP/micro.err") ||
		MICRO_MD="micro benchmark failed: $(head -c 300 "$TMP/micro.err")"
fi

# ---- report ----------------------------------------------------------------------
# Raw tables kept next to results.json, so bench/report.py can be re-run.
mkdir -p "$(dirname "$JSON")"
cp "$RESULTS" "$(dirname "$JSON")/results.tsv"
cp "$CP" "$(dirname "$JSON")/control_plane.tsv"
printf '%s\n' "$MICRO_MD" >"$(dirname "$JSON")/micro.md"
python3 "$TOP/bench/report.py" "$RESULTS" "$CP" "$MD" "$JSON" "$REPEATS" "$WINDOW" "$N1M" \
	"$GEN_CPU" "$DUT_CPU" "$MICRO_MD"
log "wrote $MD and $JSON"
