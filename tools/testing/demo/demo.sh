#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# What `make demo` shows inside the VM. Grows with each capability.
. /selftests/lib.sh
say() { printf '\n=== %s\n' "$*"; }

say "kernel $(uname -r) (Debian's own vmlinuz, unmodified)"
say "module: $(modinfo -F vermagic "$VZC_KO" | sed 's/^/vermagic /')"
modinfo "$VZC_KO" | grep -E '^(description|license|depends):'
say "insmod vhost_zc.ko"
vzc_insmod || fail "insmod failed"
dmesg | grep vhost_zc | tail -n 3 | sed 's/^/  dmesg| /'
echo "/sys/kernel/vhost_zc/version: $(cat /sys/kernel/vhost_zc/version)"
grep vhost_zc /proc/modules
say "SR-IOV: the emulated 82576 PF and its VFs (for the VF driver to come)"
modprobe igb
for d in /sys/bus/pci/devices/*; do
	[ -e "$d/sriov_totalvfs" ] && pf=$d
done
echo 2 >"$pf/sriov_numvfs"
for d in /sys/bus/pci/devices/*; do
	printf '%s %s:%s %s\n' "$(basename "$d")" "$(cat "$d/vendor")" "$(cat "$d/device")" \
		"$([ -e "$d/physfn" ] && echo "VF of $(basename "$(readlink "$d/physfn")")")"
done | grep -E '0x10c9|0x10ca'
echo 0 >"$pf/sriov_numvfs"
say "rmmod vhost_zc"
rmmod vhost_zc || fail "rmmod failed"
dmesg | grep vhost_zc | tail -n 1 | sed 's/^/  dmesg| /'
