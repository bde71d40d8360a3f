#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Run the libFuzzer targets of selftests/fuzz/ (built by `make fuzz-build`
# into BUILD/fuzz/).
#
#   run.sh smoke [BUILD]	replay each target's seed corpus, then fuzz it
#				for FUZZ_SMOKE_TIME seconds (default 4) into a
#				scratch corpus (a failing input is kept in
#				BUILD/fuzz/artifacts/smoke-TARGET/): `make test`
#				runs this
#   run.sh run [BUILD]		fuzz each target for FUZZ_TIME seconds
#				(default 300) on a working corpus in
#				BUILD/fuzz/corpus/TARGET, seeded from the
#				checked-in one; crashes go to BUILD/fuzz/artifacts/
#
# FUZZ_TARGETS=fuzz_lang,fuzz_acl limits the targets; FUZZ_FLAGS adds
# libFuzzer options to a run (-use_value_profile=1, -jobs=2, ...).  Seeds: the
# checked-in corpus selftests/fuzz/corpus/TARGET/ (regression inputs of
# past findings among them), plus the examples and the malformed-file
# corpus for the language.  Prints "N passed, N failed"; exit 0 only when
# every target ran clean.

set -u

MODE=${1:-smoke}
BUILD=${2:-build}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
export XFSM_BUILD="$BUILD" XFSM_SRC="$TOP"
# a finding must stop the run with a report, not hang on a leak report
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

targets="fuzz_lang fuzz_acl fuzz_pkt fuzz_spec_diff"
[ -n "${FUZZ_TARGETS:-}" ] && targets=${FUZZ_TARGETS//,/ }

# seeds TARGET: the corpus directories it starts from
seeds() {
	local dirs="$HERE/corpus/$1"
	[ "$1" = fuzz_lang ] && dirs="$dirs $TOP/examples $TOP/selftests/lang"
	echo "$dirs"
}

# options TARGET: what libFuzzer needs to know about it
options() {
	case $1 in
	fuzz_lang) echo "-dict=$HERE/fuzz_lang.dict -max_len=8192" ;;
	fuzz_acl) echo "-max_len=4096" ;;
	fuzz_pkt) echo "-max_len=1501" ;;
	fuzz_spec_diff) echo "-max_len=4096" ;;
	esac
}

passed=0
failed=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

for t in $targets; do
	bin="$BUILD/fuzz/$t"
	if [ ! -x "$bin" ]; then
		echo "FAIL: $t: $bin is missing (make fuzz-build)"
		failed=$((failed + 1))
		continue
	fi
	if { [ "$t" = fuzz_pkt ] || [ "$t" = fuzz_spec_diff ]; } && [ "$(id -u)" -ne 0 ]; then
		echo "FAIL: $t: needs root (BPF_PROG_TEST_RUN)"
		failed=$((failed + 1))
		continue
	fi
	# shellcheck disable=SC2046
	case $MODE in
	smoke)
		log="$scratch/$t.log"
		mkdir -p "$scratch/$t"
		if ! "$bin" $(options "$t") -runs=0 $(seeds "$t") >"$log" 2>&1; then
			echo "FAIL: $t: a seed input fails"
			tail -n 30 "$log"
			failed=$((failed + 1))
			continue
		fi
		# shellcheck disable=SC2046
		n=$(find $(seeds "$t") -maxdepth 1 -type f | wc -l)
		echo "PASS: $t: $n seed inputs replayed"
		passed=$((passed + 1))
		art="$BUILD/fuzz/artifacts/smoke-$t"
		mkdir -p "$art"
		if ! "$bin" $(options "$t") -max_total_time="${FUZZ_SMOKE_TIME:-4}" \
			-artifact_prefix="$art/" "$scratch/$t" $(seeds "$t") >"$log" 2>&1; then
			echo "FAIL: $t: fuzzing found a failure, input saved in $art/"
			tail -n 30 "$log"
			failed=$((failed + 1))
			continue
		fi
		echo "PASS: $t: $(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1) without a failure"
		passed=$((passed + 1))
		;;
	run)
		work="$BUILD/fuzz/corpus/$t"
		art="$BUILD/fuzz/artifacts/$t"
		mkdir -p "$work" "$art"
		echo "== $t: ${FUZZ_TIME:-300}s, corpus $work"
		log="$art/last-run.log"
		# The fuzzer's own status decides, not that of a pipe's last
		# command; its log is kept whole, its end shown.
		# shellcheck disable=SC2086
		"$bin" $(options "$t") ${FUZZ_FLAGS:-} -max_total_time="${FUZZ_TIME:-300}" -print_final_stats=1 \
			-artifact_prefix="$art/" "$work" $(seeds "$t") >"$log" 2>&1
		rc=$?
		tail -n 25 "$log"
		if [ "$rc" -eq 0 ]; then
			echo "PASS: $t"
			passed=$((passed + 1))
		else
			echo "FAIL: $t: failure saved in $art/, log $log (add it to selftests/fuzz/corpus/$t/ once fixed)"
			failed=$((failed + 1))
		fi
		;;
	*)
		echo "usage: $0 smoke|run [BUILD]" >&2
		exit 2
		;;
	esac
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
