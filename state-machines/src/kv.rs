//! The replicated key-value state machine (the simulator's host and the real server apply
//! committed entries to it), and the encoding of client operations inside log entries.

use std::collections::BTreeMap;

/// A client operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum KvOp {
    Put {
        key: String,
        value: String,
    },
    Append {
        key: String,
        value: String,
    },
    /// Swap in `new` if the current value is `expected` (None: the key is absent).
    Cas {
        key: String,
        expected: Option<String>,
        new: String,
    },
    Get {
        key: String,
    },
}

impl KvOp {
    pub fn key(&self) -> &str {
        match self {
            KvOp::Put { key, .. }
            | KvOp::Append { key, .. }
            | KvOp::Cas { key, .. }
            | KvOp::Get { key } => key,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            KvOp::Put { .. } => "put",
            KvOp::Append { .. } => "append",
            KvOp::Cas { .. } => "cas",
            KvOp::Get { .. } => "get",
        }
    }
}

/// What applying an operation returned.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum KvResult {
    Done,
    /// Get: the value read (None: absent).
    Value(Option<String>),
    /// Cas: true if it swapped.
    Swapped(bool),
}

/// Appends `value` in decimal (what `to_string` gives).
fn push_decimal(out: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// A command in a log entry: operation plus the client session it belongs to, so a retried
/// command (same client, same sequence number) is applied once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    pub client: u32,
    pub seq: u64,
    pub op: KvOp,
}

impl Command {
    /// Space-separated text; keys and values never contain spaces, `-` stands for "absent".
    ///
    /// Built by hand into one buffer (not `format!`): every client request is encoded.
    pub fn encode(&self) -> Vec<u8> {
        let mut parts: [&str; 4] = [""; 4];
        let parts = match &self.op {
            KvOp::Put { key, value } => {
                parts[..3].copy_from_slice(&["put", key, value]);
                &parts[..3]
            }
            KvOp::Append { key, value } => {
                parts[..3].copy_from_slice(&["append", key, value]);
                &parts[..3]
            }
            KvOp::Cas { key, expected, new } => {
                parts = ["cas", key, expected.as_deref().unwrap_or("-"), new];
                &parts[..]
            }
            KvOp::Get { key } => {
                parts[..2].copy_from_slice(&["get", key]);
                &parts[..2]
            }
        };
        let len = parts.iter().map(|p| p.len() + 1).sum::<usize>();
        let mut out = Vec::with_capacity(len + 2 * 20);
        push_decimal(&mut out, u64::from(self.client));
        out.push(b' ');
        push_decimal(&mut out, self.seq);
        for part in parts {
            out.push(b' ');
            out.extend_from_slice(part.as_bytes());
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<Command> {
        CommandRef::decode(bytes).map(|c| c.to_command())
    }

    /// The command borrowed as a [`CommandRef`].
    pub fn borrowed(&self) -> CommandRef<'_> {
        let op = match &self.op {
            KvOp::Put { key, value } => KvOpRef::Put { key, value },
            KvOp::Append { key, value } => KvOpRef::Append { key, value },
            KvOp::Cas { key, expected, new } => KvOpRef::Cas {
                key,
                expected: expected.as_deref(),
                new,
            },
            KvOp::Get { key } => KvOpRef::Get { key },
        };
        CommandRef {
            client: self.client,
            seq: self.seq,
            op,
        }
    }
}

/// A [`Command`] whose key and values are borrowed from the bytes it was decoded from: a
/// host applying committed entries decodes every one of them, and the store copies a key or
/// value only when it keeps one it did not hold (no `String` per part per decode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandRef<'a> {
    pub client: u32,
    pub seq: u64,
    pub op: KvOpRef<'a>,
}

/// A [`KvOp`] borrowed (see [`CommandRef`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KvOpRef<'a> {
    Put {
        key: &'a str,
        value: &'a str,
    },
    Append {
        key: &'a str,
        value: &'a str,
    },
    Cas {
        key: &'a str,
        expected: Option<&'a str>,
        new: &'a str,
    },
    Get {
        key: &'a str,
    },
}

impl<'a> CommandRef<'a> {
    /// Decodes [`Command::encode`]'s text (the one parser: [`Command::decode`] is this, then
    /// owned).
    pub fn decode(bytes: &'a [u8]) -> Option<CommandRef<'a>> {
        let text = std::str::from_utf8(bytes).ok()?;
        // At most 6 parts (a cas); on the stack, since every applied entry is decoded.
        let mut split = [""; 6];
        let mut len = 0;
        for part in text.split(' ') {
            *split.get_mut(len)? = part;
            len += 1;
        }
        let parts = &split[..len];
        let client = parts.first()?.parse().ok()?;
        let seq = parts.get(1)?.parse().ok()?;
        let key = *parts.get(3)?;
        let op = match (*parts.get(2)?, parts.len()) {
            ("put", 5) => KvOpRef::Put {
                key,
                value: parts[4],
            },
            ("append", 5) => KvOpRef::Append {
                key,
                value: parts[4],
            },
            ("cas", 6) => KvOpRef::Cas {
                key,
                expected: (parts[4] != "-").then_some(parts[4]),
                new: parts[5],
            },
            ("get", 4) => KvOpRef::Get { key },
            _ => return None,
        };
        Some(CommandRef { client, seq, op })
    }

    /// The command with its key and values copied out.
    pub fn to_command(&self) -> Command {
        let op = match self.op {
            KvOpRef::Put { key, value } => KvOp::Put {
                key: key.to_string(),
                value: value.to_string(),
            },
            KvOpRef::Append { key, value } => KvOp::Append {
                key: key.to_string(),
                value: value.to_string(),
            },
            KvOpRef::Cas { key, expected, new } => KvOp::Cas {
                key: key.to_string(),
                expected: expected.map(str::to_string),
                new: new.to_string(),
            },
            KvOpRef::Get { key } => KvOp::Get {
                key: key.to_string(),
            },
        };
        Command {
            client: self.client,
            seq: self.seq,
            op,
        }
    }
}

/// The state machine: data plus, per client, the last applied sequence number and its result.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KvStore {
    data: BTreeMap<String, String>,
    sessions: BTreeMap<u32, (u64, KvResult)>,
}

impl KvStore {
    /// Applies a command, or returns the remembered result of a duplicate.
    pub fn apply(&mut self, command: &Command) -> KvResult {
        self.apply_ref(&command.borrowed())
    }

    /// [`KvStore::apply`] of a borrowed command: a key already held keeps its `String`, and
    /// a value written over one already held reuses its buffer.
    pub fn apply_ref(&mut self, command: &CommandRef<'_>) -> KvResult {
        if let Some((seq, result)) = self.sessions.get(&command.client) {
            if command.seq == *seq {
                return result.clone();
            }
            if command.seq < *seq {
                // An older retry arriving late: already applied, and the client moved on.
                return KvResult::Done;
            }
        }
        let result = match command.op {
            KvOpRef::Put { key, value } => {
                self.put(key, value);
                KvResult::Done
            }
            KvOpRef::Append { key, value } => {
                match self.data.get_mut(key) {
                    Some(held) => held.push_str(value),
                    None => {
                        self.data.insert(key.to_string(), value.to_string());
                    }
                }
                KvResult::Done
            }
            KvOpRef::Cas { key, expected, new } => {
                let current = self.data.get(key).map(String::as_str);
                if current == expected {
                    self.put(key, new);
                    KvResult::Swapped(true)
                } else {
                    KvResult::Swapped(false)
                }
            }
            KvOpRef::Get { key } => KvResult::Value(self.data.get(key).cloned()),
        };
        self.sessions
            .insert(command.client, (command.seq, result.clone()));
        result
    }

    /// Sets `key` to `value`, in the `String` it already has if any.
    fn put(&mut self, key: &str, value: &str) {
        match self.data.get_mut(key) {
            Some(held) => {
                held.clear();
                held.push_str(value);
            }
            None => {
                self.data.insert(key.to_string(), value.to_string());
            }
        }
    }

    /// The snapshot of this state machine (what `install_snapshot` is given).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("the store serializes")
    }

    /// Restores a snapshot made by [`KvStore::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Option<KvStore> {
        serde_json::from_slice(bytes).ok()
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.data.get(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip() {
        let ops = [
            KvOp::Put {
                key: "k0".into(),
                value: "v1".into(),
            },
            KvOp::Append {
                key: "k1".into(),
                value: "a,".into(),
            },
            KvOp::Cas {
                key: "k0".into(),
                expected: None,
                new: "v2".into(),
            },
            KvOp::Cas {
                key: "k0".into(),
                expected: Some("v1".into()),
                new: "v2".into(),
            },
            KvOp::Get { key: "k2".into() },
        ];
        let texts = [
            "3 0 put k0 v1",
            "3 1 append k1 a,",
            "3 2 cas k0 - v2",
            "3 3 cas k0 v1 v2",
            "3 4 get k2",
        ];
        for ((i, op), text) in ops.into_iter().enumerate().zip(texts) {
            let command = Command {
                client: 3,
                seq: i as u64,
                op,
            };
            assert_eq!(String::from_utf8(command.encode()).unwrap(), text);
            assert_eq!(Command::decode(&command.encode()), Some(command));
        }
        let big = Command {
            client: u32::MAX,
            seq: u64::MAX,
            op: KvOp::Get { key: "k".into() },
        };
        assert_eq!(
            big.encode(),
            format!("{} {} get k", u32::MAX, u64::MAX).into_bytes()
        );
        assert_eq!(Command::decode(b"garbage"), None);
        assert_eq!(Command::decode(&[0xff, 0xfe]), None);
    }

    #[test]
    fn a_retried_command_applies_once() {
        let mut kv = KvStore::default();
        let append = Command {
            client: 1,
            seq: 1,
            op: KvOp::Append {
                key: "k".into(),
                value: "x".into(),
            },
        };
        kv.apply(&append);
        kv.apply(&append);
        assert_eq!(kv.get("k").map(String::as_str), Some("x"));
    }

    #[test]
    fn cas_compares_against_absent() {
        let mut kv = KvStore::default();
        let cas = |seq, expected: Option<&str>| Command {
            client: 1,
            seq,
            op: KvOp::Cas {
                key: "k".into(),
                expected: expected.map(String::from),
                new: format!("v{seq}"),
            },
        };
        assert_eq!(kv.apply(&cas(1, None)), KvResult::Swapped(true));
        assert_eq!(kv.apply(&cas(2, None)), KvResult::Swapped(false));
        assert_eq!(kv.apply(&cas(3, Some("v1"))), KvResult::Swapped(true));
    }

    /// A put or a swap over a longer held value leaves only the new value (the held buffer
    /// is reused), and an append to an absent key creates it.
    #[test]
    fn a_write_over_a_held_value_replaces_it_whole() {
        let mut kv = KvStore::default();
        let mut seq = 0;
        let mut run = |kv: &mut KvStore, text: &str| {
            seq += 1;
            let command = format!("1 {seq} {text}");
            kv.apply_ref(&CommandRef::decode(command.as_bytes()).unwrap())
        };
        run(&mut kv, "append k long-value");
        assert_eq!(kv.get("k").map(String::as_str), Some("long-value"));
        run(&mut kv, "put k v");
        assert_eq!(kv.get("k").map(String::as_str), Some("v"));
        run(&mut kv, "append k ,w");
        assert_eq!(kv.get("k").map(String::as_str), Some("v,w"));
        assert_eq!(run(&mut kv, "cas k v,w x"), KvResult::Swapped(true));
        assert_eq!(kv.get("k").map(String::as_str), Some("x"));
        assert_eq!(run(&mut kv, "get k"), KvResult::Value(Some("x".into())));
    }
}
