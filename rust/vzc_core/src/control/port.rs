// SPDX-License-Identifier: GPL-2.0-only
//! The ports: which tap is bound to which VF, per network namespace.
//!
//! A port is keyed by (network namespace, tap name): QEMU passes the tap as
//! the vhost-net backend, and names are unique only within a namespace. A VF
//! serves at most one port (its MAC becomes the guest's, and its queues are
//! the guest's). The table has a fixed capacity, [`MAX_PORTS`]: no
//! allocation under the lock, and a bind that would exceed it is refused
//! with `ENOSPC`.
//!
//! What the table does not know, the caller finds out first and passes in:
//! whether the tap exists in the namespace (the kernel looks it up) and
//! what drives the VF ([`VfOwner`]).

use super::super::errno::{EBUSY, EEXIST, EFAULT, ENODEV, ENOENT, ENOMEM, ENOSPC, EOPNOTSUPP};
use super::super::net::eth::MacAddr;
use super::super::vhost::abi::{
    VIRTIO_F_ACCESS_PLATFORM, VIRTIO_F_VERSION_1, VIRTIO_NET_F_MRG_RXBUF,
};
use super::attr::{id, GuestMac, PciAddr, TapName};
use super::Refusal;

/// Ports per host. More than the VFs of several 82576 PFs (7 each) and of
/// the larger SR-IOV NICs users attach to one host's VMs.
pub const MAX_PORTS: usize = 256;

/// A network namespace, by its cookie (`net->net_cookie`: unique for the
/// life of the system, never reused, unlike the `struct net` address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetId(pub u64);

/// What drives the PCI function named by a bind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VfOwner {
    /// No PCI device at that address.
    Missing,
    /// A PCI device, not bound to `vhost_zc_vf`.
    Other,
    /// Bound to `vhost_zc_vf`.
    Ours,
}

/// `enum vhost_zc_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The tap copy path.
    Copy = 0,
    /// The VF writes into guest memory.
    ZeroCopy = 1,
}

/// `enum vhost_zc_copy_reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyReason {
    /// Not on the copy path.
    None = 0,
    /// No vhost-net device has the tap as its backend.
    Detached = 1,
    /// Pinning would exceed the owner's RLIMIT_MEMLOCK.
    Memlock = 2,
    /// Guest memory cannot be pinned long-term.
    PinFailed = 3,
    /// The VF is resetting, stopping or gone.
    VfDown = 4,
    /// No zero-copy layout for the negotiated features.
    Features = 5,
    /// Attached and eligible, but vhost_zc cannot run it zero-copy: a
    /// device behind a vIOMMU (IOTLB), or, in this version, any device
    /// (the zero-copy data path is not merged yet).
    Unsupported = 6,
}

/// How pinning a device's guest memory for its port went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinOutcome {
    /// Every page of the memory table is pinned: `pages` pages, of which
    /// `memlock_bytes` are charged to the owner's RLIMIT_MEMLOCK.
    Pinned {
        /// Pages pinned.
        pages: u64,
        /// Bytes charged.
        memlock_bytes: u64,
    },
    /// The owner's RLIMIT_MEMLOCK is too small.
    Memlock,
    /// The memory cannot be pinned long-term.
    Failed,
}

impl PinOutcome {
    /// How a bind that found a running device answers when the device
    /// could not pin: the bind is undone, the device stays on the copy
    /// path. `None` if it pinned.
    pub fn refusal(self) -> Option<Refusal> {
        match self {
            PinOutcome::Pinned { .. } => None,
            PinOutcome::Memlock => Some(Refusal::whole(
                ENOMEM,
                c"pinning the guest memory would exceed the VMM's RLIMIT_MEMLOCK (raise it, or give the VMM CAP_IPC_LOCK)",
            )),
            PinOutcome::Failed => Some(Refusal::whole(
                EFAULT,
                c"the guest memory cannot be pinned long-term (e.g. a shared mapping of a file on a writeback file system)",
            )),
        }
    }
}

/// What the vhost-net rings using one tap allow (the glue sums it over
/// every ring whose backend is the tap).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TapUse {
    /// vhost-net rings with the tap as their backend.
    pub rings: u32,
    /// The first reason, in [`CopyReason`] order, that one of those rings
    /// cannot go zero-copy (its features: [`ring_blocker`]).
    pub blocker: Option<CopyReason>,
    /// Pages pinned for the port by the devices using the tap.
    pub pinned_pages: u64,
    /// Bytes of those charged to their owners' RLIMIT_MEMLOCK.
    pub memlock_bytes: u64,
    /// A device could not pin: `memlock` or `pin-failed`.
    pub pin_blocker: Option<CopyReason>,
}

fn first(a: Option<CopyReason>, b: Option<CopyReason>) -> Option<CopyReason> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if (a as u32) <= (b as u32) { a } else { b }),
        (a, b) => a.or(b),
    }
}

impl TapUse {
    /// This use plus a device's pinning outcome.
    pub fn with_pin(self, pin: PinOutcome) -> TapUse {
        let mut u = self;
        match pin {
            PinOutcome::Pinned {
                pages,
                memlock_bytes,
            } => {
                u.pinned_pages = u.pinned_pages.saturating_add(pages);
                u.memlock_bytes = u.memlock_bytes.saturating_add(memlock_bytes);
            }
            PinOutcome::Memlock => u.pin_blocker = first(u.pin_blocker, Some(CopyReason::Memlock)),
            PinOutcome::Failed => u.pin_blocker = first(u.pin_blocker, Some(CopyReason::PinFailed)),
        }
        u
    }

    /// This use plus one more ring, which is blocked by `blocker`.
    pub fn with_ring(self, blocker: Option<CopyReason>) -> TapUse {
        TapUse {
            rings: self.rings.saturating_add(1),
            blocker: first(self.blocker, blocker),
            ..self
        }
    }
}

/// Why a ring with negotiated `features` cannot be zero-copy, if it
/// cannot. The host writes a 12-byte virtio-net header in front of each
/// frame the VF placed (`zc::place`): the header is 12 bytes only with
/// VIRTIO_NET_F_MRG_RXBUF or VIRTIO_F_VERSION_1 (10 otherwise). With
/// VIRTIO_F_ACCESS_PLATFORM buffer addresses are IOVAs of a vIOMMU that
/// can change under a posted buffer, which vhost_zc does not follow.
pub fn ring_blocker(features: u64) -> Option<CopyReason> {
    let has = |b: u32| features & (1u64 << b) != 0;
    if !has(VIRTIO_NET_F_MRG_RXBUF) && !has(VIRTIO_F_VERSION_1) {
        Some(CopyReason::Features)
    } else if has(VIRTIO_F_ACCESS_PLATFORM) {
        Some(CopyReason::Unsupported)
    } else {
        None
    }
}

/// `enum vhost_zc_mac_source`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MacSource {
    /// Not known yet.
    None = 0,
    /// Given with port-bind.
    Configured = 1,
    /// Learned from the guest's first transmitted frame.
    Learned = 2,
}

/// The `stats` nest, in attribute order (`VHOST_ZC_A_STATS_*` = index + 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortStats(pub [u64; STATS]);

/// Counters in the `stats` nest.
pub const STATS: usize = 11;
/// `pinned_pages` in [`PortStats`].
const STAT_PINNED_PAGES: usize = 9;
/// `memlock_bytes` in [`PortStats`].
const STAT_MEMLOCK_BYTES: usize = 10;

/// One port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Port {
    /// Namespace of the tap (and of the binder).
    pub net: NetId,
    /// The tap.
    pub tap: TapName,
    /// The VF.
    pub vf: PciAddr,
    /// The guest's MAC, if known.
    pub mac: Option<MacAddr>,
    /// Where `mac` comes from.
    pub mac_source: MacSource,
    /// What moves the packets now.
    pub mode: Mode,
    /// Why `mode` is `Copy`.
    pub copy_reason: CopyReason,
    /// Queue pairs on the VF.
    pub queue_pairs: u32,
    /// The vhost-net rings using the tap.
    pub tap_use: TapUse,
    /// The VF is driven by `vhost_zc_vf` (else `vf-down`).
    pub vf_up: bool,
    /// Counters since bind.
    pub stats: PortStats,
}

impl Port {
    /// Mode and reason from the facts, most actionable reason first: the
    /// VF, then whether a device uses the tap, then what its rings allow.
    /// No port is zero-copy yet: with every precondition met the reason is
    /// `unsupported` until the data path lands (Documentation/zero-copy.rst).
    fn update(&mut self) {
        self.mode = Mode::Copy;
        self.copy_reason = if !self.vf_up {
            CopyReason::VfDown
        } else if self.tap_use.rings == 0 {
            CopyReason::Detached
        } else {
            self.tap_use
                .blocker
                .or(self.tap_use.pin_blocker)
                .unwrap_or(CopyReason::Unsupported)
        };
        self.stats.0[STAT_PINNED_PAGES] = self.tap_use.pinned_pages;
        self.stats.0[STAT_MEMLOCK_BYTES] = self.tap_use.memlock_bytes;
    }

    /// Whether the devices using the tap should hold their guest memory
    /// pinned: the VF is there and the rings' features allow zero-copy
    /// (a failed pin is retried on the next change).
    pub fn wants_pins(&self) -> bool {
        self.vf_up && self.tap_use.blocker.is_none()
    }
}

/// The ports of the host.
pub struct PortTable {
    slots: [Option<Port>; MAX_PORTS],
}

impl Default for PortTable {
    fn default() -> Self {
        Self::new()
    }
}

impl PortTable {
    /// No ports.
    pub const fn new() -> PortTable {
        PortTable {
            slots: [const { None }; MAX_PORTS],
        }
    }

    fn find(&self, net: NetId, tap: &TapName) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| matches!(s, Some(p) if p.net == net && p.tap == *tap))
    }

    /// Binds `tap` of namespace `net` to the VF `vf`. The tap has been
    /// found in `net`; `owner` says what drives `vf`. A new port is on the
    /// copy path, `detached`, until a vhost-net device uses the tap.
    pub fn bind(
        &mut self,
        net: NetId,
        tap: TapName,
        vf: PciAddr,
        mac: Option<GuestMac>,
        owner: VfOwner,
    ) -> Result<&Port, Refusal> {
        if self.find(net, &tap).is_some() {
            return Err(Refusal::at(
                EEXIST,
                id::IFNAME,
                c"tap is bound already (unbind it first)",
            ));
        }
        match owner {
            VfOwner::Missing => {
                return Err(Refusal::at(
                    ENODEV,
                    id::VF,
                    c"no PCI device at this address",
                ))
            }
            VfOwner::Other => {
                return Err(Refusal::at(
                    EOPNOTSUPP,
                    id::VF,
                    c"the PCI device is not driven by vhost_zc_vf (bind it to that driver first)",
                ))
            }
            VfOwner::Ours => {}
        }
        if self.slots.iter().flatten().any(|p| p.vf == vf) {
            return Err(Refusal::at(
                EBUSY,
                id::VF,
                c"the VF is bound to another tap",
            ));
        }
        let free = self
            .slots
            .iter()
            .position(Option::is_none)
            .ok_or(Refusal::whole(ENOSPC, c"the port table is full"))?;
        let (mac, mac_source) = match mac {
            Some(m) => (Some(m.addr()), MacSource::Configured),
            None => (None, MacSource::None),
        };
        Ok(self.slots[free].insert(Port {
            net,
            tap,
            vf,
            mac,
            mac_source,
            mode: Mode::Copy,
            copy_reason: CopyReason::Detached,
            queue_pairs: 0,
            tap_use: TapUse::default(),
            vf_up: true,
            stats: PortStats::default(),
        }))
    }

    /// Removes the port of `tap` in `net`.
    pub fn unbind(&mut self, net: NetId, tap: &TapName) -> Result<Port, Refusal> {
        let i = self.find(net, tap).ok_or(NOT_BOUND)?;
        // find() returned a filled slot.
        self.slots[i].take().ok_or(NOT_BOUND)
    }

    /// The port of `tap` in `net`.
    pub fn get(&self, net: NetId, tap: &TapName) -> Result<&Port, Refusal> {
        let i = self.find(net, tap).ok_or(NOT_BOUND)?;
        self.slots[i].as_ref().ok_or(NOT_BOUND)
    }

    /// For a dump: the first port of `net` at slot `cursor` or later, with
    /// the cursor to continue from after it. Slots keep their place while
    /// other ports come and go, so a dump split over several messages shows
    /// every port that stayed bound throughout exactly once.
    pub fn next_in(&self, net: NetId, cursor: usize) -> Option<(usize, &Port)> {
        self.slots
            .iter()
            .enumerate()
            .skip(cursor)
            .find_map(|(i, s)| s.as_ref().filter(|p| p.net == net).map(|p| (i + 1, p)))
    }

    /// The namespace `net` is gone: its ports go with it. Returns how many.
    pub fn remove_net(&mut self, net: NetId) -> usize {
        let mut n = 0;
        for s in self.slots.iter_mut() {
            if matches!(s, Some(p) if p.net == net) {
                *s = None;
                n += 1;
            }
        }
        n
    }

    /// The VF `vf` left (or came back to) `vhost_zc_vf`: its port, if any,
    /// is on the copy path because of it (or detached again).
    pub fn vf_present(&mut self, vf: PciAddr, present: bool) {
        for p in self.slots.iter_mut().flatten().filter(|p| p.vf == vf) {
            p.vf_up = present;
            p.update();
        }
    }

    /// The port `vf` serves, as (namespace, tap).
    pub fn port_of_vf(&self, vf: PciAddr) -> Option<(NetId, TapName)> {
        self.slots
            .iter()
            .flatten()
            .find(|p| p.vf == vf)
            .map(|p| (p.net, p.tap))
    }

    /// The rings using `tap` of `net` are now `tap_use` (a device set or
    /// dropped a backend, or renegotiated features); nothing if the tap
    /// is not bound.
    pub fn set_use(&mut self, net: NetId, tap: &TapName, tap_use: TapUse) {
        if let Some(i) = self.find(net, tap) {
            if let Some(p) = self.slots[i].as_mut() {
                p.tap_use = tap_use;
                p.update();
            }
        }
    }

    /// Whether the devices using `tap` of `net` should pin (false if the
    /// tap is not bound).
    pub fn wants_pins(&self, net: NetId, tap: &TapName) -> bool {
        self.find(net, tap)
            .and_then(|i| self.slots[i].as_ref())
            .is_some_and(Port::wants_pins)
    }

    /// Number of ports.
    pub fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    /// No ports.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The VFs `vhost_zc_vf` drives now (probe adds, remove takes away), so a
/// bind can tell "ours" from "some other driver's".
pub struct VfSet {
    vfs: [Option<PciAddr>; MAX_PORTS],
}

impl Default for VfSet {
    fn default() -> Self {
        Self::new()
    }
}

impl VfSet {
    /// None.
    pub const fn new() -> VfSet {
        VfSet {
            vfs: [const { None }; MAX_PORTS],
        }
    }

    /// A VF was probed. `false` if the set is full: the VF works, but no
    /// port can use it (the probe logs it).
    pub fn add(&mut self, vf: PciAddr) -> bool {
        if self.contains(vf) {
            return true;
        }
        match self.vfs.iter_mut().find(|s| s.is_none()) {
            Some(s) => {
                *s = Some(vf);
                true
            }
            None => false,
        }
    }

    /// A VF was removed.
    pub fn remove(&mut self, vf: PciAddr) {
        for s in self.vfs.iter_mut().filter(|s| **s == Some(vf)) {
            *s = None;
        }
    }

    /// Whether `vf` is ours.
    pub fn contains(&self, vf: PciAddr) -> bool {
        self.vfs.contains(&Some(vf))
    }

    /// What drives `vf`, given whether a PCI device exists there.
    pub fn owner(&self, vf: PciAddr, pci_device_exists: bool) -> VfOwner {
        if self.contains(vf) {
            VfOwner::Ours
        } else if pci_device_exists {
            VfOwner::Other
        } else {
            VfOwner::Missing
        }
    }
}

const NOT_BOUND: Refusal = Refusal::at(ENOENT, id::IFNAME, c"tap is not bound");

#[cfg(test)]
mod tests {
    use super::*;
    use std::boxed::Box;

    const N1: NetId = NetId(1);
    const N2: NetId = NetId(2);

    fn tap(s: &str) -> TapName {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        TapName::from_payload(&v).unwrap()
    }

    fn vf(f: u8) -> PciAddr {
        PciAddr {
            domain: 0,
            bus: 0,
            dev: 2,
            func: f,
        }
    }

    fn mac() -> GuestMac {
        GuestMac::from_payload(&[0x52, 0x54, 0, 0, 0, 1]).unwrap()
    }

    #[test]
    fn bind_get_unbind() {
        let mut t = Box::new(PortTable::new());
        let p = *t
            .bind(N1, tap("tap0"), vf(1), Some(mac()), VfOwner::Ours)
            .unwrap();
        assert_eq!((p.mode, p.copy_reason), (Mode::Copy, CopyReason::Detached));
        assert_eq!(
            (p.mac, p.mac_source),
            (Some(mac().addr()), MacSource::Configured)
        );
        let q = *t.bind(N1, tap("tap1"), vf(2), None, VfOwner::Ours).unwrap();
        assert_eq!((q.mac, q.mac_source), (None, MacSource::None));
        assert_eq!(t.get(N1, &tap("tap0")).unwrap().vf, vf(1));
        assert_eq!(t.len(), 2);
        assert_eq!(t.unbind(N1, &tap("tap0")).unwrap().vf, vf(1));
        assert_eq!(t.get(N1, &tap("tap0")).unwrap_err().errno, ENOENT);
        assert_eq!(t.unbind(N1, &tap("tap0")).unwrap_err().errno, ENOENT);
        // The VF is free again.
        t.bind(N1, tap("tap9"), vf(1), None, VfOwner::Ours).unwrap();
    }

    #[test]
    fn refusals_change_nothing() {
        let mut t = Box::new(PortTable::new());
        t.bind(N1, tap("tap0"), vf(1), None, VfOwner::Ours).unwrap();
        let cases = [
            (tap("tap0"), vf(2), VfOwner::Ours, EEXIST, Some(id::IFNAME)),
            (tap("tap1"), vf(2), VfOwner::Missing, ENODEV, Some(id::VF)),
            (tap("tap1"), vf(2), VfOwner::Other, EOPNOTSUPP, Some(id::VF)),
            (tap("tap1"), vf(1), VfOwner::Ours, EBUSY, Some(id::VF)),
        ];
        for (tp, v, o, errno, attr) in cases {
            let r = t.bind(N1, tp, v, None, o).unwrap_err();
            assert_eq!((r.errno, r.attr), (errno, attr));
            assert!(!r.msg.to_bytes().is_empty());
            assert_eq!(t.len(), 1);
            assert_eq!(t.get(N1, &tap("tap0")).unwrap().vf, vf(1));
        }
        // A VF serves one port in any namespace.
        let r = t
            .bind(N2, tap("tap1"), vf(1), None, VfOwner::Ours)
            .unwrap_err();
        assert_eq!(r.errno, EBUSY);
    }

    #[test]
    fn namespaces_are_separate() {
        let mut t = Box::new(PortTable::new());
        t.bind(N1, tap("tap0"), vf(1), None, VfOwner::Ours).unwrap();
        t.bind(N2, tap("tap0"), vf(2), None, VfOwner::Ours).unwrap();
        assert_eq!(t.get(N2, &tap("tap0")).unwrap().vf, vf(2));
        assert_eq!(t.unbind(N2, &tap("tap0")).unwrap().vf, vf(2));
        assert_eq!(t.get(N1, &tap("tap0")).unwrap().vf, vf(1));
        t.bind(N2, tap("a"), vf(3), None, VfOwner::Ours).unwrap();
        t.bind(N2, tap("b"), vf(4), None, VfOwner::Ours).unwrap();
        assert_eq!(t.remove_net(N2), 2);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn dump_walks_each_port_of_a_namespace_once() {
        let mut t = Box::new(PortTable::new());
        for i in 0..6u8 {
            let net = if i % 2 == 0 { N1 } else { N2 };
            let name = format!("t{i}");
            t.bind(net, tap(&name), vf(i), None, VfOwner::Ours).unwrap();
        }
        let mut seen = Vec::new();
        let mut cursor = 0;
        while let Some((next, p)) = t.next_in(N1, cursor) {
            seen.push(format!("{:?}", p.tap));
            cursor = next;
            // A port coming and going mid-dump does not repeat the others.
            if seen.len() == 1 {
                t.unbind(N2, &tap("t1")).unwrap();
                t.bind(N2, tap("new"), vf(7), None, VfOwner::Ours).unwrap();
            }
        }
        assert_eq!(seen, ["t0", "t2", "t4"]);
        assert!(t.next_in(NetId(3), 0).is_none());
    }

    #[test]
    fn full_table_refuses() {
        let mut t = Box::new(PortTable::new());
        for i in 0..MAX_PORTS {
            let name = format!("t{i}");
            let v = PciAddr {
                domain: 0,
                bus: (i / 8) as u8,
                dev: 0,
                func: (i % 8) as u8,
            };
            t.bind(N1, tap(&name), v, None, VfOwner::Ours).unwrap();
        }
        let r = t.bind(N1, tap("one-more"), vf(0), None, VfOwner::Ours);
        // vf(0) = 0000:00:02.0 is free (bus 0 dev 0 only was used).
        assert_eq!(r.unwrap_err().errno, ENOSPC);
        assert_eq!(t.len(), MAX_PORTS);
    }

    #[test]
    fn vf_set() {
        let mut s = Box::new(VfSet::new());
        assert_eq!(s.owner(vf(1), false), VfOwner::Missing);
        assert_eq!(s.owner(vf(1), true), VfOwner::Other);
        assert!(s.add(vf(1)));
        assert!(s.add(vf(1)));
        assert_eq!(s.owner(vf(1), true), VfOwner::Ours);
        s.remove(vf(1));
        assert_eq!(s.owner(vf(1), true), VfOwner::Other);
        for i in 0..MAX_PORTS {
            let v = PciAddr {
                domain: 1,
                bus: (i / 8) as u8,
                dev: 0,
                func: (i % 8) as u8,
            };
            assert!(s.add(v));
        }
        assert!(!s.add(vf(2)));
        assert!(!s.contains(vf(2)));
    }

    #[test]
    fn vf_leaving_puts_its_port_on_copy() {
        let mut t = Box::new(PortTable::new());
        t.bind(N1, tap("tap0"), vf(1), None, VfOwner::Ours).unwrap();
        t.vf_present(vf(1), false);
        assert_eq!(
            t.get(N1, &tap("tap0")).unwrap().copy_reason,
            CopyReason::VfDown
        );
        t.vf_present(vf(1), true);
        assert_eq!(
            t.get(N1, &tap("tap0")).unwrap().copy_reason,
            CopyReason::Detached
        );
    }

    #[test]
    fn ring_blockers() {
        let b = |n: u32| 1u64 << n;
        assert_eq!(ring_blocker(0), Some(CopyReason::Features));
        assert_eq!(ring_blocker(b(VIRTIO_NET_F_MRG_RXBUF)), None);
        assert_eq!(ring_blocker(b(VIRTIO_F_VERSION_1)), None);
        assert_eq!(
            ring_blocker(b(VIRTIO_F_VERSION_1) | b(VIRTIO_F_ACCESS_PLATFORM)),
            Some(CopyReason::Unsupported)
        );
        // The header comes first: a 10-byte header behind a vIOMMU says features.
        assert_eq!(
            ring_blocker(b(VIRTIO_F_ACCESS_PLATFORM)),
            Some(CopyReason::Features)
        );
        let u = TapUse::default()
            .with_ring(None)
            .with_ring(Some(CopyReason::Unsupported))
            .with_ring(Some(CopyReason::Features));
        assert_eq!(u.rings, 3);
        assert_eq!(u.blocker, Some(CopyReason::Features));
    }

    #[test]
    fn reason_follows_vf_and_use() {
        let mut t = Box::new(PortTable::new());
        t.bind(N1, tap("tap0"), vf(1), None, VfOwner::Ours).unwrap();
        let reason = |t: &PortTable| t.get(N1, &tap("tap0")).unwrap().copy_reason;
        let two = TapUse::default().with_ring(None).with_ring(None);
        t.set_use(N1, &tap("tap0"), two);
        assert_eq!(reason(&t), CopyReason::Unsupported);
        assert_eq!(t.get(N1, &tap("tap0")).unwrap().tap_use.rings, 2);
        t.set_use(N1, &tap("tap0"), two.with_ring(Some(CopyReason::Features)));
        assert_eq!(reason(&t), CopyReason::Features);
        // The VF outranks everything; its return restores the rest.
        t.vf_present(vf(1), false);
        assert_eq!(reason(&t), CopyReason::VfDown);
        t.set_use(N1, &tap("tap0"), two);
        assert_eq!(reason(&t), CopyReason::VfDown);
        t.vf_present(vf(1), true);
        assert_eq!(reason(&t), CopyReason::Unsupported);
        t.set_use(N1, &tap("tap0"), TapUse::default());
        assert_eq!(reason(&t), CopyReason::Detached);
        // Another namespace's tap of the same name is another port.
        t.set_use(N2, &tap("tap0"), two);
        assert_eq!(reason(&t), CopyReason::Detached);
        assert_eq!(t.get(N1, &tap("tap0")).unwrap().mode, Mode::Copy);
    }

    #[test]
    fn pins_follow_eligibility() {
        let mut t = Box::new(PortTable::new());
        assert!(!t.wants_pins(N1, &tap("tap0")), "unbound");
        t.bind(N1, tap("tap0"), vf(1), None, VfOwner::Ours).unwrap();
        let one = TapUse::default().with_ring(None);
        t.set_use(N1, &tap("tap0"), one);
        assert!(t.wants_pins(N1, &tap("tap0")));
        let pinned = one.with_pin(PinOutcome::Pinned {
            pages: 256,
            memlock_bytes: 1 << 20,
        });
        t.set_use(N1, &tap("tap0"), pinned);
        let p = *t.get(N1, &tap("tap0")).unwrap();
        assert_eq!(p.copy_reason, CopyReason::Unsupported);
        assert_eq!((p.stats.0[9], p.stats.0[10]), (256, 1 << 20));
        // A failed pin is the reason, and the port still wants pins (retry).
        t.set_use(N1, &tap("tap0"), one.with_pin(PinOutcome::Memlock));
        assert_eq!(
            t.get(N1, &tap("tap0")).unwrap().copy_reason,
            CopyReason::Memlock
        );
        assert!(t.wants_pins(N1, &tap("tap0")));
        let both = one
            .with_pin(PinOutcome::Failed)
            .with_pin(PinOutcome::Memlock);
        assert_eq!(both.pin_blocker, Some(CopyReason::Memlock));
        t.set_use(N1, &tap("tap0"), one.with_pin(PinOutcome::Failed));
        assert_eq!(
            t.get(N1, &tap("tap0")).unwrap().copy_reason,
            CopyReason::PinFailed
        );
        // Features or the VF going: no pins wanted.
        t.set_use(N1, &tap("tap0"), one.with_ring(Some(CopyReason::Features)));
        assert!(!t.wants_pins(N1, &tap("tap0")));
        t.set_use(N1, &tap("tap0"), one);
        t.vf_present(vf(1), false);
        assert!(!t.wants_pins(N1, &tap("tap0")));
        assert_eq!(t.port_of_vf(vf(1)), Some((N1, tap("tap0"))));
        assert_eq!(t.port_of_vf(vf(2)), None);
        assert_eq!(PinOutcome::Memlock.refusal().unwrap().errno, ENOMEM);
        assert_eq!(PinOutcome::Failed.refusal().unwrap().errno, EFAULT);
        let ok = PinOutcome::Pinned {
            pages: 1,
            memlock_bytes: 4096,
        };
        assert_eq!(ok.refusal(), None);
        assert_eq!(t.get(N1, &tap("tap0")).unwrap().stats.0[9], 0);
    }
}
