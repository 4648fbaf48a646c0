// SPDX-License-Identifier: GPL-2.0-only
//! Attribute payloads of the `vhost_zc` family, validated once.
//!
//! The kernel's policy tables (rust/glue/vhost_zc_nl.c, generated) already
//! check types and lengths: strings are NUL-terminated within their
//! `max-len`, the MAC is exactly 6 bytes. What they cannot check is meaning:
//! a valid interface name, a PCI address, a unicast MAC. These parsers take
//! the raw payload anyway (they must not trust that the policy ran) and are
//! fuzzed (`rust/vzc_core/fuzz`).

use core::fmt;

use super::super::errno::EINVAL;
use super::super::net::eth::MacAddr;
use super::Refusal;

/// Attribute numbers of the `port` set (include/uapi/linux/vhost_zc.h).
pub mod id {
    /// `VHOST_ZC_A_PORT_IFNAME`
    pub const IFNAME: u16 = 1;
    /// `VHOST_ZC_A_PORT_IFINDEX`
    pub const IFINDEX: u16 = 2;
    /// `VHOST_ZC_A_PORT_VF`
    pub const VF: u16 = 3;
    /// `VHOST_ZC_A_PORT_MAC`
    pub const MAC: u16 = 4;
    /// `VHOST_ZC_A_PORT_MAC_SOURCE`
    pub const MAC_SOURCE: u16 = 5;
    /// `VHOST_ZC_A_PORT_MODE`
    pub const MODE: u16 = 6;
    /// `VHOST_ZC_A_PORT_COPY_REASON`
    pub const COPY_REASON: u16 = 7;
    /// `VHOST_ZC_A_PORT_QUEUE_PAIRS`
    pub const QUEUE_PAIRS: u16 = 8;
    /// `VHOST_ZC_A_PORT_STATS`
    pub const STATS: u16 = 9;
    /// `VHOST_ZC_A_PORT_RINGS`
    pub const RINGS: u16 = 10;
}

/// `IFNAMSIZ`: interface names are at most 15 bytes plus the NUL.
pub const IFNAMSIZ: usize = 16;

/// The bytes of a NUL-terminated string payload, without the NUL; `None`
/// if there is no NUL (a payload the policy should have refused).
fn nul_terminated(payload: &[u8]) -> Option<&[u8]> {
    let end = payload.iter().position(|&b| b == 0)?;
    Some(&payload[..end])
}

/// A network interface name as the kernel accepts one (`dev_valid_name`):
/// 1 to 15 bytes, not `.` or `..`, no `/`, `:` or whitespace.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TapName {
    bytes: [u8; IFNAMSIZ],
    len: u8,
}

impl TapName {
    /// From the payload of `ifname` (a NUL-terminated string).
    pub fn from_payload(payload: &[u8]) -> Result<TapName, Refusal> {
        let bad = Refusal::at(EINVAL, id::IFNAME, c"ifname is not a valid interface name");
        let s = nul_terminated(payload).ok_or(bad)?;
        if s.is_empty() || s.len() >= IFNAMSIZ || s == b"." || s == b".." {
            return Err(bad);
        }
        if s.iter().any(|&b| {
            b == b'/' || b == b':' || b.is_ascii_whitespace() || !(0x20..0x7f).contains(&b)
        }) {
            return Err(bad);
        }
        let mut bytes = [0u8; IFNAMSIZ];
        bytes[..s.len()].copy_from_slice(s);
        Ok(TapName {
            bytes,
            len: s.len() as u8,
        })
    }

    /// The name, without NUL.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The name with its NUL (what the kernel's name lookups take).
    pub fn as_bytes_with_nul(&self) -> &[u8] {
        &self.bytes[..self.len as usize + 1]
    }
}

impl fmt::Debug for TapName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only printable ASCII gets in (from_payload).
        for &b in self.as_bytes() {
            write!(f, "{}", b as char)?;
        }
        Ok(())
    }
}

/// A PCI function address `dddd:bb:dd.f`, as `dev_name()` of a PCI device
/// spells it (`%04x:%02x:%02x.%d`; the domain may be wider than 4 digits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PciAddr {
    /// PCI segment (domain).
    pub domain: u32,
    /// Bus number.
    pub bus: u8,
    /// Device (slot) number, 0..=31.
    pub dev: u8,
    /// Function number, 0..=7.
    pub func: u8,
}

/// Longest canonical [`PciAddr`]: an 8-digit domain + `:bb:dd.f` + NUL.
pub const PCI_ADDR_MAX: usize = 8 + 8 + 1;

fn hex(s: &[u8], min: usize, max: usize) -> Option<u32> {
    if s.len() < min || s.len() > max {
        return None;
    }
    s.iter().try_fold(0u32, |acc, &c| {
        let d = (c as char).to_digit(16)?;
        Some(acc << 4 | d)
    })
}

impl PciAddr {
    /// From the payload of `vf`: exactly `dddd:bb:dd.f` (hex, either case;
    /// 4 to 8 domain digits), NUL-terminated. zcctl expands `bb:dd.f`.
    pub fn from_payload(payload: &[u8]) -> Result<PciAddr, Refusal> {
        let bad = Refusal::at(
            EINVAL,
            id::VF,
            c"vf is not a PCI address of the form dddd:bb:dd.f",
        );
        let s = nul_terminated(payload).ok_or(bad)?;
        let (dom, rest) = split_at_byte(s, b':').ok_or(bad)?;
        let (bus, rest) = split_at_byte(rest, b':').ok_or(bad)?;
        let (dev, func) = split_at_byte(rest, b'.').ok_or(bad)?;
        let domain = hex(dom, 4, 8).ok_or(bad)?;
        let bus = hex(bus, 2, 2).ok_or(bad)? as u8;
        let dev = hex(dev, 2, 2).ok_or(bad)?;
        if func.len() != 1 || !(b'0'..=b'7').contains(&func[0]) || dev > 31 {
            return Err(bad);
        }
        Ok(PciAddr {
            domain,
            bus,
            dev: dev as u8,
            func: func[0] - b'0',
        })
    }

    /// `PCI_DEVFN(dev, func)`.
    pub fn devfn(&self) -> u8 {
        self.dev << 3 | self.func
    }

    /// The canonical spelling (lowercase, as `dev_name()`), NUL-terminated,
    /// in `buf`; returns the bytes without the NUL.
    pub fn write_canonical<'a>(&self, buf: &'a mut [u8; PCI_ADDR_MAX]) -> &'a [u8] {
        let mut w = Cursor { buf, at: 0 };
        // A cursor over a buffer sized for the longest address cannot fail.
        let _ = fmt::write(
            &mut w,
            format_args!(
                "{:04x}:{:02x}:{:02x}.{}",
                self.domain, self.bus, self.dev, self.func
            ),
        );
        let n = w.at;
        w.buf[n] = 0;
        &w.buf[..n]
    }
}

fn split_at_byte(s: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let i = s.iter().position(|&b| b == sep)?;
    Some((&s[..i], &s[i + 1..]))
}

struct Cursor<'a> {
    buf: &'a mut [u8; PCI_ADDR_MAX],
    at: usize,
}

impl fmt::Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.at + s.len();
        // Keep one byte for the NUL.
        if end >= PCI_ADDR_MAX {
            return Err(fmt::Error);
        }
        self.buf[self.at..end].copy_from_slice(s.as_bytes());
        self.at = end;
        Ok(())
    }
}

/// The guest's MAC address as given with `port-bind`: a unicast station
/// address (the VF takes it as its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestMac(MacAddr);

impl GuestMac {
    /// From the payload of `mac` (exactly 6 bytes).
    pub fn from_payload(payload: &[u8]) -> Result<GuestMac, Refusal> {
        let mac: [u8; 6] = payload
            .try_into()
            .map_err(|_| Refusal::at(EINVAL, id::MAC, c"mac must be exactly 6 bytes"))?;
        let mac = MacAddr(mac);
        if !mac.is_valid_unicast() {
            return Err(Refusal::at(
                EINVAL,
                id::MAC,
                c"mac must be a unicast address (not zero, not multicast)",
            ));
        }
        Ok(GuestMac(mac))
    }

    /// The address.
    pub fn addr(&self) -> MacAddr {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tap_names() {
        let t = TapName::from_payload(b"tap0\0").unwrap();
        assert_eq!(t.as_bytes(), b"tap0");
        assert_eq!(t.as_bytes_with_nul(), b"tap0\0");
        assert_eq!(format!("{t:?}"), "tap0");
        // 15 bytes is the longest name; the NUL may be followed by padding.
        assert!(TapName::from_payload(b"abcdefghijklmno\0\0\0").is_ok());
        for bad in [
            &b"abcdefghijklmnop\0"[..],
            b"\0",
            b"tap0",
            b".\0",
            b"..\0",
            b"a/b\0",
            b"a:b\0",
            b"a b\0",
            b"a\tb\0",
            b"\xff\0",
            b"",
        ] {
            let r = TapName::from_payload(bad).unwrap_err();
            assert_eq!((r.errno, r.attr), (EINVAL, Some(id::IFNAME)), "{bad:?}");
        }
    }

    #[test]
    fn pci_addresses() {
        let a = PciAddr::from_payload(b"0000:00:02.0\0").unwrap();
        assert_eq!(
            (a.domain, a.bus, a.dev, a.func, a.devfn()),
            (0, 0, 2, 0, 0x10)
        );
        let b = PciAddr::from_payload(b"0001:1A:1f.7\0").unwrap();
        assert_eq!(
            (b.domain, b.bus, b.dev, b.func, b.devfn()),
            (1, 0x1a, 31, 7, 0xff)
        );
        let mut buf = [0; PCI_ADDR_MAX];
        assert_eq!(b.write_canonical(&mut buf), b"0001:1a:1f.7");
        assert_eq!(buf[12], 0);
        let wide = PciAddr::from_payload(b"ffffffff:ff:1f.7\0").unwrap();
        assert_eq!(wide.write_canonical(&mut buf), b"ffffffff:ff:1f.7");
        for bad in [
            &b"00:02.0\0"[..],
            b"0000:00:02.0",
            b"0000:00:20.0\0",
            b"0000:00:02.8\0",
            b"0000:00:02.00\0",
            b"000:00:02.0\0",
            b"000000000:00:02.0\0",
            b"0000:0:02.0\0",
            b"0000:00:2.0\0",
            b"0000:00:02:0\0",
            b"0000-00:02.0\0",
            b"000g:00:02.0\0",
            b"+000:00:02.0\0",
            b"0000:00:02.0 \0",
        ] {
            let r = PciAddr::from_payload(bad).unwrap_err();
            assert_eq!((r.errno, r.attr), (EINVAL, Some(id::VF)), "{bad:?}");
        }
    }

    #[test]
    fn canonical_round_trips() {
        for (d, b, dev, f) in [
            (0, 0, 0, 0),
            (0xabcd, 0x12, 0x1e, 3),
            (0x10000, 0xff, 31, 7),
        ] {
            let a = PciAddr {
                domain: d,
                bus: b,
                dev,
                func: f,
            };
            let mut buf = [0; PCI_ADDR_MAX];
            let n = a.write_canonical(&mut buf).len();
            assert_eq!(PciAddr::from_payload(&buf[..n + 1]), Ok(a));
        }
    }

    #[test]
    fn guest_macs() {
        let m = GuestMac::from_payload(&[0x52, 0x54, 0, 0x12, 0x34, 0x56]).unwrap();
        assert_eq!(m.addr().0, [0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        for bad in [
            &[0u8; 6][..],
            &[1, 0, 0, 0, 0, 0],
            &[0xff; 6],
            &[0x52; 5],
            &[0x52; 7],
        ] {
            let r = GuestMac::from_payload(bad).unwrap_err();
            assert_eq!((r.errno, r.attr), (EINVAL, Some(id::MAC)), "{bad:?}");
        }
    }
}
