//! One test per Raft rule, in the openraft style: a node in a precise state, one input in,
//! the exact list of actions out.
//!
//! Every test is named after the rule it checks. The modules follow the list of
//! rules; `support` holds the builders for nodes, messages and actions.

mod check_quorum;
mod checkpoint;
mod commit;
mod configuration;
mod contract;
mod election;
mod error_messages;
mod evict;
mod flow_control;
mod forwarding;
mod leader_repair;
mod leader_repair_quorum;
mod log_cache;
mod managed;
mod membership;
mod observers;
mod overrun;
mod pause;
mod peers;
mod prevote;
mod processed;
mod proposals;
mod read_index;
mod repair;
mod replay;
mod replication;
mod rescue;
mod reset;
mod snapshot;
mod support;
mod terms;
mod transfer;
mod unlinked_log;
mod voting;
mod write_errors;
