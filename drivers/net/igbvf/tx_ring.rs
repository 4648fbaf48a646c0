// SPDX-License-Identifier: GPL-2.0-only

//! The VF's TX queue 0: advanced data descriptors in coherent DMA memory,
//! one frame per descriptor, each slot with its own coherent buffer.
//!
//! This is the self-test's transmitter: frames are copied into the slot's
//! buffer. The guest-facing path will post guest buffers instead.

use kernel::{
    device::{Bound, Device},
    dma::{Coherent, DmaAddress},
    io::Io,
    prelude::*,
    sync::barrier::{dma_mb, Write},
};

use super::{dma_mem, regs, rx_ring::wait_dctl, Bar0};
use crate::vzc_core::vf_ring::{tx_data_desc, tx_done, RingSize, DCTL_QUEUE_ENABLE};

/// Bytes of each slot's buffer: the largest frame this ring sends.
pub(crate) const TX_BUF: usize = 2048;

/// A TX ring.
pub(crate) struct TxRing {
    desc: Coherent<[u64]>,
    bufs: Coherent<[u8]>,
    size: RingSize,
    next_to_use: u16,
    next_to_clean: u16,
    /// Frames handed to the device.
    pub(crate) sent: u64,
    /// Frames the device reported done.
    pub(crate) done: u64,
}

impl TxRing {
    /// Allocates a ring of `size` descriptors and buffers.
    pub(crate) fn new(dev: &Device<Bound>, size: RingSize) -> Result<Self> {
        let n = usize::from(size.get());
        Ok(Self {
            desc: Coherent::<u64>::zeroed_slice(dev, n * 2, GFP_KERNEL)?,
            bufs: Coherent::<u8>::zeroed_slice(dev, n * TX_BUF, GFP_KERNEL)?,
            size,
            next_to_use: 0,
            next_to_clean: 0,
            sent: 0,
            done: 0,
        })
    }

    /// Programs queue 0 with this ring and enables it (igbvf
    /// `igbvf_configure_tx`).
    pub(crate) fn start(&mut self, bar: &Bar0<'_>) -> Result {
        bar.write_reg(regs::TXDCTL::zeroed());
        wait_dctl(bar, true, false)?;
        let base = self.desc.dma_address();
        bar.write_reg(regs::TDBAL::zeroed().with_value(base as u32));
        bar.write_reg(regs::TDBAH::zeroed().with_value((base >> 32) as u32));
        bar.write_reg(regs::TDLEN::zeroed().with_value(self.size.bytes()));
        bar.write_reg(regs::TDH::zeroed());
        bar.write_reg(regs::TDT::zeroed());
        bar.write_reg(regs::TXDCTL::zeroed().with_value(DCTL_QUEUE_ENABLE));
        wait_dctl(bar, true, true)
    }

    /// Retires the descriptors the device is done with.
    pub(crate) fn clean(&mut self) {
        while self.next_to_clean != self.next_to_use {
            let q1 = usize::from(self.next_to_clean) * 2 + 1;
            if !dma_mem::read_u64(&self.desc, q1).is_ok_and(tx_done) {
                break;
            }
            self.done += 1;
            self.next_to_clean = self.size.next(self.next_to_clean);
        }
    }

    /// Queues one frame. `EBUSY` when the ring is full, `EINVAL` for an
    /// empty or oversized frame.
    pub(crate) fn send(&mut self, bar: &Bar0<'_>, frame: &[u8]) -> Result {
        if frame.len() > TX_BUF {
            return Err(EINVAL);
        }
        self.clean();
        if self.size.unused(self.next_to_use, self.next_to_clean) == 0 {
            return Err(EBUSY);
        }
        let i = self.next_to_use;
        let buf_off = usize::from(i) * TX_BUF;
        for (k, b) in frame.iter().enumerate() {
            dma_mem::write_u8(&self.bufs, buf_off + k, *b)?;
        }
        let dma = self.bufs.dma_address() + buf_off as DmaAddress;
        let desc = tx_data_desc(dma, frame.len()).map_err(|_| EINVAL)?;
        let q = usize::from(i) * 2;
        dma_mem::write_u64(&self.desc, q, desc[0])?;
        dma_mem::write_u64(&self.desc, q + 1, desc[1])?;
        self.next_to_use = self.size.next(i);
        // Buffer and descriptor before the tail.
        dma_mb(Write);
        bar.write_reg(regs::TDT::zeroed().with_value(u32::from(self.next_to_use)));
        self.sent += 1;
        Ok(())
    }

    /// Disables the queue. An error means it did not report stopped: the
    /// caller must reset the VF before the ring's memory is freed.
    pub(crate) fn stop(&mut self, bar: &Bar0<'_>) -> Result {
        bar.write_reg(regs::TXDCTL::zeroed());
        wait_dctl(bar, true, false)
    }
}
