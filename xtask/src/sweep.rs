//! `sweep`, `replay` and `shrink` (`sweep-merge` is in `merge.rs`).

use crate::flags::{repro, Overrides, Views};
use crate::shared::{
    catch_run, check_bundles_and_json, check_output, default_jobs, usage_error, Exit,
};
use crate::simulate::print_summary;
use clap::Args;
use serde_json::json;
use sim::bundle::{self, Bundle};
use sim::{RunOptions, RunVerdict};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The format of the sweep's `--json` report (2: records the build, the overrides and the
/// unknown verdicts, which `sweep-merge` checks; 3: the damage section counts term/vote
/// copies rewritten, and a write-error section, both summed by `sweep-merge`).
pub const REPORT_FORMAT: u64 = 3;

/// The keys of the report's `damage` section, in the order of `SeedResult::damage`.
pub const DAMAGE_KEYS: [&str; 5] = [
    "nodes_damaged",
    "nodes_repaired",
    "nodes_halted",
    "nodes_stopped",
    "term_vote_copies_rewritten",
];

#[derive(Args)]
pub struct SweepArgs {
    /// Seed range, half-open: `A..B` runs A, A+1, ..., B-1 (the same meaning as `hunt
    /// --seeds`).
    #[arg(long, value_name = "A..B")]
    seeds: String,
    /// Worker threads, 1..=1024; each runs one seed at a time (parallelism is only across
    /// seeds).
    #[arg(long, default_value_t = default_jobs() as u64,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    jobs: u64,
    /// Run only this machine's share of the range: `K/N` takes every seed whose offset in the
    /// range is K modulo N. `N` alone takes K from $JOB_COMPLETION_INDEX (a Kubernetes
    /// Indexed Job); see fixtures/ci/ for a GitHub Actions matrix and a Job manifest.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Write a machine-readable report (merge shards with `sweep-merge`); checked before
    /// the sweep starts.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Directory for the failure bundles (made if missing; checked before the sweep starts).
    #[arg(long, value_name = "DIR", default_value = "target/sim-bundles")]
    bundles: PathBuf,
    #[command(flatten)]
    overrides: Overrides,
}

#[derive(Args)]
pub struct ReplayArgs {
    /// The bundle file.
    bundle: PathBuf,
    /// Replay with the correct code: without the planted bug the bundle recorded or, for a
    /// regression fixture, the bug it guards (the fixture must then pass).
    #[arg(long)]
    unplant: bool,
    #[command(flatten)]
    views: Views,
}

#[derive(Args)]
pub struct ShrinkArgs {
    /// The bundle file.
    bundle: PathBuf,
    /// Where to write the minimized bundle (default: next to the input, `.shrunk.json`);
    /// checked before shrinking. The input itself only with --force.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Allow --output to replace the input bundle.
    #[arg(long)]
    force: bool,
}

pub fn default_bundle_path(seed: u64) -> PathBuf {
    PathBuf::from(format!("target/sim-bundles/seed-{seed}.json"))
}

pub fn parse_range(text: &str) -> Result<(u64, u64), String> {
    let (a, b) = text.split_once("..").ok_or_else(|| {
        format!("--seeds {text:?}: expected a half-open range A..B of seeds (e.g. 0..1000)")
    })?;
    let seed = |s: &str| {
        s.trim().parse::<u64>().map_err(|_| {
            format!(
                "--seeds {text:?}: {s:?} is not a seed (a whole number 0..=18446744073709551615)"
            )
        })
    };
    let (a, b) = (seed(a)?, seed(b)?);
    if b <= a {
        return Err(format!(
            "--seeds {text:?}: the range is empty (A..B runs A up to B-1)"
        ));
    }
    Ok((a, b))
}

/// Parses `K/N`, or `N` with K from `JOB_COMPLETION_INDEX`.
pub fn parse_shard(spec: &str, job_index: Option<String>) -> Result<(u64, u64), String> {
    let (k, n) = match spec.split_once('/') {
        Some((k, n)) => (k.to_string(), n.to_string()),
        None => {
            let k = job_index.ok_or_else(|| {
                format!(
                    "--shard {spec}: no index given and JOB_COMPLETION_INDEX is not set (use K/N)"
                )
            })?;
            (k, spec.to_string())
        }
    };
    let k: u64 = k
        .trim()
        .parse()
        .map_err(|_| format!("--shard {spec}: shard index {k:?} is not a number"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("--shard {spec}: shard count {n:?} is not a number"))?;
    if n == 0 || k >= n {
        return Err(format!("--shard {spec}: need 0 <= K < N"));
    }
    Ok((k, n))
}

/// The seeds of one shard of a range, in order, without listing them (a range can be huge).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardSeeds {
    pub from: u64,
    pub to: u64,
    pub k: u64,
    pub n: u64,
}

impl ShardSeeds {
    pub fn count(&self) -> u64 {
        let span = self.to - self.from;
        if span <= self.k {
            0
        } else {
            (span - self.k - 1) / self.n + 1
        }
    }

    pub fn nth(&self, i: u64) -> Option<u64> {
        (i < self.count()).then(|| self.from + self.k + i * self.n)
    }

    pub fn contains(&self, seed: u64) -> bool {
        (self.from..self.to).contains(&seed) && (seed - self.from) % self.n == self.k
    }
}

struct SeedResult {
    seed: u64,
    verdict: RunVerdict,
    /// Property, full text and signature of a failure.
    violation: Option<(String, String, String)>,
    /// Why the linearizability check was undecided.
    unknown: Option<String>,
    /// Where the failure's bundle was written, or why it was not.
    bundle: Option<Result<PathBuf, String>>,
    elapsed: Duration,
    events: u64,
    /// Disk damage: nodes damaged, repaired, halted (still repairing at the end) and
    /// stopped, and term/vote copies rewritten ([`DAMAGE_KEYS`]).
    damage: [u64; 5],
    /// Persists failed by a write or fsync error.
    write_errors: u64,
}

pub fn sweep_command(args: SweepArgs) -> ExitCode {
    let (from, to) = match parse_range(&args.seeds) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let (k, n) = match args
        .shard
        .as_deref()
        .map(|s| parse_shard(s, std::env::var("JOB_COMPLETION_INDEX").ok()))
    {
        None => (0, 1),
        Some(Ok(s)) => s,
        Some(Err(e)) => return usage_error(&e),
    };
    let seeds = ShardSeeds { from, to, k, n };
    let total = seeds.count();
    if total == 0 {
        return usage_error(&format!(
            "--shard {k}/{n} of --seeds {from}..{to} has no seeds (use at most {} shards)",
            to - from
        ));
    }
    // Every seed's configuration is valid by the flags' ranges (`Overrides::config`); the
    // first seed's is checked here so that a mistake shows before any work, and each seed's
    // again before it runs.
    if let Err(e) = args.overrides.config(from + k) {
        return usage_error(&e);
    }
    if let Err(e) = check_bundles_and_json(&args.bundles, args.json.as_deref()) {
        return usage_error(&e);
    }
    let jobs = args.jobs as usize;
    let next = AtomicU64::new(0);
    // The results so far, and how many of them have each verdict (for the progress line).
    let results: Mutex<(Vec<SeedResult>, [u64; 3])> = Mutex::new((Vec::new(), [0; 3]));
    let invalid: Mutex<Option<String>> = Mutex::new(None);
    let started = Instant::now();
    let tty = std::io::stderr().is_terminal();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                while let Some(seed) = seeds.nth(next.fetch_add(1, Ordering::Relaxed)) {
                    if invalid.lock().unwrap().is_some() {
                        break;
                    }
                    let result = match run_seed(seed, &args.overrides, &args.bundles) {
                        Ok(result) => result,
                        Err(e) => {
                            invalid.lock().unwrap().get_or_insert(e);
                            break;
                        }
                    };
                    tracing::info!(
                        seed,
                        events = result.events,
                        seconds = result.elapsed.as_secs_f64(),
                        "seed {seed}: {}",
                        result.verdict.name()
                    );
                    let mut guard = results.lock().unwrap();
                    let (all, tally) = &mut *guard;
                    tally[result.verdict as usize] += 1;
                    all.push(result);
                    progress(all.len() as u64, tally, total, started, tty);
                }
            });
        }
    });
    if tty {
        eprintln!();
    }
    if let Some(e) = invalid.into_inner().unwrap() {
        return usage_error(&e);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut results = results.into_inner().unwrap().0;
    results.sort_by_key(|r| r.seed);
    let count = |v: RunVerdict| results.iter().filter(|r| r.verdict == v).count();
    let (passed, failed, unknown) = (
        count(RunVerdict::Pass),
        count(RunVerdict::Fail),
        count(RunVerdict::Unknown),
    );
    let failures: Vec<&SeedResult> = results.iter().filter(|r| r.violation.is_some()).collect();
    let unknowns: Vec<&SeedResult> = results.iter().filter(|r| r.unknown.is_some()).collect();
    let write_errors: u64 = results.iter().map(|r| r.write_errors).sum();
    let damage = results.iter().fold([0u64; 5], |mut sum, r| {
        for (total, n) in sum.iter_mut().zip(r.damage) {
            *total += n;
        }
        sum
    });
    let mut slowest: Vec<&SeedResult> = results.iter().collect();
    slowest.sort_by_key(|r| std::cmp::Reverse(r.elapsed));

    // The report first: nothing printed after this can lose it.
    let mut exit = if failed > 0 {
        Exit::Fail
    } else if unknown > 0 {
        Exit::Unknown
    } else {
        Exit::Pass
    };
    if let Some(path) = &args.json {
        let report = json!({
            "kind": "sweep",
            "format": REPORT_FORMAT,
            "build": crate::version::json(),
            "range": [from, to],
            "shard": [k, n],
            "overrides": args.overrides.flags().trim(),
            "planted_bug": args.overrides.planted_bug(),
            "jobs": jobs,
            "elapsed_s": elapsed,
            "seeds_run": results.len(),
            "passed": passed,
            "failed": failed,
            "unknown": unknown,
            "events": results.iter().map(|r| r.events).sum::<u64>(),
            "damage": DAMAGE_KEYS.iter().zip(damage).map(|(k, n)| (k.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "write_errors": { "persists_failed": write_errors },
            "failures": failures.iter().map(|f| {
                let (property, text, signature) = f.violation.as_ref().unwrap();
                json!({
                    "seed": f.seed,
                    "property": property,
                    "violation": text,
                    "signature": signature,
                    "repro": repro(f.seed, &args.overrides),
                    "bundle": f.bundle.as_ref().and_then(|b| b.as_ref().ok()).map(|b| b.display().to_string()),
                    "bundle_error": f.bundle.as_ref().and_then(|b| b.as_ref().err()),
                })
            }).collect::<Vec<_>>(),
            "unknowns": unknowns.iter().map(|u| json!({
                "seed": u.seed,
                "detail": u.unknown,
                "repro": repro(u.seed, &args.overrides),
            })).collect::<Vec<_>>(),
            "slowest": slowest.iter().take(10).map(|r| json!({"seed": r.seed, "seconds": r.elapsed.as_secs_f64()})).collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&report).expect("a report serializes");
        if let Err(e) = crate::shared::write_file(path, &text, "report") {
            eprintln!("error: {e}");
            exit = exit.and(Exit::Error);
        }
    }

    let shard_text = if n > 1 {
        format!(" (shard {k}/{n})")
    } else {
        String::new()
    };
    println!(
        "sweep       seeds {from}..{to}{shard_text}: {passed} passed, {failed} failed, {unknown} unknown in {elapsed:.1}s ({:.1} seeds/s, {jobs} jobs)",
        results.len() as f64 / elapsed.max(1e-9)
    );
    println!(
        "damage      {} nodes damaged, {} repaired, {} halted, {} stopped ({} term/vote copies rewritten)",
        damage[0], damage[1], damage[2], damage[3], damage[4]
    );
    println!("write errors {write_errors} persists failed");
    let mut by_property: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &failures {
        *by_property
            .entry(f.violation.as_ref().unwrap().0.as_str())
            .or_default() += 1;
    }
    if !by_property.is_empty() {
        println!("failed by property:");
        for (property, count) in &by_property {
            println!("  {property:<28} {count}");
        }
    }
    let mut unwritten = 0;
    for f in &failures {
        let (_, text, _) = f.violation.as_ref().unwrap();
        println!("FAIL seed {}: {text}", f.seed);
        println!("     repro:  {}", repro(f.seed, &args.overrides));
        match &f.bundle {
            Some(Ok(b)) => println!("     bundle: {}", b.display()),
            Some(Err(e)) => {
                unwritten += 1;
                println!("     bundle: NOT WRITTEN: {e}");
            }
            None => {}
        }
    }
    for u in &unknowns {
        println!(
            "UNKNOWN seed {}: linearizability {}",
            u.seed,
            u.unknown.as_deref().unwrap_or("")
        );
        println!("     repro:  {}", repro(u.seed, &args.overrides));
    }
    if unwritten > 0 {
        eprintln!(
            "error: {unwritten} failure bundle(s) could not be written to {}",
            args.bundles.display()
        );
    }
    let slow: Vec<String> = slowest
        .iter()
        .take(5)
        .map(|r| format!("{} ({:.2}s)", r.seed, r.elapsed.as_secs_f64()))
        .collect();
    println!("slowest     {}", slow.join(", "));
    exit.into()
}

/// The progress line: a bar on a terminal, a line every 500 seeds otherwise. `tally` counts
/// the seeds done by verdict (indexed by `RunVerdict as usize`).
fn progress(done: u64, tally: &[u64; 3], total: u64, started: Instant, tty: bool) {
    let failed = tally[RunVerdict::Fail as usize];
    let unknown = tally[RunVerdict::Unknown as usize];
    let rate = done as f64 / started.elapsed().as_secs_f64();
    let eta = (total - done) as f64 / rate.max(1e-9);
    let width = 30;
    let filled = (done * width / total.max(1)) as usize;
    let bar = format!(
        "[{}{}]",
        "#".repeat(filled),
        ".".repeat(width as usize - filled)
    );
    let line = format!(
        "{bar} {done}/{total} seeds, {rate:.1} seeds/s, {failed} failed, {unknown} unknown, ETA {eta:.0}s"
    );
    if tty {
        eprint!("\r{line}  ");
    } else if done.is_multiple_of(500) || done == total {
        eprintln!("{line}");
    }
    let _ = std::io::stderr().flush();
}

/// Runs one seed of a sweep; a panic is that seed's failure. `Err` only when the flags do not
/// fit the seed's configuration (a usage error that stops the sweep).
fn run_seed(seed: u64, overrides: &Overrides, bundles: &Path) -> Result<SeedResult, String> {
    let config = overrides.config(seed)?;
    let options = RunOptions {
        planted_bug: overrides.planted_bug(),
        ..RunOptions::default()
    };
    let started = Instant::now();
    let outcome = catch_run(|| sim::run(config, &options));
    let elapsed = started.elapsed();
    Ok(match outcome {
        Ok(report) => {
            let violation = report
                .violation
                .as_ref()
                .map(|v| (v.property.to_string(), v.to_string(), bundle::signature(v)));
            let unknown = (report.verdict() == RunVerdict::Unknown).then(|| {
                report
                    .linearizability
                    .as_ref()
                    .map_or(String::new(), |v| v.to_string())
            });
            let bundle = Bundle::from_report(&report, repro(seed, overrides)).map(|mut b| {
                b.written_by = Some(crate::version::written_by());
                let path = bundles.join(format!("seed-{seed}.json"));
                b.write(&path).map(|()| path).map_err(|e| e.to_string())
            });
            SeedResult {
                seed,
                verdict: report.verdict(),
                violation,
                unknown,
                bundle,
                elapsed,
                events: report.stats.events,
                damage: [
                    report.stats.nodes_damaged,
                    report.stats.nodes_repaired,
                    report.stats.nodes_halted,
                    report.stats.corruption_detected,
                    report.stats.term_vote_copies_rewritten,
                ],
                write_errors: report.stats.write_errors,
            }
        }
        Err(message) => SeedResult {
            seed,
            verdict: RunVerdict::Fail,
            violation: Some((
                "panic".into(),
                format!("panic: {message}"),
                format!("panic: {}", message.split(':').next().unwrap_or("")),
            )),
            unknown: None,
            bundle: None,
            elapsed,
            events: 0,
            damage: [0; 5],
            write_errors: 0,
        },
    })
}

pub fn replay_command(args: ReplayArgs) -> ExitCode {
    let mut bundle = match Bundle::read(&args.bundle) {
        Ok(b) => b,
        Err(e) => return usage_error(&e.to_string()),
    };
    if let Err(e) = args.views.check() {
        return usage_error(&e);
    }
    println!(
        "bundle      {} (seed {}, {})",
        args.bundle.display(),
        bundle.seed,
        bundle.size()
    );
    let this_build = crate::version::written_by();
    match &bundle.written_by {
        Some(by) if by.commit != this_build.commit || by.version != this_build.version => {
            println!("written by  {by}; replaying with {this_build}")
        }
        Some(by) => println!("written by  {by} (this build)"),
        None => println!("written by  (not recorded)"),
    }
    if let Some(bug) = &bundle.guards {
        println!("guards      the planted bug {bug}");
    }
    if let Some(bug) = &bundle.planted_bug {
        println!("planted     {bug} (in every node)");
    }
    println!("recorded    {}", bundle.violation);
    if let Some(caveat) = bundle.format_caveat() {
        println!("note        {caveat}");
    }
    if args.unplant {
        if let Some(bug) = bundle.planted_bug.take() {
            println!("unplanted   {bug}: replaying with the correct code");
        }
    } else if bundle.planted_bug.is_none() {
        // A regression fixture names its bug only as the one it guards: the recorded
        // violation is that bug's.
        bundle.planted_bug = bundle.guards.clone();
    }
    let replay = bundle.replay(args.views.wanted());
    print_summary(&replay.report);
    let usage = replay.report.decision_usage;
    println!(
        "decisions   {} recorded, {} replayed, {} drawn afresh",
        usage.given, usage.replayed, usage.drawn
    );
    println!(
        "replay      same violation: {}, same property: {}, same trace hash: {}",
        yes(replay.same_violation),
        yes(replay.same_property),
        yes(replay.same_hash)
    );
    let errors = args.views.write(
        &replay.report,
        &format!("replay of {}", args.bundle.display()),
    );
    let mut exit = Exit::of(replay.report.verdict());
    for e in &errors {
        eprintln!("error: {e}");
        exit = exit.and(Exit::Error);
    }
    exit.into()
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// True when `a` and `b` name the same file (one of them may not exist yet).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

pub fn shrink_command(args: ShrinkArgs) -> ExitCode {
    let bundle = match Bundle::read(&args.bundle) {
        Ok(b) => b,
        Err(e) => return usage_error(&e.to_string()),
    };
    let output = args.output.clone().unwrap_or_else(|| {
        let stem = args
            .bundle
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        args.bundle.with_file_name(format!("{stem}.shrunk.json"))
    });
    if same_file(&output, &args.bundle) && !args.force {
        return usage_error(&format!(
            "--output {} is the input bundle: shrinking would replace the original (write \
             elsewhere, or add --force)",
            output.display()
        ));
    }
    if let Err(e) = check_output(&output, "--output") {
        return usage_error(&e);
    }
    let check = bundle.replay(false);
    if !check.same_property {
        eprintln!(
            "error: the bundle does not reproduce {} any more (replay gives {}); nothing to shrink",
            bundle.violation.property,
            check
                .report
                .violation
                .as_ref()
                .map_or(check.report.verdict().name().to_string(), |v| v.to_string())
        );
        return Exit::Fail.into();
    }
    println!("before      {}", bundle.size());
    let started = Instant::now();
    let mut shrunk = bundle::shrink(&bundle, |step| {
        eprintln!("  [{} runs] {}: {}", step.runs, step.what, step.size);
    });
    println!(
        "after       {} ({:.1}s)",
        shrunk.size(),
        started.elapsed().as_secs_f64()
    );
    println!("violation   {}", shrunk.violation);
    shrunk.written_by = Some(crate::version::written_by());
    let replaced = output.exists();
    match shrunk.write(&output) {
        Ok(()) => {
            let note = if replaced { " (replaced)" } else { "" };
            println!("written     {}{note}", output.display());
            Exit::Pass.into()
        }
        Err(e) => {
            eprintln!("error: the shrunk bundle was not written: {e}");
            Exit::Error.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_spec_takes_the_index_from_the_job_when_omitted() {
        assert_eq!(parse_shard("2/5", None), Ok((2, 5)));
        assert_eq!(parse_shard("5", Some("3".into())), Ok((3, 5)));
        assert!(parse_shard("5", None).is_err());
        assert!(parse_shard("5/5", None).is_err());
        assert!(parse_shard("x/5", None).is_err());
    }

    #[test]
    fn shard_seeds_partition_the_range() {
        let all: Vec<u64> = (0..4)
            .flat_map(|k| {
                let s = ShardSeeds {
                    from: 10,
                    to: 21,
                    k,
                    n: 4,
                };
                (0..s.count()).map(move |i| s.nth(i).unwrap())
            })
            .collect();
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(sorted, (10..21).collect::<Vec<_>>());
        let s = ShardSeeds {
            from: 0,
            to: u64::MAX,
            k: 1,
            n: 2,
        };
        assert_eq!(s.nth(0), Some(1));
        assert_eq!(s.count(), u64::MAX / 2);
        assert_eq!(
            ShardSeeds {
                from: 0,
                to: 3,
                k: 5,
                n: 8
            }
            .count(),
            0
        );
        assert!(ShardSeeds {
            from: 10,
            to: 21,
            k: 2,
            n: 4
        }
        .contains(16));
        assert!(!ShardSeeds {
            from: 10,
            to: 21,
            k: 2,
            n: 4
        }
        .contains(15));
    }

    #[test]
    fn seed_ranges_are_half_open_and_checked() {
        assert_eq!(parse_range("3..10"), Ok((3, 10)));
        assert!(parse_range("10..3").is_err());
        assert!(parse_range("10").is_err());
    }
}
