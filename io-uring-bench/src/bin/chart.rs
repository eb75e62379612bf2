//! Turns the CSV that `run.sh` writes into the RESULTS.md tables and the
//! results.svg chart:
//!
//! ```text
//! chart table results.csv > tables.md
//! chart svg results.csv > results.svg
//! ```
//!
//! The CSV has a header line and the columns `profile, workload, lib,
//! variant, user_instr_per_op, wall_ns_per_op, wall_min_ns, wall_max_ns,
//! sys_ns_per_op`; an empty field is a figure that was not measured.
//! `variant` is empty for a library's plain use of a workload, else
//! `batch API`, `fast preset` or `batch API + fast preset` (urix only).
//! `profile` is `bench-lto` (fat LTO, the headline) or `release`.
//!
//! The table is our own code; the chart is drawn by `plotters` (SVG
//! backend): user instructions per op, one panel per profile, one group
//! of bars per workload.

use std::fmt::Write as _;
use std::process::ExitCode;

use plotters::prelude::*;

/// The headline profile, then the other.
const PROFILES: [&str; 2] = ["bench-lto", "release"];
/// The libraries every workload compares.
const PEERS: [&str; 3] = ["io-uring", "rustix-uring", "liburing"];

#[derive(Debug, Clone)]
struct Row {
    profile: String,
    workload: String,
    lib: String,
    variant: String,
    user: Option<f64>,
    wall: Option<f64>,
    wall_min: Option<f64>,
    wall_max: Option<f64>,
    sys: Option<f64>,
}

impl Row {
    /// The bar and row label: the library, and its variant if any.
    fn label(&self) -> String {
        if self.variant.is_empty() {
            self.lib.clone()
        } else {
            format!("{} ({})", self.lib, self.variant)
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
        let [profile, workload, lib, variant, user, wall, wall_min, wall_max, sys] = f[..] else {
            return Err(format!("line {}: expected 9 fields, found {}", i + 1, f.len()));
        };
        rows.push(Row {
            profile: profile.trim().into(),
            workload: workload.trim().into(),
            lib: lib.trim().into(),
            variant: variant.trim().into(),
            user: num(user, i + 1)?,
            wall: num(wall, i + 1)?,
            wall_min: num(wall_min, i + 1)?,
            wall_max: num(wall_max, i + 1)?,
            sys: num(sys, i + 1)?,
        });
    }
    if rows.is_empty() {
        return Err("no rows".into());
    }
    Ok(rows)
}

/// The workloads in first-seen order.
fn workloads(rows: &[Row]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rows {
        if !out.contains(&r.workload) {
            out.push(r.workload.clone());
        }
    }
    out
}

/// The lowest figure of the peer libraries (plain use) in `profile` and
/// `workload`.
fn best_peer(rows: &[Row], profile: &str, workload: &str, get: fn(&Row) -> Option<f64>) -> Option<f64> {
    rows.iter()
        .filter(|r| r.profile == profile && r.workload == workload && r.variant.is_empty())
        .filter(|r| PEERS.contains(&r.lib.as_str()))
        .filter_map(get)
        .min_by(f64::total_cmp)
}

/// The plain urix row of the same profile and workload.
fn plain_urix<'a>(rows: &'a [Row], of: &Row) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.profile == of.profile && r.workload == of.workload && r.lib == "urix" && r.variant.is_empty())
}

fn fmt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.decimals$}"))
}

/// One markdown table per profile, headline first.
fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    for profile in PROFILES {
        let of: Vec<&Row> = rows.iter().filter(|r| r.profile == profile).collect();
        if of.is_empty() {
            continue;
        }
        let title = match profile {
            "bench-lto" => {
                "Fat LTO (`--profile bench-lto`: lto = \"fat\", codegen-units = 1, panic = \"abort\"; C: -O2 -flto)"
            }
            _ => "Default release profile (`--release`: thin local LTO, 16 codegen units, unwind; C: -O2)",
        };
        let _ = writeln!(out, "### {title}\n");
        out.push_str(
            "| workload | lib | user instr/op | / best peer | wall ns/op (median) | wall min–max | / urix plain | sys ns/op |\n",
        );
        out.push_str("|---|---|--:|--:|--:|--:|--:|--:|\n");
        for r in of {
            let best = best_peer(rows, profile, &r.workload, |r| r.user);
            let ratio = r.user.zip(best).map(|(u, b)| u / b);
            let plain = plain_urix(rows, r).and_then(|p| p.wall);
            let vs_plain = if r.lib == "urix" { r.wall.zip(plain).map(|(w, p)| w / p) } else { None };
            let spread = match (r.wall_min, r.wall_max) {
                (Some(a), Some(b)) => format!("{a:.1}–{b:.1}"),
                _ => "n/a".into(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                r.workload,
                r.label(),
                fmt(r.user, 1),
                fmt(ratio, 2),
                fmt(r.wall, 1),
                spread,
                if r.lib == "urix" { fmt(vs_plain, 2) } else { String::new() },
                fmt(r.sys, 1),
            );
        }
        out.push('\n');
    }
    out
}

/// The bar colours, by label, in a fixed order so both panels agree.
fn colour(i: usize) -> RGBColor {
    const C: [RGBColor; 8] = [
        RGBColor(0x1f, 0x77, 0xb4),
        RGBColor(0x17, 0xbe, 0xcf),
        RGBColor(0x2c, 0xa0, 0x2c),
        RGBColor(0x98, 0xdf, 0x8a),
        RGBColor(0xff, 0x7f, 0x0e),
        RGBColor(0xd6, 0x27, 0x28),
        RGBColor(0x94, 0x67, 0xbd),
        RGBColor(0x7f, 0x7f, 0x7f),
    ];
    C[i % C.len()]
}

/// The chart: user instructions per op, a panel per profile.
fn svg(rows: &[Row]) -> Result<String, String> {
    let workloads = workloads(rows);
    let mut labels: Vec<String> = Vec::new();
    for r in rows {
        if !labels.contains(&r.label()) {
            labels.push(r.label());
        }
    }
    let max = rows.iter().filter_map(|r| r.user).fold(0.0f64, f64::max) * 1.15;
    let profiles: Vec<&str> = PROFILES.into_iter().filter(|p| rows.iter().any(|r| r.profile == *p)).collect();
    let (width, panel) = (1100u32, 380u32);
    let height = panel * profiles.len() as u32 + 40 + 22 * labels.len().div_ceil(4) as u32;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (legend, panels) = root.split_vertically(height - panel * profiles.len() as u32);
        let slots = workloads.len() * (labels.len() + 1);
        for (area, profile) in panels.split_evenly((profiles.len(), 1)).iter().zip(&profiles) {
            let caption = match *profile {
                "bench-lto" => "user instructions per op, fat LTO (bench-lto) — headline",
                _ => "user instructions per op, default release profile",
            };
            let mut chart = ChartBuilder::on(area)
                .caption(caption, ("sans-serif", 18))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(50)
                .build_cartesian_2d(0..slots, 0.0..max)
                .map_err(|e| e.to_string())?;
            let names = workloads.clone();
            let per = labels.len() + 1;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(workloads.len() * 2 + 1)
                .x_label_formatter(&|x| {
                    if x % per == per / 2 {
                        names.get(x / per).cloned().unwrap_or_default()
                    } else {
                        String::new()
                    }
                })
                .y_desc("user instr/op")
                .draw()
                .map_err(|e| e.to_string())?;
            for (w, workload) in workloads.iter().enumerate() {
                for (l, label) in labels.iter().enumerate() {
                    let Some(r) =
                        rows.iter().find(|r| r.profile == *profile && &r.workload == workload && &r.label() == label)
                    else {
                        continue;
                    };
                    let Some(v) = r.user else { continue };
                    let x = w * per + l;
                    chart
                        .draw_series(std::iter::once(Rectangle::new([(x, 0.0), (x + 1, v)], colour(l).filled())))
                        .map_err(|e| e.to_string())?;
                    chart
                        .draw_series(std::iter::once(Text::new(
                            format!("{v:.0}"),
                            (x, v + max * 0.01),
                            ("sans-serif", 10),
                        )))
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        for (l, label) in labels.iter().enumerate() {
            let (x, y) = (20 + 270 * (l % 4) as i32, 10 + 22 * (l / 4) as i32);
            legend.draw(&Rectangle::new([(x, y), (x + 14, y + 14)], colour(l).filled())).map_err(|e| e.to_string())?;
            legend.draw(&Text::new(label.clone(), (x + 20, y + 1), ("sans-serif", 13))).map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, path) = match &args[..] {
        [mode, path] if mode == "table" || mode == "svg" => (mode.as_str(), path),
        _ => {
            eprintln!("usage: chart {{table|svg}} RESULTS.csv");
            return ExitCode::from(2);
        }
    };
    let rows = match std::fs::read_to_string(path).map_err(|e| e.to_string()).and_then(|s| parse(&s)) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("chart: {path}: {e}");
            return ExitCode::from(1);
        }
    };
    let text = if mode == "table" { Ok(table(&rows)) } else { svg(&rows) };
    match text {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("chart: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str =
        "profile,workload,lib,variant,user_instr_per_op,wall_ns_per_op,wall_min_ns,wall_max_ns,sys_ns_per_op
bench-lto,nop-batch,urix,,20,100,90,110,50
bench-lto,nop-batch,urix,batch API,10,95,90,99,50
bench-lto,nop-batch,io-uring,,30,120,110,130,50
bench-lto,nop-batch,liburing,,40,,,,
release,nop-batch,urix,,25,100,90,110,50
";

    #[test]
    fn ratios_use_the_best_plain_peer() {
        let t = table(&parse(CSV).unwrap());
        assert!(t.contains("| nop-batch | urix (batch API) | 10.0 | 0.33 | 95.0 | 90.0–99.0 | 0.95 |"), "{t}");
        assert!(t.contains("| nop-batch | liburing | 40.0 | 1.33 | n/a | n/a |  | n/a |"), "{t}");
        assert!(t.find("Fat LTO").unwrap() < t.find("Default release").unwrap(), "headline first");
    }

    #[test]
    fn svg_has_a_bar_per_measured_row() {
        let s = svg(&parse(CSV).unwrap()).unwrap();
        assert!(s.starts_with("<svg"), "{}", &s[..60.min(s.len())]);
        // One bar per row with a figure, plus one legend square per label.
        let rects = s.matches("<rect").count();
        assert!(rects >= 5 + 3, "{rects} rects");
        assert!(s.contains("urix (batch API)"));
    }

    #[test]
    fn short_lines_are_refused() {
        assert!(parse("h\nbench-lto,nop-batch,urix\n").is_err());
    }
}
