//! The HTML view renders in a real browser without script errors, and the Perfetto export is
//! valid trace-event JSON.

use sim::{RunOptions, SimConfig};
use std::process::Command;

fn chromium() -> Option<&'static str> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
}

#[test]
fn html_view_renders_in_headless_chromium_without_script_errors() {
    let Some(browser) = chromium() else {
        // CI installs Chromium (.ci/run); there a missing browser is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "Chromium is not installed; .ci/run installs it"
        );
        eprintln!("skipping: Chromium is not installed (apt-get install chromium)");
        return;
    };
    let mut config = SimConfig::draw(123);
    config.chaos_us = 2_000_000;
    let report = sim::run(
        config,
        &RunOptions {
            keep_trace: true,
            ..Default::default()
        },
    );
    let page = sim::views::html(&report.trace, report.config.nodes, "seed 123", "test");
    let dir = std::env::temp_dir().join(format!("sim-view-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("view.html");
    std::fs::write(&file, page).unwrap();
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", file.display()))
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&output.stdout);
    let status = dom
        .split("<div id=\"status\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or("<no status element>");
    assert!(
        status.starts_with("rendered "),
        "the page did not render: {status}"
    );
    let count: usize = status
        .trim_start_matches("rendered ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no element count in {status:?}"));
    assert!(count > 50, "only {count} elements rendered");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn perfetto_export_is_trace_event_json() {
    let mut config = SimConfig::draw(186);
    config.chaos_us = 1_000_000;
    let report = sim::run(
        config,
        &RunOptions {
            keep_trace: true,
            ..Default::default()
        },
    );
    let text = sim::views::perfetto(&report.trace, report.config.nodes);
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let events = value["traceEvents"].as_array().unwrap();
    for phase in ["M", "X", "s", "f", "i"] {
        assert!(events.iter().any(|e| e["ph"] == phase), "no {phase} events");
    }
    // Every node is a process with a name.
    let named = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "process_name")
        .count();
    assert_eq!(named, report.config.nodes + 1);
}
