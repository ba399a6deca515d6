//! A decision as one line of text, the way a bundle stores it: the key, `#` and the ordinal,
//! `=` and the value.
//!
//! ```text
//! msg n0>n1 AE t3 17/0/12/0 #0 = 1234          delivered after 1234 us
//! msg n0>n1 AE t3 17/0/12/0 #1 = drop 2210     lost (2210 us had it arrived)
//! msg n2>n0 VR t4 1 #0 = 900 dup 1500          delivered twice
//! hop c2 s15 a1 request #0 = 2345              a client hop's latency
//! fsync n2 life1 p17 #0 = 1234 slow 250000     an fsync's latency, and a slow one's extra
//! power n1 life2 #0 = torn 918273645 renames 5 unsynced bytes lost, torn or kept; bit i of
//!                                              renames: small file i's renamed copy survives
//! corrupt n3 at1234567 #0 = flip 98765 5       a bit flip (or `zero ROLL`: a zeroed sector)
//! leader-crash n2 life1 t7 #0 = 302 16957      after, down (us)
//! bridge #0 = n2                               the residual partition's bridge
//! drift n0 #0 = -1234                          clock drift, ppm
//! election n0 life0 #0 = 1234567890            the election timer's seed
//! ```
//!
//! A message's numbers after its term depend on its kind: AppendEntries (`AE`) prev index /
//! entries / commit / read round; AppendResponse (`AR`) index / success; the vote requests
//! (`VQ`, `PVQ`, `TVQ`) last term / last index; the vote responses (`VR`, `PVR`) granted;
//! a forwarded proposal (`FP`) a hash of its bytes; a forwarded removal (`FRP`) peer / reply
//! inbox; the leader's answer (`FR`) reply inbox / index (0 for a refusal); ReadAck (`RA`) round; InstallSnapshot
//! (`IS`) snapshot index / offset / done; SnapshotResponse (`SR`) index / next offset /
//! done; RepairRequest (`RQ`) after index / fetch; RepairResponse (`RP`) after index / offer
//! (0 positions, 1 entries, 2 retry point); TimeoutNow (`TN`) and the perturbation test's `PING` none (`-`).

use super::{
    CorruptionDraw, Decision, FateDraw, FsyncDraw, Key, Leg, MessageKey, MessageKind,
    PowerLossDraw, Unsynced, Value,
};
use std::fmt;
use std::str::FromStr;

/// A line that is not a decision: which line, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: String,
    pub reason: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "decision {:?}: {}", self.line, self.reason)
    }
}

impl std::error::Error for ParseError {}

impl MessageKind {
    const ALL: [MessageKind; 17] = [
        MessageKind::AppendEntries,
        MessageKind::AppendResponse,
        MessageKind::VoteRequest,
        MessageKind::VoteResponse,
        MessageKind::ForwardProposal,
        MessageKind::PreVoteRequest,
        MessageKind::PreVoteResponse,
        MessageKind::TimeoutNow,
        MessageKind::TransferVoteRequest,
        MessageKind::ReadAck,
        MessageKind::InstallSnapshot,
        MessageKind::SnapshotResponse,
        MessageKind::Ping,
        MessageKind::ForwardRemovePeer,
        MessageKind::ForwardResponse,
        MessageKind::RepairRequest,
        MessageKind::RepairResponse,
    ];

    fn tag(self) -> &'static str {
        match self {
            MessageKind::AppendEntries => "AE",
            MessageKind::AppendResponse => "AR",
            MessageKind::VoteRequest => "VQ",
            MessageKind::VoteResponse => "VR",
            MessageKind::ForwardProposal => "FP",
            MessageKind::PreVoteRequest => "PVQ",
            MessageKind::PreVoteResponse => "PVR",
            MessageKind::TimeoutNow => "TN",
            MessageKind::TransferVoteRequest => "TVQ",
            MessageKind::ReadAck => "RA",
            MessageKind::InstallSnapshot => "IS",
            MessageKind::SnapshotResponse => "SR",
            MessageKind::Ping => "PING",
            MessageKind::ForwardRemovePeer => "FRP",
            MessageKind::ForwardResponse => "FR",
            MessageKind::RepairRequest => "RQ",
            MessageKind::RepairResponse => "RP",
        }
    }

    /// How many of [`MessageKey::fields`] the kind uses.
    fn arity(self) -> usize {
        match self {
            MessageKind::AppendEntries => 4,
            MessageKind::InstallSnapshot | MessageKind::SnapshotResponse => 3,
            MessageKind::AppendResponse
            | MessageKind::VoteRequest
            | MessageKind::PreVoteRequest
            | MessageKind::TransferVoteRequest
            | MessageKind::ForwardRemovePeer
            | MessageKind::ForwardResponse
            | MessageKind::RepairRequest
            | MessageKind::RepairResponse => 2,
            MessageKind::VoteResponse
            | MessageKind::PreVoteResponse
            | MessageKind::ForwardProposal
            | MessageKind::ReadAck => 1,
            MessageKind::TimeoutNow | MessageKind::Ping => 0,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key {
            Key::Message(m) => {
                let arity = m.kind.arity();
                let fields = if arity == 0 {
                    "-".to_string()
                } else {
                    let parts: Vec<String> = m.fields[..arity].iter().map(u64::to_string).collect();
                    parts.join("/")
                };
                write!(
                    f,
                    "msg n{}>n{} {} t{} {fields}",
                    m.from,
                    m.to,
                    m.kind.tag(),
                    m.term
                )?
            }
            Key::Hop {
                client,
                seq,
                attempt,
                leg,
            } => {
                let leg = match leg {
                    Leg::Request => "request",
                    Leg::Reply => "reply",
                };
                write!(f, "hop c{client} s{seq} a{attempt} {leg}")?
            }
            Key::Fsync {
                node,
                life,
                persist,
            } => write!(f, "fsync n{node} life{life} p{persist}")?,
            Key::PowerLoss { node, life } => write!(f, "power n{node} life{life}")?,
            Key::Corruption { node, at } => write!(f, "corrupt n{node} at{at}")?,
            Key::LeaderCrash { node, life, term } => {
                write!(f, "leader-crash n{node} life{life} t{term}")?
            }
            Key::Bridge => write!(f, "bridge")?,
            Key::ClockDrift { node } => write!(f, "drift n{node}")?,
            Key::Election { node, life } => write!(f, "election n{node} life{life}")?,
            Key::Upkeep { node, at } => write!(f, "upkeep n{node} at{at}")?,
        }
        write!(f, " #{} = ", self.ordinal)?;
        match self.value {
            Value::Fate(FateDraw {
                dropped,
                latency,
                duplicate,
            }) => {
                if dropped {
                    write!(f, "drop ")?;
                }
                write!(f, "{latency}")?;
                if let Some(d) = duplicate {
                    write!(f, " dup {d}")?;
                }
                Ok(())
            }
            Value::Latency(l) => write!(f, "{l}"),
            Value::Fsync(FsyncDraw { latency, slow_by }) => {
                write!(f, "{latency}")?;
                match slow_by {
                    Some(extra) => write!(f, " slow {extra}"),
                    None => Ok(()),
                }
            }
            Value::PowerLoss(PowerLossDraw {
                unsynced,
                renames_kept,
            }) => {
                match unsynced {
                    Unsynced::Lost => write!(f, "lost")?,
                    Unsynced::Torn { roll } => write!(f, "torn {roll}")?,
                    Unsynced::Kept => write!(f, "kept")?,
                }
                write!(f, " renames {renames_kept}")
            }
            Value::Corruption(CorruptionDraw::BitFlip { roll, bit }) => {
                write!(f, "flip {roll} {bit}")
            }
            Value::Corruption(CorruptionDraw::ZeroSector { roll }) => write!(f, "zero {roll}"),
            Value::Corruption(CorruptionDraw::LostWrite { roll }) => write!(f, "lost {roll}"),
            Value::Corruption(CorruptionDraw::MisdirectedWrite { roll, target }) => {
                write!(f, "misdirected {roll} {target}")
            }
            Value::LeaderCrash { after_us, down_us } => write!(f, "{after_us} {down_us}"),
            Value::Node(n) => write!(f, "n{n}"),
            Value::DriftPpm(d) => write!(f, "{d}"),
            Value::Seed(s) => write!(f, "{s}"),
        }
    }
}

/// The words of one line, read front to back.
struct Words<'a> {
    line: &'a str,
    words: std::str::SplitWhitespace<'a>,
}

impl<'a> Words<'a> {
    fn error(&self, reason: impl Into<String>) -> ParseError {
        ParseError {
            line: self.line.to_string(),
            reason: reason.into(),
        }
    }

    fn next(&mut self, what: &str) -> Result<&'a str, ParseError> {
        self.words
            .next()
            .ok_or_else(|| self.error(format!("ends before {what}")))
    }

    fn number<T: FromStr>(&mut self, prefix: &str, what: &str) -> Result<T, ParseError> {
        let word = self.next(what)?;
        word.strip_prefix(prefix)
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| self.error(format!("{what}: expected {prefix}<number>, got {word:?}")))
    }

    fn node(&mut self, what: &str) -> Result<u8, ParseError> {
        self.number("n", what)
    }

    fn expect(&mut self, word: &str) -> Result<(), ParseError> {
        let got = self.next(word)?;
        if got == word {
            Ok(())
        } else {
            Err(self.error(format!("expected {word:?}, got {got:?}")))
        }
    }

    fn end(&mut self) -> Result<(), ParseError> {
        match self.words.next() {
            None => Ok(()),
            Some(extra) => Err(self.error(format!("unexpected {extra:?} at the end"))),
        }
    }
}

impl FromStr for Decision {
    type Err = ParseError;

    fn from_str(line: &str) -> Result<Decision, ParseError> {
        let mut w = Words {
            line,
            words: line.split_whitespace(),
        };
        let what = w.next("the kind of decision")?;
        let key = match what {
            "msg" => Key::Message(message_key(&mut w)?),
            "hop" => {
                let client = w.number("c", "client")?;
                let seq = w.number("s", "operation")?;
                let attempt = w.number("a", "attempt")?;
                let leg = match w.next("leg")? {
                    "request" => Leg::Request,
                    "reply" => Leg::Reply,
                    other => return Err(w.error(format!("unknown leg {other:?}"))),
                };
                Key::Hop {
                    client,
                    seq,
                    attempt,
                    leg,
                }
            }
            "fsync" => Key::Fsync {
                node: w.node("node")?,
                life: w.number("life", "life")?,
                persist: w.number("p", "persist id")?,
            },
            "power" => Key::PowerLoss {
                node: w.node("node")?,
                life: w.number("life", "life")?,
            },
            "corrupt" => Key::Corruption {
                node: w.node("node")?,
                at: w.number("at", "time")?,
            },
            "leader-crash" => Key::LeaderCrash {
                node: w.node("node")?,
                life: w.number("life", "life")?,
                term: w.number("t", "term")?,
            },
            "bridge" => Key::Bridge,
            "upkeep" => Key::Upkeep {
                node: w.node("node")?,
                at: w.number("at", "time")?,
            },
            "drift" => Key::ClockDrift {
                node: w.node("node")?,
            },
            "election" => Key::Election {
                node: w.node("node")?,
                life: w.number("life", "life")?,
            },
            other => return Err(w.error(format!("unknown kind of decision {other:?}"))),
        };
        let ordinal = w.number("#", "ordinal")?;
        w.expect("=")?;
        let value = match key {
            Key::Message(_) => {
                let mut first = w.next("latency")?;
                let dropped = first == "drop";
                if dropped {
                    first = w.next("latency")?;
                }
                let latency = first
                    .parse()
                    .map_err(|_| w.error(format!("latency: not a number: {first:?}")))?;
                let duplicate = match w.words.next() {
                    None => None,
                    Some("dup") => Some(w.number("", "duplicate's latency")?),
                    Some(other) => return Err(w.error(format!("unexpected {other:?}"))),
                };
                Value::Fate(FateDraw {
                    dropped,
                    latency,
                    duplicate,
                })
            }
            Key::Hop { .. } => Value::Latency(w.number("", "latency")?),
            Key::Fsync { .. } => {
                let latency = w.number("", "latency")?;
                let slow_by = match w.words.next() {
                    None => None,
                    Some("slow") => Some(w.number("", "slow fsync's extra")?),
                    Some(other) => return Err(w.error(format!("unexpected {other:?}"))),
                };
                Value::Fsync(FsyncDraw { latency, slow_by })
            }
            Key::PowerLoss { .. } => {
                let unsynced = match w.next("what happens to unsynced bytes")? {
                    "lost" => Unsynced::Lost,
                    "kept" => Unsynced::Kept,
                    "torn" => Unsynced::Torn {
                        roll: w.number("", "torn roll")?,
                    },
                    other => return Err(w.error(format!("unknown power loss {other:?}"))),
                };
                w.expect("renames")?;
                let renames_kept = w.number("", "renames")?;
                Value::PowerLoss(PowerLossDraw {
                    unsynced,
                    renames_kept,
                })
            }
            Key::Corruption { .. } => match w.next("kind of damage")? {
                "flip" => Value::Corruption(CorruptionDraw::BitFlip {
                    roll: w.number("", "offset roll")?,
                    bit: w.number("", "bit")?,
                }),
                "zero" => Value::Corruption(CorruptionDraw::ZeroSector {
                    roll: w.number("", "sector roll")?,
                }),
                "lost" => Value::Corruption(CorruptionDraw::LostWrite {
                    roll: w.number("", "write roll")?,
                }),
                "misdirected" => Value::Corruption(CorruptionDraw::MisdirectedWrite {
                    roll: w.number("", "write roll")?,
                    target: w.number("", "target roll")?,
                }),
                other => return Err(w.error(format!("unknown damage {other:?}"))),
            },
            Key::LeaderCrash { .. } => Value::LeaderCrash {
                after_us: w.number("", "delay")?,
                down_us: w.number("", "downtime")?,
            },
            Key::Bridge => Value::Node(w.node("bridge")?),
            Key::ClockDrift { .. } => Value::DriftPpm(w.number("", "drift")?),
            Key::Election { .. } => Value::Seed(w.number("", "seed")?),
            Key::Upkeep { .. } => Value::Seed(w.number("", "roll")?),
        };
        w.end()?;
        Ok(Decision {
            key,
            ordinal,
            value,
        })
    }
}

fn message_key(w: &mut Words) -> Result<MessageKey, ParseError> {
    let link = w.next("sender>receiver")?;
    let (from, to) = link
        .split_once('>')
        .and_then(|(a, b)| {
            Some((
                a.strip_prefix('n')?.parse().ok()?,
                b.strip_prefix('n')?.parse().ok()?,
            ))
        })
        .ok_or_else(|| w.error(format!("expected n<from>>n<to>, got {link:?}")))?;
    let tag = w.next("message kind")?;
    let kind = MessageKind::ALL
        .into_iter()
        .find(|k| k.tag() == tag)
        .ok_or_else(|| w.error(format!("unknown message kind {tag:?}")))?;
    let term = w.number("t", "term")?;
    let numbers = w.next("the message's numbers")?;
    let mut fields = [0u64; 4];
    let arity = kind.arity();
    if arity == 0 {
        if numbers != "-" {
            return Err(w.error(format!("{tag} carries no numbers, got {numbers:?}")));
        }
    } else {
        let parts: Vec<&str> = numbers.split('/').collect();
        if parts.len() != arity {
            return Err(w.error(format!("{tag} carries {arity} numbers, got {numbers:?}")));
        }
        for (field, part) in fields.iter_mut().zip(parts) {
            *field = part
                .parse()
                .map_err(|_| w.error(format!("not a number: {part:?}")))?;
        }
    }
    Ok(MessageKey {
        from,
        to,
        kind,
        term,
        fields,
    })
}

impl serde::Serialize for Decision {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Decision {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Decision, D::Error> {
        let line = String::deserialize(deserializer)?;
        line.parse().map_err(serde::de::Error::custom)
    }
}
