//! The trace is the record of a run: every event as a structured record with virtual time and
//! node. It renders as canonical text (golden files, `--trace`) and JSON lines (tools), and is
//! hashed into the trace hash printed with every verdict.
//!
//! Every event of every run is hashed, but most runs keep no event. So
//! [`event!`](crate::event!) builds a [`LazyEvent`] whose field values keep their types
//! ([`TraceValue`]). Each value writes itself as pieces (strings and integers) into a
//! [`Line`], which mixes every piece into the hash as machine words ([`hash`]) and renders
//! the text only when the trace is kept or echoed. One `write` per value serves both, so the
//! text and the hash cannot disagree about what a value is.
//!
//! The hash is a function of the typed events as `event!` records them: the time, the node,
//! the kind, and each key and value piece by piece (see [`hash`]). It is not a function of
//! the text: an integer and the same digits as a string render alike and hash apart. A kept
//! [`TraceEvent`] is a rendering (a `String` per value) and is never hashed; a run's hash is
//! checked by running it again (as a bundle's replay does), never recomputed from a trace.
//! Every hash there is (the pinned seeds, bundles, the commands' verdicts) comes from a live
//! run, so kept events with typed values that could be hashed again would only be a second
//! path to keep equal to the first.

use crate::config::Micros;
use std::fmt;

pub mod hash;

pub use hash::Name;
use hash::TraceHasher;

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
        let mut text = Vec::new();
        render_line_head(self.time, self.node, self.kind, &mut text);
        for (key, value) in &self.fields {
            render_key(key, &mut text);
            text.extend_from_slice(value.as_bytes());
        }
        String::from_utf8(text).expect("a trace line is built from UTF-8 only")
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

/// A trace line as it is built, piece by piece: every piece is mixed into the hash, and the
/// text (UTF-8 bytes: only `str`s and ASCII digits and spaces are appended, kept as bytes so
/// that appending digits needs no UTF-8 check) is rendered only when asked. A new `Line`
/// renders; the trace's own line renders only when the trace is kept or echoed.
#[derive(Clone, Debug)]
pub struct Line {
    text: Vec<u8>,
    render: bool,
    hasher: TraceHasher,
}

impl Default for Line {
    fn default() -> Line {
        Line::new(true)
    }
}

impl Line {
    fn new(render: bool) -> Line {
        Line {
            text: Vec::new(),
            render,
            hasher: TraceHasher::default(),
        }
    }

    pub fn push(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.push_str(c.encode_utf8(&mut buf));
    }

    /// A string piece.
    #[inline]
    pub fn push_str(&mut self, s: &str) {
        self.hasher.string(s);
        if self.render {
            self.text.extend_from_slice(s.as_bytes());
        }
    }

    /// An integer piece: one word in the hash, decimal in the text.
    #[inline]
    pub fn push_u64(&mut self, value: u64) {
        self.hasher.word(value);
        if self.render {
            self.render_u64(value);
        }
    }

    /// Formatted text, as one string piece however `fmt` splits it into writes (how it does
    /// is not ours to pin). Rare (a violation's property, tests): rendered even when only
    /// hashing, into the text buffer, and cut off again.
    pub fn push_fmt(&mut self, args: fmt::Arguments<'_>) {
        if let Some(s) = args.as_str() {
            return self.push_str(s);
        }
        let start = self.text.len();
        std::io::Write::write_fmt(&mut self.text, args).expect("a Vec accepts any text");
        let piece = std::str::from_utf8(&self.text[start..]).expect("fmt writes UTF-8");
        self.hasher.string(piece);
        if !self.render {
            self.text.truncate(start);
        }
    }

    /// `time node kind`, the start of every event: time and node as words (no node is 0,
    /// node `n` is `n + 1`), then the kind's word (which marks where an event starts).
    #[inline]
    fn push_head(&mut self, time: Micros, node: Option<usize>, kind: Name) {
        self.hasher.word(time);
        self.hasher.word(node.map_or(0, |n| n as u64 + 1));
        self.hasher.name(kind);
        if self.render {
            render_line_head(time, node, kind.text, &mut self.text);
        }
    }

    /// ` key=` before a field's value: the key's word.
    #[inline]
    fn push_key(&mut self, key: Name) {
        self.hasher.name(key);
        if self.render {
            render_key(key.text, &mut self.text);
        }
    }

    /// `value` in decimal. The digits are formatted in place at the front of a 20-byte
    /// buffer, which is appended whole (a constant-length copy) and cut back to the digits.
    fn render_u64(&mut self, value: u64) {
        let len = value.checked_ilog10().map_or(1, |l| l as usize + 1);
        let mut digits = [0u8; 20];
        format_u64(value, &mut digits, len);
        let start = self.text.len();
        self.text.extend_from_slice(&digits);
        self.text.truncate(start + len);
    }

    /// Empties the text (the hash goes on).
    pub fn clear(&mut self) {
        self.text.clear();
    }

    /// The text (checked, for the rare paths: echo, keep).
    pub fn as_text(&self) -> &str {
        std::str::from_utf8(&self.text).expect("a trace line is built from UTF-8 only")
    }

    pub fn into_string(self) -> String {
        String::from_utf8(self.text).expect("a trace line is built from UTF-8 only")
    }
}

/// A field value of a trace event, written into a [`Line`] as pieces without allocating.
/// The text `write` renders must be exactly what `to_string()` of the value would be; the
/// pieces it writes are what the hash sees.
pub trait TraceValue {
    fn write(&self, out: &mut Line);
}

macro_rules! unsigned_trace_value {
    ($($t:ty),*) => {$(
        impl TraceValue for $t {
            #[inline]
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
    #[inline]
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
        out.push_fmt(*self);
    }
}

impl<T: TraceValue + ?Sized> TraceValue for &T {
    #[inline]
    fn write(&self, out: &mut Line) {
        (**self).write(out)
    }
}

/// Rare: only a violation's event carries one.
impl TraceValue for crate::checkers::Property {
    fn write(&self, out: &mut Line) {
        out.push_fmt(format_args!("{self}"));
    }
}

/// A value written by a function (`Lazy(|out| ...)`): for text that takes some work to
/// build, done only into the line (so, when only hashing, never rendered).
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
        out.push_str("n");
        self.0.write(out);
    }
}

/// Values separated by commas (`1,2,3`).
pub struct Joined<'a, T: TraceValue>(pub &'a [T]);

impl<T: TraceValue> TraceValue for Joined<'_, T> {
    fn write(&self, out: &mut Line) {
        for (i, value) in self.0.iter().enumerate() {
            if i > 0 {
                out.push_str(",");
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
        impl<$($v: TraceValue),*> Fields for ($((Name, $v),)*) {
            #[allow(non_snake_case, unused_variables)]
            #[inline]
            fn write(&self, out: &mut Line) {
                let ($($v,)*) = self;
                $(
                    out.push_key($v.0);
                    $v.1.write(out);
                )*
            }
            #[allow(non_snake_case)]
            fn into_owned(self) -> Vec<(&'static str, String)> {
                let ($($v,)*) = self;
                vec![$({
                    let mut value = Line::default();
                    $v.1.write(&mut value);
                    ($v.0.text, value.into_string())
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
    pub kind: Name,
    pub fields: F,
}

impl<F: Fields> LazyEvent<F> {
    /// The owned event (a `String` per field value), as the kept trace stores it.
    pub fn into_event(self) -> TraceEvent {
        TraceEvent {
            time: self.time,
            node: self.node,
            kind: self.kind.text,
            fields: self.fields.into_owned(),
        }
    }

    /// Writes the whole event into `out`: hashed, and rendered if `out` renders.
    fn write(&self, out: &mut Line) {
        out.push_head(self.time, self.node, self.kind);
        self.fields.write(out);
    }
}

impl<F: Fields> From<LazyEvent<F>> for TraceEvent {
    fn from(event: LazyEvent<F>) -> TraceEvent {
        event.into_event()
    }
}

/// ` key=`, before each field's value in a canonical line.
fn render_key(key: &str, out: &mut Vec<u8>) {
    out.push(b' ');
    out.extend_from_slice(key.as_bytes());
    out.push(b'=');
}

/// `time node kind`, the start of every canonical line.
fn render_line_head(time: Micros, node: Option<usize>, kind: &str, out: &mut Vec<u8>) {
    // The time right-aligned in 10 columns: digits at the end of a buffer of spaces. The
    // appends have constant lengths where they can (a few moves rather than a `memcpy`).
    let mut head = [b' '; 20];
    let start = format_u64(time, &mut head, 20);
    match <&[u8; 10]>::try_from(&head[10..]) {
        Ok(last_ten) if start >= 10 => out.extend_from_slice(last_ten),
        _ => out.extend_from_slice(&head[start..]),
    }
    // Then the node left-aligned in 3 columns (`n` and the number), and a space.
    match node {
        Some(n @ 0..=9) => out.extend_from_slice(&[b' ', b'n', b'0' + n as u8, b' ', b' ']),
        Some(n) => {
            out.extend_from_slice(b" n");
            let mut digits = [0u8; 20];
            let start = format_u64(n as u64, &mut digits, 20);
            out.extend_from_slice(&digits[start..]);
            out.push(b' ');
        }
        None => out.extend_from_slice(b" -   "),
    }
    out.extend_from_slice(kind.as_bytes());
}

/// Collects the trace: always hashes it, keeps the events only when asked.
#[derive(Clone, Debug)]
pub struct Trace {
    events: u64,
    keep: bool,
    kept: Vec<TraceEvent>,
    echo: bool,
    /// The line of the event being recorded (reused across events: no allocation per
    /// event), and the hash of every event so far.
    line: Line,
}

impl Trace {
    pub fn new(keep: bool) -> Trace {
        Trace {
            events: 0,
            keep,
            kept: Vec::new(),
            echo: false,
            line: Line::new(keep),
        }
    }

    /// Echo events to `tracing` as they happen, at debug level with target `sim::trace`
    /// (`cargo xtask sim -vv`, or `RUST_LOG=sim::trace=debug`).
    pub fn set_echo(&mut self, echo: bool) {
        self.echo = echo;
        self.line.render = self.keep || echo;
    }

    /// Hashes the event; renders its line and keeps the event (as a [`TraceEvent`]) only
    /// when the trace is kept or echoed.
    pub fn record<F: Fields>(&mut self, event: LazyEvent<F>) {
        self.line.clear();
        event.write(&mut self.line);
        self.events += 1;
        if self.echo {
            tracing::debug!(target: "sim::trace", "{}", self.line.as_text());
        }
        if self.keep {
            let event = event.into_event();
            debug_assert_eq!(
                event.canonical(),
                self.line.as_text(),
                "a lazy event renders as its owned form"
            );
            self.kept.push(event);
        }
    }

    /// The trace hash: every piece of every event, as words ([`hash`]).
    pub fn hash(&self) -> u64 {
        self.line.hasher.finish()
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
/// owned [`TraceEvent`]. The kind must be a constant: its word and the keys' words are
/// worked out at compile time.
#[macro_export]
macro_rules! event {
    ($time:expr, $node:expr, $kind:expr $(, $key:ident = $value:expr)* $(,)?) => {
        $crate::trace::LazyEvent {
            time: $time,
            node: $node,
            kind: const { $crate::trace::Name::kind($kind) },
            fields: ($((const { $crate::trace::Name::key(stringify!($key)) }, $value),)*),
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

    /// Records the same events into a trace that keeps, one that echoes and one that does
    /// neither; checks that the three hashes agree and returns the hash and the kept text.
    fn in_every_mode(record: impl Fn(&mut Trace)) -> (u64, String) {
        let mut plain = Trace::new(false);
        let mut kept = Trace::new(true);
        let mut echoed = Trace::new(false);
        echoed.set_echo(true);
        for trace in [&mut plain, &mut kept, &mut echoed] {
            record(trace);
        }
        assert_eq!(plain.hash(), kept.hash(), "{}", kept.canonical_text());
        assert_eq!(plain.hash(), echoed.hash(), "{}", kept.canonical_text());
        (plain.hash(), kept.canonical_text())
    }

    #[test]
    fn every_kind_of_value_hashes_alike_rendered_or_not() {
        let (_, text) = in_every_mode(|trace| {
            trace.record(event!(
                3,
                Some(1),
                "send",
                a = 7u8,
                b = 8u16,
                c = 9u32,
                d = 10u64,
                e = 11usize,
                f = -12i32,
                g = -13i64,
                h = true,
                i = "str",
                j = String::from("string"),
                k = format_args!("x{}", 1),
                l = Lazy(|out: &mut Line| put!(out, "AE(t", 3u64, ")"))
            ));
            trace.record(event!(
                u64::MAX,
                Some(12),
                "deliver",
                m = NodeName(2),
                n = Joined(&[1u64, 20]),
                o = format_args!("plain"),
                p = crate::checkers::Property::ElectionSafety,
                q = &&5u64,
                r = 14i64,
                s = ""
            ));
            trace.record(event!(0, None, "fault"));
        });
        assert_eq!(
            text,
            "         3 n1  send a=7 b=8 c=9 d=10 e=11 f=-12 g=-13 h=true i=str j=string k=x1 \
             l=AE(t3)\n\
             18446744073709551615 n12 deliver m=n2 n=1,20 o=plain p=election-safety q=5 r=14 s=\n\
             \x20        0 -   fault\n"
        );
    }

    /// Records some events into a trace.
    type Recording<'a> = &'a dyn Fn(&mut Trace);

    #[test]
    fn hash_depends_on_every_event() {
        let one = |record: Recording| in_every_mode(record);
        let base = |t: &mut Trace| t.record(event!(1, Some(0), "x", a = 1u64, b = 23u64));
        let other = |t: &mut Trace| t.record(event!(2, Some(1), "y"));
        // Pairs that render alike but are different events: the boundary between two
        // integers moved, an integer against its digits, one string against two, a key
        // written as text.
        let alike: [[Recording; 2]; 4] = [
            [
                &|t| {
                    t.record(event!(
                        1,
                        Some(0),
                        "x",
                        a = Lazy(|o: &mut Line| put!(o, 1u64, 23u64))
                    ))
                },
                &|t| {
                    t.record(event!(
                        1,
                        Some(0),
                        "x",
                        a = Lazy(|o: &mut Line| put!(o, 12u64, 3u64))
                    ))
                },
            ],
            [&base, &|t| {
                t.record(event!(1, Some(0), "x", a = "1", b = 23u64))
            }],
            [&|t| t.record(event!(1, Some(0), "x", a = "bc")), &|t| {
                t.record(event!(
                    1,
                    Some(0),
                    "x",
                    a = Lazy(|o: &mut Line| put!(o, "b", "c"))
                ))
            }],
            [&base, &|t| {
                t.record(event!(
                    1,
                    Some(0),
                    "x",
                    a = Lazy(|o: &mut Line| put!(o, 1u64, " b=", 23u64))
                ))
            }],
        ];
        for [a, b] in &alike {
            let (hash_a, text_a) = one(a);
            let (hash_b, text_b) = one(b);
            assert_eq!(text_a, text_b, "the pair renders alike");
            assert_ne!(hash_a, hash_b, "{text_a}");
        }
        let variants: [Recording; 13] = [
            &base,
            &|t| t.record(event!(2, Some(0), "x", a = 1u64, b = 23u64)),
            &|t| t.record(event!(1, Some(1), "x", a = 1u64, b = 23u64)),
            &|t| t.record(event!(1, None, "x", a = 1u64, b = 23u64)),
            &|t| t.record(event!(1, Some(0), "z", a = 1u64, b = 23u64)),
            &|t| t.record(event!(1, Some(0), "x", a = 1u64, c = 23u64)),
            &|t| t.record(event!(1, Some(0), "x", a = 1u64, b = 24u64)),
            &|t| t.record(event!(1, Some(0), "x", a = 12u64, b = 3u64)),
            &|t| t.record(event!(1, Some(0), "x", b = 23u64, a = 1u64)),
            &|t| t.record(event!(1, Some(0), "x", a = 1u64)),
            &|t| {
                base(t);
                other(t);
            },
            &|t| {
                other(t);
                base(t);
            },
            &|t| {
                base(t);
                base(t);
            },
        ];
        let hashes: std::collections::HashSet<u64> = variants.iter().map(|v| one(v).0).collect();
        assert_eq!(hashes.len(), variants.len());
    }
}
