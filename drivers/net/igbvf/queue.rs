// SPDX-License-Identifier: GPL-2.0-only

//! What the RX and TX rings of queue 0 share: programming a queue
//! (igbvf `igbvf_configure_rx` / `igbvf_configure_tx` write the same
//! sequence to two register blocks), waiting for its enable bit, the fault
//! injection points of ring set-up, and DMA quiescence.
//!
//! DMA quiescence is a type: a ring's buffers go back to their provider,
//! and its memory is freed, only with a [`Quiesced`] in hand, which only
//! [`stop_or_reset`] and [`stop_and_reset`] make. With guest pages behind a
//! ring this is what keeps the NIC from writing into a page after it was
//! unpinned.

use core::marker::PhantomData;
use kernel::{
    dma::DmaAddress,
    io::Io,
    prelude::*,
    sync::Mutex,
    time::{delay::fsleep, Delta}, //
};

use super::{
    hw::{self, VfHw},
    regs, Bar0,
};
use crate::vzc_core::vf::{
    health::FaultInject,
    mbx::MbxError,
    ring::DCTL_QUEUE_ENABLE, //
};

/// One of queue 0's two directions.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Queue {
    /// Receive: RDBAL.. RXDCTL.
    Rx,
    /// Transmit: TDBAL.. TXDCTL.
    Tx,
}

/// An allocation point of ring setup: `ENOMEM` when a failure is injected
/// here (sysfs `selftest/inject_alloc_fail`).
pub(crate) fn alloc_point(inject: &mut FaultInject) -> Result {
    if inject.should_fail() {
        Err(ENOMEM)
    } else {
        Ok(())
    }
}

/// Writes the queue's RXDCTL or TXDCTL.
fn write_dctl(bar: &Bar0<'_>, queue: Queue, v: u32) {
    match queue {
        Queue::Rx => bar.write_reg(regs::RXDCTL::zeroed().with_value(v)),
        Queue::Tx => bar.write_reg(regs::TXDCTL::zeroed().with_value(v)),
    }
}

/// Polls for the queue enable bit of RXDCTL or TXDCTL to follow a write
/// (igbvf sleeps a fixed 10 ms; the bit says when the queue actually
/// stopped or started). At most 100 x 100 us.
fn wait_dctl(bar: &Bar0<'_>, queue: Queue, enabled: bool) -> Result {
    for _ in 0..100 {
        let v = match queue {
            Queue::Rx => bar.read(regs::RXDCTL).value().get(),
            Queue::Tx => bar.read(regs::TXDCTL).value().get(),
        };
        if (v & DCTL_QUEUE_ENABLE != 0) == enabled {
            return Ok(());
        }
        fsleep(Delta::from_micros(100));
    }
    Err(ETIMEDOUT)
}

/// Disables the queue and waits for it to say so.
fn disable(bar: &Bar0<'_>, queue: Queue) -> Result {
    write_dctl(bar, queue, 0);
    wait_dctl(bar, queue, false)
}

/// Points the queue at a ring of `bytes` bytes at `base`, empty (head and
/// tail 0): the queue is disabled first and stays so.
pub(crate) fn program(bar: &Bar0<'_>, queue: Queue, base: DmaAddress, bytes: u32) -> Result {
    disable(bar, queue)?;
    let (lo, hi) = (base as u32, (base >> 32) as u32);
    match queue {
        Queue::Rx => {
            bar.write_reg(regs::RDBAL::zeroed().with_value(lo));
            bar.write_reg(regs::RDBAH::zeroed().with_value(hi));
            bar.write_reg(regs::RDLEN::zeroed().with_value(bytes));
            bar.write_reg(regs::RDH::zeroed());
            bar.write_reg(regs::RDT::zeroed());
        }
        Queue::Tx => {
            bar.write_reg(regs::TDBAL::zeroed().with_value(lo));
            bar.write_reg(regs::TDBAH::zeroed().with_value(hi));
            bar.write_reg(regs::TDLEN::zeroed().with_value(bytes));
            bar.write_reg(regs::TDH::zeroed());
            bar.write_reg(regs::TDT::zeroed());
        }
    }
    Ok(())
}

/// Enables a programmed queue with control word `dctl` (which has
/// [`DCTL_QUEUE_ENABLE`]) and waits for it to say so.
pub(crate) fn enable(bar: &Bar0<'_>, queue: Queue, dctl: u32) -> Result {
    write_dctl(bar, queue, dctl);
    wait_dctl(bar, queue, true)
}

/// A direction of queue 0 as a type, so that a proof names its queue.
pub(crate) trait Direction {
    /// The queue.
    const QUEUE: Queue;
}

/// Queue 0's receive direction.
pub(crate) enum RxDir {}
/// Queue 0's transmit direction.
pub(crate) enum TxDir {}

impl Direction for RxDir {
    const QUEUE: Queue = Queue::Rx;
}

impl Direction for TxDir {
    const QUEUE: Queue = Queue::Tx;
}

/// Proof that the device performs no DMA into the memory of the ring of
/// direction `D`. It is used once (`Ring::reclaim` and `Ring::retire` take
/// it by value): a proof cannot outlive a restart of its queue, nor serve
/// the other direction.
///
/// # Invariants
///
/// When a `Quiesced<D>` exists, `D`'s queue was disabled and either
/// reported disabled (RXDCTL/TXDCTL enable bit clear) or the VF was reset
/// afterwards (CTRL.RST, which stops every queue), and it has not been
/// enabled again: only `Ring::start` enables a queue, and the proofs are
/// made by [`stop_or_reset`] and [`stop_and_reset`] right before they are
/// consumed.
pub(crate) struct Quiesced<D: Direction> {
    _queue: PhantomData<D>,
}

impl<D: Direction> Quiesced<D> {
    /// The proof; private, so that only the functions of this file that
    /// stop the queue make one (the type's invariant).
    fn made() -> Self {
        Self {
            _queue: PhantomData,
        }
    }
}

/// Both directions' proofs, from [`stop_and_reset`].
pub(crate) struct QuiescedAll {
    pub(crate) rx: Quiesced<RxDir>,
    pub(crate) tx: Quiesced<TxDir>,
}

/// Stops `D`'s queue, or else resets the VF: the queue is disabled, and if
/// it does not report disabled in time the VF is reset (mailbox handshake
/// included, as `VfHw::reset`; failing that, quiesced) before the proof is
/// given out.
pub(crate) fn stop_or_reset<D: Direction>(bar: &Bar0<'_>, hw: &mut VfHw) -> Quiesced<D> {
    if disable(bar, D::QUEUE).is_err() {
        let _ = reset_vf(bar, hw, Reset::User);
    }
    // INVARIANT: disabled and reported so, or the VF reset since.
    Quiesced::made()
}

/// The VF reset of [`stop_and_reset`] (and of [`stop_or_reset`]).
#[derive(Clone, Copy)]
pub(crate) enum Reset {
    /// The recovery [`VfHw::health`] asked for ([`VfHw::recover`]).
    Recover,
    /// A plain reset with handshake ([`VfHw::reset`]): the sysfs `reset`,
    /// or a queue that did not report stopped.
    User,
    /// Unbind: the VF is quiesced for good ([`VfHw::stop`]).
    Final,
}

/// Disables `queues`, then resets the VF whether or not they reported
/// disabled. Returns the proofs (the reset stops both directions) and the
/// reset's outcome.
pub(crate) fn stop_and_reset(
    bar: &Bar0<'_>,
    hw: &mut VfHw,
    queues: &[Queue],
    reset: Reset,
) -> (QuiescedAll, Result<(), MbxError>) {
    for &q in queues {
        // The reset follows whether or not the queue said it stopped.
        let _ = disable(bar, q);
    }
    let r = reset_vf(bar, hw, reset);
    // INVARIANT: every queue was disabled, and CTRL.RST written since.
    let all = QuiescedAll {
        rx: Quiesced::made(),
        tx: Quiesced::made(),
    };
    (all, r)
}

/// Resets the VF as `reset` says; CTRL.RST is written either way. A reset
/// writes it before the handshake, which may then fail; a VF stopped for
/// good refuses resets, so it is quiesced (CTRL.RST) again instead.
fn reset_vf(bar: &Bar0<'_>, hw: &mut VfHw, reset: Reset) -> Result<(), MbxError> {
    let r = match reset {
        Reset::Recover => hw.recover(bar),
        Reset::User => hw.reset(bar),
        Reset::Final => {
            hw.stop(bar);
            Ok(())
        }
    };
    if hw.is_stopped() && !matches!(reset, Reset::Final) {
        hw::quiesce(bar);
    }
    r
}

/// A descriptor ring of queue 0. A ring that was started leaves through
/// [`Ring::retire`] (or is reclaimed and kept): never dropped while the
/// device may still own its memory.
pub(crate) trait Ring: Sized {
    /// The direction of queue 0 the ring drives.
    type Dir: Direction;

    /// Programs the queue with this ring, enables it and posts what the
    /// ring has to post.
    fn start(&mut self, bar: &Bar0<'_>) -> Result;

    /// Takes back from the device everything lent to it (RX buffers go
    /// back to their provider, TX frames still queued count as lost) and
    /// empties the ring: it may be started again, or freed.
    fn reclaim(&mut self, quiesced: Quiesced<Self::Dir>);

    /// Reclaims and frees the ring.
    fn retire(mut self, quiesced: Quiesced<Self::Dir>) {
        self.reclaim(quiesced);
    }
}

/// Starts a new `ring`, with a fault injection point after the queue was
/// enabled (and RX buffers posted). On any failure the queue is stopped
/// (or the VF reset) and the ring retired before the error is returned.
pub(crate) fn start<R: Ring>(
    mut ring: R,
    bar: &Bar0<'_>,
    hw: &Mutex<VfHw>,
    inject: &mut FaultInject,
) -> Result<R> {
    match ring.start(bar).and_then(|()| alloc_point(inject)) {
        Ok(()) => Ok(ring),
        Err(e) => {
            ring.retire(stop_or_reset(bar, &mut hw.lock()));
            Err(e)
        }
    }
}
