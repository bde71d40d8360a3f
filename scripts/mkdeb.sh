#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# scripts/mkdeb.sh OUTDIR (what `make deb` runs): build the Debian packages
# xfsm, libxfsm0 and libxfsm-dev with `dpkg-buildpackage -us -uc -b` from a
# copy of the tree as a fresh clone has it (the files git tracks or would
# track, as they are in the working tree; every file when it is no git
# checkout), so that nothing built in place leaks into the packages.
# dpkg-buildpackage writes its results beside the source directory: the
# copy is OUTDIR/src/xfsm-VERSION, and the results are moved to OUTDIR.
# Then lintian checks them and fails on errors (warnings are shown).
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=$1
case "$OUT" in /*) ;; *) OUT="$TOP/$OUT" ;; esac

for t in dpkg-buildpackage dh dpkg-parsechangelog lintian; do
	command -v "$t" >/dev/null 2>&1 ||
		{ echo "mkdeb: $t is missing (run make deps)" >&2; exit 1; }
done
VERSION=$(cd "$TOP" && dpkg-parsechangelog -S Version)
SRC="$OUT/src/xfsm-$VERSION"

rm -rf "$OUT"
mkdir -p "$SRC"
cd "$TOP"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\n" "$f"; done' sh |
		tar -cf - --no-recursion -T - | tar -xf - -C "$SRC"
else
	tar -cf - --exclude=./build . | tar -xf - -C "$SRC"
fi
printf '  %-8s %s\n' DEB "$SRC (dpkg-buildpackage -us -uc -b, log in $OUT/build.log)"
if ! (cd "$SRC" && dpkg-buildpackage -us -uc -b) > "$OUT/build.log" 2>&1; then
	tail -n 40 "$OUT/build.log" >&2
	echo "mkdeb: dpkg-buildpackage failed; the whole log is $OUT/build.log" >&2
	exit 1
fi
mv "$OUT"/src/*.deb "$OUT"/src/*.changes "$OUT"/src/*.buildinfo "$OUT"/
rm -rf "$OUT/src"
for f in "$OUT"/*.deb; do
	printf '  %-8s %s\n' DEB "$f"
done

printf '  %-8s %s\n' LINTIAN "$OUT/xfsm_${VERSION}_$(dpkg --print-architecture).changes"
if ! lintian --fail-on error --info "$OUT"/*.changes > "$OUT/lintian.log" 2>&1; then
	cat "$OUT/lintian.log" >&2
	echo "mkdeb: lintian reports errors" >&2
	exit 1
fi
cat "$OUT/lintian.log"
