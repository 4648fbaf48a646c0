// SPDX-License-Identifier: GPL-2.0-only

//! Per-device counters, shown in `/sys/kernel/vhost_zc/devices/<name>/`.

use super::ffi;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{error::from_err_ptr, ffi::c_void, prelude::*};

/// The counters, in the order of `vzc_stat_names` in the shim.
#[derive(Clone, Copy)]
#[repr(usize)]
pub(crate) enum Counter {
    /// Packets moved.
    Packets = 0,
    /// Bytes moved (frame bytes, without the virtio-net header).
    Bytes = 1,
    /// Guest kicks (kick eventfd wake-ups).
    Kicks = 2,
    /// Guest interrupts (call eventfd signals).
    Calls = 3,
    /// Packets dropped (tap errors, packets too big for the guest's buffers).
    Dropped = 4,
    /// Times the guest broke the ring.
    Errors = 5,
    /// Busy-poll loops run for this ring (`VHOST_SET_VRING_BUSYLOOP_TIMEOUT`).
    BusyPolls = 6,
    /// Busy-poll loops that found work for this ring before a wake-up.
    BusyPollHits = 7,
    /// IOTLB misses queued for userspace (`VIRTIO_F_ACCESS_PLATFORM`).
    IotlbMisses = 8,
    /// State, not a count: the next avail index the ring takes.
    LastAvail = 9,
    /// State: the next used index the ring writes.
    LastUsed = 10,
    /// State: 1 + the guest's avail index when the last run ended blocked
    /// (TX socket full, RX short of buffers), 0 if it did not.
    BlockedAt = 11,
    /// Runs that stopped short: TX, a send failed for a full socket or
    /// memory; RX, too few guest buffers for the next packet.
    Waits = 12,
}

/// Counters per ring.
const PER_RING: usize = 13;
/// Total counters; must equal `VZC_NSTATS` in `vzc_shim.h`.
const NSTATS: usize = 2 * PER_RING;

/// A device's counter directory; removed on drop.
///
/// # Invariants
///
/// `s` came from a successful `vzc_stats_create`; `c` points to its
/// `NSTATS` counters, which live as long as `s` (until after `Drop`).
pub(crate) struct Stats {
    s: *mut c_void,
    c: *const AtomicU64,
}

// SAFETY: the counters are only accessed atomically; the kobject is
// reference counted.
unsafe impl Send for Stats {}
// SAFETY: see `Send`.
unsafe impl Sync for Stats {}

impl Stats {
    /// Creates `/sys/kernel/vhost_zc/devices/<name>/`.
    pub(crate) fn new(name: &CStr) -> Result<Self> {
        // SAFETY: `name` is NUL-terminated; the shim copies it.
        let s = from_err_ptr(unsafe { ffi::vzc_stats_create(name.as_char_ptr()) })?;
        // SAFETY: `s` is valid; the counters are `u64`s, aligned for `AtomicU64`.
        let c = unsafe { ffi::vzc_stats_counters(s) }.cast::<AtomicU64>();
        // INVARIANT: both from the shim, for the same object.
        Ok(Self { s, c })
    }

    /// Adds `n` to counter `which` of ring `ring` (0 RX, 1 TX). Callable in
    /// atomic context.
    pub(crate) fn add(&self, ring: usize, which: Counter, n: u64) {
        self.counter(ring, which).fetch_add(n, Ordering::Relaxed);
    }

    /// Sets state value `which` of ring `ring` (the ring indices a stalled
    /// ring is diagnosed by). Callable in atomic context.
    pub(crate) fn set(&self, ring: usize, which: Counter, v: u64) {
        self.counter(ring, which).store(v, Ordering::Relaxed);
    }

    fn counter(&self, ring: usize, which: Counter) -> &AtomicU64 {
        // `ring` is 0 or 1 by construction; the clamp keeps the index in
        // bounds even if a caller got that wrong.
        let i = (ring.min(1) * PER_RING + which as usize).min(NSTATS - 1);
        // SAFETY: `i < NSTATS` and `c` points to `NSTATS` live counters,
        // which live as long as `self`.
        unsafe { &*self.c.add(i) }
    }
}

impl Drop for Stats {
    fn drop(&mut self) {
        // SAFETY: `s` is valid and destroyed once; its memory goes with the
        // last kobject reference (after any sysfs reader).
        unsafe { ffi::vzc_stats_destroy(self.s) };
    }
}
