// SPDX-License-Identifier: GPL-2.0-only
//! `zcctl show`: an aligned table for people, JSON (`-j`) for scripts. The
//! JSON keys are a contract (Documentation/zcctl.rst): tap, ifindex, vf,
//! mode, copy_reason, mac, mac_source, queue_pairs, rings and the counters by
//! their names in uapi::STATS. Unknown values are null.

use serde_json::{json, Map, Value};

use crate::msg::{Mode, Port};
use crate::uapi;

fn mode_name(m: Mode) -> String {
    match m {
        Mode::ZeroCopy => "zero-copy".into(),
        Mode::Copy(_) => "copy".into(),
        Mode::Unknown(v) => format!("unknown-{v}"),
    }
}

fn port_json(p: &Port) -> Value {
    let mut o = Map::new();
    o.insert("tap".into(), json!(p.tap));
    o.insert("ifindex".into(), json!(p.ifindex));
    o.insert("vf".into(), json!(p.vf));
    o.insert("mode".into(), json!(p.mode.map(mode_name)));
    let reason = match p.mode {
        Some(Mode::Copy(r)) => Some(r.name()),
        _ => None,
    };
    o.insert("copy_reason".into(), json!(reason));
    o.insert("mac".into(), json!(p.mac.map(|m| m.to_string())));
    o.insert("mac_source".into(), json!(p.mac_source.map(|s| s.name())));
    o.insert("queue_pairs".into(), json!(p.queue_pairs));
    o.insert("rings".into(), json!(p.rings));
    for (name, v) in uapi::STATS.iter().zip(p.stats) {
        o.insert((*name).into(), json!(v));
    }
    Value::Object(o)
}

/// A JSON array of the ports, one line.
pub fn json(ports: &[Port]) -> String {
    Value::Array(ports.iter().map(port_json).collect()).to_string()
}

fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

/// One row per port; text columns left-aligned, numbers right-aligned.
pub fn table(ports: &[Port]) -> String {
    let mut head: Vec<String> = ["tap", "vf", "mode", "mac", "qp"]
        .map(String::from)
        .to_vec();
    head.extend(uapi::STATS.iter().map(|s| s.to_string()));
    let text_cols = 4;
    let mut rows = vec![head];
    for p in ports {
        let mode = match p.mode {
            Some(Mode::Copy(r)) if r != crate::msg::CopyReason::None => {
                format!("copy({})", r.name())
            }
            m => or_dash(m.map(mode_name)),
        };
        let mac = match (p.mac, p.mac_source) {
            (Some(m), Some(s)) => format!("{m}({})", s.name()),
            (Some(m), None) => m.to_string(),
            (None, Some(s)) => format!("-({})", s.name()),
            (None, None) => "-".into(),
        };
        let mut r = vec![
            p.tap.clone(),
            or_dash(p.vf.clone()),
            mode,
            mac,
            or_dash(p.queue_pairs),
        ];
        r.extend(p.stats.iter().map(|v| or_dash(*v)));
        rows.push(r);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (s, w))| {
                if c < text_cols {
                    format!("{s:<w$}")
                } else {
                    format!("{s:>w$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{CopyReason, Mac, MacSource};

    fn ports() -> Vec<Port> {
        vec![
            Port {
                tap: "tap0".into(),
                ifindex: Some(12),
                vf: Some("0000:01:10.0".into()),
                mac: Some(Mac([0x52, 0x54, 0, 0x12, 0x34, 0x56])),
                mac_source: Some(MacSource::Learned),
                mode: Some(Mode::ZeroCopy),
                queue_pairs: Some(1),
                rings: Some(2),
                stats: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12_345_678_901].map(Some),
            },
            Port {
                tap: "vnet100".into(),
                ifindex: None,
                vf: Some("0000:01:10.2".into()),
                mac: None,
                mac_source: Some(MacSource::None),
                mode: Some(Mode::Copy(CopyReason::Detached)),
                queue_pairs: Some(0),
                rings: None,
                stats: [None; 11],
            },
        ]
    }

    #[test]
    fn json_keys_and_values() {
        let v: Value = serde_json::from_str(&json(&ports())).unwrap();
        let a = v.as_array().unwrap();
        let keys: Vec<&str> = a[0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut want = vec![
            "tap",
            "ifindex",
            "vf",
            "mode",
            "copy_reason",
            "mac",
            "mac_source",
            "queue_pairs",
            "rings",
        ];
        want.extend([
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
        ]);
        let (mut k, mut w) = (keys.clone(), want.clone());
        k.sort();
        w.sort();
        assert_eq!(k, w);
        assert_eq!(a[0]["mode"], "zero-copy");
        assert_eq!(a[0]["copy_reason"], Value::Null);
        assert_eq!(a[0]["mac"], "52:54:00:12:34:56");
        assert_eq!(a[0]["mac_source"], "learned");
        assert_eq!(a[0]["memlock_bytes"], 12_345_678_901u64);
        assert_eq!(a[0]["rx_zc_packets"], 1);
        assert_eq!(a[1]["mode"], "copy");
        assert_eq!(a[1]["copy_reason"], "detached");
        assert_eq!(a[1]["mac"], Value::Null);
        assert_eq!(a[1]["posted"], Value::Null);
        assert_eq!(a[0]["rings"], 2);
        assert_eq!(a[1]["rings"], Value::Null);
        assert_eq!(json(&[]), "[]");
    }

    #[test]
    fn table_is_aligned() {
        let t = table(&ports());
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[0].starts_with(
                "tap      vf            mode            mac                         qp"
            ),
            "{t}"
        );
        assert!(
            lines[1].starts_with(
                "tap0     0000:01:10.0  zero-copy       52:54:00:12:34:56(learned)   1"
            ),
            "{t}"
        );
        assert!(
            lines[2].starts_with(
                "vnet100  0000:01:10.2  copy(detached)  -(none)                      0"
            ),
            "{t}"
        );
        // Right-aligned counters end in the same column as their header.
        let end = lines[0].find("memlock_bytes").unwrap() + "memlock_bytes".len();
        assert_eq!(&lines[1][end - 11..end], "12345678901");
        assert_eq!(lines[2].len(), end);
        assert!(lines[2].ends_with(" -"));
        assert_eq!(table(&[]).lines().count(), 1);
    }
}
