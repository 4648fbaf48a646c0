// SPDX-License-Identifier: GPL-2.0-only

//! Which taps the vhost-net rings use: every ring whose backend is a tap
//! holds an [`Attachment`], registered here whether or not the tap is
//! bound, so that a port bound while its device runs sees the device at
//! once ("on the fly"), and a port's `rings` and copy reason follow
//! `VHOST_NET_SET_BACKEND`, `VHOST_SET_FEATURES` and the device's end.
//!
//! The registry is a vector under `CONTROL`, one entry per ring: it grows
//! in `SET_BACKEND` (process context, may fail with `ENOMEM`, which
//! upstream's `vhost_net_set_backend` can return too) and never on a data
//! path.

use kernel::prelude::*;

use crate::glue::global::CONTROL;
use crate::vzc_core::control::{
    attr::TapName,
    port::{ring_blocker, CopyReason, NetId, TapUse},
};

/// One ring using one tap.
pub(crate) struct Use {
    net: NetId,
    tap: TapName,
    /// Which attachment (unique for the module's life).
    id: u64,
    /// What this ring's features forbid.
    blocker: Option<CopyReason>,
}

/// The registry.
pub(crate) struct Uses {
    v: KVec<Use>,
    next_id: u64,
}

impl Uses {
    pub(crate) const fn new() -> Uses {
        Uses {
            v: KVec::new(),
            next_id: 0,
        }
    }

    /// The rings using `tap` of `net`.
    pub(crate) fn of(&self, net: NetId, tap: &TapName) -> TapUse {
        self.v
            .iter()
            .filter(|u| u.net == net && u.tap == *tap)
            .fold(TapUse::default(), |acc, u| acc.with_ring(u.blocker))
    }

    /// Forgets every use in `net` (its namespace is gone; the rings keep
    /// their attachments, which then find nothing to remove).
    pub(crate) fn remove_net(&mut self, net: NetId) {
        self.v.retain(|u| u.net != net);
    }
}

/// A ring's use of a tap: registered while it lives.
pub(crate) struct Attachment {
    net: NetId,
    tap: TapName,
    id: u64,
}

impl Attachment {
    /// Registers a ring with backend `tap` of `net` and acked `features`.
    pub(crate) fn new(net: NetId, tap: TapName, features: u64) -> Result<Attachment> {
        let mut c = CONTROL.lock();
        let id = c.uses.next_id;
        c.uses.next_id += 1;
        c.uses.v.push(
            Use {
                net,
                tap,
                id,
                blocker: ring_blocker(features),
            },
            GFP_KERNEL,
        )?;
        c.refresh(net, &tap);
        Ok(Attachment { net, tap, id })
    }

    /// The ring's device acked `features` (renegotiation while attached).
    pub(crate) fn set_features(&self, features: u64) {
        let mut c = CONTROL.lock();
        if let Some(u) = c.uses.v.iter_mut().find(|u| u.id == self.id) {
            u.blocker = ring_blocker(features);
        }
        c.refresh(self.net, &self.tap);
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        let mut c = CONTROL.lock();
        c.uses.v.retain(|u| u.id != self.id);
        c.refresh(self.net, &self.tap);
    }
}
