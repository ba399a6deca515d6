//! The server's configuration: its id, data directory, the address book of every node it
//! may talk to, the bootstrap voters and the timing.

use raft_core::NodeId;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where a node listens: the raft port (peers) and the HTTP port (clients).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddrs {
    pub raft: SocketAddr,
    pub http: SocketAddr,
}

/// Every node this one may talk to, itself included. Static: a node added to the membership
/// later must already be listed here on every node (see the README's membership example).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressBook(BTreeMap<NodeId, PeerAddrs>);

impl AddressBook {
    pub fn insert(&mut self, id: NodeId, addrs: PeerAddrs) -> Option<PeerAddrs> {
        self.0.insert(id, addrs)
    }

    pub fn get(&self, id: NodeId) -> Option<&PeerAddrs> {
        self.0.get(&id)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&NodeId, &PeerAddrs)> {
        self.0.iter()
    }

    pub fn ids(&self) -> Vec<NodeId> {
        self.0.keys().copied().collect()
    }
}

/// A `--peer` or `--voters` value that does not parse: the value and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub value: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.value, self.reason)
    }
}

impl std::error::Error for ConfigError {}

/// Parses `ID=RAFT_ADDR,HTTP_ADDR`, e.g. `1=127.0.0.1:7001,127.0.0.1:8001`.
pub fn parse_peer(value: &str) -> Result<(NodeId, PeerAddrs), ConfigError> {
    let error = |reason: &str| ConfigError {
        value: value.to_string(),
        reason: format!("{reason} (expected ID=RAFT_HOST:PORT,HTTP_HOST:PORT)"),
    };
    let (id, addrs) = value.split_once('=').ok_or_else(|| error("no '='"))?;
    let id = parse_id(id).map_err(|e| error(&e))?;
    let (raft, http) = addrs.split_once(',').ok_or_else(|| error("no ','"))?;
    let raft = raft
        .trim()
        .parse()
        .map_err(|_| error("the raft address is not IP:PORT"))?;
    let http = http
        .trim()
        .parse()
        .map_err(|_| error("the HTTP address is not IP:PORT"))?;
    Ok((id, PeerAddrs { raft, http }))
}

/// A node id: a positive integer (0 is NRG's "no node").
pub fn parse_id(text: &str) -> Result<NodeId, String> {
    match text.trim().parse::<u64>() {
        Ok(0) => Err("node id 0 is reserved".into()),
        Ok(id) => Ok(NodeId(id)),
        Err(_) => Err(format!("node id {text:?} is not a positive integer")),
    }
}

/// Parses a comma-separated list of node ids.
pub fn parse_ids(value: &str) -> Result<Vec<NodeId>, ConfigError> {
    value
        .split(',')
        .map(|id| {
            parse_id(id).map_err(|reason| ConfigError {
                value: value.to_string(),
                reason,
            })
        })
        .collect()
}

/// Everything a server needs to start.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub id: NodeId,
    pub data_dir: PathBuf,
    pub book: AddressBook,
    /// The voters of a cluster that has no membership on disk yet.
    pub voters: Vec<NodeId>,
    pub tick: Duration,
    /// Ticks without hearing from a leader before an election (raft-core draws from the range).
    pub election_ticks: (u32, u32),
    pub heartbeat_ticks: u32,
    /// Applied entries between two automatic snapshots (0: never).
    pub snapshot_every: u64,
    /// A write or log read that is not applied this long after it was proposed is answered
    /// "unknown outcome".
    pub request_timeout: Duration,
}

impl ServerConfig {
    /// Checks the configuration against itself, naming the first problem.
    pub fn validate(&self) -> Result<(), String> {
        if self.book.get(self.id).is_none() {
            return Err(format!("node {} has no --peer entry of its own", self.id.0));
        }
        for voter in &self.voters {
            if self.book.get(*voter).is_none() {
                return Err(format!("voter {} has no --peer entry", voter.0));
            }
        }
        if self.voters.is_empty() {
            return Err("no voters".into());
        }
        if self.tick.is_zero() {
            return Err("the tick must be longer than 0 ms".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_parse_and_errors_say_what_is_wrong() {
        let (id, addrs) = parse_peer("2=127.0.0.1:7002,10.0.0.2:8002").unwrap();
        assert_eq!(id, NodeId(2));
        assert_eq!(addrs.raft.to_string(), "127.0.0.1:7002");
        assert_eq!(addrs.http.to_string(), "10.0.0.2:8002");
        for (bad, why) in [
            ("2", "no '='"),
            ("0=127.0.0.1:1,127.0.0.1:2", "reserved"),
            ("x=127.0.0.1:1,127.0.0.1:2", "positive integer"),
            ("2=127.0.0.1:1", "no ','"),
            ("2=localhost:1,127.0.0.1:2", "raft address"),
            ("2=127.0.0.1:1,127.0.0.1", "HTTP address"),
        ] {
            let err = parse_peer(bad).unwrap_err();
            assert!(err.to_string().contains(why), "{bad}: {err}");
        }
        assert_eq!(
            parse_ids("1,2, 3").unwrap(),
            vec![NodeId(1), NodeId(2), NodeId(3)]
        );
        assert!(parse_ids("1,,3").is_err());
    }
}
