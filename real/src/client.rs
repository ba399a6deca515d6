//! The key-value operations of the history, spoken to each system: raft-kv's HTTP API and
//! etcd's v3 HTTP/JSON gateway. Each answer is classified the way the history needs it: a
//! result, a definite "not executed", or unknown.

use crate::cluster::Addrs;
use crate::http::{self, ClientError, Connection, Response};
use base64::Engine;
use state_machines::kv::{KvOp, KvResult};
use std::net::SocketAddr;
use std::time::Duration;

/// How reads are asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    /// raft-kv ReadIndex; etcd linearizable range.
    Linearizable,
    /// raft-kv through the log; etcd as Linearizable.
    Log,
    /// raft-kv `read=local`; etcd `serializable: true`. Either may be stale.
    Stale,
}

impl Reads {
    pub fn parse(text: &str) -> Result<Reads, String> {
        match text {
            "linearizable" | "index" => Ok(Reads::Linearizable),
            "log" => Ok(Reads::Log),
            "stale" | "serializable" | "local" => Ok(Reads::Stale),
            other => Err(format!(
                "--reads {other:?}: expected linearizable (index), log, or serializable (local, stale)"
            )),
        }
    }
}

/// What came back from one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Ok(KvResult),
    /// Not executed: this node does not lead; the leader it named, if any.
    Redirect(Option<usize>),
    /// Not executed.
    Fail(String),
    /// May have been executed.
    Unknown(String),
}

/// A client of one system, with a connection to each node.
pub trait KvClient: Send {
    /// Performs `op` on `node` with the session `(client, seq)`.
    fn invoke(&mut self, node: usize, op: &KvOp, client: u32, seq: u64) -> Reply;
    /// Whether a retry after an unknown outcome is safe (the system deduplicates by session).
    fn exactly_once(&self) -> bool;
}

/// Percent-encodes everything but unreserved characters.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn transport_error(e: ClientError) -> Reply {
    match e {
        ClientError::NotSent(e) => Reply::Fail(format!("connect: {e}")),
        ClientError::Indeterminate(why) => Reply::Unknown(why),
    }
}

pub struct RaftKvClient {
    connections: Vec<Connection>,
    reads: Reads,
}

impl RaftKvClient {
    pub fn new(addrs: &[SocketAddr], reads: Reads, timeout: Duration) -> RaftKvClient {
        RaftKvClient {
            connections: addrs.iter().map(|&a| Connection::new(a, timeout)).collect(),
            reads,
        }
    }
}

impl KvClient for RaftKvClient {
    fn exactly_once(&self) -> bool {
        true
    }

    fn invoke(&mut self, node: usize, op: &KvOp, client: u32, seq: u64) -> Reply {
        let key = encode_component(op.key());
        let session = [
            ("client-id", client.to_string()),
            ("client-seq", seq.to_string()),
        ];
        let (method, target, headers, body): (&str, String, &[(&str, String)], &str) = match op {
            KvOp::Get { .. } => {
                let mode = match self.reads {
                    Reads::Linearizable => "index",
                    Reads::Log => "log",
                    Reads::Stale => "local",
                };
                ("GET", format!("/kv/{key}?read={mode}"), &[], "")
            }
            KvOp::Put { value, .. } => ("PUT", format!("/kv/{key}"), &session, value),
            KvOp::Append { value, .. } => ("POST", format!("/kv/{key}/append"), &session, value),
            KvOp::Cas { expected, new, .. } => {
                let query = match expected {
                    Some(v) => format!("expected={}", encode_component(v)),
                    None => "absent".to_string(),
                };
                ("POST", format!("/kv/{key}/cas?{query}"), &session, new)
            }
        };
        let response =
            match self.connections[node].request(method, &target, headers, body.as_bytes()) {
                Ok(r) => r,
                Err(e) => return transport_error(e),
            };
        classify_raft_kv(op, &response)
    }
}

/// raft-kv's status codes: 200/404/412 results, 307/503/409 not executed, 504 unknown.
pub fn classify_raft_kv(op: &KvOp, response: &Response) -> Reply {
    match (response.status, op) {
        (200, KvOp::Get { .. }) => Reply::Ok(KvResult::Value(Some(response.text()))),
        (404, KvOp::Get { .. }) => Reply::Ok(KvResult::Value(None)),
        (200, KvOp::Cas { .. }) => Reply::Ok(KvResult::Swapped(true)),
        (412, KvOp::Cas { .. }) => Reply::Ok(KvResult::Swapped(false)),
        (200, _) => Reply::Ok(KvResult::Done),
        (307, _) => Reply::Redirect(
            response
                .header("raft-leader")
                .and_then(|id| id.parse::<usize>().ok())
                .and_then(|id| id.checked_sub(1)),
        ),
        (503 | 409, _) => Reply::Fail(response.text().trim().to_string()),
        (status, _) => Reply::Unknown(format!("{status} {}", response.text().trim())),
    }
}

/// The leader node `addr` names in its status (node ids are index + 1), if it is ready.
pub fn raft_kv_leader(addr: SocketAddr, timeout: Duration) -> Option<usize> {
    let response = http::once(addr, "GET", "/status", b"", timeout).ok()?;
    let status: serde_json::Value = serde_json::from_slice(&response.body).ok()?;
    if status["ready_leader"].as_bool()? {
        let id = status["id"].as_u64()?;
        return (id as usize).checked_sub(1);
    }
    None
}

pub struct EtcdClient {
    connections: Vec<Connection>,
    serializable: bool,
}

impl EtcdClient {
    pub fn new(addrs: &[SocketAddr], reads: Reads, timeout: Duration) -> EtcdClient {
        EtcdClient {
            connections: addrs.iter().map(|&a| Connection::new(a, timeout)).collect(),
            serializable: reads == Reads::Stale,
        }
    }
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn unb64(value: &serde_json::Value) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.as_str()?)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// The JSON body of an etcd v3 gateway call for `op`.
pub fn etcd_request(op: &KvOp, serializable: bool) -> (&'static str, serde_json::Value) {
    use serde_json::json;
    match op {
        KvOp::Get { key } => (
            "/v3/kv/range",
            json!({"key": b64(key), "serializable": serializable}),
        ),
        KvOp::Put { key, value } => ("/v3/kv/put", json!({"key": b64(key), "value": b64(value)})),
        KvOp::Cas { key, expected, new } => {
            let compare = match expected {
                Some(v) => {
                    json!({"key": b64(key), "result": "EQUAL", "target": "VALUE", "value": b64(v)})
                }
                None => {
                    json!({"key": b64(key), "result": "EQUAL", "target": "CREATE", "create_revision": "0"})
                }
            };
            (
                "/v3/kv/txn",
                json!({"compare": [compare], "success": [{"request_put": {"key": b64(key), "value": b64(new)}}]}),
            )
        }
        // The workload sends etcd no appends (it has no such operation).
        KvOp::Append { key, .. } => ("/v3/kv/append-unsupported", json!({"key": b64(key)})),
    }
}

/// etcd's answer: 200 with the JSON result, or an error. Failed writes are unknown (etcd
/// may time out a proposal it later commits); failed reads changed nothing either way.
pub fn classify_etcd(op: &KvOp, response: &Response) -> Reply {
    let json: serde_json::Value = match serde_json::from_slice(&response.body) {
        Ok(json) => json,
        Err(_) => return Reply::Unknown(format!("{} {}", response.status, response.text())),
    };
    if response.status != 200 {
        let message = json["error"].as_str().unwrap_or("").to_string();
        return match op {
            KvOp::Get { .. } => Reply::Fail(message),
            _ => Reply::Unknown(message),
        };
    }
    match op {
        KvOp::Get { .. } => {
            let value = json["kvs"].get(0).and_then(|kv| unb64(&kv["value"]));
            Reply::Ok(KvResult::Value(value))
        }
        KvOp::Put { .. } => Reply::Ok(KvResult::Done),
        // The gateway leaves out fields with default values: no "succeeded" is false.
        KvOp::Cas { .. } => Reply::Ok(KvResult::Swapped(
            json["succeeded"].as_bool().unwrap_or(false),
        )),
        KvOp::Append { .. } => Reply::Fail("etcd has no append".into()),
    }
}

impl KvClient for EtcdClient {
    fn exactly_once(&self) -> bool {
        false
    }

    fn invoke(&mut self, node: usize, op: &KvOp, _client: u32, _seq: u64) -> Reply {
        if let KvOp::Append { .. } = op {
            return Reply::Fail("etcd has no append".into());
        }
        let (path, body) = etcd_request(op, self.serializable);
        let body = body.to_string();
        match self.connections[node].request("POST", path, &[], body.as_bytes()) {
            Ok(response) => classify_etcd(op, &response),
            Err(e) => transport_error(e),
        }
    }
}

/// The member `addr` reports as leader, as an index into `addrs` (matched by member id).
pub fn etcd_leader(addr: SocketAddr, timeout: Duration, addrs: &[Addrs]) -> Option<usize> {
    let response = http::once(addr, "POST", "/v3/maintenance/status", b"{}", timeout).ok()?;
    let status: serde_json::Value = serde_json::from_slice(&response.body).ok()?;
    let leader = status["leader"].as_str()?.to_string();
    if leader == "0" {
        return None;
    }
    // Ask each member its own id; the one whose id is the leader's is the leader.
    addrs.iter().position(|a| {
        http::once(a.client, "POST", "/v3/maintenance/status", b"{}", timeout)
            .ok()
            .and_then(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
            .and_then(|s| s["header"]["member_id"].as_str().map(|id| id == leader))
            .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn raft_kv_status_codes_classify() {
        let get = KvOp::Get { key: "k".into() };
        let cas = KvOp::Cas {
            key: "k".into(),
            expected: None,
            new: "v".into(),
        };
        let put = KvOp::Put {
            key: "k".into(),
            value: "v".into(),
        };
        assert_eq!(
            classify_raft_kv(&get, &response(200, &[], "v")),
            Reply::Ok(KvResult::Value(Some("v".into())))
        );
        assert_eq!(
            classify_raft_kv(&get, &response(404, &[], "")),
            Reply::Ok(KvResult::Value(None))
        );
        assert_eq!(
            classify_raft_kv(&cas, &response(412, &[], "")),
            Reply::Ok(KvResult::Swapped(false))
        );
        assert_eq!(
            classify_raft_kv(&put, &response(307, &[("raft-leader", "3")], "")),
            Reply::Redirect(Some(2))
        );
        assert!(matches!(
            classify_raft_kv(&put, &response(503, &[], "no")),
            Reply::Fail(_)
        ));
        assert!(matches!(
            classify_raft_kv(&put, &response(504, &[], "?")),
            Reply::Unknown(_)
        ));
    }

    #[test]
    fn etcd_requests_and_answers() {
        let cas = KvOp::Cas {
            key: "k".into(),
            expected: Some("a".into()),
            new: "b".into(),
        };
        let (path, body) = etcd_request(&cas, false);
        assert_eq!(path, "/v3/kv/txn");
        assert_eq!(body["compare"][0]["value"], "YQ==");
        assert_eq!(body["success"][0]["request_put"]["value"], "Yg==");
        let (_, body) = etcd_request(&KvOp::Get { key: "k".into() }, true);
        assert_eq!(body["serializable"], true);
        assert_eq!(
            classify_etcd(&cas, &response(200, &[], r#"{"header":{}}"#)),
            Reply::Ok(KvResult::Swapped(false))
        );
        let get = KvOp::Get { key: "k".into() };
        assert_eq!(
            classify_etcd(
                &get,
                &response(200, &[], r#"{"kvs":[{"key":"aw==","value":"dg=="}]}"#)
            ),
            Reply::Ok(KvResult::Value(Some("v".into())))
        );
        assert_eq!(
            classify_etcd(&get, &response(200, &[], "{}")),
            Reply::Ok(KvResult::Value(None))
        );
        let put = KvOp::Put {
            key: "k".into(),
            value: "v".into(),
        };
        assert!(matches!(
            classify_etcd(&put, &response(503, &[], r#"{"error":"etcdserver: request timed out","code":14}"#)),
            Reply::Unknown(m) if m.contains("timed out")
        ));
        assert_eq!(encode_component("a,b c"), "a%2Cb%20c");
    }
}
