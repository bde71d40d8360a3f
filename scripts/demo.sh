#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# The xfsm demo: port knocking in a sandbox of two network namespaces.
# A client knocks on UDP 1111, 2222, 3333, 4444; only then does the server's
# XDP datapath let its TCP port 22 through.  Everything the demo creates is
# removed on exit, also on Ctrl-C.
set -u

BUILD=${1:-build}
TAG="xfsm-demo-$$"
CLI="${TAG}-c"
SRV="${TAG}-s"
INST="demo$$"
CLIENT_IP=198.18.0.1
SERVER_IP=198.18.0.2
LOADER="$BUILD/xfsm-loader"
CTL="$BUILD/xfsmctl"
LISTENER=""

say()  { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Run in the server's network namespace, keeping the host's /sys/fs/bpf so
# that pins made there stay visible (ip netns exec would remount /sys).
srv()  { nsenter --net="/run/netns/$SRV" "$@"; }
# Show a server command as it would be typed in the server's namespace.
srun() { printf 'server# %s\n' "$*"; srv "$@"; }
cli()  { ip netns exec "$CLI" "$@"; }

cleanup() {
	trap - EXIT INT TERM
	say "cleaning up"
	[ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null
	srv "$LOADER" unload --instance "$INST" >/dev/null 2>&1
	ip netns del "$CLI" 2>/dev/null
	ip netns del "$SRV" 2>/dev/null
	echo "removed namespaces $CLI $SRV, instance $INST"
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

tcp22() {	# prints "accepted" or "refused"
	if cli nc -z -w 1 "$SERVER_IP" 22 2>/dev/null; then echo accepted; else echo refused; fi
}

say "sandbox: client $CLIENT_IP ($CLI) <-veth-> server $SERVER_IP ($SRV)"
ip netns add "$CLI" && ip netns add "$SRV" || exit 1
ip link add veth-c netns "$CLI" type veth peer name veth-s netns "$SRV" || exit 1
ip -n "$CLI" addr add "$CLIENT_IP/24" dev veth-c
ip -n "$SRV" addr add "$SERVER_IP/24" dev veth-s
ip -n "$CLI" link set veth-c up
ip -n "$SRV" link set veth-s up
ip -n "$CLI" link set lo up
ip -n "$SRV" link set lo up
srv nc -lk "$SERVER_IP" 22 >/dev/null 2>&1 &
LISTENER=$!
sleep 0.3
echo "server listens on TCP 22; without xfsm, TCP 22 is $(tcp22)"

say "attach the xfsm datapath to the server's interface"
srun "$LOADER" load --instance "$INST" veth-s || exit 1

say "apply examples/portknock.xfsm"
srun "$CTL" --instance "$INST" apply examples/portknock.xfsm || exit 1

say "TCP 22 before knocking"
echo "TCP 22: $(tcp22)"

say "knock: UDP 1111, 2222, 3333, 4444"
for port in 1111 2222 3333 4444; do
	printf 'client# echo knock | nc -u -w1 %s %s\n' "$SERVER_IP" "$port"
	echo knock | cli nc -u -w 1 "$SERVER_IP" "$port" 2>/dev/null
done

say "TCP 22 after knocking"
echo "TCP 22: $(tcp22)"

say "the client's flow in the knock stage"
srun "$CTL" --instance "$INST" state list knock

say "statistics"
srun "$CTL" --instance "$INST" stats
