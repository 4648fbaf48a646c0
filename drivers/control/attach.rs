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

use kernel::{prelude::*, sync::Arc};

use crate::glue::global::CONTROL;
use crate::vzc_core::control::{
    attr::TapName,
    port::{ring_blocker, CopyReason, NetId, PinOutcome, TapUse},
};

/// Told when the port of a device's tap changes whether it wants the
/// device's memory pinned (bind, unbind, the VF, features of a ring).
/// Called under the control mutex: it only schedules work.
pub(crate) trait Watch: Send + Sync {
    fn port_changed(&self);
}

/// One ring using one tap.
pub(crate) struct Use {
    net: NetId,
    tap: TapName,
    /// Which attachment (unique for the module's life).
    id: u64,
    /// What this ring's features forbid.
    blocker: Option<CopyReason>,
    /// The device's pinning for the port (its RX ring reports it).
    pin: Option<PinOutcome>,
    /// The device to tell (its RX ring's attachment), and what it was
    /// last told the port wants.
    watch: Option<Arc<dyn Watch>>,
    told: bool,
    /// Times told, and the last of those the device has answered with a
    /// `pin` (a bind waits for the answer).
    asked: u64,
    answered: u64,
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
            .fold(TapUse::default(), |acc, u| {
                let acc = acc.with_ring(u.blocker);
                match u.pin {
                    Some(p) => acc.with_pin(p),
                    None => acc,
                }
            })
    }

    /// Tells the devices using `tap` of `net` whose port now wants pins
    /// other than they were last told.
    pub(crate) fn notify(&mut self, net: NetId, tap: &TapName, want: bool) {
        for u in self.v.iter_mut() {
            if u.net == net && u.tap == *tap && u.told != want {
                if let Some(w) = &u.watch {
                    u.told = want;
                    u.asked += 1;
                    w.port_changed();
                }
            }
        }
    }

    /// Whether a device using `tap` of `net` holds pins for it or is to.
    pub(crate) fn watched(&self, net: NetId, tap: &TapName) -> bool {
        self.v
            .iter()
            .any(|u| u.net == net && u.tap == *tap && u.watch.is_some())
    }

    /// The devices' answer to the last change of the port of `tap` in
    /// `net`: `None` while one has not answered; else the first failure
    /// (memlock before pin-failed), or `Some(None)` if every one pinned.
    pub(crate) fn answer(&self, net: NetId, tap: &TapName) -> Option<Option<PinOutcome>> {
        let mut failure = None;
        for u in self
            .v
            .iter()
            .filter(|u| u.net == net && u.tap == *tap && u.watch.is_some())
        {
            if u.answered < u.asked {
                return None;
            }
            match u.pin {
                Some(p @ PinOutcome::Memlock) => failure = Some(p),
                Some(p @ PinOutcome::Failed) if failure.is_none() => failure = Some(p),
                _ => {}
            }
        }
        Some(failure)
    }

    /// Forgets every use in `net` (its namespace is gone; the rings keep
    /// their attachments, which then find nothing to remove).
    pub(crate) fn remove_net(&mut self, net: NetId) {
        self.v.retain(|u| u.net != net);
        self.free_if_empty();
    }

    /// The vector lives in a static that is never dropped: its buffer is
    /// freed whenever no ring is registered (always so at module unload,
    /// when no device is left).
    fn free_if_empty(&mut self) {
        if self.v.is_empty() {
            self.v = KVec::new();
        }
    }
}

/// A ring's use of a tap: registered while it lives.
pub(crate) struct Attachment {
    net: NetId,
    tap: TapName,
    id: u64,
}

impl Attachment {
    /// Registers a ring with backend `tap` of `net` and acked `features`;
    /// `watch` (the RX ring's) is told when the port's wish for pins
    /// changes.
    pub(crate) fn new(
        net: NetId,
        tap: TapName,
        features: u64,
        watch: Option<Arc<dyn Watch>>,
    ) -> Result<Attachment> {
        let mut c = CONTROL.lock();
        let id = c.uses.next_id;
        c.uses.next_id += 1;
        c.uses.v.push(
            Use {
                net,
                tap,
                id,
                blocker: ring_blocker(features),
                pin: None,
                watch,
                told: false,
                asked: 0,
                answered: 0,
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

impl Attachment {
    /// Whether the tap's port wants the device's memory pinned now, and
    /// the request this answers (for [`Attachment::set_pin`]).
    pub(crate) fn wants_pins(&self) -> (bool, u64) {
        let c = CONTROL.lock();
        let asked = c
            .uses
            .v
            .iter()
            .find(|u| u.id == self.id)
            .map_or(0, |u| u.asked);
        (c.ports.wants_pins(self.net, &self.tap), asked)
    }

    /// The device's pinning for the port now (`None`: nothing pinned),
    /// answering request `asked` (from [`Attachment::wants_pins`]).
    pub(crate) fn set_pin(&self, pin: Option<PinOutcome>, asked: u64) {
        let mut c = CONTROL.lock();
        if let Some(u) = c.uses.v.iter_mut().find(|u| u.id == self.id) {
            u.pin = pin;
            u.answered = u.answered.max(asked);
        }
        c.refresh(self.net, &self.tap);
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        let mut c = CONTROL.lock();
        c.uses.v.retain(|u| u.id != self.id);
        c.uses.free_if_empty();
        c.refresh(self.net, &self.tap);
    }
}
