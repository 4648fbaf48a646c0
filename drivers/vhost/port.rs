// SPDX-License-Identifier: GPL-2.0-only

//! How a device follows its tap's port (`crate::control`): while the port
//! wants it (bound, VF up, features with a zero-copy layout), the device
//! holds its memory table pinned (`crate::zc::pinned_mem`) and tells the
//! port what it holds or why it could not.
//!
//! Pins are taken and dropped only in the owner's context, so that the
//! owner's RLIMIT_MEMLOCK is what is charged: its ioctls (SET_BACKEND,
//! SET_MEM_TABLE, SET_FEATURES from the owner) do it at once; a change
//! from the control plane (bind, unbind, the VF) sets a bit for the
//! device's worker, a thread of the owner.

use core::sync::atomic::Ordering;

use super::backend::Backend;
use super::dev::{Dev, RX};
use super::worker::{Kicker, PENDING_PORT};
use crate::control::attach::{Attachment, Watch};
use crate::zc::pinned_mem::{self, PinnedMem};

impl Watch for Kicker {
    fn port_changed(&self) {
        if self.pending.fetch_or(PENDING_PORT, Ordering::AcqRel) == 0 {
            self.task.wake();
        }
    }
}

impl Dev {
    /// The RX ring's registration with the control plane, if its backend
    /// is a tun tap.
    fn rx_attachment(&self) -> Option<&Attachment> {
        match &self.vqs[RX].backend {
            Some(Backend::Tap { tap_use, .. }) => tap_use.as_ref(),
            None => None,
        }
    }

    /// Pins or unpins as the port wants, and reports to it. Pins only in
    /// the owner's context (its ioctls, its worker); `repin`: the memory
    /// table changed, so pins of the old one go first.
    pub(super) fn follow_port(&mut self, repin: bool) {
        if repin {
            self.pins = None;
        }
        let (want, asked) = self
            .rx_attachment()
            .map_or((false, 0), Attachment::wants_pins);
        let mut outcome = None;
        // Pinning charges the current task: only the owner (or its worker
        // thread, which shares its mm) may; anyone else leaves it.
        if want && self.pins.is_none() && self.check_owner().is_ok() {
            if let Some(mm) = self.owner.as_ref() {
                match PinnedMem::pin(mm, &self.mem) {
                    Ok(p) => self.pins = Some(p),
                    Err(e) => outcome = Some(pinned_mem::failed(e)),
                }
            }
        } else if !want {
            self.pins = None;
        }
        if let Some(p) = &self.pins {
            outcome = Some(p.outcome());
        }
        if let Some(a) = self.rx_attachment() {
            a.set_pin(outcome, asked);
        }
    }
}
