//! The WGL search over one partition: a linked list of call and return events, a stack of
//! frames to backtrack to, and the look-ahead that fails a configuration early when a read
//! can never become legal.
//!
//! Architecture invariant: the search is resumable. [`Search::run`] stops when its step
//! budget is spent and continues where it left off when called again, so the driver can
//! interleave partitions; a verdict depends only on the history, never on how the steps were
//! sliced.

use std::collections::HashMap;
use std::hash::Hash;

use super::cache::{key_hash, Cache};
use super::counterexample::counterexample;
use super::hash::{splitmix64, FxBuildHasher};
use super::{Counterexample, Model, Operation, Partition, PENDING};

/// How many list entries the look-ahead for unsatisfiable reads examines at a new node.
const LOOKAHEAD: usize = 64;
/// How many read-only operations past the candidates it examines.
const LOOKAHEAD_READS: usize = 3;

pub(super) enum Progress {
    Linearizable,
    NotLinearizable(Box<Counterexample>),
    /// The step limit was reached; `run` can be called again to continue.
    Paused,
}

/// How a frame of the search path was entered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Move {
    /// A choice among the candidates: on backtracking, the next candidate is tried.
    Choice,
    /// A read-only operation that was legal: taking it first loses no linearization, so there
    /// is no alternative to try (on backtracking, the parent fails too).
    ReadOnly,
    /// An optional operation whose return was reached, left out (no alternative either).
    Skip,
}

/// A step of the current search path: the call entry that was lifted out of the list and the
/// state before it.
struct Frame<S> {
    entry: u32,
    state: S,
    how: Move,
}

/// The deepest dead end found so far.
pub(super) struct Deepest<S> {
    /// Operations linearized at that point.
    pub(super) depth: usize,
    /// The search path then: (call entry, left out rather than linearized).
    pub(super) frames: Vec<(u32, bool)>,
    /// The operation whose return was reached (local).
    pub(super) stuck: Option<u32>,
    /// Candidates then (local).
    pub(super) pending: Vec<u32>,
    pub(super) state: S,
}

/// The search over one partition, resumable.
///
/// Operations are numbered locally (0..n, by history index). Events live in a circular doubly
/// linked list over entries 1..len with sentinel 0, sorted by time; linearizing an operation
/// lifts its call and return entries out of the list.
pub(super) struct Search<S> {
    pub(super) partition: Partition,
    /// Local operation -> history index.
    pub(super) ops: Vec<usize>,
    /// May be left out (unknown outcome or never returned).
    optional: Vec<bool>,
    /// Never changes the state (see [`Model::is_read_only`]).
    read_only: Vec<bool>,
    /// Only extends the state (see [`Model::is_monotone`]); read-only operations count too.
    monotone: Vec<bool>,
    /// The state the operation always leaves (see [`Model::fixed_result`]).
    fixed: Vec<Option<S>>,
    /// A read-only operation found unable to ever become legal, for the dead-end report.
    doomed: Option<u32>,
    /// For an operation that never returned: the previous such operation (by call time) with
    /// the same input and output, or `NONE`. Identical operations without a deadline are
    /// interchangeable, so they are only linearized in call order.
    twin_before: Vec<u32>,
    next: Vec<u32>,
    prev: Vec<u32>,
    /// Entry -> local operation.
    entry_op: Vec<u32>,
    is_call: Vec<bool>,
    /// Local operation -> its call entry.
    call_entry: Vec<u32>,
    /// Call entry -> its return entry (0: none).
    matching: Vec<u32>,
    /// The set of operations linearized or left out, and its Zobrist hash.
    bits: Vec<u64>,
    set_hash: u64,
    zobrist: Vec<u64>,
    pub(super) cache: Cache<S>,
    state: S,
    stack: Vec<Frame<S>>,
    /// Non-optional operations not linearized yet.
    required_left: usize,
    /// Operations linearized on the current path.
    depth: usize,
    deepest: Option<Deepest<S>>,
    /// The lowest height of the stack since the deepest dead end was recorded: below it, the
    /// stack still equals `deepest.frames`, so recording a deeper one only copies the rest.
    low_water: usize,
    /// The position of the scan over the candidates of the current node.
    entry: u32,
    /// The current node was just entered and its read-only candidates are not checked yet.
    fresh: bool,
}

impl<S: Clone + Eq + Hash> Search<S> {
    pub(super) fn new<M: Model<State = S>>(
        model: &M,
        history: &[Operation<M::Input, M::Output>],
        partition: Partition,
    ) -> Self {
        let mut ops: Vec<usize> = partition
            .ops
            .iter()
            .copied()
            .filter(|&i| i < history.len())
            .filter(|&i| {
                let op = &history[i];
                // Trivial operations constrain nothing; optional read-only ones have no effect
                // and can always be left out.
                !(model.is_trivial(&op.input, &op.output)
                    || (model.is_read_only(&op.input, &op.output)
                        && (op.ret == PENDING || model.is_unknown(&op.input, &op.output))))
            })
            .collect();
        ops.sort_unstable();
        ops.dedup();
        let n = ops.len();
        let optional: Vec<bool> = ops
            .iter()
            .map(|&g| {
                let op = &history[g];
                op.ret == PENDING || model.is_unknown(&op.input, &op.output)
            })
            .collect();
        let read_only: Vec<bool> = ops
            .iter()
            .map(|&g| model.is_read_only(&history[g].input, &history[g].output))
            .collect();

        let mut twin_before = vec![NONE; n];
        {
            let mut by_call: Vec<u32> = (0..n as u32)
                .filter(|&l| history[ops[l as usize]].ret == PENDING)
                .collect();
            by_call.sort_by_key(|&l| (history[ops[l as usize]].call, l));
            let mut last: HashMap<(&M::Input, &M::Output), u32, FxBuildHasher> = HashMap::default();
            for l in by_call {
                let op = &history[ops[l as usize]];
                if let Some(before) = last.insert((&op.input, &op.output), l) {
                    twin_before[l as usize] = before;
                }
            }
        }

        // Events: (time, kind, local op). Calls sort before returns at equal times, so an
        // operation returning at t and one called at t are concurrent. Optional operations
        // without a return time have no return event.
        let mut events: Vec<(u64, u8, u32)> = Vec::with_capacity(2 * n);
        for (l, &g) in ops.iter().enumerate() {
            let op = &history[g];
            events.push((op.call, 0, l as u32));
            if op.ret != PENDING {
                events.push((op.ret, 1, l as u32));
            }
        }
        events.sort_unstable();

        let len = events.len() + 1;
        let next: Vec<u32> = (0..len).map(|e| ((e + 1) % len) as u32).collect();
        let prev: Vec<u32> = (0..len).map(|e| ((e + len - 1) % len) as u32).collect();
        let mut entry_op = vec![0u32; len];
        let mut is_call = vec![false; len];
        let mut call_entry = vec![0u32; n];
        let mut ret_entry = vec![0u32; n];
        for (i, &(_, kind, l)) in events.iter().enumerate() {
            let e = (i + 1) as u32;
            entry_op[e as usize] = l;
            if kind == 0 {
                is_call[e as usize] = true;
                call_entry[l as usize] = e;
            } else {
                ret_entry[l as usize] = e;
            }
        }
        let mut matching = vec![0u32; len];
        for l in 0..n {
            matching[call_entry[l] as usize] = ret_entry[l];
        }
        let words = n.div_ceil(64);
        let mut free = vec![0u64; words];
        for (l, &g) in ops.iter().enumerate() {
            if history[g].ret == PENDING {
                free[l / 64] |= 1 << (l % 64);
            }
        }
        let monotone: Vec<bool> = ops
            .iter()
            .zip(&read_only)
            .map(|(&g, &ro)| ro || model.is_monotone(&history[g].input, &history[g].output))
            .collect();
        let fixed: Vec<Option<S>> = ops
            .iter()
            .map(|&g| model.fixed_result(&history[g].input, &history[g].output))
            .collect();
        let entry = next[0];
        Search {
            partition,
            required_left: optional.iter().filter(|&&o| !o).count(),
            ops,
            optional,
            monotone,
            fixed,
            doomed: None,
            read_only,
            twin_before,
            next,
            prev,
            entry_op,
            is_call,
            call_entry,
            matching,
            bits: vec![0u64; words],
            set_hash: 0,
            zobrist: (0..n)
                .map(|l| {
                    if free[l / 64] & (1 << (l % 64)) != 0 {
                        0
                    } else {
                        splitmix64(l as u64 + 1)
                    }
                })
                .collect(),
            cache: Cache::new(free),
            state: model.init(),
            stack: Vec::new(),
            depth: 0,
            deepest: None,
            low_water: 0,
            entry,
            fresh: true,
        }
    }

    /// An identical operation called earlier is not linearized yet (so `l` must wait).
    fn twin_waiting(&self, l: u32) -> bool {
        let t = self.twin_before[l as usize];
        t != NONE && self.bits[t as usize / 64] & (1u64 << (t % 64)) == 0
    }

    fn toggle(&mut self, l: u32) {
        let l = l as usize;
        self.bits[l / 64] ^= 1u64 << (l % 64);
        // Free operations are not hashed (see `Cache`); their key is 0.
        self.set_hash ^= self.zobrist[l];
    }

    /// Enters the node reached by linearizing (or leaving out) the operation of call entry `e`,
    /// if that configuration was not explored before; returns false if it was.
    /// `heap` is what the state holds on the heap ([`Model::state_heap_bytes`]), counted
    /// against the memory budget once the cache keeps a copy.
    fn enter(&mut self, e: u32, new_state: S, how: Move, heap: u64) -> bool {
        let l = self.entry_op[e as usize];
        self.toggle(l);
        let hash = key_hash(self.set_hash, &new_state);
        if !self.cache.insert(hash, &self.bits, &new_state, heap) {
            self.toggle(l);
            return false;
        }
        let old = std::mem::replace(&mut self.state, new_state);
        self.stack.push(Frame {
            entry: e,
            state: old,
            how,
        });
        lift(&mut self.next, &mut self.prev, e, self.matching[e as usize]);
        if how != Move::Skip {
            self.depth += 1;
            if !self.optional[l as usize] {
                self.required_left -= 1;
            }
        }
        self.entry = self.next[0];
        self.fresh = true;
        true
    }

    /// Searches until a verdict, or until `*steps` reaches `stop_at` or (checked every 1,024
    /// steps) the cache and the model outgrow `max_bytes` (pausing).
    pub(super) fn run<M: Model<State = S>>(
        &mut self,
        model: &M,
        history: &[Operation<M::Input, M::Output>],
        stop_at: u64,
        max_bytes: u64,
        steps: &mut u64,
    ) -> Progress {
        macro_rules! spend {
            () => {{
                if *steps >= stop_at
                    || (*steps % 1024 == 0
                        && max_bytes != u64::MAX
                        && self.cache.bytes() + model.memory_bytes() > max_bytes)
                {
                    return Progress::Paused;
                }
                *steps += 1;
            }};
        }
        loop {
            if self.required_left == 0 {
                return Progress::Linearizable;
            }

            // Whether the current node is known to fail.
            let mut dead = false;
            if self.fresh {
                // A legal read-only candidate can always be linearized first: if a
                // linearization places it later, moving it here changes no state and breaks no
                // real-time order (every operation that returned before its call is already
                // linearized). So it is taken without trying alternatives.
                let mut e = self.next[0];
                let mut entered = false;
                while e != 0 && self.is_call[e as usize] {
                    let l = self.entry_op[e as usize];
                    if self.read_only[l as usize] {
                        spend!();
                        let op = &history[self.ops[l as usize]];
                        if let Some(new_state) = model.step(&self.state, &op.input, &op.output) {
                            // If that is covered by a visited configuration, this node
                            // need not be searched further (see `Cache`).
                            let heap = model.state_heap_bytes(&new_state);
                            entered = self.enter(e, new_state, Move::ReadOnly, heap);
                            dead = !entered;
                            break;
                        }
                    }
                    e = self.next[e as usize];
                }
                if entered {
                    continue;
                }
                if !dead {
                    // No read-only candidate is legal. Look ahead for a read-only operation
                    // that can never become legal: from this state only extending operations
                    // could help (and the model says they cannot), and every other operation
                    // that may still come before its return has a fixed result from which
                    // extending cannot help either. Then this node fails. Reads not called
                    // yet count too: a read of a later value pins the order of the appends
                    // before it.
                    let mut f = self.next[0];
                    let (mut seen, mut past_candidates, mut later_reads) = (0, false, 0);
                    while f != 0 && seen < LOOKAHEAD && later_reads < LOOKAHEAD_READS {
                        seen += 1;
                        if !self.is_call[f as usize] {
                            past_candidates = true;
                            f = self.next[f as usize];
                            continue;
                        }
                        let l = self.entry_op[f as usize];
                        let ret = self.matching[f as usize];
                        if self.read_only[l as usize] && ret != 0 {
                            if past_candidates {
                                later_reads += 1;
                            }
                            spend!();
                            let op = &history[self.ops[l as usize]];
                            if !model.may_become_legal(&self.state, &op.input, &op.output)
                                && !self.rescue_before(model, op, ret)
                            {
                                dead = true;
                                self.doomed = Some(l);
                                break;
                            }
                        }
                        f = self.next[f as usize];
                    }
                }
                self.fresh = false;
                self.entry = if dead { e } else { self.next[0] };
            }

            if !dead {
                let entry = self.entry;
                if entry != 0 && self.is_call[entry as usize] {
                    let l = self.entry_op[entry as usize];
                    // Read-only candidates were all found illegal when the node was entered.
                    if !self.read_only[l as usize] && !self.twin_waiting(l) {
                        spend!();
                        let op = &history[self.ops[l as usize]];
                        if let Some(new_state) = model.step(&self.state, &op.input, &op.output) {
                            // An optional operation is only worth using if reaching the same
                            // state without using it was not already explored (and failed):
                            // having it still available is never worse.
                            let dominated = self.optional[l as usize]
                                && self.cache.covered(
                                    key_hash(self.set_hash, &new_state),
                                    &self.bits,
                                    &new_state,
                                );
                            let heap = model.state_heap_bytes(&new_state);
                            if !dominated && self.enter(entry, new_state, Move::Choice, heap) {
                                continue;
                            }
                        }
                    }
                    self.entry = self.next[entry as usize];
                    continue;
                }
                // A return entry (or, defensively, the end of the list): its operation must
                // have been linearized by now and was not.
                if entry != 0 {
                    let l = self.entry_op[entry as usize];
                    if self.optional[l as usize] {
                        // It may also never have taken effect: leave it out (a forced move).
                        spend!();
                        let c = self.call_entry[l as usize];
                        let heap = model.state_heap_bytes(&self.state);
                        if self.enter(c, self.state.clone(), Move::Skip, heap) {
                            continue;
                        }
                    }
                }
            }

            // Dead end.
            self.record_dead_end();
            // Backtrack to the most recent choice.
            loop {
                let Some(frame) = self.stack.pop() else {
                    self.record_dead_end();
                    let Some(deepest) = self.deepest.take() else {
                        unreachable!("a dead end was just recorded");
                    };
                    return Progress::NotLinearizable(Box::new(counterexample(
                        model,
                        history,
                        &self.partition,
                        &self.ops,
                        &self.entry_op,
                        deepest,
                    )));
                };
                self.low_water = self.low_water.min(self.stack.len());
                let l = self.entry_op[frame.entry as usize];
                self.state = frame.state;
                self.toggle(l);
                let ret = self.matching[frame.entry as usize];
                unlift(&mut self.next, &mut self.prev, frame.entry, ret);
                if frame.how != Move::Skip {
                    self.depth -= 1;
                    if !self.optional[l as usize] {
                        self.required_left += 1;
                    }
                }
                if frame.how == Move::Choice {
                    self.entry = self.next[frame.entry as usize];
                    break;
                }
            }
        }
    }

    /// Could an operation that may be linearized before the return entry `ret` (an unlinearized
    /// call before it in the list) bring the state to one from which `read` may become legal?
    fn rescue_before<M: Model<State = S>>(
        &self,
        model: &M,
        read: &Operation<M::Input, M::Output>,
        ret: u32,
    ) -> bool {
        let mut f = self.next[0];
        let mut seen = 0;
        while f != ret && f != 0 {
            seen += 1;
            if seen > 4 * LOOKAHEAD {
                return true;
            }
            let l = self.entry_op[f as usize] as usize;
            if self.is_call[f as usize] && !self.monotone[l] {
                match &self.fixed[l] {
                    Some(state) if !model.may_become_legal(state, &read.input, &read.output) => {}
                    _ => return true,
                }
            }
            f = self.next[f as usize];
        }
        false
    }

    /// Records the current dead end if it is the deepest so far.
    fn record_dead_end(&mut self) {
        let doomed = self.doomed.take();
        if self.deepest.as_ref().is_some_and(|d| self.depth <= d.depth) {
            return;
        }
        let mut pending = Vec::new();
        let mut e = self.next[0];
        while e != 0 && self.is_call[e as usize] {
            pending.push(self.entry_op[e as usize]);
            e = self.next[e as usize];
        }
        // The read-only operation that could never become legal, or else the first return
        // entry: its operation had to be linearized.
        let stuck = doomed.or((e != 0).then(|| self.entry_op[e as usize]));
        let deepest = self.deepest.get_or_insert_with(|| Deepest {
            depth: 0,
            frames: Vec::new(),
            stuck: None,
            pending: Vec::new(),
            state: self.state.clone(),
        });
        let keep = self.low_water.min(deepest.frames.len());
        deepest.frames.truncate(keep);
        deepest.frames.extend(
            self.stack[keep..]
                .iter()
                .map(|f| (f.entry, f.how == Move::Skip)),
        );
        deepest.depth = self.depth;
        deepest.stuck = stuck;
        deepest.pending = pending;
        deepest.state = self.state.clone();
        self.low_water = self.stack.len();
    }
}

fn lift(next: &mut [u32], prev: &mut [u32], call: u32, ret: u32) {
    for e in [call, ret] {
        if e != 0 {
            let (p, n) = (prev[e as usize], next[e as usize]);
            next[p as usize] = n;
            prev[n as usize] = p;
        }
    }
}

fn unlift(next: &mut [u32], prev: &mut [u32], call: u32, ret: u32) {
    for e in [ret, call] {
        if e != 0 {
            let (p, n) = (prev[e as usize], next[e as usize]);
            next[p as usize] = e;
            prev[n as usize] = e;
        }
    }
}

/// No operation (in `Search::twin_before`).
const NONE: u32 = u32::MAX;
