//! `sweep-merge`: combine the `--json` reports of a sharded sweep into one, after checking
//! that they add up to one complete sweep: the same range, shard count, overrides, planted bug
//! and build, every shard exactly once, and each report consistent with its shard.

use crate::shared::{check_output, usage_error, Exit};
use crate::sweep::{ShardSeeds, DAMAGE_KEYS, REPORT_FORMAT};
use clap::Args;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct MergeArgs {
    /// The `--json` reports of the shards (every shard of one sweep, each once).
    #[arg(required = true)]
    reports: Vec<PathBuf>,
    /// Write the merged report here (checked before merging).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// One shard's report, checked on its own.
struct Shard {
    file: String,
    range: (u64, u64),
    k: u64,
    n: u64,
    overrides: String,
    planted_bug: Option<String>,
    build: String,
    seeds_run: u64,
    passed: u64,
    failed: u64,
    unknown: u64,
    failures: Vec<Value>,
    unknowns: Vec<Value>,
    /// The damage section's counts, in the order of `DAMAGE_KEYS`.
    damage: [u64; 5],
    /// Persists failed by a write or fsync error.
    write_errors: u64,
}

fn field<'a>(report: &'a Value, key: &str) -> Result<&'a Value, String> {
    report
        .get(key)
        .filter(|v| !v.is_null() || key == "planted_bug")
        .ok_or_else(|| format!("has no {key:?}"))
}

fn number(report: &Value, key: &str) -> Result<u64, String> {
    field(report, key)?
        .as_u64()
        .ok_or_else(|| format!("{key:?} is not a non-negative integer"))
}

fn pair(report: &Value, key: &str) -> Result<(u64, u64), String> {
    match field(report, key)?.as_array().map(|a| a.as_slice()) {
        Some([a, b]) => match (a.as_u64(), b.as_u64()) {
            (Some(a), Some(b)) => Ok((a, b)),
            _ => Err(format!("{key:?} is not two integers")),
        },
        _ => Err(format!("{key:?} is not two integers")),
    }
}

/// Reads one report and checks it against itself: what it claims to have run is its shard.
fn read_shard(path: &std::path::Path) -> Result<Shard, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    if text.trim().is_empty() {
        return Err("is empty (did the shard finish?)".into());
    }
    let report: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    if report.get("kind").and_then(Value::as_str) != Some("sweep") {
        return Err("is not a sweep report (no \"kind\": \"sweep\")".into());
    }
    let format = number(&report, "format").unwrap_or(1);
    if format != REPORT_FORMAT {
        return Err(format!(
            "is a sweep report of format {format}; this build merges format {REPORT_FORMAT} \
             (re-run the shard with this build)"
        ));
    }
    let range = pair(&report, "range")?;
    let (k, n) = pair(&report, "shard")?;
    if range.0 >= range.1 {
        return Err(format!("range {}..{} is empty", range.0, range.1));
    }
    if n == 0 || k >= n {
        return Err(format!("shard {k}/{n} is not a shard (need K < N)"));
    }
    let build = field(&report, "build")?;
    let build = format!(
        "{} (commit {})",
        build["version"]
            .as_str()
            .ok_or("\"build\" has no version")?,
        build["commit"].as_str().ok_or("\"build\" has no commit")?
    );
    let overrides = field(&report, "overrides")?
        .as_str()
        .ok_or("\"overrides\" is not a string")?
        .to_string();
    let planted_bug = report["planted_bug"].as_str().map(String::from);
    let list = |key: &str| -> Result<Vec<Value>, String> {
        field(&report, key)?
            .as_array()
            .cloned()
            .ok_or_else(|| format!("{key:?} is not a list"))
    };
    let count = |section: &str, key: &str| -> Result<u64, String> {
        report[section][key]
            .as_u64()
            .ok_or_else(|| format!("has no count {section}.{key}"))
    };
    let mut damage = [0; 5];
    for (total, key) in damage.iter_mut().zip(DAMAGE_KEYS) {
        *total = count("damage", key)?;
    }
    let shard = Shard {
        file: path.display().to_string(),
        damage,
        write_errors: count("write_errors", "persists_failed")?,
        range,
        k,
        n,
        overrides,
        planted_bug,
        build,
        seeds_run: number(&report, "seeds_run")?,
        passed: number(&report, "passed")?,
        failed: number(&report, "failed")?,
        unknown: number(&report, "unknown")?,
        failures: list("failures")?,
        unknowns: list("unknowns")?,
    };
    let seeds = ShardSeeds {
        from: range.0,
        to: range.1,
        k,
        n,
    };
    if shard.seeds_run == 0 {
        return Err("ran no seeds".into());
    }
    if shard.seeds_run != seeds.count() {
        return Err(format!(
            "ran {} seeds, but shard {k}/{n} of {}..{} has {} (an interrupted shard?)",
            shard.seeds_run,
            range.0,
            range.1,
            seeds.count()
        ));
    }
    if shard.passed + shard.failed + shard.unknown != shard.seeds_run {
        return Err(format!(
            "counts {} passed + {} failed + {} unknown, not the {} seeds it ran",
            shard.passed, shard.failed, shard.unknown, shard.seeds_run
        ));
    }
    if shard.failures.len() as u64 != shard.failed || shard.unknowns.len() as u64 != shard.unknown {
        return Err(format!(
            "lists {} failures and {} unknowns but counts {} and {}",
            shard.failures.len(),
            shard.unknowns.len(),
            shard.failed,
            shard.unknown
        ));
    }
    for entry in shard.failures.iter().chain(&shard.unknowns) {
        match entry["seed"].as_u64() {
            Some(seed) if seeds.contains(seed) => {}
            Some(seed) => return Err(format!("lists seed {seed}, which is not in its shard")),
            None => return Err("lists a failure without a seed".into()),
        }
    }
    Ok(shard)
}

/// What does not add up between the shards: different sweeps, duplicates.
fn mismatches(shards: &[Shard]) -> Vec<String> {
    let mut problems = Vec::new();
    let first = &shards[0];
    let show = |b: &Option<String>| b.clone().unwrap_or_else(|| "none".into());
    for s in &shards[1..] {
        let mut differ = |what: &str, a: String, b: String| {
            if a != b {
                problems.push(format!(
                    "{} and {} are not shards of one sweep: {what} {a} vs {b}",
                    first.file, s.file
                ));
            }
        };
        differ(
            "range",
            format!("{}..{}", first.range.0, first.range.1),
            format!("{}..{}", s.range.0, s.range.1),
        );
        differ("shard count", first.n.to_string(), s.n.to_string());
        differ(
            "overrides",
            format!("[{}]", first.overrides),
            format!("[{}]", s.overrides),
        );
        differ(
            "planted bug",
            show(&first.planted_bug),
            show(&s.planted_bug),
        );
        differ("build", first.build.clone(), s.build.clone());
    }
    let mut by_index: BTreeMap<u64, &str> = BTreeMap::new();
    for s in shards {
        if let Some(other) = by_index.insert(s.k, &s.file) {
            problems.push(format!(
                "shard {}/{} twice: {other} and {}",
                s.k, s.n, s.file
            ));
        }
    }
    problems
}

pub fn merge_command(args: MergeArgs) -> ExitCode {
    if let Some(Err(e)) = args.json.as_ref().map(|p| check_output(p, "--json")) {
        return usage_error(&e);
    }
    let mut shards = Vec::new();
    let mut problems = Vec::new();
    for path in &args.reports {
        match read_shard(path) {
            Ok(s) => shards.push(s),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    if problems.is_empty() {
        problems = mismatches(&shards);
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("error: {p}");
        }
        eprintln!("error: refusing to merge: the reports are not the shards of one sweep");
        return Exit::Error.into();
    }
    let first = &shards[0];
    let (range, n) = (first.range, first.n);
    let present: Vec<u64> = shards.iter().map(|s| s.k).collect();
    let missing: Vec<u64> = (0..n).filter(|k| !present.contains(k)).collect();
    let missing_seeds: u64 = missing
        .iter()
        .map(|&k| {
            ShardSeeds {
                from: range.0,
                to: range.1,
                k,
                n,
            }
            .count()
        })
        .sum();
    let sum = |f: fn(&Shard) -> u64| shards.iter().map(f).sum::<u64>();
    let (run, passed, failed, unknown) = (
        sum(|s| s.seeds_run),
        sum(|s| s.passed),
        sum(|s| s.failed),
        sum(|s| s.unknown),
    );
    let mut damage = [0u64; 5];
    for s in &shards {
        for (total, n) in damage.iter_mut().zip(s.damage) {
            *total += n;
        }
    }
    let write_errors = sum(|s| s.write_errors);
    let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for f in shards.iter().flat_map(|s| &s.failures) {
        let signature = f["signature"].as_str().unwrap_or("?").to_string();
        groups.entry(signature).or_default().push(f.clone());
    }
    let mut unknowns: Vec<Value> = shards.iter().flat_map(|s| s.unknowns.clone()).collect();
    unknowns.sort_by_key(|u| u["seed"].as_u64());
    let mut exit = if failed > 0 {
        Exit::Fail
    } else if unknown > 0 || !missing.is_empty() {
        Exit::Unknown
    } else {
        Exit::Pass
    };
    if let Some(path) = &args.json {
        let merged = json!({
            "kind": "sweep-merge",
            "build": crate::version::json(),
            "shards_build": first.build,
            "range": [range.0, range.1],
            "shards": n,
            "overrides": first.overrides,
            "planted_bug": first.planted_bug,
            "complete": missing.is_empty(),
            "missing_shards": missing,
            "reports": args.reports.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "seeds_run": run,
            "passed": passed,
            "failed": failed,
            "unknown": unknown,
            "damage": DAMAGE_KEYS.iter().zip(damage).map(|(k, n)| (k.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "write_errors": { "persists_failed": write_errors },
            "distinct_failures": groups.iter().map(|(signature, failures)| json!({
                "signature": signature,
                "count": failures.len(),
                "example": failures[0],
                "seeds": failures.iter().map(|f| f["seed"].clone()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "unknowns": unknowns,
        });
        let text = serde_json::to_string_pretty(&merged).expect("a report serializes");
        if let Err(e) = crate::shared::write_file(path, &text, "report") {
            eprintln!("error: {e}");
            exit = exit.and(Exit::Error);
        }
    }
    println!(
        "merged      {} of {n} shards of seeds {}..{} [{}] ({}): {run} seeds, {passed} passed, {failed} failed, {unknown} unknown, {} distinct failures",
        shards.len(),
        range.0,
        range.1,
        first.overrides,
        first.build,
        groups.len()
    );
    println!(
        "damage      {} nodes damaged, {} repaired, {} halted, {} stopped ({} term/vote copies rewritten)",
        damage[0], damage[1], damage[2], damage[3], damage[4]
    );
    println!("write errors {write_errors} persists failed");
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
    if !unknowns.is_empty() {
        let seeds: Vec<String> = unknowns.iter().map(|u| u["seed"].to_string()).collect();
        println!("unknown     seeds {}", seeds.join(", "));
    }
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|k| format!("{k}/{n}")).collect();
        println!(
            "INCOMPLETE  shards {} missing: {missing_seeds} seeds not run",
            list.join(", ")
        );
    }
    exit.into()
}
