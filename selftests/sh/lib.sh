# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Shared helpers for the shell selftests: network namespaces joined by veth
# pairs, bpffs, trap-based cleanup, skip/pass/fail bookkeeping.
#
# Usage (from selftests/sh/test_foo.sh):
#
#	. "$(dirname "$0")/lib.sh"
#	xt_require_root
#	xt_require_cmd ip ping
#	xt_netns_add A; xt_netns_add B		# names in $XT_NS_A, $XT_NS_B
#	xt_veth A a0 198.18.1.1/24 B b0 198.18.1.2/24
#	xt_in B "$XT_BUILD"/xfsm-loader load --mode skb b0
#	xt_ok "ping A->B" xt_in A ping -c1 -W2 198.18.1.2
#	xt_done				# prints "N passed, N failed", exits
#
# Conventions:
#  - every name is unique to the test process: netns "xt<pid>-<tag>";
#    veth names are chosen by the caller but live only inside the test's
#    namespaces, so they never clash with other tests;
#  - everything created is registered with xt_defer and removed by the EXIT
#    trap in reverse order, also when the test fails or is interrupted;
#  - xt_in runs a command in a namespace with `nsenter --net`, which keeps
#    the caller's mount namespace: bpffs pins made there outlive the command
#    (`ip netns exec` would re-mount /sys and lose them).  Use xt_in_ipns to
#    get `ip netns exec` semantics on purpose;
#  - exit 0: all passed, 1: a failure, 77: skipped.
#
# Addresses: only 198.18.0.0/15 and 2001:2::/48 (benchmarking ranges).

XT_PASS=0
XT_FAIL=0
XT_ID=$$
XT_CLEANUP=()
XT_NAME=$(basename "${0%.sh}")
XT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
XT_TOP=$(cd "$XT_DIR/../.." && pwd)
# The ABI version the tree's datapath and tools speak (include/xfsm/abi.h).
XT_ABI=$(sed -n 's/^#define XFSM_ABI_VERSION[[:space:]]*\([0-9]*\).*/\1/p' "$XT_TOP/include/xfsm/abi.h")
: "${XT_BUILD:=${BUILD:-$XT_TOP/build}}"
case "$XT_BUILD" in /*) ;; *) XT_BUILD="$XT_TOP/$XT_BUILD" ;; esac
: "${XT_VERBOSE:=0}"
XT_PY=$(command -v /usr/bin/python3 || command -v python3)

# ---- messages ------------------------------------------------------------

xt_log()  { echo "[$XT_NAME] $*"; }
xt_info() { [ "$XT_VERBOSE" = 1 ] && echo "[$XT_NAME] $*"; return 0; }

xt_pass() {
	XT_PASS=$((XT_PASS + 1))
	echo "PASS: $*"
}

xt_fail() {
	XT_FAIL=$((XT_FAIL + 1))
	echo "FAIL: $*"
}

# xt_ok DESC CMD...: CMD must succeed.  Its output is shown on failure.
xt_ok() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		xt_pass "$desc"
		[ "$XT_VERBOSE" = 1 ] && [ -n "$out" ] && printf '%s\n' "$out"
		return 0
	fi
	xt_fail "$desc (exit $rc: $*)"
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    /'
	return 1
}

# xt_nok DESC CMD...: CMD must fail (non-zero exit).
xt_nok() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		xt_pass "$desc"
		return 0
	fi
	xt_fail "$desc (unexpectedly succeeded: $*)"
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    /'
	return 1
}

# xt_fails_with DESC REGEX CMD...: CMD must fail (non-zero exit) and say
# REGEX (extended) on stderr.
xt_fails_with() {
	local desc=$1 re=$2 out rc
	shift 2
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	xt_check "$desc: non-zero exit" $rc -ne 0
	xt_match "$desc: message" "$re" "$out"
}

# xt_check DESC EXPR...: evaluate a test(1) expression, e.g.
#	xt_check "port is 1" "$port" = 1
xt_check() {
	local desc=$1
	shift
	if [ "$@" ]; then
		xt_pass "$desc"
		return 0
	fi
	xt_fail "$desc ([ $* ])"
	return 1
}

# xt_match DESC REGEX TEXT: TEXT must match the extended REGEX.
xt_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		xt_pass "$1"
		return 0
	fi
	xt_fail "$1 (no match for /$2/)"
	printf '%s\n' "$3" | sed 's/^/    /'
	return 1
}

# Print the summary and exit with the suite's status.
xt_done() {
	echo "$XT_PASS passed, $XT_FAIL failed"
	[ "$XT_FAIL" -eq 0 ] && exit 0
	exit 1
}

xt_skip() {
	echo "SKIP: $*"
	echo "$XT_PASS passed, $XT_FAIL failed"
	exit 77
}

xt_require_root() {
	[ "$(id -u)" -eq 0 ] || xt_skip "must be run as root"
}

xt_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || xt_skip "missing command: $c"
	done
}

xt_require_file() {
	local f
	for f in "$@"; do
		[ -e "$f" ] || xt_skip "missing $f (run make first)"
	done
}

# ---- cleanup ---------------------------------------------------------------

# xt_defer CMD...: run CMD (as one eval'd string) at exit, last in first out.
xt_defer() {
	XT_CLEANUP+=("$*")
}

# xt_tmpdir VAR: a new temporary directory in VAR, removed at exit.
xt_tmpdir() {
	local d
	d=$(mktemp -d) || { xt_fail "mktemp -d"; xt_done; }
	printf -v "$1" '%s' "$d"
	xt_defer "rm -rf '$d'"
}

xt_cleanup() {
	local i
	trap - EXIT INT TERM
	for ((i = ${#XT_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${XT_CLEANUP[$i]}" >/dev/null 2>&1
	done
	XT_CLEANUP=()
}

xt_on_signal() {
	xt_fail "interrupted"
	xt_cleanup
	echo "$XT_PASS passed, $XT_FAIL failed"
	exit 1
}

trap xt_cleanup EXIT
trap xt_on_signal INT TERM

# ---- namespaces and veth ------------------------------------------------

# xt_netns_add TAG: create netns "xt<pid>-TAG", export its name as
# $XT_NS_<TAG>, bring lo up and register its deletion (which also
# destroys every veth inside it, and with them their XDP programs).
xt_netns_add() {
	local tag=$1 ns="xt${XT_ID}-$1"
	ip netns add "$ns" || { xt_fail "ip netns add $ns"; return 1; }
	xt_defer "ip netns del '$ns'"
	ip -n "$ns" link set lo up
	# No DAD delays: IPv6 addresses are usable at once.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 2>/dev/null
	eval "XT_NS_$tag=\$ns"
}

# Name of the namespace of TAG (or TAG itself if it is already a name).
xt_ns() {
	local v="XT_NS_$1"
	if [ -n "${!v:-}" ]; then echo "${!v}"; else echo "$1"; fi
}

# xt_in TAG CMD...: run CMD in the namespace, keeping this mount namespace.
xt_in() {
	local ns
	ns=$(xt_ns "$1")
	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# xt_in_ipns TAG CMD...: `ip netns exec` (fresh /sys, no bpffs inside).
xt_in_ipns() {
	local ns
	ns=$(xt_ns "$1")
	shift
	ip netns exec "$ns" "$@"
}

# xt_veth TAG1 IF1 ADDR1 TAG2 IF2 ADDR2: a veth pair between two
# namespaces, both ends up; ADDR may be "-" for none, or a
# space-separated list ("198.18.1.1/24 2001:2:0:1::1/64").
xt_veth() {
	local ns1 ns2 a
	ns1=$(xt_ns "$1")
	ns2=$(xt_ns "$4")
	ip link add "$2" netns "$ns1" type veth peer name "$5" netns "$ns2" ||
		return 1
	for a in $3; do
		[ "$a" = - ] || ip -n "$ns1" addr add "$a" dev "$2" nodad 2>/dev/null ||
			ip -n "$ns1" addr add "$a" dev "$2"
	done
	for a in $6; do
		[ "$a" = - ] || ip -n "$ns2" addr add "$a" dev "$5" nodad 2>/dev/null ||
			ip -n "$ns2" addr add "$a" dev "$5"
	done
	ip -n "$ns1" link set "$2" up && ip -n "$ns2" link set "$5" up
}

# ---- bpffs ---------------------------------------------------------------

# Make sure /sys/fs/bpf is a bpffs in this mount namespace.
xt_bpffs() {
	[ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" = bpf_fs ] && return 0
	mkdir -p /sys/fs/bpf 2>/dev/null
	mount -t bpf bpf /sys/fs/bpf
}

# xt_pin_dir TAG: a unique pin directory (not created) in $XT_PIN, removed
# at exit.  It sets a variable rather than printing the name: called as
# $(xt_pin_dir ...), its cleanup would be registered in the subshell.
xt_pin_dir() {
	XT_PIN="/sys/fs/bpf/xt${XT_ID}-$1"
	xt_defer "rm -rf '$XT_PIN'"
}

# ---- XDP programs on an interface -----------------------------------------

# xt_xdp_progs TAG IF: "NAME ID" of each XDP program IF runs in TAG's
# namespace, one per line: the program attached directly or, behind
# libxdp's multi-program dispatcher, "xdp_dispatcher ID" followed by its
# components (from libxdp's pins, /sys/fs/bpf/xdp/dispatch-IFINDEX-ID/).
xt_xdp_progs() {
	local link id name ifindex pin
	link=$(ip -n "$(xt_ns "$1")" -j link show "$2" 2>/dev/null) || return 0
	id=$(jq -r '.[0].xdp.prog.id // .[0].xdp.progs[0].id // empty' <<<"$link")
	[ -n "$id" ] || return 0
	name=$(bpftool -j prog show id "$id" 2>/dev/null | jq -r '.name // empty')
	echo "${name:-?} $id"
	[ "$name" = xdp_dispatcher ] || return 0
	ifindex=$(jq -r '.[0].ifindex' <<<"$link")
	for pin in /sys/fs/bpf/xdp/dispatch-"$ifindex"-"$id"/prog*-prog; do
		[ -e "$pin" ] || continue
		bpftool -j prog show pinned "$pin" 2>/dev/null | jq -r '"\(.name) \(.id)"'
	done
}

# xt_xfsm_prog_id TAG IF: id of the xfsm program IF enters: the generic
# datapath (xfsm_xdp), attached directly or as a dispatcher component, or
# a slot's generated program (xfsm_spec_sN) attached directly in its place
# (docs/specializer.md); empty when none is.
xt_xfsm_prog_id() {
	xt_xdp_progs "$1" "$2" | awk '$1 == "xfsm_xdp" || $1 ~ /^xfsm_spec_s[0-9]+$/ { print $2; exit }'
}

# A BPF map value as bpftool -j prints it (hex bytes, or a number with
# BTF) from offset OFF, LEN bytes, little-endian, as a number.
xt_bpf_num() {
	jq -r --argjson off "${1:-0}" --argjson len "${2:-4}" '
		def hex: ltrimstr("0x") | ascii_downcase | explode |
			reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end));
		if type == "array" then (.[$off:$off + $len] | reverse | reduce .[] as $b (0; . * 256 + ($b | hex)))
		else . end'
}

# xt_progs_entry DIR KEY: the program id in entry KEY of the xfsm_progs
# pinned in DIR, "" when empty.
xt_progs_entry() {
	bpftool -j map lookup pinned "$1/xfsm_progs" key "$2" 0 0 0 2>/dev/null |
		jq -c '.value' | xt_bpf_num 0 4
}

# xt_xfsm_should_run DIR: the program the ports of the instance pinned in
# DIR run where the datapath is attached plainly: the active slot's
# generated program (xfsm_progs[active]), else the generic one
# (xfsm_progs[2]).
xt_xfsm_should_run() {
	local active id
	active=$(bpftool -j map lookup pinned "$1/xfsm_ctl" key 0 0 0 0 2>/dev/null |
		jq -c '.formatted.value.active // .value' | xt_bpf_num 0 4)
	id=$(xt_progs_entry "$1" "$active")
	[ -n "$id" ] || id=$(xt_progs_entry "$1" 2)
	echo "$id"
}

# ---- traffic -------------------------------------------------------------

# xt_wait_udp TAG WHERE [SECONDS] / xt_wait_tcp TAG WHERE [SECONDS]: wait
# until a socket in TAG's namespace is bound to (UDP) or listens on (TCP)
# WHERE, a port ("7300") or an address and port ("198.18.0.2:22",
# "[2001:2::1]:22"), at most SECONDS (default 10).  A receiver started in
# the background is ready only then: a fixed sleep loses the first packets
# on a loaded or emulated machine, where starting the interpreter alone can
# take seconds.
xt_wait_sock() {
	local tag=$1 opt=$2 where=$3 secs=$4 filter i
	case $where in
	*[!0-9]*) filter="src $where" ;;
	*) filter="sport = :$where" ;;
	esac
	for ((i = 0; i < secs * 20; i++)); do
		# shellcheck disable=SC2086 # the filter is ss's own words
		xt_in "$tag" ss -H -n "$opt" $filter 2>/dev/null | grep -q . &&
			return 0
		sleep 0.05
	done
	xt_log "nothing bound to $where ($opt) in $tag after ${secs}s"
	return 1
}
xt_wait_udp() { xt_wait_sock "$1" -lun "$2" "${3:-10}"; }
xt_wait_tcp() { xt_wait_sock "$1" -ltn "$2" "${3:-10}"; }

# xt_ping TAG ADDR: one ICMP echo answered (IPv4 or IPv6).
xt_ping() {
	xt_in "$1" ping -q -c 1 -W 2 "$2" >/dev/null 2>&1 ||
	xt_in "$1" ping -q -c 2 -W 2 "$2" >/dev/null 2>&1
}

# xt_udp CTAG STAG ADDR PORT: a datagram from CTAG reaches a listener in
# STAG and the listener's reply comes back.
xt_udp() {
	local msg="xt-udp-$XT_ID-$RANDOM" out
	xt_in "$2" timeout 5 "$XT_PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
d, a = s.recvfrom(2048)
s.sendto(b"re:" + d, a)
' "$3" "$4" &
	local srv=$!
	out=$(xt_in "$1" timeout 5 "$XT_PY" -c '
import socket, sys, time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(0.5)
for i in range(8):
    s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
    try:
        print(s.recv(2048).decode()); break
    except socket.timeout:
        pass
' "$3" "$4" "$msg")
	wait "$srv" 2>/dev/null
	[ "$out" = "re:$msg" ]
}

# xt_tcp CTAG STAG ADDR PORT: a TCP connection from CTAG to a listener in
# STAG carries data both ways.
xt_tcp() {
	local msg="xt-tcp-$XT_ID-$RANDOM" out
	xt_in "$2" timeout 5 "$XT_PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
c, a = s.accept()
d = c.recv(2048)
c.sendall(b"re:" + d)
c.close()
' "$3" "$4" &
	local srv=$!
	out=$(xt_in "$1" timeout 5 "$XT_PY" -c '
import socket, sys, time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
for i in range(20):
    try:
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
        break
    except (ConnectionRefusedError, socket.timeout):
        time.sleep(0.1)
s.sendall(sys.argv[3].encode())
print(s.recv(2048).decode())
' "$3" "$4" "$msg")
	wait "$srv" 2>/dev/null
	[ "$out" = "re:$msg" ]
}
