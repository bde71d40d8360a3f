#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Build the guest's initramfs: a busybox userland overlaid with the host's
# own tools the selftests use (bash, iproute2, python3, jq, bpftool...,
# each with the shared libraries ldd finds), the kernel modules the tests
# need (with their dependencies from modules.dep), and the xfsm tree: the
# built binaries, BPF objects and selftests under /xfsm.
#
# Usage: scripts/vmtest/mkinitramfs.sh [-t] KERNEL_DIR INIT OUT.cpio [TOP BUILD]
#   -t	tiny: busybox and INIT only (the runner's own tests)
#
# VMTEST_MODULES: modules loaded at boot (default "veth macvlan"); other
# networking modules load on demand.
# VMTEST_CMD: a shell command the guest runs instead of the suites.

set -eu

tiny=0
if [ "${1:-}" = -t ]; then
	tiny=1
	shift
fi
KDIR=${1:?usage: mkinitramfs.sh [-t] KERNEL_DIR INIT OUT.cpio [TOP BUILD]}
INIT=${2:?init script}
OUT=${3:?output file}
TOP=${4:-}
BUILD=${5:-}
MODULES=${VMTEST_MODULES:-veth macvlan}

log() { echo "vmtest: $*" >&2; }

BUSYBOX=$(command -v busybox || true)
# A static busybox: ldd calls it "not a dynamic executable" and fails.
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
	log "needs a static busybox (apt-get install busybox-static)"
	exit 1
fi

KVER=$(cat "$KDIR/version")
ROOT="$OUT.d"
rm -rf "$ROOT"
mkdir -p "$ROOT"/usr/bin "$ROOT"/usr/sbin "$ROOT"/usr/lib "$ROOT"/usr/lib64 \
	"$ROOT"/etc "$ROOT"/proc "$ROOT"/sys "$ROOT"/dev "$ROOT"/tmp "$ROOT"/run \
	"$ROOT"/root "$ROOT"/var
# Debian 12 has a merged /usr: keep its layout so that ldd's paths and
# the interpreter path /lib64/ld-linux-x86-64.so.2 are valid as they are.
ln -s usr/bin "$ROOT/bin"
ln -s usr/sbin "$ROOT/sbin"
ln -s usr/lib "$ROOT/lib"
ln -s usr/lib64 "$ROOT/lib64"
ln -s ../run "$ROOT/var/run"
chmod 1777 "$ROOT/tmp"

# copy_file SRC: copy SRC to the same path in the image, resolving symbolic
# links of the file itself (the link is kept, pointing at the copy).
copy_file() {
	local src=$1 dst real
	dst="$ROOT$src"
	[ -e "$dst" ] && [ ! -L "$dst" ] && return 0
	mkdir -p "$(dirname "$dst")"
	if [ -L "$src" ]; then
		real=$(readlink -f "$src")
		copy_file "$real"
		rm -f "$dst"
		ln -s "$real" "$dst"
	else
		rm -f "$dst"
		cp -a "$src" "$dst"
	fi
}

# copy_elf FILE...: the files and the shared libraries they load.
copy_elf() {
	local f lib
	for f in "$@"; do
		copy_file "$f"
		ldd "$f" 2>/dev/null | grep -oE '(/[^ ]+)' | while read -r lib; do
			[ -e "$lib" ] && copy_file "$lib"
		done
	done
}

# copy_cmd NAME...: host commands found in PATH, with their libraries.
copy_cmd() {
	local c p
	for c in "$@"; do
		p=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$c" 2>/dev/null) || {
			[ "${QUIET:-0}" = 1 ] || log "host has no $c: the guest will not either"
			continue
		}
		case "$p" in /bin/* | /sbin/*) p="/usr$p" ;; esac
		copy_elf "$p"
	done
}

# ---- busybox (its applets fill in what the host tools below do not) ------
cp "$BUSYBOX" "$ROOT/usr/bin/busybox"
install -m 0755 "$INIT" "$ROOT/init"

if [ "$tiny" = 0 ]; then
	# The tools the suites and lib.sh use, as on the host.
	copy_cmd bash dash ip tc bridge ss nsenter unshare setpriv mount umount \
		jq ping nc ethtool bpftool sysctl ps pgrep pkill timeout stat \
		python3 grep sed awk find xargs diff cmp modprobe insmod lsmod \
		flock taskset nproc getconf nft iptables ip6tables strace
	# Handy when present, not needed by a suite today.
	QUIET=1 copy_cmd nc.openbsd egrep mawk kmod file xtables-nft-multi \
		tcpdump xdp-loader xdpdump
	# coreutils whole: GNU semantics for every small command.
	for f in $(dpkg -L coreutils 2>/dev/null | grep -E '^/(usr/)?s?bin/'); do
		case "$f" in /bin/* | /sbin/*) f="/usr$f" ;; esac
		[ -f "$f" ] && copy_elf "$f"
	done
	ln -sf dash "$ROOT/usr/bin/sh"

	# python3's standard library, its extension modules and their libraries.
	py=$(readlink -f /usr/bin/python3)
	pylib=/usr/lib/$(basename "$py")
	if [ -d "$pylib" ]; then
		mkdir -p "$ROOT$pylib"
		(cd "$pylib" && tar --exclude=./test --exclude=./idlelib \
			--exclude=./tkinter --exclude=./turtledemo --exclude=./ensurepip \
			--exclude=./lib2to3 --exclude=./pydoc_data --exclude='./config-*' \
			--exclude=./site-packages --exclude=./dist-packages -cf - .) |
			(cd "$ROOT$pylib" && tar -xf -)
		copy_elf "$pylib"/lib-dynload/*.so
		[ -d /usr/lib/python3/dist-packages ] && mkdir -p "$ROOT/usr/lib/python3/dist-packages"
	fi

	# libxdp's dispatcher and AF_XDP programs, iproute2's tables.
	for d in /usr/lib/x86_64-linux-gnu/bpf /etc/iproute2; do
		[ -d "$d" ] && mkdir -p "$ROOT$d" && cp -a "$d/." "$ROOT$d/"
	done
	for f in /etc/protocols /etc/services /etc/ethertypes /usr/share/misc/magic.mgc; do
		[ -e "$f" ] && copy_file "$f"
	done
	# The C library loads these by name at run time, not through ldd.
	for f in /usr/lib/x86_64-linux-gnu/libnss_files.so.2 \
		/usr/lib/x86_64-linux-gnu/libnss_dns.so.2 \
		/usr/lib/x86_64-linux-gnu/libresolv.so.2 \
		/usr/lib/x86_64-linux-gnu/libgcc_s.so.1; do
		[ -e "$f" ] && copy_elf "$f"
	done
fi

# busybox applets wherever a host tool did not take the name.
"$BUSYBOX" --list-full | while read -r a; do
	case "$a" in bin/* | sbin/*) a="usr/$a" ;; esac
	[ -e "$ROOT/$a" ] || [ -L "$ROOT/$a" ] || ln -s /usr/bin/busybox "$ROOT/$a"
done

cat >"$ROOT/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$ROOT/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
echo 'hosts: files' >"$ROOT/etc/nsswitch.conf"
echo xfsm-vmtest >"$ROOT/etc/hostname"

# ---- kernel modules --------------------------------------------------------
# MODULES and their dependencies (modules.dep) are loaded at boot, in the
# order of /etc/vmtest/modules.  The networking modules (net/, drivers/net/
# but hardware drivers) are in the image too, with the depmod indexes, so
# that the kernel loads one on demand (`ip link add ... type macvlan`
# requests rtnl-link-macvlan) through /sbin/modprobe.
mkdir -p "$ROOT/etc/vmtest" "$ROOT/lib/modules/$KVER"
: >"$ROOT/etc/vmtest/modules"
MDIR="$KDIR/lib/modules/$KVER"
cp "$MDIR"/modules.* "$ROOT/lib/modules/$KVER/"
declare -A seen=()
# add_module NAME|PATH LOAD: copy the module and its dependencies; list
# them for loading at boot when LOAD is 1.
add_module() {
	local m=$1 load=$2 line path deps d
	case "$m" in
	*.ko*) line=$(grep -E "^${m}:" "$MDIR/modules.dep" | head -n1) || true ;;
	*) line=$(grep -E "/${m//[-_]/[-_]}\.ko(\.[a-z]+)?:" "$MDIR/modules.dep" | head -n1) || true ;;
	esac
	if [ -z "$line" ]; then
		grep -qE "/${m//[-_]/[-_]}\.ko" "$MDIR/modules.builtin" 2>/dev/null ||
			log "module $m: not in $KVER (neither loadable nor built in)"
		return 0
	fi
	path=${line%%:*}
	if [ -z "${seen[$path]:-}" ]; then
		seen[$path]=copied
		mkdir -p "$ROOT/lib/modules/$KVER/$(dirname "$path")"
		cp "$MDIR/$path" "$ROOT/lib/modules/$KVER/$path"
	fi
	[ "$load" = 1 ] || return 0
	[ "${seen[$path]}" = listed ] && return 0
	deps=${line#*:}
	for d in $deps; do
		add_module "$d" 1
	done
	seen[$path]=listed
	echo "/lib/modules/$KVER/$path" >>"$ROOT/etc/vmtest/modules"
}
for m in ${MODULES//,/ }; do
	add_module "$m" 1
done
if [ "$tiny" = 0 ]; then
	sed -n 's/^\(kernel\/\(net\|drivers\/net\)\/[^:]*\):.*/\1/p' "$MDIR/modules.dep" |
		grep -v -E '^kernel/drivers/net/(ethernet|wireless|wwan|hyperv|xen|vmxnet3|usb|can|ieee802154|ppp|slip|hamradio|fddi|arcnet|plip|wan)' |
		grep -v -E '^kernel/net/(bluetooth|wireless|mac80211|mac802154|ieee802154|nfc|can|rxrpc|ceph|sunrpc|9p|rds|tipc|sctp|dccp|l2tp|atm|ax25|rose|netrom|x25|lapb|appletalk|phonet|qrtr|vmw_vsock|smc)/' |
		while read -r path; do
			d=$(grep -E "^${path}:" "$MDIR/modules.dep" | cut -d: -f2)
			for f in "$path" $d; do
				[ -e "$ROOT/lib/modules/$KVER/$f" ] && continue
				mkdir -p "$ROOT/lib/modules/$KVER/$(dirname "$f")"
				cp "$MDIR/$f" "$ROOT/lib/modules/$KVER/$f"
			done
		done
fi
[ -n "${VMTEST_CMD:-}" ] && printf '%s\n' "$VMTEST_CMD" >"$ROOT/etc/vmtest/cmd"

# ---- xfsm ------------------------------------------------------------------
if [ "$tiny" = 0 ] && [ -n "$TOP" ]; then
	mkdir -p "$ROOT/xfsm"
	# The source tree (tests find their files relative to themselves) less
	# version control and the build directory, then what the build made,
	# less the VM runner's cache, the Debian packaging's (make deb-check:
	# packages and a 200 MB chroot tarball no suite in the guest uses) and
	# the fuzzers' objects and corpora.
	(cd "$TOP" && tar --exclude=./.git --exclude="./$(basename "$BUILD")" \
		--exclude=./build -cf - .) | (cd "$ROOT/xfsm" && tar -xf -)
	mkdir -p "$ROOT/xfsm/build"
	(cd "$BUILD" && tar --exclude=./vmtest --exclude='./lib' --exclude=./deb \
		--exclude=./debootstrap --exclude=./fuzz/lib --exclude=./fuzz/harness \
		--exclude=./fuzz/corpus --exclude=./fuzz/artifacts -cf - .) |
		(cd "$ROOT/xfsm/build" && tar -xf -)
	# The ClassBench sets ($XFSM_CLASSBENCH, else ../shared/classbench
	# beside the project), which the ACL suite reads from /shared/classbench
	# beside /xfsm; without them it skips those cases.
	cb=${XFSM_CLASSBENCH:-$TOP/../shared/classbench}
	if [ -d "$cb" ]; then
		mkdir -p "$ROOT/shared/classbench"
		cp -a "$cb/." "$ROOT/shared/classbench/"
	fi
	# Libraries of every binary the build made.
	find "$ROOT/xfsm/build" -type f -perm -u+x | while read -r f; do
		ldd "$f" 2>/dev/null | grep -oE '(/[^ ]+)' | while read -r lib; do
			[ -e "$lib" ] && copy_file "$lib"
		done
	done
fi

(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --quiet -R 0:0) >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
log "initramfs $OUT: $(du -sh "$OUT" | cut -f1), modules: $(wc -l <"$ROOT/etc/vmtest/modules")"
# VMTEST_KEEP_ROOT=1 keeps the image's tree beside it, to look at.
[ "${VMTEST_KEEP_ROOT:-0}" = 1 ] || rm -rf "$ROOT"
