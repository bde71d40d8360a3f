#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# `make bench` (issues 6 and 11): every xfsm job next to the hand-written
# XDP program doing the same job (bench/ref/), and xfsm against a bare XDP
# program, nftables and iptables, on one machine in one run.
#
# Topology: namespace GEN runs build/xfsm-pktgen on g<pid>; its veth peer
# d<pid> is in namespace DUT, where the job under test runs.  d<pid> has
# GRO on (so it accepts XDP frames with or without an XDP program) and
# threaded NAPI, whose kthread is pinned to $DUT_CPU; the generator is
# pinned to $GEN_CPU.  Both run SCHED_FIFO 50 (unless --no-rt), so that the
# other tasks of a shared machine take neither the DUT's CPU nor the
# generator's: a generator left at normal priority on a busy machine offers
# a fraction of its rate, and the DUT then measures the generator.
#
# Measure, per run: the generator runs for warm-up + window + stats window
# + tail seconds.  Over the window (kernel.bpf_stats_enabled off) the DUT's
# own counter gives the rate absorbed, /proc/stat the DUT CPU's utilisation
# and /proc/PID/stat the NAPI thread's; over the stats window the sysctl is
# on and the XDP program's run_time_ns / run_cnt give its own cost per
# packet (the sysctl is restored on exit).  An xfsm job and its reference
# alternate run by run, --repeats runs each (--pair-repeats for a job and
# its reference), medians reported, next to the generator's own (offered)
# rate.
#
# Two identical programs measured so differ by chance: by how much tells
# whether a ratio says anything.  So each pair has a third side, the
# reference once more, loaded anew as the reference is (an A/A pair, results
# IDa): its ratio to the reference is what chance alone gives in the same
# rounds, and docs/BENCHMARKS.md judges a target met "inside the A/A
# spread" when a ratio misses it by less than the widest A/A ratio of the
# run (bench/report.py).  The sides take turns in an order that turns by
# one each round, so that no side always runs first.
#
# The rate absorbed at saturation charges a slow program twice (the frames
# the veth refuses go back to the generator's page pool, whose lock the DUT
# then waits on: docs/BENCHMARKS.md, "The harness that disagreed with
# itself").  So each pair also gets its partial drop rate (PDR, as FD.io
# CSIT defines it): the highest offered rate that the DUT absorbs with at
# most PDR_LOSS of the frames lost, the generator paced (--rate), found by
# bisection, the two sides' probes taking turns.
#
# Traffic uses only 198.18.0.0/15 (sources 198.18.0.1 + flow, destination
# 198.19.255.1, the DUT's address: packets that a job passes are delivered
# to the DUT's UDP (no listener) or TCP (closed port) stack, never
# forwarded).  Everything is removed on exit (trap), also on failure or
# Ctrl-C.
#
# Usage: bench/run-bench.sh [--build DIR] [--repeats N] [--window SEC]
#                           [--pair-repeats N] [--quick] [--no-micro] [--no-rt]
#                           [--md FILE] [--json FILE] [--only REGEX]

set -u

BUILD=build
REPEATS=3
PAIR_REPEATS=5	# rounds of a job, its reference and the reference again
WINDOW=2
WARMUP=0.6
STATS_WINDOW=1	# seconds with kernel.bpf_stats_enabled on, after the window
QUICK=0
MICRO=1
RT=1
ONLY=
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MD=$TOP/docs/BENCHMARKS.md
JSON=
APPLY_TIMEOUT=${APPLY_TIMEOUT:-150}
GEN_CPU=${GEN_CPU:-0}
GEN_BATCH=${GEN_BATCH:-64}	# frames per BPF_PROG_TEST_RUN batch, or round the loop
GEN_CLONE=${GEN_CLONE:-4}	# copies sent at once, runs of one flow (pktgen --clone)
DUT_CPU=${DUT_CPU:-1}
GEN_RT=${GEN_RT:-1}	# 0: the generator at normal priority (as before issue 11)
PDR_LOSS=${PDR_LOSS:-0.005}	# the loss a partial drop rate allows (CSIT: 0.5%)
PDR_STEPS=${PDR_STEPS:-6}	# bisection steps per side
PDR_PROBE=${PDR_PROBE:-0.5}	# seconds per probe

while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift ;;
	--repeats) REPEATS=$2; shift ;;
	--pair-repeats) PAIR_REPEATS=$2; shift ;;
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
REFLOAD=$BUILD/bench/refload
REF=$BUILD/bench/ref

die() { echo "run-bench: $*" >&2; exit 1; }
log() { echo "[bench $(date +%T)] $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "must run as root (netns, XDP, nftables)"
for f in "$PKTGEN" "$LOADER" "$CTL" "$EMPTY" "$REFLOAD" "$BUILD/bench/apply_rules" \
	 "$BUILD/xdp_empty.bpf.o" "$BUILD/xfsm.bpf.o" "$REF/portknock.bpf.o"; do
	[ -e "$f" ] || die "missing $f (run make)"
done
for c in ip nsenter jq ethtool taskset chrt nft iptables awk bpftool bc timeout /usr/bin/time; do
	command -v "$c" >/dev/null || die "missing command $c"
done
[ "$(nproc)" -ge 2 ] || log "only one CPU: generator and DUT share it"

ID=$$
NS_G=xb$ID-gen
NS_D=xb$ID-dut
IF_G=g$ID
IF_L=l$ID
IF_LP=lp$ID
IF_D=d$ID
INST=xb$ID
PIN=/sys/fs/bpf/xfsm/$INST
INST_A=xb$ID-apply	# cp_apply's own instance
TMP=$(mktemp -d /tmp/xfsm-bench.XXXXXX)
# id \t label \t mpps \t offered \t note \t prog ns/pkt \t DUT CPU % \t NAPI thread %
RESULTS=$TMP/results.tsv
: >"$RESULTS"
CT_MAX_SAVED=
STATS_SAVED=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo)
# micro -W expedites RCU grace periods for its run and restores them; this
# restores them too should it die by a signal it cannot catch.
RCU_SAVED=$(cat /sys/kernel/rcu_expedited 2>/dev/null || echo)
REFPINS=/sys/fs/bpf/xb$$-ref

cleanup() {
	trap - EXIT INT TERM
	[ -n "${GEN_PID:-}" ] && kill -INT "$GEN_PID" 2>/dev/null && wait "$GEN_PID" 2>/dev/null
	[ -d "$PIN" ] && nsenter --net=/run/netns/"$NS_D" "$LOADER" unload --instance "$INST" >/dev/null 2>&1
	rm -rf "$PIN"
	[ -d "/sys/fs/bpf/xfsm/$INST_A" ] &&
		nsenter --net=/run/netns/"$NS_D" "$LOADER" unload --instance "$INST_A" >/dev/null 2>&1
	rm -rf "/sys/fs/bpf/xfsm/$INST_A"
	ip netns del "$NS_G" 2>/dev/null
	ip netns del "$NS_D" 2>/dev/null
	[ -n "$CT_MAX_SAVED" ] && sysctl -qw net.netfilter.nf_conntrack_max="$CT_MAX_SAVED"
	[ -n "$STATS_SAVED" ] && sysctl -qw kernel.bpf_stats_enabled="$STATS_SAVED"
	[ -n "$RCU_SAVED" ] && echo "$RCU_SAVED" >/sys/kernel/rcu_expedited 2>/dev/null
	rm -rf "$REFPINS"
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
# The loop engine's veth pair (bench/pktgen.c, --loop-dev), used where the
# kernel refuses live frames: its NAPI runs in the softirq of the CPU that
# feeds it, the generator's.
ip -n "$NS_G" link add "$IF_L" type veth peer name "$IF_LP" || die "veth (loop)"
ip -n "$NS_G" link set "$IF_L" up
ip -n "$NS_G" link set "$IF_LP" up
# The destination is the DUT's own address: passed packets are delivered
# locally (conntrack confirms them in INPUT) to a UDP port nobody listens
# on, i.e. they end as UdpNoPorts (the ICMP errors are rate-limited).
ip -n "$NS_D" addr add 198.19.255.1/32 dev "$IF_D"
ip -n "$NS_D" link set "$IF_D" up
D ethtool -K "$IF_D" gro on >/dev/null || die "cannot enable GRO on $IF_D"
ip netns exec "$NS_D" sh -c "echo 1 > /sys/class/net/$IF_D/threaded" ||
	die "cannot enable threaded NAPI on $IF_D"
DMAC=$(ip -n "$NS_D" -j link show "$IF_D" | jq -r '.[0].address')

# The NAPI kthreads ("napi/<dev>-<id>") of the DUT's veth, pinned to
# DUT_CPU; their pids in NAPI_PIDS (read once per run: ps is slow).
NAPI_PIDS=
pin_napi() {
	local pid n=0
	NAPI_PIDS=
	for pid in $(ps -eo pid=,comm= | awk -v p="napi/$IF_D-" 'index($2, p) == 1 { print $1 }'); do
		taskset -pc "$DUT_CPU" "$pid" >/dev/null && n=$((n + 1))
		[ "$RT" = 1 ] && chrt -f -p 50 "$pid"
		NAPI_PIDS="$NAPI_PIDS $pid"
	done
	[ $n -gt 0 ] || log "warning: no NAPI thread of $IF_D found to pin"
}
pin_napi

# ---- measurement ---------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Counters of the DUT, each printing one packet count.  (awk prints a
# number over 2^31 as 2.1e+09 with print, and clamps it with %d: counts
# go through %.0f, exact to 2^53.  The veth's passes 2^31 within a run.)
cnt_veth_xdp() { D ethtool -S "$IF_D" | awk '/rx_queue_[0-9]+_xdp_packets:/ { s += $2 } END { printf "%.0f\n", s }'; }
cnt_xfsm() { X -j stats | jq '.datapath.rx_packets'; }
cnt_nft() { D nft -j list counter "$1" "$2" "$3" | jq '[.nftables[] | select(.counter) | .counter.packets][0]'; }
# iptables: the packet counter of the chain's first rule, which every
# packet meets (a count-only rule where the job has several rules)
cnt_ipt() { D iptables -w -t raw -v -x -n -L PREROUTING 1 | awk '{ printf "%.0f\n", $1 }'; }

# Cheap probes, read at the edges of a window: the DUT CPU's busy and total
# ticks (/proc/stat, steal counted as not ours), the NAPI threads' ticks.
cpu_ticks() { awk -v c="cpu$DUT_CPU" '$1 == c { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
napi_ticks() {
	local p t=0
	for p in $NAPI_PIDS; do
		[ -r "/proc/$p/stat" ] && t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
	done
	echo "$t"
}
# The XDP program attached to the DUT's veth, and its bpf_stats.
xdp_prog_id() { ip -n "$NS_D" -j link show "$IF_D" | jq '.[0].xdp.prog.id // .[0].xdp.attached[0].prog.id // 0'; }
xdp_prog_name() { bpftool -j prog show id "$(xdp_prog_id)" 2>/dev/null | jq -r '.name // "none"'; }
prog_stats() { bpftool -j prog show id "$1" 2>/dev/null | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"'; }

# gen ARGS...: pktgen in GEN on GEN_CPU, JSON on stdout.  A timed run of
# one flow sends GEN_CLONE copies of each frame at once (--clone: the loop
# engine's rate; the frames are the same whatever the copies); a run of
# several flows sends each flow once at a time.
gen() {
	local rt=() clone=(--clone "$GEN_CLONE") a
	[ "$RT" = 1 ] && [ "$GEN_RT" = 1 ] && rt=(chrt -f 50)
	[ "$RT" = 1 ] && [ "$GEN_RT" = 0 ] && rt=(chrt -o 0)	# not the script's priority
	for a in "$@"; do
		case $a in --flows|--count) clone=() ;; esac
	done
	taskset -c "$GEN_CPU" "${rt[@]}" ip netns exec "$NS_G" "$PKTGEN" --dev "$IF_G" \
		--dst-mac "$DMAC" --batch "$GEN_BATCH" --engine "${ENGINE:-auto}" \
		--loop-dev "$IF_L" "${clone[@]}" -j "$@"
}

# The generator's engine (bench/pktgen.c): live frames where the kernel
# runs them, else the loop engine (XDP frames too, from the loop l<pid> ->
# lp<pid>), else the AF_PACKET engine, which offers a fraction of the rate
# as skbs that the DUT's veth copies into XDP frames.  The report names it
# and, under the packet engine, does not compare rates (see report.py).
ENGINE=$(gen --count 1 2>/dev/null | jq -r '.engine // empty')
[ -n "$ENGINE" ] || die "xfsm-pktgen cannot send on $IF_G"
log "generator engine: $ENGINE"

# run_once COUNTER -- PKTGEN-ARGS: one run; prints "mpps offered prog_ns
# cpu% napi%" (prog_ns nan when no XDP program is attached).
run_once() {
	local cnt=$1 out=$TMP/gen.out id c1 c2 t1 t2 u1 u2 n1 n2 s1 s2
	shift 2
	# With the generator and the DUT each keeping a CPU busy at real-time
	# priority, a script at normal priority would read the counters
	# seconds late: it reads them at a higher one for the run.
	[ "$RT" = 1 ] && chrt -f -p 60 $$
	gen --duration "$(echo "$WARMUP + $WINDOW + $STATS_WINDOW + 0.5" | bc)" "$@" >"$out" &
	GEN_PID=$!
	id=$(xdp_prog_id)
	sleep "$WARMUP"
	sysctl -qw kernel.bpf_stats_enabled=0
	# A counter read may take tens of ms on a busy machine: it is dated
	# by the middle of its read.
	u1=$(cpu_ticks); n1=$(napi_ticks); t1=$(now); c1=$($cnt); t1=$(echo "($t1 + $(now)) / 2" | bc -l)
	sleep "$WINDOW"
	u2=$(cpu_ticks); n2=$(napi_ticks); t2=$(now); c2=$($cnt); t2=$(echo "($t2 + $(now)) / 2" | bc -l)
	if [ "$id" != 0 ]; then
		sysctl -qw kernel.bpf_stats_enabled=1
		s1=$(prog_stats "$id")
		sleep "$STATS_WINDOW"
		s2=$(prog_stats "$id")
		sysctl -qw kernel.bpf_stats_enabled=0
	fi
	kill -INT "$GEN_PID" 2>/dev/null
	wait "$GEN_PID"
	GEN_PID=
	[ "$RT" = 1 ] && chrt -o -p 0 $$
	awk -v c1="$c1" -v c2="$c2" -v t1="$t1" -v t2="$t2" -v u1="$u1" -v u2="$u2" \
	    -v n1="$n1" -v n2="$n2" -v s1="${s1:-}" -v s2="${s2:-}" -v hz="$(getconf CLK_TCK)" \
	    -v off="$(jq .mpps "$out" 2>/dev/null || echo nan)" 'BEGIN {
		split(u1, a); split(u2, b); split(s1, x); split(s2, y)
		ns = (s1 != "" && y[2] > x[2]) ? (y[1] - x[1]) / (y[2] - x[2]) : "nan"
		busy = (b[2] > a[2]) ? 100 * (b[1] - a[1]) / (b[2] - a[2]) : "nan"
		printf "%.4f %s %s %s %.1f\n", (c2 - c1) / (t2 - t1) / 1e6, off, ns, busy,
			100 * (n2 - n1) / hz / (t2 - t1)
	}'
}

# record ID LABEL FILE: median of the runs in FILE (one run_once line each)
# into $RESULTS.
record() {
	local id=$1 label=$2 f=$3 col m=() runs
	for col in 1 2 3 4 5; do
		m+=("$(awk -v c=$col '{ print $c }' "$f" | grep -v nan | median)")
	done
	runs=$(awk '{ printf "%.3f ", $1 }' "$f")
	printf '%s\t%s\t%.3f\t%.3f\t%s\t%s\t%s\t%s\n' "$id" "$label" "${m[0]}" "${m[1]}" \
		"runs: $runs" "${m[2]}" "${m[3]}" "${m[4]}" >>"$RESULTS"
	log "$id $label: ${m[0]} Mpps (offered ${m[1]}), program ${m[2]} ns/pkt, DUT CPU ${m[3]}%, NAPI thread ${m[4]}%; runs $runs"
}

# measure ID LABEL COUNTER -- PKTGEN-ARGS: whatever is set up now.
measure() {
	local id=$1 label=$2 cnt=$3 r f=$TMP/runs.$1
	shift 4
	pin_napi
	: >"$f"
	for ((r = 0; r < REPEATS; r++)); do
		run_once "$cnt" -- "$@" >>"$f"
		log "  $id: $(tail -1 "$f")"
	done
	record "$id" "$label" "$f"
}

# attach PIN: put the pinned XDP program PIN on the DUT's veth, in place of
# whatever is there.
# (nsenter, not ip -n: `ip netns exec` mounts a /sys of its own, without
# the pins.)
attach() { D ip -force link set dev "$IF_D" xdpdrv pinned "$1"; }
# attach_xfsm: put on the DUT's veth what xfsm itself attaches there (the
# running slot's generated program, attached directly: docs/specializer.md,
# "Attaching the running program"), else its generic entry ($PIN/prog).
attach_xfsm() {
	local id
	id=$(X -j show app | jq -r 'if .app.datapath.runs == "specialized" then .app.datapath.program_id else empty end') ||
		return 1
	if [ -n "$id" ]; then
		D bpftool net attach xdpdrv id "$id" dev "$IF_D" overwrite
	else
		attach "$PIN/prog"
	fi
}

# measure_pair ID LABEL REF_OBJ [SETTING...] -- PKTGEN-ARGS: the xfsm job
# set up now (attach_xfsm: what xfsm runs on the veth), the reference REF_OBJ
# (loaded with bench/refload and its settings, anew before each of its
# runs, as the xfsm side's program is generated anew) and the reference
# again (side aa, loaded the same way: the A/A pair), taking turns run by
# run, PAIR_REPEATS rounds; results ID (xfsm), ${ID}r (reference) and
# ${ID}a (the reference again).  All counted at the veth.
# PAIR_PREP, when set, names a function called as PREP xfsm|ref|aa|gen RUN
# before each run; it may set PAIR_ARGS, more pktgen arguments for that run.
# PAIR_GENERIC, when set, names the job's application file: one more side,
# results ${ID}g, runs it on the generic datapath (xfsmctl apply --datapath
# generic before that side's run, the default datapath again after it;
# flows and registers stay across the switches).
PAIR_ARGS=()
measure_pair() {
	local id=$1 label=$2 obj=$3 r i side set=() order
	local -a sides=(xfsm ref aa)
	local -A file=([xfsm]=$TMP/runs.$1 [ref]=$TMP/runs.${1}r [aa]=$TMP/runs.${1}a [gen]=$TMP/runs.${1}g)
	shift 3
	while [ "$1" != -- ]; do set+=("$1"); shift; done
	shift
	mkdir -p "$REFPINS"
	for side in xfsm ref aa gen; do : >"${file[$side]}"; done
	[ -n "${PAIR_GENERIC:-}" ] && sides+=(gen)
	for ((r = 0; r < PAIR_REPEATS; r++)); do
		# this round's order: the sides turned by r
		order=()
		for ((i = 0; i < ${#sides[@]}; i++)); do
			order+=("${sides[(i + r) % ${#sides[@]}]}")
		done
		for side in "${order[@]}"; do
			[ $side = gen ] && { X apply --datapath generic "$PAIR_GENERIC" >/dev/null ||
					     die "apply --datapath generic $PAIR_GENERIC"; }
			if [ $side = ref ] || [ $side = aa ]; then
				# loaded anew each round, as the xfsm side's program
				# is generated anew: each draws a JIT image placement
				rm -f "$(ref_pin "$id" $side)"
				"$REFLOAD" "$obj" "$(ref_pin "$id" $side)" "${set[@]}" ||
					die "cannot load the reference $obj"
			fi
			pair_side $side "$(ref_pin "$id" $side)" "$r"
			run_once cnt_veth_xdp -- "$@" "${PAIR_ARGS[@]}" >>"${file[$side]}"
			log "  $id $side ($(xdp_prog_name)): $(tail -1 "${file[$side]}")"
			[ $side = gen ] && { X apply "$PAIR_GENERIC" >/dev/null ||
					     die "apply $PAIR_GENERIC"; }
		done
	done
	[ "$PDR_STEPS" -gt 0 ] && pdr_pair "$id" "${file[xfsm]}" "${file[ref]}" "${file[aa]}" "$@"
	attach_xfsm || die "cannot attach xfsm again"
	rm -f "$(ref_pin "$id" ref)" "$(ref_pin "$id" aa)"
	record "$id" "$label" "${file[xfsm]}"
	# the reference's label names the settings that change what it does
	local what s
	what=$(basename "$obj")
	for s in "${set[@]}"; do
		case $s in '#'*|*_ifindex=*|nflows=*) ;; *) what="$what $s" ;; esac
	done
	record "${id}r" "hand-written reference: $what" "${file[ref]}"
	record "${id}a" "hand-written reference again (A/A): $what" "${file[aa]}"
	[ -n "${PAIR_GENERIC:-}" ] && record "${id}g" "$label, generic datapath" "${file[gen]}"
	if [ "$PDR_STEPS" -gt 0 ]; then
		record_pdr "${id}p" "$label: partial drop rate" "$TMP/pdr.$id.xfsm"
		record_pdr "${id}rp" "hand-written reference: $what: partial drop rate" "$TMP/pdr.$id.ref"
		record_pdr "${id}ap" "hand-written reference again (A/A): $what: partial drop rate" "$TMP/pdr.$id.aa"
	fi
	return 0
}

# ref_pin ID SIDE: where the reference of pair ID is pinned for SIDE (ref
# or aa; the xfsm side's own program is not pinned there; bpffs takes
# no dot in a name).
ref_pin() { [ "$2" = aa ] && echo "$REFPINS/${1}_aa" || echo "$REFPINS/$1"; }

# pair_side SIDE REF_PIN RUN: SIDE's program on the DUT's veth (xfsm's
# as xfsm attaches it, else the reference pinned at REF_PIN), the NAPI
# thread pinned, then PAIR_PREP for run RUN (which may set PAIR_ARGS).
pair_side() {
	case $1 in
	ref|aa) attach "$2" || die "cannot attach $2" ;;
	*) attach_xfsm || die "cannot attach xfsm's program" ;;
	esac
	pin_napi
	PAIR_ARGS=()
	[ -z "${PAIR_PREP:-}" ] || "$PAIR_PREP" "$1" "$3" || die "$PAIR_PREP failed"
}

# pdr_probe SIDE REF_PIN RUN RATE -- PKTGEN-ARGS: one paced run of
# PDR_PROBE s at RATE packets/s against SIDE (pair_side first); prints
# "rate offered_mpps absorbed_mpps loss sent absorbed".  Offered and
# absorbed are counts over the run (the generator's own, the veth's), not
# windows: a frame either reached the DUT's XDP program or was refused by
# the veth's ring.
pdr_probe() {
	local side=$1 rate=$4 out=$TMP/pdr.out c1 c2
	pair_side "$side" "$2" "$3"
	shift 5
	c1=$(cnt_veth_xdp)
	gen --rate "$rate" --duration "$PDR_PROBE" "$@" "${PAIR_ARGS[@]}" >"$out" ||
		die "xfsm-pktgen --rate $rate failed"
	sleep 0.05
	c2=$(cnt_veth_xdp)
	jq -r --arg r "$rate" --arg a "$((c2 - c1))" \
		'"\($r) \(.sent / .duration_s / 1e6) \(($a | tonumber) / .duration_s / 1e6) \(if .sent > 0 then 1 - ($a | tonumber) / .sent else 1 end) \(.sent) \($a)"' "$out"
}

# pdr_pair ID XFSM_RUNS REF_RUNS AA_RUNS PKTGEN-ARGS: the partial drop
# rate of each side of the pair just measured (the reference again too),
# by bisection between 0 and 1.5 times the rate it absorbed at saturation
# (the median of its runs); the sides take turns rate by rate.  Each
# side's probes go to $TMP/pdr.ID.SIDE, one pdr_probe line each.
pdr_pair() {
	local id=$1 k side lo hi mid line loss ok try
	local -A LO HI RUNS=([xfsm]=$2 [ref]=$3 [aa]=$4)
	shift 4
	for side in xfsm ref aa; do
		LO[$side]=0
		HI[$side]=$(awk '{ print $1 }' "${RUNS[$side]}" | grep -v nan | median |
			    awk '{ printf "%.0f", $1 * 1.5e6 }')
		: >"$TMP/pdr.$id.$side"
	done
	for ((k = 0; k < PDR_STEPS; k++)); do
		for side in xfsm ref aa; do
			lo=${LO[$side]}; hi=${HI[$side]}
			mid=$(((lo + hi) / 2))
			[ "$mid" -gt 0 ] || continue
			# a rate fails when two probes in a row lose more than
			# PDR_LOSS: one stall of the machine is not the program
			for try in 1 2; do
				line=$(pdr_probe $side "$(ref_pin "$id" $side)" $((PAIR_REPEATS + k)) "$mid" -- "$@")
				[ -n "$line" ] || die "$id: a $side PDR probe failed"
				echo "$line" >>"$TMP/pdr.$id.$side"
				log "  $id $side PDR probe: $line"
				loss=$(awk '{ print $4 }' <<<"$line")
				ok=$(awk -v l="$loss" -v m="$PDR_LOSS" 'BEGIN { print (l <= m) }')
				[ "$ok" = 1 ] && break
			done
			if [ "$ok" = 1 ]; then
				LO[$side]=$mid
			else
				HI[$side]=$mid
			fi
		done
	done
}

# record_pdr ID LABEL FILE: the highest offered rate among FILE's probes
# whose loss was within PDR_LOSS (nan: none), into $RESULTS.
record_pdr() {
	local id=$1 label=$2 f=$3 best probes
	best=$(awk -v m="$PDR_LOSS" '$4 <= m && $2 > b { b = $2 } END { printf "%.4f", b + 0 }' "$f")
	[ "$best" = 0.0000 ] && best=nan
	probes=$(awk '{ printf "%.3f/%.2f%% ", $2, 100 * $4 }' "$f")
	printf '%s\t%s\t%s\t%s\t%s\tnan\tnan\tnan\n' "$id" "$label" "$best" "$best" \
		"probes (offered Mpps/loss): $probes" >>"$RESULTS"
	log "$id $label: $best Mpps; probes $probes"
}
na() { printf '%s\t%s\tnan\tnan\t%s\tnan\tnan\tnan\n' "$1" "$2" "$3" >>"$RESULTS"; log "$1 $2: $3"; }

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

# ---- 2-4, 7-9: xfsm, each job next to its hand-written reference ---------------
# load_dut [LOADER-OPTION...]: the DUT's instance, loaded anew (unloaded
# first when there is one) with the options every scenario shares.
load_dut() {
	if [ -d "$PIN" ]; then
		D "$LOADER" -q unload --instance "$INST" >/dev/null || die "xfsm-loader unload failed"
	fi
	D "$LOADER" load --mode native --instance "$INST" --flows 2097152 --rules 262144 \
		--acl-rules 0=16384 "$@" "$IF_D" \
		>/dev/null || die "xfsm-loader load $* failed"
}
load_dut
DUT_IFINDEX=$(ip -n "$NS_D" -j link show "$IF_D" | jq '.[0].ifindex')

if want s2; then
	D "$EMPTY" "$PIN" || die "cannot apply the empty application"
	measure_pair s2 "xfsm empty application (no stage, default drop)" "$REF/empty.bpf.o" -- --udp
fi

if want s3; then
	X apply "$TOP/examples/portknock.xfsm" >/dev/null || die "apply portknock"
	PAIR_GENERIC=$TOP/examples/portknock.xfsm measure_pair s3 "xfsm portknock.xfsm, closed port (TCP 22, never knocked)" \
		"$REF/portknock.bpf.o" -- --tcp --tcp-flags syn --dport 22
fi

# The opened port: before each run the source of that run (a new one each
# time, so that the 30 s the port stays open cover the run) knocks.
knock_first() {
	local src=198.18.1.$((10 + $2 * 2)) p
	[ "$1" = ref ] && src=198.18.1.$((11 + $2 * 2))
	[ "$1" = gen ] && src=198.18.2.$((10 + $2))
	[ "$1" = aa ] && src=198.18.3.$((10 + $2))
	for p in 1111 2222 3333 4444; do
		gen --count 1 --udp --src "$src" --dport "$p" >/dev/null || return 1
	done
	PAIR_ARGS=(--src "$src")
}
if want s3o; then
	X apply "$TOP/examples/portknock.xfsm" >/dev/null || die "apply portknock"
	PAIR_GENERIC=$TOP/examples/portknock.xfsm PAIR_PREP=knock_first measure_pair s3o "xfsm portknock.xfsm, opened source (TCP 22 after the knocks)" \
		"$REF/portknock.bpf.o" -- --tcp --tcp-flags syn --dport 22
fi

# The firewall's flows are made by an unmeasured pre-run (8 packets per
# flow; many are dropped at the veth): before the xfsm side's first run,
# and before each run of the reference, whose table is new each round.
# FW_KEEP=1: the xfsm side keeps the flows it has (the previous case's).
FW_FLOWS=
FW_KEEP=
fw_prefill() {
	[ "$1" = gen ] && return 0	# the xfsm side's flows (the same table)
	if [ "$1" = xfsm ]; then
		[ "$2" = 0 ] || return 0
		[ -n "$FW_KEEP" ] && return 0
		X state flush conntrack >/dev/null
	fi
	# the reference (either copy), loaded anew each round, starts with an
	# empty table; the partial drop rate's probes (runs from PAIR_REPEATS
	# on) use the last round's
	[ "$1" != xfsm ] && [ "$2" -ge "$PAIR_REPEATS" ] && return 0
	prefill --udp --flows "$FW_FLOWS" --count $((FW_FLOWS * 8 > 100000 ? FW_FLOWS * 8 : 100000))
}
# The firewall keeps a state and an idle timeout per flow: loaded as its
# docs say (docs/loader.md, "Flow values"), with compact flow values (32
# bytes, not 80); scenario 4f runs it once more with the full ones.
if want s4 || want s4f; then
	load_dut --flow-value compact
fi
if want s4; then
	X apply "$TOP/examples/statefulfw.xfsm" >/dev/null || die "apply statefulfw"
	for n in 1 10000 $N1M; do
		FW_FLOWS=$n PAIR_PREP=fw_prefill PAIR_GENERIC=$TOP/examples/statefulfw.xfsm \
			measure_pair "s4_$n" \
			"xfsm statefulfw.xfsm, $n flow(s), compact flow values (UDP from inside, pass)" "$REF/statefulfw.bpf.o" \
			inside_ifindex="$DUT_IFINDEX" "#conns=2097152" -- --udp --flows "$n"
	done
	# control plane: list the flows (the 1M case just ran)
	nflows=$(X state list -n conntrack 2>/dev/null | grep -Eo '[0-9]+' | head -1)
	cp_put flows_in_table "${nflows:-nan}" flows "xfsm flow table after the $N1M-flow case (pre-run + measured runs)"
	t1=$(now)
	lines=$(/usr/bin/time -f '%U %S' -o "$TMP/list.cpu" nsenter --net=/run/netns/"$NS_D" -- \
		"$CTL" --instance "$INST" state list conntrack | wc -l)
	t2=$(now)
	cp_put list_flows_s "$(echo "$t2 - $t1" | bc -l | xargs printf '%.2f')" s \
		"xfsmctl state list conntrack (text, $lines lines; $nflows flows), wall time"
	cp_put list_flows_cpu_s "$(awk '{ printf "%.2f", $1 + $2 }' "$TMP/list.cpu")" s \
		"the same, CPU time of xfsmctl (user $(awk '{ print $1 }' "$TMP/list.cpu") s + system $(awk '{ print $2 }' "$TMP/list.cpu") s): a busy machine's wall time is longer"
	t1=$(now)
	X -j state list conntrack >/dev/null
	t2=$(now)
	cp_put list_flows_json_s "$(echo "$t2 - $t1" | bc -l | xargs printf '%.2f')" s \
		"xfsmctl -j state list conntrack"
	# The same application with every pass turned into drop, so the
	# stack's cost is left out (clearly not the example as written), next
	# to the reference doing the same (its pass_verdict set to XDP_DROP)
	# and the generic datapath: whether 1M flows / 1 flow is bound by the
	# memory (the reference misses it too) or by xfsm.  The 1M case runs
	# first, on the flows scenario 4 left (the stage's key is unchanged,
	# so the apply keeps them): emptied and filled again, a table takes
	# its entries in the order they were freed, scattered in memory,
	# where a new table (the reference's, each case's) takes them in
	# memory order, and the 1M-flow walk costs both more when scattered
	# (docs/BENCHMARKS.md, "1M flows").
	sed -E 's/, pass$/, drop/; s/=> pass$/=> drop/' "$TOP/examples/statefulfw.xfsm" >"$TMP/fw_drop.xfsm"
	if want s4d && X apply "$TMP/fw_drop.xfsm" >/dev/null; then
		for n in $N1M 1; do
			FW_KEEP=$([ "$n" = "$N1M" ] && echo 1) \
			FW_FLOWS=$n PAIR_PREP=fw_prefill PAIR_GENERIC=$TMP/fw_drop.xfsm \
				measure_pair "s4d_$n" "xfsm statefulfw.xfsm with pass -> drop, $n flow(s), compact flow values" \
				"$REF/statefulfw.bpf.o" inside_ifindex="$DUT_IFINDEX" pass_verdict=1 \
				"#conns=2097152" -- --udp --flows "$n"
		done
	fi
	# The firewall's 5-tuple is a medium key (docs/datapath.md, "Flow
	# tables"): its flows are in xfsm_flows_m.
	m=$(bpftool -j map show pinned "$PIN/xfsm_flows_m")
	cp_put flow_bytes_per_entry \
		"$(jq '.bytes_memlock / .max_entries | floor' <<<"$m")" B \
		"xfsm_flows_m (the firewall's) $(jq -r '.type' <<<"$m"): memlock $(jq .bytes_memlock <<<"$m") B / $(jq .max_entries <<<"$m") entries (key $(jq .bytes_key <<<"$m") B, value $(jq .bytes_value <<<"$m") B)"
	# The reference's connection table, sized as in scenario 4.
	mkdir -p "$REFPINS"
	if "$REFLOAD" "$REF/statefulfw.bpf.o" "$REFPINS/fwmem" "#conns=2097152"; then
		m=$(for i in $(bpftool -j prog show pinned "$REFPINS/fwmem" | jq '.map_ids[]'); do
			bpftool -j map show id "$i"; done | jq -s 'map(select(.name == "conns"))[0]')
		cp_put ref_conn_bytes_per_entry \
			"$(jq '.bytes_memlock / .max_entries | floor' <<<"$m")" B \
			"the reference's conns $(jq -r '.type' <<<"$m"): memlock $(jq .bytes_memlock <<<"$m") B / $(jq .max_entries <<<"$m") entries (key $(jq .bytes_key <<<"$m") B, value $(jq .bytes_value <<<"$m") B)"
		rm -f "$REFPINS/fwmem"
	fi
fi
# 4f: the firewall at 1M flows on an instance with full flow values (as
# loaded by default), the layout's cost.
if want s4f; then
	load_dut
	X apply "$TOP/examples/statefulfw.xfsm" >/dev/null || die "apply statefulfw"
	FW_FLOWS=$N1M PAIR_PREP=fw_prefill \
		measure_pair "s4f_$N1M" \
		"xfsm statefulfw.xfsm, $N1M flows, full flow values (UDP from inside, pass)" \
		"$REF/statefulfw.bpf.o" inside_ifindex="$DUT_IFINDEX" "#conns=2097152" \
		-- --udp --flows "$N1M"
	m=$(bpftool -j map show pinned "$PIN/xfsm_flows_m")
	cp_put flow_bytes_per_entry_full \
		"$(jq '.bytes_memlock / .max_entries | floor' <<<"$m")" B \
		"xfsm_flows_m with full flow values: memlock $(jq .bytes_memlock <<<"$m") B / $(jq .max_entries <<<"$m") entries (key $(jq .bytes_key <<<"$m") B, value $(jq .bytes_value <<<"$m") B)"
fi
if want s4 || want s4f; then
	load_dut
fi

if want s7; then
	X apply "$TOP/bench/ref/counter.xfsm" >/dev/null || die "apply counter"
	PAIR_GENERIC=$TOP/bench/ref/counter.xfsm measure_pair s7 "xfsm per-source counter (reg0 = reg0 + 1, drop)" "$REF/counter.bpf.o" -- --udp
fi
if want s8; then
	X apply "$TOP/bench/ref/global.xfsm" >/dev/null || die "apply global"
	PAIR_GENERIC=$TOP/bench/ref/global.xfsm measure_pair s8 "xfsm global register (global0 = global0 + 1, drop)" "$REF/global.bpf.o" -- --udp
fi
# Jobs 7 and 8 against their references keeping xfsm's statistics
# (bench/ref/xstats.h): keep_stats=1 as xfsm lays them out, so what is left
# between the two is the rest of xfsm; keep_stats=2 in one block, which
# tells what that layout would save on the veth.
stats_pair() {	# ID JOB KEEP_STATS LABEL
	want "$1" || return 0
	X apply "$TOP/bench/ref/$2.xfsm" >/dev/null || die "apply $2"
	measure_pair "$1" "$4" "$REF/$2.bpf.o" keep_stats="$3" -- --udp
}
stats_pair s7s counter 1 "xfsm per-source counter (reg0 = reg0 + 1, drop), against the reference keeping xfsm's statistics"
stats_pair s8s global 1 "xfsm global register (global0 = global0 + 1, drop), against the reference keeping xfsm's statistics"
stats_pair s8b global 2 "xfsm global register (global0 = global0 + 1, drop), against the reference keeping xfsm's statistics in one block"
if want s9; then
	X apply "$TOP/bench/ref/twostage.xfsm" >/dev/null || die "apply twostage"
	PAIR_GENERIC=$TOP/bench/ref/twostage.xfsm measure_pair s9 "xfsm 2 stages (cursor + counter over 16 flows, pass)" "$REF/twostage.bpf.o" \
		nflows=16 -- --udp --dport 80
fi

# ---- control plane: 100k rules -------------------------------------------------
# rules_app N: an application of one stage keyed by ip.src with N rules
# `rule rI priority P when ip.src == A, tcp.dport == D => drop` (distinct
# addresses in 198.18.0.0/15, P stepping every 4096 rules, the most a
# priority holds).
rules_app() {
	awk -v n="$1" 'BEGIN {
		print "app rules" n; print "default pass"; print "stage filter {";
		print "\tkey ip.src"; print "\tmiss continue";
		for (i = 0; i < n; i++)
			printf "\trule r%d priority %d when ip.src == 198.%d.%d.%d, tcp.dport == %d => drop\n",
				i, 24 - int(i / 4096), 18 + int(i / 65536), int(i / 256) % 256, i % 256, 1 + i % 1000;
		print "}" }'
}
if want cp_rules; then
	# 65536 rules (the datapath's default capacity, xfsm-loader --rules) through
	# xfsmctl, and 100k rules as an image via libxfsm.

	rules=$TMP/rules64k.xfsm
	rules_app 65536 >"$rules"
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

# ---- control plane: apply with its specialized program (issue 17) ---------------
# The median wall time of `xfsmctl apply --force --datapath auto` of each
# example (5 runs) and of a 10,000-rule application (3 runs), generation
# and verification of the specialized program included, with what the
# last run reported (the datapath that runs, its instructions, the
# generation and the verifier's times).
apply_median() {	# KEY RUNS FILE DESCRIPTION
	local key=$1 runs=$2 file=$3 desc=$4 i t1 t2 ts=() last
	for ((i = 0; i < runs; i++)); do
		t1=$(now)
		if ! D "$CTL" --instance "$INST_A" apply --force --datapath auto "$file" \
			>"$TMP/applyx.out" 2>&1; then
			cp_put "$key" nan ms "failed: $(head -c 200 "$TMP/applyx.out" | tr '\n\t' '  ')"
			return
		fi
		t2=$(now)
		ts+=("$(echo "($t2 - $t1) * 1000" | bc -l)")
	done
	last=$(grep -m1 '^datapath ' "$TMP/applyx.out" | sed 's/: program [0-9]*,/:/')
	cp_put "$key" "$(printf '%s\n' "${ts[@]}" | median | xargs printf '%.1f')" ms \
		"$desc, median of $runs; $last"
}
if want cp_apply; then
	# An instance of its own with two ports (the load balancer outputs
	# to port 2), each one end of a veth pair inside the DUT's namespace
	# whose other end has no program: what an application sends out of a
	# port ends in the namespace's stack.  (Two ends of one pair as the
	# two ports made a loop: a frame the kernel sent when a link came up,
	# flooded by maclearn, went round until the next application.)
	ip -n "$NS_D" link add "a$ID" type veth peer name "ap$ID" &&
		ip -n "$NS_D" link add "b$ID" type veth peer name "bp$ID" || die "veth"
	for l in "a$ID" "ap$ID" "b$ID" "bp$ID"; do
		ip -n "$NS_D" link set "$l" up || die "veth up"
	done
	D "$LOADER" -q load --instance "$INST_A" "a$ID" "b$ID" >/dev/null || die "load $INST_A"
	for f in "$TOP"/examples/*.xfsm; do
		n=$(basename "$f" .xfsm)
		apply_median "apply_example_${n}_ms" 5 "$f" "xfsmctl apply --datapath auto of examples/$n.xfsm"
	done
	rules=$TMP/rules10k.xfsm
	rules_app 10000 >"$rules"
	apply_median apply_10k_rules_ms 3 "$rules" \
		"xfsmctl apply --datapath auto of a 10000-rule application (one stage, rules on ip.src and tcp.dport)"
	D "$LOADER" -q unload --instance "$INST_A" >/dev/null || log "warning: cannot unload $INST_A"
	ip -n "$NS_D" link del "a$ID"
	ip -n "$NS_D" link del "b$ID"
fi

# ---- 5: xfsm ACL ----------------------------------------------------------------
# ClassBench acl1_10000 with addresses rewritten into 198.18.0.0/15:
# source a.b.c.d/L -> 198.18.c.d/max(L,16), destination -> 198.19.c.d/max(L,16)
# (the low 16 bits are kept, the high 16 replaced; a prefix shorter than
# 16 becomes the whole /16).  Ports, protocol and order are kept; the TCP
# flags column is dropped.  Every rule denies (drop); no match passes.
# The sets are not in the tree: $XFSM_CLASSBENCH, else ../shared/classbench.
CB=${XFSM_CLASSBENCH:-$TOP/../shared/classbench}/acl1_10000
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
[ -s "$ACL_RW" ] || log "cannot read $CB (set XFSM_CLASSBENCH to the directory of the ClassBench sets): scenarios 5, 6d and 6f are not measured"
ACL_OK=0
if D "$CTL" help 2>&1 | grep -qw acl || X acl show >/dev/null 2>&1; then
	ACL_OK=1
fi
if want s5; then
	if [ ! -s "$ACL_RW" ]; then
		na s5 "xfsm ACL, ClassBench acl1_10000 (rewritten)" \
			"not available: cannot read $CB (set XFSM_CLASSBENCH to the directory of the ClassBench sets)"
	elif [ "$ACL_OK" = 1 ]; then
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
MICRO_JSON=$TMP/micro.json
echo '{}' >"$MICRO_JSON"
if [ "$MICRO" = 1 ] && [ -x "$BUILD/bench/micro" ]; then
	log "micro benchmark (build/bench/micro)"
	# wall time: tenths of a ns, where the kernel's figure has whole ns
	micro_args=(-b "$BUILD" -W -J "$MICRO_JSON")
	[ "$QUICK" = 1 ] && micro_args+=(-q)
	MICRO_MD=$("$BUILD/bench/micro" "${micro_args[@]}" 2>"$TMP/micro.err") ||
		MICRO_MD="micro benchmark failed: $(head -c 300 "$TMP/micro.err")"
fi

# ---- report ----------------------------------------------------------------------
# Raw tables kept next to results.json, so bench/report.py can be re-run.
mkdir -p "$(dirname "$JSON")"
cp "$RESULTS" "$(dirname "$JSON")/results.tsv"
cp "$CP" "$(dirname "$JSON")/control_plane.tsv"
printf '%s\n' "$MICRO_MD" >"$(dirname "$JSON")/micro.md"
cp "$MICRO_JSON" "$(dirname "$JSON")/micro.json"
python3 "$TOP/bench/report.py" "$RESULTS" "$CP" "$MD" "$JSON" "$REPEATS" "$WINDOW" "$N1M" \
	"$GEN_CPU" "$DUT_CPU" "$MICRO_MD" "$MICRO_JSON" "$RT" "$STATS_WINDOW" "$PDR_LOSS" "$ENGINE" \
	"$PAIR_REPEATS"
log "wrote $MD and $JSON"
