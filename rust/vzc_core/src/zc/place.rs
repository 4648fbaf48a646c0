// SPDX-License-Identifier: GPL-2.0-only
//! Where a received frame must end up in the guest's buffers, and the
//! least CPU work to get it there.
//!
//! The VF wrote the frame in ring order over `N` posted buffers, exactly
//! BSIZEPACKET bytes into each but the last (facts §1.4), each at its
//! buffer's frame start (chain byte `hdr_len`, [`super::contain`]). The
//! guest wants one byte stream: the virtio-net header, then the frame,
//! through its first buffer and, with `MRG_RXBUF`, further whole buffers
//! from their byte 0 (Linux: `receive_mergeable`). So only the first piece
//! is in place; [`place`] plans the rest:
//!
//! - the tail (pieces 2..N) moves into the room after the first window
//!   (1536-byte buffers, 1 KiB windows, a 1514-byte frame: 490 bytes into
//!   bytes 1036..1526 of the first buffer: ONE used entry, num_buffers 1);
//! - what does not fit continues in the frame's own next buffers, from their
//!   byte 0 (mergeable only; each such buffer is one more used entry);
//! - the buffers left over hold no data for the guest and go back to the VF.
//!
//! Every frame byte after the first piece is moved (its buffer's frame start
//! is past byte 0), so tail bytes = frame length - BSIZEPACKET, and choosing
//! BSIZEPACKET at least the frame length ([`super::bsize`]) moves nothing.
//!
//! Without `MRG_RXBUF` a packet has one chain: Linux big packets put the
//! header alone in descriptor 0 and the frame in descriptor 1 (4064 bytes),
//! so a 2 KiB BSIZEPACKET holds every frame up to 2048 bytes in ONE device
//! descriptor, with no move; a longer frame's tail moves into the room
//! after the window, and one beyond that is [`PlaceError::TooLong`].
//!
//! The plan names guest physical ranges; the glue copies (in plan order,
//! each move front to back: a move's destination is never after its source
//! in the same buffer, and no move reads what an earlier one wrote), writes
//! the header, logs [`Placement::dirty`], then publishes all used entries
//! with one used-index update.

use super::super::net::{HDR_MRG_LEN, NUM_BUFFERS_OFF};
use super::super::vf::ring::RxStatus;
use super::contain::{PostedBuf, RxLayout};

/// Most buffers one frame may span (as the VF ring's frame assembly).
pub const MAX_PIECES: usize = super::super::vf::rx_chain::MAX_FRAME_PIECES;
/// `VIRTIO_NET_HDR_F_DATA_VALID`: the checksum was verified.
pub const HDR_F_DATA_VALID: u8 = 2;

/// One copy of the plan, in guest physical addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    /// Where the bytes are (inside a window the device wrote).
    pub src: u64,
    /// Where the guest expects them (inside the same packet's buffers).
    pub dst: u64,
    /// Bytes.
    pub len: u32,
}

/// Why a frame cannot be handed to the guest; its buffers all go back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceError {
    /// The piece count does not match the frame length (a glue or device
    /// bug), or is above [`MAX_PIECES`].
    PieceCount,
    /// The pieces were posted with different BSIZEPACKETs.
    MixedSize,
    /// Longer than the first buffer holds, and the guest cannot merge.
    TooLong,
    /// A buffer needed to continue the packet has no room from its byte 0.
    NotContinuable,
    /// The device stripped a VLAN tag, which virtio-net cannot carry.
    VlanStripped,
}

/// The plan for one frame, over its pieces (borrowed, so the plan cannot
/// be applied to other buffers than it was made for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement<'a> {
    bufs: &'a [PostedBuf],
    frame_len: u32,
    used: u8,
    /// Frame bytes in the first used buffer (after the header).
    first: u32,
    hdr: [u8; HDR_MRG_LEN],
    hdr_len: u8,
}

/// The pieces of the frame being received, collected in ring order as the
/// VF ring hands them over (a fixed array: no allocation per frame).
#[derive(Debug, Clone, Copy)]
pub struct Pieces {
    /// Only the first `n` are pieces; the rest repeat the first, so every
    /// entry is a valid [`PostedBuf`] without a placeholder value.
    bufs: [PostedBuf; MAX_PIECES],
    n: u8,
}

/// A frame has more than [`MAX_PIECES`] pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyPieces;

impl Pieces {
    /// A frame whose first piece is `first`.
    pub fn new(first: PostedBuf) -> Self {
        Self {
            bufs: [first; MAX_PIECES],
            n: 1,
        }
    }

    /// The next piece.
    pub fn push(&mut self, buf: PostedBuf) -> Result<(), TooManyPieces> {
        let slot = self
            .bufs
            .get_mut(usize::from(self.n))
            .ok_or(TooManyPieces)?;
        *slot = buf;
        self.n += 1;
        Ok(())
    }

    /// The pieces so far, for [`place`] (or to give back on a drop).
    pub fn as_slice(&self) -> &[PostedBuf] {
        &self.bufs[..usize::from(self.n)]
    }
}

/// Plans the frame of `frame_len` bytes the VF wrote over `bufs` (its
/// pieces in ring order), whose EOP status is `status`.
pub fn place(
    layout: RxLayout,
    bufs: &[PostedBuf],
    frame_len: u32,
    status: RxStatus,
) -> Result<Placement<'_>, PlaceError> {
    let first = bufs.first().ok_or(PlaceError::PieceCount)?;
    let bs = first.bsize();
    if bufs.iter().any(|b| b.bsize() != bs) {
        return Err(PlaceError::MixedSize);
    }
    if frame_len == 0
        || bufs.len() > MAX_PIECES
        || frame_len.div_ceil(bs.bytes()) as usize != bufs.len()
    {
        return Err(PlaceError::PieceCount);
    }
    if status.vlan.is_some() {
        return Err(PlaceError::VlanStripped);
    }
    let cap0 = bs.bytes() + first.room_after();
    let in_first = frame_len.min(cap0);
    let mut left = frame_len - in_first;
    let mut used = 1usize;
    if left > 0 && !layout.mergeable() {
        return Err(PlaceError::TooLong);
    }
    while left > 0 {
        // Each continuation holds more than a piece, so `used` stays below
        // the piece count; checked anyway.
        let (_, cap) = bufs
            .get(used)
            .ok_or(PlaceError::PieceCount)?
            .continuation()
            .ok_or(PlaceError::NotContinuable)?;
        left -= left.min(cap);
        used += 1;
    }
    let mut hdr = [0u8; HDR_MRG_LEN];
    if status.l4_csum_ok && !status.csum_err {
        hdr[0] = HDR_F_DATA_VALID;
    }
    // gso_type NONE, no csum_start/offset: the NIC hands no GSO frames.
    // `num_buffers` (12-byte headers only) must be exact: Linux pops that
    // many used entries for the packet.
    hdr[NUM_BUFFERS_OFF..].copy_from_slice(&(used as u16).to_le_bytes());
    Ok(Placement {
        bufs,
        frame_len,
        used: used as u8,
        first: in_first,
        hdr,
        hdr_len: layout.hdr_len() as u8,
    })
}

impl<'a> Placement<'a> {
    fn bsize(&self) -> u32 {
        // `place` checked there is a first piece.
        self.bufs[0].bsize().bytes()
    }

    /// Used entries of the packet (`num_buffers` of its header).
    pub fn num_buffers(&self) -> u16 {
        u16::from(self.used)
    }

    /// The header to write at the first piece's [`PostedBuf::hdr_gpa`].
    pub fn header(&self) -> &[u8] {
        &self.hdr[..usize::from(self.hdr_len)]
    }

    /// The buffer the packet starts in (its header goes there).
    pub fn first(&self) -> &'a PostedBuf {
        &self.bufs[0]
    }

    /// Frame bytes the CPU moves (`rx_tail_bytes`).
    pub fn tail_bytes(&self) -> u32 {
        self.frame_len - self.frame_len.min(self.bsize())
    }

    /// Frame bytes the device put in place (`rx_zc_bytes`).
    pub fn zc_bytes(&self) -> u32 {
        self.frame_len - self.tail_bytes()
    }

    /// The used entries `(head, len)`, in the order to add them.
    pub fn used(&self) -> impl Iterator<Item = (u16, u32)> + 'a {
        let mut left = self.frame_len - self.first;
        let first = (self.bufs[0].head(), u32::from(self.hdr_len) + self.first);
        let rest = &self.bufs[1..usize::from(self.used)];
        core::iter::once(first).chain(rest.iter().map(move |b| {
            // `place` checked every one of these continues.
            let cap = b.continuation().map_or(0, |(_, c)| c);
            let n = left.min(cap);
            left -= n;
            (b.head(), n)
        }))
    }

    /// The buffers that hold nothing for the guest (back to the VF).
    pub fn returned(&self) -> &'a [PostedBuf] {
        &self.bufs[usize::from(self.used)..]
    }

    /// The moves, in the order to execute them.
    pub fn moves(&self) -> Moves<'a> {
        let bs = self.bsize();
        Moves {
            bufs: self.bufs,
            bs,
            frame_len: self.frame_len,
            x: self.frame_len.min(bs),
            dest: 0,
            dest_start: 0,
            dest_gpa: self.bufs[0].window_gpa(),
            dest_cap: self.first,
        }
    }

    /// Guest ranges `(gpa, len)` written for this frame, by the device or
    /// by the plan, to log before publishing: the header, every piece the
    /// device wrote (also in returned buffers), every move's destination.
    pub fn dirty(&self) -> impl Iterator<Item = (u64, u64)> + 'a {
        let bs = self.bsize();
        let len = self.frame_len;
        let hdr = (self.bufs[0].hdr_gpa(), u64::from(self.hdr_len));
        let pieces = self.bufs.iter().enumerate().map(move |(i, b)| {
            let done = bs * i as u32;
            (b.window_gpa(), u64::from(bs.min(len - done)))
        });
        let moves = self.moves().map(|m| (m.dst, u64::from(m.len)));
        core::iter::once(hdr).chain(pieces).chain(moves)
    }
}

/// Iterator over a [`Placement`]'s moves: maximal runs that are contiguous
/// both where the device wrote them and where the guest wants them.
#[derive(Debug, Clone)]
pub struct Moves<'a> {
    bufs: &'a [PostedBuf],
    bs: u32,
    frame_len: u32,
    /// Next frame byte to place.
    x: u32,
    /// Destination buffer (0: after the first window) and its first frame
    /// byte, address and capacity.
    dest: usize,
    dest_start: u32,
    dest_gpa: u64,
    dest_cap: u32,
}

impl Iterator for Moves<'_> {
    type Item = Move;

    fn next(&mut self) -> Option<Move> {
        if self.x >= self.frame_len {
            return None;
        }
        if self.x == self.dest_start + self.dest_cap {
            self.dest += 1;
            let (gpa, cap) = self.bufs.get(self.dest)?.continuation()?;
            self.dest_start = self.x;
            self.dest_gpa = gpa;
            self.dest_cap = cap;
        }
        let piece = (self.x / self.bs) as usize;
        let off = self.x % self.bs;
        let len = (self.bs - off)
            .min(self.dest_start + self.dest_cap - self.x)
            .min(self.frame_len - self.x);
        let m = Move {
            src: self.bufs.get(piece)?.window_gpa() + u64::from(off),
            dst: self.dest_gpa + u64::from(self.x - self.dest_start),
            len,
        };
        self.x += len;
        Some(m)
    }
}

#[cfg(test)]
mod tests {
    use super::super::bsize::BufSize;
    use super::super::testkit::{device, execute, layout, post_all, Ram, GPA, HVA};
    use super::*;
    use std::vec::Vec;

    fn frame(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    fn kib(k: u32) -> BufSize {
        BufSize::from_kib(k).unwrap()
    }

    #[test]
    fn mergeable_1536_tail_into_first_buffer() {
        let mut ram = Ram::new(GPA, HVA, 0x4000, 0xaa);
        let chains = [std::vec![(0, 1536)], std::vec![(0x800, 1536)]];
        let bufs = post_all(&ram, &chains, layout(true), kib(1));
        assert_eq!(bufs.len(), 2);
        let f = frame(1514);
        device(&mut ram, &bufs, &f);
        let ok = RxStatus {
            eop: true,
            l4_csum_ok: true,
            ..Default::default()
        };
        let p = place(layout(true), &bufs, 1514, ok).unwrap();
        assert_eq!(p.num_buffers(), 1);
        assert_eq!(p.used().collect::<Vec<_>>(), [(bufs[0].head(), 12 + 1514)]);
        assert_eq!(p.returned(), &bufs[1..]);
        assert_eq!(
            p.moves().collect::<Vec<_>>(),
            [Move {
                src: GPA + 0x800 + 12,
                dst: GPA + 12 + 1024,
                len: 490
            }]
        );
        assert_eq!((p.tail_bytes(), p.zc_bytes()), (490, 1024));
        assert_eq!(
            p.header(),
            [HDR_F_DATA_VALID, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]
        );
        let seen = execute(&mut ram, &p, &bufs);
        assert_eq!(&seen[12..], &f[..]);
        // The rest of the first buffer, and everything past it, untouched.
        assert!(ram.read(GPA + 12 + 1514, 10).iter().all(|&b| b == 0xaa));
        let dirty: Vec<_> = p.dirty().collect();
        assert_eq!(
            dirty,
            [
                (GPA, 12),
                (GPA + 12, 1024),
                (GPA + 0x800 + 12, 490),
                (GPA + 12 + 1024, 490)
            ]
        );
    }

    #[test]
    fn mergeable_continues_in_next_buffers() {
        let mut ram = Ram::new(GPA, HVA, 0x8000, 0xaa);
        let chains: Vec<_> = (0..6).map(|i| std::vec![(i * 0x800, 1536)]).collect();
        let bufs = post_all(&ram, &chains, layout(true), kib(1));
        let f = frame(5000);
        device(&mut ram, &bufs[..5], &f);
        let p = place(layout(true), &bufs[..5], 5000, RxStatus::default()).unwrap();
        // 1524 + 1536 + 1536 = 4596 < 5000: four buffers.
        assert_eq!(p.num_buffers(), 4);
        let lens: Vec<u32> = p.used().map(|(_, l)| l).collect();
        assert_eq!(lens, [1536, 1536, 1536, 5000 - 1524 - 2 * 1536]);
        assert_eq!(p.returned().len(), 1);
        assert_eq!(p.header()[0], 0);
        assert_eq!(p.tail_bytes(), 5000 - 1024);
        let moved: u32 = p.moves().map(|m| m.len).sum();
        assert_eq!(moved, 5000 - 1024);
        let seen = execute(&mut ram, &p, &bufs[..5]);
        assert_eq!(&seen[12..], &f[..]);
    }

    #[test]
    fn big_packets_need_no_move() {
        let mut ram = Ram::new(GPA, HVA, 0x10000, 0xaa);
        // Linux big packets: header alone, then the rest of its page, then
        // whole pages.
        let chains: Vec<_> = (0..2u64)
            .map(|i| {
                std::vec![
                    (i * 0x4000, 12),
                    (i * 0x4000 + 32, 4064),
                    (i * 0x4000 + 0x1000, 4096)
                ]
            })
            .collect();
        let bufs = post_all(&ram, &chains, layout(false), kib(2));
        assert_eq!(bufs.len(), 2);
        for len in [60, 1514, 1518, 2048] {
            let f = frame(len);
            device(&mut ram, &bufs[..1], &f);
            let p = place(layout(false), &bufs[..1], len as u32, RxStatus::default()).unwrap();
            assert_eq!(p.moves().count(), 0);
            assert_eq!(
                p.used().collect::<Vec<_>>(),
                [(bufs[0].head(), 12 + len as u32)]
            );
            assert_eq!(&execute(&mut ram, &p, &bufs[..1])[12..], &f[..]);
        }
        // Longer than the window: the tail goes after it, in the same chain.
        let f = frame(3000);
        device(&mut ram, &bufs, &f);
        let p = place(layout(false), &bufs, 3000, RxStatus::default()).unwrap();
        assert_eq!((p.num_buffers(), p.tail_bytes()), (1, 3000 - 2048));
        assert_eq!(&execute(&mut ram, &p, &bufs)[12..], &f[..]);
        // Beyond the first data descriptor: no single chain holds it here.
        let too = frame(4100);
        let three = post_all(
            &ram,
            &[chains[0].clone(), chains[1].clone(), chains[0].clone()],
            layout(false),
            kib(2),
        );
        device(&mut ram, &three, &too);
        assert_eq!(
            place(layout(false), &three, 4100, RxStatus::default()),
            Err(PlaceError::TooLong)
        );
    }

    #[test]
    fn legacy_header_small_buffer() {
        // No VERSION_1, no MRG_RXBUF: 10-byte header, one 1528-byte buffer
        // per packet (Linux small packets: hdr_len + 1518).
        let l = RxLayout::from_features(0);
        let mut ram = Ram::new(GPA, HVA, 0x4000, 0xaa);
        let bufs = post_all(
            &ram,
            &[std::vec![(0, 1528)], std::vec![(0x800, 1528)]],
            l,
            kib(1),
        );
        let mut pieces = Pieces::new(bufs[0]);
        pieces.push(bufs[1]).unwrap();
        let f = frame(1514);
        device(&mut ram, pieces.as_slice(), &f);
        let p = place(l, pieces.as_slice(), 1514, RxStatus::default()).unwrap();
        assert_eq!(p.header(), [0u8; 10]);
        assert_eq!(p.used().collect::<Vec<_>>(), [(bufs[0].head(), 1524)]);
        assert_eq!((p.tail_bytes(), p.returned().len()), (490, 1));
        let seen = execute(&mut ram, &p, pieces.as_slice());
        assert_eq!(&seen[10..], &f[..]);
        // 1519 bytes do not fit one small buffer.
        assert_eq!(
            place(l, pieces.as_slice(), 1519, RxStatus::default()),
            Err(PlaceError::TooLong)
        );
    }

    #[test]
    fn pieces_are_bounded() {
        let ram = Ram::new(GPA, HVA, 0x800, 0);
        let b = post_all(&ram, &[std::vec![(0, 1536)]], layout(true), kib(1))[0];
        let mut p = Pieces::new(b);
        for _ in 1..MAX_PIECES {
            p.push(b).unwrap();
        }
        assert_eq!(p.push(b), Err(TooManyPieces));
        assert_eq!(p.as_slice().len(), MAX_PIECES);
    }

    #[test]
    fn refusals() {
        let ram = Ram::new(GPA, HVA, 0x4000, 0);
        let bufs = post_all(
            &ram,
            &[std::vec![(0, 1536)], std::vec![(0x800, 1536)]],
            layout(true),
            kib(1),
        );
        let st = RxStatus::default();
        assert_eq!(
            place(layout(true), &[], 10, st),
            Err(PlaceError::PieceCount)
        );
        assert_eq!(
            place(layout(true), &bufs, 1024, st),
            Err(PlaceError::PieceCount)
        );
        assert_eq!(
            place(layout(true), &bufs[..1], 1025, st),
            Err(PlaceError::PieceCount)
        );
        assert_eq!(
            place(layout(true), &bufs[..1], 0, st),
            Err(PlaceError::PieceCount)
        );
        let vlan = RxStatus {
            vlan: Some(5),
            ..st
        };
        assert_eq!(
            place(layout(true), &bufs[..1], 60, vlan),
            Err(PlaceError::VlanStripped)
        );
        let two = post_all(&ram, &[std::vec![(0x1000, 4096)]], layout(true), kib(2));
        assert_eq!(
            place(layout(true), &[bufs[0], two[0]], 1500, st),
            Err(PlaceError::MixedSize)
        );
        // Checksum: good L4 but a bad IP header checksum is not DATA_VALID.
        let bad_ip = RxStatus {
            l4_csum_ok: true,
            csum_err: true,
            ..st
        };
        assert_eq!(
            place(layout(true), &bufs[..1], 60, bad_ip)
                .unwrap()
                .header()[0],
            0
        );
    }
}

#[cfg(test)]
mod props {
    use super::super::bsize::BufSize;
    use super::super::testkit::{device, execute, layout, post_all, Ram, GPA, HVA};
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    proptest! {
        /// A random frame written by the simulated device over random
        /// guest buffers, then the plan executed: the guest reads the header
        /// and exactly the frame, `num_buffers` is the used count, no buffer
        /// is used twice or both used and returned, nothing outside the
        /// packet's buffers changed, and every changed byte is logged.
        #[test]
        fn the_guest_reads_the_frame(
            sizes in proptest::collection::vec(1036u32..=4096, 1..17),
            kib in 1u32..4,
            len in 1u32..9000,
            mergeable in any::<bool>(),
            csum in any::<(bool, bool)>(),
        ) {
            let bs = BufSize::from_kib(kib).unwrap();
            // Each buffer in its own 8 KiB slot, with canaries around.
            let mut ram = Ram::new(GPA, HVA, 0x2000 * sizes.len() + 0x2000, 0xaa);
            let chains: Vec<_> = sizes
                .iter()
                .enumerate()
                .map(|(i, &n)| std::vec![(0x2000 * i as u64 + 2 * (i as u64 % 3), n)])
                .collect();
            let all = post_all(&ram, &chains, layout(mergeable), bs);
            let pieces = len.div_ceil(bs.bytes()) as usize;
            prop_assume!(pieces <= all.len());
            let bufs = &all[..pieces];
            let f: Vec<u8> = (0..len).map(|i| (i ^ (i >> 8) ^ len) as u8).collect();
            device(&mut ram, bufs, &f);
            let before = ram.bytes.clone();
            let st = RxStatus { eop: true, l4_csum_ok: csum.0, csum_err: csum.1, ..Default::default() };
            let p = match place(layout(mergeable), bufs, len, st) {
                Ok(p) => p,
                Err(PlaceError::TooLong) => {
                    prop_assert!(!mergeable && len > bs.bytes() + bufs[0].room_after());
                    return Ok(());
                }
                Err(e) => return Err(TestCaseError::fail(std::format!("{e:?}"))),
            };
            let used: Vec<(u16, u32)> = p.used().collect();
            prop_assert_eq!(used.len(), usize::from(p.num_buffers()));
            prop_assert_eq!(&p.header()[10..], &p.num_buffers().to_le_bytes()[..]);
            prop_assert_eq!(p.header()[0] == HDR_F_DATA_VALID, csum.0 && !csum.1);
            let mut heads: Vec<u16> = used.iter().map(|u| u.0).chain(p.returned().iter().map(|b| b.head())).collect();
            heads.sort();
            let mut want: Vec<u16> = bufs.iter().map(|b| b.head()).collect();
            want.sort();
            prop_assert_eq!(heads, want);
            let moved: u32 = p.moves().map(|m| m.len).sum();
            prop_assert_eq!(moved, p.tail_bytes());
            prop_assert_eq!(p.tail_bytes() + p.zc_bytes(), len);
            let dirty: Vec<(u64, u64)> = p.dirty().collect();
            let seen = execute(&mut ram, &p, bufs);
            prop_assert_eq!(&seen[..12], p.header());
            prop_assert_eq!(&seen[12..], &f[..]);
            // What changed since the device wrote: only move destinations
            // and the header, all inside the used buffers and logged.
            for (i, (a, b)) in before.iter().zip(&ram.bytes).enumerate() {
                if a != b {
                    let gpa = GPA + i as u64;
                    prop_assert!(dirty.iter().any(|&(g, n)| gpa >= g && gpa < g + n), "unlogged write at {gpa:#x}");
                    let in_used = used.iter().any(|&(h, _)| {
                        let b = bufs.iter().find(|b| b.head() == h).unwrap();
                        let (start, end) = match b.continuation() {
                            Some((g, n)) => (g, g + u64::from(n)),
                            None => (b.hdr_gpa(), b.window_gpa() + u64::from(bs.bytes() + b.room_after())),
                        };
                        gpa >= start && gpa < end
                    });
                    prop_assert!(in_used, "write outside the packet's buffers at {gpa:#x}");
                }
            }
        }
    }
}

#[cfg(test)]
mod cost {
    use super::super::bsize::BufSize;
    use super::super::testkit::{device, execute, layout, post_all, Ram, GPA, HVA};
    use super::*;
    use std::vec::Vec;

    /// `(used entries, tail bytes)` for a `len`-byte frame over buffers of
    /// `chain` (offsets and lengths, as many chains as it takes), or `None`
    /// if the buffer cannot be posted with `kib`.
    fn cost(chain: &[(u64, u32)], mergeable: bool, kib: u32, len: u32) -> Option<(u16, u32)> {
        let mut ram = Ram::new(GPA, HVA, 0x4_0000, 0);
        let chains: Vec<Vec<(u64, u32)>> = (0..8u64)
            .map(|i| chain.iter().map(|&(o, n)| (i * 0x8000 + o, n)).collect())
            .collect();
        let bs = BufSize::from_kib(kib).unwrap();
        let all = post_all(&ram, &chains, layout(mergeable), bs);
        if all.is_empty() {
            return None;
        }
        let bufs = &all[..len.div_ceil(bs.bytes()) as usize];
        let f: Vec<u8> = (0..len).map(|i| i as u8).collect();
        device(&mut ram, bufs, &f);
        let p = place(layout(mergeable), bufs, len, RxStatus::default()).unwrap();
        assert_eq!(&execute(&mut ram, &p, bufs)[12..], &f[..]);
        Some((p.num_buffers(), p.tail_bytes()))
    }

    /// A row of the table: name, chain, mergeable, KiB, per frame length.
    type Row = (
        &'static str,
        Vec<(u64, u32)>,
        bool,
        u32,
        [Option<(u16, u32)>; 4],
    );

    /// The table of Documentation/zero-copy.rst, "Frame placement and its
    /// cost", computed by the plan itself.
    #[test]
    fn documented_costs() {
        let lens = [60, 1024, 1025, 1514];
        let big = [(0, 12), (32, 4064), (0x1000, 4096)];
        let rows: [Row; 7] = [
            (
                "mrg 1536, 1K",
                std::vec![(0, 1536)],
                true,
                1,
                [Some((1, 0)), Some((1, 0)), Some((1, 1)), Some((1, 490))],
            ),
            (
                "mrg 2048, 1K",
                std::vec![(0, 2048)],
                true,
                1,
                [Some((1, 0)), Some((1, 0)), Some((1, 1)), Some((1, 490))],
            ),
            ("mrg 2048, 2K", std::vec![(0, 2048)], true, 2, [None; 4]),
            (
                "mrg 4096, 1K",
                std::vec![(0, 4096)],
                true,
                1,
                [Some((1, 0)), Some((1, 0)), Some((1, 1)), Some((1, 490))],
            ),
            (
                "mrg 4096, 2K",
                std::vec![(0, 4096)],
                true,
                2,
                [Some((1, 0)); 4],
            ),
            (
                "big, 1K",
                big.to_vec(),
                false,
                1,
                [Some((1, 0)), Some((1, 0)), Some((1, 1)), Some((1, 490))],
            ),
            ("big, 2K", big.to_vec(), false, 2, [Some((1, 0)); 4]),
        ];
        for (name, chain, mrg, kib, want) in rows {
            for (len, w) in lens.iter().zip(want) {
                assert_eq!(cost(&chain, mrg, kib, *len), w, "{name}, {len} bytes");
            }
        }
        // 1536-byte buffers cannot take a 2 KiB window either; a 9000-byte
        // jumbo frame over 4 KiB buffers at 2 KiB spans 5 descriptors and 3
        // used entries.
        assert_eq!(cost(&[(0, 1536)], true, 2, 60), None);
        assert_eq!(cost(&[(0, 4096)], true, 2, 9000), Some((3, 9000 - 2048)));
    }
}
