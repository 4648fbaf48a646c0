// SPDX-License-Identifier: GPL-2.0-only

//! One bound VF at run time ([`VfPort`]): its queues, the interrupt and
//! tick dispatch, and the service that keeps it healthy (PF reset
//! indications, the mailbox, recovery with the rings stopped around it,
//! resets asked for through sysfs).
//!
//! Locking: `queues` before `hw`, both sleeping mutexes, taken only in
//! process context (sysfs, the IRQ threads, the workqueue); the hard IRQ
//! handlers only count and wake their thread.

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use kernel::{
    device::Bound,
    pci,
    prelude::*,
    sync::Mutex,
    time::{Instant, Monotonic}, //
};

use super::{
    hw::{self, VfHw},
    mbx,
    queue::{self, Queue, Quiesced, Reset, Ring, RxDir},
    rx_ring::{RxRing, RxRingStats},
    selftest::PoolProvider,
    tx_ring::TxRing,
    Bar0,
};
use crate::glue::{dwork::Tick, irq::VectorHandler};
use crate::vzc_core::vf::{
    health::{msix, Action, FaultInject},
    mbx::MbxError,
    rx_chain::RxChainStats,
};

/// The CRC: counted in `max_frame`, stripped on receive, added on send.
pub(super) const CRC_LEN: u16 = 4;

/// The watchdog's period (igbvf re-arms its watchdog every 2 s).
pub(super) const WATCHDOG_MS: u32 = 2000;

/// The poller's period without MSI-X (rounded up to a jiffy).
pub(super) const POLL_MS: u32 = 2;

/// Descriptors one RX clean may take (the whole ring: frames are small
/// and the device refills nothing until we do).
pub(super) const RX_BUDGET: u32 = u16::MAX as u32;

/// [`Tick`] token of the watchdog.
pub(super) const TICK_WATCHDOG: usize = 0;
/// [`Tick`] token of the poller.
pub(super) const TICK_POLL: usize = 1;

/// How the rings are driven (sysfs `irq/mode`; 0 until probe decided).
pub(super) const MODE_MSIX: u8 = 1;
pub(super) const MODE_POLLED: u8 = 2;

/// The RX ring of queue 0, by where its buffers come from: one variant per
/// provider, no `dyn` (binder's `range_alloc` `Impl::{Array, Tree}`). A
/// second provider (guest pages, for zero-copy) is one more variant,
/// `Guest(RxRing<GuestProvider>)`, and one more arm in each `match` below;
/// the rest of the driver sees only `RxQueue`.
pub(crate) enum RxQueue {
    /// The self-test's pool (sysfs `rx/ring`).
    Pool(RxRing<PoolProvider>),
}

impl RxQueue {
    /// See [`RxRing::clean`].
    pub(super) fn clean(&mut self, bar: &Bar0<'_>, budget: u32) -> u32 {
        match self {
            Self::Pool(r) => r.clean(bar, budget),
        }
    }

    /// See [`RxRing::set_max_len`].
    pub(super) fn set_max_len(&mut self, max_len: u32) {
        match self {
            Self::Pool(r) => r.set_max_len(max_len),
        }
    }

    /// Descriptors.
    pub(super) fn size(&self) -> u16 {
        match self {
            Self::Pool(r) => r.size(),
        }
    }

    /// Buffers currently posted.
    pub(super) fn posted(&self) -> u32 {
        match self {
            Self::Pool(r) => r.posted(),
        }
    }

    /// Ring counters.
    pub(super) fn stats(&self) -> RxRingStats {
        match self {
            Self::Pool(r) => r.stats(),
        }
    }

    /// Frame counters.
    pub(super) fn chain_stats(&self) -> RxChainStats {
        match self {
            Self::Pool(r) => r.chain_stats(),
        }
    }

    /// The self-test pool, if the buffers come from it.
    pub(super) fn pool(&self) -> Option<&PoolProvider> {
        match self {
            Self::Pool(r) => Some(r.provider()),
        }
    }
}

impl Ring for RxQueue {
    type Dir = RxDir;

    fn start(&mut self, bar: &Bar0<'_>) -> Result {
        match self {
            Self::Pool(r) => r.start(bar),
        }
    }

    fn reclaim(&mut self, quiesced: Quiesced<RxDir>) {
        match self {
            Self::Pool(r) => r.reclaim(quiesced),
        }
    }
}

/// Queue 0's rings, when started (from sysfs, for the self-test).
#[derive(Default)]
pub(crate) struct Queues {
    pub(super) rx: Option<RxQueue>,
    pub(super) tx: Option<TxRing>,
    /// Buffers the last stopped RX ring gave back unused.
    pub(super) last_reclaimed: u64,
    /// The rings were stopped for a VF reset and wait to be restarted.
    pub(super) stale: bool,
    /// Rings restarted after a VF reset.
    pub(super) restarts: u64,
    /// Restarts that failed (the ring stays stopped; retried by the
    /// watchdog).
    pub(super) restart_failures: u64,
    /// Armed ring allocation failures (sysfs `selftest/inject_alloc_fail`).
    pub(super) inject: FaultInject,
}

impl Queues {
    /// The queues that have a ring.
    pub(super) fn present(&self) -> &'static [Queue] {
        match (self.rx.is_some(), self.tx.is_some()) {
            (true, true) => &[Queue::Rx, Queue::Tx],
            (true, false) => &[Queue::Rx],
            (false, true) => &[Queue::Tx],
            (false, false) => &[],
        }
    }

    /// Retires finished work of both rings.
    pub(super) fn clean(&mut self, bar: &Bar0<'_>) {
        if self.stale {
            return;
        }
        if let Some(rx) = self.rx.as_mut() {
            rx.clean(bar, RX_BUDGET);
        }
        if let Some(tx) = self.tx.as_mut() {
            tx.clean();
        }
    }

    /// A VF reset with the rings stopped around it: hands on what the
    /// device completed, disables both queues, resets the VF, then takes
    /// every posted RX buffer and queued TX frame back (once), so nothing is
    /// owned by a device that forgot its rings. The rings wait, `stale`, for
    /// [`Queues::restart`].
    pub(super) fn reset_vf(
        &mut self,
        bar: &Bar0<'_>,
        hw: &mut VfHw,
        reset: Reset,
    ) -> Result<(), MbxError> {
        if !self.stale {
            if let Some(rx) = self.rx.as_mut() {
                rx.clean(bar, RX_BUDGET);
            }
        }
        let (quiesced, r) = queue::stop_and_reset(bar, hw, self.present(), reset);
        if let Some(rx) = self.rx.as_mut() {
            rx.reclaim(quiesced.rx);
            self.stale = true;
        }
        if let Some(tx) = self.tx.as_mut() {
            tx.reclaim(quiesced.tx);
            self.stale = true;
        }
        r
    }

    /// After a successful VF reset: programs and enables both rings again
    /// and re-posts the RX buffers. A ring that fails to start is stopped
    /// (or the VF reset) and emptied, and waits for the next try.
    pub(super) fn restart(&mut self, bar: &Bar0<'_>, hw: &mut VfHw) {
        if !self.stale {
            return;
        }
        let mut ok = true;
        if let Some(rx) = self.rx.as_mut() {
            if rx.start(bar).is_err() {
                rx.reclaim(queue::stop_or_reset(bar, hw));
                ok = false;
            }
        }
        if let Some(tx) = self.tx.as_mut() {
            if tx.start(bar).is_err() {
                tx.reclaim(queue::stop_or_reset(bar, hw));
                ok = false;
            }
        }
        if ok {
            self.stale = false;
            self.restarts += 1;
        } else {
            self.restart_failures += 1;
        }
    }
}

/// Interrupt counters and mode.
#[derive(Default)]
pub(super) struct IrqStats {
    pub(super) mode: AtomicU8,
    /// Interrupts per vector (TX, RX, mailbox).
    pub(super) vectors: [AtomicU64; msix::VECTORS as usize],
    /// Poller rounds (polled mode).
    pub(super) polls: AtomicU64,
    /// Watchdog rounds.
    pub(super) watchdog: AtomicU64,
}

/// One bound VF: the BAR and the mailbox-side state behind a mutex (the
/// mailbox sleeps while polling; sysfs calls come from any process).
#[pin_data(PinnedDrop)]
pub(crate) struct VfPort<'bound> {
    pub(super) pdev: &'bound pci::Device<Bound>,
    pub(super) bar: Bar0<'bound>,
    /// Lock order: `queues` before `hw`.
    #[pin]
    pub(super) queues: Mutex<Queues>,
    #[pin]
    pub(super) hw: Mutex<VfHw>,
    pub(super) irq: IrqStats,
    /// Unbind began: IRQ threads and ticks leave the device alone.
    pub(super) stopping: AtomicBool,
    /// The clock of the recovery rate limit.
    pub(super) born: Instant<Monotonic>,
}

#[pinned_drop]
impl PinnedDrop for VfPort<'_> {
    fn drop(self: Pin<&mut Self>) {
        // Also reached when probe fails after the handshake (sysfs
        // directory creation): leave the VF quiet then too. After
        // `unbind` this repeats an idempotent reset.
        hw::quiesce(&self.bar);
    }
}

impl VectorHandler for VfPort<'_> {
    fn hard(&self, vector: u8) -> bool {
        if let Some(c) = self.irq.vectors.get(usize::from(vector)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        true
    }

    fn thread(&self, vector: u8) {
        if self.stopping.load(Ordering::Acquire) {
            return;
        }
        match vector {
            msix::TX => {
                if let Some(tx) = self.queues.lock().tx.as_mut() {
                    tx.clean();
                }
            }
            msix::RX => {
                {
                    let mut q = self.queues.lock();
                    if !q.stale {
                        if let Some(rx) = q.rx.as_mut() {
                            rx.clean(&self.bar, RX_BUDGET);
                        }
                    }
                }
                // QEMU's igb raises a VF's mailbox interrupt on the vector
                // whose bit equals IVAR_MISC's vector *number* (2 = bit 1:
                // the RX vector; `mailbox_interrupt_to_vf`), so the
                // mailbox is looked at here too; on hardware it is a cheap
                // read of V2PMAILBOX.
                self.service();
            }
            _ => self.service(),
        }
    }
}

impl Tick for VfPort<'_> {
    fn tick(&self, token: usize) -> Option<u32> {
        if self.stopping.load(Ordering::Acquire) {
            return None;
        }
        if token == TICK_POLL {
            self.irq.polls.fetch_add(1, Ordering::Relaxed);
            self.queues.lock().clean(&self.bar);
            return Some(POLL_MS);
        }
        self.irq.watchdog.fetch_add(1, Ordering::Relaxed);
        self.service();
        self.hw.lock().refresh_stats(&self.bar);
        if self.irq.mode.load(Ordering::Relaxed) == MODE_MSIX {
            // As igbvf's watchdog: a software interrupt on the queue
            // vectors, so that a lost interrupt cannot strand a ring.
            hw::kick_queue_vectors(&self.bar);
        }
        Some(WATCHDOG_MS)
    }
}

impl VfPort<'_> {
    /// Milliseconds since probe (the recovery rate limit's clock).
    pub(super) fn now_ms(&self) -> u64 {
        u64::try_from(self.born.elapsed().as_millis()).unwrap_or(0)
    }

    /// The mailbox and the VF's health (watchdog, mailbox interrupt): a
    /// PF reset or a dead mailbox is recovered by a VF reset when
    /// [`VfHw::health`] allows it, with the running rings stopped before
    /// and restarted after it; rings a failed reset left stopped are
    /// restarted once the handshake holds again.
    fn service(&self) {
        let mut q = self.queues.lock();
        let mut hw = self.hw.lock();
        if self.stopping.load(Ordering::Acquire) {
            return;
        }
        if hw.health(&self.bar, self.now_ms()) == Action::Reset {
            match q.reset_vf(&self.bar, &mut hw, Reset::Recover) {
                Ok(()) => dev_info!(self.pdev, "recovered from a PF reset\n"),
                Err(e) => dev_warn!(self.pdev, "recovery reset failed: {:?}\n", e),
            }
        }
        if q.stale && hw.is_ready() {
            q.restart(&self.bar, &mut hw);
        }
    }

    /// `SET_LPE`; a running RX ring passes frames up to the new size.
    pub(super) fn set_max_frame(&self, size: u16) -> Result {
        let mut q = self.queues.lock();
        let mut hw = self.hw.lock();
        hw.set_max_frame(&self.bar, size).map_err(|e| {
            dev_warn!(self.pdev, "mailbox request failed: {:?}\n", e);
            mbx::to_error(e)
        })?;
        if let Some(rx) = q.rx.as_mut() {
            rx.set_max_len(u32::from(size.saturating_sub(CRC_LEN)));
        }
        Ok(())
    }

    /// A reset asked for through sysfs: rings stopped before, restarted
    /// after, as for a recovery.
    pub(super) fn user_reset(&self) -> Result {
        let mut q = self.queues.lock();
        let mut hw = self.hw.lock();
        let r = q.reset_vf(&self.bar, &mut hw, Reset::User);
        if hw.is_ready() {
            q.restart(&self.bar, &mut hw);
        }
        r.map_err(|e| {
            dev_warn!(self.pdev, "reset failed: {:?}\n", e);
            mbx::to_error(e)
        })
    }
}
