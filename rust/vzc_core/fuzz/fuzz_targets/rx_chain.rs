// SPDX-License-Identifier: GPL-2.0-only
//! RX frame assembly against a hostile device: any buffer size and ring
//! size (valid or not), and a sequence of raw 64-bit write-back words (any
//! status, error and length bits; DD clear too) fed through
//! `RxWriteback::parse` into `RxChain::push`, with frame-limit changes and
//! aborts (ring stops) in between.
//!
//! Asserts: `RingSize::new`/`RxChain::new` accept exactly the documented
//! sizes; `parse` is `None` exactly when DD is clear and decodes the fields
//! as laid out; every verdict (hold, frame, drop with its pieces and
//! reason) and every counter agree with a naive reassembler written from
//! the module's rules; `held()` stays below the piece bound and the ring;
//! a delivered frame's pieces sum to its length, all but the last fill
//! their buffer, it has at most the bound of pieces, fits the limit in
//! force, and carries no error; every buffer the device returned is
//! delivered, dropped, held or aborted exactly once; `abort()` returns the
//! held pieces and starts afresh.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use vzc_core::vf::ring::{RingSize, RxWriteback, RXDEXT_ERR_FRAME, RXD_STAT_EOP, RXD_STAT_VP};
use vzc_core::vf::rx_chain::{RxChain, RxChainStats, RxDrop, RxStep, MAX_FRAME_PIECES};

#[derive(Arbitrary, Debug)]
enum Size {
    /// `n` KiB (1..=64 is valid).
    Kib(u8),
    Raw(u32),
}

#[derive(Arbitrary, Debug)]
enum Op {
    /// A write-back as a device would write it: full buffer or `len`,
    /// EOP, one of the error bits (0: none), any other status bits.
    Piece {
        full: bool,
        len: u16,
        eop: bool,
        err: u8,
        other: u16,
    },
    /// Any second quadword.
    Raw(u64),
    SetMaxLen(u32),
    Abort,
}

#[derive(Arbitrary, Debug)]
struct Input {
    buf: Size,
    /// Descriptors: `8 * (n + 1)` if `ring_raw` is false.
    ring: u16,
    ring_raw: bool,
    max_len: u32,
    ops: Vec<Op>,
}

/// The reference: the pieces of the current frame, its fate, the counters.
struct Model {
    buf: u32,
    max_len: u32,
    max_pieces: usize,
    held: Vec<u16>,
    /// The current frame was dropped; its pieces go back until EOP.
    dropped: bool,
    stats: RxChainStats,
}

impl Model {
    fn push(
        &mut self,
        len: u16,
        eop: bool,
        err: bool,
    ) -> (Option<Vec<u16>>, usize, Option<RxDrop>) {
        if self.dropped {
            self.dropped = !eop;
            return (None, 1, None);
        }
        self.held.push(len);
        let total: u32 = self.held.iter().map(|&l| u32::from(l)).sum();
        let pieces = self.held.len();
        // BadLength: longer than the buffer, a short non-final piece, an
        // empty frame; TooLong: over the limit, or needing more pieces
        // than allowed. The piece's own length is judged before its error
        // bits, those before the frame's length and piece count.
        let bad_piece = u32::from(len) > self.buf || (!eop && u32::from(len) != self.buf);
        let reason = if bad_piece {
            Some(RxDrop::BadLength)
        } else if err {
            Some(RxDrop::DeviceError)
        } else if total > self.max_len || (!eop && pieces + 1 > self.max_pieces) {
            Some(RxDrop::TooLong)
        } else if eop && total == 0 {
            Some(RxDrop::BadLength)
        } else {
            None
        };
        let s = &mut self.stats;
        match reason {
            Some(r) => {
                *match r {
                    RxDrop::DeviceError => &mut s.drop_error,
                    RxDrop::TooLong => &mut s.drop_too_long,
                    RxDrop::BadLength => &mut s.drop_bad_len,
                } += 1;
                self.held.clear();
                self.dropped = !eop;
                (None, pieces, Some(r))
            }
            None if eop => {
                s.frames += 1;
                s.bytes += u64::from(total);
                s.multi += u64::from(pieces > 1);
                (Some(core::mem::take(&mut self.held)), 0, None)
            }
            None => (None, 0, None),
        }
    }
}

fuzz_target!(|inp: Input| {
    let buf = match inp.buf {
        Size::Kib(k) => u32::from(k) * 1024,
        Size::Raw(b) => b,
    };
    let n = if inp.ring_raw {
        inp.ring
    } else {
        8 * (inp.ring % 512 + 1)
    };
    let ring = RingSize::new(n);
    assert_eq!(ring.is_ok(), n != 0 && n % 8 == 0 && n <= 4096);
    let Ok(ring) = ring else { return };
    let chain = RxChain::new(buf, ring, inp.max_len);
    assert_eq!(
        chain.is_ok(),
        buf != 0 && buf % 1024 == 0 && buf <= 64 * 1024,
        "buf {buf}"
    );
    let Ok(mut chain) = chain else { return };
    let max_pieces = (usize::from(n) - 1).min(MAX_FRAME_PIECES);
    let mut m = Model {
        buf,
        max_len: inp.max_len,
        max_pieces,
        held: Vec::new(),
        dropped: false,
        stats: Default::default(),
    };
    // Buffers the device returned, and where each went.
    let (mut returned, mut delivered, mut dropped, mut aborted) = (0u64, 0u64, 0u64, 0u64);

    let errs: Vec<u32> = (24..32)
        .map(|b| 1 << b)
        .filter(|b| b & RXDEXT_ERR_FRAME != 0)
        .collect();
    for op in inp.ops.iter().take(512) {
        let q1 = match *op {
            Op::Piece {
                full,
                len,
                eop,
                err,
                other,
            } => {
                let len = if full {
                    u16::try_from(buf).unwrap_or(u16::MAX)
                } else {
                    len
                };
                let err_bit = if err == 0 {
                    0
                } else {
                    errs[usize::from(err) % errs.len()]
                };
                // `other`: DD clear now and then, VP, checksum bits.
                let st = 1 | (u32::from(eop) << 1) | err_bit | (u32::from(other) & 0x7c);
                let st = if other & 0x8000 != 0 { st & !1 } else { st };
                u64::from(st) | u64::from(len) << 32 | u64::from(other) << 48
            }
            Op::Raw(q1) => q1,
            Op::SetMaxLen(l) => {
                chain.set_max_len(l);
                m.max_len = l;
                continue;
            }
            Op::Abort => {
                let held = chain.abort();
                assert_eq!(
                    usize::from(held),
                    m.held.len(),
                    "abort returns the held pieces"
                );
                assert_eq!(chain.held(), 0);
                aborted += u64::from(held);
                m.held.clear();
                m.dropped = false;
                continue;
            }
        };
        let wb = RxWriteback::parse(q1.to_le());
        assert_eq!(wb.is_some(), q1 & 1 != 0, "parse is None iff DD is clear");
        let Some(wb) = wb else { continue };
        let (st_word, len) = (q1 as u32, (q1 >> 32) as u16);
        assert_eq!(
            (wb.status_error, wb.len, wb.vlan),
            (st_word, len, (q1 >> 48) as u16)
        );
        let st = wb.status();
        let err = st_word & RXDEXT_ERR_FRAME != 0;
        assert_eq!((st.eop, st.frame_err), (st_word & RXD_STAT_EOP != 0, err));
        assert_eq!(
            st.vlan,
            (st_word & RXD_STAT_VP != 0).then_some(wb.vlan & 0xfff)
        );
        returned += 1;

        let limit = m.max_len;
        let want = m.push(len, st.eop, err);
        match chain.push(&wb) {
            RxStep::Hold => assert_eq!(want, (None, 0, None), "held"),
            RxStep::Frame(f) => {
                let lens = f.piece_lens();
                assert_eq!(want.0.as_deref(), Some(lens), "frame {f:?}");
                delivered += lens.len() as u64;
                let sum: u32 = lens.iter().map(|&l| u32::from(l)).sum();
                assert!(sum == f.total && f.total <= limit && f.total > 0);
                assert!(lens.len() <= max_pieces && lens.len() < usize::from(n));
                let (last, rest) = lens.split_last().expect("a frame has pieces");
                assert!(rest.iter().all(|&l| u32::from(l) == buf) && u32::from(*last) <= buf);
                assert!(f.status.eop && !f.status.frame_err);
                assert_eq!(f.status, st, "the frame carries the EOP status");
            }
            RxStep::Drop { pieces, reason } => {
                assert_eq!((None, usize::from(pieces), reason), want, "drop");
                dropped += u64::from(pieces);
            }
        }
        assert_eq!(usize::from(chain.held()), m.held.len());
        assert!(
            usize::from(chain.held()) < max_pieces,
            "held beyond the bound"
        );
        assert_eq!(chain.stats(), m.stats);
        let held = u64::from(chain.held());
        assert_eq!(
            returned,
            delivered + dropped + aborted + held,
            "a buffer lost or doubled"
        );
    }
    let s = chain.stats();
    assert_eq!(s.dropped(), s.drop_error + s.drop_too_long + s.drop_bad_len);
    assert!(s.multi <= s.frames && s.bytes >= s.frames);
});
