// SPDX-License-Identifier: GPL-2.0-only
//! The VF self-test frame: format, payload, validation and the running hash.
//!
//! The same format is implemented in C by the PF-side tool
//! `tools/testing/selftests/vf_pkt.c`; change both together. The test
//! [`tests::fixed_vector`] pins a value that `vf_pkt hash 3 60` prints and
//! `vf_traffic.sh` checks, so the two cannot drift apart silently.
//!
//! Layout (on the wire, without the CRC; multi-byte fields big-endian):
//!
//! ```text
//!  0  destination MAC            6
//!  6  source MAC                 6
//! 12  EtherType 0x88b5           2   (IEEE 802 local experimental 1)
//! 14  magic 0x565a4354 ("VZCT")  4
//! 18  sequence number            4
//! 22  frame length               2   (the whole frame, header included)
//! 24  payload: byte i of the frame is payload_byte(seq, i)
//! ```
//!
//! Frames are [`MIN_LEN`]..=[`MAX_LEN`] bytes. The receiver hashes the
//! payload bytes (offset 24 to the end) of every good frame, in arrival
//! order, into one running 64-bit FNV-1a hash ([`Fnv64`]); a bad frame
//! leaves the hash untouched.

/// EtherType of self-test frames.
pub const ETHERTYPE: u16 = 0x88b5;
/// Magic after the Ethernet header ("VZCT").
pub const MAGIC: u32 = 0x565a_4354;
/// Ethernet header plus the self-test header.
pub const HDR_LEN: usize = 24;
/// Smallest frame: the Ethernet minimum without the CRC.
pub const MIN_LEN: usize = 60;
/// Largest frame (a 9000-byte jumbo frame including its header).
pub const MAX_LEN: usize = 9000;

/// Byte `off` (counted from the frame start, `off >= HDR_LEN`) of frame
/// `seq`'s payload: a multiplicative mix of both, so that a byte from
/// another frame or another position (shifted or reordered buffers) differs
/// with probability 255/256.
pub fn payload_byte(seq: u32, off: usize) -> u8 {
    let v = seq
        .wrapping_mul(0x9e37_79b1)
        .wrapping_add((off as u32).wrapping_mul(0x85eb_ca6b));
    ((v >> 24) ^ (v >> 8)) as u8
}

/// Why a frame length is not a self-test frame length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadLen;

/// A valid self-test frame length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLen(u16);

impl FrameLen {
    /// Checks `n` against [`MIN_LEN`]..=[`MAX_LEN`].
    pub fn new(n: usize) -> Result<Self, BadLen> {
        if !(MIN_LEN..=MAX_LEN).contains(&n) {
            return Err(BadLen);
        }
        // <= 9000.
        Ok(FrameLen(n as u16))
    }

    /// Bytes.
    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

/// One self-test frame to send: its bytes on demand.
#[derive(Debug, Clone, Copy)]
pub struct TestFrame {
    /// Destination MAC.
    pub dst: [u8; 6],
    /// Source MAC.
    pub src: [u8; 6],
    /// Sequence number.
    pub seq: u32,
    /// Length.
    pub len: FrameLen,
}

impl TestFrame {
    /// Byte `i` of the frame (`i < len`; beyond it 0).
    pub fn byte(&self, i: usize) -> u8 {
        let len = self.len.get();
        match i {
            0..=5 => self.dst[i],
            6..=11 => self.src[i - 6],
            12..=13 => ETHERTYPE.to_be_bytes()[i - 12],
            14..=17 => MAGIC.to_be_bytes()[i - 14],
            18..=21 => self.seq.to_be_bytes()[i - 18],
            22..=23 => (len as u16).to_be_bytes()[i - 22],
            _ if i < len => payload_byte(self.seq, i),
            _ => 0,
        }
    }
}

/// 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Self::new()
    }
}

impl Fnv64 {
    /// The empty hash (the offset basis).
    pub const fn new() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }

    /// Hashes one more byte.
    pub fn byte(&mut self, b: u8) {
        self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }

    /// Hashes the payload of a good frame (its bytes from [`HDR_LEN`]).
    pub fn frame(&mut self, f: &TestFrame) {
        for i in HDR_LEN..f.len.get() {
            self.byte(payload_byte(f.seq, i));
        }
    }

    /// The value.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// Why a received frame is not a good self-test frame (the first fault).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameFault {
    /// Shorter than [`MIN_LEN`] or longer than [`MAX_LEN`].
    Length,
    /// Not EtherType 0x88b5 or wrong magic.
    Header,
    /// The length field differs from the bytes received.
    LengthField,
    /// A payload byte differs from [`payload_byte`].
    Payload,
}

/// Checks one frame fed in pieces (the buffers of a multi-descriptor
/// frame), hashing its payload into a tentative copy of the running hash.
#[derive(Debug, Clone, Copy)]
pub struct FrameCheck {
    pos: usize,
    hdr: [u8; HDR_LEN],
    seq: u32,
    fault: Option<FrameFault>,
    hash: Fnv64,
}

impl FrameCheck {
    /// Starts a frame; `hash` is the running hash so far.
    pub fn new(hash: Fnv64) -> Self {
        Self {
            pos: 0,
            hdr: [0; HDR_LEN],
            seq: 0,
            fault: None,
            hash,
        }
    }

    /// The next bytes of the frame.
    pub fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            let i = self.pos;
            self.pos = self.pos.saturating_add(1);
            if self.fault.is_some() || i >= MAX_LEN {
                continue;
            }
            if i < HDR_LEN {
                self.hdr[i] = b;
                if i == HDR_LEN - 1 {
                    self.check_header();
                }
                continue;
            }
            if b != payload_byte(self.seq, i) {
                self.fault = Some(FrameFault::Payload);
                continue;
            }
            self.hash.byte(b);
        }
    }

    /// Bytes fed so far.
    pub fn len(&self) -> usize {
        self.pos
    }

    /// No byte fed yet.
    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }

    fn check_header(&mut self) {
        let h = &self.hdr;
        let be16 = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
        let be32 = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        if be16(12) != ETHERTYPE || be32(14) != MAGIC {
            self.fault = Some(FrameFault::Header);
        }
        self.seq = be32(18);
    }

    /// Ends the frame: its sequence number and the running hash including
    /// it, or the first fault (then the running hash must stay as it was).
    pub fn finish(self) -> Result<(u32, Fnv64), FrameFault> {
        if !(MIN_LEN..=MAX_LEN).contains(&self.pos) {
            return Err(FrameFault::Length);
        }
        if let Some(f) = self.fault {
            return Err(f);
        }
        if usize::from(u16::from_be_bytes([self.hdr[22], self.hdr[23]])) != self.pos {
            return Err(FrameFault::LengthField);
        }
        Ok((self.seq, self.hash))
    }
}

/// What a self-test receiver saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RxTally {
    /// Good frames.
    pub good: u64,
    /// Bad frames.
    pub bad: u64,
    /// Bytes of good frames.
    pub bytes: u64,
    /// Running hash over the payloads of good frames.
    pub hash: Fnv64,
}

impl RxTally {
    /// Counts one checked frame.
    pub fn count(&mut self, check: FrameCheck) -> Result<u32, FrameFault> {
        let len = check.pos as u64;
        match check.finish() {
            Ok((seq, hash)) => {
                self.good += 1;
                self.bytes += len;
                self.hash = hash;
                Ok(seq)
            }
            Err(e) => {
                self.bad += 1;
                Err(e)
            }
        }
    }
}

/// The hash a receiver reports after `count` good frames of `len` bytes
/// with sequence numbers `first..first + count`, in order.
pub fn expected_hash(first: u32, count: u32, len: FrameLen) -> Fnv64 {
    let mut h = Fnv64::new();
    for k in 0..count {
        h.frame(&TestFrame {
            dst: [0; 6],
            src: [0; 6],
            seq: first.wrapping_add(k),
            len,
        });
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: u32, len: usize) -> Vec<u8> {
        let f = TestFrame {
            dst: [2, 0, 0, 0, 0, 1],
            src: [2, 0, 0, 0, 0, 2],
            seq,
            len: FrameLen::new(len).unwrap(),
        };
        (0..len).map(|i| f.byte(i)).collect()
    }

    fn check(bytes: &[u8], chunk: usize) -> Result<(u32, Fnv64), FrameFault> {
        let mut c = FrameCheck::new(Fnv64::new());
        for piece in bytes.chunks(chunk.max(1)) {
            c.feed(piece);
        }
        c.finish()
    }

    /// The vector `vf_pkt hash 3 60` prints (tools/testing/selftests/vf_pkt.c)
    /// and `vf_traffic.sh` checks: frames 0, 1, 2 of 60 bytes.
    #[test]
    fn fixed_vector() {
        let len = FrameLen::new(60).unwrap();
        assert_eq!(expected_hash(0, 3, len).get(), 0xd806_920e_9454_fa7b);
        assert_eq!(Fnv64::new().get(), 0xcbf2_9ce4_8422_2325);
        // FNV-1a of "a" (the published test vector).
        let mut h = Fnv64::new();
        h.byte(b'a');
        assert_eq!(h.get(), 0xaf63_dc4c_8601_ec8c);
        let f = frame(0x0102_0304, 60);
        assert_eq!(
            &f[12..24],
            &[0x88, 0xb5, 0x56, 0x5a, 0x43, 0x54, 1, 2, 3, 4, 0, 60]
        );
        assert_eq!(payload_byte(0, 24), 0x74);
        assert_eq!(payload_byte(7, 8999), 0x3c);
    }

    #[test]
    fn good_frames_in_any_split() {
        for len in [60, 61, 1514, 2048, 2049, 9000] {
            let f = frame(42, len);
            let want = {
                let mut h = Fnv64::new();
                f[HDR_LEN..].iter().for_each(|&b| h.byte(b));
                h
            };
            for chunk in [1, 7, 24, 2048, len] {
                assert_eq!(check(&f, chunk), Ok((42, want)), "len {len} chunk {chunk}");
            }
        }
    }

    #[test]
    fn faults() {
        let f = frame(5, 100);
        let mut g = f.clone();
        g[12] = 0x08;
        assert_eq!(check(&g, 2048), Err(FrameFault::Header));
        let mut g = f.clone();
        g[15] ^= 1;
        assert_eq!(check(&g, 2048), Err(FrameFault::Header));
        let mut g = f.clone();
        g[99] ^= 0x80;
        assert_eq!(check(&g, 2048), Err(FrameFault::Payload));
        // Another frame's sequence number: the payload no longer matches.
        let mut g = f.clone();
        g[21] = 6;
        assert_eq!(check(&g, 2048), Err(FrameFault::Payload));
        // Truncated / padded: length field mismatch.
        assert_eq!(check(&f[..99], 2048), Err(FrameFault::LengthField));
        assert_eq!(check(&f[..59], 2048), Err(FrameFault::Length));
        let mut g = f.clone();
        g.push(payload_byte(5, 100));
        assert_eq!(check(&g, 2048), Err(FrameFault::LengthField));
        // Oversized: never accepted, whatever the bytes.
        let big = vec![0u8; MAX_LEN + 1];
        assert_eq!(check(&big, 4096), Err(FrameFault::Length));
        assert_eq!(check(&[], 1), Err(FrameFault::Length));
        // Swapped pieces of a multi-buffer frame are caught.
        let f = frame(9, 4096);
        let mut g = f[2048..].to_vec();
        g.extend_from_slice(&f[..2048]);
        assert!(check(&g, 2048).is_err());
        let mut g = f.clone();
        g[HDR_LEN..].rotate_left(256);
        assert_eq!(check(&g, 2048), Err(FrameFault::Payload));
    }

    #[test]
    fn tally_hashes_only_good_frames_in_order() {
        let len = FrameLen::new(1514).unwrap();
        let mut t = RxTally::default();
        for seq in 0..4u32 {
            let mut c = FrameCheck::new(t.hash);
            c.feed(&frame(seq, 1514));
            assert_eq!(t.count(c), Ok(seq));
            // A bad frame in between changes nothing but `bad`.
            let mut c = FrameCheck::new(t.hash);
            c.feed(&frame(seq, 1514)[..1000]);
            assert!(t.count(c).is_err());
        }
        assert_eq!((t.good, t.bad, t.bytes), (4, 4, 4 * 1514));
        assert_eq!(t.hash, expected_hash(0, 4, len));
        assert_ne!(t.hash, expected_hash(1, 4, len));
        // Order matters.
        let mut t2 = RxTally::default();
        for seq in [1u32, 0, 2, 3] {
            let mut c = FrameCheck::new(t2.hash);
            c.feed(&frame(seq, 1514));
            t2.count(c).unwrap();
        }
        assert_ne!(t2.hash, t.hash);
    }

    #[test]
    fn frame_lengths() {
        assert_eq!(FrameLen::new(59), Err(BadLen));
        assert_eq!(FrameLen::new(9001), Err(BadLen));
        assert_eq!(FrameLen::new(60).map(FrameLen::get), Ok(60));
        assert_eq!(FrameLen::new(9000).map(FrameLen::get), Ok(9000));
    }
}
