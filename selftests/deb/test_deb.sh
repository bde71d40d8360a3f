#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# The Debian packages `make deb` built (selftests/deb/test_deb.sh DEB_DIR;
# `make deb-check` runs both, .ci/run runs `make deb-check`):
#  - the version is the Makefile's, the three packages are there, and
#    their contents lists (dpkg-deb -c) hold what each must and nothing
#    else, no file in two packages;
#  - installed with apt into a fresh Debian 12 chroot (debootstrap
#    --variant=minbase, cached in $BUILD/debootstrap/), the tools run, the
#    loader attaches the packaged datapath to a veth in a namespace and
#    xfsmctl applies a packaged example, xfsm-service checks a
#    configuration, controller.c builds with pkg-config against
#    libxfsm-dev and runs with libxfsm0; purging removes every file.
# Not part of `make test`: building takes half a minute to minutes, and the
# chroot needs the Debian archive (DEB_MIRROR, default deb.debian.org).

. "$(dirname "$0")/../sh/lib.sh"

DEB=${1:?usage: test_deb.sh DEB_DIR}
MIRROR=${DEB_MIRROR:-http://deb.debian.org/debian}
xt_require_root
xt_require_cmd dpkg-deb dpkg-parsechangelog dpkg-architecture debootstrap chroot nsenter ip

VERSION=$(cd "$XT_TOP" && dpkg-parsechangelog -S Version)
MKVERSION=$(sed -n 's/^VERSION *:= *//p' "$XT_TOP/Makefile")
ARCH=$(dpkg --print-architecture)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
xt_check "debian/changelog's version $VERSION is the Makefile's ($MKVERSION)" "$VERSION" = "$MKVERSION"

contents() {	# PKG: the files and links of its .deb, one path a line
	dpkg-deb -c "$DEB/${1}_${VERSION}_$ARCH.deb" |
		awk '$1 !~ /^d/ { print $6 }' | sed 's|^\./|/|' | sort
}

declare -A files
for p in xfsm libxfsm0 libxfsm-dev; do
	f="$DEB/${p}_${VERSION}_$ARCH.deb"
	xt_check "$p: $(basename "$f") built" -e "$f" || continue
	files[$p]=$(contents "$p")
done

# must PKG PATH...: each path is in PKG's contents.
must() {
	local p=$1 f
	shift
	for f in "$@"; do
		xt_check "$p contains $f" "$(grep -cxF -- "$f" <<<"${files[$p]}")" = 1
	done
}
# only PKG REGEX: every file of PKG matches REGEX.
only() {
	local extra
	extra=$(grep -Ev -- "$2" <<<"${files[$1]}")
	xt_check "$1 contains nothing else" -z "$extra" || printf '%s\n' "$extra" | sed 's/^/    /'
}

must xfsm /usr/sbin/xfsm-loader /usr/sbin/xfsmctl /usr/lib/xfsm/xfsm.bpf.o \
	/usr/lib/xfsm/xfsm-offload.bpf.o /usr/lib/xfsm/xfsm-compact.bpf.o /usr/lib/xfsm/xfsm-service \
	/lib/systemd/system/xfsm@.service /etc/xfsm/xfsm.conf.example \
	/usr/share/man/man8/xfsm-loader.8.gz /usr/share/man/man8/xfsmctl.8.gz \
	/usr/share/man/man7/xfsm.7.gz /usr/share/man/man5/xfsm.xfsm.5.gz \
	/usr/share/xfsm/examples/portknock.xfsm /usr/share/xfsm/examples/controller.c \
	/usr/share/doc/xfsm/libxfsm.md.gz /usr/share/doc/xfsm/copyright
for c in "$XT_TOP"/dist/bash-completion/*; do
	[ -f "$c" ] && must xfsm "/usr/share/bash-completion/completions/$(basename "$c")"
done
only xfsm '^/(usr/sbin/xfsm(-loader|ctl)|usr/lib/xfsm/|lib/systemd/system/xfsm@\.service|etc/xfsm/|usr/share/(man/man[578]/|doc/xfsm/|xfsm/examples/|bash-completion/completions/|lintian/overrides/xfsm$))'
must libxfsm0 "/usr/lib/$MA/libxfsm.so.0" "/usr/lib/$MA/libxfsm.so.0.1.0"
only libxfsm0 "^/(usr/lib/$MA/libxfsm\.so\.0(\.1\.0)?|usr/share/doc/libxfsm0/.*)\$"
must libxfsm-dev /usr/include/xfsm/libxfsm.h /usr/include/xfsm/abi.h "/usr/lib/$MA/libxfsm.so" \
	"/usr/lib/$MA/libxfsm.a" "/usr/lib/$MA/pkgconfig/libxfsm.pc"
only libxfsm-dev "^/(usr/include/xfsm/[a-z_]+\.h|usr/lib/$MA/(libxfsm\.(so|a)|pkgconfig/libxfsm\.pc)|usr/share/doc/libxfsm-dev/.*)\$"
dups=$(printf '%s\n' "${files[@]}" | grep -v '^/usr/share/doc/' | sort | uniq -d)
xt_check "no file is in two packages" -z "$dups" || printf '%s\n' "$dups" | sed 's/^/    /'
xt_check "libxfsm-dev depends on this libxfsm0" \
	"$(dpkg-deb -f "$DEB/libxfsm-dev_${VERSION}_$ARCH.deb" Depends | grep -c "libxfsm0 (= $VERSION)")" = 1

# ---- a Debian 12 chroot ---------------------------------------------------------------
CACHE="$XT_BUILD/debootstrap/bookworm-minbase.tar"
if [ ! -s "$CACHE" ]; then
	xt_log "debootstrap --variant=minbase bookworm (cached in $CACHE; a few minutes)"
	T=$(mktemp -d /tmp/xt-debootstrap.XXXXXX)
	xt_defer "rm -rf '$T'"
	if ! debootstrap --variant=minbase bookworm "$T" "$MIRROR" > "$T.log" 2>&1; then
		tail -n 20 "$T.log"
		xt_fail "debootstrap bookworm from $MIRROR (log $T.log)"
		xt_done
	fi
	mkdir -p "$(dirname "$CACHE")"
	tar -C "$T" -cf "$CACHE.tmp" . && mv "$CACHE.tmp" "$CACHE"
	rm -rf "$T" "$T.log"
fi
R=$(mktemp -d /tmp/xt-deb-root.XXXXXX)
xt_defer "rm -rf --one-file-system '$R'"
tar -C "$R" -xf "$CACHE" || { xt_fail "unpack $CACHE"; xt_done; }
mount -t proc proc "$R/proc" && xt_defer "umount -l '$R/proc'"
cp /etc/resolv.conf "$R/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"
chmod 0755 "$R/usr/sbin/policy-rc.d"
mkdir -p "$R/tmp/debs"
cp "$DEB"/xfsm_"$VERSION"_"$ARCH".deb "$DEB"/libxfsm0_"$VERSION"_"$ARCH".deb \
	"$DEB"/libxfsm-dev_"$VERSION"_"$ARCH".deb "$R/tmp/debs/"
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }

xt_ok "apt-get update in the chroot" in_root apt-get update -qq || xt_done
xt_ok "apt installs the three packages (and gcc, pkgconf to build against them)" \
	in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	/tmp/debs/xfsm_"$VERSION"_"$ARCH".deb /tmp/debs/libxfsm0_"$VERSION"_"$ARCH".deb \
	/tmp/debs/libxfsm-dev_"$VERSION"_"$ARCH".deb gcc libc6-dev pkgconf || xt_done

xt_ok "xfsm-loader help runs" in_root xfsm-loader help
xt_ok "xfsmctl compiles a packaged example" \
	in_root xfsmctl apply --dry-run /usr/share/xfsm/examples/portknock.xfsm
printf 'XFSM_INTERFACES="b0"\nXFSM_APPLICATION=/usr/share/xfsm/examples/portknock.xfsm\n' \
	> "$R/etc/xfsm/pk.conf"
xt_ok "xfsm-service check reads /etc/xfsm/pk.conf" in_root /usr/lib/xfsm/xfsm-service check pk
xt_match "the unit runs /usr/lib/xfsm/xfsm-service" '^ExecStart=/usr/lib/xfsm/xfsm-service start %i$' \
	"$(cat "$R/lib/systemd/system/xfsm@.service")"
xt_ok "controller.c builds with pkg-config against libxfsm-dev" in_root sh -c \
	'cc -Wall -Werror -o /tmp/controller /usr/share/xfsm/examples/controller.c $(pkg-config --cflags --libs libxfsm)'
# (/lib is /usr/lib on Debian 12)
xt_match "the controller uses the packaged libxfsm.so.0" "libxfsm\.so\.0 => (/usr)?/lib/$MA/libxfsm\.so\.0" \
	"$(in_root ldd /tmp/controller)"
in_root /tmp/controller >/dev/null 2>&1
xt_check "the controller runs (usage: exit 2)" $? = 2

# The packaged loader attaches the packaged datapath, found in /usr/lib/xfsm.
xt_netns_add B
ip link add b0 netns "$XT_NS_B" type veth peer name b1 netns "$XT_NS_B" &&
	ip -n "$XT_NS_B" link set b0 up && ip -n "$XT_NS_B" link set b1 up
mount --rbind /sys "$R/sys" && mount --make-rslave "$R/sys" && xt_defer "umount -R -l '$R/sys'"
xt_bpffs || xt_skip "cannot mount bpffs"
INST="xt$XT_ID-deb"
xt_defer "rm -rf '/sys/fs/bpf/xfsm/$INST'"
in_ns() { nsenter --net="/run/netns/$XT_NS_B" chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
xt_ok "the packaged loader attaches its datapath" in_ns xfsm-loader load --mode skb --instance "$INST" b0
xt_ok "the packaged xfsmctl applies an example" \
	in_ns xfsmctl --instance "$INST" apply /usr/share/xfsm/examples/portknock.xfsm
xt_ok "the packaged controller reads the instance" in_ns /tmp/controller -i "$INST" stats
xt_ok "the packaged loader detaches it" in_ns xfsm-loader unload --instance "$INST"

rm -f "$R/etc/xfsm/pk.conf"	# the administrator's file, which dpkg leaves
xt_ok "apt purges the packages" in_root env DEBIAN_FRONTEND=noninteractive \
	apt-get purge -y -qq xfsm libxfsm0 libxfsm-dev
for d in /usr/lib/xfsm /etc/xfsm /usr/include/xfsm /usr/share/xfsm "/usr/lib/$MA/libxfsm.so.0"; do
	xt_check "purged: $d is gone" ! -e "$R$d"
done
xt_done
