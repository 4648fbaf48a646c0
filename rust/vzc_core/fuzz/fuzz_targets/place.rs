// SPDX-License-Identifier: GPL-2.0-only
//! A received frame placed into a hostile guest's buffers, end to end in a
//! simulated guest RAM: the guest posts any chains (any lengths, header
//! alone or shared, mergeable or not), the VF writes a frame of any length
//! over the accepted buffers exactly as the 82576 does (BSIZEPACKET per
//! descriptor), then the plan of `place` is executed: moves, header, used
//! entries.
//!
//! Asserts that every byte written (by the device, by a move, the header)
//! lies in a device-writable descriptor of the frame's own buffers and is
//! in the dirty list; that used entries fit their chains; and, when the
//! guest's buffers do not overlap, that the guest reading its used entries
//! as Linux `receive_mergeable` does gets exactly the frame and a header
//! with the right `num_buffers` and DATA_VALID. A refused frame must have
//! a reason that the naive checks confirm.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use vzc_core::vf::ring::RxStatus;
use vzc_core::vhost::abi::{VIRTIO_F_VERSION_1, VIRTIO_NET_F_MRG_RXBUF};
use vzc_core::zc::bsize::BufSize;
use vzc_core::zc::contain::{PostedBuf, RxLayout, PAGE};
use vzc_core::zc::place::{place, PlaceError, HDR_F_DATA_VALID, MAX_PIECES};
use vzc_core::{DescChain, MemRegion, MemTable, Segment};
use vzc_core_fuzz::{Chains, Pinned, TableMem};

const RAM: u64 = 256 << 10;
const HVA: u64 = 0x7f00_0000_0000;
const DMA: u64 = 0x1_0000_0000;

#[derive(Arbitrary, Debug)]
struct Input {
    chains: Vec<Vec<(u32, u16)>>,
    mrg: bool,
    v1: bool,
    kib: u8,
    frame_len: u16,
    pieces: u8,
    l4_ok: bool,
    csum_err: bool,
    vlan: Option<u16>,
    seed: u8,
}

fn inside(segs: &[Segment], gpa: u64, len: u64) -> bool {
    len == 0
        || segs
            .iter()
            .any(|s| s.writable() && gpa >= s.gpa() && gpa + len <= s.gpa() + u64::from(s.len()))
}

fn disjoint(all: &[&[Segment]]) -> bool {
    let mut v: Vec<(u64, u64)> = all
        .iter()
        .flat_map(|c| c.iter().map(|s| (s.gpa(), s.gpa() + u64::from(s.len()))))
        .collect();
    v.sort();
    v.windows(2).all(|w| w[0].1 <= w[1].0)
}

fuzz_target!(|inp: Input| {
    let regions = [MemRegion {
        guest_phys_addr: 0,
        size: RAM,
        userspace_addr: HVA,
    }];
    let mem = MemTable::new(&regions).unwrap();
    let mut pinned = Pinned::default();
    for p in 0..RAM / PAGE {
        pinned.0.insert(HVA + p * PAGE, DMA + p * PAGE);
    }
    let mut features = 0u64;
    if inp.mrg {
        features |= 1 << VIRTIO_NET_F_MRG_RXBUF;
    }
    if inp.v1 {
        features |= 1 << VIRTIO_F_VERSION_1;
    }
    let layout = RxLayout::from_features(features);
    let Some(bsize) = BufSize::from_kib(u32::from(inp.kib % 16) + 1) else {
        return;
    };
    let bs = bsize.bytes();

    // The guest's chains; the accepted ones in ring order, with their segments.
    let mut table = Chains::default();
    let mut posted: Vec<(PostedBuf, Vec<Segment>)> = Vec::new();
    for c in inp.chains.iter().take(MAX_PIECES + 2) {
        let bufs: Vec<(u64, u32, bool)> = c
            .iter()
            .take(4)
            .map(|&(g, l)| (u64::from(g) % RAM, u32::from(l), true))
            .collect();
        let head = table.add(&bufs);
        let Ok(segs) = DescChain::new(&table, &TableMem(mem), head).collect::<Result<Vec<_>, _>>()
        else {
            continue;
        };
        if let Ok(p) = PostedBuf::new(head, &segs, layout, bsize, &mem, &pinned) {
            posted.push((p, segs));
        }
    }
    let n = (usize::from(inp.pieces) % (MAX_PIECES + 1)).min(posted.len());
    if n == 0 {
        return;
    }
    let bufs: Vec<PostedBuf> = posted[..n].iter().map(|p| p.0).collect();
    let chains: Vec<&[Segment]> = posted[..n].iter().map(|p| &p.1[..]).collect();
    let len = u32::from(inp.frame_len);
    let status = RxStatus {
        eop: true,
        l4_csum_ok: inp.l4_ok,
        csum_err: inp.csum_err,
        vlan: inp.vlan,
        ..RxStatus::default()
    };
    let plan = match place(layout, &bufs, len, status) {
        Ok(p) => p,
        Err(PlaceError::PieceCount) => return assert!(len == 0 || len.div_ceil(bs) as usize != n),
        Err(PlaceError::VlanStripped) => return assert!(inp.vlan.is_some()),
        Err(PlaceError::TooLong) => {
            return assert!(!layout.mergeable() && len > bs + bufs[0].room_after())
        }
        Err(PlaceError::NotContinuable) => {
            return assert!(
                layout.mergeable() && bufs[1..].iter().any(|b| b.continuation().is_none())
            )
        }
        Err(e) => panic!("{e:?} for buffers of one size"),
    };
    assert!(len.div_ceil(bs) as usize == n && inp.vlan.is_none());

    // The device, then the plan, in simulated guest RAM.
    let frame: Vec<u8> = (0..len)
        .map(|i| (i.wrapping_mul(7) ^ (i >> 8)) as u8 ^ inp.seed)
        .collect();
    let mut ram = vec![0xa5u8; RAM as usize];
    let dirty: Vec<(u64, u64)> = plan.dirty().collect();
    let logged = |g: u64, l: u64| dirty.iter().any(|&(d, dl)| g >= d && g + l <= d + dl);
    for (k, b) in bufs.iter().enumerate() {
        let done = bs * k as u32;
        let l = bs.min(len - done);
        let w = b.window_gpa();
        assert!(
            inside(chains[k], w, u64::from(bs)),
            "window outside its buffer"
        );
        assert!(logged(w, u64::from(l)), "device write not logged");
        ram[w as usize..(w + u64::from(l)) as usize]
            .copy_from_slice(&frame[done as usize..(done + l) as usize]);
    }
    let used: Vec<(u16, u32)> = plan.used().collect();
    assert_eq!(used.len(), usize::from(plan.num_buffers()));
    let moved: u32 = plan
        .moves()
        .take(2 * MAX_PIECES * MAX_PIECES)
        .map(|m| {
            let (s, d, l) = (m.src as usize, m.dst as usize, m.len as usize);
            assert!(m.len > 0);
            assert!(
                bufs.iter().any(|b| m.src >= b.window_gpa()
                    && m.src + u64::from(m.len) <= b.window_gpa() + u64::from(bs)),
                "move from outside the device's windows"
            );
            assert!(
                chains[..used.len()]
                    .iter()
                    .any(|c| inside(c, m.dst, u64::from(m.len))),
                "move into a buffer not used"
            );
            assert!(logged(m.dst, u64::from(m.len)), "move not logged");
            ram.copy_within(s..s + l, d);
            m.len
        })
        .sum();
    assert_eq!(moved, plan.tail_bytes());
    assert_eq!(plan.tail_bytes() + plan.zc_bytes(), len);
    let h = plan.first().hdr_gpa();
    let hdr = plan.header();
    assert_eq!(hdr.len() as u32, layout.hdr_len());
    assert!(inside(&chains[0][..1], h, hdr.len() as u64) && logged(h, hdr.len() as u64));
    ram[h as usize..h as usize + hdr.len()].copy_from_slice(hdr);
    assert_eq!(hdr[0] & HDR_F_DATA_VALID != 0, inp.l4_ok && !inp.csum_err);
    if hdr.len() == 12 {
        assert_eq!(u16::from_le_bytes([hdr[10], hdr[11]]), plan.num_buffers());
    }
    assert_eq!(plan.returned().len(), n - used.len());

    // The guest reads its used entries.
    let mut got = Vec::new();
    let mut total = 0u64;
    for (j, &(head, ulen)) in used.iter().enumerate() {
        assert_eq!(head, bufs[j].head());
        total += u64::from(ulen);
        let mut stream = Vec::new();
        for s in chains[j] {
            stream
                .extend_from_slice(&ram[s.gpa() as usize..(s.gpa() + u64::from(s.len())) as usize]);
        }
        assert!(ulen as usize <= stream.len(), "used length past its chain");
        let skip = if j == 0 { hdr.len() } else { 0 };
        if j == 0 {
            got.extend_from_slice(&stream[skip..ulen as usize]);
        } else {
            got.extend_from_slice(&stream[..ulen as usize]);
        }
    }
    assert_eq!(total, u64::from(len) + hdr.len() as u64);
    if std::env::var_os("VZC_FUZZ_TRACE").is_some() {
        eprintln!(
            "placed len {len} pieces {n} used {} tail {} disjoint {}",
            used.len(),
            plan.tail_bytes(),
            disjoint(&chains)
        );
    }
    if disjoint(&chains) {
        assert!(
            got == frame,
            "the guest does not read the frame the device received"
        );
        assert_eq!(&ram[h as usize..h as usize + hdr.len()], hdr);
    }
});
