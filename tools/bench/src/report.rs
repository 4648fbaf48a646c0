// SPDX-License-Identifier: GPL-2.0-only
//! The table, build/bench/results.{json,csv} and the PNG plots.

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;
use serde_json::json;

/// One frame size, both paths.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// Frame bytes.
    pub size: usize,
    /// Host instructions per packet, copy path (callgrind).
    pub copy_instr: Option<f64>,
    /// Host instructions per packet, zero-copy path (callgrind).
    pub zc_instr: Option<f64>,
    /// Tail bytes the CPU moves per zero-copy frame.
    pub tail: Option<u32>,
    /// Native ns per packet (median, min, max), noisy.
    pub copy_ns: Option<(f64, f64, f64)>,
    /// The same, zero-copy.
    pub zc_ns: Option<(f64, f64, f64)>,
    /// BSIZEPACKET the core chose, KiB.
    pub bsize_kib: u8,
    /// Why a path was not measured.
    pub note: String,
}

impl Row {
    fn ratio(&self) -> Option<f64> {
        Some(self.zc_instr? / self.copy_instr?)
    }
}

/// How the numbers were taken.
pub struct Meta {
    pub packets: u64,
    pub warmup: u64,
    pub runs: usize,
    pub native_packets: u64,
    pub buf_len: u32,
    pub queue: u16,
}

fn opt(v: Option<f64>, prec: usize) -> String {
    v.map_or("-".into(), |v| format!("{v:.prec$}"))
}

fn ns(v: Option<(f64, f64, f64)>) -> String {
    v.map_or("-".into(), |(m, lo, hi)| {
        format!("{m:.0} [{lo:.0}..{hi:.0}]")
    })
}

/// The one table.
pub fn table(rows: &[Row], m: &Meta) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "RX, host work per packet; guest: Linux mergeable {} B buffers, queue {}; callgrind: {} packets after {} warm-up; ns: median [min..max] of {} x {} packets (noisy)",
        m.buf_len, m.queue, m.packets, m.warmup, m.runs, m.native_packets
    );
    let _ = writeln!(
        s,
        "{:<4} {:>6} {:>12} {:>12} {:>8} {:>6} {:>6} {:>18} {:>18}",
        "path", "size", "instr copy", "instr zc", "zc/copy", "tail", "bsize", "ns copy", "ns zc"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{:<4} {:>6} {:>12} {:>12} {:>8} {:>6} {:>5}K {:>18} {:>18}{}",
            "rx",
            r.size,
            opt(r.copy_instr, 1),
            opt(r.zc_instr, 1),
            opt(r.ratio(), 3),
            r.tail.map_or("-".into(), |t| t.to_string()),
            r.bsize_kib,
            ns(r.copy_ns),
            ns(r.zc_ns),
            if r.note.is_empty() {
                String::new()
            } else {
                format!("  ({})", r.note)
            }
        );
    }
    s
}

/// results.json and results.csv.
pub fn write_files(dir: &Path, rows: &[Row], m: &Meta) -> Result<(), String> {
    let j = json!({
        "instrument": "valgrind --tool=callgrind, instructions collected in the host functions only",
        "guest": { "layout": "mergeable", "buf_len": m.buf_len, "queue": m.queue },
        "callgrind_packets": m.packets,
        "warmup": m.warmup,
        "native": { "runs": m.runs, "packets": m.native_packets, "note": "noisy: shared machine" },
        "rows": rows.iter().map(|r| json!({
            "path": "rx",
            "size": r.size,
            "instr_copy": r.copy_instr,
            "instr_zc": r.zc_instr,
            "ratio_zc_copy": r.ratio(),
            "tail_bytes": r.tail,
            "bsize_kib": r.bsize_kib,
            "ns_copy": r.copy_ns.map(|(a, b, c)| json!({"median": a, "min": b, "max": c})),
            "ns_zc": r.zc_ns.map(|(a, b, c)| json!({"median": a, "min": b, "max": c})),
            "note": r.note,
        })).collect::<Vec<_>>(),
    });
    let w = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))
    };
    w("results.json", format!("{j:#}\n"))?;
    let mut c = String::from(
        "path,size,instr_copy,instr_zc,ratio_zc_copy,tail_bytes,bsize_kib,ns_copy_median,ns_copy_min,ns_copy_max,ns_zc_median,ns_zc_min,ns_zc_max\n",
    );
    let o = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.2}"));
    for r in rows {
        let _ = writeln!(
            c,
            "rx,{},{},{},{},{},{},{},{},{},{},{},{}",
            r.size,
            o(r.copy_instr),
            o(r.zc_instr),
            r.ratio().map_or(String::new(), |v| format!("{v:.4}")),
            r.tail.map_or(String::new(), |t| t.to_string()),
            r.bsize_kib,
            o(r.copy_ns.map(|v| v.0)),
            o(r.copy_ns.map(|v| v.1)),
            o(r.copy_ns.map(|v| v.2)),
            o(r.zc_ns.map(|v| v.0)),
            o(r.zc_ns.map(|v| v.1)),
            o(r.zc_ns.map(|v| v.2)),
        );
    }
    w("results.csv", c)
}

const FONTS: [&str; 2] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// instr.png (instructions per packet against frame size, both paths, log
/// scales) and ratio.png (zero-copy / copy). Returns the files drawn.
pub fn plots(dir: &Path, rows: &[Row]) -> Result<Vec<String>, String> {
    let font = FONTS
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .ok_or("no DejaVuSans.ttf for the plot labels")?;
    // plotters keeps registered fonts for the life of the process.
    let font: &'static [u8] = Box::leak(font.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, font)
        .map_err(|_| "bad font file")?;

    let xs = |f: &dyn Fn(&Row) -> Option<f64>| -> Vec<(f64, f64)> {
        rows.iter()
            .filter_map(|r| Some((r.size as f64, f(r)?)))
            .collect()
    };
    let copy = xs(&|r| r.copy_instr);
    let zc = xs(&|r| r.zc_instr);
    let ratio = xs(&|r| r.ratio());
    let xmax = rows.iter().map(|r| r.size).max().unwrap_or(1) as f64 * 1.5;
    let ymax = copy.iter().chain(&zc).map(|p| p.1).fold(1.0, f64::max) * 2.0;
    let ymin = copy.iter().chain(&zc).map(|p| p.1).fold(f64::MAX, f64::min) / 2.0;

    // Room above the largest ratio and above 1 (break-even).
    let rmax = ratio.iter().map(|p| p.1).fold(1.0, f64::max) * 1.15;
    let mut files = Vec::new();
    let p = dir.join("instr.png");
    {
        let root = BitMapBackend::new(&p, (900, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut ch = ChartBuilder::on(&root)
            .caption(
                "host instructions per RX packet (callgrind)",
                ("sans-serif", 22),
            )
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d((40f64..xmax).log_scale(), (ymin..ymax).log_scale())
            .map_err(err)?;
        ch.configure_mesh()
            .x_desc("frame bytes")
            .y_desc("instructions / packet")
            .draw()
            .map_err(err)?;
        for (data, colour, name) in [(&copy, RED, "copy"), (&zc, BLUE, "zero-copy")] {
            ch.draw_series(LineSeries::new(
                data.iter().copied(),
                colour.stroke_width(2),
            ))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
            ch.draw_series(data.iter().map(|&pt| Circle::new(pt, 4, colour.filled())))
                .map_err(err)?;
        }
        ch.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    files.push(p.display().to_string());

    let p = dir.join("ratio.png");
    {
        let root = BitMapBackend::new(&p, (900, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut ch = ChartBuilder::on(&root)
            .caption(
                "zero-copy / copy, host instructions per RX packet",
                ("sans-serif", 22),
            )
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d((40f64..xmax).log_scale(), 0f64..rmax)
            .map_err(err)?;
        ch.configure_mesh()
            .x_desc("frame bytes")
            .y_desc("zc / copy")
            .draw()
            .map_err(err)?;
        ch.draw_series(LineSeries::new(ratio.iter().copied(), BLUE.stroke_width(2)))
            .map_err(err)?
            .label("measured")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
        ch.draw_series(ratio.iter().map(|&pt| Circle::new(pt, 4, BLUE.filled())))
            .map_err(err)?;
        ch.draw_series(LineSeries::new(
            [(40f64, 1.0f64), (xmax, 1.0)],
            BLACK.stroke_width(1),
        ))
        .map_err(err)?
        .label("break-even (1.0)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(1)));
        // The goals: 0.5 at 1514 B, 0.1 at 64 KiB.
        ch.draw_series(
            [(1514f64, 0.5f64), (65536f64, 0.1f64)]
                .map(|pt| Cross::new(pt, 7, RED.stroke_width(2))),
        )
        .map_err(err)?
        .label("goal (<= at 1514 B and 64 KiB)")
        .legend(|(x, y)| Cross::new((x + 10, y), 5, RED.stroke_width(2)));
        ch.configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    files.push(p.display().to_string());
    Ok(files)
}
