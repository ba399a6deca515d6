//! A server whose WAL was damaged while it was down (a flipped bit inside a synced record)
//! starts anyway, answers for the log it held, and is repaired by its leader: every write it
//! had is back, and a later start finds no damage.

mod common;

use common::{request, wait_up, Server, ThreeServers};
use std::time::{Duration, Instant};

fn status_json(server: &Server) -> serde_json::Value {
    let status = request(server.http, "GET", "/status", "").unwrap();
    serde_json::from_str(&status.body).unwrap()
}

/// Waits until `server` serves `key` = `value` from its own store.
fn wait_for_local(server: &Server, key: &str, value: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = request(server.http, "GET", &format!("/kv/{key}?read=local"), "").unwrap();
        if got.body == value {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{key} never became {value} on {}: {got:?} (status {})",
            server.id,
            status_json(server)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_server_started_on_a_damaged_wal_is_repaired_by_its_leader() {
    let dir = common::temp_dir("damaged-wal");
    let mut cluster = ThreeServers::start(&dir);
    let leader_http = cluster.http(cluster.leader);
    let book = cluster.book.clone();
    for i in 0..30 {
        let put = request(leader_http, "PUT", &format!("/kv/k{i}"), &format!("v{i}")).unwrap();
        assert_eq!(put.status, 200);
    }
    let follower = cluster.follower;
    let slot = follower as usize - 1;
    wait_for_local(cluster.servers[slot].as_ref().unwrap(), "k29", "v29");
    cluster.servers[slot].take().unwrap().stop().unwrap();

    // A bit flips inside the first record's payload (after its 12-byte header): the
    // entries it held are gone from this disk, and only the leader has them.
    let data = dir.join(format!("n{follower}"));
    let wal = data.join("wal.log");
    let mut bytes = std::fs::read(&wal).unwrap();
    assert!(bytes.len() > 64, "the WAL holds the writes");
    bytes[20] ^= 0x01;
    std::fs::write(&wal, &bytes).unwrap();

    let back = Server::start(follower, &book, &[1, 2, 3], &dir);
    wait_up(&back);
    assert!(back.ended(Duration::ZERO).is_none(), "the server stopped");
    for i in [0, 15, 29] {
        wait_for_local(&back, &format!("k{i}"), &format!("v{i}"));
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while !status_json(&back)["repairing"].is_null() {
        assert!(
            Instant::now() < deadline,
            "never repaired: {}",
            status_json(&back)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    back.stop().unwrap();
    let damage_file = std::fs::read(data.join("damage.idx")).unwrap();
    assert!(
        damage_file.is_empty(),
        "the damage file outlived the repair"
    );

    // Started again, it finds its repaired log and nothing to answer for.
    let again = Server::start(follower, &book, &[1, 2, 3], &dir);
    wait_up(&again);
    assert!(status_json(&again)["repairing"].is_null());
    wait_for_local(&again, "k0", "v0");
    again.stop().unwrap();
    cluster.stop();
}
