//! The trace is the record of a run: every event as a structured record with virtual time and
//! node. It renders as canonical text (golden files, the trace hash) and JSON lines (tools).
//!
//! Every event of every run is hashed, but most runs keep no event. So
//! [`event!`](crate::event!) builds a [`LazyEvent`]: its field values keep their types
//! ([`TraceValue`]) and are written straight into the line buffer that is hashed; the owned
//! [`TraceEvent`] (a `String` per field) is built only when the trace is kept or echoed.
//! Both render the same text.

use crate::config::Micros;
use std::fmt;

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
        let mut line = Line::default();
        self.write_canonical(&mut line);
        line.into_string()
    }

    /// Appends the canonical line to `out`. Hand-formatted (the same text as
    /// `format!("{:>10} n{:<2} {kind} {key}={value}...")`): this runs for every event of every
    /// run, to hash it, so it avoids `fmt` machinery and allocation.
    pub fn write_canonical(&self, out: &mut Line) {
        write_line_head(self.time, self.node, self.kind, out);
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

/// The text of a trace line as it is built: UTF-8 bytes (only `str`s, `char`s and ASCII
/// digits are appended), kept as bytes so that appending digits needs no UTF-8 check.
#[derive(Clone, Debug, Default)]
pub struct Line(Vec<u8>);

impl Line {
    pub fn push(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.0.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }

    pub fn push_str(&mut self, s: &str) {
        self.0.extend_from_slice(s.as_bytes());
    }

    /// ASCII digits or spaces (the only bytes appended that are not from a `str` or `char`).
    fn push_bytes(&mut self, digits: &[u8]) {
        debug_assert!(digits.is_ascii());
        self.0.extend_from_slice(digits);
    }

    /// A fixed number of ASCII bytes: the copy has a constant length, so it is a few moves
    /// rather than a `memcpy` call.
    fn push_array<const N: usize>(&mut self, bytes: &[u8; N]) {
        debug_assert!(bytes.is_ascii());
        self.0.extend_from_slice(bytes);
    }

    /// `value` in decimal. The digits are formatted in place at the front of a 20-byte
    /// buffer, which is appended whole (a constant-length copy) and cut back to the digits.
    fn push_u64(&mut self, value: u64) {
        let len = value.checked_ilog10().map_or(1, |l| l as usize + 1);
        let mut digits = [0u8; 20];
        format_u64(value, &mut digits, len);
        let start = self.0.len();
        self.0.extend_from_slice(&digits);
        self.0.truncate(start + len);
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// The text (checked, for the rare paths: echo, keep).
    pub fn as_text(&self) -> &str {
        std::str::from_utf8(&self.0).expect("a trace line is built from UTF-8 only")
    }

    pub fn into_string(self) -> String {
        String::from_utf8(self.0).expect("a trace line is built from UTF-8 only")
    }
}

impl fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

/// A field value of a trace event, written into the canonical line without allocating.
/// `write` must append exactly what `to_string()` of the value would be.
pub trait TraceValue {
    fn write(&self, out: &mut Line);
}

macro_rules! unsigned_trace_value {
    ($($t:ty),*) => {$(
        impl TraceValue for $t {
            fn write(&self, out: &mut Line) {
                out.push_u64(*self as u64);
            }
        }
    )*};
}
unsigned_trace_value!(u8, u16, u32, u64, usize);

macro_rules! signed_trace_value {
    ($($t:ty),*) => {$(
        impl TraceValue for $t {
            fn write(&self, out: &mut Line) {
                if *self < 0 {
                    out.push('-');
                }
                out.push_u64((*self as i64).unsigned_abs());
            }
        }
    )*};
}
signed_trace_value!(i32, i64);

impl TraceValue for bool {
    fn write(&self, out: &mut Line) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

impl TraceValue for str {
    fn write(&self, out: &mut Line) {
        out.push_str(self);
    }
}

impl TraceValue for String {
    fn write(&self, out: &mut Line) {
        out.push_str(self);
    }
}

impl TraceValue for fmt::Arguments<'_> {
    fn write(&self, out: &mut Line) {
        fmt::Write::write_fmt(out, *self).expect("a Line accepts any text");
    }
}

impl<T: TraceValue + ?Sized> TraceValue for &T {
    fn write(&self, out: &mut Line) {
        (**self).write(out)
    }
}

/// Rare: only a violation's event carries one.
impl TraceValue for crate::checkers::Property {
    fn write(&self, out: &mut Line) {
        fmt::Write::write_fmt(out, format_args!("{self}")).expect("a Line accepts any text");
    }
}

/// A value written by a function (`Lazy(|out| ...)`): for text that takes some work to
/// build, done only into the line buffer.
pub struct Lazy<F: Fn(&mut Line)>(pub F);

impl<F: Fn(&mut Line)> TraceValue for Lazy<F> {
    fn write(&self, out: &mut Line) {
        (self.0)(out)
    }
}

/// A node's name, `n<index>`.
pub struct NodeName(pub usize);

impl TraceValue for NodeName {
    fn write(&self, out: &mut Line) {
        out.push('n');
        self.0.write(out);
    }
}

/// Values separated by commas (`1,2,3`).
pub struct Joined<'a, T: TraceValue>(pub &'a [T]);

impl<T: TraceValue> TraceValue for Joined<'_, T> {
    fn write(&self, out: &mut Line) {
        for (i, value) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            value.write(out);
        }
    }
}

/// Appends each piece ([`TraceValue`]s) to `out`: `put!(out, "AE(t", term, ")")`.
#[macro_export]
macro_rules! put {
    ($out:expr $(, $piece:expr)* $(,)?) => {{
        let out: &mut $crate::trace::Line = $out;
        $($crate::trace::TraceValue::write(&$piece, out);)*
    }};
}

/// The fields of a [`LazyEvent`]: a tuple of `(key, value)` pairs.
pub trait Fields {
    /// Appends ` key=value` for each field.
    fn write(&self, out: &mut Line);
    fn into_owned(self) -> Vec<(&'static str, String)>;
}

macro_rules! tuple_fields {
    ($($v:ident),*) => {
        impl<$($v: TraceValue),*> Fields for ($((&'static str, $v),)*) {
            #[allow(non_snake_case, unused_variables)]
            fn write(&self, out: &mut Line) {
                let ($($v,)*) = self;
                $(
                    out.push(' ');
                    out.push_str($v.0);
                    out.push('=');
                    $v.1.write(out);
                )*
            }
            #[allow(non_snake_case)]
            fn into_owned(self) -> Vec<(&'static str, String)> {
                let ($($v,)*) = self;
                vec![$({
                    let mut value = Line::default();
                    $v.1.write(&mut value);
                    ($v.0, value.into_string())
                }),*]
            }
        }
    };
}
tuple_fields!();
tuple_fields!(A);
tuple_fields!(A, B);
tuple_fields!(A, B, C);
tuple_fields!(A, B, C, D);
tuple_fields!(A, B, C, D, E);
tuple_fields!(A, B, C, D, E, F);
tuple_fields!(A, B, C, D, E, F, G);
tuple_fields!(A, B, C, D, E, F, G, H);
tuple_fields!(A, B, C, D, E, F, G, H, I);
tuple_fields!(A, B, C, D, E, F, G, H, I, J);
tuple_fields!(A, B, C, D, E, F, G, H, I, J, K);
tuple_fields!(A, B, C, D, E, F, G, H, I, J, K, L);

/// An event as [`event!`](crate::event!) builds it: typed field values, rendered on demand.
pub struct LazyEvent<F: Fields> {
    pub time: Micros,
    pub node: Option<usize>,
    pub kind: &'static str,
    pub fields: F,
}

impl<F: Fields> LazyEvent<F> {
    /// The owned event (a `String` per field value), as the kept trace stores it.
    pub fn into_event(self) -> TraceEvent {
        TraceEvent {
            time: self.time,
            node: self.node,
            kind: self.kind,
            fields: self.fields.into_owned(),
        }
    }
}

impl<F: Fields> From<LazyEvent<F>> for TraceEvent {
    fn from(event: LazyEvent<F>) -> TraceEvent {
        event.into_event()
    }
}

/// What [`Trace::record`] accepts: a [`LazyEvent`] or an owned [`TraceEvent`].
pub trait Record {
    /// Appends the canonical line (without the newline) to `out`.
    fn write_canonical(&self, out: &mut Line);
    fn into_event(self) -> TraceEvent;
}

impl Record for TraceEvent {
    fn write_canonical(&self, out: &mut Line) {
        TraceEvent::write_canonical(self, out)
    }
    fn into_event(self) -> TraceEvent {
        self
    }
}

impl<F: Fields> Record for LazyEvent<F> {
    fn write_canonical(&self, out: &mut Line) {
        write_line_head(self.time, self.node, self.kind, out);
        self.fields.write(out);
    }
    fn into_event(self) -> TraceEvent {
        LazyEvent::into_event(self)
    }
}

/// `time node kind`, the start of every canonical line.
fn write_line_head(time: Micros, node: Option<usize>, kind: &str, out: &mut Line) {
    // The time right-aligned in 10 columns: digits at the end of a buffer of spaces.
    let mut head = [b' '; 20];
    let start = format_u64(time, &mut head, 20);
    match head[10..].try_into() {
        Ok(last_ten) if start >= 10 => out.push_array::<10>(last_ten),
        _ => out.push_bytes(&head[start..]),
    }
    // Then the node left-aligned in 3 columns (`n` and the number), and a space.
    match node {
        Some(n @ 0..=9) => out.push_array(&[b' ', b'n', b'0' + n as u8, b' ', b' ']),
        Some(n) => {
            out.push_array(b" n");
            out.push_u64(n as u64);
            out.push_array(b" ");
        }
        None => out.push_array(b" -   "),
    }
    out.push_str(kind);
}

/// Collects the trace: always hashes it, keeps the events only when asked.
#[derive(Clone, Debug)]
pub struct Trace {
    hash: u64,
    events: u64,
    keep: bool,
    kept: Vec<TraceEvent>,
    /// Echo events to `tracing` as they happen, at debug level with target `sim::trace`
    /// (`cargo xtask sim -vv`, or `RUST_LOG=sim::trace=debug`).
    pub echo: bool,
    /// Scratch buffer for the canonical line of the event being recorded.
    line: Line,
}

impl Trace {
    pub fn new(keep: bool) -> Trace {
        Trace {
            hash: 0xcbf2_9ce4_8422_2325,
            events: 0,
            keep,
            kept: Vec::new(),
            echo: false,
            line: Line::default(),
        }
    }

    /// Hashes the event's canonical line; keeps the event (as a [`TraceEvent`]) only when
    /// the trace is kept.
    pub fn record(&mut self, event: impl Record) {
        // The line is built in a buffer reused across events: no allocation per event.
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        event.write_canonical(&mut line);
        line.push('\n');
        let mut hash = self.hash;
        for &byte in &line.0 {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.hash = hash;
        self.events += 1;
        if self.echo {
            tracing::debug!(target: "sim::trace", "{}", line.as_text().trim_end_matches('\n'));
        }
        if self.keep {
            let event = event.into_event();
            debug_assert_eq!(
                event.canonical(),
                line.as_text().trim_end_matches('\n'),
                "a lazy event renders as its owned form"
            );
            self.kept.push(event);
        }
        self.line = line;
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

/// Writes `value` in decimal into `buf`, ending before `end`; returns where the digits start.
fn format_u64(mut value: u64, buf: &mut [u8; 20], end: usize) -> usize {
    let mut at = end;
    // Two digits per division.
    while value >= 100 {
        let pair = (value % 100) as usize * 2;
        value /= 100;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if value >= 10 {
        let pair = value as usize * 2;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        buf[at] = b'0' + value as u8;
    }
    at
}

/// "00", "01", ..., "99".
const DIGIT_PAIRS: [u8; 200] = {
    let mut pairs = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        pairs[2 * i] = b'0' + (i / 10) as u8;
        pairs[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    pairs
};

/// Builds a [`LazyEvent`] tersely: `event!(time, Some(n), "commit", index = 5)`. Each value
/// is evaluated at once and kept as it is (any [`TraceValue`]); `.into_event()` gives the
/// owned [`TraceEvent`].
#[macro_export]
macro_rules! event {
    ($time:expr, $node:expr, $kind:expr $(, $key:ident = $value:expr)* $(,)?) => {
        $crate::trace::LazyEvent {
            time: $time,
            node: $node,
            kind: $kind,
            fields: ($((stringify!($key), $value),)*),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_line_layout_is_stable() {
        let event = event!(1500, Some(2), "commit", index = 7, term = 3).into_event();
        assert_eq!(event.canonical(), "      1500 n2  commit index=7 term=3");
        let event = event!(0, None, "fault", what = "heal").into_event();
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
        let event = event!(5, Some(0), "send", to = "n1").into_event();
        assert_eq!(event.json(), r#"{"kind":"send","node":0,"t":5,"to":"n1"}"#);
    }

    #[test]
    fn typed_values_render_like_to_string() {
        fn rendered(value: impl TraceValue) -> String {
            let mut out = Line::default();
            value.write(&mut out);
            out.into_string()
        }
        for v in [0u64, 7, 10, 99, 100, 1_234_567_890, u64::MAX] {
            assert_eq!(rendered(v), v.to_string());
        }
        for v in [0i64, -1, 42, i64::MIN, i64::MAX] {
            assert_eq!(rendered(v), v.to_string());
        }
        assert_eq!(rendered(u32::MAX), u32::MAX.to_string());
        assert_eq!(rendered(true), "true");
        assert_eq!(rendered("x y"), "x y");
        assert_eq!(rendered(format_args!("a{}", 1)), "a1");
        assert_eq!(rendered(NodeName(12)), "n12");
        assert_eq!(rendered(Joined(&[1u64, 20, 300])), "1,20,300");
        assert_eq!(rendered(Joined::<u64>(&[])), "");
    }

    #[test]
    fn lazy_and_owned_events_hash_alike() {
        let mut lazy = Trace::new(false);
        let mut owned = Trace::new(true);
        lazy.record(event!(
            3,
            Some(1),
            "send",
            to = NodeName(2),
            n = 5u64,
            ok = true
        ));
        owned
            .record(event!(3, Some(1), "send", to = NodeName(2), n = 5u64, ok = true).into_event());
        assert_eq!(lazy.hash(), owned.hash());
        assert_eq!(
            owned.canonical_text(),
            "         3 n1  send to=n2 n=5 ok=true\n"
        );
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
