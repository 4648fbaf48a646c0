// SPDX-License-Identifier: GPL-2.0-only

//! VF bring-up and state: reset (igbvf `e1000_reset_hw_vf` +
//! `e1000_init_hw_vf`), the mailbox requests, link state, quiesce.
//!
//! 82576 datasheet, virtualization chapter: VF reset via VTCTRL.RST and the
//! PF reset indications RSTI/RSTD of the mailbox (see
//! Documentation/vf-driver.rst for what was checked where); link state from
//! STATUS.LU qualified by the PF's clear-to-send, as igbvf
//! `e1000_check_for_link_vf` does.

use kernel::{
    io::{register::Array, Io},
    prelude::*,
    time::{delay::fsleep, Delta},
};

use super::{mbx::BarMbx, regs, Bar0};
use crate::glue;
use crate::vzc_core::{
    net::eth::MacAddr,
    vf::{
        counter::WrapCounter,
        health::{msix, Action, Recovery, RecoveryStats, RECOVERY_INTERVAL_MS},
        mbx::{Mailbox, MbxError, MbxStats, Msg, Timing, MAX_MC_HASHES},
    },
};

/// Interrupt throttling of every vector, in us: igbvf's starting value
/// (`IGBVF_START_ITR` 488, ~8000 interrupts/s).
const EITR_US: u32 = 122;

/// Default largest frame: 1500 bytes of payload, Ethernet header, one VLAN
/// tag and the CRC (igbvf sends `max_frame + VLAN_TAG_SIZE`).
pub(crate) const DEFAULT_MAX_FRAME: u16 = 1500 + 14 + 4 + 4;

/// Handshake attempts per reset. The igb PF writes link-change pings into
/// the shared mailbox memory from its watchdog, unsynchronised with our
/// messages; one that lands on our `VF_RESET` loses it and the attempt
/// times out (seen under QEMU when the PF link comes up during probe).
/// igbvf recovers from its watchdog; we retry a bounded number of times.
const RESET_ATTEMPTS: u32 = 3;

/// How long probe waits for a PF that is resetting (RSTI/RSTD up), polled
/// every [`PF_RESET_POLL_MS`]. igb resets the adapter right after it
/// allocates VFs (`igb_sriov_reinit`), so a VF probed as it appears can see
/// the PF in reset for ~2 s (seen in vf_stress under QEMU: the probe failed
/// with PfInReset 1.6 s after "2 VFs allocated", link up 1 s later).
/// igbvf binds anyway and leaves it to its watchdog; we want a probe that
/// either works or fails with the reason, so it waits, bounded.
const PF_RESET_WAIT_MS: i64 = 3000;
const PF_RESET_POLL_MS: i64 = 50;

/// Where the VF's MAC address came from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum MacSource {
    /// The PF's reply to `VF_RESET` (administratively set or default).
    Pf,
    /// The PF had none; we chose a random locally administered one and
    /// registered it with `SET_MAC_ADDR` (igbvf: `eth_hw_addr_random`).
    Random,
    /// Set through sysfs with `SET_MAC_ADDR`.
    User,
}

/// Speed and duplex as STATUS reports them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct LinkInfo {
    /// Link usable: STATUS.LU and the PF answers us (CTS).
    pub(crate) up: bool,
    /// Mb/s.
    pub(crate) speed: u32,
    /// Full duplex.
    pub(crate) full_duplex: bool,
}

/// The VF's statistics registers extended to 64 bits (igbvf
/// `igbvf_update_stats`): counted since probe, except what the VF counted
/// during a reset (the registers are read before and rebased after it).
#[derive(Clone, Copy, Default)]
pub(crate) struct HwStats {
    /// Good packets received (VFGPRC).
    pub(crate) rx_packets: WrapCounter,
    /// Good packets transmitted (VFGPTC).
    pub(crate) tx_packets: WrapCounter,
    /// Good octets received (VFGORC).
    pub(crate) rx_bytes: WrapCounter,
    /// Good octets transmitted (VFGOTC).
    pub(crate) tx_bytes: WrapCounter,
    /// Multicast packets received (VFMPRC).
    pub(crate) rx_multicast: WrapCounter,
}

impl HwStats {
    /// Reads the registers; `rebase` takes them as the new starting point.
    fn read(&mut self, bar: &Bar0<'_>, rebase: bool) {
        let regs = [
            (&mut self.rx_packets, bar.read(regs::VFGPRC).value().get()),
            (&mut self.tx_packets, bar.read(regs::VFGPTC).value().get()),
            (&mut self.rx_bytes, bar.read(regs::VFGORC).value().get()),
            (&mut self.tx_bytes, bar.read(regs::VFGOTC).value().get()),
            (&mut self.rx_multicast, bar.read(regs::VFMPRC).value().get()),
        ];
        for (c, raw) in regs {
            if rebase {
                c.rebase(raw);
            } else {
                c.update(raw);
            }
        }
    }
}

/// Software state of one VF, kept under the port's mutex.
pub(crate) struct VfHw {
    mbx: Mailbox,
    mac: MacAddr,
    mac_source: MacSource,
    max_frame: u16,
    /// VF resets we performed (probe, recovery, sysfs).
    resets: u64,
    /// Resets whose handshake failed in every attempt.
    reset_failures: u64,
    /// Handshake attempts beyond the first.
    reset_retries: u64,
    /// The VF was quiesced for unbind: nothing may talk to the PF again
    /// (a late sysfs read must not redo the handshake and wake the VF).
    stopped: bool,
    hw_stats: HwStats,
    /// `hw_stats` has a starting point (the first reset took it).
    hw_stats_based: bool,
    /// MSI-X is set up: every reset programs the vectors again (a VF
    /// reset clears the VF's interrupt registers).
    msix: bool,
    /// The watchdog's recovery bookkeeping (rate limit, counters).
    recovery: Recovery,
}

impl VfHw {
    /// State before the first reset.
    pub(crate) const fn new() -> Self {
        Self {
            mbx: Mailbox::new(Timing::IGBVF),
            mac: MacAddr([0; 6]),
            mac_source: MacSource::Pf,
            max_frame: DEFAULT_MAX_FRAME,
            resets: 0,
            reset_failures: 0,
            reset_retries: 0,
            stopped: false,
            hw_stats: HwStats {
                rx_packets: WrapCounter::new(),
                tx_packets: WrapCounter::new(),
                rx_bytes: WrapCounter::new(),
                tx_bytes: WrapCounter::new(),
                rx_multicast: WrapCounter::new(),
            },
            hw_stats_based: false,
            msix: false,
            recovery: Recovery::new(RECOVERY_INTERVAL_MS),
        }
    }

    /// Resets the VF and redoes the PF handshake: CTRL.RST, wait for the PF
    /// reset indications to clear, `VF_RESET` (permanent MAC), then restore
    /// what the PF forgot with the reset (MAC if ours, max frame size).
    /// Up to [`RESET_ATTEMPTS`] tries; a NACK or bad argument is final.
    pub(crate) fn reset(&mut self, bar: &Bar0<'_>) -> Result<(), MbxError> {
        if self.stopped {
            return Err(MbxError::NotReady);
        }
        self.resets += 1;
        // What the registers counted so far is kept; whether the reset
        // clears them or not, they are rebased afterwards.
        if self.hw_stats_based {
            self.hw_stats.read(bar, false);
        }
        let mut r = self.reset_inner(bar);
        for _ in 1..RESET_ATTEMPTS {
            match r {
                Err(MbxError::Timeout | MbxError::LockTimeout | MbxError::UnexpectedReply) => {
                    self.reset_retries += 1;
                    r = self.reset_inner(bar);
                }
                _ => break,
            }
        }
        if r.is_err() {
            self.reset_failures += 1;
        }
        self.hw_stats.read(bar, true);
        self.hw_stats_based = true;
        if r.is_ok() && self.msix {
            program_msix(bar);
        }
        r
    }

    /// Probe's reset: [`Self::reset`], waiting up to [`PF_RESET_WAIT_MS`]
    /// for a PF still in reset. Every attempt counts in the reset counters.
    pub(crate) fn reset_at_probe(&mut self, bar: &Bar0<'_>) -> Result<(), MbxError> {
        let mut waited = 0;
        loop {
            match self.reset(bar) {
                Err(MbxError::PfInReset) if waited < PF_RESET_WAIT_MS => {
                    fsleep(Delta::from_millis(PF_RESET_POLL_MS));
                    waited += PF_RESET_POLL_MS;
                }
                r => return r,
            }
        }
    }

    /// Uses MSI-X from now on (also after every reset): programs the
    /// vectors and unmasks them.
    pub(crate) fn enable_msix(&mut self, bar: &Bar0<'_>) {
        if self.stopped {
            return;
        }
        self.msix = true;
        program_msix(bar);
    }

    /// The watchdog's look at the VF (igbvf `igbvf_watchdog_task` /
    /// `e1000_check_for_link_vf`): a PF reset indication (RSTI/RSTD) or a
    /// mailbox disabled by a lost reply calls for a VF reset, which
    /// [`Recovery`] allows now, defers (rate limit) or holds back while the
    /// PF is still resetting. When healthy, a pending PF message (link
    /// change, CTS) is drained. `now_ms` is a monotonic clock.
    pub(crate) fn health(&mut self, bar: &Bar0<'_>, now_ms: u64) -> Action {
        if self.stopped {
            return Action::Idle;
        }
        let mut io = BarMbx(bar);
        let seen = self.mbx.check_for_rst(&mut io);
        let resetting = self.mbx.pf_resetting(&mut io);
        let a = self
            .recovery
            .decide(now_ms, seen, self.mbx.is_ready(), resetting);
        if a == Action::Idle {
            // A failure leaves CTS as it was; the next round retries.
            let _ = self.mbx.poll_pf_message(&mut io);
        }
        a
    }

    /// Extends the statistics registers (the watchdog calls this every
    /// 2 s: far more often than a 32-bit register can wrap,
    /// `igbvf_update_stats`).
    pub(crate) fn refresh_stats(&mut self, bar: &Bar0<'_>) {
        if !self.stopped {
            self.hw_stats.read(bar, false);
        }
    }

    /// The reset [`VfHw::health`] asked for.
    pub(crate) fn recover(&mut self, bar: &Bar0<'_>) -> Result<(), MbxError> {
        let r = self.reset(bar);
        self.recovery.done(r.is_ok());
        r
    }

    /// The mailbox holds (a handshake got through and nothing timed out).
    pub(crate) fn is_ready(&self) -> bool {
        !self.stopped && self.mbx.is_ready()
    }

    /// Recovery counters.
    pub(crate) fn recovery_stats(&self) -> RecoveryStats {
        self.recovery.stats()
    }

    /// The statistics registers, read now (while the VF is not quiesced).
    pub(crate) fn hw_stats(&mut self, bar: &Bar0<'_>) -> HwStats {
        if !self.stopped {
            self.hw_stats.read(bar, false);
        }
        self.hw_stats
    }

    fn reset_inner(&mut self, bar: &Bar0<'_>) -> Result<(), MbxError> {
        mask_irqs(bar);
        bar.update(regs::CTRL, |r| r.with_rst(true));
        let mut io = BarMbx(bar);
        match self.mbx.reset(&mut io)? {
            Some(mac) if mac.is_valid_unicast() => {
                self.mac = mac;
                self.mac_source = MacSource::Pf;
            }
            // No (usable) address from the PF: keep the one we chose
            // before, if any, else pick one, and register it.
            _ => {
                if self.mac_source == MacSource::Pf || !self.mac.is_valid_unicast() {
                    self.mac = random_mac();
                    self.mac_source = MacSource::Random;
                }
                self.mbx.request(&mut io, &Msg::set_mac(self.mac)?)?;
            }
        }
        self.mbx.request(&mut io, &Msg::set_lpe(self.max_frame)?)
    }

    /// Asks the PF to use `mac` for this VF (`SET_MAC_ADDR`). The igb PF
    /// refuses (NACK) when the admin set the VF's address and the VF is
    /// not trusted.
    pub(crate) fn set_mac(&mut self, bar: &Bar0<'_>, mac: MacAddr) -> Result<(), MbxError> {
        self.check_running()?;
        self.mbx.request(&mut BarMbx(bar), &Msg::set_mac(mac)?)?;
        self.mac = mac;
        self.mac_source = MacSource::User;
        Ok(())
    }

    /// Largest frame to accept, CRC included (`SET_LPE`).
    pub(crate) fn set_max_frame(&mut self, bar: &Bar0<'_>, size: u16) -> Result<(), MbxError> {
        self.check_running()?;
        self.mbx.request(&mut BarMbx(bar), &Msg::set_lpe(size)?)?;
        self.max_frame = size;
        Ok(())
    }

    /// Adds or removes a VLAN filter (`SET_VLAN`).
    pub(crate) fn set_vlan(&mut self, bar: &Bar0<'_>, vid: u16, add: bool) -> Result<(), MbxError> {
        self.check_running()?;
        self.mbx
            .request(&mut BarMbx(bar), &Msg::set_vlan(vid, add)?)
    }

    /// Replaces the multicast filter with `addrs` (`SET_MULTICAST`).
    pub(crate) fn set_multicast(
        &mut self,
        bar: &Bar0<'_>,
        addrs: &[MacAddr],
    ) -> Result<(), MbxError> {
        self.check_running()?;
        if addrs.len() > MAX_MC_HASHES {
            return Err(MbxError::InvalidArgument);
        }
        self.mbx
            .request(&mut BarMbx(bar), &Msg::set_multicast(addrs)?)
    }

    /// Link state: STATUS.LU, and the PF answers us (handshake holds, CTS
    /// in its last message). A pending PF message is drained first. Resets
    /// are left to the watchdog ([`VfHw::health`]): until it recovered
    /// from a PF reset the link reads down.
    pub(crate) fn link(&mut self, bar: &Bar0<'_>) -> LinkInfo {
        if self.stopped {
            return LinkInfo {
                up: false,
                speed: 0,
                full_duplex: false,
            };
        }
        let mut io = BarMbx(bar);
        // A failure to read it just leaves CTS as it was.
        let _ = self.mbx.poll_pf_message(&mut io);
        let status = bar.read(regs::STATUS);
        LinkInfo {
            up: status.lu() && self.mbx.is_ready() && self.mbx.cts(),
            speed: match status.speed().get() {
                0 => 10,
                1 => 100,
                _ => 1000,
            },
            full_duplex: status.fd(),
        }
    }

    fn check_running(&self) -> Result<(), MbxError> {
        if self.stopped {
            Err(MbxError::NotReady)
        } else {
            Ok(())
        }
    }

    /// Quiesces the VF for good (unbind): see [`quiesce`].
    pub(crate) fn stop(&mut self, bar: &Bar0<'_>) {
        self.stopped = true;
        quiesce(bar);
    }

    /// [`VfHw::stop`] was called: resets are refused from now on.
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Current MAC address and where it came from.
    pub(crate) fn mac(&self) -> (MacAddr, MacSource) {
        (self.mac, self.mac_source)
    }

    /// Current maximum frame size.
    pub(crate) fn max_frame(&self) -> u16 {
        self.max_frame
    }

    /// Mailbox counters.
    pub(crate) fn mbx_stats(&self) -> MbxStats {
        self.mbx.stats()
    }

    /// (resets, failed resets, retried handshakes).
    pub(crate) fn resets(&self) -> (u64, u64, u64) {
        (self.resets, self.reset_failures, self.reset_retries)
    }
}

/// Masks all of the VF's interrupt vectors and disables auto-clear
/// (igbvf `igbvf_irq_disable`): before a reset, at unbind, and at probe
/// (a previous owner's setup must not fire).
pub(crate) fn mask_irqs(bar: &Bar0<'_>) {
    bar.write_reg(regs::EIMC::zeroed().with_const_vectors::<0x7>());
    bar.write_reg(regs::EIAC::zeroed());
}

/// Programs igbvf's MSI-X layout (`igbvf_configure_msix`,
/// `igbvf_irq_enable`): TX queue 0 on vector 0, RX queue 0 on vector 1,
/// the mailbox on vector 2, each throttled by EITR; causes auto-clear when
/// their message is sent (EIAC), so a new cause always raises a new
/// message. No auto-mask (EIAM): the handlers are threaded and leave the
/// vectors enabled, EITR bounds the rate.
fn program_msix(bar: &Bar0<'_>) {
    bar.write_reg(regs::IVAR0::zeroed().with_value(msix::ivar0()));
    bar.write_reg(regs::IVAR_MISC::zeroed().with_value(msix::ivar_misc()));
    for v in 0..msix::VECTORS as usize {
        if let Some(loc) = regs::EITR::try_at(v) {
            bar.write(loc, regs::EITR::zeroed().with_value(msix::eitr(EITR_US)));
        }
    }
    bar.write_reg(regs::EIAC::zeroed().with_const_vectors::<{ msix::ALL }>());
    bar.write_reg(regs::EIMS::zeroed().with_const_vectors::<{ msix::ALL }>());
}

/// Raises the RX and TX vectors by software (EICS), as igbvf's watchdog
/// does for RX, so that a missed interrupt cannot strand a ring.
pub(crate) fn kick_queue_vectors(bar: &Bar0<'_>) {
    const QUEUES: u32 = msix::bit(msix::RX) | msix::bit(msix::TX);
    bar.write_reg(regs::EICS::zeroed().with_const_vectors::<QUEUES>());
}

/// Leaves the VF quiet for the next owner: interrupts masked, queues and
/// interrupt state reset (CTRL.RST, which also tells the PF, whose VFLR
/// handling turns off the VF's RX/TX until a new handshake).
pub(crate) fn quiesce(bar: &Bar0<'_>) {
    mask_irqs(bar);
    bar.update(regs::CTRL, |r| r.with_rst(true));
}

/// A random unicast, locally administered address (`eth_random_addr`).
fn random_mac() -> MacAddr {
    let mut b = [0u8; 6];
    glue::pci::random_bytes(&mut b);
    b[0] = (b[0] & 0xfe) | 0x02;
    MacAddr(b)
}
