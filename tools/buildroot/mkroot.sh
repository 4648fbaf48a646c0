#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Create (once) the Debian 13 build root that holds the exact toolchain Debian
# built its 7.3.4 kernel with, plus QEMU and the stock kernel packages.
# Idempotent: prints the root's path and exits at once when it already exists.
# The host (Debian 12) only gets mmdebstrap; nothing from trixie touches it.
set -euo pipefail
. "$(dirname "$0")/common.sh"

if [ -f "$VZC_ROOT/.complete" ]; then
	echo "$VZC_ROOT"; exit 0
fi

mkdir -p "$VZC_CACHE"
exec 9>"$VZC_ROOT.lock"
flock 9
if [ -f "$VZC_ROOT/.complete" ]; then
	echo "$VZC_ROOT"; exit 0
fi

command -v mmdebstrap >/dev/null || {
	log "installing mmdebstrap on the host (bookworm package)"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap debian-archive-keyring >/dev/null
}
mkdir -p "$VZC_DEBS" "$VZC_CACHE/logs"
tmp="$VZC_ROOT.tmp"
rm -rf --one-file-system "$tmp"

mirror=http://deb.debian.org/debian

# The .deb cache is synced in and out so a rebuild needs no download and
# survives backports dropping superseded versions.
run_logged "mmdebstrap $DEBIAN_SUITE root" "$VZC_CACHE/logs/mmdebstrap.log" \
	mmdebstrap --variant=apt --mode=root --skip=essential/unlink --skip=download/empty \
	--include="${ROOT_PACKAGES// /,}" \
	--setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
	--setup-hook="sync-in $VZC_DEBS /var/cache/apt/archives/" \
	--customize-hook="sync-out /var/cache/apt/archives $VZC_DEBS" \
	"$DEBIAN_SUITE" "$tmp" \
	"deb $mirror $DEBIAN_SUITE main" \
	"deb $mirror $DEBIAN_SUITE-updates main" \
	"deb $mirror $DEBIAN_SUITE-backports main" \
	"deb http://deb.debian.org/debian-security $DEBIAN_SUITE-security main"

# Kernel packages from backports, pinned to the exact version. linux-image pulls
# dracut, which fails in a chroot: download the binary/modules packages instead.
cat >"$tmp/root/kpkgs.sh" <<EOS
set -e
cp /cache/debs/*.deb /var/cache/apt/archives/ 2>/dev/null || true
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -t $DEBIAN_SUITE-backports \
	$KSRC_PKG=$KPKG_VERSION linux-headers-$KREL=$KPKG_VERSION
cp -n /var/cache/apt/archives/*.deb /cache/debs/
cd /cache/debs
for p in \$(apt-cache depends linux-image-$KREL=$KPKG_VERSION | awk '/Depends: linux-(binary|modules)/{print \$2}'); do
	ls \${p}_*.deb >/dev/null 2>&1 || apt-get download \$p=$KPKG_VERSION
done
ls linux-binary-*$KPKG_VERSION* >/dev/null 2>&1 || apt-get download linux-image-$KREL=$KPKG_VERSION
EOS
VZC_ROOT=$tmp in_root bash /root/kpkgs.sh >"$VZC_CACHE/logs/kpkgs.log" 2>&1 || { tail -30 "$VZC_CACHE/logs/kpkgs.log"; die "kernel packages install failed"; }

# Fail early and by name if trixie's toolchain is not the one the kernel was built with.
cfg="$tmp/usr/src/linux-headers-$KREL/.config"
[ -f "$cfg" ] || die "headers of $KREL missing in the root"
want_rustc=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"/\1/p' "$cfg")
want_bindgen=$(sed -n 's/^CONFIG_BINDGEN_VERSION_TEXT="\(.*\)"/\1/p' "$cfg")
have_rustc=$(chroot "$tmp" rustc --version)
have_bindgen=$(chroot "$tmp" bindgen --version)
[ "$want_rustc" = "$have_rustc" ] || die "rustc mismatch: kernel $KREL was built with '$want_rustc', build root has '$have_rustc'"
[ "$want_bindgen" = "$have_bindgen" ] || die "bindgen mismatch: kernel $KREL was built with '$want_bindgen', build root has '$have_bindgen'"
chroot "$tmp" dpkg-query -W >"$tmp/.package-versions"
touch "$tmp/.complete"
mv "$tmp" "$VZC_ROOT"
log "build root ready: $VZC_ROOT ($have_rustc, $have_bindgen)"
echo "$VZC_ROOT"
