// SPDX-License-Identifier: GPL-2.0-only

//! Per-device counters, shown in `/sys/kernel/vhost_zc/devices/<name>/` as
//! `rx_<counter>` and `tx_<counter>`: an [`AttrDir`] like every attribute
//! directory of the module. The counter names exist only here, in
//! [`counters!`]'s list; a new counter (the zero-copy path's, say) is one
//! more line there.
//!
//! C header: none of its own; the files are [`super::sysfs`]'s
//! ([`include/linux/sysfs.h`](srctree/include/linux/sysfs.h)).

use super::sysfs::{Attr, AttrDir, AttrSource, Parent, SysfsBuf};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;

/// Declares [`Counter`] (one variant per line, in order) and the file
/// names of both rings' counters.
macro_rules! counters {
    ($( $(#[$doc:meta])* $variant:ident = $name:ident, )*) => {
        /// The counters of one ring.
        #[derive(Clone, Copy)]
        #[repr(usize)]
        pub(crate) enum Counter {
            $( $(#[$doc])* $variant, )*
        }

        /// Counters per ring.
        const PER_RING: usize = [$( stringify!($name) ),*].len();

        /// The files: ring 0 (RX), then ring 1 (TX), each in
        /// [`Counter`]'s order.
        const NAMES: [&CStr; 2 * PER_RING] = [
            $( kernel::c_str!(concat!("rx_", stringify!($name))), )*
            $( kernel::c_str!(concat!("tx_", stringify!($name))), )*
        ];
    };
}

counters! {
    /// Packets moved.
    Packets = packets,
    /// Bytes moved (frame bytes, without the virtio-net header).
    Bytes = bytes,
    /// Guest kicks (kick eventfd wake-ups).
    Kicks = kicks,
    /// Guest interrupts (call eventfd signals).
    Calls = calls,
    /// Packets dropped (tap errors, packets too big for the guest's buffers).
    Dropped = dropped,
    /// Times the guest broke the ring.
    Errors = errors,
    /// Busy-poll loops run for this ring (`VHOST_SET_VRING_BUSYLOOP_TIMEOUT`).
    BusyPolls = busy_polls,
    /// Busy-poll loops that found work for this ring before a wake-up.
    BusyPollHits = busy_poll_hits,
    /// IOTLB misses queued for userspace (`VIRTIO_F_ACCESS_PLATFORM`).
    IotlbMisses = iotlb_misses,
    /// State, not a count: the next avail index the ring takes.
    LastAvail = last_avail,
    /// State: the next used index the ring writes.
    LastUsed = last_used,
    /// State: 1 + the guest's avail index when the last run ended blocked
    /// (TX socket full, RX short of buffers), 0 if it did not.
    BlockedAt = blocked_at,
    /// Runs that stopped short: TX, a send failed for a full socket or
    /// memory; RX, too few guest buffers for the next packet.
    Waits = waits,
}

/// Total counters.
const NSTATS: usize = NAMES.len();

/// The attribute table, one read-only file per name.
const ATTRS: [Attr; NSTATS] = {
    let mut a = [const { Attr::ro(c"") }; NSTATS];
    let mut i = 0;
    while i < NSTATS {
        a[i] = Attr::ro(NAMES[i]);
        i += 1;
    }
    a
};

/// The values behind the files, updated atomically.
struct Counters {
    c: [AtomicU64; NSTATS],
}

impl AttrSource for Counters {
    const ATTRS: &'static [Attr] = &ATTRS;

    fn show(&self, idx: usize, out: &mut SysfsBuf<'_>) -> Result {
        out.line(self.c.get(idx).ok_or(EINVAL)?.load(Ordering::Relaxed))
    }

    fn store(&self, _idx: usize, _input: &[u8]) -> Result {
        Err(EINVAL)
    }
}

/// A device's counter directory; removed on drop (after any running
/// reader, see [`AttrDir`]).
pub(crate) struct Stats {
    dir: AttrDir<Counters>,
}

impl Stats {
    /// Creates `/sys/kernel/vhost_zc/devices/<name>/`.
    pub(crate) fn new(name: &CStr) -> Result<Self> {
        let counters = Counters {
            c: [const { AtomicU64::new(0) }; NSTATS],
        };
        Ok(Self {
            dir: AttrDir::new(Parent::Devices, name, counters)?,
        })
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
        &self.dir.c[i]
    }
}
