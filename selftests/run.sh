#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Run every selftest: the Check suites (BUILD/selftests/test_*), then the
# shell suites (selftests/sh/test_*.sh), and print one total line
# "N passed, N failed, N skipped".  Exit status 0 only when nothing failed.
#
# Usage: selftests/run.sh [BUILD_DIR]
#   TESTS=pattern	run only suites whose name contains pattern (several
#			patterns separated by spaces or commas)
#   XT_LANES=N		run N suites at a time (default 1; see below)
#   XT_DURATIONS=file	"NAME SECONDS" lines: the order of the lanes' queue
#   XT_DISPATCHER=all	under XT_EMULATED, every suite may use libxdp's
#			dispatcher (default: only those marked; see below)
#
# Each Check suite prints its own summary ("100%: Checks: 12, Failures: 0,
# Errors: 0"); each shell suite ends with "N passed, N failed" and exits 0
# (pass), 77 (skip) or anything else (fail).

set -u

BUILD=${1:-build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
export XFSM_BUILD="$BUILD" XT_BUILD="$BUILD" BUILD
# glibc fills every new allocation with a pattern and every freed one with
# another: a field that libxfsm or a tool leaves unwritten is never zero by
# luck, so a read of it fails every run rather than in some builds and test
# orders only (the language compiler's rule conditions once came from the
# heap: docs/testing.md).  MALLOC_PERTURB_=0 turns it off.
export MALLOC_PERTURB_=${MALLOC_PERTURB_-165}

if [ "$(id -u)" -ne 0 ]; then
	echo "selftests/run.sh: must run as root (BPF_PROG_TEST_RUN, netns, XDP attach)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

passed=0
failed=0
skipped=0
failed_suites=()

selected() {
	local name=$1 pat
	[ -z "${TESTS:-}" ] && return 0
	for pat in ${TESTS//,/ }; do
		case "$name" in *"$pat"*) return 0 ;; esac
	done
	return 1
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Each suite's wall time, printed after it ("-- NAME: N s") and the
# slowest at the end: the CI's time budget (docs/testing.md) is spent here.
times=()
started=0
suite_begin() { echo "== $1"; started=$SECONDS; }
suite_end() {
	local dt=$((SECONDS - started))
	echo "-- $1: ${dt} s"
	times+=("$dt $1")
}

# A kernel that cannot run the datapath at all (older than the minimum,
# docs/testing.md) is found by the loader's own probes: the suites that
# need the datapath report themselves skipped with what the kernel lacks,
# and those that do not still run (the offload checker, the VM runner's
# tests, and the probes themselves, which then check the refusal).
NO_DATAPATH=
NEEDS_NO_DATAPATH="test_offload_check test_vmtest test_loader_features"
if command -v jq >/dev/null 2>&1 && [ -x "$BUILD/xfsm-loader" ]; then
	feat=$("$BUILD/xfsm-loader" features -j 2>/dev/null)
	if [ "$(jq -r '.datapath_loads' <<<"$feat" 2>/dev/null)" = false ]; then
		NO_DATAPATH="this kernel ($(uname -r)) cannot run the datapath: it lacks $(jq -r '.missing' <<<"$feat")"
		echo "selftests: $NO_DATAPATH"
	fi
fi

# skip_for_kernel NAME: the suite needs a datapath this kernel refuses;
# reported like a suite that skips itself.
skip_for_kernel() {
	[ -n "$NO_DATAPATH" ] || return 1
	case " $NEEDS_NO_DATAPATH " in *" $1 "*) return 1 ;; esac
	echo "== $1"
	echo "SKIP: $NO_DATAPATH"
	skipped=$((skipped + 1))
	return 0
}

# ---- the suites --------------------------------------------------------------
# Check suites first, then shell suites, each as "kind name path [VAR=value]"
# (the variable set for the suite).
suites=()
for bin in "$BUILD"/selftests/test_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name=$(basename "$bin")
	selected "$name" || continue
	skip_for_kernel "$name" && continue
	suites+=("check $name $bin")
done

# The golden-packet tables once more with every application on its
# specialized program (XT_DATAPATH, selftests/harness/bpf.c: xt_apply()
# and xt_datapath_check() after the suites' direct applies): the same
# expectations check the generated code (issue 17, docs/testing.md).
# Every table of these suites specializes, so by default (XT_SPEC_GOLDEN=1)
# one that runs generic fails its suite; XT_SPEC_GOLDEN=auto lets such a
# table run generic, each reported with why (a construct the specializer
# does not generate yet: docs/specializer.md); =0 leaves the reruns out.
# Under emulation (the VM guest, XT_EMULATED) they run only when
# XT_SPEC_GOLDEN is set: each suite's datapath loads cost minutes of the
# CI's budget there, and the host's run covers them.  (test_spec_diff
# requires most examples specialized, so a specializer that refuses
# everything cannot pass unnoticed.)  test_acl's tables (ACL stages, cut
# trees of up to 100k rules, edits under traffic) take about 40 s more.
SPEC_GOLDEN="test_xfsm test_actions test_parser test_group test_fib test_offload_golden test_acl"
spec_golden=${XT_SPEC_GOLDEN:-1}
[ -n "${XT_EMULATED:-}" ] && [ -z "${XT_SPEC_GOLDEN:-}" ] && spec_golden=0
case $spec_golden in
0) ;;
auto) spec_dp=auto ;;
*) spec_dp=specialized ;;
esac
if [ "$spec_golden" != 0 ]; then
	for name in $SPEC_GOLDEN; do
		bin="$BUILD/selftests/$name"
		[ -x "$bin" ] || continue
		selected "$name-specialized" || continue
		skip_for_kernel "$name" && continue
		suites+=("check $name-specialized $bin XT_DATAPATH=$spec_dp")
	done
fi
for sh in "$HERE"/sh/test_*.sh; do
	[ -f "$sh" ] || continue
	name=$(basename "$sh" .sh)
	selected "$name" || continue
	skip_for_kernel "$name" && continue
	suites+=("shell $name $sh")
done

# Under emulation (the VM guest, XT_EMULATED) libxdp's dispatcher doubles
# the cost of each datapath load: libxdp loads a second copy of the
# datapath, verified whole again (docs/testing.md, "Durations").  There
# only the suites that test xfsm behind the dispatcher use it, a shell
# suite with a line "# xt-dispatcher: libxdp"; every other suite runs
# with XFSM_NO_DISPATCHER=1 (the loader attaches directly, as on a kernel
# without freplace programs, where the host's `make test` runs them all).
# XT_DISPATCHER=all keeps the dispatcher for every suite.
no_dispatcher() {
	[ -n "${XT_EMULATED:-}" ] && [ "${XT_DISPATCHER:-}" != all ] || return 1
	[ "$1" = shell ] && grep -q '^# xt-dispatcher: libxdp' "$2" && return 1
	return 0
}

# run_suite KIND PATH [VAR=value]: the suite itself.
run_suite() {
	local nd=
	no_dispatcher "$1" "$2" && nd=XFSM_NO_DISPATCHER=1
	case $1 in
	check) env ${nd:+"$nd"} ${3:+"$3"} "$2" ;;
	shell) env ${nd:+"$nd"} ${3:+"$3"} bash "$2" ;;
	esac
}

# account KIND NAME OUT RC: add the suite's counts (from its output OUT and
# exit status RC) to the totals.
account() {
	local kind=$1 name=$2 out=$3 rc=$4 line checks fails errs p f
	if [ "$kind" = check ]; then
		line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$out" | tail -n1)
		if [ -n "$line" ]; then
			checks=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
			fails=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
			errs=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
			passed=$((passed + checks - fails - errs))
			failed=$((failed + fails + errs))
			if [ $((fails + errs)) -ne 0 ] || [ "$rc" -ne 0 ]; then
				failed_suites+=("$name")
				# a non-zero exit with a clean summary still counts as a failure
				[ $((fails + errs)) -eq 0 ] && failed=$((failed + 1))
			fi
		else
			echo "$name: no Check summary (exit status $rc)"
			failed=$((failed + 1))
			failed_suites+=("$name")
		fi
		return
	fi
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n1)
	p=0
	f=0
	if [ -n "$line" ]; then
		p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
		f=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
	fi
	case $rc in
	0)
		passed=$((passed + p))
		failed=$((failed + f))
		if [ "$f" -ne 0 ]; then
			failed_suites+=("$name")
		elif [ -z "$line" ]; then
			passed=$((passed + 1))	# no counts printed: one test
		fi
		;;
	77)
		passed=$((passed + p))
		skipped=$((skipped + 1))
		;;
	*)
		passed=$((passed + p))
		failed=$((failed + (f > 0 ? f : 1)))
		failed_suites+=("$name")
		;;
	esac
}

# XT_LANES=N (default 1) runs the suites in N lanes at once: the qemu
# guest of `make vmtest` has two CPUs, which one suite at a time leaves
# half idle (a datapath load, most of a suite's time there, verifies on
# one CPU).  The suites are parallel-safe by construction, as they must be
# on a machine where several people test at once: their names, namespaces
# and pins are unique per process (selftests/sh/lib.sh).  Each lane takes
# the next suite from one queue, the longest first (XT_DURATIONS: lines
# "NAME SECONDS" from an earlier run; suites it does not list, new ones,
# go first), and prints the suite's whole output once it has finished; the
# totals are counted from each suite's output afterwards, as in one lane.
# A shell suite with a line "# xt-lanes: alone" (one that needs the CPUs
# to itself, e.g. unpaced bursts of frames that a busy receiver drops)
# runs after the lanes, on its own.
LANES=${XT_LANES:-1}
case $LANES in '' | *[!0-9]* | 0) LANES=1 ;; esac
[ "$LANES" -gt "${#suites[@]}" ] && LANES=${#suites[@]}

if [ "$LANES" -le 1 ]; then
	for s in "${suites[@]}"; do
		read -r kind name path var <<<"$s"
		suite_begin "$name"
		run_suite "$kind" "$path" "$var" 2>&1 | tee "$out"
		rc=${PIPESTATUS[0]}
		suite_end "$name"
		account "$kind" "$name" "$out" "$rc"
	done
else
	lanes_dir=$(mktemp -d)
	trap 'rm -f "$out"; rm -rf "$lanes_dir"' EXIT
	# The queue: suite indexes, the longest (by XT_DURATIONS) first; then
	# the suites that run alone.
	alone=()
	laned=()
	for i in "${!suites[@]}"; do
		read -r kind name path var <<<"${suites[$i]}"
		if [ "$kind" = shell ] && grep -q '^# xt-lanes: alone' "$path"; then
			alone+=("$i")
		else
			laned+=("$i")
		fi
	done
	for i in ${laned[@]+"${laned[@]}"}; do
		read -r kind name path var <<<"${suites[$i]}"
		est=-1
		if [ -n "${XT_DURATIONS:-}" ] && [ -r "$XT_DURATIONS" ]; then
			est=$(awk -v n="$name" '$1 == n { print $2; f = 1; exit }
				END { if (!f) print -1 }' "$XT_DURATIONS")
		fi
		# unknown: first; then by time, longest first; ties by order
		[ "$est" -lt 0 ] && est=1000000
		printf '%s %s\n' "$est" "$i"
	done | sort -k1,1nr -k2,2n -s | awk '{ print $2 }' >"$lanes_dir/queue"
	echo 0 >"$lanes_dir/next"
	echo "selftests: $((${#suites[@]} - ${#alone[@]})) suites in $LANES lanes," \
		"then ${#alone[@]} alone"
	lane_started=$SECONDS

	# take: the next queue entry's index, or nothing when the queue is
	# empty (one lane at a time, under the lock).
	take() {
		local n idx
		exec 8>>"$lanes_dir/lock"
		flock 8
		n=$(cat "$lanes_dir/next")
		idx=$(sed -n "$((n + 1))p" "$lanes_dir/queue")
		[ -n "$idx" ] && echo $((n + 1)) >"$lanes_dir/next"
		flock -u 8
		exec 8>&-
		echo "$idx"
	}
	lane() {
		local idx kind name path var t0 rc
		while idx=$(take) && [ -n "$idx" ]; do
			read -r kind name path var <<<"${suites[$idx]}"
			t0=$SECONDS
			run_suite "$kind" "$path" "$var" >"$lanes_dir/$idx.out" 2>&1
			rc=$?
			echo "$rc $((SECONDS - t0))" >"$lanes_dir/$idx.rc"
			# The whole block at once, not interleaved with another lane's.
			{
				flock 9
				echo "== $name"
				cat "$lanes_dir/$idx.out"
				echo "-- $name: $((SECONDS - t0)) s"
			} 9>>"$lanes_dir/print"
		done
	}
	pids=()
	for ((l = 0; l < LANES; l++)); do
		lane &
		pids+=($!)
	done
	wait "${pids[@]}"
	# The suites that run alone, one lane with the whole queue to itself.
	printf '%s\n' ${alone[@]+"${alone[@]}"} >"$lanes_dir/queue"
	echo 0 >"$lanes_dir/next"
	lane
	for i in "${!suites[@]}"; do
		read -r kind name path var <<<"${suites[$i]}"
		if [ -r "$lanes_dir/$i.rc" ]; then
			read -r rc dt <"$lanes_dir/$i.rc"
		else
			# its lane died: the suite did not run
			echo "== $name"
			echo "$name: did not run (its lane ended early)"
			rc=1 dt=0
			: >"$lanes_dir/$i.out"
		fi
		times+=("$dt $name")
		account "$kind" "$name" "$lanes_dir/$i.out" "$rc"
	done
	echo "selftests: $LANES lanes, $((SECONDS - lane_started)) s of wall time for" \
		"$(printf '%s\n' "${times[@]}" | awk '{ s += $1 } END { print s + 0 }') s of suites"
fi

if [ ${#times[@]} -gt 0 ]; then
	echo "slowest suites (s): $(printf '%s\n' "${times[@]}" | sort -rn | head -n 8 |
		awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 }')"
fi
if [ ${#failed_suites[@]} -gt 0 ]; then
	echo "failed suites: ${failed_suites[*]}"
fi
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
