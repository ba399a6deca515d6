//! # raft-kv: a key-value server on raft-core
//!
//! One process runs one raft-core node on real files and real sockets, and applies committed
//! entries to the key-value state machine the simulator uses (`state_machines::kv`). The
//! parts:
//!
//! - [`storage`]: raft-core's storage formats on files, its WAL recovery at start, and a
//!   storage thread with group commit (one fsync for everything that arrived during the
//!   previous one).
//! - [`transport`]: raft-core's messages in its envelope encoding over TCP, in
//!   length-delimited frames, with reconnection and a fault switch.
//! - [`host`]: the loop that owns the node and keeps its contract (actions in order,
//!   `persisted` only after the fsync, exactly the messages it releases), plus the tick.
//! - [`http`]: the client and admin API.
//!
//! [`run`] wires them together; the `raft-kv` binary is its command line.

pub mod config;
pub mod host;
pub mod http;
pub mod storage;
pub mod transport;

use config::ServerConfig;
use raft_core::{Config, Node};
use state_machines::kv::KvStore;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Why the server could not start or had to stop.
#[derive(Debug)]
pub enum ServerError {
    Config(String),
    Storage(storage::StorageError),
    /// The newest snapshot's data is not a key-value store.
    Snapshot {
        index: u64,
    },
    /// raft-core refused the configuration or the recovered state.
    Node(raft_core::ConfigError),
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    Fatal(host::Fatal),
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerError::Config(why) => write!(f, "configuration: {why}"),
            ServerError::Storage(e) => write!(f, "storage: {e}"),
            ServerError::Snapshot { index } => {
                write!(
                    f,
                    "the snapshot at index {index} does not decode as a key-value store"
                )
            }
            ServerError::Node(e) => write!(f, "raft-core refused the recovered state: {e}"),
            ServerError::Bind { what, addr, source } => {
                write!(f, "cannot listen for {what} on {addr}: {source}")
            }
            ServerError::Fatal(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ServerError {}

/// Requests queued for the host before HTTP connections wait.
const REQUEST_QUEUE: usize = 4096;
/// Peer messages queued for the host before peer connections wait.
const PEER_QUEUE: usize = 4096;

/// Runs a server until `shutdown` completes (a clean stop: the persists already issued are
/// finished) or a fatal error.
pub async fn run(config: ServerConfig, shutdown: impl Future) -> Result<(), ServerError> {
    config.validate().map_err(ServerError::Config)?;
    let me = config.id;
    let own = *config
        .book
        .get(me)
        .expect("validated: the node has an address");
    let opened = storage::open(&config.data_dir).map_err(ServerError::Storage)?;
    let report = &opened.report;
    tracing::info!(
        id = %me,
        dir = %config.data_dir.display(),
        wal_records = report.wal_records,
        torn_tail_bytes = report.torn_tail_bytes,
        snapshot = ?report.snapshot_index,
        log_entries = report.log_entries,
        wal_damage = report.wal_damage.as_deref().unwrap_or("none"),
        term_vote_copy_damaged = report.term_vote_copy_damaged.as_deref().unwrap_or("none"),
        answers_for = %report.answers_for.map_or("nothing".to_string(), |d| d.to_string()),
        term = opened.recovered.hard_state.term,
        "recovered"
    );
    let kv = match &opened.recovered.snapshot {
        Some(snapshot) => KvStore::from_bytes(&snapshot.data).ok_or(ServerError::Snapshot {
            index: snapshot.meta.index,
        })?,
        None => KvStore::default(),
    };
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ me.0.rotate_left(32);
    let mut node_config = Config::new(me, config.voters.clone(), seed);
    node_config.election_timeout_min = config.election_ticks.0;
    node_config.election_timeout_max = config.election_ticks.1;
    node_config.heartbeat_interval = config.heartbeat_ticks;
    let node = Node::new(node_config, opened.recovered).map_err(ServerError::Node)?;

    let raft_listener = TcpListener::bind(own.raft)
        .await
        .map_err(|source| ServerError::Bind {
            what: "peers",
            addr: own.raft,
            source,
        })?;
    let http_listener = TcpListener::bind(own.http)
        .await
        .map_err(|source| ServerError::Bind {
            what: "clients",
            addr: own.http,
            source,
        })?;

    let (storage_tx, storage_rx) = mpsc::unbounded_channel();
    let storage_counters = Arc::new(storage::writer::Counters::default());
    let writer = storage::writer::Writer::start(
        &config.data_dir,
        opened.mirror,
        storage_counters.clone(),
        move |event| {
            let _ = storage_tx.send(event);
        },
    )
    .map_err(ServerError::Storage)?;

    let faults = Arc::new(transport::faults::FaultSwitch::default());
    let transport_counters = Arc::new(transport::TransportCounters::default());
    let outbound =
        transport::Outbound::start(me, &config.book, faults.clone(), transport_counters.clone());
    let (peer_tx, peer_rx) = mpsc::channel(PEER_QUEUE);
    tokio::spawn(transport::listen(
        raft_listener,
        peer_tx,
        transport_counters.clone(),
    ));
    let (request_tx, request_rx) = mpsc::channel(REQUEST_QUEUE);
    let context = Arc::new(http::HttpContext {
        me,
        book: config.book.clone(),
        requests: request_tx,
        faults,
    });
    tokio::spawn(http::serve(http_listener, context));
    tracing::info!(id = %me, raft = %own.raft, http = %own.http, "listening");

    let host = host::Host::new(
        node,
        kv,
        writer,
        outbound,
        config,
        storage_counters,
        transport_counters,
    );
    let inputs = host::Inputs {
        peers: peer_rx,
        requests: request_rx,
        storage: storage_rx,
    };
    host.run(inputs, shutdown).await.map_err(ServerError::Fatal)
}
