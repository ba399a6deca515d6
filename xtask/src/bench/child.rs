//! The child processes of `bench`: `bench --child WHAT --child-size N` runs one measurement
//! in a fresh process (a standard run, a sweep, or one replication run for a profiler) and
//! prints its result as one JSON line; `run_child` starts one and reads that line.

use super::memory::{peak_rss_kib, release_free_memory, status_kib};
use super::raft_pair;
use super::simulator::{standard_config, stream_config, without_restarts};
use serde_json::{json, Value};
use sim::{RunOptions, SimConfig};
use std::process::ExitCode;
use std::time::Instant;

/// Runs in the child process: one measurement, then a JSON line on stdout.
pub(super) fn child_command(what: &str, size: u64) -> ExitCode {
    let before = peak_rss_kib();
    let result = match what {
        "single" | "single-unchecked" | "single-no-restarts" | "single-stream" => {
            let options = RunOptions {
                checkers: what != "single-unchecked",
                ..RunOptions::default()
            };
            let mut config = if what == "single-stream" {
                stream_config(1, 5, size)
            } else {
                standard_config(1, 5, size)
            };
            if what == "single-no-restarts" {
                config = without_restarts(config);
            }
            let report = sim::run(config, &options);
            json!({
                "events": report.stats.events,
                "virtual_s": report.end_time as f64 / 1e6,
                "history_ops": report.history_ops,
                "nodes_stopped_on_damage": report.stats.corruption_detected,
                "violation": report.violation.map(|v| v.to_string()),
                "peak_kib": peak_rss_kib(),
            })
        }
        "sweep" => {
            // One job, so that each rise of the peak belongs to exactly one seed, and the
            // resident memory sampled between seeds (after each tenth, with free memory handed
            // back) is what the sweep itself keeps: anything accumulating from seed to seed
            // would show there. The 2-job sweep's peak is at most twice the largest seed's.
            let (mut peak, mut jumps, mut checkpoints) = (0u64, Vec::new(), Vec::new());
            let started = Instant::now();
            for seed in 0..size {
                let t = Instant::now();
                let report = sim::run(SimConfig::draw(seed), &RunOptions::default());
                let seconds = t.elapsed().as_secs_f64();
                let now = status_kib("VmHWM:").unwrap_or(0);
                if now > peak + 16 * 1024 {
                    jumps.push(json!({
                        "seed": seed,
                        "peak_kib": now,
                        "raised_kib": now - peak,
                        "seconds": seconds,
                        "history_ops": report.history_ops,
                        "linearizability": report.linearizability.as_ref().map(|v| v.to_string()),
                    }));
                }
                peak = peak.max(now);
                drop(report);
                let finished = seed + 1;
                if size >= 10 && finished.is_multiple_of(size / 10) {
                    release_free_memory();
                    checkpoints.push(json!({ "seeds": finished, "resident_kib": status_kib("VmRSS:"), "peak_kib": now }));
                }
            }
            json!({
                "seeds": size,
                "jobs": 1,
                "seeds_per_s": size as f64 / started.elapsed().as_secs_f64(),
                "peak_kib": peak_rss_kib(),
                "peak_raised_by": jumps,
                "checkpoints": checkpoints,
            })
        }
        // For profiling (valgrind --tool=callgrind): one replication run, batch = size.
        "raft-core" | "raft-rs" => raft_pair::profile(what, size.max(1)),
        other => {
            eprintln!("error: unknown bench child {other:?}");
            return ExitCode::from(2);
        }
    };
    let mut result = result;
    result["baseline_kib"] = json!(before);
    println!("{result}");
    ExitCode::SUCCESS
}

pub(super) fn run_child(what: &str, size: u64) -> Result<Value, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let out = std::process::Command::new(exe)
        .args(["bench", "--child", what, "--child-size", &size.to_string()])
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("spawn: {e}"))?;
    if !out.status.success() {
        return Err(format!("child exited with {}", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).map_err(|e| format!("child output {text:?}: {e}"))
}
