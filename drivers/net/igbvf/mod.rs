// SPDX-License-Identifier: GPL-2.0-only

//! PCI driver for the Intel 82576 SR-IOV virtual function (8086:10ca),
//! without a netdev: the VF's queues are for vhost-zc.
//!
//! One `mod` per concern:
//! - this file — the PCI driver: probe, unbind, the driver data and the
//!   order it is torn down in;
//! - `port` — a bound VF at run time: its queues (the RX slot is an enum
//!   over buffer providers), IRQ and tick dispatch, service and recovery;
//! - `regs` — the BAR0 registers, declared once with `register!`;
//! - `mbx` — the VF<->PF mailbox on the BAR (protocol in `vzc_core::vf::mbx`);
//! - `hw` — reset/handshake, mailbox requests, link state, quiesce;
//! - `queue` — what both rings share: programming queue 0, and DMA
//!   quiescence as a type (`Quiesced`);
//! - `rx_ring`, `tx_ring` — queue 0's descriptor rings in coherent DMA
//!   memory; RX buffers come from a `crate::net::provider::RxBufferProvider`;
//! - `sysfs` — the attributes; `selftest` — the self-test's pool provider
//!   and queue controls.
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
mod port;
mod queue;
mod regs;
mod rx_ring;
mod selftest;
mod sysfs;
mod tx_ring;

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use kernel::{
    device::Core,
    pci,
    prelude::*,
    time::Instant, //
};

use crate::glue::{
    self,
    dwork::Periodic,
    irq::MsixIrqs,
    sysfs::{AttrDir, Parent}, //
};
use crate::vzc_core::{net::eth::MacAddr, vf::health::msix};
use hw::{MacSource, VfHw};
use port::{
    IrqStats, Queues, VfPort, MODE_MSIX, MODE_POLLED, POLL_MS, TICK_POLL, TICK_WATCHDOG,
    WATCHDOG_MS,
};
use queue::{Reset, Ring};

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

/// Name of the PCI driver (`/sys/bus/pci/drivers/vhost_zc_vf`).
pub(crate) const DRIVER_NAME: &CStr = c"vhost_zc_vf";

/// The VF's CSR BAR.
pub(crate) type Bar0<'bound> = pci::Bar<'bound, { regs::BAR0_SIZE }>;

/// The PCI driver.
pub(crate) struct IgbVfDriver;

kernel::pci_device_table!(
    VF_TABLE,
    <IgbVfDriver as pci::Driver>::IdInfo,
    [(pci::DeviceId::from_id(pci::Vendor::INTEL, 0x10ca), ())]
);

/// Driver data of a bound VF. Fields drop in order: the IRQ handlers and
/// vectors (waiting for running handlers), the poller and the watchdog
/// (waiting for a running tick), the sysfs directory with its
/// subdirectories (and with the last reference the port with its BAR
/// mapping), then memory decoding is disabled.
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
        // Before any DMA allocation: 64-bit, as igbvf (guest pages may
        // live anywhere in host memory).
        glue::pci::set_dma_mask_64(pdev)?;
        pdev.set_master();
        let bar = pdev.iomap_region_sized::<{ regs::BAR0_SIZE }>(0, DRIVER_NAME)?;

        let mut st = VfHw::new();
        if let Err(e) = st.reset_at_probe(&bar) {
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
            Parent::Device(pdev.as_ref()),
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
        // From now on a port may name this VF (`zcctl bind`).
        crate::control::vf_added(glue::pci::address(pdev));
        Ok(VfData {
            _irqs: irqs,
            _poller: poller,
            watchdog,
            port,
            _enabled: enabled,
        })
    }

    fn unbind<'bound>(pdev: &'bound pci::Device<Core<'_>>, this: Pin<&Self::Data<'bound>>) {
        // No port may use the VF any more; a bound one goes to `vf-down`.
        crate::control::vf_removed(glue::pci::address(pdev));
        let port = &this.port;
        // From here IRQ threads and ticks leave the device alone; the
        // watchdog is waited for (it takes the locks below). The IRQs are
        // freed with the driver data, after the VF is quiet.
        port.stopping.store(true, Ordering::Release);
        this.watchdog.stop();
        let mut q = port.queues.lock();
        // Queues off, then the VF reset for good (under the lock: no
        // sysfs-triggered mailbox exchange runs meanwhile, and none can
        // start afterwards), and only then, with the proof, are the rings'
        // buffers given back and their memory freed.
        let present = q.present();
        let (quiesced, _) =
            queue::stop_and_reset(&port.bar, &mut port.hw.lock(), present, Reset::Final);
        if let Some(rx) = q.rx.take() {
            rx.retire(quiesced.rx);
        }
        if let Some(tx) = q.tx.take() {
            tx.retire(quiesced.tx);
        }
    }
}

// The kernel's print macros take `kernel::fmt::Display`; the core crate
// only knows `core::fmt`.
impl kernel::fmt::Display for MacAddr {
    fn fmt(&self, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
        core::fmt::Display::fmt(self, f)
    }
}

/// The name sysfs `mac_source` shows.
pub(super) fn source_name(s: MacSource) -> &'static str {
    match s {
        MacSource::Pf => "pf",
        MacSource::Random => "random",
        MacSource::User => "user",
    }
}
