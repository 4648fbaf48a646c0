// SPDX-License-Identifier: GPL-2.0-only

//! The VF's TX queue 0: advanced data descriptors in coherent DMA memory,
//! each slot with its own coherent buffer. A frame larger than one buffer
//! takes several consecutive slots, EOP and RS on the last only (igbvf
//! `igbvf_tx_map_adv` / `igbvf_tx_queue_adv`).
//!
//! This is the self-test's transmitter: frames are copied into the slots'
//! buffers. The guest-facing path will post guest buffers instead.

use kernel::{
    device::{Bound, Device},
    dma::{Coherent, DmaAddress},
    io::Io,
    prelude::*,
    sync::barrier::{dma_mb, Write},
};

use super::{
    dma_mem,
    queue::{self, alloc_point, Queue, Quiesced, Ring, TxDir},
    regs, Bar0,
};
use crate::vzc_core::vf::{
    health::FaultInject,
    ring::{tx_data_desc, tx_descs_for, tx_done, RingSize, DCTL_QUEUE_ENABLE},
};

/// Bytes of each slot's buffer.
pub(crate) const TX_BUF: usize = 2048;

/// A TX ring.
///
/// # Invariants
///
/// For every frame queued and not yet retired, `last[first slot]` is the
/// index of its last slot (the one with EOP and RS).
pub(crate) struct TxRing {
    desc: Coherent<[u64]>,
    bufs: Coherent<[u8]>,
    last: KVec<u16>,
    size: RingSize,
    next_to_use: u16,
    next_to_clean: u16,
    /// Frames handed to the device.
    pub(crate) sent: u64,
    /// Bytes of frames handed to the device (without CRC).
    pub(crate) bytes: u64,
    /// Frames the device reported done.
    pub(crate) done: u64,
    /// Frames a VF reset caught in the ring, never reported done.
    pub(crate) lost: u64,
}

impl TxRing {
    /// Allocates a ring of `size` descriptors and buffers. Each allocation
    /// is a point where `inject` may make it fail.
    pub(crate) fn new(
        dev: &Device<Bound>,
        size: RingSize,
        inject: &mut FaultInject,
    ) -> Result<Self> {
        let n = usize::from(size.get());
        alloc_point(inject)?;
        let mut last = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            last.push(0, GFP_KERNEL)?;
        }
        alloc_point(inject)?;
        let desc = Coherent::<u64>::zeroed_slice(dev, n * 2, GFP_KERNEL)?;
        alloc_point(inject)?;
        let bufs = Coherent::<u8>::zeroed_slice(dev, n * TX_BUF, GFP_KERNEL)?;
        Ok(Self {
            desc,
            bufs,
            last,
            size,
            next_to_use: 0,
            next_to_clean: 0,
            sent: 0,
            bytes: 0,
            done: 0,
            lost: 0,
        })
    }

    /// Retires the frames the device is done with (DD on their last slot).
    pub(crate) fn clean(&mut self) {
        while self.next_to_clean != self.next_to_use {
            let Some(&last) = self.last.get(usize::from(self.next_to_clean)) else {
                break;
            };
            let q1 = usize::from(last) * 2 + 1;
            if !dma_mem::read_u64(&self.desc, q1).is_ok_and(tx_done) {
                break;
            }
            self.done += 1;
            self.next_to_clean = self.size.next(last);
        }
    }

    /// Slots needed for a `len`-byte frame, or `EINVAL` for a frame no
    /// ring of this size can carry.
    pub(crate) fn slots_for(&self, len: usize) -> Result<u16> {
        let n = tx_descs_for(len, TX_BUF).map_err(|_| EINVAL)?;
        // One slot always stays empty.
        if n >= self.size.get() {
            return Err(EINVAL);
        }
        Ok(n)
    }

    /// Free slots after retiring finished frames.
    pub(crate) fn free_slots(&mut self) -> u16 {
        self.clean();
        self.size.unused(self.next_to_use, self.next_to_clean)
    }

    /// Queues one `len`-byte frame whose byte `i` is `byte(i)`. `EBUSY`
    /// when the ring lacks the slots, `EINVAL` for an empty or oversized
    /// frame; nothing is queued then.
    pub(crate) fn send(
        &mut self,
        bar: &Bar0<'_>,
        len: usize,
        byte: impl Fn(usize) -> u8,
    ) -> Result {
        let n = self.slots_for(len)?;
        if self.free_slots() < n {
            return Err(EBUSY);
        }
        let first = self.next_to_use;
        let mut i = first;
        let mut off = 0;
        for k in 0..n {
            let piece = (len - off).min(TX_BUF);
            let buf_off = usize::from(i) * TX_BUF;
            for j in 0..piece {
                dma_mem::write_u8(&self.bufs, buf_off + j, byte(off + j))?;
            }
            let dma = self.bufs.dma_address() + buf_off as DmaAddress;
            let desc = tx_data_desc(dma, piece, len, k + 1 == n).map_err(|_| EINVAL)?;
            let q = usize::from(i) * 2;
            dma_mem::write_u64(&self.desc, q, desc[0])?;
            dma_mem::write_u64(&self.desc, q + 1, desc[1])?;
            off += piece;
            if k + 1 < n {
                i = self.size.next(i);
            }
        }
        if let Some(l) = self.last.get_mut(usize::from(first)) {
            *l = i;
        }
        self.next_to_use = self.size.next(i);
        // Buffers and descriptors before the tail.
        dma_mb(Write);
        bar.write_reg(regs::TDT::zeroed().with_value(u32::from(self.next_to_use)));
        self.sent += 1;
        self.bytes += len as u64;
        Ok(())
    }
}

impl Ring for TxRing {
    type Dir = TxDir;

    /// Programs queue 0 with this ring and enables it (igbvf
    /// `igbvf_configure_tx`).
    fn start(&mut self, bar: &Bar0<'_>) -> Result {
        queue::program(bar, Queue::Tx, self.desc.dma_address(), self.size.bytes())?;
        queue::enable(bar, Queue::Tx, DCTL_QUEUE_ENABLE)
    }

    /// Retires what the device finished, counts the frames still queued
    /// as `lost` and empties the ring, since a restarted queue begins at
    /// descriptor 0.
    fn reclaim(&mut self, _: Quiesced<TxDir>) {
        self.clean();
        // At most one frame per slot: bounded even if `last` were corrupt.
        for _ in 0..self.size.get() {
            if self.next_to_clean == self.next_to_use {
                break;
            }
            let Some(&last) = self.last.get(usize::from(self.next_to_clean)) else {
                break;
            };
            self.lost += 1;
            self.next_to_clean = self.size.next(last);
        }
        self.next_to_use = 0;
        self.next_to_clean = 0;
    }
}
