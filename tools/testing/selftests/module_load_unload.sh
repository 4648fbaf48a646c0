#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Load and unload vhost_zc 20 times; each load must create /sys/kernel/vhost_zc
# with the module's version and each unload must remove it.
. /selftests/lib.sh

want=$(modinfo -F vermagic "$VZC_KO" | cut -d' ' -f1)
[ "$want" = "$VZC_RELEASE" ] || fail "vermagic '$want' does not match the running kernel '$VZC_RELEASE'"

i=0
while [ $i -lt 20 ]; do
	i=$((i + 1))
	vzc_insmod || fail "insmod #$i failed"
	[ -d /sys/module/vhost_zc ] || fail "no /sys/module/vhost_zc after insmod #$i"
	v=$(cat /sys/kernel/vhost_zc/version) || fail "no /sys/kernel/vhost_zc/version after insmod #$i"
	[ "$v" = "0.1.0" ] || fail "version attribute says '$v'"
	rmmod vhost_zc || fail "rmmod #$i failed"
	[ ! -e /sys/module/vhost_zc ] || fail "/sys/module/vhost_zc still present after rmmod #$i"
	[ ! -e /sys/kernel/vhost_zc ] || fail "/sys/kernel/vhost_zc still present after rmmod #$i"
done
loads=$(dmesg | grep -c 'vhost_zc: 0.1.0 loaded')
[ "$loads" -ge 20 ] || fail "kernel log shows $loads loads, want 20"
echo "20 load/unload cycles, tainted=$(cat /proc/sys/kernel/tainted)"
