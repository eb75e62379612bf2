//! Turns the CSV that `run.sh` writes into the RESULTS.md table and the
//! results.svg bar chart:
//!
//! ```text
//! chart table results.csv > table.md
//! chart svg results.csv > results.svg
//! ```
//!
//! The CSV has a header line and the columns `workload, lib,
//! user_instr_per_op, kernel_instr_per_op, wall_ns_per_op, sys_ns_per_op`;
//! an empty field is a figure that could not be measured. A workload named
//! `X-fast` is urix's fast preset of `X`: its ratios are taken
//! against the io-uring and rustix-uring rows of `X`, and in the chart it
//! is a bar of its own in `X`'s group.

use std::fmt::Write as _;
use std::process::ExitCode;

struct Row {
    workload: String,
    lib: String,
    user: Option<f64>,
    kernel: Option<f64>,
    wall: Option<f64>,
    sys: Option<f64>,
}

impl Row {
    /// The workload without the `-fast` suffix.
    fn base(&self) -> &str {
        self.workload.strip_suffix("-fast").unwrap_or(&self.workload)
    }

    fn is_fast(&self) -> bool {
        self.workload.ends_with("-fast")
    }

    /// The bar label: the library, marked when it is the fast preset.
    fn series(&self) -> String {
        if self.is_fast() {
            format!("{} (fast preset)", self.lib)
        } else {
            self.lib.clone()
        }
    }
}

fn parse(csv: &str) -> Result<Vec<Row>, String> {
    let num = |field: &str, line: usize| -> Result<Option<f64>, String> {
        let field = field.trim();
        if field.is_empty() || field == "n/a" {
            return Ok(None);
        }
        field.parse::<f64>().map(Some).map_err(|e| format!("line {line}: {field:?}: {e}"))
    };
    let mut rows = Vec::new();
    for (i, line) in csv.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 6 {
            return Err(format!("line {}: {} fields, not 6", i + 1, f.len()));
        }
        rows.push(Row {
            workload: f[0].trim().to_string(),
            lib: f[1].trim().to_string(),
            user: num(f[2], i + 1)?,
            kernel: num(f[3], i + 1)?,
            wall: num(f[4], i + 1)?,
            sys: num(f[5], i + 1)?,
        });
    }
    Ok(rows)
}

/// The value of `get` for `lib` in workload `base` (not its fast preset).
fn reference(rows: &[Row], base: &str, lib: &str, get: fn(&Row) -> Option<f64>) -> Option<f64> {
    rows.iter().find(|r| r.workload == base && r.lib == lib).and_then(get)
}

fn fmt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.decimals$}"))
}

fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str(
        "| workload | lib | user instr/op | kernel instr/op | wall ns/op | sys ns/op | \
         user instr / best of io-uring, rustix-uring | wall / io-uring |\n",
    );
    out.push_str("|---|---|--:|--:|--:|--:|--:|--:|\n");
    for r in rows {
        let best =
            [reference(rows, r.base(), "io-uring", |r| r.user), reference(rows, r.base(), "rustix-uring", |r| r.user)]
                .into_iter()
                .flatten()
                .reduce(f64::min);
        let user_ratio = r.user.zip(best).filter(|(_, b)| *b > 0.0).map(|(u, b)| u / b);
        let wall_ratio =
            r.wall.zip(reference(rows, r.base(), "io-uring", |r| r.wall)).filter(|(_, b)| *b > 0.0).map(|(w, b)| w / b);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.workload,
            r.lib,
            fmt(r.user, 1),
            fmt(r.kernel, 1),
            fmt(r.wall, 1),
            fmt(r.sys, 1),
            fmt(user_ratio, 2),
            fmt(wall_ratio, 2),
        );
    }
    out
}

/// A tick step of 1, 2 or 5 times a power of ten giving about five ticks
/// up to `max`.
fn tick_step(max: f64) -> f64 {
    let raw = (max / 5.0).max(f64::MIN_POSITIVE);
    let pow = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * pow).find(|s| *s >= raw).unwrap_or(10.0 * pow)
}

/// Escapes text for SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn svg(rows: &[Row]) -> String {
    // Groups in first-seen order of the base workloads; series in a fixed
    // order (urix, its fast preset, then the others as they come).
    let mut groups: Vec<&str> = Vec::new();
    let mut series: Vec<String> = Vec::new();
    for r in rows {
        if !groups.contains(&r.base()) {
            groups.push(r.base());
        }
        if !series.contains(&r.series()) {
            series.push(r.series());
        }
    }
    series.sort_by_key(|s| match s.as_str() {
        "urix" => 0,
        s if s.starts_with("urix") => 1,
        "io-uring" => 2,
        "rustix-uring" => 3,
        _ => 4,
    });
    const COLORS: [&str; 5] = ["#1f6fb4", "#7cb4e3", "#e0822b", "#4a9a4a", "#888888"];

    let (left, right, top, bottom) = (70.0, 20.0, 50.0, 90.0);
    let (bar_w, bar_gap, group_gap) = (26.0, 4.0, 34.0);
    let group_w = series.len() as f64 * (bar_w + bar_gap) - bar_gap;
    let plot_w = groups.len() as f64 * (group_w + group_gap) + group_gap;
    let plot_h = 300.0;
    let (width, height) = (left + plot_w + right, top + plot_h + bottom);

    let max = rows.iter().filter_map(|r| r.user).fold(0.0, f64::max);
    let step = tick_step(if max > 0.0 { max } else { 1.0 });
    let top_value = (max / step).ceil().max(1.0) * step;
    let y = |v: f64| top + plot_h - v.max(0.0) / top_value * plot_h;

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="{:.0}" y="24" font-size="15" font-weight="bold">User-space instructions per operation (lower is better)</text>"#,
        left
    );
    // Axis and grid.
    let mut tick = 0.0;
    while tick <= top_value + step / 2.0 {
        let ty = y(tick);
        let _ = writeln!(
            out,
            r##"<line x1="{left:.0}" y1="{ty:.1}" x2="{:.0}" y2="{ty:.1}" stroke="#dddddd"/><text x="{:.0}" y="{:.1}" text-anchor="end">{}</text>"##,
            left + plot_w,
            left - 6.0,
            ty + 4.0,
            tick
        );
        tick += step;
    }
    let _ = writeln!(
        out,
        r#"<line x1="{left:.0}" y1="{top:.0}" x2="{left:.0}" y2="{:.0}" stroke="black"/><line x1="{left:.0}" y1="{:.0}" x2="{:.0}" y2="{:.0}" stroke="black"/>"#,
        top + plot_h,
        top + plot_h,
        left + plot_w,
        top + plot_h
    );
    let _ = writeln!(
        out,
        r#"<text transform="translate(18 {:.0}) rotate(-90)" text-anchor="middle">instructions:u per op</text>"#,
        top + plot_h / 2.0
    );
    // Bars.
    for (g, group) in groups.iter().enumerate() {
        let gx = left + group_gap + g as f64 * (group_w + group_gap);
        // The bars this group has, side by side and centred in its slot.
        let bars: Vec<(usize, f64)> = series
            .iter()
            .enumerate()
            .filter_map(|(s, name)| {
                rows.iter().find(|r| r.base() == *group && r.series() == *name).and_then(|r| r.user).map(|v| (s, v))
            })
            .collect();
        let offset = (series.len() - bars.len()) as f64 * (bar_w + bar_gap) / 2.0;
        for (i, &(s, v)) in bars.iter().enumerate() {
            let name = &series[s];
            let x = gx + offset + i as f64 * (bar_w + bar_gap);
            let (by, bh) = (y(v), top + plot_h - y(v));
            let _ = writeln!(
                out,
                r#"<rect x="{x:.1}" y="{by:.1}" width="{bar_w:.0}" height="{bh:.1}" fill="{}"><title>{} {}: {v:.1}</title></rect>"#,
                COLORS[s.min(COLORS.len() - 1)],
                esc(group),
                esc(name)
            );
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{v:.0}</text>"#,
                x + bar_w / 2.0,
                by - 3.0
            );
        }
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.0}" text-anchor="middle">{}</text>"#,
            gx + group_w / 2.0,
            top + plot_h + 18.0,
            esc(group)
        );
    }
    // Legend.
    let mut lx = left;
    let ly = top + plot_h + 48.0;
    for (s, name) in series.iter().enumerate() {
        let _ = writeln!(
            out,
            r#"<rect x="{lx:.0}" y="{:.0}" width="12" height="12" fill="{}"/><text x="{:.0}" y="{ly:.0}">{}</text>"#,
            ly - 10.0,
            COLORS[s.min(COLORS.len() - 1)],
            lx + 16.0,
            esc(name)
        );
        lx += 24.0 + 7.0 * name.len() as f64;
    }
    out.push_str("</svg>\n");
    out
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, path) = match args.as_slice() {
        [mode, path] if mode == "table" || mode == "svg" => (mode.as_str(), path),
        _ => {
            eprintln!("usage: chart {{table|svg}} RESULTS.csv");
            return ExitCode::from(2);
        }
    };
    let rows = match std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}")).and_then(|s| parse(&s)) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("chart: {e}");
            return ExitCode::from(1);
        }
    };
    print!("{}", if mode == "table" { table(&rows) } else { svg(&rows) });
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "workload,lib,user_instr_per_op,kernel_instr_per_op,wall_ns_per_op,sys_ns_per_op\n\
                       nop-single,urix,20,,300,250\n\
                       nop-single,io-uring,40,,320,260\n\
                       nop-single,rustix-uring,30,,310,255\n\
                       nop-single-fast,urix,18,,240,200\n";

    #[test]
    fn ratios_use_the_base_workload() {
        let t = table(&parse(CSV).unwrap());
        assert!(t.contains("| nop-single | urix | 20.0 | n/a | 300.0 | 250.0 | 0.67 | 0.94 |"), "{t}");
        assert!(t.contains("| nop-single-fast | urix | 18.0 | n/a | 240.0 | 200.0 | 0.60 | 0.75 |"), "{t}");
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(48.0), 10.0);
        assert_eq!(tick_step(130.0), 50.0);
        assert_eq!(tick_step(7.0), 2.0);
    }

    #[test]
    fn svg_has_a_bar_per_row() {
        let s = svg(&parse(CSV).unwrap());
        assert_eq!(s.matches("<rect x=").count(), 4 + 4, "four bars, four legend boxes");
        assert!(s.contains("urix (fast preset)"));
    }
}
