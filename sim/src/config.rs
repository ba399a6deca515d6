//! A run's configuration. Swarm testing: the seed draws the configuration itself (cluster
//! size, latency, which fault kinds are on and how often, workload mix), so a sweep explores
//! many different worlds, not one world with many seeds. Every knob can be overridden.

use crate::rng::{Ppm, Stream};
use serde::{Deserialize, Serialize};

/// Virtual time in microseconds.
pub type Micros = u64;

/// How long a message takes on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latency {
    pub min_us: Micros,
    pub max_us: Micros,
    /// Chance that a message takes the slow path instead.
    pub tail_ppm: Ppm,
    pub tail_max_us: Micros,
}

/// Which faults are on, and how likely. Zero switches a kind off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faults {
    /// Per message.
    pub drop_ppm: Ppm,
    pub duplicate_ppm: Ppm,
    /// Relative weights of nemesis actions, drawn every nemesis interval.
    pub partition_weight: u32,
    pub crash_weight: u32,
    pub pause_weight: u32,
    pub clog_weight: u32,
    pub corrupt_weight: u32,
    pub read_error_weight: u32,
    /// Leadership transfers (`step_down`) to a random or no preferred successor.
    pub transfer_weight: u32,
    /// An application pausing and later resuming apply on a node.
    pub pause_apply_weight: u32,
    /// An application snapshotting its state machine (log compaction). Absent in bundles
    /// written before snapshots were in the mix.
    #[serde(default)]
    pub snapshot_weight: u32,
    /// Operators' membership changes: single changes at the leader (add or remove a voter;
    /// add, promote or remove an observer), node replacements and multi-step
    /// reconfigurations.
    #[serde(default)]
    pub membership_weight: u32,
    /// The last `spare_nodes` nodes start outside the membership (running, empty, waiting to
    /// be added), so the membership nemesis grows the cluster as well as shrinking it.
    #[serde(default)]
    pub spare_nodes: usize,
    /// When the chaos ends, keep a partial partition (a bridge node between two sides) during
    /// the liveness phase: a connected quorum exists, so a correct core must stay live (the
    /// Cloudflare 2020 shape).
    pub residual_partition: bool,
    /// Mean gap between nemesis actions.
    pub nemesis_interval_us: Micros,
    /// On a crash, chance that the last unsynced write is torn at a sector boundary.
    pub torn_write_ppm: Ppm,
    /// Chance that one fsync is slow (up to `slow_fsync_max_us`).
    pub slow_fsync_ppm: Ppm,
    pub slow_fsync_max_us: Micros,
    /// Per-node clock drift: a node's tick interval is off by up to this many ppm.
    pub clock_drift_ppm: Ppm,
}

impl Faults {
    pub fn none() -> Faults {
        Faults {
            drop_ppm: 0,
            duplicate_ppm: 0,
            partition_weight: 0,
            crash_weight: 0,
            pause_weight: 0,
            clog_weight: 0,
            corrupt_weight: 0,
            read_error_weight: 0,
            transfer_weight: 0,
            pause_apply_weight: 0,
            snapshot_weight: 0,
            membership_weight: 0,
            spare_nodes: 0,
            residual_partition: false,
            nemesis_interval_us: 1_000_000,
            torn_write_ppm: 0,
            slow_fsync_ppm: 0,
            slow_fsync_max_us: 0,
            clock_drift_ppm: 0,
        }
    }

    pub fn nemesis_weights(&self) -> u32 {
        self.partition_weight
            + self.crash_weight
            + self.pause_weight
            + self.clog_weight
            + self.corrupt_weight
            + self.read_error_weight
            + self.transfer_weight
            + self.pause_apply_weight
            + self.snapshot_weight
            + self.membership_weight
    }
}

/// The client workload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workload {
    pub clients: usize,
    pub keys: usize,
    /// Think time between a client's operations.
    pub think_min_us: Micros,
    pub think_max_us: Micros,
    /// Relative weights of the operation kinds.
    pub put_weight: u32,
    pub append_weight: u32,
    pub cas_weight: u32,
    pub get_weight: u32,
    /// A client gives up on an attempt after this long, then retries.
    pub attempt_timeout_us: Micros,
    /// Attempts per operation before the outcome is recorded unknown (or failed).
    pub max_attempts: u32,
    /// Gets are served through ReadIndex (a heartbeat round) instead of through the log.
    pub read_index_gets: bool,
}

/// Everything that determines a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimConfig {
    pub seed: u64,
    pub nodes: usize,
    /// Virtual length of one node tick.
    pub tick_us: Micros,
    pub election_timeout_min_ticks: u32,
    pub election_timeout_max_ticks: u32,
    pub heartbeat_ticks: u32,
    pub max_entries_per_message: usize,
    pub max_inflight_messages: usize,
    pub latency: Latency,
    pub fsync_min_us: Micros,
    pub fsync_max_us: Micros,
    pub faults: Faults,
    pub workload: Workload,
    /// Length of the chaos phase; faults stop after it and liveness is checked.
    pub chaos_us: Micros,
    /// Liveness: after the faults stop, a stable leader and a new commit must appear within
    /// this many maximum election timeouts.
    pub liveness_timeouts: u32,
}

impl SimConfig {
    /// The configuration the seed draws (swarm testing). Each knob draws from a stream of
    /// its own (`config/<knob>`), so a new knob, or a knob drawn differently, leaves every
    /// other knob of every seed as it was.
    pub fn draw(seed: u64) -> SimConfig {
        let knob = |name: &str| Stream::new(seed, &format!("config/{name}"));
        let nodes = *knob("nodes").pick(&[3usize, 3, 5, 5, 7]);
        let latency = match knob("latency").below(3) {
            0 => Latency {
                min_us: 500,
                max_us: 3_000,
                tail_ppm: 0,
                tail_max_us: 0,
            },
            1 => Latency {
                min_us: 1_000,
                max_us: 15_000,
                tail_ppm: 20_000,
                tail_max_us: 120_000,
            },
            _ => Latency {
                min_us: 5_000,
                max_us: 40_000,
                tail_ppm: 5_000,
                tail_max_us: 200_000,
            },
        };
        // Each fault kind is on in about two runs out of three, at a drawn intensity.
        let maybe = |name: &str, low: u64, high: u64| -> u64 {
            let mut rng = knob(name);
            if rng.below(3) == 0 {
                0
            } else {
                rng.between(low, high)
            }
        };
        let membership_weight = maybe("membership_weight", 2, 8) as u32;
        let faults = Faults {
            drop_ppm: maybe("drop_ppm", 1_000, 100_000) as Ppm,
            duplicate_ppm: maybe("duplicate_ppm", 1_000, 50_000) as Ppm,
            partition_weight: maybe("partition_weight", 1, 10) as u32,
            crash_weight: maybe("crash_weight", 1, 10) as u32,
            pause_weight: maybe("pause_weight", 1, 5) as u32,
            clog_weight: maybe("clog_weight", 1, 5) as u32,
            corrupt_weight: maybe("corrupt_weight", 1, 3) as u32,
            read_error_weight: maybe("read_error_weight", 1, 2) as u32,
            transfer_weight: maybe("transfer_weight", 1, 4) as u32,
            pause_apply_weight: maybe("pause_apply_weight", 1, 3) as u32,
            snapshot_weight: maybe("snapshot_weight", 1, 4) as u32,
            membership_weight,
            spare_nodes: if membership_weight > 0 {
                knob("spare_nodes").below(nodes.saturating_sub(1) / 2)
            } else {
                0
            },
            residual_partition: knob("residual_partition").below(4) == 0,
            nemesis_interval_us: knob("nemesis_interval_us").between(200_000, 1_500_000),
            torn_write_ppm: maybe("torn_write_ppm", 100_000, 900_000) as Ppm,
            slow_fsync_ppm: maybe("slow_fsync_ppm", 1_000, 50_000) as Ppm,
            slow_fsync_max_us: 300_000,
            clock_drift_ppm: maybe("clock_drift_ppm", 1_000, 100_000) as Ppm,
        };
        let mut weights = [0u32; 4];
        let mut rng = knob("operation_weights");
        for w in weights.iter_mut() {
            *w = rng.between(0, 10) as u32;
        }
        if weights.iter().all(|&w| w == 0) {
            weights[0] = 1;
        }
        let workload = Workload {
            clients: knob("clients").between(1, 6) as usize,
            keys: knob("keys").between(1, 4) as usize,
            think_min_us: 0,
            think_max_us: *knob("think_max_us").pick(&[5_000u64, 50_000, 200_000]),
            put_weight: weights[0],
            append_weight: weights[1],
            cas_weight: weights[2],
            get_weight: weights[3],
            attempt_timeout_us: 400_000,
            max_attempts: *knob("max_attempts").pick(&[8u32, 30]),
            read_index_gets: knob("read_index_gets").below(3) != 0,
        };
        SimConfig {
            seed,
            nodes,
            tick_us: 10_000,
            election_timeout_min_ticks: 15,
            election_timeout_max_ticks: 30,
            heartbeat_ticks: 4,
            max_entries_per_message: *knob("max_entries_per_message").pick(&[1usize, 8, 64]),
            max_inflight_messages: *knob("max_inflight_messages").pick(&[1usize, 4, 16]),
            latency,
            fsync_min_us: 100,
            fsync_max_us: knob("fsync_max_us").between(500, 5_000),
            faults,
            workload,
            chaos_us: 10_000_000,
            liveness_timeouts: 20,
        }
    }

    /// Switches every fault off (the network stays lossless and every disk stays healthy).
    pub fn without_faults(mut self) -> SimConfig {
        self.faults = Faults::none();
        self
    }

    /// Checks a configuration made by hand or by overrides.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=9).contains(&self.nodes) {
            return Err(format!("nodes must be 1..=9, got {}", self.nodes));
        }
        if self.faults.spare_nodes >= self.nodes {
            return Err(format!(
                "spare_nodes ({}) must leave at least one voter of {} nodes",
                self.faults.spare_nodes, self.nodes
            ));
        }
        if self.tick_us == 0 {
            return Err("tick_us must be positive".into());
        }
        if self.latency.min_us > self.latency.max_us {
            return Err("latency min above max".into());
        }
        if self.fsync_min_us > self.fsync_max_us {
            return Err("fsync min above max".into());
        }
        for (name, ppm) in [
            ("drop_ppm", self.faults.drop_ppm),
            ("duplicate_ppm", self.faults.duplicate_ppm),
            ("torn_write_ppm", self.faults.torn_write_ppm),
            ("slow_fsync_ppm", self.faults.slow_fsync_ppm),
            ("clock_drift_ppm", self.faults.clock_drift_ppm),
        ] {
            if ppm > 1_000_000 {
                return Err(format!("{name} is {ppm}, above 1,000,000 (100%)"));
            }
        }
        if self.faults.drop_ppm >= 1_000_000 {
            return Err("drop_ppm of 100% leaves no network".into());
        }
        let w = &self.workload;
        if w.keys == 0 {
            return Err("workload needs at least one key".into());
        }
        if w.put_weight + w.append_weight + w.cas_weight + w.get_weight == 0 && w.clients > 0 {
            return Err("workload weights are all zero".into());
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
            max_bytes_per_message: raft_core::Config::DEFAULT_MAX_BYTES_PER_MESSAGE,
            max_uncommitted_entries: raft_core::Config::DEFAULT_MAX_UNCOMMITTED_ENTRIES,
            pre_vote: true,
            check_quorum: true,
        }
        .validate()
        .map_err(|e| e.to_string())
    }

    /// The liveness bound after the faults stop.
    pub fn liveness_bound_us(&self) -> Micros {
        let drift = 1_000_000 + u64::from(self.faults.clock_drift_ppm);
        let timeout = u64::from(self.election_timeout_max_ticks) * self.tick_us * drift / 1_000_000;
        u64::from(self.liveness_timeouts) * timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_configurations_are_valid_and_vary() {
        let mut sizes = std::collections::BTreeSet::new();
        let mut drop_off = 0;
        for seed in 0..200 {
            let config = SimConfig::draw(seed);
            config.validate().unwrap();
            sizes.insert(config.nodes);
            if config.faults.drop_ppm == 0 {
                drop_off += 1;
            }
        }
        assert_eq!(sizes.into_iter().collect::<Vec<_>>(), vec![3, 5, 7]);
        assert!(
            drop_off > 20 && drop_off < 120,
            "drop switched off in {drop_off} of 200"
        );
    }

    #[test]
    fn the_same_seed_draws_the_same_configuration() {
        assert_eq!(SimConfig::draw(99), SimConfig::draw(99));
    }
}
