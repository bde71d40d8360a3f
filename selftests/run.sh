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

# ---- Check suites -----------------------------------------------------------
# run_check BIN LABEL: one Check suite, its summary line added to the totals.
run_check() {
	local bin=$1 name=$2 line checks fails errs rc
	suite_begin "$name"
	"$bin" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	suite_end "$name"
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
}

for bin in "$BUILD"/selftests/test_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name=$(basename "$bin")
	selected "$name" || continue
	skip_for_kernel "$name" && continue
	run_check "$bin" "$name"
done

# The golden-packet tables once more with every application on its
# specialized program (XT_DATAPATH, selftests/harness/bpf.c: xt_apply()
# then requires it): the same expectations check the generated code
# (issue 17, docs/testing.md).  XT_SPEC_GOLDEN=0 leaves them out; auto
# (the default) lets a table whose application the specializer refuses
# (a construct it does not generate yet: docs/specializer.md) run generic,
# its reason printed; =1 requires every table specialized, and runs them
# also under emulation (the VM guest, XT_EMULATED), where each suite's
# datapath loads cost minutes of the CI's budget: there the host's run
# covers them.  (test_spec_diff requires most examples specialized, so a
# specializer that refuses everything cannot pass unnoticed.)
SPEC_GOLDEN="test_xfsm test_actions test_parser test_group test_fib test_offload_golden"
spec_golden=${XT_SPEC_GOLDEN:-auto}
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
		XT_DATAPATH=$spec_dp run_check "$bin" "$name-specialized"
	done
fi

# ---- shell suites -------------------------------------------------------------
for sh in "$HERE"/sh/test_*.sh; do
	[ -f "$sh" ] || continue
	name=$(basename "$sh" .sh)
	selected "$name" || continue
	skip_for_kernel "$name" && continue
	suite_begin "$name"
	bash "$sh" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	suite_end "$name"
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
done

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
