//! Memory: peak resident size of one standard run and of a sweep, and the resident size along
//! the sweep (growth from seed to seed would show there), each measured in a child process
//! so that one measurement's peak does not hide another's.

use super::child::run_child;
use super::report::Row;
use super::timing::median;
use super::Plan;
use serde_json::Value;

/// Peak resident set size of this process so far, in KiB.
pub(super) fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM:")
}

/// Returns free heap memory to the system (glibc's `malloc_trim`), so that the resident size
/// measures live data rather than what the allocator keeps after a large run.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(super) fn release_free_memory() {
    extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // SAFETY: malloc_trim only releases free memory of glibc's allocator (Rust's global
    // allocator on this target); it is thread-safe and takes no pointers.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(super) fn release_free_memory() {}

/// A KiB figure of `/proc/self/status` (`VmHWM:` peak resident, `VmRSS:` resident now).
pub(super) fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub(super) fn memory_rows(plan: &Plan, rows: &mut Vec<Row>) {
    let mib = |v: &Value, key: &str| v[key].as_f64().map_or(f64::NAN, |k| k / 1024.0);
    let length = *plan.lengths.last().unwrap();
    for secs in [10, length] {
        match run_child("single", secs) {
            Ok(v) => rows.push(
                Row::new(
                    "memory",
                    format!("peak RSS, one standard run of {secs} virtual s"),
                    mib(&v, "peak_kib"),
                    "MiB",
                )
                .note(format!(
                    "{} events, {} client operations kept for the linearizability check",
                    v["events"], v["history_ops"]
                )),
            ),
            Err(e) => rows.push(
                Row::new(
                    "memory",
                    format!("peak RSS, one standard run of {secs} s"),
                    f64::NAN,
                    "MiB",
                )
                .note(e),
            ),
        }
    }
    let seeds = plan.memory_sweep_seeds;
    match run_child("sweep", seeds) {
        Ok(v) => {
            let peak = mib(&v, "peak_kib");
            let jumps = v["peak_raised_by"].as_array().cloned().unwrap_or_default();
            let mut biggest = jumps.clone();
            biggest.sort_by_key(|j| std::cmp::Reverse(j["raised_kib"].as_u64().unwrap_or(0)));
            let blame: Vec<String> = biggest
                .iter()
                .take(3)
                .map(|j| {
                    format!(
                        "seed {} +{:.0} MiB ({} ops, {:.1} s, {})",
                        j["seed"],
                        j["raised_kib"].as_f64().unwrap_or(0.0) / 1024.0,
                        j["history_ops"],
                        j["seconds"].as_f64().unwrap_or(0.0),
                        j["linearizability"]
                            .as_str()
                            .unwrap_or("-")
                            .split(':')
                            .next()
                            .unwrap_or("-")
                    )
                })
                .collect();
            rows.push(
                Row::new(
                    "memory",
                    format!("peak RSS, sweep of {seeds} seeds"),
                    peak,
                    "MiB",
                )
                .note(format!(
                    "one job, {:.1} seeds/s; peak raised by {}",
                    v["seeds_per_s"].as_f64().unwrap_or(f64::NAN),
                    if blame.is_empty() {
                        "no single seed".to_string()
                    } else {
                        blame.join("; ")
                    }
                )),
            );
            let points = v["checkpoints"].as_array().cloned().unwrap_or_default();
            let resident: Vec<(u64, f64)> = points
                .iter()
                .map(|p| {
                    (
                        p["seeds"].as_u64().unwrap_or(0),
                        p["resident_kib"].as_f64().unwrap_or(f64::NAN) / 1024.0,
                    )
                })
                .collect();
            if let Some(last) = resident.last() {
                // Accumulation would make the last sample stand out from the typical one.
                let typical = median(resident.iter().map(|r| r.1).collect());
                let shown: Vec<String> = resident.iter().map(|(_, r)| format!("{r:.0}")).collect();
                rows.push(
                    Row::new(
                        "memory",
                        format!("resident after {} seeds", last.0),
                        last.1,
                        "MiB",
                    )
                    .target("no growth with seeds", last.1 <= typical * 1.25 + 16.0)
                    .note(format!(
                        "MiB resident after each tenth of the sweep (free memory released first): {}",
                        shown.join(", ")
                    )),
                );
            }
        }
        Err(e) => rows.push(
            Row::new(
                "memory",
                format!("peak RSS, sweep of {seeds} seeds"),
                f64::NAN,
                "MiB",
            )
            .note(e),
        ),
    }
}
