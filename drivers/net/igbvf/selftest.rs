// SPDX-License-Identifier: GPL-2.0-only

//! The self-test: an RX buffer provider of the driver's own
//! ([`PoolProvider`], checking and hashing self-test frames,
//! `vzc_core::vf::frame`) and the queue controls behind sysfs `rx/ring` and
//! `tx/send`. The guest-facing path will bring its own provider and
//! transmitter; nothing outside this file knows the self-test.

use core::sync::atomic::Ordering;
use kernel::{
    device::{Bound, Device},
    dma::{Coherent, DmaAddress},
    prelude::*,
    time::{delay::fsleep, Delta}, //
};

use super::{
    dma_mem,
    port::{RxQueue, VfPort, CRC_LEN},
    queue::{self, alloc_point, Ring},
    rx_ring::RxRing,
    tx_ring::TxRing,
};
use crate::net::provider::{Reclaim, RxBuf, RxBufferProvider, RxPiece};
use crate::vzc_core::{
    net::eth::MacAddr,
    vf::{
        frame::{FrameCheck, FrameLen, RxTally, TestFrame},
        ring::RingSize,
    },
};

/// Descriptors of the self-test's TX ring (room for 51 frames of 9000
/// bytes, 5 descriptors each).
const TX_RING_DESCS: u16 = 256;

/// Most frames one `tx/send` write may ask for.
const MAX_TX_BURST: u32 = 1000;

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

/// The self-test's queue controls (sysfs `rx/ring`, `tx/send`).
impl VfPort<'_> {
    /// `ENODEV` once unbind has begun. Checked under `queues`: unbind sets
    /// `stopping` before it takes that lock to stop the VF for good, so a
    /// write that gets the lock after it sees the flag and starts no ring
    /// on a VF that is quiesced for good (the attribute files live until
    /// the driver data is freed).
    fn not_stopping(&self) -> Result {
        if self.stopping.load(Ordering::Acquire) {
            Err(ENODEV)
        } else {
            Ok(())
        }
    }

    /// `n` > 0: start an RX ring of `n` descriptors filled from a pool of
    /// `n` buffers; 0: stop it and free it.
    pub(super) fn set_rx_ring(&self, n: u16) -> Result {
        let mut q = self.queues.lock();
        self.not_stopping()?;
        if n == 0 {
            let before = match q.rx.as_ref() {
                Some(RxQueue::Pool(r)) => r.provider().stats().reclaimed,
                None => return Err(EINVAL),
            };
            let mut rx = q.rx.take().ok_or(EINVAL)?;
            rx.reclaim(queue::stop_or_reset(&self.bar, &mut self.hw.lock()));
            let after = rx.pool().map_or(before, |p| p.stats().reclaimed);
            q.last_reclaimed = after - before;
            // Reclaimed: the device owns nothing of it any more.
            drop(rx);
            if q.tx.is_none() {
                q.stale = false;
            }
            return Ok(());
        }
        if q.rx.is_some() {
            return Err(EBUSY);
        }
        if q.stale {
            // Rings wait for a recovery: starting one now would race it.
            return Err(EAGAIN);
        }
        let size = RingSize::new(n).map_err(|_| EINVAL)?;
        let max_len = u32::from(self.hw.lock().max_frame().saturating_sub(CRC_LEN));
        alloc_point(&mut q.inject)?;
        let pool = PoolProvider::new(self.pdev.as_ref(), n)?;
        let rx = RxRing::new(
            self.pdev.as_ref(),
            size,
            POOL_BUF,
            max_len,
            pool,
            &mut q.inject,
        )?;
        // A failure injected in `start` comes after the queue was enabled
        // and buffers were posted: the unwinding takes them back.
        let rx = queue::start(RxQueue::Pool(rx), &self.bar, &self.hw, &mut q.inject)?;
        q.rx = Some(rx);
        Ok(())
    }

    /// `<dst-mac> <count> [size [seq]]`: sends `count` self-test frames
    /// (`vzc_core::vf::frame`) of `size` bytes (default 60; without CRC) to
    /// `dst`, numbered from `seq` (default 0). Everything is validated
    /// before anything is sent: `EINVAL` for bad input, `EMSGSIZE` for a
    /// size beyond the VF's `max_frame` (minus the CRC). When the ring is
    /// full it waits for the device (bounded); `EBUSY` if the device does
    /// not make room (frames sent before stay sent: see `tx_sent`).
    pub(super) fn tx_send(&self, text: &str) -> Result {
        let mut words = text.split_whitespace();
        let dst = words.next().and_then(MacAddr::parse).ok_or(EINVAL)?;
        let count: u32 = words.next().ok_or(EINVAL)?.parse().map_err(|_| EINVAL)?;
        let size: usize = match words.next() {
            Some(w) => w.parse().map_err(|_| EINVAL)?,
            None => 60,
        };
        let seq: u32 = match words.next() {
            Some(w) => w.parse().map_err(|_| EINVAL)?,
            None => 0,
        };
        if words.next().is_some() || count == 0 || count > MAX_TX_BURST {
            return Err(EINVAL);
        }
        let len = FrameLen::new(size).map_err(|_| EINVAL)?;
        let (src, max_frame) = {
            let hw = self.hw.lock();
            (hw.mac().0, hw.max_frame())
        };
        if size > usize::from(max_frame.saturating_sub(CRC_LEN)) {
            return Err(EMSGSIZE);
        }
        let mut q = self.queues.lock();
        self.not_stopping()?;
        if q.stale {
            // The ring is stopped until the VF is recovered.
            return Err(EAGAIN);
        }
        if q.tx.is_none() {
            let ring = RingSize::new(TX_RING_DESCS).map_err(|_| EINVAL)?;
            let tx = TxRing::new(self.pdev.as_ref(), ring, &mut q.inject)?;
            let tx = queue::start(tx, &self.bar, &self.hw, &mut q.inject)?;
            q.tx = Some(tx);
        }
        let tx = q.tx.as_mut().ok_or(EINVAL)?;
        let need = tx.slots_for(size)?;
        for k in 0..count {
            // The device (QEMU: at the tail write) usually frees slots at
            // once; wait at most 200 x 50 us for it.
            let mut tries = 0;
            while tx.free_slots() < need {
                tries += 1;
                if tries > 200 {
                    return Err(EBUSY);
                }
                fsleep(Delta::from_micros(50));
            }
            let frame = TestFrame {
                dst: dst.0,
                src: src.0,
                seq: seq.wrapping_add(k),
                len,
            };
            tx.send(&self.bar, size, |i| frame.byte(i))?;
        }
        Ok(())
    }
}
