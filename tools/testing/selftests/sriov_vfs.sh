#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The emulated 82576 PF (8086:10c9) creates two VFs (8086:10ca) through
# sriov_numvfs and removes them again. igbvf is not loaded: the VFs are for
# vhost_zc's own VF driver.
. /selftests/lib.sh

pf_up
total=$(cat "$pf/sriov_totalvfs")
[ "$total" -ge 2 ] || fail "PF offers $total VFs, want >= 2"

vfs() {
	n=0
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x8086 ] && [ "$(cat "$d/device")" = 0x10ca ] || continue
		[ "$(readlink -f "$d/physfn")" = "$(readlink -f "$pf")" ] || fail "VF $d does not point at the PF"
		n=$((n + 1))
	done
	echo $n
}
echo 2 >"$pf/sriov_numvfs" || fail "writing 2 to sriov_numvfs failed"
[ "$(cat "$pf/sriov_numvfs")" = 2 ] || fail "sriov_numvfs reads $(cat "$pf/sriov_numvfs")"
n=$(vfs)
[ "$n" = 2 ] || fail "$n VFs (8086:10ca) on the bus, want 2"
echo 0 >"$pf/sriov_numvfs" || fail "writing 0 to sriov_numvfs failed"
n=$(vfs)
[ "$n" = 0 ] || fail "$n VFs left after sriov_numvfs=0"
echo "PF $(basename "$pf"): $total VFs offered, 2 created and removed"
