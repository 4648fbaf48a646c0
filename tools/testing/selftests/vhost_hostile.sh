#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A hostile guest breaks its TX ring in 8 ways; the device reports each on the
# ring's error eventfd, completes nothing, and the host stays healthy. Run
# against stock vhost_net (the reference) and then vhost_zc.
. /selftests/lib.sh
bin=/selftests/bin/vhost_hostile
mkdir -p /dev/net
modprobe tun || fail "modprobe tun failed"
[ -c /dev/net/tun ] || mknod /dev/net/tun c 10 200

modprobe vhost_net || fail "modprobe vhost_net failed"
echo "--- reference: stock vhost_net"
$bin --reference || { modprobe -r vhost_net; fail "the expectations do not hold for stock vhost_net"; }
modprobe -r vhost_net || fail "modprobe -r vhost_net failed"

vzc_insmod || fail "insmod vhost_zc failed"
echo "--- vhost_zc"
$bin; rc=$?
dmesg | grep 'vhost_zc: .* ring stopped' | tail -n 8
logged=$(dmesg | grep -c 'vhost_zc: TX ring stopped: guest error')
rmmod vhost_zc || fail "rmmod vhost_zc failed"
[ $rc = 0 ] || fail "vhost_zc did not contain a hostile ring (above)"
[ "$logged" = 8 ] || fail "want one log line per broken ring (8), got $logged"
