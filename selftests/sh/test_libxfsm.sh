#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# libxfsm as users get it: `make install DESTDIR=...`, then
#  - the shared library has its soname and exports exactly the functions
#    the installed headers declare, which are exactly lib/libxfsm.map's
#    list, every one of them in version node LIBXFSM_0.1;
#  - every installed header compiles on its own with only the installed
#    include directory (no private header behind a public one);
#  - examples/controller.c, as installed, builds with pkg-config and
#    nothing else (shared, and static against libxfsm.a), and drives an
#    instance attached by xfsm-loader: it applies examples/portknock.xfsm
#    (TCP 22 refused, knock, accepted), lists the client's flow by name and
#    reads the counters.

. "$(dirname "$0")/lib.sh"

xt_require_root
xt_require_cmd make cc pkg-config nm readelf objdump ldd ip nsenter timeout "$XT_PY"
xt_require_file "$XT_BUILD/libxfsm.vars" "$XT_BUILD/xfsm-loader" "$XT_BUILD/xfsm.bpf.o"
. "$XT_BUILD/libxfsm.vars"

D=$(mktemp -d /tmp/xt-libxfsm.XXXXXX)
xt_defer "rm -rf '$D'"
P=/usr/local
# PREFIX as built: make install then rebuilds nothing.
xt_ok "make install DESTDIR=$D" make -s -C "$XT_TOP" BUILD="$XT_BUILD" DESTDIR="$D" \
	PREFIX="$P" install || xt_done
LIB=$D$P/lib
INC=$D$P/include
SO=$LIB/libxfsm.so.$LIBXFSM_VERSION

# ---- the shared object ---------------------------------------------------------------
xt_check "soname is $LIBXFSM_SONAME" \
	"$(readelf -d "$SO" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')" = "$LIBXFSM_SONAME"

exported=$(nm -D --defined-only "$SO" | awk '$3 != "LIBXFSM_0.1" { print $3 }' | sed 's/@.*//' | sort)
mapped=$(sed -n '/global:/,/local:/p' "$XT_TOP/lib/libxfsm.map" |
	 sed -n 's/^[[:space:]]*\([a-z_][a-z0-9_]*\);.*/\1/p' | sort)
# Functions the installed headers declare (gcc -aux-info lists every
# prototype with its file), and the tables they declare extern.
cat > "$D/all.c" <<EOF
$(for h in $LIBXFSM_HDRS; do echo "#include <xfsm/$h>"; done)
EOF
declared=$({ cc -std=gnu11 -I"$INC" -aux-info "$D/aux.txt" -fsyntax-only "$D/all.c" &&
	     grep -F "$INC/xfsm/" "$D/aux.txt" |
	     sed -E 's/.*[ *](xfsm_[a-z0-9_]+) ?\(.*/\1/'
	     cat "$INC"/xfsm/*.h | sed -n 's/^extern .*[ *]\(xfsm_[a-z0-9_]*\)\[.*/\1/p'; } | sort -u)
n=$(wc -l <<<"$exported")
xt_check "the library exports functions ($n)" "$n" -gt 50
xt_check "exported symbols = lib/libxfsm.map" "$exported" = "$mapped" ||
	diff <(echo "$exported") <(echo "$mapped") | sed 's/^/    exported/map: /'
xt_check "exported symbols = what the installed headers declare" "$exported" = "$declared" ||
	diff <(echo "$exported") <(echo "$declared") | sed 's/^/    exported\/declared: /'
unversioned=$(objdump -T "$SO" | awk '$2 == "g" && $4 == ".text" && $6 != "LIBXFSM_0.1"' | wc -l)
xt_check "every exported function is in version node LIBXFSM_0.1" "$unversioned" = 0
xt_check "internal functions are hidden (xfsm_load is the loader's)" \
	"$(grep -cx xfsm_load <<<"$exported")" = 0

# ---- headers stand alone -------------------------------------------------------------
for h in $LIBXFSM_HDRS; do
	xt_ok "<xfsm/$h> compiles alone" sh -c "echo '#include <xfsm/$h>' |
		cc -std=gnu11 -Wall -Wextra -Werror -fsyntax-only -I'$INC' -x c -"
done
xt_check "no installed header names a private one" \
	"$(grep -hE '^#include "' "$INC"/xfsm/*.h | grep -cvE '"(xfsm/)?(abi|libxfsm|xfsm_lang|xfsm_acl|xfsm_group|xfsm_xsk)\.h"')" = 0

# ---- the example controller, with pkg-config only ---------------------------------------
export PKG_CONFIG_PATH="$LIB/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$D"
xt_check "pkg-config knows libxfsm $LIBXFSM_VERSION" "$(pkg-config --modversion libxfsm)" = "$LIBXFSM_VERSION"
SRC=$D$P/share/xfsm/examples/controller.c
CTLR=$D/controller
xt_ok "controller.c builds against the installed library" sh -c \
	"cc -Wall -Wextra -Werror '$SRC' \$(pkg-config --cflags --libs libxfsm) -o '$CTLR'" || xt_done
xt_check "controller links libxfsm.so.0" "$(readelf -d "$CTLR" | grep -c "NEEDED.*\[$LIBXFSM_SONAME\]")" = 1
xt_ok "controller.c builds statically against libxfsm.a" sh -c \
	"cc -Wall -Wextra -Werror '$SRC' \$(pkg-config --cflags libxfsm) -Wl,-Bstatic -lxfsm -Wl,-Bdynamic \
	 -L'$LIB' \$(pkg-config --static --libs libxfsm | sed 's/-lxfsm//') -o '$D/controller-static'"
xt_check "the static controller needs no libxfsm.so" \
	"$(readelf -d "$D/controller-static" | grep -c libxfsm)" = 0
ctlr() { LD_LIBRARY_PATH="$LIB" "$CTLR" "$@"; }
xt_match "the controller runs with the installed libxfsm.so.0" "libxfsm\.so\.0 => $LIB/libxfsm\.so\.0" \
	"$(LD_LIBRARY_PATH="$LIB" ldd "$CTLR")"
out=$(ctlr 2>&1)
xt_check "controller without a command: usage, exit 2" $? = 2
out=$(ctlr -i "xt$XT_ID-none" stats 2>&1)
xt_check "controller on a missing instance: exit 1" $? = 1
xt_match "... with the library's message" "unknown instance 'xt$XT_ID-none'" "$out"
out=$(ctlr -i ../etc stats 2>&1)
xt_check "controller with a bad instance name: exit 1" $? = 1
xt_match "... refused by the library's name check" "invalid instance name '../etc'" "$out"

. "$XT_DIR/../lang/ctl_lib.sh"
xt_bpffs || xt_skip "cannot mount bpffs"
xt_netns_add A
xt_netns_add B
xt_veth A a0 "$CLI/24" B b0 "$SRV/24" || { xt_fail "veth"; xt_done; }
INST="xt$XT_ID-lib"
xt_defer "rm -rf '/sys/fs/bpf/xfsm/$INST'"
xt_defer "xt_in B '$LOADER' unload --instance '$INST'"
xt_ok "attach the datapath (xfsm-loader)" xt_in B "$LOADER" load --mode skb --instance "$INST" b0 || xt_done
ctl_listen 22
xt_ok "before: TCP 22 accepted" ctl_connect 22
xt_ok "controller apply portknock.xfsm" xt_in B env LD_LIBRARY_PATH="$LIB" "$CTLR" -i "$INST" \
	apply "$D$P/share/xfsm/examples/portknock.xfsm"
xt_match "xfsmctl sees what the controller applied" "^app portknock" \
	"$(xt_in B "$CTL" --instance "$INST" show app)"
xt_nok "applied: TCP 22 refused" ctl_connect 22
for p in 1111 2222 3333 4444; do ctl_udp_send $p; done
xt_ok "knocked: TCP 22 accepted" ctl_connect 22
out=$(xt_in B env LD_LIBRARY_PATH="$LIB" "$CTLR" -i "$INST" flows knock)
xt_match "controller flows: the client's flow, state open by name" "^knock ip.src=$CLI +state open" "$out"
xt_match "controller flows: counts it" "^1 flow\(s\)" "$out"
out=$(xt_in B env LD_LIBRARY_PATH="$LIB" "$CTLR" -i "$INST" stats)
pk=$(sed -n 's/^packets \([0-9]*\) .*/\1/p' <<<"$out")
xt_check "controller stats: packets counted ($pk)" "${pk:-0}" -ge 6
xt_match "controller stats: drops counted (refused SYNs)" "drop [1-9]" "$out"
out=$(xt_in B "$D/controller-static" -i "$INST" flows)
xt_match "the static controller lists the same flow" "^knock ip.src=$CLI +state open" "$out"
xt_done
