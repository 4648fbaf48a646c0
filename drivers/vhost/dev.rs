// SPDX-License-Identifier: GPL-2.0-only

//! Device state: [`VhostNet`] (one open `/dev/vhost-net`), its [`Dev`] with
//! two [`Vring`]s, reset, and the `access_ok` checks upstream makes when it
//! takes a ring or log address (upstream `struct vhost_dev` and
//! `struct vhost_virtqueue`, and their checks in vhost.c).
//!
//! Locking:
//! - `VhostNet::dev`, a sleeping mutex (upstream's `dev->mutex` and both
//!   rings' `vq->mutex` in one), protects all of [`Dev`]: configuration,
//!   memory table, IOTLB and misses, both rings, the worker handle and the
//!   scratch space. The control path takes it through [`VhostNet::lock`]
//!   (ioctls, the IOTLB channel's read/write/poll, `release`), in the
//!   caller's process context. The worker holds it for a whole run of both
//!   rings and its busy poll ([`super::worker`]), in the worker thread (a
//!   task of the owner: guest memory is its user memory).
//! - A busy-polling worker gives way: [`VhostNet::lock`] counts itself in
//!   `Kicker::ctl_waiters` before it waits, and the poll loop ends when it
//!   sees the count.
//! - `Kicker` takes no lock. Its ring bits (`pending`) are set by poll
//!   wake-ups, in atomic context under the kick eventfd's or the tap's
//!   waitqueue lock (they flip atomics and wake the task, nothing more), and
//!   by IOTLB writes once `dev` is released; the worker takes them all
//!   before it locks `dev`.
//! - Order: `dev`, then a waitqueue lock: a polled file's (stopping or
//!   dropping a `Polled` under `dev` removes its wait entry), a call or err
//!   eventfd's (signalled under `dev`) or `msg_wait`'s (notified under
//!   `dev`; a reader sleeps on it with `dev` released). Nothing takes `dev`
//!   under any of them.
//! - The worker is stopped without `dev` held ([`Dev::take_worker`], then
//!   `Task::stop`): it may be waiting for `dev`, and stopping waits for it
//!   to exit. Its polls are stopped first, under `dev`, so no wake-up
//!   reaches a stopped task.

use core::sync::atomic::Ordering;
use kernel::{
    mm::MmWithUser,
    prelude::*,
    sync::{aref::ARef, poll::PollCondVar, Arc, Mutex, MutexGuard},
};

use super::backend::{Backend, Scratch};
use super::guest_mem::RingMem;
use super::iotlb::Miss;
use super::worker::Kicker;
use crate::glue::{
    eventfd::{EventfdCtx, EventfdFile},
    poll::Polled,
    user,
    worker::Task,
};
use crate::vzc_core::{
    vhost::{
        abi::{self, access, VringAddr},
        iotlb::{Iotlb, IotlbEntry},
    },
    virtio::queue::QueueState,
    MemRegion, MemTable,
};
use crate::zc::pinned_mem::PinnedMem;

/// Ring indices of a vhost-net device.
pub(super) const RX: usize = 0;
pub(super) const TX: usize = 1;

// Upstream checks ring and log addresses with `access_ok` when it takes them
// (if the ring runs) or when the ring starts: a VMM's mistake is an errno at
// the ioctl, not a broken ring later. The ranges come from the core.

/// `log_access_ok`: the log bytes for `sz` guest bytes at `addr`.
fn log_access_ok(log_base: u64, addr: u64, sz: u64) -> bool {
    access::log_range(log_base, addr, sz).is_some_and(|(a, l)| user::access_ok(a, l))
}

/// `vq_log_used_access_ok`: the log of the used ring, if it is logged.
pub(super) fn log_used_access_ok(log_base: u64, a: &VringAddr, used_size: u64) -> bool {
    !a.log_used || log_access_ok(log_base, a.log_guest, used_size)
}

/// `vq_memory_access_ok` over a table: no region wraps, each lies in user
/// space, and with `log` so does its part of the log at `log_base`.
fn regions_access_ok(regions: &[MemRegion], log_base: u64, log: bool) -> bool {
    regions.iter().all(|r| {
        !access::region_overflows(r.userspace_addr, r.size)
            && user::access_ok(r.userspace_addr, r.size)
            && (!log || log_access_ok(log_base, r.guest_phys_addr, r.size))
    })
}

/// `vq_access_ok`: the three rings of `num` entries lie in user space.
pub(super) fn rings_access_ok(a: &VringAddr, num: u32, event_idx: bool) -> bool {
    user::access_ok(a.desc, access::desc_size(num))
        && user::access_ok(a.avail, access::avail_size(num, event_idx))
        && user::access_ok(a.used, access::used_size(num, event_idx))
}

/// One virtqueue: its configuration (the `VHOST_*_VRING_*` ioctls) and its
/// data-path state.
#[derive(Default)]
pub(super) struct Vring {
    pub(super) num: u16,
    pub(super) addr: VringAddr,
    /// The engine's indices and signal state between runs
    /// (`last_avail_idx`: `VHOST_{SET,GET}_VRING_BASE`; `last_used_idx`:
    /// read from the used ring at `VHOST_NET_SET_BACKEND`); a run starts
    /// its `avail_seen` at `last_avail_idx`.
    pub(super) queue: QueueState,
    pub(super) kick: Option<Polled<EventfdFile, Kicker>>,
    pub(super) call: Option<EventfdCtx>,
    pub(super) err: Option<EventfdCtx>,
    /// `VHOST_SET_VRING_BUSYLOOP_TIMEOUT`, in microseconds (0: off).
    pub(super) busyloop_timeout: u32,
    pub(super) backend: Option<Backend>,
    /// The last run ended `Outcome::Blocked`, with the guest's avail
    /// index then: a busy poll waits for the socket (TX) or for buffers
    /// beyond that index (RX) instead of rerunning at once.
    pub(super) blocked_at: Option<u16>,
    /// The IOTLB miss this ring waits for (at most one, as upstream).
    pub(super) miss: Option<Miss>,
    /// The guest broke this ring; it stays stopped until reconfigured.
    pub(super) broken: bool,
}

impl Vring {
    /// Stops listening to the kick and the socket (before the worker stops).
    pub(super) fn stop_polls(&mut self) {
        if let Some(k) = &mut self.kick {
            k.stop();
        }
        if let Some(b) = &mut self.backend {
            b.stop();
        }
    }
}

/// Device state, all under `VhostNet::dev` (upstream's `dev->mutex`).
pub(super) struct Dev {
    /// The owner's address space; `None` before `VHOST_SET_OWNER`.
    pub(super) owner: Option<ARef<MmWithUser>>,
    /// `VHOST_SET_FORK_FROM_OWNER`; kept for `GET` (only the owner-thread
    /// worker mode exists, as `fork_from_owner = 1` upstream).
    pub(super) fork_owner: bool,
    pub(super) acked_features: u64,
    pub(super) acked_backend_features: u64,
    pub(super) mem: KVec<MemRegion>,
    /// A memory table exists (upstream `umem != NULL`): not before the first
    /// `VHOST_SET_MEM_TABLE`, an empty one after `VHOST_RESET_OWNER`.
    pub(super) mem_set: bool,
    pub(super) log_base: u64,
    pub(super) log_ctx: Option<EventfdCtx>,
    pub(super) vqs: [Vring; abi::VHOST_NET_VQ_MAX as usize],
    /// The device IOTLB, sorted by IOVA; present once `ACCESS_PLATFORM` was
    /// acked (upstream `vhost_init_device_iotlb`).
    pub(super) iotlb: Option<KVec<IotlbEntry>>,
    /// Sequence numbers: IOTLB entries (to retire the oldest) and misses.
    pub(super) seq: u64,
    /// A miss was queued: readers of the device file are to be woken.
    pub(super) msgs_ready: bool,
    /// The worker, from `VHOST_SET_OWNER` on.
    pub(super) worker: Option<Task<VhostNet>>,
    pub(super) scratch: Option<Scratch>,
    /// The memory table pinned for the tap's port (`port.rs`).
    pub(super) pins: Option<PinnedMem>,
}

impl Dev {
    pub(super) fn new() -> Self {
        Self {
            owner: None,
            fork_owner: true,
            acked_features: 0,
            acked_backend_features: 0,
            mem: KVec::new(),
            mem_set: false,
            log_base: 0,
            log_ctx: None,
            vqs: Default::default(),
            iotlb: None,
            seq: 0,
            msgs_ready: false,
            worker: None,
            scratch: None,
            pins: None,
        }
    }

    /// `vhost_dev_check_owner`: the caller's mm must be the owner's.
    pub(super) fn check_owner(&self) -> Result {
        let cur = kernel::current!().mm().map(|m| m.as_raw());
        match (&self.owner, cur) {
            (Some(o), Some(c)) if o.as_raw() == c => Ok(()),
            _ => Err(EPERM),
        }
    }

    /// `vhost_dev_cleanup` + `vhost_dev_reset_owner`: everything the owner set
    /// up goes; the fork mode stays (it is set before an owner exists). The
    /// worker must have been taken out and stopped already.
    pub(super) fn reset(&mut self) {
        let fork_owner = self.fork_owner;
        *self = Self::new();
        self.fork_owner = fork_owner;
        self.mem_set = true;
    }

    pub(super) fn has(&self, feature: u32) -> bool {
        self.acked_features & (1 << feature) != 0
    }

    /// `memory_access_ok` (SET_MEM_TABLE, SET_FEATURES): if any ring runs,
    /// `mem` (the current table if `None`) must pass [`regions_access_ok`],
    /// with its log if `log_all` or the feature says so. A stopped ring is
    /// checked when it starts.
    pub(super) fn memory_access_ok(
        &self,
        mem: Option<&[MemRegion]>,
        log_base: u64,
        log_all: bool,
    ) -> bool {
        if !self.vqs.iter().any(|vq| vq.backend.is_some()) {
            return true;
        }
        let regions = match mem {
            Some(m) => m,
            None if self.mem_set => &self.mem[..],
            None => return false,
        };
        regions_access_ok(regions, log_base, log_all || self.has(abi::VHOST_F_LOG_ALL))
    }

    /// `vq_log_access_ok`: ring `q` can log at `log_base` (its memory, with
    /// the feature, and its used ring, if logged).
    pub(super) fn vq_log_access_ok(&self, q: usize, log_base: u64) -> bool {
        let vq = &self.vqs[q];
        let used = access::used_size(vq.num.into(), self.has(abi::VIRTIO_RING_F_EVENT_IDX));
        self.mem_set
            && regions_access_ok(&self.mem, log_base, self.has(abi::VHOST_F_LOG_ALL))
            && (self.iotlb.is_some() || log_used_access_ok(log_base, &vq.addr, used))
    }

    /// `vhost_vq_access_ok`: ring `q` may start (logging at `log_base`).
    pub(super) fn vq_access_ok(&self, q: usize, log_base: u64) -> bool {
        let vq = &self.vqs[q];
        // With the IOTLB, ring addresses are IOVAs: checked when translated.
        self.vq_log_access_ok(q, log_base)
            && (self.iotlb.is_some()
                || rings_access_ok(
                    &vq.addr,
                    vq.num.into(),
                    self.has(abi::VIRTIO_RING_F_EVENT_IDX),
                ))
    }

    /// Stops all polls and takes the worker out, to be stopped without the
    /// lock held (it may be waiting for it).
    pub(super) fn take_worker(&mut self) -> Option<Task<VhostNet>> {
        for vq in &mut self.vqs {
            vq.stop_polls();
        }
        self.worker.take()
    }

    /// The IOTLB, if `ACCESS_PLATFORM` set one up.
    pub(super) fn tlb(&self) -> Option<Iotlb<'_>> {
        self.iotlb.as_deref().map(Iotlb::new)
    }

    /// How ring addresses reach memory, with the IOTLB if there is one.
    pub(super) fn ring_mem(&self) -> Option<RingMem<'_>> {
        Some(match self.tlb() {
            None => RingMem::User,
            Some(t) => RingMem::Tlb(t, MemTable::new(&self.mem).ok()?),
        })
    }
}

/// An open `/dev/vhost-net`.
#[pin_data]
pub(crate) struct VhostNet {
    #[pin]
    pub(super) dev: Mutex<Dev>,
    /// Readers and pollers of the IOTLB message channel (upstream `dev->wait`).
    #[pin]
    pub(super) msg_wait: PollCondVar,
    /// Kicks and socket readiness, for the worker.
    pub(super) kicker: Arc<Kicker>,
}

impl VhostNet {
    /// The device lock, for the control path: announced first, so that a
    /// busy-polling worker holding it lets go.
    pub(super) fn lock(&self) -> MutexGuard<'_, Dev> {
        self.kicker.ctl_waiters.fetch_add(1, Ordering::AcqRel);
        let g = self.dev.lock();
        self.kicker.ctl_waiters.fetch_sub(1, Ordering::AcqRel);
        g
    }
}
