//! What each host runs for the stream: the replicated [`Stream`], the leader's batch
//! [`Staging`], and the stream's properties checked after every apply.

use super::properties::Properties;
use super::StreamApp;
use crate::app::{AppViolation, Completion, Replica, Request};
use crate::config::SimConfig;
use raft_core::{Entry, EntryKind, SnapshotMeta};
use state_machines::stream::{
    BatchPart, EntryBody, Staged, Staging, Stream, StreamConfig, StreamEntry, StreamOp,
    StreamResult,
};

pub struct StreamReplica {
    pub stream: Stream,
    staging: Staging,
    limits: StreamConfig,
    properties: Properties,
    /// The planted bug `batch-proposed-separately` (the leader's side of the stream).
    separate_proposals: bool,
}

fn entry(client: u32, seq: u64, body: EntryBody) -> Vec<u8> {
    StreamEntry { client, seq, body }.encode()
}

impl Replica<StreamApp> for StreamReplica {
    fn new(config: &SimConfig) -> StreamReplica {
        let limits = config.stream.limits.clone();
        StreamReplica {
            stream: Stream::new(limits.clone()),
            staging: Staging::default(),
            properties: Properties::new(limits.dedupe_window),
            limits,
            separate_proposals: false,
        }
    }

    fn apply(
        &mut self,
        entry: &Entry,
        done: &mut Vec<Completion<StreamApp>>,
    ) -> Result<(), AppViolation> {
        let decoded = if entry.kind == EntryKind::Normal {
            StreamEntry::decode(&entry.data).ok()
        } else {
            None
        };
        let checked = self.properties.before_apply(entry, decoded.as_ref());
        let applied = self.stream.apply_decoded(entry.index, entry.term, decoded);
        if let Some((client, seq, output)) = applied.reply {
            done.push(Completion {
                client,
                seq,
                output,
            });
        }
        checked?;
        self.properties.stored(&applied.stored)?;
        self.properties.held_across_terms(&self.stream, entry.term)
    }

    fn applied_through(&self, _processed: u64) -> u64 {
        self.stream.applied_through()
    }

    fn check_after_apply(&mut self) -> Result<(), AppViolation> {
        self.properties.after_apply()
    }

    fn snapshot(&self) -> Vec<u8> {
        self.stream.snapshot()
    }

    /// `1:s0/a,2:s0/b` (sequence:subject/data of every live message), `-` when empty.
    fn state_text(&self) -> String {
        let msgs: Vec<String> = (1..=self.stream.last_seq())
            .filter_map(|seq| self.stream.get(seq))
            .map(|f| format!("{}:{}/{}", f.seq, f.subject, f.data))
            .collect();
        if msgs.is_empty() {
            "-".into()
        } else {
            msgs.join(",")
        }
    }

    fn restore(&mut self, meta: &SnapshotMeta, data: &[u8]) -> Result<(), String> {
        self.stream
            .restore_in_place(data, meta.index, meta.term)
            .map_err(|e| e.to_string())?;
        self.properties.restored(&self.stream);
        Ok(())
    }

    fn read(&self, op: &StreamOp) -> StreamResult {
        match op {
            StreamOp::Get { seq } => StreamResult::Found(self.stream.get(*seq)),
            StreamOp::LastBySubject { subject } => {
                StreamResult::Found(self.stream.last_by_subject(subject))
            }
            _ => unreachable!("only reads are served through ReadIndex"),
        }
    }

    fn request(
        &mut self,
        now: u64,
        term: u64,
        client: u32,
        seq: u64,
        op: &StreamOp,
        part: u32,
    ) -> Request<StreamApp> {
        let body = match op {
            StreamOp::Publish(msg) => EntryBody::Publish {
                msg: msg.clone(),
                batch: None,
            },
            StreamOp::Get { seq } => EntryBody::Get { seq: *seq },
            StreamOp::LastBySubject { subject } => EntryBody::LastBySubject {
                subject: subject.clone(),
            },
            StreamOp::Batch { id, msgs } => {
                let Some(msg) = msgs.get(part as usize) else {
                    return Request::Answer(StreamResult::Refused(
                        state_machines::stream::Refusal::BatchUnknown,
                    ));
                };
                let commit = part as usize + 1 == msgs.len();
                if self.separate_proposals {
                    let batch = BatchPart {
                        id: id.clone(),
                        seq: part + 1,
                        commit,
                    };
                    let body = EntryBody::Publish {
                        msg: msg.clone(),
                        batch: Some(batch),
                    };
                    return Request::Propose {
                        data: entry(client, seq, body),
                        answer_now: (!commit).then_some(StreamResult::Staged),
                    };
                }
                return match self.staging.stage(
                    &self.limits,
                    now,
                    term,
                    id,
                    part + 1,
                    msg.clone(),
                    commit,
                ) {
                    Staged::Staged => Request::Answer(StreamResult::Staged),
                    Staged::Refused(r) => Request::Answer(StreamResult::Refused(r)),
                    Staged::Commit { term, msgs } => {
                        let count = msgs.len();
                        let entries = msgs
                            .into_iter()
                            .enumerate()
                            .map(|(i, msg)| {
                                let batch = BatchPart {
                                    id: id.clone(),
                                    seq: i as u32 + 1,
                                    commit: i + 1 == count,
                                };
                                entry(
                                    client,
                                    seq,
                                    EntryBody::Publish {
                                        msg,
                                        batch: Some(batch),
                                    },
                                )
                            })
                            .collect();
                        Request::ProposeBatch { term, entries }
                    }
                };
            }
        };
        Request::Propose {
            data: entry(client, seq, body),
            answer_now: None,
        }
    }

    fn leadership_lost(&mut self) {
        self.staging.leadership_lost();
    }

    #[allow(unused_variables)]
    fn plant(&mut self, bug: &str) -> bool {
        #[cfg(feature = "planted-bugs")]
        {
            use state_machines::stream::planted::StreamBug;
            match StreamBug::from_name(bug) {
                Some(StreamBug::BatchProposedSeparately) => {
                    self.separate_proposals = true;
                    return true;
                }
                Some(b) => {
                    self.stream.plant(b);
                    return true;
                }
                None => return false,
            }
        }
        #[allow(unreachable_code)]
        false
    }
}
