// SPDX-License-Identifier: GPL-2.0-only
//! The netlink socket: resolve the vhost_zc family through the generic
//! netlink controller, send one request, collect its replies until the ACK
//! or NLMSG_DONE, and turn a kernel error into errno + extack message.

use std::fmt;

use neli::{
    consts::{
        genl::{CtrlAttr, CtrlCmd},
        nl::{GenlId, NlmF, NlmsgerrAttr},
        socket::NlFamily,
    },
    err::{Nlmsgerr, SocketError},
    nl::NlPayload,
    socket::synchronous::NlSocketHandle,
    utils::Groups,
};

use crate::msg::{self, Genl, Msg, Request};
use crate::uapi;

/// How a request failed.
#[derive(Debug)]
pub enum Error {
    /// The controller knows no family `vhost_zc`.
    FamilyNotFound,
    /// The kernel refused: a positive errno and its extack message.
    Kernel { errno: i32, msg: Option<String> },
    /// The socket failed, or a reply made no sense.
    Other(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Error::FamilyNotFound => write!(
                f,
                "family {} not found: is the module loaded?",
                uapi::FAMILY_NAME
            ),
            Error::Kernel { errno, msg } => {
                // io::Error prints "<strerror> (os error N)": keep the text.
                let s = std::io::Error::from_raw_os_error(*errno).to_string();
                let s = s.split(" (os error").next().unwrap_or(&s).to_string();
                match msg {
                    Some(m) => write!(f, "{s} ({m})"),
                    None => f.write_str(&s),
                }
            }
            Error::Other(s) => f.write_str(s),
        }
    }
}

impl From<SocketError> for Error {
    fn from(e: SocketError) -> Self {
        Error::Other(format!("netlink: {e}"))
    }
}

/// The version of the genetlink controller's protocol (iproute2's genl sends 2 too).
const CTRL_VERSION: u8 = 2;

/// The errno of an unknown generic netlink family (CTRL_CMD_GETFAMILY).
const ENOENT: i32 = 2;

/// A kernel error with its extended ACK's message (NLMSGERR_ATTR_MSG).
fn kernel_error<M>(e: &Nlmsgerr<M>) -> Error {
    let msg = e
        .ext_ack()
        .iter()
        .find(|a| *a.nla_type().nla_type() == NlmsgerrAttr::Msg)
        .map(|a| {
            let p = a.nla_payload().as_ref();
            let end = p.iter().position(|&b| b == 0).unwrap_or(p.len());
            String::from_utf8_lossy(&p[..end]).into_owned()
        });
    Error::Kernel {
        errno: -*e.error(),
        msg,
    }
}

/// What one received message means for the request `seq` from `pid`.
#[derive(Debug)]
enum Step {
    Reply(Genl),
    Done,
    Fail(Error),
    /// Not ours, or nothing to act on.
    Skip,
}

fn step(r: &Msg, seq: u32, pid: u32, dump: bool) -> Step {
    if *r.nl_seq() != seq || (*r.nl_pid() != pid && *r.nl_pid() != 0) {
        return Step::Skip; // a stale reply
    }
    match r.nl_payload() {
        NlPayload::Payload(g) => Step::Reply(g.clone()),
        NlPayload::Err(e) => Step::Fail(kernel_error(e)),
        NlPayload::DumpExtAck(e) if *e.error() != 0 => Step::Fail(kernel_error(e)),
        NlPayload::Ack(_) | NlPayload::DumpExtAck(_) => Step::Done,
        NlPayload::Empty if dump => Step::Done,
        NlPayload::Empty => Step::Skip,
    }
}

/// A generic netlink socket talking to the vhost_zc family.
pub struct Conn {
    sock: NlSocketHandle,
    family: u16,
    seq: u32,
}

impl Conn {
    pub fn open() -> Result<Self, Error> {
        Self::open_family(uapi::FAMILY_NAME)
    }

    /// A socket for the generic netlink family `name` (tests use others).
    fn open_family(name: &str) -> Result<Self, Error> {
        let sock = NlSocketHandle::connect(NlFamily::Generic, None, Groups::empty())?;
        sock.enable_ext_ack(true)?;
        let mut c = Conn {
            sock,
            family: GenlId::Ctrl.into(),
            seq: 0,
        };
        c.family = c.resolve(name)?;
        Ok(c)
    }

    /// CTRL_CMD_GETFAMILY: the id of family `name`.
    fn resolve(&mut self, name: &str) -> Result<u16, Error> {
        let name = msg::raw_attr(
            u16::from(CtrlAttr::FamilyName),
            format!("{name}\0").into_bytes(),
        );
        let req = msg::genl_msg(
            self.family,
            NlmF::REQUEST | NlmF::ACK,
            self.next_seq(),
            CtrlCmd::Getfamily.into(),
            CTRL_VERSION,
            vec![name],
        );
        let replies = match self.transact(&req) {
            Err(Error::Kernel { errno: ENOENT, .. }) => return Err(Error::FamilyNotFound),
            r => r?,
        };
        let id = replies
            .iter()
            .flat_map(|g| g.attrs().iter())
            .find(|a| *a.nla_type().nla_type() == u16::from(CtrlAttr::FamilyId));
        match id.map(|a| a.nla_payload().as_ref()) {
            Some(&[a, b]) => Ok(u16::from_ne_bytes([a, b])),
            _ => Err(Error::Other(
                "the genetlink controller's reply has no family id".into(),
            )),
        }
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Send a vhost_zc request; the replies in order (none for bind/unbind).
    pub fn request(&mut self, req: &Request) -> Result<Vec<Genl>, Error> {
        let seq = self.next_seq();
        let m = msg::encode(req, self.family, seq);
        self.transact(&m)
    }

    fn transact(&mut self, m: &Msg) -> Result<Vec<Genl>, Error> {
        self.sock.send(m)?;
        let (seq, pid) = (*m.nl_seq(), self.sock.pid());
        let dump = m.nl_flags().contains(NlmF::DUMP);
        let mut out = Vec::new();
        loop {
            let (iter, _) = self.sock.recv::<u16, Genl>()?;
            for r in iter {
                match step(&r?, seq, pid, dump) {
                    Step::Reply(g) => out.push(g),
                    Step::Done => return Ok(out),
                    Step::Fail(e) => return Err(e),
                    Step::Skip => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nlattr(ty: u16, payload: &[u8]) -> Vec<u8> {
        let len = 4 + payload.len();
        let mut v = (len as u16).to_ne_bytes().to_vec();
        v.extend(ty.to_ne_bytes());
        v.extend(payload);
        v.resize(len.next_multiple_of(4), 0);
        v
    }

    fn nlmsg(ty: u16, flags: u16, seq: u32, pid: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = ((16 + payload.len()) as u32).to_ne_bytes().to_vec();
        v.extend(ty.to_ne_bytes());
        v.extend(flags.to_ne_bytes());
        v.extend(seq.to_ne_bytes());
        v.extend(pid.to_ne_bytes());
        v.extend(payload);
        v
    }

    /// NLMSG_ERROR for the bind of tap0 (the request echoed, as without
    /// NETLINK_CAP_ACK), with NLM_F_ACK_TLVS and an extack message.
    fn bind_error(errno: i32, text: &[u8]) -> Vec<u8> {
        let req = Request::Bind {
            tap: "tap0".parse().unwrap(),
            vf: "0000:01:10.0".parse().unwrap(),
            mac: None,
        };
        let mut p = (-errno).to_ne_bytes().to_vec();
        p.extend(msg::to_bytes(&msg::encode(&req, 0x1d, 5)));
        p.extend(nlattr(1, text));
        p.extend(nlattr(2, &36u32.to_ne_bytes())); // NLMSGERR_ATTR_OFFS
        nlmsg(2, 0x200, 5, 77, &p)
    }

    #[test]
    fn error_with_extack() {
        let m = msg::from_bytes(&bind_error(
            19,
            b"no tap named 'tap0' in this network namespace\0",
        ))
        .unwrap();
        let Step::Fail(e) = step(&m, 5, 77, false) else {
            panic!("not a failure")
        };
        assert!(matches!(e, Error::Kernel { errno: 19, .. }));
        assert_eq!(
            e.to_string(),
            "No such device (no tap named 'tap0' in this network namespace)"
        );
    }

    #[test]
    fn error_without_extack_and_enoent() {
        let mut p = (-2i32).to_ne_bytes().to_vec();
        p.extend(nlmsg(0x10, 5, 3, 0, &[3, 2, 0, 0]));
        let m = msg::from_bytes(&nlmsg(2, 0x100, 3, 9, &p)).unwrap(); // NLM_F_CAPPED
        let Step::Fail(e) = step(&m, 3, 9, false) else {
            panic!()
        };
        assert!(matches!(
            e,
            Error::Kernel {
                errno: ENOENT,
                msg: None
            }
        ));
        assert_eq!(e.to_string(), "No such file or directory");
        assert_eq!(
            Error::FamilyNotFound.to_string(),
            "family vhost_zc not found: is the module loaded?"
        );
    }

    #[test]
    fn ack_done_and_foreign_messages() {
        let mut ack = 0i32.to_ne_bytes().to_vec();
        ack.extend(nlmsg(0x1d, 5, 4, 0, &[]));
        assert!(matches!(
            step(
                &msg::from_bytes(&nlmsg(2, 0x100, 4, 9, &ack)).unwrap(),
                4,
                9,
                false
            ),
            Step::Done
        ));
        // Another sequence number: skipped.
        assert!(matches!(
            step(
                &msg::from_bytes(&nlmsg(2, 0x100, 3, 9, &ack)).unwrap(),
                4,
                9,
                false
            ),
            Step::Skip
        ));
        // NLMSG_DONE of a dump, NLM_F_MULTI: its int is 0 (done) or an error with extack.
        let done = nlmsg(3, 2, 4, 9, &0i32.to_ne_bytes());
        assert!(matches!(
            step(&msg::from_bytes(&done).unwrap(), 4, 9, true),
            Step::Done
        ));
        let mut p = (-1i32).to_ne_bytes().to_vec();
        p.extend(nlattr(1, b"need CAP_NET_ADMIN\0"));
        let Step::Fail(e) = step(
            &msg::from_bytes(&nlmsg(3, 0x202, 4, 9, &p)).unwrap(),
            4,
            9,
            true,
        ) else {
            panic!()
        };
        assert_eq!(
            e.to_string(),
            "Operation not permitted (need CAP_NET_ADMIN)"
        );
    }

    /// The real controller of this host's kernel: it knows itself
    /// ("nlctrl", GENL_ID_CTRL), not a made-up family, and rejects a name
    /// longer than its policy with an extack message.
    #[test]
    fn real_controller() {
        let c = Conn::open_family("nlctrl").expect("generic netlink socket");
        assert_eq!(c.family, 0x10);
        assert!(matches!(
            Conn::open_family("zcctl_no_such"),
            Err(Error::FamilyNotFound)
        ));
        let long = "x".repeat(40); // GENL_NAMSIZ is 16
        match Conn::open_family(&long) {
            Err(Error::Kernel {
                errno: 22,
                msg: Some(m),
            }) => assert!(!m.is_empty()),
            Err(e) => panic!("expected EINVAL with a message, got {e:?}"),
            Ok(_) => panic!("a 40-byte family name resolved"),
        }
    }
}
