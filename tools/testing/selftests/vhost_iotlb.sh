#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# VIRTIO_F_ACCESS_PLATFORM: the device IOTLB, its miss/update/invalidate
# message channel, and traffic with IOVAs (see vhost_iotlb.c). Stock
# vhost_net first (the reference), then vhost_zc.
. /selftests/lib.sh
bin=/selftests/bin/vhost_iotlb
mkdir -p /dev/net
modprobe tun || fail "modprobe tun failed"
[ -c /dev/net/tun ] || mknod /dev/net/tun c 10 200

modprobe vhost_net || fail "modprobe vhost_net failed"
echo "--- reference: stock vhost_net"
$bin --reference; rc=$?
modprobe -r vhost_net || fail "modprobe -r vhost_net failed"
[ $rc = 0 ] || fail "the expectations do not hold for stock vhost_net"

vzc_insmod || fail "insmod vhost_zc failed"
echo "--- vhost_zc"
$bin; rc=$?
rmmod vhost_zc || fail "rmmod vhost_zc failed"
[ $rc = 0 ] || fail "vhost_zc's IOTLB differs from vhost_net's (above)"
