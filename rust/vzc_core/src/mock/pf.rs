// SPDX-License-Identifier: GPL-2.0-only
//! The igb PF's side of one VF's mailbox, for the mailbox protocol tests
//! (`vf::mbx`). Test builds only: it records every message in a `Vec`.

use super::super::net::eth::MacAddr;
use super::super::vf::mbx::{
    MbxIo, MsgType, MBX_WORDS, MSG_ACK, MSG_CTS, MSG_NACK, MSG_TYPE_MASK, PF_CONTROL_MSG, V2P_ACK,
    V2P_PFACK, V2P_PFSTS, V2P_R2C_BITS, V2P_REQ, V2P_RSTD, V2P_RSTI, V2P_VFU,
};

/// A model of the igb PF's side of one VF's mailbox, with the
/// read-to-clear semantics of V2PMAILBOX.
pub(crate) struct Pf {
    pub(crate) v2p: u32,
    pub(crate) mem: [u32; MBX_WORDS],
    pub(crate) mac: Option<MacAddr>,
    /// The PF answers messages (else it only ACKs... or not at all).
    pub(crate) answer: bool,
    pub(crate) ack: bool,
    pub(crate) nack_all: bool,
    /// Pings the PF queues in front of each reply.
    pub(crate) pings_before_reply: u32,
    pub(crate) stuck_rsti: bool,
    pub(crate) clear_to_send: bool,
    pub(crate) delays: u64,
    pub(crate) received: Vec<Vec<u32>>,
    pub(crate) pending_reply: Option<Vec<u32>>,
}

impl Pf {
    pub(crate) fn new(mac: Option<MacAddr>) -> Self {
        Pf {
            v2p: V2P_RSTD,
            mem: [0; MBX_WORDS],
            mac,
            answer: true,
            ack: true,
            nack_all: false,
            pings_before_reply: 0,
            stuck_rsti: false,
            clear_to_send: false,
            delays: 0,
            received: Vec::new(),
            pending_reply: None,
        }
    }

    pub(crate) fn post(&mut self, words: &[u32]) {
        self.mem[..words.len()].copy_from_slice(words);
        self.v2p |= V2P_PFSTS;
    }

    /// igb_rcv_msg_from_vf, reduced to what the VF can observe.
    pub(crate) fn receive(&mut self) {
        let n = match self.mem[0] & MSG_TYPE_MASK {
            3 => MBX_WORDS,
            1 => 1,
            _ => 2,
        };
        let msg = self.mem[..n].to_vec();
        self.received.push(msg.clone());
        if self.ack {
            self.v2p |= V2P_PFACK;
        }
        if !self.answer {
            return;
        }
        let kind = msg[0] & MSG_TYPE_MASK;
        let mut reply = vec![kind];
        if kind == MsgType::Reset as u32 {
            self.clear_to_send = true;
            match self.mac {
                Some(m) if !self.nack_all => {
                    let w = m.to_words();
                    reply[0] |= MSG_ACK;
                    reply.extend_from_slice(&w);
                }
                _ => reply[0] |= MSG_NACK,
            }
        } else if !self.clear_to_send || self.nack_all {
            reply[0] |= MSG_NACK;
        } else {
            reply[0] |= MSG_ACK;
        }
        if self.clear_to_send {
            reply[0] |= MSG_CTS;
        }
        // Pings are consumed one by one before the reply shows.
        self.pending_reply = Some(reply);
        if self.pings_before_reply > 0 {
            self.post(&[PF_CONTROL_MSG | MSG_CTS]);
        } else {
            let r = self.pending_reply.take().unwrap();
            self.post(&r);
        }
    }
}

impl MbxIo for Pf {
    fn read_v2p(&mut self) -> u32 {
        if self.stuck_rsti {
            self.v2p |= V2P_RSTI;
        }
        let v = self.v2p;
        self.v2p &= !V2P_R2C_BITS;
        v
    }
    fn write_v2p(&mut self, val: u32) {
        if val & V2P_VFU != 0 {
            self.v2p |= V2P_VFU;
        }
        if val & V2P_REQ != 0 {
            self.v2p &= !V2P_VFU;
            self.receive();
        }
        if val & V2P_ACK != 0 {
            self.v2p &= !V2P_VFU;
            // A ping was read: the next queued message shows.
            if self.pings_before_reply > 0 {
                self.pings_before_reply -= 1;
                if self.pings_before_reply > 0 {
                    self.post(&[PF_CONTROL_MSG | MSG_CTS]);
                } else if let Some(r) = self.pending_reply.take() {
                    self.post(&r);
                }
            }
        }
    }
    fn read_mem(&mut self, i: usize) -> u32 {
        self.mem[i]
    }
    fn write_mem(&mut self, i: usize, val: u32) {
        self.mem[i] = val;
    }
    fn delay_us(&mut self, us: u32) {
        self.delays += u64::from(us);
    }
}
