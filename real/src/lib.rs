//! # real: the harness against real processes
//!
//! The simulator proves raft-core inside one process with virtual time; this crate checks
//! the same properties on real server processes, real disks and a real network, Jepsen
//! style: N servers (raft-kv, or etcd as a system nobody here wrote), concurrent clients
//! over HTTP, and a nemesis that kills (SIGKILL) and restarts, pauses (SIGSTOP/SIGCONT),
//! cuts, delays and drops links, and fails or slows fsync through failpoints. The client
//! history goes through the simulator's linearizability checker (`sim::history`, the KV
//! model), and append-only ledger keys check that no acknowledged write is lost.
//!
//! - [`http`]: a blocking HTTP/1.1 client that tells "not sent" from "no answer".
//! - [`procs`]: server processes (start, SIGKILL, SIGSTOP/SIGCONT, SIGTERM).
//! - [`net`]: network namespaces with iptables and netem, or loopback.
//! - [`cluster`]: a cluster of raft-kv or etcd processes on a network.
//! - [`client`]: the key-value operations in each system's API.
//! - [`workload`], [`nemesis`], [`run`]: the test itself.
//! - [`bench`]: raft-kv against etcd, same cluster size, workload and durability.
//! - [`local`]: `cargo xtask cluster`, a cluster to try by hand.

pub mod bench;
pub mod client;
pub mod cluster;
pub mod http;
pub mod local;
pub mod nemesis;
pub mod net;
pub mod procs;
pub mod run;
pub mod workload;
