#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# Install the Debian 12 packages `make vmtest` needs besides scripts/deps.sh's:
# qemu, a static busybox for the guest, cpio for its initramfs, kmod's
# depmod, dpkg-deb for the kernel package.  Nothing when all are present.
set -eu

PKGS="qemu-system-x86 busybox-static cpio kmod dpkg"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "vmtest: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "vmtest: missing packages:$missing; install them with apt-get as root" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
