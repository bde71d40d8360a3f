#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# An AF_XDP process port: the application sends UDP port 7500 to the
# process (`output xsk`); examples/xsk_echo receives exactly those packets
# (not the ones to other ports, which the stack gets) and sends them back,
# and the client receives every echo.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

ECHO="$XT_BUILD/examples/xsk_echo"
xt_require_file "$ECHO"
ctl_setup
xt_tmpdir T
cat >"$T/xsk.xfsm" <<'APP'
app toproc
default pass
stage s {
	key ip.src
	rule proc when udp.dport == 7500 => count proc, output xsk
}
APP
xt_ok "apply an application with 'output xsk'" X apply "$T/xsk.xfsm" || xt_done
xt_ping A "$SRV" || xt_fail "ping before"

xt_in B "$ECHO" --instance "$INST" -t 3 b0 >"$T/echo" 2>&1 &
echo_pid=$!
xt_defer "kill $echo_pid 2>/dev/null"
for i in $(seq 50); do grep -q ready "$T/echo" && break; sleep 0.1; done
xt_match "xsk_echo is ready" 'ready' "$(cat "$T/echo")"

N=300
got=$(xt_in A timeout 20 "$XT_PY" -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(("'$CLI'", 0)); s.settimeout(2)
o = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20):
    o.sendto(b"other", ("'$SRV'", 7501))      # not for the process
seen = set()
for i in range('$N'):
    s.sendto(b"%d" % i, ("'$SRV'", 7500))
    if i % 50 == 49:
        time.sleep(0.01)
try:
    while len(seen) < '$N':
        d, a = s.recvfrom(64)
        if a == ("'$SRV'", 7500):
            seen.add(int(d))
except socket.timeout:
    pass
print(len(seen))
')
xt_check "the client got all $N echoes ($got)" "$got" = "$N"
wait $echo_pid
xt_match "the process received exactly the $N packets and echoed them" \
	"^received $N, echoed $N\$" "$(tail -1 "$T/echo")"
xt_match "the application counted them" 'proc' "$(X stats)"
xt_done
