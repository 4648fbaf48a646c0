// SPDX-License-Identifier: GPL-2.0-only
//! Ethernet addresses: what the VF mailbox, the sysfs controls and (later)
//! the switch all name a port by.

use core::fmt;

/// An Ethernet address in wire order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// All zeroes: what the PF reports when no address is assigned.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }

    /// Group bit (bit 0 of the first octet).
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 != 0
    }

    /// A usable station address: not zero, not multicast/broadcast
    /// (`is_valid_ether_addr`).
    pub fn is_valid_unicast(&self) -> bool {
        !self.is_zero() && !self.is_multicast()
    }

    /// Parses `xx:xx:xx:xx:xx:xx` (hex digits, either case).
    pub fn parse(s: &str) -> Option<MacAddr> {
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for b in out.iter_mut() {
            let p = parts.next()?;
            if p.len() != 2 || !p.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            *b = u8::from_str_radix(p, 16).ok()?;
        }
        if parts.next().is_some() {
            return None;
        }
        Some(MacAddr(out))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// Parses whitespace-separated addresses into `out` and returns how many
/// there were; more than `out` holds, or a malformed one, is `None`.
pub fn parse_mac_list(s: &str, out: &mut [MacAddr]) -> Option<usize> {
    let mut n = 0;
    for w in s.split_whitespace() {
        let slot = out.get_mut(n)?;
        *slot = MacAddr::parse(w)?;
        n += 1;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: MacAddr = MacAddr([0x52, 0x54, 0x00, 0x00, 0x00, 0x10]);

    #[test]
    fn display_and_validity() {
        assert_eq!(format!("{MAC}"), "52:54:00:00:00:10");
        assert!(MAC.is_valid_unicast());
        assert!(!MacAddr([0xff; 6]).is_valid_unicast());
        assert!(!MacAddr::default().is_valid_unicast());
    }

    #[test]
    fn parse_addresses() {
        assert_eq!(MacAddr::parse("52:54:00:00:00:10"), Some(MAC));
        assert_eq!(MacAddr::parse("52:54:00:00:00:1"), None);
        assert_eq!(MacAddr::parse("52:54:00:00:00:10:00"), None);
        assert_eq!(MacAddr::parse("52:54:00:00:00:+1"), None);
        assert_eq!(MacAddr::parse("52-54-00-00-00-10"), None);
        assert_eq!(
            MacAddr::parse("AA:bb:CC:dd:EE:ff"),
            Some(MacAddr([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]))
        );
        let mut out = [MacAddr::default(); 2];
        assert_eq!(
            parse_mac_list(" 01:00:5e:00:00:01\n33:33:00:00:00:01 \n", &mut out),
            Some(2)
        );
        assert_eq!(out[1], MacAddr([0x33, 0x33, 0, 0, 0, 1]));
        assert_eq!(parse_mac_list("", &mut out), Some(0));
        let three = "01:00:5e:00:00:01 01:00:5e:00:00:02 01:00:5e:00:00:03";
        assert_eq!(parse_mac_list(three, &mut out), None);
        assert_eq!(parse_mac_list("01:00:5e:00:00:0g", &mut out), None);
    }
}
