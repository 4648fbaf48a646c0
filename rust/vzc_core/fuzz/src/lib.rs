// SPDX-License-Identifier: GPL-2.0-only
//! What the fuzz targets share: hostile guest memory as a byte image, and
//! the fuzzer's choice of addresses.
//!
//! Addresses come as [`Addr`]: mostly small multiples that land inside the
//! image or on its edges (so the fuzzer reaches deep states quickly), and
//! sometimes any 64-bit value (so wrap-around and far-away addresses are
//! tried too).

use arbitrary::Arbitrary;
use vzc_core::{Error, GuestMemory};

/// A guest address chosen by the fuzzer.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Addr {
    /// `base + 16 * n`: inside or just past an image of up to 1 MiB.
    Near(u16),
    /// `base + n`: unaligned, anywhere in the first 64 KiB.
    Byte(u16),
    /// Any value.
    Raw(u64),
}

impl Addr {
    /// The address, relative to `base` where it is near.
    pub fn at(self, base: u64) -> u64 {
        match self {
            Addr::Near(n) => base.wrapping_add(16 * u64::from(n)),
            Addr::Byte(n) => base.wrapping_add(u64::from(n)),
            Addr::Raw(a) => a,
        }
    }
}

/// A size or address chosen by the fuzzer (memory tables, IOTLB entries,
/// chains): whole pages, small numbers, values near 2^64 (wrap-around), or
/// anything.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Val {
    /// `n` pages of 4 KiB.
    Page(u8),
    /// `n` itself.
    Small(u16),
    /// `2^64 - 1 - n`.
    Top(u16),
    /// Any value.
    Raw(u64),
}

impl Val {
    /// The value.
    pub fn get(self) -> u64 {
        match self {
            Val::Page(n) => u64::from(n) << 12,
            Val::Small(n) => u64::from(n),
            Val::Top(n) => u64::MAX - u64::from(n),
            Val::Raw(v) => v,
        }
    }
}

/// Guest RAM: `bytes` at guest physical `base`; the first `ro` bytes are
/// readable but not device-writable (as an IOTLB mapping without write
/// permission).
pub struct Ram {
    /// First guest physical address.
    pub base: u64,
    /// Contents.
    pub bytes: Vec<u8>,
    /// Bytes from `base` the device may not write.
    pub ro: u64,
}

impl Ram {
    /// Offset of `[gpa, gpa + len)` in the image, if all of it is there.
    /// The naive reference: plain arithmetic in u128, no shortcuts.
    pub fn offset(&self, gpa: u64, len: u64) -> Option<usize> {
        let start = u128::from(gpa);
        let end = start + u128::from(len);
        let lo = u128::from(self.base);
        let hi = lo + self.bytes.len() as u128;
        (start >= lo && end <= hi).then(|| (start - lo) as usize)
    }

    /// Whether the device may write all of `[gpa, gpa + len)`.
    pub fn writable(&self, gpa: u64, len: u64) -> bool {
        self.offset(gpa, len).is_some()
            && u128::from(gpa) >= u128::from(self.base) + u128::from(self.ro)
    }
}

impl GuestMemory for Ram {
    fn read_obj(&self, gpa: u64, buf: &mut [u8]) -> Result<(), Error> {
        let off = self
            .offset(gpa, buf.len() as u64)
            .ok_or(Error::AddressNotMapped)?;
        buf.copy_from_slice(&self.bytes[off..off + buf.len()]);
        Ok(())
    }

    fn check_range(&self, gpa: u64, len: u64, write: bool) -> Result<(), Error> {
        if self.offset(gpa, len).is_none() {
            return Err(Error::AddressNotMapped);
        }
        if write && !self.writable(gpa, len) {
            return Err(Error::IotlbPerm);
        }
        Ok(())
    }
}

/// A descriptor table of chains laid out one after another (the guest's
/// buffers for the zero-copy targets), walked by the real walker so the
/// targets hold real [`vzc_core::Segment`]s.
#[derive(Default)]
pub struct Chains {
    descs: Vec<vzc_core::Descriptor>,
}

impl Chains {
    /// Appends a chain of `(gpa, len, device-writable)` buffers; its head.
    pub fn add(&mut self, bufs: &[(u64, u32, bool)]) -> u16 {
        use vzc_core::virtio::desc::{VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE};
        let head = self.descs.len() as u16;
        for (i, &(addr, len, w)) in bufs.iter().enumerate() {
            let mut flags = if w { VIRTQ_DESC_F_WRITE } else { 0 };
            if i + 1 < bufs.len() {
                flags |= VIRTQ_DESC_F_NEXT;
            }
            self.descs.push(vzc_core::Descriptor {
                addr,
                len,
                flags,
                next: head + i as u16 + 1,
            });
        }
        head
    }

    /// Descriptors so far.
    pub fn len(&self) -> usize {
        self.descs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.descs.is_empty()
    }
}

impl vzc_core::DescTable for Chains {
    fn size(&self) -> vzc_core::virtio::desc::QueueSize {
        let n = self.descs.len().next_power_of_two().clamp(1, 32768);
        vzc_core::virtio::desc::QueueSize::new(n as u32).unwrap()
    }

    fn read(&self, index: u16) -> Result<vzc_core::Descriptor, Error> {
        Ok(self
            .descs
            .get(usize::from(index))
            .copied()
            .unwrap_or(vzc_core::Descriptor {
                addr: 0,
                len: 0,
                flags: 0,
                next: 0,
            }))
    }
}

/// Guest memory as a memory table maps it (no contents: walks only).
pub struct TableMem<'a>(pub vzc_core::MemTable<'a>);

impl GuestMemory for TableMem<'_> {
    fn read_obj(&self, _gpa: u64, _buf: &mut [u8]) -> Result<(), Error> {
        Err(Error::Fault)
    }

    fn check_range(&self, gpa: u64, len: u64, _write: bool) -> Result<(), Error> {
        self.0.check_range(gpa, len)
    }
}

/// Pinned host pages and their device addresses.
#[derive(Default, Debug)]
pub struct Pinned(pub std::collections::BTreeMap<u64, u64>);

impl vzc_core::zc::contain::PinnedPages for Pinned {
    fn page_dma(&self, hva_page: u64) -> Option<u64> {
        assert_eq!(
            hva_page % vzc_core::zc::contain::PAGE,
            0,
            "asked for an unaligned page"
        );
        self.0.get(&hva_page).copied()
    }
}
