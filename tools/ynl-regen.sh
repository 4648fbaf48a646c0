#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# ynl-regen.sh [--check]: generate, from the YNL spec
# Documentation/netlink/specs/vhost_zc.yaml, with the kernel's own generator
# (tools/net/ynl/pyynl/ynl_gen_c.py of the stock kernel's source, run in the
# build root):
#   include/uapi/linux/vhost_zc.h         the uapi header (zcctl checks against it)
#   rust/glue/vhost_zc_nl.{c,h}           the kernel's policy tables and ops table
# --check: generate into a temporary directory and fail if a committed file differs.
set -euo pipefail
. "$(dirname "$0")/buildroot/common.sh"
check=${1:-}
kdir=$("$VZC_TOP/tools/buildroot/kernel.sh" stock)
tree_in_root=/cache/${kdir#"$VZC_CACHE"/}/tree
work=$(mktemp -d "$VZC_TOP/build/ynl.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The generator names files relative to the kernel tree it finds above the
# spec (it looks for MAINTAINERS) and reads the schema from the spec's
# parent directory: give it a tree of its own with exactly that shape.
mkdir -p "$work/Documentation/netlink/specs"
: >"$work/MAINTAINERS"
cp "$VZC_TOP/Documentation/netlink/specs/vhost_zc.yaml" "$work/Documentation/netlink/specs/"
cp "$kdir/tree/Documentation/netlink/genetlink-c.yaml" "$work/Documentation/netlink/"
w=/src/${work#"$VZC_TOP"/}
gen() { # MODE KIND OUTPUT
	in_root timeout 120 python3 "$tree_in_root/tools/net/ynl/pyynl/ynl_gen_c.py" \
		--mode "$1" "--$2" --spec "$w/Documentation/netlink/specs/vhost_zc.yaml" -o "$w/out/$3"
}
mkdir -p "$work/out"
gen uapi header vhost_zc.h
gen kernel header vhost_zc_nl.h
gen kernel source vhost_zc_nl.c
status=0
for f in include/uapi/linux/vhost_zc.h rust/glue/vhost_zc_nl.h rust/glue/vhost_zc_nl.c; do
	if [ "$check" = --check ]; then
		if ! cmp -s "$work/out/$(basename "$f")" "$VZC_TOP/$f"; then
			echo "$f is not what the spec generates (run tools/ynl-regen.sh):"
			diff -u "$VZC_TOP/$f" "$work/out/$(basename "$f")" || true
			status=1
		fi
	else
		install -m 0644 "$work/out/$(basename "$f")" "$VZC_TOP/$f"
		echo "GEN $f"
	fi
done
exit $status
