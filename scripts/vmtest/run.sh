#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# `make vmtest`: run the selftests inside a qemu guest booting a Debian
# kernel (Debian 12's LTS 6.1 cloud kernel by default), then print on the
# host the suites' summary lines from the guest and exit with the guest's
# status.
#
# Usage: scripts/vmtest/run.sh [BUILD_DIR]
#
# Environment (all optional):
#   KERNEL=6.1		kernel: prefix or ABI name (see kernel.sh)
#   TESTS=pattern	run only these suites (as selftests/run.sh)
#   VMTEST_SKIP=a,b	suites not run in the guest (besides scripts/vmtest/skip)
#   VMTEST_TIMEOUT=3000	hard bound on the guest, seconds
#   VMTEST_MEM=2048	guest memory, MiB
#   VMTEST_SMP=2	guest CPUs
#   VMTEST_LANES=N	suites run at a time in the guest (default: VMTEST_SMP;
#			selftests/run.sh's XT_LANES)
#   VMTEST_DISPATCHER=all	every suite may use libxdp's dispatcher (default:
#			only the suites that test it; selftests/run.sh)
#   VMTEST_ACCEL=tcg	qemu accelerator (kvm only where it is known to work)
#   VMTEST_CPU=max,-erms,-fsrm	qemu's CPU model under TCG (see below)
#   VMTEST_INIT=file	boot a tiny initramfs with this /init instead of the
#			selftests (the runner's own tests)
#   VMTEST_CMD='cmd'	run this shell command in the guest (in /xfsm) instead
#			of the suites, e.g. to read a verifier log
#   VMTEST_OUT=dir	logs and images (default BUILD_DIR/vmtest)
#   VMTEST_KCACHE=dir	unpacked kernels (default BUILD_DIR/vmtest/kernels)
#   VMTEST_VERBOSE=1	print the guest's whole output, not only summaries
#
# Failure (exit status non-zero), with the tail of the console log shown:
# the guest's run failed; the guest panicked, hung past VMTEST_TIMEOUT or
# powered off without a RESULT line; qemu could not start.

set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BUILD=${1:-build}
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac

KERNEL=${KERNEL:-6.1}
TIMEOUT=${VMTEST_TIMEOUT:-3000}
MEM=${VMTEST_MEM:-2048}
SMP=${VMTEST_SMP:-2}
LANES=${VMTEST_LANES:-$SMP}
ACCEL=${VMTEST_ACCEL:-tcg}
OUT=${VMTEST_OUT:-$BUILD/vmtest}
case "$OUT" in /*) ;; *) OUT="$TOP/$OUT" ;; esac
mkdir -p "$OUT"

log() { echo "vmtest: $*"; }
die() {
	echo "vmtest: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

command -v qemu-system-x86_64 >/dev/null ||
	die "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"

KCACHE=${VMTEST_KCACHE:-$BUILD/vmtest/kernels}
KDIR=$("$HERE/kernel.sh" "$KCACHE" "$KERNEL") || die "no kernel '$KERNEL'"
KVER=$(cat "$KDIR/version")

# ---- the initramfs -------------------------------------------------------------
if [ -n "${VMTEST_INIT:-}" ]; then
	INITRD="$OUT/tiny-$KVER.cpio"
	"$HERE/mkinitramfs.sh" -t "$KDIR" "$VMTEST_INIT" "$INITRD" ||
		die "building the initramfs failed"
else
	for f in "$BUILD"/xfsm.bpf.o "$BUILD"/xfsm-loader "$BUILD"/xfsmctl; do
		[ -e "$f" ] || die "$f is missing: run make first"
	done
	INITRD="$OUT/initramfs-$KVER.cpio"
	"$HERE/mkinitramfs.sh" "$KDIR" "$HERE/init" "$INITRD" "$TOP" "$BUILD" ||
		die "building the initramfs failed"
fi

# Suites known not to run on this kernel, with the reason (scripts/vmtest/skip).
SKIP=${VMTEST_SKIP:-}
if [ -f "$HERE/skip" ]; then
	while read -r pat suite reason; do
		case "$pat" in '' | '#'*) continue ;; esac
		# shellcheck disable=SC2254
		case "$KVER" in $pat) SKIP="${SKIP:+$SKIP,}$suite"
			log "$suite not run on $KVER: $reason" ;;
		esac
	done <"$HERE/skip"
fi

# ---- boot ------------------------------------------------------------------------
CONSOLE="$OUT/console.log"
RESULTS="$OUT/results.log"
rm -f "$CONSOLE" "$RESULTS"
APPEND="console=ttyS0,115200 panic=-1 oops=panic softlockup_panic=1 loglevel=4"
APPEND="$APPEND mitigations=off nokaslr tsc=unstable rdinit=/init"
tests=${TESTS:-}
tests=${tests// /,}
[ -n "$tests" ] && APPEND="$APPEND xfsm.tests=$tests"
[ -n "$SKIP" ] && APPEND="$APPEND xfsm.skip=$SKIP"
[ "${XT_VERBOSE:-0}" = 1 ] && APPEND="$APPEND xfsm.verbose=1"
APPEND="$APPEND xfsm.lanes=$LANES"
[ -n "${VMTEST_DISPATCHER:-}" ] && APPEND="$APPEND xfsm.dispatcher=$VMTEST_DISPATCHER"

# Under TCG, every CPU feature but the fast string ones (ERMS, FSRM): with
# them the guest's kernel copies and clears memory with `rep movsb` and
# `rep stosb`, which TCG runs one byte per step; without them it moves 8
# bytes at a time.  The verifier copies its states all the time: a
# datapath load took 1.5 times the CPU time with them (docs/testing.md).
# shellcheck disable=SC2054	# "tcg,thread=multi" is one qemu argument
case "$ACCEL" in
kvm) ACCEL_ARGS=(-accel kvm -cpu host) ;;
*) ACCEL_ARGS=(-accel tcg,thread=multi -cpu "${VMTEST_CPU:-max,-erms,-fsrm}") ;;
esac

log "booting $KVER ($ACCEL, $SMP CPUs, $MEM MiB, at most $TIMEOUT s); console: $CONSOLE"
t0=$(date +%s)
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 "${ACCEL_ARGS[@]}" \
	-m "$MEM" -smp "$SMP" -nodefaults -no-reboot -display none \
	-kernel "$KDIR/vmlinuz" -initrd "$INITRD" -append "$APPEND" \
	-chardev "file,id=con,path=$CONSOLE" -serial chardev:con \
	-chardev "file,id=res,path=$RESULTS" -serial chardev:res \
	</dev/null >"$OUT/qemu.log" 2>&1
qrc=$?
t1=$(date +%s)
touch "$CONSOLE" "$RESULTS"

# Console tail for every failure: what the guest was doing when it ended.
show_console() {
	echo "---- last lines of the guest console ($CONSOLE) ----"
	tr -d '\r' <"$CONSOLE" | tail -n "${VMTEST_TAIL:-60}"
	echo "---- end of console ----"
	[ -s "$OUT/qemu.log" ] && { echo "qemu:"; sed 's/^/    /' "$OUT/qemu.log"; }
}

res=$(tr -d '\r' <"$RESULTS")
status=$(sed -n 's/^XFSM-VMTEST: RESULT \([0-9][0-9]*\)$/\1/p' <<<"$res" | tail -n1)
gtime=$(sed -n 's/^XFSM-VMTEST: DURATION \([0-9][0-9]*\)$/\1/p' <<<"$res" | tail -n1)

if [ "${VMTEST_VERBOSE:-0}" = 1 ]; then
	sed -n '/^XFSM-VMTEST: BEGIN/,/^XFSM-VMTEST: RESULT/p' <<<"$res"
fi

# The guest's summary lines, as `make test` prints them: each suite's name,
# its Check or shell summary, skip reason and time, then the total line
# last.
summaries() {
	grep -E -e '^== ' -e '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' \
		-e '^[0-9]+ passed, [0-9]+ failed' -e '^SKIP' -e '^failed suites:' \
		-e '^-- [a-z_0-9-]+: [0-9]+ s$' -e '^slowest suites' -e '^selftests: [0-9]+ lanes' \
		-e '^[a-z_0-9]+: no Check summary' <<<"$res"
}

reason=""
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	reason="the guest did not finish within $TIMEOUT s (hung): killed"
elif [ -z "$status" ]; then
	if grep -q 'Kernel panic' "$CONSOLE"; then
		reason="the guest kernel panicked"
	elif ! grep -q '^XFSM-VMTEST: BEGIN' <<<"$res"; then
		reason="the guest never started its run (qemu exit status $qrc)"
	else
		reason="the guest ended without a result line (qemu exit status $qrc)"
	fi
fi

if [ -n "$reason" ]; then
	summaries
	show_console
	log "FAILED on $KVER after $((t1 - t0)) s: $reason"
	echo "0 passed, 1 failed"
	exit 1
fi

# Every summary line but the guest's total, which closes the output.
lines=$(summaries)
total=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$lines" | tail -n1)
if [ -n "$lines" ]; then
	awk -v t="$total" '{ a[NR] = $0 } END {
		last = 0
		for (i = NR; i > 0; i--) if (a[i] == t) { last = i; break }
		for (i = 1; i <= NR; i++) if (i != last) print a[i] }' <<<"$lines"
fi
log "guest $KVER: status $status; run ${gtime:-?} s, boot to power-off $((t1 - t0)) s"
# Each suite's time, for the next run's lanes (scripts/vmtest/durations
# holds the list the tree ships).
grep -E '^-- [a-z_0-9-]+: [0-9]+ s$' <<<"$res" | awk '{ sub(":", "", $2); print $2, $3 }' \
	>"$OUT/durations"
if [ "$status" -ne 0 ]; then
	show_console
	log "FAILED on $KVER: the guest's run exited with status $status"
fi
if [ -n "$total" ]; then
	echo "$total"
elif [ -n "${VMTEST_CMD:-}" ]; then
	log "VMTEST_CMD exited with status $status"
else
	log "the guest printed no total line"
	[ "$status" -eq 0 ] && status=1
	echo "0 passed, 1 failed"
fi
exit "$status"
