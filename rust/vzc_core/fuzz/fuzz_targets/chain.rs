// SPDX-License-Identifier: GPL-2.0-only
//! Descriptor chains from a hostile guest: any descriptor table (main and
//! indirect) at any address, any head, part of RAM read-only.
//!
//! Asserts that the walker (`DescChain`) agrees exactly with a naive
//! reference written from its documented rules (the same segments, the same
//! error), that every segment it yields is mapped (and writable when it
//! says so), that it stops after at most `size + 65536` steps, and that
//! `collect_into` agrees with iterating, including `TooManySegments` for a
//! sink that is too small.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use vzc_core::virtio::desc::{
    QueueSize, DESC_SIZE, MAX_CHAIN_BYTES, MAX_INDIRECT_DESCS, VIRTQ_DESC_F_INDIRECT,
    VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE,
};
use vzc_core::{DescChain, DescTable, Descriptor, Error, Segment, SegmentSink, SinkFull};
use vzc_core_fuzz::{Addr, Ram};

const BASE: u64 = 0x10_0000;

#[derive(Arbitrary, Debug)]
enum Len {
    Small(u8),
    Table(u8),
    Raw(u32),
}

#[derive(Arbitrary, Debug)]
struct Desc {
    at: Addr,
    addr: Addr,
    len: Len,
    flags: u8,
    next: u16,
}

#[derive(Arbitrary, Debug)]
struct Input {
    size_log2: u8,
    head: u16,
    table: Addr,
    ram_kib: u8,
    ro: u16,
    sink: u8,
    descs: Vec<Desc>,
}

struct Table<'a> {
    ram: &'a Ram,
    at: u64,
    size: QueueSize,
}

impl DescTable for Table<'_> {
    fn size(&self) -> QueueSize {
        self.size
    }

    fn read(&self, index: u16) -> Result<Descriptor, Error> {
        assert!(index < self.size.get(), "walker read past the table");
        self.at
            .checked_add(16 * u64::from(index))
            .and_then(|a| read_desc(self.ram, a))
            .ok_or(Error::Fault)
    }
}

fn read_desc(ram: &Ram, gpa: u64) -> Option<Descriptor> {
    let off = ram.offset(gpa, DESC_SIZE as u64)?;
    let mut b = [0u8; DESC_SIZE];
    b.copy_from_slice(&ram.bytes[off..off + DESC_SIZE]);
    Some(Descriptor::from_le_bytes(b))
}

/// A bounded list, as the kernel's preallocated segment array.
struct Sink(Vec<Segment>, usize);

impl SegmentSink for Sink {
    fn push_segment(&mut self, seg: Segment) -> Result<(), SinkFull> {
        if self.0.len() == self.1 {
            return Err(SinkFull);
        }
        self.0.push(seg);
        Ok(())
    }
}

/// The reference: `(gpa, len, writable)` of every segment, or the error.
fn reference(ram: &Ram, table: u64, size: u16, head: u16) -> Result<Vec<(u64, u32, bool)>, Error> {
    let mut out = Vec::new();
    let mut wrote = false;
    let mut total: u128 = 0;
    let mut seg = |d: Descriptor, out: &mut Vec<(u64, u32, bool)>| -> Result<(), Error> {
        if d.len == 0 {
            return Ok(());
        }
        let w = d.flags & VIRTQ_DESC_F_WRITE != 0;
        if ram.offset(d.addr, u64::from(d.len)).is_none() {
            return Err(Error::AddressNotMapped);
        }
        if w && !ram.writable(d.addr, u64::from(d.len)) {
            return Err(Error::IotlbPerm);
        }
        if !w && wrote {
            return Err(Error::ReadAfterWrite);
        }
        wrote |= w;
        total += u128::from(d.len);
        if total > u128::from(MAX_CHAIN_BYTES) {
            return Err(Error::LengthOverflow);
        }
        out.push((d.addr, d.len, w));
        Ok(())
    };
    let mut idx = head;
    let mut visits = 0u32;
    loop {
        if idx >= size {
            return Err(Error::IndexOutOfRange);
        }
        visits += 1;
        if visits > u32::from(size) {
            return Err(Error::Loop);
        }
        let d = table
            .checked_add(16 * u64::from(idx))
            .and_then(|a| read_desc(ram, a))
            .ok_or(Error::Fault)?;
        if d.flags & VIRTQ_DESC_F_INDIRECT != 0 {
            if d.flags & VIRTQ_DESC_F_NEXT != 0 {
                return Err(Error::IndirectWithNext);
            }
            if d.len == 0 || d.len % 16 != 0 {
                return Err(Error::BadIndirectLen);
            }
            let count = d.len / 16;
            if count > MAX_INDIRECT_DESCS {
                return Err(Error::IndirectTooBig);
            }
            if ram.offset(d.addr, u64::from(d.len)).is_none() {
                return Err(Error::AddressNotMapped);
            }
            let mut j = 0u32;
            let mut ivisits = 0u32;
            loop {
                if j >= count {
                    return Err(Error::IndexOutOfRange);
                }
                ivisits += 1;
                if ivisits > count {
                    return Err(Error::Loop);
                }
                let e =
                    read_desc(ram, d.addr + 16 * u64::from(j)).ok_or(Error::AddressNotMapped)?;
                if e.flags & VIRTQ_DESC_F_INDIRECT != 0 {
                    return Err(Error::NestedIndirect);
                }
                seg(e, &mut out)?;
                if e.flags & VIRTQ_DESC_F_NEXT == 0 {
                    return Ok(out);
                }
                j = u32::from(e.next);
            }
        }
        seg(d, &mut out)?;
        if d.flags & VIRTQ_DESC_F_NEXT == 0 {
            return Ok(out);
        }
        idx = d.next;
    }
}

fuzz_target!(|inp: Input| {
    let size = QueueSize::new(1 << (inp.size_log2 % 9)).unwrap();
    let len = (usize::from(inp.ram_kib % 64) + 1) * 1024;
    let mut ram = Ram {
        base: BASE,
        bytes: vec![0; len],
        ro: u64::from(inp.ro),
    };
    let table = inp.table.at(BASE);
    for d in inp.descs.iter().take(512) {
        let len = match d.len {
            Len::Small(n) => u32::from(n),
            Len::Table(n) => 16 * u32::from(n),
            Len::Raw(n) => n,
        };
        let desc = Descriptor {
            addr: d.addr.at(BASE),
            len,
            flags: u16::from(d.flags & 7),
            next: d.next,
        };
        if let Some(off) = ram.offset(d.at.at(table), DESC_SIZE as u64) {
            ram.bytes[off..off + DESC_SIZE].copy_from_slice(&desc.to_le_bytes());
        }
    }
    let q = Table {
        ram: &ram,
        at: table,
        size,
    };
    let want = reference(&ram, table, size.get(), inp.head);

    // Iterating: bounded, and the reference's outcome.
    let bound = usize::from(size.get()) + MAX_INDIRECT_DESCS as usize + 2;
    let mut got = Vec::new();
    let mut err = None;
    let mut it = DescChain::new(&q, &ram, inp.head);
    for item in it.by_ref().take(bound) {
        match item {
            Ok(s) => {
                assert!(
                    ram.offset(s.gpa(), u64::from(s.len())).is_some(),
                    "unmapped segment {s:?}"
                );
                assert!(!s.writable() || ram.writable(s.gpa(), u64::from(s.len())));
                got.push((s.gpa(), s.len(), s.writable()));
            }
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    assert!(it.next().is_none(), "walker yields after its end or error");
    match (&want, err) {
        (Ok(w), None) => assert_eq!(w, &got),
        (Err(we), Some(e)) => assert_eq!(*we, e, "segments so far {got:?}"),
        (w, e) => panic!("reference {w:?}, walker {got:?} then {e:?}"),
    }

    // collect_into: the same, through a sink of `sink` entries.
    let cap = usize::from(inp.sink);
    let mut sink = Sink(Vec::new(), cap);
    let r = DescChain::new(&q, &ram, inp.head).collect_into(&mut sink);
    match (&want, r) {
        (Ok(w), Ok(sum)) => {
            assert!(w.len() <= cap);
            assert_eq!(sum.count(), w.len());
            let wb: u64 = w.iter().filter(|s| s.2).map(|s| u64::from(s.1)).sum();
            let rb: u64 = w.iter().filter(|s| !s.2).map(|s| u64::from(s.1)).sum();
            assert_eq!(
                (u64::from(sum.write_bytes), u64::from(sum.read_bytes)),
                (wb, rb)
            );
        }
        (Ok(w), Err(Error::TooManySegments)) => assert!(w.len() > cap),
        (Err(we), Err(e)) => assert!(*we == e || e == Error::TooManySegments),
        (w, r) => panic!("reference {w:?}, collect_into {r:?}"),
    }
});
