#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# VIRTIO_F_ACCESS_PLATFORM: the device IOTLB, its miss/update/invalidate
# message channel, and traffic with IOVAs (see vhost_iotlb.c). Stock
# vhost_net first (the reference), then vhost_zc.
. /selftests/lib.sh
tun_dev
both /selftests/bin/vhost_iotlb "vhost_zc's IOTLB differs from vhost_net's"
