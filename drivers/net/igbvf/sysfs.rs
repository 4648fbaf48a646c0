// SPDX-License-Identifier: GPL-2.0-only

//! The VF's sysfs directory, `/sys/bus/pci/devices/<vf>/vzc/`, each
//! attribute declared once below with what reading and writing it does
//! (Documentation/vf-driver.rst lists them):
//!
//! - `vzc/` — the port: address, link, frame size, VLAN and multicast
//!   requests, resets;
//! - `mbx/` — mailbox counters; `hw/` — the VF's statistics registers;
//! - `rx/`, `tx/` — queue 0's rings (the self-test's controls `rx/ring`,
//!   `tx/send` and their counters);
//! - `irq/` — interrupt mode and counts; `recovery/` — recoveries and ring
//!   restarts; `selftest/` — fault injection.
//!
//! Reading a counter does not clean the rings (the interrupts or the
//! poller do).

use core::sync::atomic::{AtomicU64, Ordering};
use kernel::prelude::*;

use super::{
    hw::{HwStats, VfHw},
    mbx,
    port::{Queues, VfPort, MODE_MSIX, MODE_POLLED},
    rx_ring::RxRingStats,
    selftest::PoolStats,
    source_name,
};
use crate::glue::sysfs::sysfs_attrs;
use crate::vzc_core::{
    net::eth::{parse_mac_list, MacAddr},
    vf::{
        health::msix,
        mbx::{MbxError, MbxStats, MAX_MC_HASHES},
        rx_chain::RxChainStats,
    },
};

/// What the `rx/` counters read: the RX ring's, zero without a ring.
#[derive(Default)]
struct RxView {
    size: u16,
    posted: u32,
    pool: PoolStats,
    chain: RxChainStats,
    ring: RxRingStats,
}

impl VfPort<'_> {
    /// Reads the port state under the `hw` lock.
    fn hw<R>(&self, f: impl FnOnce(&mut VfHw) -> R) -> R {
        f(&mut self.hw.lock())
    }

    /// A mailbox counter.
    fn mbx(&self, f: impl FnOnce(&MbxStats) -> u64) -> u64 {
        f(&self.hw.lock().mbx_stats())
    }

    /// A statistics register, read now.
    fn hw_stat(&self, f: impl FnOnce(&HwStats) -> u64) -> u64 {
        f(&self.hw.lock().hw_stats(&self.bar))
    }

    /// Reads the rings' state under the `queues` lock.
    fn queues<R>(&self, f: impl FnOnce(&Queues) -> R) -> R {
        f(&self.queues.lock())
    }

    /// An RX ring counter.
    fn rx(&self, f: impl FnOnce(&RxView) -> u64) -> u64 {
        let q = self.queues.lock();
        let v = q.rx.as_ref().map_or_else(RxView::default, |r| RxView {
            size: r.size(),
            posted: r.posted(),
            pool: r.pool().map(|p| p.stats()).unwrap_or_default(),
            chain: r.chain_stats(),
            ring: r.stats(),
        });
        f(&v)
    }

    /// A TX ring counter.
    fn tx(&self, f: impl FnOnce(&super::tx_ring::TxRing) -> u64) -> u64 {
        self.queues.lock().tx.as_ref().map_or(0, f)
    }

    /// Interrupts of `vector`.
    fn irqs(&self, vector: u8) -> u64 {
        self.irq.vectors.get(usize::from(vector)).map_or(0, ld)
    }

    /// A mailbox request's outcome, logged if it failed.
    fn mbx_request(&self, r: Result<(), MbxError>) -> Result {
        r.map_err(|e| {
            dev_warn!(self.pdev, "mailbox request failed: {:?}\n", e);
            mbx::to_error(e)
        })
    }

    /// `vlan_add` / `vlan_del`.
    fn set_vlan(&self, text: &str, add: bool) -> Result {
        let vid = text.parse().map_err(|_| EINVAL)?;
        let r = self.hw.lock().set_vlan(&self.bar, vid, add);
        self.mbx_request(r)
    }
}

/// An atomic counter's value.
fn ld(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

sysfs_attrs! {
    VfPort<'_> {
        / {
            mac {
                show: |p, out| out.line(p.hw(|hw| hw.mac().0)),
                store: |p, text| {
                    let mac = MacAddr::parse(text).ok_or(EINVAL)?;
                    let r = p.hw.lock().set_mac(&p.bar, mac);
                    p.mbx_request(r)
                },
            }
            mac_source {
                show: |p, out| out.line(source_name(p.hw(|hw| hw.mac().1))),
            }
            link {
                show: |p, out| {
                    let up = p.hw(|hw| hw.link(&p.bar).up);
                    out.line(if up { "up" } else { "down" })
                },
            }
            speed {
                show: |p, out| {
                    let l = p.hw(|hw| hw.link(&p.bar));
                    let duplex = if l.full_duplex { "full" } else { "half" };
                    out.fmt(format_args!("{} {}\n", l.speed, duplex))
                },
            }
            max_frame {
                show: |p, out| out.line(p.hw(|hw| hw.max_frame())),
                store: |p, text| p.set_max_frame(text.parse().map_err(|_| EINVAL)?),
            }
            vlan_add {
                store: |p, text| p.set_vlan(text, true),
            }
            vlan_del {
                store: |p, text| p.set_vlan(text, false),
            }
            mc_list {
                store: |p, text| {
                    let mut list = [MacAddr::default(); MAX_MC_HASHES];
                    let n = parse_mac_list(text, &mut list).ok_or(EINVAL)?;
                    let r = p.hw.lock().set_multicast(&p.bar, &list[..n]);
                    p.mbx_request(r)
                },
            }
            reset {
                store: |p, text| if text == "1" { p.user_reset() } else { Err(EINVAL) },
            }
            resets {
                show: |p, out| out.line(p.hw(|hw| hw.resets().0)),
            }
            reset_failures {
                show: |p, out| out.line(p.hw(|hw| hw.resets().1)),
            }
            reset_retries {
                show: |p, out| out.line(p.hw(|hw| hw.resets().2)),
            }
        }
        mbx / {
            tx { show: |p, out| out.line(p.mbx(|s| s.tx)), }
            rx { show: |p, out| out.line(p.mbx(|s| s.rx)), }
            acks { show: |p, out| out.line(p.mbx(|s| s.acks)), }
            nacks { show: |p, out| out.line(p.mbx(|s| s.nacks)), }
            pings { show: |p, out| out.line(p.mbx(|s| s.pings)), }
            timeouts { show: |p, out| out.line(p.mbx(|s| s.timeouts)), }
            bad_replies { show: |p, out| out.line(p.mbx(|s| s.bad_replies)), }
            pf_resets { show: |p, out| out.line(p.mbx(|s| s.pf_resets)), }
        }
        hw / {
            rx_packets { show: |p, out| out.line(p.hw_stat(|h| h.rx_packets.get())), }
            tx_packets { show: |p, out| out.line(p.hw_stat(|h| h.tx_packets.get())), }
            rx_bytes { show: |p, out| out.line(p.hw_stat(|h| h.rx_bytes.get())), }
            tx_bytes { show: |p, out| out.line(p.hw_stat(|h| h.tx_bytes.get())), }
            rx_multicast { show: |p, out| out.line(p.hw_stat(|h| h.rx_multicast.get())), }
        }
        rx / {
            ring {
                show: |p, out| out.line(p.rx(|r| u64::from(r.size))),
                store: |p, text| p.set_rx_ring(text.parse().map_err(|_| EINVAL)?),
            }
            posted { show: |p, out| out.line(p.rx(|r| u64::from(r.posted))), }
            good { show: |p, out| out.line(p.rx(|r| r.pool.tally.good)), }
            bad { show: |p, out| out.line(p.rx(|r| r.pool.tally.bad + r.chain.dropped())), }
            bytes { show: |p, out| out.line(p.rx(|r| r.pool.tally.bytes)), }
            hash {
                show: |p, out| {
                    let h = p.rx(|r| r.pool.tally.hash.get());
                    out.fmt(format_args!("{h:#018x}\n"))
                },
            }
            reclaimed { show: |p, out| out.line(p.queues(|q| q.last_reclaimed)), }
            frames { show: |p, out| out.line(p.rx(|r| r.chain.frames)), }
            frame_bytes { show: |p, out| out.line(p.rx(|r| r.chain.bytes)), }
            multi_desc { show: |p, out| out.line(p.rx(|r| r.chain.multi)), }
            drop_error { show: |p, out| out.line(p.rx(|r| r.chain.drop_error)), }
            drop_too_long { show: |p, out| out.line(p.rx(|r| r.chain.drop_too_long)), }
            drop_bad_len { show: |p, out| out.line(p.rx(|r| r.chain.drop_bad_len)), }
            drop_bufs { show: |p, out| out.line(p.rx(|r| r.pool.dropped_bufs)), }
            refill_failed { show: |p, out| out.line(p.rx(|r| r.ring.refill_failed)), }
        }
        tx / {
            send { store: |p, text| p.tx_send(text), }
            sent { show: |p, out| out.line(p.tx(|t| t.sent)), }
            done { show: |p, out| out.line(p.tx(|t| t.done)), }
            bytes { show: |p, out| out.line(p.tx(|t| t.bytes)), }
            lost { show: |p, out| out.line(p.tx(|t| t.lost)), }
        }
        irq / {
            mode {
                show: |p, out| {
                    out.line(match p.irq.mode.load(Ordering::Relaxed) {
                        MODE_MSIX => "msix",
                        MODE_POLLED => "polled",
                        _ => "none",
                    })
                },
            }
            tx { show: |p, out| out.line(p.irqs(msix::TX)), }
            rx { show: |p, out| out.line(p.irqs(msix::RX)), }
            mbx { show: |p, out| out.line(p.irqs(msix::MBX)), }
            polls { show: |p, out| out.line(ld(&p.irq.polls)), }
            watchdog_runs { show: |p, out| out.line(ld(&p.irq.watchdog)), }
        }
        recovery / {
            recoveries { show: |p, out| out.line(p.hw(|hw| hw.recovery_stats().recovered)), }
            failures { show: |p, out| out.line(p.hw(|hw| hw.recovery_stats().failed)), }
            deferred { show: |p, out| out.line(p.hw(|hw| hw.recovery_stats().deferred)), }
            waits { show: |p, out| out.line(p.hw(|hw| hw.recovery_stats().waited_pf)), }
            ring_restarts { show: |p, out| out.line(p.queues(|q| q.restarts)), }
            ring_restart_failures { show: |p, out| out.line(p.queues(|q| q.restart_failures)), }
        }
        selftest / {
            inject_alloc_fail {
                show: |p, out| {
                    let (fail, skip) = p.queues(|q| q.inject.armed());
                    out.fmt(format_args!("{fail} {skip}\n"))
                },
                store: |p, text| p.queues.lock().inject.arm(text).ok_or(EINVAL),
            }
            inject_hits { show: |p, out| out.line(p.queues(|q| q.inject.hits)), }
        }
    }
}
