// SPDX-License-Identifier: GPL-2.0-only
//! Memory tables from a hostile VMM (`VHOST_SET_MEM_TABLE`), and guest
//! ranges from a hostile guest translated through them.
//!
//! Asserts that the ABI decoders round-trip the bytes QEMU writes, that
//! `MemTable::new` accepts exactly the tables a naive u128 reference calls
//! valid (no region empty or wrapping, no guest overlap, at most 509), and
//! that `translate`, `translate_iter`, `check_range` and `for_each_gpa`
//! agree with the reference on every query: the same host ranges, the same
//! error, bounded steps, every host byte of a reverse lookup covered.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use vzc_core::vhost::abi::{mem_header, mem_region, MEM_HEADER_SIZE, MEM_REGION_SIZE};
use vzc_core::{Error, MemRegion, MemTable, MAX_MEM_REGIONS};
use vzc_core_fuzz::Val;

#[derive(Arbitrary, Debug)]
struct Input {
    header: [u8; MEM_HEADER_SIZE],
    regions: Vec<(Val, Val, Val, u64)>,
    /// Repeat the regions up to this many times (to reach the 509 limit).
    repeat: u8,
    queries: Vec<(Val, Val)>,
}

fn last(r: &MemRegion) -> u128 {
    u128::from(r.guest_phys_addr) + u128::from(r.size) - 1
}

fn valid(rs: &[MemRegion]) -> bool {
    let ok = |r: &MemRegion| {
        r.size != 0
            && u128::from(r.guest_phys_addr) + u128::from(r.size) <= 1 << 64
            && u128::from(r.userspace_addr) + u128::from(r.size) <= 1 << 64
    };
    rs.len() <= MAX_MEM_REGIONS
        && rs.iter().all(ok)
        && rs.iter().enumerate().all(|(i, a)| {
            rs[i + 1..].iter().all(|b| {
                last(a) < u128::from(b.guest_phys_addr) || last(b) < u128::from(a.guest_phys_addr)
            })
        })
}

fn find(rs: &[MemRegion], gpa: u128) -> Option<&MemRegion> {
    rs.iter()
        .find(|r| u128::from(r.guest_phys_addr) <= gpa && gpa <= last(r))
}

/// The reference `translate_iter`: `(hva, len)` pieces, then maybe an error.
fn pieces(rs: &[MemRegion], gpa: u64, len: u64) -> (Vec<(u64, u64)>, Option<Error>) {
    let mut out = Vec::new();
    if len == 0 {
        return (out, None);
    }
    if u128::from(gpa) + u128::from(len) > 1 << 64 {
        return (out, Some(Error::LengthOverflow));
    }
    let (mut cur, end) = (u128::from(gpa), u128::from(gpa) + u128::from(len));
    while cur < end {
        let Some(r) = find(rs, cur) else {
            return (out, Some(Error::AddressNotMapped));
        };
        let n = (last(r) + 1).min(end) - cur;
        let hva = u128::from(r.userspace_addr) + cur - u128::from(r.guest_phys_addr);
        out.push((hva as u64, n as u64));
        cur += n;
    }
    (out, None)
}

fuzz_target!(|inp: Input| {
    // The header: padding must be zero, the count bounded.
    let n = u32::from_le_bytes(inp.header[..4].try_into().unwrap());
    let pad = u32::from_le_bytes(inp.header[4..].try_into().unwrap());
    match mem_header(&inp.header, MAX_MEM_REGIONS as u32) {
        Ok(k) => assert!(pad == 0 && k == n as usize && k <= MAX_MEM_REGIONS),
        Err(_) => assert!(pad != 0 || n as usize > MAX_MEM_REGIONS),
    }

    // Regions as the VMM writes them, decoded by the ABI.
    let mut rs = Vec::new();
    for _ in 0..=inp.repeat % 8 {
        for &(g, s, u, flags) in inp.regions.iter().take(80) {
            let mut b = [0u8; MEM_REGION_SIZE];
            b[..8].copy_from_slice(&g.get().to_le_bytes());
            b[8..16].copy_from_slice(&s.get().to_le_bytes());
            b[16..24].copy_from_slice(&u.get().to_le_bytes());
            b[24..].copy_from_slice(&flags.to_le_bytes());
            let r = mem_region(&b);
            assert_eq!(
                (r.guest_phys_addr, r.size, r.userspace_addr),
                (g.get(), s.get(), u.get())
            );
            rs.push(r);
        }
    }
    let table = MemTable::new(&rs);
    assert_eq!(table.is_ok(), valid(&rs), "{table:?}");
    let Ok(table) = table else { return };

    for &(g, l) in inp.queries.iter().take(64) {
        let (gpa, len) = (g.get(), l.get());
        let (want, werr) = pieces(&rs, gpa, len);

        let mut got = Vec::new();
        let mut gerr = None;
        for item in table.translate_iter(gpa, len).take(rs.len() + 2) {
            match item {
                Ok(h) => got.push((h.addr(), h.len())),
                Err(e) => {
                    gerr = Some(e);
                    break;
                }
            }
        }
        assert_eq!(
            (&got, gerr),
            (&want, werr),
            "translate_iter({gpa:#x}, {len:#x})"
        );
        assert_eq!(table.check_range(gpa, len).err(), werr);

        // translate: one piece, or the reason there is not one.
        let one = table.translate(gpa, len);
        let expect = if len == 0 {
            find(&rs, u128::from(gpa))
                .map(|r| (r.userspace_addr + (gpa - r.guest_phys_addr), 0))
                .ok_or(Error::AddressNotMapped)
        } else {
            match (want.len(), werr) {
                (1, None) => Ok(want[0]),
                (0, Some(e)) => Err(e),
                (_, Some(Error::AddressNotMapped)) if want.len() == 1 => {
                    Err(Error::AddressNotMapped)
                }
                _ => Err(Error::CrossesRegion),
            }
        };
        assert_eq!(
            one.map(|h| (h.addr(), h.len())),
            expect,
            "translate({gpa:#x}, {len:#x})"
        );

        // for_each_gpa, from the host side: every call maps back onto the
        // host range it claims, and on success the host range is covered.
        let mut calls = 0usize;
        let mut covered: Vec<(u128, u128)> = Vec::new();
        let r = table.for_each_gpa(gpa, len, |g, n| {
            calls += 1;
            assert!(
                calls <= rs.len() * (rs.len() + 1) + 1,
                "unbounded for_each_gpa"
            );
            let reg = find(&rs, u128::from(g)).expect("gpa outside every region");
            let end = u128::from(g) + u128::from(n);
            assert!(n > 0 && end - 1 <= last(reg), "range crosses its region");
            let h =
                u128::from(reg.userspace_addr) + u128::from(g) - u128::from(reg.guest_phys_addr);
            covered.push((h, h + u128::from(n)));
            Ok::<(), ()>(())
        });
        if r.is_ok() && len > 0 {
            covered.sort();
            let mut reach = u128::from(gpa);
            for (s, e) in covered {
                if s <= reach {
                    reach = reach.max(e);
                }
            }
            assert!(
                reach >= u128::from(gpa) + u128::from(len),
                "host bytes not covered"
            );
        }
    }
});
