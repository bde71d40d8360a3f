#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# The man pages: every page (man/*, and the ones generated into
# $BUILD/man) renders with man -l and passes `mandoc -T lint` and
# `groff -ww` without a warning; the installed pages carry the installed
# paths; and every command and option that a tool's --help lists appears
# in its page (commands in the SYNOPSIS), so that a help text that grows
# without its page fails here.  xfsm(7) documents every command and setting
# of xfsm-service, which the systemd unit runs.

. "$(dirname "$0")/lib.sh"

xt_require_cmd man mandoc groff col "$XT_PY"
xt_require_file "$XT_BUILD/xfsmctl" "$XT_BUILD/xfsm-loader" "$XT_BUILD/man/xfsm.xfsm.5"

render() { LC_ALL=C MANWIDTH=1000 man -l "$1" 2>&1 | col -bx; }

pages=("$XT_TOP"/man/*.[0-9] "$XT_BUILD"/man/*.[0-9])
for page in "${pages[@]}"; do
	name=$(basename "$page")
	out=$(mandoc -T lint -W warning "$page" 2>&1)
	xt_check "$name: mandoc -T lint -W warning is silent" -z "$out" ||
		printf '%s\n' "$out" | sed 's/^/    /'
	out=$(groff -t -ww -z -man "$page" 2>&1)
	xt_check "$name: groff -ww is silent" -z "$out" ||
		printf '%s\n' "$out" | sed 's/^/    /'
	out=$(LC_ALL=C MANWIDTH=80 man -l "$page" 2>&1 >/dev/null)
	xt_check "$name: man -l renders without a message" -z "$out" ||
		printf '%s\n' "$out" | sed 's/^/    /'
done
for want in xfsm.7 xfsm.xfsm.5 xfsmctl.8 xfsm-loader.8; do
	found=0
	for page in "${pages[@]}"; do [ "$(basename "$page")" = "$want" ] && found=1; done
	xt_check "page $want exists" $found = 1
done

# ---- installed pages: paths filled in ---------------------------------------------
D=$(mktemp -d /tmp/xt-man.XXXXXX)
xt_defer "rm -rf '$D'"
xt_ok "install.sh PREFIX=/usr" "$XT_TOP/scripts/install.sh" "$D" /usr "$XT_BUILD"
for page in "$D"/usr/share/man/man*/*; do
	name=$(basename "$page")
	xt_check "installed $name: no @PLACEHOLDER@ left" \
		"$(grep -c '@[A-Z][A-Z]*@' "$page")" = 0
done
text=$(render "$D/usr/share/man/man8/xfsm-loader.8")
xt_match "installed xfsm-loader(8): FILES names /usr/lib/xfsm/xfsm.bpf.o" \
	'/usr/lib/xfsm/xfsm\.bpf\.o' "$(sed -n '/^FILES/,/^SEE ALSO/p' <<<"$text")"
xt_match "installed xfsm-loader(8): the configuration is /etc/xfsm/NAME.conf" \
	'/etc/xfsm/NAME\.conf' "$text"
text=$(render "$D/usr/share/man/man7/xfsm.7")
xt_match "installed xfsm(7): the service script is /usr/lib/xfsm/xfsm-service" \
	'/usr/lib/xfsm/xfsm-service' "$text"

# ---- --help against the pages -------------------------------------------------------

# help_items HELP: "cmd PHRASE", "sopt OPTION" and "opt OPTION" lines.
# Commands are the leading lowercase words of each entry (entries are
# separated by two or more spaces) in the usage and Commands parts of the
# help, with a|b alternatives expanded; options are every -x / --xyz word,
# "sopt" when the usage or a command shows it (the SYNOPSIS must too).
help_items() {
	"$XT_PY" -c '
import re, sys
text = sys.stdin.read()
opts, sopts, cmds = set(), set(), []
in_cmds = False
for line in text.splitlines():
    s = line.strip()
    found = re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", line)
    if s.startswith(("Usage:", "Commands")):
        in_cmds = True
        sopts.update(found)
        continue
    if s.startswith("Options"):
        in_cmds = False
        continue
    (sopts if in_cmds else opts).update(found)
    if not in_cmds:
        continue
    for seg in re.split(r"\s{2,}", s):
        words = []
        for w in seg.split():
            if not re.fullmatch(r"[a-z]+(\|[a-z]+)*", w):
                break
            words.append(w.split("|"))
        if not words:
            continue
        phrases = [""]
        for alts in words:
            phrases = [(p + " " + a).strip() for p in phrases for a in alts]
        for p in phrases:
            if p not in cmds:
                cmds.append(p)
for c in cmds:
    print("cmd", c)
for o in sorted(sopts):
    print("sopt", o)
for o in sorted(opts - sopts):
    print("opt", o)
'
}

for tool in xfsmctl xfsm-loader; do
	page="$XT_TOP/man/$tool.8"
	help=$("$XT_BUILD/$tool" --help 2>&1)
	text=$(render "$page")
	synopsis=$(sed -n '/^SYNOPSIS/,/^[A-Z][A-Z ]*$/p' <<<"$text" | tr -s ' ')
	items=$(help_items <<<"$help")
	ncmd=$(grep -c '^cmd ' <<<"$items")
	nopt=$(grep -Ec '^s?opt ' <<<"$items")
	xt_check "$tool --help: commands found ($ncmd)" "$ncmd" -ge 4
	xt_check "$tool --help: options found ($nopt)" "$nopt" -ge 4
	while read -r kind what; do
		case $kind in
		cmd)
			xt_check "$tool(8) SYNOPSIS has '$tool $what'" \
				"$(grep -Fc -- "$tool $what" <<<"$synopsis")" -gt 0 ;;
		sopt)
			xt_check "$tool(8) SYNOPSIS has $what" \
				"$(grep -Ec -- "(^|[^[:alnum:]-])$what([^[:alnum:]-]|$)" <<<"$synopsis")" -gt 0 ;;
		opt)
			xt_check "$tool(8) documents $what" \
				"$(grep -Ec -- "(^|[^[:alnum:]-])$what([^[:alnum:]-]|$)" <<<"$text")" -gt 0 ;;
		esac
	done <<<"$items"
done

# ---- xfsm-service in xfsm(7) ------------------------------------------------------------
svc="$XT_TOP/dist/xfsm-service"
text=$(render "$XT_TOP/man/xfsm.7")
usage=$(sh "$svc" --help 2>&1)
cmds=$(sed -n 's/^usage: xfsm-service \([a-z|]*\) NAME$/\1/p' <<<"$usage" | tr '|' ' ')
xt_check "xfsm-service usage lists its commands" -n "$cmds"
for c in $cmds; do
	xt_check "xfsm(7) documents xfsm-service $c" \
		"$(grep -Ec "^ {7}$c( |$)" <<<"$text")" -gt 0
done
settings=$(sed -n 's/^SETTINGS="\(.*\)"$/\1/p' "$svc")
xt_check "xfsm-service names its settings" -n "$settings"
for k in $settings; do
	xt_check "xfsm(7) documents $k" "$(grep -c "^ *$k\$" <<<"$text")" -gt 0
	xt_check "xfsm.conf.example shows $k" \
		"$(grep -Ec "^#?$k=" "$XT_TOP/dist/xfsm.conf.example")" -gt 0
done


# ---- one version --------------------------------------------------------------------
# The Makefile's VERSION is the one place: the tools print it (-V), and the
# pages' headers and the Debian changelog must say the same.
ver=$(sed -n 's/^VERSION *:= *//p' "$XT_TOP/Makefile")
xt_check "the Makefile names a version" -n "$ver"
for tool in xfsmctl xfsm-loader; do
	xt_match "$tool -V prints version $ver" "(^| )$ver( |$)" "$("$XT_BUILD/$tool" -V 2>&1)"
done
for page in "${pages[@]}"; do
	xt_check "$(basename "$page"): header says xfsm $ver" \
		"$(sed -n 's/^\.TH .*"xfsm \([^"]*\)".*/\1/p' "$page")" = "$ver"
done
xt_check "debian/changelog's latest entry is version $ver" \
	"$(sed -n '1s/^xfsm (\([^)]*\)).*/\1/p' "$XT_TOP/debian/changelog")" = "$ver"

xt_done
