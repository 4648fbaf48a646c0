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

pub mod msg;

#[allow(unused_imports)]
pub use self::msg::{
    parse_reply, parse_reset_reply, Msg, MsgType, MAX_FRAME, MAX_MC_HASHES, MAX_VLAN_ID, MIN_FRAME,
    MSGINFO_SHIFT, MSG_ACK, MSG_CTS, MSG_NACK, MSG_TYPE_MASK, PF_CONTROL_MSG,
};
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
        // `write_posted` refuses to write unless ready; if VF_RESET does
        // not get out (the PF holds the buffer), the handshake did not
        // happen and requests must stay refused (found by fuzz/mbx).
        self.ready = true;
        if let Err(e) = self.write_posted(io, &Msg::reset()) {
            self.ready = false;
            return Err(e);
        }
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
    fn reset_handshake_reads_permanent_mac() {
        let mut pf = Pf::new(Some(MAC));
        let m = ready_mbx(&mut pf);
        assert!(m.is_ready() && m.cts());
        assert_eq!(pf.received, vec![vec![0x01]]);
        let s = m.stats();
        assert_eq!((s.tx, s.rx, s.acks, s.pf_resets), (1, 1, 1, 0));
    }

    /// A PF that never lets the VF take the buffer (VFU never reads back).
    struct LockedPf;

    impl MbxIo for LockedPf {
        fn read_v2p(&mut self) -> u32 {
            0
        }
        fn write_v2p(&mut self, _val: u32) {}
        fn read_mem(&mut self, _i: usize) -> u32 {
            0
        }
        fn write_mem(&mut self, _i: usize, _val: u32) {}
        fn delay_us(&mut self, _us: u32) {}
    }

    #[test]
    fn reset_that_cannot_send_leaves_the_mailbox_not_ready() {
        let mut m = Mailbox::new(Timing::IGBVF);
        assert_eq!(m.reset(&mut LockedPf), Err(MbxError::LockTimeout));
        assert!(!m.is_ready());
        let msg = Msg::set_lpe(1522).unwrap();
        assert_eq!(m.request(&mut LockedPf, &msg), Err(MbxError::NotReady));
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
