// SPDX-License-Identifier: GPL-2.0-only
//! The numbers of the `vhost_zc` generic netlink family, as ynl_gen_c.py
//! derives them from Documentation/netlink/specs/vhost_zc.yaml (enums from 0,
//! attributes and commands from 1). Each constant is declared once, with its
//! name in include/uapi/linux/vhost_zc.h, so the test below catches drift.

macro_rules! uapi {
    ($($(#[$doc:meta])* $c:ident => $rust:ident: $ty:ty = $v:expr;)*) => {
        // All of the ABI, used or not (stats decode by index into STATS).
        $($(#[$doc])* #[allow(dead_code)] pub const $rust: $ty = $v;)*
        /// Every constant with its C name (for the drift test).
        #[cfg(test)]
        pub const ALL: &[(&str, u64)] = &[$((stringify!($c), $v as u64)),*];
    };
}

/// `VHOST_ZC_FAMILY_NAME`.
pub const FAMILY_NAME: &str = "vhost_zc";

uapi! {
    VHOST_ZC_FAMILY_VERSION => FAMILY_VERSION: u8 = 1;

    VHOST_ZC_MODE_COPY => MODE_COPY: u32 = 0;
    VHOST_ZC_MODE_ZERO_COPY => MODE_ZERO_COPY: u32 = 1;

    VHOST_ZC_COPY_REASON_NONE => COPY_REASON_NONE: u32 = 0;
    VHOST_ZC_COPY_REASON_DETACHED => COPY_REASON_DETACHED: u32 = 1;
    VHOST_ZC_COPY_REASON_MEMLOCK => COPY_REASON_MEMLOCK: u32 = 2;
    VHOST_ZC_COPY_REASON_PIN_FAILED => COPY_REASON_PIN_FAILED: u32 = 3;
    VHOST_ZC_COPY_REASON_VF_DOWN => COPY_REASON_VF_DOWN: u32 = 4;
    VHOST_ZC_COPY_REASON_FEATURES => COPY_REASON_FEATURES: u32 = 5;
    VHOST_ZC_COPY_REASON_UNSUPPORTED => COPY_REASON_UNSUPPORTED: u32 = 6;

    VHOST_ZC_MAC_SOURCE_NONE => MAC_SOURCE_NONE: u32 = 0;
    VHOST_ZC_MAC_SOURCE_CONFIGURED => MAC_SOURCE_CONFIGURED: u32 = 1;
    VHOST_ZC_MAC_SOURCE_LEARNED => MAC_SOURCE_LEARNED: u32 = 2;

    VHOST_ZC_A_PORT_IFNAME => A_PORT_IFNAME: u16 = 1;
    VHOST_ZC_A_PORT_IFINDEX => A_PORT_IFINDEX: u16 = 2;
    VHOST_ZC_A_PORT_VF => A_PORT_VF: u16 = 3;
    VHOST_ZC_A_PORT_MAC => A_PORT_MAC: u16 = 4;
    VHOST_ZC_A_PORT_MAC_SOURCE => A_PORT_MAC_SOURCE: u16 = 5;
    VHOST_ZC_A_PORT_MODE => A_PORT_MODE: u16 = 6;
    VHOST_ZC_A_PORT_COPY_REASON => A_PORT_COPY_REASON: u16 = 7;
    VHOST_ZC_A_PORT_QUEUE_PAIRS => A_PORT_QUEUE_PAIRS: u16 = 8;
    VHOST_ZC_A_PORT_STATS => A_PORT_STATS: u16 = 9;
    VHOST_ZC_A_PORT_RINGS => A_PORT_RINGS: u16 = 10;

    VHOST_ZC_A_STATS_RX_ZC_PACKETS => A_STATS_RX_ZC_PACKETS: u16 = 1;
    VHOST_ZC_A_STATS_RX_ZC_BYTES => A_STATS_RX_ZC_BYTES: u16 = 2;
    VHOST_ZC_A_STATS_RX_TAIL_BYTES => A_STATS_RX_TAIL_BYTES: u16 = 3;
    VHOST_ZC_A_STATS_RX_COPY_PACKETS => A_STATS_RX_COPY_PACKETS: u16 = 4;
    VHOST_ZC_A_STATS_RX_FALLBACK => A_STATS_RX_FALLBACK: u16 = 5;
    VHOST_ZC_A_STATS_TX_ZC_PACKETS => A_STATS_TX_ZC_PACKETS: u16 = 6;
    VHOST_ZC_A_STATS_TX_ZC_BYTES => A_STATS_TX_ZC_BYTES: u16 = 7;
    VHOST_ZC_A_STATS_TX_COPY_PACKETS => A_STATS_TX_COPY_PACKETS: u16 = 8;
    VHOST_ZC_A_STATS_POSTED => A_STATS_POSTED: u16 = 9;
    VHOST_ZC_A_STATS_PINNED_PAGES => A_STATS_PINNED_PAGES: u16 = 10;
    VHOST_ZC_A_STATS_MEMLOCK_BYTES => A_STATS_MEMLOCK_BYTES: u16 = 11;

    VHOST_ZC_CMD_PORT_BIND => CMD_PORT_BIND: u8 = 1;
    VHOST_ZC_CMD_PORT_UNBIND => CMD_PORT_UNBIND: u8 = 2;
    VHOST_ZC_CMD_PORT_GET => CMD_PORT_GET: u8 = 3;
}

/// The counters of the `stats` nest, in attribute order (id = index + 1):
/// the names of `zcctl show`'s columns and JSON keys.
pub const STATS: [&str; 11] = [
    "rx_zc_packets",
    "rx_zc_bytes",
    "rx_tail_bytes",
    "rx_copy_packets",
    "rx_fallback",
    "tx_zc_packets",
    "tx_zc_bytes",
    "tx_copy_packets",
    "posted",
    "pinned_pages",
    "memlock_bytes",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// The constants of a YNL uapi header: `#define NAME <int>` and enum
    /// entries (implicitly numbered ones too); `__*_MAX` and `*_MAX` are not
    /// part of the ABI zcctl speaks.
    fn header_constants(text: &str) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        let mut in_enum = false;
        let mut next: Option<u64> = Some(0);
        for line in text.lines().map(str::trim) {
            if line.starts_with("enum") && line.ends_with('{') {
                in_enum = true;
                next = Some(0);
            } else if line.starts_with('}') {
                in_enum = false;
            } else if in_enum && (line.starts_with("VHOST_ZC_") || line.starts_with("__VHOST_ZC_"))
            {
                let entry = line.trim_end_matches(',');
                let (name, value) = match entry.split_once('=') {
                    Some((n, v)) => (n.trim(), v.trim().parse::<u64>().ok()),
                    None => (entry.trim(), next),
                };
                next = value.map(|v| v + 1);
                if !name.starts_with("__") && !name.ends_with("_MAX") {
                    out.insert(name.to_string(), value.expect("enum entry with a value"));
                }
            } else if let Some(rest) = line.strip_prefix("#define VHOST_ZC_") {
                let mut parts = rest.split_whitespace();
                if let (Some(n), Some(Ok(v))) = (parts.next(), parts.next().map(str::parse)) {
                    out.insert(format!("VHOST_ZC_{n}"), v);
                }
            }
        }
        out
    }

    fn check_against(header: &str) {
        let c = header_constants(header);
        assert!(header.contains(&format!("#define VHOST_ZC_FAMILY_NAME\t\"{FAMILY_NAME}\"")));
        let ours: BTreeMap<String, u64> = ALL.iter().map(|(n, v)| (n.to_string(), *v)).collect();
        assert_eq!(ours, c, "src/uapi.rs differs from the header");
    }

    /// The uapi header, as tools/ynl-regen.sh generates it from the spec
    /// (`make check` fails when it is not what the spec generates).
    const GENERATED: &str = include_str!("../../../include/uapi/linux/vhost_zc.h");

    #[test]
    fn matches_the_uapi_header() {
        check_against(GENERATED);
    }

    #[test]
    fn drift_is_caught() {
        let bad = GENERATED.replace("VHOST_ZC_A_PORT_IFNAME = 1", "VHOST_ZC_A_PORT_IFNAME = 2");
        assert!(std::panic::catch_unwind(|| check_against(&bad)).is_err());
        let more = GENERATED.replace(
            "VHOST_ZC_MODE_ZERO_COPY,",
            "VHOST_ZC_MODE_ZERO_COPY,\n\tVHOST_ZC_MODE_NEW,",
        );
        assert!(std::panic::catch_unwind(|| check_against(&more)).is_err());
    }

    #[test]
    fn stats_names_follow_the_attributes() {
        assert_eq!(STATS.len() as u16, A_STATS_MEMLOCK_BYTES);
        for (i, n) in STATS.iter().enumerate() {
            let c = format!("VHOST_ZC_A_STATS_{}", n.to_uppercase());
            assert!(ALL.contains(&(c.as_str(), i as u64 + 1)), "{c}");
        }
    }
}
