//! The HTTP API against running servers (in this process, on loopback).

mod common;

use common::{raw, request, wait_for_leader, Server};
use raft_core::NodeId;

#[test]
fn a_single_node_serves_every_operation_with_its_status_code() {
    let dir = common::temp_dir("single");
    let book = common::book(1);
    let server = Server::start(1, &book, &[1], &dir);
    wait_for_leader(&[&server]);
    let at = server.http;
    let call = |method, target, body| request(at, method, target, body).expect("a response");

    assert_eq!(call("GET", "/kv/a", "").status, 404);
    let put = call("PUT", "/kv/a", "v1");
    assert_eq!((put.status, put.body.as_str()), (200, "ok\n"));
    assert_eq!(call("GET", "/kv/a", "").body, "v1");
    assert_eq!(call("POST", "/kv/a/append", ",x").status, 200);
    assert_eq!(call("GET", "/kv/a?read=log", "").body, "v1,x");
    assert_eq!(call("GET", "/kv/a?read=local", "").body, "v1,x");
    let cas = call("POST", "/kv/a/cas?expected=v1,x", "v2");
    assert_eq!((cas.status, cas.body.as_str()), (200, "swapped\n"));
    assert_eq!(call("POST", "/kv/a/cas?expected=v1,x", "v3").status, 412);
    assert_eq!(call("POST", "/kv/b/cas?absent", "new").status, 200);
    assert_eq!(call("POST", "/kv/b/cas?absent", "newer").status, 412);
    assert_eq!(call("GET", "/kv/b", "").body, "new");

    let bad = call("PUT", "/kv/a", "has space");
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("' '"), "{}", bad.body);
    assert_eq!(call("DELETE", "/kv/a", "").status, 405);
    assert_eq!(call("GET", "/nowhere", "").status, 404);
    assert!(call("GET", "/", "").body.contains("compare-and-set"));
    let status = call("GET", "/status", "");
    assert!(
        status.body.contains("\"role\":\"leader\""),
        "{}",
        status.body
    );
    server.stop().unwrap();
}

#[test]
fn sessions_make_a_retried_write_apply_once() {
    let dir = common::temp_dir("session");
    let book = common::book(1);
    let server = Server::start(1, &book, &[1], &dir);
    wait_for_leader(&[&server]);
    let append = |seq: u64| {
        let bytes = format!(
            "POST /kv/s/append HTTP/1.1\r\nclient-id: 5\r\nclient-seq: {seq}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nx,"
        );
        raw(server.http, bytes.as_bytes())
            .expect("a response")
            .status
    };
    assert_eq!(append(1), 200);
    assert_eq!(
        append(1),
        200,
        "the retry is answered with the remembered result"
    );
    assert_eq!(append(2), 200);
    let value = request(server.http, "GET", "/kv/s", "").unwrap();
    assert_eq!(value.body, "x,x,", "seq 1 applied once, seq 2 once");
    server.stop().unwrap();
}

#[test]
fn bad_requests_get_an_answer_and_never_stop_the_server() {
    let dir = common::temp_dir("garbage");
    let book = common::book(1);
    let server = Server::start(1, &book, &[1], &dir);
    wait_for_leader(&[&server]);
    for garbage in [
        &b"\x00\x01\x02 nonsense\r\n\r\n"[..],
        b"GET /kv/a HTTP/1.1\r\nContent-Length: -4\r\n\r\n",
        b"PUT /kv/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"PUT /kv/a HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n",
    ] {
        let response = raw(server.http, garbage).expect("an error response");
        assert!((400..500).contains(&response.status), "{response:?}");
    }
    // A request cut off in the middle gets no answer; the server carries on.
    assert!(raw(
        server.http,
        b"PUT /kv/a HTTP/1.1\r\nContent-Length: 10\r\n\r\nab"
    )
    .is_none());
    // Two requests on one connection are answered in order.
    let both = b"PUT /kv/k HTTP/1.1\r\ncontent-length: 1\r\n\r\nvGET /kv/k HTTP/1.1\r\nconnection: close\r\n\r\n";
    let mut stream = std::net::TcpStream::connect(server.http).unwrap();
    std::io::Write::write_all(&mut stream, both).unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(&mut stream, &mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.ends_with("\r\n\r\nv"), "{out}");
    assert_eq!(request(server.http, "GET", "/kv/k", "").unwrap().body, "v");
    server.stop().unwrap();
}

#[test]
fn followers_redirect_to_the_leader_and_membership_changes_through_the_admin_endpoint() {
    let dir = common::temp_dir("cluster");
    let book = common::book(4);
    // Node 4 is in every address book but starts outside the membership.
    let servers: Vec<Server> = (1..=4)
        .map(|id| Server::start(id, &book, &[1, 2, 3], &dir))
        .collect();
    let refs: Vec<&Server> = servers.iter().take(3).collect();
    let leader = wait_for_leader(&refs);
    let leader_http = book.get(leader).unwrap().http;
    let follower = servers
        .iter()
        .find(|s| s.id != leader && s.id != NodeId(4))
        .unwrap();

    let redirect = request(follower.http, "PUT", "/kv/r?x=1", "v").unwrap();
    assert_eq!(redirect.status, 307);
    assert_eq!(
        redirect.header("location"),
        Some(format!("http://{leader_http}/kv/r?x=1").as_str())
    );
    assert_eq!(
        redirect.header("raft-leader"),
        Some(leader.0.to_string().as_str())
    );
    assert_eq!(
        request(leader_http, "PUT", "/kv/r", "v").unwrap().status,
        200
    );

    // Add node 4 as a voter; it catches up and serves a local read of the value.
    let added = request(leader_http, "POST", "/admin/members/4/voter", "").unwrap();
    assert_eq!(added.status, 200, "{added:?}");
    let status = request(leader_http, "GET", "/status", "").unwrap();
    assert!(
        status.body.contains("\"voters\":[1,2,3,4]"),
        "{}",
        status.body
    );
    let four = &servers[3];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    // A request that fails (node 4 busy catching up on a loaded machine) is "not yet", as
    // the wait for a leader takes it; only the deadline fails the test.
    while request(four.http, "GET", "/kv/r?read=local", "").map(|r| r.body) != Some("v".into()) {
        assert!(
            std::time::Instant::now() < deadline,
            "node 4 never caught up"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Adding it again is refused for good (409); removing a non-member too.
    assert_eq!(
        request(leader_http, "POST", "/admin/members/4/voter", "")
            .unwrap()
            .status,
        409
    );
    assert_eq!(
        request(leader_http, "DELETE", "/admin/members/9", "")
            .unwrap()
            .status,
        409
    );
    let removed = request(leader_http, "DELETE", "/admin/members/4", "").unwrap();
    assert_eq!(removed.status, 200, "{removed:?}");
    let status = request(leader_http, "GET", "/status", "").unwrap();
    assert!(
        status.body.contains("\"voters\":[1,2,3]"),
        "{}",
        status.body
    );
    for server in servers {
        server.stop().unwrap();
    }
}
