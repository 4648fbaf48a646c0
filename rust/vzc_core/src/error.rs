// SPDX-License-Identifier: GPL-2.0-only
//! The single error type of the crate.

use super::errno::{E2BIG, EAGAIN, EFAULT, EINVAL, ENOBUFS, EPERM};

/// Why a guest- or userspace-supplied value was rejected.
///
/// Kept `Copy` and data-free so it can cross into the kernel glue for free
/// and be logged with `{:?}`; the variant name is the diagnostic, mirroring
/// the `vq_err()` messages of upstream vhost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Queue size is zero, not a power of two, or above 32768.
    BadQueueSize,
    /// A head or `next` index is not below the queue size (or, inside an
    /// indirect table, below the table's descriptor count).
    IndexOutOfRange,
    /// More descriptors were visited than the table holds: the chain loops.
    Loop,
    /// An indirect table contains a descriptor with `INDIRECT` set.
    NestedIndirect,
    /// A descriptor has both `INDIRECT` and `NEXT` set (virtio 2.7.5.3.1).
    IndirectWithNext,
    /// An indirect descriptor's length is zero or not a multiple of 16.
    BadIndirectLen,
    /// An indirect table has more than 65536 entries (unaddressable by the
    /// 16-bit `next` field).
    IndirectTooBig,
    /// A device-readable descriptor follows a device-writable one
    /// (upstream: "Descriptor has out after in").
    ReadAfterWrite,
    /// An address + length (or a chain's total length) overflows.
    LengthOverflow,
    /// A guest physical address is not covered by the memory table.
    AddressNotMapped,
    /// A guest range that must be host-contiguous spans two regions.
    CrossesRegion,
    /// The caller's segment array cannot hold the whole chain.
    TooManySegments,
    /// The guest moved the avail index by more than the queue size
    /// (upstream: "Guest moved avail index from %u to %u").
    AvailIdxJump,
    /// A memory region has zero size or its end overflows.
    BadRegion,
    /// Two memory regions overlap in guest physical address space.
    OverlappingRegions,
    /// More memory regions than [`MAX_MEM_REGIONS`](super::vhost::mem::MAX_MEM_REGIONS).
    TooManyRegions,
    /// A ring address is not aligned as the virtio spec requires.
    Misaligned,
    /// Reading guest memory failed even though the address is mapped
    /// (e.g. `copy_from_user` faulted); reported by [`GuestMemory`]
    /// implementations, never by this crate itself.
    ///
    /// [`GuestMemory`]: super::GuestMemory
    Fault,
    /// An IOVA no IOTLB mapping covers (`VIRTIO_F_ACCESS_PLATFORM`): not an
    /// error of the guest, userspace is asked for the mapping.
    IotlbMiss,
    /// An IOTLB mapping lacks the permission the access needs.
    IotlbPerm,
}

impl Error {
    /// The positive errno upstream vhost returns for the same condition.
    ///
    /// Positive so it is usable both for logging and, negated, as a kernel
    /// return value (`-err.errno()`). Anything that upstream reports through
    /// a failed translation is `EFAULT`; a full iovec array is `ENOBUFS`;
    /// over-limit counts are `E2BIG`; every other malformed input is `EINVAL`.
    pub fn errno(&self) -> i32 {
        match self {
            Error::AddressNotMapped | Error::CrossesRegion | Error::AvailIdxJump | Error::Fault => {
                EFAULT
            }
            Error::TooManySegments => ENOBUFS,
            Error::IotlbMiss => EAGAIN,
            Error::IotlbPerm => EPERM,
            Error::IndirectTooBig | Error::TooManyRegions => E2BIG,
            Error::BadQueueSize
            | Error::IndexOutOfRange
            | Error::Loop
            | Error::NestedIndirect
            | Error::IndirectWithNext
            | Error::BadIndirectLen
            | Error::ReadAfterWrite
            | Error::LengthOverflow
            | Error::BadRegion
            | Error::OverlappingRegions
            | Error::Misaligned => EINVAL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn errno_mapping_matches_upstream() {
        assert_eq!(Error::Loop.errno(), 22);
        assert_eq!(Error::AddressNotMapped.errno(), 14);
        assert_eq!(Error::AvailIdxJump.errno(), 14);
        assert_eq!(Error::TooManySegments.errno(), 105);
        assert_eq!(Error::IndirectTooBig.errno(), 7);
        assert_eq!(Error::TooManyRegions.errno(), 7);
    }
}
