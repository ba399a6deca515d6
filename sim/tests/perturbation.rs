//! The perturbation test: the regression fixtures and the hunt's first failures, replayed
//! under each perturbation (`sim::perturbation`), must still fail the same property.
#![cfg(feature = "planted-bugs")]

use sim::bundle::Bundle;
use sim::perturbation::{self, Perturbation};
use sim::{RunOptions, SimConfig};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn regression_bundles() -> Vec<(String, Bundle)> {
    let dir = fixtures().join("regressions");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let mut bundle = Bundle::read(&path).unwrap_or_else(|e| panic!("{e}"));
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            if let Some(bug) = name.strip_prefix("planted-") {
                bundle.planted_bug = Some(bug.to_string());
            }
            (name, bundle)
        })
        .collect()
}

/// Each planted bug's first failing seed, as pinned in `fixtures/pinned/trace-hashes.txt`.
fn hunt_first_failures() -> Vec<(String, Bundle)> {
    let pins = std::fs::read_to_string(fixtures().join("pinned/trace-hashes.txt")).unwrap();
    pins.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("planted ")?;
            let mut words = rest.split(' ');
            let bug = words.next()?.to_string();
            let seed: u64 = words.nth(1)?.parse().ok()?;
            let options = RunOptions {
                planted_bug: Some(bug.clone()),
                ..RunOptions::default()
            };
            let report = sim::run(SimConfig::draw(seed), &options);
            let bundle = Bundle::from_report(&report, format!("seed {seed}"))?;
            Some((format!("hunt {bug} seed {seed}"), bundle))
        })
        .collect()
}

#[test]
fn bundles_survive_perturbations() {
    let mut bundles = regression_bundles();
    bundles.extend(hunt_first_failures());
    let rows = perturbation::survey(&bundles, &Perturbation::ALL);
    for row in &rows {
        let cells: Vec<String> = row
            .outcomes
            .iter()
            .map(|(p, o)| {
                format!(
                    "{}={}",
                    p.map_or("none", |p| p.name()),
                    if o.same_violation {
                        "exact"
                    } else if o.same_property {
                        "property"
                    } else {
                        o.property.map_or("pass", |p| p.name())
                    }
                )
            })
            .collect();
        println!("{:<55} {}", row.name, cells.join(" "));
    }
    for p in std::iter::once(None).chain(Perturbation::ALL.map(Some)) {
        let (property, exact) = perturbation::tally(&rows, p);
        println!(
            "{:<16} same property {property}/{n}, same violation {exact}/{n}",
            p.map_or("unperturbed", |p| p.name()),
            n = rows.len()
        );
    }
}
