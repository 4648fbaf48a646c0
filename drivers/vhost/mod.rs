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
//! - `port.rs`: how a device follows its tap's port (pinning its memory
//!   while the port wants it);
//! - `vq.rs`: the virtqueue engine over user memory (`RingState`: avail,
//!   used, notification, signal) and `Broken`, a guest's ring error;
//! - `backend/`: what moves the packets: `enum Backend` and the
//!   `handle_tx` / `handle_rx` dispatchers (`mod.rs`), the tap copy engine
//!   (`tap.rs`);
//! - `guest_mem.rs`: guest memory as the owner's user memory (memory table
//!   or IOTLB), ring and descriptor-table access, the dirty log.
//!
//! A run, TX or RX: `worker.rs` (`Dev::process`) → `backend/mod.rs`
//! (`handle_tx` / `handle_rx`) → `backend/tap.rs` (the engine), which reads
//! and advances the ring with `vq.rs` over `guest_mem.rs`.

mod backend;
mod dev;
mod file;
mod guest_mem;
mod ioctl;
mod iotlb;
mod port;
mod vq;
mod worker;

pub(crate) use dev::VhostNet;
