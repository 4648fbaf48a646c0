// SPDX-License-Identifier: GPL-2.0-only

//! Where RX buffers come from: the ring asks a provider for device-writable
//! buffers and hands each back exactly once, either filled (`complete`) or
//! unused (`reclaim`, on stop). The vhost side will implement the trait
//! over guest pages; [`PoolProvider`] is the driver's own, for the
//! self-test.

use kernel::{
    device::{Bound, Device},
    dma::{Coherent, DmaAddress},
    prelude::*, //
};

use super::dma_mem;

use crate::vzc_core::vf_ring::RxStatus;

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

/// Source of RX buffers for one RX queue. Called with the ring's lock
/// held: implementations must not sleep.
pub(crate) trait RxBufferProvider: Send {
    /// Per-buffer handle.
    type Cookie: Send;
    /// The next buffer of at least `min_len` bytes, or `None` (the ring
    /// stays partly filled and retries on the next refill).
    fn alloc(&mut self, min_len: u32) -> Option<RxBuf<Self::Cookie>>;
    /// The device wrote a frame of `len` bytes into the buffer.
    fn complete(&mut self, cookie: Self::Cookie, len: u32, status: RxStatus);
    /// The buffer comes back unused (ring stopped, or refused at posting).
    fn reclaim(&mut self, cookie: Self::Cookie);
}

/// Bytes of each [`PoolProvider`] buffer (the ring's SRRCTL size).
pub(crate) const POOL_BUF: u32 = 2048;

/// What the self-test receiver saw.
#[derive(Clone, Copy, Default)]
pub(crate) struct PoolStats {
    /// Frames completed without error whose contents matched the pattern.
    pub(crate) good: u64,
    /// Frames with a device error, a bad length or wrong contents.
    pub(crate) bad: u64,
    /// Bytes of good frames.
    pub(crate) bytes: u64,
    /// Buffers returned unused.
    pub(crate) reclaimed: u64,
}

/// Buffers carved from one coherent allocation; checks that completed
/// frames carry the self-test pattern ([`test_frame_byte`]).
///
/// # Invariants
///
/// Every slot index is either in `free` or lent out to the ring, never both.
pub(crate) struct PoolProvider {
    mem: Coherent<[u8]>,
    free: KVec<u16>,
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
            stats: PoolStats::default(),
        })
    }

    /// Counters so far.
    pub(crate) fn stats(&self) -> PoolStats {
        self.stats
    }

    /// The frame in `slot` is a self-test frame: our EtherType and the
    /// payload pattern (the addresses are the switch's business).
    fn frame_matches(&self, slot: u16) -> bool {
        let base = usize::from(slot) * POOL_BUF as usize;
        let byte = |i: usize| dma_mem::read_u8(&self.mem, base + i).ok();
        let [t0, t1] = TEST_ETHERTYPE.to_be_bytes();
        byte(12) == Some(t0)
            && byte(13) == Some(t1)
            && (TEST_HDR_LEN..TEST_FRAME_LEN).all(|i| byte(i) == Some(test_frame_byte(i)))
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

    fn complete(&mut self, slot: u16, len: u32, status: RxStatus) {
        // The PF strips the CRC (RCTL.SECRC): exactly what was sent.
        let ok = status.eop
            && !status.frame_err
            && len == TEST_FRAME_LEN as u32
            && self.frame_matches(slot);
        if ok {
            self.stats.good += 1;
            self.stats.bytes += u64::from(len);
        } else {
            self.stats.bad += 1;
        }
        // Capacity was reserved for every slot in `new`.
        let _ = self.free.push(slot, GFP_ATOMIC);
    }

    fn reclaim(&mut self, slot: u16) {
        self.stats.reclaimed += 1;
        let _ = self.free.push(slot, GFP_ATOMIC);
    }
}

/// EtherType of self-test frames (IEEE 802 local experimental 1).
pub(crate) const TEST_ETHERTYPE: u16 = 0x88b5;
/// Destination, source, EtherType.
pub(crate) const TEST_HDR_LEN: usize = 14;
/// Self-test frames are the minimum Ethernet frame: 60 bytes (64 on the
/// wire with the CRC the device appends and the PF strips on receive).
pub(crate) const TEST_FRAME_LEN: usize = 60;

/// Payload byte `i` (counted from the frame start) of a self-test frame.
pub(crate) fn test_frame_byte(i: usize) -> u8 {
    (i as u8).wrapping_mul(7).wrapping_add(0x5a)
}
