//! `cluster`, `real` and `bench-real`: raft-kv (and etcd) as real processes. The work is in
//! the `real` crate; this module is the flags, building the server, and exit codes.

use crate::shared::usage_error;
use clap::Args;
use real::client::Reads;
use real::cluster::System;
use real::nemesis::Fault;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
}

/// Builds the raft-kv binary (release, like xtask itself) and returns its path, or uses
/// the one given.
fn raft_kv_binary(given: &Option<PathBuf>) -> Result<PathBuf, ExitCode> {
    if let Some(path) = given {
        return if path.is_file() {
            Ok(path.clone())
        } else {
            Err(usage_error(&format!(
                "--binary {}: no such file",
                path.display()
            )))
        };
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = workspace().join("Cargo.toml");
    eprintln!("==> cargo build --release -p raft-kv");
    let status = std::process::Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--release",
            "--package",
            "raft-kv",
            "--manifest-path",
        ])
        .arg(&manifest)
        .status();
    match status {
        Ok(s) if s.success() => Ok(target_dir().join("release").join("raft-kv")),
        other => {
            eprintln!("error: building raft-kv failed: {other:?}");
            Err(ExitCode::from(2))
        }
    }
}

/// The etcd binary: the one given (which must exist), else `etcd` on PATH.
fn etcd_binary(given: &Option<PathBuf>) -> Result<PathBuf, ExitCode> {
    match given {
        Some(path) if path.is_file() => Ok(path.clone()),
        Some(path) => Err(usage_error(&format!(
            "--etcd {}: no such file",
            path.display()
        ))),
        None => real::procs::which("etcd").ok_or_else(|| {
            usage_error(
                "etcd is not on PATH (apt-get install etcd-server) and --etcd was not given",
            )
        }),
    }
}

/// `30`, `30s`, `2m`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text.strip_suffix('m') {
        Some(n) => (n, 60.0),
        None => (text.strip_suffix('s').unwrap_or(text), 1.0),
    };
    // At most a day: a longer run is a typo, and `inf` or `1e308m` must not overflow.
    const LONGEST: f64 = 24.0 * 3600.0;
    number
        .parse::<f64>()
        .ok()
        .map(|n| n * unit)
        .filter(|secs| *secs > 0.0 && *secs <= LONGEST)
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| {
            format!("--time {text:?}: expected seconds (30, 30s) or minutes (2m), at most 24 hours")
        })
}

#[derive(Args)]
pub struct ClusterArgs {
    /// Voters.
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Extra nodes that start outside the membership, to add with the admin endpoint.
    #[arg(long, default_value_t = 0)]
    spares: usize,
    /// Node N listens for HTTP on this + N (8001, 8002, ...).
    #[arg(long, default_value_t = 8000)]
    http_base: u16,
    /// Node N listens for peers on this + N.
    #[arg(long, default_value_t = 7000)]
    raft_base: u16,
    /// Data directories and logs.
    #[arg(long, default_value = "target/cluster")]
    dir: PathBuf,
    /// Keep the data of an earlier run (the default starts empty).
    #[arg(long)]
    keep_data: bool,
    /// Use this raft-kv binary instead of building one.
    #[arg(long)]
    binary: Option<PathBuf>,
}

pub fn cluster_command(args: ClusterArgs) -> ExitCode {
    if args.nodes == 0 || args.nodes + args.spares > 99 {
        return usage_error("--nodes must be 1 or more, with --spares at most 99 in all");
    }
    let binary = match raft_kv_binary(&args.binary) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let options = real::local::LocalOptions {
        binary,
        nodes: args.nodes,
        spares: args.spares,
        http_base: args.http_base,
        raft_base: args.raft_base,
        dir: args.dir,
        fresh: !args.keep_data,
    };
    match real::local::run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

#[derive(Args)]
pub struct RealArgs {
    /// The system under test: raft-kv, or etcd (from PATH or --etcd).
    #[arg(long, default_value = "raft-kv")]
    system: String,
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// How long clients and the nemesis run (then faults heal and every key is read):
    /// seconds (30, 30s) or minutes (5m). CI runs the default.
    #[arg(long, default_value = "30s")]
    time: String,
    #[arg(long, default_value_t = 5)]
    clients: usize,
    /// Keys that take every operation (two append-only ledger keys come on top for raft-kv).
    #[arg(long, default_value_t = 4)]
    keys: usize,
    /// Faults: all, none, or a list of kill, pause, partition, loss, delay, disk-fail,
    /// disk-slow. Kinds a system or network cannot do are skipped and reported.
    #[arg(long, default_value = "all")]
    nemesis: String,
    /// linearizable (raft-kv ReadIndex), log (raft-kv through the log), or serializable
    /// (raft-kv local reads, etcd serializable ranges: both may be stale).
    #[arg(long, default_value = "linearizable")]
    reads: String,
    /// auto (namespaces if root with ip and iptables, else loopback), namespaces, loopback.
    #[arg(long, default_value = "auto")]
    network: String,
    /// Seeds the workload and the nemesis (default: the clock).
    #[arg(long)]
    seed: Option<u64>,
    /// Data directories and logs (kept when the run fails or with --keep).
    #[arg(long)]
    dir: Option<PathBuf>,
    #[arg(long)]
    keep: bool,
    /// A raft-kv binary to test instead of building one.
    #[arg(long)]
    binary: Option<PathBuf>,
    /// The etcd binary (default: `etcd` on PATH).
    #[arg(long)]
    etcd: Option<PathBuf>,
}

/// `verbose` (the global `-v`) prints the nemesis's steps as they happen.
pub fn real_command(args: RealArgs, verbose: bool) -> ExitCode {
    let duration = match parse_duration(&args.time) {
        Ok(d) => d,
        Err(e) => return usage_error(&e),
    };
    let faults = match Fault::parse_list(&args.nemesis) {
        Ok(f) => f,
        Err(e) => return usage_error(&e),
    };
    let reads = match Reads::parse(&args.reads) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    if args.nodes == 0 || args.nodes > 9 {
        return usage_error("--nodes must be between 1 and 9");
    }
    if args.clients == 0 || args.keys == 0 {
        return usage_error("--clients and --keys must be at least 1");
    }
    let system = match args.system.as_str() {
        "raft-kv" => match raft_kv_binary(&args.binary) {
            Ok(binary) => System::RaftKv { binary },
            Err(code) => return code,
        },
        "etcd" => match etcd_binary(&args.etcd) {
            Ok(binary) => System::Etcd { binary },
            Err(code) => return code,
        },
        other => return usage_error(&format!("--system {other:?}: expected raft-kv or etcd")),
    };
    let seed = args.seed.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let dir = args.dir.unwrap_or_else(|| {
        target_dir()
            .join("real")
            .join(format!("{}-{seed}", system.name()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    let options = real::run::Options {
        system,
        nodes: args.nodes,
        duration,
        clients: args.clients,
        keys: args.keys,
        faults,
        reads,
        network: args.network,
        seed,
        dir: dir.clone(),
        verbose,
    };
    match real::run::run(&options) {
        Ok(report) => {
            report.print();
            if report.passed() {
                if !args.keep {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                ExitCode::SUCCESS
            } else {
                println!("logs        {}/n*.log", dir.display());
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: the run could not be carried out: {e}");
            ExitCode::from(2)
        }
    }
}

#[derive(Args)]
pub struct BenchRealArgs {
    /// Client counts, one measurement each.
    #[arg(long, default_value = "1,16,64,256", value_delimiter = ',')]
    clients: Vec<usize>,
    /// Measured seconds per point (after the warm-up).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Bytes per value.
    #[arg(long, default_value_t = 256)]
    value_size: usize,
    /// Keys written (at random).
    #[arg(long, default_value_t = 1000)]
    keys: usize,
    /// The etcd binary (default: `etcd` on PATH).
    #[arg(long)]
    etcd: Option<PathBuf>,
    /// Measure raft-kv only.
    #[arg(long)]
    no_etcd: bool,
    #[arg(long)]
    binary: Option<PathBuf>,
    /// Write the points as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

pub fn bench_real_command(args: BenchRealArgs) -> ExitCode {
    if args.clients.is_empty() || args.clients.contains(&0) || args.seconds <= 0.0 {
        return usage_error("--clients needs counts of at least 1 and --seconds a positive time");
    }
    if let Some(path) = &args.json {
        // Checked before minutes of benchmarking, not after.
        if let Err(e) = crate::shared::check_output(path, "--json") {
            return usage_error(&e);
        }
    }
    let etcd = if args.no_etcd {
        None
    } else {
        match etcd_binary(&args.etcd) {
            Ok(e) => Some(e),
            Err(code) => {
                eprintln!("(--no-etcd measures raft-kv alone)");
                return code;
            }
        }
    };
    let raft_kv = match raft_kv_binary(&args.binary) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let options = real::bench::BenchOptions {
        raft_kv,
        etcd,
        nodes: args.nodes,
        clients: args.clients,
        seconds: args.seconds,
        warmup_seconds: args.warmup,
        value_size: args.value_size,
        keys: args.keys,
        dir: target_dir().join("bench-real"),
    };
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "machine     {} cores, load average {} before; {} nodes on loopback, {}-byte values, {} keys, {:.0}s per point after {:.0}s warm-up",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        options.nodes,
        options.value_size,
        options.keys,
        options.seconds,
        options.warmup_seconds
    );
    match real::bench::run(&options) {
        Ok((raft_kv, etcd)) => {
            print!("{}", real::bench::table(&raft_kv, &etcd));
            if let Some(path) = args.json {
                let points: Vec<serde_json::Value> = raft_kv
                    .iter()
                    .chain(&etcd)
                    .map(|p| {
                        serde_json::json!({
                            "system": p.system, "clients": p.clients, "writes": p.writes,
                            "errors": p.errors, "seconds": p.seconds,
                            "writes_per_second": p.writes_per_second(),
                            "p50_us": p.p50_us, "p99_us": p.p99_us, "p999_us": p.p999_us,
                            "entries_per_fsync": p.entries_per_fsync,
                        })
                    })
                    .collect();
                let text = serde_json::to_string_pretty(&points).expect("JSON renders") + "\n";
                if let Err(e) = crate::shared::write_file(&path, &text, "json") {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
