// SPDX-License-Identifier: GPL-2.0-only

//! Where RX buffers come from: the ring asks a provider for device-writable
//! buffers and hands each back exactly once, either as a piece of a
//! received frame (`complete`) or without data for the consumer
//! (`reclaim`: unused on stop, or part of a dropped frame). The vhost side
//! will implement the trait over guest pages; [`PoolProvider`] is the
//! driver's own, for the self-test.
//!
//! Frame boundaries: a frame may span several buffers (one per descriptor).
//! The ring decides a frame's fate when its last descriptor comes back and
//! only then hands its buffers on, in order and without interleaving with
//! other frames: the first with `first`, the last with `end` carrying the
//! frame's total length and status. A frame the ring drops never reaches
//! `complete`; its buffers come back through `reclaim(Dropped)`. So a
//! provider that maps frames onto a guest's mergeable buffers can count
//! the buffers of a frame as they come and publish it at `end`.

use kernel::{
    device::{Bound, Device},
    dma::{Coherent, DmaAddress},
    prelude::*, //
};

use super::dma_mem;

use crate::vzc_core::vf::{
    frame::{FrameCheck, RxTally},
    ring::RxStatus,
};

/// A buffer posted to the ring.
pub(crate) struct RxBuf<C> {
    /// Device address of the first writable byte.
    pub(crate) dma: DmaAddress,
    /// Writable bytes from `dma`; the ring refuses buffers shorter than
    /// its buffer size (the device may write that much into any buffer).
    pub(crate) len: u32,
    /// The provider's handle, returned unchanged.
    pub(crate) cookie: C,
}

/// The end of a frame, given with its last buffer.
#[derive(Clone, Copy)]
pub(crate) struct RxFrameEnd {
    /// Bytes of the whole frame (all its buffers; the CRC is stripped).
    pub(crate) total: u32,
    /// Status of the frame (its EOP descriptor).
    pub(crate) status: RxStatus,
}

/// One buffer of a received frame.
#[derive(Clone, Copy)]
pub(crate) struct RxPiece {
    /// Bytes the device wrote into this buffer (every buffer but the last
    /// is full).
    pub(crate) len: u32,
    /// The frame's first buffer.
    pub(crate) first: bool,
    /// Set on the frame's last buffer (which may also be the first).
    pub(crate) end: Option<RxFrameEnd>,
}

/// Why a buffer comes back without data for the consumer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reclaim {
    /// Never filled (ring stopped, or refused at posting).
    Unused,
    /// Filled with part of a frame the ring dropped (error, too long), or
    /// of a frame cut short by stopping the ring.
    Dropped,
}

/// Source of RX buffers for one RX queue. Called with the ring's lock
/// held: implementations must not sleep.
pub(crate) trait RxBufferProvider: Send {
    /// Per-buffer handle.
    type Cookie: Send;
    /// The next buffer of at least `min_len` bytes, or `None` (the ring
    /// stays partly filled and retries on the next refill).
    fn alloc(&mut self, min_len: u32) -> Option<RxBuf<Self::Cookie>>;
    /// A buffer of a good frame, in order (see the module comment).
    fn complete(&mut self, cookie: Self::Cookie, piece: RxPiece);
    /// The buffer comes back without data for the consumer.
    fn reclaim(&mut self, cookie: Self::Cookie, why: Reclaim);
}

/// Bytes of each [`PoolProvider`] buffer (the ring's SRRCTL size).
pub(crate) const POOL_BUF: u32 = 2048;

/// What the self-test receiver saw.
#[derive(Clone, Copy, Default)]
pub(crate) struct PoolStats {
    /// Self-test frames (`vzc_core::vf::frame`) good and bad, their bytes
    /// and the running payload hash.
    pub(crate) tally: RxTally,
    /// Buffers returned unused.
    pub(crate) reclaimed: u64,
    /// Buffers returned as parts of dropped frames.
    pub(crate) dropped_bufs: u64,
}

/// Buffers carved from one coherent allocation; checks that completed
/// frames are self-test frames (`vzc_core::vf::frame`) and hashes them.
///
/// # Invariants
///
/// Every slot index is either in `free` or lent out to the ring, never both.
pub(crate) struct PoolProvider {
    mem: Coherent<[u8]>,
    free: KVec<u16>,
    /// The frame being received (between its first and last buffer).
    cur: Option<FrameCheck>,
    stats: PoolStats,
}

impl PoolProvider {
    /// A pool of `n` buffers.
    pub(crate) fn new(dev: &Device<Bound>, n: u16) -> Result<Self> {
        let mem =
            Coherent::<u8>::zeroed_slice(dev, usize::from(n) * POOL_BUF as usize, GFP_KERNEL)?;
        let mut free = KVec::with_capacity(usize::from(n), GFP_KERNEL)?;
        for i in 0..n {
            free.push(i, GFP_KERNEL)?;
        }
        Ok(Self {
            mem,
            free,
            cur: None,
            stats: PoolStats::default(),
        })
    }

    /// Counters so far.
    pub(crate) fn stats(&self) -> PoolStats {
        self.stats
    }

    /// Feeds `len` bytes of `slot` to the frame check, a stack chunk at a
    /// time (the buffer is device memory: read once, volatile).
    fn feed(&self, check: &mut FrameCheck, slot: u16, len: u32) {
        let base = usize::from(slot) * POOL_BUF as usize;
        let len = len.min(POOL_BUF) as usize;
        let mut chunk = [0u8; 64];
        let mut off = 0;
        while off < len {
            let n = (len - off).min(chunk.len());
            for (k, b) in chunk[..n].iter_mut().enumerate() {
                // In bounds: slot < n buffers, off + k < POOL_BUF.
                *b = dma_mem::read_u8(&self.mem, base + off + k).unwrap_or(0);
            }
            check.feed(&chunk[..n]);
            off += n;
        }
    }

    fn put_back(&mut self, slot: u16) {
        // Capacity was reserved for every slot in `new`.
        let _ = self.free.push(slot, GFP_ATOMIC);
    }
}

impl RxBufferProvider for PoolProvider {
    type Cookie = u16;

    fn alloc(&mut self, min_len: u32) -> Option<RxBuf<u16>> {
        if min_len > POOL_BUF {
            return None;
        }
        let slot = self.free.pop()?;
        Some(RxBuf {
            dma: self.mem.dma_address() + DmaAddress::from(slot) * DmaAddress::from(POOL_BUF),
            len: POOL_BUF,
            cookie: slot,
        })
    }

    fn complete(&mut self, slot: u16, piece: RxPiece) {
        let mut cur = self.cur.take();
        if piece.first {
            if cur.is_some() {
                // The ring broke the contract (a frame without its end):
                // count the orphan as bad rather than merge it.
                self.stats.tally.bad += 1;
            }
            cur = Some(FrameCheck::new(self.stats.tally.hash));
        }
        match cur.as_mut() {
            Some(check) => self.feed(check, slot, piece.len),
            // A later piece without a first one: nothing to attach it to.
            None => self.stats.tally.bad += 1,
        }
        match (piece.end, cur) {
            (Some(end), Some(check)) => {
                // Self-test frames are sent untagged: a stripped tag means
                // a frame that is not ours. The total must be what came.
                if end.status.vlan.is_some() || end.total as usize != check.len() {
                    self.stats.tally.bad += 1;
                } else {
                    let _ = self.stats.tally.count(check);
                }
            }
            (None, cur) => self.cur = cur,
            (Some(_), None) => {}
        }
        self.put_back(slot);
    }

    fn reclaim(&mut self, slot: u16, why: Reclaim) {
        match why {
            Reclaim::Unused => self.stats.reclaimed += 1,
            Reclaim::Dropped => self.stats.dropped_bufs += 1,
        }
        self.put_back(slot);
    }
}
