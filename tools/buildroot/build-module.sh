#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-module.sh stock|debug — build vhost_zc.ko in the build root against the
# harness's kernel of that flavor; output in build/<flavor>/ (build/<flavor>-clippy/ with CLIPPY=1), path printed.
set -euo pipefail
. "$(dirname "$0")/common.sh"

flavor=${1:?usage: build-module.sh stock|debug}
kdir=$("$VZC_TOP/tools/buildroot/kernel.sh" "$flavor")
ctree=/cache/${kdir#"$VZC_CACHE"/}/tree
case "$flavor" in
stock) tc="CC=x86_64-linux-gnu-gcc-14 HOSTCC=x86_64-linux-gnu-gcc-14" ;;  # as Debian built it
debug) tc="ARCH=x86_64 LLVM=1" ;;
esac
# A lint build gets its own directory: kbuild does not track CLIPPY=1, so
# objects already built without it would be taken as up to date and nothing
# would be linted.
out=$flavor
case " ${VZC_MAKE_FLAGS:-} " in *" CLIPPY=1 "*) out=$flavor-clippy ;; esac
mkdir -p "$VZC_TOP/build/$out"
logf="$VZC_TOP/build/$out/build.log"
# shellcheck disable=SC2086 # $tc is a list of make variables
# VZC_MAKE_FLAGS: extra kbuild flags, e.g. CLIPPY=1 (the root's clippy-driver
# matches the kernel's rustc, so the kernel's own lint set applies).
if ! in_root make -C "$ctree" M=/src MO="/src/build/$out" $tc ${VZC_MAKE_FLAGS:-} -j"$(nproc)" modules >"$logf" 2>&1; then
	cat "$logf" >&2
	die "module build against the $flavor kernel failed"
fi
# Warnings are errors for this project (the kernel's W=1 is not, by design, but ours are).
# The objects go too: an incremental rebuild would not print them again.
if grep -E '^(warning|error)(\[|:)|: warning:' "$logf" >&2; then
	find "$VZC_TOP/build/$out" -name '*.o' -delete
	die "module build against the $flavor kernel printed warnings (above)"
fi
echo "$VZC_TOP/build/$out/vhost_zc.ko"
