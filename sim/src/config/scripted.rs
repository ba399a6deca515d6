//! The base configuration of scripted scenarios, every knob stated.
//!
//! Scenarios used to start from what seed 1 drew with the faults off, so a knob added to the
//! draw, or drawn differently, changed every scenario (a 0-byte log cache once stalled every
//! catch-up scenario). These are the values seed 1 drew when the golden traces were recorded.

use super::{Faults, Latency, SimConfig, StateMachine, StreamSetup, Workload};
use state_machines::stream::StreamConfig;

impl SimConfig {
    /// Seven nodes on a fast lossless network with healthy disks, no log cache and no
    /// compaction; a scenario's setup narrows it (node count, timeouts, message limits).
    pub fn scripted() -> SimConfig {
        SimConfig {
            seed: 1,
            nodes: 7,
            tick_us: 10_000,
            election_timeout_min_ticks: 15,
            election_timeout_max_ticks: 30,
            heartbeat_ticks: 4,
            max_entries_per_message: 1,
            max_inflight_messages: 1,
            latency: Latency {
                min_us: 500,
                max_us: 3_000,
                tail_ppm: 0,
                tail_max_us: 0,
            },
            fsync_min_us: 100,
            fsync_max_us: 2_988,
            faults: Faults::none(),
            workload: Workload {
                clients: 5,
                keys: 4,
                think_min_us: 0,
                think_max_us: 50_000,
                put_weight: 3,
                append_weight: 4,
                cas_weight: 9,
                get_weight: 2,
                attempt_timeout_us: 400_000,
                max_attempts: 8,
                read_index_gets: false,
                forward_requests: true,
                sticky_readers: None,
            },
            chaos_us: 10_000_000,
            liveness_timeouts: 20,
            state_machine: StateMachine::Kv,
            stream: StreamSetup {
                limits: StreamConfig {
                    max_msgs: 20,
                    dedupe_window: 100_000,
                    max_batch: 6,
                    max_open_batches: 8,
                    batch_timeout_us: 2_000_000,
                },
                subjects: 3,
                publish_weight: 1,
                batch_weight: 1,
                get_weight: 1,
                last_weight: 0,
                batch_max_msgs: 7,
                duplicate_ppm: 198_459,
                expect_ppm: 33_012,
                rollup_ppm: 27_439,
            },
            // A leader steps down past 28 uncommitted entries (the overrun rule): scenarios
            // that need more ask for it (`Setup::max_uncommitted_entries`).
            overrun_threshold: 28,
            pre_vote_check_quorum: true,
            compaction: None,
            log_cache: None,
        }
    }
}
