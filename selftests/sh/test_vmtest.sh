#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# The VM runner (scripts/vmtest/run.sh) itself, with tiny guests whose
# /init only plays a part: a guest whose run passes or fails, one that
# panics, one that hangs, one that powers off without a result and one
# whose init dies.  The runner must pass only the passing guest, catch
# the hung one within its time bound, and print on the host exactly the
# summary lines the guest printed, the guest's total last.
#
# Each guest boots in a few seconds under TCG, but booting needs qemu and a
# Debian kernel package: this suite runs under `make vmtest-selftest` (and
# so `make vmtest`), which sets VMTEST_SELFTEST=1; elsewhere (make test,
# inside the guest) it skips.

. "$(dirname "$0")/lib.sh"

[ "${VMTEST_SELFTEST:-0}" = 1 ] ||
	xt_skip "boots qemu guests: run by 'make vmtest-selftest' (VMTEST_SELFTEST=1)"
xt_require_cmd qemu-system-x86_64 busybox cpio timeout

RUN="$XT_TOP/scripts/vmtest/run.sh"
TMP=$(mktemp -d)
xt_defer "rm -rf '$TMP'"
# Kernels are shared with `make vmtest`; images and logs are this test's.
export VMTEST_KCACHE="$XT_BUILD/vmtest/kernels" VMTEST_OUT="$TMP/out"
export VMTEST_SMP=1 VMTEST_MEM=256
unset TESTS VMTEST_CMD VMTEST_SKIP VMTEST_VERBOSE

# Fetch the kernel first (a fresh clone has none), so that apt's progress
# is not mixed into the runner's output the checks below compare.
if ! "$XT_TOP/scripts/vmtest/kernel.sh" "$VMTEST_KCACHE" "${KERNEL:-6.1}" \
	>/dev/null 2>"$TMP/kernel.log"; then
	xt_fail "fetch the guest kernel ${KERNEL:-6.1}"
	sed 's/^/    /' "$TMP/kernel.log"
	xt_done
fi

# guest NAME BODY: a tiny /init running BODY (busybox sh) after mounting
# /proc and /dev; say LINE writes to the console and the results port.
guest() {
	cat >"$TMP/$1" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
say() { echo "\$*"; echo "\$*" >/dev/ttyS1; }
say "XFSM-VMTEST: BEGIN kernel=\$(uname -r)"
$2
EOF
}

# vm NAME [TIMEOUT]: boot the guest; output in $OUT, status in $RC,
# seconds in $SECS.
vm() {
	local t0
	t0=$(date +%s)
	OUT=$(VMTEST_INIT="$TMP/$1" VMTEST_TIMEOUT=${2:-120} "$RUN" "$XT_BUILD" 2>&1)
	RC=$?
	SECS=$(($(date +%s) - t0))
	[ "$XT_VERBOSE" = 1 ] && printf '%s\n' "$OUT" | sed "s/^/    [$1] /"
	return 0
}

last_line() { printf '%s\n' "$OUT" | tail -n1; }

# ---- a passing guest: status 0, the guest's summary lines in order --------
guest pass '
say "== test_one"
say "noise that is not a summary"
say "100%: Checks: 4, Failures: 0, Errors: 0"
say "== test_two_sh"
say "PASS: something"
say "3 passed, 0 failed"
say "-- test_two_sh: 12 s"
say "== test_three_sh"
say "SKIP: needs a feature this kernel lacks"
say "0 passed, 0 failed"
say "selftests: 2 lanes, 12 s of wall time for 12 s of suites"
say "slowest suites (s): test_two_sh 12"
say "7 passed, 0 failed, 1 skipped"
say "XFSM-VMTEST: RESULT 0"
poweroff -f'
vm pass
xt_check "passing guest: vmtest exits 0" "$RC" -eq 0
xt_check "passing guest: total line last" "$(last_line)" = "7 passed, 0 failed, 1 skipped"
want='== test_one
100%: Checks: 4, Failures: 0, Errors: 0
== test_two_sh
3 passed, 0 failed
-- test_two_sh: 12 s
== test_three_sh
SKIP: needs a feature this kernel lacks
0 passed, 0 failed
selftests: 2 lanes, 12 s of wall time for 12 s of suites
slowest suites (s): test_two_sh 12
7 passed, 0 failed, 1 skipped'
got=$(printf '%s\n' "$OUT" | grep -v '^vmtest: ')
xt_check "passing guest: host prints exactly the guest's summary lines" "$got" = "$want"
[ "$got" = "$want" ] || diff <(echo "$want") <(echo "$got") | sed 's/^/    /'
xt_match "passing guest: the kernel is named" "guest [0-9]+\.[0-9]+[^ ]*-cloud-amd64: status 0" "$OUT"

# ---- a failing guest: its status, its counts -----------------------------
guest fail '
say "== test_bad_sh"
say "FAIL: something"
say "1 passed, 2 failed"
say "failed suites: test_bad_sh"
say "1 passed, 2 failed"
say "XFSM-VMTEST: RESULT 1"
poweroff -f'
vm fail
xt_check "failing guest: vmtest fails" "$RC" -ne 0
xt_check "failing guest: the guest's total line last" "$(last_line)" = "1 passed, 2 failed"
xt_match "failing guest: failed suites named" "^failed suites: test_bad_sh$" "$OUT"
xt_match "failing guest: console shown" "last lines of the guest console" "$OUT"

# ---- a guest that fails with a passing-looking total: status wins ----------
guest status '
cat /proc/cmdline
say "2 passed, 0 failed"
say "XFSM-VMTEST: RESULT 3"
poweroff -f'
TESTS="lib,loader ctl" vm status
xt_check "non-zero guest status with clean counts: vmtest fails" "$RC" -ne 0
xt_match "TESTS reaches the guest" "xfsm\.tests=lib,loader,ctl( |$)" "$OUT"

# ---- a panicking guest ---------------------------------------------------------
guest panic '
say "== test_panics"
echo c >/proc/sysrq-trigger
sleep 600'
vm panic 120
xt_check "panicking guest: vmtest fails" "$RC" -ne 0
xt_match "panicking guest: said so" "FAILED.*panicked" "$OUT"
xt_match "panicking guest: console shows the panic" "Kernel panic" "$OUT"
xt_check "panicking guest: caught at once, not by the time bound (${SECS}s)" "$SECS" -lt 100

# ---- a hung guest ------------------------------------------------------------------
guest hang '
say "== test_hangs"
say "1 passed, 0 failed"
sleep 100000'
vm hang 25
xt_check "hung guest: vmtest fails" "$RC" -ne 0
xt_match "hung guest: said so" "did not finish within 25 s" "$OUT"
xt_check "hung guest: stopped by the time bound (${SECS}s)" "$SECS" -lt 60
xt_check "hung guest: a partial total is not the closing line" "$(last_line)" = "0 passed, 1 failed"

# ---- a guest that powers off without a result ------------------------------------
guest noresult '
say "== test_x"
say "5 passed, 0 failed"
poweroff -f'
vm noresult
xt_check "no result line: vmtest fails" "$RC" -ne 0
xt_match "no result line: said so" "without a result line" "$OUT"

# ---- a guest whose init exits (the kernel panics: init killed) ------------------
guest initdies '
exit 0'
vm initdies
xt_check "init dies: vmtest fails" "$RC" -ne 0

xt_done
