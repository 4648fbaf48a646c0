// SPDX-License-Identifier: GPL-2.0-only

//! A device's memory table, pinned: every page of every region
//! (`vzc_core::zc::pin_plan`), held until the port no longer wants it, the
//! table changes, or the device goes. Pinned in the owner's context (its
//! ioctls or its vhost worker thread), so the owner's RLIMIT_MEMLOCK and
//! CAP_IPC_LOCK decide.

use kernel::{mm::MmWithUser, page::PAGE_SHIFT, prelude::*};

use crate::glue::pin::{PinError, PinnedPages};
use crate::vzc_core::{control::port::PinOutcome, zc::pin_plan::pin_range, MemRegion};

/// The pinned memory table.
pub(crate) struct PinnedMem {
    /// Unpinned (and uncharged) when dropped.
    _ranges: KVec<PinnedPages>,
    pages: usize,
}

impl PinnedMem {
    /// Pins every region of `mem` in `mm` (the current task's). On failure
    /// nothing stays pinned or charged.
    pub(crate) fn pin(mm: &MmWithUser, mem: &[MemRegion]) -> Result<Self, PinError> {
        let mut ranges = KVec::with_capacity(mem.len(), GFP_KERNEL)
            .map_err(|_| PinError::Failed(ENOMEM.to_errno()))?;
        let mut pages = 0usize;
        for r in mem {
            let Some(p) = pin_range(r, PAGE_SHIFT as u32) else {
                return Err(PinError::Failed(EINVAL.to_errno()));
            };
            let n = usize::try_from(p.pages).map_err(|_| PinError::Memlock)?;
            let pinned = PinnedPages::pin(mm, p.uaddr, n)?;
            pages += pinned.len();
            // Within the capacity reserved above: no allocation.
            ranges
                .push(pinned, GFP_KERNEL)
                .map_err(|_| PinError::Failed(ENOMEM.to_errno()))?;
        }
        Ok(Self {
            _ranges: ranges,
            pages,
        })
    }

    /// What the port is told.
    pub(crate) fn outcome(&self) -> PinOutcome {
        let pages = self.pages as u64;
        PinOutcome::Pinned {
            pages,
            memlock_bytes: pages << PAGE_SHIFT,
        }
    }
}

/// The port's view of a failed pin.
pub(crate) fn failed(e: PinError) -> PinOutcome {
    match e {
        PinError::Memlock => PinOutcome::Memlock,
        PinError::Failed(_) => PinOutcome::Failed,
    }
}
