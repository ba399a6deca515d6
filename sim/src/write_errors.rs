//! Write and fsync errors as disk faults: which persists fail, and how. The schedule is part
//! of the explicit fault script (so a bundle replays it and the shrinker can drop it), but
//! it is drawn from streams of its own: how many errors a run holds from `config/write-errors`,
//! each error from `faults/write-errors` keyed by its number. Adding them left every
//! nemesis slot of every seed as it was.
//!
//! What a failure does to the disk and the node is the world's business
//! (`world/write_errors.rs`).

use crate::config::{Micros, SimConfig};
use crate::faults::{Fault, ScriptedFault, Target};
use crate::rng::Stream;
use raft_core::{WriteError, WriteErrorKind, WriteStage};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The most write errors a configuration may ask for.
pub const MAX_WRITE_ERRORS: u32 = 1_000;

/// How a persist fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteFailure {
    /// The write itself returns EIO: nothing of the persist reached the disk.
    WriteEio,
    /// The write returns ENOSPC: the disk is full.
    WriteEnospc,
    /// The fsync returns EIO: the kernel may have dropped the dirty pages.
    FsyncEio,
}

impl WriteFailure {
    /// The error the host reports to raft-core.
    pub fn error(self) -> WriteError {
        let (kind, stage) = match self {
            WriteFailure::WriteEio => (WriteErrorKind::Io, WriteStage::Write),
            WriteFailure::WriteEnospc => (WriteErrorKind::NoSpace, WriteStage::Write),
            WriteFailure::FsyncEio => (WriteErrorKind::Io, WriteStage::Fsync),
        };
        WriteError { kind, stage }
    }
}

impl fmt::Display for WriteFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WriteFailure::WriteEio => "write EIO",
            WriteFailure::WriteEnospc => "write ENOSPC",
            WriteFailure::FsyncEio => "fsync EIO",
        })
    }
}

/// How many write errors seed `seed` holds: none in seven seeds of eight, else 1 to 3.
/// Rare on purpose: every seed they strike runs differently from its first error on, and
/// with them in one seed of three or four, `late-transfer-abandoned` (whose schedule a
/// restart easily breaks) was first found past the hunt's 1,000 seeds.
pub fn draw_count(seed: u64) -> u32 {
    let mut rng = Stream::new(seed, "config/write-errors");
    if rng.below(8) != 0 {
        0
    } else {
        rng.between(1, 3) as u32
    }
}

/// The write errors of a run's fault script (unsorted): `config.faults.write_errors` of
/// them, at times within the chaos phase, each on a node or on the leader of the moment.
pub fn draw(config: &SimConfig) -> Vec<ScriptedFault> {
    let n = config.nodes;
    if n == 0 || config.chaos_us == 0 {
        return Vec::new();
    }
    let interval = config.faults.nemesis_interval_us;
    (0..u64::from(config.faults.write_errors))
        .map(|i| {
            let mut rng = Stream::keyed(config.seed, "faults/write-errors", &[i]);
            let at = rng.between(0, config.chaos_us - 1);
            let node = rng.below(n);
            let target = if rng.chance(400_000) {
                Target::Leader { fallback: node }
            } else {
                Target::Node(node)
            };
            let error = match rng.below(4) {
                0 => WriteFailure::WriteEio,
                1 => WriteFailure::WriteEnospc,
                _ => WriteFailure::FsyncEio,
            };
            let restart_after_us: Micros = rng.between(config.tick_us, interval * 2);
            ScriptedFault {
                at,
                fault: Fault::WriteError {
                    target,
                    error,
                    restart_after_us,
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_errors_strike_every_kind_and_the_leader_across_seeds_and_leave_other_slots_alone() {
        let (mut kinds, mut leader, mut runs) = (Vec::new(), false, 0);
        for seed in 0..200 {
            let config = SimConfig::draw(seed);
            let errors = draw(&config);
            assert_eq!(errors.len() as u32, config.faults.write_errors);
            runs += usize::from(!errors.is_empty());
            for f in &errors {
                assert!(f.at < config.chaos_us);
                let Fault::WriteError { target, error, .. } = f.fault else {
                    panic!("{:?}", f.fault);
                };
                leader |= matches!(target, Target::Leader { .. });
                if !kinds.contains(&error) {
                    kinds.push(error);
                }
            }
            // The nemesis's own slots are the same with or without write errors.
            let mut without = config.clone();
            without.faults.write_errors = 0;
            let others: Vec<_> = crate::faults::draw_script(&config)
                .into_iter()
                .filter(|f| !matches!(f.fault, Fault::WriteError { .. }))
                .collect();
            assert_eq!(others, crate::faults::draw_script(&without), "seed {seed}");
        }
        assert_eq!(kinds.len(), 3, "{kinds:?}");
        assert!(leader);
        assert!((12..=45).contains(&runs), "{runs} of 200 runs");
    }
}
