// SPDX-License-Identifier: GPL-2.0-only
//! Descriptor-chain scenarios played against a mock guest.

mod common;

use common::{desc, MockGuest, Segs};
use vzc_core::{
    avail_pending, DescChain, DescTable, Descriptor, Error, MemRegion, QueueSize, Segment,
    VIRTQ_DESC_F_INDIRECT as IND, VIRTQ_DESC_F_NEXT as NEXT, VIRTQ_DESC_F_WRITE as WRITE,
};

/// Guest RAM at GPA 0x10000, 64 KiB; the queue's table at 0x10000.
const BASE: u64 = 0x10000;
const TABLE: u64 = BASE;
const BUF: u64 = BASE + 0x4000;
const IND_TABLE: u64 = BASE + 0x2000;

fn guest() -> MockGuest {
    MockGuest::flat(BASE, 0x10000)
}

fn walk(g: &MockGuest, size: u32, head: u16) -> Result<Vec<Segment>, Error> {
    let q = g.queue(TABLE, size);
    DescChain::new(&q, g, head).collect()
}

fn seg_tuple(s: &Segment) -> (u64, u32, bool) {
    (s.gpa(), s.len(), s.writable())
}

#[test]
fn simple_single_descriptor() {
    let mut g = guest();
    g.set_desc(TABLE, 3, desc(BUF, 100, 0, 0));
    let segs = walk(&g, 8, 3).unwrap();
    assert_eq!(
        segs.iter().map(seg_tuple).collect::<Vec<_>>(),
        [(BUF, 100, false)]
    );
}

#[test]
fn read_then_write_chain() {
    let mut g = guest();
    g.set_desc(TABLE, 0, desc(BUF, 10, NEXT, 5));
    g.set_desc(TABLE, 5, desc(BUF + 10, 20, NEXT, 2));
    g.set_desc(TABLE, 2, desc(BUF + 30, 30, WRITE | NEXT, 7));
    g.set_desc(TABLE, 7, desc(BUF + 60, 40, WRITE, 1));
    let q = g.queue(TABLE, 8);
    let mut out = Segs::with_capacity(8);
    let sum = DescChain::new(&q, &g, 0).collect_into(&mut out).unwrap();
    assert_eq!((sum.readable, sum.writable), (2, 2));
    assert_eq!((sum.read_bytes, sum.write_bytes), (30, 70));
    assert_eq!(sum.count(), 4);
    assert_eq!(
        out[..4].iter().map(seg_tuple).collect::<Vec<_>>(),
        [
            (BUF, 10, false),
            (BUF + 10, 20, false),
            (BUF + 30, 30, true),
            (BUF + 60, 40, true)
        ]
    );
}

#[test]
fn indirect_chain() {
    let mut g = guest();
    // Direct readable header, then an indirect table with read + write.
    g.set_desc(TABLE, 0, desc(BUF, 12, NEXT, 1));
    g.set_desc(TABLE, 1, desc(IND_TABLE, 3 * 16, IND | WRITE, 0));
    g.set_desc(IND_TABLE, 0, desc(BUF + 0x100, 8, NEXT, 2));
    g.set_desc(IND_TABLE, 2, desc(BUF + 0x200, 16, NEXT | WRITE, 1));
    g.set_desc(IND_TABLE, 1, desc(BUF + 0x300, 32, WRITE, 0));
    let segs = walk(&g, 4, 0).unwrap();
    assert_eq!(
        segs.iter().map(seg_tuple).collect::<Vec<_>>(),
        [
            (BUF, 12, false),
            (BUF + 0x100, 8, false),
            (BUF + 0x200, 16, true),
            (BUF + 0x300, 32, true)
        ]
    );
}

#[test]
fn indirect_table_may_span_regions() {
    // Two adjacent guest regions backed by non-adjacent host memory; the
    // indirect table straddles the boundary.
    let regions = vec![
        MemRegion {
            guest_phys_addr: 0x1000,
            size: 0x1000,
            userspace_addr: 0x3000,
        },
        MemRegion {
            guest_phys_addr: 0x2000,
            size: 0x1000,
            userspace_addr: 0x0,
        },
    ];
    let mut g = MockGuest::new(regions, 0x4000);
    g.set_desc(0x1000, 0, desc(0x1ff0, 32, IND, 0));
    g.set_desc(0x1ff0, 0, desc(0x2100, 4, NEXT, 1));
    g.set_desc(0x1ff0, 1, desc(0x2200, 4, WRITE, 0));
    let q = g.queue(0x1000, 2);
    let segs: Vec<_> = DescChain::new(&q, &g, 0).collect::<Result<_, _>>().unwrap();
    assert_eq!(segs.len(), 2);
    assert!(segs[1].writable());
}

#[test]
fn loop_detected() {
    let mut g = guest();
    g.set_desc(TABLE, 0, desc(BUF, 1, NEXT, 1));
    g.set_desc(TABLE, 1, desc(BUF, 1, NEXT, 0));
    assert_eq!(walk(&g, 4, 0), Err(Error::Loop));
    // A self-loop of zero-length descriptors yields nothing but still ends.
    g.set_desc(TABLE, 2, desc(0, 0, NEXT, 2));
    assert_eq!(walk(&g, 4, 2), Err(Error::Loop));
}

#[test]
fn loop_inside_indirect_table() {
    let mut g = guest();
    g.set_desc(TABLE, 0, desc(IND_TABLE, 32, IND, 0));
    g.set_desc(IND_TABLE, 0, desc(BUF, 1, NEXT, 1));
    g.set_desc(IND_TABLE, 1, desc(BUF, 1, NEXT, 0));
    assert_eq!(walk(&g, 4, 0), Err(Error::Loop));
}

#[test]
fn index_out_of_range() {
    let mut g = guest();
    assert_eq!(walk(&g, 4, 4), Err(Error::IndexOutOfRange));
    g.set_desc(TABLE, 0, desc(BUF, 1, NEXT, 4));
    assert_eq!(walk(&g, 4, 0), Err(Error::IndexOutOfRange));
    // Inside an indirect table the bound is the table's entry count.
    g.set_desc(TABLE, 1, desc(IND_TABLE, 32, IND, 0));
    g.set_desc(IND_TABLE, 0, desc(BUF, 1, NEXT, 2));
    assert_eq!(walk(&g, 4, 1), Err(Error::IndexOutOfRange));
}

#[test]
fn nested_indirect_rejected() {
    let mut g = guest();
    g.set_desc(TABLE, 0, desc(IND_TABLE, 16, IND, 0));
    g.set_desc(IND_TABLE, 0, desc(IND_TABLE + 0x100, 16, IND, 0));
    assert_eq!(walk(&g, 4, 0), Err(Error::NestedIndirect));
}

#[test]
fn indirect_with_next_rejected() {
    let mut g = guest();
    g.set_desc(TABLE, 0, desc(IND_TABLE, 16, IND | NEXT, 1));
    g.set_desc(IND_TABLE, 0, desc(BUF, 1, 0, 0));
    assert_eq!(walk(&g, 4, 0), Err(Error::IndirectWithNext));
}

#[test]
fn bad_indirect_len() {
    let mut g = guest();
    g.set_desc(TABLE, 0, desc(IND_TABLE, 24, IND, 0));
    assert_eq!(walk(&g, 4, 0), Err(Error::BadIndirectLen));
    g.set_desc(TABLE, 0, desc(IND_TABLE, 0, IND, 0));
    assert_eq!(walk(&g, 4, 0), Err(Error::BadIndirectLen));
}

#[test]
fn indirect_too_big() {
    // 65537 entries: needs a region of >1 MiB of guest space, which the
    // walker must reject before touching it.
    let mut g = MockGuest::new(
        vec![MemRegion {
            guest_phys_addr: 0,
            size: 1 << 24,
            userspace_addr: 0,
        }],
        0x1000,
    );
    g.set_desc(0, 0, desc(0x10_0000, 65537 * 16, IND, 0));
    let q = g.queue(0, 1);
    assert_eq!(
        DescChain::new(&q, &g, 0).next(),
        Some(Err(Error::IndirectTooBig))
    );
}

#[test]
fn indirect_table_unmapped() {
    let mut g = guest();
    g.set_desc(TABLE, 0, desc(BASE + 0xfff0, 32, IND, 0));
    assert_eq!(walk(&g, 4, 0), Err(Error::AddressNotMapped));
}

#[test]
fn write_then_read_rejected() {
    let mut g = guest();
    g.set_desc(TABLE, 0, desc(BUF, 4, WRITE | NEXT, 1));
    g.set_desc(TABLE, 1, desc(BUF, 4, 0, 0));
    assert_eq!(walk(&g, 4, 0), Err(Error::ReadAfterWrite));
}

#[test]
fn zero_length_descriptors_are_skipped() {
    let mut g = guest();
    // Zero-length: unmapped address and misordering are both ignored,
    // matching upstream, where they produce no iovec.
    g.set_desc(TABLE, 0, desc(BUF, 4, NEXT, 1));
    g.set_desc(TABLE, 1, desc(u64::MAX, 0, WRITE | NEXT, 2));
    g.set_desc(TABLE, 2, desc(BUF + 4, 4, NEXT, 3));
    g.set_desc(TABLE, 3, desc(BUF + 8, 4, WRITE, 0));
    let segs = walk(&g, 4, 0).unwrap();
    assert_eq!(
        segs.iter().map(seg_tuple).collect::<Vec<_>>(),
        [(BUF, 4, false), (BUF + 4, 4, false), (BUF + 8, 4, true)]
    );
    assert!(segs.iter().all(|s| s.len() != 0));
}

#[test]
fn length_overflow() {
    // 4 GiB of guest space (not backed by RAM: only ranges are checked).
    let mut g = MockGuest::new(
        vec![MemRegion {
            guest_phys_addr: 0,
            size: 1 << 33,
            userspace_addr: 0,
        }],
        0x1000,
    );
    g.set_desc(0, 0, desc(0x1_0000_0000, u32::MAX, NEXT, 1));
    g.set_desc(0, 1, desc(0x1000, 1, WRITE, 0));
    let q = g.queue(0, 2);
    let r: Result<Vec<_>, _> = DescChain::new(&q, &g, 0).collect();
    assert_eq!(r, Err(Error::LengthOverflow));
    // Exactly u32::MAX in total is still fine.
    g.set_desc(0, 0, desc(0x1_0000_0000, u32::MAX - 1, NEXT, 1));
    let q = g.queue(0, 2);
    let mut out = Segs::with_capacity(2);
    let sum = DescChain::new(&q, &g, 0).collect_into(&mut out).unwrap();
    assert_eq!(sum.read_bytes, u32::MAX - 1);
    assert_eq!(sum.write_bytes, 1);
}

#[test]
fn buffer_address_wraps() {
    let mut g = guest();
    g.set_desc(TABLE, 0, desc(u64::MAX - 1, 16, 0, 0));
    assert_eq!(walk(&g, 4, 0), Err(Error::LengthOverflow));
}

#[test]
fn address_outside_mem_table() {
    let mut g = guest();
    g.set_desc(TABLE, 0, desc(0x1000, 16, 0, 0));
    assert_eq!(walk(&g, 4, 0), Err(Error::AddressNotMapped));
    // Starts mapped, runs off the end.
    g.set_desc(TABLE, 0, desc(BASE + 0xfff8, 16, 0, 0));
    assert_eq!(walk(&g, 4, 0), Err(Error::AddressNotMapped));
    assert_eq!(Error::AddressNotMapped.errno(), 14);
}

#[test]
fn buffer_crossing_into_adjacent_region() {
    let regions = vec![
        MemRegion {
            guest_phys_addr: 0x1000,
            size: 0x1000,
            userspace_addr: 0x2000,
        },
        MemRegion {
            guest_phys_addr: 0x2000,
            size: 0x1000,
            userspace_addr: 0x0,
        },
    ];
    let mut g = MockGuest::new(regions, 0x3000);
    g.set_desc(0x1000, 0, desc(0x1f00, 0x200, WRITE, 0));
    let q = g.queue(0x1000, 1);
    let segs: Vec<_> = DescChain::new(&q, &g, 0).collect::<Result<_, _>>().unwrap();
    assert_eq!(segs.len(), 1);
    // The guest segment is one buffer; it needs two host ranges.
    let host: Vec<_> = g
        .table()
        .translate_iter(segs[0].gpa(), u64::from(segs[0].len()))
        .map(|h| h.map(|h| (h.addr(), h.len())))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(host, [(0x2f00, 0x100), (0x0, 0x100)]);
    assert_eq!(
        g.table().translate(0x1f00, 0x200),
        Err(Error::CrossesRegion)
    );
}

#[test]
fn too_many_segments() {
    let mut g = guest();
    for i in 0..4u16 {
        g.set_desc(TABLE, i, desc(BUF, 1, NEXT, i + 1));
    }
    g.set_desc(TABLE, 4, desc(BUF, 1, 0, 0));
    let q = g.queue(TABLE, 8);
    let mut out = Segs::with_capacity(4);
    assert_eq!(
        DescChain::new(&q, &g, 0).collect_into(&mut out),
        Err(Error::TooManySegments)
    );
    assert_eq!(Error::TooManySegments.errno(), 105);
    let mut out = Segs::with_capacity(5);
    assert_eq!(
        DescChain::new(&q, &g, 0)
            .collect_into(&mut out)
            .unwrap()
            .count(),
        5
    );
}

#[test]
fn iterator_fuses_after_error() {
    let mut g = guest();
    g.set_desc(TABLE, 0, desc(BUF, 4, NEXT, 9));
    let q = g.queue(TABLE, 4);
    let mut c = DescChain::new(&q, &g, 0);
    assert_eq!(c.head(), 0);
    assert!(c.next().unwrap().is_ok());
    assert_eq!(c.next(), Some(Err(Error::IndexOutOfRange)));
    assert_eq!(c.next(), None);
}

/// A table whose reads fault, like a failing `copy_from_user`.
struct FaultyTable;

impl DescTable for FaultyTable {
    fn size(&self) -> QueueSize {
        QueueSize::new(4).unwrap()
    }
    fn read(&self, _index: u16) -> Result<Descriptor, Error> {
        Err(Error::Fault)
    }
}

#[test]
fn table_read_fault_propagates() {
    let g = guest();
    let r: Result<Vec<_>, _> = DescChain::new(&FaultyTable, &g, 0).collect();
    assert_eq!(r, Err(Error::Fault));
}

#[test]
fn indirect_read_fault_propagates() {
    // Mapped but not backed by the mock's RAM.
    let mut g = MockGuest::new(
        vec![MemRegion {
            guest_phys_addr: 0,
            size: 0x10_0000,
            userspace_addr: 0,
        }],
        0x1000,
    );
    g.set_desc(0, 0, desc(0x8000, 16, IND, 0));
    let q = g.queue(0, 1);
    let r: Result<Vec<_>, _> = DescChain::new(&q, &g, 0).collect();
    assert_eq!(r, Err(Error::Fault));
}

#[test]
fn avail_idx_jump() {
    let q = QueueSize::new(8).unwrap();
    assert_eq!(avail_pending(q, 100, 108), Ok(8));
    assert_eq!(avail_pending(q, 100, 109), Err(Error::AvailIdxJump));
    assert_eq!(avail_pending(q, 0xfffe, 3), Ok(5));
    assert_eq!(Error::AvailIdxJump.errno(), 14);
}
