// SPDX-License-Identifier: GPL-2.0-only

//! Where RX buffers come from: the ring asks a provider for device-writable
//! buffers and hands each back exactly once, either as a piece of a
//! received frame (`complete`) or without data for the consumer
//! (`reclaim`: unused on stop, or part of a dropped frame). NIC-agnostic:
//! a driver's RX ring is generic over it. The vhost side will implement the
//! trait over guest pages; igbvf's self-test pool (`igbvf::selftest`) is
//! the first implementation.
//!
//! Frame boundaries: a frame may span several buffers (one per descriptor).
//! The ring decides a frame's fate when its last descriptor comes back and
//! only then hands its buffers on, in order and without interleaving with
//! other frames: the first with `first`, the last with `end` carrying the
//! frame's total length and status. A frame the ring drops never reaches
//! `complete`; its buffers come back through `reclaim(Dropped)`. So a
//! provider that maps frames onto a guest's mergeable buffers can count
//! the buffers of a frame as they come and publish it at `end`.
//!
//! DMA: a buffer lent to the ring may be written by the device until the
//! device has written it back or the ring's queue is quiesced. A ring hands
//! a buffer back (`complete` or `reclaim`) only when the device can no
//! longer write it: never made visible to the device (refused, or its
//! descriptor write failed, before the tail moved: `Reclaim::Unused`),
//! written back (a completed or dropped frame's descriptors), or still
//! posted but with the driver's proof that the queue performs no more DMA
//! (in igbvf: `queue::Quiesced`, which `Ring::reclaim` takes). So a
//! provider may unpin or reuse the memory as soon as `reclaim` or
//! `complete` returns.

use kernel::dma::DmaAddress;

use crate::vzc_core::vf::ring::RxStatus;

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
