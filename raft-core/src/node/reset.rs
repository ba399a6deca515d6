//! Reset (NRG `Reset`): the node drops its log and every snapshot and starts over as an empty
//! follower, keeping its term and vote.
//!
//! NRG clears the term and vote too; we keep them: a node that forgot its vote could grant a
//! second one in the same term. NRG also forgets the log outright; we cannot, for the reason
//! protocol-aware recovery exists (`repair.rs`): the dropped log was durable, the node may
//! have acknowledged entries of it, and one of them may be committed with this node in its
//! quorum. So the node answers for the position of the log it held, exactly as after damage:
//! it refuses candidates behind it and does not campaign until the leader gave it back.

use super::write_error::WriteError;
use super::{LogDamage, Node};
use crate::action::Action;
use crate::config::{ConfigError, Recovered};
use std::fmt;

/// Why [`Node::reset`] refused. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResetError {
    /// `count` persists are in flight: the host starts the storage over in place, so it
    /// resets once they are all reported durable.
    PersistsInFlight { count: usize },
    /// A persist of this node failed: it writes nothing until it restarts.
    WriteFailed { error: WriteError },
    /// The empty state was refused (the node's configuration no longer validates).
    Refused { error: ConfigError },
}

impl fmt::Display for ResetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResetError::PersistsInFlight { count } => write!(
                f,
                "{count} persists are in flight; reset once they are reported durable"
            ),
            ResetError::WriteFailed { error } => {
                write!(f, "this node's storage failed ({error}); restart it")
            }
            ResetError::Refused { error } => write!(f, "the reset state was refused: {error}"),
        }
    }
}

impl std::error::Error for ResetError {}

impl Node {
    /// Rule (reset): drops the log, the snapshot, the commit and applied indexes, open
    /// checkpoints, reads and forwards, steps down and forgets the leader; keeps the term,
    /// the vote and the membership; answers for the log it held. The host carries out
    /// [`Action::ResetStorage`] before any later action. Refused while persists are in
    /// flight or after a write error.
    pub fn reset(&mut self) -> Result<Vec<Action>, ResetError> {
        if let Some(error) = self.write_error {
            return Err(ResetError::WriteFailed { error });
        }
        let count = self.outbox.persists_in_flight();
        if count > 0 {
            return Err(ResetError::PersistsInFlight { count });
        }
        let held = (self.log.last_index() > 0).then(|| LogDamage::HeldThrough {
            index: self.log.last_index(),
            term: self.log.last_term(),
        });
        let answers_for = LogDamage::worst(self.repair, held);
        let peers = self.membership.current().to_peer_state();
        // Only what is durable: a term adopted at restart and not persisted yet is adopted
        // again from the position the node answers for.
        let recovered = Recovered {
            hard_state: self.outbox.durable_hard_state(),
            log: Vec::new(),
            snapshot: None,
            membership: Some(peers.clone()),
            damage: answers_for,
            // The term and vote come from memory, as durable as the node made them.
            vote_record: crate::storage::VoteRecord::Intact,
            // A reset node does not campaign to repair: it dropped its log on purpose and
            // catches up from the leader. Its membership is the one of a log it may hold
            // only partway (an observer caught up to a prefix older than its addition is a
            // voter there), and with nothing left to compare it elects itself on that
            // membership's votes (simulator seed 2256).
            membership_bound: None,
        };
        let mut fresh = Node::new(self.config.clone(), recovered)
            .map_err(|error| ResetError::Refused { error })?;
        fresh.outbox.continue_ids(&self.outbox);
        fresh.checkpoints_begun = self.checkpoints_begun;
        #[cfg(feature = "planted-bugs")]
        {
            fresh.planted = self.planted;
        }
        // The leadership and the leader end as they would at a step-down.
        self.become_follower_in_term();
        let mut actions = self.finish();
        actions.push(Action::ResetStorage {
            peers: Box::new(peers),
            answers_for: fresh.repair,
        });
        *self = fresh;
        Ok(actions)
    }
}
