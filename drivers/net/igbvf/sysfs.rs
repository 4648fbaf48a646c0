// SPDX-License-Identifier: GPL-2.0-only

//! The VF's sysfs directory, `/sys/bus/pci/devices/<vf>/vzc/`
//! (Documentation/vf-driver.rst).

use core::{
    fmt::Write as _,
    sync::atomic::{AtomicU64, Ordering},
};
use kernel::prelude::*;

use super::{
    mbx,
    port::{VfPort, MODE_MSIX, MODE_POLLED},
    source_name,
};
use crate::glue::sysfs::{Attr, AttrSource, SysfsBuf};
use crate::vzc_core::vf_mbx::{parse_mac_list, MacAddr, MAX_MC_HASHES};

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
                let n = parse_mac_list(text, &mut list).map_err(mbx::to_error)?;
                hw.set_multicast(&self.bar, &list[..n])
            }
            _ => return Err(EINVAL),
        };
        r.map_err(|e| {
            dev_warn!(self.pdev, "mailbox request failed: {:?}\n", e);
            mbx::to_error(e)
        })
    }

    /// A counter of the rings, as they are: reading does not clean them
    /// (the interrupts or the poller do).
    fn show_queue(&self, idx: usize) -> Result<u64> {
        let q = self.queues.lock();
        let rx = q.rx.as_ref();
        let ps = rx
            .and_then(|r| r.pool())
            .map(|p| p.stats())
            .unwrap_or_default();
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
}
