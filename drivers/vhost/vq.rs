// SPDX-License-Identifier: GPL-2.0-only

//! The virtqueue engine over user memory: one split ring as the data path
//! reads and advances it (upstream vhost.c's `vhost_get_vq_desc` index
//! checks, `vhost_enable_notify`, `vhost_add_used_n`, `vhost_notify`):
//! pending buffers, heads, notification arming, used elements, used-index
//! publication and the should-signal decision, with the dirty log of every
//! used-ring write. [`Broken`] is how a guest's mistake stops the ring; the
//! backends ([`super::backend`]) use both.

use kernel::prelude::*;

use super::guest_mem::{self as ring, Log, RingMem};
use crate::vzc_core::{
    virtio::{
        queue::{QueueError, RingIo, SplitQueue},
        split::used_elem,
    },
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

/// One ring during a run: the core's engine ([`SplitQueue`], which holds
/// the indices and validates every guest value) over the ring's memory.
/// The worker builds it from the `Vring` at the start of a run and stores
/// the engine's state back after it.
pub(super) struct RingState<'a> {
    /// User address of the descriptor table (walked by the backends).
    pub(super) desc: u64,
    /// The avail and used rings, as the engine reaches them.
    pub(super) io: UserRing<'a>,
    /// The engine.
    pub(super) queue: SplitQueue,
}

/// The avail and used rings of one queue in the owner's user memory, with
/// the dirty log of every used-ring write: the engine's [`RingIo`].
pub(super) struct UserRing<'a> {
    pub(super) avail: u64,
    pub(super) used: u64,
    /// How the ring addresses reach memory.
    pub(super) mem: RingMem<'a>,
    /// Guest address of the used ring, when its writes are logged.
    pub(super) log_used: Option<u64>,
    pub(super) log: Option<Log>,
}

impl RingState<'_> {
    /// The ring size.
    pub(super) fn size(&self) -> QueueSize {
        self.queue.size()
    }

    /// The next avail position a head is taken from.
    pub(super) fn last_avail_idx(&self) -> u16 {
        self.queue.last_avail_idx()
    }

    /// The guest's avail index as last read.
    pub(super) fn avail_seen(&self) -> u16 {
        self.queue.avail_seen()
    }

    /// Counts `n` heads from [`Self::last_avail_idx`] on as taken.
    pub(super) fn take(&mut self, n: u16) {
        self.queue.take(n);
    }

    /// Buffers the guest made available and we have not taken.
    pub(super) fn pending(&mut self) -> Result<u16, Broken> {
        self.queue.pending(&self.io).map_err(broken)
    }

    /// The head at avail position `pos`, validated against the ring size.
    pub(super) fn head_at(&self, pos: u16) -> Result<u16, Broken> {
        self.queue.head_at(&self.io, pos).map_err(broken)
    }

    /// Asks the guest to kick for buffers beyond the ones seen; `true` if it
    /// added some meanwhile (`SplitQueue::enable_notify`).
    pub(super) fn enable_notify(&mut self) -> Result<bool, Broken> {
        self.queue.enable_notify(&self.io).map_err(broken)
    }

    /// Writes a used element at the next used slot.
    pub(super) fn add_used(&mut self, id: u16, len: u32) -> Result<(), Broken> {
        self.queue.add_used(&self.io, id, len).map_err(broken)
    }

    /// Publishes the used index (after the elements) and says whether to
    /// signal the guest.
    pub(super) fn publish(&mut self) -> Result<bool, Broken> {
        self.queue.publish(&self.io).map_err(broken)
    }
}

/// The engine's errors as the worker reports them.
fn broken(e: QueueError<Broken>) -> Broken {
    match e {
        QueueError::Io(b) => b,
        QueueError::AvailJump => Broken::AvailJump,
        QueueError::BadHead(h) => Broken::BadHead(h),
    }
}

/// The rings as the owner's user memory (`ring::get_u16`/`put_u16`: one
/// 16-bit access each); a failed access is `RingFault`, a failed dirty-log
/// write `Log`.
impl RingIo for UserRing<'_> {
    type Error = Broken;

    fn read_avail_u16(&self, off: u64) -> Result<u16, Broken> {
        ring::get_u16(&self.mem, self.avail, off).map_err(|_| Broken::RingFault)
    }

    fn write_used_u16(&self, off: u64, v: u16) -> Result<(), Broken> {
        ring::put_u16(&self.mem, self.used, off, v).map_err(|_| Broken::RingFault)
    }

    fn write_used_elem(&self, off: u64, id: u16, len: u32) -> Result<(), Broken> {
        ring::put(&self.mem, self.used, off, &used_elem(id, len)).map_err(|_| Broken::RingFault)
    }

    fn log_used(&self, off: u64, len: u64) -> Result<(), Broken> {
        if let (Some(log), Some(gpa)) = (self.log, self.log_used) {
            let gpa = gpa.checked_add(off).ok_or(Broken::Log)?;
            let at = self.used.checked_add(off).ok_or(Broken::Log)?;
            self.mem
                .log_write(&log, at, gpa, len)
                .map_err(|_| Broken::Log)?;
        }
        Ok(())
    }
}
