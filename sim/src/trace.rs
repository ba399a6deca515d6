//! The trace is the record of a run: every event as a structured record with virtual time and
//! node. It renders as canonical text (golden files, the trace hash) and JSON lines (tools).

use crate::config::Micros;

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
        let mut line = String::with_capacity(96);
        self.write_canonical(&mut line);
        line
    }

    /// Appends the canonical line to `out`. Hand-formatted (the same text as
    /// `format!("{:>10} n{:<2} {kind} {key}={value}...")`): this runs for every event of every
    /// run, to hash it, so it avoids `fmt` machinery and allocation.
    pub fn write_canonical(&self, out: &mut String) {
        let mut digits = [0u8; 20];
        let time = format_u64(self.time, &mut digits);
        for _ in time.len()..10 {
            out.push(' ');
        }
        out.push_str(time);
        match self.node {
            Some(n) => {
                out.push_str(" n");
                let n = format_u64(n as u64, &mut digits);
                out.push_str(n);
                if n.len() < 2 {
                    out.push(' ');
                }
            }
            None => out.push_str(" -  "),
        }
        out.push(' ');
        out.push_str(self.kind);
        for (key, value) in &self.fields {
            out.push(' ');
            out.push_str(key);
            out.push('=');
            out.push_str(value);
        }
    }

    /// One JSON object (one line of a JSON-lines trace).
    pub fn json(&self) -> String {
        let mut map = serde_json::Map::new();
        map.insert("t".into(), self.time.into());
        map.insert(
            "node".into(),
            self.node.map_or(serde_json::Value::Null, |n| n.into()),
        );
        map.insert("kind".into(), self.kind.into());
        for (key, value) in &self.fields {
            map.insert((*key).into(), value.clone().into());
        }
        serde_json::Value::Object(map).to_string()
    }

    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
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
    /// Scratch buffer for the canonical line of the event being recorded.
    line: String,
}

impl Trace {
    pub fn new(keep: bool) -> Trace {
        Trace {
            hash: 0xcbf2_9ce4_8422_2325,
            events: 0,
            keep,
            kept: Vec::new(),
            echo: false,
            line: String::new(),
        }
    }

    pub fn record(&mut self, event: TraceEvent) {
        // The line is built in a buffer reused across events: no allocation per event.
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        event.write_canonical(&mut line);
        line.push('\n');
        let mut hash = self.hash;
        for &byte in line.as_bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.hash = hash;
        self.events += 1;
        if self.echo {
            tracing::info!(target: "sim", "{}", line.trim_end_matches('\n'));
        }
        self.line = line;
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

/// Writes `value` in decimal into the end of `buf` and returns the digits.
fn format_u64(mut value: u64, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[at..]).expect("ASCII digits")
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
    fn hand_formatted_line_matches_fmt() {
        for (time, node) in [
            (0, None),
            (7, Some(0)),
            (1_234_567_890, Some(12)),
            (u64::MAX, Some(123)),
            (99, Some(5)),
        ] {
            let event = TraceEvent {
                time,
                node,
                kind: "send",
                fields: vec![("to", "n1".into()), ("msg", "AE(t1)".into())],
            };
            let node = match node {
                Some(n) => format!(" n{n:<2}"),
                None => " -  ".into(),
            };
            assert_eq!(
                event.canonical(),
                format!("{time:>10}{node} send to=n1 msg=AE(t1)")
            );
        }
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
