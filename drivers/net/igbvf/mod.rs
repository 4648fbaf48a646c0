// SPDX-License-Identifier: GPL-2.0-only

//! PCI driver for the Intel 82576 SR-IOV virtual function (8086:10ca),
//! without a netdev: the VF's queues are for vhost-zc.
//!
//! One `mod` per concern:
//! - `regs` — the BAR0 registers, declared once with `register!`;
//! - `mbx` — the VF<->PF mailbox on the BAR (protocol in `vzc_core::vf::mbx`);
//! - `hw` — reset/handshake, mailbox requests, link state, quiesce;
//! - `rx_ring`, `tx_ring` — queue 0's descriptor rings in coherent DMA
//!   memory; `provider` — the [`provider::RxBufferProvider`] trait RX
//!   buffers come from, and the self-test's pool provider.
//!
//! Per VF, `/sys/bus/pci/devices/<vf>/vzc/` shows the state and takes the
//! mailbox requests (Documentation/vf-driver.rst).
//!
//! Interrupts: three MSI-X vectors as igbvf (TX, RX, mailbox) with threaded
//! handlers, or, when MSI-X cannot be had, a poller (a delayed work every
//! few ms). Either way a watchdog (every 2 s) checks the PF's reset
//! indications and the mailbox, recovers (rate-limited) and restarts the
//! running rings.
//!
//! Locking: `queues` before `hw`, both sleeping mutexes. Everything that
//! takes them runs in process context: sysfs, the IRQ threads, the
//! workqueue; the hard IRQ handlers only count and wake their thread.

mod dma_mem;
mod hw;
mod mbx;
mod provider;
mod regs;
mod rx_ring;
mod tx_ring;

use core::{
    fmt::Write as _,
    sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering},
};
use kernel::{
    device::{Bound, Core},
    pci,
    prelude::*,
    sync::Mutex,
    time::{Instant, Monotonic}, //
};

use crate::glue::{
    self,
    dwork::{Periodic, Tick},
    irq::{MsixIrqs, VectorHandler},
    sysfs::{Attr, AttrDir, AttrSource, SysfsBuf},
};
use crate::vzc_core::{
    net::eth::{parse_mac_list, MacAddr},
    vf::{
        frame::{FrameLen, TestFrame},
        health::{msix, Action, FaultInject},
        mbx::MAX_MC_HASHES,
        ring::RingSize,
    },
};
use hw::{MacSource, VfHw};
use kernel::time::{delay::fsleep, Delta};
use provider::{PoolProvider, POOL_BUF};
use rx_ring::RxRing;
use tx_ring::TxRing;

/// Descriptors of the self-test's TX ring (room for 51 frames of 9000
/// bytes, 5 descriptors each).
const TX_RING_DESCS: u16 = 256;

/// Most frames one `tx_send` write may ask for.
const MAX_TX_BURST: u32 = 1000;

/// The CRC: counted in `max_frame`, stripped on receive, added on send.
const CRC_LEN: u16 = 4;

/// The watchdog's period (igbvf re-arms its watchdog every 2 s).
const WATCHDOG_MS: u32 = 2000;

/// The poller's period without MSI-X (rounded up to a jiffy).
const POLL_MS: u32 = 2;

/// Descriptors one RX clean may take (the whole ring: frames are small
/// and the device refills nothing until we do).
const RX_BUDGET: u32 = u16::MAX as u32;

/// [`Tick`] token of the watchdog.
const TICK_WATCHDOG: usize = 0;
/// [`Tick`] token of the poller.
const TICK_POLL: usize = 1;

/// How the rings are driven (sysfs `irq_mode`; 0 until probe decided).
const MODE_MSIX: u8 = 1;
const MODE_POLLED: u8 = 2;

/// IRQ names (`/proc/interrupts`), by vector (`vzc_core::vf::health::msix`).
const IRQ_NAMES: [&CStr; msix::VECTORS as usize] =
    [c"vhost_zc_vf-tx", c"vhost_zc_vf-rx", c"vhost_zc_vf-mbx"];

/// Probes failed on purpose so far (module parameter `vf_inject_probe_fail`).
static PROBE_FAULTS_HIT: AtomicU32 = AtomicU32::new(0);

/// Whether this probe must fail (module parameter `vf_inject_probe_fail`:
/// that many probes after loading fail at their last step).
fn probe_fault() -> bool {
    let armed = crate::module_parameters::vf_inject_probe_fail.value();
    PROBE_FAULTS_HIT
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            (n < armed).then_some(n + 1)
        })
        .is_ok()
}

/// Queue 0's rings, when started (from sysfs, for the self-test).
#[derive(Default)]
pub(crate) struct Queues {
    rx: Option<RxRing<PoolProvider>>,
    tx: Option<TxRing>,
    /// Buffers the last stopped RX ring gave back unused.
    last_reclaimed: u64,
    /// The rings were stopped for a VF reset and wait to be restarted.
    stale: bool,
    /// Rings restarted after a VF reset.
    restarts: u64,
    /// Restarts that failed (the ring stays stopped; retried by the
    /// watchdog).
    restart_failures: u64,
    /// Armed ring allocation failures (sysfs `inject_alloc_fail`).
    inject: FaultInject,
}

impl Queues {
    /// Retires finished work of both rings.
    fn clean(&mut self, bar: &Bar0<'_>) {
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

    /// Before a VF reset: hands on what the device completed, stops both
    /// queues and takes every posted RX buffer back (once), so nothing is
    /// owned by a device that is about to forget its rings.
    fn stop_for_reset(&mut self, bar: &Bar0<'_>) {
        if let Some(rx) = self.rx.as_mut() {
            if !self.stale {
                rx.clean(bar, RX_BUDGET);
            }
            // The reset follows whether or not the queue said it stopped.
            let _ = rx.stop(bar);
            self.stale = true;
        }
        if let Some(tx) = self.tx.as_mut() {
            let _ = tx.stop(bar);
            tx.forget_queued();
            self.stale = true;
        }
    }

    /// After a successful VF reset: programs and enables both rings again
    /// and re-posts the RX buffers.
    fn restart(&mut self, bar: &Bar0<'_>) {
        if !self.stale {
            return;
        }
        let mut ok = true;
        if let Some(rx) = self.rx.as_mut() {
            if rx.start(bar).is_err() {
                let _ = rx.stop(bar);
                ok = false;
            }
        }
        if let Some(tx) = self.tx.as_mut() {
            if tx.start(bar).is_err() {
                let _ = tx.stop(bar);
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
struct IrqStats {
    mode: AtomicU8,
    /// Interrupts per vector (TX, RX, mailbox).
    vectors: [AtomicU64; msix::VECTORS as usize],
    /// Poller rounds (polled mode).
    polls: AtomicU64,
    /// Watchdog rounds.
    watchdog: AtomicU64,
}

/// Name of the PCI driver (`/sys/bus/pci/drivers/vhost_zc_vf`).
pub(crate) const DRIVER_NAME: &CStr = c"vhost_zc_vf";

/// The VF's CSR BAR.
type Bar0<'bound> = pci::Bar<'bound, { regs::BAR0_SIZE }>;

/// The PCI driver.
pub(crate) struct IgbVfDriver;

kernel::pci_device_table!(
    VF_TABLE,
    <IgbVfDriver as pci::Driver>::IdInfo,
    [(pci::DeviceId::from_id(pci::Vendor::INTEL, 0x10ca), ())]
);

/// One bound VF: the BAR and the mailbox-side state behind a mutex (the
/// mailbox sleeps while polling; sysfs calls come from any process).
#[pin_data(PinnedDrop)]
pub(crate) struct VfPort<'bound> {
    pdev: &'bound pci::Device<Bound>,
    bar: Bar0<'bound>,
    /// Lock order: `queues` before `hw`.
    #[pin]
    queues: Mutex<Queues>,
    #[pin]
    hw: Mutex<VfHw>,
    irq: IrqStats,
    /// Unbind began: IRQ threads and ticks leave the device alone.
    stopping: AtomicBool,
    /// The clock of the recovery rate limit.
    born: Instant<Monotonic>,
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

/// Driver data of a bound VF. Fields drop in order: the IRQ handlers and
/// vectors (waiting for running handlers), the poller and the watchdog
/// (waiting for a running tick), the sysfs directory (and with the last
/// reference the port with its BAR mapping), then memory decoding is
/// disabled.
pub(crate) struct VfData<'bound> {
    _irqs: Option<MsixIrqs<'bound, VfPort<'bound>>>,
    _poller: Option<Periodic<VfPort<'bound>>>,
    watchdog: Periodic<VfPort<'bound>>,
    port: AttrDir<VfPort<'bound>>,
    _enabled: glue::pci::EnabledDevice<'bound>,
}

impl pci::Driver for IgbVfDriver {
    type IdInfo = ();
    type Data<'bound> = VfData<'bound>;

    const ID_TABLE: pci::IdTable<Self::IdInfo> = &VF_TABLE;

    fn probe<'bound>(
        pdev: &'bound pci::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        let enabled = glue::pci::EnabledDevice::new(pdev)?;
        pdev.set_master();
        let bar = pdev.iomap_region_sized::<{ regs::BAR0_SIZE }>(0, DRIVER_NAME)?;

        let mut st = VfHw::new();
        if let Err(e) = st.reset(&bar) {
            let s = st.mbx_stats();
            dev_err!(
                pdev,
                "VF reset handshake with the PF failed ({:?}; mailbox tx {} rx {} acks {} nacks {} timeouts {} pf_resets {}); is the PF driver (igb) loaded and its interface up?\n",
                e,
                s.tx,
                s.rx,
                s.acks,
                s.nacks,
                s.timeouts,
                s.pf_resets
            );
            hw::quiesce(&bar);
            return Err(mbx::to_error(e));
        }
        let (mac, src) = st.mac();
        dev_info!(pdev, "bound, MAC {} ({})\n", mac, source_name(src));

        let port = AttrDir::new(
            pdev.as_ref(),
            c"vzc",
            try_pin_init!(VfPort {
                pdev,
                bar,
                queues <- kernel::new_mutex!(Queues::default()),
                hw <- kernel::new_mutex!(st),
                irq: IrqStats::default(),
                stopping: AtomicBool::new(false),
                born: Instant::now(),
            }),
        )?;
        let shared = port.shared();
        // MSI-X as igbvf; without it (or when told so) a poller keeps the
        // rings moving.
        let irqs = if crate::module_parameters::vf_polled.value() {
            None
        } else {
            match MsixIrqs::new(pdev, &IRQ_NAMES, &shared) {
                Ok(irqs) => Some(irqs),
                Err(e) => {
                    dev_warn!(pdev, "no MSI-X ({:?}): polling the rings\n", e);
                    None
                }
            }
        };
        let poller = if irqs.is_some() {
            shared.hw.lock().enable_msix(&shared.bar);
            shared.irq.mode.store(MODE_MSIX, Ordering::Relaxed);
            None
        } else {
            shared.irq.mode.store(MODE_POLLED, Ordering::Relaxed);
            Some(Periodic::start(shared.clone(), TICK_POLL, POLL_MS)?)
        };
        let watchdog = Periodic::start(shared, TICK_WATCHDOG, WATCHDOG_MS)?;
        if probe_fault() {
            dev_warn!(pdev, "probe fails: injected (vf_inject_probe_fail)\n");
            // Quiet before the handlers go (dropped in reverse order).
            port.hw.lock().stop(&port.bar);
            return Err(ENOMEM);
        }
        Ok(VfData {
            _irqs: irqs,
            _poller: poller,
            watchdog,
            port,
            _enabled: enabled,
        })
    }

    fn unbind<'bound>(_pdev: &'bound pci::Device<Core<'_>>, this: Pin<&Self::Data<'bound>>) {
        let port = &this.port;
        // From here IRQ threads and ticks leave the device alone; the
        // watchdog is waited for (it takes the locks below). The IRQs are
        // freed with the driver data, after the VF is quiet.
        port.stopping.store(true, Ordering::Release);
        this.watchdog.stop();
        let mut q = port.queues.lock();
        let (mut rx, mut tx) = (q.rx.take(), q.tx.take());
        // Queues off, then the VF reset (under the lock: no sysfs-triggered
        // mailbox exchange runs meanwhile, and none can start afterwards),
        // and only then is the rings' memory freed: `rx`/`tx` live to the
        // end of this function, so even a queue that did not report
        // stopped is reset before its buffers go.
        if let Some(r) = rx.as_mut() {
            let _ = r.stop(&port.bar);
        }
        if let Some(t) = tx.as_mut() {
            let _ = t.stop(&port.bar);
        }
        port.hw.lock().stop(&port.bar);
        drop((rx, tx));
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
    fn now_ms(&self) -> u64 {
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
            q.stop_for_reset(&self.bar);
            match hw.recover(&self.bar) {
                Ok(()) => dev_info!(self.pdev, "recovered from a PF reset\n"),
                Err(e) => dev_warn!(self.pdev, "recovery reset failed: {:?}\n", e),
            }
        }
        if q.stale && hw.is_ready() {
            q.restart(&self.bar);
        }
    }

    /// `SET_LPE`; a running RX ring passes frames up to the new size.
    fn set_max_frame(&self, size: u16) -> Result {
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
    fn user_reset(&self) -> Result {
        let mut q = self.queues.lock();
        let mut hw = self.hw.lock();
        q.stop_for_reset(&self.bar);
        let r = hw.reset(&self.bar);
        if hw.is_ready() {
            q.restart(&self.bar);
        }
        r.map_err(|e| {
            dev_warn!(self.pdev, "reset failed: {:?}\n", e);
            mbx::to_error(e)
        })
    }
}

// The kernel's print macros take `kernel::fmt::Display`; the core crate
// only knows `core::fmt`.
impl kernel::fmt::Display for MacAddr {
    fn fmt(&self, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
        core::fmt::Display::fmt(self, f)
    }
}

fn source_name(s: MacSource) -> &'static str {
    match s {
        MacSource::Pf => "pf",
        MacSource::Random => "random",
        MacSource::User => "user",
    }
}

/// Indices into [`VfPort`]'s `ATTRS`.
mod attr {
    pub(super) const MAC: usize = 0;
    pub(super) const MAC_SOURCE: usize = 1;
    pub(super) const LINK: usize = 2;
    pub(super) const SPEED: usize = 3;
    pub(super) const MAX_FRAME: usize = 4;
    pub(super) const VLAN_ADD: usize = 5;
    pub(super) const VLAN_DEL: usize = 6;
    pub(super) const MC_LIST: usize = 7;
    pub(super) const RESET: usize = 8;
    pub(super) const RESETS: usize = 9;
    pub(super) const RESET_FAILURES: usize = 10;
    pub(super) const PF_RESETS: usize = 11;
    pub(super) const MBX_TX: usize = 12;
    pub(super) const MBX_RX: usize = 13;
    pub(super) const MBX_ACKS: usize = 14;
    pub(super) const MBX_NACKS: usize = 15;
    pub(super) const MBX_PINGS: usize = 16;
    pub(super) const MBX_TIMEOUTS: usize = 17;
    pub(super) const MBX_BAD_REPLIES: usize = 18;
    pub(super) const RESET_RETRIES: usize = 19;
    pub(super) const RX_RING: usize = 20;
    pub(super) const RX_POSTED: usize = 21;
    pub(super) const RX_GOOD: usize = 22;
    pub(super) const RX_BAD: usize = 23;
    pub(super) const RX_BYTES: usize = 24;
    pub(super) const RX_RECLAIMED: usize = 25;
    pub(super) const TX_SEND: usize = 26;
    pub(super) const TX_SENT: usize = 27;
    pub(super) const TX_DONE: usize = 28;
    pub(super) const RX_HASH: usize = 29;
    pub(super) const RX_FRAMES: usize = 30;
    pub(super) const RX_FRAME_BYTES: usize = 31;
    pub(super) const RX_MULTI_DESC: usize = 32;
    pub(super) const RX_DROP_ERROR: usize = 33;
    pub(super) const RX_DROP_TOO_LONG: usize = 34;
    pub(super) const RX_DROP_BAD_LEN: usize = 35;
    pub(super) const RX_DROP_BUFS: usize = 36;
    pub(super) const RX_REFILL_FAILED: usize = 37;
    pub(super) const TX_BYTES: usize = 38;
    pub(super) const HW_RX_PACKETS: usize = 39;
    pub(super) const HW_TX_PACKETS: usize = 40;
    pub(super) const HW_RX_BYTES: usize = 41;
    pub(super) const HW_TX_BYTES: usize = 42;
    pub(super) const HW_RX_MULTICAST: usize = 43;
    pub(super) const IRQ_MODE: usize = 44;
    pub(super) const IRQ_TX: usize = 45;
    pub(super) const IRQ_RX: usize = 46;
    pub(super) const IRQ_MBX: usize = 47;
    pub(super) const POLLS: usize = 48;
    pub(super) const WATCHDOG_RUNS: usize = 49;
    pub(super) const RECOVERIES: usize = 50;
    pub(super) const RECOVERY_FAILURES: usize = 51;
    pub(super) const RECOVERY_DEFERRED: usize = 52;
    pub(super) const RECOVERY_WAITS: usize = 53;
    pub(super) const RING_RESTARTS: usize = 54;
    pub(super) const RING_RESTART_FAILURES: usize = 55;
    pub(super) const TX_LOST: usize = 56;
    pub(super) const INJECT_ALLOC_FAIL: usize = 57;
    pub(super) const INJECT_HITS: usize = 58;
}

const fn ro(name: &'static CStr) -> Attr {
    Attr {
        name,
        read: true,
        write: false,
    }
}

const fn rw(name: &'static CStr) -> Attr {
    Attr {
        name,
        read: true,
        write: true,
    }
}

const fn wo(name: &'static CStr) -> Attr {
    Attr {
        name,
        read: false,
        write: true,
    }
}

/// Parses a sysfs write as text.
fn input_str(input: &[u8]) -> Result<&str> {
    core::str::from_utf8(input)
        .map(str::trim)
        .map_err(|_| EINVAL)
}

impl AttrSource for VfPort<'_> {
    const ATTRS: &'static [Attr] = &[
        rw(c"mac"),
        ro(c"mac_source"),
        ro(c"link"),
        ro(c"speed"),
        rw(c"max_frame"),
        wo(c"vlan_add"),
        wo(c"vlan_del"),
        wo(c"mc_list"),
        wo(c"reset"),
        ro(c"resets"),
        ro(c"reset_failures"),
        ro(c"pf_resets"),
        ro(c"mbx_tx"),
        ro(c"mbx_rx"),
        ro(c"mbx_acks"),
        ro(c"mbx_nacks"),
        ro(c"mbx_pings"),
        ro(c"mbx_timeouts"),
        ro(c"mbx_bad_replies"),
        ro(c"reset_retries"),
        rw(c"rx_ring"),
        ro(c"rx_posted"),
        ro(c"rx_good"),
        ro(c"rx_bad"),
        ro(c"rx_bytes"),
        ro(c"rx_reclaimed"),
        wo(c"tx_send"),
        ro(c"tx_sent"),
        ro(c"tx_done"),
        ro(c"rx_hash"),
        ro(c"rx_frames"),
        ro(c"rx_frame_bytes"),
        ro(c"rx_multi_desc"),
        ro(c"rx_drop_error"),
        ro(c"rx_drop_too_long"),
        ro(c"rx_drop_bad_len"),
        ro(c"rx_drop_bufs"),
        ro(c"rx_refill_failed"),
        ro(c"tx_bytes"),
        ro(c"hw_rx_packets"),
        ro(c"hw_tx_packets"),
        ro(c"hw_rx_bytes"),
        ro(c"hw_tx_bytes"),
        ro(c"hw_rx_multicast"),
        ro(c"irq_mode"),
        ro(c"irq_tx"),
        ro(c"irq_rx"),
        ro(c"irq_mbx"),
        ro(c"polls"),
        ro(c"watchdog_runs"),
        ro(c"recoveries"),
        ro(c"recovery_failures"),
        ro(c"recovery_deferred"),
        ro(c"recovery_waits"),
        ro(c"ring_restarts"),
        ro(c"ring_restart_failures"),
        ro(c"tx_lost"),
        rw(c"inject_alloc_fail"),
        ro(c"inject_hits"),
    ];

    fn show(&self, idx: usize, out: &mut SysfsBuf<'_>) -> Result {
        let ld = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let n = match idx {
            attr::IRQ_MODE => {
                let m = match self.irq.mode.load(Ordering::Relaxed) {
                    MODE_MSIX => "msix",
                    MODE_POLLED => "polled",
                    _ => "none",
                };
                return out.fmt(format_args!("{m}\n"));
            }
            attr::IRQ_TX | attr::IRQ_RX | attr::IRQ_MBX => {
                self.irq.vectors.get(idx - attr::IRQ_TX).map_or(0, ld)
            }
            attr::POLLS => ld(&self.irq.polls),
            attr::WATCHDOG_RUNS => ld(&self.irq.watchdog),
            attr::RECOVERIES..=attr::RECOVERY_WAITS => {
                let r = self.hw.lock().recovery_stats();
                match idx {
                    attr::RECOVERIES => r.recovered,
                    attr::RECOVERY_FAILURES => r.failed,
                    attr::RECOVERY_DEFERRED => r.deferred,
                    _ => r.waited_pf,
                }
            }
            attr::RING_RESTARTS..=attr::INJECT_HITS => {
                let q = self.queues.lock();
                match idx {
                    attr::RING_RESTARTS => q.restarts,
                    attr::RING_RESTART_FAILURES => q.restart_failures,
                    attr::TX_LOST => q.tx.as_ref().map_or(0, |t| t.lost),
                    attr::INJECT_ALLOC_FAIL => {
                        let (fail, skip) = q.inject.armed();
                        return out.fmt(format_args!("{fail} {skip}\n"));
                    }
                    _ => q.inject.hits,
                }
            }
            _ => return self.show_port(idx, out),
        };
        writeln!(out, "{n}").map_err(|_| EOVERFLOW)
    }

    fn store(&self, idx: usize, input: &[u8]) -> Result {
        let text = input_str(input)?;
        match idx {
            attr::RX_RING => return self.set_rx_ring(text.parse().map_err(|_| EINVAL)?),
            attr::TX_SEND => return self.tx_send(text),
            attr::RESET => {
                if text != "1" {
                    return Err(EINVAL);
                }
                return self.user_reset();
            }
            attr::INJECT_ALLOC_FAIL => {
                return self.queues.lock().inject.arm(text).ok_or(EINVAL);
            }
            attr::MAX_FRAME => return self.set_max_frame(text.parse().map_err(|_| EINVAL)?),
            _ => {}
        }
        self.store_port(idx, text)
    }
}

/// The attributes of the port's first slice (mailbox, rings, statistics).
impl VfPort<'_> {
    fn show_port(&self, idx: usize, out: &mut SysfsBuf<'_>) -> Result {
        if (attr::RX_RING..=attr::TX_DONE).contains(&idx)
            || (attr::RX_HASH..=attr::TX_BYTES).contains(&idx)
        {
            let n = self.show_queue(idx)?;
            if idx == attr::RX_HASH {
                return writeln!(out, "{n:#018x}").map_err(|_| EOVERFLOW);
            }
            return writeln!(out, "{n}").map_err(|_| EOVERFLOW);
        }
        let mut hw = self.hw.lock();
        let s = hw.mbx_stats();
        let (resets, reset_failures, reset_retries) = hw.resets();
        let n = match idx {
            attr::MAC => return out.fmt(format_args!("{}\n", hw.mac().0)),
            attr::MAC_SOURCE => return out.fmt(format_args!("{}\n", source_name(hw.mac().1))),
            attr::LINK => {
                let l = hw.link(&self.bar);
                return out.fmt(format_args!("{}\n", if l.up { "up" } else { "down" }));
            }
            attr::SPEED => {
                let l = hw.link(&self.bar);
                let duplex = if l.full_duplex { "full" } else { "half" };
                return out.fmt(format_args!("{} {}\n", l.speed, duplex));
            }
            attr::MAX_FRAME => u64::from(hw.max_frame()),
            attr::RESETS => resets,
            attr::RESET_FAILURES => reset_failures,
            attr::RESET_RETRIES => reset_retries,
            attr::PF_RESETS => s.pf_resets,
            attr::MBX_TX => s.tx,
            attr::MBX_RX => s.rx,
            attr::MBX_ACKS => s.acks,
            attr::MBX_NACKS => s.nacks,
            attr::MBX_PINGS => s.pings,
            attr::MBX_TIMEOUTS => s.timeouts,
            attr::MBX_BAD_REPLIES => s.bad_replies,
            attr::HW_RX_PACKETS..=attr::HW_RX_MULTICAST => {
                let h = hw.hw_stats(&self.bar);
                match idx {
                    attr::HW_RX_PACKETS => h.rx_packets.get(),
                    attr::HW_TX_PACKETS => h.tx_packets.get(),
                    attr::HW_RX_BYTES => h.rx_bytes.get(),
                    attr::HW_TX_BYTES => h.tx_bytes.get(),
                    _ => h.rx_multicast.get(),
                }
            }
            _ => return Err(EINVAL),
        };
        writeln!(out, "{n}").map_err(|_| EOVERFLOW)
    }

    fn store_port(&self, idx: usize, text: &str) -> Result {
        let mut hw = self.hw.lock();
        let r = match idx {
            attr::MAC => {
                let mac = MacAddr::parse(text).ok_or(EINVAL)?;
                hw.set_mac(&self.bar, mac)
            }
            attr::VLAN_ADD | attr::VLAN_DEL => {
                let vid = text.parse().map_err(|_| EINVAL)?;
                hw.set_vlan(&self.bar, vid, idx == attr::VLAN_ADD)
            }
            attr::MC_LIST => {
                let mut list = [MacAddr::default(); MAX_MC_HASHES];
                let n = parse_mac_list(text, &mut list).ok_or(EINVAL)?;
                hw.set_multicast(&self.bar, &list[..n])
            }
            _ => return Err(EINVAL),
        };
        r.map_err(|e| {
            dev_warn!(self.pdev, "mailbox request failed: {:?}\n", e);
            mbx::to_error(e)
        })
    }
}

/// The self-test's queue controls (sysfs `rx_*`, `tx_*`).
impl VfPort<'_> {
    /// A counter of the rings, as they are: reading does not clean them
    /// (the interrupts or the poller do).
    fn show_queue(&self, idx: usize) -> Result<u64> {
        let q = self.queues.lock();
        let rx = q.rx.as_ref();
        let ps = rx.map(|r| r.provider().stats()).unwrap_or_default();
        let cs = rx.map(|r| r.chain_stats()).unwrap_or_default();
        let rs = rx.map(|r| r.stats()).unwrap_or_default();
        let tx = q.tx.as_ref();
        Ok(match idx {
            attr::RX_RING => rx.map_or(0, |r| u64::from(r.size())),
            attr::RX_POSTED => rx.map_or(0, |r| u64::from(r.posted())),
            attr::RX_GOOD => ps.tally.good,
            attr::RX_BAD => ps.tally.bad + cs.dropped(),
            attr::RX_BYTES => ps.tally.bytes,
            attr::RX_HASH => ps.tally.hash.get(),
            attr::RX_RECLAIMED => q.last_reclaimed,
            attr::RX_FRAMES => cs.frames,
            attr::RX_FRAME_BYTES => cs.bytes,
            attr::RX_MULTI_DESC => cs.multi,
            attr::RX_DROP_ERROR => cs.drop_error,
            attr::RX_DROP_TOO_LONG => cs.drop_too_long,
            attr::RX_DROP_BAD_LEN => cs.drop_bad_len,
            attr::RX_DROP_BUFS => ps.dropped_bufs,
            attr::RX_REFILL_FAILED => rs.refill_failed,
            attr::TX_SENT => tx.map_or(0, |t| t.sent),
            attr::TX_DONE => tx.map_or(0, |t| t.done),
            attr::TX_BYTES => tx.map_or(0, |t| t.bytes),
            _ => return Err(EINVAL),
        })
    }

    /// `n` > 0: start an RX ring of `n` descriptors filled from a pool of
    /// `n` buffers; 0: stop it and free it.
    fn set_rx_ring(&self, n: u16) -> Result {
        let mut q = self.queues.lock();
        if n == 0 {
            let mut rx = q.rx.take().ok_or(EINVAL)?;
            let before = rx.provider().stats().reclaimed;
            if rx.stop(&self.bar).is_err() {
                // The queue did not say it stopped: reset the VF before
                // its buffers are freed.
                let _ = self.hw.lock().reset(&self.bar);
            }
            q.last_reclaimed = rx.provider().stats().reclaimed - before;
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
        rx_ring::alloc_point(&mut q.inject)?;
        let pool = PoolProvider::new(self.pdev.as_ref(), n)?;
        let mut rx = RxRing::new(
            self.pdev.as_ref(),
            size,
            POOL_BUF,
            max_len,
            pool,
            &mut q.inject,
        )?;
        // A failure injected here comes after the queue was enabled and
        // buffers were posted: the unwinding below must take them back.
        if let Err(e) = rx
            .start(&self.bar)
            .and_then(|()| rx_ring::alloc_point(&mut q.inject))
        {
            if rx.stop(&self.bar).is_err() {
                let _ = self.hw.lock().reset(&self.bar);
            }
            return Err(e);
        }
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
    fn tx_send(&self, text: &str) -> Result {
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
        if q.stale {
            // The ring is stopped until the VF is recovered.
            return Err(EAGAIN);
        }
        if q.tx.is_none() {
            let ring = RingSize::new(TX_RING_DESCS).map_err(|_| EINVAL)?;
            let mut tx = TxRing::new(self.pdev.as_ref(), ring, &mut q.inject)?;
            if let Err(e) = tx
                .start(&self.bar)
                .and_then(|()| rx_ring::alloc_point(&mut q.inject))
            {
                if tx.stop(&self.bar).is_err() {
                    let _ = self.hw.lock().reset(&self.bar);
                }
                return Err(e);
            }
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
