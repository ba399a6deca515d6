//! The HTML view as a reader gets it: written by the command line for a failing run and for a
//! scenario, rendered in headless Chromium (installed by .ci/run). The page reports in its
//! status line what a reader should find on screen; the test reads it from the DOM.

use std::path::Path;
use std::process::Command;

fn chromium() -> Option<&'static str> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

/// The page's status line after it rendered in a 1400-pixel-wide window.
fn rendered_status(page: &Path, profile: &Path) -> String {
    let browser = chromium().expect("chromium");
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1400,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&output.stdout);
    dom.split("<div id=\"status\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or("<no status element>")
        .to_string()
}

fn number_before(status: &str, words: &str) -> usize {
    let at = status
        .find(words)
        .unwrap_or_else(|| panic!("{words:?} not in {status:?}"));
    status[..at]
        .split(|c: char| !c.is_ascii_digit())
        .rfind(|s| !s.is_empty())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number before {words:?} in {status:?}"))
}

#[test]
fn failing_runs_and_scenarios_render_legibly_in_chromium() {
    if chromium().is_none() {
        // CI installs Chromium (.ci/run); there a missing browser is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "Chromium is not installed; .ci/run installs it"
        );
        eprintln!("skipping: Chromium is not installed (apt-get install chromium)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("xtask-views-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let xtask = env!("CARGO_BIN_EXE_xtask");

    // A safety violation with clients still waiting: the page opens on it.
    let failing = dir.join("failing.html");
    let status = Command::new(xtask)
        .current_dir(&dir)
        .args([
            "sim",
            "--seed",
            "4",
            "--plant",
            "vote-before-durable",
            "--html",
        ])
        .arg(&failing)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let text = rendered_status(&failing, &dir.join("profile-1"));
    assert!(
        text.starts_with("rendered "),
        "the page did not render: {text}"
    );
    assert!(text.contains("violation in view"), "{text}");
    assert!(
        number_before(&text, " operations pending at the violation") > 0,
        "{text}"
    );
    assert!(number_before(&text, " px wide") <= 1400, "{text}");

    // A scenario: laid out by its steps, as wide as the window.
    let scenario = dir.join("scenario.html");
    let status = Command::new(xtask)
        .current_dir(&dir)
        .args(["scenario", "nrg_leader_transfer", "--html"])
        .arg(&scenario)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let text = rendered_status(&scenario, &dir.join("profile-2"));
    assert!(
        text.starts_with("rendered "),
        "the page did not render: {text}"
    );
    assert_eq!(number_before(&text, " script steps"), 9, "{text}");
    let width = number_before(&text, " px wide");
    assert!((1000..=1400).contains(&width), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
