// SPDX-License-Identifier: GPL-2.0-only
//! 82576 VF queue formats: advanced RX/TX descriptors, ring geometry and
//! the per-queue control values, as plain values (no memory access).
//!
//! Layouts from igbvf `vf.h` (`union e1000_adv_rx_desc`,
//! `union e1000_adv_tx_desc`) and `defines.h`; the order of operations
//! (check DD, then read the rest) is the ring code's business. Whatever the
//! device wrote back is untrusted: [`RxWriteback::parse`] never fails on any
//! bit pattern and the caller validates lengths against what it posted.

/// Bytes per descriptor (RX and TX advanced formats).
pub const DESC_BYTES: usize = 16;
/// RDLEN/TDLEN must be a multiple of 128 bytes: 8 descriptors.
pub const RING_ALIGN_DESCS: u16 = 8;
/// Largest ring (RDLEN is 20 bits of bytes; igbvf caps at 4096).
pub const MAX_RING_DESCS: u16 = 4096;

/// RX write-back status: descriptor done.
pub const RXD_STAT_DD: u32 = 1 << 0;
/// RX write-back status: end of packet.
pub const RXD_STAT_EOP: u32 = 1 << 1;
/// RX write-back status: ignore checksum indication.
pub const RXD_STAT_IXSM: u32 = 1 << 2;
/// RX write-back status: VLAN tag stripped (`vlan` valid).
pub const RXD_STAT_VP: u32 = 1 << 3;
/// RX write-back status: UDP checksum computed.
pub const RXD_STAT_UDPCS: u32 = 1 << 4;
/// RX write-back status: TCP checksum computed.
pub const RXD_STAT_TCPCS: u32 = 1 << 5;
/// RX write-back status: IPv4 header checksum computed.
pub const RXD_STAT_IPCS: u32 = 1 << 6;
/// RX write-back error: TCP/UDP checksum error.
pub const RXDEXT_ERR_TCPE: u32 = 1 << 29;
/// RX write-back error: IPv4 checksum error.
pub const RXDEXT_ERR_IPE: u32 = 1 << 30;
/// RX write-back errors that make the frame unusable (CE|SE|SEQ|CXE|RXE).
pub const RXDEXT_ERR_FRAME: u32 = (1 << 24) | (1 << 25) | (1 << 26) | (1 << 28) | (1 << 31);

/// TX command: descriptor type "advanced data".
pub const TXD_DTYP_DATA: u32 = 0x0030_0000;
/// TX command: descriptor extension (advanced format).
pub const TXD_DCMD_DEXT: u32 = 0x2000_0000;
/// TX command: insert FCS (CRC).
pub const TXD_DCMD_IFCS: u32 = 0x0200_0000;
/// TX command: end of packet.
pub const TXD_DCMD_EOP: u32 = 0x0100_0000;
/// TX command: report status (write DD back).
pub const TXD_DCMD_RS: u32 = 0x0800_0000;
/// TX `olinfo_status`: shift of the payload length.
pub const TXD_PAYLEN_SHIFT: u32 = 14;
/// TX write-back: descriptor done (bit 0 of the status dword, which is the
/// upper half of the second quadword).
pub const TXD_STAT_DD: u32 = 1 << 0;
/// Largest frame one TX data descriptor carries here (the PF's jumbo limit;
/// the 16-bit length field allows more, the port does not).
pub const MAX_TX_FRAME: usize = 9728;

/// SRRCTL: drop frames when no descriptor is free (instead of stalling
/// the other pools).
pub const SRRCTL_DROP_EN: u32 = 0x8000_0000;
/// SRRCTL: one buffer per descriptor, advanced descriptors.
pub const SRRCTL_DESCTYPE_ADV_ONEBUF: u32 = 0x0200_0000;
/// RXDCTL/TXDCTL: queue enable.
pub const DCTL_QUEUE_ENABLE: u32 = 0x0200_0000;

/// Why a queue parameter was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingError {
    /// Ring size not a multiple of 8 in 8..=4096.
    BadRingSize,
    /// Buffer size not a multiple of 1 KiB in 1..=127 KiB.
    BadBufSize,
    /// Frame empty or larger than [`MAX_TX_FRAME`].
    BadFrameLen,
    /// A zero DMA address (the device skips such descriptors).
    NullAddress,
}

/// A valid ring length in descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingSize(u16);

impl RingSize {
    /// Checks `n`: a multiple of 8, at most 4096.
    pub fn new(n: u16) -> Result<Self, RingError> {
        if n == 0 || n > MAX_RING_DESCS || n % RING_ALIGN_DESCS != 0 {
            return Err(RingError::BadRingSize);
        }
        Ok(RingSize(n))
    }

    /// Descriptors.
    pub fn get(self) -> u16 {
        self.0
    }

    /// Bytes of descriptor memory (the RDLEN/TDLEN value).
    pub fn bytes(self) -> u32 {
        u32::from(self.0) * DESC_BYTES as u32
    }

    /// The index after `i`.
    pub fn next(self, i: u16) -> u16 {
        if i + 1 >= self.0 {
            0
        } else {
            i + 1
        }
    }

    /// Slots the producer may fill between `next_to_use` and
    /// `next_to_clean`, keeping one empty so that head == tail means empty.
    /// Indices are reduced modulo the size first, so garbage cannot make
    /// the count exceed the ring.
    pub fn unused(self, next_to_use: u16, next_to_clean: u16) -> u16 {
        // Never 0 (see `new`); `max(1)` lets the compiler see it, so no
        // division-by-zero panic path is emitted (objtool does not know
        // `panic_const_rem_by_zero` as noreturn and warns).
        let n = u32::from(self.0).max(1);
        let ntu = u32::from(next_to_use) % n;
        let ntc = u32::from(next_to_clean) % n;
        // < n, so it fits u16.
        ((ntc + n - ntu - 1) % n) as u16
    }
}

/// An RX descriptor in read format: the buffer address, header address 0
/// (one-buffer mode; its bit 0 is where DD is written back, so it must be
/// clear when posted). Little-endian quadwords.
pub fn rx_read_desc(pkt_addr: u64) -> Result<[u64; 2], RingError> {
    if pkt_addr == 0 {
        return Err(RingError::NullAddress);
    }
    Ok([pkt_addr.to_le(), 0])
}

/// What the device wrote back into an RX descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxWriteback {
    /// `status_error` dword.
    pub status_error: u32,
    /// Bytes written to this descriptor's buffer.
    pub len: u16,
    /// Stripped VLAN tag (meaningful with `VP`).
    pub vlan: u16,
}

impl RxWriteback {
    /// The write-back in the descriptor's second quadword (as stored,
    /// little-endian), or `None` while DD is clear (still owned by the
    /// device: the rest must not be read yet).
    pub fn parse(q1_le: u64) -> Option<Self> {
        let q1 = u64::from_le(q1_le);
        let status_error = q1 as u32;
        if status_error & RXD_STAT_DD == 0 {
            return None;
        }
        Some(RxWriteback {
            status_error,
            len: (q1 >> 32) as u16,
            vlan: (q1 >> 48) as u16,
        })
    }

    /// The status bits a consumer needs, decoded.
    pub fn status(&self) -> RxStatus {
        let s = self.status_error;
        let csum_ok = s & RXD_STAT_IXSM == 0;
        RxStatus {
            eop: s & RXD_STAT_EOP != 0,
            frame_err: s & RXDEXT_ERR_FRAME != 0,
            l4_csum_ok: csum_ok
                && s & (RXD_STAT_TCPCS | RXD_STAT_UDPCS) != 0
                && s & RXDEXT_ERR_TCPE == 0,
            ip_csum_ok: csum_ok && s & RXD_STAT_IPCS != 0 && s & RXDEXT_ERR_IPE == 0,
            vlan: if s & RXD_STAT_VP != 0 {
                Some(self.vlan & 0x0fff)
            } else {
                None
            },
        }
    }
}

/// Decoded RX status (igbvf `igbvf_rx_checksum_adv` rules: with IXSM set
/// nothing is claimed; an error bit cancels the matching "ok").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RxStatus {
    /// Last descriptor of the frame.
    pub eop: bool,
    /// CRC/symbol/sequence/carrier-extension/RX-data error.
    pub frame_err: bool,
    /// TCP or UDP checksum verified good.
    pub l4_csum_ok: bool,
    /// IPv4 header checksum verified good.
    pub ip_csum_ok: bool,
    /// Stripped VLAN id.
    pub vlan: Option<u16>,
}

/// One advanced data descriptor of a TX frame: `buf_len` bytes at
/// `buf_addr`, the frame being `frame_len` bytes in all (PAYLEN, repeated
/// in every descriptor as igbvf `igbvf_tx_queue_adv` does). Only the last
/// descriptor of the frame carries EOP, and RS with it: the device writes
/// DD back once per frame.
pub fn tx_data_desc(
    buf_addr: u64,
    buf_len: usize,
    frame_len: usize,
    last: bool,
) -> Result<[u64; 2], RingError> {
    if buf_addr == 0 {
        return Err(RingError::NullAddress);
    }
    if buf_len == 0 || buf_len > frame_len || frame_len > MAX_TX_FRAME {
        return Err(RingError::BadFrameLen);
    }
    // Both <= 9728: they fit the 16-bit length and the 18-bit PAYLEN.
    let mut cmd = TXD_DTYP_DATA | TXD_DCMD_DEXT | TXD_DCMD_IFCS | buf_len as u32;
    if last {
        cmd |= TXD_DCMD_EOP | TXD_DCMD_RS;
    }
    let olinfo = (frame_len as u32) << TXD_PAYLEN_SHIFT;
    Ok([
        buf_addr.to_le(),
        (u64::from(cmd) | (u64::from(olinfo) << 32)).to_le(),
    ])
}

/// Descriptors a `frame_len`-byte frame needs with `buf_size`-byte buffers.
pub fn tx_descs_for(frame_len: usize, buf_size: usize) -> Result<u16, RingError> {
    if frame_len == 0 || frame_len > MAX_TX_FRAME {
        return Err(RingError::BadFrameLen);
    }
    if buf_size == 0 {
        return Err(RingError::BadBufSize);
    }
    // <= 9728.
    Ok(frame_len.div_ceil(buf_size) as u16)
}

/// Whether the device finished a TX descriptor (DD in its write-back).
pub fn tx_done(q1_le: u64) -> bool {
    (u64::from_le(q1_le) >> 32) as u32 & TXD_STAT_DD != 0
}

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

/// A 32-bit hardware counter that wraps (VFGPRC and friends), extended to
/// 64 bits by reading it often enough (less than one wrap between reads),
/// as igbvf `igbvf_update_stats` does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WrapCounter {
    last: u32,
    total: u64,
}

impl WrapCounter {
    /// Zero, starting from a raw 0.
    pub const fn new() -> Self {
        WrapCounter { last: 0, total: 0 }
    }

    /// Takes `raw` as the new starting point without counting anything: after
    /// a reset, when the register may have restarted (a drop to a lower value
    /// would otherwise count as a wrap).
    pub fn rebase(&mut self, raw: u32) {
        self.last = raw;
    }

    /// Adds what the register counted since the last read.
    pub fn update(&mut self, raw: u32) -> u64 {
        self.total = self
            .total
            .wrapping_add(u64::from(raw.wrapping_sub(self.last)));
        self.last = raw;
        self.total
    }

    /// Total so far.
    pub fn get(&self) -> u64 {
        self.total
    }
}

/// SRRCTL for one-buffer advanced descriptors of `buf_size` bytes.
pub fn srrctl(buf_size: u32) -> Result<u32, RingError> {
    if buf_size == 0 || buf_size % 1024 != 0 || buf_size > 127 * 1024 {
        return Err(RingError::BadBufSize);
    }
    Ok(SRRCTL_DROP_EN | SRRCTL_DESCTYPE_ADV_ONEBUF | (buf_size >> 10))
}

/// RXDCTL to enable a queue with igbvf's thresholds (prefetch 16, host 8,
/// write-back 1: write back each descriptor as it completes).
pub const RXDCTL_ENABLE: u32 = DCTL_QUEUE_ENABLE | 16 | (8 << 8) | (1 << 16);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_sizes() {
        assert!(RingSize::new(8).is_ok());
        assert!(RingSize::new(4096).is_ok());
        for bad in [0, 7, 12, 4104, u16::MAX] {
            assert_eq!(RingSize::new(bad), Err(RingError::BadRingSize));
        }
        let r = RingSize::new(8).unwrap();
        assert_eq!(r.bytes(), 128);
        assert_eq!(r.next(7), 0);
        assert_eq!(r.next(3), 4);
        // Empty ring: all but one slot free.
        assert_eq!(r.unused(0, 0), 7);
        assert_eq!(r.unused(5, 5), 7);
        // Full: producer right behind the consumer.
        assert_eq!(r.unused(4, 5), 0);
        assert_eq!(r.unused(7, 0), 0);
        assert_eq!(r.unused(2, 6), 3);
        // Garbage indices stay within the ring.
        assert!(r.unused(u16::MAX, 9) < 8);
    }

    #[test]
    fn rx_descriptor_formats() {
        assert_eq!(rx_read_desc(0x1234_5000), Ok([0x1234_5000, 0]));
        assert_eq!(rx_read_desc(0), Err(RingError::NullAddress));
        // Not done: nothing else is read.
        assert_eq!(RxWriteback::parse(0xffff_ffff_ffff_fffe), None);
        let q1 = (60u64 << 32) | u64::from(RXD_STAT_DD | RXD_STAT_EOP);
        let wb = RxWriteback::parse(q1).unwrap();
        assert_eq!(wb.len, 60);
        let st = wb.status();
        assert!(st.eop && !st.frame_err && !st.l4_csum_ok && st.vlan.is_none());
    }

    #[test]
    fn rx_status_rules() {
        let wb = |s: u32| RxWriteback {
            status_error: s | RXD_STAT_DD,
            len: 0,
            vlan: 0xf064,
        };
        let good = RXD_STAT_EOP | RXD_STAT_UDPCS | RXD_STAT_IPCS;
        assert!(wb(good).status().l4_csum_ok && wb(good).status().ip_csum_ok);
        assert!(!wb(good | RXD_STAT_IXSM).status().l4_csum_ok);
        assert!(!wb(good | RXDEXT_ERR_TCPE).status().l4_csum_ok);
        assert!(!wb(good | RXDEXT_ERR_IPE).status().ip_csum_ok);
        assert!(wb(good | (1 << 31)).status().frame_err);
        assert_eq!(wb(RXD_STAT_VP).status().vlan, Some(0x064));
    }

    #[test]
    fn tx_descriptor_format() {
        let d = tx_data_desc(0x8000, 64, 64, true).unwrap();
        assert_eq!(d[0], 0x8000);
        let cmd = d[1] as u32;
        assert_eq!(cmd & 0xffff, 64);
        assert_eq!(cmd & !0xffff, 0x2b30_0000);
        assert_eq!((d[1] >> 32) as u32, 64 << 14);
        assert!(!tx_done(d[1]));
        assert!(tx_done(1u64 << 32));
        // A first piece of a 9000-byte frame: no EOP, no RS, PAYLEN = frame.
        let d = tx_data_desc(0x8000, 2048, 9000, false).unwrap();
        assert_eq!(d[1] as u32, 0x2230_0000 | 2048);
        assert_eq!((d[1] >> 32) as u32, 9000 << 14);
        assert_eq!(
            tx_data_desc(0x8000, 0, 64, true),
            Err(RingError::BadFrameLen)
        );
        assert_eq!(
            tx_data_desc(0x8000, 65, 64, true),
            Err(RingError::BadFrameLen)
        );
        assert_eq!(
            tx_data_desc(0x8000, 64, 9729, true),
            Err(RingError::BadFrameLen)
        );
        assert_eq!(tx_data_desc(0, 64, 64, true), Err(RingError::NullAddress));
        assert_eq!(tx_descs_for(60, 2048), Ok(1));
        assert_eq!(tx_descs_for(2048, 2048), Ok(1));
        assert_eq!(tx_descs_for(2049, 2048), Ok(2));
        assert_eq!(tx_descs_for(9000, 2048), Ok(5));
        assert_eq!(tx_descs_for(0, 2048), Err(RingError::BadFrameLen));
        assert_eq!(tx_descs_for(9729, 2048), Err(RingError::BadFrameLen));
        assert_eq!(tx_descs_for(64, 0), Err(RingError::BadBufSize));
    }

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

    #[test]
    fn wrap_counter() {
        let mut c = WrapCounter::default();
        c.rebase(0xffff_fff0);
        assert_eq!(c.update(0xffff_fff0), 0);
        assert_eq!(c.update(0x10), 0x20);
        assert_eq!(c.update(0x10), 0x20);
        assert_eq!(c.update(0x8000_0010), 0x8000_0020);
        // A reset to zero is not a wrap once rebased.
        c.rebase(0);
        assert_eq!(c.update(5), 0x8000_0025);
        assert_eq!(c.get(), 0x8000_0025);
    }

    #[test]
    fn queue_control_values() {
        assert_eq!(srrctl(2048), Ok(0x8200_0002));
        assert_eq!(srrctl(1000), Err(RingError::BadBufSize));
        assert_eq!(srrctl(128 * 1024), Err(RingError::BadBufSize));
        assert_eq!(RXDCTL_ENABLE, 0x0201_0810);
    }
}
