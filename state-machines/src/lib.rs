//! # state-machines: the applications raft-core replicates
//!
//! One module per state machine. Each is plain data and pure functions (a command encoding,
//! an `apply`, a snapshot encoding), so the simulator's host and the real server apply
//! committed entries with the same code and decode each other's snapshots.
//!
//! - [`kv`]: the key-value store (put, append, compare-and-set, get) with per-client
//!   sessions that apply a retried command once.
//! - [`stream`]: a JetStream-like stream (publish headers, de-duplication, limits, rollup,
//!   atomic batch publish) and the leader's batch staging.

pub mod kv;
pub mod stream;
