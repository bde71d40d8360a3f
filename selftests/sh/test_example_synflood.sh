#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# examples/synflood.xfsm: a TCP connection is established from A to B
# first; then A sends more than 100 SYNs within a second (connection
# attempts to a closed port).  B's address goes to state `attack` in stage
# detect; new connections are refused while the established one keeps
# working; when the hard timeout ends (shortened here with `state set`)
# the destination rolls back to normal and new connections work again.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

ctl_setup
xt_ok "apply synflood" X apply "$XT_TOP/examples/synflood.xfsm" || xt_done

# echo server on 8080 for any number of connections
xt_in B timeout 120 "$XT_PY" -c '
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("'$SRV'", 8080)); s.listen(64)
def serve(c):
    while True:
        d = c.recv(100)
        if not d: break
        c.sendall(d)
while True:
    c, a = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' >/dev/null 2>&1 &
xt_defer "kill $! 2>/dev/null"
xt_wait_tcp B 8080
xt_ok "before the flood: new connection works" ctl_connect 8080

xt_tmpdir T
# a long-lived connection: echo once now, once after the flood
xt_in A timeout 20 "$XT_PY" -c '
import socket, time, os
s = socket.create_connection(("'$SRV'", 8080), timeout=2)
s.sendall(b"one"); print(s.recv(10).decode(), flush=True)
while not os.path.exists("'$T'/go"): time.sleep(0.05)
s.sendall(b"two"); print(s.recv(10).decode(), flush=True)
' >"$T/long" 2>&1 &
long=$!
# established (its first echo back) before the flood starts
for i in $(seq 200); do grep -q one "$T/long" 2>/dev/null && break; sleep 0.05; done

flood() {
	xt_in A "$XT_PY" -c '
import socket
for i in range(150):
    s = socket.socket(); s.setblocking(False)
    try: s.connect(("'$SRV'", 9))
    except BlockingIOError: pass
    s.close()
'
}
flood
out=$(X state get detect "$SRV")
xt_match "destination under attack" "state attack +hard (2[0-9]|30)\.[0-9]s -> normal" "$out"
xt_match "attack counted" "counter attacks: packets 1 " "$(X stats)"
xt_nok "during the attack: new connection refused" ctl_connect 8080
touch "$T/go"
wait $long
xt_check "established connection still works" "$(tail -1 "$T/long")" = two
xt_match "blocked SYNs counted" "counter blocked_syns: packets [1-9]" "$(X stats)"

xt_ok "shorten the attack" X state set detect "$SRV" state attack hard 1s -\> normal
sleep 1.5
xt_ok "after the hard timeout: new connection works" ctl_connect 8080
xt_match "rolled back to normal, counting again" "state (normal|counting)" "$(X state get detect "$SRV")"
xt_done
