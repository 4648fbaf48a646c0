#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A guest that moves its ring indices while the device reads them (and reads
# the used index while the device writes it): no torn index may be seen on
# either side. Stock vhost_net first (the reference), then vhost_zc.
. /selftests/lib.sh
bin=/selftests/bin/vhost_race
mkdir -p /dev/net
modprobe tun || fail "modprobe tun failed"
[ -c /dev/net/tun ] || mknod /dev/net/tun c 10 200

modprobe vhost_net || fail "modprobe vhost_net failed"
echo "--- reference: stock vhost_net"
$bin --reference || { modprobe -r vhost_net; fail "the expectations do not hold for stock vhost_net"; }
modprobe -r vhost_net || fail "modprobe -r vhost_net failed"

vzc_insmod || fail "insmod vhost_zc failed"
echo "--- vhost_zc"
before=$(dmesg | grep -c 'vhost_zc: .* ring stopped')
$bin; rc=$?
dmesg | grep 'vhost_zc: .* ring stopped' | tail -n +$((before + 1))
rmmod vhost_zc || fail "rmmod vhost_zc failed"
[ $rc = 0 ] || fail "vhost_zc saw or wrote a torn ring index (above)"
