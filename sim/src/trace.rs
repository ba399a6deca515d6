//! The trace is the record of a run: every event as a structured record with virtual time and
//! node. It renders as canonical text (golden files, the trace hash) and JSON lines (tools).

use crate::config::Micros;
use std::fmt::Write as _;

/// One traced event. `fields` keep their insertion order, which is fixed per event kind, so
/// the canonical text is stable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    pub time: Micros,
    /// The node the event happened at, if any.
    pub node: Option<usize>,
    pub kind: &'static str,
    pub fields: Vec<(&'static str, String)>,
}

impl TraceEvent {
    /// One line: `time node kind key=value ...`. No addresses, no hashes of unrelated code.
    pub fn canonical(&self) -> String {
        let mut line = String::with_capacity(64);
        let _ = write!(line, "{:>10}", self.time);
        match self.node {
            Some(n) => {
                let _ = write!(line, " n{n:<2}");
            }
            None => line.push_str(" -  "),
        }
        let _ = write!(line, " {}", self.kind);
        for (key, value) in &self.fields {
            let _ = write!(line, " {key}={value}");
        }
        line
    }

    /// One JSON object (one line of a JSON-lines trace).
    pub fn json(&self) -> String {
        let mut map = serde_json::Map::new();
        map.insert("t".into(), self.time.into());
        map.insert("node".into(), self.node.map_or(serde_json::Value::Null, |n| n.into()));
        map.insert("kind".into(), self.kind.into());
        for (key, value) in &self.fields {
            map.insert((*key).into(), value.clone().into());
        }
        serde_json::Value::Object(map).to_string()
    }

    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }
}

/// Collects the trace: always hashes it, keeps the events only when asked.
#[derive(Clone, Debug)]
pub struct Trace {
    hash: u64,
    events: u64,
    keep: bool,
    kept: Vec<TraceEvent>,
    /// Echo events to `tracing` as they happen (`-v`).
    pub echo: bool,
}

impl Trace {
    pub fn new(keep: bool) -> Trace {
        Trace { hash: 0xcbf2_9ce4_8422_2325, events: 0, keep, kept: Vec::new(), echo: false }
    }

    pub fn record(&mut self, event: TraceEvent) {
        let line = event.canonical();
        for byte in line.bytes().chain(std::iter::once(b'\n')) {
            self.hash ^= u64::from(byte);
            self.hash = self.hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.events += 1;
        if self.echo {
            tracing::info!(target: "sim", "{line}");
        }
        if self.keep {
            self.kept.push(event);
        }
    }

    /// FNV-1a over the canonical text of every event, newline-terminated.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    pub fn len(&self) -> u64 {
        self.events
    }

    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    pub fn events(&self) -> &[TraceEvent] {
        &self.kept
    }

    pub fn into_events(self) -> Vec<TraceEvent> {
        self.kept
    }

    /// The canonical text of the kept events.
    pub fn canonical_text(&self) -> String {
        let mut text = String::new();
        for event in &self.kept {
            text.push_str(&event.canonical());
            text.push('\n');
        }
        text
    }
}

/// Builds a [`TraceEvent`] tersely: `event!(time, Some(n), "commit", index = 5)`.
#[macro_export]
macro_rules! event {
    ($time:expr, $node:expr, $kind:expr $(, $key:ident = $value:expr)* $(,)?) => {
        $crate::trace::TraceEvent {
            time: $time,
            node: $node,
            kind: $kind,
            fields: vec![$((stringify!($key), ($value).to_string())),*],
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_line_layout_is_stable() {
        let event = event!(1500, Some(2), "commit", index = 7, term = 3);
        assert_eq!(event.canonical(), "      1500 n2  commit index=7 term=3");
        let event = event!(0, None, "fault", what = "heal");
        assert_eq!(event.canonical(), "         0 -   fault what=heal");
    }

    #[test]
    fn json_line_carries_every_field() {
        let event = event!(5, Some(0), "send", to = "n1");
        assert_eq!(event.json(), r#"{"kind":"send","node":0,"t":5,"to":"n1"}"#);
    }

    #[test]
    fn hash_depends_on_every_event() {
        let mut a = Trace::new(false);
        let mut b = Trace::new(false);
        a.record(event!(1, Some(0), "x"));
        b.record(event!(1, Some(1), "x"));
        assert_ne!(a.hash(), b.hash());
    }
}
