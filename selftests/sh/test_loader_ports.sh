#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# One instance, several interfaces: two then three ports (numbers, port
# tables), traffic through each; a reload keeps a flow's state and
# registers and the global registers, and replaces the program atomically;
# all-or-nothing: when the third interface fails, the first two get back
# what they ran (nothing, a foreign program, the previous xfsm); unload
# --instance removes every attachment and pin.

. "$(dirname "$0")/lib.sh"

xt_require_root
xt_require_cmd ip ping nsenter jq bpftool "$XT_PY"
LOADER="$XT_BUILD/xfsm-loader"
xt_require_file "$LOADER" "${XFSM_BPF_DIR:-$XT_BUILD}/xfsm.bpf.o"
xt_bpffs || xt_skip "cannot mount bpffs"

L() { xt_in S "$LOADER" "$@"; }

INST="xt$XT_ID-sw"
INST2="xt$XT_ID-sw2"
DIR="/sys/fs/bpf/xfsm/$INST"
xt_defer "rm -rf '$DIR' '/sys/fs/bpf/xfsm/$INST2'"

xt_netns_add S
for i in 1 2 3 4 5; do
	xt_netns_add "H$i"
	xt_veth S "s$i" "198.18.2$i.1/24" "H$i" "h$i" "198.18.2$i.2/24"
done

# The xfsm program an interface runs (alone or behind libxdp's dispatcher,
# where each interface has its own copy), else whatever runs, else 0.
prog_of() {
	local id
	id=$(xt_xfsm_prog_id S "$1")
	[ -n "$id" ] || id=$(xt_xdp_progs S "$1" | head -n1 | cut -d' ' -f2)
	echo "${id:-0}"
}
# The maps a running program uses: the same set means the same instance.
maps_of() { bpftool -j prog show id "$(prog_of "$1")" | jq -c '.map_ids | sort'; }
status_q() { L status -j | jq -r ".instances[] | select(.name == \"$INST\") | $1"; }
port_of() { status_q ".ports[] | select(.ifname == \"$1\") | .port"; }
ifindex_of() { ip -n "$XT_NS_S" -j link show "$1" | jq -r '.[0].ifindex'; }

for i in 1 2 3; do
	xt_ok "before: ping h$i -> s$i" xt_ping "H$i" "198.18.2$i.1"
done

# -- two interfaces
xt_ok "load two interfaces" L load --instance "$INST" s1 s2 || xt_done
xt_check "s1 is port 1" "$(port_of s1)" = 1
xt_check "s2 is port 2" "$(port_of s2)" = 2
xt_check "two ports in the table" "$(status_q '.tables[] | select(.name == "xfsm_ports") | .used')" = 2
# xfsm_tx_ports[2] = { ifindex of s2 }
tx=$(bpftool -j map lookup pinned "$DIR/xfsm_tx_ports" key 2 0 0 0 2>/dev/null |
	jq -r '.value[0:4] | map(ltrimstr("0x")) | reverse | join("")')
xt_check "tx_ports[2] is the ifindex of s2" "$((16#${tx:-0}))" = "$(ifindex_of s2)"
for i in 1 2; do
	xt_ok "two ports: ping h$i -> s$i" xt_ping "H$i" "198.18.2$i.1"
	xt_ok "two ports: tcp h$i -> s$i" xt_tcp "H$i" S "198.18.2$i.1" 600$i
done

# -- a third interface joins the instance
p1=$(prog_of s1)
xt_ok "add a third interface" L load --instance "$INST" s3
xt_check "s3 is port 3" "$(port_of s3)" = 3
xt_check "s1 keeps port 1" "$(port_of s1)" = 1
xt_check "s1 untouched by adding s3" "$(prog_of s1)" = "$p1"
xt_check "three ports attached" "$(status_q '[.ports[] | select(.attached)] | length')" = 3
for i in 1 2 3; do
	xt_ok "three ports: ping h$i -> s$i" xt_ping "H$i" "198.18.2$i.1"
	xt_ok "three ports: udp h$i -> s$i" xt_udp "H$i" S "198.18.2$i.1" 610$i
done

# -- an application (if xfsmctl is built): drops ICMP, passes the rest
CTL="$XT_BUILD/xfsmctl"
APPLIED=0
if [ -x "$CTL" ]; then
	app=$(mktemp /tmp/xt-app.XXXXXX)
	xt_defer "rm -f '$app'"
	cat >"$app" <<'APP'
app xt_noping
default pass
stage s {
	key ip.src
	miss pass
	rule noping when ip.proto == icmp => drop
}
APP
	if xt_ok "apply an application dropping ICMP" xt_in S "$CTL" --instance "$INST" apply "$app"; then
		APPLIED=1
		xt_nok "application: ping h1 -> s1 dropped" xt_ping H1 198.18.21.1
		xt_ok "application: tcp h1 -> s1 passes" xt_tcp H1 S 198.18.21.1 6201
	fi
fi

# -- reload keeps flows and registers (and the application)
zeros() { printf '00 %.0s' $(seq "$1"); }
KEY="00 00 00 00 c6 12 00 01 $(zeros 40)"
# state 5 at offset 4, regs[0] = 42 at offset 48 (abi.h asserts both)
VAL="00 00 00 00 05 00 00 00 $(zeros 40) 2a 00 00 00 00 00 00 00 $(zeros 24)"
xt_ok "write a flow" bpftool map update pinned "$DIR/xfsm_flows" key hex $KEY value hex $VAL
# xfsm_globals[0] = { lock, pad, reg[16] }: reg[3] = 1234 at offset 32
gsize=$(bpftool -j map show pinned "$DIR/xfsm_globals" | jq -r .bytes_value)
xt_ok "write global register 3" bpftool map update pinned "$DIR/xfsm_globals" \
	key 0 0 0 0 value hex $(zeros 32) d2 04 00 00 00 00 00 00 $(zeros $((gsize - 40)))
flows_id=$(bpftool -j map show pinned "$DIR/xfsm_flows" | jq -r .id)
old=$(prog_of s2)
old_generic=$(xt_progs_entry "$DIR" 2)
xt_ok "reload the instance" L load --instance "$INST" s1 s2 s3
new=$(prog_of s2)
xt_check "reload: a new generic program in xfsm_progs[2]" "$(xt_progs_entry "$DIR" 2)" != "$old_generic"
if [ "$(xt_xdp_progs S s2 | head -n1 | cut -d' ' -f1)" = xdp_dispatcher ]; then
	xt_check "reload: a new program runs (behind the dispatcher)" "$new" != "$old"
else
	# attached plainly: the running slot's generated program again (a
	# reload keeps xfsm_progs' entries), else the new generic program
	xt_check "reload: s2 runs the running slot's program, else the new generic one" \
		"$new" = "$(xt_xfsm_should_run "$DIR")"
fi
xt_check "reload: status shows the new program" \
	"$(status_q '.ports[] | select(.ifname == "s2") | .prog_id')" = "$new"
xt_check "reload: the same flow table" "${flows_id:-none}" = "$(bpftool -j map show pinned "$DIR/xfsm_flows" | jq -r .id)"
f=$(bpftool -j map lookup pinned "$DIR/xfsm_flows" key hex $KEY 2>/dev/null)
xt_check "reload: flow state kept" "$(jq -r '.value[4]' <<<"$f")" = 0x05
xt_check "reload: flow register kept" "$(jq -r '.value[48]' <<<"$f")" = 0x2a
g=$(bpftool -j map lookup pinned "$DIR/xfsm_globals" key 0 0 0 0 2>/dev/null)
xt_check "reload: global register kept" "$(jq -r '.value[32:34] | join(",")' <<<"$g")" = "0xd2,0x04"
xt_check "reload: ports kept" "$(port_of s3)" = 3
xt_ok "reload: tcp h2 -> s2" xt_tcp H2 S 198.18.22.1 6202
if [ "$APPLIED" = 1 ]; then
	xt_nok "reload: the application survives (ping h2 -> s2 dropped)" xt_ping H2 198.18.22.1
fi

# -- --reset: new maps (the flow is gone), every port keeps its number and
# moves to the new program, also those not named.
xt_ok "reset: load --reset naming one interface" L load --reset --instance "$INST" s1
xt_nok "reset: the flow is gone" bpftool map lookup pinned "$DIR/xfsm_flows" key hex $KEY
xt_check "reset: a new flow table" "$(bpftool -j map show pinned "$DIR/xfsm_flows" | jq -r .id)" != "$flows_id"
xt_check "reset: s3 keeps port 3" "$(port_of s3)" = 3
xt_check "reset: s2 keeps port 2" "$(port_of s2)" = 2
xt_check "reset: s3 runs the new program (s1's maps)" "$(maps_of s3)" = "$(maps_of s1)"
xt_check "reset: ... which has the new flow table" \
	"$(jq -r 'index('"$(bpftool -j map show pinned "$DIR/xfsm_flows" | jq -r .id)"') != null' <<<"$(maps_of s3)")" = true
xt_check "reset: three ports attached" "$(status_q '[.ports[] | select(.attached)] | length')" = 3
xt_ok "reset: ping h3 -> s3 (the application went with the old maps)" xt_ping H3 198.18.23.1
pinned=$(status_q '.prog_id')

# -- all or nothing.  s4 runs nothing, s5 a foreign program, s6 cannot
# take native XDP (its veth peer's MTU is too large): both must get back
# what they had.
EMPTY="$XT_BUILD/xdp_empty.bpf.o"
xt_netns_add H6
xt_veth S s6 "198.18.26.1/24" H6 h6 "198.18.26.2/24"
ip -n "$XT_NS_H6" link set h6 mtu 9000
foreign=0
if [ -e "$EMPTY" ]; then
	ip -n "$XT_NS_S" link set dev s5 xdpdrv obj "$EMPTY" sec xdp && foreign=$(prog_of s5)
fi
out=$(L load --force --instance "$INST2" s4 s5 s6 2>&1)
xt_check "all-or-nothing: load fails" $? -ne 0
xt_match "all-or-nothing: names the failing interface" "s6: native XDP refused" "$out"
xt_check "all-or-nothing: s4 runs nothing again" "$(prog_of s4)" = 0
xt_check "all-or-nothing: s5 runs its own program again" "$(prog_of s5)" = "$foreign"
xt_check "all-or-nothing: s6 runs nothing" "$(prog_of s6)" = 0
xt_check "all-or-nothing: no pins" ! -e "/sys/fs/bpf/xfsm/$INST2"
xt_ok "all-or-nothing: ping h4 -> s4" xt_ping H4 198.18.24.1
if [ "$foreign" != 0 ]; then
	# xdp_empty drops everything: proof that it runs again.
	xt_nok "all-or-nothing: s5's own program drops again" xt_ping H5 198.18.25.1
fi

# ... also for interfaces already in the instance: they keep the program
# they ran, and the port table is unchanged.
before=$(prog_of s1)
out=$(L load --instance "$INST" s1 s6 2>&1)
xt_check "all-or-nothing (reload): load fails" $? -ne 0
xt_check "all-or-nothing (reload): s1 runs the same program" "$(prog_of s1)" = "$before"
xt_check "all-or-nothing (reload): s6 runs nothing" "$(prog_of s6)" = 0
xt_check "all-or-nothing (reload): still three ports" \
	"$(status_q '.tables[] | select(.name == "xfsm_ports") | .used')" = 3
xt_check "all-or-nothing (reload): the instance's program pin is unchanged" \
	"$(status_q '.prog_id')" = "$pinned"
xt_ok "all-or-nothing (reload): ping h1 -> s1" xt_ping H1 198.18.21.1

# -- unload one port, then the whole instance
xt_ok "unload s3" L unload s3
xt_check "s3 detached" "$(prog_of s3)" = 0
xt_check "s3 left the port table" "$(status_q '.tables[] | select(.name == "xfsm_ports") | .used')" = 2
xt_ok "s3 is reusable: port 3 is free again" L load --instance "$INST" s3
xt_check "s3 gets the lowest free port" "$(port_of s3)" = 3
xt_ok "unload --instance" L unload --instance "$INST"
for i in 1 2 3; do
	xt_check "s$i detached" "$(prog_of s$i)" = 0
	xt_ok "after unload: ping h$i -> s$i" xt_ping "H$i" "198.18.2$i.1"
done
xt_check "unload --instance removed the pins" ! -e "$DIR"

# -- concurrent loaders into one instance get distinct port numbers
for i in 1 2 3 4; do
	L load --instance "$INST2" "s$i" >/dev/null 2>&1 &
done
wait
ports=$(L status -j | jq -r ".instances[] | select(.name == \"$INST2\") | [.ports[] | select(.attached) | .port] | sort | map(tostring) | join(\",\")")
xt_check "concurrent loads: four ports numbered 1..4" "$ports" = "1,2,3,4"
xt_ok "concurrent loads: unload" L unload --instance "$INST2"

xt_done
