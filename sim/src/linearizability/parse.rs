//! Parsers for external history formats: Jepsen etcd logs and porcupine key-value logs (both from
//! porcupine's test data), and Knossos `cas-register` EDN histories.
//!
//! All of them use the position of the event in the file (line, or element index for EDN) as its
//! time, pair each completion with the pending invocation of the same process, and return a
//! [`ParseError`] naming the line for anything unexpected. They never panic.

use std::collections::BTreeMap;
use std::fmt;

use super::edn::{parse_edn, parse_edn_items, Edn};
use super::{History, KvInput, KvOutput, Operation, RegisterInput, RegisterOutput, PENDING};

/// A parse failure, with the 1-based line where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number (0 if no line applies).
    pub line: usize,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        line,
        message: message.into(),
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum EventType {
    Invoke,
    Ok,
    Fail,
    Info,
}

impl EventType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "invoke" => EventType::Invoke,
            "ok" => EventType::Ok,
            "fail" => EventType::Fail,
            "info" => EventType::Info,
            _ => return None,
        })
    }
}

/// Collects operations in invocation order while pairing completions with invocations.
struct Pairing<I, O> {
    /// `None`: dropped (the operation did not happen).
    ops: Vec<Option<Operation<I, O>>>,
    /// process -> (slot, line of the invocation, function name)
    pending: BTreeMap<u64, (usize, usize, String)>,
}

impl<I, O> Pairing<I, O> {
    fn new() -> Self {
        Pairing {
            ops: Vec::new(),
            pending: BTreeMap::new(),
        }
    }

    fn invoke(
        &mut self,
        line: usize,
        process: u64,
        f: &str,
        input: I,
        unknown: O,
    ) -> Result<(), ParseError> {
        if let Some((_, at, _)) = self.pending.get(&process) {
            return err(
                line,
                format!(
                    "process {process} invokes again while its invocation on line {at} is pending"
                ),
            );
        }
        self.pending
            .insert(process, (self.ops.len(), line, f.to_string()));
        self.ops.push(Some(Operation {
            client: process,
            call: line as u64,
            ret: PENDING,
            input,
            output: unknown,
        }));
        Ok(())
    }

    /// Takes the pending invocation of `process`, checking that it is for `f`.
    fn complete(&mut self, line: usize, process: u64, f: &str) -> Result<usize, ParseError> {
        let Some((slot, at, invoked)) = self.pending.remove(&process) else {
            return err(
                line,
                format!("completion for process {process}, which has no pending invocation"),
            );
        };
        if invoked != f {
            return err(
                line,
                format!("completion of :{f} for process {process}, whose invocation on line {at} is :{invoked}"),
            );
        }
        Ok(slot)
    }

    fn get_mut(&mut self, slot: usize) -> Option<&mut Operation<I, O>> {
        self.ops.get_mut(slot).and_then(Option::as_mut)
    }

    /// Pending invocations stay as they are: optional, never returning.
    fn finish(self) -> History<I, O> {
        self.ops.into_iter().flatten().collect()
    }
}

/// Parses a Jepsen etcd log as kept in porcupine's `test_data/jepsen/etcd_NNN.log`, for
/// [`RegisterModel`](super::RegisterModel)`::new(None)` (porcupine's `etcdModel`).
///
/// Each non-empty line is `INFO jepsen.util - PROC TYPE F VALUE` (tabs or spaces). Time is the
/// line number. Semantics:
/// * `:ok :read V` reads V (`nil`: absent); `:ok :write`, `:ok :cas` succeeded.
/// * `:fail :cas` means the comparison failed (porcupine's reading, not "did not happen").
/// * `:info` (timed out): unknown outcome, return time [`PENDING`].
/// * `:fail :read` / `:info :read`: unknown result, which constrains nothing.
/// * `:fail :write`: did not happen; the operation is dropped.
/// * An invocation without a completion at the end is treated like `:info`.
pub fn parse_jepsen_etcd_log(
    text: &str,
) -> Result<History<RegisterInput, RegisterOutput>, ParseError> {
    let mut pairing: Pairing<RegisterInput, RegisterOutput> = Pairing::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let mut fields = raw.split([' ', '\t']).filter(|s| !s.is_empty());
        let Some(first) = fields.next() else {
            continue;
        };
        if first != "INFO" || fields.next() != Some("jepsen.util") || fields.next() != Some("-") {
            return err(line, "expected a line starting with `INFO jepsen.util -`");
        }
        let (Some(process), Some(kind), Some(f)) = (fields.next(), fields.next(), fields.next())
        else {
            return err(line, "expected process, type, function and value");
        };
        let value: Vec<&str> = fields.collect();
        let Ok(process) = process.parse::<u64>() else {
            return err(line, format!("bad process id {process:?}"));
        };
        let Some(kind) = kind.strip_prefix(':').and_then(EventType::parse) else {
            return err(line, format!("bad type {kind:?}"));
        };
        let f = match f {
            ":read" | ":write" | ":cas" => &f[1..],
            _ => return err(line, format!("bad function {f:?}")),
        };
        let value = JepsenValue::parse(&value).ok_or_else(|| ParseError {
            line,
            message: format!("bad value {:?}", value.join(" ")),
        })?;

        if kind == EventType::Invoke {
            let input = match (f, value) {
                ("read", _) => RegisterInput::Read,
                ("write", JepsenValue::Int(v)) => RegisterInput::Write(v),
                ("cas", JepsenValue::Pair(from, to)) => RegisterInput::Cas { from, to },
                _ => return err(line, format!("bad value for :{f} invocation")),
            };
            pairing.invoke(line, process, f, input, RegisterOutput::Unknown)?;
            continue;
        }

        let slot = pairing.complete(line, process, f)?;
        let output = match (kind, f, value) {
            (EventType::Ok, "read", JepsenValue::Nil) => Some(RegisterOutput::Value(None)),
            (EventType::Ok, "read", JepsenValue::Int(v)) => Some(RegisterOutput::Value(Some(v))),
            (EventType::Ok, "read", _) => {
                return err(line, "a successful read must return nil or an integer")
            }
            (EventType::Ok, _, _) => Some(RegisterOutput::Ok),
            (EventType::Fail, "cas", _) => Some(RegisterOutput::Fail),
            (EventType::Fail, "read", _) => Some(RegisterOutput::Unknown),
            (EventType::Fail, _, _) => None,
            (EventType::Info, _, _) => {
                // Unknown outcome, and it may take effect at any later time.
                continue;
            }
            (EventType::Invoke, _, _) => None,
        };
        match output {
            Some(output) => {
                if let Some(op) = pairing.get_mut(slot) {
                    op.ret = line as u64;
                    op.output = output;
                }
            }
            None => pairing.ops[slot] = None,
        }
    }
    Ok(pairing.finish())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JepsenValue {
    Nil,
    Int(i64),
    Pair(i64, i64),
    Keyword,
}

impl JepsenValue {
    fn parse(fields: &[&str]) -> Option<Self> {
        match fields {
            ["nil"] => Some(JepsenValue::Nil),
            [k] if k.starts_with(':') && k.len() > 1 => Some(JepsenValue::Keyword),
            [v] => v.parse().ok().map(JepsenValue::Int),
            [a, b] => {
                let a = a.strip_prefix('[')?.parse().ok()?;
                let b = b.strip_suffix(']')?.parse().ok()?;
                Some(JepsenValue::Pair(a, b))
            }
            _ => None,
        }
    }
}

/// Parses a porcupine key-value log (`test_data/kv/cNN-{ok,bad}.txt`), for
/// [`KvModel`](super::KvModel)`::with_initial("")` (porcupine's `kvModel`).
///
/// Each non-empty line is an EDN map `{:process P, :type T, :f F, :key "K", :value V}` with
/// `F` one of `:get`, `:put`, `:append`. Time is the line number. `:ok :get` carries the value
/// read; `:fail` means the operation did not happen; `:info` and invocations without a
/// completion have an unknown outcome.
pub fn parse_porcupine_kv(text: &str) -> Result<History<KvInput, KvOutput>, ParseError> {
    let mut pairing: Pairing<KvInput, KvOutput> = Pairing::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let map = parse_edn(raw).map_err(|e| ParseError {
            line,
            message: e.message,
        })?;
        if !matches!(map, Edn::Map(_)) {
            return err(line, "expected a map `{...}`");
        }
        let process = process_id(&map, line)?.ok_or_else(|| ParseError {
            line,
            message: "expected an integer :process".to_string(),
        })?;
        let kind = event_type(&map, line)?;
        let f = match map.get("f").and_then(Edn::as_keyword) {
            Some(f @ ("get" | "put" | "append")) => f,
            _ => return err(line, "expected :f to be :get, :put or :append"),
        };
        let Some(key) = map.get("key").and_then(Edn::as_str) else {
            return err(line, "expected a string :key");
        };
        let value = match map.get("value") {
            Some(Edn::Str(s)) => Some(s.as_str()),
            Some(Edn::Nil) | None => None,
            Some(_) => return err(line, "expected :value to be a string or nil"),
        };

        if kind == EventType::Invoke {
            let key = key.to_string();
            let input = match (f, value) {
                ("get", _) => KvInput::Get { key },
                ("put", Some(v)) => KvInput::Put {
                    key,
                    value: v.to_string(),
                },
                ("append", Some(v)) => KvInput::Append {
                    key,
                    value: v.to_string(),
                },
                _ => return err(line, format!("a :{f} invocation needs a string :value")),
            };
            pairing.invoke(line, process, f, input, KvOutput::Unknown)?;
            continue;
        }
        let slot = pairing.complete(line, process, f)?;
        if pairing
            .get_mut(slot)
            .is_some_and(|op| op.input.key() != key)
        {
            return err(line, "the completion's :key differs from its invocation's");
        }
        let output = match (kind, f) {
            (EventType::Ok, "get") => match value {
                Some(v) => Some(KvOutput::Value(Some(v.to_string()))),
                None => return err(line, "a successful :get must carry a string :value"),
            },
            (EventType::Ok, _) => Some(KvOutput::Ok),
            (EventType::Fail, _) => None,
            (EventType::Info, _) => continue,
            (EventType::Invoke, _) => None,
        };
        match output {
            Some(output) => {
                if let Some(op) = pairing.get_mut(slot) {
                    op.ret = line as u64;
                    op.output = output;
                }
            }
            None => pairing.ops[slot] = None,
        }
    }
    Ok(pairing.finish())
}

/// `Ok(None)` for a non-integer process such as `:nemesis`.
fn process_id(map: &Edn, line: usize) -> Result<Option<u64>, ParseError> {
    match map.get("process") {
        Some(Edn::Int(p)) => match u64::try_from(*p) {
            Ok(p) => Ok(Some(p)),
            Err(_) => err(line, format!("negative process id {p}")),
        },
        Some(Edn::Keyword(_)) => Ok(None),
        _ => err(line, "expected :process to be an integer or a keyword"),
    }
}

fn event_type(map: &Edn, line: usize) -> Result<EventType, ParseError> {
    map.get("type")
        .and_then(Edn::as_keyword)
        .and_then(EventType::parse)
        .ok_or_else(|| ParseError {
            line,
            message: "expected :type to be :invoke, :ok, :fail or :info".to_string(),
        })
}

/// Parses a Knossos `cas-register` history (an EDN vector or list of operation maps), for
/// [`RegisterModel`](super::RegisterModel)`::new(Some(0))` (Knossos's `(cas-register 0)`).
///
/// Knossos semantics: `:ok` happened; `:fail` did not happen (dropped, unlike porcupine's etcd
/// data); `:info` and invocations without a completion may take effect at any later time, or
/// never. A read completing with `nil` is unconstrained. Events from non-integer processes
/// (`:nemesis`) are ignored. Time is the element's position in the history.
pub fn parse_knossos_cas_register(
    text: &str,
) -> Result<History<RegisterInput, RegisterOutput>, ParseError> {
    let mut pairing: Pairing<RegisterInput, RegisterOutput> = Pairing::new();
    for (time, (line, item)) in parse_edn_items(text)?.into_iter().enumerate() {
        if !matches!(item, Edn::Map(_)) {
            return err(line, "expected an operation map `{...}`");
        }
        let Some(process) = process_id(&item, line)? else {
            continue;
        };
        let kind = event_type(&item, line)?;
        let f = match item.get("f").and_then(Edn::as_keyword) {
            Some(f @ ("read" | "write" | "cas")) => f,
            _ => return err(line, "expected :f to be :read, :write or :cas"),
        };
        let value = item.get("value").unwrap_or(&Edn::Nil);

        if kind == EventType::Invoke {
            let input = match (f, value) {
                ("read", _) => RegisterInput::Read,
                ("write", Edn::Int(v)) => RegisterInput::Write(*v),
                ("cas", v) => match v.as_seq() {
                    Some([Edn::Int(from), Edn::Int(to)]) => RegisterInput::Cas {
                        from: *from,
                        to: *to,
                    },
                    _ => return err(line, "a :cas value must be [from to]"),
                },
                _ => return err(line, format!("bad value for a :{f} invocation")),
            };
            pairing.invoke(line, process, f, input, RegisterOutput::Unknown)?;
            if let Some(op) = pairing.ops.last_mut().and_then(Option::as_mut) {
                op.call = time as u64;
            }
            continue;
        }
        let slot = pairing.complete(line, process, f)?;
        let output = match (kind, f) {
            (EventType::Ok, "read") => match value {
                Edn::Int(v) => Some(RegisterOutput::Value(Some(*v))),
                Edn::Nil => Some(RegisterOutput::Unknown),
                _ => return err(line, "a read must return an integer or nil"),
            },
            (EventType::Ok, _) => Some(RegisterOutput::Ok),
            (EventType::Fail, _) => None,
            (EventType::Info, _) => continue,
            (EventType::Invoke, _) => None,
        };
        match output {
            Some(output) => {
                if let Some(op) = pairing.get_mut(slot) {
                    op.ret = time as u64;
                    op.output = output;
                }
            }
            None => pairing.ops[slot] = None,
        }
    }
    Ok(pairing.finish())
}
