// SPDX-License-Identifier: GPL-2.0-only
// In the kernel these sources are a plain `mod` of the module crate, which is
// already `no_std`; an inner `no_std` there would be a misplaced crate
// attribute, so it only applies when built as a standalone crate.
#![cfg_attr(not(any(test, MODULE)), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

//! Kernel-independent core of vhost-zc.
//!
//! Folders follow the data path: [`control`] (the netlink family's ports), [`virtio`] (the split ring and its engine),
//! [`vhost`] (the ioctl ABI, memory table, IOTLB, dirty log), [`net`]
//! (Ethernet and virtio-net types), [`vf`] (the 82576 VF), [`zc`] (zero-copy
//! RX: what may be posted, frame placement, reclaim), and, for tests,
//! `mock` (a guest driver; feature `test-utils`).
//!
//! Everything a guest can put in a virtqueue is hostile input. This crate
//! turns raw guest values (queue sizes, avail indices, descriptor tables,
//! memory region tables) into types that are valid by construction, so the
//! kernel glue only has to do the actual user-memory accesses.
//!
//! The semantics follow upstream `drivers/vhost/vhost.c` (`vhost_get_vq_desc`,
//! `get_indirect`, `translate_desc`, `vhost_set_memory`) and the virtio 1.x
//! split-ring layout; the API shape follows rust-vmm's `virtio-queue`.
//!
//! The crate is also compiled as a nested module of the kernel module, so it
//! never names `crate::` (that would be the module's root there), uses no
//! `alloc`/`std`, and has no dependencies.

pub mod control;
pub mod errno;
mod error;
// KUnit (`CONFIG_KUNIT`, set by kbuild) reuses the mock in the kernel.
#[cfg(any(test, feature = "test-utils", CONFIG_KUNIT))]
pub mod mock;
pub mod net;
pub mod vf;
pub mod vhost;
pub mod virtio;
pub mod zc;

// The flat re-exports are the most used types; everything else is reached by
// its module path (`virtio::split`, `vhost::abi`, `vf::mbx`, ...). When these
// sources are a private `mod` of the kernel module, re-exports the module
// does not use would warn as unused imports, hence the allows.
#[allow(unused_imports)]
pub use self::error::Error;
#[allow(unused_imports)]
pub use self::vhost::mem::{HostRange, MemRegion, MemTable, Translate, MAX_MEM_REGIONS};
#[allow(unused_imports)]
pub use self::virtio::chain::{
    ChainSummary, DescChain, DescTable, GuestMemory, Segment, SegmentSink, SinkFull,
};
#[allow(unused_imports)]
pub use self::virtio::desc::{
    avail_pending, Descriptor, QueueSize, RingAddrs, AVAIL_ALIGN, DESC_ALIGN, DESC_SIZE,
    MAX_CHAIN_BYTES, MAX_INDIRECT_DESCS, MAX_QUEUE_SIZE, USED_ALIGN, VIRTQ_DESC_F_INDIRECT,
    VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE,
};
