#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsmctl and xfsm-loader as command-line tools (issue 16 item 3): help
# per command without a datapath, one behaviour for a bare command group,
# exit codes 0/1/2, unique prefixes, -V from the Makefile's VERSION,
# stats --watch quitting on 'q' and stopping when the datapath is
# unloaded, and the bash completion of both tools (sourced here, its
# candidates checked against the tools' own help and the running
# application).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

xt_require_file "$CTL" "$LOADER"
COMP_DIR=$XT_TOP/dist/bash-completion

# ---- no datapath needed -----------------------------------------------------------------
# An instance that does not exist: a command that opened it would fail.
N() { "$CTL" --instance "nosuch$XT_ID" "$@"; }
for c in "apply --help" "help apply" "apply -h" "state list --help" "help state list" \
	 "state help" "state help list" "acl help" "acl --help" "stats --help" "port set --help" \
	 "rule add --help" "group help del"; do
	out=$(N $c 2>&1)
	rc=$?
	xt_check "xfsmctl $c: exit 0 without a datapath ($out)" $rc = 0
	want=$(sed 's/ *\(--help\|-h\)$//; s/^help //; s/ help / /; s/ help$//' <<<"$c")
	xt_match "xfsmctl $c: usage of '$want'" "xfsmctl $want" "$out"
done
xt_match "state list --help names only that command" '^Usage: xfsmctl state list \[STAGE\]' \
	"$(N state list --help)"
xt_check "state list --help does not list state set" \
	"$(N state list --help | grep -c 'state set')" = 0
out=$("$CTL" 2>&1 >/dev/null)
xt_check "xfsmctl alone: exit 2" $? = 2
xt_match "xfsmctl alone: usage on stderr" "^Usage: xfsmctl" "$out"
xt_check "xfsmctl --help: exit 0" "$("$CTL" --help >/dev/null 2>&1; echo $?)" = 0
out=$(N frobnicate 2>&1)
xt_check "unknown command: exit 2" $? = 2
xt_match "unknown command: named" "unknown command 'frobnicate'" "$out"
out=$(N st 2>&1)
xt_check "ambiguous prefix: exit 2" $? = 2
xt_match "ambiguous prefix: candidates listed" "'st' is ambiguous: state, stats" "$out"
out=$(N show 2>&1)
xt_check "missing instance: exit 1 (an error, not a usage error)" $? = 1
xt_match "missing instance: named" "nosuch$XT_ID" "$out"
out=$(N show --bogus 2>&1)
xt_check "unknown option after the command: exit 2" $? = 2

# -V: the Makefile's VERSION, on both tools
version=$(sed -n 's/^VERSION *:= *//p' "$XT_TOP/Makefile")
xt_check "Makefile has a VERSION" -n "$version"
xt_match "xfsmctl -V prints $version" "^xfsmctl $version " "$("$CTL" -V)"
xt_match "xfsmctl --version prints $version" "^xfsmctl $version " "$("$CTL" --version)"
xt_match "xfsm-loader -V prints $version" "^xfsm-loader $version " "$("$LOADER" -V)"
xt_match "xfsm-loader --version prints $version" "^xfsm-loader $version " "$("$LOADER" --version)"
xt_check "xfsmctl's version is not written in its source" \
	"$(cat "$XT_TOP"/ctl/*.c "$XT_TOP"/loader/*.c | grep -c "\"$version\"")" = 0

# ---- with a datapath ------------------------------------------------------------------
ctl_setup
xt_ok "apply portknock" X apply "$XT_TOP/examples/portknock.xfsm" || xt_done
ctl_udp_send 1111

# what moves on its own between two commands: timers, and the ports'
# counters (the kernel's own neighbour and router traffic crosses b0)
ctl_untimed() {
	sed -e 's/"\(remaining_s\|age_s\)":[0-9.]*//g' \
	    -e 's/"\(rx\|tx\)_\(packets\|bytes\)":[0-9]*//g'
}
# A group named alone runs its first command, the listing, for every group.
for g in "state:state list" "rule:rule show" "global:global get" "port:port show" \
	 "acl:acl show" "group:group show"; do
	bare=${g%%:*}
	full=${g#*:}
	X $bare >/dev/null 2>&1
	ra=$?
	a=$(X -j $bare 2>&1 | ctl_untimed)
	b=$(X -j $full 2>&1 | ctl_untimed)
	xt_check "xfsmctl $bare: exit 0" $ra = 0
	xt_check "xfsmctl $bare is xfsmctl $full" "$a" = "$b"
done
xt_match "xfsmctl state lists the flows" '"state":"k1"' "$(X -j state)"

# stats --watch: 'q' on a terminal quits (a pty, as a user's terminal)
out=$(xt_in B timeout 20 "$XT_PY" - "$CTL" "$INST" <<'PY'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "--instance", sys.argv[2], "stats", "--watch"])
buf = b""
end = time.time() + 10
while b"datapath:" not in buf and time.time() < end:
    if select.select([fd], [], [], 0.2)[0]:
        buf += os.read(fd, 4096)
t0 = time.time()
os.write(fd, b"q")
while time.time() < end:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        print("exit", os.waitstatus_to_exitcode(status), "after %.1f" % (time.time() - t0))
        break
    if select.select([fd], [], [], 0.1)[0]:
        try:
            os.read(fd, 4096)
        except OSError:
            pass
else:
    os.kill(pid, 9)
    print("still running")
PY
)
xt_match "stats --watch quits on q, exit 0 ($out)" "^exit 0 after [01]\." "$out"
out=$( (sleep 0.5; echo q) | timeout 10 "$CTL" --instance "$INST" stats --watch --interval 5 2>&1 >/dev/null; echo "rc=$?")
xt_match "stats --watch quits on q from a pipe" "rc=0" "$out"

# stats --watch stops with an error when the datapath is unloaded
xt_tmpdir T
xt_in B "$CTL" --instance "$INST" stats --watch --interval 0.1 >"$T/out" 2>"$T/err" &
wpid=$!
xt_defer "kill $wpid 2>/dev/null"
sleep 0.5

# ---- completion (before the unload: names come from the running application) ----------
# comp WORDS...: the candidates for the last word, one per line, sorted
comp() {
	local tool=$1
	shift
	bash -c '
		. "$1/$2"
		shift 2
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		fn=_${COMP_WORDS[0]//-/_}
		fn=${fn##*/}
		case $fn in *xfsmctl) fn=_xfsmctl ;; *loader) fn=_xfsm_loader ;; esac
		$fn
		printf "%s\n" "${COMPREPLY[@]}" | sort -u' _ "$COMP_DIR" "$tool" "$@"
}
C() { xt_in B bash -c "$(declare -f comp); COMP_DIR='$COMP_DIR'; comp \"\$@\"" _ "$@"; }
words() { tr '\n' ' ' | sed 's/ $//'; }

# every command of xfsmctl --help, and nothing else, is offered first
want=$("$CTL" --help | sed -n '/^Commands/,/^Exit/p' | awk 'NR > 1 && $1 ~ /^[a-z]+$/ { print $1 }' | sort -u | words)
xt_check "completion: the commands of xfsmctl --help ($want)" \
	"$(comp xfsmctl "$CTL" '' | words)" = "$want"
for g in state rule global port acl group; do
	want=$("$CTL" help $g | awk -v g=$g '$1 == "xfsmctl" && $2 == g { print $3 }' | sort -u | words)
	xt_check "completion: the subcommands of $g ($want)" \
		"$(comp xfsmctl "$CTL" $g '' | words)" = "$want"
done
# every option of xfsmctl --help is offered
for o in $("$CTL" --help | sed -n '/^Options/,/^Commands/p' | grep -o -- '--\?[a-zA-Z][a-z-]*' |
	   grep '^-' | sort -u); do
	xt_match "completion: option $o" "^$o\$" "$(comp xfsmctl "$CTL" -)"
done
xt_check "completion: a prefix 'sta'" "$(comp xfsmctl "$CTL" sta | words)" = "state stats"
for o in --datapath --dry-run --force --reset-globals; do
	xt_match "completion: apply $o" "^$o\$" "$(comp xfsmctl "$CTL" apply --)"
done
xt_check "completion: apply --datapath MODE" \
	"$(comp xfsmctl "$CTL" apply --datapath '' | words)" = "auto generic specialized"
xt_match "completion: rule add --datapath" "^--datapath\$" "$(comp xfsmctl "$CTL" rule add knock x --)"
xt_match "completion: show program" "^program\$" "$(comp xfsmctl "$CTL" show pro)"
for o in --watch -c --interval --reset; do
	xt_match "completion: stats $o" "^$o\$" "$(comp xfsmctl "$CTL" stats -)"
done
xt_match "completion: instance names" "^$INST\$" "$(C xfsmctl "$CTL" --instance '')"
xt_check "completion: stage names of the running application" \
	"$(C xfsmctl "$CTL" --instance "$INST" state list '' | words)" = "knock"
xt_check "completion: stage names after options anywhere" \
	"$(C xfsmctl "$CTL" -j --instance "$INST" state get '' | words)" = "knock"
xt_check "completion: state names of the stage" \
	"$(C xfsmctl "$CTL" --instance "$INST" state set knock 198.18.20.1 state '' | words)" = \
	"closed k1 k2 k3 open"
xt_check "completion: rule names of the stage" \
	"$(C xfsmctl "$CTL" --instance "$INST" rule del knock 'kn' | words)" = \
	"knock1 knock2 knock3 knock4"
xt_check "completion: field names (the tool's own table)" \
	"$(comp xfsmctl "$CTL" fields tcp.d | words)" = "tcp.dport"
xt_match "completion: metadata operands too" "^meta.random\$" "$(comp xfsmctl "$CTL" fields meta.)"
xt_check "completion: every field of xfsmctl -j fields" \
	"$(comp xfsmctl "$CTL" fields '' | grep -c .)" = \
	"$("$CTL" -j fields | jq '(.fields | length) + (.metadata | length)')"
xt_check "completion: monitor's words and the stages" \
	"$(C xfsmctl "$CTL" --instance "$INST" monitor '' | words)" = "knock stage status stop"
xt_match "completion: monitor -c" "^-c\$" "$(comp xfsmctl "$CTL" monitor -)"
xt_check "completion: group policies" \
	"$(comp xfsmctl "$CTL" group add 1 '' | words)" = "consistent hash rr rr-flow weighted"
# xfsm-loader: its commands and options as its help lists them
want=$("$LOADER" help | awk '$1 ~ /^[a-z]+$/ && NR > 1 { print $1 }' | sort -u | words)
got=$(comp xfsm-loader "$LOADER" '' | words)
for c in $want; do
	xt_match "completion: xfsm-loader $c" "(^| )$c( |\$)" "$got"
done
for o in $("$LOADER" help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	case $o in --all | --keep-maps) cmd=unload ;; *) cmd=load ;; esac
	xt_match "completion: xfsm-loader $cmd $o" "^$o\$" "$(comp xfsm-loader "$LOADER" $cmd --)"
done
# the global short options of the usage line, and load's
for o in $("$LOADER" help | sed -n '1s/^Usage: xfsm-loader //p' | grep -o -- '-[a-zA-Z]'); do
	xt_match "completion: xfsm-loader $o" "^$o\$" "$(comp xfsm-loader "$LOADER" -)"
done
for o in $("$LOADER" help | sed -n '/^  load/,/IFACE/p' | grep -o -- '\[-[a-zA-Z]\]' | tr -d '[]'); do
	xt_match "completion: xfsm-loader load $o" "^$o\$" "$(comp xfsm-loader "$LOADER" load -)"
done
xt_check "completion: xfsm-loader load --mode" \
	"$(comp xfsm-loader "$LOADER" load --mode '' | words)" = "auto hw native skb"
xt_check "completion: xfsm-loader load --flow-value" \
	"$(comp xfsm-loader "$LOADER" load --flow-value '' | words)" = "compact full"
xt_check "completion: xfsm-loader load --flows TABLE=" \
	"$(comp xfsm-loader "$LOADER" load --flows '' | words)" = "medium= narrow= wide="
xt_check "completion: xfsm-loader load --flows, the item after a comma" \
	"$(comp xfsm-loader "$LOADER" load --flows 'narrow=10,m' | words)" = "narrow=10,medium="
xt_check "completion: xfsm-loader load --flows, nothing for a size" \
	"$(comp xfsm-loader "$LOADER" load --flows 'wide=1' | words)" = ""
xt_match "completion: xfsm-loader unload --instance" "^$INST\$" \
	"$(C xfsm-loader "$LOADER" unload --instance '')"
xt_match "completion: xfsm-loader load IFACE" "^b0\$" "$(C xfsm-loader "$LOADER" load '')"

# installed by make install (install.sh) for both tools
D=$(mktemp -d /tmp/xt-comp.XXXXXX)
xt_defer "rm -rf '$D'"
"$XT_TOP/scripts/install.sh" "$D" /usr "$XT_BUILD" >/dev/null 2>&1
for t in xfsmctl xfsm-loader; do
	xt_check "install.sh installs the completion of $t" \
		-f "$D/usr/share/bash-completion/completions/$t"
done

# ---- the unload ends stats --watch with an error -----------------------------------------
xt_ok "unload the datapath" xt_in B "$LOADER" unload --instance "$INST"
for _ in $(seq 50); do kill -0 $wpid 2>/dev/null || break; sleep 0.1; done
if kill -0 $wpid 2>/dev/null; then
	kill $wpid	# still watching 5 s after the unload
	wait $wpid
	rc=running
else
	wait $wpid
	rc=$?
fi
xt_check "stats --watch ends after the unload with exit 1" $rc = 1
xt_match "stats --watch says the datapath was unloaded" "datapath was unloaded" "$(cat "$T/err")"
xt_done
