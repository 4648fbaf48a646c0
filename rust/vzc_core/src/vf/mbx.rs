// SPDX-License-Identifier: GPL-2.0-only
//! The 82576 VF side of the VF<->PF mailbox: message encoding, reply
//! parsing and the polled protocol, over an abstract register interface.
//!
//! The protocol is the one Linux's `igb` PF answers (`igb_rcv_msg_from_vf`)
//! and `igbvf` speaks (`drivers/net/ethernet/intel/igbvf/mbx.c`, `vf.c`).
//! Hardware: 82576 datasheet, "PF/VF mailbox" (V2PMAILBOX/VMBMEM registers).
//!
//! Everything the PF or the device writes is untrusted: every poll is
//! bounded (a retry count times a delay, as in `mbx.c`), reply lengths are
//! fixed by the caller, and a reply of the wrong type is an error, never a
//! reason to loop. The kernel driver implements [`MbxIo`] over its BAR; the
//! tests implement it with a model of the PF.

use super::super::net::eth::MacAddr;

/// Words in the mailbox memory (VMBMEM): 16 x 32 bit = 64 bytes.
pub const MBX_WORDS: usize = 16;

/// V2PMAILBOX: VF requests the PF's attention (message posted).
pub const V2P_REQ: u32 = 1 << 0;
/// V2PMAILBOX: VF acknowledges a PF message.
pub const V2P_ACK: u32 = 1 << 1;
/// V2PMAILBOX: VF owns the buffer.
pub const V2P_VFU: u32 = 1 << 2;
/// V2PMAILBOX: PF owns the buffer.
pub const V2P_PFU: u32 = 1 << 3;
/// V2PMAILBOX: PF wrote a message (read-to-clear).
pub const V2P_PFSTS: u32 = 1 << 4;
/// V2PMAILBOX: PF acknowledged our message (read-to-clear).
pub const V2P_PFACK: u32 = 1 << 5;
/// V2PMAILBOX: PF reset in progress.
pub const V2P_RSTI: u32 = 1 << 6;
/// V2PMAILBOX: PF reset done (read-to-clear).
pub const V2P_RSTD: u32 = 1 << 7;
/// The bits that vanish when V2PMAILBOX is read; they must be remembered in
/// software until consumed, or a poll for one would eat the others.
pub const V2P_R2C_BITS: u32 = V2P_PFSTS | V2P_PFACK | V2P_RSTD;

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

/// Why a mailbox operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MbxError {
    /// The VF could not take buffer ownership (VFU) within the retries.
    LockTimeout,
    /// The PF did not acknowledge or answer within the poll budget. The
    /// mailbox is unusable until the next reset handshake (as in `mbx.c`).
    Timeout,
    /// A previous timeout disabled the mailbox; reset first.
    NotReady,
    /// RSTI/RSTD stayed asserted: the PF is resetting or has no driver.
    PfInReset,
    /// The PF refused the request.
    Nack,
    /// The reply was not an ACK/NACK of the request we sent.
    UnexpectedReply,
    /// A request argument is out of range (frame size, VLAN id, MAC, count).
    InvalidArgument,
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

/// Register access the protocol needs: V2PMAILBOX, VMBMEM and a delay.
/// All accesses are 32 bit (the VF BAR forbids others).
pub trait MbxIo {
    /// Reads V2PMAILBOX (which clears its read-to-clear bits).
    fn read_v2p(&mut self) -> u32;
    /// Writes V2PMAILBOX.
    fn write_v2p(&mut self, val: u32);
    /// Reads VMBMEM word `i` (`i < MBX_WORDS`).
    fn read_mem(&mut self, i: usize) -> u32;
    /// Writes VMBMEM word `i` (`i < MBX_WORDS`).
    fn write_mem(&mut self, i: usize, val: u32);
    /// Waits about `us` microseconds (may sleep).
    fn delay_us(&mut self, us: u32);
}

/// Retry budgets of the polls, in `mbx.c`/`vf.c` units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Attempts to take VFU (`e1000_obtain_mbx_lock_vf`: 10, 1 ms apart).
    pub lock_tries: u32,
    /// Delay between VFU attempts.
    pub lock_delay_us: u32,
    /// Polls for PFACK/PFSTS (`E1000_VF_MBX_INIT_TIMEOUT`: 2000).
    pub poll_tries: u32,
    /// Delay between polls (`E1000_VF_MBX_INIT_DELAY`: 500 us; 1 s total).
    pub poll_delay_us: u32,
    /// Polls for RSTI/RSTD to clear after CTRL.RST (`E1000_VF_INIT_TIMEOUT`).
    pub rst_tries: u32,
    /// Delay between those polls.
    pub rst_delay_us: u32,
    /// Pause between `VF_RESET` and reading its reply (`mdelay(10)`).
    pub reset_settle_us: u32,
}

impl Timing {
    /// The budgets igbvf uses on real hardware.
    pub const IGBVF: Timing = Timing {
        lock_tries: 10,
        lock_delay_us: 1000,
        poll_tries: 2000,
        poll_delay_us: 500,
        rst_tries: 200,
        rst_delay_us: 5,
        reset_settle_us: 10_000,
    };
}

/// PF control messages tolerated in front of one reply: each ping costs
/// one posted read, so a PF that only pings cannot keep us polling.
pub const MAX_PINGS_PER_REPLY: u32 = 4;

/// Counters of the mailbox, for sysfs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MbxStats {
    /// Messages written to the PF.
    pub tx: u64,
    /// Messages read from the PF (replies and pings).
    pub rx: u64,
    /// Requests the PF ACKed.
    pub acks: u64,
    /// Requests the PF NACKed.
    pub nacks: u64,
    /// PF control messages (pings) read.
    pub pings: u64,
    /// Polls that ran out (lock, ack, reply, reset).
    pub timeouts: u64,
    /// Replies that matched no request.
    pub bad_replies: u64,
    /// PF reset indications (RSTI/RSTD) seen.
    pub pf_resets: u64,
}

/// The VF's mailbox state.
///
/// # Invariants
///
/// `sticky` only holds bits of [`V2P_R2C_BITS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    sticky: u32,
    /// Posted operations are allowed: a reset handshake got through and no
    /// poll has timed out since (`mbx->timeout != 0` in `mbx.c`).
    ready: bool,
    /// The PF's last word 0 carried CTS.
    cts: bool,
    timing: Timing,
    stats: MbxStats,
}

impl Mailbox {
    /// A mailbox that accepts only a reset handshake.
    pub const fn new(timing: Timing) -> Self {
        Mailbox {
            sticky: 0,
            ready: false,
            cts: false,
            timing,
            stats: MbxStats {
                tx: 0,
                rx: 0,
                acks: 0,
                nacks: 0,
                pings: 0,
                timeouts: 0,
                bad_replies: 0,
                pf_resets: 0,
            },
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> MbxStats {
        self.stats
    }

    /// Posted operations are possible (last handshake good, no timeout).
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// The PF declared us clear to send in its last message.
    pub fn cts(&self) -> bool {
        self.cts
    }

    fn v2p(&mut self, io: &mut impl MbxIo) -> u32 {
        let v = io.read_v2p() | self.sticky;
        self.sticky |= v & V2P_R2C_BITS;
        v
    }

    /// Whether any bit of `mask` is set (now or remembered), consuming them.
    fn take(&mut self, io: &mut impl MbxIo, mask: u32) -> bool {
        let v = self.v2p(io);
        self.sticky &= !mask;
        v & mask != 0
    }

    /// RSTI or RSTD seen: the PF reset (or is resetting) and the handshake
    /// must be redone. Consumes RSTD; counted in `pf_resets`.
    pub fn check_for_rst(&mut self, io: &mut impl MbxIo) -> bool {
        let hit = self.take(io, V2P_RSTI | V2P_RSTD);
        if hit {
            self.stats.pf_resets += 1;
        }
        hit
    }

    /// RSTI is asserted now: the PF is still resetting (or has no driver),
    /// so a handshake cannot succeed yet. Consumes nothing (read-to-clear
    /// bits read on the way are remembered as usual).
    pub fn pf_resetting(&mut self, io: &mut impl MbxIo) -> bool {
        self.v2p(io) & V2P_RSTI != 0
    }

    fn lock(&mut self, io: &mut impl MbxIo) -> Result<(), MbxError> {
        for _ in 0..self.timing.lock_tries {
            io.write_v2p(V2P_VFU);
            if self.v2p(io) & V2P_VFU != 0 {
                return Ok(());
            }
            io.delay_us(self.timing.lock_delay_us);
        }
        self.stats.timeouts += 1;
        Err(MbxError::LockTimeout)
    }

    fn poll(&mut self, io: &mut impl MbxIo, mask: u32) -> Result<(), MbxError> {
        for _ in 0..self.timing.poll_tries {
            if self.take(io, mask) {
                return Ok(());
            }
            io.delay_us(self.timing.poll_delay_us);
        }
        // As mbx.c: after a lost reply the protocol state is unknown, so
        // nothing but a reset handshake may use the mailbox again.
        self.ready = false;
        self.stats.timeouts += 1;
        Err(MbxError::Timeout)
    }

    fn write(&mut self, io: &mut impl MbxIo, msg: &Msg) -> Result<(), MbxError> {
        self.lock(io)?;
        // The buffer is about to be overwritten: stale ack/message flags
        // would otherwise satisfy the polls for this message's answer.
        self.take(io, V2P_PFACK);
        self.take(io, V2P_PFSTS);
        for (i, w) in msg.words().iter().enumerate() {
            io.write_mem(i, *w);
        }
        self.stats.tx += 1;
        // Dropping VFU with REQ interrupts the PF.
        io.write_v2p(V2P_REQ);
        Ok(())
    }

    fn read(&mut self, io: &mut impl MbxIo, out: &mut [u32]) -> Result<(), MbxError> {
        self.lock(io)?;
        for (i, w) in out.iter_mut().take(MBX_WORDS).enumerate() {
            *w = io.read_mem(i);
        }
        io.write_v2p(V2P_ACK);
        self.stats.rx += 1;
        if let Some(w0) = out.first() {
            self.cts = w0 & MSG_CTS != 0;
        }
        Ok(())
    }

    fn write_posted(&mut self, io: &mut impl MbxIo, msg: &Msg) -> Result<(), MbxError> {
        if !self.ready {
            return Err(MbxError::NotReady);
        }
        self.write(io, msg)?;
        self.poll(io, V2P_PFACK)
    }

    /// Reads the reply to `kind` into `out`, skipping (and counting) PF
    /// control messages that arrive first.
    fn read_reply(
        &mut self,
        io: &mut impl MbxIo,
        kind: MsgType,
        out: &mut [u32],
    ) -> Result<bool, MbxError> {
        for _ in 0..=MAX_PINGS_PER_REPLY {
            self.poll(io, V2P_PFSTS)?;
            self.read(io, out)?;
            let w0 = out.first().copied().unwrap_or(0);
            if w0 & MSG_TYPE_MASK == PF_CONTROL_MSG {
                self.stats.pings += 1;
                continue;
            }
            return match parse_reply(kind, w0) {
                Ok(cts) => {
                    self.stats.acks += 1;
                    Ok(cts)
                }
                Err(MbxError::Nack) => {
                    self.stats.nacks += 1;
                    Err(MbxError::Nack)
                }
                Err(e) => {
                    self.stats.bad_replies += 1;
                    Err(e)
                }
            };
        }
        self.stats.bad_replies += 1;
        Err(MbxError::UnexpectedReply)
    }

    /// Sends `msg` and waits for its one-word ACK/NACK.
    pub fn request(&mut self, io: &mut impl MbxIo, msg: &Msg) -> Result<(), MbxError> {
        self.write_posted(io, msg)?;
        let mut reply = [0u32; 1];
        self.read_reply(io, msg.kind(), &mut reply).map(|_| ())
    }

    /// The reset handshake, after the caller set CTRL.RST (`e1000_reset_hw_vf`):
    /// wait for RSTI/RSTD to clear, send `VF_RESET`, read the permanent MAC.
    /// `Ok(None)` means the PF ACKed no address (NACK reply).
    pub fn reset(&mut self, io: &mut impl MbxIo) -> Result<Option<MacAddr>, MbxError> {
        self.ready = false;
        self.cts = false;
        let mut clear = false;
        // Not `check_for_rst`: the handshake's own wait is not a PF reset
        // event to count (RSTI stays up for every poll while the PF is down).
        for _ in 0..self.timing.rst_tries {
            if !self.take(io, V2P_RSTI | V2P_RSTD) {
                clear = true;
                break;
            }
            io.delay_us(self.timing.rst_delay_us);
        }
        if !clear {
            self.stats.timeouts += 1;
            return Err(MbxError::PfInReset);
        }
        self.ready = true;
        self.write_posted(io, &Msg::reset())?;
        io.delay_us(self.timing.reset_settle_us);
        let mut reply = [0u32; 3];
        match self.read_reply(io, MsgType::Reset, &mut reply) {
            Ok(_) | Err(MbxError::Nack) => parse_reset_reply(&reply),
            Err(e) => {
                self.ready = false;
                Err(e)
            }
        }
    }

    /// Drains one pending PF message (a ping announcing a link change or
    /// revoking CTS), as igbvf's link check does. Returns whether one was
    /// read.
    pub fn poll_pf_message(&mut self, io: &mut impl MbxIo) -> Result<bool, MbxError> {
        if !self.take(io, V2P_PFSTS) {
            return Ok(false);
        }
        let mut w = [0u32; 1];
        self.read(io, &mut w)?;
        if w[0] & MSG_TYPE_MASK == PF_CONTROL_MSG {
            self.stats.pings += 1;
        } else {
            self.stats.bad_replies += 1;
        }
        // Like `e1000_check_for_link_vf`: a NACK without CTS means the PF
        // dropped us; only a new handshake recovers.
        if w[0] & MSG_CTS == 0 && w[0] & MSG_NACK != 0 {
            self.ready = false;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::mock::pf::Pf;
    use super::*;

    const MAC: MacAddr = MacAddr([0x52, 0x54, 0x00, 0x00, 0x00, 0x10]);

    fn ready_mbx(pf: &mut Pf) -> Mailbox {
        let mut m = Mailbox::new(Timing::IGBVF);
        assert_eq!(m.reset(pf), Ok(Some(MAC)));
        m
    }

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

    #[test]
    fn reset_handshake_reads_permanent_mac() {
        let mut pf = Pf::new(Some(MAC));
        let m = ready_mbx(&mut pf);
        assert!(m.is_ready() && m.cts());
        assert_eq!(pf.received, vec![vec![0x01]]);
        let s = m.stats();
        assert_eq!((s.tx, s.rx, s.acks, s.pf_resets), (1, 1, 1, 0));
    }

    #[test]
    fn reset_nack_means_no_mac() {
        let mut pf = Pf::new(None);
        let mut m = Mailbox::new(Timing::IGBVF);
        assert_eq!(m.reset(&mut pf), Ok(None));
        assert!(m.is_ready());
        assert_eq!(m.stats().nacks, 1);
    }

    #[test]
    fn requests_after_reset_are_acked() {
        let mut pf = Pf::new(Some(MAC));
        let mut m = ready_mbx(&mut pf);
        m.request(&mut pf, &Msg::set_mac(MAC).unwrap()).unwrap();
        m.request(&mut pf, &Msg::set_lpe(1522).unwrap()).unwrap();
        m.request(&mut pf, &Msg::set_vlan(7, true).unwrap())
            .unwrap();
        m.request(&mut pf, &Msg::set_multicast(&[]).unwrap())
            .unwrap();
        assert_eq!(m.stats().acks, 5);
        assert_eq!(pf.received[2], vec![0x05, 1522]);
        assert_eq!(pf.received[4].len(), MBX_WORDS);
    }

    #[test]
    fn requests_before_reset_are_refused_locally() {
        let mut pf = Pf::new(Some(MAC));
        let mut m = Mailbox::new(Timing::IGBVF);
        let msg = Msg::set_lpe(1522).unwrap();
        assert_eq!(m.request(&mut pf, &msg), Err(MbxError::NotReady));
        assert!(pf.received.is_empty());
    }

    #[test]
    fn nack_is_reported_and_counted() {
        let mut pf = Pf::new(Some(MAC));
        let mut m = ready_mbx(&mut pf);
        pf.nack_all = true;
        let msg = Msg::set_mac(MacAddr([2, 0, 0, 0, 0, 1])).unwrap();
        assert_eq!(m.request(&mut pf, &msg), Err(MbxError::Nack));
        assert_eq!(m.stats().nacks, 1);
        // A NACK does not poison the mailbox.
        assert!(m.is_ready());
    }

    #[test]
    fn pings_before_reply_are_skipped_but_bounded() {
        let mut pf = Pf::new(Some(MAC));
        let mut m = ready_mbx(&mut pf);
        pf.pings_before_reply = MAX_PINGS_PER_REPLY;
        m.request(&mut pf, &Msg::set_lpe(1522).unwrap()).unwrap();
        assert_eq!(m.stats().pings, u64::from(MAX_PINGS_PER_REPLY));

        pf.pings_before_reply = MAX_PINGS_PER_REPLY + 1;
        let r = m.request(&mut pf, &Msg::set_lpe(1522).unwrap());
        assert_eq!(r, Err(MbxError::UnexpectedReply));
    }

    #[test]
    fn silent_pf_times_out_and_disables_mailbox() {
        let mut pf = Pf::new(Some(MAC));
        let mut m = ready_mbx(&mut pf);
        pf.answer = false;
        let before = pf.delays;
        let msg = Msg::set_lpe(1522).unwrap();
        assert_eq!(m.request(&mut pf, &msg), Err(MbxError::Timeout));
        // Bounded: exactly the poll budget, 2000 x 500 us = 1 s.
        assert_eq!(pf.delays - before, 2000 * 500);
        assert!(!m.is_ready());
        assert_eq!(m.request(&mut pf, &msg), Err(MbxError::NotReady));
        // A new handshake recovers.
        pf.answer = true;
        assert_eq!(m.reset(&mut pf), Ok(Some(MAC)));
        m.request(&mut pf, &msg).unwrap();
    }

    #[test]
    fn unacked_write_times_out() {
        let mut pf = Pf::new(Some(MAC));
        let mut m = ready_mbx(&mut pf);
        pf.ack = false;
        pf.answer = false;
        let msg = Msg::set_lpe(1522).unwrap();
        assert_eq!(m.request(&mut pf, &msg), Err(MbxError::Timeout));
        assert_eq!(m.stats().timeouts, 1);
    }

    #[test]
    fn pf_stuck_in_reset_fails_handshake() {
        let mut pf = Pf::new(Some(MAC));
        pf.stuck_rsti = true;
        let mut m = Mailbox::new(Timing::IGBVF);
        assert_eq!(m.reset(&mut pf), Err(MbxError::PfInReset));
        assert!(pf.received.is_empty());
        assert!(!m.is_ready());
        assert_eq!(pf.delays, 200 * 5);
        assert_eq!(m.stats().pf_resets, 0);
        assert_eq!(m.stats().timeouts, 1);
    }

    #[test]
    fn pf_reset_is_noticed_once() {
        let mut pf = Pf::new(Some(MAC));
        let mut m = ready_mbx(&mut pf);
        assert!(!m.check_for_rst(&mut pf));
        pf.v2p |= V2P_RSTD;
        assert!(m.check_for_rst(&mut pf));
        assert!(!m.check_for_rst(&mut pf));
    }

    #[test]
    fn pf_resetting_peeks_without_consuming() {
        let mut pf = Pf::new(Some(MAC));
        let mut m = ready_mbx(&mut pf);
        assert!(!m.pf_resetting(&mut pf));
        pf.v2p |= V2P_RSTD;
        pf.stuck_rsti = true;
        assert!(m.pf_resetting(&mut pf));
        assert!(m.pf_resetting(&mut pf));
        // RSTD read on the way is still there for the reset check.
        pf.stuck_rsti = false;
        pf.v2p &= !V2P_RSTI;
        assert!(!m.pf_resetting(&mut pf));
        assert!(m.check_for_rst(&mut pf));
        assert!(!m.check_for_rst(&mut pf));
    }

    #[test]
    fn r2c_bits_are_remembered_across_reads() {
        let mut pf = Pf::new(Some(MAC));
        let mut m = ready_mbx(&mut pf);
        pf.v2p |= V2P_RSTD | V2P_PFSTS;
        pf.mem[0] = PF_CONTROL_MSG | MSG_CTS;
        // Looking for PFSTS must not lose RSTD, and vice versa.
        assert_eq!(m.poll_pf_message(&mut pf), Ok(true));
        assert!(m.check_for_rst(&mut pf));
        assert_eq!(m.poll_pf_message(&mut pf), Ok(false));
        assert_eq!(m.stats().pings, 1);
    }

    #[test]
    fn nack_ping_without_cts_drops_readiness() {
        let mut pf = Pf::new(Some(MAC));
        let mut m = ready_mbx(&mut pf);
        pf.post(&[PF_CONTROL_MSG | MSG_NACK]);
        assert_eq!(m.poll_pf_message(&mut pf), Ok(true));
        assert!(!m.cts());
        assert!(!m.is_ready());
    }
}
