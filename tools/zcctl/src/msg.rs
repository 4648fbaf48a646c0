// SPDX-License-Identifier: GPL-2.0-only
//! vhost_zc requests and replies: what zcctl sends (typed, validated input
//! encoded into neli messages) and the typed `Port` a reply decodes into.
//! Pure functions: no socket here.

use std::{fmt, io::Cursor, str::FromStr};

use neli::{
    consts::nl::NlmF,
    genl::{AttrTypeBuilder, Genlmsghdr, GenlmsghdrBuilder, Nlattr, NlattrBuilder, NoUserHeader},
    nl::{NlPayload, Nlmsghdr, NlmsghdrBuilder},
    types::{Buffer, GenlBuffer},
    FromBytesWithInput,
};
#[cfg(test)]
use neli::{FromBytes, ToBytes};

use crate::uapi;

/// A generic netlink message with numeric command and attribute types.
pub type Genl = Genlmsghdr<u8, u16, NoUserHeader>;
/// A netlink message carrying a [`Genl`].
pub type Msg = Nlmsghdr<u16, Genl>;

/// A network interface name as the kernel accepts it (1-15 bytes, no '/',
/// no whitespace, not "." or "..": dev_valid_name()).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ifname(String);

impl FromStr for Ifname {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() || s.len() > 15 {
            return Err(format!("'{s}': an interface name has 1 to 15 bytes"));
        }
        if s == "." || s == ".." || s.chars().any(|c| c == '/' || c == ':' || c.is_whitespace()) {
            return Err(format!("'{s}' is not a valid interface name"));
        }
        Ok(Ifname(s.to_string()))
    }
}

impl Ifname {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A PCI address in the kernel's form `dddd:bb:dd.f` (a `bb:dd.f` gets
/// domain 0000), lower-case, as the VF's sysfs name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PciAddr(String);

impl FromStr for PciAddr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a PCI address (dddd:bb:dd.f, e.g. 0000:01:10.0)");
        let full = if s.matches(':').count() == 1 {
            format!("0000:{s}")
        } else {
            s.to_string()
        };
        let (rest, func) = full.split_once('.').ok_or_else(bad)?;
        let parts: Vec<&str> = rest.split(':').collect();
        let hex = |p: &str, n: usize| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit());
        if parts.len() != 3 || !hex(parts[0], 4) || !hex(parts[1], 2) || !hex(parts[2], 2) {
            return Err(bad());
        }
        let dev = u8::from_str_radix(parts[2], 16).map_err(|_| bad())?;
        let f = func.parse::<u8>().map_err(|_| bad())?;
        if func.len() != 1 || dev > 0x1f || f > 7 {
            return Err(bad());
        }
        Ok(PciAddr(full.to_ascii_lowercase()))
    }
}

impl PciAddr {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A guest's unicast MAC address (not multicast, not all zeros).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mac(pub [u8; 6]);

impl FromStr for Mac {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a MAC address (xx:xx:xx:xx:xx:xx)");
        let mut m = [0u8; 6];
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() != 6 {
            return Err(bad());
        }
        for (b, p) in m.iter_mut().zip(parts) {
            if p.len() != 2 {
                return Err(bad());
            }
            *b = u8::from_str_radix(p, 16).map_err(|_| bad())?;
        }
        if m[0] & 1 != 0 {
            return Err(format!(
                "'{s}' is a multicast address; a guest MAC is unicast"
            ));
        }
        if m == [0; 6] {
            return Err(format!("'{s}': the all-zero address is no guest MAC"));
        }
        Ok(Mac(m))
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

/// What zcctl asks the kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Bind {
        tap: Ifname,
        vf: PciAddr,
        mac: Option<Mac>,
    },
    Unbind {
        tap: Ifname,
    },
    /// The doit of port-get: one port.
    Get {
        tap: Ifname,
    },
    /// The dumpit of port-get: every port of the caller's namespace.
    Dump,
}

fn nul_terminated(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

pub fn raw_attr(ty: u16, payload: Vec<u8>) -> Nlattr<u16, Buffer> {
    let ty = AttrTypeBuilder::default()
        .nla_type(ty)
        .build()
        .expect("nla_type is set");
    NlattrBuilder::default()
        .nla_type(ty)
        .nla_payload(Buffer::from(payload))
        .build()
        .expect("type and payload are set")
}

/// A generic netlink message of `family` (the id the controller resolved).
pub fn genl_msg(
    family: u16,
    flags: NlmF,
    seq: u32,
    cmd: u8,
    version: u8,
    attrs: Vec<Nlattr<u16, Buffer>>,
) -> Msg {
    let genl = GenlmsghdrBuilder::<u8, u16, NoUserHeader>::default()
        .cmd(cmd)
        .version(version)
        .attrs(attrs.into_iter().collect::<GenlBuffer<u16, Buffer>>())
        .build()
        .expect("cmd and version are set");
    NlmsghdrBuilder::default()
        .nl_type(family)
        .nl_flags(flags)
        .nl_seq(seq)
        .nl_payload(NlPayload::Payload(genl))
        .build()
        .expect("type, flags and payload are set")
}

/// The request as a netlink message (pid 0: the kernel fills in ours).
pub fn encode(req: &Request, family: u16, seq: u32) -> Msg {
    let tap = |t: &Ifname| raw_attr(uapi::A_PORT_IFNAME, nul_terminated(t.as_str()));
    let (cmd, flags, attrs) = match req {
        Request::Bind { tap: t, vf, mac } => {
            let mut a = vec![
                tap(t),
                raw_attr(uapi::A_PORT_VF, nul_terminated(vf.as_str())),
            ];
            if let Some(m) = mac {
                a.push(raw_attr(uapi::A_PORT_MAC, m.0.to_vec()));
            }
            (uapi::CMD_PORT_BIND, NlmF::REQUEST | NlmF::ACK, a)
        }
        Request::Unbind { tap: t } => (
            uapi::CMD_PORT_UNBIND,
            NlmF::REQUEST | NlmF::ACK,
            vec![tap(t)],
        ),
        Request::Get { tap: t } => (uapi::CMD_PORT_GET, NlmF::REQUEST | NlmF::ACK, vec![tap(t)]),
        Request::Dump => (uapi::CMD_PORT_GET, NlmF::REQUEST | NlmF::DUMP, vec![]),
    };
    genl_msg(family, flags, seq, cmd, uapi::FAMILY_VERSION, attrs)
}

/// The wire bytes of a message (the socket serializes the same way).
#[cfg(test)]
pub fn to_bytes(msg: &Msg) -> Vec<u8> {
    let mut c = Cursor::new(Vec::new());
    msg.to_bytes(&mut c)
        .expect("writing into a Vec cannot fail");
    c.into_inner()
}

/// One message from wire bytes, as neli's socket iterator parses each.
#[cfg(test)]
pub fn from_bytes(bytes: &[u8]) -> Result<Msg, DecodeError> {
    Msg::from_bytes(&mut Cursor::new(bytes))
        .map_err(|e| DecodeError(format!("malformed netlink message: {e}")))
}

/// `mode` and, on the copy path, why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    ZeroCopy,
    Copy(CopyReason),
    /// A mode this zcctl does not know (a newer kernel).
    Unknown(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyReason {
    None,
    Detached,
    Memlock,
    PinFailed,
    VfDown,
    Features,
    Unsupported,
    Unknown(u32),
}

impl CopyReason {
    fn from_u32(v: u32) -> Self {
        match v {
            uapi::COPY_REASON_NONE => CopyReason::None,
            uapi::COPY_REASON_DETACHED => CopyReason::Detached,
            uapi::COPY_REASON_MEMLOCK => CopyReason::Memlock,
            uapi::COPY_REASON_PIN_FAILED => CopyReason::PinFailed,
            uapi::COPY_REASON_VF_DOWN => CopyReason::VfDown,
            uapi::COPY_REASON_FEATURES => CopyReason::Features,
            uapi::COPY_REASON_UNSUPPORTED => CopyReason::Unsupported,
            v => CopyReason::Unknown(v),
        }
    }

    /// The spec's name of the reason.
    pub fn name(self) -> String {
        match self {
            CopyReason::None => "none".into(),
            CopyReason::Detached => "detached".into(),
            CopyReason::Memlock => "memlock".into(),
            CopyReason::PinFailed => "pin-failed".into(),
            CopyReason::VfDown => "vf-down".into(),
            CopyReason::Features => "features".into(),
            CopyReason::Unsupported => "unsupported".into(),
            CopyReason::Unknown(v) => format!("unknown-{v}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MacSource {
    None,
    Configured,
    Learned,
    Unknown(u32),
}

impl MacSource {
    fn from_u32(v: u32) -> Self {
        match v {
            uapi::MAC_SOURCE_NONE => MacSource::None,
            uapi::MAC_SOURCE_CONFIGURED => MacSource::Configured,
            uapi::MAC_SOURCE_LEARNED => MacSource::Learned,
            v => MacSource::Unknown(v),
        }
    }

    pub fn name(self) -> String {
        match self {
            MacSource::None => "none".into(),
            MacSource::Configured => "configured".into(),
            MacSource::Learned => "learned".into(),
            MacSource::Unknown(v) => format!("unknown-{v}"),
        }
    }
}

/// One port of a port-get reply. Attributes the kernel did not send are
/// `None`; attributes this zcctl does not know are ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    pub tap: String,
    pub ifindex: Option<u32>,
    pub vf: Option<String>,
    pub mac: Option<Mac>,
    pub mac_source: Option<MacSource>,
    pub mode: Option<Mode>,
    pub queue_pairs: Option<u32>,
    /// vhost-net rings using the tap.
    pub rings: Option<u32>,
    /// The counters in `uapi::STATS` order.
    pub stats: [Option<u64>; 11],
}

/// A reply zcctl cannot make sense of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(what: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError(what.into()))
}

fn u32_of(name: &str, p: &[u8]) -> Result<u32, DecodeError> {
    match p.try_into() {
        Ok(b) => Ok(u32::from_ne_bytes(b)),
        Err(_) => err(format!("{name}: {} bytes, a u32 has 4", p.len())),
    }
}

/// A YNL `uint` (NLA_UINT): 4 or 8 bytes, host order.
fn uint_of(name: &str, p: &[u8]) -> Result<u64, DecodeError> {
    match p.len() {
        4 => Ok(u32::from_ne_bytes(p.try_into().expect("4 bytes")) as u64),
        8 => Ok(u64::from_ne_bytes(p.try_into().expect("8 bytes"))),
        n => err(format!("{name}: {n} bytes, a uint has 4 or 8")),
    }
}

/// A NUL-terminated string attribute.
fn string_of(name: &str, p: &[u8]) -> Result<String, DecodeError> {
    let s = match p.iter().position(|&b| b == 0) {
        Some(n) => &p[..n],
        None => p,
    };
    String::from_utf8(s.to_vec()).or_else(|_| err(format!("{name}: not UTF-8")))
}

fn attrs_of(name: &str, p: &[u8]) -> Result<GenlBuffer<u16, Buffer>, DecodeError> {
    GenlBuffer::from_bytes_with_input(&mut Cursor::new(p), p.len())
        .or_else(|e| err(format!("{name}: malformed nested attributes: {e}")))
}

fn decode_stats(p: &[u8]) -> Result<[Option<u64>; 11], DecodeError> {
    let mut s = [None; 11];
    for a in attrs_of("stats", p)?.iter() {
        let ty = *a.nla_type().nla_type() as usize;
        if (1..=s.len()).contains(&ty) {
            s[ty - 1] = Some(uint_of(uapi::STATS[ty - 1], a.nla_payload().as_ref())?);
        }
    }
    Ok(s)
}

/// A port from the attributes of one port-get reply.
pub fn decode_port(genl: &Genl) -> Result<Port, DecodeError> {
    let (mut tap, mut ifindex, mut vf, mut mac, mut mac_source) = (None, None, None, None, None);
    let (mut mode, mut reason, mut queue_pairs, mut stats) = (None, None, None, [None; 11]);
    let mut rings = None;
    for a in genl.attrs().iter() {
        let p = a.nla_payload().as_ref();
        match *a.nla_type().nla_type() {
            uapi::A_PORT_IFNAME => tap = Some(string_of("ifname", p)?),
            uapi::A_PORT_IFINDEX => ifindex = Some(u32_of("ifindex", p)?),
            uapi::A_PORT_VF => vf = Some(string_of("vf", p)?),
            uapi::A_PORT_MAC => match <[u8; 6]>::try_from(p) {
                Ok(m) => mac = Some(Mac(m)),
                Err(_) => return err(format!("mac: {} bytes, a MAC has 6", p.len())),
            },
            uapi::A_PORT_MAC_SOURCE => {
                mac_source = Some(MacSource::from_u32(u32_of("mac-source", p)?))
            }
            uapi::A_PORT_MODE => mode = Some(u32_of("mode", p)?),
            uapi::A_PORT_COPY_REASON => {
                reason = Some(CopyReason::from_u32(u32_of("copy-reason", p)?))
            }
            uapi::A_PORT_QUEUE_PAIRS => queue_pairs = Some(u32_of("queue-pairs", p)?),
            uapi::A_PORT_STATS => stats = decode_stats(p)?,
            uapi::A_PORT_RINGS => rings = Some(u32_of("rings", p)?),
            _ => {} // a newer kernel's attribute
        }
    }
    let Some(tap) = tap else {
        return err("a port without ifname in the reply");
    };
    let mode = mode.map(|m| match m {
        uapi::MODE_ZERO_COPY => Mode::ZeroCopy,
        uapi::MODE_COPY => Mode::Copy(reason.unwrap_or(CopyReason::None)),
        v => Mode::Unknown(v),
    });
    Ok(Port {
        tap,
        ifindex,
        vf,
        mac,
        mac_source,
        mode,
        queue_pairs,
        rings,
        stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAMILY: u16 = 0x1d;

    fn nlattr(ty: u16, payload: &[u8]) -> Vec<u8> {
        let len = 4 + payload.len();
        let mut v = (len as u16).to_ne_bytes().to_vec();
        v.extend(ty.to_ne_bytes());
        v.extend(payload);
        v.resize(len.next_multiple_of(4), 0);
        v
    }

    /// nlmsghdr + genlmsghdr + attrs, by hand.
    fn message(ty: u16, flags: u16, seq: u32, cmd: u8, attrs: &[u8]) -> Vec<u8> {
        let len = 16 + 4 + attrs.len();
        let mut v = (len as u32).to_ne_bytes().to_vec();
        v.extend(ty.to_ne_bytes());
        v.extend(flags.to_ne_bytes());
        v.extend(seq.to_ne_bytes());
        v.extend(0u32.to_ne_bytes());
        v.extend([cmd, 1, 0, 0]);
        v.extend(attrs);
        v
    }

    #[test]
    fn bind_bytes() {
        let req = Request::Bind {
            tap: "tap0".parse().unwrap(),
            vf: "0000:01:10.0".parse().unwrap(),
            mac: Some("52:54:00:12:34:56".parse().unwrap()),
        };
        let bytes = to_bytes(&encode(&req, FAMILY, 7));
        #[rustfmt::skip]
        let want: Vec<u8> = [
            &64u32.to_ne_bytes()[..], &FAMILY.to_ne_bytes(), &5u16.to_ne_bytes(), // REQUEST|ACK
            &7u32.to_ne_bytes(), &0u32.to_ne_bytes(),
            &[1, 1, 0, 0], // port-bind, version 1
            &9u16.to_ne_bytes(), &1u16.to_ne_bytes(), b"tap0\0", &[0, 0, 0],
            &17u16.to_ne_bytes(), &3u16.to_ne_bytes(), b"0000:01:10.0\0", &[0, 0, 0],
            &10u16.to_ne_bytes(), &4u16.to_ne_bytes(), &[0x52, 0x54, 0, 0x12, 0x34, 0x56], &[0, 0],
        ]
        .concat();
        assert_eq!(bytes, want);
    }

    #[test]
    fn bind_without_mac_bytes() {
        let req = Request::Bind {
            tap: "t".parse().unwrap(),
            vf: "01:10.1".parse().unwrap(),
            mac: None,
        };
        let attrs = [nlattr(1, b"t\0"), nlattr(3, b"0000:01:10.1\0")].concat();
        assert_eq!(
            to_bytes(&encode(&req, FAMILY, 1)),
            message(FAMILY, 5, 1, 1, &attrs)
        );
    }

    #[test]
    fn unbind_get_dump_bytes() {
        let tap: Ifname = "vnet12".parse().unwrap();
        let a = nlattr(1, b"vnet12\0");
        assert_eq!(
            to_bytes(&encode(&Request::Unbind { tap: tap.clone() }, FAMILY, 2)),
            message(FAMILY, 5, 2, 2, &a)
        );
        assert_eq!(
            to_bytes(&encode(&Request::Get { tap }, FAMILY, 3)),
            message(FAMILY, 5, 3, 3, &a)
        );
        // NLM_F_REQUEST | NLM_F_DUMP (0x300), no attributes.
        let dump = to_bytes(&encode(&Request::Dump, FAMILY, 4));
        assert_eq!(dump, message(FAMILY, 0x301, 4, 3, &[]));
        assert_eq!(dump.len(), 20);
    }

    fn full_reply() -> Vec<u8> {
        let stats = [
            nlattr(1, &1000u64.to_ne_bytes()),
            nlattr(2, &1_514_000u64.to_ne_bytes()),
            nlattr(3, &7u32.to_ne_bytes()), // a 4-byte uint
            nlattr(4, &3u32.to_ne_bytes()),
            nlattr(5, &0u32.to_ne_bytes()),
            nlattr(6, &(1u64 << 40).to_ne_bytes()),
            nlattr(7, &5u32.to_ne_bytes()),
            nlattr(8, &6u32.to_ne_bytes()),
            nlattr(9, &256u32.to_ne_bytes()),
            nlattr(10, &131_072u64.to_ne_bytes()),
            nlattr(11, &536_870_912u64.to_ne_bytes()),
            nlattr(99, &[1, 2, 3]), // unknown counter
        ]
        .concat();
        let attrs = [
            nlattr(1, b"tap0\0"),
            nlattr(2, &12u32.to_ne_bytes()),
            nlattr(3, b"0000:01:10.0\0"),
            nlattr(4, &[0x52, 0x54, 0, 0x12, 0x34, 0x56]),
            nlattr(5, &1u32.to_ne_bytes()),
            nlattr(6, &1u32.to_ne_bytes()),
            nlattr(7, &0u32.to_ne_bytes()),
            nlattr(8, &1u32.to_ne_bytes()),
            nlattr(10, &2u32.to_ne_bytes()),
            nlattr(42, b"from the future"), // unknown attribute
            nlattr(9 | 0x8000, &stats),     // NLA_F_NESTED
        ]
        .concat();
        message(FAMILY, 2, 9, 3, &attrs) // NLM_F_MULTI, as in a dump
    }

    #[test]
    fn decodes_a_port() {
        let m = from_bytes(&full_reply()).unwrap();
        let NlPayload::Payload(g) = m.nl_payload() else {
            panic!("not a payload")
        };
        let p = decode_port(g).unwrap();
        assert_eq!(p.tap, "tap0");
        assert_eq!(p.ifindex, Some(12));
        assert_eq!(p.vf.as_deref(), Some("0000:01:10.0"));
        assert_eq!(p.mac.unwrap().to_string(), "52:54:00:12:34:56");
        assert_eq!(p.mac_source, Some(MacSource::Configured));
        assert_eq!(p.mode, Some(Mode::ZeroCopy));
        assert_eq!(p.queue_pairs, Some(1));
        assert_eq!(p.rings, Some(2));
        let want = [
            1000,
            1_514_000,
            7,
            3,
            0,
            1 << 40,
            5,
            6,
            256,
            131_072,
            536_870_912,
        ];
        assert_eq!(p.stats, want.map(Some));
    }

    #[test]
    fn copy_mode_carries_its_reason() {
        let attrs = [
            nlattr(1, b"tap1\0"),
            nlattr(6, &0u32.to_ne_bytes()),
            nlattr(7, &2u32.to_ne_bytes()),
        ]
        .concat();
        let m = from_bytes(&message(FAMILY, 0, 1, 3, &attrs)).unwrap();
        let NlPayload::Payload(g) = m.nl_payload() else {
            panic!()
        };
        let p = decode_port(g).unwrap();
        assert_eq!(p.mode, Some(Mode::Copy(CopyReason::Memlock)));
        assert_eq!((p.vf, p.mac, p.stats), (None, None, [None; 11]));
    }

    #[test]
    fn truncated_reply_is_an_error() {
        let r = full_reply();
        for cut in [r.len() - 1, r.len() - 30, 19, 10] {
            let mut t = r[..cut].to_vec();
            // A header claiming the full length over fewer bytes.
            assert!(from_bytes(&t).is_err(), "cut at {cut}");
            // A header claiming exactly the bytes there, cutting an attribute.
            if cut >= 20 {
                t[..4].copy_from_slice(&(cut as u32).to_ne_bytes());
                let bad = from_bytes(&t).map(|m| match m.nl_payload() {
                    NlPayload::Payload(g) => decode_port(g).is_err(),
                    _ => true,
                });
                assert!(bad.unwrap_or(true), "cut at {cut} decoded");
            }
        }
    }

    #[test]
    fn malformed_attributes_are_errors() {
        let cases: [(Vec<u8>, &str); 4] = [
            (nlattr(2, &[1, 2]), "ifindex"),
            (nlattr(4, &[1, 2, 3, 4, 5]), "mac"),
            (nlattr(9 | 0x8000, &nlattr(1, &[1, 2, 3])), "rx_zc_packets"),
            (nlattr(3, &[0xff, 0xfe, 0]), "vf"),
        ];
        for (a, what) in cases {
            let attrs = [nlattr(1, b"tap0\0"), a].concat();
            let m = from_bytes(&message(FAMILY, 0, 1, 3, &attrs)).unwrap();
            let NlPayload::Payload(g) = m.nl_payload() else {
                panic!()
            };
            let e = decode_port(g).unwrap_err();
            assert!(e.0.contains(what), "{e} should name {what}");
        }
        let m = from_bytes(&message(FAMILY, 0, 1, 3, &nlattr(2, &1u32.to_ne_bytes()))).unwrap();
        let NlPayload::Payload(g) = m.nl_payload() else {
            panic!()
        };
        assert!(decode_port(g).unwrap_err().0.contains("ifname"));
    }

    #[test]
    fn input_types_reject_bad_values() {
        for bad in ["", "a/b", "sixteen-bytes-xx", "a b", ".", "..", "a:b"] {
            assert!(bad.parse::<Ifname>().is_err(), "{bad:?}");
        }
        assert!("fifteen-bytes-x".parse::<Ifname>().is_ok());
        for bad in [
            "01:10",
            "0000:01:10.8",
            "0000:01:20.0",
            "000:01:10.0",
            "0000:1:10.0",
            "0000:01:10.00",
            "zz:10.0",
            "0000:01:10:0",
        ] {
            assert!(bad.parse::<PciAddr>().is_err(), "{bad:?}");
        }
        assert_eq!(
            "0000:AB:1f.7".parse::<PciAddr>().unwrap().as_str(),
            "0000:ab:1f.7"
        );
        assert_eq!(
            "01:10.0".parse::<PciAddr>().unwrap().as_str(),
            "0000:01:10.0"
        );
        for bad in [
            "",
            "52:54:00:12:34",
            "52:54:00:12:34:56:78",
            "52-54-00-12-34-56",
            "52:54:00:12:34:5g",
            "5:54:00:12:34:56",
            "01:00:5e:00:00:01",
            "00:00:00:00:00:00",
            "152:4:00:12:34:56",
        ] {
            assert!(bad.parse::<Mac>().is_err(), "{bad:?}");
        }
        assert_eq!(
            "02:AA:bb:00:00:01".parse::<Mac>().unwrap().0,
            [2, 0xaa, 0xbb, 0, 0, 1]
        );
    }
}
