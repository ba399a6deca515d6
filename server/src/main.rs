//! `raft-kv`: runs one node of a raft-kv cluster. See `raft-kv --help` and the README.

use clap::Parser;
use raft_core::NodeId;
use raft_kv::config::{self, AddressBook, ServerConfig};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// One node of a raft-kv cluster: a raft-core node on real files and TCP, serving a
/// key-value store over HTTP (`GET /` lists the API). Logs go to stderr; set RUST_LOG
/// (e.g. `RUST_LOG=raft_kv=debug`). Failpoints can be set at start with FAILPOINTS
/// (`FAILPOINTS=fsync=sleep(50)`) or later over HTTP.
#[derive(Parser, Debug)]
#[command(name = "raft-kv", version)]
struct Args {
    /// This node's id (a positive integer).
    #[arg(long)]
    id: u64,
    /// The data directory (created if missing).
    #[arg(long)]
    data_dir: PathBuf,
    /// A node of the cluster, this one included: ID=RAFT_IP:PORT,HTTP_IP:PORT. Repeat for
    /// every node, including nodes that may join later.
    #[arg(long = "peer", value_name = "ID=RAFT,HTTP", required = true)]
    peers: Vec<String>,
    /// The voters of a new cluster (comma-separated ids); default: every --peer. Ignored
    /// once the data directory holds a membership.
    #[arg(long, value_name = "IDS")]
    voters: Option<String>,
    /// Length of a raft-core tick.
    #[arg(long, default_value_t = 50, value_name = "MS")]
    tick_ms: u64,
    /// Election timeout range in ticks, drawn uniformly from [MIN, MAX).
    #[arg(long, default_value = "10..20", value_name = "MIN..MAX")]
    election_ticks: String,
    /// Heartbeat interval in ticks.
    #[arg(long, default_value_t = 3, value_name = "TICKS")]
    heartbeat_ticks: u32,
    /// Take a snapshot (and compact the WAL) every this many applied entries; 0: never.
    /// The default is etcd's (--snapshot-count).
    #[arg(long, default_value_t = 100_000)]
    snapshot_every: u64,
    /// Answer a write "outcome unknown" (504) if it is not applied this long after proposing.
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    request_timeout_ms: u64,
}

fn parse_range(text: &str) -> Result<(u32, u32), String> {
    let (min, max) = text
        .split_once("..")
        .ok_or_else(|| format!("--election-ticks {text:?}: expected MIN..MAX"))?;
    let parse = |v: &str| {
        v.parse::<u32>()
            .map_err(|_| format!("--election-ticks {text:?}: {v:?} is not a number"))
    };
    Ok((parse(min)?, parse(max)?))
}

fn config(args: Args) -> Result<ServerConfig, String> {
    let mut book = AddressBook::default();
    for peer in &args.peers {
        let (id, addrs) = config::parse_peer(peer).map_err(|e| format!("--peer {e}"))?;
        if book.insert(id, addrs).is_some() {
            return Err(format!("--peer: node {} is listed twice", id.0));
        }
    }
    let voters = match &args.voters {
        Some(ids) => config::parse_ids(ids).map_err(|e| format!("--voters {e}"))?,
        None => book.ids(),
    };
    let config = ServerConfig {
        id: config::parse_id(&args.id.to_string())?,
        data_dir: args.data_dir,
        book,
        voters,
        tick: Duration::from_millis(args.tick_ms),
        election_ticks: parse_range(&args.election_ticks)?,
        heartbeat_ticks: args.heartbeat_ticks,
        snapshot_every: args.snapshot_every,
        request_timeout: Duration::from_millis(args.request_timeout_ms),
    };
    config.validate()?;
    Ok(config)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    tracing::info!("stopping");
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let config = match config(args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("raft-kv: {e}");
            return ExitCode::from(2);
        }
    };
    // Failpoints named in FAILPOINTS are set for the process's life.
    let _failpoints = fail::FailScenario::setup();
    let id: NodeId = config.id;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("raft-kv: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(raft_kv::run(config, shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(id = %id, error = %e, "stopped");
            eprintln!("raft-kv {id}: {e}");
            ExitCode::from(1)
        }
    }
}
