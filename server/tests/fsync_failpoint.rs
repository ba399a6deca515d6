//! The `fsync` failpoint: a failing fsync stops the server before it acknowledges anything
//! that depended on it, and the data directory still recovers; a slow fsync only slows.
//! (A test binary of its own: failpoints are process-wide.)

mod common;

use common::{request, wait_for_leader, Server};
use std::time::Duration;

#[test]
fn a_failing_fsync_stops_the_server_unacknowledged_and_it_recovers() {
    let dir = common::temp_dir("fsync");
    let book = common::book(1);
    let server = Server::start(1, &book, &[1], &dir);
    wait_for_leader(&[&server]);
    assert_eq!(
        request(server.http, "PUT", "/kv/a", "before")
            .unwrap()
            .status,
        200
    );

    // Slow: the write still succeeds.
    assert_eq!(
        request(server.http, "PUT", "/admin/failpoints/fsync", "sleep(100)")
            .unwrap()
            .status,
        200
    );
    assert_eq!(
        request(server.http, "PUT", "/kv/a", "slow").unwrap().status,
        200
    );

    // Failing: the write is never acknowledged, and the server stops with the storage error.
    assert_eq!(
        request(server.http, "PUT", "/admin/failpoints/fsync", "return")
            .unwrap()
            .status,
        200
    );
    let put = request(server.http, "PUT", "/kv/a", "lost");
    assert!(
        put.as_ref().is_none_or(|r| r.status != 200),
        "acknowledged without fsync: {put:?}"
    );
    let ended = server
        .ended(Duration::from_secs(10))
        .expect("the server stopped");
    let error = ended.unwrap_err();
    assert!(
        error.contains("fsync") && error.contains("failpoint"),
        "{error}"
    );
    drop(server);

    // Restarted on the same directory (failpoint cleared), it recovers every acknowledged
    // write.
    fail::remove("fsync");
    let server = Server::start(1, &book, &[1], &dir);
    wait_for_leader(&[&server]);
    let value = request(server.http, "GET", "/kv/a", "").unwrap();
    assert!(value.body == "slow" || value.body == "lost", "{value:?}");
    server.stop().unwrap();
}
