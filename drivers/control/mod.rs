// SPDX-License-Identifier: GPL-2.0-only

//! The control plane in the kernel: the ports that the generic netlink
//! family `vhost_zc` binds (tap -> VF) and the VFs `vhost_zc_vf` drives,
//! under one global mutex (`glue::global::CONTROL`).
//!
//! - `netlink` — the family's handlers (port-bind, port-unbind, port-get);
//!   what they accept and refuse is `vzc_core::control`.
//! - `attach` — which taps vhost-net rings use (`VHOST_NET_SET_BACKEND`),
//!   bound or not, so ports follow their devices.
//!
//! VF probe and remove report here (`vf_added`, `vf_removed`); a port
//! whose VF goes is on the copy path with reason `vf-down`.

pub(crate) mod attach;
pub(crate) mod netlink;

use crate::glue::global::CONTROL;
use crate::vzc_core::control::{
    attr::{PciAddr, TapName},
    port::{NetId, PortTable, VfSet},
};
use attach::Uses;

/// The control state.
pub(crate) struct Control {
    pub(crate) ports: PortTable,
    pub(crate) vfs: VfSet,
    pub(crate) uses: Uses,
}

impl Control {
    /// Nothing bound, no VF.
    pub(crate) const fn new() -> Control {
        Control {
            ports: PortTable::new(),
            vfs: VfSet::new(),
            uses: Uses::new(),
        }
    }

    /// The port of `tap` in `net`, if bound, learns the rings using it
    /// now; its devices learn whether it wants their memory pinned.
    pub(crate) fn refresh(&mut self, net: NetId, tap: &TapName) {
        let u = self.uses.of(net, tap);
        self.ports.set_use(net, tap, u);
        let want = self.ports.wants_pins(net, tap);
        self.uses.notify(net, tap, want);
    }
}

/// `vhost_zc_vf` bound the VF at `vf`.
pub(crate) fn vf_added(vf: PciAddr) {
    let mut c = CONTROL.lock();
    if !c.vfs.add(vf) {
        kernel::pr_warn!("VF table full: this VF cannot be bound to a port\n");
        return;
    }
    c.ports.vf_present(vf, true);
    if let Some((net, tap)) = c.ports.port_of_vf(vf) {
        c.refresh(net, &tap);
    }
}

/// `vhost_zc_vf` let go of the VF at `vf` (remove, unbind, unload).
pub(crate) fn vf_removed(vf: PciAddr) {
    let mut c = CONTROL.lock();
    c.vfs.remove(vf);
    c.ports.vf_present(vf, false);
    if let Some((net, tap)) = c.ports.port_of_vf(vf) {
        c.refresh(net, &tap);
    }
}
