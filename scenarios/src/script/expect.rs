//! The assertion steps: `expect` and its words, and the counts of messages in flight, of
//! trace events and of refusals.

use super::{Script, Sel};
use raft_core::{NodeId, Role};
use sim::app::{Application, Replica};
use sim::world::Status;

impl<A: Application> Script<A> {
    /// Checks a node's state against space-separated expectations, all of which must hold:
    /// `leader` / `follower` / `candidate` / `down` / `stopped` / `up`, `ready` / `unready` (a leader
    /// whose no-op committed, or not), `notleader`, `tN` (term), `vote=nX` or `vote=-`, `commit=N`, `applied=N`,
    /// `last=N` (last log index), `log=T,T,..` (terms of the entries after the snapshot),
    /// `snap=N` (snapshot index), `voters=0,1,2`, `observers=3` or `observers=-`,
    /// `leader=nX` / `leader=-` (the leader it knows), `kv=abc` (value of key `k`; `kv=-`
    /// absent), `repairing` / `repaired` (damage to its log not yet / already repaired),
    /// `write-error` / `no-write-error` (a persist failed in this life / none did),
    /// `paused`, `unpaused`, `current`, `healthy`, `unhealthy`, `changing=N` / `changing=-`
    /// (the index of an uncommitted membership change), `heard-quorum` /
    /// `no-heard-quorum` (NRG `Quorum()`), `observed=3` / `observed=-` (peers that are not
    /// members a managed group's node heard from), `evicted=1,2` / `evicted=-` (the eviction
    /// in effect), `peer=nX:current,lag=N,heard=T` (NRG `Peers()`: `stale` for not current,
    /// `heard=-` for never; T in ticks ago), `pending=N`
    /// (persists not yet completed), `match=nX:N` (a leader's match index for nX), `inflight=N` (messages on the wire from this node).
    #[track_caller]
    pub fn expect(&mut self, node: usize, expectations: &str) {
        self.begin(format!("expect n{node} {expectations}"));
        for token in expectations.split_whitespace() {
            if let Err(e) = self.check_token(node, token) {
                self.fail(format!("n{node} {e}"));
            }
        }
        self.end();
    }

    fn check_token(&self, node: usize, token: &str) -> Result<(), String> {
        let w = self.world();
        let status = w.status(node);
        let eq = |what: &str, expected: String, actual: String| {
            if expected == actual {
                Ok(())
            } else {
                Err(format!("{what}: expected {expected}, actual {actual}"))
            }
        };
        match token {
            "down" => return eq("status", "Down".into(), format!("{status:?}")),
            "stopped" => {
                return match status {
                    Status::Stopped(_) => Ok(()),
                    other => Err(format!("status: expected stopped, actual {other:?}")),
                }
            }
            "up" => return eq("status", "Up".into(), format!("{status:?}")),
            _ => {}
        }
        let Some(n) = w.node(node) else {
            return Err(format!("is not running ({status:?}), cannot check {token}"));
        };
        let role = match n.role() {
            Role::Leader => "leader",
            Role::Follower => "follower",
            Role::Candidate => "candidate",
        };
        let (key, value) = token.split_once('=').unwrap_or((token, ""));
        match key {
            "leader" if value.is_empty() => eq("role", "leader".into(), role.into()),
            "follower" | "candidate" => eq("role", key.into(), role.into()),
            "unready" => eq(
                "ready leader",
                "false".into(),
                n.is_ready_leader().to_string(),
            ),
            "notleader" => {
                if role == "leader" {
                    Err("role: expected not leader, actual leader".into())
                } else {
                    Ok(())
                }
            }
            "ready" => eq(
                "ready leader",
                "true".into(),
                n.is_ready_leader().to_string(),
            ),
            "quorum-paused" => eq(
                "quorum paused",
                "true".into(),
                n.is_quorum_paused().to_string(),
            ),
            "quorum-unpaused" => eq(
                "quorum paused",
                "false".into(),
                n.is_quorum_paused().to_string(),
            ),
            "repairing" => eq(
                "repairing",
                "true".into(),
                n.repairing().is_some().to_string(),
            ),
            "repaired" => eq(
                "repairing",
                "false".into(),
                n.repairing().is_some().to_string(),
            ),
            "write-error" => eq(
                "write error",
                "true".into(),
                n.write_error().is_some().to_string(),
            ),
            "no-write-error" => eq(
                "write error",
                "false".into(),
                n.write_error().is_some().to_string(),
            ),
            "paused" => eq("paused", "true".into(), n.is_paused().to_string()),
            "unpaused" => eq("paused", "false".into(), n.is_paused().to_string()),
            "current" => eq("current", "true".into(), n.health().current.to_string()),
            "healthy" => eq("healthy", "true".into(), n.health().healthy.to_string()),
            "unhealthy" => eq("healthy", "false".into(), n.health().healthy.to_string()),
            t if t.starts_with('t') && t[1..].parse::<u64>().is_ok() => {
                eq("term", t[1..].into(), n.term().to_string())
            }
            "vote" => eq("vote", value.into(), fmt_node(n.vote())),
            "commit" => eq("commit", value.into(), n.commit_index().to_string()),
            "applied" => eq("applied", value.into(), n.applied_index().to_string()),
            "last" => eq("last index", value.into(), n.last_index().to_string()),
            "snap" => eq(
                "snapshot index",
                value.into(),
                n.snapshot_index().to_string(),
            ),
            "log" => eq(
                "log terms",
                value.into(),
                n.log()
                    .iter()
                    .map(|e| e.term.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            "voters" => eq(
                "voters",
                value.into(),
                n.voters()
                    .map(|v| v.0.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            "observers" => {
                let obs: Vec<String> = n.observers().map(|v| v.0.to_string()).collect();
                let actual = if obs.is_empty() {
                    "-".into()
                } else {
                    obs.join(",")
                };
                eq("observers", value.into(), actual)
            }
            "leader" => eq("known leader", value.into(), fmt_node(n.leader())),
            "kv" | "stream" => eq(
                "application state",
                value.into(),
                w.replica(node).state_text(),
            ),
            "processed" => eq("processed", value.into(), n.processed_index().to_string()),
            "quorum" => eq("quorum needed", value.into(), n.quorum_needed().to_string()),
            "observed" => eq(
                "observed peers",
                value.into(),
                list_or_dash(n.observed_peers().iter().map(|(p, _)| p.0)),
            ),
            "evicted" => eq(
                "evicted peers",
                value.into(),
                list_or_dash(
                    n.eviction()
                        .into_iter()
                        .flat_map(|e| e.evicted.iter().map(|p| p.0)),
                ),
            ),
            "rescue" => eq(
                "rescued quorum",
                value.into(),
                n.rescue().map_or("-".into(), |r| r.quorum.to_string()),
            ),
            "heard-quorum" => eq("heard a quorum", "true".into(), n.quorum().to_string()),
            "no-heard-quorum" => eq("heard a quorum", "false".into(), n.quorum().to_string()),
            "peer" => {
                let (peer, _) = value
                    .split_once(':')
                    .ok_or_else(|| format!("`{token}`: write peer=nX:current,lag=N,heard=T"))?;
                let actual = n
                    .peers()
                    .into_iter()
                    .find(|p| format!("n{}", p.id.0) == peer)
                    .map_or(format!("{peer}: not a member"), |p| {
                        let state = if p.current { "current" } else { "stale" };
                        let heard = p.last_heard.map_or("-".into(), |t| t.to_string());
                        format!("{peer}:{state},lag={},heard={heard}", p.lag)
                    });
                eq(&format!("peer {peer}"), value.into(), actual)
            }
            "match" => {
                let (peer, index) = value
                    .split_once(':')
                    .ok_or_else(|| format!("`{token}`: write match=nX:N"))?;
                let peer: u64 = peer
                    .trim_start_matches('n')
                    .parse()
                    .map_err(|_| format!("bad peer in `{token}`"))?;
                let actual = n
                    .match_index(NodeId(peer))
                    .map_or("-".into(), |m| m.to_string());
                eq(&format!("match index of n{peer}"), index.into(), actual)
            }
            "changing" => eq(
                "uncommitted membership change",
                value.into(),
                n.pending_membership_change()
                    .map_or("-".into(), |i| i.to_string()),
            ),
            "pending" => eq(
                "pending persists",
                value.into(),
                w.pending_io(node).to_string(),
            ),
            "inflight" => eq(
                "messages in flight from it",
                value.into(),
                w.in_flight()
                    .iter()
                    .filter(|h| h.from == node)
                    .count()
                    .to_string(),
            ),
            _ => Err(format!("unknown expectation `{token}`")),
        }
    }

    /// Checks how many messages matching `sel` are on the wire.
    #[track_caller]
    pub fn expect_in_flight(&mut self, sel: Sel, count: usize) {
        self.begin(format!("expect in flight {}: {count}", sel.describe()));
        let actual = self.ids(sel).len();
        if actual != count {
            self.fail(format!(
                "messages in flight ({}): expected {count}, actual {actual}",
                sel.describe()
            ));
        }
        self.end();
    }

    /// Checks that the last step was refused with an error containing `needle`.
    #[track_caller]
    pub fn expect_refused<T: std::fmt::Debug>(&self, result: &Result<T, String>, needle: &str) {
        match result {
            Err(e) if e.contains(needle) => {}
            other => self.fail(format!(
                "expected a refusal containing `{needle}`, got {other:?}"
            )),
        }
    }

    /// Checks the answer `node` last heard to its forward with reply inbox `reply`:
    /// `accepted=INDEX` or `refused=WHY` (`not-leader`, `not-ready`, `transferring`,
    /// `overloaded`, `change-pending`, `not-a-member`, `last-voter`), or `none`.
    #[track_caller]
    pub fn expect_forward_answer(&mut self, node: usize, reply: u64, expected: &str) {
        self.begin(format!(
            "expect n{node} forward answer reply={reply}: {expected}"
        ));
        let reply_text = reply.to_string();
        let actual = self
            .events()
            .iter()
            .rev()
            .filter(|e| e.kind == "forward-answer" && e.node == Some(node))
            .find(|e| {
                e.fields
                    .iter()
                    .any(|(k, v)| *k == "reply" && *v == reply_text)
            })
            .and_then(|e| e.fields.iter().find(|(k, _)| *k == "outcome"))
            .map_or("none".to_string(), |(_, v)| v.clone());
        if actual != expected {
            self.fail(format!(
                "n{node} forward answer reply={reply}: expected {expected}, actual {actual}"
            ));
        }
        self.end();
    }

    /// Checks how many events of `kind` (`read-ready`, `role`, `apply`, ...) the trace holds
    /// for `node` so far.
    #[track_caller]
    pub fn expect_events(&mut self, node: usize, kind: &str, count: usize) {
        self.begin(format!("expect n{node} {kind} events: {count}"));
        let actual = self
            .events()
            .iter()
            .filter(|e| e.kind == kind && e.node == Some(node))
            .count();
        if actual != count {
            self.fail(format!(
                "n{node} {kind} events: expected {count}, actual {actual}"
            ));
        }
        self.end();
    }
}

fn fmt_node(node: Option<NodeId>) -> String {
    node.map_or("-".into(), |n| format!("n{}", n.0))
}

/// Ids joined by commas, or `-` for none.
fn list_or_dash(ids: impl Iterator<Item = u64>) -> String {
    let ids: Vec<String> = ids.map(|id| id.to_string()).collect();
    if ids.is_empty() {
        "-".into()
    } else {
        ids.join(",")
    }
}
