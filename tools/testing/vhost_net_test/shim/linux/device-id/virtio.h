/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace stand-in for <linux/device-id/virtio.h>, overlaid onto the
 * scratch copy of tools/virtio/linux/ by tools/testing/vhost_net_test/build.sh.
 *
 * Why: in 7.3, include/linux/mod_devicetable.h was split into one header
 * per bus under include/linux/device-id/, and include/linux/virtio.h now
 * includes <linux/device-id/virtio.h>. tools/virtio only shims the old
 * <linux/mod_devicetable.h>, so both vhost_net_test.c (via the uapi
 * <linux/vhost_types.h> -> tools/virtio/linux/virtio_config.h ->
 * include/linux/virtio.h) and virtio_ring.c stop at this include.
 *
 * The kernel's header itself is usable from userspace except that it includes
 * <linux/types.h> (for __u32) only under __KERNEL__, so supply that and reuse
 * its definitions instead of copying them. The relative path is from
 * tools/virtio/linux/device-id/ to the top of the copied tree.
 */
#include <linux/types.h>
#include "../../../../include/linux/device-id/virtio.h"
