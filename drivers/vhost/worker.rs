// SPDX-License-Identifier: GPL-2.0-only

//! The device's worker (upstream `vhost_worker` running `handle_tx_kick`,
//! `handle_rx_kick` and the socket wake-ups): kicks and socket readiness set
//! a bit per ring in the [`Kicker`]; [`Work::run`] takes the bits, runs each
//! ring once ([`Dev::process`]: IOTLB prefetch, then the data path), and
//! puts rings whose weight ran out back in line after the other one
//! (fairness). With nothing left it busy polls ([`Dev::busy_poll`]).

use core::sync::atomic::{AtomicU32, Ordering};
use kernel::{prelude::*, sync::ArcBorrow};

use super::backend::{self, Counts, Outcome, Run};
use super::dev::{Dev, VhostNet, Vring, RX, TX};
use super::guest_mem::{self, Guest, Log, RingMem};
use super::iotlb::PrefetchError;
use super::vq::{Broken, RingState, UserRing};
use crate::glue::{
    poll::Wake,
    stats::{Counter, Stats},
    worker::{self, BusyPoll, TaskRef, Work},
};
use crate::vzc_core::{
    net::HeaderSplit,
    vhost::{abi, iotlb::Iotlb},
    virtio::{
        queue::{QueueState, SplitQueue},
        split::avail as avail_off,
    },
    MemTable, QueueSize,
};

/// Where kicks and socket readiness land: a bit per ring for the worker, the
/// worker's wake-up, and the device's counters. Separate from `VhostNet` so
/// the polls can hold it without a reference cycle through the device state.
pub(super) struct Kicker {
    /// Rings with work (bit per ring), taken by the worker.
    pub(super) pending: AtomicU32,
    pub(super) task: TaskRef,
    pub(super) stats: Stats,
    /// Ioctls waiting for the device lock: a busy poll gives way to them.
    pub(super) ctl_waiters: AtomicU32,
}

impl Kicker {
    /// Nothing pending, no worker yet.
    pub(super) fn new(stats: Stats) -> Self {
        Self {
            pending: AtomicU32::new(0),
            task: TaskRef::default(),
            stats,
            ctl_waiters: AtomicU32::new(0),
        }
    }
}

/// In `Kicker::pending` beside the ring bits: the tap's port changed
/// (`port.rs`).
pub(super) const PENDING_PORT: u32 = 1 << 2;

/// Poll tokens: the ring in bit 0; bit 1 set for socket readiness (clear for
/// a guest kick).
pub(super) const TOKEN_SOCK: u32 = 2;

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

impl Dev {
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
            Err(PrefetchError::Miss { iova, access }) => {
                self.record_miss(q, iova, access, stats);
                self.vqs[q].blocked_at = None;
                return false;
            }
            Err(PrefetchError::Fault(e)) => {
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
        let guest = Guest::new(mem, tlb);
        let log = (features & (1 << abi::VHOST_F_LOG_ALL) != 0).then(|| Log {
            base: log_base,
            gpa_end: guest_mem::gpa_end(&guest.mem),
        });
        let event_idx = features & (1 << abi::VIRTIO_RING_F_EVENT_IDX) != 0;
        let state = QueueState {
            avail_seen: vq.queue.last_avail_idx,
            ..vq.queue
        };
        let mut ring = RingState {
            desc: vq.addr.desc,
            io: UserRing {
                avail: vq.addr.avail,
                used: vq.addr.used,
                mem: rmem,
                log_used: vq.addr.log_used.then_some(vq.addr.log_guest),
                log,
            },
            queue: SplitQueue::new(size, event_idx, state),
        };
        let hdr = HeaderSplit::from_features(features);
        let mut counts = Counts::default();
        vq.blocked_at = None;
        let run = Run::new(&mut ring, &guest, hdr, scratch, &mut counts);
        let result = if q == TX {
            backend::handle_tx(backend, run)
        } else {
            backend::handle_rx(backend, run)
        };
        // What the run did to the indices stays, whatever its outcome (a
        // broken ring still reports the avail index it reached).
        vq.queue = ring.queue.state();
        let seen = ring.avail_seen();
        let missed = guest.miss.get();
        stats.add(q, Counter::Packets, counts.packets);
        stats.add(q, Counter::Bytes, counts.bytes);
        stats.add(q, Counter::Dropped, counts.dropped);
        stats.add(q, Counter::Waits, counts.waits);
        if counts.signalled {
            if let Some(call) = &vq.call {
                call.signal();
                stats.add(q, Counter::Calls, 1);
            }
        }
        let again = match result {
            Ok(Outcome::More) => true,
            Ok(Outcome::Idle) => false,
            Ok(Outcome::Blocked) => {
                vq.blocked_at = Some(seen);
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
        stats.set(q, Counter::LastAvail, vq.queue.last_avail_idx.into());
        stats.set(q, Counter::LastUsed, vq.queue.last_used_idx.into());
        stats.set(
            q,
            Counter::BlockedAt,
            vq.blocked_at.map_or(0, |i| u64::from(i) + 1),
        );
        again
    }

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
        let Ok(idx) = guest_mem::get_u16(&mem, vq.addr.avail, avail_off::IDX) else {
            return false;
        };
        if idx == vq.queue.last_avail_idx || vq.blocked_at == Some(idx) {
            return false;
        }
        q == TX || backend.rx_ready()
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
            // A thread of the owner: pins are charged to it.
            if bits & PENDING_PORT != 0 {
                dev.follow_port(false);
            }
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
