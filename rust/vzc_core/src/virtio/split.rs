// SPDX-License-Identifier: GPL-2.0-only
//! Split-ring bookkeeping beyond the descriptor table: where the avail and
//! used ring fields live, and when the device must notify the driver
//! (virtio 1.x §2.7.7, §2.7.10; upstream `vhost_notify`, `vring_need_event`).

use super::desc::QueueSize;

/// `VRING_AVAIL_F_NO_INTERRUPT`: the driver asks not to be interrupted.
pub const VRING_AVAIL_F_NO_INTERRUPT: u16 = 1;
/// `VRING_USED_F_NO_NOTIFY`: the device asks not to be kicked.
pub const VRING_USED_F_NO_NOTIFY: u16 = 1;
/// Bytes of one used-ring element (`le32 id; le32 len`).
pub const USED_ELEM_SIZE: u64 = 8;

/// Byte offsets of the avail ring's fields from its base.
pub mod avail {
    use super::QueueSize;
    /// `flags`.
    pub const FLAGS: u64 = 0;
    /// `idx`.
    pub const IDX: u64 = 2;
    /// `ring[slot]` (a descriptor head index, le16).
    pub fn ring(slot: u16) -> u64 {
        4 + 2 * u64::from(slot)
    }
    /// `used_event` (with `VIRTIO_RING_F_EVENT_IDX`), after the ring.
    pub fn used_event(size: QueueSize) -> u64 {
        4 + 2 * u64::from(size.get())
    }
}

/// Byte offsets of the used ring's fields from its base.
pub mod used {
    use super::{QueueSize, USED_ELEM_SIZE};
    /// `flags`.
    pub const FLAGS: u64 = 0;
    /// `idx`.
    pub const IDX: u64 = 2;
    /// `ring[slot]`.
    pub fn ring(slot: u16) -> u64 {
        4 + USED_ELEM_SIZE * u64::from(slot)
    }
    /// `avail_event` (with `VIRTIO_RING_F_EVENT_IDX`), after the ring.
    pub fn avail_event(size: QueueSize) -> u64 {
        4 + USED_ELEM_SIZE * u64::from(size.get())
    }
}

/// Encodes a used-ring element.
pub fn used_elem(id: u16, len: u32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&u32::from(id).to_le_bytes());
    b[4..].copy_from_slice(&len.to_le_bytes());
    b
}

/// `vring_need_event`: has the index moved from `old` to `new` across
/// `event` (the index after which the other side asked to be told)?
pub fn need_event(event: u16, new: u16, old: u16) -> bool {
    new.wrapping_sub(event).wrapping_sub(1) < new.wrapping_sub(old)
}

/// When to signal the driver after adding used entries: upstream
/// `vhost_notify` (without `NOTIFY_ON_EMPTY`, which is not offered).
///
/// With event idx it remembers the used index at the previous decision, so a
/// batch whose signal was suppressed still counts when the next one crosses
/// the driver's `used_event`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Notifier {
    signalled_used: u16,
    /// `signalled_used` is meaningful (false after a reset or a base change).
    valid: bool,
}

impl Notifier {
    /// Forgets the last decision (`signalled_used_valid = false`), as
    /// upstream does when the ring is (re)started or its base is set.
    pub fn reset(&mut self) {
        self.valid = false;
    }

    /// Decides whether to signal now that the used index is `new_used`.
    /// Without event idx, `avail_flags` (read from the guest) decides; with
    /// it, `used_event` (read from the guest) does.
    pub fn should_signal(
        &mut self,
        event_idx: bool,
        avail_flags: u16,
        used_event: u16,
        new_used: u16,
    ) -> bool {
        if !event_idx {
            return avail_flags & VRING_AVAIL_F_NO_INTERRUPT == 0;
        }
        let old = self.signalled_used;
        let valid = self.valid;
        self.signalled_used = new_used;
        self.valid = true;
        !valid || need_event(used_event, new_used, old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let q = QueueSize::new(256).unwrap();
        assert_eq!(avail::ring(3), 10);
        assert_eq!(avail::used_event(q), 4 + 512);
        assert_eq!(used::ring(3), 28);
        assert_eq!(used::avail_event(q), 4 + 2048);
        assert_eq!(used_elem(7, 0x1234), [7, 0, 0, 0, 0x34, 0x12, 0, 0]);
    }

    #[test]
    fn need_event_matches_the_spec() {
        // Driver wants an interrupt once used idx passes 5.
        assert!(need_event(5, 6, 5));
        assert!(need_event(5, 10, 0));
        assert!(!need_event(5, 5, 0));
        assert!(!need_event(5, 8, 6));
        // Wrap-around.
        assert!(need_event(0xffff, 1, 0xfffe));
        assert!(!need_event(2, 1, 0xfffe));
    }

    #[test]
    fn notifier() {
        let mut n = Notifier::default();
        // Without event idx the avail flags decide.
        assert!(n.should_signal(false, 0, 0, 1));
        assert!(!n.should_signal(false, VRING_AVAIL_F_NO_INTERRUPT, 0, 1));
        // The first decision with event idx signals (nothing known yet).
        assert!(n.should_signal(true, 0, 100, 1));
        // used_event = 3: used 1 -> 2 does not pass it, 2 -> 4 does.
        assert!(!n.should_signal(true, 0, 3, 2));
        assert!(n.should_signal(true, 0, 3, 4));
        // Suppressed 4 -> 5 (event 10), then 5 -> 11 passes 10.
        assert!(!n.should_signal(true, 0, 10, 5));
        assert!(n.should_signal(true, 0, 10, 11));
        n.reset();
        assert!(n.should_signal(true, 0, 1000, 12));
    }
}
