// SPDX-License-Identifier: GPL-2.0-only

//! The VF's RX queue 0: a ring of advanced one-buffer descriptors in
//! coherent DMA memory, filled from an [`RxBufferProvider`].
//!
//! Ownership: a descriptor between `next_to_scan` and `next_to_use` is the
//! device's; one between `next_to_clean` and `next_to_scan` came back but
//! belongs to a frame still incomplete (no EOP yet: held, see
//! `vzc_core::vf::rx_chain::RxChain`). Either way its buffer's cookie waits in
//! `shadow`, and only slots before `next_to_clean` are refilled. Every
//! cookie goes back to the provider exactly once (`complete` or `reclaim`).

use kernel::{
    device::{Bound, Device},
    dma::Coherent,
    io::Io,
    prelude::*,
    sync::barrier::{dma_mb, Read, Write}, //
};

use super::{
    dma_mem,
    queue::{self, alloc_point, Queue, Quiesced, Ring, RxDir},
    regs, Bar0,
};
use crate::net::provider::{Reclaim, RxBufferProvider, RxFrameEnd, RxPiece};
use crate::vzc_core::vf::{
    health::FaultInject,
    ring::{rx_read_desc, srrctl, RingSize, RxWriteback, RXDCTL_ENABLE},
    rx_chain::{RxChain, RxChainStats, RxStep},
};

/// Counters of the ring itself (the provider counts what it received).
#[derive(Clone, Copy, Default)]
pub(crate) struct RxRingStats {
    /// Descriptors the device gave back.
    pub(crate) completed: u64,
    /// Buffers refused at posting (too short, null address).
    pub(crate) refused: u64,
    /// Refills that stopped because the provider had no buffer.
    pub(crate) refill_failed: u64,
}

/// An RX ring.
pub(crate) struct RxRing<P: RxBufferProvider> {
    desc: Coherent<[u64]>,
    size: RingSize,
    buf_size: u32,
    shadow: KVec<Option<P::Cookie>>,
    next_to_use: u16,
    next_to_clean: u16,
    next_to_scan: u16,
    chain: RxChain,
    provider: P,
    stats: RxRingStats,
}

impl<P: RxBufferProvider> RxRing<P> {
    /// Allocates a ring of `size` descriptors for `buf_size`-byte buffers,
    /// passing frames of at most `max_len` bytes (without CRC). Each
    /// allocation is a point where `inject` may make it fail.
    pub(crate) fn new(
        dev: &Device<Bound>,
        size: RingSize,
        buf_size: u32,
        max_len: u32,
        provider: P,
        inject: &mut FaultInject,
    ) -> Result<Self> {
        let chain = RxChain::new(buf_size, size, max_len).map_err(|_| EINVAL)?;
        let n = usize::from(size.get());
        alloc_point(inject)?;
        let desc = Coherent::<u64>::zeroed_slice(dev, n * 2, GFP_KERNEL)?;
        alloc_point(inject)?;
        let mut shadow = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            shadow.push(None, GFP_KERNEL)?;
        }
        Ok(Self {
            desc,
            size,
            buf_size,
            shadow,
            next_to_use: 0,
            next_to_clean: 0,
            next_to_scan: 0,
            chain,
            provider,
            stats: RxRingStats::default(),
        })
    }

    /// Posts buffers into every free slot but one; returns how many.
    pub(crate) fn refill(&mut self, bar: &Bar0<'_>) -> u32 {
        let mut posted = 0;
        while self.size.unused(self.next_to_use, self.next_to_clean) > 0 {
            let Some(buf) = self.provider.alloc(self.buf_size) else {
                self.stats.refill_failed += 1;
                break;
            };
            let i = self.next_to_use;
            let desc = match rx_read_desc(buf.dma) {
                Ok(d) if buf.len >= self.buf_size => d,
                _ => {
                    self.stats.refused += 1;
                    self.provider.reclaim(buf.cookie, Reclaim::Unused);
                    break;
                }
            };
            let q = usize::from(i) * 2;
            if dma_mem::write_u64(&self.desc, q, desc[0]).is_err()
                || dma_mem::write_u64(&self.desc, q + 1, desc[1]).is_err()
            {
                self.provider.reclaim(buf.cookie, Reclaim::Unused);
                break;
            }
            if let Some(slot) = self.shadow.get_mut(usize::from(i)) {
                *slot = Some(buf.cookie);
            }
            self.next_to_use = self.size.next(i);
            posted += 1;
        }
        if posted > 0 {
            // Descriptors must be visible before the device sees the tail.
            dma_mb(Write);
            bar.write_reg(regs::RDT::zeroed().with_value(u32::from(self.next_to_use)));
        }
        posted
    }

    /// Takes up to `budget` descriptors the device is done with, hands
    /// completed frames to the provider, then refills. Returns how many
    /// descriptors were taken.
    pub(crate) fn clean(&mut self, bar: &Bar0<'_>, budget: u32) -> u32 {
        let mut done = 0;
        while done < budget && self.next_to_scan != self.next_to_use {
            let i = self.next_to_scan;
            let q1 = usize::from(i) * 2 + 1;
            let Some(_) = dma_mem::read_u64(&self.desc, q1)
                .ok()
                .and_then(RxWriteback::parse)
            else {
                break;
            };
            // DD seen: only now may the rest of the write-back be read.
            dma_mb(Read);
            let Some(wb) = dma_mem::read_u64(&self.desc, q1)
                .ok()
                .and_then(RxWriteback::parse)
            else {
                break;
            };
            self.next_to_scan = self.size.next(i);
            self.stats.completed += 1;
            done += 1;
            match self.chain.push(&wb) {
                RxStep::Hold => {}
                RxStep::Frame(f) => {
                    let lens = f.piece_lens();
                    for (k, &len) in lens.iter().enumerate() {
                        let end = (k + 1 == lens.len()).then_some(RxFrameEnd {
                            total: f.total,
                            status: f.status,
                        });
                        let piece = RxPiece {
                            len: u32::from(len),
                            first: k == 0,
                            end,
                        };
                        if let Some(cookie) = self.take_oldest() {
                            self.provider.complete(cookie, piece);
                        }
                    }
                }
                RxStep::Drop { pieces, .. } => {
                    for _ in 0..pieces {
                        if let Some(cookie) = self.take_oldest() {
                            self.provider.reclaim(cookie, Reclaim::Dropped);
                        }
                    }
                }
            }
        }
        self.refill(bar);
        done
    }

    /// The cookie of the oldest slot not yet handed back; frees the slot
    /// for refilling.
    fn take_oldest(&mut self) -> Option<P::Cookie> {
        let i = self.next_to_clean;
        self.next_to_clean = self.size.next(i);
        self.shadow.get_mut(usize::from(i)).and_then(Option::take)
    }

    /// Descriptors.
    pub(crate) fn size(&self) -> u16 {
        self.size.get()
    }

    /// Buffers currently posted.
    pub(crate) fn posted(&self) -> u32 {
        self.shadow.iter().filter(|s| s.is_some()).count() as u32
    }

    /// The provider.
    pub(crate) fn provider(&self) -> &P {
        &self.provider
    }

    /// Ring counters.
    pub(crate) fn stats(&self) -> RxRingStats {
        self.stats
    }

    /// Frame counters (completed, dropped by reason).
    pub(crate) fn chain_stats(&self) -> RxChainStats {
        self.chain.stats()
    }

    /// Changes the largest frame passed (bytes without CRC).
    pub(crate) fn set_max_len(&mut self, max_len: u32) {
        self.chain.set_max_len(max_len);
    }
}

impl<P: RxBufferProvider> Ring for RxRing<P> {
    type Dir = RxDir;

    /// Programs queue 0 with this ring and enables it (igbvf
    /// `igbvf_configure_rx` / `igbvf_setup_srrctl`), then posts buffers.
    fn start(&mut self, bar: &Bar0<'_>) -> Result {
        queue::program(bar, Queue::Rx, self.desc.dma_address(), self.size.bytes())?;
        let srr = srrctl(self.buf_size).map_err(|_| EINVAL)?;
        bar.write_reg(regs::SRRCTL::zeroed().with_value(srr));
        queue::enable(bar, Queue::Rx, RXDCTL_ENABLE)?;
        self.refill(bar);
        Ok(())
    }

    /// Gives every posted buffer back: those of the incomplete frame as
    /// dropped, the others unused.
    fn reclaim(&mut self, _: Quiesced<RxDir>) {
        // The incomplete frame's buffers were filled: dropped, not unused.
        for _ in 0..self.chain.abort() {
            if let Some(cookie) = self.take_oldest() {
                self.provider.reclaim(cookie, Reclaim::Dropped);
            }
        }
        for slot in self.shadow.iter_mut() {
            if let Some(cookie) = slot.take() {
                self.provider.reclaim(cookie, Reclaim::Unused);
            }
        }
        self.next_to_use = 0;
        self.next_to_clean = 0;
        self.next_to_scan = 0;
    }
}
