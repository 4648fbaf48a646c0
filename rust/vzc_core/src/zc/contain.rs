// SPDX-License-Identifier: GPL-2.0-only
//! The containment rule: what may be posted to the VF.
//!
//! # The rule
//!
//! The 82576 has no per-descriptor length. For every posted descriptor it
//! may write up to BSIZEPACKET bytes starting at the packet address: the
//! pieces of a frame are exactly BSIZEPACKET bytes in every descriptor but
//! the last, and the last gets the rest (facts §1.4). So a guest buffer may
//! be posted at address `a` only if the whole *window* `[a, a + BSIZEPACKET)`
//! is memory the device may write, whatever frame arrives. A
//! [`PostedBuf`] is the only thing the glue can post, and
//! [`PostedBuf::new`] builds one only if:
//!
//! 1. the window lies inside ONE device-writable descriptor of the guest's
//!    chain (a [`Segment`] the chain walker produced: mapped, writable),
//!    starting where the frame belongs (chain byte `hdr_len`, after the
//!    virtio-net header);
//! 2. the window lies inside ONE memory region of the table, so its host
//!    bytes are `hva .. hva + BSIZEPACKET` with `hva` its translation;
//! 3. every host page the window touches is pinned and mapped for the VF,
//!    and the pages' device addresses follow each other, so the device
//!    addresses `dma .. dma + BSIZEPACKET` are exactly those host bytes;
//! 4. `dma` is even and non-zero (bit 0 may be read as No-Snoop, address 0
//!    is skipped by the device; facts §1.2).
//!
//! # Why it holds
//!
//! The VF runs in one-buffer mode (header address 0), so per descriptor it
//! writes `n <= BSIZEPACKET` bytes at `dma + 0 .. dma + n`, for every frame
//! length and however many descriptors a frame spans (each descriptor is
//! its own window). By 3, device byte `dma + i` is host byte `hva + i`
//! (a page's bytes are contiguous for the device, and consecutive pages'
//! device addresses are consecutive); by 2 that is guest byte `gpa + i` of
//! one region, the memory the guest sees there; by 1 it is inside the
//! guest's writable buffer. So the device writes only into the buffer the
//! guest offered for it, and only into pinned memory: the pins and DMA
//! mappings live until the queue is quiesced (the glue's `Quiesced` proof).
//!
//! # Not posted
//!
//! Everything else is rejected with a [`Reject`] (the glue counts it as
//! `rx_fallback`; the buffer serves the copy path): buffers with less than
//! BSIZEPACKET bytes after the frame start (choose a smaller size with
//! [`super::bsize::choose`]), windows that run into another region or off
//! mapped memory, windows over pages that are not device-contiguous (no
//! IOMMU and not physically adjacent), headers spread over descriptors,
//! chains with device-readable descriptors, odd or null device addresses.
//!
//! The rule assumes what the glue guarantees around it: the memory table
//! and pins do not change while a buffer is posted (SET_MEM_TABLE quiesces
//! first), and a DMA address is the host page itself or its IOMMU mapping
//! (no swiotlb bounce).

use super::super::vhost::mem::MemTable;
use super::super::virtio::chain::Segment;
use super::super::Error;
use super::bsize::BufSize;

/// Host page size of the pinning (the granule of device contiguity).
pub const PAGE: u64 = 4096;

/// The host pages pinned and DMA-mapped for the VF (the glue's table,
/// built when the memory table is pinned).
pub trait PinnedPages {
    /// The device address of the pinned host page `hva_page` (a multiple of
    /// [`PAGE`]), or `None` if it is not pinned and mapped. The page's bytes
    /// are at consecutive device addresses from there.
    fn page_dma(&self, hva_page: u64) -> Option<u64>;
}

/// Why a guest buffer cannot be posted (the copy path takes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    /// The chain has a device-readable descriptor (an RX chain must not).
    Readable,
    /// The virtio-net header does not fit in the first descriptor.
    HeaderSplit,
    /// The chain ends before the frame start.
    NoFrameStart,
    /// Fewer than BSIZEPACKET bytes after the frame start in its descriptor.
    TooSmall,
    /// The window runs off mapped guest memory.
    NotMapped,
    /// The window spans two memory regions.
    CrossesRegion,
    /// A page of the window is not pinned and mapped for the VF.
    NotPinned,
    /// The window crosses pages that are not contiguous for the device.
    NotContiguous,
    /// The device address is odd (bit 0 is No-Snoop on these NICs).
    OddAddress,
    /// The device address is 0 (the device skips such descriptors).
    NullAddress,
}

/// Virtio-net RX header geometry of the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxLayout {
    hdr_len: u8,
    mergeable: bool,
}

impl RxLayout {
    /// From the guest's features: 12-byte header with `VIRTIO_NET_F_MRG_RXBUF`
    /// or `VIRTIO_F_VERSION_1`, else 10 (see
    /// [`HeaderSplit`](super::super::net::HeaderSplit): in zero-copy the
    /// host writes the whole header, vhost's and the socket's share).
    pub fn from_features(features: u64) -> Self {
        let h = super::super::net::HeaderSplit::from_features(features);
        Self {
            hdr_len: (h.vhost_hlen + h.sock_hlen) as u8,
            mergeable: h.mergeable,
        }
    }

    /// Header bytes in front of every packet.
    pub fn hdr_len(self) -> u32 {
        u32::from(self.hdr_len)
    }

    /// Whether a packet may span several guest buffers (`MRG_RXBUF`).
    pub fn mergeable(self) -> bool {
        self.mergeable
    }
}

/// Where a chain's frame starts: the descriptor holding chain byte
/// `hdr_len`, and the header's own place.
struct FrameStart {
    /// Index in the chain of the descriptor where the frame starts.
    seg: usize,
    /// Offset of the frame start inside it.
    off: u32,
}

fn frame_start(segs: &[Segment], layout: RxLayout) -> Result<FrameStart, Reject> {
    if segs.iter().any(|s| !s.writable()) {
        return Err(Reject::Readable);
    }
    let hdr = layout.hdr_len();
    let first = segs.first().ok_or(Reject::NoFrameStart)?;
    if first.len() < hdr {
        return Err(Reject::HeaderSplit);
    }
    if first.len() > hdr {
        return Ok(FrameStart { seg: 0, off: hdr });
    }
    // The header has a descriptor of its own (Linux big packets): the frame
    // starts with the next one (zero-length descriptors yield no segment).
    if segs.len() < 2 {
        return Err(Reject::NoFrameStart);
    }
    Ok(FrameStart { seg: 1, off: 0 })
}

/// Bytes after the frame start in its descriptor: what BSIZEPACKET may be
/// at most for this chain ([`super::bsize::choose`] takes these).
pub fn frame_room(segs: &[Segment], layout: RxLayout) -> Result<u32, Reject> {
    let s = frame_start(segs, layout)?;
    Ok(segs[s.seg].len() - s.off)
}

/// A guest RX buffer the device may write: proof of the containment rule
/// (module comment). Fields are private; only [`PostedBuf::new`] makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostedBuf {
    head: u16,
    hdr_gpa: u64,
    desc_gpa: u64,
    desc_len: u32,
    win_off: u32,
    dma: u64,
    bsize: BufSize,
    /// The header shares the window's descriptor, which is the chain's
    /// first: the buffer can continue a mergeable packet from its start.
    shared: bool,
}

impl PostedBuf {
    /// Checks the containment rule for the chain `head`, whose segments
    /// (from the chain walker, over the same `mem`) are `segs`.
    pub fn new(
        head: u16,
        segs: &[Segment],
        layout: RxLayout,
        bsize: BufSize,
        mem: &MemTable<'_>,
        pinned: &impl PinnedPages,
    ) -> Result<Self, Reject> {
        let start = frame_start(segs, layout)?;
        let seg = segs[start.seg];
        let len = bsize.bytes();
        // 1: the window inside the descriptor.
        if seg.len() - start.off < len {
            return Err(Reject::TooSmall);
        }
        let gpa = seg.gpa() + u64::from(start.off);
        // 2: inside one region.
        let host = mem.translate(gpa, u64::from(len)).map_err(|e| match e {
            Error::CrossesRegion => Reject::CrossesRegion,
            _ => Reject::NotMapped,
        })?;
        // 3: every page pinned, device-contiguous. `translate` proved
        // hva + len - 1 does not overflow.
        let hva = host.addr();
        let first = hva & !(PAGE - 1);
        let last = (hva + u64::from(len - 1)) & !(PAGE - 1);
        let base = pinned.page_dma(first).ok_or(Reject::NotPinned)?;
        let mut page = first;
        while page != last {
            page += PAGE;
            let want = base
                .checked_add(page - first)
                .ok_or(Reject::NotContiguous)?;
            match pinned.page_dma(page) {
                None => return Err(Reject::NotPinned),
                Some(d) if d != want => return Err(Reject::NotContiguous),
                Some(_) => {}
            }
        }
        // The device must not wrap around its address space either.
        let dma = base
            .checked_add(hva - first)
            .filter(|d| d.checked_add(u64::from(len - 1)).is_some())
            .ok_or(Reject::NotContiguous)?;
        // 4.
        if dma == 0 {
            return Err(Reject::NullAddress);
        }
        if dma & 1 != 0 {
            return Err(Reject::OddAddress);
        }
        let hdr = segs[0];
        Ok(Self {
            head,
            hdr_gpa: hdr.gpa(),
            desc_gpa: seg.gpa(),
            desc_len: seg.len(),
            win_off: start.off,
            dma,
            bsize,
            shared: start.seg == 0,
        })
    }

    /// The chain's head (its used-ring id).
    pub fn head(&self) -> u16 {
        self.head
    }

    /// The device address to post (SRRCTL's BSIZEPACKET is [`bsize`](Self::bsize)).
    pub fn dma(&self) -> u64 {
        self.dma
    }

    /// The BSIZEPACKET the window was checked for.
    pub fn bsize(&self) -> BufSize {
        self.bsize
    }

    /// Guest address of the window's first byte (the frame start).
    pub fn window_gpa(&self) -> u64 {
        self.desc_gpa + u64::from(self.win_off)
    }

    /// Guest address of the virtio-net header (`hdr_len` bytes in one
    /// writable descriptor).
    pub fn hdr_gpa(&self) -> u64 {
        self.hdr_gpa
    }

    /// Bytes of the window's descriptor after the window: where a frame's
    /// tail can be moved.
    pub fn room_after(&self) -> u32 {
        self.desc_len - self.win_off - self.bsize.bytes()
    }

    /// Guest address and length of the whole buffer when it continues a
    /// mergeable packet (its bytes from offset 0), if it can.
    pub fn continuation(&self) -> Option<(u64, u32)> {
        self.shared.then_some((self.desc_gpa, self.desc_len))
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::vhost::mem::MemRegion;
    use super::super::testkit::{walk, Chains, Pinned};
    use super::*;

    const MRG: RxLayout = RxLayout {
        hdr_len: 12,
        mergeable: true,
    };
    const BIG: RxLayout = RxLayout {
        hdr_len: 12,
        mergeable: false,
    };

    fn kib(k: u32) -> BufSize {
        BufSize::from_kib(k).unwrap()
    }

    /// Two regions: GPA 0x10_0000.. (64 KiB at HVA 0x7000_0000) and right
    /// after it GPA 0x11_0000.. (64 KiB at HVA 0x9000_0000).
    fn regions() -> [MemRegion; 2] {
        [
            MemRegion {
                guest_phys_addr: 0x10_0000,
                size: 0x1_0000,
                userspace_addr: 0x7000_0000,
            },
            MemRegion {
                guest_phys_addr: 0x11_0000,
                size: 0x1_0000,
                userspace_addr: 0x9000_0000,
            },
        ]
    }

    fn post(
        descs: &[(u64, u32)],
        layout: RxLayout,
        bs: u32,
        pinned: &Pinned,
    ) -> Result<PostedBuf, Reject> {
        let regs = regions();
        let mem = MemTable::new(&regs).unwrap();
        let chains = Chains::one(descs, true);
        let segs = walk(&chains, &mem, 0).unwrap();
        PostedBuf::new(0, &segs, layout, kib(bs), &mem, pinned)
    }

    #[test]
    fn mergeable_buffer_window_after_header() {
        let p = Pinned::identity(0x7000_0000, 16);
        let b = post(&[(0x10_0000, 1536)], MRG, 1, &p).unwrap();
        assert_eq!(b.window_gpa(), 0x10_000c);
        assert_eq!(b.dma(), 0x7000_000c);
        assert_eq!(b.hdr_gpa(), 0x10_0000);
        assert_eq!(b.room_after(), 1536 - 12 - 1024);
        assert_eq!(b.continuation(), Some((0x10_0000, 1536)));
        // 2 KiB does not fit 1536 - 12 bytes.
        assert_eq!(
            post(&[(0x10_0000, 1536)], MRG, 2, &p),
            Err(Reject::TooSmall)
        );
        assert_eq!(
            post(&[(0x10_0000, 1035)], MRG, 1, &p),
            Err(Reject::TooSmall)
        );
        assert!(post(&[(0x10_0000, 1036)], MRG, 1, &p).is_ok());
    }

    #[test]
    fn big_packets_frame_in_second_descriptor() {
        let p = Pinned::identity(0x7000_0000, 16);
        let b = post(
            &[(0x10_0000, 12), (0x10_1020, 4064), (0x10_3000, 4096)],
            BIG,
            2,
            &p,
        )
        .unwrap();
        assert_eq!(b.window_gpa(), 0x10_1020);
        assert_eq!(b.hdr_gpa(), 0x10_0000);
        assert_eq!(b.room_after(), 4064 - 2048);
        assert_eq!(b.continuation(), None);
        assert_eq!(
            post(&[(0x10_0000, 12)], BIG, 1, &p),
            Err(Reject::NoFrameStart)
        );
        assert_eq!(
            post(&[(0x10_0000, 8), (0x10_1000, 4096)], BIG, 1, &p),
            Err(Reject::HeaderSplit)
        );
    }

    #[test]
    fn region_and_page_rules() {
        // The first region's pages are contiguous except between pages 3
        // and 4; the second region is pinned elsewhere.
        let mut p = Pinned::identity(0x7000_0000, 16);
        p.set(0x7000_4000, 0x5_0000_0000);
        for i in 0..16 {
            p.set(0x9000_0000 + i * PAGE, 0x6_0000_0000 + i * PAGE);
        }
        // Ends exactly at the region end: fine.
        assert!(post(&[(0x10_fbf4, 1036)], MRG, 1, &p).is_ok());
        // The descriptor continues into the next region: the window too.
        assert_eq!(
            post(&[(0x10_fc00, 2048)], MRG, 1, &p),
            Err(Reject::CrossesRegion)
        );
        // Crosses the non-contiguous page boundary.
        assert_eq!(
            post(&[(0x10_3e00, 1536)], MRG, 1, &p),
            Err(Reject::NotContiguous)
        );
        // Crosses a contiguous one.
        assert!(post(&[(0x10_2e00, 1536)], MRG, 1, &p).is_ok());
        // A page of the second region left unpinned.
        p.unset(0x9000_1000);
        assert_eq!(
            post(&[(0x11_0e00, 1536)], MRG, 1, &p),
            Err(Reject::NotPinned)
        );
        assert!(post(&[(0x11_0000, 1536)], MRG, 1, &p).is_ok());
    }

    #[test]
    fn device_address_rules() {
        let mut z = Pinned::identity(0x7000_0000, 16);
        z.set(0x7000_0000, 0);
        // The window starts at a page whose device address is 0.
        let descs = [(0x10_1000, 12), (0x10_0000, 2048)];
        assert_eq!(post(&descs, BIG, 1, &z), Err(Reject::NullAddress));
        // At the top of the device's address space: the window would wrap.
        z.set(0x7000_0000, u64::MAX - 0x1ff);
        assert_eq!(post(&descs, BIG, 1, &z), Err(Reject::NotContiguous));
        z.set(0x7000_0000, 0x3_0000_0000);
        assert_eq!(post(&descs, BIG, 1, &z).map(|b| b.dma()), Ok(0x3_0000_0000));
        let p = Pinned::identity(0x7000_0000, 16);
        assert_eq!(
            post(&[(0x10_0001, 1536)], MRG, 1, &p),
            Err(Reject::OddAddress)
        );
    }

    #[test]
    fn readable_chain_refused() {
        let regs = regions();
        let mem = MemTable::new(&regs).unwrap();
        let chains = Chains::one(&[(0x10_0000, 1536)], false);
        let segs = walk(&chains, &mem, 0).unwrap();
        let p = Pinned::identity(0x7000_0000, 16);
        assert_eq!(
            PostedBuf::new(0, &segs, MRG, kib(1), &mem, &p),
            Err(Reject::Readable)
        );
        assert_eq!(frame_room(&segs, MRG), Err(Reject::Readable));
    }

    #[test]
    fn layout_from_features() {
        use super::super::super::vhost::abi::{VIRTIO_F_VERSION_1, VIRTIO_NET_F_MRG_RXBUF};
        let l = RxLayout::from_features((1 << VIRTIO_F_VERSION_1) | (1 << VIRTIO_NET_F_MRG_RXBUF));
        assert_eq!((l.hdr_len(), l.mergeable()), (12, true));
        let l = RxLayout::from_features(0);
        assert_eq!((l.hdr_len(), l.mergeable()), (10, false));
    }
}

#[cfg(test)]
mod props {
    use super::super::super::vhost::mem::MemRegion;
    use super::super::testkit::{walk, Chains, Pinned};
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// A region: guest page, host page, size in bytes, and how each host
    /// page is pinned: 0 not pinned, 1 right after the previous page for the
    /// device, 2 somewhere else.
    fn region() -> impl Strategy<Value = (u64, u64, u64, Vec<u8>)> {
        (
            0u64..8,
            0u64..64,
            1u64..5 * PAGE,
            proptest::collection::vec(0u8..3, 6),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8192))]
        /// Whatever a hostile guest posts over whatever region and pin
        /// layout, every byte the device may write through an accepted
        /// buffer (any length up to BSIZEPACKET, in any descriptor of a
        /// frame) is a byte of that buffer, of pinned memory, and the host
        /// byte the guest sees at that address.
        #[test]
        fn device_writes_stay_in_the_buffer(
            regs in proptest::collection::vec(region(), 1..4),
            descs in proptest::collection::vec((0usize..3, -64i64..(5 * PAGE as i64), 1u32..6000), 1..4),
            hdr_alone in any::<bool>(),
            kib in 1u32..4,
            mergeable in any::<bool>(),
        ) {
            // Lay regions out so they do not overlap: region i lives in
            // guest slot i (64 KiB apart, some adjacent when size fills it).
            let mut table = Vec::new();
            let mut pinned = Pinned::default();
            for (i, (gpage, hpage, size, pins)) in regs.iter().enumerate() {
                let gpa = 0x10_0000 * (i as u64 + 1) + (gpage % 2) * (0x10_0000 - 5 * PAGE);
                let hva = 0x1000_0000 * (i as u64 + 1) + hpage * PAGE + (gpage / 2) * 2;
                table.push(MemRegion { guest_phys_addr: gpa, size: *size, userspace_addr: hva });
                let first = hva & !(PAGE - 1);
                let mut prev = None;
                for (k, p) in pins.iter().enumerate() {
                    let page = first + k as u64 * PAGE;
                    let dma = match (p, prev) {
                        (0, _) => None,
                        (1, Some(d)) => Some(d + PAGE),
                        _ => Some(0x4_0000_0000 + (page * 7919) % (1 << 30) / PAGE * PAGE),
                    };
                    if let Some(d) = dma {
                        pinned.set(page, d);
                    }
                    prev = dma;
                }
            }
            let Ok(mem) = MemTable::new(&table) else { return Ok(()); };
            let mut bufs: Vec<(u64, u32)> = descs
                .iter()
                .map(|&(r, off, len)| {
                    let base = table[r % table.len()].guest_phys_addr;
                    (base.wrapping_add_signed(off), len)
                })
                .collect();
            if hdr_alone {
                bufs[0].1 = 12;
            }
            let chains = Chains::one(&bufs, true);
            let Ok(segs) = walk(&chains, &mem, 0) else { return Ok(()); };
            let layout = RxLayout { hdr_len: 12, mergeable };
            let bs = BufSize::from_kib(kib).unwrap();
            let Ok(b) = PostedBuf::new(0, &segs, layout, bs, &mem, &pinned) else { return Ok(()); };
            prop_assert!(b.dma() != 0 && b.dma() % 2 == 0);
            let win = b.window_gpa();
            let seg = segs
                .iter()
                .find(|s| s.gpa() <= win && win - s.gpa() + u64::from(bs.bytes()) <= u64::from(s.len()));
            prop_assert!(seg.is_some_and(|s| s.writable()), "window outside one writable descriptor");
            let hva0 = mem.translate(win, 1).unwrap().addr();
            for i in 0..u64::from(bs.bytes()) {
                let host = pinned.host_of(b.dma() + i);
                prop_assert_eq!(host, Some(hva0 + i), "device byte {} is not the guest's", i);
                prop_assert_eq!(mem.translate(win + i, 1).map(|h| h.addr()), Ok(hva0 + i));
            }
            // The header and the tail room are in the chain too.
            let room_end = win + u64::from(bs.bytes()) + u64::from(b.room_after());
            prop_assert!(seg.is_some_and(|s| room_end <= s.gpa() + u64::from(s.len())));
            prop_assert!(segs[0].gpa() == b.hdr_gpa() && segs[0].len() >= 12);
        }
    }
}
