// SPDX-License-Identifier: GPL-2.0-only
//! Guest memory table: guest physical address -> host (userspace) address.
//!
//! This is the non-IOTLB translation of upstream vhost: userspace hands us
//! `struct vhost_memory_region`s with `VHOST_SET_MEM_TABLE`, and every guest
//! buffer address is looked up in them (`translate_desc`). The table is
//! validated once at construction so lookups can rely on its invariants and
//! stay overflow-free on any input.

use super::super::error::Error;

/// Largest number of regions [`MemTable::new`] accepts.
///
/// KVM's slot limit (509) bounds what a VMM can usefully register, and it
/// keeps the O(n^2) overlap check trivially cheap. The kernel module applies
/// its own `max_mem_regions` policy (upstream default 64) before this.
pub const MAX_MEM_REGIONS: usize = 509;

/// One contiguous mapping of guest physical memory into the VMM's address
/// space, as in `struct vhost_memory_region`.
///
/// Fields are public because this is the raw, untrusted input form; only a
/// [`MemTable`] built from it is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemRegion {
    /// First guest physical address of the region.
    pub guest_phys_addr: u64,
    /// Size of the region in bytes.
    pub size: u64,
    /// Host (VMM userspace) address that `guest_phys_addr` maps to.
    pub userspace_addr: u64,
}

impl MemRegion {
    /// Inclusive last guest address. Inclusive ends let a region reach the
    /// top of the address space without the exclusive end overflowing.
    /// Only called on validated regions.
    fn guest_last(&self) -> u64 {
        // Validated: size != 0 and no overflow.
        self.guest_phys_addr + (self.size - 1)
    }

    /// Checks the region on its own: non-empty, and neither the guest nor
    /// the host range wraps around the 64-bit address space.
    fn validate(&self) -> Result<(), Error> {
        if self.size == 0 {
            return Err(Error::BadRegion);
        }
        let span = self.size - 1;
        if self.guest_phys_addr.checked_add(span).is_none()
            || self.userspace_addr.checked_add(span).is_none()
        {
            return Err(Error::BadRegion);
        }
        Ok(())
    }

    /// Whether `gpa` lies inside this (validated) region.
    fn contains(&self, gpa: u64) -> bool {
        gpa >= self.guest_phys_addr && gpa <= self.guest_last()
    }
}

/// A contiguous range of host (VMM userspace) memory.
///
/// Only produced by translation through a [`MemTable`], so `addr + len`
/// never overflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostRange {
    addr: u64,
    len: u64,
}

impl HostRange {
    /// A range produced by a translation of this crate.
    pub(super) fn new(addr: u64, len: u64) -> Self {
        Self { addr, len }
    }

    /// Host (userspace) start address.
    pub fn addr(&self) -> u64 {
        self.addr
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the range is empty (only from a zero-length [`MemTable::translate`]).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A validated guest memory table over a borrowed slice of regions.
///
/// Borrowing (rather than owning an array) lets the kernel keep the regions
/// in whatever allocation it already has (e.g. an RCU-protected `KVec`)
/// without this crate needing `alloc`. Regions need not be sorted.
#[derive(Debug, Clone, Copy)]
pub struct MemTable<'a> {
    regions: &'a [MemRegion],
}

impl<'a> MemTable<'a> {
    /// Validates `regions` and wraps them.
    ///
    /// Rejects more than [`MAX_MEM_REGIONS`] entries (`E2BIG` like
    /// `vhost_set_memory`), zero-sized or wrapping regions, and regions that
    /// overlap in guest physical space: with overlaps, a GPA would have two
    /// host meanings and the lookup result would depend on region order.
    /// Host ranges may overlap (aliasing the same host memory is harmless).
    /// An empty table is allowed, as upstream allows `nregions == 0`.
    pub fn new(regions: &'a [MemRegion]) -> Result<Self, Error> {
        if regions.len() > MAX_MEM_REGIONS {
            return Err(Error::TooManyRegions);
        }
        for r in regions {
            r.validate()?;
        }
        for (i, a) in regions.iter().enumerate() {
            for b in &regions[i + 1..] {
                // Inclusive ranges [a0,a1] and [b0,b1] overlap iff each
                // starts no later than the other ends.
                if a.guest_phys_addr <= b.guest_last() && b.guest_phys_addr <= a.guest_last() {
                    return Err(Error::OverlappingRegions);
                }
            }
        }
        Ok(MemTable { regions })
    }

    /// The validated regions.
    pub fn regions(&self) -> &'a [MemRegion] {
        self.regions
    }

    /// Finds the region containing `gpa`.
    ///
    /// A linear scan: tables are small, and regions are unsorted.
    fn find(&self, gpa: u64) -> Option<&'a MemRegion> {
        self.regions.iter().find(|r| r.contains(gpa))
    }

    /// Translates the guest range `[gpa, gpa + len)` into host ranges, one
    /// per region it passes through, in guest address order.
    ///
    /// Like upstream `translate_desc`, a buffer may span adjacent regions and
    /// then needs several iovecs. The iterator yields an error (and then
    /// stops) if the range wraps (`LengthOverflow`) or any byte is unmapped
    /// (`AddressNotMapped`). A zero-length range yields nothing.
    pub fn translate_iter(&self, gpa: u64, len: u64) -> Translate<'a> {
        Translate {
            table: *self,
            cur: gpa,
            remaining: len,
            failed: false,
        }
    }

    /// Translates a guest range that must be host-contiguous, i.e. lie in a
    /// single region (`CrossesRegion` otherwise).
    ///
    /// For fixed-layout objects (ring structures, headers) the caller wants
    /// one host pointer. A zero-length range translates to an empty host
    /// range at `gpa`'s host address, so `gpa` must still be mapped.
    pub fn translate(&self, gpa: u64, len: u64) -> Result<HostRange, Error> {
        // The common case first: the whole range inside `gpa`'s region
        // (inclusive ends, so no overflow). It is what the general path
        // below returns for it, without the iterator; every other case,
        // errors included, goes there (make bench: ~20 instructions per
        // call, four calls per zero-copy frame).
        if let Some(r) = self.find(gpa) {
            if len != 0 && len - 1 <= r.guest_last() - gpa {
                return Ok(HostRange {
                    addr: r.userspace_addr + (gpa - r.guest_phys_addr),
                    len,
                });
            }
        }
        if len == 0 {
            let r = self.find(gpa).ok_or(Error::AddressNotMapped)?;
            return Ok(HostRange {
                addr: r.userspace_addr + (gpa - r.guest_phys_addr),
                len: 0,
            });
        }
        let mut it = self.translate_iter(gpa, len);
        // len != 0, so the first item is always present.
        let first = it.next().ok_or(Error::AddressNotMapped)??;
        if first.len != len {
            // Distinguish "continues in another region" from "runs off the
            // end of mapped memory" so logs say which one happened.
            return match it.next() {
                Some(Ok(_)) => Err(Error::CrossesRegion),
                Some(Err(e)) => Err(e),
                None => Err(Error::AddressNotMapped),
            };
        }
        Ok(first)
    }

    /// Calls `f(gpa, len)` for every guest range whose host memory overlaps
    /// `[hva, hva + len)` (upstream `log_write_hva`: with an IOTLB the
    /// device knows host addresses, the dirty log wants guest ones; several
    /// guest ranges may alias one host range). Fails with
    /// `AddressNotMapped` if some host byte belongs to no region.
    pub fn for_each_gpa<E>(
        &self,
        mut hva: u64,
        mut len: u64,
        mut f: impl FnMut(u64, u64) -> Result<(), E>,
    ) -> Result<(), Result<E, Error>> {
        while len > 0 {
            let last = hva.checked_add(len - 1).ok_or(Err(Error::LengthOverflow))?;
            // How far every region seen covers from `hva`: advance by the
            // shortest, so no byte is skipped (as upstream's `min`).
            let mut step: Option<u64> = None;
            for r in self.regions {
                let r_last = r.userspace_addr + (r.size - 1);
                if r.userspace_addr > last || r_last < hva {
                    continue;
                }
                if r.userspace_addr > hva {
                    continue;
                }
                let end = r_last.min(last);
                let n = end - hva + 1;
                f(r.guest_phys_addr + (hva - r.userspace_addr), n).map_err(Ok)?;
                step = Some(step.map_or(n, |s| s.min(n)));
            }
            let n = step.ok_or(Err(Error::AddressNotMapped))?;
            len -= n;
            hva = hva.wrapping_add(n);
        }
        Ok(())
    }

    /// Checks that every byte of `[gpa, gpa + len)` is mapped.
    ///
    /// Used to validate guest buffers up front, so later translation of the
    /// same range through the same table cannot fail.
    pub fn check_range(&self, gpa: u64, len: u64) -> Result<(), Error> {
        for seg in self.translate_iter(gpa, len) {
            seg?;
        }
        Ok(())
    }
}

/// Iterator returned by [`MemTable::translate_iter`].
///
/// Each step consumes at least one byte or fails, so it terminates after at
/// most `regions.len() + 1` items for any input.
#[derive(Debug, Clone)]
pub struct Translate<'a> {
    table: MemTable<'a>,
    cur: u64,
    remaining: u64,
    failed: bool,
}

impl Iterator for Translate<'_> {
    type Item = Result<HostRange, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.remaining == 0 {
            return None;
        }
        // Reject wrapping ranges before yielding anything, so a caller never
        // sees a partial translation of a nonsensical request.
        if self.cur.checked_add(self.remaining - 1).is_none() {
            self.failed = true;
            return Some(Err(Error::LengthOverflow));
        }
        let Some(r) = self.table.find(self.cur) else {
            self.failed = true;
            return Some(Err(Error::AddressNotMapped));
        };
        let offset = self.cur - r.guest_phys_addr;
        // Bytes left in the region after `cur`, minus one: computed this way
        // because a region may be 2^64 - 1 bytes long.
        let room = r.guest_last() - self.cur;
        let chunk = if self.remaining - 1 <= room {
            self.remaining
        } else {
            room + 1
        };
        self.remaining -= chunk;
        if self.remaining != 0 {
            // cur + chunk <= request end, checked above.
            self.cur += chunk;
        }
        Some(Ok(HostRange {
            addr: r.userspace_addr + offset,
            len: chunk,
        }))
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn host_ranges_map_back_to_guest_ranges() {
        let regions = [
            MemRegion {
                guest_phys_addr: 0x10_0000,
                size: 0x1000,
                userspace_addr: 0x7000_0000,
            },
            MemRegion {
                guest_phys_addr: 0x20_0000,
                size: 0x1000,
                userspace_addr: 0x7000_1000,
            },
        ];
        let t = MemTable::new(&regions).unwrap();
        let mut got = [(0u64, 0u64); 4];
        let mut n = 0;
        let r: Result<(), Result<(), Error>> = t.for_each_gpa(0x7000_0ff0, 0x20, |g, l| {
            got[n] = (g, l);
            n += 1;
            Ok(())
        });
        assert_eq!(r, Ok(()));
        assert_eq!(&got[..n], &[(0x10_0ff0, 0x10), (0x20_0000, 0x10)]);
        let r: Result<(), Result<(), Error>> = t.for_each_gpa(0x7000_1ff0, 0x20, |_, _| Ok(()));
        assert_eq!(r, Err(Err(Error::AddressNotMapped)));
    }
    use super::{Error, MemRegion, MemTable, MAX_MEM_REGIONS};

    fn reg(gpa: u64, size: u64, ua: u64) -> MemRegion {
        MemRegion {
            guest_phys_addr: gpa,
            size,
            userspace_addr: ua,
        }
    }

    #[test]
    fn rejects_bad_regions() {
        assert_eq!(
            MemTable::new(&[reg(0, 0, 0)]).unwrap_err(),
            Error::BadRegion
        );
        assert_eq!(
            MemTable::new(&[reg(u64::MAX, 2, 0)]).unwrap_err(),
            Error::BadRegion
        );
        assert_eq!(
            MemTable::new(&[reg(0, 2, u64::MAX)]).unwrap_err(),
            Error::BadRegion
        );
        assert_eq!(
            MemTable::new(&[reg(0x1000, 0x1000, 0), reg(0x1fff, 1, 0)]).unwrap_err(),
            Error::OverlappingRegions
        );
        let many = [reg(0, 1, 0); MAX_MEM_REGIONS + 1];
        assert_eq!(MemTable::new(&many).unwrap_err(), Error::TooManyRegions);
    }

    #[test]
    fn region_reaching_top_of_address_space() {
        let regs = [reg(u64::MAX - 0xfff, 0x1000, 0x10_0000)];
        let t = MemTable::new(&regs).unwrap();
        let h = t.translate(u64::MAX, 1).unwrap();
        assert_eq!((h.addr(), h.len()), (0x10_0fff, 1));
        assert_eq!(t.translate(u64::MAX, 2), Err(Error::LengthOverflow));
    }

    #[test]
    fn translate_single_and_crossing() {
        let regs = [reg(0x2000, 0x1000, 0xa000), reg(0x1000, 0x1000, 0x5000)];
        let t = MemTable::new(&regs).unwrap();
        assert_eq!(t.translate(0x1800, 0x10).unwrap().addr(), 0x5800);
        assert_eq!(t.translate(0x1ff0, 0x20), Err(Error::CrossesRegion));
        assert_eq!(t.translate(0x2ff0, 0x20), Err(Error::AddressNotMapped));
        assert_eq!(t.translate(0x3000, 0), Err(Error::AddressNotMapped));
        assert!(t.translate(0x2000, 0).unwrap().is_empty());
        let mut it = t.translate_iter(0x1ff0, 0x20);
        assert_eq!(it.next().unwrap().unwrap().addr(), 0x5ff0);
        let second = it.next().unwrap().unwrap();
        assert_eq!((second.addr(), second.len()), (0xa000, 0x10));
        assert!(it.next().is_none());
        assert_eq!(t.check_range(0x1000, 0x2000), Ok(()));
        assert_eq!(t.check_range(0x1000, 0x2001), Err(Error::AddressNotMapped));
    }
}
