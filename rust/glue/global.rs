// SPDX-License-Identifier: GPL-2.0-only

//! The module's one global: the control state (ports and the VFs this
//! module drives), for the callers that have no pointer to module data —
//! netlink handlers, the netns exit hook, VF probe and remove. A
//! `kernel::sync::global_lock!` mutex, whose initialisation is `unsafe`
//! and therefore here.

use core::pin::Pin;

use crate::control::Control;

kernel::sync::global_lock! {
    // SAFETY: `init()` runs first in module init, before the netlink family
    // and the VF driver (the only users) are registered.
    pub(crate) unsafe(uninit) static CONTROL: Mutex<Control> = Control::new();
}

/// Initialises [`CONTROL`]. Call once, first thing in module init.
pub(crate) fn init() {
    // SAFETY: module init calls this once, before anything can take the
    // lock (see the static).
    unsafe { CONTROL.init() };
}
