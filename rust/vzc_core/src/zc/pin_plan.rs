// SPDX-License-Identifier: GPL-2.0-only
//! Which user pages a memory table needs pinned: each region's page-aligned
//! host range, whole pages from the one holding its first byte to the one
//! holding its last. Regions are pinned each on its own: overlapping
//! regions (QEMU does not make them) would pin and charge their common
//! pages twice, which over-counts RLIMIT_MEMLOCK but never under-pins.

use super::super::vhost::mem::MemRegion;

/// The pages of one region to pin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinRange {
    /// Page-aligned host (user) address of the first page.
    pub uaddr: u64,
    /// Pages from there.
    pub pages: u64,
}

/// The range of `r` in pages of `1 << page_shift` bytes; `None` for an
/// empty region or one whose last byte overflows (`MemTable` refuses both,
/// so the glue never sees one).
pub fn pin_range(r: &MemRegion, page_shift: u32) -> Option<PinRange> {
    let mask = (1u64 << page_shift) - 1;
    let last = r.userspace_addr.checked_add(r.size.checked_sub(1)?)?;
    let first = r.userspace_addr & !mask;
    let pages = (((last & !mask) - first) >> page_shift) + 1;
    Some(PinRange {
        uaddr: first,
        pages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(uaddr: u64, size: u64) -> MemRegion {
        MemRegion {
            guest_phys_addr: 0,
            size,
            userspace_addr: uaddr,
        }
    }

    #[test]
    fn whole_pages_cover_the_region() {
        let r = |u, s| pin_range(&region(u, s), 12);
        assert_eq!(
            r(0x10000, 1 << 20),
            Some(PinRange {
                uaddr: 0x10000,
                pages: 256
            })
        );
        assert_eq!(
            r(0x10001, 1),
            Some(PinRange {
                uaddr: 0x10000,
                pages: 1
            })
        );
        // One byte on each side of a page boundary: two pages.
        assert_eq!(
            r(0x10fff, 2),
            Some(PinRange {
                uaddr: 0x10000,
                pages: 2
            })
        );
        assert_eq!(
            r(0x10000, 0x1001),
            Some(PinRange {
                uaddr: 0x10000,
                pages: 2
            })
        );
        assert_eq!(r(0x10000, 0), None);
        assert_eq!(r(u64::MAX, 2), None);
        assert_eq!(
            r(u64::MAX - 4095, 4096),
            Some(PinRange {
                uaddr: u64::MAX - 4095,
                pages: 1
            })
        );
    }

    proptest::proptest! {
        #[test]
        fn every_byte_is_in_a_pinned_page(u in 0u64..1 << 47, s in 1u64..1 << 24) {
            let p = pin_range(&region(u, s), 12).unwrap();
            let end = p.uaddr + (p.pages << 12);
            proptest::prop_assert!(p.uaddr <= u && u + s <= end);
            // No page more than needed.
            proptest::prop_assert!(p.uaddr + 4096 > u && end - 4096 < u + s);
        }
    }
}
