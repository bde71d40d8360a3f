#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Applying over a running application that carries traffic loses nothing:
# two applications that both pass a UDP stream (and drop everything else by
# default, so any half-applied mix would drop it) are applied alternately
# while the stream runs; every datagram arrives.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

ctl_setup
xt_tmpdir T
cat >"$T/v1.xfsm" <<'APP'
app v1
default drop
stage only {
	key ip.src
	rule arp when eth.type == arp => pass
	rule stream when udp.dport == 7300 => count v1, pass
}
APP
cat >"$T/v2.xfsm" <<'APP'
app v2
default drop
stage first {
	key ip.dst
	rule arp when eth.type == arp => pass
	rule stream when udp.dport == 7300 => count v2, goto stage second
}
stage second {
	key ip.src, udp.sport
	states fresh, seen
	rule stream when udp.dport == 7300 => goto state seen idle 5s, pass
}
APP
xt_ok "apply v1" X apply "$T/v1.xfsm" || xt_done
xt_ping A "$SRV" >/dev/null

# Fewer datagrams under emulation, where sending 3000 with the applies
# running beside them takes longer than the receiver's bound.
N=3000
[ "${XT_EMULATED:-0}" = 1 ] && N=1000
xt_in B timeout 120 "$XT_PY" -c '
import signal, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(("'$SRV'", 7300)); s.settimeout(10)
seen = set()
def stop(sig, frame):
    # killed by its time bound: still report what arrived
    print(len(seen)); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
try:
    while len(seen) < '$N':
        seen.add(int(s.recv(64)))
except socket.timeout:
    pass
print(len(seen))
' >"$T/rx" &
rx=$!
xt_wait_udp B 7300
xt_in A "$XT_PY" -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range('$N'):
    s.sendto(str(i).encode(), ("'$SRV'", 7300))
    time.sleep(0.001)
' &
tx=$!
applies=0
fails=0
while kill -0 $tx 2>/dev/null; do
	X apply "$T/v2.xfsm" >/dev/null 2>&1 || fails=$((fails + 1))
	X apply "$T/v1.xfsm" >/dev/null 2>&1 || fails=$((fails + 1))
	applies=$((applies + 2))
done
wait $tx
wait $rx
got=$(cat "$T/rx")
xt_check "applied $applies times during the stream, no failure" "$fails" = 0 -a "$applies" -ge 4
xt_check "all $N datagrams arrived ($got)" "$got" = "$N"
xt_done
