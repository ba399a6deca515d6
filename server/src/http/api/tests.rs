use super::*;
use crate::config::PeerAddrs;

fn request(method: &str, target: &str, headers: &[(&str, &str)], body: &str) -> HttpRequest {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    HttpRequest {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
        close: false,
    }
}

fn routed(method: &str, target: &str, body: &str) -> Result<Route, ApiError> {
    route(&request(method, target, &[], body))
}

#[test]
fn every_kv_operation_routes_to_its_call() {
    let read = |key: &str, mode| {
        Ok(Route::Host(Call::Read {
            key: key.into(),
            mode,
        }))
    };
    assert_eq!(routed("GET", "/kv/a", ""), read("a", ReadMode::Index));
    assert_eq!(
        routed("GET", "/kv/a?read=log", ""),
        read("a", ReadMode::Log)
    );
    assert_eq!(
        routed("GET", "/kv/a?read=local", ""),
        read("a", ReadMode::Local)
    );
    assert_eq!(routed("GET", "/kv/a%2Fb", ""), read("a/b", ReadMode::Index));
    let write = |op| Ok(Route::Host(Call::Write { op, session: None }));
    assert_eq!(
        routed("PUT", "/kv/k", "v1"),
        write(KvOp::Put {
            key: "k".into(),
            value: "v1".into()
        })
    );
    assert_eq!(
        routed("POST", "/kv/k/append", "x,"),
        write(KvOp::Append {
            key: "k".into(),
            value: "x,".into()
        })
    );
    assert_eq!(
        routed("POST", "/kv/k/cas?expected=v%261", "v2"),
        write(KvOp::Cas {
            key: "k".into(),
            expected: Some("v&1".into()),
            new: "v2".into()
        })
    );
    assert_eq!(
        routed("POST", "/kv/k/cas?absent", "v2"),
        write(KvOp::Cas {
            key: "k".into(),
            expected: None,
            new: "v2".into()
        })
    );
}

#[test]
fn admin_endpoints_route() {
    let host = |call| Ok(Route::Host(call));
    assert_eq!(routed("GET", "/status", ""), host(Call::Status));
    assert_eq!(
        routed("POST", "/admin/members/4/voter", ""),
        host(Call::Membership(MembershipChange::AddVoter(NodeId(4))))
    );
    assert_eq!(
        routed("POST", "/admin/members/5/observer", ""),
        host(Call::Membership(MembershipChange::AddObserver(NodeId(5))))
    );
    assert_eq!(
        routed("DELETE", "/admin/members/2", ""),
        host(Call::Membership(MembershipChange::RemovePeer(NodeId(2))))
    );
    assert_eq!(
        routed("POST", "/admin/transfer?to=3", ""),
        host(Call::Transfer(Some(NodeId(3))))
    );
    assert_eq!(
        routed("POST", "/admin/transfer", ""),
        host(Call::Transfer(None))
    );
    assert_eq!(routed("POST", "/admin/snapshot", ""), host(Call::Snapshot));
    assert_eq!(
        routed("POST", "/admin/faults", "cut 2\n\ndelay 3 20\n"),
        Ok(Route::Faults(vec![
            FaultCommand::Cut(NodeId(2)),
            FaultCommand::Delay(NodeId(3), 20)
        ]))
    );
    assert_eq!(
        routed("PUT", "/admin/failpoints/fsync", "sleep(100)\n"),
        Ok(Route::FailpointSet {
            name: "fsync".into(),
            actions: "sleep(100)".into()
        })
    );
    assert_eq!(routed("GET", "/", ""), Ok(Route::Help));
}

#[test]
fn sessions_are_checked() {
    let put = |headers: &[(&str, &str)]| route(&request("PUT", "/kv/k", headers, "v"));
    assert_eq!(
        put(&[("client-id", "3"), ("client-seq", "9")]),
        Ok(Route::Host(Call::Write {
            op: KvOp::Put {
                key: "k".into(),
                value: "v".into()
            },
            session: Some(Session { client: 3, seq: 9 }),
        }))
    );
    let err = put(&[("client-id", "3")]).unwrap_err();
    assert!(err.message.contains("go together"), "{err:?}");
    let err = put(&[("client-id", "2147483648"), ("client-seq", "1")]).unwrap_err();
    assert!(err.message.contains("reserved"), "{err:?}");
    let err = put(&[("client-id", "x"), ("client-seq", "1")]).unwrap_err();
    assert!(err.message.contains("not a number"), "{err:?}");
}

#[test]
fn bad_requests_say_what_is_wrong() {
    let status = |r: Result<Route, ApiError>| r.unwrap_err().status;
    let message = |r: Result<Route, ApiError>| r.unwrap_err().message;
    assert!(message(routed("PUT", "/kv/k", "a b")).contains("' ' at byte 1"));
    assert!(message(routed("PUT", "/kv/k", "-")).contains("reserved"));
    assert!(message(routed("PUT", "/kv/a%20b", "v")).contains("key has ' '"));
    assert!(message(routed("PUT", "/kv/%zz", "v")).contains("percent escape"));
    assert!(message(routed("GET", "/kv/k?read=fast", "")).contains("fast"));
    assert!(message(routed("POST", "/kv/k/cas", "v")).contains("exactly one"));
    assert!(message(routed("POST", "/kv/k/cas?expected=a&absent", "v")).contains("exactly one"));
    assert!(message(routed("POST", "/admin/members/0/voter", "")).contains("reserved"));
    assert!(message(routed("POST", "/admin/faults", "cut two")).contains("cut two"));
    assert_eq!(status(routed("DELETE", "/kv/k", "")), 405);
    assert_eq!(status(routed("GET", "/nothing", "")), 404);
    let long = "v".repeat(MAX_VALUE + 1);
    assert!(message(routed("PUT", "/kv/k", &long)).contains("limit"));
    let not_utf8 = HttpRequest {
        body: vec![0xff],
        ..request("PUT", "/kv/k", &[], "")
    };
    assert!(route(&not_utf8).unwrap_err().message.contains("UTF-8"));
}

#[test]
fn outcomes_render_to_status_codes_that_say_whether_it_happened() {
    let mut book = AddressBook::default();
    let addrs = |raft: &str, http: &str| PeerAddrs {
        raft: raft.parse().unwrap(),
        http: http.parse().unwrap(),
    };
    book.insert(NodeId(1), addrs("127.0.0.1:7001", "127.0.0.1:8001"));
    book.insert(NodeId(2), addrs("127.0.0.1:7002", "127.0.0.1:8002"));
    let me = NodeId(1);
    let r = |o| render(o, me, &book, "/kv/a?read=log");
    assert_eq!(
        r(Outcome::Value(Some("v".into()))),
        Reply {
            status: 200,
            headers: vec![],
            body: "v".into()
        }
    );
    assert_eq!(r(Outcome::Value(None)).status, 404);
    assert_eq!(r(Outcome::Done).body, "ok\n");
    assert_eq!(r(Outcome::Swapped(true)).status, 200);
    assert_eq!(r(Outcome::Swapped(false)).status, 412);
    let redirect = r(Outcome::NotLeader(Some(NodeId(2))));
    assert_eq!(redirect.status, 307);
    assert!(redirect.headers.contains(&(
        "location",
        "http://127.0.0.1:8002/kv/a?read=log".to_string()
    )));
    assert_eq!(r(Outcome::NotLeader(None)).status, 503);
    assert_eq!(r(Outcome::NotLeader(Some(NodeId(9)))).status, 503);
    assert_eq!(r(Outcome::NotLeader(Some(me))).status, 503);
    assert_eq!(r(Outcome::Unavailable("x".into())).status, 503);
    assert_eq!(r(Outcome::Refused("x".into())).status, 409);
    let unknown = r(Outcome::Unknown("timed out".into()));
    assert_eq!(
        (unknown.status, unknown.body.as_str()),
        (504, "outcome unknown: timed out\n")
    );
}
