//! `sweep`, `sweep-merge`, `replay` and `shrink`.

use crate::flags::{repro, Overrides, Views};
use crate::shared::{default_jobs, usage_error};
use crate::simulate::print_summary;
use clap::Args;
use serde_json::{json, Value};
use sim::bundle::{self, Bundle};
use sim::{RunOptions, SimConfig};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct SweepArgs {
    /// Seed range, half-open: `A..B` runs A, A+1, ..., B-1.
    #[arg(long, value_name = "A..B")]
    seeds: String,
    /// Worker threads; each runs one seed at a time (parallelism is only across seeds).
    #[arg(long, default_value_t = default_jobs())]
    jobs: usize,
    /// Run only this machine's share of the range: `K/N` takes every seed whose offset in the
    /// range is K modulo N. `N` alone takes K from $JOB_COMPLETION_INDEX (a Kubernetes
    /// Indexed Job); see fixtures/ci/ for a GitHub Actions matrix and a Job manifest.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Write a machine-readable report (merge shards with `sweep-merge`).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Directory for the failure bundles.
    #[arg(long, value_name = "DIR", default_value = "target/sim-bundles")]
    bundles: PathBuf,
    #[command(flatten)]
    overrides: Overrides,
}

#[derive(Args)]
pub struct MergeArgs {
    /// The `--json` reports of the shards.
    #[arg(required = true)]
    reports: Vec<PathBuf>,
    /// Write the merged report here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

#[derive(Args)]
pub struct ReplayArgs {
    /// The bundle file.
    bundle: PathBuf,
    /// Replay with the correct code: without the planted bug the bundle recorded (a
    /// regression fixture must then pass).
    #[arg(long)]
    unplant: bool,
    #[command(flatten)]
    views: Views,
}

#[derive(Args)]
pub struct ShrinkArgs {
    /// The bundle file.
    bundle: PathBuf,
    /// Where to write the minimized bundle (default: next to the input, `.shrunk.json`).
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn default_bundle_path(seed: u64) -> PathBuf {
    PathBuf::from(format!("target/sim-bundles/seed-{seed}.json"))
}

fn parse_range(text: &str) -> Result<(u64, u64), String> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| format!("--seeds {text:?}: expected A..B"))?;
    let a: u64 = a
        .trim()
        .parse()
        .map_err(|_| format!("--seeds {text:?}: {a:?} is not a number"))?;
    let b: u64 = b
        .trim()
        .parse()
        .map_err(|_| format!("--seeds {text:?}: {b:?} is not a number"))?;
    if b <= a {
        return Err(format!("--seeds {text:?}: the range is empty"));
    }
    Ok((a, b))
}

/// Parses `K/N`, or `N` with K from `JOB_COMPLETION_INDEX`.
fn parse_shard(spec: &str, job_index: Option<String>) -> Result<(u64, u64), String> {
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

struct SeedResult {
    seed: u64,
    violation: Option<(String, String, String)>, // property, full text, signature
    bundle: Option<PathBuf>,
    elapsed: Duration,
    events: u64,
}

pub fn sweep_command(args: SweepArgs) -> ExitCode {
    let (from, to) = match parse_range(&args.seeds) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let (shard_k, shard_n) = match args
        .shard
        .as_deref()
        .map(|s| parse_shard(s, std::env::var("JOB_COMPLETION_INDEX").ok()))
    {
        None => (0, 1),
        Some(Ok(s)) => s,
        Some(Err(e)) => return usage_error(&e),
    };
    if let Err(e) = args.overrides.apply(SimConfig::draw(from)) {
        return usage_error(&e);
    }
    let seeds: Vec<u64> = (from..to)
        .filter(|s| (s - from) % shard_n == shard_k)
        .collect();
    let total = seeds.len() as u64;
    let jobs = args.jobs.max(1);
    let next = AtomicU64::new(0);
    let results: Mutex<Vec<SeedResult>> = Mutex::new(Vec::new());
    let started = Instant::now();
    let tty = std::io::stderr().is_terminal();
    // Keep panics in runs from printing their default message over the progress line; the
    // message is reported as the seed's failure.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&seed) = seeds.get(i as usize) else {
                    break;
                };
                let result = run_seed(seed, &args.overrides, &args.bundles);
                let mut all = results.lock().unwrap();
                all.push(result);
                let done = all.len() as u64;
                let failed = all.iter().filter(|r| r.violation.is_some()).count();
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
                    "{bar} {done}/{total} seeds, {rate:.1} seeds/s, {failed} failed, ETA {eta:.0}s"
                );
                if tty {
                    eprint!("\r{line}  ");
                } else if done.is_multiple_of(500) || done == total {
                    eprintln!("{line}");
                }
                let _ = std::io::stderr().flush();
            });
        }
    });
    std::panic::set_hook(default_hook);
    if tty {
        eprintln!();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| r.seed);
    let failures: Vec<&SeedResult> = results.iter().filter(|r| r.violation.is_some()).collect();
    let shard_text = if shard_n > 1 {
        format!(" (shard {shard_k}/{shard_n})")
    } else {
        String::new()
    };
    println!(
        "sweep       seeds {from}..{to}{shard_text}: {} passed, {} failed in {elapsed:.1}s ({:.1} seeds/s, {jobs} jobs)",
        results.len() - failures.len(),
        failures.len(),
        results.len() as f64 / elapsed.max(1e-9)
    );
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
    for f in &failures {
        let (_, text, _) = f.violation.as_ref().unwrap();
        println!("FAIL seed {}: {text}", f.seed);
        println!("     repro:  {}", repro(f.seed, &args.overrides));
        if let Some(b) = &f.bundle {
            println!("     bundle: {}", b.display());
        }
    }
    let mut slowest: Vec<&SeedResult> = results.iter().collect();
    slowest.sort_by_key(|r| std::cmp::Reverse(r.elapsed));
    let slow: Vec<String> = slowest
        .iter()
        .take(5)
        .map(|r| format!("{} ({:.2}s)", r.seed, r.elapsed.as_secs_f64()))
        .collect();
    println!("slowest     {}", slow.join(", "));
    if let Some(path) = &args.json {
        let report = json!({
            "kind": "sweep",
            "range": [from, to],
            "shard": [shard_k, shard_n],
            "jobs": jobs,
            "elapsed_s": elapsed,
            "seeds_run": results.len(),
            "passed": results.len() - failures.len(),
            "failed": failures.len(),
            "events": results.iter().map(|r| r.events).sum::<u64>(),
            "failures": failures.iter().map(|f| {
                let (property, text, signature) = f.violation.as_ref().unwrap();
                json!({
                    "seed": f.seed,
                    "property": property,
                    "violation": text,
                    "signature": signature,
                    "repro": repro(f.seed, &args.overrides),
                    "bundle": f.bundle.as_ref().map(|b| b.display().to_string()),
                })
            }).collect::<Vec<_>>(),
            "slowest": slowest.iter().take(10).map(|r| json!({"seed": r.seed, "seconds": r.elapsed.as_secs_f64()})).collect::<Vec<_>>(),
        });
        if !crate::shared::write_file(
            path,
            &serde_json::to_string_pretty(&report).unwrap(),
            "report",
        ) {
            return ExitCode::from(2);
        }
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn run_seed(seed: u64, overrides: &Overrides, bundles: &Path) -> SeedResult {
    let config = overrides
        .apply(SimConfig::draw(seed))
        .expect("validated before the sweep");
    let started = Instant::now();
    let outcome = std::panic::catch_unwind(|| sim::run(config, &RunOptions::default()));
    let elapsed = started.elapsed();
    match outcome {
        Ok(report) => {
            let violation = report
                .violation
                .as_ref()
                .map(|v| (v.property.to_string(), v.to_string(), bundle::signature(v)));
            let bundle = Bundle::from_report(&report, repro(seed, overrides)).and_then(|b| {
                let path = bundles.join(format!("seed-{seed}.json"));
                b.write(&path).ok().map(|()| path)
            });
            SeedResult {
                seed,
                violation,
                bundle,
                elapsed,
                events: report.stats.events,
            }
        }
        Err(panic) => {
            let message = crate::shared::panic_message(&*panic);
            let text = format!("panic: {message}");
            SeedResult {
                seed,
                violation: Some((
                    "panic".into(),
                    text.clone(),
                    format!("panic: {}", message.split(':').next().unwrap_or("")),
                )),
                bundle: None,
                elapsed,
                events: 0,
            }
        }
    }
}

pub fn merge_command(args: MergeArgs) -> ExitCode {
    let mut reports = Vec::new();
    for path in &args.reports {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return usage_error(&format!("{}: {e}", path.display())),
        };
        match serde_json::from_str::<Value>(&text) {
            Ok(v) if v["kind"] == "sweep" => reports.push(v),
            Ok(_) => return usage_error(&format!("{}: not a sweep report", path.display())),
            Err(e) => return usage_error(&format!("{}: not JSON: {e}", path.display())),
        }
    }
    let sum = |key: &str| {
        reports
            .iter()
            .map(|r| r[key].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    let (run, passed, failed) = (sum("seeds_run"), sum("passed"), sum("failed"));
    let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for r in &reports {
        for f in r["failures"].as_array().into_iter().flatten() {
            let signature = f["signature"].as_str().unwrap_or("?").to_string();
            groups.entry(signature).or_default().push(f.clone());
        }
    }
    println!("merged      {} reports: {run} seeds, {passed} passed, {failed} failed, {} distinct failures", reports.len(), groups.len());
    for (signature, failures) in &groups {
        let seeds: Vec<String> = failures
            .iter()
            .take(8)
            .map(|f| f["seed"].to_string())
            .collect();
        println!(
            "  {:>4} x {signature}\n         seeds {}",
            failures.len(),
            seeds.join(", ")
        );
    }
    if let Some(path) = &args.json {
        let merged = json!({
            "kind": "sweep-merge",
            "reports": args.reports.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "seeds_run": run,
            "passed": passed,
            "failed": failed,
            "distinct_failures": groups.iter().map(|(signature, failures)| json!({
                "signature": signature,
                "count": failures.len(),
                "example": failures[0],
                "seeds": failures.iter().map(|f| f["seed"].clone()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        if !crate::shared::write_file(
            path,
            &serde_json::to_string_pretty(&merged).unwrap(),
            "report",
        ) {
            return ExitCode::from(2);
        }
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

pub fn replay_command(args: ReplayArgs) -> ExitCode {
    let mut bundle = match Bundle::read(&args.bundle) {
        Ok(b) => b,
        Err(e) => return usage_error(&e.to_string()),
    };
    println!(
        "bundle      {} (seed {}, {})",
        args.bundle.display(),
        bundle.seed,
        bundle.size()
    );
    if let Some(bug) = &bundle.guards {
        println!("guards      the planted bug {bug}");
    }
    println!("recorded    {}", bundle.violation);
    if let Some(caveat) = bundle.format_caveat() {
        println!("note        {caveat}");
    }
    if args.unplant {
        if let Some(bug) = bundle.planted_bug.take() {
            println!("unplanted   {bug}: replaying with the correct code");
        }
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
    if !args.views.write(
        &replay.report,
        &format!("replay of {}", args.bundle.display()),
    ) {
        return ExitCode::from(2);
    }
    if replay.report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

pub fn shrink_command(args: ShrinkArgs) -> ExitCode {
    let bundle = match Bundle::read(&args.bundle) {
        Ok(b) => b,
        Err(e) => return usage_error(&e.to_string()),
    };
    let check = bundle.replay(false);
    if !check.same_property {
        eprintln!(
            "error: the bundle does not reproduce {} any more (replay gives {}); nothing to shrink",
            bundle.violation.property,
            check
                .report
                .violation
                .map_or("PASS".to_string(), |v| v.to_string())
        );
        return ExitCode::from(1);
    }
    println!("before      {}", bundle.size());
    let started = Instant::now();
    let shrunk = bundle::shrink(&bundle, |step| {
        eprintln!("  [{} runs] {}: {}", step.runs, step.what, step.size);
    });
    println!(
        "after       {} ({:.1}s)",
        shrunk.size(),
        started.elapsed().as_secs_f64()
    );
    println!("violation   {}", shrunk.violation);
    let output = args.output.unwrap_or_else(|| {
        let stem = args
            .bundle
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        args.bundle.with_file_name(format!("{stem}.shrunk.json"))
    });
    match shrunk.write(&output) {
        Ok(()) => {
            println!("written     {}", output.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
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
    fn seed_ranges_are_half_open_and_checked() {
        assert_eq!(parse_range("3..10"), Ok((3, 10)));
        assert!(parse_range("10..3").is_err());
        assert!(parse_range("10").is_err());
    }
}
