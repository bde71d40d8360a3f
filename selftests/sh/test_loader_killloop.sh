#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# SIGKILL during `xfsm-loader load` reloads, hundreds of times: after each
# kill the pins and `status` name exactly the program that runs on the
# interface, the application's verdicts still hold for traffic (a fixed
# packet set: ping .2 passes, .3 is dropped by the stage's rule, .4 by the
# ACL block, whose buffer the running application slot names), and the
# next load or unload settles whatever the killed one left.
#
# Kill points: under strace, on entry to each rename, netlink send and
# unlink of a reload, which lands kills between attaching and renaming the
# pins every time; then on entry to each bpf() call that makes or changes
# something (every command but the queries) and to the call after it, and
# to every $XT_KILL_READ_STRIDE-th (20) of the calls that only read: between
# two changes a kill leaves the same state wherever it lands.  Then
# $XT_KILL_RANDOM (25) kills at random moments of reloads run freely.  The
# sweep is bounded in time ($XT_KILL_BUDGET seconds, 90 by default; about
# 40 s on an idle 2-vCPU machine): a slow machine stops it among the
# reload's first calls, before anything is pinned, and the random kills
# still run; a phase that kills nothing fails.  Under emulation (a reload
# taking seconds, as in make vmtest) only the two kills on the renames are
# made, which is where libxdp's dispatcher matters: there this suite keeps
# the dispatcher (selftests/run.sh) and says that it skips the rest.
# xt-dispatcher: libxdp
#
# The pins are read by the documented rule (docs/loader.md): prog-new is
# the instance's program when it runs on a port, else prog.

. "$(dirname "$0")/lib.sh"

xt_require_root
xt_require_cmd ip nsenter ping jq bpftool
LOADER="$XT_BUILD/xfsm-loader"
CTL="$XT_BUILD/xfsmctl"
xt_require_file "$LOADER" "$CTL" "${XFSM_BPF_DIR:-$XT_BUILD}/xfsm.bpf.o"
xt_bpffs || xt_skip "cannot mount bpffs"
: "${XT_KILL_BUDGET:=90}"
: "${XT_KILL_READ_STRIDE:=20}"
: "${XT_KILL_RANDOM:=25}"
: "${XT_KILL_SLOW_MS:=5000}"	# a reload slower than this: emulation

ROOT="/sys/fs/bpf/xt$XT_ID-kill"
export XFSM_PIN_ROOT="$ROOT"
xt_defer "rm -rf '$ROOT'"
I="xt$XT_ID-k"
DIR="$ROOT/$I"
T=$(mktemp -d /tmp/xt-kill.XXXXXX)
xt_defer "rm -rf '$T'"

xt_netns_add A
xt_netns_add B
xt_veth A a0 "198.18.61.1/24" B b0 "198.18.61.2/24 198.18.61.3/24 198.18.61.4/24"
NSB="/run/netns/$XT_NS_B"

# The application: .3 is dropped by the stage, .4 by the ACL, the rest
# passes.
cat >"$T/app.xfsm" <<'EOF'
app killloop
default pass
acl guard {
	rule dst 198.18.61.4 => deny
}
stage s {
	key ip.src
	miss pass
	rule block when ip.dst == 198.18.61.3 => drop
}
EOF

load() { nsenter --net="$NSB" -- "$LOADER" load --instance "$I" b0 >/dev/null 2>&1; }
setup() {
	load && nsenter --net="$NSB" -- "$CTL" --instance "$I" apply "$T/app.xfsm" >/dev/null
}
xt_ok "load and apply" setup || xt_done
xt_ok "ping .2 passes" xt_ping A 198.18.61.2
xt_nok "ping .3 is dropped by the application" xt_in A ping -q -c1 -W1 198.18.61.3
xt_nok "ping .4 is dropped by its ACL block" xt_in A ping -q -c1 -W1 198.18.61.4

# ---- what the pins, status and the interface say ------------------------------

prog_maps() { bpftool -j prog show id "$1" 2>/dev/null | jq -c '(.map_ids // []) | sort'; }
pinned_id() { bpftool -j prog show pinned "$1" 2>/dev/null | jq -r '.id // empty'; }
# The same program, or a libxdp dispatcher's copy of it (same maps).
same_prog() { [ -n "$1" ] && { [ "$1" = "$2" ] || [ "$(prog_maps "$1")" = "$(prog_maps "$2")" ]; }; }
# The xfsm program b0 runs: from the link itself (for a generated program,
# the generic program it belongs to), or behind a dispatcher
# (each xfsm component: a reload killed between joining the new one and
# retiring the old one leaves two, until the next load or unload).
attached() {
	local p
	p=$(ip -n "$XT_NS_B" -d -j link show b0 | jq -r '.[0].xdp.prog | "\(.id) \(.name)"' 2>/dev/null)
	case "$p" in
	*" xfsm_xdp") echo "${p% *}" ;;
	# the running slot's generated program, attached in the generic
	# one's place: it enters the generic program in xfsm_progs[2]
	*" xfsm_spec_s"[01]) xt_progs_entry "$DIR" 2 ;;
	*" xdp_dispatcher") xt_xdp_progs B b0 | awk '$1 == "xfsm_xdp" { print $2 }' ;;
	esac
}
# runs_one ID IDS...: ID is one of the running ones (or a copy of one).
runs_one() {
	local id=$1 a
	shift
	for a in "$@"; do same_prog "$id" "$a" && return 0; done
	return 1
}

BAD=0
STAGED=0
bad() {
	BAD=$((BAD + 1))
	[ "$BAD" -le 10 ] && echo "    after kill $KILLS ($WHERE): $*"
}

# Check the state a kill left.
check_after_kill() {
	local att pin=prog desc maps ro st
	# shellcheck disable=SC2207
	att=($(attached))
	[ ${#att[@]} -gt 0 ] || { bad "no xfsm program runs on b0"; return; }
	# prog-new is the instance's program when it runs (its copy, behind
	# a dispatcher)
	if [ -e "$DIR/prog-new" ] && runs_one "$(pinned_id "$DIR/prog-new")" "${att[@]}"; then
		pin=prog-new
		STAGED=$((STAGED + 1))
	fi
	desc=$(bpftool -j prog show pinned "$DIR/$pin" 2>/dev/null)
	runs_one "$(jq -r '.id // empty' <<<"$desc")" "${att[@]}" ||
		bad "the pins name program $(jq -r '.id // "none"' <<<"$desc"), b0 runs ${att[*]}"
	ro=xfsm_rodata
	[ "$pin" = prog-new ] && [ -e "$DIR/xfsm_rodata-new" ] && ro=xfsm_rodata-new
	ro=$(bpftool -j map show pinned "$DIR/$ro" 2>/dev/null | jq -r '.id // empty')
	maps=$(jq -c '.map_ids // []' <<<"$desc")
	case "$maps" in
	*"[${ro:-x},"* | *",${ro:-x},"* | *",${ro:-x}]"* | "[${ro:-x}]") ;;
	*) bad "the pinned xfsm_rodata (${ro:-none}) is not that program's" ;;
	esac
	st=$(nsenter --net="$NSB" -- "$LOADER" status -j 2>/dev/null |
	     jq -r ".instances[] | select(.name == \"$I\") | .prog_id")
	runs_one "$st" "${att[@]}" || bad "status names program ${st:-none}, b0 runs ${att[*]}"
	xt_in A ping -q -c1 -W1 198.18.61.2 >/dev/null 2>&1 || bad "ping .2 did not pass"
	# the two drops at once: each waits out its timeout
	xt_in A ping -q -c1 -W 0.1 198.18.61.3 >/dev/null 2>&1 &
	p3=$!
	xt_in A ping -q -c1 -W 0.1 198.18.61.4 >/dev/null 2>&1 &
	p4=$!
	wait "$p3" && bad "ping .3 was not dropped"
	wait "$p4" && bad "ping .4 was not dropped (the ACL block)"
}

KILLS=0
START=$SECONDS
budget_left() { [ $((SECONDS - START)) -lt "$XT_KILL_BUDGET" ]; }

# Every so often an unload settles what a kill left, and everything comes back.
maybe_unload() {
	[ $((KILLS % 60)) -eq 0 ] || return 0
	nsenter --net="$NSB" -- "$LOADER" unload --instance "$I" >/dev/null 2>&1 ||
		bad "unload after a kill failed"
	[ -z "$(xt_xfsm_prog_id B b0)" ] || bad "unload after a kill left a program on b0"
	[ ! -e "$DIR" ] || bad "unload after a kill left $DIR"
	setup || bad "load and apply after the unload failed"
}

# ---- kill on entry to the Nth call of a syscall ---------------------------------

# kill_at SYSCALL N: run a reload under strace, SIGKILLed on entry to the
# Nth SYSCALL; returns non-zero when the reload finished first.
kill_at() {
	local rc
	# (the shell's own "Killed" report goes to /dev/null too)
	{ nsenter --net="$NSB" -- strace -o /dev/null -e trace="$1" \
		-e inject="$1":signal=KILL:when="$2" \
		"$LOADER" load --instance "$I" b0 >/dev/null 2>&1; rc=$?; } 2>/dev/null
	[ $rc -ne 0 ]
}

# kill_points SYSCALL: the calls of one reload left alone, as kill_at
# counts them, to kill on entry to, the last first.  For bpf(): each call
# that makes or changes something and the one after it (the state it
# left), every $XT_KILL_READ_STRIDE-th query (*GET*, *LOOKUP*: only the
# process sees their result), and the first and the last call; for the
# others, every call.
kill_points() {
	nsenter --net="$NSB" -- strace -o "$T/calls" -e trace="$1" \
		"$LOADER" load --instance "$I" b0 >/dev/null 2>&1
	awk -v sc="$1" -v stride="$XT_KILL_READ_STRIDE" '
		index($0, sc "(") == 1 {
			n++
			cmd = substr($0, length(sc) + 2)
			sub(/[,)].*/, "", cmd)
			if (sc != "bpf" || n == 1 || cmd !~ /GET|LOOKUP/) {
				pt[n] = 1
				pt[n + 1] = 1
			} else if (n % stride == 0) {
				pt[n] = 1
			}
		}
		END {
			pt[n] = 1
			for (k = n; k >= 1; k--) if (k in pt) print k
		}' "$T/calls"
}

# How long a reload takes here: under emulation (make vmtest, TCG) it is
# tens of seconds, and only the kill points at the attach end are tried.
t0=$(date +%s%N)
load
ms=$((($(date +%s%N) - t0) / 1000000 + 20))
SLOW=0
if [ "$ms" -gt "$XT_KILL_SLOW_MS" ]; then
	SLOW=1
	xt_log "a reload takes $ms ms here: only the kills between attaching and renaming the pins"
fi

if [ "$SLOW" = 1 ] && ! command -v strace >/dev/null 2>&1; then
	xt_skip "a reload takes $ms ms here and strace is missing: no kill would land where it matters"
fi
if command -v strace >/dev/null 2>&1; then
	# The calls around attaching first (renames, netlink sends), then
	# bpf() from the last call back: a slow machine's budget ends among
	# the calls that change nothing (opening and loading the object).
	SYSCALLS="rename sendto sendmsg unlink bpf"
	BPF_KILLS=0
	[ "$SLOW" = 1 ] && SYSCALLS=rename
	for sc in $SYSCALLS; do
		if [ "$SLOW" = 1 ]; then
			points="2 1"	# the .rodata and the program: the last rename first
		else
			points=$(kill_points "$sc")
		fi
		n=$(wc -w <<<"$points")
		xt_info "a reload: $n kill points on $sc calls"
		for k in $points; do
			budget_left || { CUT="$sc call $k"; break 2; }
			WHERE="on entry to $sc call $k"
			if kill_at "$sc" "$k"; then
				KILLS=$((KILLS + 1))
				[ "$sc" = bpf ] && BPF_KILLS=$((BPF_KILLS + 1))
				check_after_kill
				maybe_unload
			fi
		done
		[ "$sc" = rename ] && RENAME_STAGED=$STAGED
	done
	SWEPT=$KILLS
	xt_log "strace sweep: $SWEPT kills in $((SECONDS - START)) s, $STAGED of them after the attach and before the pins were in place"
	[ -n "${CUT:-}" ] && xt_log "strace sweep: its $XT_KILL_BUDGET s (XT_KILL_BUDGET) ended at $CUT"
	xt_check "the sweep killed between attaching and renaming the pins" "${RENAME_STAGED:-0}" -gt 0
	if [ "$SLOW" = 1 ]; then
		echo "SKIP: the sweep over bpf() calls: a reload takes $ms ms here (emulation), only the renames are killed"
	else
		xt_check "the sweep killed on entry to bpf() calls" "$BPF_KILLS" -gt 0
	fi
else
	SWEPT=0
	xt_log "no strace: random kills only"
fi

# ---- kill at random moments ----------------------------------------------------------

# As many kills as XT_KILL_RANDOM asks, whatever the sweep took: a reload
# that ends before its kill is tried again (at most four tries a kill).
R=0
RANDOM_KILLS=0
RSTART=$SECONDS
while [ "$SLOW" = 0 ] && [ "$RANDOM_KILLS" -lt "$XT_KILL_RANDOM" ] &&
      [ "$R" -lt $((4 * XT_KILL_RANDOM)) ]; do
	R=$((R + 1))
	d=$((RANDOM % ms))
	nsenter --net="$NSB" -- "$LOADER" load --instance "$I" b0 >/dev/null 2>&1 &
	p=$!
	sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
	if kill -KILL "$p" 2>/dev/null; then
		{ wait "$p"; rc=$?; } 2>/dev/null
		if [ $rc -eq 137 ]; then
			KILLS=$((KILLS + 1))
			RANDOM_KILLS=$((RANDOM_KILLS + 1))
			WHERE="${d} ms into a ${ms} ms reload"
			check_after_kill
			maybe_unload
		fi
	else
		wait "$p" 2>/dev/null
	fi
done
if [ "$SLOW" = 1 ]; then
	echo "SKIP: the random kills: a reload takes $ms ms here (emulation), only the renames are killed"
	xt_check "kills happened (both renames)" "$KILLS" -ge 2
else
	xt_log "random kills: $RANDOM_KILLS in $R reloads, $((SECONDS - RSTART)) s; $KILLS kills in $((SECONDS - START)) s"
	xt_check "random kills: $XT_KILL_RANDOM made" "$RANDOM_KILLS" -ge "$XT_KILL_RANDOM"
fi
xt_check "after every kill, the pins and status name the running program and traffic gets the application's verdicts" \
	"$BAD" -eq 0

# ---- the next load settles everything --------------------------------------------
xt_ok "a load after the last kill" load
att=$(attached)
xt_check "one xfsm program runs" "$(wc -w <<<"$att")" -eq 1
xt_ok "prog is the running program" same_prog "$(pinned_id "$DIR/prog")" "$att"
xt_check "no staged pin is left" -z "$(ls "$DIR" | grep -- '-new$')"
[ "$(xt_xdp_progs B b0 | head -n1 | cut -d' ' -f1)" = xdp_dispatcher ] ||
	xt_check "attached plainly, b0 runs the running slot's program" \
		"$(xt_xdp_progs B b0 | head -n1 | cut -d' ' -f2)" = "$(xt_xfsm_should_run "$DIR")"
xt_ok "status names the running program" same_prog \
	"$(nsenter --net="$NSB" -- "$LOADER" status -j | jq -r ".instances[] | select(.name == \"$I\") | .prog_id")" "$att"
xt_ok "the application is still installed" nsenter --net="$NSB" -- "$CTL" --instance "$I" show app
xt_nok "ping .3 still dropped" xt_in A ping -q -c1 -W1 198.18.61.3
xt_nok "ping .4 still dropped (ACL)" xt_in A ping -q -c1 -W1 198.18.61.4
xt_ok "unload" nsenter --net="$NSB" -- "$LOADER" unload --instance "$I"
xt_check "unload: b0 runs nothing" -z "$(xt_xfsm_prog_id B b0)"
xt_check "unload: pins removed" ! -e "$DIR"
xt_done
