#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# The xfsm demo: port knocking in a sandbox of two network namespaces.
# A client knocks on UDP 1111, 2222, 3333, 4444; only then does the server's
# XDP datapath let its TCP port 22 through.
#
# Every step is checked: one that fails stops the demo with a message
# naming it and exit status 1, instead of going on with results that mean
# nothing.  Everything the demo creates (namespaces, the instance, the
# listener and any other process it started) is removed on exit, also on
# failure and on Ctrl-C.  Both namespaces are entered with nsenter, which
# works where `ip netns exec` cannot remount /sys (a chroot whose root is
# not a mount point).
set -u
set -o pipefail

BUILD=${1:-build}
TAG="xfsm-demo-$$"
CLI="${TAG}-c"
SRV="${TAG}-s"
INST="demo$$"
CLIENT_IP=198.18.0.1
SERVER_IP=198.18.0.2
LOADER="$BUILD/xfsm-loader"
CTL="$BUILD/xfsmctl"
PIDS=()			# processes the demo started in the background
NETNS=()		# namespaces it created
LOADED=

say()  { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die()  { printf '\ndemo: %s\n' "$*" >&2; exit 1; }
srv()  { nsenter --net="/run/netns/$SRV" "$@"; }
cli()  { nsenter --net="/run/netns/$CLI" "$@"; }
# Show a server command as it would be typed in the server's namespace.
srun() { printf 'server# %s\n' "$*"; srv "$@"; }

# step WHAT CMD...: run CMD; if it fails, stop the demo saying WHAT failed
# and what CMD printed.
step() {
	local what=$1 out
	shift
	if ! out=$("$@" 2>&1); then
		[ -n "$out" ] && printf '%s\n' "$out" >&2
		die "$what failed: $*"
	fi
	[ -n "$out" ] && printf '%s\n' "$out"
	return 0
}

cleanup() {
	local pid ns
	trap - EXIT INT TERM
	say "cleaning up"
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	[ -n "$LOADED" ] && srv "$LOADER" unload --instance "$INST" >/dev/null 2>&1
	for ns in "${NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	echo "removed namespaces ${NETNS[*]:-(none)}, instance $INST, ${#PIDS[@]} background process(es)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: must run as root (it creates network namespaces and attaches XDP)" >&2
	exit 1
fi
for b in "$LOADER" "$CTL"; do
	[ -x "$b" ] || { echo "demo: $b is missing; run 'make' first" >&2; exit 1; }
done
for c in ip nsenter nc; do
	command -v "$c" >/dev/null || { echo "demo: $c is missing; run 'make deps'" >&2; exit 1; }
done

# tcp22: TCP22 is "accepted" when a connection to the server's TCP 22
# completes, "refused" when it is reset or gets no answer; anything else
# (the client could not even try) stops the demo.  (Not to be called in
# $(...): die would only leave the subshell.)
tcp22() {
	local out
	out=$(cli nc -v -z -w 1 "$SERVER_IP" 22 2>&1)
	case $out in
	*succeeded*) TCP22=accepted ;;
	*"timed out"* | *"Connection refused"*) TCP22=refused ;;
	*) die "connecting to TCP 22 from the client namespace failed: $out" ;;
	esac
}

say "sandbox: client $CLIENT_IP ($CLI) <-veth-> server $SERVER_IP ($SRV)"
for ns in "$CLI" "$SRV"; do
	step "creating network namespace $ns" ip netns add "$ns"
	NETNS+=("$ns")
done
step "creating the veth pair" \
	ip link add veth-c netns "$CLI" type veth peer name veth-s netns "$SRV"
step "addressing the client" ip -n "$CLI" addr add "$CLIENT_IP/24" dev veth-c
step "addressing the server" ip -n "$SRV" addr add "$SERVER_IP/24" dev veth-s
for ns in "$CLI" "$SRV"; do
	step "bringing up the links of $ns" ip -n "$ns" link set lo up
done
step "bringing up veth-c" ip -n "$CLI" link set veth-c up
step "bringing up veth-s" ip -n "$SRV" link set veth-s up
step "entering the client namespace" cli true
step "entering the server namespace" srv true

# nsenter execs nc: the pid is the listener's own, so cleanup ends it.
nsenter --net="/run/netns/$SRV" nc -lk "$SERVER_IP" 22 >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.3
kill -0 "${PIDS[-1]}" 2>/dev/null || die "starting the TCP 22 listener (nc -lk $SERVER_IP 22) failed"
tcp22
echo "server listens on TCP 22; without xfsm, TCP 22 is $TCP22"

say "attach the xfsm datapath to the server's interface"
LOADED=1
step "attaching the datapath" srun "$LOADER" load --instance "$INST" veth-s

say "apply examples/portknock.xfsm"
step "applying examples/portknock.xfsm" srun "$CTL" --instance "$INST" apply examples/portknock.xfsm

say "TCP 22 before knocking"
tcp22
echo "TCP 22: $TCP22"

say "knock: UDP 1111, 2222, 3333, 4444"
for port in 1111 2222 3333 4444; do
	printf 'client# echo knock | nc -u -w1 %s %s\n' "$SERVER_IP" "$port"
	step "knocking on UDP $port" sh -c "echo knock | nsenter --net=/run/netns/$CLI nc -u -w 1 $SERVER_IP $port"
done

say "TCP 22 after knocking"
tcp22
echo "TCP 22: $TCP22"

say "the client's flow in the knock stage"
step "listing the flows" srun "$CTL" --instance "$INST" state list knock

say "statistics"
step "reading the statistics" srun "$CTL" --instance "$INST" stats
