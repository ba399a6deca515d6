//! The HTTP API: which request means which call ([`route`]) and how an outcome is answered
//! ([`render`]). Both are pure, so they are tested without sockets.
//!
//! | request | call |
//! |---|---|
//! | `GET /kv/KEY` (`?read=index`, the default; `log`; `local`) | read |
//! | `PUT /kv/KEY` with the value as body | put |
//! | `POST /kv/KEY/append` with the value as body | append |
//! | `POST /kv/KEY/cas?expected=OLD` (or `?absent`) with the new value as body | compare-and-set |
//! | `GET /status` | the node's role, term, indexes, membership, counters (JSON) |
//! | `POST /admin/members/ID/voter`, `.../observer`; `DELETE /admin/members/ID` | membership |
//! | `POST /admin/transfer` (`?to=ID`) | leader transfer |
//! | `POST /admin/snapshot` | snapshot now |
//! | `GET`/`POST /admin/faults` | the transport's fault switch |
//! | `GET /admin/failpoints`; `PUT`/`DELETE /admin/failpoints/NAME` | failpoints |
//!
//! Writes may carry a session (`client-id` below 2^31 and `client-seq` headers) that makes a
//! retry exactly-once. Status codes say whether a request took effect: 200, 404 (absent) and
//! 412 (compare-and-set did not swap) are results; 307 (to the leader), 400, 409 and 503
//! mean it was not executed; 504 means it may have been.

use super::parse::{percent_decode, query_pairs, HttpRequest};
use crate::config::AddressBook;
use crate::host::{Call, Outcome, ReadMode, Session, ANONYMOUS_CLIENTS};
use crate::transport::faults::FaultCommand;
use raft_core::{MembershipChange, NodeId};
use state_machines::kv::KvOp;

/// Longest key, in bytes.
pub const MAX_KEY: usize = 1024;
/// Longest value, in bytes.
pub const MAX_VALUE: usize = 64 * 1024;

/// What a request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// Answered by the host.
    Host(Call),
    Help,
    Faults(Vec<FaultCommand>),
    FaultsList,
    FailpointSet {
        name: String,
        actions: String,
    },
    FailpointRemove {
        name: String,
    },
    FailpointList,
}

/// A request the API refuses before it reaches the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError {
        status: 400,
        message: message.into(),
    }
}

/// The text of keys and values: printable ASCII without spaces, because the command
/// encoding in the log separates fields with spaces and writes `-` for "absent".
fn check_text(what: &str, text: &str, max: usize) -> Result<(), ApiError> {
    if text.len() > max {
        return Err(bad(format!(
            "{what} is {} bytes; the limit is {max}",
            text.len()
        )));
    }
    if let Some((at, c)) = text.char_indices().find(|(_, c)| !c.is_ascii_graphic()) {
        return Err(bad(format!(
            "{what} has {c:?} at byte {at}; keys and values are printable ASCII without spaces"
        )));
    }
    if text == "-" {
        return Err(bad(format!(
            "{what} \"-\" is reserved (it stands for \"absent\")"
        )));
    }
    Ok(())
}

fn key(segment: &str) -> Result<String, ApiError> {
    let key = percent_decode(segment).map_err(|e| bad(format!("key: {e}")))?;
    if key.is_empty() {
        return Err(bad("empty key"));
    }
    check_text("key", &key, MAX_KEY)?;
    Ok(key)
}

fn body_text(request: &HttpRequest) -> Result<String, ApiError> {
    let text = String::from_utf8(request.body.clone())
        .map_err(|_| bad("the value (the body) is not UTF-8"))?;
    check_text("value", &text, MAX_VALUE)?;
    Ok(text)
}

fn session(request: &HttpRequest) -> Result<Option<Session>, ApiError> {
    match (request.header("client-id"), request.header("client-seq")) {
        (None, None) => Ok(None),
        (Some(client), Some(seq)) => {
            let client: u32 = client
                .parse()
                .map_err(|_| bad(format!("client-id {client:?} is not a number")))?;
            if client >= ANONYMOUS_CLIENTS {
                return Err(bad(format!(
                    "client-id {client} is reserved (ids from {ANONYMOUS_CLIENTS} are the server's)"
                )));
            }
            let seq = seq
                .parse()
                .map_err(|_| bad(format!("client-seq {seq:?} is not a number")))?;
            Ok(Some(Session { client, seq }))
        }
        _ => Err(bad("client-id and client-seq go together")),
    }
}

fn node_id(segment: &str) -> Result<NodeId, ApiError> {
    crate::config::parse_id(segment).map_err(bad)
}

/// Maps a request to what it asks for.
pub fn route(request: &HttpRequest) -> Result<Route, ApiError> {
    let query = query_pairs(&request.query).map_err(|e| bad(format!("query: {e}")))?;
    let param = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let segments: Vec<&str> = request.path.trim_start_matches('/').split('/').collect();
    let method = request.method.as_str();
    let host = |call| Ok(Route::Host(call));
    match (method, segments.as_slice()) {
        ("GET", [""]) => Ok(Route::Help),
        ("GET", ["status"]) => host(Call::Status),
        ("GET", ["kv", k]) => {
            let mode = match param("read") {
                None | Some("index") => ReadMode::Index,
                Some("log") => ReadMode::Log,
                Some("local") => ReadMode::Local,
                Some(other) => {
                    return Err(bad(format!("read={other:?}: expected index, log or local")))
                }
            };
            host(Call::Read { key: key(k)?, mode })
        }
        ("PUT", ["kv", k]) => host(Call::Write {
            op: KvOp::Put {
                key: key(k)?,
                value: body_text(request)?,
            },
            session: session(request)?,
        }),
        ("POST", ["kv", k, "append"]) => host(Call::Write {
            op: KvOp::Append {
                key: key(k)?,
                value: body_text(request)?,
            },
            session: session(request)?,
        }),
        ("POST", ["kv", k, "cas"]) => {
            let expected = match (param("expected"), param("absent")) {
                (Some(v), None) => {
                    check_text("expected value", v, MAX_VALUE)?;
                    Some(v.to_string())
                }
                (None, Some(_)) => None,
                _ => return Err(bad("cas needs exactly one of ?expected=VALUE and ?absent")),
            };
            host(Call::Write {
                op: KvOp::Cas {
                    key: key(k)?,
                    expected,
                    new: body_text(request)?,
                },
                session: session(request)?,
            })
        }
        ("POST", ["admin", "members", id, "voter"]) => {
            host(Call::Membership(MembershipChange::AddVoter(node_id(id)?)))
        }
        ("POST", ["admin", "members", id, "observer"]) => host(Call::Membership(
            MembershipChange::AddObserver(node_id(id)?),
        )),
        ("DELETE", ["admin", "members", id]) => {
            host(Call::Membership(MembershipChange::RemovePeer(node_id(id)?)))
        }
        ("POST", ["admin", "transfer"]) => {
            let to = param("to").map(node_id).transpose()?;
            host(Call::Transfer(to))
        }
        ("POST", ["admin", "snapshot"]) => host(Call::Snapshot),
        ("GET", ["admin", "faults"]) => Ok(Route::FaultsList),
        ("POST", ["admin", "faults"]) => {
            let text = String::from_utf8_lossy(&request.body);
            let commands = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(FaultCommand::parse)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(e.to_string()))?;
            Ok(Route::Faults(commands))
        }
        ("GET", ["admin", "failpoints"]) => Ok(Route::FailpointList),
        ("PUT", ["admin", "failpoints", name]) => Ok(Route::FailpointSet {
            name: name.to_string(),
            actions: String::from_utf8_lossy(&request.body).trim().to_string(),
        }),
        ("DELETE", ["admin", "failpoints", name]) => Ok(Route::FailpointRemove {
            name: name.to_string(),
        }),
        (_, ["kv", ..] | ["status"] | ["admin", ..]) => Err(ApiError {
            status: 405,
            message: format!("{method} is not allowed on {}", request.path),
        }),
        _ => Err(ApiError {
            status: 404,
            message: format!("no such endpoint: {} (GET / lists them)", request.path),
        }),
    }
}

/// A response before it is written: status, extra headers, body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Reply {
    pub fn text(status: u16, body: impl Into<String>) -> Reply {
        let mut body = body.into();
        if !body.ends_with('\n') {
            body.push('\n');
        }
        Reply {
            status,
            headers: Vec::new(),
            body,
        }
    }
}

/// Answers an outcome. `target` is the request's path and query, for a redirect.
pub fn render(outcome: Outcome, me: NodeId, book: &AddressBook, target: &str) -> Reply {
    match outcome {
        // A value is the body as it is (no newline added): what was put is what is read.
        Outcome::Value(Some(value)) => Reply {
            status: 200,
            headers: Vec::new(),
            body: value,
        },
        Outcome::Value(None) => Reply::text(404, "not found"),
        Outcome::Done => Reply::text(200, "ok"),
        Outcome::Swapped(true) => Reply::text(200, "swapped"),
        Outcome::Swapped(false) => Reply::text(412, "not swapped"),
        Outcome::NotLeader(Some(leader)) if leader != me => match book.get(leader) {
            Some(addrs) => {
                let location = format!("http://{}{target}", addrs.http);
                let mut reply = Reply::text(
                    307,
                    format!("not the leader; the leader is {leader} at {location}"),
                );
                reply.headers.push(("location", location));
                reply.headers.push(("raft-leader", leader.0.to_string()));
                reply
            }
            None => Reply::text(
                503,
                format!("not the leader; {leader} leads but has no address here"),
            ),
        },
        Outcome::NotLeader(_) => {
            let mut reply = Reply::text(503, "no leader known; retry");
            reply.headers.push(("retry-after", "1".into()));
            reply
        }
        Outcome::Unavailable(why) => Reply::text(503, why),
        Outcome::Refused(why) => Reply::text(409, why),
        Outcome::Unknown(why) => Reply::text(504, format!("outcome unknown: {why}")),
        Outcome::Status(status) => {
            let mut reply = Reply::text(200, status.to_json());
            reply
                .headers
                .push(("content-type", "application/json".into()));
            reply
        }
    }
}

pub const HELP: &str = "raft-kv HTTP API
  GET    /kv/KEY[?read=index|log|local]     read (index: ReadIndex, the default; log: through the log; local: may be stale)
  PUT    /kv/KEY              body VALUE     put
  POST   /kv/KEY/append       body VALUE     append
  POST   /kv/KEY/cas?expected=OLD|?absent  body NEW   compare-and-set (200 swapped, 412 not swapped)
  GET    /status                             role, term, leader, indexes, membership, counters
  POST   /admin/members/ID/voter|observer    add a member (its address must be in every node's --peer list)
  DELETE /admin/members/ID                   remove a member
  POST   /admin/transfer[?to=ID]             hand leadership over
  POST   /admin/snapshot                     snapshot and compact the log now
  GET    /admin/faults; POST body `cut ID`, `drop ID PPM`, `delay ID MS`, `heal [ID]`   transport fault switch
  GET    /admin/failpoints; PUT /admin/failpoints/fsync body `return` or `sleep(MS)`; DELETE to clear
Keys and values: printable ASCII, no spaces, not \"-\". Sessions: client-id (< 2^31) and client-seq headers.
Not the leader: 307 to the leader. 503: not executed (retry). 504: outcome unknown.
";

#[cfg(test)]
mod tests;
