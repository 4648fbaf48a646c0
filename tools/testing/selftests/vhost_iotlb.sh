#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# VIRTIO_F_ACCESS_PLATFORM: the device IOTLB, its miss/update/invalidate
# message channel, and traffic with IOVAs (see vhost_iotlb.c). Stock
# vhost_net first (the reference), then vhost_zc.
. /selftests/lib.sh
bin=/selftests/bin/vhost_iotlb
tun_dev
reference $bin

vzc_insmod || fail "insmod vhost_zc failed"
echo "--- vhost_zc"
$bin; rc=$?
rmmod vhost_zc || fail "rmmod vhost_zc failed"
[ $rc = 0 ] || fail "vhost_zc's IOTLB differs from vhost_net's (above)"
