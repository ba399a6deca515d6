//! The simulator's rows: the standard workload with checkers on and off (events per
//! CPU-second, time compression, the checkers' share), and how the cost grows with the
//! cluster size and the run length.

use super::report::{format_value, Row};
use super::timing::{median, timed, Timing};
use super::Plan;
use serde_json::{json, Value};
use sim::config::Faults;
use sim::{RunOptions, SimConfig};

/// The standard workload of the simulator rows: 5 nodes; a fixed client rate (4 closed-loop
/// clients, each waiting exactly 20 ms between an operation's completion and the next
/// invocation, over 3 keys with put/append/cas/get equally likely); the default fault mix
/// with every fault kind on at the middle of the range the swarm draws it from (no residual
/// partition in the liveness phase), gets through ReadIndex; every checker
/// on. Only the random streams change with the seed; the configuration is fixed.
pub fn standard_config(seed: u64, nodes: usize, chaos_secs: u64) -> SimConfig {
    let mut config = SimConfig::draw(seed);
    config.nodes = nodes;
    config.latency.min_us = 1_000;
    config.latency.max_us = 15_000;
    config.latency.tail_ppm = 20_000;
    config.latency.tail_max_us = 120_000;
    config.max_entries_per_message = 8;
    config.max_inflight_messages = 4;
    config.fsync_min_us = 100;
    config.fsync_max_us = 2_750;
    // From Faults::none(): a fault kind added later stays off here until someone picks its rate.
    config.faults = Faults::none();
    let f = &mut config.faults;
    f.drop_ppm = 50_000;
    f.duplicate_ppm = 25_000;
    f.partition_weight = 5;
    f.crash_weight = 5;
    f.pause_weight = 3;
    f.clog_weight = 3;
    f.corrupt_weight = 2;
    f.read_error_weight = 1;
    f.transfer_weight = 2;
    f.pause_apply_weight = 2;
    f.snapshot_weight = 2;
    f.nemesis_interval_us = 850_000;
    f.torn_write_ppm = 500_000;
    f.slow_fsync_ppm = 25_000;
    f.slow_fsync_max_us = 300_000;
    f.clock_drift_ppm = 50_000;
    let w = &mut config.workload;
    w.clients = 4;
    w.keys = 3;
    w.think_min_us = 20_000;
    w.think_max_us = 20_000;
    w.put_weight = 1;
    w.append_weight = 1;
    w.cas_weight = 1;
    w.get_weight = 1;
    w.attempt_timeout_us = 400_000;
    w.max_attempts = 30;
    w.read_index_gets = true;
    config.chaos_us = chaos_secs * 1_000_000;
    config.state_machine = sim::StateMachine::Kv;
    config
}

/// The standard workload's cluster and faults running the stream instead (the default
/// stream setup: publishes, batches of 2..4, reads), with the same clients and think time.
pub fn stream_config(seed: u64, nodes: usize, chaos_secs: u64) -> SimConfig {
    let mut config = standard_config(seed, nodes, chaos_secs);
    config.state_machine = sim::StateMachine::Stream;
    config.stream = sim::config::StreamSetup::default();
    config
}

/// The standard workload without the faults that restart a node (crash, and corruption and
/// read errors, which crash the node to reach recovery): every other fault stays on.
pub fn without_restarts(mut config: SimConfig) -> SimConfig {
    config.faults.crash_weight = 0;
    config.faults.corrupt_weight = 0;
    config.faults.read_error_weight = 0;
    config
}

/// One timed simulation run.
struct SimRun {
    events: u64,
    virtual_s: f64,
    timing: Timing,
    passed: bool,
}

fn time_run(config: SimConfig, checkers: bool) -> SimRun {
    let options = RunOptions {
        checkers,
        ..RunOptions::default()
    };
    let (report, timing) = timed(|| sim::run(config, &options));
    SimRun {
        events: report.stats.events,
        virtual_s: report.end_time as f64 / 1e6,
        timing,
        passed: report.passed(),
    }
}

/// The rates of runs of several seeds taken together.
#[derive(Clone, Copy, Debug)]
struct Rate {
    /// Events per CPU-second of the simulating thread (= per core).
    events_per_cpu_s: f64,
    events_per_wall_s: f64,
    /// Virtual seconds per wall second.
    compression: f64,
    /// Virtual seconds per CPU-second.
    compression_cpu: f64,
    /// Share of the wall time the thread waited for a CPU.
    waited: f64,
}

fn throughput(runs: &[SimRun]) -> Rate {
    let events = runs.iter().map(|r| r.events).sum::<u64>() as f64;
    let virtual_s: f64 = runs.iter().map(|r| r.virtual_s).sum();
    let t = runs.iter().fold(Timing::default(), |a, r| a + r.timing);
    let (wall, cpu) = (t.wall.as_secs_f64(), t.cpu.as_secs_f64());
    Rate {
        events_per_cpu_s: events / cpu,
        events_per_wall_s: events / wall,
        compression: virtual_s / wall,
        compression_cpu: virtual_s / cpu,
        waited: t.wait.as_secs_f64() / wall,
    }
}

/// The median of each field over repetitions.
fn median_rate(rates: &[Rate]) -> Rate {
    let m = |f: fn(&Rate) -> f64| median(rates.iter().map(f).collect());
    Rate {
        events_per_cpu_s: m(|r| r.events_per_cpu_s),
        events_per_wall_s: m(|r| r.events_per_wall_s),
        compression: m(|r| r.compression),
        compression_cpu: m(|r| r.compression_cpu),
        waited: m(|r| r.waited),
    }
}

pub(super) fn simulator_rows(
    plan: &Plan,
    rows: &mut Vec<Row>,
    details: &mut serde_json::Map<String, Value>,
) {
    let seeds = 1..=plan.standard_seeds;
    let (mut on, mut off) = (Vec::new(), Vec::new());
    let mut shape = None;
    // Warm-up (page faults, allocator growth, CPU frequency), not measured.
    time_run(standard_config(0, 5, 10), true);
    for _ in 0..plan.reps {
        let on_runs: Vec<SimRun> = seeds
            .clone()
            .map(|s| time_run(standard_config(s, 5, 10), true))
            .collect();
        let off_runs: Vec<SimRun> = seeds
            .clone()
            .map(|s| time_run(standard_config(s, 5, 10), false))
            .collect();
        on.push(throughput(&on_runs));
        off.push(throughput(&off_runs));
        shape = Some((
            on_runs.iter().map(|r| r.events).sum::<u64>(),
            on_runs.iter().map(|r| r.virtual_s).sum::<f64>(),
            on_runs.iter().filter(|r| r.passed).count(),
        ));
    }
    let (events, virtual_s, passed) = shape.expect("at least one repetition");
    let (on, off) = (median_rate(&on), median_rate(&off));
    let what = format!(
        "{} seed(s) x {:.1} virtual s, {} events/seed, {passed}/{} passed",
        plan.standard_seeds,
        virtual_s / plan.standard_seeds as f64,
        events / plan.standard_seeds,
        plan.standard_seeds
    );
    details.insert(
        "standard_workload".into(),
        json!({
            "definition": "5 nodes; 4 closed-loop clients, fixed 20 ms think time, 3 keys, put/append/cas/get 1/1/1/1, \
                           gets through ReadIndex; latency 1-15 ms (2% tail to 120 ms); fsync 0.1-2.75 ms; drop 5%, \
                           duplicate 2.5%, nemesis every ~850 ms (partition 5, crash 5, pause 3, clog 3, corrupt 2, \
                           read-error 1, leader transfer 2, pause-apply 2, snapshot 2), torn writes 50%, slow fsync \
                           2.5%, clock drift 5%; 10 s chaos then the liveness phase",
            "seeds": plan.standard_seeds,
            "events_per_seed": events / plan.standard_seeds,
            "virtual_s_per_seed": virtual_s / plan.standard_seeds as f64,
            "checkers_on": format!("{on:?}"),
            "checkers_off": format!("{off:?}"),
        }),
    );
    let wall_note = |r: &Rate| {
        format!(
            "per wall second {}; the thread waited for a CPU {:.0}% of the wall time",
            format_value(r.events_per_wall_s, "ev/s"),
            100.0 * r.waited
        )
    };
    rows.push(
        Row::new(
            "simulator",
            "standard workload, all checkers on: events per CPU-second",
            on.events_per_cpu_s,
            "ev/s",
        )
        .target(">= 3.5 M/s per core", on.events_per_cpu_s >= 3.5e6)
        .note(what),
    );
    rows.push(
        Row::new(
            "simulator",
            "  same, per wall second",
            on.events_per_wall_s,
            "ev/s",
        )
        .note(wall_note(&on)),
    );
    rows.push(
        Row::new(
            "simulator",
            "standard workload, all checkers on: time compression",
            on.compression,
            "x",
        )
        .target(">= 2500x", on.compression >= 2500.0)
        .note(format!(
            "virtual seconds per wall second; {} per CPU-second",
            format_value(on.compression_cpu, "x")
        )),
    );
    rows.push(Row::new(
        "simulator",
        "standard workload, checkers off: events per CPU-second",
        off.events_per_cpu_s,
        "ev/s",
    ));
    rows.push(
        Row::new(
            "simulator",
            "standard workload, checkers off: time compression",
            off.compression,
            "x",
        )
        .note(format!(
            "{} per CPU-second",
            format_value(off.compression_cpu, "x")
        )),
    );
    let share = 100.0 * (1.0 - on.events_per_cpu_s / off.events_per_cpu_s);
    rows.push(
        Row::new("simulator", "checkers' share of the CPU time", share, "%")
            .note("1 - (events per CPU-s, on) / (off); includes the final linearizability check"),
    );
}

pub(super) fn growth_rows(
    plan: &Plan,
    rows: &mut Vec<Row>,
    details: &mut serde_json::Map<String, Value>,
) {
    let mut sizes = serde_json::Map::new();
    let mut per_size = Vec::new();
    for nodes in [3, 5, 7] {
        let mut eps = Vec::new();
        for _ in 0..plan.reps {
            let runs: Vec<SimRun> = (1..=plan.standard_seeds)
                .map(|s| time_run(standard_config(s, nodes, 10), true))
                .collect();
            eps.push(throughput(&runs).events_per_cpu_s);
        }
        let eps = median(eps);
        per_size.push(eps);
        sizes.insert(format!("{nodes}"), json!(eps));
        rows.push(Row::new(
            "cost growth",
            format!("{nodes} nodes, 10 s: events per CPU-second"),
            eps,
            "ev/s",
        ));
    }
    // Run length: the standard workload, and the same without the faults that restart nodes
    // (a restarted node recovers its whole WAL and re-applies its whole log, so restarts cost
    // more as the log grows). Short runs average several seeds, long ones run one.
    let mut lengths = serde_json::Map::new();
    let mut ratios = Vec::new();
    for variant in ["standard", "no restarts"] {
        let mut per_length = Vec::new();
        for (i, &secs) in plan.lengths.iter().enumerate() {
            let seeds = [10, 2, 1][i.min(2)];
            let reps = if i == 0 { plan.reps } else { plan.reps.min(3) };
            let mut eps = Vec::new();
            let mut events = 0;
            for _ in 0..reps {
                let runs: Vec<SimRun> = (1..=seeds)
                    .map(|seed| {
                        let config = standard_config(seed, 5, secs);
                        let config = if variant == "standard" {
                            config
                        } else {
                            without_restarts(config)
                        };
                        time_run(config, true)
                    })
                    .collect();
                events = runs.iter().map(|r| r.events).sum::<u64>() / seeds;
                eps.push(throughput(&runs).events_per_cpu_s);
            }
            let eps = median(eps);
            per_length.push(eps);
            lengths.insert(
                format!("{variant}/{secs}"),
                json!({ "events_per_s": eps, "events_per_seed": events, "seeds": seeds }),
            );
            rows.push(
                Row::new(
                    "cost growth",
                    format!("{variant}, {secs} virtual s: events per CPU-second"),
                    eps,
                    "ev/s",
                )
                .note(format!("{events} events per run, {seeds} seed(s)")),
            );
        }
        let flat = per_length.last().unwrap() / per_length.first().unwrap();
        ratios.push(flat);
        let name = format!(
            "{variant}: events/s at {} s / at {} s",
            plan.lengths.last().unwrap(),
            plan.lengths[0]
        );
        let row = Row::new("cost growth", name, flat, "ratio").target("flat (>= 0.9)", flat >= 0.9);
        rows.push(if variant == "standard" {
            row
        } else {
            row.note("crash, corrupt and read-error weights 0; every other fault on")
        });
    }
    details.insert(
        "growth".into(),
        json!({ "nodes": sizes, "virtual_seconds": lengths, "flatness": ratios }),
    );
}
