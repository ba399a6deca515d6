//! A key-value store model: string keys and values; put, append, compare-and-set and get.

use std::cell::RefCell;
use std::collections::HashMap;

use super::hash::FxBuildHasher;
use super::{check, CheckOptions, Model, Operation, Partition, Verdict};

/// A key-value request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvInput {
    /// Sets the key to `value`. Answers [`KvOutput::Ok`].
    Put { key: String, value: String },
    /// Appends `value` to the key's value (an absent key counts as the empty string). Answers
    /// [`KvOutput::Ok`].
    Append { key: String, value: String },
    /// Sets the key to `new` if its value is `expected` (`None`: the key is absent). Answers
    /// [`KvOutput::Ok`] if it swapped, [`KvOutput::Fail`] if the comparison failed (legal only
    /// if the value differs from `expected`; nothing changes).
    Cas {
        key: String,
        expected: Option<String>,
        new: String,
    },
    /// Reads the key. Answers [`KvOutput::Value`].
    Get { key: String },
}

impl KvInput {
    /// The key the request is about.
    pub fn key(&self) -> &str {
        match self {
            KvInput::Put { key, .. }
            | KvInput::Append { key, .. }
            | KvInput::Cas { key, .. }
            | KvInput::Get { key } => key,
        }
    }
}

/// A key-value response.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvOutput {
    /// Put or append done, or compare-and-set swapped.
    Ok,
    /// The value a get read (`None`: the key is absent).
    Value(Option<String>),
    /// Compare-and-set did not swap because the value differed from the expected one.
    Fail,
    /// No answer is known (timeout, lost reply): the request may or may not have taken effect.
    /// A get with an unknown answer constrains nothing and is ignored.
    Unknown,
}

/// A key's value in the model: an interned string, or absent. Only meaningful together with the
/// [`KvModel`] that produced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KvState(u32);

const ABSENT: KvState = KvState(0);

/// The key-value model. Keys are independent, so each key is checked as its own partition.
///
/// Values are interned, so states are small integers; the model keeps the table of values, so
/// check each history with its own model (or reuse one and let the table grow).
///
/// Its partitions leave out optional writes that nothing in the history could observe (see
/// `drop_unobservable` in the source): no linearization needs them.
///
/// An output that does not fit the request (such as [`KvOutput::Fail`] for a put) is never
/// legal.
#[derive(Debug, Default)]
pub struct KvModel {
    initial: Option<String>,
    values: RefCell<Values>,
}

/// The values the model has seen, with every distinct string represented by exactly one node.
///
/// A node is either a whole interned piece or (parent node, appended piece), so an append
/// costs O(1) instead of copying the string. Nodes are made canonical when created: a
/// polynomial hash of the content finds candidates, and the content is compared exactly, so
/// two states are equal if and only if their values are.
#[derive(Debug)]
struct Values {
    piece_ids: HashMap<Box<str>, u32, FxBuildHasher>,
    pieces: Vec<Piece>,
    /// `nodes[0]` stands for "absent".
    nodes: Vec<Node>,
    /// (length, content hash) -> first node with it (more via `Node::same`).
    by_content: HashMap<(u32, u64), u32, FxBuildHasher>,
    /// (node, appended piece) -> resulting node.
    appends: HashMap<(u32, u32), u32, FxBuildHasher>,
    scratch: (Vec<u8>, Vec<u8>, Vec<u32>),
}

#[derive(Debug)]
struct Piece {
    text: Box<str>,
    hash: u64,
    /// `BASE` to the power of the length.
    pow: u64,
    /// The node whose value is exactly this piece (0: not made yet).
    node: u32,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    len: u32,
    hash: u64,
    /// `WHOLE`: the value is `piece`; otherwise the value is the parent's value then `piece`.
    parent: u32,
    piece: u32,
    /// Next node with the same length and hash (`NONE`).
    same: u32,
}

const WHOLE: u32 = u32::MAX;
const NONE: u32 = u32::MAX;
const MODULUS: u64 = (1 << 61) - 1;
const BASE: u64 = 0x0123_4567_89AB_CDEF % MODULUS;

fn mul_mod(a: u64, b: u64) -> u64 {
    let r = a as u128 * b as u128;
    let s = (r as u64 & MODULUS) + (r >> 61) as u64;
    let s = if s >= MODULUS { s - MODULUS } else { s };
    if s >= MODULUS {
        s - MODULUS
    } else {
        s
    }
}

fn add_mod(a: u64, b: u64) -> u64 {
    let s = a + b;
    if s >= MODULUS {
        s - MODULUS
    } else {
        s
    }
}

impl Default for Values {
    fn default() -> Self {
        Values {
            piece_ids: HashMap::default(),
            pieces: Vec::new(),
            nodes: vec![Node {
                len: 0,
                hash: 0,
                parent: WHOLE,
                piece: NONE,
                same: NONE,
            }],
            by_content: HashMap::default(),
            appends: HashMap::default(),
            scratch: Default::default(),
        }
    }
}

impl Values {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.piece_ids.get(s) {
            return id;
        }
        let (mut hash, mut pow) = (0u64, 1u64);
        for &b in s.as_bytes() {
            hash = add_mod(mul_mod(hash, BASE), b as u64 + 1);
            pow = mul_mod(pow, BASE);
        }
        let id = self.pieces.len() as u32;
        self.pieces.push(Piece {
            text: s.into(),
            hash,
            pow,
            node: 0,
        });
        self.piece_ids.insert(s.into(), id);
        id
    }

    /// Appends the value of `node` to `out`.
    fn write_value(&mut self, node: u32, out: &mut Vec<u8>) {
        let chain = &mut self.scratch.2;
        chain.clear();
        let mut n = node;
        while n != 0 {
            let node = self.nodes[n as usize];
            chain.push(node.piece);
            if node.parent == WHOLE {
                break;
            }
            n = node.parent;
        }
        for &p in chain.iter().rev() {
            out.extend_from_slice(self.pieces[p as usize].text.as_bytes());
        }
    }

    /// The value of `node` (`None`: absent).
    fn value(&mut self, node: u32) -> Option<String> {
        if node == 0 {
            return None;
        }
        let mut out = Vec::new();
        self.write_value(node, &mut out);
        Some(String::from_utf8_lossy(&out).into_owned())
    }

    /// Does `node` (not absent) hold exactly `value`? Compares from the end, piece by piece.
    fn node_is(&self, node: u32, value: &[u8]) -> bool {
        let mut n = node;
        if self.nodes[n as usize].len as usize != value.len() {
            return false;
        }
        let mut end = value.len();
        loop {
            let node = self.nodes[n as usize];
            let piece = self.pieces[node.piece as usize].text.as_bytes();
            if end < piece.len() || value[end - piece.len()..end] != *piece {
                return false;
            }
            end -= piece.len();
            if node.parent == WHOLE {
                return end == 0;
            }
            n = node.parent;
        }
    }

    /// Is the value of `node` (not absent) a prefix of `value`?
    fn is_prefix(&self, node: u32, value: &[u8]) -> bool {
        let len = self.nodes[node as usize].len as usize;
        len <= value.len() && self.node_is(node, &value[..len])
    }

    fn matches(&self, state: KvState, value: Option<&str>) -> bool {
        match value {
            None => state == ABSENT,
            Some(v) => state != ABSENT && self.node_is(state.0, v.as_bytes()),
        }
    }

    /// The canonical node for the value (parent's value, or nothing if `WHOLE`) + piece.
    fn node_for(&mut self, parent: u32, piece: u32) -> u32 {
        let p = &self.pieces[piece as usize];
        let (len, hash) = if parent == WHOLE {
            (p.text.len() as u32, p.hash)
        } else {
            let base = self.nodes[parent as usize];
            (
                base.len + p.text.len() as u32,
                add_mod(mul_mod(base.hash, p.pow), p.hash),
            )
        };
        let first = self.by_content.get(&(len, hash)).copied().unwrap_or(NONE);
        if first != NONE {
            // Build the value once and compare it with each candidate.
            let mut value = std::mem::take(&mut self.scratch.0);
            value.clear();
            if parent != WHOLE {
                self.write_value(parent, &mut value);
            }
            value.extend_from_slice(self.pieces[piece as usize].text.as_bytes());
            let mut c = first;
            let mut found = None;
            while c != NONE {
                if self.node_is(c, &value) {
                    found = Some(c);
                    break;
                }
                c = self.nodes[c as usize].same;
            }
            self.scratch.0 = value;
            if let Some(c) = found {
                return c;
            }
        }
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            len,
            hash,
            parent,
            piece,
            same: first,
        });
        self.by_content.insert((len, hash), id);
        id
    }

    /// The node holding exactly `s`.
    fn whole(&mut self, s: &str) -> KvState {
        let piece = self.intern(s);
        let node = self.pieces[piece as usize].node;
        if node != 0 {
            return KvState(node);
        }
        let node = self.node_for(WHOLE, piece);
        self.pieces[piece as usize].node = node;
        KvState(node)
    }

    fn append(&mut self, state: KvState, suffix: &str) -> KvState {
        if state == ABSENT {
            return self.whole(suffix);
        }
        let piece = self.intern(suffix);
        if let Some(&id) = self.appends.get(&(state.0, piece)) {
            return KvState(id);
        }
        let id = self.node_for(state.0, piece);
        self.appends.insert((state.0, piece), id);
        KvState(id)
    }
}

impl KvModel {
    /// Every key starts absent.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every key starts with the value `initial`. `KvModel::with_initial("")` is porcupine's
    /// `kvModel` (a get of a never-written key reads `""`).
    pub fn with_initial(initial: impl Into<String>) -> Self {
        KvModel {
            initial: Some(initial.into()),
            values: RefCell::default(),
        }
    }

    /// The value a state stands for (`None`: absent).
    pub fn value(&self, state: KvState) -> Option<String> {
        self.values.borrow_mut().value(state.0)
    }
}

fn changed(old: KvState, new: KvState) -> Option<KvState> {
    (old != new).then_some(new)
}

impl Model for KvModel {
    type State = KvState;
    type Input = KvInput;
    type Output = KvOutput;

    fn memory_bytes(&self) -> u64 {
        let v = self.values.borrow();
        let map_entry = |key: usize| key + std::mem::size_of::<u32>() + 1;
        let bytes = v.nodes.capacity() * std::mem::size_of::<Node>()
            + v.by_content.capacity() * map_entry(std::mem::size_of::<(u32, u64)>())
            + v.appends.capacity() * map_entry(std::mem::size_of::<(u32, u32)>())
            + v.pieces.capacity() * std::mem::size_of::<Piece>();
        bytes as u64
    }

    fn init(&self) -> KvState {
        match &self.initial {
            None => ABSENT,
            Some(v) => self.values.borrow_mut().whole(v),
        }
    }

    fn step(&self, &state: &KvState, input: &KvInput, output: &KvOutput) -> Option<KvState> {
        let mut values = self.values.borrow_mut();
        match (input, output) {
            (KvInput::Get { .. }, KvOutput::Value(v)) => {
                values.matches(state, v.as_deref()).then_some(state)
            }
            (KvInput::Get { .. }, KvOutput::Unknown) => Some(state),
            (KvInput::Put { value, .. }, KvOutput::Ok) => Some(values.whole(value)),
            (KvInput::Put { value, .. }, KvOutput::Unknown) => changed(state, values.whole(value)),
            (KvInput::Append { value, .. }, KvOutput::Ok) => Some(values.append(state, value)),
            (KvInput::Append { value, .. }, KvOutput::Unknown) => {
                changed(state, values.append(state, value))
            }
            (KvInput::Cas { expected, new, .. }, KvOutput::Ok) => values
                .matches(state, expected.as_deref())
                .then(|| values.whole(new)),
            (KvInput::Cas { expected, .. }, KvOutput::Fail) => {
                (!values.matches(state, expected.as_deref())).then_some(state)
            }
            (KvInput::Cas { expected, new, .. }, KvOutput::Unknown) => {
                if values.matches(state, expected.as_deref()) {
                    changed(state, values.whole(new))
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    fn partitions(&self, history: &[Operation<KvInput, KvOutput>]) -> Vec<Partition> {
        let mut index: HashMap<&str, usize, FxBuildHasher> = HashMap::default();
        let mut partitions: Vec<Partition> = Vec::new();
        for (i, op) in history.iter().enumerate() {
            let key = op.input.key();
            let p = *index.entry(key).or_insert_with(|| {
                partitions.push(Partition {
                    label: key.to_string(),
                    ops: Vec::new(),
                });
                partitions.len() - 1
            });
            partitions[p].ops.push(i);
        }
        for partition in &mut partitions {
            drop_unobservable(history, &mut partition.ops);
        }
        partitions
    }

    fn is_unknown(&self, _input: &KvInput, output: &KvOutput) -> bool {
        *output == KvOutput::Unknown
    }

    fn is_trivial(&self, input: &KvInput, output: &KvOutput) -> bool {
        matches!(input, KvInput::Get { .. }) && *output == KvOutput::Unknown
    }

    fn is_read_only(&self, input: &KvInput, output: &KvOutput) -> bool {
        matches!(input, KvInput::Get { .. })
            || (matches!(input, KvInput::Cas { .. }) && *output == KvOutput::Fail)
    }

    fn is_monotone(&self, input: &KvInput, output: &KvOutput) -> bool {
        matches!(input, KvInput::Append { .. })
            && matches!(output, KvOutput::Ok | KvOutput::Unknown)
    }

    fn fixed_result(&self, input: &KvInput, output: &KvOutput) -> Option<KvState> {
        match (input, output) {
            (KvInput::Put { value, .. }, KvOutput::Ok | KvOutput::Unknown)
            | (KvInput::Cas { new: value, .. }, KvOutput::Ok | KvOutput::Unknown) => {
                Some(self.values.borrow_mut().whole(value))
            }
            _ => None,
        }
    }

    /// Appends extend a value in the prefix order (and an absent key can become anything).
    fn may_become_legal(&self, &state: &KvState, input: &KvInput, output: &KvOutput) -> bool {
        match (input, output) {
            (KvInput::Get { .. }, KvOutput::Value(None)) => state == ABSENT,
            (KvInput::Get { .. }, KvOutput::Value(Some(v))) => {
                state == ABSENT || self.values.borrow().is_prefix(state.0, v.as_bytes())
            }
            _ => true,
        }
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        let request = match input {
            KvInput::Put { key, value } => format!("put({}, {})", short(key), short(value)),
            KvInput::Append { key, value } => {
                format!("append({}, {})", short(key), short(value))
            }
            KvInput::Cas { key, expected, new } => format!(
                "cas({}, {} -> {})",
                short(key),
                expected.as_deref().map_or("absent".to_string(), short),
                short(new)
            ),
            KvInput::Get { key } => format!("get({})", short(key)),
        };
        let response = match output {
            KvOutput::Ok => "ok".to_string(),
            KvOutput::Value(None) => "absent".to_string(),
            KvOutput::Value(Some(v)) => short(v),
            KvOutput::Fail => "fail".to_string(),
            KvOutput::Unknown => "unknown".to_string(),
        };
        format!("{request} -> {response}")
    }

    fn describe_state(&self, state: &KvState) -> String {
        match self.values.borrow_mut().value(state.0) {
            None => "absent".to_string(),
            Some(v) => short(&v),
        }
    }
}

/// Leaves out of a key's operations the optional writes (unknown outcome or never returned)
/// whose effect nothing can observe, since leaving them out loses no linearization. A write of
/// `w` called at `t` (put, append or compare-and-set to `w`) is unobservable if no operation of
/// the key that returns after `t` is a get that read a value containing `w`, a
/// compare-and-set expecting a value containing `w`, or a failed compare-and-set (except one
/// expecting "absent" called after a write that surely took effect had returned).
///
/// Why: take a linearization that uses such a write and drop it. Until the next put or
/// successful compare-and-set, the value then lacks `w`, where it contained it. In that
/// stretch (all after `t`) there is no get (it would have read a value containing `w`), no
/// compare-and-set that succeeded (it would expect such a value) or failed; appends and puts
/// are legal in any state. After it, the states agree again. Lost appends of unique values that
/// no read saw would otherwise be tried in every order at every point of the search.
fn drop_unobservable(history: &[Operation<KvInput, KvOutput>], ops: &mut Vec<usize>) {
    let optional = |op: &Operation<KvInput, KvOutput>| {
        (op.ret == super::PENDING || op.output == KvOutput::Unknown)
            && !matches!(op.input, KvInput::Get { .. })
    };
    if !ops.iter().any(|&i| optional(&history[i])) {
        return;
    }
    // A failed compare-and-set expecting "absent" is unaffected once a write that had to take
    // effect (not optional) returned before it was called: the key is present from then on.
    let present_after = ops
        .iter()
        .map(|&i| &history[i])
        .filter(|op| !optional(op) && !matches!(op.input, KvInput::Get { .. }))
        .filter(|op| matches!(op.output, KvOutput::Ok))
        .map(|op| op.ret)
        .min()
        .unwrap_or(u64::MAX);
    // Observers: (return time, observed value or None for "any change").
    let mut observers: Vec<(u64, Option<&str>)> = Vec::new();
    for &i in ops.iter() {
        let op = &history[i];
        match (&op.input, &op.output) {
            (KvInput::Cas { expected: None, .. }, KvOutput::Fail) if op.call > present_after => {}
            (KvInput::Cas { .. }, KvOutput::Fail) => observers.push((op.ret, None)),
            (KvInput::Get { .. }, KvOutput::Value(Some(v))) => observers.push((op.ret, Some(v))),
            (
                KvInput::Cas {
                    expected: Some(e), ..
                },
                _,
            ) => observers.push((op.ret, Some(e))),
            _ => {}
        }
    }
    ops.retain(|&i| {
        let op = &history[i];
        let written = match &op.input {
            KvInput::Put { value, .. } | KvInput::Append { value, .. } => value,
            KvInput::Cas { new, .. } => new,
            KvInput::Get { .. } => return true,
        };
        !optional(op)
            || observers.iter().any(|&(ret, seen)| {
                ret >= op.call
                    && match seen {
                        None => true,
                        Some(v) => v.contains(written.as_str()),
                    }
            })
    });
}

/// Quotes a string, shortening it if it is long.
fn short(s: &str) -> String {
    const MAX: usize = 48;
    if s.len() <= MAX {
        return format!("{s:?}");
    }
    let mut cut = MAX;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{:?}... ({} bytes)", &s[..cut], s.len())
}

/// Checks a key-value history with [`KvModel::new`] (keys start absent).
pub fn check_kv(history: &[Operation<KvInput, KvOutput>], options: &CheckOptions) -> Verdict {
    check(&KvModel::new(), history, options)
}
