// SPDX-License-Identifier: GPL-2.0-only
//! The device IOTLB of `VIRTIO_F_ACCESS_PLATFORM`: I/O virtual addresses
//! (what a guest behind a vIOMMU puts in rings and descriptors) to VMM
//! addresses, with access permissions, as userspace sends them in
//! `VHOST_IOTLB_UPDATE` messages.
//!
//! Semantics follow upstream `drivers/vhost/iotlb.c` and `translate_desc`:
//! mappings may overlap (upstream keeps an interval tree); a lookup uses the
//! overlapping mapping with the lowest start, and an address it does not
//! cover is a miss; `INVALIDATE` removes every mapping that overlaps the
//! range, whole; when the table is full the oldest mapping is retired.
//!
//! The entries live in the caller's storage (the kernel's `KVec`), sorted by
//! `start`, each also carrying the largest `last` up to it ([`reindex`]
//! after every change): that running maximum never decreases, so the first
//! mapping reaching an address is found by binary search, O(log n) as
//! upstream's interval tree, where QEMU fills the table with up to 2048
//! page-sized mappings. This module only decides and looks up.

use super::super::error::Error;
use super::mem::HostRange;

/// `VHOST_ACCESS_RO`: the device reads (TX buffers, rings it reads).
pub const ACCESS_RO: u8 = 0x1;
/// `VHOST_ACCESS_WO`: the device writes (RX buffers, the used ring).
pub const ACCESS_WO: u8 = 0x2;
/// `VHOST_ACCESS_RW`.
pub const ACCESS_RW: u8 = 0x3;

/// Upstream's `max_iotlb_entries` default.
pub const MAX_IOTLB_ENTRIES: usize = 2048;

/// One mapping: `[start, last]` (inclusive) at VMM address `uaddr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IotlbEntry {
    /// First IOVA.
    pub start: u64,
    /// Last IOVA (inclusive: a mapping may end at 2^64 - 1).
    pub last: u64,
    /// VMM address of `start`.
    pub uaddr: u64,
    /// `ACCESS_*` bits.
    pub perm: u8,
    /// Insertion order, for retiring the oldest.
    pub seq: u64,
    /// The largest `last` of this and all earlier entries ([`reindex`]).
    pub max_last: u64,
}

/// An `UPDATE` checked into the entry it adds: `EFAULT` upstream if the
/// IOVA or the VMM range wraps (`vhost_iotlb_add_range`, `umem_access_ok`);
/// `size` 0 never gets here (the message decoder refuses it). Permission
/// bits other than `ACCESS_RW` are ignored, as upstream ignores them.
pub fn update_entry(iova: u64, size: u64, uaddr: u64, perm: u8) -> Result<IotlbEntry, Error> {
    let n = size.checked_sub(1).ok_or(Error::BadRegion)?;
    let last = iova.checked_add(n).ok_or(Error::LengthOverflow)?;
    uaddr.checked_add(n).ok_or(Error::LengthOverflow)?;
    Ok(IotlbEntry {
        start: iova,
        last,
        uaddr,
        perm: perm & ACCESS_RW,
        seq: 0,
        max_last: last,
    })
}

/// Recomputes every entry's `max_last` after entries were inserted or
/// removed (both O(n) on the caller's vector anyway).
pub fn reindex(entries: &mut [IotlbEntry]) {
    let mut max = 0;
    for e in entries.iter_mut() {
        max = max.max(e.last);
        e.max_last = max;
    }
}

/// Where to insert an entry starting at `start` to keep `entries` sorted.
pub fn insert_index(entries: &[IotlbEntry], start: u64) -> usize {
    entries.partition_point(|e| e.start <= start)
}

/// The entry to retire when the table is full: the oldest.
pub fn oldest(entries: &[IotlbEntry]) -> Option<usize> {
    entries
        .iter()
        .enumerate()
        .min_by_key(|(_, e)| e.seq)
        .map(|(i, _)| i)
}

/// Whether `e` overlaps `[start, last]` (an `INVALIDATE` removes it).
pub fn overlaps(e: &IotlbEntry, start: u64, last: u64) -> bool {
    e.start <= last && e.last >= start
}

/// A lookup view over entries sorted by `start`.
#[derive(Debug, Clone, Copy)]
pub struct Iotlb<'a> {
    entries: &'a [IotlbEntry],
}

impl<'a> Iotlb<'a> {
    /// Wraps entries sorted by `start` (as [`insert_index`] keeps them)
    /// with `max_last` current ([`reindex`]).
    pub fn new(entries: &'a [IotlbEntry]) -> Self {
        Self { entries }
    }

    /// The overlapping mapping with the lowest start
    /// (`vhost_iotlb_itree_first`): the first entry whose running maximum
    /// of `last` reaches `addr` is the first whose own `last` does (the
    /// maximum rose there); it overlaps if it starts by `last`.
    fn first(&self, addr: u64, last: u64) -> Option<&'a IotlbEntry> {
        let i = self.entries.partition_point(|e| e.max_last < addr);
        self.entries.get(i).filter(|e| e.start <= last)
    }

    /// Translates `[iova, iova + len)` for `access` into VMM ranges, as
    /// upstream `translate_desc`: an uncovered byte is
    /// [`Error::IotlbMiss`] (its address in [`IotlbTranslate::miss`]), a
    /// mapping without the permission [`Error::IotlbPerm`].
    pub fn translate_iter(&self, iova: u64, len: u64, access: u8) -> IotlbTranslate<'a> {
        IotlbTranslate {
            tlb: *self,
            cur: iova,
            remaining: len,
            access,
            failed: None,
        }
    }

    /// Translates a range that must be one contiguous VMM range (a ring:
    /// mappings may be split, e.g. per page, as long as the VMM addresses
    /// follow on). `CrossesRegion` if they do not; misses as in [`check`].
    ///
    /// [`check`]: Iotlb::check
    pub fn translate_contiguous(
        &self,
        iova: u64,
        len: u64,
        access: u8,
    ) -> Result<u64, (Error, u64)> {
        let mut it = self.translate_iter(iova, len, access);
        let mut start: Option<u64> = None;
        let mut next = 0u64;
        for r in it.by_ref() {
            let h = match r {
                Ok(h) => h,
                Err(e) => return Err((e, it.miss().unwrap_or(iova))),
            };
            match start {
                None => start = Some(h.addr()),
                Some(_) if h.addr() == next => {}
                Some(_) => return Err((Error::CrossesRegion, iova)),
            }
            next = h.addr() + h.len();
        }
        start.ok_or((Error::IotlbMiss, iova))
    }

    /// Checks that `[iova, iova + len)` translates for `access`; on a miss
    /// returns the address to ask userspace for.
    pub fn check(&self, iova: u64, len: u64, access: u8) -> Result<(), (Error, u64)> {
        let mut it = self.translate_iter(iova, len, access);
        for r in it.by_ref() {
            if let Err(e) = r {
                return Err((e, it.miss().unwrap_or(iova)));
            }
        }
        Ok(())
    }
}

/// Iterator of [`Iotlb::translate_iter`]; each step consumes at least one
/// byte or fails, so it ends after at most `entries + 1` items.
#[derive(Debug, Clone)]
pub struct IotlbTranslate<'a> {
    tlb: Iotlb<'a>,
    cur: u64,
    remaining: u64,
    access: u8,
    failed: Option<Error>,
}

impl IotlbTranslate<'_> {
    /// After an [`Error::IotlbMiss`]: the first address not covered.
    pub fn miss(&self) -> Option<u64> {
        (self.failed == Some(Error::IotlbMiss)).then_some(self.cur)
    }
}

impl Iterator for IotlbTranslate<'_> {
    type Item = Result<HostRange, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed.is_some() || self.remaining == 0 {
            return None;
        }
        let Some(last) = self.cur.checked_add(self.remaining - 1) else {
            self.failed = Some(Error::LengthOverflow);
            return Some(Err(Error::LengthOverflow));
        };
        let e = match self.tlb.first(self.cur, last) {
            Some(e) if e.start <= self.cur => e,
            _ => {
                self.failed = Some(Error::IotlbMiss);
                return Some(Err(Error::IotlbMiss));
            }
        };
        if e.perm & self.access != self.access {
            self.failed = Some(Error::IotlbPerm);
            return Some(Err(Error::IotlbPerm));
        }
        // Bytes of the mapping from `cur` on, minus one (a mapping may end
        // at 2^64 - 1).
        let room = e.last - self.cur;
        let n = if room >= self.remaining - 1 {
            self.remaining
        } else {
            room + 1
        };
        let Some(addr) = e.uaddr.checked_add(self.cur - e.start) else {
            self.failed = Some(Error::LengthOverflow);
            return Some(Err(Error::LengthOverflow));
        };
        self.cur = self.cur.wrapping_add(n);
        self.remaining -= n;
        Some(Ok(HostRange::new(addr, n)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(maps: &[(u64, u64, u64, u8)]) -> [IotlbEntry; 8] {
        let mut t = [IotlbEntry::default(); 8];
        for (n, &(iova, size, uaddr, perm)) in maps.iter().enumerate() {
            let mut e = update_entry(iova, size, uaddr, perm).unwrap();
            e.seq = n as u64;
            let at = insert_index(&t[..n], e.start);
            t.copy_within(at..n, at + 1);
            t[at] = e;
        }
        reindex(&mut t[..maps.len()]);
        t
    }

    /// A reproducible pseudo-random sequence (xorshift64) for table tests.
    fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    /// The linear scan the binary search replaces: the reference.
    fn first_linear(t: &[IotlbEntry], addr: u64, last: u64) -> Option<usize> {
        t.iter()
            .take_while(|e| e.start <= last)
            .position(|e| e.last >= addr)
    }

    #[test]
    fn binary_search_finds_what_the_linear_scan_finds() {
        let mut rnd = xorshift(0x0dd_ba11_5eed);
        for _ in 0..20000 {
            let mut maps = [(0u64, 0u64, 0u64, 0u8); 8];
            let n = (rnd() % 9) as usize;
            for m in maps[..n].iter_mut() {
                // Small IOVAs and sizes: plenty of overlaps, nesting, gaps.
                *m = (rnd() % 0x400, rnd() % 0x200 + 1, 0x10_0000, ACCESS_RW);
            }
            let t = table(&maps[..n]);
            let tlb = Iotlb::new(&t[..n]);
            let addr = rnd() % 0x700;
            let last = addr + rnd() % 0x100;
            let want = first_linear(&t[..n], addr, last).map(|i| &t[i]);
            assert_eq!(
                tlb.first(addr, last),
                want,
                "{:?} {addr:#x}..={last:#x}",
                &t[..n]
            );
        }
    }

    #[test]
    fn reindex_after_removal() {
        // A long mapping first hides shorter later ones until it goes.
        let mut t = table(&[
            (0x0, 0x10000, 0x1000_0000, ACCESS_RW),
            (0x1000, 0x1000, 0x2000_0000, ACCESS_RW),
            (0x3000, 0x1000, 0x3000_0000, ACCESS_RW),
        ]);
        assert_eq!(
            Iotlb::new(&t[..3]).first(0x3000, 0x3000).unwrap().uaddr,
            0x1000_0000
        );
        t.copy_within(1..3, 0);
        reindex(&mut t[..2]);
        let tlb = Iotlb::new(&t[..2]);
        assert_eq!(tlb.first(0x3000, 0x3000).unwrap().uaddr, 0x3000_0000);
        assert_eq!(tlb.first(0x2000, 0x2fff), None);
        assert_eq!(tlb.first(0x0, 0xfff), None);
    }

    type Ranges = ([(u64, u64); 4], usize);

    fn ranges(
        tlb: &Iotlb<'_>,
        iova: u64,
        len: u64,
        access: u8,
    ) -> Result<Ranges, (Error, Option<u64>)> {
        let mut out = [(0, 0); 4];
        let mut n = 0;
        let mut it = tlb.translate_iter(iova, len, access);
        while let Some(r) = it.next() {
            match r {
                Ok(h) => {
                    out[n] = (h.addr(), h.len());
                    n += 1;
                }
                Err(e) => return Err((e, it.miss())),
            }
        }
        Ok((out, n))
    }

    #[test]
    fn translates_across_mappings_and_reports_misses() {
        let t = table(&[
            (0x1000, 0x1000, 0x7000_0000, ACCESS_RW),
            (0x2000, 0x1000, 0x5000_0000, ACCESS_RO),
        ]);
        let tlb = Iotlb::new(&t[..2]);
        let (r, n) = ranges(&tlb, 0x1800, 0x1000, ACCESS_RO).unwrap();
        assert_eq!(&r[..n], &[(0x7000_0800, 0x800), (0x5000_0000, 0x800)]);
        // The second mapping is read-only: a device write there is refused.
        assert_eq!(
            ranges(&tlb, 0x1800, 0x1000, ACCESS_WO).unwrap_err().0,
            Error::IotlbPerm
        );
        // Past the end: a miss at the first uncovered byte.
        assert_eq!(
            ranges(&tlb, 0x2800, 0x1000, ACCESS_RO).unwrap_err(),
            (Error::IotlbMiss, Some(0x3000))
        );
        assert_eq!(
            ranges(&tlb, 0x0, 1, ACCESS_RO).unwrap_err(),
            (Error::IotlbMiss, Some(0))
        );
        assert_eq!(
            tlb.check(0x2ff0, 0x20, ACCESS_RO),
            Err((Error::IotlbMiss, 0x3000))
        );
        assert_eq!(tlb.check(0x1000, 0x2000, ACCESS_RO), Ok(()));
        assert_eq!(ranges(&tlb, 0x1000, 0, ACCESS_RO).unwrap().1, 0);
        assert_eq!(
            ranges(&tlb, u64::MAX, 2, ACCESS_RO).unwrap_err().0,
            Error::LengthOverflow
        );
    }

    #[test]
    fn overlaps_use_the_lowest_start_like_the_interval_tree() {
        // [0x1000, 0x2fff] and [0x2000, 0x2fff] elsewhere: the first wins.
        let t = table(&[
            (0x2000, 0x1000, 0x9000, ACCESS_RW),
            (0x1000, 0x2000, 0x1_0000, ACCESS_RW),
        ]);
        let tlb = Iotlb::new(&t[..2]);
        assert_eq!(t[0].start, 0x1000, "sorted by start");
        let (r, n) = ranges(&tlb, 0x2000, 0x10, ACCESS_RO).unwrap();
        assert_eq!(&r[..n], &[(0x1_1000, 0x10)]);
    }

    #[test]
    fn rings_need_contiguous_vmm_ranges() {
        // Two page mappings whose VMM addresses follow on: one ring.
        let t = table(&[
            (0x1000, 0x1000, 0x7000_0000, ACCESS_RW),
            (0x2000, 0x1000, 0x7000_1000, ACCESS_RW),
            (0x3000, 0x1000, 0x5000_0000, ACCESS_RW),
        ]);
        let tlb = Iotlb::new(&t[..3]);
        assert_eq!(
            tlb.translate_contiguous(0x1800, 0x1000, ACCESS_RO),
            Ok(0x7000_0800)
        );
        assert_eq!(
            tlb.translate_contiguous(0x2800, 0x1000, ACCESS_RO),
            Err((Error::CrossesRegion, 0x2800))
        );
        assert_eq!(
            tlb.translate_contiguous(0x3800, 0x1000, ACCESS_RO),
            Err((Error::IotlbMiss, 0x4000))
        );
        // A zero-length ring area still needs its address mapped.
        assert_eq!(
            tlb.translate_contiguous(0x9000, 0, ACCESS_RO),
            Err((Error::IotlbMiss, 0x9000))
        );
    }

    #[test]
    fn bad_updates_are_refused() {
        let e = update_entry(1, u64::MAX, 0, ACCESS_RO).unwrap();
        assert_eq!((e.start, e.last), (1, u64::MAX));
        assert_eq!(update_entry(0x1000, 0x10, 0, 0xff).unwrap().perm, ACCESS_RW);
        assert_eq!(update_entry(0x1000, 0, 0, ACCESS_RO), Err(Error::BadRegion));
        assert_eq!(
            update_entry(u64::MAX, 2, 0, ACCESS_RO),
            Err(Error::LengthOverflow)
        );
        assert_eq!(
            update_entry(0, 0x10, u64::MAX - 1, ACCESS_RO),
            Err(Error::LengthOverflow)
        );
    }

    #[test]
    fn retire_and_invalidate_choose_the_right_entries() {
        let t = table(&[
            (0x3000, 0x1000, 0, ACCESS_RO),
            (0x1000, 0x1000, 0, ACCESS_RO),
            (0x2000, 0x1000, 0, ACCESS_RO),
        ]);
        let t = &t[..3];
        // Oldest = first inserted (0x3000), now at index 2 after sorting.
        assert_eq!(oldest(t), Some(2));
        assert!(overlaps(&t[0], 0x1fff, 0x1fff));
        assert!(!overlaps(&t[0], 0x2000, 0x2fff));
        assert!(overlaps(&t[1], 0x0, u64::MAX));
        assert_eq!(oldest(&[]), None);
    }

    #[test]
    fn translation_terminates_on_arbitrary_tables() {
        // Any table, any request: at most entries + 1 items, and the bytes
        // yielded never exceed the request.
        let mut rnd = xorshift(0x1234_5678_9abc_def0);
        for _ in 0..2000 {
            let mut maps = [(0u64, 0u64, 0u64, 0u8); 6];
            for m in maps.iter_mut() {
                *m = (
                    rnd() % 0x10000,
                    rnd() % 0x3000 + 1,
                    rnd() % 0x1_0000_0000,
                    (rnd() % 3 + 1) as u8,
                );
            }
            let t = table(&maps);
            let tlb = Iotlb::new(&t[..6]);
            let (iova, len) = (rnd() % 0x10000, rnd() % 0x4000);
            let mut items = 0;
            let mut bytes = 0;
            for r in tlb.translate_iter(iova, len, ACCESS_RO) {
                items += 1;
                if let Ok(h) = r {
                    bytes += h.len();
                }
            }
            assert!(items <= 7 && bytes <= len);
        }
    }
}
