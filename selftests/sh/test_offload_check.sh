#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsm-offload-check against the objects in selftests/offload/: the clean
# object passes, and every bad_*.bpf.c is rejected with the message for its
# violation class and exactly the expected number of violations (so a
# false positive fails the test as surely as a miss).  As root, it also
# loads every object into the running kernel: the checker's verdicts are
# about programs the verifier accepts, not about broken ones.

. "$(dirname "$0")/lib.sh"

CHECK="$XT_BUILD/xfsm-offload-check"
OBJS="$XT_BUILD/selftests/offload"

xt_require_cmd make clang
make -s -C "$XT_TOP" BUILD="$XT_BUILD" "$CHECK" offload-test-objs ||
	{ xt_fail "make offload-test-objs"; xt_done; }

# run OBJ...: sets $out (stdout and stderr) and $rc.
run() {
	out=$("$CHECK" "$@" 2>&1)
	rc=$?
}

# expect_ok NAME MAPS: NAME.bpf.o passes and reports MAPS maps.
expect_ok() {
	local name=$1 maps=$2
	run "$OBJS/$name.bpf.o"
	xt_check "$name: exit 0" "$rc" -eq 0 || printf '%s\n' "$out" | sed 's/^/    /'
	xt_match "$name: OK line" \
		"^$OBJS/$name\.bpf\.o: offload profile OK \([0-9]+ insns, $maps maps\)$" "$out"
	xt_check "$name: no violation lines" \
		"$(printf '%s\n' "$out" | grep -c 'not allowed')" -eq 0
}

# expect_bad NAME COUNT REGEX...: NAME.bpf.o fails with exactly COUNT
# violations, and every REGEX matches a line of the report.
expect_bad() {
	local name=$1 count=$2 re s
	shift 2
	run "$OBJS/$name.bpf.o"
	xt_check "$name: exit 1" "$rc" -eq 1 || printf '%s\n' "$out" | sed 's/^/    /'
	[ "$count" -eq 1 ] && s="" || s="s"
	xt_match "$name: $count violation$s" \
		"^$OBJS/$name\.bpf\.o: $count violation$s of the offload profile$" "$out"
	for re in "$@"; do
		xt_match "$name: /$re/" "^$OBJS/$name\.bpf\.o: $re" "$out"
	done
	xt_check "$name: no OK line" \
		"$(printf '%s\n' "$out" | grep -c 'offload profile OK')" -eq 0
}

NA=", not allowed in the offload profile"
STORE="stores directly into a value of map"

# ---- the clean object ------------------------------------------------------
expect_ok ok 3
run "$OBJS/ok.bpf.o"
xt_match "ok: .rodata noted as libbpf global data" \
	"note: map [^ ]*\.rodata is libbpf global data" "$out"
xt_match "ok: .rodata address use noted" \
	"note: subprog mark_packet insn [0-9]+ addresses global data in \.rodata directly" "$out"
expect_ok ok_stack_var 1

# ---- maps ------------------------------------------------------------------
expect_bad bad_percpu_map 1 "map pcpu_stats: type percpu_array \(6\)$NA"
expect_bad bad_lru_map 1 "map lru_flows: type lru_hash \(9\)$NA"
expect_bad bad_no_prealloc 1 \
	"map sparse_flows: map_flags 0x1 \(BPF_F_NO_PREALLOC\)$NA"

# ---- helpers and calls -----------------------------------------------------
expect_bad bad_redirect_map 2 \
	"prog bad_prog insn [0-9]+: calls helper bpf_redirect_map \(51\)$NA$" \
	"map tx_ports: type devmap \(14\)$NA"
expect_bad bad_spin_lock 2 \
	"prog bad_prog insn [0-9]+: calls helper bpf_spin_lock \(93\)$NA$" \
	"prog bad_prog insn [0-9]+: calls helper bpf_spin_unlock \(94\)$NA$"
expect_bad bad_tail_call 2 \
	"prog bad_prog insn [0-9]+: calls helper bpf_tail_call \(12\)$NA$" \
	"map jump_table: type prog_array \(3\)$NA"
expect_bad bad_ktime 1 \
	"prog bad_prog insn [0-9]+: calls helper bpf_ktime_get_ns \(5\)$NA$"
expect_bad bad_kfunc 2 \
	"prog bad_prog insn 0: calls kfunc bpf_rcu_read_lock$NA$" \
	"prog bad_prog insn 1: calls kfunc bpf_rcu_read_unlock$NA$"

# ---- arithmetic and atomics -------------------------------------------------
expect_bad bad_div_reg 2 \
	"prog bad_prog insn [0-9]+: divides by a register \(r[0-9] /= r[0-9]\)$NA"
expect_bad bad_mod_reg 1 \
	"prog bad_prog insn [0-9]+: takes a modulo by a register \(r1 %= r2\)$NA"
expect_bad bad_atomic_xchg 2 \
	"prog bad_prog insn [0-9]+: atomic or on \*\(u64 \*\)\(r[0-9] \+0\)$NA" \
	"prog bad_prog insn [0-9]+: atomic xchg on \*\(u64 \*\)\(r[0-9] \+0\)$NA"

# ---- direct stores into map values ----------------------------------------
expect_bad bad_map_store 1 \
	"prog bad_prog insn [0-9]+: $STORE flows \(\*\(u32 \*\)\(r[0-9] \+8\) = r[0-9]\)$NA"
expect_bad bad_map_store_subprog 1 \
	"subprog set_state insn 0: $STORE flows \(\*\(u32 \*\)\(r1 \+8\) = r2\)$NA"
expect_bad bad_map_store_spill 1 \
	"prog bad_prog insn [0-9]+: $STORE regs \(\*\(u64 \*\)\(r2 \+0\) = r1\)$NA"
expect_bad bad_map_store_ctx 1 \
	"subprog apply_state insn [0-9]+: $STORE flows \(\*\(u32 \*\)\(r[0-9] \+8\) = r[0-9]\)$NA"
expect_bad bad_map_store_ret 1 \
	"prog bad_prog insn [0-9]+: $STORE regs \(\*\(u64 \*\)\(r0 \+0\) = r[0-9]\)$NA"
expect_bad bad_map_store_stack_ptr 2 \
	"prog bad_const_off insn [0-9]+: $STORE regs \(\*\(u64 \*\)\(r3 \+0\) = r1\)$NA" \
	"prog bad_two_offs insn [0-9]+: may store directly into a value of map regs"
expect_bad bad_global_store 1 \
	"prog bad_prog insn [0-9]+: stores directly into global data in \.bss \(a map value\)"

# ---- every object here has a case above -----------------------------------
for src in "$XT_TOP"/selftests/offload/*.bpf.c; do
	name=$(basename "$src" .bpf.c)
	xt_check "$name: has a test case" \
		"$(grep -cE "^expect_(ok|bad) $name( |$)" "$0")" -eq 1
done

# ---- the kernel verifier accepts every object ------------------------------
if [ "$(id -u)" -eq 0 ] && command -v bpftool >/dev/null && xt_bpffs 2>/dev/null; then
	xt_pin_dir objs
	pins=$XT_PIN
	for obj in "$OBJS"/*.bpf.o; do
		name=$(basename "$obj" .bpf.o)
		rm -rf "$pins"
		xt_ok "$name: loads in the running kernel" \
			bpftool prog loadall "$obj" "$pins"
	done
	rm -rf "$pins"
else
	xt_log "not root or no bpftool/bpffs: kernel load checks skipped"
fi

# ---- command line ----------------------------------------------------------
run "$OBJS/ok.bpf.o" "$OBJS/bad_ktime.bpf.o"
xt_check "ok + bad: exit 1" "$rc" -eq 1
xt_match "ok + bad: both reported" "bpf_ktime_get_ns" "$out"
run -q "$OBJS/ok.bpf.o"
xt_check "-q ok: exit 0, silent" "$rc:$out" = "0:"
run -q "$OBJS/bad_ktime.bpf.o"
xt_check "-q bad: exit 1" "$rc" -eq 1
xt_match "-q bad: violation printed" "calls helper bpf_ktime_get_ns" "$out"
run "$OBJS/does-not-exist.bpf.o"
xt_check "missing object: exit 2" "$rc" -eq 2
run "$0"
xt_check "not an ELF object: exit 2" "$rc" -eq 2
run
xt_check "no argument: exit 2" "$rc" -eq 2

xt_done
