//! Recovery after SIGKILL keeps every acknowledged write: writers append unique tokens to
//! one key and put unique keys while servers are killed (the leader, then all of them at
//! once); after each restart every acknowledged token and key is there, exactly once.
//!
//! A killed process's writes stay in the kernel's page cache, so this tests the write path,
//! recovery and the answers, not the fsync itself; `fsync_failpoint.rs` shows that an
//! acknowledgement waits for the fsync (a host that reported a persist before its fsync
//! would acknowledge the write there).

use real::client::{KvClient, Reads, Reply};
use real::cluster::{Cluster, System, Tuning};
use real::net::Network;
use state_machines::kv::{KvOp, KvResult};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Acknowledged writes: (append tokens, put keys).
type Acked = Arc<Mutex<(Vec<String>, Vec<String>)>>;

/// Performs `op` with session `(client, seq)` until it gets a result, following redirects;
/// None if it never did (then it may or may not have taken effect).
fn perform(
    client: &mut dyn KvClient,
    nodes: usize,
    op: &KvOp,
    id: u32,
    seq: u64,
) -> Option<KvResult> {
    let mut node = seq as usize % nodes;
    for _ in 0..40 {
        match client.invoke(node, op, id, seq) {
            Reply::Ok(result) => return Some(result),
            Reply::Redirect(Some(leader)) => node = leader,
            Reply::Redirect(None) | Reply::Fail(_) | Reply::Unknown(_) => {
                node = (node + 1) % nodes;
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    None
}

fn writer(
    cluster: &Cluster,
    id: u32,
    stop: Arc<AtomicBool>,
    acked: Acked,
) -> std::thread::JoinHandle<()> {
    let mut client = cluster.client(Reads::Linearizable, Duration::from_secs(2));
    let nodes = cluster.len();
    std::thread::spawn(move || {
        let mut seq = 0;
        while !stop.load(Ordering::Relaxed) {
            seq += 1;
            let token = format!("w{id}s{seq}");
            let op = if seq % 2 == 0 {
                KvOp::Append {
                    key: "ledger".into(),
                    value: format!("{token},"),
                }
            } else {
                KvOp::Put {
                    key: token.clone(),
                    value: "v".into(),
                }
            };
            if perform(client.as_mut(), nodes, &op, id, seq) == Some(KvResult::Done) {
                let mut acked = acked.lock().unwrap();
                match op {
                    KvOp::Append { .. } => acked.0.push(token),
                    _ => acked.1.push(token),
                }
            }
        }
    })
}

fn read(cluster: &Cluster, key: &str) -> Option<String> {
    let mut client = cluster.client(Reads::Linearizable, Duration::from_secs(2));
    match perform(
        client.as_mut(),
        cluster.len(),
        &KvOp::Get { key: key.into() },
        999,
        0,
    ) {
        Some(KvResult::Value(v)) => v,
        other => panic!("reading {key} after recovery: {other:?}"),
    }
}

/// Every acknowledged write is there, appends exactly once.
fn check(cluster: &Cluster, acked: &Acked, when: &str) {
    let (tokens, keys) = acked.lock().unwrap().clone();
    assert!(
        tokens.len() > 10 && keys.len() > 10,
        "{when}: too few writes acknowledged to test anything"
    );
    let ledger = read(cluster, "ledger").unwrap_or_default();
    let present: Vec<&str> = ledger.split(',').filter(|t| !t.is_empty()).collect();
    for token in &tokens {
        let count = present.iter().filter(|t| *t == token).count();
        assert_eq!(
            count, 1,
            "{when}: acknowledged append {token} is there {count} times"
        );
    }
    for key in &keys {
        assert_eq!(
            read(cluster, key).as_deref(),
            Some("v"),
            "{when}: acknowledged put of {key} lost"
        );
    }
    eprintln!(
        "{when}: {} appends and {} puts acknowledged, all recovered",
        tokens.len(),
        keys.len()
    );
}

#[test]
fn sigkill_loses_no_acknowledged_write() {
    let dir = std::env::temp_dir().join(format!("raft-kv-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let system = System::RaftKv {
        binary: env!("CARGO_BIN_EXE_raft-kv").into(),
    };
    let tuning = Tuning {
        raft_kv_snapshot_every: 200,
        ..Tuning::harness()
    };
    let mut cluster = Cluster::start(system, Network::Loopback, 3, &dir, &tuning).unwrap();
    let leader = cluster.wait_ready(Duration::from_secs(30)).unwrap();

    let acked: Acked = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (1..=4)
        .map(|id| writer(&cluster, id, stop.clone(), acked.clone()))
        .collect();
    std::thread::sleep(Duration::from_millis(1500));

    // The leader dies mid-write and comes back.
    cluster.kill(leader);
    std::thread::sleep(Duration::from_millis(1500));
    cluster.restart(leader).unwrap();
    std::thread::sleep(Duration::from_millis(1500));

    // Every node dies at once, writes in flight; then all restart from their disks.
    for node in 0..cluster.len() {
        cluster.kill(node);
    }
    std::thread::sleep(Duration::from_millis(300));
    for node in 0..cluster.len() {
        cluster.restart(node).unwrap();
    }
    cluster.wait_ready(Duration::from_secs(30)).unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    check(
        &cluster,
        &acked,
        "after killing the leader and then every node",
    );

    // Once more from a cold start: nothing but the disks.
    for node in 0..cluster.len() {
        cluster.kill(node);
    }
    for node in 0..cluster.len() {
        cluster.restart(node).unwrap();
    }
    cluster.wait_ready(Duration::from_secs(30)).unwrap();
    check(&cluster, &acked, "after a cold restart");
    cluster.stop_all();
    let _ = std::fs::remove_dir_all(&dir);
}
