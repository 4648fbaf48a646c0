// SPDX-License-Identifier: GPL-2.0-only

//! eventfd contexts and files, as vhost uses them for call/err/log (signalled
//! by the device) and kick (polled by the device).
//!
//! C header: [`include/linux/eventfd.h`](srctree/include/linux/eventfd.h).

use super::poll::{take_file, PollFile};
use kernel::{bindings, error::from_err_ptr, fs::File, prelude::*, sync::aref::ARef};

/// A reference on an eventfd context (`eventfd_ctx_fdget`); put on drop.
///
/// # Invariants
///
/// `ctx` is a valid eventfd context on which this object holds a reference.
pub(crate) struct EventfdCtx {
    ctx: *mut bindings::eventfd_ctx,
}

// SAFETY: eventfd contexts are reference counted and `eventfd_signal_mask`
// may be called from any thread.
unsafe impl Send for EventfdCtx {}
// SAFETY: see `Send`; signalling takes the context's own lock.
unsafe impl Sync for EventfdCtx {}

impl EventfdCtx {
    /// The context of eventfd `fd`: `EBADF` if `fd` is not open, `EINVAL` if
    /// it is not an eventfd (as upstream).
    pub(crate) fn fdget(fd: i32) -> Result<Self> {
        // SAFETY: any integer may be passed; errors come back as ERR_PTR.
        let ctx = from_err_ptr(unsafe { bindings::eventfd_ctx_fdget(fd) })?;
        // INVARIANT: `eventfd_ctx_fdget` returned a referenced context.
        Ok(Self { ctx })
    }

    /// Adds 1 to the counter and wakes its readers (`eventfd_signal`).
    pub(crate) fn signal(&self) {
        // SAFETY: `ctx` is valid by the type invariant.
        unsafe { bindings::eventfd_signal_mask(self.ctx, 0) };
    }
}

impl Drop for EventfdCtx {
    fn drop(&mut self) {
        // SAFETY: the reference taken in `fdget` is released exactly once.
        unsafe { bindings::eventfd_ctx_put(self.ctx) };
    }
}

/// A reference on an eventfd's file (`eventfd_fget`), for the kick fd that the
/// device polls; put on drop.
pub(crate) struct EventfdFile {
    file: ARef<File>,
}

impl EventfdFile {
    /// The file of eventfd `fd`: `EBADF` / `EINVAL` as upstream.
    pub(crate) fn fget(fd: i32) -> Result<Self> {
        // SAFETY: any integer may be passed; errors come back as ERR_PTR.
        let file = from_err_ptr(unsafe { bindings::eventfd_fget(fd) })?;
        // SAFETY: `eventfd_fget` returned a referenced file, ours to put;
        // called from `VHOST_SET_VRING_KICK`, an ioctl on another file.
        let file = unsafe { take_file(file) }?;
        Ok(Self { file })
    }
}

// SAFETY: `file` is always the same file, referenced by `self.file` until
// `self` is dropped.
unsafe impl PollFile for EventfdFile {
    fn file(&self) -> &File {
        &self.file
    }
}
