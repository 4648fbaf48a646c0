// SPDX-License-Identifier: GPL-2.0-only
//! The vhost / vhost-net ioctl ABI: numbers, argument layouts and the
//! argument checks of upstream `drivers/vhost/{vhost,net}.c` (7.3), in the
//! order upstream makes them, so that userspace sees the same errno.
//!
//! Arguments arrive as raw bytes copied from userspace; each is decoded into
//! a type here and validated once. The kernel glue only copies bytes and
//! keeps state (owner, eventfds, rings).

/// Errnos of the ioctl ABI: the crate's one table.
pub use super::super::errno;

const VHOST_VIRTIO: u32 = 0xaf;
const fn io(nr: u32) -> u32 {
    (VHOST_VIRTIO << 8) | nr
}
const fn ior(nr: u32, size: u32) -> u32 {
    (2 << 30) | (size << 16) | io(nr)
}
const fn iow(nr: u32, size: u32) -> u32 {
    (1 << 30) | (size << 16) | io(nr)
}
const fn iowr(nr: u32, size: u32) -> u32 {
    (3 << 30) | (size << 16) | io(nr)
}

/// `VHOST_GET_FEATURES` (`_IOR(0xAF, 0x00, __u64)`).
pub const VHOST_GET_FEATURES: u32 = ior(0x00, 8);
/// `VHOST_SET_FEATURES`.
pub const VHOST_SET_FEATURES: u32 = iow(0x00, 8);
/// `VHOST_SET_OWNER`.
pub const VHOST_SET_OWNER: u32 = io(0x01);
/// `VHOST_RESET_OWNER`.
pub const VHOST_RESET_OWNER: u32 = io(0x02);
/// `VHOST_SET_MEM_TABLE` (header of `struct vhost_memory`).
pub const VHOST_SET_MEM_TABLE: u32 = iow(0x03, 8);
/// `VHOST_SET_LOG_BASE`.
pub const VHOST_SET_LOG_BASE: u32 = iow(0x04, 8);
/// `VHOST_SET_LOG_FD`.
pub const VHOST_SET_LOG_FD: u32 = iow(0x07, 4);
/// `VHOST_SET_VRING_NUM`.
pub const VHOST_SET_VRING_NUM: u32 = iow(0x10, 8);
/// `VHOST_SET_VRING_ADDR`.
pub const VHOST_SET_VRING_ADDR: u32 = iow(0x11, 40);
/// `VHOST_SET_VRING_BASE`.
pub const VHOST_SET_VRING_BASE: u32 = iow(0x12, 8);
/// `VHOST_GET_VRING_BASE`.
pub const VHOST_GET_VRING_BASE: u32 = iowr(0x12, 8);
/// `VHOST_SET_VRING_KICK`.
pub const VHOST_SET_VRING_KICK: u32 = iow(0x20, 8);
/// `VHOST_SET_VRING_CALL`.
pub const VHOST_SET_VRING_CALL: u32 = iow(0x21, 8);
/// `VHOST_SET_VRING_ERR`.
pub const VHOST_SET_VRING_ERR: u32 = iow(0x22, 8);
/// `VHOST_SET_VRING_BUSYLOOP_TIMEOUT`.
pub const VHOST_SET_VRING_BUSYLOOP_TIMEOUT: u32 = iow(0x23, 8);
/// `VHOST_GET_VRING_BUSYLOOP_TIMEOUT` (declared `_IOW` upstream, yet it writes back).
pub const VHOST_GET_VRING_BUSYLOOP_TIMEOUT: u32 = iow(0x24, 8);
/// `VHOST_SET_BACKEND_FEATURES`.
pub const VHOST_SET_BACKEND_FEATURES: u32 = iow(0x25, 8);
/// `VHOST_GET_BACKEND_FEATURES`.
pub const VHOST_GET_BACKEND_FEATURES: u32 = ior(0x26, 8);
/// `VHOST_NET_SET_BACKEND`.
pub const VHOST_NET_SET_BACKEND: u32 = iow(0x30, 8);
/// `VHOST_GET_FEATURES_ARRAY` (header: `__u64 count`).
pub const VHOST_GET_FEATURES_ARRAY: u32 = ior(0x83, 8);
/// `VHOST_SET_FEATURES_ARRAY`.
pub const VHOST_SET_FEATURES_ARRAY: u32 = iow(0x83, 8);
/// `VHOST_SET_FORK_FROM_OWNER` (`__u8`).
pub const VHOST_SET_FORK_FROM_OWNER: u32 = iow(0x84, 1);
/// `VHOST_GET_FORK_FROM_OWNER`.
pub const VHOST_GET_FORK_FROM_OWNER: u32 = ior(0x85, 1);

/// `VIRTIO_NET_F_MRG_RXBUF`.
pub const VIRTIO_NET_F_MRG_RXBUF: u32 = 15;
/// `VHOST_F_LOG_ALL`.
pub const VHOST_F_LOG_ALL: u32 = 26;
/// `VIRTIO_F_ANY_LAYOUT`; the same bit is `VHOST_NET_F_VIRTIO_NET_HDR`.
pub const VIRTIO_F_ANY_LAYOUT: u32 = 27;
/// `VIRTIO_RING_F_INDIRECT_DESC`.
pub const VIRTIO_RING_F_INDIRECT_DESC: u32 = 28;
/// `VIRTIO_RING_F_EVENT_IDX`.
pub const VIRTIO_RING_F_EVENT_IDX: u32 = 29;
/// `VIRTIO_F_VERSION_1`.
pub const VIRTIO_F_VERSION_1: u32 = 32;
/// `VIRTIO_F_ACCESS_PLATFORM`: ring and buffer addresses are IOVAs,
/// translated through the device IOTLB userspace fills.
pub const VIRTIO_F_ACCESS_PLATFORM: u32 = 33;
/// `VHOST_BACKEND_F_IOTLB_MSG_V2`: IOTLB messages in `struct vhost_msg_v2`.
pub const VHOST_BACKEND_F_IOTLB_MSG_V2: u32 = 1;

const fn bit(b: u32) -> u64 {
    1 << b
}

/// Features vhost-zc offers. Upstream 7.3 also offers NOTIFY_ON_EMPTY,
/// RING_RESET, IN_ORDER and the UDP-tunnel GSO bits;
/// Documentation/vhost.rst lists each gap and why.
pub const VHOST_ZC_FEATURES: u64 = bit(VIRTIO_NET_F_MRG_RXBUF)
    | bit(VHOST_F_LOG_ALL)
    | bit(VIRTIO_F_ANY_LAYOUT)
    | bit(VIRTIO_RING_F_INDIRECT_DESC)
    | bit(VIRTIO_RING_F_EVENT_IDX)
    | bit(VIRTIO_F_VERSION_1)
    | bit(VIRTIO_F_ACCESS_PLATFORM);

/// Backend features offered, as upstream vhost_net: IOTLB messages V2.
pub const VHOST_ZC_BACKEND_FEATURES: u64 = bit(VHOST_BACKEND_F_IOTLB_MSG_V2);

/// Number of `u64` words in a feature array the kernel knows (`VIRTIO_FEATURES_U64S`).
pub const FEATURES_U64S: usize = 2;

/// The virtqueues of a vhost-net device: RX is 0, TX is 1.
pub const VHOST_NET_VQ_MAX: u32 = 2;

/// Upstream's default `max_mem_regions` module parameter.
pub const DEFAULT_MAX_MEM_REGIONS: u32 = 64;

/// `VHOST_VRING_F_LOG`: the only flag of `struct vhost_vring_addr`.
pub const VHOST_VRING_F_LOG: u32 = 0;

fn le32(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Checks a ring index (`index >= 2` is `ENOBUFS`, as upstream).
pub fn vring_index(index: u32) -> Result<usize, i32> {
    if index >= VHOST_NET_VQ_MAX {
        return Err(errno::ENOBUFS);
    }
    Ok(index as usize)
}

/// `struct vhost_vring_state { __u32 index; __u32 num; }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VringState {
    /// Ring index (not yet validated).
    pub index: u32,
    /// The value.
    pub num: u32,
}

impl VringState {
    /// Decodes the 8 bytes userspace passed.
    pub fn from_bytes(b: &[u8; 8]) -> Self {
        Self {
            index: le32(b, 0),
            num: le32(b, 4),
        }
    }

    /// Encodes for copying back to userspace.
    pub fn to_bytes(self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&self.index.to_le_bytes());
        b[4..].copy_from_slice(&self.num.to_le_bytes());
        b
    }
}

/// `struct vhost_vring_file { __u32 index; int fd; }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VringFile {
    /// Ring index (not yet validated).
    pub index: u32,
    /// File descriptor; `-1` unbinds.
    pub fd: i32,
}

impl VringFile {
    /// Decodes the 8 bytes userspace passed.
    pub fn from_bytes(b: &[u8; 8]) -> Self {
        Self {
            index: le32(b, 0),
            fd: le32(b, 4) as i32,
        }
    }
}

/// Checks `VHOST_SET_VRING_NUM`'s value: a power of two in 1..=32768
/// (upstream: `!num || num > 0xffff || num & (num - 1)` is `EINVAL`).
pub fn vring_num(num: u32) -> Result<u16, i32> {
    if num == 0 || num > 0xffff || num & (num - 1) != 0 {
        return Err(errno::EINVAL);
    }
    // A power of two not above 0xffff is at most 0x8000.
    Ok(num as u16)
}

/// Checks `VHOST_SET_VRING_BASE`'s value (`num > 0xffff` is `EINVAL`).
pub fn vring_base(num: u32) -> Result<u16, i32> {
    u16::try_from(num).map_err(|_| errno::EINVAL)
}

/// `struct vhost_vring_addr`, validated: flags known, rings aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VringAddr {
    /// Ring index (not yet validated).
    pub index: u32,
    /// Whether used-ring writes are dirty-logged (`VHOST_VRING_F_LOG`).
    pub log_used: bool,
    /// Userspace address of the descriptor table.
    pub desc: u64,
    /// Userspace address of the used ring.
    pub used: u64,
    /// Userspace address of the avail ring.
    pub avail: u64,
    /// Guest physical address of the used ring, for the dirty log.
    pub log_guest: u64,
}

impl VringAddr {
    /// Reads only the index, which upstream validates before the rest.
    pub fn index_of(b: &[u8; 40]) -> u32 {
        le32(b, 0)
    }

    /// Decodes and checks the 40 bytes userspace passed, in upstream's order:
    /// unknown flags are `EOPNOTSUPP`; a misaligned avail (2), used (4) or
    /// log (4) address is `EINVAL`. Upstream does not check the descriptor
    /// table's alignment here, so neither do we (the walker never assumes it).
    pub fn from_bytes(b: &[u8; 40]) -> Result<Self, i32> {
        let flags = le32(b, 4);
        if flags & !(1 << VHOST_VRING_F_LOG) != 0 {
            return Err(errno::EOPNOTSUPP);
        }
        let a = Self {
            index: le32(b, 0),
            log_used: flags & (1 << VHOST_VRING_F_LOG) != 0,
            desc: le64(b, 8),
            used: le64(b, 16),
            avail: le64(b, 24),
            log_guest: le64(b, 32),
        };
        if a.avail & 1 != 0 || a.used & 3 != 0 || a.log_guest & 3 != 0 {
            return Err(errno::EINVAL);
        }
        Ok(a)
    }
}

/// Checks a feature word against what is offered (`EOPNOTSUPP` otherwise).
pub fn features(requested: u64, offered: u64) -> Result<u64, i32> {
    if requested & !offered != 0 {
        return Err(errno::EOPNOTSUPP);
    }
    Ok(requested)
}

/// The ranges upstream checks with `access_ok` before it uses or keeps ring
/// and log addresses (`vq_access_ok`, `log_access_ok`,
/// `vq_memory_access_ok`): each is `(user address, bytes)`; `None` means
/// the check fails before any `access_ok` (address arithmetic overflows).
pub mod access {
    /// Bytes of a descriptor table of `num` entries (`vhost_get_desc_size`).
    pub fn desc_size(num: u32) -> u64 {
        16 * u64::from(num)
    }

    /// Bytes of an avail ring (`vhost_get_avail_size`): flags, idx, the
    /// entries and, with event idx, `used_event`.
    pub fn avail_size(num: u32, event_idx: bool) -> u64 {
        4 + 2 * u64::from(num) + if event_idx { 2 } else { 0 }
    }

    /// Bytes of a used ring (`vhost_get_used_size`).
    pub fn used_size(num: u32, event_idx: bool) -> u64 {
        4 + 8 * u64::from(num) + if event_idx { 2 } else { 0 }
    }

    /// The dirty-log bytes for `sz` guest bytes at `addr` (`log_access_ok`:
    /// one bit per 4 KiB page, so `addr / 4096 / 8` bytes in). The length
    /// wraps as upstream's `unsigned long` does.
    pub fn log_range(log_base: u64, addr: u64, sz: u64) -> Option<(u64, u64)> {
        let a = addr / 4096 / 8;
        let start = log_base.checked_add(a)?;
        Some((start, sz.wrapping_add(4096 * 8 - 1) / 4096 / 8))
    }

    /// Whether a region of `size` bytes at user address `uaddr` wraps
    /// (`vhost_overflow`).
    pub fn region_overflows(uaddr: u64, size: u64) -> bool {
        size != 0 && uaddr > u64::MAX - size + 1
    }
}

/// Size of the header of `struct vhost_memory`.
pub const MEM_HEADER_SIZE: usize = 8;
/// Size of one `struct vhost_memory_region`.
pub const MEM_REGION_SIZE: usize = 32;

/// Checks the header of `VHOST_SET_MEM_TABLE` and returns the region count:
/// nonzero padding is `EOPNOTSUPP`, more than `max_regions` is `E2BIG`.
pub fn mem_header(b: &[u8; MEM_HEADER_SIZE], max_regions: u32) -> Result<usize, i32> {
    let nregions = le32(b, 0);
    if le32(b, 4) != 0 {
        return Err(errno::EOPNOTSUPP);
    }
    if nregions > max_regions {
        return Err(errno::E2BIG);
    }
    Ok(nregions as usize)
}

/// Decodes one `struct vhost_memory_region` (its `flags_padding` is ignored,
/// as upstream does). The table as a whole is validated by
/// [`MemTable::new`](super::super::MemTable::new), whose errors the ioctl reports as
/// `EFAULT`, as upstream reports a failed `vhost_iotlb_add_range`.
pub fn mem_region(b: &[u8; MEM_REGION_SIZE]) -> super::mem::MemRegion {
    super::mem::MemRegion {
        guest_phys_addr: le64(b, 0),
        size: le64(b, 8),
        userspace_addr: le64(b, 16),
    }
}

/// `VHOST_IOTLB_MSG`: a `struct vhost_msg` write.
pub const VHOST_IOTLB_MSG: u32 = 1;
/// `VHOST_IOTLB_MSG_V2`: a `struct vhost_msg_v2` write.
pub const VHOST_IOTLB_MSG_V2: u32 = 2;
/// `VHOST_IOTLB_MISS`: the device asks userspace for a translation.
pub const VHOST_IOTLB_MISS: u8 = 1;
/// `VHOST_IOTLB_UPDATE`.
pub const VHOST_IOTLB_UPDATE: u8 = 2;
/// `VHOST_IOTLB_INVALIDATE`.
pub const VHOST_IOTLB_INVALIDATE: u8 = 3;

/// The `VHOST_IOTLB_MISS` message the device file reads out: `format`
/// `VHOST_IOTLB_MSG_V2` if that backend feature is acked, else
/// `VHOST_IOTLB_MSG`; both lay the `vhost_iotlb_msg` at byte 8.
pub fn encode_miss(format: u32, iova: u64, perm: u8) -> [u8; VHOST_MSG_SIZE] {
    let mut b = [0u8; VHOST_MSG_SIZE];
    b[0..4].copy_from_slice(&format.to_le_bytes());
    b[8..16].copy_from_slice(&iova.to_le_bytes());
    b[32] = perm;
    b[33] = VHOST_IOTLB_MISS;
    b
}
/// Bytes of `struct vhost_msg` / `vhost_msg_v2`; a read shorter than this returns 0.
pub const VHOST_MSG_SIZE: usize = 72;
/// Bytes a write must carry to be decoded: type, hole/asid, `struct vhost_iotlb_msg`.
pub const IOTLB_WRITE_MIN: usize = 8 + 32;

/// One IOTLB message written to the device file, decoded as upstream's
/// `vhost_chr_write_iter` does (no `VHOST_BACKEND_F_IOTLB_ASID`: the 4 bytes
/// after the type are skipped in both formats).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IotlbMsg {
    /// `VHOST_IOTLB_MSG` or `VHOST_IOTLB_MSG_V2`.
    pub format: u32,
    /// I/O virtual address.
    pub iova: u64,
    /// Length.
    pub size: u64,
    /// Userspace address.
    pub uaddr: u64,
    /// Access permission (`VHOST_ACCESS_*`).
    pub perm: u8,
    /// Message type (`VHOST_IOTLB_*`).
    pub kind: u8,
}

impl IotlbMsg {
    /// Decodes the first bytes of a write: fewer than 4 bytes, an unknown
    /// format or a short message is `EINVAL`, as is an UPDATE of size 0.
    pub fn decode(b: &[u8]) -> Result<Self, i32> {
        if b.len() < 4 {
            return Err(errno::EINVAL);
        }
        let format = le32(b, 0);
        if format != VHOST_IOTLB_MSG && format != VHOST_IOTLB_MSG_V2 {
            return Err(errno::EINVAL);
        }
        if b.len() < IOTLB_WRITE_MIN {
            return Err(errno::EINVAL);
        }
        let m = Self {
            format,
            iova: le64(b, 8),
            size: le64(b, 16),
            uaddr: le64(b, 24),
            perm: b[32],
            kind: b[33],
        };
        if m.kind == VHOST_IOTLB_UPDATE && m.size == 0 {
            return Err(errno::EINVAL);
        }
        Ok(m)
    }
}

/// `VHOST_SET_FORK_FROM_OWNER` takes 0 (kthread) or 1 (task); else `EINVAL`.
pub fn fork_from_owner(v: u8) -> Result<bool, i32> {
    match v {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(errno::EINVAL),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn miss_message_layout() {
        let b = encode_miss(VHOST_IOTLB_MSG_V2, 0x1234_5000, 2);
        assert_eq!(&b[0..8], &[2, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(le64(&b, 8), 0x1234_5000);
        assert_eq!((le64(&b, 16), le64(&b, 24)), (0, 0));
        assert_eq!((b[32], b[33]), (2, VHOST_IOTLB_MISS));
        // What the device writes, the decoder (userspace's view) reads back.
        let m = IotlbMsg::decode(&b).unwrap();
        assert_eq!((m.format, m.iova, m.perm, m.kind), (2, 0x1234_5000, 2, 1));
    }

    #[test]
    fn access_ranges_match_upstream() {
        use super::access::*;
        assert_eq!(desc_size(256), 4096);
        assert_eq!(avail_size(256, false), 516);
        assert_eq!(avail_size(256, true), 518);
        assert_eq!(used_size(256, false), 2052);
        assert_eq!(used_size(256, true), 2054);
        // Guest address 1 GiB: byte 1 GiB / 32 KiB of the log; 3 pages need 1 byte.
        assert_eq!(
            log_range(0x1000, 1 << 30, 3 * 4096),
            Some((0x1000 + (1 << 15), 1))
        );
        assert_eq!(log_range(0x1000, 0, 0), Some((0x1000, 0)));
        // 32 KiB of guest memory is one log byte; one more byte makes two.
        assert_eq!(log_range(0, 0, 32768), Some((0, 1)));
        assert_eq!(log_range(0, 0, 32769), Some((0, 2)));
        assert_eq!(log_range(u64::MAX, 1 << 15, 1), None);
        assert!(!region_overflows(0x1000, 0));
        assert!(!region_overflows(u64::MAX, 1));
        assert!(region_overflows(u64::MAX, 2));
        assert!(!region_overflows(0, u64::MAX));
    }
    use super::*;

    #[test]
    fn ioctl_numbers_match_linux_uapi() {
        // Values of the 7.3 uapi header, as computed by the C preprocessor.
        assert_eq!(VHOST_GET_FEATURES, 0x8008_af00);
        assert_eq!(VHOST_SET_FEATURES, 0x4008_af00);
        assert_eq!(VHOST_SET_OWNER, 0x0000_af01);
        assert_eq!(VHOST_RESET_OWNER, 0x0000_af02);
        assert_eq!(VHOST_SET_MEM_TABLE, 0x4008_af03);
        assert_eq!(VHOST_SET_LOG_FD, 0x4004_af07);
        assert_eq!(VHOST_SET_VRING_ADDR, 0x4028_af11);
        assert_eq!(VHOST_GET_VRING_BASE, 0xc008_af12);
        assert_eq!(VHOST_GET_VRING_BUSYLOOP_TIMEOUT, 0x4008_af24);
        assert_eq!(VHOST_NET_SET_BACKEND, 0x4008_af30);
        assert_eq!(VHOST_GET_FEATURES_ARRAY, 0x8008_af83);
        assert_eq!(VHOST_SET_FORK_FROM_OWNER, 0x4001_af84);
    }

    #[test]
    fn vring_num_and_base() {
        assert_eq!(vring_num(256), Ok(256));
        assert_eq!(vring_num(32768), Ok(32768));
        for bad in [0, 3, 65535, 65536, 1 << 20, u32::MAX] {
            assert_eq!(vring_num(bad), Err(errno::EINVAL), "{bad}");
        }
        assert_eq!(vring_base(0xffff), Ok(0xffff));
        assert_eq!(vring_base(0x10000), Err(errno::EINVAL));
        assert_eq!(vring_index(1), Ok(1));
        assert_eq!(vring_index(2), Err(errno::ENOBUFS));
    }

    fn addr(flags: u32, desc: u64, used: u64, avail: u64, log: u64) -> [u8; 40] {
        let mut b = [0u8; 40];
        b[4..8].copy_from_slice(&flags.to_le_bytes());
        b[8..16].copy_from_slice(&desc.to_le_bytes());
        b[16..24].copy_from_slice(&used.to_le_bytes());
        b[24..32].copy_from_slice(&avail.to_le_bytes());
        b[32..40].copy_from_slice(&log.to_le_bytes());
        b
    }

    #[test]
    fn vring_addr_checks_in_upstream_order() {
        let ok = VringAddr::from_bytes(&addr(1, 0x1001, 0x2000, 0x3002, 0x4000)).unwrap();
        assert!(ok.log_used);
        assert_eq!((ok.desc, ok.used, ok.avail), (0x1001, 0x2000, 0x3002));
        // Unknown flag wins over misalignment.
        assert_eq!(
            VringAddr::from_bytes(&addr(2, 0, 0x2001, 0, 0)),
            Err(errno::EOPNOTSUPP)
        );
        assert_eq!(
            VringAddr::from_bytes(&addr(0, 0, 0, 0x3001, 0)),
            Err(errno::EINVAL)
        );
        assert_eq!(
            VringAddr::from_bytes(&addr(0, 0, 0x2002, 0, 0)),
            Err(errno::EINVAL)
        );
        assert_eq!(
            VringAddr::from_bytes(&addr(0, 0, 0, 0, 0x4002)),
            Err(errno::EINVAL)
        );
    }

    #[test]
    fn features_and_memory_header() {
        assert_eq!(
            features(VHOST_ZC_FEATURES, VHOST_ZC_FEATURES),
            Ok(VHOST_ZC_FEATURES)
        );
        // NOTIFY_ON_EMPTY (24) is not offered.
        assert_eq!(
            features(bit(24) | bit(VIRTIO_F_ACCESS_PLATFORM), VHOST_ZC_FEATURES),
            Err(errno::EOPNOTSUPP)
        );
        let mut h = [0u8; 8];
        h[0] = 64;
        assert_eq!(mem_header(&h, 64), Ok(64));
        h[0] = 65;
        assert_eq!(mem_header(&h, 64), Err(errno::E2BIG));
        h[4] = 1;
        assert_eq!(mem_header(&h, 64), Err(errno::EOPNOTSUPP));
        assert_eq!(fork_from_owner(2), Err(errno::EINVAL));
    }

    #[test]
    fn iotlb_write_decoding() {
        let mut b = [0u8; 72];
        b[0] = 2;
        b[16] = 1; // size 1
        b[33] = VHOST_IOTLB_UPDATE;
        let m = IotlbMsg::decode(&b).unwrap();
        assert_eq!((m.format, m.size, m.kind), (2, 1, VHOST_IOTLB_UPDATE));
        assert_eq!(IotlbMsg::decode(&b[..3]), Err(errno::EINVAL));
        assert_eq!(IotlbMsg::decode(&b[..39]), Err(errno::EINVAL));
        b[16] = 0;
        assert_eq!(IotlbMsg::decode(&b), Err(errno::EINVAL));
        b[0] = 3;
        assert_eq!(IotlbMsg::decode(&b), Err(errno::EINVAL));
    }

    #[test]
    fn round_trips() {
        let s = VringState { index: 1, num: 77 };
        assert_eq!(VringState::from_bytes(&s.to_bytes()), s);
        let mut f = [0u8; 8];
        f[4..].copy_from_slice(&(-1i32).to_le_bytes());
        assert_eq!(VringFile::from_bytes(&f).fd, -1);
        let mut r = [0u8; 32];
        r[0..8].copy_from_slice(&0x1000u64.to_le_bytes());
        r[8..16].copy_from_slice(&0x2000u64.to_le_bytes());
        r[16..24].copy_from_slice(&0x7f00_0000u64.to_le_bytes());
        let m = mem_region(&r);
        assert_eq!(
            (m.guest_phys_addr, m.size, m.userspace_addr),
            (0x1000, 0x2000, 0x7f00_0000)
        );
    }
}
