// SPDX-License-Identifier: GPL-2.0-only
//! Test doubles for the core's users (feature `test-utils`; the crate's own
//! tests always have them, and so has the KUnit build of the module): fuzz
//! targets, benches and KUnit reuse them.
//!
//! - [`queue`]: a guest driver for one split queue ([`MockSplitQueue`]).
//! - `pf` (crate tests only): the igb PF's side of the VF mailbox.

#[cfg(test)]
pub(crate) mod pf;
pub mod queue;

#[allow(unused_imports)]
pub use self::queue::MockSplitQueue;
