// SPDX-License-Identifier: GPL-2.0-only
//! What `/dev/vhost-net` adds around the rings: the ioctl ABI and the
//! memory the device reaches through it.
//!
//! - [`abi`]: ioctl numbers, argument layouts and their checks.
//! - [`mem`]: the memory table (`VHOST_SET_MEM_TABLE`), GPA -> user address.
//! - [`iotlb`]: the device IOTLB of `VIRTIO_F_ACCESS_PLATFORM`.
//! - [`dirty`]: the dirty log for live migration.

pub mod abi;
pub mod dirty;
pub mod iotlb;
pub mod mem;
