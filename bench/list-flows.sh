#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# `xfsmctl state list` of a full flow table (issue 11: 1M flows under 1 s)
# without traffic: examples/statefulfw.xfsm on a datapath of 2M flow
# entries (make bench's --flows), FLOWS flows written by bench/flowfill,
# then the text and -j listings timed ROUNDS times (wall, user and system
# seconds of xfsmctl, its output read by wc as make bench reads it),
# alternating this build's xfsmctl with OTHER_BUILD's (e.g. main's
# build directory) when given, so both see the same table and load.
# Namespaces and veth of its own (198.18.20.0/24), removed at the end.
#
# Usage (root, after make): bench/list-flows.sh [FLOWS] [ROUNDS] [OTHER_BUILD]
# Not a test: it prints figures and asserts nothing.

. "$(dirname "$0")/../selftests/sh/lib.sh"
. "$(dirname "$0")/../selftests/lang/ctl_lib.sh"

FLOWS=${1:-1000000}
ROUNDS=${2:-5}
OTHER=${3:-}
CTL_LOAD_ARGS="--flows 2097152"
xt_require_file "$XT_BUILD/bench/flowfill"
ctl_setup
X apply "$XT_TOP/examples/statefulfw.xfsm" >/dev/null || exit 1
"$XT_BUILD/bench/flowfill" "$PIN" 0 "$FLOWS" || exit 1
echo "flows listed: $(X state list -n conntrack)"
W=$(mktemp -d)
xt_defer "rm -rf '$W'"

# one BUILD FORM [ARG]: a timed listing, "BUILD FORM wall user sys" appended to $W/times
one() {
	/usr/bin/time -f "$1 $2 %e %U %S" -a -o "$W/times" \
		nsenter --net="/run/netns/$XT_NS_B" -- "$1/xfsmctl" --instance "$INST" ${3:-} \
		state list conntrack | wc -l >/dev/null
}
for ((r = 1; r <= ROUNDS; r++)); do
	for b in "$XT_BUILD" ${OTHER:+"$OTHER"}; do
		one "$b" text
		one "$b" json -j
	done
done
awk '{ k = $1 " " $2; n[k]++; w[k] += $3; u[k] += $4; s[k] += $5 }
     END { for (k in n) printf "%s: wall %.2f s, CPU %.2f s (user %.2f, system %.2f), mean of %d\n",
			      k, w[k] / n[k], (u[k] + s[k]) / n[k], u[k] / n[k], s[k] / n[k], n[k] }' \
	"$W/times" | sort
