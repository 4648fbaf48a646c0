// SPDX-License-Identifier: GPL-2.0-only

//! The handlers of the generic netlink family `vhost_zc`
//! (Documentation/netlink/specs/vhost_zc.yaml): each reads its attributes
//! once into the core's validated types, decides with
//! `vzc_core::control::port`, and answers. Every refusal carries an errno
//! and an extack message; a refused request changes nothing.
//!
//! Permissions: every command is `admin-perm` (CAP_NET_ADMIN in the
//! initial user namespace, checked by genetlink before the handler runs):
//! a VF is a host resource, so a container's root must not hand one to a
//! tap (Documentation/zero-copy.rst, "Control").

use kernel::{
    prelude::*,
    time::{delay::fsleep, Delta},
};

use crate::glue::genl::{self, Dump, Msg, MsgFull, Net, Request, TapLookup};
use crate::glue::global::CONTROL;
use crate::vzc_core::control::{
    attr::{id, GuestMac, PciAddr, TapName, PCI_ADDR_MAX},
    port::{NetId, Port, STATS},
    Refusal,
};
use crate::vzc_core::errno;

/// `VHOST_ZC_A_STATS_*` start at 1, in `PortStats` order.
const A_STATS_FIRST: u16 = 1;

fn tap_of(req: &Request<'_>) -> Result<TapName> {
    let p = req.required(id::IFNAME, c"ifname (the tap) is required")?;
    TapName::from_payload(p).map_err(|r| req.refuse(r))
}

/// `port-bind`: tap (in the caller's namespace) -> VF, optional guest MAC.
pub(crate) fn port_bind(req: &Request<'_>) -> Result {
    let tap = tap_of(req)?;
    let vf = req.required(id::VF, c"vf (the VF's PCI address) is required")?;
    let vf = PciAddr::from_payload(vf).map_err(|r| req.refuse(r))?;
    let mac = req
        .attr(id::MAC)
        .map(GuestMac::from_payload)
        .transpose()
        .map_err(|r| req.refuse(r))?;
    let net = req.net();
    net.tap_ifindex(&tap).map_err(|e| {
        req.refuse(match e {
            TapLookup::Missing => Refusal::at(
                errno::ENODEV,
                id::IFNAME,
                c"no interface of this name in the caller's network namespace",
            ),
            TapLookup::NotTap => Refusal::at(
                errno::EINVAL,
                id::IFNAME,
                c"the interface is not a tap (a tun device in TAP mode)",
            ),
        })
    })?;
    // Outside the lock: takes the PCI bus lock.
    let exists = genl::pci_exists(&vf);
    let mut c = CONTROL.lock();
    let owner = c.vfs.owner(vf, exists);
    c.ports
        .bind(net.id(), tap, vf, mac, owner)
        .map_err(|r| req.refuse(r))?;
    // A device may use the tap already: the port applies on the fly. Its
    // worker pins; a bind that cannot take effect is undone (ENOMEM).
    c.refresh(net.id(), &tap);
    if !c.uses.watched(net.id(), &tap) {
        return Ok(());
    }
    drop(c);
    wait_for_pins(req, net.id(), tap, vf)
}

/// How long a bind waits for the running devices of its tap to pin.
const PIN_WAIT_MS: u32 = 5000;
const PIN_POLL_MS: u32 = 10;

/// Waits (bounded) for the devices using `tap` to pin for the new port;
/// if one cannot, unbinds the port again and refuses. After the bound the
/// bind stands and the port shows what the devices report later.
fn wait_for_pins(req: &Request<'_>, net: NetId, tap: TapName, vf: PciAddr) -> Result {
    for _ in 0..PIN_WAIT_MS / PIN_POLL_MS {
        fsleep(Delta::from_millis(PIN_POLL_MS.into()));
        let mut c = CONTROL.lock();
        // Unbound (or rebound elsewhere) meanwhile: not ours to judge.
        if c.ports.get(net, &tap).ok().map(|p| p.vf) != Some(vf) {
            return Ok(());
        }
        let Some(failure) = c.uses.answer(net, &tap) else {
            continue;
        };
        let Some(refusal) = failure.and_then(|f| f.refusal()) else {
            return Ok(());
        };
        // The port never was: devices that did pin unpin.
        let _ = c.ports.unbind(net, &tap);
        c.refresh(net, &tap);
        return Err(req.refuse(refusal));
    }
    Ok(())
}

/// `port-unbind`.
pub(crate) fn port_unbind(req: &Request<'_>) -> Result {
    let tap = tap_of(req)?;
    let net = req.net();
    let mut c = CONTROL.lock();
    c.ports.unbind(net.id(), &tap).map_err(|r| req.refuse(r))?;
    // Its devices unpin.
    c.refresh(net.id(), &tap);
    Ok(())
}

/// `port-get` of one port.
pub(crate) fn port_get(req: &Request<'_>) -> Result {
    let tap = tap_of(req)?;
    let net = req.net();
    // A copy: the reply is built (and may allocate) outside the lock.
    let port = *CONTROL
        .lock()
        .ports
        .get(net.id(), &tap)
        .map_err(|r| req.refuse(r))?;
    req.reply(|m| fill(m, &port, &net))
}

/// `port-get` dump: every port of the caller's namespace.
pub(crate) fn port_dump(d: &mut Dump<'_>) -> Result {
    let net = d.net();
    let mut cursor = d.cursor();
    loop {
        // A copy: the entry is written outside the lock.
        let next = CONTROL
            .lock()
            .ports
            .next_in(net.id(), cursor)
            .map(|(n, p)| (n, *p));
        let Some((n, port)) = next else { break };
        if d.entry(|m| fill(m, &port, &net)).is_err() {
            // This port goes into the next message.
            break;
        }
        cursor = n;
    }
    d.set_cursor(cursor);
    Ok(())
}

/// A port's attributes (the spec's `port-all`).
fn fill(m: &mut Msg<'_>, p: &Port, net: &Net<'_>) -> Result<(), MsgFull> {
    m.put_bytes(id::IFNAME, p.tap.as_bytes_with_nul())?;
    m.put_u32(id::IFINDEX, net.ifindex(&p.tap))?;
    let mut buf = [0u8; PCI_ADDR_MAX];
    let n = p.vf.write_canonical(&mut buf).len();
    m.put_bytes(id::VF, &buf[..=n])?;
    if let Some(mac) = p.mac {
        m.put_bytes(id::MAC, &mac.0)?;
    }
    m.put_u32(id::MAC_SOURCE, p.mac_source as u32)?;
    m.put_u32(id::MODE, p.mode as u32)?;
    m.put_u32(id::COPY_REASON, p.copy_reason as u32)?;
    m.put_u32(id::QUEUE_PAIRS, p.queue_pairs)?;
    m.put_u32(id::RINGS, p.tap_use.rings)?;
    m.nest(id::STATS, |m| {
        for (i, v) in p.stats.0.iter().enumerate().take(STATS) {
            m.put_uint(A_STATS_FIRST + i as u16, *v)?;
        }
        Ok(())
    })
}

/// The network namespace `net` is going away: its ports go with it.
pub(crate) fn net_gone(net: NetId) {
    let mut c = CONTROL.lock();
    c.ports.remove_net(net);
    c.uses.remove_net(net);
}
