// SPDX-License-Identifier: GPL-2.0-only
//! The VF<->PF mailbox against a hostile PF: every V2PMAILBOX read and
//! every VMBMEM read returns what the fuzzer chose (a script, then a fixed
//! idle value or an echo of what the VF wrote), time only moves when the VF
//! delays, and the VF runs a fuzz-chosen sequence of resets, requests of
//! every kind, PF-message polls and reset checks under fuzz-chosen budgets.
//!
//! Asserts: every operation returns within the MbxIo calls and the
//! microseconds its `Timing` allows (a silent PF is a timeout, not a hang);
//! NotReady touches no register; counters only grow, `tx`/`rx` are the
//! REQ/ACK writes the PF saw, and each result moves the counter it should;
//! a request writes exactly `Msg::words()`; a reset's MAC is the bytes of
//! the reply words read, and readiness and CTS follow the reply;
//! `pf_resetting`/`check_for_rst` agree with a model of the read-to-clear
//! RSTD bit; `parse_reply`/`parse_reset_reply`, the MAC word layout
//! (`to_words`/`from_words` round trip) and every `Msg` constructor agree
//! with reference codecs written from the docs and igbvf.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use vzc_core::net::eth::MacAddr;
use vzc_core::vf::mbx::*;

#[derive(Arbitrary, Debug)]
enum Word {
    /// A plausible word 0: type, info, ACK/NACK/CTS (`flags` bits 0-2).
    Reply {
        kind: u8,
        info: u8,
        flags: u8,
    },
    Raw(u32),
}

#[derive(Arbitrary, Debug)]
enum Op {
    Reset,
    SetMac([u8; 6]),
    SetLpe(u16),
    SetVlan(u16, bool),
    SetMulticast(Vec<[u8; 6]>),
    Poll,
    CheckRst,
    PfResetting,
    Parse(u8, u32),
    ParseReset([u32; 3]),
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// Retry counts (mod 16) and delays of `Timing`; `igbvf`: the real one.
    tries: [u8; 3],
    delays: [u16; 4],
    igbvf: bool,
    v2p: Vec<u8>,
    idle: u8,
    mem: Vec<Word>,
    ops: Vec<Op>,
}

/// The hostile PF: scripted values (popped from the back), a call counter,
/// a fake clock, and what the VF did.
#[derive(Default)]
struct Hostile {
    v2p: Vec<u8>,
    idle: u32,
    mem: Vec<u32>,
    echo: [u32; MBX_WORDS],
    calls: u64,
    now: u64,
    v2p_reads: Vec<u32>,
    reqs: u64,
    acks: u64,
    /// Words written since the last REQ; the message that REQ sent.
    written: Vec<u32>,
    sent: Option<Vec<u32>>,
    /// Words of the last mailbox read (from word 0 on).
    read: Vec<u32>,
}

impl MbxIo for Hostile {
    fn read_v2p(&mut self) -> u32 {
        self.calls += 1;
        let v = self.v2p.pop().map_or(self.idle, u32::from);
        self.v2p_reads.push(v);
        v
    }
    fn write_v2p(&mut self, val: u32) {
        self.calls += 1;
        if val & V2P_REQ != 0 {
            self.reqs += 1;
            self.sent = Some(core::mem::take(&mut self.written));
        }
        self.acks += u64::from(val & V2P_ACK != 0);
    }
    fn read_mem(&mut self, i: usize) -> u32 {
        self.calls += 1;
        let w = self.mem.pop().unwrap_or(self.echo[i]);
        if i == 0 {
            self.read.clear();
        }
        assert_eq!(i, self.read.len(), "words read in order");
        self.read.push(w);
        w
    }
    fn write_mem(&mut self, i: usize, val: u32) {
        self.calls += 1;
        assert_eq!(i, self.written.len(), "words written in order");
        self.echo[i] = val;
        self.written.push(val);
    }
    fn delay_us(&mut self, us: u32) {
        self.calls += 1;
        self.now += u64::from(us);
    }
}

/// Word 0 of a reply to message type `kind`, as the docs say.
fn reference_reply(kind: u32, w0: u32) -> Result<bool, MbxError> {
    match (w0 & 0xffff == kind, w0 & MSG_ACK != 0, w0 & MSG_NACK != 0) {
        (true, true, false) => Ok(w0 & MSG_CTS != 0),
        (true, false, true) => Err(MbxError::Nack),
        _ => Err(MbxError::UnexpectedReply),
    }
}

/// The request `op` encodes, checked against a reference encoder.
fn check_encoders(op: &Op) -> Option<Msg> {
    let (msg, valid, want) = match op {
        Op::SetMac(b) => {
            let w = MacAddr(*b).to_words();
            assert_eq!(MacAddr::from_words(w[0], w[1] | 0xffff_0000), MacAddr(*b));
            assert_eq!(
                w,
                [
                    u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                    u32::from(b[4]) | u32::from(b[5]) << 8
                ]
            );
            (
                Msg::set_mac(MacAddr(*b)),
                *b != [0; 6] && b[0] & 1 == 0,
                vec![2, w[0], w[1]],
            )
        }
        Op::SetLpe(f) => (
            Msg::set_lpe(*f),
            (64..=0x3f00).contains(f),
            vec![5, u32::from(*f)],
        ),
        Op::SetVlan(v, add) => (
            Msg::set_vlan(*v, *add),
            *v < 4096,
            vec![4 | u32::from(*add) << 16, u32::from(*v)],
        ),
        Op::SetMulticast(l) => {
            let addrs: Vec<MacAddr> = l.iter().take(40).map(|&b| MacAddr(b)).collect();
            let mut want = vec![0; MBX_WORDS];
            want[0] = 3 | (addrs.len() as u32) << 16;
            for (i, a) in addrs.iter().take(30).enumerate() {
                // igbvf: bits 47:36 of the address, two 16-bit hashes a word.
                let h = (u32::from(a.0[4]) >> 4 | u32::from(a.0[5]) << 4) & 0xfff;
                want[1 + i / 2] |= h << (16 * (i % 2));
            }
            let valid = addrs.len() <= 30 && addrs.iter().all(|a| a.0[0] & 1 != 0);
            (Msg::set_multicast(&addrs), valid, want)
        }
        Op::Reset => (Ok(Msg::reset()), true, vec![1]),
        _ => return None,
    };
    match msg {
        Ok(m) if valid => assert_eq!(m.words(), &want[..]),
        m => assert!(
            !valid && m == Err(MbxError::InvalidArgument),
            "{op:?}: {m:?}"
        ),
    }
    msg.ok()
}

fn counters(s: MbxStats) -> [u64; 8] {
    [
        s.tx,
        s.rx,
        s.acks,
        s.nacks,
        s.pings,
        s.timeouts,
        s.bad_replies,
        s.pf_resets,
    ]
}

fuzz_target!(|inp: Input| {
    let [l, p, r] = inp.tries.map(|x| u32::from(x % 16));
    let [ld, pd, rd, settle] = inp.delays.map(u32::from);
    let t = match inp.igbvf {
        true => Timing::IGBVF,
        false => Timing {
            lock_tries: l,
            lock_delay_us: ld,
            poll_tries: p,
            poll_delay_us: pd,
            rst_tries: r,
            rst_delay_us: rd,
            reset_settle_us: settle,
        },
    };
    let (l, p, r) = (
        u64::from(t.lock_tries),
        u64::from(t.poll_tries),
        u64::from(t.rst_tries),
    );
    let pings = u64::from(MAX_PINGS_PER_REPLY) + 1;
    // MbxIo calls: a lock 3 a try, a poll 2, a write <= 16 words + 3, a read <= 16 + 1;
    // a request is one write and poll, then up to `pings` polls and reads.
    let read = 3 * l + 17;
    let request = 3 * l + 19 + 2 * p + pings * (2 * p + read);
    // Microseconds: up to 1 + pings lock and poll budgets, the reset wait and settle.
    let lp_time = (1 + pings) * (l * u64::from(t.lock_delay_us) + p * u64::from(t.poll_delay_us));
    let reset_time = r * u64::from(t.rst_delay_us) + u64::from(t.reset_settle_us) + lp_time;

    let mem = inp.mem.iter().rev().map(|w| match *w {
        Word::Reply { kind, info, flags } => {
            u32::from(kind) | u32::from(info) << 16 | u32::from(flags & 7) << 29
        }
        Word::Raw(x) => x,
    });
    let v2p = inp.v2p.iter().rev().copied().collect();
    let mut io = Hostile {
        v2p,
        idle: u32::from(inp.idle),
        mem: mem.collect(),
        ..Default::default()
    };
    let mut m = Mailbox::new(t);
    let mut rstd = false; // the model of the remembered RSTD bit
    for op in inp.ops.iter().take(if inp.igbvf { 4 } else { 64 }) {
        let (s0, c0, t0) = (counters(m.stats()), io.calls, io.now);
        (io.v2p_reads, io.sent) = (Vec::new(), None);
        let msg = check_encoders(op);
        let (res, calls, time) = match (op, msg) {
            (Op::Reset, _) => {
                let res = m.reset(&mut io);
                match res {
                    Ok(mac) => {
                        let w = &io.read;
                        assert!(m.is_ready() && w.len() == 3 && m.cts() == (w[0] & MSG_CTS != 0));
                        let (a, b) = (w[1].to_le_bytes(), w[2].to_le_bytes());
                        let want = MacAddr([a[0], a[1], a[2], a[3], b[0], b[1]]);
                        assert_eq!(mac, reference_reply(1, w[0]).ok().map(|_| want));
                    }
                    Err(e) => assert!(!m.is_ready(), "{e:?} left the mailbox ready"),
                }
                (res.map(|_| ()), 2 * r + 1 + request, reset_time)
            }
            (_, Some(msg)) => {
                let res = m.request(&mut io, &msg);
                if res.is_ok() {
                    assert!(m.is_ready() && m.cts() == (io.read[0] & MSG_CTS != 0));
                }
                (res, request, lp_time)
            }
            (Op::Poll, _) => {
                let res = m.poll_pf_message(&mut io);
                assert!(res != Ok(false) || io.calls - c0 == 1);
                let rx = counters(m.stats())[1] - s0[1];
                assert_eq!(rx, u64::from(res == Ok(true)));
                (res.map(|_| ()), 1 + read, l * u64::from(t.lock_delay_us))
            }
            (Op::CheckRst, _) => {
                let hit = m.check_for_rst(&mut io);
                assert_eq!(hit, rstd || io.v2p_reads[0] & (V2P_RSTI | V2P_RSTD) != 0);
                assert_eq!(m.stats().pf_resets, s0[7] + u64::from(hit));
                (Ok(()), 1, 0)
            }
            (Op::PfResetting, _) => {
                assert_eq!(m.pf_resetting(&mut io), io.v2p_reads[0] & V2P_RSTI != 0);
                (Ok(()), 1, 0)
            }
            (Op::Parse(k, w0), _) => {
                let kinds = [
                    MsgType::Reset,
                    MsgType::SetMacAddr,
                    MsgType::SetMulticast,
                    MsgType::SetVlan,
                    MsgType::SetLpe,
                ];
                let (kind, n) = (kinds[usize::from(k % 5)], u32::from(k % 5) + 1);
                // Even `k`: word 0 carries the right type, odd: anything.
                let w = if k % 2 == 0 { w0 & !0xffff | n } else { *w0 };
                assert_eq!(parse_reply(kind, w), reference_reply(n, w));
                (Ok(()), 0, 0)
            }
            (Op::ParseReset(w), _) => {
                let want = match reference_reply(1, w[0]) {
                    Ok(_) => Ok(Some(MacAddr::from_words(w[1], w[2]))),
                    Err(MbxError::Nack) => Ok(None),
                    Err(e) => Err(e),
                };
                assert_eq!(parse_reset_reply(w), want);
                (Ok(()), 0, 0)
            }
            _ => (Ok(()), 0, 0), // an argument the constructor refused
        };
        let used = io.calls - c0;
        assert!(used <= calls, "{op:?}: {used} MbxIo calls > {calls}");
        assert!(io.now - t0 <= time, "{op:?}: {} us > {time}", io.now - t0);

        // The remembered RSTD: only check_for_rst and the reset wait consume it.
        let mut reads = io.v2p_reads.iter();
        match op {
            Op::CheckRst => {
                reads.next();
                rstd = false;
            }
            Op::Reset => {
                let mut clear = false;
                for v in reads.by_ref().take(r as usize) {
                    clear = (v | if rstd { V2P_RSTD } else { 0 }) & (V2P_RSTI | V2P_RSTD) == 0;
                    rstd = false;
                    if clear {
                        break;
                    }
                }
                assert_eq!(res == Err(MbxError::PfInReset), !clear);
            }
            _ => {}
        }
        rstd |= reads.any(|v| v & V2P_RSTD != 0);

        let s = counters(m.stats());
        let d: Vec<u64> = s
            .iter()
            .zip(s0)
            .map(|(b, a)| b.checked_sub(a).expect("a counter went down"))
            .collect();
        assert_eq!(
            (s[0], s[1]),
            (io.reqs, io.acks),
            "tx/rx are the REQ/ACK writes"
        );
        assert!(d[0] <= 1 && d[2] + d[3] <= d[1].min(1) && d[4] <= d[1]);
        if d[0] == 1 {
            assert_eq!(
                io.sent.as_deref(),
                check_encoders(op).as_ref().map(Msg::words)
            );
        }
        match res {
            Ok(()) if matches!(op, Op::Reset) => assert_eq!((d[0], d[2] + d[3]), (1, 1)),
            Ok(()) if msg.is_some() => assert_eq!((d[0], d[2]), (1, 1)),
            Err(MbxError::Nack) => assert_eq!(d[3], 1),
            Err(MbxError::UnexpectedReply) => assert_eq!(d[6], 1),
            Err(MbxError::Timeout) => assert!(d[5] == 1 && !m.is_ready()),
            Err(MbxError::LockTimeout | MbxError::PfInReset) => assert_eq!(d[5], 1),
            Err(MbxError::NotReady) => assert!(used == 0 && d.iter().all(|&x| x == 0)),
            _ => {}
        }
    }
});
