// SPDX-License-Identifier: GPL-2.0-only
//! The errno values the core reports, once for the whole crate (positive;
//! the kernel returns them negated). [`Error::errno`](super::Error::errno)
//! and the ioctl checks of [`vhost::abi`](super::vhost::abi) both use them.

/// Operation not permitted: not the owner, or an IOTLB mapping without the
/// needed permission.
pub const EPERM: i32 = 1;
/// Argument too big: a count over a hard limit (indirect table, memory
/// regions).
pub const E2BIG: i32 = 7;
/// Try again: an IOTLB miss (upstream `translate_desc`).
pub const EAGAIN: i32 = 11;
/// Bad address: a guest or user address that does not resolve to memory.
pub const EFAULT: i32 = 14;
/// Device busy (owner already set; ring running).
pub const EBUSY: i32 = 16;
/// Invalid argument: malformed guest/userspace input (upstream's default).
pub const EINVAL: i32 = 22;
/// Unsupported feature bit or flag.
pub const EOPNOTSUPP: i32 = 95;
/// No buffer space: an output array (iovec array upstream) is full, or a
/// ring index is out of range.
pub const ENOBUFS: i32 = 105;
