// SPDX-License-Identifier: GPL-2.0-only

//! The vhost-net character device: `/dev/vhost-net`, minor 238 (upstream
//! `drivers/vhost/net.c` + `vhost.c`). Argument decoding and validation live
//! in the core (`vzc_core::vhost`) so they are tested in userspace.
//!
//! What lives where:
//! - `file.rs`: the open file's operations: open/release, the ioctl entry,
//!   the IOTLB channel's read/write/poll entries;
//! - `ioctl.rs`: the ioctl ABI: owner, features, memory table, log,
//!   `VHOST_NET_SET_BACKEND`, the vring ioctls;
//! - `dev.rs`: device and ring state (`VhostNet`, `Dev`, `Vring`), reset,
//!   the `access_ok` checks, and the locking rules;
//! - `iotlb.rs`: the IOTLB miss queue and message channel, the ring
//!   prefetch;
//! - `worker.rs`: the kick bits, `Work::run`, one ring's run
//!   (`Dev::process`), busy polling, fairness between the rings;
//! - `datapath.rs`: the copy data path between a ring and the tap;
//! - `guest_mem.rs`: guest memory as the owner's user memory (memory table
//!   or IOTLB), ring and descriptor-table access, the dirty log.

#[path = "backend/tap.rs"]
mod datapath;
mod dev;
mod file;
mod guest_mem;
mod ioctl;
mod iotlb;
mod worker;

pub(crate) use dev::VhostNet;
