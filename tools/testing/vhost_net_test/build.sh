#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build.sh [stock|debug] — build the kernel's own tools/virtio/vhost_net_test
# (linux-source-7.3) as a static binary in the build root and print its path,
# build/vhost_net_test/vhost_net_test.
#
# The kernel tree in the cache is shared by every worktree and keyed by its
# inputs, so it is never written to: the parts of it the test's Makefile reads
# are copied into build/vhost_net_test/tree, the project's shims
# (shim/, see README.rst) are laid over that copy's tools/virtio/, and the
# upstream Makefile is run there unchanged.
#
# The flavor only selects which prepared tree to copy from (default: stock);
# both are the same linux-source package, so the binary does not depend on it
# and one build serves both VMs. The build is skipped when the stamp (source
# package version, this script, the shims) matches the last successful build.
set -euo pipefail
. "$(dirname "$0")/../../buildroot/common.sh"

flavor=${1:-stock}
here="$VZC_TOP/tools/testing/vhost_net_test"
out="$VZC_TOP/build/vhost_net_test"
bin="$out/vhost_net_test"
stamp_file="$out/stamp"

stamp=$( {
	echo "$KSRC_PKG $KPKG_VERSION"
	sha256sum "$here/build.sh"
	(cd "$here/shim" && find . -type f | LC_ALL=C sort | xargs sha256sum)
} | sha256sum | cut -c1-16)
if [ -x "$bin" ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ]; then
	echo "$bin"
	exit 0
fi

kdir=$("$VZC_TOP/tools/buildroot/kernel.sh" "$flavor")
ctree=/cache/${kdir#"$VZC_CACHE"/}/tree
cout=/src/build/vhost_net_test
logf="$out/build.log"
rm -rf "$out"
mkdir -p "$out"

# What the Makefile reaches (T/tools/virtio/Makefile): -I. -I../include
# -I../../usr/include, -include ../../include/linux/kconfig.h, the kernel
# headers the tools/virtio shims forward to (<../../include/linux/...>), and
# vpath ../../drivers/virtio for virtio_ring.c. usr/include is not populated in
# the tree (no headers_install), so <linux/vhost.h> & co. come from the root's
# linux-libc-dev, which is pinned to the same kernel version ($KPKG_VERSION).
# Copies, not symlinks: make writes objects next to the sources, and nothing
# must ever be written into the shared tree.
# -Werror is the Makefile's own; link with -static so the binary runs in the
# initramfs, which has no glibc of its own for it (LDFLAGS, not CFLAGS, on the
# command line: a command-line CFLAGS would replace the Makefile's -I list).
log "building vhost_net_test from $ctree (log: $logf)"
if ! in_root sh -ec "
	mkdir -p $cout/tree/tools $cout/tree/drivers $cout/tree/usr
	cp -a $ctree/tools/virtio $ctree/tools/include $cout/tree/tools/
	cp -a $ctree/include $cout/tree/
	cp -a $ctree/drivers/virtio $cout/tree/drivers/
	cp -a $ctree/usr/include $cout/tree/usr/
	cp -a /src/tools/testing/vhost_net_test/shim/. $cout/tree/tools/virtio/
	make -C $cout/tree/tools/virtio CC=x86_64-linux-gnu-gcc-14 LDFLAGS='-pthread -static' vhost_net_test
	cp $cout/tree/tools/virtio/vhost_net_test $cout/vhost_net_test
" >"$logf" 2>&1; then
	tail -n 40 "$logf" >&2
	die "building vhost_net_test failed (full log: $logf)"
fi
# The link would still succeed with glibc's "statically linked applications
# requires at runtime the shared libraries" warnings, and such a binary fails
# in the initramfs only at run time; refuse it here.
if grep -E 'warning' "$logf" >&2; then
	die "building vhost_net_test printed warnings (above; full log: $logf)"
fi
if in_root readelf -l "$cout/vhost_net_test" | grep -q INTERP; then
	die "$bin is not statically linked"
fi
echo "$stamp" >"$stamp_file"
log "built $bin"
echo "$bin"
