//! The host's side of a reset ([`raft_core::Action::ResetStorage`], NRG `Reset`): the node
//! starts its storage and its application over, keeping the term/vote file.
//!
//! Invariant: what the node answers for is durable before the log it held is gone (the damage
//! file is written first), so a crash at any point boots a node that still answers for it;
//! from then on the host treats the node as a repairing one (`repair.rs`).

use super::repair::DiskDamage;
use super::World;
use crate::app::{Application, Replica};
use crate::disk::AppendFile;
use crate::event;
use raft_core::{storage, LogDamage, PeerState};

impl<A: Application> World<A> {
    /// Carries out a reset the node asked for (it has no persist in flight).
    pub(super) fn reset_storage(
        &mut self,
        node: usize,
        peers: &PeerState,
        answers_for: Option<LogDamage>,
    ) {
        let now = self.now;
        let mut replica = A::Replica::new(&self.config);
        self.plant_in_replica(&mut replica);
        let host = &mut self.hosts[node];
        host.disk
            .repair
            .write_now(answers_for.map_or(Vec::new(), |d| storage::encode_damage_file(&d)));
        host.disk.wal = AppendFile::default();
        // A reset node never campaigns to repair, after a restart either: no bound covers
        // a log it no longer has.
        host.disk
            .members
            .write_now(storage::encode_membership_bound_file(u64::MAX));
        host.disk.snapshot.write_now(Vec::new());
        host.disk
            .peers
            .write_now(storage::encode_peer_state_file(peers));
        host.damage = if answers_for.is_some() {
            DiskDamage::Repairing
        } else {
            DiskDamage::Intact
        };
        host.compact_wal_to = None;
        host.checkpoint = None;
        host.replica = replica;
        // Requests waiting for an index the new log may give to another entry, and reads
        // waiting for an applied index that went back, are lost; their clients retry.
        host.waiting.clear();
        host.reads.clear();
        host.reads_waiting.clear();
        host.leader_hint = None;
        // The term/vote file is kept: what it holds is what the node starts over from.
        let hard_state =
            storage::decode_hard_state(host.disk.term_vote.bytes()).unwrap_or_default();
        self.checks
            .reset(now, node, hard_state, answers_for.is_some());
        let answers = answers_for.map_or("nothing".to_string(), |d| d.to_string());
        self.record(event!(now, Some(node), "reset", answers_for = answers));
    }
}
