#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# /dev/vhost-net from vhost_zc answers every ioctl, read and write as stock
# vhost_net does: the same program runs against both (against vhost_net first,
# which proves the expectations). Also: vhost_zc refuses to load while
# vhost_net holds minor 238, and the module aliases are the ones udev uses.
. /selftests/lib.sh
bin=/selftests/bin/vhost_abi

modinfo -F alias "$VZC_KO" | grep -qx 'devname:vhost-net' || fail "no devname:vhost-net alias"
modinfo -F alias "$VZC_KO" | grep -qx 'char-major-10-238' || fail "no char-major-10-238 alias"

modprobe vhost_net || fail "modprobe vhost_net (the reference) failed"
echo "--- reference: stock vhost_net"
$bin --reference || fail "the ABI expectations do not hold for stock vhost_net"
vzc_insmod 2>/dev/null && { rmmod vhost_zc; fail "vhost_zc loaded although vhost_net holds minor 238"; }
dmesg | tail -n 5 | grep -q 'unload vhost_net' || fail "no log line telling why vhost_zc refused to load"
modprobe -r vhost_net || fail "modprobe -r vhost_net failed"

vzc_insmod || fail "insmod vhost_zc failed"
echo "--- vhost_zc"
$bin; rc=$?
# Unloading while a VMM holds the device is refused (the file pins the module).
exec 4</dev/vhost-net
rmmod vhost_zc 2>/dev/null && fail "rmmod vhost_zc succeeded with /dev/vhost-net open"
exec 4<&-
[ -z "$(ls /sys/kernel/vhost_zc/devices)" ] || fail "device counters left after every fd was closed: $(ls /sys/kernel/vhost_zc/devices)"
rmmod vhost_zc || fail "rmmod vhost_zc failed"
[ $rc = 0 ] || fail "vhost_zc differs from the vhost-net ABI (above)"
