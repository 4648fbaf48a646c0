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
            csum_err: s & (RXDEXT_ERR_TCPE | RXDEXT_ERR_IPE) != 0,
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
    /// The device found a bad IPv4 or L4 checksum (TCPE or IPE).
    pub csum_err: bool,
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

    #[test]
    fn queue_control_values() {
        assert_eq!(srrctl(2048), Ok(0x8200_0002));
        assert_eq!(srrctl(1000), Err(RingError::BadBufSize));
        assert_eq!(srrctl(128 * 1024), Err(RingError::BadBufSize));
        assert_eq!(RXDCTL_ENABLE, 0x0201_0810);
    }
}
