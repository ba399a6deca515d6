//! The output: one `Row` per figure, its formatting, the table, and the machine, compiler,
//! load and commit the figures were measured with (in the table's header and the JSON).

use serde_json::{json, Value};
use std::time::Duration;

/// One line of the table (and one object of the JSON `rows`).
pub(super) struct Row {
    section: &'static str,
    name: String,
    value: f64,
    unit: &'static str,
    /// How the value is shown.
    shown: String,
    target: Option<String>,
    met: Option<bool>,
    note: String,
}

impl Row {
    pub(super) fn new(
        section: &'static str,
        name: impl Into<String>,
        value: f64,
        unit: &'static str,
    ) -> Row {
        Row {
            section,
            name: name.into(),
            value,
            unit,
            shown: format_value(value, unit),
            target: None,
            met: None,
            note: String::new(),
        }
    }
    pub(super) fn target(mut self, target: impl Into<String>, met: bool) -> Row {
        self.target = Some(target.into());
        self.met = Some(met);
        self
    }
    pub(super) fn note(mut self, note: impl Into<String>) -> Row {
        self.note = note.into();
        self
    }
    pub(super) fn json(&self) -> Value {
        json!({
            "section": self.section,
            "name": self.name,
            "value": if self.value.is_finite() { json!(self.value) } else { Value::Null },
            "unit": self.unit,
            "target": self.target,
            "met": self.met,
            "note": self.note,
        })
    }
}

pub(super) fn format_value(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return "-".into();
    }
    let number = if value.abs() >= 1e6 {
        format!("{:.2} M", value / 1e6)
    } else if value.abs() >= 1e4 {
        format!("{:.1} k", value / 1e3)
    } else if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    };
    match unit {
        "x" => format!("{}x", number.replace(' ', "")),
        "%" => format!("{value:.1}%"),
        _ => format!("{number} {unit}").replace("  ", " "),
    }
}

/// The 1-minute load average: other tenants of a shared machine show up here, and in the
/// 2-job sweep and wall-clock figures.
pub(super) fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

pub(super) fn print_table(
    rows: &[Row],
    quick: bool,
    total: Duration,
    load: &(Option<f64>, Option<f64>),
) {
    let name_width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(20);
    let value_width = rows.iter().map(|r| r.shown.len()).max().unwrap_or(0).max(8);
    let target_width = rows
        .iter()
        .map(|r| r.target.as_deref().map_or(0, str::len))
        .max()
        .unwrap_or(0)
        .max(6);
    println!();
    let show = |l: Option<f64>| l.map_or("?".to_string(), |l| format!("{l:.2}"));
    println!(
        "cargo xtask bench{}: {} (rustc {}), {:.0} s, load average {} before, {} after",
        if quick { " --quick" } else { "" },
        machine()["cpu"].as_str().unwrap_or("?"),
        rustc_version(),
        total.as_secs_f64(),
        show(load.0),
        show(load.1)
    );
    println!();
    println!(
        "{:<12} {:<name_width$} {:>value_width$}  {:<target_width$}  {:<6} note",
        "section", "measurement", "value", "target", "met"
    );
    println!(
        "{}",
        "-".repeat(12 + name_width + value_width + target_width + 20 + 30)
    );
    let mut last = "";
    for row in rows {
        let section = if row.section == last { "" } else { row.section };
        last = row.section;
        let met = match row.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "",
        };
        println!(
            "{section:<12} {:<name_width$} {:>value_width$}  {:<target_width$}  {met:<6} {}",
            row.name,
            row.shown,
            row.target.as_deref().unwrap_or(""),
            row.note
        );
    }
}

pub(super) fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    json!({ "cpu": format!("{cpu}, {cores} cores"), "cores": cores, "os": std::env::consts::OS, "rustc": rustc_version() })
}

fn rustc_version() -> String {
    std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .trim_start_matches("rustc ")
                .to_string()
        })
        .unwrap_or_else(|| "?".into())
}

pub(super) fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
