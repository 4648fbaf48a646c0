#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kernel.sh stock|debug — prepare (once, cached) a kernel for building and booting
# the module, and print its directory:
#   <dir>/tree      kernel tree to build the module against (make -C <dir>/tree M=...)
#   <dir>/vmlinuz   kernel image to boot
#   <dir>/image     root of /lib/modules/<release> (depmod'ed)
#   <dir>/release   `uname -r` of that kernel
#
# stock: Debian's own vmlinuz-$KREL, untouched. Only the Rust metadata that the
#        headers package lacks is regenerated from linux-source with Debian's
#        config and the same rustc, so modpost resolves against Debian's
#        Module.symvers (see Documentation/build.rst).
# debug: linux-source built with LLVM=1 and tools/buildroot/debug.config over
#        allnoconfig (KUnit, KASAN, lockdep, kmemleak).
set -euo pipefail
. "$(dirname "$0")/common.sh"

flavor=${1:?usage: kernel.sh stock|debug}
# Bump when the recipe below changes in a way that changes the output.
recipe=1
# The cache key covers what the kernel is made of (source, toolchain, config,
# recipe), not the rest of the build root, so adding a tool to the root does
# not cost a 20-minute kernel rebuild.
inputs="$KREL $KPKG_VERSION $RUSTC_VERSION_TEXT $BINDGEN_VERSION_TEXT $flavor recipe $recipe"
case "$flavor" in
stock) ;;
debug) inputs+=$(cat "$VZC_TOP/tools/buildroot/debug.config") ;;
*) die "unknown kernel flavor '$flavor' (stock|debug)" ;;
esac
key=$(sha256sum <<<"$inputs" | cut -c1-12)
dir="$VZC_CACHE/kernels/$flavor-$key"
if [ -f "$dir/.complete" ]; then
	echo "$dir"; exit 0
fi

"$VZC_TOP/tools/buildroot/mkroot.sh" >/dev/null
mkdir -p "$VZC_CACHE/kernels"
# One builder per kernel: a second caller waits, then finds it complete.
exec 9>"$dir.lock"
flock 9
if [ -f "$dir/.complete" ]; then
	echo "$dir"; exit 0
fi
mkdir -p "$dir" "$VZC_CACHE/logs"
cdir=/cache/kernels/$flavor-$key    # the same directory, seen from inside the root
logf="$VZC_CACHE/logs/kernel-$flavor.log"

# An interrupted run resumes: the unpacked tree is kept, make is incremental.
if [ ! -f "$dir/.unpacked" ]; then
	rm -rf "${dir:?}/tree" "$dir/$KSRC_PKG"
	run_logged "unpacking $KSRC_PKG" "$logf" in_root sh -c "tar -C $cdir -xf /usr/src/$KSRC_PKG.tar.xz && mv $cdir/$KSRC_PKG $cdir/tree"
	touch "$dir/.unpacked"
fi

if [ "$flavor" = stock ]; then
	hdr=/usr/src/linux-headers-$KREL
	mk="make -C $cdir/tree CC=x86_64-linux-gnu-gcc-14 HOSTCC=x86_64-linux-gnu-gcc-14"
	# Debian's exact config; LOCALVERSION makes `make kernelrelease` say $KREL.
	run_logged "configuring stock tree" "$logf" in_root sh -ec "
		cp $hdr/.config $cdir/tree/.config
		cd $cdir/tree
		scripts/config --set-str LOCALVERSION '+deb13-amd64' --disable LOCALVERSION_AUTO
		$mk olddefconfig
		$mk rustavailable"
	run_logged "make modules_prepare (builds rust/ metadata, ~2 min)" "$logf" in_root sh -ec "
		$mk -j$(nproc) modules_prepare
		cp $hdr/Module.symvers $hdr/vmlinux $cdir/tree/"
	rm -rf "$dir/image"
	mkdir -p "$dir/image"
	for p in linux-binary linux-modules; do
		f=$(ls "$VZC_DEBS/$p-${KREL}_${KPKG_VERSION/:/%3a}_amd64.deb")
		dpkg-deb -x "$f" "$dir/image"
	done
	mv "$dir/image/usr/lib" "$dir/image/lib"
	[ -f "$dir/image/lib/modules/$KREL/vmlinuz" ] || die "no vmlinuz in the linux-binary package"
	ln -sfn "image/lib/modules/$KREL/vmlinuz" "$dir/vmlinuz"
else
	mk="make -C $cdir/tree ARCH=x86_64 LLVM=1"
	# Configured once per tree (the key covers debug.config), so a resumed build stays incremental.
	[ -f "$dir/.configured" ] || run_logged "configuring debug tree" "$logf" in_root sh -ec "
		cp /src/tools/buildroot/debug.config $cdir/debug.config
		$mk allnoconfig
		cd $cdir/tree && scripts/kconfig/merge_config.sh -m .config $cdir/debug.config
		$mk olddefconfig"
	touch "$dir/.configured"
	# merge_config only warns when a symbol's dependencies drop it: fail instead.
	bad=$(grep -E '^(CONFIG_[A-Z0-9_]+=.*|# CONFIG_[A-Z0-9_]+ is not set)$' "$VZC_TOP/tools/buildroot/debug.config" |
		while read -r line; do grep -qxF "$line" "$dir/tree/.config" || echo "$line"; done)
	[ -z "$bad" ] || die "debug.config lines that did not stick (unmet dependencies?): $bad"
	run_logged "building debug kernel (LLVM=1; ~20 min cold on 2 cores)" "$logf" in_root \
		$mk -j$(( $(nproc) + 1 )) bzImage modules
	run_logged "installing debug modules" "$logf" in_root \
		$mk INSTALL_MOD_PATH="$cdir/image" INSTALL_MOD_STRIP=1 modules_install
	ln -sf tree/arch/x86/boot/bzImage "$dir/vmlinuz"
fi

rel=$(in_root make -s -C "$cdir/tree" kernelrelease)
[ "$flavor" != stock ] || [ "$rel" = "$KREL" ] || die "stock tree says release '$rel', want '$KREL'"
echo "$rel" >"$dir/release"
in_root depmod -b "$cdir/image" "$rel" 2>&1 | { grep -v "could not open modules" || true; } >&2
touch "$dir/.complete"
log "$flavor kernel ready: $dir (release $rel)"
echo "$dir"
