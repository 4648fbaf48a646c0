// SPDX-License-Identifier: GPL-2.0-only
//! THE SAFETY RULE under a hostile guest and VMM: any memory table, any
//! pinned-page table with any device addresses, any RX chain, any header
//! layout and BSIZEPACKET.
//!
//! Asserts that `PostedBuf::new` accepts exactly what a naive u128
//! reference of the rule (Documentation/zero-copy.rst) accepts, and, for
//! every accepted buffer, byte by byte at every page boundary of the
//! window, that device address `dma + i` is host byte `hva + i` of a pinned
//! page, that `hva + i` is guest byte `window + i` of ONE region, and that
//! the window lies inside one device-writable descriptor after the header:
//! the device can write nowhere but the buffer the guest posted.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use vzc_core::vhost::abi::{VIRTIO_F_VERSION_1, VIRTIO_NET_F_MRG_RXBUF};
use vzc_core::zc::bsize::BufSize;
use vzc_core::zc::contain::{PostedBuf, RxLayout, PAGE};
use vzc_core::{DescChain, MemRegion, MemTable, Segment};
use vzc_core_fuzz::{Chains, Pinned, TableMem, Val};

/// The device address of a pinned page.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Dma {
    /// Right after the previous pin's page (an IOMMU joining them).
    Follow,
    /// The host address itself (no IOMMU, physically adjacent).
    Identity,
    Raw(u64),
}

#[derive(Arbitrary, Debug)]
struct Input {
    regions: Vec<(Val, Val, Val)>,
    /// `(region, page in it, device address)`.
    pins: Vec<(u8, u16, Dma)>,
    chain: Vec<(Val, Val, bool)>,
    mrg: bool,
    v1: bool,
    kib: u8,
}

fn in_one_region(rs: &[MemRegion], gpa: u64, len: u32) -> Option<u64> {
    let (s, e) = (u128::from(gpa), u128::from(gpa) + u128::from(len));
    rs.iter().find_map(|r| {
        let (rs, re) = (
            u128::from(r.guest_phys_addr),
            u128::from(r.guest_phys_addr) + u128::from(r.size),
        );
        (rs <= s && e <= re).then(|| r.userspace_addr + (gpa - r.guest_phys_addr))
    })
}

/// The reference: `(dma, window gpa, hva, frame segment)` or rejected.
fn reference(
    segs: &[Segment],
    hdr: u32,
    bs: u32,
    rs: &[MemRegion],
    pinned: &Pinned,
) -> Option<(u64, u64, u64, Segment)> {
    if segs.iter().any(|s| !s.writable()) || segs.first()?.len() < hdr {
        return None;
    }
    let (seg, off) = if segs[0].len() > hdr {
        (segs[0], hdr)
    } else {
        (*segs.get(1)?, 0)
    };
    if seg.len() - off < bs {
        return None;
    }
    let w = seg.gpa() + u64::from(off);
    let hva = in_one_region(rs, w, bs)?;
    let first = hva / PAGE * PAGE;
    let base = u128::from(*pinned.0.get(&first)?);
    let mut p = u128::from(first);
    while p <= (u128::from(hva) + u128::from(bs) - 1) / u128::from(PAGE) * u128::from(PAGE) {
        let d = u128::from(*pinned.0.get(&(p as u64))?);
        if d != base + p - u128::from(first) {
            return None;
        }
        p += u128::from(PAGE);
    }
    let dma = base + u128::from(hva - first);
    if dma + u128::from(bs) > 1 << 64 || dma == 0 || dma % 2 != 0 {
        return None;
    }
    Some((dma as u64, w, hva, seg))
}

fuzz_target!(|inp: Input| {
    let rs: Vec<MemRegion> = inp
        .regions
        .iter()
        .take(4)
        .map(|&(g, s, u)| MemRegion {
            guest_phys_addr: g.get(),
            size: s.get(),
            userspace_addr: u.get(),
        })
        .collect();
    let Ok(mem) = MemTable::new(&rs) else { return };
    let Some(bsize) = BufSize::from_kib(u32::from(inp.kib % 20)) else {
        return;
    };
    let mut pinned = Pinned::default();
    let mut prev: Option<u64> = None;
    for &(r, page, dma) in inp.pins.iter().take(64) {
        let Some(reg) = rs.get(usize::from(r) % rs.len().max(1)) else {
            break;
        };
        let hva = (reg.userspace_addr / PAGE * PAGE).wrapping_add(u64::from(page) * PAGE);
        let d = match dma {
            Dma::Follow => prev.map_or(hva, |p| p.wrapping_add(PAGE)),
            Dma::Identity => hva,
            Dma::Raw(v) => v,
        };
        pinned.0.insert(hva, d);
        prev = Some(d);
    }
    let bufs: Vec<(u64, u32, bool)> = inp
        .chain
        .iter()
        .take(8)
        .map(|&(g, l, w)| (g.get(), l.get() as u32, w))
        .collect();
    let mut chains = Chains::default();
    chains.add(&bufs);
    let walk: Result<Vec<Segment>, _> = DescChain::new(&chains, &TableMem(mem), 0).collect();
    let Ok(segs) = walk else { return };
    let mut features = 0;
    if inp.mrg {
        features |= 1 << VIRTIO_NET_F_MRG_RXBUF;
    }
    if inp.v1 {
        features |= 1 << VIRTIO_F_VERSION_1;
    }
    let layout = RxLayout::from_features(features);
    let bs = bsize.bytes();

    let got = PostedBuf::new(0, &segs, layout, bsize, &mem, &pinned);
    let want = reference(&segs, layout.hdr_len(), bs, &rs, &pinned);
    match (got, want) {
        (Err(_), None) => {}
        (Ok(p), Some((dma, w, hva, seg))) => {
            if std::env::var_os("VZC_FUZZ_TRACE").is_some() {
                eprintln!("accepted {p:?}");
            }
            assert_eq!(
                (p.dma(), p.window_gpa(), p.hdr_gpa(), p.bsize()),
                (dma, w, segs[0].gpa(), bsize)
            );
            assert_eq!(p.room_after(), seg.len() - (w - seg.gpa()) as u32 - bs);
            assert_eq!(
                p.continuation(),
                (seg == segs[0]).then_some((seg.gpa(), seg.len()))
            );
            // Byte by byte where it can go wrong: the window's ends and
            // both sides of every page boundary inside it.
            let mut probes = vec![0, bs - 1];
            let mut b = PAGE - hva % PAGE;
            while b < u64::from(bs) {
                probes.extend([b as u32 - 1, b as u32]);
                b += PAGE;
            }
            for i in probes {
                let h = hva + u64::from(i);
                let page_dma = pinned.0[&(h / PAGE * PAGE)];
                assert_eq!(
                    page_dma + h % PAGE,
                    p.dma() + u64::from(i),
                    "device byte {i} is not host byte {h:#x}"
                );
                assert_eq!(in_one_region(&rs, w + u64::from(i), 1), Some(h));
                let g = u128::from(w) + u128::from(i);
                assert!(
                    g >= u128::from(seg.gpa()) && g < u128::from(seg.gpa()) + u128::from(seg.len())
                );
            }
            assert!(w - seg.gpa() >= u64::from(if seg == segs[0] { layout.hdr_len() } else { 0 }));
        }
        (g, w) => panic!("PostedBuf::new {g:?}, reference {w:?}"),
    }
});
