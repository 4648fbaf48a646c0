// SPDX-License-Identifier: GPL-2.0-only
//! Property tests: hostile descriptor tables and memory tables never make
//! the parsers panic, loop, or return ranges that are not really mapped.

mod common;

use common::{desc, MockGuest, Segs};
use proptest::prelude::*;
use vzc_core::{DescChain, Descriptor, Error, MemRegion, MemTable, MAX_CHAIN_BYTES};

const BASE: u64 = 0x10000;
const RAM: usize = 0x10000;
const TABLE: u64 = BASE;
const IND_AREA: u64 = BASE + 0x1000;
const IND_ENTRIES: usize = 64;

/// Descriptors biased towards interesting values: addresses inside the
/// indirect area, small lengths and multiples of 16, in-range `next`s;
/// plus fully arbitrary values.
fn arb_desc(size: u16) -> impl Strategy<Value = Descriptor> {
    let addr = prop_oneof![
        2 => (0..IND_ENTRIES as u64).prop_map(|k| IND_AREA + 16 * k),
        3 => BASE..BASE + RAM as u64,
        1 => any::<u64>(),
    ];
    let len = prop_oneof![
        3 => 0..64u32,
        2 => (1..8u32).prop_map(|k| 16 * k),
        1 => any::<u32>(),
    ];
    let flags = prop_oneof![6 => 0..4u16, 2 => 4..8u16, 1 => any::<u16>()];
    let next = prop_oneof![4 => 0..size.saturating_add(2), 1 => any::<u16>()];
    (addr, len, flags, next).prop_map(|(a, l, f, n)| desc(a, l, f, n))
}

fn arb_size() -> impl Strategy<Value = u16> {
    (0u32..6).prop_map(|s| 1 << s)
}

/// Walks and checks every invariant a successful or failed walk must hold.
fn check_walk(g: &MockGuest, size: u16, head: u16) -> Result<(), TestCaseError> {
    let q = g.queue(TABLE, u32::from(size));
    // Visits are bounded by size main entries plus one indirect table of
    // at most RAM / 16 entries (the largest mapped table).
    let bound = usize::from(size) + RAM / 16;
    let mut segs = Vec::new();
    let mut err = None;
    let mut it = DescChain::new(&q, g, head);
    for item in it.by_ref().take(bound + 2) {
        match item {
            Ok(s) => segs.push(s),
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    prop_assert!(it.next().is_none(), "walker did not terminate");
    prop_assert!(segs.len() <= bound);
    // Whatever was yielded before an error is still individually valid.
    let mut seen_write = false;
    let mut total = 0u64;
    for s in &segs {
        prop_assert!(s.len() != 0);
        prop_assert!(g.table().check_range(s.gpa(), u64::from(s.len())).is_ok());
        prop_assert!(!seen_write || s.writable(), "read after write");
        seen_write |= s.writable();
        total += u64::from(s.len());
    }
    prop_assert!(total <= MAX_CHAIN_BYTES);

    // collect_into agrees with the iterator and enforces its capacity.
    let mut out = Segs::with_capacity(segs.len());
    let r = DescChain::new(&q, g, head).collect_into(&mut out);
    match err {
        None => {
            let sum = r.unwrap();
            prop_assert_eq!(sum.count(), segs.len());
            prop_assert_eq!(&out[..], &segs[..]);
            if !segs.is_empty() {
                let mut short = Segs::with_capacity(segs.len() - 1);
                prop_assert_eq!(
                    DescChain::new(&q, g, head).collect_into(&mut short),
                    Err(Error::TooManySegments)
                );
            }
        }
        Some(e) => prop_assert_eq!(r, Err(e)),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn walker_on_structured_tables(
        size in arb_size(),
        main in prop::collection::vec(arb_desc(32), 32),
        ind in prop::collection::vec(arb_desc(IND_ENTRIES as u16), IND_ENTRIES),
        head in prop_oneof![4 => 0..32u16, 1 => any::<u16>()],
        tame in any::<bool>(),
    ) {
        let mut g = MockGuest::flat(BASE, RAM);
        for (i, d) in main.iter().take(usize::from(size)).enumerate() {
            let mut d = *d;
            if tame {
                // Mostly in-range links so chains get long enough to hit
                // the ordering, indirect and length rules, not just the
                // index check.
                d.next %= size + 1;
            }
            g.set_desc(TABLE, i as u16, d);
        }
        let head = if tame { head % size } else { head };
        for (i, d) in ind.iter().enumerate() {
            g.set_desc(IND_AREA, i as u16, *d);
        }
        check_walk(&g, size, head)?;
    }

    #[test]
    fn walker_on_random_bytes(
        size in arb_size(),
        table in prop::collection::vec(any::<u8>(), 32 * 16),
        ind in prop::collection::vec(any::<u8>(), IND_ENTRIES * 16),
        head in 0..40u16,
    ) {
        let mut g = MockGuest::flat(BASE, RAM);
        g.write(TABLE, &table);
        g.write(IND_AREA, &ind);
        check_walk(&g, size, head)?;
    }

    #[test]
    fn mem_table_new_never_accepts_overlaps(
        regions in prop::collection::vec(
            (prop_oneof![0..0x8000u64, any::<u64>()],
             prop_oneof![0..0x4000u64, any::<u64>()],
             any::<u64>()),
            0..8),
    ) {
        let regions: Vec<MemRegion> = regions
            .into_iter()
            .map(|(g, s, u)| MemRegion { guest_phys_addr: g, size: s, userspace_addr: u })
            .collect();
        if MemTable::new(&regions).is_ok() {
            for (i, a) in regions.iter().enumerate() {
                prop_assert!(a.size > 0);
                let a_end = u128::from(a.guest_phys_addr) + u128::from(a.size);
                prop_assert!(a_end <= 1u128 << 64);
                prop_assert!(u128::from(a.userspace_addr) + u128::from(a.size) <= 1u128 << 64);
                for b in &regions[i + 1..] {
                    let b_end = u128::from(b.guest_phys_addr) + u128::from(b.size);
                    prop_assert!(
                        a_end <= u128::from(b.guest_phys_addr)
                            || b_end <= u128::from(a.guest_phys_addr)
                    );
                }
            }
        }
    }

    #[test]
    fn translate_covers_exactly(
        layout in prop::collection::vec((0..0x100u64, 1..0x400u64, any::<u64>()), 0..6),
        start in prop_oneof![0..0x3000u64, any::<u64>()],
        gpa in prop_oneof![0..0x3000u64, any::<u64>()],
        len in prop_oneof![0..0x1000u64, any::<u64>()],
    ) {
        // Sorted, possibly adjacent (gap 0) regions with arbitrary host
        // addresses clamped so they do not wrap.
        let mut regions = Vec::new();
        let mut cur = start;
        for (gap, size, ua) in layout {
            let Some(g) = cur.checked_add(gap) else { break };
            if g.checked_add(size).is_none() {
                break;
            }
            regions.push(MemRegion {
                guest_phys_addr: g,
                size,
                userspace_addr: ua.min(u64::MAX - size),
            });
            cur = g + size;
        }
        let t = MemTable::new(&regions).unwrap();
        let mut covered = 0u64;
        let mut result = Ok(());
        let mut n = 0usize;
        for s in t.translate_iter(gpa, len) {
            n += 1;
            prop_assert!(n <= regions.len() + 1, "translate did not terminate");
            match s {
                Ok(h) => {
                    prop_assert!(!h.is_empty());
                    // The piece must be where the region maps this GPA.
                    let g = gpa + covered;
                    let r = regions
                        .iter()
                        .find(|r| g >= r.guest_phys_addr && g - r.guest_phys_addr < r.size)
                        .expect("segment start not mapped");
                    let off = g - r.guest_phys_addr;
                    prop_assert_eq!(h.addr(), r.userspace_addr + off);
                    prop_assert!(h.len() <= r.size - off);
                    covered += h.len();
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        match result {
            Ok(()) => prop_assert_eq!(covered, len),
            Err(Error::LengthOverflow) => {
                prop_assert_eq!(covered, 0);
                prop_assert!(u128::from(gpa) + u128::from(len) > 1u128 << 64);
            }
            Err(Error::AddressNotMapped) => {
                let g = gpa + covered;
                prop_assert!(covered < len);
                prop_assert!(!regions
                    .iter()
                    .any(|r| g >= r.guest_phys_addr && g - r.guest_phys_addr < r.size));
            }
            Err(e) => prop_assert!(false, "unexpected error {:?}", e),
        }
        // The single-range helper agrees with the iterator.
        if len > 0 {
            let single = t.translate(gpa, len);
            let pieces: Vec<_> = t.translate_iter(gpa, len).collect();
            match single {
                Ok(h) => {
                    prop_assert_eq!(pieces.len(), 1);
                    prop_assert_eq!(pieces[0], Ok(h));
                }
                // The range starts mapped and runs into a second region; the
                // tail may still be unmapped (the helper reports the first
                // problem it meets, the iterator goes on to the hole).
                Err(Error::CrossesRegion) => {
                    prop_assert!(pieces.len() >= 2 && pieces[0].is_ok() && pieces[1].is_ok());
                }
                Err(_) => prop_assert!(pieces.iter().any(|p| p.is_err())),
            }
        }
    }
}
