// SPDX-License-Identifier: GPL-2.0-only

//! Long-term pins of the owner's user memory (guest RAM) for device DMA,
//! charged to the owner's RLIMIT_MEMLOCK, as AF_XDP umem, VFIO type1 and
//! iommufd do: `account_locked_vm` (bypassed with CAP_IPC_LOCK, counted in
//! `VmLck`), `pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM)`, and
//! `mm->pinned_vm` (`VmPin`) for the pages actually held. Unpinning marks
//! every page dirty (the device may have written any of them).
//!
//! C headers: [`include/linux/mm.h`](srctree/include/linux/mm.h).

use super::ffi;
use kernel::{
    alloc::KVVec,
    bindings,
    ffi::{c_int, c_ulong},
    mm::{Mm, MmWithUser},
    page::{PAGE_SHIFT, PAGE_SIZE},
    prelude::*,
    sync::aref::ARef,
};

/// Pages per `pin_user_pages_fast` call (it takes an `int`; smaller calls
/// also let the migration of non-pinnable pages make progress).
const CHUNK: usize = 512;

/// Why pages could not be pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PinError {
    /// The charge would exceed RLIMIT_MEMLOCK (`ENOMEM` from the charge).
    Memlock,
    /// The memory cannot be pinned long-term or is not mapped (`errno`),
    /// or the page array could not be allocated.
    Failed(i32),
}

/// Pages of one user range, pinned and charged until dropped.
///
/// # Invariants
///
/// `pages` holds pages pinned with `FOLL_LONGTERM` from `mm`, and
/// `pages.len()` pages are charged to `mm`'s `locked_vm` and `pinned_vm`.
pub(crate) struct PinnedPages {
    pages: KVVec<*mut bindings::page>,
    mm: ARef<Mm>,
}

// SAFETY: pinned pages may be unpinned from any thread; `Mm` is `Send`.
unsafe impl Send for PinnedPages {}
// SAFETY: the page pointers are only read.
unsafe impl Sync for PinnedPages {}

impl PinnedPages {
    /// Pins the `npages` pages from page-aligned `uaddr` of `mm`, which
    /// must be the current task's (the owner, or its vhost worker thread):
    /// the charge is checked against the current task's RLIMIT_MEMLOCK.
    pub(crate) fn pin(mm: &MmWithUser, uaddr: u64, npages: usize) -> Result<Self, PinError> {
        if uaddr % PAGE_SIZE as u64 != 0 || npages == 0 {
            return Err(PinError::Failed(EINVAL.to_errno()));
        }
        // The charge first: the region's size is the VMM's to choose, and
        // the page array must not be allocated for more than its limit.
        // SAFETY: `mm` is a live mm with users (`MmWithUser`); the charge
        // takes its mmap lock for writing and is undone in `Drop` (or below).
        let r = unsafe { bindings::account_locked_vm(mm.as_raw(), npages as c_ulong, true) };
        if r == ENOMEM.to_errno() {
            return Err(PinError::Memlock);
        } else if r != 0 {
            return Err(PinError::Failed(r));
        }
        let mut pages = match KVVec::with_capacity(npages, GFP_KERNEL) {
            Ok(p) => p,
            Err(_) => {
                // SAFETY: the charge just made; nothing is pinned.
                unsafe { bindings::account_locked_vm(mm.as_raw(), npages as c_ulong, false) };
                return Err(PinError::Failed(ENOMEM.to_errno()));
            }
        };
        let mm_ref: ARef<Mm> = ARef::from(&**mm);
        while pages.len() < npages {
            let done = pages.len();
            let n = (npages - done).min(CHUNK);
            let start = uaddr + ((done as u64) << PAGE_SHIFT);
            let spare = pages.spare_capacity_mut();
            // SAFETY: `spare` has room for at least `n` page pointers; the
            // range is the current task's user memory (its mm is `mm`).
            let got = unsafe {
                bindings::pin_user_pages_fast(
                    start as c_ulong,
                    n as c_int,
                    bindings::FOLL_WRITE | bindings::FOLL_LONGTERM,
                    spare.as_mut_ptr().cast(),
                )
            };
            if got <= 0 {
                let err = if got == 0 { EFAULT.to_errno() } else { got };
                // SAFETY: the first `done` entries are pinned pages; undo
                // them and the whole charge.
                unsafe {
                    bindings::unpin_user_pages(pages.as_mut_ptr(), done as c_ulong);
                    bindings::account_locked_vm(mm.as_raw(), npages as c_ulong, false);
                }
                return Err(PinError::Failed(err));
            }
            // SAFETY: `pin_user_pages_fast` initialised `got <= n` entries.
            unsafe { pages.inc_len(got as usize) };
        }
        // SAFETY: `mm` is live; `npages` pages are held from now on.
        unsafe { ffi::vzc_mm_pinned_vm_add(mm.as_raw().cast(), npages as isize) };
        // INVARIANT: `npages` pinned pages of `mm`, charged above.
        Ok(Self { pages, mm: mm_ref })
    }

    /// Pages held.
    pub(crate) fn len(&self) -> usize {
        self.pages.len()
    }
}

impl Drop for PinnedPages {
    fn drop(&mut self) {
        let n = self.pages.len();
        // SAFETY: the pages are pinned (invariant); the device stopped
        // using them before its owner dropped this.
        unsafe {
            bindings::unpin_user_pages_dirty_lock(self.pages.as_mut_ptr(), n as c_ulong, true)
        };
        // The charge goes with the mm: if the process is gone (no users
        // left), so is its accounting.
        if let Some(mm) = self.mm.mmget_not_zero() {
            // SAFETY: `mm` has users; `n` pages were charged (invariant).
            unsafe {
                ffi::vzc_mm_pinned_vm_add(mm.as_raw().cast(), -(n as isize));
                bindings::account_locked_vm(mm.as_raw(), n as c_ulong, false);
            }
        }
    }
}
