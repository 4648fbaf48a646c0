// SPDX-License-Identifier: GPL-2.0-only

//! The virtqueue engine over user memory: one split ring as the data path
//! reads and advances it (upstream vhost.c's `vhost_get_vq_desc` index
//! checks, `vhost_enable_notify`, `vhost_add_used_n`, `vhost_notify`):
//! pending buffers, heads, notification arming, used elements, used-index
//! publication and the should-signal decision, with the dirty log of every
//! used-ring write. [`Broken`] is how a guest's mistake stops the ring; the
//! backends ([`super::backend`]) use both.

use core::cell::Cell;
use core::sync::atomic::{fence, Ordering};
use kernel::prelude::*;

use super::guest_mem::{self as ring, avail, used, Log, RingMem};
use crate::vzc_core::{
    avail_pending,
    split::{used_elem, Notifier},
    QueueSize,
};

/// Why a queue stops working: the guest broke the ring.
#[derive(Debug, Clone, Copy)]
#[expect(
    dead_code,
    reason = "the fields are read through Debug, in the log line"
)]
pub(super) enum Broken {
    /// The avail index moved by more than the ring size.
    AvailJump,
    /// A head index is not below the ring size.
    BadHead(u16),
    /// The descriptor chain is malformed (loop, bounds, indirect rules …).
    Chain(crate::vzc_core::Error),
    /// A TX chain has device-writable buffers, or an RX chain readable ones.
    Direction,
    /// A TX packet is shorter than the header vhost must strip.
    ShortHeader,
    /// More iovecs than `UIO_MAXIOV` for one packet.
    TooManyIovecs,
    /// The rings are not readable/writable (fault on a ring address).
    RingFault,
    /// The dirty log could not be written.
    Log,
}

/// The ring state the data path reads and advances.
pub(super) struct RingState<'a> {
    pub(super) size: QueueSize,
    pub(super) desc: u64,
    pub(super) avail: u64,
    pub(super) used: u64,
    /// How the three ring addresses reach memory.
    pub(super) mem: RingMem<'a>,
    /// Guest address of the used ring, when its writes are logged.
    pub(super) log_used: Option<u64>,
    pub(super) last_avail_idx: &'a mut u16,
    pub(super) last_used_idx: &'a mut u16,
    pub(super) notifier: &'a mut Notifier,
    pub(super) event_idx: bool,
    pub(super) log: Option<Log>,
    /// The guest's avail index as last read: what notifications are armed
    /// against (upstream `vq->avail_idx`).
    pub(super) avail_seen: Cell<u16>,
}

impl RingState<'_> {
    fn fault<T>(r: Result<T>) -> Result<T, Broken> {
        r.map_err(|_| Broken::RingFault)
    }

    fn log_used_write(&self, off: u64, len: u64) -> Result<(), Broken> {
        if let (Some(log), Some(gpa)) = (self.log, self.log_used) {
            let gpa = gpa.checked_add(off).ok_or(Broken::Log)?;
            let at = self.used.checked_add(off).ok_or(Broken::Log)?;
            self.mem
                .log_write(&log, at, gpa, len)
                .map_err(|_| Broken::Log)?;
        }
        Ok(())
    }

    /// Buffers the guest made available and we have not taken.
    pub(super) fn pending(&self) -> Result<u16, Broken> {
        let idx = Self::fault(ring::get_u16(&self.mem, self.avail, avail::IDX))?;
        let n =
            avail_pending(self.size, *self.last_avail_idx, idx).map_err(|_| Broken::AvailJump)?;
        self.avail_seen.set(idx);
        // Ring entries are read after the index that published them.
        fence(Ordering::Acquire);
        Ok(n)
    }

    /// The head at avail position `pos`, validated against the ring size.
    pub(super) fn head_at(&self, pos: u16) -> Result<u16, Broken> {
        let off = avail::ring(self.size.slot(pos));
        let head = Self::fault(ring::get_u16(&self.mem, self.avail, off))?;
        if head >= self.size.get() {
            return Err(Broken::BadHead(head));
        }
        Ok(head)
    }

    /// Asks the guest to kick when it adds a buffer beyond the ones already
    /// seen, then checks, after a full barrier, whether it did so meanwhile
    /// (upstream `vhost_enable_notify`). Arming at the *seen* index, not at
    /// `last_avail_idx`, matters on RX: buffers too few for the packet at
    /// hand are seen but not taken, and the guest only kicks for new ones
    /// (arming behind them also made the re-check always true: a busy loop).
    pub(super) fn enable_notify(&mut self) -> Result<bool, Broken> {
        let seen = self.avail_seen.get();
        if self.event_idx {
            let off = used::avail_event(self.size);
            Self::fault(ring::put_u16(&self.mem, self.used, off, seen))?;
            self.log_used_write(off, 2)?;
        }
        fence(Ordering::SeqCst);
        self.pending()?;
        Ok(self.avail_seen.get() != seen)
    }

    /// Writes a used element at the next used slot.
    pub(super) fn add_used(&mut self, id: u16, len: u32) -> Result<(), Broken> {
        let off = used::ring(self.size.slot(*self.last_used_idx));
        Self::fault(ring::put(&self.mem, self.used, off, &used_elem(id, len)))?;
        self.log_used_write(off, 8)?;
        *self.last_used_idx = self.last_used_idx.wrapping_add(1);
        Ok(())
    }

    /// Publishes the used index (after the elements) and says whether to
    /// signal the guest.
    pub(super) fn publish(&mut self) -> Result<bool, Broken> {
        fence(Ordering::Release);
        Self::fault(ring::put_u16(
            &self.mem,
            self.used,
            used::IDX,
            *self.last_used_idx,
        ))?;
        self.log_used_write(used::IDX, 2)?;
        fence(Ordering::SeqCst);
        let (flags, event) = if self.event_idx {
            let e = Self::fault(ring::get_u16(
                &self.mem,
                self.avail,
                avail::used_event(self.size),
            ))?;
            (0, e)
        } else {
            (
                Self::fault(ring::get_u16(&self.mem, self.avail, avail::FLAGS))?,
                0,
            )
        };
        Ok(self
            .notifier
            .should_signal(self.event_idx, flags, event, *self.last_used_idx))
    }
}
