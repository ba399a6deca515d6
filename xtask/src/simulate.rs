//! `cargo xtask sim`: run one seed and print the drawn configuration, a summary, the verdict
//! and the trace hash; optionally the trace, its views, a determinism check and the failure
//! bundle.

use crate::flags::{repro, Overrides, Views};
use crate::shared::{check_output, usage_error, Exit};
use crate::sweep;
use clap::Args;
use sim::{RunOptions, RunReport, SimConfig};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct SimArgs {
    /// The seed, any u64 (default: 1).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    overrides: Overrides,
    /// Write the full trace as JSON lines to FILE.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Run the seed twice and report the first line where the traces diverge.
    #[arg(long)]
    check_determinism: bool,
    #[command(flatten)]
    views: Views,
    /// Where to write the failure bundle if the run fails (default:
    /// target/sim-bundles/seed-N.json).
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
}

pub fn sim_command(args: SimArgs) -> ExitCode {
    let config = match args.overrides.config(args.seed) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    // Every output is checked before the run: a failure must never be lost to a path that
    // cannot be written.
    let bundle_path = args
        .bundle
        .clone()
        .unwrap_or_else(|| sweep::default_bundle_path(args.seed));
    let checks = [
        args.trace
            .as_ref()
            .map_or(Ok(()), |p| check_output(p, "--trace")),
        args.views.check(),
        check_output(&bundle_path, "--bundle"),
    ];
    if let Some(Err(e)) = checks.into_iter().find(Result::is_err) {
        return usage_error(&e);
    }
    print_config(&config);
    if let Some(bug) = args.overrides.planted_bug() {
        println!("planted     {bug} (in every node)");
    }
    let options = RunOptions {
        keep_trace: args.trace.is_some() || args.check_determinism || args.views.wanted(),
        progress_every: 200_000,
        planted_bug: args.overrides.planted_bug(),
        ..RunOptions::default()
    };
    let show_progress = std::io::stderr().is_terminal();
    let report = sim::run_with_progress(config.clone(), &options, |now, end| {
        if show_progress {
            eprint!(
                "\r  virtual {:.1}s of {:.1}s",
                now as f64 / 1e6,
                end as f64 / 1e6
            );
        }
    });
    if show_progress {
        eprint!("\r\x1b[K");
    }
    let mut exit = Exit::of(report.verdict());
    let mut errors = Vec::new();
    // The failure first: its bundle is written before anything is printed (output piped into
    // a reader that stops early ends the process at the next print), then the summary, the
    // repro line and where the bundle is, before any optional output.
    let failure = (!report.passed()).then(|| {
        let command = repro(args.seed, &args.overrides);
        let written = sim::bundle::Bundle::from_report(&report, command.clone()).map(|mut b| {
            b.written_by = Some(crate::version::written_by());
            b.write(&bundle_path)
        });
        (command, written)
    });
    print_summary(&report);
    if let Some((command, written)) = failure {
        println!("repro       {command}");
        match written {
            Some(Ok(())) => println!(
                "bundle      {} (cargo xtask replay / shrink)",
                bundle_path.display()
            ),
            Some(Err(e)) => errors.push(format!("the failure bundle was not written: {e}")),
            None => {}
        }
    }
    if args.check_determinism {
        let again = sim::run(config, &options);
        match first_divergence(&report, &again) {
            None => println!(
                "determinism same trace twice ({} events, hash {:016x})",
                report.trace.len(),
                again.trace_hash
            ),
            Some((line, a, b)) => {
                println!(
                    "determinism DIVERGED at trace line {line}:\n  first:  {a}\n  second: {b}"
                );
                exit = exit.and(Exit::Fail);
            }
        }
    }
    if let Some(path) = &args.trace {
        let mut text = String::new();
        for event in &report.trace {
            text.push_str(&event.json());
            text.push('\n');
        }
        match std::fs::write(path, text) {
            Ok(()) => println!(
                "trace       {} events written to {}",
                report.trace.len(),
                path.display()
            ),
            Err(e) => errors.push(format!("cannot write the trace to {}: {e}", path.display())),
        }
    }
    errors.extend(args.views.write(&report, &format!("seed {}", args.seed)));
    for e in &errors {
        eprintln!("error: {e}");
    }
    if !errors.is_empty() {
        exit = exit.and(Exit::Error);
    }
    exit.into()
}

fn first_divergence(a: &RunReport, b: &RunReport) -> Option<(usize, String, String)> {
    let (ta, tb) = (&a.trace, &b.trace);
    for i in 0..ta.len().max(tb.len()) {
        let la = ta
            .get(i)
            .map(|e| e.canonical())
            .unwrap_or_else(|| "<end of trace>".into());
        let lb = tb
            .get(i)
            .map(|e| e.canonical())
            .unwrap_or_else(|| "<end of trace>".into());
        if la != lb {
            return Some((i + 1, la, lb));
        }
    }
    None
}

fn print_config(c: &SimConfig) {
    let f = &c.faults;
    let w = &c.workload;
    println!("seed        {}", c.seed);
    println!(
        "cluster     {} nodes ({} spare, outside the membership), tick {}us, election timeout {}..{} ticks, heartbeat {} ticks, {} entries/msg, {} in flight",
        c.nodes,
        c.faults.spare_nodes,
        c.tick_us,
        c.election_timeout_min_ticks,
        c.election_timeout_max_ticks,
        c.heartbeat_ticks,
        c.max_entries_per_message,
        c.max_inflight_messages
    );
    if !c.pre_vote_check_quorum {
        println!(
            "raft        PreVote and CheckQuorum off (liveness checked on a fully healed network)"
        );
    }
    println!(
        "network     latency {}..{}us (tail {}ppm up to {}us), drop {}ppm, duplicate {}ppm",
        c.latency.min_us,
        c.latency.max_us,
        c.latency.tail_ppm,
        c.latency.tail_max_us,
        f.drop_ppm,
        f.duplicate_ppm
    );
    println!(
        "disk        fsync {}..{}us, slow fsync {}ppm, torn write on crash {}ppm{}{}",
        c.fsync_min_us,
        c.fsync_max_us,
        f.slow_fsync_ppm,
        f.torn_write_ppm,
        match f.write_errors {
            0 => String::new(),
            n => format!(", {n} write/fsync errors"),
        },
        match f.disk_losses {
            0 => String::new(),
            n => format!(", {n} log disk losses"),
        }
    );
    if let Some(compaction) = c.compaction {
        println!(
            "compaction  a snapshot every {} applied entries, messages of at most {} bytes (snapshot chunks)",
            compaction.every_entries, compaction.max_bytes_per_message
        );
    }
    if let Some(cache) = c.log_cache {
        println!(
            "log cache   {} payload bytes in memory per node, log reads fail {}ppm",
            cache.bytes, cache.read_error_ppm
        );
    }
    println!(
        "nemesis     every ~{}ms: partition {} crash {} pause {} clog {} corrupt {} read-error {} transfer {} pause-apply {} snapshot {} membership {} (weights); clock drift {}ppm{}",
        f.nemesis_interval_us / 1000,
        f.partition_weight,
        f.crash_weight,
        f.pause_weight,
        f.clog_weight,
        f.corrupt_weight,
        f.read_error_weight,
        f.transfer_weight,
        f.pause_apply_weight,
        f.snapshot_weight,
        f.membership_weight,
        f.clock_drift_ppm,
        match f.clock_faults {
            0 => String::new(),
            n => format!(", {n} clock faults (rate, jump, stall)"),
        }
    );
    if c.state_machine == sim::StateMachine::Stream {
        let s = &c.stream;
        let l = &s.limits;
        println!(
            "stream      {} subjects, max {} messages (discard new), dedupe window {} sequences, batches of at most {} (at most {} open, abandoned after {}ms idle)",
            s.subjects, l.max_msgs, l.dedupe_window, l.max_batch, l.max_open_batches, l.batch_timeout_us / 1000
        );
        println!(
            "workload    {} clients, think {}..{}us, publish/batch/get/last {}/{}/{}/{}, batches of 2..{}, duplicate/expect/rollup {}/{}/{}ppm, {} attempts of {}ms",
            w.clients,
            w.think_min_us,
            w.think_max_us,
            s.publish_weight,
            s.batch_weight,
            s.get_weight,
            s.last_weight,
            s.batch_max_msgs,
            s.duplicate_ppm,
            s.expect_ppm,
            s.rollup_ppm,
            w.max_attempts,
            w.attempt_timeout_us / 1000
        );
    } else {
        println!(
        "workload    {} clients, {} keys, think {}..{}us, put/append/cas/get {}/{}/{}/{}, {} attempts of {}ms",
        w.clients,
        w.keys,
        w.think_min_us,
        w.think_max_us,
        w.put_weight,
        w.append_weight,
        w.cas_weight,
        w.get_weight,
        w.max_attempts,
        w.attempt_timeout_us / 1000
    );
    }
    if let Some(sticky) = w.sticky_readers {
        println!(
            "sticky      {} of the clients read where their last read succeeded, for {:.1}..{:.1}s after it",
            sticky.clients.min(w.clients),
            sticky.hold_min_us as f64 / 1e6,
            sticky.hold_max_us as f64 / 1e6
        );
    }
    println!(
        "phases      chaos {:.1}s, then liveness within {:.1}s",
        c.chaos_us as f64 / 1e6,
        c.liveness_bound_us() as f64 / 1e6
    );
}

pub fn print_summary(r: &RunReport) {
    let s = &r.stats;
    println!(
        "virtual     {:.3}s, {} events",
        r.end_time as f64 / 1e6,
        s.events
    );
    println!(
        "messages    {} sent, {} delivered, {} dropped, {} cut by partitions, {} duplicated",
        s.messages_sent,
        s.messages_delivered,
        s.messages_dropped,
        s.messages_partitioned,
        s.messages_duplicated
    );
    println!(
        "elections   {} campaigns, {} leaders, highest term {}",
        s.elections, s.leaders, s.max_term
    );
    println!("log         {} entries committed", s.entries_committed);
    let faults: Vec<String> = s.faults.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!(
        "faults      {}",
        if faults.is_empty() {
            "none".into()
        } else {
            faults.join(" ")
        }
    );
    println!(
        "recovery    {} torn tails dropped, {} read errors{}",
        s.torn_tails_dropped,
        s.read_errors,
        match s.write_errors {
            0 => String::new(),
            n => format!(", {n} persists failed by write errors"),
        }
    );
    println!(
        "damage      {} nodes damaged, {} repaired, {} halted, {} stopped",
        s.nodes_damaged, s.nodes_repaired, s.nodes_halted, s.corruption_detected
    );
    println!(
        "clients     {} ok, {} fail, {} unknown{}",
        s.ops_ok,
        s.ops_fail,
        s.ops_unknown,
        match s.sticky_reads {
            0 => String::new(),
            n => format!(
                "; {n} reads sent by affinity, {} of them to a deposed leader",
                s.sticky_reads_to_deposed_leader
            ),
        }
    );
    if let Some(t) = r.recovery_time {
        println!(
            "liveness    new write committed {:.3}s after the faults stopped",
            t as f64 / 1e6
        );
    }
    if let Some(v) = &r.linearizability {
        println!("history     {} operations: {v}", r.history_ops);
    }
    match (&r.violation, &r.linearizability) {
        (Some(v), _) => println!("verdict     FAIL {v}"),
        (None, Some(unknown @ sim::history::Verdict::Unknown { .. })) => {
            let why = unknown.to_string();
            println!(
                "verdict     UNKNOWN linearizability undecided ({}): not a pass",
                why.trim_start_matches("unknown: ")
            )
        }
        (None, _) => println!("verdict     PASS"),
    }
    println!("trace hash  {:016x}", r.trace_hash);
}
