//! A configuration is checked before a node starts: each bound is refused exactly where it
//! stops making sense, and the error names the figures (a host reports it at startup).

use crate::support::*;
use raft_core::{Config, ConfigError};

fn with(change: impl FnOnce(&mut Config)) -> Result<(), ConfigError> {
    let mut config = config(THREE, SEED);
    change(&mut config);
    config.validate()
}

#[test]
fn election_timeout_must_be_a_nonempty_range_above_zero() {
    let refused = |min, max| Err(ConfigError::ElectionTimeout { min, max });
    assert_eq!(
        with(|c| (c.election_timeout_min, c.election_timeout_max) = (0, 20)),
        refused(0, 20)
    );
    assert_eq!(
        with(|c| (c.election_timeout_min, c.election_timeout_max) = (20, 20)),
        refused(20, 20)
    );
    assert_eq!(
        with(|c| (c.election_timeout_min, c.election_timeout_max) = (21, 20)),
        refused(21, 20)
    );
    assert_eq!(
        with(|c| (c.election_timeout_min, c.election_timeout_max) = (4, 5)),
        Ok(())
    );
}

#[test]
fn heartbeat_interval_must_be_above_zero_and_below_the_minimum_election_timeout() {
    let min = config(THREE, SEED).election_timeout_min;
    let refused = |heartbeat| {
        Err(ConfigError::HeartbeatInterval {
            heartbeat,
            election_min: min,
        })
    };
    assert_eq!(with(|c| c.heartbeat_interval = 0), refused(0));
    assert_eq!(with(|c| c.heartbeat_interval = min), refused(min));
    assert_eq!(with(|c| c.heartbeat_interval = min + 1), refused(min + 1));
    assert_eq!(with(|c| c.heartbeat_interval = min - 1), Ok(()));
}

#[test]
fn entries_per_message_must_fit_the_wire_count_and_be_above_zero() {
    let refused = Err(ConfigError::Limit {
        name: "max_entries_per_message",
    });
    assert_eq!(with(|c| c.max_entries_per_message = 0), refused);
    assert_eq!(
        with(|c| c.max_entries_per_message = u16::MAX as usize + 1),
        refused
    );
    assert_eq!(
        with(|c| c.max_entries_per_message = u16::MAX as usize),
        Ok(())
    );
    assert_eq!(with(|c| c.max_entries_per_message = 1), Ok(()));
}

#[test]
fn flow_control_limits_must_be_above_zero() {
    let refused = |name| Err(ConfigError::Limit { name });
    assert_eq!(
        with(|c| c.max_inflight_messages = 0),
        refused("max_inflight_messages")
    );
    assert_eq!(
        with(|c| c.max_bytes_per_message = 0),
        refused("max_bytes_per_message")
    );
    assert_eq!(
        with(|c| c.max_uncommitted_entries = 0),
        refused("max_uncommitted_entries")
    );
    assert_eq!(
        with(|c| (
            c.max_inflight_messages,
            c.max_bytes_per_message,
            c.max_uncommitted_entries
        ) = (1, 1, 1)),
        Ok(())
    );
}

#[test]
fn a_voter_is_listed_once() {
    assert_eq!(
        with(|c| c.voters.push(n(2))),
        Err(ConfigError::DuplicateVoter)
    );
    assert_eq!(with(|c| c.voters.push(n(4))), Ok(()));
}

#[test]
fn default_append_batch_is_nrgs_256_kib() {
    assert_eq!(Config::DEFAULT_MAX_BYTES_PER_MESSAGE, 262_144);
    assert_eq!(config(THREE, SEED).max_bytes_per_message, 262_144);
}
