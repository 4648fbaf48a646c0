// SPDX-License-Identifier: GPL-2.0-only
//! The errno values the core reports, once for the whole crate (positive;
//! the kernel returns them negated). [`Error::errno`](super::Error::errno)
//! and the ioctl checks of [`vhost::abi`](super::vhost::abi) both use them.

/// Operation not permitted: not the owner, or an IOTLB mapping without the
/// needed permission.
pub const EPERM: i32 = 1;
/// No such entry: a port that is not bound.
pub const ENOENT: i32 = 2;
/// Argument too big: a count over a hard limit (indirect table, memory
/// regions).
pub const E2BIG: i32 = 7;
/// Try again: an IOTLB miss (upstream `translate_desc`).
pub const EAGAIN: i32 = 11;
/// Out of memory (also: over RLIMIT_MEMLOCK, as vhost-vdpa and VFIO say it).
pub const ENOMEM: i32 = 12;
/// Bad address: a guest or user address that does not resolve to memory.
pub const EFAULT: i32 = 14;
/// Device busy (owner already set; ring running).
pub const EBUSY: i32 = 16;
/// Exists already: a tap that is bound.
pub const EEXIST: i32 = 17;
/// No such device: no tap of that name, no PCI device at that address.
pub const ENODEV: i32 = 19;
/// Invalid argument: malformed guest/userspace input (upstream's default).
pub const EINVAL: i32 = 22;
/// No space left: the port table is full.
pub const ENOSPC: i32 = 28;
/// Unsupported feature bit or flag.
pub const EOPNOTSUPP: i32 = 95;
/// No buffer space: an output array (iovec array upstream) is full, or a
/// ring index is out of range.
pub const ENOBUFS: i32 = 105;
