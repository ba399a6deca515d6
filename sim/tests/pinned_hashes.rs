//! The safety net for changes that must not change behaviour: the trace hashes and verdicts of
//! 300 short swarm seeds, of every regression bundle (with and without the bug it guards), and
//! of every planted bug's first failing seed, compared with `fixtures/pinned/trace-hashes.txt`.
//!
//! A refactor keeps this file green commit by commit. A change that alters behaviour on
//! purpose re-records it and says why in its commit:
//!
//! ```console
//! $ PINNED_UPDATE=1 cargo test -p sim --features planted-bugs --test pinned_hashes
//! $ git diff fixtures/pinned/
//! ```

use sim::bundle::Bundle;
use sim::{RunOptions, RunReport, SimConfig};
use std::path::{Path, PathBuf};

/// Swarm seeds pinned with a short chaos phase (the whole drawn configuration otherwise).
const SEEDS: std::ops::Range<u64> = 0..300;
const CHAOS_US: u64 = 2_000_000;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn pin_file() -> PathBuf {
    fixtures().join("pinned/trace-hashes.txt")
}

/// One pinned line: what ran, its trace hash and its verdict.
fn line(what: &str, report: &RunReport) -> String {
    let verdict = match &report.violation {
        None => "PASS".to_string(),
        Some(v) => format!("FAIL {v}"),
    };
    format!("{what} {:016x} {verdict}", report.trace_hash)
}

fn swarm_lines() -> Vec<String> {
    SEEDS
        .map(|seed| {
            let mut config = SimConfig::draw(seed);
            config.chaos_us = CHAOS_US;
            let report = sim::run(config, &RunOptions::default());
            line(&format!("seed {seed}"), &report)
        })
        .collect()
}

fn regression_bundles() -> Vec<PathBuf> {
    let dir = fixtures().join("regressions");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
}

fn bundle_lines() -> Vec<String> {
    let mut lines = Vec::new();
    for path in regression_bundles() {
        let bundle = Bundle::read(&path).unwrap_or_else(|e| panic!("{e}"));
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let mut correct = bundle.clone();
        correct.planted_bug = None;
        lines.push(line(&format!("bundle {name}"), &correct.run(false)));
        #[cfg(feature = "planted-bugs")]
        if let Some(bug) = &bundle.guards {
            let mut planted = bundle.clone();
            planted.planted_bug = Some(bug.clone());
            lines.push(line(
                &format!("bundle {name} planted {bug}"),
                &planted.run(false),
            ));
        }
    }
    lines
}

/// Each planted bug's first failing swarm seed (the hunt's first failure), run in full:
/// raft-core's with the configuration as drawn, the stream layer's with the stream.
#[cfg(feature = "planted-bugs")]
fn planted_lines(previous: &[String]) -> Vec<String> {
    use raft_core::planted::PlantedBug;
    use state_machines::stream::planted::StreamBug;
    let core = PlantedBug::ALL.into_iter().map(|b| (b.name(), None));
    let stream = StreamBug::ALL
        .into_iter()
        .map(|b| (b.name(), Some(sim::StateMachine::Stream)));
    let mut lines = Vec::new();
    for (name, state_machine) in core.chain(stream) {
        let options = RunOptions {
            planted_bug: Some(name.to_string()),
            ..RunOptions::default()
        };
        let config = |seed| {
            let mut config = SimConfig::draw(seed);
            if let Some(m) = state_machine {
                config.state_machine = m;
            }
            config
        };
        let prefix = format!("planted {name} seed ");
        // Re-check the recorded seed; search for the first failure only when recording.
        let recorded = previous
            .iter()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|rest| rest.split(' ').next())
            .and_then(|s| s.parse::<u64>().ok());
        let seeds: Box<dyn Iterator<Item = u64>> = match recorded {
            Some(seed) if !updating() => Box::new(std::iter::once(seed)),
            // Not found within the seeds searched when recording: nothing is pinned.
            None if !updating() => continue,
            _ => Box::new(0..1_000),
        };
        for seed in seeds {
            let report = sim::run(config(seed), &options);
            if report.violation.is_some() || !updating() {
                lines.push(line(&format!("{prefix}{seed}"), &report));
                break;
            }
        }
    }
    lines
}

fn updating() -> bool {
    std::env::var_os("PINNED_UPDATE").is_some()
}

#[test]
fn trace_hashes_and_verdicts_are_pinned() {
    let previous: Vec<String> = std::fs::read_to_string(pin_file())
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_string)
        .collect();
    let mut actual = swarm_lines();
    actual.extend(bundle_lines());
    #[cfg(feature = "planted-bugs")]
    actual.extend(planted_lines(&previous));

    if updating() {
        if !cfg!(feature = "planted-bugs") {
            panic!("record with --features planted-bugs, or the planted lines are lost");
        }
        let header = "# Trace hashes and verdicts pinned by sim/tests/pinned_hashes.rs.\n\
                      # Re-record: PINNED_UPDATE=1 cargo test -p sim --features planted-bugs --test pinned_hashes\n";
        let path = pin_file();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("{header}{}\n", actual.join("\n"))).unwrap();
        return;
    }

    assert!(
        !previous.is_empty(),
        "{} is missing: record it with PINNED_UPDATE=1",
        pin_file().display()
    );
    // Without the feature (`cargo test -p sim`) the planted lines cannot run: compare the rest.
    let expected: Vec<&String> = previous
        .iter()
        .filter(|l| {
            cfg!(feature = "planted-bugs")
                || !(l.contains(" planted ") || l.starts_with("planted "))
        })
        .collect();
    let mut differences = Vec::new();
    for (i, want) in expected.iter().enumerate() {
        match actual.get(i) {
            Some(got) if got == *want => {}
            got => differences.push(format!(
                "  expected {want}\n  actual   {}",
                got.map_or("(nothing)", |s| s.as_str())
            )),
        }
    }
    if actual.len() > expected.len() {
        for extra in &actual[expected.len()..] {
            differences.push(format!("  unexpected {extra}"));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} pinned runs changed (a behaviour change; if it is meant, re-record with \
         PINNED_UPDATE=1 and say why in the commit):\n{}",
        differences.len(),
        expected.len(),
        differences.join("\n")
    );
}
