#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Fuzzing as a habit: every libFuzzer target (selftests/fuzz/) replays its
# checked-in corpus (seeds and the regression inputs of past findings)
# and fuzzes a few seconds, under ASan and UBSan (selftests/fuzz/run.sh
# smoke; about 30 s in all).  `make test` builds the targets and requires
# them (XFSM_FUZZ_REQUIRED=1); elsewhere (the VM guest) a build without
# them skips.

. "$(dirname "$0")/lib.sh"

xt_require_root
if [ ! -x "$XT_BUILD/fuzz/fuzz_lang" ] && [ "${XFSM_FUZZ_REQUIRED:-0}" != 1 ]; then
	xt_skip "the fuzz targets are not built (make fuzz-build needs clang's libFuzzer)"
fi
xt_require_file "$XT_BUILD/xfsm.bpf.o"
out=$("$XT_TOP/selftests/fuzz/run.sh" smoke "$XT_BUILD" 2>&1)
rc=$?
printf '%s\n' "$out" | grep -E '^(PASS|FAIL): ' | while read -r line; do echo "$line"; done
line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
XT_PASS=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
XT_FAIL=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
: "${XT_PASS:=0}" "${XT_FAIL:=1}"
if [ $rc -ne 0 ]; then
	printf '%s\n' "$out" | grep -vE '^(PASS|FAIL): ' | tail -n 40
	[ "$XT_FAIL" -eq 0 ] && XT_FAIL=1
fi
xt_done
