# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# shellcheck shell=bash
#
# Kernel feature detection for the shell suites, so that a test which needs
# something an older kernel lacks reports itself skipped with the reason
# instead of failing (docs/testing.md, "Minimum kernel").  Source it after
# lib.sh:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$(dirname "$0")/features.sh"
#	xt_require_feature broadcast "the flood action"
#	xt_have_xdp_dispatcher || xt_log "no dispatcher: xfsm attaches alone"
#
# Each xt_have_* returns 0 when the feature is there; each xt_require_*
# skips the whole suite (exit 77) when it is not.  Features are asked of
# the kernel (xfsm-loader's probes), never read off its release number:
# distribution kernels carry backports.

# xt_have_feature NAME: xfsm-loader's own probe says the kernel has NAME
# (a name of `xfsm-loader features`: atomics, broadcast, dispatcher...).
xt_have_feature() {
	"${XT_BUILD:-build}/xfsm-loader" features -j 2>/dev/null |
		jq -e --arg n "$1" '.features[] | select(.name == $n) | .state == "yes"' >/dev/null
}

# xt_require_feature NAME WHAT: skip the suite unless the kernel has NAME,
# with the loader's own description of it.
xt_require_feature() {
	xt_have_feature "$1" && return 0
	xt_skip "this kernel ($(uname -r)) lacks '$1', needed for $2 (xfsm-loader features)"
}

# libxdp's dispatcher can work here: the kernel loads freplace programs
# (5.10, and a locked-down kernel refuses them with EPERM) that tail-call
# as the datapath's copy does.
xt_have_xdp_dispatcher() {
	xt_have_feature dispatcher
}

# xt_have_btf: the kernel describes itself with BTF (CO-RE, bpftool btf).
xt_have_btf() {
	[ -r /sys/kernel/btf/vmlinux ]
}

# xt_bpf_obj_loads OBJ: the verifier of this kernel accepts every program of
# the BPF object OBJ (loaded with bpftool into a scratch pin directory,
# removed again).  The first verifier complaint is left in $XT_BPF_REFUSAL.
XT_BPF_REFUSAL=
xt_bpf_obj_loads() {
	local obj=$1 dir out rc
	command -v bpftool >/dev/null 2>&1 || return 2
	xt_bpffs || return 2
	dir="/sys/fs/bpf/xt${XT_ID}-features-$RANDOM"
	out=$(bpftool prog loadall "$obj" "$dir" 2>&1)
	rc=$?
	rm -rf "$dir"
	if [ $rc -ne 0 ]; then
		# The verifier's complaint: the line before its "processed" line.
		XT_BPF_REFUSAL=$(printf '%s\n' "$out" | grep -B1 '^processed [0-9]* insns' |
			grep -v '^processed' | head -n1)
		return 1
	fi
	return 0
}

# xt_require_bpf_obj OBJ WHAT: skip unless this kernel's verifier accepts OBJ.
xt_require_bpf_obj() {
	xt_bpf_obj_loads "$1" && return 0
	xt_skip "this kernel ($(uname -r)) refuses $2 ($(basename "$1")): ${XT_BPF_REFUSAL:-see its verifier log}"
}
