//! A run's configuration. Swarm testing: the seed draws the configuration itself (cluster
//! size, latency, which fault kinds are on and how often, workload mix), so a sweep explores
//! many different worlds, not one world with many seeds. Every knob can be overridden.

use crate::rng::{Ppm, Stream};
use serde::{Deserialize, Serialize};

/// Virtual time in microseconds.
pub type Micros = u64;

/// Largest cluster a run simulates.
pub const MAX_NODES: usize = 9;
/// Most simulated clients.
pub const MAX_CLIENTS: usize = 64;
/// Longest chaos phase (one virtual hour), and longest liveness bound: a run's memory grows
/// with its length.
pub const MAX_CHAOS_US: Micros = 3_600_000_000;
/// Longest single delay (a latency, an fsync, a think time, a client's attempt): one virtual
/// minute.
pub const MAX_DELAY_US: Micros = 60_000_000;
/// Longest tick: one virtual second.
pub const MAX_TICK_US: Micros = 1_000_000;
/// Shortest mean gap between nemesis actions (the script is drawn up front: a shorter gap
/// over a long chaos phase would draw millions of faults).
pub const MIN_NEMESIS_INTERVAL_US: Micros = 10_000;
/// Largest relative weight of a fault or an operation kind (weights are summed).
pub const MAX_WEIGHT: u32 = 1_000;
pub const MAX_KEYS: usize = 1_000;
pub const MAX_ATTEMPTS: u32 = 1_000;
pub const MAX_TIMEOUT_TICKS: u32 = 100_000;
pub const MAX_LIVENESS_TIMEOUTS: u32 = 1_000;
pub const MAX_INFLIGHT_MESSAGES: usize = 1 << 16;

/// A configuration value out of bounds: the field by its path in a bundle's `config`
/// (`faults.drop_ppm`), and what is wrong with it. The command line maps the field to the
/// flag that set it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub field: &'static str,
    pub problem: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.field, self.problem)
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for String {
    fn from(e: ConfigError) -> String {
        e.to_string()
    }
}

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
    /// Chance that the operator's tool asks a follower for a removal instead of the leader,
    /// and the follower forwards it (NRG `ProposeRemovePeer` on a follower). Absent in
    /// bundles written before forwarded removals were in the mix.
    #[serde(default)]
    pub forward_removal_ppm: Ppm,
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
    /// Chance that the run has a disaster ([`crate::faults::Fault::Disaster`]): a majority
    /// of the voters lost for good, recovered with a rescued quorum. Absent in bundles
    /// written before disasters were in the mix.
    #[serde(default)]
    pub disaster_ppm: Ppm,
    /// The fault atlas may destroy every copy of committed entries: each disk-damage strike
    /// hits every node at once and then restarts them all. A correct cluster then halts
    /// (its nodes keep refusing the logs that lack what they held) and says so; it never
    /// serves a log that lost a committed entry. Off: the atlas keeps an intact copy of
    /// every committed entry (a majority of the voters undamaged).
    #[serde(default)]
    pub damage_every_copy: bool,
    /// How many write or fsync errors (EIO, ENOSPC) strike during the chaos phase, each at a
    /// time and on a node drawn from a stream of its own (`faults/write-errors`, see
    /// `crate::write_errors`), outside the nemesis's weighted slots. Absent in bundles
    /// written before write errors were modelled: none.
    #[serde(default)]
    pub write_errors: u32,
    /// How many times a node loses the disk holding its log (the WAL and the snapshot file)
    /// while its term/vote and peer-state files survive, during the chaos phase, each at a
    /// time and on a node drawn from a stream of its own (`crate::disk_loss`). A loss strikes
    /// only while every entry the node acknowledged is held by a majority of the voters
    /// without it (`world/disk_loss.rs`). Absent in bundles written before disk losses were
    /// modelled: none.
    #[serde(default)]
    pub disk_losses: u32,
    /// How many clock faults (a node's clock changes its rate, jumps forward or stalls)
    /// strike during the chaos phase, each at a time and on a node drawn from a stream of its
    /// own (`crate::clocks`); every clock is back at its drawn drift when the faults stop.
    /// Absent in bundles written before clock faults were modelled: none.
    #[serde(default)]
    pub clock_faults: u32,
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
            forward_removal_ppm: 0,
            spare_nodes: 0,
            residual_partition: false,
            nemesis_interval_us: 1_000_000,
            torn_write_ppm: 0,
            slow_fsync_ppm: 0,
            slow_fsync_max_us: 0,
            clock_drift_ppm: 0,
            disaster_ppm: 0,
            damage_every_copy: false,
            write_errors: 0,
            disk_losses: 0,
            clock_faults: 0,
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
    /// A follower that knows a leader forwards a client's request to it (NRG
    /// `ForwardProposal`) instead of redirecting the client, and answers once it applies the
    /// entry (key-value store only: its sessions let any copy of an entry answer). Absent in
    /// bundles written before forwarding was in the mix.
    #[serde(default)]
    pub forward_requests: bool,
    /// Readers that stick to a node (connection affinity), if any. Absent in bundles written
    /// before sticky readers were in the mix: then no client sticks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticky_readers: Option<StickyReaders>,
}

/// Clients with connection affinity for their reads: after a read succeeds at a node, the
/// client sends its reads to that node for a drawn while, even when the node was deposed or
/// cut off since (it does not follow a redirect or move on at a timeout), as real clients
/// reading over the connection where they last succeeded do. Their writes look for the
/// leader as every client's do. This is what puts a deposed or isolated leader's reads in
/// the history while other clients write through the new leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StickyReaders {
    /// How many clients stick: the lowest-numbered ones (all of them when there are fewer).
    pub clients: usize,
    /// How long after a successful read a client keeps reading at its node, drawn for each
    /// successful read between these (`workload/stick`, keyed by the client and the
    /// operation).
    pub hold_min_us: Micros,
    pub hold_max_us: Micros,
}

impl StickyReaders {
    /// Drawn from a stream of its own (`config/sticky-readers`), so the other knobs of every
    /// seed stay as they were: about two seeds in three have sticky readers, half of the
    /// clients or more (a deposed leader's reads are rare: it must not know it was deposed,
    /// which takes a partition without CheckQuorum or a stalled clock, and a reader must be
    /// there then).
    pub fn draw(seed: u64, clients: usize) -> Option<StickyReaders> {
        let mut rng = Stream::new(seed, "config/sticky-readers");
        let clients = clients as u64;
        (rng.below(3) != 0)
            .then(|| StickyReaders::some(rng.between(clients.div_ceil(2), clients) as usize))
    }

    /// `config` with `clients` sticky readers (0: none), keeping the drawn stays if any.
    pub fn set(config: &mut SimConfig, clients: usize) {
        let drawn = config.workload.sticky_readers;
        config.workload.sticky_readers = (clients > 0).then(|| StickyReaders {
            clients,
            ..drawn.unwrap_or(StickyReaders::some(clients))
        });
    }

    /// `clients` sticky readers with the usual stays: half a second (a few heartbeats) to
    /// four seconds (past a partition's usual length, so a reader outlasts a failover).
    pub fn some(clients: usize) -> StickyReaders {
        StickyReaders {
            clients,
            hold_min_us: 500_000,
            hold_max_us: 4_000_000,
        }
    }
}

/// The state machine the hosts run on top of Raft.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateMachine {
    /// The key-value store (`sim::app::kv`).
    #[default]
    Kv,
    /// The JetStream-like stream with atomic batch publish (`sim::stream`).
    Stream,
}

impl StateMachine {
    pub fn name(self) -> &'static str {
        match self {
            StateMachine::Kv => "kv",
            StateMachine::Stream => "stream",
        }
    }

    pub fn from_name(name: &str) -> Option<StateMachine> {
        match name {
            "kv" => Some(StateMachine::Kv),
            "stream" => Some(StateMachine::Stream),
            _ => None,
        }
    }
}

/// The stream's configuration and its clients' mix (used when the state machine is the
/// stream).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamSetup {
    /// The stream's limits, de-duplication window and batch limits.
    pub limits: state_machines::stream::StreamConfig,
    /// Subjects the clients publish to (`s0`, `s1`, ...).
    pub subjects: u64,
    /// Relative weights: single publish, atomic batch, get by sequence, last by subject.
    pub publish_weight: u32,
    pub batch_weight: u32,
    pub get_weight: u32,
    pub last_weight: u32,
    /// Messages in a batch: 2 up to this many (above `limits.max_batch`, the staging
    /// refuses it).
    pub batch_max_msgs: u32,
    /// Share of publishes that reuse a `Nats-Msg-Id` the client published before (a
    /// duplicate the window should catch), that carry an expectation header, and that roll
    /// the subject up.
    pub duplicate_ppm: Ppm,
    pub expect_ppm: Ppm,
    pub rollup_ppm: Ppm,
}

impl Default for StreamSetup {
    fn default() -> StreamSetup {
        StreamSetup {
            limits: state_machines::stream::StreamConfig::default(),
            subjects: 3,
            publish_weight: 4,
            batch_weight: 3,
            get_weight: 2,
            last_weight: 1,
            batch_max_msgs: 4,
            duplicate_ppm: 150_000,
            expect_ppm: 200_000,
            rollup_ppm: 30_000,
        }
    }
}

impl StreamSetup {
    /// Drawn from its own stream (`config/state-machine`), so the key-value runs' draws
    /// stay as they were.
    fn draw(rng: &mut Stream) -> StreamSetup {
        let max_batch = rng.between(3, 6) as u32;
        StreamSetup {
            limits: state_machines::stream::StreamConfig {
                max_msgs: *rng.pick(&[20u64, 200, 100_000]),
                dedupe_window: *rng.pick(&[1_000u64, 100_000]),
                max_batch,
                max_open_batches: rng.between(2, 8) as u32,
                batch_timeout_us: *rng.pick(&[300_000u64, 2_000_000]),
            },
            subjects: rng.between(1, 4),
            publish_weight: rng.between(1, 6) as u32,
            batch_weight: rng.between(1, 6) as u32,
            get_weight: rng.between(0, 3) as u32,
            last_weight: rng.between(0, 3) as u32,
            batch_max_msgs: max_batch + rng.below(2) as u32,
            duplicate_ppm: rng.between(20_000, 300_000) as Ppm,
            expect_ppm: rng.between(0, 400_000) as Ppm,
            rollup_ppm: rng.between(0, 60_000) as Ppm,
        }
    }
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
    /// What the hosts run on top of Raft. Absent in bundles written before the stream.
    #[serde(default)]
    pub state_machine: StateMachine,
    /// The stream's configuration and workload (when `state_machine` is the stream).
    #[serde(default)]
    pub stream: StreamSetup,
    /// The nodes' overrun threshold (`raft_core::Config::max_uncommitted_entries`, NRG's
    /// 100,000 by default): small ones make overrun leaders step down and overrun
    /// followers pause their quorum. Absent in bundles written before overrun was in the
    /// mix.
    #[serde(default = "default_overrun_threshold")]
    pub overrun_threshold: u64,
    /// Raft's PreVote and CheckQuorum (with leader stickiness), both on or both off. Off, as
    /// NRG (no PreVote), raft-rs and older etcd ship, a leader no longer ignores a
    /// disruptive higher term, so bugs in how nodes react to one are exercised; and liveness
    /// is checked on a fully healed network only (`Faults::residual_partition` is not
    /// applied): without PreVote a partial partition may legitimately keep a cluster
    /// electing forever (the Cloudflare 2020 outage). Absent in bundles written before the
    /// knob: on.
    #[serde(default = "on")]
    pub pre_vote_check_quorum: bool,
    /// Snapshot-heavy runs (`None`: the application snapshots only when the nemesis says).
    /// Absent in bundles written before the knob: none.
    #[serde(default)]
    pub compaction: Option<Compaction>,
    /// A bounded log cache on every node, and read errors of the leader's log reads
    /// (`crate::log_read_errors`). Absent in bundles written before the knob: none.
    #[serde(default)]
    pub log_cache: Option<LogCache>,
}

/// A bounded log cache: each node keeps at most `bytes` of entry payloads in memory
/// (`raft_core::Config::log_cache_bytes`), so a leader catching a follower up reads the
/// payloads back from its simulated WAL; each such read fails with probability
/// `read_error_ppm` (an EIO), and a read of a damaged WAL fails too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogCache {
    pub bytes: usize,
    pub read_error_ppm: Ppm,
}

/// Aggressive compaction: the application snapshots as soon as `every_entries` entries
/// were applied past its last snapshot, so logs stay short and lagging or divergent
/// followers are caught up by snapshot; and messages carry at most `max_bytes_per_message`
/// bytes (`raft_core::Config::max_bytes_per_message`), so a snapshot travels in many chunks,
/// each delayed, lost, duplicated and reordered like any message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compaction {
    pub every_entries: u64,
    pub max_bytes_per_message: usize,
}

fn default_overrun_threshold() -> u64 {
    raft_core::Config::DEFAULT_MAX_UNCOMMITTED_ENTRIES
}

fn on() -> bool {
    true
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
        // From a stream of its own too: about one seed in five runs without PreVote and
        // CheckQuorum.
        let pre_vote_check_quorum = Stream::new(seed, "config/raft-extensions").below(5) != 0;
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
            // From a stream of its own: about one seed with membership changes in two.
            forward_removal_ppm: if Stream::new(seed, "config/forward-removal").below(2) == 0 {
                500_000
            } else {
                0
            },
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
            // About one seed in ten has a disaster, when CheckQuorum is on: a rescue is for
            // a leaderless group, and without CheckQuorum a leader that lost its majority
            // for good never learns it and never steps down (NRG's leader does: it checks
            // its quorum), so no rescue could start.
            disaster_ppm: if pre_vote_check_quorum && knob("disaster").below(10) == 0 {
                1_000_000
            } else {
                0
            },
            damage_every_copy: false,
            write_errors: crate::write_errors::draw_count(seed),
            disk_losses: crate::disk_loss::draw_count(seed),
            clock_faults: crate::clocks::draw_count(seed),
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
            forward_requests: false,
            sticky_readers: None,
        };
        // From a stream of its own, so that adding the stream left every other draw as it
        // was: about one seed in four runs the stream.
        let mut app_rng = Stream::new(seed, "config/state-machine");
        let state_machine = if app_rng.below(4) == 0 {
            StateMachine::Stream
        } else {
            StateMachine::Kv
        };
        let stream = StreamSetup::draw(&mut app_rng);
        // About one key-value seed in three forwards requests.
        let mut workload = workload;
        workload.forward_requests =
            state_machine == StateMachine::Kv && knob("forwarding").below(3) == 0;
        workload.sticky_readers = StickyReaders::draw(seed, workload.clients);
        // About one seed in five has an overrun threshold low enough to be reached.
        let mut overrun_rng = knob("overrun");
        let overrun_threshold = if overrun_rng.below(5) == 0 {
            overrun_rng.between(16, 64)
        } else {
            default_overrun_threshold()
        };
        // About one seed in six is snapshot-heavy.
        let mut compaction_rng = knob("compaction");
        let compaction = (compaction_rng.below(6) == 0).then(|| Compaction {
            every_entries: compaction_rng.between(4, 32),
            // Small chunks (hundreds of them for one snapshot) give duplicated and late
            // chunk answers the most room to multiply the transfer.
            max_bytes_per_message: *compaction_rng.pick(&[64usize, 256, 1024, 4096]),
        });
        SimConfig {
            compaction,
            log_cache: crate::log_read_errors::draw(seed),
            pre_vote_check_quorum,
            state_machine,
            stream,
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
            overrun_threshold,
        }
    }

    /// Switches every fault off (the network stays lossless and every disk stays healthy).
    pub fn without_faults(mut self) -> SimConfig {
        self.faults = Faults::none();
        if let Some(cache) = self.log_cache.as_mut() {
            cache.read_error_ppm = 0;
        }
        self
    }

    /// The most data bytes a message carries (and so a snapshot chunk's size).
    pub fn max_bytes_per_message(&self) -> usize {
        self.compaction
            .map_or(raft_core::Config::DEFAULT_MAX_BYTES_PER_MESSAGE, |c| {
                c.max_bytes_per_message
            })
    }

    /// The entries one append can be counted on to carry: `max_entries_per_message`, or one
    /// when the byte limit is small enough to cut appends short (a snapshot-heavy run).
    pub fn entries_per_message(&self) -> usize {
        if self.compaction.is_some() {
            1
        } else {
            self.max_entries_per_message.max(1)
        }
    }

    /// The liveness bound after the faults stop.
    pub fn liveness_bound_us(&self) -> Micros {
        let drift = 1_000_000 + u64::from(self.faults.clock_drift_ppm);
        let timeout = (u128::from(self.election_timeout_max_ticks)
            * u128::from(self.tick_us)
            * u128::from(drift)
            / 1_000_000) as u64;
        u64::from(self.liveness_timeouts).saturating_mul(timeout)
    }

    /// The time a leader needs, beyond `liveness_bound_us`, to replicate `backlog` entries
    /// that were appended but not committed when the faults stopped: a new write commits only
    /// after them, and the pipeline carries at most `entries_per_message()` entries in each
    /// of `max_inflight_messages` messages per round trip (two latencies and an fsync). With
    /// one entry per message and one in flight over a slow network a backlog of a hundred
    /// entries takes several seconds (held-out seed 1078: 148 entries at 45 ms each).
    pub fn backlog_allowance_us(&self, backlog: u64) -> Micros {
        let per_round = (self.entries_per_message() as u64)
            .saturating_mul(self.max_inflight_messages as u64)
            .max(1);
        let rounds = backlog.div_ceil(per_round);
        let round_trip = self
            .latency
            .max_us
            .saturating_mul(2)
            .saturating_add(self.fsync_max_us);
        rounds.saturating_mul(round_trip)
    }

    /// The time a leader needs to send a snapshot of `bytes` bytes to a follower: one chunk
    /// of `max_bytes_per_message()` bytes in flight per follower, so one round trip per
    /// chunk, at the pace `backlog_allowance_us` assumes (two of the largest latencies and
    /// the slowest fsync; a chunk or answer caught in the latency tail is resent at the next
    /// heartbeat, which the bound's own slack covers). With 64-byte chunks over a slow
    /// network a stream's snapshot of 13 kB takes 17 s at that pace, and about 9 s in
    /// practice (held-out seed 2983). Nothing when `bytes` is 0.
    pub fn snapshot_transfer_us(&self, bytes: u64) -> Micros {
        if bytes == 0 {
            return 0;
        }
        let chunk = (self.max_bytes_per_message() as u64).max(1);
        let round_trip = self
            .latency
            .max_us
            .saturating_mul(2)
            .saturating_add(self.fsync_max_us);
        bytes.div_ceil(chunk).saturating_mul(round_trip)
    }
}

mod scripted;
mod validate;

#[cfg(test)]
mod tests;
