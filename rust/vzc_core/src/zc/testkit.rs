// SPDX-License-Identifier: GPL-2.0-only
//! Test doubles for the zero-copy tests: descriptor chains at any guest
//! address over a [`MemTable`], and a pinned-page table.

use std::collections::BTreeMap;
use std::vec::Vec;

use super::super::vhost::abi::{VIRTIO_F_VERSION_1, VIRTIO_NET_F_MRG_RXBUF};
use super::super::vhost::mem::MemTable;
use super::super::virtio::chain::{DescChain, DescTable, GuestMemory, Segment};
use super::super::virtio::desc::{Descriptor, QueueSize, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE};
use super::super::Error;
use super::bsize::BufSize;
use super::contain::{PinnedPages, PostedBuf, RxLayout, PAGE};
use super::place::Placement;

/// A descriptor table holding chains laid out by the test.
pub struct Chains {
    descs: Vec<Descriptor>,
}

impl Chains {
    /// One chain at head 0 over `(gpa, len)` buffers, device-writable if `write`.
    pub fn one(bufs: &[(u64, u32)], write: bool) -> Self {
        let mut c = Chains { descs: Vec::new() };
        c.add(bufs, write);
        c
    }

    /// Appends a chain and returns its head.
    pub fn add(&mut self, bufs: &[(u64, u32)], write: bool) -> u16 {
        let head = self.descs.len() as u16;
        for (i, &(addr, len)) in bufs.iter().enumerate() {
            let mut flags = if write { VIRTQ_DESC_F_WRITE } else { 0 };
            if i + 1 < bufs.len() {
                flags |= VIRTQ_DESC_F_NEXT;
            }
            self.descs.push(Descriptor {
                addr,
                len,
                flags,
                next: head + i as u16 + 1,
            });
        }
        head
    }
}

impl DescTable for Chains {
    fn size(&self) -> QueueSize {
        QueueSize::new(self.descs.len().next_power_of_two().max(1) as u32).unwrap()
    }

    fn read(&self, index: u16) -> Result<Descriptor, Error> {
        Ok(self
            .descs
            .get(usize::from(index))
            .copied()
            .unwrap_or(Descriptor {
                addr: 0,
                len: 0,
                flags: 0,
                next: 0,
            }))
    }
}

/// Guest memory as the memory table says (no contents: walks only).
pub struct TableMem<'a>(pub MemTable<'a>);

impl GuestMemory for TableMem<'_> {
    fn read_obj(&self, _gpa: u64, _buf: &mut [u8]) -> Result<(), Error> {
        Err(Error::Fault)
    }

    fn check_range(&self, gpa: u64, len: u64, _write: bool) -> Result<(), Error> {
        self.0.check_range(gpa, len)
    }
}

/// The segments of the chain at `head`.
pub fn walk(chains: &Chains, mem: &MemTable<'_>, head: u16) -> Result<Vec<Segment>, Error> {
    let m = TableMem(*mem);
    DescChain::new(chains, &m, head).collect()
}

/// Pinned pages: host page -> device address.
#[derive(Default, Clone, Debug)]
pub struct Pinned {
    pages: BTreeMap<u64, u64>,
}

impl Pinned {
    /// `n` pages from `hva`, each at its own address for the device.
    pub fn identity(hva: u64, n: u64) -> Self {
        let mut p = Pinned::default();
        for i in 0..n {
            p.set(hva + i * PAGE, hva + i * PAGE);
        }
        p
    }

    /// Pins `page` at device address `dma`.
    pub fn set(&mut self, page: u64, dma: u64) {
        self.pages.insert(page, dma);
    }

    /// Unpins `page`.
    pub fn unset(&mut self, page: u64) {
        self.pages.remove(&page);
    }

    /// The host byte behind device address `dma`, if a pinned page holds it.
    pub fn host_of(&self, dma: u64) -> Option<u64> {
        self.pages
            .iter()
            .find(|(_, &d)| dma >= d && dma - d < PAGE)
            .map(|(&h, &d)| h + (dma - d))
    }
}

impl PinnedPages for Pinned {
    fn page_dma(&self, hva_page: u64) -> Option<u64> {
        self.pages.get(&hva_page).copied()
    }
}

/// One region of guest RAM with contents, pinned at its host addresses.
pub struct Ram {
    regions: [super::super::vhost::mem::MemRegion; 1],
    /// The bytes, from the region's first guest address.
    pub bytes: Vec<u8>,
}

impl Ram {
    /// `size` bytes at guest `gpa`, host `hva` (page-aligned).
    pub fn new(gpa: u64, hva: u64, size: usize, fill: u8) -> Self {
        Ram {
            regions: [super::super::vhost::mem::MemRegion {
                guest_phys_addr: gpa,
                size: size as u64,
                userspace_addr: hva,
            }],
            bytes: std::vec![fill; size],
        }
    }

    /// Its memory table.
    pub fn table(&self) -> MemTable<'_> {
        MemTable::new(&self.regions).unwrap()
    }

    /// Every page pinned at its own host address.
    pub fn pinned(&self) -> Pinned {
        let r = self.regions[0];
        Pinned::identity(r.userspace_addr, (r.size).div_ceil(PAGE))
    }

    fn at(&self, gpa: u64) -> usize {
        (gpa - self.regions[0].guest_phys_addr) as usize
    }

    /// The device writes `data` at device address `dma` (= host address).
    pub fn dev_write(&mut self, dma: u64, data: &[u8]) {
        let r = self.regions[0];
        let i = (dma - r.userspace_addr) as usize;
        self.bytes[i..i + data.len()].copy_from_slice(data);
    }

    /// The CPU writes `data` at `gpa`.
    pub fn write(&mut self, gpa: u64, data: &[u8]) {
        let i = self.at(gpa);
        self.bytes[i..i + data.len()].copy_from_slice(data);
    }

    /// The guest reads `len` bytes at `gpa`.
    pub fn read(&self, gpa: u64, len: u32) -> &[u8] {
        let i = self.at(gpa);
        &self.bytes[i..i + len as usize]
    }

    /// A forward byte-by-byte copy (what the plan promises is enough).
    pub fn copy_forward(&mut self, src: u64, dst: u64, len: u32) {
        let (s, d) = (self.at(src), self.at(dst));
        for k in 0..len as usize {
            self.bytes[d + k] = self.bytes[s + k];
        }
    }
}

pub const GPA: u64 = 0x100_0000;
pub const HVA: u64 = 0x7f00_0000_0000;

pub fn layout(mergeable: bool) -> RxLayout {
    let mrg = if mergeable {
        1 << VIRTIO_NET_F_MRG_RXBUF
    } else {
        0
    };
    RxLayout::from_features((1 << VIRTIO_F_VERSION_1) | mrg)
}

/// Posts one chain per entry of `chains` (its `(offset, len)` buffers
/// in `ram`), keeping the accepted ones.
pub fn post_all(ram: &Ram, chains: &[Vec<(u64, u32)>], l: RxLayout, bs: BufSize) -> Vec<PostedBuf> {
    let mem = ram.table();
    let pinned = ram.pinned();
    let mut table = Chains::one(&[], true);
    let mut out = Vec::new();
    for c in chains {
        let bufs: Vec<(u64, u32)> = c.iter().map(|&(o, n)| (GPA + o, n)).collect();
        let head = table.add(&bufs, true);
        let segs = walk(&table, &mem, head).unwrap();
        if let Ok(b) = PostedBuf::new(head, &segs, l, bs, &mem, &pinned) {
            out.push(b);
        }
    }
    out
}

/// The device writes `frame` over `bufs` as the 82576 does.
pub fn device(ram: &mut Ram, bufs: &[PostedBuf], frame: &[u8]) {
    let bs = bufs[0].bsize().bytes() as usize;
    for (b, piece) in bufs.iter().zip(frame.chunks(bs)) {
        ram.dev_write(b.dma(), piece);
    }
}

/// Executes the plan and returns the bytes the guest reads back.
pub fn execute(ram: &mut Ram, p: &Placement<'_>, bufs: &[PostedBuf]) -> Vec<u8> {
    for m in p.moves() {
        ram.copy_forward(m.src, m.dst, m.len);
    }
    ram.write(bufs[0].hdr_gpa(), p.header());
    let mut seen = Vec::new();
    for (i, (head, len)) in p.used().enumerate() {
        let b = bufs.iter().find(|b| b.head() == head).unwrap();
        if i == 0 {
            // The first buffer: the header, then the frame at its start.
            let h = p.header().len() as u32;
            seen.extend_from_slice(ram.read(b.hdr_gpa(), h));
            seen.extend_from_slice(ram.read(b.window_gpa(), len - h));
        } else {
            seen.extend_from_slice(ram.read(b.continuation().unwrap().0, len));
        }
    }
    seen
}
