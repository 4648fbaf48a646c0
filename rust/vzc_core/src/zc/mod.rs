// SPDX-License-Identifier: GPL-2.0-only
//! Zero-copy RX into guest buffers over an 82576 VF, kernel-independent:
//! what may be posted to the VF, where a received frame must end up, and
//! how every guest buffer is accounted for until the guest gets it back.
//!
//! - [`bsize`]: the VF's buffer size (SRRCTL.BSIZEPACKET) for a guest.
//! - [`contain`]: THE SAFETY RULE: a guest buffer is posted only as a
//!   [`contain::PostedBuf`], whose device window lies in one guest buffer,
//!   one memory region and one device-contiguous run of pinned pages.
//! - [`pin_plan`]: the user pages a memory table needs pinned.
//! - [`place`]: the used entries, header and tail moves of a received frame.
//! - [`slots`]: the VF ring's shadow (descriptor index -> posted buffer).
//! - [`reclaim`]: every head out of the avail ring, and how stop gives them
//!   all back (rewind or zero-length used entries).
//!
//! The kernel glue does every memory access (descriptor writes, header and
//! tail copies, dirty-log bits); this module only decides.

pub mod bsize;
pub mod contain;
pub mod pin_plan;
pub mod place;
pub mod reclaim;
pub mod slots;
#[cfg(test)]
mod testkit;
