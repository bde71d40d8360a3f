#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# scripts/demo.sh (what `make demo` runs after building):
#  - run as it is, it shows TCP 22 accepted without xfsm, refused after the
#    application is applied, accepted after the knock, exits 0, and leaves
#    no process of its session, no namespace and no pin behind;
#  - when a step fails (here: a PATH shim makes entering the client's
#    namespace fail, as `ip netns exec` does in a chroot whose root is not a
#    mount point; or makes the client's TCP check itself fail), it stops
#    with a message naming the step and a non-zero exit, prints no
#    "TCP 22:" result after it, and still cleans everything up.
# The demo runs in a session of its own (setsid), so that every process it
# started, however it started it, can be found afterwards.

. "$(dirname "$0")/lib.sh"

xt_require_root
xt_require_cmd setsid ip nsenter nc ps pkill
setsid --wait true 2>/dev/null || xt_skip "setsid --wait (util-linux) is missing"
xt_require_file "$XT_BUILD/xfsm-loader" "$XT_BUILD/xfsmctl" "$XT_BUILD/xfsm.bpf.o"

W=$(mktemp -d /tmp/xt-demo.XXXXXX)
xt_defer "rm -rf '$W'"

# run_demo NAME [PATH]: run the demo in a new session, its output in
# $W/NAME.out; sets RC, SID (the session id) and PID (the demo's pid).
run_demo() {
	local name=$1 path=${2:-$PATH}
	( cd "$XT_TOP" && PATH="$path" setsid --wait bash -c \
		'echo $$ > "$0"; exec bash scripts/demo.sh "$1"' "$W/$name.sid" "$XT_BUILD" \
		> "$W/$name.out" 2>&1 )
	RC=$?
	SID=$(cat "$W/$name.sid" 2>/dev/null)
	PID=$SID
	# whatever the demo leaves behind is removed here, also on failure
	xt_defer "pkill -KILL -s '$SID' 2>/dev/null; ip netns del 'xfsm-demo-$PID-c' 2>/dev/null; ip netns del 'xfsm-demo-$PID-s' 2>/dev/null; rm -rf '/sys/fs/bpf/xfsm/demo$PID'"
}

# left_behind: processes of the demo's session still running, namespaces,
# pins.
left_processes() { ps -e -o sid=,pid=,args= | awk -v s="$SID" '$1 == s'; }
check_clean() {
	local what=$1 procs
	procs=$(left_processes)
	xt_check "$what: no process of the demo is left" -z "$procs" ||
		printf '%s\n' "$procs" | sed 's/^/    /'
	xt_check "$what: its namespaces are removed" \
		"$(ip netns list | grep -c "xfsm-demo-$PID-")" = 0
	xt_check "$what: its instance is unloaded" ! -e "/sys/fs/bpf/xfsm/demo$PID"
}

# ---- the demo as it is -------------------------------------------------------------------
run_demo ok
out=$(cat "$W/ok.out")
xt_check "demo: exit 0" "$RC" = 0 || sed 's/^/    /' "$W/ok.out"
results=$(grep -oE 'TCP 22 is (accepted|refused)|TCP 22: (accepted|refused)|== knock' <<<"$out" |
	tr '\n' ';')
xt_check "demo: accepted without xfsm, then refused, knock, accepted" \
	"$results" = "TCP 22 is accepted;TCP 22: refused;== knock;TCP 22: accepted;"
xt_match "demo: the client's flow is open" "knock ip.src=198.18.0.1 +state open" "$out"
check_clean "demo"

# ---- a step that fails: the client's namespace cannot be entered -------------------------
mkdir -p "$W/shim1"
real_nsenter=$(command -v nsenter)
cat > "$W/shim1/nsenter" <<EOF
#!/bin/sh
case "\$*" in
*-c" "*) echo "nsenter: reassociate to namespace 'ns/net' failed: Operation not permitted" >&2; exit 1 ;;
esac
exec $real_nsenter "\$@"
EOF
chmod +x "$W/shim1/nsenter"
run_demo shim1 "$W/shim1:$PATH"
out=$(cat "$W/shim1.out")
xt_check "client namespace unusable: non-zero exit" "$RC" -ne 0
xt_match "... the message names the step" "^demo: entering the client namespace failed" "$out"
xt_match "... and the cause" "reassociate to namespace 'ns/net' failed" "$out"
xt_check "... no TCP 22 result is printed" "$(grep -c 'TCP 22: \|TCP 22 is' <<<"$out")" = 0
check_clean "client namespace unusable"

# ---- a step that fails later: the client's TCP check cannot run ---------------------------
mkdir -p "$W/shim2"
real_nc=$(command -v nc)
cat > "$W/shim2/nc" <<EOF
#!/bin/sh
case "\$*" in
*-z*) echo "nc: cannot run the check (test shim)" >&2; exit 1 ;;
esac
exec $real_nc "\$@"
EOF
chmod +x "$W/shim2/nc"
run_demo shim2 "$W/shim2:$PATH"
out=$(cat "$W/shim2.out")
xt_check "TCP check fails: non-zero exit" "$RC" -ne 0
xt_match "... the message names the step and the cause" \
	"^demo: connecting to TCP 22 from the client namespace failed: nc: cannot run the check" "$out"
xt_check "... no TCP 22 result is printed" "$(grep -c 'TCP 22: \|TCP 22 is' <<<"$out")" = 0
check_clean "TCP check fails"

xt_done
