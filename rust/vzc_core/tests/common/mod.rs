// SPDX-License-Identifier: GPL-2.0-only
//! A userspace stand-in for the guest driver, in the spirit of rust-vmm's
//! `MockSplitQueue`: guest RAM is a `Vec<u8>`, the memory table maps guest
//! physical addresses to offsets in it (the "userspace address" is the
//! offset), and the descriptor table lives in that RAM at some GPA.

#![allow(dead_code)] // Each test binary uses a different subset.

use vzc_core::{
    DescTable, Descriptor, Error, GuestMemory, MemRegion, MemTable, QueueSize, Segment,
    SegmentSink, SinkFull,
};

/// Guest RAM plus the memory table describing it.
pub struct MockGuest {
    pub ram: Vec<u8>,
    pub regions: Vec<MemRegion>,
}

impl MockGuest {
    /// One region: GPA `[gpa, gpa + size)` at RAM offset 0.
    pub fn flat(gpa: u64, size: usize) -> Self {
        Self::new(
            vec![MemRegion {
                guest_phys_addr: gpa,
                size: size as u64,
                userspace_addr: 0,
            }],
            size,
        )
    }

    pub fn new(regions: Vec<MemRegion>, ram_size: usize) -> Self {
        MemTable::new(&regions).expect("mock regions must be valid");
        MockGuest {
            ram: vec![0; ram_size],
            regions,
        }
    }

    pub fn table(&self) -> MemTable<'_> {
        MemTable::new(&self.regions).unwrap()
    }

    /// Writes bytes at a GPA, through the same translation the device uses.
    pub fn write(&mut self, gpa: u64, data: &[u8]) {
        let mut off = 0usize;
        let segs: Vec<_> = self
            .table()
            .translate_iter(gpa, data.len() as u64)
            .map(|s| s.unwrap())
            .collect();
        for s in segs {
            let host = s.addr() as usize;
            let n = s.len() as usize;
            self.ram[host..host + n].copy_from_slice(&data[off..off + n]);
            off += n;
        }
    }

    /// Stores descriptor `index` of a table at `table_gpa`.
    pub fn set_desc(&mut self, table_gpa: u64, index: u16, d: Descriptor) {
        self.write(table_gpa + 16 * u64::from(index), &d.to_le_bytes());
    }

    /// The descriptor table of a queue at `gpa`.
    pub fn queue(&self, gpa: u64, size: u32) -> MockTable<'_> {
        MockTable {
            guest: self,
            gpa,
            size: QueueSize::new(size).unwrap(),
        }
    }
}

impl GuestMemory for MockGuest {
    fn read_obj(&self, gpa: u64, buf: &mut [u8]) -> Result<(), Error> {
        let mut off = 0usize;
        for s in self.table().translate_iter(gpa, buf.len() as u64) {
            let s = s?;
            let host = usize::try_from(s.addr()).map_err(|_| Error::Fault)?;
            let n = s.len() as usize;
            // Regions may describe more guest space than the Vec backs;
            // that is the mock's equivalent of a copy_from_user fault.
            let src = host
                .checked_add(n)
                .and_then(|end| self.ram.get(host..end))
                .ok_or(Error::Fault)?;
            buf[off..off + n].copy_from_slice(src);
            off += n;
        }
        Ok(())
    }

    fn check_range(&self, gpa: u64, len: u64, _write: bool) -> Result<(), Error> {
        self.table().check_range(gpa, len)
    }
}

/// A descriptor table stored in mock guest RAM.
pub struct MockTable<'a> {
    guest: &'a MockGuest,
    gpa: u64,
    size: QueueSize,
}

impl DescTable for MockTable<'_> {
    fn size(&self) -> QueueSize {
        self.size
    }

    fn read(&self, index: u16) -> Result<Descriptor, Error> {
        assert!(index < self.size.get(), "walker read past the table");
        let mut b = [0u8; 16];
        self.guest
            .read_obj(self.gpa + 16 * u64::from(index), &mut b)?;
        Ok(Descriptor::from_le_bytes(b))
    }
}

/// Shorthand descriptor constructor.
pub fn desc(addr: u64, len: u32, flags: u16, next: u16) -> Descriptor {
    Descriptor {
        addr,
        len,
        flags,
        next,
    }
}

/// A segment list of fixed capacity, what `collect_into` appends to (the
/// kernel's is a `KVec` allocated once).
pub struct Segs {
    v: Vec<Segment>,
    cap: usize,
}

impl Segs {
    pub fn with_capacity(cap: usize) -> Self {
        Segs {
            v: Vec::with_capacity(cap),
            cap,
        }
    }
}

impl SegmentSink for Segs {
    fn push_segment(&mut self, seg: Segment) -> Result<(), SinkFull> {
        if self.v.len() == self.cap {
            return Err(SinkFull);
        }
        self.v.push(seg);
        Ok(())
    }
}

impl core::ops::Deref for Segs {
    type Target = [Segment];
    fn deref(&self) -> &[Segment] {
        &self.v
    }
}
