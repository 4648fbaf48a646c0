// SPDX-License-Identifier: GPL-2.0-only

//! Polling a file (kick eventfd, tap) for the device: upstream `vhost_poll`.
//!
//! C header: [`include/linux/poll.h`](srctree/include/linux/poll.h).

use super::ffi;
use core::ptr::NonNull;
use kernel::{
    bindings,
    ffi::{c_ulong, c_void},
    fs::File,
    prelude::*,
    sync::{aref::ARef, Arc},
};

/// `EPOLLIN`.
pub(crate) const EPOLLIN: u32 = 0x1;
/// `EPOLLOUT`.
pub(crate) const EPOLLOUT: u32 = 0x4;
/// `EPOLLRDNORM`.
pub(crate) const EPOLLRDNORM: u32 = 0x40;

/// Told when a polled file becomes ready. Runs in atomic context (under the
/// file's waitqueue lock): it may only flip atomics and wake a task.
pub(crate) trait Wake: Send + Sync + 'static {
    /// `token` is the one given to [`Polled::new`].
    fn wake(&self, token: u32);
}

/// A file the device can poll; implemented by the glue's file wrappers.
///
/// # Safety
///
/// [`PollFile::file`] returns the same file every time, and `self` holds a
/// reference on it until `self` is dropped: [`Polled`] leaves its wait
/// entry on that file's waitqueue after the borrow ends, and removes it
/// only when it drops, before it drops `self`.
pub(crate) unsafe trait PollFile: Send + Sync {
    /// The file.
    fn file(&self) -> &File;
}

/// Takes over a file reference that C code returned (`eventfd_fget`, the
/// shim's backend lookup): the reference is put when the `ARef` drops.
///
/// # Safety
///
/// `file` is null or a valid file on which the caller holds a reference
/// that it gives up, taken during a syscall of the current thread that is
/// not inside an `fdget_pos` region of that file (so every later
/// `fdget_pos` on it, the reference now shared, takes `f_pos_lock`).
pub(super) unsafe fn take_file(file: *mut bindings::file) -> Result<ARef<File>> {
    let file = NonNull::new(file.cast::<File>()).ok_or(EBADF)?;
    // SAFETY: the caller gives up its reference on `file` to the `ARef`;
    // `File` is `repr(transparent)` over `struct file`, and the caller
    // guarantees its `fdget_pos` invariant.
    Ok(unsafe { ARef::from_raw(file) })
}

/// `file`, polled: events in the mask call `waker.wake(token)`.
///
/// # Invariants
///
/// `p` was returned by `vzc_poll_alloc` with `Arc::as_ptr(&waker)` as data
/// and polls `file` (or nothing); it is freed by `Drop` before `file` and
/// `waker` are.
pub(crate) struct Polled<F: PollFile, K: Wake> {
    p: *mut c_void,
    file: F,
    /// Keeps the wake-up target alive while the wait entry may fire.
    _waker: Arc<K>,
}

// SAFETY: the shim's poll object is touched by its owner (start/stop/free,
// under the owner's lock) and by the waitqueue; `F` and `K` are Send + Sync.
unsafe impl<F: PollFile, K: Wake> Send for Polled<F, K> {}
// SAFETY: `&Polled` only gives `&F`.
unsafe impl<F: PollFile, K: Wake> Sync for Polled<F, K> {}

/// # Safety
///
/// Called by the shim's wake-up with the data and token of a live `Polled<_, K>`.
unsafe extern "C" fn wake_fn<K: Wake>(data: *mut c_void, token: c_ulong) {
    // SAFETY: `data` is `Arc::as_ptr` of the waker the `Polled` holds until
    // after the wait entry is removed (which waits out running callbacks).
    let k = unsafe { &*data.cast::<K>() };
    k.wake(token as u32);
}

impl<F: PollFile, K: Wake> Polled<F, K> {
    /// Starts polling `file` for `mask`; `EINVAL` if it reports an error.
    /// If the file is ready already, `waker` is told at once.
    pub(crate) fn new(file: F, waker: Arc<K>, token: u32, mask: u32) -> Result<Self> {
        let data = Arc::as_ptr(&waker).cast_mut().cast::<c_void>();
        // SAFETY: `data` stays valid while `waker` lives in `Self`.
        let p = unsafe { ffi::vzc_poll_alloc(mask, wake_fn::<K>, data, token as c_ulong) };
        if p.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: allocated with the waker's pointer; polls `file` below.
        let this = Self {
            p,
            file,
            _waker: waker,
        };
        // SAFETY: `p` is valid; `file()` is referenced by `this.file` until
        // after `Drop` frees `p` (the `PollFile` contract, `Drop` order).
        kernel::error::to_result(unsafe {
            ffi::vzc_poll_start(this.p, this.file.file().as_ptr().cast())
        })?;
        Ok(this)
    }

    /// The polled file.
    pub(crate) fn file(&self) -> &F {
        &self.file
    }

    /// Stops polling (removes the wait entry); no-op if stopped.
    pub(crate) fn stop(&mut self) {
        // SAFETY: `p` is valid (invariant).
        unsafe { ffi::vzc_poll_stop(self.p) };
    }
}

impl<F: PollFile, K: Wake> Drop for Polled<F, K> {
    fn drop(&mut self) {
        // SAFETY: `p` is valid and freed once; freeing removes the wait entry
        // first, so no callback uses `waker` after this.
        unsafe { ffi::vzc_poll_free(self.p) };
    }
}
