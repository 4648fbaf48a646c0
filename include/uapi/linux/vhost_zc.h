/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/vhost_zc.yaml */
/* YNL-GEN uapi header */
/* To regenerate run: tools/net/ynl/ynl-regen.sh */

#ifndef _UAPI_LINUX_VHOST_ZC_H
#define _UAPI_LINUX_VHOST_ZC_H

#define VHOST_ZC_FAMILY_NAME	"vhost_zc"
#define VHOST_ZC_FAMILY_VERSION	1

/**
 * enum vhost_zc_mode - What moves the port's packets now.
 * @VHOST_ZC_MODE_COPY: The tap copy path, as with vhost_net (bound, but not in
 *   zero-copy now: copy-reason says why).
 * @VHOST_ZC_MODE_ZERO_COPY: The VF writes received frames into guest memory.
 */
enum vhost_zc_mode {
	VHOST_ZC_MODE_COPY,
	VHOST_ZC_MODE_ZERO_COPY,
};

/**
 * enum vhost_zc_copy_reason - Why a bound port is on the copy path.
 * @VHOST_ZC_COPY_REASON_NONE: Not on the copy path.
 * @VHOST_ZC_COPY_REASON_DETACHED: No vhost-net device has this tap as its
 *   backend.
 * @VHOST_ZC_COPY_REASON_MEMLOCK: Pinning guest memory would exceed the owner's
 *   RLIMIT_MEMLOCK.
 * @VHOST_ZC_COPY_REASON_PIN_FAILED: Guest memory cannot be pinned long-term
 *   (e.g. a shared mapping of a file on a writeback file system).
 * @VHOST_ZC_COPY_REASON_VF_DOWN: The VF is resetting, stopping or gone.
 * @VHOST_ZC_COPY_REASON_FEATURES: The guest's negotiated features have no
 *   zero-copy layout (e.g. a virtio-net header other than 12 bytes).
 * @VHOST_ZC_COPY_REASON_UNSUPPORTED: A device uses the tap and nothing above
 *   applies, but vhost_zc cannot run it zero-copy: a device behind a vIOMMU
 *   (VIRTIO_F_ACCESS_PLATFORM), or, in this version, any device (the zero-copy
 *   data path is not merged yet).
 */
enum vhost_zc_copy_reason {
	VHOST_ZC_COPY_REASON_NONE,
	VHOST_ZC_COPY_REASON_DETACHED,
	VHOST_ZC_COPY_REASON_MEMLOCK,
	VHOST_ZC_COPY_REASON_PIN_FAILED,
	VHOST_ZC_COPY_REASON_VF_DOWN,
	VHOST_ZC_COPY_REASON_FEATURES,
	VHOST_ZC_COPY_REASON_UNSUPPORTED,
};

/**
 * enum vhost_zc_mac_source - Where the VF's MAC address (the guest's) comes
 *   from.
 * @VHOST_ZC_MAC_SOURCE_NONE: Not known yet.
 * @VHOST_ZC_MAC_SOURCE_CONFIGURED: Given with port-bind.
 * @VHOST_ZC_MAC_SOURCE_LEARNED: Source address of the guest's first
 *   transmitted frame.
 */
enum vhost_zc_mac_source {
	VHOST_ZC_MAC_SOURCE_NONE,
	VHOST_ZC_MAC_SOURCE_CONFIGURED,
	VHOST_ZC_MAC_SOURCE_LEARNED,
};

enum {
	VHOST_ZC_A_PORT_IFNAME = 1,
	VHOST_ZC_A_PORT_IFINDEX,
	VHOST_ZC_A_PORT_VF,
	VHOST_ZC_A_PORT_MAC,
	VHOST_ZC_A_PORT_MAC_SOURCE,
	VHOST_ZC_A_PORT_MODE,
	VHOST_ZC_A_PORT_COPY_REASON,
	VHOST_ZC_A_PORT_QUEUE_PAIRS,
	VHOST_ZC_A_PORT_STATS,
	VHOST_ZC_A_PORT_RINGS,

	__VHOST_ZC_A_PORT_MAX,
	VHOST_ZC_A_PORT_MAX = (__VHOST_ZC_A_PORT_MAX - 1)
};

enum {
	VHOST_ZC_A_STATS_RX_ZC_PACKETS = 1,
	VHOST_ZC_A_STATS_RX_ZC_BYTES,
	VHOST_ZC_A_STATS_RX_TAIL_BYTES,
	VHOST_ZC_A_STATS_RX_COPY_PACKETS,
	VHOST_ZC_A_STATS_RX_FALLBACK,
	VHOST_ZC_A_STATS_TX_ZC_PACKETS,
	VHOST_ZC_A_STATS_TX_ZC_BYTES,
	VHOST_ZC_A_STATS_TX_COPY_PACKETS,
	VHOST_ZC_A_STATS_POSTED,
	VHOST_ZC_A_STATS_PINNED_PAGES,
	VHOST_ZC_A_STATS_MEMLOCK_BYTES,

	__VHOST_ZC_A_STATS_MAX,
	VHOST_ZC_A_STATS_MAX = (__VHOST_ZC_A_STATS_MAX - 1)
};

enum {
	VHOST_ZC_CMD_PORT_BIND = 1,
	VHOST_ZC_CMD_PORT_UNBIND,
	VHOST_ZC_CMD_PORT_GET,

	__VHOST_ZC_CMD_MAX,
	VHOST_ZC_CMD_MAX = (__VHOST_ZC_CMD_MAX - 1)
};

#endif /* _UAPI_LINUX_VHOST_ZC_H */
