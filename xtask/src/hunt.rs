//! `cargo xtask hunt`: plant each catalogued bug (raft-core's, and the stream layer's in
//! `state_machines::stream::planted`; `sim::planted` is the one list), run ordinary swarm
//! seeds until the first failure, shrink it, and check the correct code over the same seeds.
//! A stream-layer bug runs its seeds with the stream as the state machine. The catalogue's
//! regressions (bugs the simulator found in this project's own core) are reported in a
//! section of their own; the simulator's own regressions (`sim::planted::SimBug`) are hunted
//! by name only. With `--fixture` the shrunk failure becomes the bug's regression fixture.

use crate::shared::{catch_run, check_bundles_and_json, default_jobs, usage_error, Exit};
use clap::Args;
use serde_json::json;
use sim::bundle::{self, Bundle};
use sim::planted::{CatalogueBug, Section};
use sim::{RunOptions, SimConfig, StateMachine};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// The project's target: every planted bug found within this many swarm seeds.
const TARGET_SEEDS: u64 = 1_000;

#[derive(Args)]
pub struct HuntArgs {
    /// Hunt one bug (see --list for names).
    #[arg(long, conflicts_with = "all")]
    bug: Option<String>,
    /// Hunt every bug in the catalogue.
    #[arg(long)]
    all: bool,
    /// What CI runs: every bug, no shrinking, `--seeds` for each (0..1000 by default), and the
    /// correct core over the whole budget; fails on a false positive or on any bug not found
    /// within the budget.
    #[arg(long, conflicts_with_all = ["bug", "all"])]
    ci: bool,
    /// List the catalogue and exit.
    #[arg(long)]
    list: bool,
    /// The seeds tried for each bug, half-open `A..B` (the same meaning as `sweep --seeds`),
    /// in order until the first failure. Another range shows whether the results hold beyond
    /// the seeds they were measured on.
    #[arg(long, value_name = "A..B", default_value = "0..1000")]
    seeds: String,
    /// Worker threads, 1..=1024 (seeds run in parallel, in order of seed).
    #[arg(long, default_value_t = default_jobs() as u64,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    jobs: u64,
    /// Skip shrinking the first failure (faster).
    #[arg(long)]
    no_shrink: bool,
    /// Run every seed of the budget, not only up to the first failure, and report how many
    /// fail: the detection rate, a steadier measure than the first failing seed (one
    /// sample). The correct core then runs the whole budget too.
    #[arg(long, conflicts_with = "ci")]
    rate: bool,
    /// Sticky readers in every seed, 0..=64 (0: none), instead of what each seed draws (about
    /// two seeds in three have half of the clients or more): how many clients keep reading at the node of
    /// their last successful read for a while, even when it was deposed (`sim
    /// --sticky-readers`). Comparing a bug's rate with 0 and with some shows what stickiness
    /// adds; the correct core runs the same seeds.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(0..=64))]
    sticky_readers: Option<u64>,
    /// Write the results as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Directory for the bundles of the first failures, shrunk ones too (made if missing;
    /// checked before the hunt starts).
    #[arg(long, value_name = "DIR", default_value = "target/hunt")]
    bundles: PathBuf,
    /// Write each bug's shrunk first failure as its regression fixture, `DIR/<bug>.json`
    /// (`guards` names the bug): how a fixture that no longer reproduces is re-recorded.
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "fixtures/regressions", conflicts_with_all = ["ci", "no_shrink"])]
    fixture: Option<PathBuf>,
}

/// The configuration seed `seed` draws, with the state machine and the number of sticky
/// readers forced when given.
fn config(seed: u64, state_machine: Option<StateMachine>, sticky: Option<u64>) -> SimConfig {
    let mut config = SimConfig::draw(seed);
    if let Some(m) = state_machine {
        config.state_machine = m;
    }
    if let Some(n) = sticky {
        sim::config::StickyReaders::set(&mut config, n as usize);
    }
    config
}

struct Found {
    seed: u64,
    violation: sim::Violation,
    /// None when the run panicked (there is no report to bundle).
    report: Option<sim::RunReport>,
}

/// Runs seeds `first..first + budget` in order (in parallel), returning the lowest failing
/// seed and how many seeds failed: up to the first failure, or over the whole budget with
/// `every_seed`.
fn hunt_seeds(
    first: u64,
    budget: u64,
    jobs: usize,
    planted: Option<&str>,
    state_machine: Option<StateMachine>,
    sticky: Option<u64>,
    every_seed: bool,
) -> (Option<Found>, u64) {
    let next = AtomicU64::new(first);
    let failing = AtomicU64::new(0);
    let best: Mutex<Option<Found>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= first.saturating_add(budget) {
                    break;
                }
                if !every_seed && best.lock().unwrap().as_ref().is_some_and(|f| f.seed < seed) {
                    break;
                }
                let options = RunOptions {
                    planted_bug: planted.map(str::to_string),
                    ..RunOptions::default()
                };
                let outcome = catch_run(|| sim::run(config(seed, state_machine, sticky), &options));
                let found = match outcome {
                    Ok(report) => report.violation.clone().map(|violation| Found {
                        seed,
                        violation,
                        report: Some(report),
                    }),
                    Err(message) => {
                        let violation = sim::Violation {
                            property: sim::Property::Panic,
                            time: 0,
                            node: None,
                            detail: format!("the run panicked: {message}"),
                        };
                        Some(Found {
                            seed,
                            violation,
                            report: None,
                        })
                    }
                };
                tracing::info!(
                    seed,
                    planted_bug = planted.unwrap_or("none"),
                    "seed {seed}: {}",
                    found.as_ref().map_or("PASS".to_string(), |f| format!(
                        "FAIL {}",
                        f.violation.property
                    ))
                );
                if let Some(found) = found {
                    failing.fetch_add(1, Ordering::Relaxed);
                    let mut best = best.lock().unwrap();
                    if best.as_ref().is_none_or(|f| seed < f.seed) {
                        *best = Some(found);
                    }
                }
            });
        }
    });
    (best.into_inner().unwrap(), failing.into_inner())
}

pub fn hunt_command(args: HuntArgs) -> ExitCode {
    if args.list {
        let mut section = Section::Core;
        for bug in sim::planted::catalogue() {
            if bug.section != section {
                section = bug.section;
                println!("{}:", section.heading());
            }
            match (bug.state_machine, bug.sticky_readers) {
                (Some(m), _) => println!(
                    "{}  (stream layer: runs its seeds with --state-machine {})",
                    bug.name,
                    m.name()
                ),
                (None, Some(n)) => {
                    println!("{}  (runs its seeds with --sticky-readers {n})", bug.name)
                }
                (None, None) if bug.by_name_only => {
                    println!("{}  (by name only: rarer than --all's budget)", bug.name)
                }
                (None, None) => println!("{}", bug.name),
            }
        }
        println!(
            "(mechanism, origin, exposing schedule and property: raft-core/src/planted.rs, \
             sim/src/planted.rs and state-machines/src/stream/planted.rs)"
        );
        return ExitCode::SUCCESS;
    }
    let bugs: Vec<CatalogueBug> = match (&args.bug, args.all || args.ci) {
        (Some(name), _) => match sim::planted::find(name) {
            Some(bug) => vec![bug],
            None => {
                return usage_error(&format!(
                    "unknown bug {name:?}; `cargo xtask hunt --list` shows the catalogue"
                ))
            }
        },
        // Bugs rarer than the 1,000-seed target (the simulator's regressions among them) are
        // hunted by name only; a regression fixture guards each that has one.
        (None, true) => sim::planted::catalogue()
            .into_iter()
            .filter(|b| !b.by_name_only)
            .collect(),
        (None, false) => {
            return usage_error("name a bug with --bug NAME, or hunt them all with --all")
        }
    };
    let (first, end) = match crate::sweep::parse_range(&args.seeds) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    if let Err(e) = check_bundles_and_json(&args.bundles, args.json.as_deref()) {
        return usage_error(&e);
    }
    let jobs = args.jobs as usize;
    let mut write_errors: Vec<String> = Vec::new();
    let mut repros: Vec<(String, String)> = Vec::new();
    let started = Instant::now();
    let mut rows = Vec::new();
    let mut max_seeds_used = 0;
    for bug in &bugs {
        let t = Instant::now();
        let budget = end - first;
        let (found, failing) = hunt_seeds(
            first,
            budget,
            jobs,
            Some(bug.name),
            bug.state_machine,
            args.sticky_readers.or(bug.sticky_readers),
            args.rate,
        );
        if args.rate || args.ci {
            // The correct core then runs the whole budget, not only the seeds the bugs needed.
            max_seeds_used = budget;
        }
        let elapsed = t.elapsed().as_secs_f64();
        let row = match found {
            None => {
                max_seeds_used = max_seeds_used.max(budget);
                eprintln!(
                    "  {:<34} not found in {} seeds ({elapsed:.1}s)",
                    bug.name, budget
                );
                json!({"bug": bug.name, "section": bug.section.key(), "found": false, "seeds": budget, "seconds": elapsed})
            }
            Some(Found {
                seed,
                violation,
                report,
            }) => {
                max_seeds_used = max_seeds_used.max(seed - first + 1);
                let mut row = json!({
                    "bug": bug.name,
                    "section": bug.section.key(),
                    "found": true,
                    "seeds": seed - first + 1,
                    "seed": seed,
                    "property": violation.property.name(),
                    "virtual_time_us": violation.time,
                    "violation": violation.to_string(),
                    "seconds": elapsed,
                });
                let mut flag = bug
                    .state_machine
                    .map_or(String::new(), |m| format!(" --state-machine {}", m.name()));
                if let Some(n) = args.sticky_readers.or(bug.sticky_readers) {
                    flag += &format!(" --sticky-readers {n}");
                }
                let repro = format!("cargo xtask sim --seed {seed}{flag} --plant {}", bug.name);
                row["repro"] = json!(repro);
                repros.push((bug.name.to_string(), repro.clone()));
                if let Some(mut b) = report.as_ref().and_then(|r| Bundle::from_report(r, repro)) {
                    b.written_by = Some(crate::version::written_by());
                    let path = args.bundles.join(format!("{}.json", bug.name));
                    match b.write(&path) {
                        Ok(()) => row["bundle"] = json!(path.display().to_string()),
                        Err(e) => {
                            row["bundle_error"] = json!(e.to_string());
                            write_errors.push(format!("the bundle was not written: {e}"));
                        }
                    }
                    if !args.no_shrink && !args.ci {
                        let before = b.size();
                        let mut shrunk = bundle::shrink(&b, |_| {});
                        shrunk.written_by = b.written_by.clone();
                        let after = shrunk.size();
                        let shrunk_path = args.bundles.join(format!("{}.shrunk.json", bug.name));
                        match shrunk.write(&shrunk_path) {
                            Ok(()) => {
                                row["shrunk_bundle"] = json!(shrunk_path.display().to_string())
                            }
                            Err(e) => {
                                row["shrunk_bundle_error"] = json!(e.to_string());
                                write_errors
                                    .push(format!("the shrunk bundle was not written: {e}"));
                            }
                        }
                        row["before"] = json!(before);
                        row["shrunk"] = json!(after);
                        row["shrunk_property"] = json!(shrunk.violation.property.name());
                        if let Some(dir) = &args.fixture {
                            match write_fixture(dir, bug.name, seed, shrunk) {
                                Ok(path) => row["fixture"] = json!(path.display().to_string()),
                                Err(e) => {
                                    eprintln!("error: {e}");
                                    return ExitCode::from(2);
                                }
                            }
                        }
                    }
                }
                eprintln!(
                    "  {:<34} found at seed {seed} ({} seeds, {:.1}s virtual): {}",
                    bug.name,
                    seed - first + 1,
                    violation.time as f64 / 1e6,
                    violation.property
                );
                row
            }
        };
        let mut row = row;
        if args.rate {
            row["failing_seeds"] = json!(failing);
        }
        rows.push(row);
    }
    // The correct core over the same seeds: any failure is a false positive.
    let t = Instant::now();
    // The stream layer's bugs ran their seeds with the stream: the correct code runs those
    // too.
    let sticky = args.sticky_readers;
    let mut control = hunt_seeds(
        first,
        max_seeds_used.max(1),
        jobs,
        None,
        None,
        sticky,
        false,
    )
    .0;
    let with_stream = bugs.iter().any(|b| b.state_machine.is_some());
    if control.is_none() && with_stream {
        let stream = Some(StateMachine::Stream);
        control = hunt_seeds(
            first,
            max_seeds_used.max(1),
            jobs,
            None,
            stream,
            sticky,
            false,
        )
        .0;
    }
    let control_seconds = t.elapsed().as_secs_f64();

    let mut found_seeds: Vec<u64> = rows
        .iter()
        .filter(|r| r["found"] == true)
        .map(|r| r["seeds"].as_u64().unwrap())
        .collect();
    found_seeds.sort();
    let median = found_seeds.get(found_seeds.len() / 2).copied();
    let missed = rows.iter().filter(|r| r["found"] != true).count();
    // Bugs found, but only beyond the project's 1,000-seed target (with a larger budget).
    let beyond_target: Vec<(&str, u64)> = rows
        .iter()
        .filter(|r| r["found"] == true)
        .filter_map(|r| Some((r["bug"].as_str()?, r["seeds"].as_u64()?)))
        .filter(|&(_, seeds)| seeds > TARGET_SEEDS)
        .collect();
    // The report first: nothing printed after this can lose it.
    if let Some(path) = &args.json {
        let report = json!({
            "build": crate::version::json(),
            "seeds": format!("{first}..{end}"),
            "seeds_budget": end - first,
            "first_seed": first,
            "bugs": rows,
            "median_seeds": median,
            "control": {
                "seeds": max_seeds_used,
                "false_positive": control.as_ref().map(|f| json!({"seed": f.seed, "violation": f.violation.to_string()})),
            },
        });
        let text = serde_json::to_string_pretty(&report).expect("a report serializes");
        if let Err(e) = crate::shared::write_file(path, &text, "report") {
            write_errors.push(e);
        }
    }
    println!(
        "{:<34} {:>6} {:>7} {:<28} {:>10}  {:<25}{}",
        "bug",
        "found",
        "seeds",
        "first property",
        "virtual s",
        "shrunk (nodes/faults/ops)",
        if args.rate { "  failing seeds" } else { "" }
    );
    let mut section = "catalogue";
    for row in &rows {
        let this = row["section"].as_str().unwrap_or("catalogue");
        if this != section {
            section = this;
            let heading = sim::planted::catalogue()
                .into_iter()
                .find(|b| b.section.key() == this)
                .map_or("", |b| b.section.heading());
            println!("{heading}");
        }
        let found = row["found"].as_bool().unwrap_or(false);
        let shrunk = row.get("shrunk").map_or("-".to_string(), |s| {
            format!("{}/{}/{}", s["nodes"], s["faults"], s["client_ops"])
        });
        let rate = row.get("failing_seeds").map_or(String::new(), |failing| {
            format!("  {failing} of {}", end - first)
        });
        let line = format!(
            "{:<34} {:>6} {:>7} {:<28} {:>10}  {:<25}{rate}",
            row["bug"].as_str().unwrap_or("?"),
            if found { "yes" } else { "NO" },
            row["seeds"].as_u64().unwrap_or(0),
            row.get("property").and_then(|p| p.as_str()).unwrap_or("-"),
            row.get("virtual_time_us")
                .and_then(|t| t.as_u64())
                .map_or("-".to_string(), |t| format!("{:.3}", t as f64 / 1e6)),
            shrunk
        );
        println!("{}", line.trim_end());
    }
    let found_of = |section: Section| {
        let of: Vec<_> = rows
            .iter()
            .filter(|r| r["section"] == section.key())
            .collect();
        let found = of.iter().filter(|r| r["found"] == true).count();
        (found, of.len())
    };
    let split = match (found_of(Section::Core), found_of(Section::Regression)) {
        (_, (_, 0)) | ((_, 0), _) => String::new(),
        ((c, cn), (r, rn)) => format!(" ({c}/{cn} of the catalogue, {r}/{rn} regressions)"),
    };
    println!(
        "found {}/{} bugs{split}; median {} seeds to the first failure",
        rows.len() - missed,
        rows.len(),
        median.map_or("-".to_string(), |m| m.to_string())
    );
    match &control {
        None => println!(
            "false positives: none (the correct core passed seeds {first}..{}, {control_seconds:.1}s)",
            first + max_seeds_used
        ),
        Some(f) => println!(
            "FALSE POSITIVE: the correct core fails seed {}: {}",
            f.seed,
            f.violation
        ),
    }
    for (bug, repro) in &repros {
        println!("repro       {bug:<34} {repro}");
    }
    println!("total {:.1}s", started.elapsed().as_secs_f64());
    for (bug, seeds) in &beyond_target {
        println!("beyond the {TARGET_SEEDS}-seed target: {bug} needed {seeds} seeds");
    }
    let mut exit = if missed > 0 || control.is_some() {
        Exit::Fail
    } else {
        Exit::Pass
    };
    for e in &write_errors {
        eprintln!("error: {e}");
        exit = exit.and(Exit::Error);
    }
    exit.into()
}

/// Writes `shrunk`, a shrunk failure of planted bug `bug` first found at `seed`, as that
/// bug's regression fixture `dir/<bug>.json`: it guards `bug`.
fn write_fixture(
    dir: &std::path::Path,
    bug: &str,
    seed: u64,
    mut shrunk: Bundle,
) -> Result<PathBuf, bundle::BundleError> {
    // The bug is named as the one the fixture guards, not planted: a build without the
    // catalogue can still read the fixture and replay it with the correct code.
    shrunk.guards = Some(bug.to_string());
    shrunk.planted_bug = None;
    shrunk.note = format!(
        "Guards the planted bug {bug}: the shrunk first failure of `cargo xtask hunt --bug {bug}` \
         (seed {seed}). With {bug} planted the replay must fail {property}; with the correct \
         code it must pass (sim/tests/regressions.rs). Re-record: cargo xtask hunt --bug {bug} \
         --fixture",
        property = shrunk.violation.property
    );
    let path = dir.join(format!("{bug}.json"));
    shrunk.write(&path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_counts_all_failures_and_first_failure_stops_early() {
        // vote-before-durable fails on every seed (its persist-before-send fires at the
        // first election).
        let (found, failing) = hunt_seeds(0, 12, 2, Some("vote-before-durable"), None, None, true);
        assert_eq!(found.map(|f| f.seed), Some(0));
        assert_eq!(failing, 12);
        let (found, failing) = hunt_seeds(0, 12, 2, Some("vote-before-durable"), None, None, false);
        assert_eq!(found.map(|f| f.seed), Some(0));
        assert!(failing < 12, "{failing}");
    }

    #[test]
    fn the_correct_core_finds_nothing() {
        assert_eq!(hunt_seeds(0, 6, 2, None, None, None, true).1, 0);
    }
}
