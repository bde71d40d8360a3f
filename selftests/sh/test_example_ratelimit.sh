#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# examples/ratelimit.xfsm (1 Mbit/s per source, 16 KiB burst): a burst of
# 300 UDP datagrams of 1000 bytes sent as fast as possible mostly exceeds
# the bucket: the receiver gets roughly the burst plus what the rate allows,
# the counter `limited` counts the rest, the source's flow holds the meter's
# registers.  After a pause the bucket has refilled.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

ctl_setup
xt_ok "apply ratelimit" X apply "$XT_TOP/examples/ratelimit.xfsm" || xt_done

# receive for 2 s from the first datagram, print the count; send 300 x
# 1000 B (the window starts with the traffic: the sender, another
# interpreter, can take seconds to start on a loaded or emulated machine)
blast() {
	xt_in B timeout 60 "$XT_PY" -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("'$SRV'", 7100)); s.settimeout(30)
n = 0
try:
    s.recv(2048); n = 1
except socket.timeout:
    pass
s.settimeout(0.2)
end = time.time() + 2
while n and time.time() < end:
    try:
        s.recv(2048); n += 1
    except socket.timeout:
        pass
print(n)
' >/tmp/xt$XT_ID-rl &
	local rx=$!
	xt_wait_udp B 7100
	xt_in A "$XT_PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(300):
    s.sendto(b"x" * 1000, ("'$SRV'", 7100))
'
	wait $rx
	cat /tmp/xt$XT_ID-rl
}
xt_defer "rm -f /tmp/xt$XT_ID-rl"
got=$(blast)
xt_check "burst + rate pass ($got of 300)" "${got:-0}" -ge 10 -a "${got:-0}" -le 120
limited=$(X -j stats | jq -r '.counters[] | select(.name == "limited") | .packets')
xt_check "counter limited counts the excess ($limited)" "${limited:-0}" -ge 150
xt_match "flow of the source holds the meter" "ip.src=$CLI .*tat=[1-9]" "$(X state list meter)"
sleep 1
got2=$(blast)
xt_check "after a pause the bucket refilled ($got2)" "${got2:-0}" -ge 10
xt_done
