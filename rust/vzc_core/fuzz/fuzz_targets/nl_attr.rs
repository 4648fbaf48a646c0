// SPDX-License-Identifier: GPL-2.0-only
//! The `vhost_zc` netlink family against a hostile netlink user: raw
//! attribute payloads for the tap name, the VF's PCI address and the
//! guest MAC (the policy may not have run), and a sequence of port-table
//! and VF-set operations (bind, unbind, namespace removal, VF arrival and
//! departure, ring use and pinning updates, dumps).
//!
//! Asserts: the decoders accept exactly what reference parsers written from
//! the docs accept (`dev_valid_name`; `dddd:bb:dd.f` hex with 4 to 8 domain
//! digits, dev <= 31, func <= 7; a 6-byte unicast non-zero MAC), keep the
//! payload's bytes, and refuse with EINVAL at the right attribute; an
//! accepted or constructed PCI address prints as `dev_name()` does
//! (`%04x:%02x:%02x.%d`) and parses back equal, and an out-of-range one
//! never prints as something accepted; `ring_blocker` and the `TapUse`
//! builders follow their rules; `PortTable` and `VfSet` agree with naive
//! models (a Vec of ports, a Vec of VFs) on every result, every refusal's
//! errno and attribute, every port's fields, `wants_pins`, `port_of_vf`,
//! `len`, dumps (each port of the namespace once), and never exceed their
//! capacity.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use vzc_core::control::attr::{id, GuestMac, PciAddr, TapName, PCI_ADDR_MAX};
use vzc_core::control::port::*;
use vzc_core::control::Refusal;
use vzc_core::errno::*;
use vzc_core::net::eth::MacAddr;

#[derive(Arbitrary, Debug)]
enum Pin {
    Pinned(u64, u64),
    Memlock,
    Failed,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Tap(Vec<u8>),
    Pci(Vec<u8>),
    PciFields(u32, u8, u8, u8),
    Mac(Vec<u8>),
    /// Pools: net `n % 3`, tap `t{i % 320}`, VF `i % 320`. Bind: net, tap,
    /// VF, MAC payload, whether a PCI device is there.
    Bind(u8, u16, u16, Option<[u8; 6]>, bool),
    /// `n` binds of fresh taps and VFs from `start` on (to reach capacity).
    Fill(u8, u16, u8),
    Unbind(u8, u16),
    RemoveNet(u8),
    VfPresent(u16, bool),
    /// The features of each ring using the tap, and pinning outcomes.
    SetUse(u8, u16, Vec<u64>, Vec<Pin>),
    /// `n` VFs from `start` on probed.
    VfAdd(u16, u8),
    VfRemove(u16),
    /// A dump step from a cursor, and a whole dump.
    Dump(u8, u16),
}

#[derive(Arbitrary, Debug)]
struct Input {
    ops: Vec<Op>,
}

/// The model's port; taps and VFs by pool index.
#[derive(Clone, Copy)]
struct MPort {
    net: u64,
    tap: u16,
    vf: u16,
    mac: Option<[u8; 6]>,
    vf_up: bool,
    tap_use: TapUse,
}

fn tap(i: u16) -> TapName {
    TapName::from_payload(format!("t{}\0", i % 320).as_bytes()).unwrap()
}

fn vf(i: u16) -> PciAddr {
    let i = i % 320;
    PciAddr {
        domain: 0,
        bus: (i / 8) as u8,
        dev: 0,
        func: (i % 8) as u8,
    }
}

fn pinned(pages: u64, memlock_bytes: u64) -> PinOutcome {
    PinOutcome::Pinned {
        pages,
        memlock_bytes,
    }
}

fn refused(r: Refusal, errno: i32, attr: Option<u16>) {
    assert_eq!((r.errno, r.attr), (errno, attr), "{:?}", r.msg);
    assert!(!r.msg.to_bytes().is_empty());
}

fn check_pci(payload: &[u8]) {
    let s = payload.iter().position(|&b| b == 0).map(|n| &payload[..n]);
    let hex = |f: &[u8], n: std::ops::RangeInclusive<usize>| {
        let ok = n.contains(&f.len()) && f.iter().all(u8::is_ascii_hexdigit);
        ok.then(|| u32::from_str_radix(std::str::from_utf8(f).unwrap(), 16).unwrap())
    };
    let want = s.and_then(|s| {
        let p: Vec<&[u8]> = s.split(|&b| b == b':').collect();
        let [dom, bus, df] = p[..] else { return None };
        let q: Vec<&[u8]> = df.split(|&b| b == b'.').collect();
        let [dev, func] = q[..] else { return None };
        let (domain, bus, dev) = (hex(dom, 4..=8)?, hex(bus, 2..=2)?, hex(dev, 2..=2)?);
        let func = (func.len() == 1 && (b'0'..=b'7').contains(&func[0])).then(|| func[0] - b'0')?;
        (dev <= 31).then_some(PciAddr {
            domain,
            bus: bus as u8,
            dev: dev as u8,
            func,
        })
    });
    match PciAddr::from_payload(payload) {
        Ok(a) => {
            assert_eq!(Some(a), want);
            assert_eq!(a.devfn(), a.dev << 3 | a.func);
            canonical(a);
        }
        Err(r) => {
            assert_eq!(want, None);
            refused(r, EINVAL, Some(id::VF));
        }
    }
}

/// The canonical form is `dev_name()`'s, and parses back to `a`.
fn canonical(a: PciAddr) {
    let mut buf = [0xaa; PCI_ADDR_MAX];
    let s = a.write_canonical(&mut buf).to_vec();
    let want = format!("{:04x}:{:02x}:{:02x}.{}", a.domain, a.bus, a.dev, a.func);
    assert_eq!(s, want.as_bytes());
    assert_eq!(buf[s.len()], 0, "NUL-terminated");
    assert_eq!(PciAddr::from_payload(&buf[..=s.len()]), Ok(a));
}

/// The TapUse the builders must make, from the documented rules.
fn reference_use(features: &[u64], pins: &[Pin]) -> TapUse {
    let mut u = TapUse {
        rings: features.len() as u32,
        ..TapUse::default()
    };
    let min = |a: Option<CopyReason>, b| a.into_iter().chain(Some(b)).min_by_key(|&r| r as u32);
    for &f in features {
        let bit = |b: u32| f & (1 << b) != 0;
        if !bit(15) && !bit(32) {
            u.blocker = min(u.blocker, CopyReason::Features);
        } else if bit(33) {
            u.blocker = min(u.blocker, CopyReason::Unsupported);
        }
    }
    for p in pins {
        match *p {
            Pin::Pinned(pages, bytes) => {
                u.pinned_pages = u.pinned_pages.saturating_add(pages);
                u.memlock_bytes = u.memlock_bytes.saturating_add(bytes);
            }
            Pin::Memlock => u.pin_blocker = min(u.pin_blocker, CopyReason::Memlock),
            Pin::Failed => u.pin_blocker = min(u.pin_blocker, CopyReason::PinFailed),
        }
    }
    u
}

fn check_port(t: &PortTable, m: &MPort) {
    let p = t
        .get(NetId(m.net), &tap(m.tap))
        .expect("a model port is bound");
    assert_eq!(
        (p.tap, p.vf, p.mac, p.vf_up),
        (tap(m.tap), vf(m.vf), m.mac.map(MacAddr), m.vf_up)
    );
    let src = if m.mac.is_some() {
        MacSource::Configured
    } else {
        MacSource::None
    };
    assert_eq!(
        (p.mac_source, p.mode, p.tap_use),
        (src, Mode::Copy, m.tap_use)
    );
    let u = m.tap_use;
    let reason = match (m.vf_up, u.rings) {
        (false, _) => CopyReason::VfDown,
        (true, 0) => CopyReason::Detached,
        _ => u
            .blocker
            .or(u.pin_blocker)
            .unwrap_or(CopyReason::Unsupported),
    };
    assert_eq!(p.copy_reason, reason);
    let mut stats = [0; STATS];
    (stats[9], stats[10]) = (u.pinned_pages, u.memlock_bytes);
    assert_eq!(p.stats.0, stats);
    let wants = m.vf_up && u.blocker.is_none();
    assert!(p.wants_pins() == wants && t.wants_pins(NetId(m.net), &tap(m.tap)) == wants);
    assert_eq!(t.port_of_vf(vf(m.vf)), Some((NetId(m.net), tap(m.tap))));
}

fn bind(
    t: &mut PortTable,
    m: &mut Vec<MPort>,
    net: u64,
    ti: u16,
    vi: u16,
    mac: Option<[u8; 6]>,
    owner: VfOwner,
) {
    let mac = mac.and_then(|b| GuestMac::from_payload(&b).ok());
    let r = t.bind(NetId(net), tap(ti), vf(vi), mac, owner);
    // In the documented order: the tap, what drives the VF, its use, room.
    let want = match owner {
        _ if m.iter().any(|p| p.net == net && p.tap == ti % 320) => Err((EEXIST, Some(id::IFNAME))),
        VfOwner::Missing => Err((ENODEV, Some(id::VF))),
        VfOwner::Other => Err((EOPNOTSUPP, Some(id::VF))),
        _ if m.iter().any(|p| p.vf == vi % 320) => Err((EBUSY, Some(id::VF))),
        _ if m.len() == MAX_PORTS => Err((ENOSPC, None)),
        VfOwner::Ours => Ok(()),
    };
    match (r, want) {
        (Ok(_), Ok(())) => {
            let tap_use = TapUse::default();
            let mac = mac.map(|g| g.addr().0);
            let (tap, vf) = (ti % 320, vi % 320);
            m.push(MPort {
                net,
                tap,
                vf,
                mac,
                vf_up: true,
                tap_use,
            });
        }
        (Err(r), Err((errno, attr))) => refused(r, errno, attr),
        (r, w) => panic!("bind: {:?}, model {w:?}", r.map(|p| p.vf)),
    }
}

fuzz_target!(|inp: Input| {
    let mut t = Box::new(PortTable::new());
    let mut vfs = Box::new(VfSet::new());
    let (mut m, mut mvfs): (Vec<MPort>, Vec<u16>) = (Vec::new(), Vec::new());
    let net = |n: u8| u64::from(n % 3);
    // Binds `Fill` may still do: enough to fill the table once (the scans
    // of a full table are what costs).
    let mut fill = MAX_PORTS as u16 + 16;
    for op in inp.ops.iter().take(256) {
        let (mut key, mut vf_at) = (None, None);
        match op {
            Op::Tap(p) => {
                let s = p.iter().position(|&b| b == 0).map(|n| &p[..n]);
                let ok = s.filter(|s| {
                    (1..16).contains(&s.len())
                        && *s != b"."
                        && *s != b".."
                        && s.iter()
                            .all(|&b| (0x21..0x7f).contains(&b) && b != b'/' && b != b':')
                });
                match TapName::from_payload(p) {
                    Ok(n) => {
                        let s = ok.expect("accepted a bad name");
                        assert!(n.as_bytes() == s && n.as_bytes_with_nul() == [s, &[0]].concat());
                        assert_eq!(format!("{n:?}").as_bytes(), s);
                    }
                    Err(r) => {
                        assert!(ok.is_none(), "refused a good name");
                        refused(r, EINVAL, Some(id::IFNAME));
                    }
                }
            }
            Op::Pci(p) => check_pci(p),
            &Op::PciFields(domain, bus, dev, func) => {
                let a = PciAddr {
                    domain,
                    bus,
                    dev,
                    func,
                };
                if dev <= 31 && func <= 7 {
                    canonical(a);
                } else {
                    let mut buf = [0; PCI_ADDR_MAX];
                    let n = a.write_canonical(&mut buf).len();
                    assert!(PciAddr::from_payload(&buf[..=n]).is_err());
                }
            }
            Op::Mac(p) => match GuestMac::from_payload(p) {
                Ok(g) => assert!(
                    p.len() == 6
                        && g.addr().0[..] == p[..]
                        && p[0] & 1 == 0
                        && p.iter().any(|&b| b != 0)
                ),
                Err(r) => {
                    assert!(p.len() != 6 || p[0] & 1 != 0 || p.iter().all(|&b| b == 0));
                    refused(r, EINVAL, Some(id::MAC));
                }
            },
            &Op::Bind(n, ti, vi, mac, exists) => {
                let owner = vfs.owner(vf(vi), exists);
                let want = if mvfs.contains(&(vi % 320)) {
                    VfOwner::Ours
                } else if exists {
                    VfOwner::Other
                } else {
                    VfOwner::Missing
                };
                assert_eq!(owner, want);
                bind(&mut t, &mut m, net(n), ti, vi, mac, owner);
                (key, vf_at) = (Some((net(n), ti % 320)), Some(vi % 320));
            }
            &Op::Fill(n, start, k) => {
                let k = u16::from(k).min(fill);
                fill -= k;
                for i in 0..k {
                    bind(
                        &mut t,
                        &mut m,
                        net(n),
                        start.wrapping_add(i),
                        start.wrapping_add(i),
                        None,
                        VfOwner::Ours,
                    );
                }
            }
            &Op::Unbind(n, ti) => {
                let i = m.iter().position(|p| p.net == net(n) && p.tap == ti % 320);
                match (t.unbind(NetId(net(n)), &tap(ti)), i) {
                    (Ok(p), Some(i)) => assert_eq!(p.vf, vf(m.remove(i).vf)),
                    (Err(r), None) => refused(r, ENOENT, Some(id::IFNAME)),
                    (r, i) => panic!("unbind: {:?}, model {i:?}", r.map(|p| p.vf)),
                }
                key = Some((net(n), ti % 320));
            }
            &Op::RemoveNet(n) => {
                let before = m.len();
                m.retain(|p| p.net != net(n));
                assert_eq!(t.remove_net(NetId(net(n))), before - m.len());
            }
            &Op::VfPresent(vi, up) => {
                t.vf_present(vf(vi), up);
                vf_at = Some(vi % 320);
                m.iter_mut()
                    .filter(|p| p.vf == vi % 320)
                    .for_each(|p| p.vf_up = up);
            }
            Op::SetUse(n, ti, rings, pins) => {
                let (rings, pins) = (&rings[..rings.len().min(8)], &pins[..pins.len().min(8)]);
                let mut u = rings
                    .iter()
                    .fold(TapUse::default(), |u, &f| u.with_ring(ring_blocker(f)));
                for p in pins {
                    let (o, errno) = match *p {
                        Pin::Pinned(pages, bytes) => (pinned(pages, bytes), None),
                        Pin::Memlock => (PinOutcome::Memlock, Some(ENOMEM)),
                        Pin::Failed => (PinOutcome::Failed, Some(EFAULT)),
                    };
                    assert_eq!(o.refusal().map(|r| r.errno), errno);
                    u = u.with_pin(o);
                }
                assert_eq!(u, reference_use(rings, pins));
                t.set_use(NetId(net(*n)), &tap(*ti), u);
                m.iter_mut()
                    .filter(|p| p.net == net(*n) && p.tap == ti % 320)
                    .for_each(|p| p.tap_use = u);
                key = Some((net(*n), ti % 320));
            }
            &Op::VfAdd(start, n) => {
                for i in (0..u16::from(n)).map(|i| start.wrapping_add(i) % 320) {
                    let want = mvfs.contains(&i) || mvfs.len() < MAX_PORTS;
                    if !mvfs.contains(&i) && want {
                        mvfs.push(i);
                    }
                    assert_eq!(vfs.add(vf(i)), want);
                    assert_eq!(vfs.contains(vf(i)), mvfs.contains(&i));
                }
            }
            &Op::VfRemove(vi) => {
                vfs.remove(vf(vi));
                mvfs.retain(|&v| v != vi % 320);
                assert!(!vfs.contains(vf(vi)));
            }
            &Op::Dump(n, cursor) => {
                if let Some((c, p)) = t.next_in(NetId(net(n)), usize::from(cursor)) {
                    assert!(c > usize::from(cursor) && p.net == NetId(net(n)));
                    assert!(m.iter().any(|q| q.net == net(n) && tap(q.tap) == p.tap));
                }
                let (mut c, mut seen) = (0, Vec::new());
                while let Some((next, p)) = t.next_in(NetId(net(n)), c) {
                    assert!(next > c && p.net == NetId(net(n)));
                    seen.push(p.tap);
                    c = next;
                }
                let mut want: Vec<TapName> = m
                    .iter()
                    .filter(|q| q.net == net(n))
                    .map(|q| tap(q.tap))
                    .collect();
                let key = |x: &TapName| x.as_bytes().to_vec();
                seen.sort_by_key(key);
                want.sort_by_key(key);
                assert!(seen == want, "a dump shows each port of the namespace once");
            }
        }
        assert!(t.len() == m.len() && t.len() <= MAX_PORTS && t.is_empty() == m.is_empty());
        if let Some((n, ti)) = key {
            match m.iter().find(|p| p.net == n && p.tap == ti) {
                Some(p) => check_port(&t, p),
                None => {
                    refused(
                        t.get(NetId(n), &tap(ti)).unwrap_err(),
                        ENOENT,
                        Some(id::IFNAME),
                    );
                    assert!(!t.wants_pins(NetId(n), &tap(ti)));
                }
            }
        }
        if let Some(vi) = vf_at {
            let port = m
                .iter()
                .find(|p| p.vf == vi)
                .map(|p| (NetId(p.net), tap(p.tap)));
            assert_eq!(t.port_of_vf(vf(vi)), port);
        }
        if m.len() <= 16 {
            m.iter().for_each(|p| check_port(&t, p));
        }
    }
    // Every port when few, else every 16th (all are checked when touched).
    let step = if m.len() <= 32 { 1 } else { 16 };
    m.iter().step_by(step).for_each(|p| check_port(&t, p));
    assert!(mvfs.len() <= MAX_PORTS && mvfs.iter().all(|&v| vfs.contains(vf(v))));
});
