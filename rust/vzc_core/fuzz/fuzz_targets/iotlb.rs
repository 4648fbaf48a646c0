// SPDX-License-Identifier: GPL-2.0-only
//! IOTLB messages from a hostile VMM (`write()` on the device file) and
//! guest I/O addresses translated through the resulting table.
//!
//! Asserts that `IotlbMsg::decode` accepts exactly the writes upstream
//! accepts and returns their fields unchanged; that the table, maintained
//! with the core's helpers exactly as drivers/vhost/iotlb.rs does (sorted
//! insert, oldest evicted, invalidate by overlap), answers every query as a
//! naive unsorted reference does: the lowest-starting mapping holding each
//! byte, permissions, the miss address, contiguity.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use vzc_core::vhost::abi::{
    IotlbMsg, IOTLB_WRITE_MIN, VHOST_IOTLB_INVALIDATE, VHOST_IOTLB_MSG, VHOST_IOTLB_MSG_V2,
    VHOST_IOTLB_UPDATE,
};
use vzc_core::vhost::iotlb::{self, Iotlb, IotlbEntry, ACCESS_RW};
use vzc_core::Error;
use vzc_core_fuzz::Val;

#[derive(Arbitrary, Debug)]
struct Msg {
    format: u8,
    iova: Val,
    size: Val,
    uaddr: Val,
    perm: u8,
    kind: u8,
    cut: u8,
}

#[derive(Arbitrary, Debug)]
struct Input {
    msgs: Vec<Msg>,
    queries: Vec<(Val, Val, u8)>,
}

/// The naive table: `(start, last, uaddr, perm, seq)` in any order.
type Naive = Vec<(u64, u64, u64, u8, u64)>;

fn naive_lookup(t: &Naive, cur: u64) -> Option<&(u64, u64, u64, u8, u64)> {
    t.iter()
        .filter(|e| e.0 <= cur && cur <= e.1)
        .min_by_key(|e| (e.0, e.4))
}

/// `(uaddr, len)` pieces, then the error and the miss address.
/// Pieces, then the error and the miss address.
type Pieces = (Vec<(u64, u64)>, Option<(Error, u64)>);

fn naive_translate(t: &Naive, iova: u64, len: u64, access: u8) -> Pieces {
    let mut out = Vec::new();
    let (mut cur, mut left) = (iova, len);
    while left > 0 {
        if cur.checked_add(left - 1).is_none() {
            return (out, Some((Error::LengthOverflow, iova)));
        }
        let Some(e) = naive_lookup(t, cur) else {
            return (out, Some((Error::IotlbMiss, cur)));
        };
        if e.3 & access != access {
            return (out, Some((Error::IotlbPerm, iova)));
        }
        let n = left.min(e.1 - cur + 1);
        out.push((e.2 + (cur - e.0), n));
        cur = cur.wrapping_add(n);
        left -= n;
    }
    (out, None)
}

fuzz_target!(|inp: Input| {
    let mut tlb: Vec<IotlbEntry> = Vec::new();
    let mut naive: Naive = Vec::new();
    let mut seq = 0u64;
    for m in inp.msgs.iter().take(64) {
        let format = u32::from(m.format % 4);
        let mut b = [0u8; 48];
        b[..4].copy_from_slice(&format.to_le_bytes());
        b[8..16].copy_from_slice(&m.iova.get().to_le_bytes());
        b[16..24].copy_from_slice(&m.size.get().to_le_bytes());
        b[24..32].copy_from_slice(&m.uaddr.get().to_le_bytes());
        b[32] = m.perm;
        b[33] = m.kind % 4;
        let n = 48 - usize::from(m.cut % 16);
        let d = IotlbMsg::decode(&b[..n]);
        let fmt_ok = format == VHOST_IOTLB_MSG || format == VHOST_IOTLB_MSG_V2;
        let want_ok =
            fmt_ok && n >= IOTLB_WRITE_MIN && !(b[33] == VHOST_IOTLB_UPDATE && m.size.get() == 0);
        assert_eq!(d.is_ok(), want_ok, "decode of {:?}", &b[..n]);
        let Ok(msg) = d else { continue };
        assert_eq!(
            (msg.format, msg.iova, msg.size, msg.uaddr, msg.perm, msg.kind),
            (
                format,
                m.iova.get(),
                m.size.get(),
                m.uaddr.get(),
                m.perm,
                b[33]
            )
        );

        match msg.kind {
            VHOST_IOTLB_UPDATE => {
                let Ok(mut e) = iotlb::update_entry(msg.iova, msg.size, msg.uaddr, msg.perm) else {
                    let (i, s, u) = (
                        u128::from(msg.iova),
                        u128::from(msg.size),
                        u128::from(msg.uaddr),
                    );
                    assert!(i + s > 1 << 64 || u + s > 1 << 64);
                    continue;
                };
                if tlb.len() >= iotlb::MAX_IOTLB_ENTRIES {
                    if let Some(i) = iotlb::oldest(&tlb) {
                        let old = tlb.remove(i);
                        naive.retain(|x| x.4 != old.seq);
                        iotlb::reindex(&mut tlb);
                    }
                }
                seq += 1;
                e.seq = seq;
                let at = iotlb::insert_index(&tlb, e.start);
                tlb.insert(at, e);
                iotlb::reindex(&mut tlb);
                naive.push((e.start, e.last, e.uaddr, msg.perm & ACCESS_RW, seq));
            }
            VHOST_IOTLB_INVALIDATE if msg.size != 0 => {
                let last = msg.iova.wrapping_add(msg.size - 1);
                tlb.retain(|e| !iotlb::overlaps(e, msg.iova, last));
                iotlb::reindex(&mut tlb);
                naive.retain(|e| !(e.0 <= last && e.1 >= msg.iova));
            }
            _ => {}
        }
        assert_eq!(tlb.len(), naive.len());
        assert!(
            tlb.windows(2).all(|w| w[0].start <= w[1].start),
            "table not sorted"
        );
    }

    let t = Iotlb::new(&tlb);
    for &(iova, len, access) in inp.queries.iter().take(64) {
        let (iova, len, access) = (iova.get(), len.get(), access % 4);
        let (want, werr) = naive_translate(&naive, iova, len, access);
        let mut it = t.translate_iter(iova, len, access);
        let mut got = Vec::new();
        let mut gerr = None;
        for r in it.by_ref().take(tlb.len() + 2) {
            match r {
                Ok(h) => got.push((h.addr(), h.len())),
                Err(e) => {
                    gerr = Some(e);
                    break;
                }
            }
        }
        assert_eq!(got, want, "translate_iter({iova:#x}, {len:#x}, {access})");
        assert_eq!(gerr, werr.map(|w| w.0));
        if gerr == Some(Error::IotlbMiss) {
            assert_eq!(it.miss(), werr.map(|w| w.1), "miss address");
        }
        assert_eq!(t.check(iova, len, access), werr.map_or(Ok(()), Err));
        let contiguous = t.translate_contiguous(iova, len, access);
        // Pieces are checked for contiguity as they come, before a later error.
        let joined = want.windows(2).all(|w| w[0].0 + w[0].1 == w[1].0);
        let expect = match werr {
            _ if !joined => Err((Error::CrossesRegion, iova)),
            Some(e) => Err(e),
            None if want.is_empty() => Err((Error::IotlbMiss, iova)),
            None => Ok(want[0].0),
        };
        assert_eq!(contiguous, expect);
    }
});
