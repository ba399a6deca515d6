//! Ports of the NATS server's raft tests (`server/raft_test.go`), one scenario per test,
//! named after it. Where our design differs from NRG, the scenario checks the behaviour the
//! test protects, and its description says so.

#[allow(unused_imports)]
use crate::{Script, Sel, Setup};

crate::scenarios!("nrg", "nrg_", []);
