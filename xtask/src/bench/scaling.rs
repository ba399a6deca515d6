//! The sweep's scaling: swarm seeds on 1 and 2 jobs, in process, seeds per wall second and
//! per CPU-second of the workers.

use super::report::Row;
use super::timing::{median, thread_cpu_time};
use super::Plan;
use sim::{RunOptions, SimConfig};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub(super) fn sweep_rows(plan: &Plan, rows: &mut Vec<Row>) {
    let seeds = plan.sweep_seeds;
    let (mut one, mut two) = (Vec::new(), Vec::new());
    for rep in 0..plan.reps.min(3) {
        // A different seed range each repetition, the same range for both job counts.
        let from = 100_000 + rep as u64 * seeds;
        one.push(sweep_rate(from, seeds, 1));
        two.push(sweep_rate(from, seeds, 2));
    }
    let m = |v: &[SweepRate], f: fn(&SweepRate) -> f64| median(v.iter().map(f).collect());
    let (one_wall, two_wall) = (m(&one, |r| r.per_wall_s), m(&two, |r| r.per_wall_s));
    let (one_cpu, two_cpu) = (m(&one, |r| r.per_cpu_s), m(&two, |r| r.per_cpu_s));
    let cores_used = m(&two, |r| r.cpu_per_wall);
    let note = format!("{seeds} swarm seeds (SimConfig::draw) per repetition, all checkers on");
    rows.push(Row::new("sweep", "1 job: seeds/s", one_wall, "seeds/s").note(note));
    rows.push(
        Row::new("sweep", "2 jobs: seeds/s", two_wall, "seeds/s").note(format!(
        "the 2 worker threads were on a CPU {cores_used:.2} s per wall second (2.00 = both cores)"
    )),
    );
    let ratio = two_wall / one_wall;
    rows.push(
        Row::new("sweep", "2 jobs / 1 job (wall clock)", ratio, "ratio")
            .target(">= 1.9", ratio >= 1.9),
    );
    // Seeds per CPU-second of the workers: 1.00 means a second job costs nothing per seed
    // (no contention in the code, allocator or caches); 2 jobs then give 2x on two free cores.
    let efficiency = two_cpu / one_cpu;
    rows.push(
        Row::new(
            "sweep",
            "seeds per CPU-second, 2 jobs / 1 job",
            efficiency,
            "ratio",
        )
        .note(format!(
            "parallel efficiency; on two idle cores 2 jobs would give about {:.2}x",
            2.0 * efficiency
        )),
    );
}

/// What one in-process sweep achieved.
struct SweepRate {
    per_wall_s: f64,
    /// Seeds per CPU-second of the worker threads together.
    per_cpu_s: f64,
    /// CPU-seconds the workers got per wall second.
    cpu_per_wall: f64,
}

/// An in-process sweep: threads pull seeds from a shared counter.
fn sweep_rate(from: u64, count: u64, jobs: usize) -> SweepRate {
    let next = AtomicU64::new(from);
    let started = Instant::now();
    let cpu: Duration = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| {
                    let start = thread_cpu_time();
                    loop {
                        let seed = next.fetch_add(1, Ordering::Relaxed);
                        if seed >= from + count {
                            break;
                        }
                        let report = sim::run(SimConfig::draw(seed), &RunOptions::default());
                        std::hint::black_box(report.trace_hash);
                    }
                    match (start, thread_cpu_time()) {
                        (Some(a), Some(b)) => b.saturating_sub(a),
                        _ => Duration::ZERO,
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("sweep worker"))
            .sum()
    });
    let wall = started.elapsed().as_secs_f64();
    let cpu = if cpu.is_zero() {
        wall * jobs as f64
    } else {
        cpu.as_secs_f64()
    };
    SweepRate {
        per_wall_s: count as f64 / wall,
        per_cpu_s: count as f64 / cpu,
        cpu_per_wall: cpu / wall,
    }
}
