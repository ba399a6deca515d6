//! The transport's fault switch: per-peer rules for outgoing raft messages (cut, drop a
//! fraction, delay). The real-process harness uses it where network namespaces are not
//! available, and for delays where the kernel has no `netem` qdisc; a cut between two nodes
//! is set on both (each side drops what it sends), a one-way cut on one.

use raft_core::NodeId;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// What happens to messages to one peer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkFault {
    pub cut: bool,
    /// Parts per million of messages dropped.
    pub drop_ppm: u32,
    /// Every message waits this long before it is written (order is kept).
    pub delay_ms: u32,
}

impl LinkFault {
    pub fn is_none(&self) -> bool {
        *self == LinkFault::default()
    }
}

/// One command of `POST /admin/faults` (a line of its body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultCommand {
    Cut(NodeId),
    Drop(NodeId, u32),
    Delay(NodeId, u32),
    Heal(Option<NodeId>),
}

/// A fault command that does not parse: the line and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultParseError {
    pub line: String,
    pub reason: &'static str,
}

impl fmt::Display for FaultParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fault command {:?}: {} (expected `cut PEER`, `drop PEER PPM`, `delay PEER MS`, `heal [PEER]`)",
            self.line, self.reason
        )
    }
}

impl std::error::Error for FaultParseError {}

impl FaultCommand {
    pub fn parse(line: &str) -> Result<FaultCommand, FaultParseError> {
        let error = |reason| FaultParseError {
            line: line.to_string(),
            reason,
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        let peer = |at: usize| -> Result<NodeId, FaultParseError> {
            let word = words.get(at).ok_or_else(|| error("missing peer id"))?;
            word.parse()
                .map(NodeId)
                .map_err(|_| error("peer id is not a number"))
        };
        let number = |at: usize, max: u32| -> Result<u32, FaultParseError> {
            let word = words.get(at).ok_or_else(|| error("missing number"))?;
            match word.parse::<u32>() {
                Ok(n) if n <= max => Ok(n),
                Ok(_) => Err(error("number out of range")),
                Err(_) => Err(error("not a number")),
            }
        };
        let command = match words.first().copied() {
            Some("cut") if words.len() == 2 => FaultCommand::Cut(peer(1)?),
            Some("drop") if words.len() == 3 => FaultCommand::Drop(peer(1)?, number(2, 1_000_000)?),
            Some("delay") if words.len() == 3 => FaultCommand::Delay(peer(1)?, number(2, 60_000)?),
            Some("heal") if words.len() == 1 => FaultCommand::Heal(None),
            Some("heal") if words.len() == 2 => FaultCommand::Heal(Some(peer(1)?)),
            Some("cut" | "drop" | "delay" | "heal") => return Err(error("wrong number of words")),
            Some(_) => return Err(error("unknown command")),
            None => return Err(error("empty line")),
        };
        Ok(command)
    }
}

/// The switch, shared by the HTTP admin endpoint and the peer senders.
#[derive(Debug)]
pub struct FaultSwitch {
    links: Mutex<BTreeMap<NodeId, LinkFault>>,
    rng: Mutex<u64>,
}

impl Default for FaultSwitch {
    fn default() -> FaultSwitch {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1;
        FaultSwitch {
            links: Mutex::new(BTreeMap::new()),
            rng: Mutex::new(seed),
        }
    }
}

impl FaultSwitch {
    pub fn apply(&self, command: &FaultCommand) {
        let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        match *command {
            FaultCommand::Cut(peer) => links.entry(peer).or_default().cut = true,
            FaultCommand::Drop(peer, ppm) => links.entry(peer).or_default().drop_ppm = ppm,
            FaultCommand::Delay(peer, ms) => links.entry(peer).or_default().delay_ms = ms,
            FaultCommand::Heal(None) => links.clear(),
            FaultCommand::Heal(Some(peer)) => {
                links.remove(&peer);
            }
        }
        links.retain(|_, fault| !fault.is_none());
    }

    pub fn link(&self, peer: NodeId) -> LinkFault {
        let links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        links.get(&peer).copied().unwrap_or_default()
    }

    /// The rules in force, one line per peer, in the command syntax.
    pub fn describe(&self) -> String {
        let links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        for (peer, fault) in links.iter() {
            if fault.cut {
                out.push_str(&format!("cut {}\n", peer.0));
            }
            if fault.drop_ppm > 0 {
                out.push_str(&format!("drop {} {}\n", peer.0, fault.drop_ppm));
            }
            if fault.delay_ms > 0 {
                out.push_str(&format!("delay {} {}\n", peer.0, fault.delay_ms));
            }
        }
        out
    }

    /// Whether a message to a link with this rule is lost.
    pub fn loses(&self, fault: LinkFault) -> bool {
        if fault.cut {
            return true;
        }
        if fault.drop_ppm == 0 {
            return false;
        }
        let mut state = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        // xorshift64: statistical quality is all a drop rate needs.
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        (*state % 1_000_000) < u64::from(fault.drop_ppm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_and_errors_name_the_line() {
        assert_eq!(
            FaultCommand::parse("cut 2"),
            Ok(FaultCommand::Cut(NodeId(2)))
        );
        assert_eq!(
            FaultCommand::parse(" drop 3 250000 "),
            Ok(FaultCommand::Drop(NodeId(3), 250_000))
        );
        assert_eq!(
            FaultCommand::parse("delay 1 40"),
            Ok(FaultCommand::Delay(NodeId(1), 40))
        );
        assert_eq!(FaultCommand::parse("heal"), Ok(FaultCommand::Heal(None)));
        let err = FaultCommand::parse("drop 3 2000000").unwrap_err();
        assert_eq!(err.reason, "number out of range");
        assert!(err.to_string().contains("drop 3 2000000"));
        assert_eq!(
            FaultCommand::parse("cut x").unwrap_err().reason,
            "peer id is not a number"
        );
        assert_eq!(
            FaultCommand::parse("cut").unwrap_err().reason,
            "wrong number of words"
        );
        assert_eq!(
            FaultCommand::parse("explode 1").unwrap_err().reason,
            "unknown command"
        );
    }

    #[test]
    fn rules_combine_and_heal() {
        let switch = FaultSwitch::default();
        switch.apply(&FaultCommand::Cut(NodeId(2)));
        switch.apply(&FaultCommand::Delay(NodeId(3), 25));
        assert!(switch.loses(switch.link(NodeId(2))));
        assert!(!switch.loses(switch.link(NodeId(3))));
        assert_eq!(switch.describe(), "cut 2\ndelay 3 25\n");
        switch.apply(&FaultCommand::Heal(Some(NodeId(2))));
        assert!(!switch.loses(switch.link(NodeId(2))));
        switch.apply(&FaultCommand::Heal(None));
        assert_eq!(switch.describe(), "");
    }

    #[test]
    fn a_drop_rate_drops_about_that_fraction() {
        let switch = FaultSwitch::default();
        let fault = LinkFault {
            drop_ppm: 250_000,
            ..LinkFault::default()
        };
        let lost = (0..20_000).filter(|_| switch.loses(fault)).count();
        assert!(
            (4_000..6_000).contains(&lost),
            "{lost} of 20000 lost at 25%"
        );
    }
}
