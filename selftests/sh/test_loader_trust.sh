#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsm-loader touches only what is its own, and refuses bad input with a
# message, a non-zero exit and nothing changed:
#  - unload --instance with a name that is not a plain name (../x, a/b, .)
#    is refused before any path is built from it; so is xfsmctl --instance;
#  - unload --pin-dir of a directory that is not an xfsm instance (ordinary
#    files on tmpfs, foreign BPF objects or a subdirectory on bpffs, an
#    empty directory outside the pin root) is refused and everything in it
#    stays; unload --all leaves a foreign directory under the pin root;
#    load into a directory with foreign pins (--pin-dir or --instance) is
#    refused, and a foreign pin named like an interrupted load's stays;
#    unload --all leaves the datapath of an instance pinned elsewhere;
#  - a real instance, pinned under the root or elsewhere, still unloads;
#  - load --obj of a file that is not the datapath says what it is, not
#    "Unknown error 4001"; a repeated single-valued option is an error.

. "$(dirname "$0")/lib.sh"

xt_require_root
xt_require_cmd ip nsenter jq bpftool
LOADER="$XT_BUILD/xfsm-loader"
CTL="$XT_BUILD/xfsmctl"
xt_require_file "$LOADER" "$CTL" "${XFSM_BPF_DIR:-$XT_BUILD}/xfsm.bpf.o"
xt_bpffs || xt_skip "cannot mount bpffs"

# A pin root of this test's own, with room beside it for victims.
xt_pin_dir base
BASE=$XT_PIN
export XFSM_PIN_ROOT="$BASE/xfsm"
# mode 0700 all the way, as the loader makes pin directories
mkdir -p -m 0700 "$BASE" && mkdir -p -m 0700 "$XFSM_PIN_ROOT"
L() { xt_in B "$LOADER" "$@"; }

xt_netns_add A
xt_netns_add B
xt_veth A a0 "198.18.41.1/24" B b0 "198.18.41.2/24"
I="xt$XT_ID-t"

# ---- instance names --------------------------------------------------------

# An ordinary directory one and two levels above the pin root, full of
# files, as ../victim and ../../victim would reach them.
TMP=$(mktemp -d /tmp/xt-trust.XXXXXX)
xt_defer "rm -rf '$TMP'"
mkdir -p "$TMP/root/xfsm" "$TMP/victim"
for f in a b c; do echo "$f" >"$TMP/victim/$f"; done
for name in "../victim" "../../victim" "..%2f" "a/b" "." ".." ".hidden" "" \
	    "$(printf 'x\ty')"; do
	xt_fails_with "unload --instance '$name'" "invalid instance name" \
		env XFSM_PIN_ROOT="$TMP/root/xfsm" "$LOADER" unload --instance "$name"
done
xt_check "bad names: every file of the victim is still there" \
	"$(ls "$TMP/victim" | tr -d '\n')" = abc
xt_check "bad names: the victim directory is still there" -d "$TMP/victim"
# the same names on bpffs, where a victim could hold pins
mkdir -p "$BASE/victim"
bpftool map create "$BASE/victim/keep" type array key 4 value 4 entries 1 name keep
xt_fails_with "unload --instance ../victim (bpffs)" "invalid instance name '../victim'" \
	L unload --instance ../victim
xt_check "../victim on bpffs: its map is still pinned" -e "$BASE/victim/keep"
xt_fails_with "load --instance ../victim" "invalid instance name" L load --instance ../victim b0
xt_fails_with "xfsmctl --instance ../victim" "invalid instance name '../victim'" \
	xt_in B "$CTL" --instance ../victim show
xt_fails_with "xfsmctl --instance a/b" "'/' at position 2" xt_in B "$CTL" --instance a/b port show
xt_check "nothing was attached" -z "$(xt_xfsm_prog_id B b0)"

# ---- unload --pin-dir of what is not an instance ------------------------------

xt_fails_with "unload --pin-dir of a tmpfs directory" "not on a BPF filesystem" \
	L unload --pin-dir "$TMP/victim"
xt_check "tmpfs directory: its files are still there" "$(ls "$TMP/victim" | tr -d '\n')" = abc
# on bpffs: a foreign map, a foreign map under an xfsm name, a directory
xt_fails_with "unload --pin-dir of a bpffs directory with a foreign map" \
	"is not an xfsm pin directory: keep is not an xfsm map" L unload --pin-dir "$BASE/victim"
xt_check "foreign map: still pinned" -e "$BASE/victim/keep"
mkdir -p "$BASE/lookalike/sub"
bpftool map create "$BASE/lookalike/xfsm_ports" type hash key 4 value 8 entries 4 name mine
xt_fails_with "unload --pin-dir of a lookalike (xfsm_ports is another map)" \
	"xfsm_ports is not an xfsm map \\(it is map 'mine'\\)" L unload --pin-dir "$BASE/lookalike"
xt_check "lookalike: its map is still pinned" -e "$BASE/lookalike/xfsm_ports"
xt_check "lookalike: its subdirectory is still there" -d "$BASE/lookalike/sub"
rm -f "$BASE/lookalike/xfsm_ports"
xt_fails_with "unload --pin-dir of a directory holding a directory" "sub is a directory" \
	L unload --pin-dir "$BASE/lookalike"
xt_check "subdirectory: still there" -d "$BASE/lookalike/sub"
rmdir "$BASE/lookalike/sub"
xt_fails_with "unload --pin-dir of an empty directory outside the pin root" "holds no pins" \
	L unload --pin-dir "$BASE/lookalike"
xt_check "empty directory: still there" -d "$BASE/lookalike"
xt_fails_with "unload --pin-dir of the bpffs root" "not an xfsm pin directory" \
	L unload --pin-dir /sys/fs/bpf
xt_check "bpffs root: this test's pins are still there" -e "$BASE/victim/keep"
xt_fails_with "unload --instance and --pin-dir together" "takes interfaces, or" \
	L unload --instance "$I" --pin-dir "$BASE/victim"

# ---- real instances still unload, and only they --------------------------------

xt_ok "load an instance under the pin root" L load --instance "$I" b0
mkdir -p "$XFSM_PIN_ROOT/foreign"
bpftool map create "$XFSM_PIN_ROOT/foreign/keep" type array key 4 value 4 entries 1 name keep
out=$(L unload --all 2>&1)
xt_check "unload --all with a foreign directory in the root: non-zero exit" $? -ne 0
xt_match "unload --all: names the foreign directory" "foreign is not an xfsm pin directory" "$out"
xt_check "unload --all: the foreign map is still pinned" -e "$XFSM_PIN_ROOT/foreign/keep"
xt_check "unload --all: the instance was unloaded all the same" ! -e "$XFSM_PIN_ROOT/$I"
xt_check "unload --all: b0 runs nothing" -z "$(xt_xfsm_prog_id B b0)"
# an instance pinned outside the root unloads by --pin-dir
PD="$BASE/pd"
xt_ok "load with --pin-dir" L load --pin-dir "$PD" b0
# unload --all is the pin root's: the datapath of an instance pinned
# elsewhere is not "unpinned" (ip link ... xdp obj), and stays attached.
# (It exits 1 all the same: the foreign directory under the root.)
out=$(L unload --all 2>&1)
xt_match "unload --all: says why it skips b0" "skipping b0: it is port 1 of an xfsm instance pinned outside" "$out"
xt_check "unload --all: b0 still runs the --pin-dir instance" \
	"$(xt_xfsm_prog_id B b0)" = "$(bpftool -j prog show pinned "$PD/prog" | jq -r .id)"
xt_ok "unload --pin-dir of that instance" L unload --pin-dir "$PD"
xt_check "unload --pin-dir: pins removed" ! -e "$PD"
xt_check "unload --pin-dir: b0 runs nothing" -z "$(xt_xfsm_prog_id B b0)"
# load into a directory holding foreign pins: refused before anything is
# settled or pinned.  keep-new looks like a pin of an interrupted load,
# which a load discards when its program never ran: it is not xfsm's.
# foreign_load WHAT DIR OPTION...: load OPTION... b0 into DIR.
foreign_load() {
	local what=$1 pd=$2 before
	shift 2
	bpftool map create "$pd/keep-new" type array key 4 value 4 entries 1 name keep
	before=$(ls "$pd" | tr '\n' ' ')
	xt_fails_with "load $what (foreign pins)" \
		"is not an xfsm pin directory: keep(-new)? is not an xfsm map" L load "$@" b0
	xt_check "load $what: its pins are as before" "$(ls "$pd" | tr '\n' ' ')" = "$before"
	xt_check "load $what: b0 runs nothing" -z "$(xt_xfsm_prog_id B b0)"
}
foreign_load "--pin-dir victim" "$BASE/victim" --pin-dir "$BASE/victim"
foreign_load "--instance foreign" "$XFSM_PIN_ROOT/foreign" --instance foreign
# a directory left empty by a load killed before it pinned anything
mkdir -p "$XFSM_PIN_ROOT/$I"
xt_ok "unload --instance of an empty instance directory" L unload --instance "$I"
xt_check "empty instance directory removed" ! -e "$XFSM_PIN_ROOT/$I"

# ---- load --obj of what is not the datapath ---------------------------------------

nothing_left() {
	xt_check "$1: nothing attached" -z "$(xt_xfsm_prog_id B b0)"
	xt_check "$1: nothing pinned" ! -e "$XFSM_PIN_ROOT/$I"
}
out=$(L load --instance "$I" --obj /etc/passwd b0 2>&1)
xt_check "--obj /etc/passwd: non-zero exit" $? -ne 0
xt_match "--obj /etc/passwd: says it is no BPF object" \
	"/etc/passwd is not a BPF object \\(not an ELF file\\)" "$out"
xt_check "--obj /etc/passwd: no 'Unknown error'" "${out/Unknown error/}" = "$out"
nothing_left "--obj /etc/passwd"
xt_fails_with "--obj of an ELF program" "is not a BPF object" \
	L load --instance "$I" --obj "$(command -v ip)" b0
nothing_left "--obj ELF program"
if [ -e "$XT_BUILD/xdp_empty.bpf.o" ]; then
	xt_fails_with "--obj of another BPF object" "is a BPF object, but not the xfsm datapath" \
		L load --instance "$I" --obj "$XT_BUILD/xdp_empty.bpf.o" b0
	nothing_left "--obj another BPF object"
fi

# ---- a single-valued option given twice ---------------------------------------------

xt_fails_with "load --instance twice" "--instance is given twice \\('$I', then 'other'\\)" \
	L load --instance "$I" --instance other b0
nothing_left "load --instance twice"
xt_check "load --instance twice: 'other' not created either" ! -e "$XFSM_PIN_ROOT/other"
xt_fails_with "load --mode twice" "--mode is given twice" L load --mode skb --mode=native b0
xt_fails_with "load --obj twice" "--obj is given twice" L load --obj a --obj b b0
nothing_left "load options twice"
xt_fails_with "unload --instance twice" "--instance is given twice" \
	L unload --instance a --instance b
xt_fails_with "unload --force with interfaces" "--force is for an instance" L unload --force b0
xt_fails_with "xfsmctl --instance twice" "--instance is given twice \\('a', then 'b'\\)" \
	xt_in B "$CTL" --instance a --instance b show
xt_fails_with "xfsmctl -i twice" "-i/--iface is given twice" xt_in B "$CTL" -i b0 --iface b0 show

# ---- xfsmctl without privileges: the cause, not "unknown instance" ----------------

if command -v setpriv >/dev/null; then
	xt_ok "load for the privilege checks" L load --instance "$I" b0
	# (Root without CAP_BPF may read pinned maps: bpffs permissions decide.)
	drop=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
	for sel in "--instance $I" ""; do
		# shellcheck disable=SC2086
		out=$(xt_in B "${drop[@]}" "$CTL" $sel show 2>&1)
		rc=$?
		xt_check "xfsmctl unprivileged ${sel:-(default)}: non-zero exit" $rc -ne 0
		xt_match "xfsmctl unprivileged ${sel:-(default)}: says why" \
			"Permission denied.*needs root, or the capabilities CAP_BPF" "$out"
		xt_check "xfsmctl unprivileged ${sel:-(default)}: not 'unknown instance'" \
			"${out/unknown instance/}" = "$out"
	done
	xt_ok "unload after the privilege checks" L unload --instance "$I"
fi

xt_done
