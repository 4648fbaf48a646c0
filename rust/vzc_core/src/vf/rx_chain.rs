// SPDX-License-Identifier: GPL-2.0-only
//! Frame assembly from RX write-backs: which posted buffers make up a frame,
//! and which frames are dropped before any of their buffers is handed on.

use super::ring::{srrctl, RingError, RingSize, RxStatus, RxWriteback};

/// Most buffers one received frame may span (a 16 KiB frame in 1 KiB
/// buffers); the ring may lower it (see [`RxChain::new`]).
pub const MAX_FRAME_PIECES: usize = 16;

/// Why a received frame was dropped by the ring (counted once per frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxDrop {
    /// The device flagged an error on one of its descriptors.
    DeviceError,
    /// Longer than the frame limit, or more pieces than the ring allows
    /// (also a frame whose EOP never comes).
    TooLong,
    /// A write-back length the ring cannot have asked for: longer than the
    /// buffer, a non-final piece that does not fill its buffer, or an empty
    /// frame.
    BadLength,
}

/// A complete frame: the buffers of its pieces in ring order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxFrame {
    lens: [u16; MAX_FRAME_PIECES],
    pieces: u8,
    /// Bytes in all pieces.
    pub total: u32,
    /// Status of the EOP descriptor (the one carrying the frame's status).
    pub status: RxStatus,
}

impl RxFrame {
    /// Bytes in each piece, first to last.
    pub fn piece_lens(&self) -> &[u16] {
        &self.lens[..usize::from(self.pieces)]
    }
}

/// What the ring does after one more descriptor came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxStep {
    /// The frame is not complete: keep the buffer (it stays in its slot).
    Hold,
    /// A frame is complete: the oldest held buffers and this one, in ring
    /// order, are its pieces.
    Frame(RxFrame),
    /// The oldest `pieces` buffers (held ones and this one) go back unused.
    /// `reason` is `Some` for the piece that decided the drop (count the
    /// frame) and `None` for later pieces of a frame already dropped.
    Drop {
        /// Buffers to give back.
        pieces: u8,
        /// Why, the first time for this frame.
        reason: Option<RxDrop>,
    },
}

/// Frames and drops seen by an [`RxChain`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RxChainStats {
    /// Frames completed.
    pub frames: u64,
    /// Bytes of completed frames.
    pub bytes: u64,
    /// Completed frames that spanned more than one descriptor.
    pub multi: u64,
    /// Frames dropped for [`RxDrop::DeviceError`].
    pub drop_error: u64,
    /// Frames dropped for [`RxDrop::TooLong`].
    pub drop_too_long: u64,
    /// Frames dropped for [`RxDrop::BadLength`].
    pub drop_bad_len: u64,
}

impl RxChainStats {
    /// Frames dropped for any reason.
    pub fn dropped(&self) -> u64 {
        self.drop_error + self.drop_too_long + self.drop_bad_len
    }
}

/// Assembles frames from RX write-backs in ring order (igbvf
/// `igbvf_clean_rx_irq_adv` chains non-EOP descriptors the same way).
///
/// The buffers of an incomplete frame are held by the ring (they keep
/// their slots, so the ring cannot refill them); the chain only counts
/// them. It decides a frame's fate before any of its buffers is handed on,
/// so a consumer never sees part of a frame that is later dropped. Held
/// pieces are bounded by `max_pieces`, so a device that never sends EOP
/// cannot make the ring hold every slot.
#[derive(Debug, Clone)]
pub struct RxChain {
    buf_size: u32,
    max_len: u32,
    max_pieces: u8,
    lens: [u16; MAX_FRAME_PIECES],
    held: u8,
    total: u32,
    /// The current frame was dropped: its pieces go back until EOP.
    discarding: bool,
    stats: RxChainStats,
}

impl RxChain {
    /// A chain for `buf_size`-byte buffers (a multiple of 1 KiB as in
    /// [`srrctl`], at most 64 KiB) on a ring of `ring` descriptors, passing
    /// frames of at most `max_len` bytes. At most `ring - 1` buffers are
    /// ever posted, so a frame may hold at most that many (and at most
    /// [`MAX_FRAME_PIECES`]).
    pub fn new(buf_size: u32, ring: RingSize, max_len: u32) -> Result<Self, RingError> {
        srrctl(buf_size)?;
        if buf_size > u32::from(u16::MAX) + 1 {
            return Err(RingError::BadBufSize);
        }
        let max_pieces = (usize::from(ring.get()) - 1).min(MAX_FRAME_PIECES) as u8;
        Ok(Self {
            buf_size,
            max_len,
            max_pieces,
            lens: [0; MAX_FRAME_PIECES],
            held: 0,
            total: 0,
            discarding: false,
            stats: RxChainStats::default(),
        })
    }

    /// Changes the frame limit (the VF's frame size changed); applies from
    /// the next piece on.
    pub fn set_max_len(&mut self, max_len: u32) {
        self.max_len = max_len;
    }

    /// Buffers of the incomplete frame (held by the ring).
    pub fn held(&self) -> u8 {
        self.held
    }

    /// Counters.
    pub fn stats(&self) -> RxChainStats {
        self.stats
    }

    /// The ring stopped: forget the incomplete frame. Returns how many
    /// buffers it held (the ring gives them back with every other posted
    /// buffer).
    pub fn abort(&mut self) -> u8 {
        let held = self.held;
        self.held = 0;
        self.total = 0;
        self.discarding = false;
        held
    }

    /// One more descriptor came back (DD set), in ring order.
    pub fn push(&mut self, wb: &RxWriteback) -> RxStep {
        let st = wb.status();
        let len = u32::from(wb.len);
        if self.discarding {
            if st.eop {
                self.discarding = false;
            }
            return RxStep::Drop {
                pieces: 1,
                reason: None,
            };
        }
        let pieces = self.held + 1;
        let total = self.total + len;
        let reason = if len > self.buf_size || (!st.eop && len != self.buf_size) {
            Some(RxDrop::BadLength)
        } else if st.frame_err {
            Some(RxDrop::DeviceError)
        } else if total > self.max_len || (!st.eop && pieces >= self.max_pieces) {
            Some(RxDrop::TooLong)
        } else if st.eop && total == 0 {
            Some(RxDrop::BadLength)
        } else {
            None
        };
        if let Some(r) = reason {
            match r {
                RxDrop::DeviceError => self.stats.drop_error += 1,
                RxDrop::TooLong => self.stats.drop_too_long += 1,
                RxDrop::BadLength => self.stats.drop_bad_len += 1,
            }
            self.abort();
            self.discarding = !st.eop;
            return RxStep::Drop {
                pieces,
                reason: Some(r),
            };
        }
        // len <= buf_size <= 64 KiB, and pieces < max_pieces <= 16 here.
        self.lens[usize::from(self.held)] = len as u16;
        if !st.eop {
            self.held = pieces;
            self.total = total;
            return RxStep::Hold;
        }
        let frame = RxFrame {
            lens: self.lens,
            pieces,
            total,
            status: st,
        };
        self.stats.frames += 1;
        self.stats.bytes += u64::from(total);
        if pieces > 1 {
            self.stats.multi += 1;
        }
        self.abort();
        RxStep::Frame(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::super::ring::{RXD_STAT_DD, RXD_STAT_EOP, RXD_STAT_VP};
    use super::*;

    /// A model of the driver's RX ring around an [`RxChain`]: slots hold
    /// cookies; the chain's verdicts move them to `delivered` (with their
    /// frame) or `returned`. Checks every cookie comes back exactly once.
    struct Model {
        chain: RxChain,
        size: RingSize,
        shadow: Vec<Option<u32>>,
        ntu: u16,
        ntc: u16,
        nts: u16,
        next_cookie: u32,
        delivered: Vec<(Vec<(u32, u16)>, u32)>,
        returned: Vec<u32>,
    }

    const BUF: u32 = 2048;
    const EOP: u32 = RXD_STAT_EOP;

    impl Model {
        fn new(ring: u16, max_len: u32) -> Self {
            let size = RingSize::new(ring).unwrap();
            let mut m = Model {
                chain: RxChain::new(BUF, size, max_len).unwrap(),
                size,
                shadow: vec![None; usize::from(ring)],
                ntu: 0,
                ntc: 0,
                nts: 0,
                next_cookie: 0,
                delivered: Vec::new(),
                returned: Vec::new(),
            };
            m.refill();
            m
        }

        fn posted(&self) -> usize {
            self.shadow.iter().filter(|s| s.is_some()).count()
        }

        fn refill(&mut self) {
            while self.size.unused(self.ntu, self.ntc) > 0 {
                let i = usize::from(self.ntu);
                assert!(self.shadow[i].is_none(), "refill over a held slot");
                self.shadow[i] = Some(self.next_cookie);
                self.next_cookie += 1;
                self.ntu = self.size.next(self.ntu);
            }
        }

        fn take(&mut self) -> u32 {
            let c = self.shadow[usize::from(self.ntc)].take().unwrap();
            self.ntc = self.size.next(self.ntc);
            c
        }

        /// The device completes the next posted descriptor; false when it
        /// has none (ring full of held buffers or empty).
        fn device(&mut self, len: u16, status: u32) -> bool {
            if self.nts == self.ntu {
                return false;
            }
            self.nts = self.size.next(self.nts);
            let wb = RxWriteback {
                status_error: status | RXD_STAT_DD,
                len,
                vlan: 0,
            };
            match self.chain.push(&wb) {
                RxStep::Hold => {}
                RxStep::Frame(f) => {
                    let mut v = Vec::new();
                    for &l in f.piece_lens() {
                        v.push((self.take(), l));
                    }
                    self.delivered.push((v, f.total));
                }
                RxStep::Drop { pieces, .. } => {
                    for _ in 0..pieces {
                        let c = self.take();
                        self.returned.push(c);
                    }
                }
            }
            assert_eq!(
                u16::from(self.chain.held()),
                (self.nts + self.size.get() - self.ntc) % self.size.get(),
                "held pieces are exactly the slots between clean and scan"
            );
            self.refill();
            true
        }

        /// A frame of `len` bytes as the device writes it (QEMU
        /// `igb_write_packet_to_guest`).
        fn frame(&mut self, len: u32, last_status: u32) {
            let mut left = len;
            loop {
                let piece = left.min(BUF);
                left -= piece;
                let st = if left == 0 { EOP | last_status } else { 0 };
                assert!(self.device(piece as u16, st));
                if left == 0 {
                    break;
                }
            }
        }

        fn stop(&mut self) {
            self.chain.abort();
            for s in self.shadow.iter_mut() {
                if let Some(c) = s.take() {
                    self.returned.push(c);
                }
            }
            self.ntu = 0;
            self.ntc = 0;
            self.nts = 0;
        }

        /// Every cookie ever posted came back exactly once.
        fn all_back_once(&self) {
            let mut all: Vec<u32> = self.returned.clone();
            for (pieces, _) in &self.delivered {
                all.extend(pieces.iter().map(|p| p.0));
            }
            all.sort_unstable();
            assert_eq!(all, (0..self.next_cookie).collect::<Vec<_>>());
        }
    }

    #[test]
    fn chain_assembles_frames() {
        let mut m = Model::new(64, 9014);
        for len in [60, 1514, 2048, 2049, 4096, 9000, 9014] {
            m.frame(len, 0);
            let (pieces, total) = m.delivered.last().unwrap();
            assert_eq!(*total, len);
            assert_eq!(pieces.len(), len.div_ceil(BUF) as usize);
            let sum: u32 = pieces.iter().map(|p| u32::from(p.1)).sum();
            assert_eq!(sum, len);
            // Cookies of one frame are consecutive: ring order is kept.
            assert!(pieces.windows(2).all(|w| w[1].0 == w[0].0 + 1));
        }
        let s = m.chain.stats();
        assert_eq!((s.frames, s.multi, s.dropped()), (7, 4, 0));
        assert_eq!(s.bytes, 60 + 1514 + 2048 + 2049 + 4096 + 9000 + 9014);
        assert_eq!(m.posted(), 63);
        m.stop();
        m.all_back_once();
    }

    #[test]
    fn chain_drops_whole_frames() {
        let mut m = Model::new(64, 9014);
        // Longer than the limit: dropped when the limit is crossed, the
        // rest discarded until EOP; the next frame is fine.
        m.frame(9015, 0);
        m.frame(20000, 0);
        m.frame(100, 0);
        assert_eq!(m.delivered.len(), 1);
        assert_eq!(m.delivered[0].1, 100);
        // An error on the EOP descriptor drops all pieces.
        m.frame(5000, 1 << 31);
        // An error mid-frame: dropped at once, the tail discarded.
        assert!(m.device(2048, 0));
        assert!(m.device(2048, 1 << 24));
        assert!(m.device(2048, 0));
        assert!(m.device(10, EOP));
        // A non-final piece that does not fill its buffer; a length beyond
        // the buffer; an empty frame.
        assert!(m.device(1000, 0));
        assert!(m.device(10, EOP));
        assert!(m.device(4096, EOP));
        assert!(m.device(0, EOP));
        m.frame(60, 0);
        assert_eq!(m.delivered.len(), 2);
        let s = m.chain.stats();
        assert_eq!((s.drop_too_long, s.drop_error, s.drop_bad_len), (2, 2, 3));
        assert_eq!(s.frames, 2);
        assert_eq!(m.posted(), 63);
        m.stop();
        m.all_back_once();
    }

    #[test]
    fn chain_without_eop_cannot_hold_the_ring() {
        // A small ring and a huge limit: the device never sends EOP.
        let mut m = Model::new(8, 1 << 20);
        for _ in 0..1000 {
            assert!(m.device(2048, 0), "the ring ran out of buffers");
        }
        assert!(m.chain.stats().drop_too_long >= 1);
        assert_eq!(m.delivered.len(), 0);
        assert!(m.chain.held() < 7);
        m.stop();
        m.all_back_once();
        // A 16-buffer frame fits a big ring (the per-frame maximum).
        let mut m = Model::new(64, 1 << 20);
        m.frame(16 * 2048, 0);
        m.frame(16 * 2048 + 1, 0);
        assert_eq!(m.delivered.len(), 1);
        assert_eq!(m.chain.stats().drop_too_long, 1);
        m.stop();
        m.all_back_once();
    }

    #[test]
    fn chain_stopped_mid_frame_returns_everything() {
        let mut m = Model::new(16, 9014);
        m.frame(3000, 0);
        assert!(m.device(2048, 0));
        assert!(m.device(2048, 0));
        assert_eq!(m.chain.held(), 2);
        m.stop();
        assert_eq!(m.chain.held(), 0);
        m.all_back_once();
        // After a restart the old fragment does not leak into a frame.
        m.refill();
        m.frame(60, 0);
        assert_eq!(m.delivered.last().unwrap().1, 60);
        m.stop();
        m.all_back_once();
    }

    #[test]
    fn chain_random_writebacks_never_lose_a_buffer() {
        // A hostile device: random lengths and status bits.
        let mut x: u32 = 0x1234_5678;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        for ring in [8u16, 16, 64] {
            let mut m = Model::new(ring, 9014);
            for _ in 0..5000 {
                let len = (rnd() % 2300) as u16;
                let st = rnd() & (EOP | (1 << 31) | RXD_STAT_VP);
                let len = if rnd() % 2 == 0 { 2048 } else { len };
                assert!(m.device(len, st));
                if rnd() % 997 == 0 {
                    m.stop();
                    m.refill();
                }
            }
            for (pieces, total) in &m.delivered {
                assert!(*total <= 9014 && *total > 0);
                assert!(pieces.len() < usize::from(ring));
            }
            m.stop();
            m.all_back_once();
        }
    }

    #[test]
    fn chain_limit_changes_and_bad_buffers() {
        let size = RingSize::new(64).unwrap();
        assert!(RxChain::new(1000, size, 1514).is_err());
        let mut m = Model::new(64, 1514);
        m.frame(1515, 0);
        m.chain.set_max_len(9014);
        m.frame(9000, 0);
        assert_eq!(m.delivered.len(), 1);
        assert_eq!(m.chain.stats().drop_too_long, 1);
    }
}
