// SPDX-License-Identifier: GPL-2.0-only

//! An open `/dev/vhost-net`: the control plane of one vhost-net device.
//!
//! The ioctls are checked in the order upstream checks them, so a VMM sees the
//! same errno for the same mistake (Documentation/vhost.rst has the table).
//! `VHOST_SET_OWNER` starts the worker (a thread of the owner); kicks and the
//! tap's readiness queue work to it; `datapath.rs` moves the packets.

use core::sync::atomic::{AtomicU32, Ordering};
use kernel::{
    fs::File,
    iov::{IovIterDest, IovIterSource},
    mm::MmWithUser,
    new_mutex, new_poll_condvar,
    prelude::*,
    sync::{aref::ARef, poll::PollCondVar, poll::PollTable, Arc, ArcBorrow, Mutex, MutexGuard},
};

use super::datapath::{self, Broken, Counts, Outcome, RingState, Scratch};
use super::ring::{self, Guest, Log, Notifier, RingMem};
use crate::glue::{
    eventfd::{EventfdCtx, EventfdFile},
    miscdev::FileOps,
    poll::{Polled, Wake, EPOLLIN, EPOLLOUT, EPOLLRDNORM},
    socket::BackendSocket,
    stats::{Counter, Stats},
    user,
    worker::{self, BusyPoll, Task, TaskRef, Work},
};
use crate::vzc_core::{
    net::HeaderSplit,
    vhost::{
        abi::{self, access, IotlbMsg, VringAddr, VringFile, VringState},
        iotlb::{self, Iotlb, IotlbEntry, ACCESS_RO, ACCESS_WO},
    },
    virtio::split::{avail as avail_off, used as used_off},
    Error as CoreError, MemRegion, MemTable, QueueSize,
};

/// Ring indices of a vhost-net device.
const RX: usize = 0;
const TX: usize = 1;

/// Where kicks and socket readiness land: a bit per ring for the worker, the
/// worker's wake-up, and the device's counters. Separate from `VhostNet` so
/// the polls can hold it without a reference cycle through the device state.
struct Kicker {
    pending: AtomicU32,
    task: TaskRef,
    stats: Stats,
    /// Ioctls waiting for the device lock: a busy poll gives way to them.
    ctl_waiters: AtomicU32,
}

/// Poll tokens: the ring in bit 0; bit 1 set for socket readiness (clear for
/// a guest kick).
const TOKEN_SOCK: u32 = 2;

impl Wake for Kicker {
    fn wake(&self, token: u32) {
        let ring = (token & 1) as usize;
        if token & TOKEN_SOCK == 0 {
            self.stats.add(ring, Counter::Kicks, 1);
        }
        // Only the first bit since the worker last took them wakes it (as
        // upstream's VHOST_WORK_QUEUED): later ones find it already woken,
        // and it takes all bits at once. A socket signals every packet.
        if self.pending.fetch_or(1 << ring, Ordering::AcqRel) == 0 {
            self.task.wake();
        }
    }
}

/// Names the devices' sysfs directories (`dev0`, `dev1`, …).
static DEVICE_SEQ: AtomicU32 = AtomicU32::new(0);

/// Turns an ABI errno from the core into a kernel `Error`.
fn err(e: i32) -> Error {
    Error::from_errno(-e)
}

// Upstream checks ring and log addresses with `access_ok` when it takes them
// (if the ring runs) or when the ring starts: a VMM's mistake is an errno at
// the ioctl, not a broken ring later. The ranges come from the core.

/// `log_access_ok`: the log bytes for `sz` guest bytes at `addr`.
fn log_access_ok(log_base: u64, addr: u64, sz: u64) -> bool {
    access::log_range(log_base, addr, sz).is_some_and(|(a, l)| user::access_ok(a, l))
}

/// `vq_log_used_access_ok`: the log of the used ring, if it is logged.
fn log_used_access_ok(log_base: u64, a: &VringAddr, used_size: u64) -> bool {
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
fn rings_access_ok(a: &VringAddr, num: u32, event_idx: bool) -> bool {
    user::access_ok(a.desc, access::desc_size(num))
        && user::access_ok(a.avail, access::avail_size(num, event_idx))
        && user::access_ok(a.used, access::used_size(num, event_idx))
}

/// One virtqueue: its configuration (the `VHOST_*_VRING_*` ioctls) and its
/// data-path state.
#[derive(Default)]
struct Vring {
    num: u16,
    addr: VringAddr,
    last_avail_idx: u16,
    last_used_idx: u16,
    kick: Option<Polled<EventfdFile, Kicker>>,
    call: Option<EventfdCtx>,
    err: Option<EventfdCtx>,
    /// `VHOST_SET_VRING_BUSYLOOP_TIMEOUT`, in microseconds (0: off).
    busyloop_timeout: u32,
    backend: Option<Polled<BackendSocket, Kicker>>,
    /// The last run ended [`Outcome::Blocked`], with the guest's avail
    /// index then: a busy poll waits for the socket (TX) or for buffers
    /// beyond that index (RX) instead of rerunning at once.
    blocked_at: Option<u16>,
    /// The IOTLB miss this ring waits for (at most one, as upstream).
    miss: Option<Miss>,
    notifier: Notifier,
    /// The guest broke this ring; it stays stopped until reconfigured.
    broken: bool,
}

/// An IOTLB miss to report to userspace (`VHOST_IOTLB_MISS`), then, once
/// read, to resolve with an `UPDATE` covering `iova`.
#[derive(Clone, Copy)]
struct Miss {
    iova: u64,
    perm: u8,
    /// Message format: `VHOST_IOTLB_MSG_V2` if that backend feature is acked.
    format: u32,
    /// Order of creation: reads return the oldest first.
    seq: u64,
    /// Userspace has read it.
    read: bool,
}

impl Vring {
    /// Stops listening to the kick and the socket (before the worker stops).
    fn stop_polls(&mut self) {
        if let Some(k) = &mut self.kick {
            k.stop();
        }
        if let Some(b) = &mut self.backend {
            b.stop();
        }
    }
}

/// Device state, all under `VhostNet::dev` (upstream's `dev->mutex`).
struct Dev {
    /// The owner's address space; `None` before `VHOST_SET_OWNER`.
    owner: Option<ARef<MmWithUser>>,
    /// `VHOST_SET_FORK_FROM_OWNER`; kept for `GET` (only the owner-thread
    /// worker mode exists, as `fork_from_owner = 1` upstream).
    fork_owner: bool,
    acked_features: u64,
    acked_backend_features: u64,
    mem: KVec<MemRegion>,
    /// A memory table exists (upstream `umem != NULL`): not before the first
    /// `VHOST_SET_MEM_TABLE`, an empty one after `VHOST_RESET_OWNER`.
    mem_set: bool,
    log_base: u64,
    log_ctx: Option<EventfdCtx>,
    vqs: [Vring; abi::VHOST_NET_VQ_MAX as usize],
    /// The device IOTLB, sorted by IOVA; present once `ACCESS_PLATFORM` was
    /// acked (upstream `vhost_init_device_iotlb`).
    iotlb: Option<KVec<IotlbEntry>>,
    /// Sequence numbers: IOTLB entries (to retire the oldest) and misses.
    seq: u64,
    /// A miss was queued: readers of the device file are to be woken.
    msgs_ready: bool,
    /// The worker, from `VHOST_SET_OWNER` on.
    worker: Option<Task<VhostNet>>,
    scratch: Option<Scratch>,
}

impl Dev {
    fn new() -> Self {
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
        }
    }

    /// `vhost_dev_check_owner`: the caller's mm must be the owner's.
    fn check_owner(&self) -> Result {
        let cur = kernel::current!().mm().map(|m| m.as_raw());
        match (&self.owner, cur) {
            (Some(o), Some(c)) if o.as_raw() == c => Ok(()),
            _ => Err(EPERM),
        }
    }

    /// `vhost_dev_cleanup` + `vhost_dev_reset_owner`: everything the owner set
    /// up goes; the fork mode stays (it is set before an owner exists). The
    /// worker must have been taken out and stopped already.
    fn reset(&mut self) {
        let fork_owner = self.fork_owner;
        *self = Self::new();
        self.fork_owner = fork_owner;
        self.mem_set = true;
    }

    fn has(&self, feature: u32) -> bool {
        self.acked_features & (1 << feature) != 0
    }

    /// `memory_access_ok` (SET_MEM_TABLE, SET_FEATURES): if any ring runs,
    /// `mem` (the current table if `None`) must pass [`regions_access_ok`],
    /// with its log if `log_all` or the feature says so. A stopped ring is
    /// checked when it starts.
    fn memory_access_ok(&self, mem: Option<&[MemRegion]>, log_base: u64, log_all: bool) -> bool {
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
    fn vq_log_access_ok(&self, q: usize, log_base: u64) -> bool {
        let vq = &self.vqs[q];
        let used = access::used_size(vq.num.into(), self.has(abi::VIRTIO_RING_F_EVENT_IDX));
        self.mem_set
            && regions_access_ok(&self.mem, log_base, self.has(abi::VHOST_F_LOG_ALL))
            && (self.iotlb.is_some() || log_used_access_ok(log_base, &vq.addr, used))
    }

    /// `vhost_vq_access_ok`: ring `q` may start (logging at `log_base`).
    fn vq_access_ok(&self, q: usize, log_base: u64) -> bool {
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
    fn take_worker(&mut self) -> Option<Task<VhostNet>> {
        for vq in &mut self.vqs {
            vq.stop_polls();
        }
        self.worker.take()
    }

    /// The IOTLB, if `ACCESS_PLATFORM` set one up.
    fn tlb(&self) -> Option<Iotlb<'_>> {
        self.iotlb.as_deref().map(Iotlb::new)
    }

    /// How ring addresses reach memory, with the IOTLB if there is one.
    fn ring_mem(&self) -> Option<RingMem<'_>> {
        Some(match self.tlb() {
            None => RingMem::User,
            Some(t) => RingMem::Tlb(t, MemTable::new(&self.mem).ok()?),
        })
    }

    /// With the IOTLB, checks ring `q`'s three areas are mapped for their
    /// accesses before a run (upstream `vq_meta_prefetch`), so the run's
    /// ring accesses cannot miss. `Err((why, iova, access))`.
    fn ring_prefetch(&self, q: usize) -> Result<(), (CoreError, u64, u8)> {
        let vq = &self.vqs[q];
        let Some(mem) = self.ring_mem() else {
            return Err((CoreError::BadRegion, 0, 0));
        };
        let num = u32::from(vq.num);
        let ev = self.has(abi::VIRTIO_RING_F_EVENT_IDX);
        let chk = |iova: u64, len: u64, acc: u8| {
            mem.check(iova, len, acc).map_err(|(e, at)| (e, at, acc))
        };
        chk(vq.addr.desc, access::desc_size(num), ACCESS_RO)?;
        chk(vq.addr.avail, access::avail_size(num, ev), ACCESS_RO)?;
        chk(vq.addr.used, access::used_size(num, ev), ACCESS_WO)
    }

    /// Ring `q` waits for a translation of `iova`: queue a
    /// `VHOST_IOTLB_MISS` for userspace, one per ring at a time (as upstream);
    /// `msgs_ready` tells the caller to wake readers. Counted per ring.
    fn record_miss(&mut self, q: usize, iova: u64, perm: u8, stats: &Stats) {
        if self.vqs[q].miss.is_some() {
            return;
        }
        stats.add(q, Counter::IotlbMisses, 1);
        let v2 = self.acked_backend_features & (1 << abi::VHOST_BACKEND_F_IOTLB_MSG_V2) != 0;
        self.seq += 1;
        self.vqs[q].miss = Some(Miss {
            iova,
            perm,
            format: if v2 {
                abi::VHOST_IOTLB_MSG_V2
            } else {
                abi::VHOST_IOTLB_MSG
            },
            seq: self.seq,
            read: false,
        });
        self.msgs_ready = true;
    }

    /// The oldest miss userspace has not read, with its ring.
    fn next_miss(&self) -> Option<(usize, Miss)> {
        self.vqs
            .iter()
            .enumerate()
            .filter_map(|(q, vq)| vq.miss.filter(|m| !m.read).map(|m| (q, m)))
            .min_by_key(|(_, m)| m.seq)
    }

    /// Applies an IOTLB message (upstream `vhost_process_iotlb_msg`); every
    /// refusal is one errno upstream (`EFAULT`). Returns the rings whose
    /// miss the update covers (bit per ring), to run again.
    fn iotlb_msg(&mut self, m: &IotlbMsg) -> core::result::Result<u32, ()> {
        let tlb = self.iotlb.as_mut().ok_or(())?;
        match m.kind {
            abi::VHOST_IOTLB_UPDATE => {
                let mut e = iotlb::update_entry(m.iova, m.size, m.uaddr, m.perm).map_err(|_| ())?;
                // `umem_access_ok`: what the device may touch is user memory.
                if e.perm != 0 && !user::access_ok(m.uaddr, m.size) {
                    return Err(());
                }
                if tlb.len() >= iotlb::MAX_IOTLB_ENTRIES {
                    if let Some(i) = iotlb::oldest(tlb) {
                        let _ = tlb.remove(i);
                        iotlb::reindex(tlb);
                    }
                }
                tlb.reserve(1, GFP_KERNEL).map_err(|_| ())?;
                self.seq += 1;
                e.seq = self.seq;
                let at = iotlb::insert_index(tlb, e.start);
                tlb.insert_within_capacity(at, e).map_err(|_| ())?;
                iotlb::reindex(tlb);
                let mut wake = 0;
                for (q, vq) in self.vqs.iter_mut().enumerate() {
                    if let Some(miss) = vq.miss {
                        if e.start <= miss.iova && miss.iova <= e.last {
                            vq.miss = None;
                            wake |= 1 << q;
                        }
                    }
                }
                Ok(wake)
            }
            abi::VHOST_IOTLB_INVALIDATE => {
                if m.size == 0 {
                    return Err(());
                }
                // As upstream, a wrapping range removes nothing.
                let last = m.iova.wrapping_add(m.size - 1);
                tlb.retain(|e| !iotlb::overlaps(e, m.iova, last));
                iotlb::reindex(tlb);
                Ok(0)
            }
            _ => Err(()),
        }
    }

    /// Runs ring `q` once; returns whether work is left (weight exhausted).
    fn process(&mut self, q: usize, stats: &Stats) -> bool {
        {
            let vq = &self.vqs[q];
            if vq.broken || vq.num == 0 || vq.backend.is_none() || self.scratch.is_none() {
                return false;
            }
        }
        match self.ring_prefetch(q) {
            Ok(()) => {}
            Err((CoreError::IotlbMiss, iova, acc)) => {
                self.record_miss(q, iova, acc, stats);
                self.vqs[q].blocked_at = None;
                return false;
            }
            Err((e, _, _)) => {
                stats.add(q, Counter::Errors, 1);
                self.vqs[q].broken_by(q, Broken::Chain(e));
                return false;
            }
        };
        let features = self.acked_features;
        let log_base = self.log_base;
        let Ok(mem) = MemTable::new(&self.mem) else {
            return false;
        };
        let tlb = self.iotlb.as_deref().map(Iotlb::new);
        let rmem = match tlb {
            None => RingMem::User,
            Some(t) => RingMem::Tlb(t, mem),
        };
        let Some(scratch) = self.scratch.as_mut() else {
            return false;
        };
        let vq = &mut self.vqs[q];
        let Some(backend) = vq.backend.as_ref() else {
            return false;
        };
        let Ok(size) = QueueSize::new(vq.num.into()) else {
            return false;
        };
        let g = Guest::new(mem, tlb);
        let log = (features & (1 << abi::VHOST_F_LOG_ALL) != 0).then(|| Log {
            base: log_base,
            gpa_end: ring::gpa_end(&g.mem),
        });
        let seen = vq.last_avail_idx;
        let mut rs = RingState {
            size,
            desc: vq.addr.desc,
            avail: vq.addr.avail,
            used: vq.addr.used,
            mem: rmem,
            log_used: vq.addr.log_used.then_some(vq.addr.log_guest),
            last_avail_idx: &mut vq.last_avail_idx,
            last_used_idx: &mut vq.last_used_idx,
            notifier: &mut vq.notifier,
            event_idx: features & (1 << abi::VIRTIO_RING_F_EVENT_IDX) != 0,
            log,
            avail_seen: core::cell::Cell::new(seen),
        };
        let hs = HeaderSplit::from_features(features);
        let mut c = Counts::default();
        vq.blocked_at = None;
        let r = if q == TX {
            datapath::handle_tx(&mut rs, &g, backend.file(), hs, scratch, &mut c)
        } else {
            datapath::handle_rx(&mut rs, &g, backend.file(), hs, scratch, &mut c)
        };
        let rs_seen = rs.avail_seen.get();
        let missed = g.miss.get();
        stats.add(q, Counter::Packets, c.packets);
        stats.add(q, Counter::Bytes, c.bytes);
        stats.add(q, Counter::Dropped, c.dropped);
        stats.add(q, Counter::Waits, c.waits);
        if c.signalled {
            if let Some(call) = &vq.call {
                call.signal();
                stats.add(q, Counter::Calls, 1);
            }
        }
        let again = match r {
            Ok(Outcome::More) => true,
            Ok(Outcome::Idle) => false,
            Ok(Outcome::Blocked) => {
                vq.blocked_at = Some(rs_seen);
                false
            }
            Err(why) => {
                stats.add(q, Counter::Errors, 1);
                vq.broken_by(q, why);
                false
            }
        };
        if let Some((iova, acc)) = missed {
            self.record_miss(q, iova, acc, stats);
        }
        let vq = &self.vqs[q];
        stats.set(q, Counter::LastAvail, vq.last_avail_idx.into());
        stats.set(q, Counter::LastUsed, vq.last_used_idx.into());
        stats.set(
            q,
            Counter::BlockedAt,
            vq.blocked_at.map_or(0, |i| u64::from(i) + 1),
        );
        again
    }
}

impl Dev {
    /// Whether ring `q` has work a busy poll can see without a wake-up: TX,
    /// buffers the guest added (unless the socket is full); RX, a packet in
    /// the socket and buffers beyond those a blocked run already tried.
    fn ready(&self, q: usize) -> bool {
        let vq = &self.vqs[q];
        if vq.broken || vq.num == 0 {
            return false;
        }
        let Some(backend) = vq.backend.as_ref() else {
            return false;
        };
        if q == TX && vq.blocked_at.is_some() {
            return false;
        }
        // A fault or a miss here is left to the next run, which reports it.
        let Some(mem) = self.ring_mem() else {
            return false;
        };
        let Ok(idx) = ring::get_u16(&mem, vq.addr.avail, avail_off::IDX) else {
            return false;
        };
        if idx == vq.last_avail_idx || vq.blocked_at == Some(idx) {
            return false;
        }
        q == TX || backend.file().peek_len() > 0
    }

    /// Busy polling (upstream `vhost_net_busy_poll`), after a run that left
    /// nothing to do: for up to the rings' busy-loop timeout, look for work
    /// on both rings instead of sleeping until a kick or a socket wake-up.
    /// Gives way to wake-ups, ioctls, reschedules and signals. Returns the
    /// rings to run (bit per ring). Guest notifications stay enabled, so a
    /// kick during the window ends it too.
    fn busy_poll(&self, k: &Kicker) -> u32 {
        let mut us = 0;
        for (q, vq) in self.vqs.iter().enumerate() {
            if vq.busyloop_timeout > 0 && vq.backend.is_some() && !vq.broken {
                us = us.max(vq.busyloop_timeout);
                k.stats.add(q, Counter::BusyPolls, 1);
            }
        }
        if us == 0 {
            return 0;
        }
        let window = BusyPoll::new(us);
        loop {
            if k.pending.load(Ordering::Acquire) != 0 || k.ctl_waiters.load(Ordering::Acquire) != 0
            {
                return 0;
            }
            let mut bits = 0;
            for q in [TX, RX] {
                if self.ready(q) {
                    k.stats.add(q, Counter::BusyPollHits, 1);
                    bits |= 1 << q;
                }
            }
            if bits != 0 {
                return bits;
            }
            if !window.again() {
                return 0;
            }
        }
    }
}

impl Vring {
    /// The guest broke the ring: stop it, tell the VMM (err eventfd) and log
    /// once (the flag keeps a hostile guest from flooding the log).
    fn broken_by(&mut self, q: usize, why: Broken) {
        self.broken = true;
        if let Some(e) = &self.err {
            e.signal();
        }
        let name = if q == TX { "TX" } else { "RX" };
        pr_warn!("{} ring stopped: guest error {:?}\n", name, why);
    }
}

/// An open `/dev/vhost-net`.
#[pin_data]
pub(crate) struct VhostNet {
    #[pin]
    dev: Mutex<Dev>,
    /// Readers and pollers of the IOTLB message channel (upstream `dev->wait`).
    #[pin]
    msg_wait: PollCondVar,
    /// Kicks and socket readiness, for the worker.
    kicker: Arc<Kicker>,
}

fn read_u64(arg: usize) -> Result<u64> {
    Ok(u64::from_le_bytes(user::read_bytes::<8>(arg)?))
}

fn write_u64(arg: usize, v: u64) -> Result {
    user::write_bytes(arg, &v.to_le_bytes())
}

impl VhostNet {
    /// The device lock, for the control path: announced first, so that a
    /// busy-polling worker holding it lets go.
    fn lock(&self) -> MutexGuard<'_, Dev> {
        self.kicker.ctl_waiters.fetch_add(1, Ordering::AcqRel);
        let g = self.dev.lock();
        self.kicker.ctl_waiters.fetch_sub(1, Ordering::AcqRel);
        g
    }

    /// Polls `file` for ring `q` (`mask`: kicks, socket readiness).
    fn poll<F: crate::glue::poll::PollFile>(
        &self,
        q: usize,
        mask: u32,
        sock: bool,
        file: F,
    ) -> Result<Polled<F, Kicker>> {
        let token = q as u32 | if sock { TOKEN_SOCK } else { 0 };
        Polled::new(file, self.kicker.clone(), token, mask)
    }

    fn set_features(&self, f: u64) -> Result {
        let f = abi::features(f, abi::VHOST_ZC_FEATURES).map_err(err)?;
        let mut dev = self.lock();
        // Logging everything needs a log that covers all memory.
        if f & (1 << abi::VHOST_F_LOG_ALL) != 0 && !dev.memory_access_ok(None, dev.log_base, true) {
            return Err(EFAULT);
        }
        // A fresh, empty IOTLB each time ACCESS_PLATFORM is acked
        // (upstream `vhost_init_device_iotlb`); it stays if a later call
        // drops the bit, as upstream.
        if f & (1 << abi::VIRTIO_F_ACCESS_PLATFORM) != 0 {
            dev.iotlb = Some(KVec::new());
        }
        dev.acked_features = f;
        Ok(())
    }

    /// `VHOST_GET_FEATURES_ARRAY`: `{u64 count; u64 features[count]}`; words
    /// past the ones the kernel knows are zeroed.
    fn get_features_array(&self, arg: usize) -> Result {
        let count = read_u64(arg)?;
        let words = [abi::VHOST_ZC_FEATURES, 0];
        let n = core::cmp::min(count, abi::FEATURES_U64S as u64) as usize;
        for (i, w) in words.iter().take(n).enumerate() {
            write_u64(arg + 8 + 8 * i, *w)?;
        }
        if count > abi::FEATURES_U64S as u64 {
            let extra = (count - abi::FEATURES_U64S as u64).saturating_mul(8);
            crate::glue::user::clear(arg + 8 + 8 * abi::FEATURES_U64S, extra)?;
        }
        Ok(())
    }

    /// `VHOST_SET_FEATURES_ARRAY`: unknown nonzero words are `EOPNOTSUPP`.
    fn set_features_array(&self, arg: usize) -> Result {
        let count = read_u64(arg)?;
        let mut words = [0u64; abi::FEATURES_U64S];
        let n = core::cmp::min(count, abi::FEATURES_U64S as u64) as usize;
        for (i, w) in words.iter_mut().take(n).enumerate() {
            *w = read_u64(arg + 8 + 8 * i)?;
        }
        // As upstream: every extra word must be readable and zero. The walk
        // ends at the first fault, so it is bounded by the caller's mapping.
        let mut i = abi::FEATURES_U64S as u64;
        while i < count {
            let at = (arg as u64)
                .checked_add(8 + 8 * i)
                .and_then(|a| usize::try_from(a).ok())
                .ok_or(EFAULT)?;
            if read_u64(at)? != 0 {
                return Err(EOPNOTSUPP);
            }
            i += 1;
        }
        if words[1] != 0 {
            return Err(EOPNOTSUPP);
        }
        self.set_features(words[0])
    }

    /// `VHOST_NET_SET_BACKEND` after the owner and index checks: attach the
    /// tap `fd` to ring `q` (or detach with -1), as upstream
    /// `vhost_net_set_backend` + `vhost_vq_init_access`.
    fn set_backend(&self, dev: &mut Dev, q: usize, fd: i32) -> Result {
        // Upstream verifies the ring before it looks at the fd, even -1.
        if !dev.vq_access_ok(q, dev.log_base) {
            return Err(EFAULT);
        }
        if fd == -1 {
            dev.vqs[q].backend = None;
            return Ok(());
        }
        let sock = BackendSocket::get(fd)?;
        // The used ring must be writable and its index readable: the ring
        // continues from where the guest's used index is. With the IOTLB
        // both must be mapped now: a miss is queued and the ioctl fails, as
        // upstream `vhost_vq_init_access` (flags written, then idx read;
        // upstream translates both for reading, `__vhost_get_user_slow`,
        // so the miss it reports says RO, and so does this one).
        let used_iova = dev.vqs[q].addr.used;
        let used = |dev: &mut Dev, off: u64, acc: u8| -> Result<u64> {
            let iova = used_iova.checked_add(off).ok_or(EFAULT)?;
            let Some(t) = dev.tlb() else {
                return Ok(iova);
            };
            match t.translate_contiguous(iova, 2, acc) {
                Ok(h) => Ok(h),
                Err((CoreError::IotlbMiss, at)) => {
                    dev.record_miss(q, at, acc, &self.kicker.stats);
                    dev.msgs_ready = false;
                    self.msg_wait.notify_all();
                    Err(EFAULT)
                }
                Err(_) => Err(EFAULT),
            }
        };
        let flags = used(dev, used_off::FLAGS, ACCESS_RO)?;
        ring::put_u16(&RingMem::User, flags, 0, 0)?;
        let idx = used(dev, used_off::IDX, ACCESS_RO)?;
        let used_idx = ring::get_u16(&RingMem::User, idx, 0)?;
        let mask = if q == TX { EPOLLOUT } else { EPOLLIN };
        let vq = &mut dev.vqs[q];
        vq.last_used_idx = used_idx;
        vq.notifier.reset();
        vq.broken = false;
        vq.blocked_at = None;
        // Polling starts with a wake-up if the tap is ready (TX: writable),
        // which runs the ring once; the old backend stops as it is dropped.
        vq.backend = Some(self.poll(q, mask, true, sock)?);
        Ok(())
    }

    fn set_mem_table(dev: &mut Dev, arg: usize) -> Result {
        let hdr = user::read_bytes::<{ abi::MEM_HEADER_SIZE }>(arg)?;
        let n = abi::mem_header(&hdr, abi::DEFAULT_MAX_MEM_REGIONS).map_err(err)?;
        let mut regions = KVec::with_capacity(n, GFP_KERNEL)?;
        for i in 0..n {
            let b = user::read_bytes::<{ abi::MEM_REGION_SIZE }>(
                arg + abi::MEM_HEADER_SIZE + i * abi::MEM_REGION_SIZE,
            )?;
            regions.push(abi::mem_region(&b), GFP_KERNEL)?;
        }
        // Upstream reports a region its IOTLB rejects as EFAULT; so do we.
        MemTable::new(&regions).map_err(|_| EFAULT)?;
        if !dev.memory_access_ok(Some(&regions), dev.log_base, false) {
            return Err(EFAULT);
        }
        dev.mem = regions;
        dev.mem_set = true;
        Ok(())
    }

    /// `vhost_dev_ioctl` after the owner check, then `vhost_vring_ioctl`.
    fn dev_ioctl(&self, dev: &mut Dev, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            abi::VHOST_SET_MEM_TABLE => Self::set_mem_table(dev, arg)?,
            abi::VHOST_SET_LOG_BASE => {
                let base = read_u64(arg)?;
                // Every running ring must be loggable at the new base.
                // Upstream keeps a base per ring and moves those that pass;
                // here it is one for the device, kept as it was on failure.
                for q in 0..dev.vqs.len() {
                    if dev.vqs[q].backend.is_some() && !dev.vq_log_access_ok(q, base) {
                        return Err(EFAULT);
                    }
                }
                dev.log_base = base;
            }
            abi::VHOST_SET_LOG_FD => {
                let fd = i32::from_le_bytes(user::read_bytes::<4>(arg)?);
                dev.log_ctx = if fd == -1 {
                    None
                } else {
                    Some(EventfdCtx::fdget(fd)?)
                };
            }
            _ => return self.vring_ioctl(dev, cmd, arg),
        }
        Ok(0)
    }

    fn vring_ioctl(&self, dev: &mut Dev, cmd: u32, arg: usize) -> Result<isize> {
        // Every vring ioctl starts with the ring index; so does the rejection
        // of unknown commands (upstream reads it before saying ENOIOCTLCMD).
        let index = u32::from_le_bytes(user::read_bytes::<4>(arg)?);
        let q = abi::vring_index(index).map_err(err)?;
        let log_base = dev.log_base;
        let event_idx = dev.has(abi::VIRTIO_RING_F_EVENT_IDX);
        let iotlb = dev.iotlb.is_some();
        let vq = &mut dev.vqs[q];
        match cmd {
            abi::VHOST_SET_VRING_NUM => {
                // Not while the ring runs (upstream checks before copying).
                if vq.backend.is_some() {
                    return Err(EBUSY);
                }
                let s = VringState::from_bytes(&user::read_bytes(arg)?);
                vq.num = abi::vring_num(s.num).map_err(err)?;
                vq.broken = false;
            }
            abi::VHOST_SET_VRING_ADDR => {
                let a = VringAddr::from_bytes(&user::read_bytes(arg)?).map_err(err)?;
                // A running ring's new addresses are checked now (a stopped
                // one's when it starts), as upstream.
                if vq.backend.is_some() && !iotlb {
                    let num = u32::from(vq.num);
                    if !rings_access_ok(&a, num, event_idx)
                        || !log_used_access_ok(log_base, &a, access::used_size(num, event_idx))
                    {
                        return Err(EINVAL);
                    }
                }
                vq.addr = a;
                vq.broken = false;
            }
            abi::VHOST_SET_VRING_BASE => {
                if vq.backend.is_some() {
                    return Err(EBUSY);
                }
                let s = VringState::from_bytes(&user::read_bytes(arg)?);
                vq.last_avail_idx = abi::vring_base(s.num).map_err(err)?;
                vq.broken = false;
            }
            abi::VHOST_GET_VRING_BASE => {
                let s = VringState {
                    index,
                    num: vq.last_avail_idx.into(),
                };
                user::write_bytes(arg, &s.to_bytes())?;
            }
            abi::VHOST_SET_VRING_KICK => {
                let f = VringFile::from_bytes(&user::read_bytes(arg)?);
                let kick = if f.fd == -1 {
                    None
                } else {
                    Some(self.poll(q, EPOLLIN, false, EventfdFile::fget(f.fd)?)?)
                };
                // The old kick (if any) stops being polled as it is dropped.
                vq.kick = kick;
            }
            abi::VHOST_SET_VRING_CALL | abi::VHOST_SET_VRING_ERR => {
                let f = VringFile::from_bytes(&user::read_bytes(arg)?);
                let ctx = if f.fd == -1 {
                    None
                } else {
                    Some(EventfdCtx::fdget(f.fd)?)
                };
                if cmd == abi::VHOST_SET_VRING_CALL {
                    vq.call = ctx;
                } else {
                    vq.err = ctx;
                }
            }
            abi::VHOST_SET_VRING_BUSYLOOP_TIMEOUT => {
                vq.busyloop_timeout = VringState::from_bytes(&user::read_bytes(arg)?).num;
            }
            abi::VHOST_GET_VRING_BUSYLOOP_TIMEOUT => {
                let s = VringState {
                    index,
                    num: vq.busyloop_timeout,
                };
                user::write_bytes(arg, &s.to_bytes())?;
            }
            // Includes SET/GET_VRING_ENDIAN (cross-endian support is off in
            // distro kernels) and the worker ioctls vhost_net never wired up.
            _ => return Err(ENOIOCTLCMD),
        }
        Ok(0)
    }
}

impl Work for VhostNet {
    fn run(this: ArcBorrow<'_, Self>) -> bool {
        let bits = this.kicker.pending.swap(0, Ordering::AcqRel);
        if bits == 0 {
            return false;
        }
        worker::running();
        let mut again = 0u32;
        {
            let mut dev = this.dev.lock();
            for q in [TX, RX] {
                if bits & (1 << q) != 0 && dev.process(q, &this.kicker.stats) {
                    again |= 1 << q;
                }
            }
            if again == 0 {
                again = dev.busy_poll(&this.kicker);
            }
            if dev.msgs_ready {
                dev.msgs_ready = false;
                this.msg_wait.notify_all();
            }
        }
        // Exhausted weights go round again after the other ring (fairness),
        // and so do rings a busy poll found work for.
        if again != 0 {
            this.kicker.pending.fetch_or(again, Ordering::AcqRel);
        }
        worker::cond_resched();
        true
    }

    fn killed(_this: ArcBorrow<'_, Self>) {
        // The owner is dying: its fds are released right after, which stops
        // and reaps the task (`release`).
    }
}

impl FileOps for VhostNet {
    type OwnerModule = crate::VhostZc;

    fn open() -> Result<Arc<Self>> {
        let n = DEVICE_SEQ.fetch_add(1, Ordering::Relaxed);
        let name = kernel::str::CString::try_from_fmt(fmt!("dev{}", n))?;
        let kicker = Arc::new(
            Kicker {
                pending: AtomicU32::new(0),
                task: TaskRef::default(),
                stats: Stats::new(&name)?,
                ctl_waiters: AtomicU32::new(0),
            },
            GFP_KERNEL,
        )?;
        Arc::pin_init(
            pin_init!(Self {
                dev <- new_mutex!(Dev::new()),
                msg_wait <- new_poll_condvar!(),
                kicker,
            }),
            GFP_KERNEL,
        )
    }

    fn release(this: Arc<Self>) {
        // The worker holds a reference: stop it first (polls before it, so no
        // wake-up reaches a stopped task), then dropping the state puts every
        // eventfd, the tap files and the owner's mm.
        let worker = this.lock().take_worker();
        if let Some(w) = worker {
            w.stop(&this.kicker.task);
        }
        drop(this);
    }

    fn ioctl(this: ArcBorrow<'_, Self>, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            abi::VHOST_GET_FEATURES => write_u64(arg, abi::VHOST_ZC_FEATURES)?,
            // Upstream checks neither of these against the owner.
            abi::VHOST_SET_FEATURES => this.set_features(read_u64(arg)?)?,
            abi::VHOST_GET_FEATURES_ARRAY => this.get_features_array(arg)?,
            abi::VHOST_SET_FEATURES_ARRAY => this.set_features_array(arg)?,
            abi::VHOST_GET_BACKEND_FEATURES => write_u64(arg, abi::VHOST_ZC_BACKEND_FEATURES)?,
            abi::VHOST_SET_BACKEND_FEATURES => {
                let f =
                    abi::features(read_u64(arg)?, abi::VHOST_ZC_BACKEND_FEATURES).map_err(err)?;
                this.lock().acked_backend_features = f;
            }
            abi::VHOST_SET_OWNER => {
                let mut dev = this.lock();
                if dev.owner.is_some() {
                    return Err(EBUSY);
                }
                let cur = kernel::current!();
                let mm = cur.mm().and_then(|mm| mm.mmget_not_zero()).ok_or(EINVAL)?;
                let scratch = Scratch::new()?;
                // A thread of the caller: it works in the owner's mm.
                let worker =
                    Task::start(this.into(), c"vhost-zc", &this.kicker.task).map_err(|_| ENOMEM)?;
                dev.scratch = Some(scratch);
                dev.worker = Some(worker);
                dev.owner = Some(mm);
            }
            abi::VHOST_RESET_OWNER => {
                let worker = {
                    let mut dev = this.lock();
                    dev.check_owner()?;
                    dev.take_worker()
                };
                if let Some(w) = worker {
                    w.stop(&this.kicker.task);
                }
                this.lock().reset();
            }
            abi::VHOST_NET_SET_BACKEND => {
                let f = VringFile::from_bytes(&user::read_bytes(arg)?);
                let mut dev = this.lock();
                dev.check_owner()?;
                let q = abi::vring_index(f.index).map_err(err)?;
                this.set_backend(&mut dev, q, f.fd)?;
            }
            abi::VHOST_SET_FORK_FROM_OWNER => {
                let mut dev = this.lock();
                if dev.owner.is_some() {
                    return Err(EBUSY);
                }
                let v = user::read_bytes::<1>(arg)?[0];
                dev.fork_owner = abi::fork_from_owner(v).map_err(err)?;
            }
            abi::VHOST_GET_FORK_FROM_OWNER => {
                let v = u8::from(this.lock().fork_owner);
                user::write_bytes(arg, &[v])?;
            }
            _ => {
                let mut dev = this.lock();
                dev.check_owner()?;
                return this.dev_ioctl(&mut dev, cmd, arg);
            }
        }
        Ok(0)
    }

    /// The IOTLB message channel. Without `VIRTIO_F_ACCESS_PLATFORM` there is
    /// no IOTLB and nothing is ever queued, so, as upstream: a short buffer
    /// reads 0, a non-blocking read is `EAGAIN`, a blocking one `EBADFD`.
    /// The IOTLB message channel (upstream `vhost_chr_read_iter`): the
    /// oldest unread `VHOST_IOTLB_MISS`. A short buffer reads 0; with none
    /// queued, `O_NONBLOCK` is `EAGAIN`, a signal `ERESTARTSYS`, and without
    /// an IOTLB (no `ACCESS_PLATFORM`) a blocking read is `EBADFD`.
    fn read(this: ArcBorrow<'_, Self>, nonblock: bool, iov: &mut IovIterDest<'_>) -> Result<usize> {
        if iov.len() < abi::VHOST_MSG_SIZE {
            return Ok(0);
        }
        let mut dev = this.lock();
        loop {
            if let Some((q, m)) = dev.next_miss() {
                let b = abi::encode_miss(m.format, m.iova, m.perm);
                let n = iov.copy_to_iter(&b);
                // Read whole, it waits for its UPDATE; a short copy loses
                // it, as upstream frees the message.
                let slot = &mut dev.vqs[q].miss;
                if n == b.len() {
                    *slot = Some(Miss { read: true, ..m });
                } else {
                    *slot = None;
                }
                return Ok(n);
            }
            if nonblock {
                return Err(EAGAIN);
            }
            if kernel::current!().signal_pending() {
                return Err(ERESTARTSYS);
            }
            if dev.iotlb.is_none() {
                return Err(EBADFD);
            }
            if this.msg_wait.wait_interruptible(&mut dev) {
                return Err(ERESTARTSYS);
            }
        }
    }

    /// IOTLB updates and invalidations (upstream `vhost_chr_write_iter`):
    /// malformed messages are `EINVAL`; any message the IOTLB cannot take
    /// (none set up, a range outside user space, another type) is `EFAULT`.
    /// An update that covers a ring's miss runs that ring again.
    fn write(this: ArcBorrow<'_, Self>, iov: &mut IovIterSource<'_>) -> Result<usize> {
        let mut buf = [0u8; abi::IOTLB_WRITE_MIN];
        let n = iov.copy_from_iter(&mut buf);
        let m = IotlbMsg::decode(&buf[..n]).map_err(err)?;
        let wake = this.lock().iotlb_msg(&m).map_err(|()| EFAULT)?;
        if wake != 0 {
            this.kicker.pending.fetch_or(wake, Ordering::AcqRel);
            this.kicker.task.wake();
        }
        Ok(abi::VHOST_MSG_SIZE)
    }

    fn poll(this: ArcBorrow<'_, Self>, file: &File, table: PollTable<'_>) -> u32 {
        table.register_wait(file, &this.msg_wait);
        if this.lock().next_miss().is_some() {
            EPOLLIN | EPOLLRDNORM
        } else {
            0
        }
    }
}
