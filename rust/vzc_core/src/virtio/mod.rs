// SPDX-License-Identifier: GPL-2.0-only
//! The virtio split ring as the device sees it (virtio 1.x §2.7).
//!
//! - [`desc`]: descriptor layout, queue size, ring sizes and alignment.
//! - [`split`]: where the avail and used ring fields live; when to notify.
//! - [`chain`]: walking a descriptor chain from a head to validated segments.
//! - [`queue`]: the engine over those rings: pending count, notification
//!   arming, used publication (in any order, in batches) and rewind.

pub mod chain;
pub mod desc;
pub mod queue;
pub mod split;
