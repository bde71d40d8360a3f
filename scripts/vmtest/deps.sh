#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# The Debian 12 packages `make vmtest` needs besides the build's: qemu, a
# static busybox for the guest, cpio for its initramfs, kmod's depmod and
# dpkg-deb for the kernel package.  Nothing happens when all are present.
exec "$(dirname "$0")/../deps.sh" qemu-system-x86 busybox-static cpio kmod dpkg
