// SPDX-License-Identifier: GPL-2.0-only
//! The VF's RX buffer size (SRRCTL.BSIZEPACKET, 1 KiB units) for a guest.
//!
//! The 82576 writes up to BSIZEPACKET bytes into every posted descriptor and
//! spreads a longer frame over the next ones (facts §1.4), so the choice
//! trades two costs:
//!
//! - larger: fewer descriptors per frame, so fewer tail bytes the CPU moves
//!   into place ([`super::place`]); a frame of at most BSIZEPACKET bytes
//!   needs no move at all;
//! - smaller: more guest buffers are postable at all ([`super::contain`]
//!   needs BSIZEPACKET bytes after the frame start); the others take the
//!   copy path, which moves the whole frame.
//!
//! [`choose`] weighs both for the buffers the guest actually posts.

/// Bytes per BSIZEPACKET unit.
pub const UNIT: u32 = 1024;
/// Largest BSIZEPACKET (a 7-bit field).
pub const MAX_KIB: u8 = 127;

/// A valid BSIZEPACKET: 1..=127 KiB. The only way to get one is
/// [`BufSize::from_kib`] or [`choose`], so a value is always programmable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BufSize(u8);

impl BufSize {
    /// `kib` KiB, if 1..=127.
    pub fn from_kib(kib: u32) -> Option<Self> {
        if (1..=u32::from(MAX_KIB)).contains(&kib) {
            Some(Self(kib as u8))
        } else {
            None
        }
    }

    /// The SRRCTL.BSIZEPACKET field value.
    pub fn kib(self) -> u8 {
        self.0
    }

    /// Bytes the device may write into one descriptor.
    pub fn bytes(self) -> u32 {
        u32::from(self.0) * UNIT
    }
}

/// The BSIZEPACKET that moves the fewest bytes with the CPU, assuming every
/// buffer receives a frame of `max_frame` bytes (the bulk case; smaller
/// frames only lower both costs).
///
/// `rooms` are the bytes after the frame start of each buffer the guest
/// posted ([`super::contain::frame_room`]). For a candidate size a buffer
/// with room for it costs the frame's tail beyond one descriptor; a buffer
/// without room costs the whole frame (copy path). Candidates stop at the
/// first size holding `max_frame` whole (larger ones only shut buffers
/// out); on a tie the smaller wins (more future buffers fit). `None` if not
/// even 1 KiB fits any buffer, or `max_frame` is 0.
///
/// Linux mergeable buffers (1536..4096 bytes, 12-byte header, MTU 1500):
/// 1 KiB as soon as a real share of buffers is 1536 bytes (490 tail bytes
/// per 1514-byte frame against 1514 copied); 2 KiB when all are 4 KiB.
/// Linux big packets (first data descriptor 4064 bytes): 2 KiB, no tail.
pub fn choose(rooms: impl Iterator<Item = u32> + Clone, max_frame: u32) -> Option<BufSize> {
    if max_frame == 0 {
        return None;
    }
    let top = max_frame.div_ceil(UNIT).min(u32::from(MAX_KIB));
    let mut best: Option<(u64, BufSize)> = None;
    for kib in 1..=top {
        let bs = BufSize(kib as u8);
        let mut fit = false;
        let mut cost = 0u64;
        for room in rooms.clone() {
            if room >= bs.bytes() {
                fit = true;
                cost += u64::from(max_frame.saturating_sub(bs.bytes()));
            } else {
                cost += u64::from(max_frame);
            }
        }
        if fit && best.is_none_or(|(c, _)| cost < c) {
            best = Some((cost, bs));
        }
    }
    best.map(|(_, bs)| bs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_valid_sizes() {
        assert_eq!(BufSize::from_kib(0), None);
        assert_eq!(BufSize::from_kib(128), None);
        let b = BufSize::from_kib(127).unwrap();
        assert_eq!((b.kib(), b.bytes()), (127, 127 * 1024));
    }

    fn pick(rooms: &[u32], max_frame: u32) -> Option<u8> {
        choose(rooms.iter().copied(), max_frame).map(BufSize::kib)
    }

    #[test]
    fn linux_layouts() {
        // Mergeable 1536-byte buffers, 12-byte header: 1524 bytes of room.
        assert_eq!(pick(&[1524; 8], 1514), Some(1));
        // Mergeable 4096-byte buffers: 2 KiB holds the frame, no tail.
        assert_eq!(pick(&[4084; 8], 1514), Some(2));
        // Half and half: 2 KiB would copy 4 frames of 1514, 1 KiB moves
        // 8 tails of 490.
        assert_eq!(
            pick(&[1524, 4084, 1524, 4084, 1524, 4084, 1524, 4084], 1514),
            Some(1)
        );
        // One small buffer among many big ones: worth its copy.
        assert_eq!(pick(&[1524, 4084, 4084, 4084, 4084], 1514), Some(2));
        // Big packets: 4064 bytes of first data descriptor.
        assert_eq!(pick(&[4064; 4], 1514), Some(2));
        // Small packets: one 1530-byte buffer, 12-byte header.
        assert_eq!(pick(&[1518; 4], 1514), Some(1));
        // Jumbo frames in 64 KiB buffers: as large as the frame.
        assert_eq!(pick(&[65536 - 12; 2], 9014), Some(9));
    }

    #[test]
    fn nothing_fits() {
        assert_eq!(pick(&[1023, 500], 1514), None);
        assert_eq!(pick(&[], 1514), None);
        assert_eq!(pick(&[4096], 0), None);
    }
}
