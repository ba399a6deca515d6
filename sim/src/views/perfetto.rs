//! The Perfetto (Chrome trace-event JSON) view.

use super::{arrivals, fields, target_node};
use crate::trace::TraceEvent;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Chrome trace-event JSON: one process per node (plus one for the cluster: faults and one
/// thread per client), role and term as spans, messages as flow arrows, dropped and cut
/// messages as instant events, each persist as a span until its fsync completed, client
/// operations as spans from invocation to completion, faults, commits and crashes as instant
/// events. Times are virtual microseconds.
pub fn perfetto(events: &[TraceEvent], nodes: usize) -> String {
    let end = events.last().map_or(0, |e| e.time);
    let mut out: Vec<Value> = Vec::new();
    let cluster_pid = 0;
    out.push(
        json!({"ph": "M", "name": "process_name", "pid": cluster_pid, "args": {"name": "cluster"}}),
    );
    out.push(json!({"ph": "M", "name": "thread_name", "pid": cluster_pid, "tid": 1, "args": {"name": "faults"}}));
    for n in 0..nodes {
        let pid = n + 1;
        out.push(json!({"ph": "M", "name": "process_name", "pid": pid, "args": {"name": format!("n{n}")}}));
        for (tid, name) in [(1, "role"), (2, "messages"), (3, "events"), (4, "disk")] {
            out.push(json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": name}}));
        }
    }
    client_spans(events, end, &mut out);
    persist_spans(events, nodes, &mut out);
    // Role spans.
    let mut open: Vec<Option<(u64, String)>> = vec![None; nodes];
    let close = |out: &mut Vec<Value>, node: usize, span: Option<(u64, String)>, at: u64| {
        if let Some((start, name)) = span {
            out.push(json!({"ph": "X", "name": name, "pid": node + 1, "tid": 1, "ts": start, "dur": at.saturating_sub(start).max(1)}));
        }
    };
    let mut flow_id = 0u64;
    for e in events {
        let Some(node) = e.node.filter(|&n| n < nodes) else {
            if matches!(e.kind, "fault" | "calm" | "violation") {
                let name = format!(
                    "{} {}",
                    e.kind,
                    e.field("what").or(e.field("property")).unwrap_or("")
                );
                out.push(json!({"ph": "i", "s": "g", "name": name, "pid": cluster_pid, "tid": 1, "ts": e.time, "args": fields(e)}));
            }
            continue;
        };
        match e.kind {
            "role" => {
                close(&mut out, node, open[node].take(), e.time);
                let name = format!(
                    "{} t{}",
                    e.field("role").unwrap_or("?"),
                    e.field("term").unwrap_or("?")
                );
                open[node] = Some((e.time, name));
            }
            "crash" | "stopped" => {
                close(&mut out, node, open[node].take(), e.time);
                out.push(json!({"ph": "i", "s": "p", "name": e.kind, "pid": node + 1, "tid": 3, "ts": e.time, "args": fields(e)}));
                open[node] = Some((
                    e.time,
                    if e.kind == "crash" {
                        "down".into()
                    } else {
                        "stopped".into()
                    },
                ));
            }
            "start" => {
                close(&mut out, node, open[node].take(), e.time);
                open[node] = Some((
                    e.time,
                    format!("follower t{}", e.field("term").unwrap_or("?")),
                ));
            }
            "send" => {
                let Some(to) = target_node(e).filter(|&t| t < nodes) else {
                    continue;
                };
                let name = e.field("msg").unwrap_or("msg").to_string();
                for at in arrivals(e) {
                    flow_id += 1;
                    out.push(json!({"ph": "X", "name": name, "pid": node + 1, "tid": 2, "ts": e.time, "dur": 1}));
                    out.push(json!({"ph": "s", "name": "msg", "cat": "msg", "id": flow_id, "pid": node + 1, "tid": 2, "ts": e.time}));
                    out.push(json!({"ph": "X", "name": name, "pid": to + 1, "tid": 2, "ts": at, "dur": 1}));
                    out.push(json!({"ph": "f", "bp": "e", "name": "msg", "cat": "msg", "id": flow_id, "pid": to + 1, "tid": 2, "ts": at}));
                }
            }
            "drop" | "cut" | "lost" => {
                // Random runs record a loss at the sender (`to`); scenarios at the receiver
                // (`from`).
                let name = match (e.field("to"), e.field("from")) {
                    (Some(to), _) => format!(
                        "{} {} to {to}",
                        lost_word(e.kind),
                        e.field("msg").unwrap_or("message")
                    ),
                    (None, Some(from)) => format!(
                        "{} {} from {from}",
                        lost_word(e.kind),
                        e.field("id").unwrap_or("message")
                    ),
                    (None, None) => lost_word(e.kind).to_string(),
                };
                out.push(json!({"ph": "i", "s": "t", "name": name, "pid": node + 1, "tid": 2, "ts": e.time, "args": fields(e)}));
            }
            "apply" | "fault" | "resume" | "torn-tail-dropped" | "read-error" | "leader"
            | "propose" | "violation" | "unsent" => {
                let name = match e.kind {
                    "unsent" => format!(
                        "unsent {} to {}",
                        e.field("msg").unwrap_or("?"),
                        e.field("to").unwrap_or("?")
                    ),
                    "apply" => format!(
                        "commit {}..{}",
                        e.field("first").unwrap_or("?"),
                        e.field("last").unwrap_or("?")
                    ),
                    "fault" => format!("fault {}", e.field("what").unwrap_or("")),
                    other => other.to_string(),
                };
                out.push(json!({"ph": "i", "s": "t", "name": name, "pid": node + 1, "tid": 3, "ts": e.time, "args": fields(e)}));
            }
            _ => {}
        }
    }
    for (node, span) in open.into_iter().enumerate() {
        close(&mut out, node, span, end);
    }
    json!({"traceEvents": out, "displayTimeUnit": "ms"}).to_string()
}

fn lost_word(kind: &str) -> &'static str {
    match kind {
        "drop" => "dropped",
        "cut" => "cut by a partition:",
        _ => "lost",
    }
}

/// Client operations as spans, one thread per client in the cluster process (an operation
/// still open at the end of the trace runs to its end, marked pending).
fn client_spans(events: &[TraceEvent], end: u64, out: &mut Vec<Value>) {
    let mut open: BTreeMap<(String, String), &TraceEvent> = BTreeMap::new();
    let mut clients = std::collections::BTreeSet::new();
    let tid = |client: &str| 10 + client.parse::<u64>().unwrap_or(0);
    for e in events {
        let key = || {
            (
                e.field("client").unwrap_or("?").to_string(),
                e.field("seq").unwrap_or("?").to_string(),
            )
        };
        match e.kind {
            "invoke" => {
                clients.insert(e.field("client").unwrap_or("?").to_string());
                open.insert(key(), e);
            }
            "complete" => {
                if let Some(invoke) = open.remove(&key()) {
                    let (client, _) = key();
                    let outcome = e.field("outcome").unwrap_or("?");
                    out.push(json!({"ph": "X", "name": format!("{} -> {outcome}", invoke.field("op").unwrap_or("op")), "cat": "client",
                        "pid": 0, "tid": tid(&client), "ts": invoke.time, "dur": e.time.saturating_sub(invoke.time).max(1),
                        "args": {"outcome": outcome, "seq": e.field("seq")}}));
                }
            }
            _ => {}
        }
    }
    for ((client, seq), invoke) in open {
        out.push(json!({"ph": "X", "name": format!("{} (pending)", invoke.field("op").unwrap_or("op")), "cat": "client",
            "pid": 0, "tid": tid(&client), "ts": invoke.time, "dur": end.saturating_sub(invoke.time).max(1),
            "args": {"outcome": "pending at the end of the trace", "seq": seq}}));
    }
    for client in clients {
        out.push(json!({"ph": "M", "name": "thread_name", "pid": 0, "tid": tid(&client), "args": {"name": format!("client {client}")}}));
    }
}

/// Each persist as a span on the node's disk thread, from the write until its fsync
/// completed: the `done_at` the simulator drew, or, in a scenario, the script's `synced`.
fn persist_spans(events: &[TraceEvent], nodes: usize, out: &mut Vec<Value>) {
    let mut synced: BTreeMap<(usize, &str), Vec<u64>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.kind == "synced") {
        if let (Some(node), Some(id)) = (e.node, e.field("id")) {
            synced.entry((node, id)).or_default().push(e.time);
        }
    }
    for e in events {
        let Some(node) = e.node.filter(|&n| n < nodes) else {
            continue;
        };
        let name = match e.kind {
            "persist" => format!("persist {}", e.field("what").unwrap_or("")),
            "persist-snapshot" => format!("persist snapshot {}", e.field("index").unwrap_or("?")),
            _ => continue,
        };
        let id = e.field("id").unwrap_or("");
        let done = synced
            .get(&(node, id))
            .and_then(|times| times.iter().copied().find(|&t| t >= e.time))
            .or_else(|| e.field("done_at").and_then(|t| t.parse().ok()))
            .unwrap_or(e.time);
        out.push(
            json!({"ph": "X", "name": name.trim_end(), "cat": "disk", "pid": node + 1, "tid": 4,
            "ts": e.time, "dur": done.saturating_sub(e.time).max(1), "args": fields(e)}),
        );
        out.push(json!({"ph": "i", "s": "t", "name": "fsync done", "cat": "disk", "pid": node + 1, "tid": 4, "ts": done}));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event;

    #[test]
    fn perfetto_output_is_json_with_flows() {
        let events = vec![
            event!(0, Some(0), "role", role = "leader", term = 2).into_event(),
            event!(
                10,
                Some(0),
                "send",
                to = "n1",
                msg = "AE(t2)",
                arrive = "20,30"
            )
            .into_event(),
            event!(40, None, "fault", what = "heal").into_event(),
        ];
        let text = perfetto(&events, 2);
        let value: Value = serde_json::from_str(&text).unwrap();
        let list = value["traceEvents"].as_array().unwrap();
        assert_eq!(list.iter().filter(|e| e["ph"] == "s").count(), 2);
        assert_eq!(list.iter().filter(|e| e["ph"] == "f").count(), 2);
        assert!(list
            .iter()
            .any(|e| e["ph"] == "X" && e["name"] == "leader t2"));
    }

    #[test]
    fn losses_persists_and_client_operations_are_shown() {
        let events = vec![
            event!(5, None, "invoke", client = 0, seq = 1, op = "put(k0,v)").into_event(),
            event!(6, Some(0), "persist", id = 1, done_at = 90, what = "term=1").into_event(),
            event!(7, Some(0), "drop", msg = "AE(t1)", to = "n1").into_event(),
            event!(8, Some(1), "cut", msg = "AR(t1)", to = "n0").into_event(),
            event!(9, None, "invoke", client = 1, seq = 1, op = "get(k0)").into_event(),
            event!(50, None, "complete", client = 0, seq = 1, outcome = "ok").into_event(),
            event!(100, None, "fault", what = "heal").into_event(),
        ];
        let value: Value = serde_json::from_str(&perfetto(&events, 2)).unwrap();
        let list = value["traceEvents"].as_array().unwrap();
        let named = |prefix: &str| {
            list.iter()
                .find(|e| e["name"].as_str().is_some_and(|n| n.starts_with(prefix)))
                .unwrap_or_else(|| panic!("no event named {prefix}..."))
        };
        assert_eq!(named("persist term=1")["dur"], 84);
        assert_eq!(named("dropped AE(t1) to n1")["pid"], 1);
        assert_eq!(named("cut by a partition: AR(t1) to n0")["pid"], 2);
        let put = named("put(k0,v) -> ok");
        assert_eq!(
            (put["ts"].clone(), put["dur"].clone()),
            (5.into(), 45.into())
        );
        assert_eq!(named("get(k0) (pending)")["dur"], 91);
    }
}
