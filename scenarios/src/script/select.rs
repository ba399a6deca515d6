//! Which in-flight messages a network step or an assertion means.

use super::Script;
use sim::app::Application;
use sim::world::scripted::Held;

/// A message selector for the network steps.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sel {
    from: Option<usize>,
    to: Option<usize>,
    kind: Option<&'static str>,
}

impl Sel {
    pub fn any() -> Sel {
        Sel::default()
    }
    pub fn from(node: usize) -> Sel {
        Sel::any().and_from(node)
    }
    pub fn to(node: usize) -> Sel {
        Sel::any().and_to(node)
    }
    pub fn link(from: usize, to: usize) -> Sel {
        Sel::from(from).and_to(to)
    }
    /// By kind, as the trace abbreviates it: `PVQ`, `PVR`, `VQ`, `VR`, `TVQ`, `AE` (with
    /// entries), `HB` (an AE without), `AR`, `FP`, `TN`, `RA`, `IS`, `SR`.
    pub fn kind(kind: &'static str) -> Sel {
        Sel::any().and_kind(kind)
    }
    pub fn and_from(mut self, node: usize) -> Sel {
        self.from = Some(node);
        self
    }
    pub fn and_to(mut self, node: usize) -> Sel {
        self.to = Some(node);
        self
    }
    pub fn and_kind(mut self, kind: &'static str) -> Sel {
        self.kind = Some(kind);
        self
    }
    pub(super) fn matches(&self, held: &Held) -> bool {
        self.from.is_none_or(|f| f == held.from)
            && self.to.is_none_or(|t| t == held.to)
            && self.kind.is_none_or(|k| k == short_kind(&held.message))
    }
    /// How a step's text names the selection.
    pub(super) fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(k) = self.kind {
            parts.push(k.to_string());
        }
        match (self.from, self.to) {
            (Some(f), Some(t)) => parts.push(format!("n{f}->n{t}")),
            (Some(f), None) => parts.push(format!("from n{f}")),
            (None, Some(t)) => parts.push(format!("to n{t}")),
            (None, None) => {}
        }
        if parts.is_empty() {
            "all".into()
        } else {
            parts.join(" ")
        }
    }
}

fn short_kind(message: &raft_core::Message) -> &'static str {
    use raft_core::Message::*;
    match message {
        AppendEntries(m) if m.entries.is_empty() => "HB",
        AppendEntries(_) => "AE",
        AppendResponse(_) => "AR",
        VoteRequest(_) => "VQ",
        VoteResponse(_) => "VR",
        ForwardProposal(_) => "FP",
        ForwardRemovePeer(_) => "FRP",
        ForwardResponse(_) => "FR",
        PreVoteRequest(_) => "PVQ",
        PreVoteResponse(_) => "PVR",
        TimeoutNow(_) => "TN",
        TransferVoteRequest(_) => "TVQ",
        ReadAck(_) => "RA",
        InstallSnapshot(_) => "IS",
        SnapshotResponse(_) => "SR",
        RepairRequest(_) => "RQ",
        RepairResponse(_) => "RP",
    }
}

impl<A: Application> Script<A> {
    /// The ids of the messages on the wire matching `sel`, in send order.
    pub(super) fn ids(&self, sel: Sel) -> Vec<u64> {
        self.world()
            .in_flight()
            .iter()
            .filter(|h| sel.matches(h))
            .map(|h| h.id)
            .collect()
    }

    /// Messages on the wire matching `sel` (to inspect or re-inject).
    pub fn in_flight(&self, sel: Sel) -> Vec<Held> {
        self.world()
            .in_flight()
            .iter()
            .filter(|h| sel.matches(h))
            .cloned()
            .collect()
    }
}
