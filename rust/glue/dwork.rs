// SPDX-License-Identifier: GPL-2.0-only

//! Periodic work in process context: a delayed work on the system workqueue
//! that calls [`Tick::tick`] and re-arms itself with the delay it returns.
//!
//! The `kernel` crate's workqueue needs `'static` work items and has no
//! cancel; a device's watchdog borrows the bound device (`'bound`) and must
//! be stopped, and waited for, at unbind. The C shim wraps
//! `INIT_DELAYED_WORK`/`queue_delayed_work` (macros and static inlines) and
//! `disable_delayed_work_sync`.
//!
//! C header: [`include/linux/workqueue.h`](srctree/include/linux/workqueue.h).

use super::ffi;
use kernel::{
    ffi::{c_long, c_ulong, c_void},
    prelude::*,
    sync::Arc,
};

/// What a [`Periodic`] runs.
pub(crate) trait Tick: Send + Sync {
    /// Runs in process context (may sleep, take mutexes). `Some(ms)`: run
    /// again after `ms` milliseconds; `None`: rest until re-armed.
    fn tick(&self, token: usize) -> Option<u32>;
}

/// A running periodic work over `T`; stopped and waited for on drop.
///
/// # Invariants
///
/// `w` was returned by `vzc_dwork_alloc` with `data`'s address and is freed
/// only by `Drop`, after `vzc_dwork_disable` (no callback running or queued).
pub(crate) struct Periodic<T: Tick> {
    w: *mut c_void,
    /// Keeps the callback's argument alive until the work is disabled.
    _data: Arc<T>,
}

// SAFETY: the workqueue functions may be called from any thread; `T` is
// `Send + Sync` (`Tick`).
unsafe impl<T: Tick> Send for Periodic<T> {}
// SAFETY: `&Periodic` only allows `stop`, which the workqueue serialises.
unsafe impl<T: Tick> Sync for Periodic<T> {}

/// # Safety
///
/// Called by the shim's work function with the arguments given to
/// `vzc_dwork_alloc`.
unsafe extern "C" fn tick_cb<T: Tick>(data: *const c_void, token: c_ulong) -> c_long {
    // SAFETY: `data` is `Arc::as_ptr` of the `Arc<T>` the `Periodic` holds
    // until after `vzc_dwork_disable` has returned (type invariant), so
    // the `T` is alive for this call.
    let this = unsafe { &*data.cast::<T>() };
    match this.tick(token) {
        // A `u32` fits a 64-bit `long`; saturate anywhere else.
        Some(ms) => c_long::try_from(ms).unwrap_or(c_long::MAX),
        None => -1,
    }
}

impl<T: Tick> Periodic<T> {
    /// Starts the work: the first tick runs after `first_ms`.
    pub(crate) fn start(data: Arc<T>, token: usize, first_ms: u32) -> Result<Self> {
        let arg = Arc::as_ptr(&data).cast::<c_void>();
        // SAFETY: the callback matches the shim's prototype; `arg` stays
        // valid while `data` lives, which is until after the work is
        // disabled in `Drop`.
        let w = unsafe { ffi::vzc_dwork_alloc(tick_cb::<T>, arg, token) };
        if w.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `w` was just allocated and initialised.
        unsafe { ffi::vzc_dwork_queue(w, first_ms) };
        // INVARIANT: allocated with `data`'s address.
        Ok(Self { w, _data: data })
    }

    /// Stops the work and waits for a running tick; it never runs again.
    pub(crate) fn stop(&self) {
        // SAFETY: `w` is live (type invariant); disabling twice is allowed.
        unsafe { ffi::vzc_dwork_disable(self.w) };
    }
}

impl<T: Tick> Drop for Periodic<T> {
    fn drop(&mut self) {
        self.stop();
        // SAFETY: disabled just above: no callback runs or will run, so the
        // work can be freed; `data` is dropped after this.
        unsafe { ffi::vzc_dwork_free(self.w) };
    }
}
