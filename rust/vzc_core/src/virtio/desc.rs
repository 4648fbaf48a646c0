// SPDX-License-Identifier: GPL-2.0-only
//! Virtio 1.x split-ring layout: descriptors, queue size, ring sizes,
//! ring address alignment and avail-index validation.

use super::super::error::Error;

/// Size of one descriptor (`struct vring_desc`) in bytes.
pub const DESC_SIZE: usize = 16;
/// Descriptor flag: the buffer continues via the `next` field.
pub const VIRTQ_DESC_F_NEXT: u16 = 1;
/// Descriptor flag: the buffer is device-writable (else device-readable).
pub const VIRTQ_DESC_F_WRITE: u16 = 2;
/// Descriptor flag: the buffer holds a table of indirect descriptors.
pub const VIRTQ_DESC_F_INDIRECT: u16 = 4;

/// Largest queue size the split ring allows (virtio 2.7: 32768).
pub const MAX_QUEUE_SIZE: u16 = 32768;
/// Largest indirect table upstream accepts: the 16-bit `next` field can
/// address 2^16 entries (`get_indirect`: "Indirect buffer length too big").
pub const MAX_INDIRECT_DESCS: u32 = 65536;
/// Largest total byte length of one chain. Virtio forbids chains longer
/// than 2^32 bytes; capping one byte lower keeps totals (and the used ring's
/// 32-bit `len`) in a `u32`.
pub const MAX_CHAIN_BYTES: u64 = u32::MAX as u64;

/// Required alignment of the descriptor table (virtio 2.7, table 2.1).
pub const DESC_ALIGN: u64 = 16;
/// Required alignment of the avail ring (`VRING_AVAIL_ALIGN_SIZE`).
pub const AVAIL_ALIGN: u64 = 2;
/// Required alignment of the used ring (`VRING_USED_ALIGN_SIZE`).
pub const USED_ALIGN: u64 = 4;

/// One split-ring descriptor, decoded from its little-endian wire form.
///
/// Decoding is total (any 16 bytes are a `Descriptor`); meaning is only
/// checked by the chain walker, which knows the context (queue size,
/// whether we are inside an indirect table). Unknown flag bits are
/// ignored, as upstream does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Descriptor {
    /// Guest physical address of the buffer.
    pub addr: u64,
    /// Buffer length in bytes.
    pub len: u32,
    /// `VIRTQ_DESC_F_*` flags.
    pub flags: u16,
    /// Index of the next descriptor, meaningful only with `NEXT`.
    pub next: u16,
}

impl Descriptor {
    /// Decodes a descriptor as stored in guest memory (always little-endian
    /// in virtio 1.x, whatever the host endianness).
    pub fn from_le_bytes(b: [u8; DESC_SIZE]) -> Self {
        Descriptor {
            addr: u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
            len: u32::from_le_bytes([b[8], b[9], b[10], b[11]]),
            flags: u16::from_le_bytes([b[12], b[13]]),
            next: u16::from_le_bytes([b[14], b[15]]),
        }
    }

    /// Encodes the descriptor in guest wire format; lets tests (and the
    /// module's KUnit suite) play the driver side.
    pub fn to_le_bytes(&self) -> [u8; DESC_SIZE] {
        let mut b = [0u8; DESC_SIZE];
        b[0..8].copy_from_slice(&self.addr.to_le_bytes());
        b[8..12].copy_from_slice(&self.len.to_le_bytes());
        b[12..14].copy_from_slice(&self.flags.to_le_bytes());
        b[14..16].copy_from_slice(&self.next.to_le_bytes());
        b
    }

    /// Whether the chain continues at `next`.
    pub fn has_next(&self) -> bool {
        self.flags & VIRTQ_DESC_F_NEXT != 0
    }

    /// Whether the buffer is device-writable.
    pub fn is_write(&self) -> bool {
        self.flags & VIRTQ_DESC_F_WRITE != 0
    }

    /// Whether the buffer is an indirect descriptor table.
    pub fn is_indirect(&self) -> bool {
        self.flags & VIRTQ_DESC_F_INDIRECT != 0
    }
}

/// A validated queue size: a power of two in `1..=32768`.
///
/// Power of two is what makes `idx & (size - 1)` a valid ring slot and lets
/// the free-running 16-bit indices wrap consistently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSize(u16);

impl QueueSize {
    /// Validates a size as given by `VHOST_SET_VRING_NUM` (a `u32`, hence
    /// the wide parameter: out-of-range values must be rejected, not
    /// truncated into range).
    pub fn new(num: u32) -> Result<Self, Error> {
        if num == 0 || num > u32::from(MAX_QUEUE_SIZE) || !num.is_power_of_two() {
            return Err(Error::BadQueueSize);
        }
        // Fits: num <= 32768.
        Ok(QueueSize(num as u16))
    }

    /// The size as a number of descriptors.
    pub fn get(&self) -> u16 {
        self.0
    }

    /// Ring slot for a free-running avail/used index.
    pub fn slot(&self, idx: u16) -> u16 {
        idx & (self.0 - 1)
    }

    /// Bytes of the descriptor table (`16 * size`).
    pub fn desc_table_size(&self) -> u64 {
        DESC_SIZE as u64 * u64::from(self.0)
    }

    /// Bytes of the avail ring: `flags`, `idx`, `ring[size]` and, with
    /// `VIRTIO_RING_F_EVENT_IDX`, the trailing `used_event`.
    pub fn avail_ring_size(&self, event_idx: bool) -> u64 {
        4 + 2 * u64::from(self.0) + if event_idx { 2 } else { 0 }
    }

    /// Bytes of the used ring: `flags`, `idx`, `ring[size]` of 8-byte
    /// elements and, with `VIRTIO_RING_F_EVENT_IDX`, the trailing
    /// `avail_event`.
    pub fn used_ring_size(&self, event_idx: bool) -> u64 {
        4 + 8 * u64::from(self.0) + if event_idx { 2 } else { 0 }
    }
}

/// Validated userspace addresses of the three ring parts, as given by
/// `VHOST_SET_VRING_ADDR`.
///
/// These are VMM userspace addresses, not guest physical ones, so they are
/// checked for alignment and wrap-around only; accessibility is for the
/// kernel's `access_ok`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingAddrs {
    desc: u64,
    avail: u64,
    used: u64,
}

impl RingAddrs {
    /// Checks alignment (`Misaligned`) and that no part's end wraps
    /// (`LengthOverflow`) for a queue of `size` entries.
    pub fn new(
        size: QueueSize,
        event_idx: bool,
        desc: u64,
        avail: u64,
        used: u64,
    ) -> Result<Self, Error> {
        if desc % DESC_ALIGN != 0 || avail % AVAIL_ALIGN != 0 || used % USED_ALIGN != 0 {
            return Err(Error::Misaligned);
        }
        let parts = [
            (desc, size.desc_table_size()),
            (avail, size.avail_ring_size(event_idx)),
            (used, size.used_ring_size(event_idx)),
        ];
        for (addr, len) in parts {
            if addr.checked_add(len).is_none() {
                return Err(Error::LengthOverflow);
            }
        }
        Ok(RingAddrs { desc, avail, used })
    }

    /// Descriptor table address.
    pub fn desc(&self) -> u64 {
        self.desc
    }

    /// Avail ring address.
    pub fn avail(&self) -> u64 {
        self.avail
    }

    /// Used ring address.
    pub fn used(&self) -> u64 {
        self.used
    }
}

/// Number of new avail entries between our `last_avail_idx` and the
/// guest's freshly read `avail_idx`.
///
/// Indices are free-running `u16`s, so the distance is a wrapping
/// subtraction. A distance above the queue size means the guest published
/// entries it cannot have filled; upstream fails with `EFAULT` ("Guest
/// moved avail index from %u to %u"), and so do we (`AvailIdxJump`).
pub fn avail_pending(size: QueueSize, last_avail_idx: u16, avail_idx: u16) -> Result<u16, Error> {
    let pending = avail_idx.wrapping_sub(last_avail_idx);
    if pending > size.get() {
        return Err(Error::AvailIdxJump);
    }
    Ok(pending)
}

#[cfg(test)]
mod tests {
    use super::{avail_pending, Descriptor, Error, QueueSize, RingAddrs};

    #[test]
    fn queue_size_validation() {
        for bad in [0, 3, 100, 65536, 32769, 65535, u32::MAX] {
            assert_eq!(QueueSize::new(bad), Err(Error::BadQueueSize), "{bad}");
        }
        for good in [1, 2, 256, 32768] {
            assert_eq!(QueueSize::new(good).unwrap().get() as u32, good);
        }
    }

    #[test]
    fn ring_sizes() {
        let q = QueueSize::new(256).unwrap();
        assert_eq!(q.desc_table_size(), 4096);
        assert_eq!(q.avail_ring_size(false), 516);
        assert_eq!(q.avail_ring_size(true), 518);
        assert_eq!(q.used_ring_size(false), 2052);
        assert_eq!(q.used_ring_size(true), 2054);
        assert_eq!(q.slot(257), 1);
    }

    #[test]
    fn ring_addrs() {
        let q = QueueSize::new(256).unwrap();
        assert!(RingAddrs::new(q, true, 0x1000, 0x2000, 0x3000).is_ok());
        assert_eq!(
            RingAddrs::new(q, true, 0x1008, 0x2000, 0x3000),
            Err(Error::Misaligned)
        );
        assert_eq!(
            RingAddrs::new(q, true, 0x1000, 0x2001, 0x3000),
            Err(Error::Misaligned)
        );
        assert_eq!(
            RingAddrs::new(q, true, 0x1000, 0x2000, 0x3002),
            Err(Error::Misaligned)
        );
        assert_eq!(
            RingAddrs::new(q, false, u64::MAX - 15, 0, 0),
            Err(Error::LengthOverflow)
        );
    }

    #[test]
    fn descriptor_round_trip() {
        let d = Descriptor {
            addr: 0x0102_0304_0506_0708,
            len: 0x0a0b_0c0d,
            flags: 0x0007,
            next: 0x1234,
        };
        let b = d.to_le_bytes();
        assert_eq!(b[0], 0x08);
        assert_eq!(b[15], 0x12);
        assert_eq!(Descriptor::from_le_bytes(b), d);
        assert!(d.has_next() && d.is_write() && d.is_indirect());
    }

    #[test]
    fn avail_index_validation() {
        let q = QueueSize::new(256).unwrap();
        assert_eq!(avail_pending(q, 0, 0), Ok(0));
        assert_eq!(avail_pending(q, 10, 266), Ok(256));
        assert_eq!(avail_pending(q, 65530, 4), Ok(10));
        assert_eq!(avail_pending(q, 10, 267), Err(Error::AvailIdxJump));
        assert_eq!(avail_pending(q, 10, 9), Err(Error::AvailIdxJump));
    }
}
