#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Install xfsm: ./scripts/install.sh DESTDIR PREFIX BUILD (called by
# `make install`).  Layout under DESTDIR:
#   PREFIX/sbin/xfsm-loader, PREFIX/sbin/xfsmctl
#   PREFIX/lib/xfsm/*.bpf.o                 (searched by xfsm-loader)
#   PREFIX/lib/systemd/system/xfsm@.service
#   PREFIX/share/man/man8/*.8, man1/*.1
#   PREFIX/share/doc/xfsm/*.md, PREFIX/share/xfsm/examples/*.xfsm
#   /etc/xfsm/xfsm.conf.example
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

SBINDIR=$PREFIX/sbin
LIBDIR=$PREFIX/lib/xfsm
UNITDIR=$PREFIX/lib/systemd/system
MANDIR=$PREFIX/share/man
DOCDIR=$PREFIX/share/doc/xfsm
EXDIR=$PREFIX/share/xfsm/examples
case "$PREFIX" in /usr | /usr/*) ETCDIR=/etc/xfsm ;; *) ETCDIR=$PREFIX/etc/xfsm ;; esac
[ "$PREFIX" = /usr/local ] && ETCDIR=/etc/xfsm

say() { printf '  %-8s %s\n' INSTALL "$1"; }

inst() {	# MODE SRC DESTDIR-relative-dir [NAME]
	mode=$1 src=$2 dir=$3 name=${4:-$(basename "$2")}
	install -d -m 0755 "$DESTDIR$dir"
	install -m "$mode" "$src" "$DESTDIR$dir/$name"
	say "$dir/$name"
}

for bin in xfsm-loader xfsmctl; do
	if [ -x "$BUILD/$bin" ]; then
		inst 0755 "$BUILD/$bin" "$SBINDIR"
	else
		echo "install.sh: $BUILD/$bin not built (run make)" >&2
		[ "$bin" = xfsm-loader ] && exit 1
	fi
done

for obj in xfsm.bpf.o xfsm-offload.bpf.o; do
	if [ -e "$BUILD/$obj" ]; then
		inst 0644 "$BUILD/$obj" "$LIBDIR"
	else
		echo "install.sh: $BUILD/$obj not built (run make)" >&2
		exit 1
	fi
done

# The unit names the installed binaries.
install -d -m 0755 "$DESTDIR$UNITDIR"
sed "s|@SBINDIR@|$SBINDIR|g" dist/xfsm@.service > "$DESTDIR$UNITDIR/xfsm@.service"
chmod 0644 "$DESTDIR$UNITDIR/xfsm@.service"
say "$UNITDIR/xfsm@.service"

install -d -m 0755 "$DESTDIR$ETCDIR"
inst 0644 dist/xfsm.conf.example "$ETCDIR"

for page in man/*.[0-9]; do
	[ -e "$page" ] || continue
	inst 0644 "$page" "$MANDIR/man${page##*.}"
done

for doc in docs/*.md; do
	[ -e "$doc" ] && inst 0644 "$doc" "$DOCDIR"
done
for ex in examples/*.xfsm; do
	[ -e "$ex" ] && inst 0644 "$ex" "$EXDIR"
done
exit 0
