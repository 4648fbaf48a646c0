// SPDX-License-Identifier: GPL-2.0-only
//! Mailbox messages: the requests the VF encodes into VMBMEM words and the
//! replies it parses (igbvf `mbx.h`, `vf.c`; the PF side is
//! `igb_rcv_msg_from_vf`).

use super::super::super::net::eth::MacAddr;
use super::{MbxError, MBX_WORDS};

/// Word 0: the PF accepted the message.
pub const MSG_ACK: u32 = 1 << 31;
/// Word 0: the PF refused the message.
pub const MSG_NACK: u32 = 1 << 30;
/// Word 0: the PF is "clear to send": it completed a VF reset handshake
/// with us and accepts further requests.
pub const MSG_CTS: u32 = 1 << 29;
/// Word 0: shift of the 8-bit per-message info field (bits 23:16).
pub const MSGINFO_SHIFT: u32 = 16;
/// Word 0: the message type (bits 15:0).
pub const MSG_TYPE_MASK: u32 = 0xffff;
/// Type of the PF's unsolicited control message ("ping": link change, PF
/// reset, CTS update).
pub const PF_CONTROL_MSG: u32 = 0x0100;

/// Largest frame (with CRC) the VF may ask for with `SET_LPE` (igbvf
/// `MAX_JUMBO_FRAME_SIZE` 0x3F00; the igb PF clamps further to 9728).
pub const MAX_FRAME: u16 = 0x3f00;
/// Smallest frame worth asking for: 60 bytes of Ethernet plus the CRC.
pub const MIN_FRAME: u16 = 64;
/// Multicast hashes one `SET_MULTICAST` message carries (15 words of two).
pub const MAX_MC_HASHES: usize = 30;
/// Largest VLAN id (12 bits).
pub const MAX_VLAN_ID: u16 = 4095;

/// Requests the VF sends (igbvf `mbx.h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsgType {
    /// `E1000_VF_RESET`: start of the reset handshake; the reply carries
    /// the permanent MAC.
    Reset = 0x01,
    /// `E1000_VF_SET_MAC_ADDR`.
    SetMacAddr = 0x02,
    /// `E1000_VF_SET_MULTICAST`.
    SetMulticast = 0x03,
    /// `E1000_VF_SET_VLAN`.
    SetVlan = 0x04,
    /// `E1000_VF_SET_LPE`: maximum receive frame size.
    SetLpe = 0x05,
}

/// The mailbox's view of an address: its layout in message words, and the
/// PF's multicast table hash.
impl MacAddr {
    /// The address as it sits in two mailbox words: the 6 bytes are copied
    /// into the little-endian words' memory (`memcpy(&msgbuf[1], addr, 6)`),
    /// the last 2 bytes of the second word are zero.
    pub fn to_words(&self) -> [u32; 2] {
        let b = self.0;
        [
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u32::from_le_bytes([b[4], b[5], 0, 0]),
        ]
    }

    /// Inverse of [`MacAddr::to_words`]; the two unused bytes are ignored.
    pub fn from_words(w1: u32, w2: u32) -> Self {
        let a = w1.to_le_bytes();
        let b = w2.to_le_bytes();
        MacAddr([a[0], a[1], a[2], a[3], b[0], b[1]])
    }

    /// The 12-bit multicast table hash the PF expects (igbvf
    /// `e1000_hash_mc_addr_vf` with 128 MTA registers: bits 47:36 of the
    /// address, i.e. `(a[4] >> 4) | (a[5] << 4)`).
    pub fn mc_hash(&self) -> u16 {
        ((u16::from(self.0[4]) >> 4) | (u16::from(self.0[5]) << 4)) & 0x0fff
    }
}

/// A request, encoded and ready to be copied into VMBMEM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msg {
    kind: MsgType,
    words: [u32; MBX_WORDS],
    len: usize,
}

impl Msg {
    fn new(kind: MsgType, info: u8, payload: &[u32]) -> Self {
        let mut words = [0; MBX_WORDS];
        words[0] = kind as u32 | (u32::from(info) << MSGINFO_SHIFT);
        // Callers pass at most MBX_WORDS - 1 payload words (all are fixed
        // size below); `zip` keeps this total anyway.
        for (dst, src) in words[1..].iter_mut().zip(payload) {
            *dst = *src;
        }
        let len = 1 + payload.len().min(MBX_WORDS - 1);
        Msg { kind, words, len }
    }

    /// `VF_RESET`.
    pub fn reset() -> Self {
        Msg::new(MsgType::Reset, 0, &[])
    }

    /// `SET_MAC_ADDR` (MSGINFO 0: the VF's own address), refused here for
    /// addresses the PF would refuse anyway (zero, multicast).
    pub fn set_mac(mac: MacAddr) -> Result<Self, MbxError> {
        if !mac.is_valid_unicast() {
            return Err(MbxError::InvalidArgument);
        }
        Ok(Msg::new(MsgType::SetMacAddr, 0, &mac.to_words()))
    }

    /// `SET_LPE`: largest frame to receive, CRC included.
    pub fn set_lpe(max_frame: u16) -> Result<Self, MbxError> {
        if !(MIN_FRAME..=MAX_FRAME).contains(&max_frame) {
            return Err(MbxError::InvalidArgument);
        }
        Ok(Msg::new(MsgType::SetLpe, 0, &[u32::from(max_frame)]))
    }

    /// `SET_VLAN`: add (MSGINFO bit 0 set) or remove a VLAN filter.
    pub fn set_vlan(vid: u16, add: bool) -> Result<Self, MbxError> {
        if vid > MAX_VLAN_ID {
            return Err(MbxError::InvalidArgument);
        }
        Ok(Msg::new(MsgType::SetVlan, u8::from(add), &[u32::from(vid)]))
    }

    /// `SET_MULTICAST`: MSGINFO = count, then the 16-bit hashes packed two
    /// per word, low half first (igbvf's `u16 *hash_list = &msgbuf[1]` on a
    /// little-endian host). An empty list clears the VF's multicast table.
    /// More than [`MAX_MC_HASHES`] addresses is an error rather than
    /// igbvf's silent truncation: the caller must fall back explicitly.
    pub fn set_multicast(addrs: &[MacAddr]) -> Result<Self, MbxError> {
        if addrs.len() > MAX_MC_HASHES || addrs.iter().any(|a| !a.is_multicast()) {
            return Err(MbxError::InvalidArgument);
        }
        let mut payload = [0u32; MAX_MC_HASHES / 2];
        for (i, a) in addrs.iter().enumerate() {
            payload[i / 2] |= u32::from(a.mc_hash()) << (16 * (i % 2));
        }
        // igbvf always sends the whole buffer; the PF reads MSGINFO hashes.
        // `addrs.len() <= 30` was checked above, so the cast is lossless.
        Ok(Msg::new(MsgType::SetMulticast, addrs.len() as u8, &payload))
    }

    /// The message type.
    pub fn kind(&self) -> MsgType {
        self.kind
    }

    /// The words to write, word 0 first.
    pub fn words(&self) -> &[u32] {
        &self.words[..self.len]
    }
}

/// What a reply word 0 says about the request `kind`: `Ok(cts)` for an
/// ACK, with the PF's clear-to-send flag.
pub fn parse_reply(kind: MsgType, w0: u32) -> Result<bool, MbxError> {
    let cts = w0 & MSG_CTS != 0;
    match (w0 & MSG_TYPE_MASK == kind as u32, w0 & (MSG_ACK | MSG_NACK)) {
        (true, MSG_ACK) => Ok(cts),
        (true, MSG_NACK) => Err(MbxError::Nack),
        // Neither or both of ACK/NACK, or another message's reply.
        _ => Err(MbxError::UnexpectedReply),
    }
}

/// The permanent MAC from a `VF_RESET` reply: `Some` on ACK, `None` on
/// NACK (the PF has no address for this VF, `igb_vf_reset_msg`).
pub fn parse_reset_reply(words: &[u32; 3]) -> Result<Option<MacAddr>, MbxError> {
    match parse_reply(MsgType::Reset, words[0]) {
        Ok(_) => Ok(Some(MacAddr::from_words(words[1], words[2]))),
        Err(MbxError::Nack) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: MacAddr = MacAddr([0x52, 0x54, 0x00, 0x00, 0x00, 0x10]);

    #[test]
    fn mac_words_roundtrip_and_layout() {
        assert_eq!(MAC.to_words(), [0x0000_5452, 0x0000_1000]);
        assert_eq!(MacAddr::from_words(0x0000_5452, 0xffff_1000), MAC);
    }

    #[test]
    fn mc_hash_matches_igbvf() {
        // igbvf: hash_mask 0xFFF, bit_shift 4: (a[4] >> 4) | (a[5] << 4).
        let a = MacAddr([0x01, 0x00, 0x5e, 0x00, 0xab, 0xcd]);
        assert_eq!(a.mc_hash(), (0xab >> 4) | ((0xcd << 4) & 0xfff));
        assert_eq!(MacAddr([1, 0, 0x5e, 0, 0xff, 0xff]).mc_hash(), 0xfff);
    }

    #[test]
    fn encode_requests() {
        let m = Msg::set_mac(MAC).unwrap();
        assert_eq!(m.words(), &[0x02, 0x0000_5452, 0x0000_1000]);
        assert_eq!(Msg::set_lpe(1522).unwrap().words(), &[0x05, 1522]);
        assert_eq!(
            Msg::set_vlan(100, true).unwrap().words(),
            &[0x0001_0004, 100]
        );
        assert_eq!(Msg::set_vlan(100, false).unwrap().words(), &[0x04, 100]);
        assert_eq!(Msg::reset().words(), &[0x01]);
        let mc = [
            MacAddr([1, 0, 0x5e, 0, 0x10, 0x01]),
            MacAddr([1, 0, 0x5e, 0, 0x20, 0x02]),
            MacAddr([1, 0, 0x5e, 0, 0x30, 0x03]),
        ];
        let m = Msg::set_multicast(&mc).unwrap();
        assert_eq!(m.words().len(), MBX_WORDS);
        assert_eq!(m.words()[0], 0x0003_0003);
        assert_eq!(m.words()[1], 0x011 | (0x022 << 16));
        assert_eq!(m.words()[2], 0x033);
        assert_eq!(Msg::set_multicast(&[]).unwrap().words()[0], 0x03);
    }

    #[test]
    fn encode_rejects_bad_arguments() {
        let e = Err(MbxError::InvalidArgument);
        assert_eq!(Msg::set_lpe(MAX_FRAME + 1), e);
        assert_eq!(Msg::set_lpe(MIN_FRAME - 1), e);
        assert_eq!(Msg::set_vlan(4096, true), e);
        assert_eq!(Msg::set_mac(MacAddr([1, 0, 0, 0, 0, 1])), e);
        assert_eq!(Msg::set_mac(MacAddr::default()), e);
        assert_eq!(Msg::set_multicast(&[MAC]), e);
        let many = [MacAddr([1, 0, 0x5e, 0, 0, 1]); MAX_MC_HASHES + 1];
        assert_eq!(Msg::set_multicast(&many), e);
        assert!(Msg::set_multicast(&many[..MAX_MC_HASHES]).is_ok());
    }

    #[test]
    fn parse_replies() {
        assert_eq!(
            parse_reply(MsgType::SetLpe, 0x05 | MSG_ACK | MSG_CTS),
            Ok(true)
        );
        assert_eq!(parse_reply(MsgType::SetLpe, 0x05 | MSG_ACK), Ok(false));
        assert_eq!(
            parse_reply(MsgType::SetLpe, 0x05 | MSG_NACK),
            Err(MbxError::Nack)
        );
        assert_eq!(
            parse_reply(MsgType::SetLpe, 0x05 | MSG_NACK | MSG_ACK),
            Err(MbxError::UnexpectedReply)
        );
        assert_eq!(
            parse_reply(MsgType::SetLpe, 0x05),
            Err(MbxError::UnexpectedReply)
        );
        assert_eq!(
            parse_reply(MsgType::SetLpe, 0x02 | MSG_ACK),
            Err(MbxError::UnexpectedReply)
        );
        let w = MAC.to_words();
        assert_eq!(
            parse_reset_reply(&[0x01 | MSG_ACK, w[0], w[1]]),
            Ok(Some(MAC))
        );
        assert_eq!(parse_reset_reply(&[0x01 | MSG_NACK, 0, 0]), Ok(None));
        assert_eq!(
            parse_reset_reply(&[0x02 | MSG_ACK, 0, 0]),
            Err(MbxError::UnexpectedReply)
        );
    }
}
