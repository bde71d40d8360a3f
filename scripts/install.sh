#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Install xfsm: ./scripts/install.sh DESTDIR PREFIX BUILD (called by
# `make install`).  Layout under DESTDIR:
#   PREFIX/sbin/xfsm-loader, PREFIX/sbin/xfsmctl
#   PREFIX/lib/xfsm/*.bpf.o                 (searched by xfsm-loader)
#   PREFIX/lib/xfsm/xfsm-service            (what the systemd unit runs)
#   UNITDIR/xfsm@.service                   (PREFIX/lib/systemd/system)
#   LIBDIR/libxfsm.so.0*, libxfsm.so, libxfsm.a, LIBDIR/pkgconfig/libxfsm.pc
#   PREFIX/include/xfsm/*.h                 (the public headers)
#   PREFIX/share/man/man5, man7, man8
#   PREFIX/share/bash-completion/completions/*   (dist/bash-completion/)
#   PREFIX/share/doc/xfsm/*.md, PREFIX/share/xfsm/examples/* (fleet/ too)
#   SYSCONFDIR/xfsm/xfsm.conf.example       (/etc, or PREFIX/etc outside /usr)
# LIBDIR, UNITDIR and SYSCONFDIR may be set in the environment (Debian:
# LIBDIR=/usr/lib/<multiarch>, UNITDIR=/lib/systemd/system).  Paths in the
# unit, the service script, the man pages and libxfsm.pc are the installed
# ones (@NAME@ placeholders are replaced).
set -eu

if [ $# -ne 3 ]; then
	echo "usage: $0 DESTDIR PREFIX BUILD" >&2
	exit 2
fi
DESTDIR=$1
PREFIX=$2
BUILD=$3
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"

case "$PREFIX" in
/*) ;;
*) echo "install.sh: PREFIX must be an absolute path, not '$PREFIX'" >&2; exit 2 ;;
esac
SBINDIR=$PREFIX/sbin
PKGLIBDIR=$PREFIX/lib/xfsm
LIBDIR=${LIBDIR:-$PREFIX/lib}
INCLUDEDIR=$PREFIX/include
UNITDIR=${UNITDIR:-$PREFIX/lib/systemd/system}
MANDIR=$PREFIX/share/man
DOCDIR=$PREFIX/share/doc/xfsm
EXDIR=$PREFIX/share/xfsm/examples
COMPDIR=$PREFIX/share/bash-completion/completions
if [ -z "${SYSCONFDIR:-}" ]; then
	case "$PREFIX" in
	/usr | /usr/*) SYSCONFDIR=/etc ;;
	*) SYSCONFDIR=$PREFIX/etc ;;
	esac
fi
ETCDIR=$SYSCONFDIR/xfsm

if [ ! -e "$BUILD/libxfsm.vars" ]; then
	echo "install.sh: $BUILD/libxfsm.vars missing (run make)" >&2
	exit 1
fi
. "$BUILD/libxfsm.vars"

say() { printf '  %-8s %s\n' INSTALL "$1"; }

inst() {	# MODE SRC DIR [NAME]
	mode=$1 src=$2 dir=$3 name=${4:-$(basename "$2")}
	install -d -m 0755 "$DESTDIR$dir"
	install -m "$mode" "$src" "$DESTDIR$dir/$name"
	say "$dir/$name"
}

# inst_subst MODE SRC DIR [NAME]: install with the installed paths filled in.
inst_subst() {
	mode=$1 src=$2 dir=$3 name=${4:-$(basename "$2")}
	install -d -m 0755 "$DESTDIR$dir"
	sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@SBINDIR@|$SBINDIR|g" \
	    -e "s|@PKGLIBDIR@|$PKGLIBDIR|g" -e "s|@LIBDIR@|$LIBDIR|g" \
	    -e "s|@INCLUDEDIR@|$INCLUDEDIR|g" -e "s|@ETCDIR@|$ETCDIR|g" \
	    -e "s|@DOCDIR@|$DOCDIR|g" -e "s|@EXDIR@|$EXDIR|g" \
	    -e "s|@VERSION@|$LIBXFSM_VERSION|g" "$src" > "$DESTDIR$dir/$name"
	chmod "$mode" "$DESTDIR$dir/$name"
	say "$dir/$name"
}

need() {
	for f in "$@"; do
		[ -e "$BUILD/$f" ] && continue
		echo "install.sh: $BUILD/$f not built (run make)" >&2
		exit 1
	done
}

need xfsm-loader xfsmctl xfsm.bpf.o xfsm-offload.bpf.o xfsm-compact.bpf.o libxfsm.a \
	"libxfsm.so.$LIBXFSM_VERSION"

# ---- tools and the datapath ------------------------------------------------
for bin in xfsm-loader xfsmctl; do
	inst 0755 "$BUILD/$bin" "$SBINDIR"
done
for obj in xfsm.bpf.o xfsm-offload.bpf.o xfsm-compact.bpf.o; do
	inst 0644 "$BUILD/$obj" "$PKGLIBDIR"
done

# ---- systemd -------------------------------------------------------------------
inst_subst 0755 dist/xfsm-service "$PKGLIBDIR"
inst_subst 0644 dist/xfsm@.service "$UNITDIR"
install -d -m 0755 "$DESTDIR$ETCDIR"
inst_subst 0644 dist/xfsm.conf.example "$ETCDIR"

# ---- the library -------------------------------------------------------------------
inst 0755 "$BUILD/libxfsm.so.$LIBXFSM_VERSION" "$LIBDIR"
ln -sf "libxfsm.so.$LIBXFSM_VERSION" "$DESTDIR$LIBDIR/$LIBXFSM_SONAME"
say "$LIBDIR/$LIBXFSM_SONAME -> libxfsm.so.$LIBXFSM_VERSION"
ln -sf "$LIBXFSM_SONAME" "$DESTDIR$LIBDIR/libxfsm.so"
say "$LIBDIR/libxfsm.so -> $LIBXFSM_SONAME"
inst 0644 "$BUILD/libxfsm.a" "$LIBDIR"
inst_subst 0644 lib/libxfsm.pc.in "$LIBDIR/pkgconfig" libxfsm.pc
for h in $LIBXFSM_HDRS; do
	inst 0644 "$BUILD/include/xfsm/$h" "$INCLUDEDIR/xfsm"
done

# ---- documentation -------------------------------------------------------------------
for page in man/*.[0-9] "$BUILD"/man/*.[0-9]; do
	[ -e "$page" ] || continue
	inst_subst 0644 "$page" "$MANDIR/man${page##*.}"
done
for doc in docs/*.md; do
	[ -e "$doc" ] && inst 0644 "$doc" "$DOCDIR"
done
for ex in examples/*.xfsm examples/*.c; do
	[ -e "$ex" ] && inst 0644 "$ex" "$EXDIR"
done
# Fleet rollout files (docs/fleet.md): a Kubernetes DaemonSet, an Ansible role.
find dist/fleet -type f | sort | while read -r f; do
	rel=${f#dist/fleet/}
	inst 0644 "$f" "$EXDIR/fleet/$(dirname "$rel")"
done
for comp in dist/bash-completion/*; do
	[ -f "$comp" ] && inst 0644 "$comp" "$COMPDIR"
done

# A library installed into the system's directories is found at once.
if [ -z "$DESTDIR" ] && [ "$(id -u)" -eq 0 ] && command -v ldconfig >/dev/null; then
	ldconfig
fi
exit 0
