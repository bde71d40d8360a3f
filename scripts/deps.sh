#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
# Install the Debian 12 packages xfsm needs to build and test; do nothing
# when they are all present.  Needs root (apt-get) only when something is
# missing.  `deps.sh PKG...` checks and installs those packages instead
# (`make vmtest` uses it for its own).
set -eu

# The second group is for packaging and its tests: the shared library's
# checks (binutils), man pages (man-db, groff-base, mandoc, bsdextrautils
# for col), the systemd unit (systemd for systemd-analyze), Debian packages
# (dpkg-dev, debhelper, lintian, debootstrap for make deb-check) and the
# fleet files (python3-yaml, ansible-core).  graphviz draws the examples'
# state machines for the documentation (make docs); tcpdump reads the
# files `xfsmctl capture` writes (test_ctl_trace).
PKGS="make gcc clang llvm libclang-rt-14-dev libc6-dev gcc-multilib libbpf-dev libxdp-dev libelf-dev
zlib1g-dev libnl-3-dev libnl-route-3-dev check libsubunit-dev bpftool iproute2
pkg-config jq ethtool iputils-ping netcat-openbsd python3 nftables iptables
procps util-linux kmod strace bc time graphviz tcpdump
binutils man-db groff-base mandoc bsdextrautils systemd dpkg-dev debhelper
lintian debootstrap python3-yaml ansible-core"
[ $# -gt 0 ] && PKGS="$*"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = "installed" ] || missing="$missing $p"
done

[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing; run 'make deps' as root or install them with apt-get" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Two builds started together (e.g. in two worktrees) both find packages
# missing: the second waits for the first's dpkg lock instead of failing.
lock="-o DPkg::Lock::Timeout=600"
# shellcheck disable=SC2086
apt-get $lock update -qq
# shellcheck disable=SC2086
apt-get $lock install -y -qq --no-install-recommends $missing
