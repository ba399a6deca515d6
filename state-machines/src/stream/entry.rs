//! What one log entry of a stream holds, and its bytes: a version byte, a kind byte, then
//! little-endian integers and length-prefixed strings in a fixed order. Decoding never
//! panics: every read is bounds-checked and a bad byte is a [`DecodeError`] naming the field.

use super::{Expect, Message};
use std::fmt;

const VERSION: u8 = 1;
const KIND_PUBLISH: u8 = 1;
const KIND_READ_SEQ: u8 = 2;
const KIND_READ_SUBJECT: u8 = 3;

/// This message is part `seq` of batch `id` (`Nats-Batch-Id`, `Nats-Batch-Sequence`, from
/// 1); `commit` on the last (`Nats-Batch-Commit`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchPart {
    pub id: String,
    pub seq: u32,
    pub commit: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryBody {
    Publish {
        msg: Message,
        batch: Option<BatchPart>,
    },
    /// A read through the log.
    Get {
        seq: u64,
    },
    LastBySubject {
        subject: String,
    },
}

/// One log entry: the client operation it belongs to (client, operation sequence) and what
/// it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamEntry {
    pub client: u32,
    pub seq: u64,
    pub body: EntryBody,
}

/// Why bytes are not a stream entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub field: &'static str,
    pub offset: usize,
    pub what: &'static str,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stream entry: {} at byte {}: {}",
            self.field, self.offset, self.what
        )
    }
}

impl std::error::Error for DecodeError {}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
        None => out.push(0),
    }
}

fn put_opt_u64(out: &mut Vec<u8>, v: Option<u64>) {
    match v {
        Some(v) => {
            out.push(1);
            out.extend_from_slice(&v.to_le_bytes());
        }
        None => out.push(0),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn fail<T>(&self, field: &'static str, what: &'static str) -> Result<T, DecodeError> {
        Err(DecodeError {
            field,
            offset: self.at,
            what,
        })
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        match self.bytes.get(self.at..self.at.saturating_add(n)) {
            Some(b) if self.at.checked_add(n).is_some() => {
                self.at += n;
                Ok(b)
            }
            _ => self.fail(field, "truncated"),
        }
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, field)?[0])
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, field)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let b = self.take(8, field)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn flag(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => self.fail(field, "flag is neither 0 nor 1"),
        }
    }

    fn string(&mut self, field: &'static str) -> Result<String, DecodeError> {
        let len = self.u32(field)? as usize;
        let bytes = self.take(len, field)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => self.fail(field, "not UTF-8"),
        }
    }

    fn opt_string(&mut self, field: &'static str) -> Result<Option<String>, DecodeError> {
        Ok(if self.flag(field)? {
            Some(self.string(field)?)
        } else {
            None
        })
    }

    fn opt_u64(&mut self, field: &'static str) -> Result<Option<u64>, DecodeError> {
        Ok(if self.flag(field)? {
            Some(self.u64(field)?)
        } else {
            None
        })
    }
}

impl StreamEntry {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.push(VERSION);
        match &self.body {
            EntryBody::Publish { .. } => out.push(KIND_PUBLISH),
            EntryBody::Get { .. } => out.push(KIND_READ_SEQ),
            EntryBody::LastBySubject { .. } => out.push(KIND_READ_SUBJECT),
        }
        out.extend_from_slice(&self.client.to_le_bytes());
        out.extend_from_slice(&self.seq.to_le_bytes());
        match &self.body {
            EntryBody::Publish { msg, batch } => {
                put_str(&mut out, &msg.subject);
                put_str(&mut out, &msg.data);
                put_opt_str(&mut out, msg.msg_id.as_deref());
                put_opt_u64(&mut out, msg.expect.last_seq);
                put_opt_u64(&mut out, msg.expect.last_subject_seq);
                put_opt_str(&mut out, msg.expect.last_msg_id.as_deref());
                out.push(msg.rollup as u8);
                match batch {
                    Some(b) => {
                        out.push(1);
                        put_str(&mut out, &b.id);
                        out.extend_from_slice(&b.seq.to_le_bytes());
                        out.push(b.commit as u8);
                    }
                    None => out.push(0),
                }
            }
            EntryBody::Get { seq } => out.extend_from_slice(&seq.to_le_bytes()),
            EntryBody::LastBySubject { subject } => put_str(&mut out, subject),
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<StreamEntry, DecodeError> {
        let mut r = Reader { bytes, at: 0 };
        if r.u8("version")? != VERSION {
            return r.fail("version", "unknown version");
        }
        let kind = r.u8("kind")?;
        let client = r.u32("client")?;
        let seq = r.u64("operation sequence")?;
        let body = match kind {
            KIND_PUBLISH => {
                let subject = r.string("subject")?;
                let data = r.string("data")?;
                let msg_id = r.opt_string("Nats-Msg-Id")?;
                let expect = Expect {
                    last_seq: r.opt_u64("Nats-Expected-Last-Sequence")?,
                    last_subject_seq: r.opt_u64("Nats-Expected-Last-Subject-Sequence")?,
                    last_msg_id: r.opt_string("Nats-Expected-Last-Msg-Id")?,
                };
                let rollup = r.flag("Nats-Rollup")?;
                let batch = if r.flag("batch")? {
                    Some(BatchPart {
                        id: r.string("Nats-Batch-Id")?,
                        seq: r.u32("Nats-Batch-Sequence")?,
                        commit: r.flag("Nats-Batch-Commit")?,
                    })
                } else {
                    None
                };
                EntryBody::Publish {
                    msg: Message {
                        subject,
                        data,
                        msg_id,
                        expect,
                        rollup,
                    },
                    batch,
                }
            }
            KIND_READ_SEQ => EntryBody::Get {
                seq: r.u64("read sequence")?,
            },
            KIND_READ_SUBJECT => EntryBody::LastBySubject {
                subject: r.string("read subject")?,
            },
            _ => return r.fail("kind", "unknown kind"),
        };
        if r.at != bytes.len() {
            return r.fail("end", "bytes after the entry");
        }
        Ok(StreamEntry { client, seq, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(batch: Option<BatchPart>) -> StreamEntry {
        StreamEntry {
            client: 7,
            seq: 9,
            body: EntryBody::Publish {
                msg: Message {
                    subject: "s1".into(),
                    data: "c7s9".into(),
                    msg_id: Some("m".into()),
                    expect: Expect {
                        last_seq: Some(3),
                        last_subject_seq: None,
                        last_msg_id: Some("x".into()),
                    },
                    rollup: true,
                },
                batch,
            },
        }
    }

    #[test]
    fn entries_round_trip() {
        let entries = [
            publish(None),
            publish(Some(BatchPart {
                id: "b".into(),
                seq: 2,
                commit: true,
            })),
            StreamEntry {
                client: 1,
                seq: 2,
                body: EntryBody::Get { seq: 5 },
            },
            StreamEntry {
                client: 1,
                seq: 3,
                body: EntryBody::LastBySubject {
                    subject: "s0".into(),
                },
            },
        ];
        for e in entries {
            assert_eq!(StreamEntry::decode(&e.encode()), Ok(e));
        }
    }

    #[test]
    fn every_truncation_and_garbage_is_an_error_not_a_panic() {
        let bytes = publish(Some(BatchPart {
            id: "b".into(),
            seq: 2,
            commit: false,
        }))
        .encode();
        for cut in 0..bytes.len() {
            assert!(StreamEntry::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(StreamEntry::decode(&longer).unwrap_err().field, "end");
        assert_eq!(
            StreamEntry::decode(b"1 2 put k v").unwrap_err().field,
            "version"
        );
        let mut huge = bytes[..14].to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(StreamEntry::decode(&huge).unwrap_err().what, "truncated");
    }
}
