//! The leader's side of atomic batch publish: each message of a batch arrives as its own
//! request and is staged in the leader's memory until the one carrying the commit marker;
//! then the whole batch is proposed with one `ProposeMulti`, in the term it was staged in
//! (term fencing), so no other entry lands between its messages.
//!
//! Rules: a batch starts at batch sequence 1 and continues without gaps, in the term it
//! started in; at most `max_batch` messages and `max_open_batches` batches; a batch with
//! no new message for `batch_timeout_us` is abandoned; every batch is abandoned when this
//! node stops leading ([`Staging::leadership_lost`]). A refusal abandons the batch.

use super::{Message, Refusal, StreamConfig};
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
struct Open {
    term: u64,
    msgs: Vec<Message>,
    last_us: u64,
}

/// What staging one message did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Staged {
    /// Kept; the batch waits for more.
    Staged,
    /// The commit marker: propose these messages together, fenced by `term`.
    Commit {
        term: u64,
        msgs: Vec<Message>,
    },
    Refused(Refusal),
}

/// The batches open on a leader.
#[derive(Clone, Debug, Default)]
pub struct Staging {
    open: BTreeMap<String, Open>,
}

impl Staging {
    /// Batches open.
    pub fn open(&self) -> usize {
        self.open.len()
    }

    /// Stages message `part` (from 1) of batch `id`, arriving at virtual time `now_us` on a
    /// leader of `term`.
    #[allow(clippy::too_many_arguments)]
    pub fn stage(
        &mut self,
        config: &StreamConfig,
        now_us: u64,
        term: u64,
        id: &str,
        part: u32,
        msg: Message,
        commit: bool,
    ) -> Staged {
        self.open
            .retain(|_, b| b.last_us.saturating_add(config.batch_timeout_us) > now_us);
        if part == 1 {
            if !self.open.contains_key(id) && self.open.len() as u32 >= config.max_open_batches {
                return Staged::Refused(Refusal::TooManyBatches);
            }
            self.open.insert(
                id.to_string(),
                Open {
                    term,
                    msgs: Vec::new(),
                    last_us: now_us,
                },
            );
        }
        let Some(batch) = self.open.get_mut(id) else {
            return Staged::Refused(Refusal::BatchUnknown);
        };
        if batch.term != term || batch.msgs.len() as u32 + 1 != part {
            self.open.remove(id);
            return Staged::Refused(Refusal::BatchUnknown);
        }
        if part > config.max_batch {
            self.open.remove(id);
            return Staged::Refused(Refusal::BatchTooLarge);
        }
        batch.msgs.push(msg);
        batch.last_us = now_us;
        if !commit {
            return Staged::Staged;
        }
        let batch = self.open.remove(id).expect("just staged");
        Staged::Commit {
            term: batch.term,
            msgs: batch.msgs,
        }
    }

    /// Rule: a batch open on a leader that loses leadership is abandoned, never proposed.
    pub fn leadership_lost(&mut self) {
        self.open.clear();
    }
}
