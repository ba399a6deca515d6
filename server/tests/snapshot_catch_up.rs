//! A follower that was down while the leader compacted its log catches up from the leader's
//! snapshot (InstallSnapshot, then `ApplySnapshot` into the store), and keeps it across a
//! restart.

mod common;

use common::{request, wait_up, Server, ThreeServers};
use std::time::{Duration, Instant};

fn status_field(body: &str, field: &str) -> u64 {
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    json[field].as_u64().unwrap()
}

#[test]
fn a_follower_behind_a_compacted_log_installs_the_leaders_snapshot() {
    let dir = common::temp_dir("snapshot");
    let mut cluster = ThreeServers::start(&dir);
    let lagging = cluster.follower;
    let leader_http = cluster.http(cluster.leader);
    let book = cluster.book.clone();

    // The follower goes down; the cluster writes on and the leader compacts its log.
    cluster.servers[lagging as usize - 1]
        .take()
        .unwrap()
        .stop()
        .unwrap();
    for i in 0..50 {
        let put = request(leader_http, "PUT", &format!("/kv/k{i}"), &format!("v{i}")).unwrap();
        assert_eq!(put.status, 200);
    }
    assert_eq!(
        request(leader_http, "POST", "/admin/snapshot", "")
            .unwrap()
            .status,
        200
    );
    let status = request(leader_http, "GET", "/status", "").unwrap();
    assert!(
        status_field(&status.body, "snapshot_index") >= 50,
        "{}",
        status.body
    );

    // Appends the leader sent while the follower was down wait in its transport's queue until
    // the next failed attempt to reach it drops them: let one such attempt pass, or a queued
    // append from before the snapshot could catch the follower up without it (under load).
    std::thread::sleep(2 * raft_kv::transport::BACKOFF_MAX);

    // Back up, it can only catch up from the snapshot: the entries it lacks are gone.
    let back = Server::start(lagging, &book, &[1, 2, 3], &dir);
    wait_up(&back);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let value = request(back.http, "GET", "/kv/k49?read=local", "").unwrap();
        if value.body == "v49" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the follower never caught up: {value:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = request(back.http, "GET", "/status", "").unwrap();
    assert!(
        status_field(&status.body, "snapshot_index") >= 50,
        "{}",
        status.body
    );
    assert_eq!(
        request(back.http, "GET", "/kv/k0?read=local", "")
            .unwrap()
            .body,
        "v0"
    );

    // Restarted, it recovers from its own snapshot file and WAL.
    back.stop().unwrap();
    let again = Server::start(lagging, &book, &[1, 2, 3], &dir);
    wait_up(&again);
    assert_eq!(
        request(again.http, "GET", "/kv/k17?read=local", "")
            .unwrap()
            .body,
        "v17"
    );
    again.stop().unwrap();
    cluster.stop();
}
