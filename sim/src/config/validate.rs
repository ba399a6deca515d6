//! Validation of a configuration: every field named in the error, with what is wrong.

use super::*;

/// The largest log cache a configuration may ask for (1 GiB: in effect, no bound).
pub const MAX_LOG_CACHE_BYTES: usize = 1 << 30;

impl SimConfig {
    /// Checks a configuration made by hand, by overrides or read from a bundle: every value
    /// within the bounds a run can handle (no arithmetic on it can overflow, no run can grow
    /// without bound). The error names the field by its path in a bundle's `config`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |field: &'static str, problem: String| Err(ConfigError { field, problem });
        if !(1..=MAX_NODES).contains(&self.nodes) {
            return err(
                "nodes",
                format!("is {}, must be 1..={MAX_NODES}", self.nodes),
            );
        }
        if self.faults.disaster_ppm > 0 && !self.pre_vote_check_quorum {
            return err(
                "faults.disaster_ppm",
                format!(
                    "is {}, but PreVote and CheckQuorum are off: a rescue is for a leaderless group, and without CheckQuorum the leader that lost its majority never steps down",
                    self.faults.disaster_ppm
                ),
            );
        }
        if self.faults.spare_nodes >= self.nodes {
            return err(
                "faults.spare_nodes",
                format!(
                    "is {}, which leaves no voter of {} nodes (spare nodes start outside the membership)",
                    self.faults.spare_nodes, self.nodes
                ),
            );
        }
        if !(1..=MAX_TICK_US).contains(&self.tick_us) {
            return err(
                "tick_us",
                format!("is {}, must be 1..={MAX_TICK_US}", self.tick_us),
            );
        }
        for (field, value, max) in [
            ("chaos_us", self.chaos_us, MAX_CHAOS_US),
            ("latency.min_us", self.latency.min_us, MAX_DELAY_US),
            ("latency.max_us", self.latency.max_us, MAX_DELAY_US),
            (
                "latency.tail_max_us",
                self.latency.tail_max_us,
                MAX_DELAY_US,
            ),
            ("fsync_min_us", self.fsync_min_us, MAX_DELAY_US),
            ("fsync_max_us", self.fsync_max_us, MAX_DELAY_US),
            (
                "faults.slow_fsync_max_us",
                self.faults.slow_fsync_max_us,
                MAX_DELAY_US,
            ),
            (
                "faults.nemesis_interval_us",
                self.faults.nemesis_interval_us,
                MAX_CHAOS_US,
            ),
            (
                "workload.think_min_us",
                self.workload.think_min_us,
                MAX_DELAY_US,
            ),
            (
                "workload.think_max_us",
                self.workload.think_max_us,
                MAX_DELAY_US,
            ),
            (
                "workload.attempt_timeout_us",
                self.workload.attempt_timeout_us,
                MAX_DELAY_US,
            ),
        ] {
            if value > max {
                return err(field, format!("is {value}, above the limit of {max}"));
            }
        }
        if self.latency.min_us > self.latency.max_us {
            return err("latency.min_us", "is above latency.max_us".into());
        }
        if self.fsync_min_us > self.fsync_max_us {
            return err("fsync_min_us", "is above fsync_max_us".into());
        }
        if self.workload.think_min_us > self.workload.think_max_us {
            return err(
                "workload.think_min_us",
                "is above workload.think_max_us".into(),
            );
        }
        if self.faults.nemesis_interval_us < MIN_NEMESIS_INTERVAL_US {
            return err(
                "faults.nemesis_interval_us",
                format!(
                    "is {}, below the minimum of {MIN_NEMESIS_INTERVAL_US}",
                    self.faults.nemesis_interval_us
                ),
            );
        }
        if let Some(sticky) = self.workload.sticky_readers {
            if sticky.hold_max_us > MAX_CHAOS_US {
                return err(
                    "workload.sticky_readers.hold_max_us",
                    format!(
                        "is {}, above the limit of {MAX_CHAOS_US}",
                        sticky.hold_max_us
                    ),
                );
            }
            if sticky.hold_min_us > sticky.hold_max_us {
                return err(
                    "workload.sticky_readers.hold_min_us",
                    "is above workload.sticky_readers.hold_max_us".into(),
                );
            }
        }
        if self.workload.attempt_timeout_us == 0 {
            return err("workload.attempt_timeout_us", "must be positive".into());
        }
        for (field, ppm) in [
            ("faults.drop_ppm", self.faults.drop_ppm),
            ("faults.duplicate_ppm", self.faults.duplicate_ppm),
            ("faults.torn_write_ppm", self.faults.torn_write_ppm),
            ("faults.slow_fsync_ppm", self.faults.slow_fsync_ppm),
            ("faults.clock_drift_ppm", self.faults.clock_drift_ppm),
            ("faults.disaster_ppm", self.faults.disaster_ppm),
            (
                "faults.forward_removal_ppm",
                self.faults.forward_removal_ppm,
            ),
            ("latency.tail_ppm", self.latency.tail_ppm),
        ] {
            if ppm > 1_000_000 {
                return err(field, format!("is {ppm}, above 1000000 (100%)"));
            }
        }
        if self.faults.drop_ppm >= 1_000_000 {
            return err(
                "faults.drop_ppm",
                "is 1000000: dropping every message leaves no network".into(),
            );
        }
        let f = &self.faults;
        for (field, weight) in [
            ("faults.partition_weight", f.partition_weight),
            ("faults.crash_weight", f.crash_weight),
            ("faults.pause_weight", f.pause_weight),
            ("faults.clog_weight", f.clog_weight),
            ("faults.corrupt_weight", f.corrupt_weight),
            ("faults.read_error_weight", f.read_error_weight),
            ("faults.transfer_weight", f.transfer_weight),
            ("faults.pause_apply_weight", f.pause_apply_weight),
            ("faults.snapshot_weight", f.snapshot_weight),
            ("faults.membership_weight", f.membership_weight),
            ("workload.put_weight", self.workload.put_weight),
            ("workload.append_weight", self.workload.append_weight),
            ("workload.cas_weight", self.workload.cas_weight),
            ("workload.get_weight", self.workload.get_weight),
        ] {
            if weight > MAX_WEIGHT {
                return err(
                    field,
                    format!("is {weight}, above the limit of {MAX_WEIGHT}"),
                );
            }
        }
        if f.write_errors > crate::write_errors::MAX_WRITE_ERRORS {
            return err(
                "faults.write_errors",
                format!(
                    "is {}, above the limit of {}",
                    f.write_errors,
                    crate::write_errors::MAX_WRITE_ERRORS
                ),
            );
        }
        if f.disk_losses > crate::disk_loss::MAX_DISK_LOSSES {
            return err(
                "faults.disk_losses",
                format!(
                    "is {}, above the limit of {}",
                    f.disk_losses,
                    crate::disk_loss::MAX_DISK_LOSSES
                ),
            );
        }
        if f.clock_faults > crate::clocks::MAX_CLOCK_FAULTS {
            return err(
                "faults.clock_faults",
                format!(
                    "is {}, above the limit of {}",
                    f.clock_faults,
                    crate::clocks::MAX_CLOCK_FAULTS
                ),
            );
        }
        if let Some(c) = self.compaction {
            if !(1..=100_000).contains(&c.every_entries) {
                return err(
                    "compaction.every_entries",
                    format!("is {}, must be 1..=100000", c.every_entries),
                );
            }
            if !(16..=262_144).contains(&c.max_bytes_per_message) {
                return err(
                    "compaction.max_bytes_per_message",
                    format!("is {}, must be 16..=262144", c.max_bytes_per_message),
                );
            }
        }
        if let Some(c) = self.log_cache {
            if c.bytes > MAX_LOG_CACHE_BYTES {
                return err(
                    "log_cache.bytes",
                    format!("is {}, above the limit of {MAX_LOG_CACHE_BYTES}", c.bytes),
                );
            }
            if c.read_error_ppm > crate::log_read_errors::MAX_READ_ERROR_PPM {
                return err(
                    "log_cache.read_error_ppm",
                    format!(
                        "is {}, above the limit of {} (a read must succeed sometimes)",
                        c.read_error_ppm,
                        crate::log_read_errors::MAX_READ_ERROR_PPM
                    ),
                );
            }
        }
        let w = &self.workload;
        if w.clients > MAX_CLIENTS {
            return err(
                "workload.clients",
                format!("is {}, must be 0..={MAX_CLIENTS}", w.clients),
            );
        }
        if !(1..=MAX_KEYS).contains(&w.keys) {
            return err(
                "workload.keys",
                format!("is {}, must be 1..={MAX_KEYS}", w.keys),
            );
        }
        if !(1..=MAX_ATTEMPTS).contains(&w.max_attempts) {
            return err(
                "workload.max_attempts",
                format!("is {}, must be 1..={MAX_ATTEMPTS}", w.max_attempts),
            );
        }
        if w.put_weight + w.append_weight + w.cas_weight + w.get_weight == 0 && w.clients > 0 {
            return err(
                "workload.put_weight",
                "and the other operation weights are all zero".into(),
            );
        }
        for (field, ticks) in [
            (
                "election_timeout_min_ticks",
                self.election_timeout_min_ticks,
            ),
            (
                "election_timeout_max_ticks",
                self.election_timeout_max_ticks,
            ),
            ("heartbeat_ticks", self.heartbeat_ticks),
        ] {
            if ticks > MAX_TIMEOUT_TICKS {
                return err(
                    field,
                    format!("is {ticks}, above the limit of {MAX_TIMEOUT_TICKS}"),
                );
            }
        }
        if !(1..=MAX_LIVENESS_TIMEOUTS).contains(&self.liveness_timeouts) {
            return err(
                "liveness_timeouts",
                format!(
                    "is {}, must be 1..={MAX_LIVENESS_TIMEOUTS}",
                    self.liveness_timeouts
                ),
            );
        }
        if self.liveness_bound_us() > MAX_CHAOS_US {
            return err(
                "liveness_timeouts",
                format!(
                    "with these timeouts gives a liveness bound of {}us, above the limit of {MAX_CHAOS_US}",
                    self.liveness_bound_us()
                ),
            );
        }
        let s = &self.stream;
        if self.state_machine == StateMachine::Stream {
            if s.publish_weight + s.batch_weight + s.get_weight + s.last_weight == 0 {
                return err("stream", "workload weights are all zero".into());
            }
            // Bounded so that a bundle cannot ask for a workload that never ends.
            for (field, value, max) in [
                ("stream.subjects", s.subjects, 1_000),
                ("stream.publish_weight", s.publish_weight.into(), 1_000),
                ("stream.batch_weight", s.batch_weight.into(), 1_000),
                ("stream.get_weight", s.get_weight.into(), 1_000),
                ("stream.last_weight", s.last_weight.into(), 1_000),
                ("stream.batch_max_msgs", s.batch_max_msgs.into(), 1_000),
                ("stream.limits.max_batch", s.limits.max_batch.into(), 1_000),
                (
                    "stream.limits.max_open_batches",
                    s.limits.max_open_batches.into(),
                    1_000,
                ),
                (
                    "stream.limits.dedupe_window",
                    s.limits.dedupe_window,
                    1_000_000,
                ),
                ("stream.limits.max_msgs", s.limits.max_msgs, 1_000_000_000),
                (
                    "stream.limits.batch_timeout_us",
                    s.limits.batch_timeout_us,
                    MAX_CHAOS_US,
                ),
            ] {
                if value > max {
                    return err(field, format!("is {value}, above the limit of {max}"));
                }
            }
            if s.subjects == 0 {
                return err(
                    "stream.subjects",
                    "is 0: the workload needs a subject".into(),
                );
            }
            if s.batch_weight > 0 && s.batch_max_msgs < 2 {
                return err(
                    "stream.batch_max_msgs",
                    format!("is {}: a batch has at least 2 messages", s.batch_max_msgs),
                );
            }
            if s.limits.max_batch == 0 || s.limits.max_open_batches == 0 {
                return err(
                    "stream.limits",
                    "max_batch and max_open_batches must be positive".into(),
                );
            }
            for (field, ppm) in [
                ("stream.duplicate_ppm", s.duplicate_ppm),
                ("stream.expect_ppm", s.expect_ppm),
                ("stream.rollup_ppm", s.rollup_ppm),
            ] {
                if ppm > 1_000_000 {
                    return err(field, format!("is {ppm}, above 1,000,000 (100%)"));
                }
            }
        }
        raft_core::Config {
            id: raft_core::NodeId(1),
            voters: vec![raft_core::NodeId(1)],
            election_timeout_min: self.election_timeout_min_ticks,
            election_timeout_max: self.election_timeout_max_ticks,
            heartbeat_interval: self.heartbeat_ticks,
            seed: 0,
            max_entries_per_message: self.max_entries_per_message,
            max_inflight_messages: self.max_inflight_messages,
            max_bytes_per_message: self.max_bytes_per_message(),
            max_uncommitted_entries: self.overrun_threshold,
            pre_vote: true,
            check_quorum: true,
            log_cache_bytes: self.log_cache.map(|c| c.bytes),
            managed: false,
            repair_by_election: false,
        }
        .validate()
        .map_err(|e| ConfigError {
            field: match e {
                raft_core::ConfigError::HeartbeatInterval { .. } => "heartbeat_ticks",
                raft_core::ConfigError::Limit { .. } => "max_entries_per_message",
                _ => "election_timeout_min_ticks",
            },
            problem: e.to_string(),
        })?;
        if self.max_inflight_messages > MAX_INFLIGHT_MESSAGES {
            return err(
                "max_inflight_messages",
                format!(
                    "is {}, above the limit of {MAX_INFLIGHT_MESSAGES}",
                    self.max_inflight_messages
                ),
            );
        }
        Ok(())
    }
}
