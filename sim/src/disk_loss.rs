//! Disk loss as a fault: a node loses the volume that holds its log (the WAL and the
//! snapshot file) while the small files of its other volume (term/vote, peer state) survive —
//! a failed data disk in a machine whose system disk lives on. The schedule is part of the
//! explicit fault script (a bundle replays it, the shrinker can drop it), drawn from streams
//! of its own: how many losses a run holds from `config/disk-losses`, each loss from
//! `faults/disk-losses` keyed by its number. Adding them left every nemesis slot of every
//! seed as it was.
//!
//! Only this variant is drawn for voters. Raft's safety rests on a voter remembering two
//! things: its vote (or it may vote twice in a term) and the entries it acknowledged (or a
//! quorum that counted it may no longer hold a committed entry). Keeping the term/vote file
//! keeps the first; the second is kept by when the loss may strike (`world/disk_loss.rs`): only
//! while every entry the node acknowledged is held by a majority of the voters without it, as
//! an operator replaces one disk at a time and waits for the node to catch up. A voter that
//! loses its term/vote file too can only come back as a new member (a new identity); the
//! simulator's hosts keep theirs, so an empty disk is drawn only for a node that never voted
//! (`Fault::ReplaceObserverDisk`).

use crate::config::{Micros, SimConfig};
use crate::faults::{Fault, ScriptedFault, Target};
use crate::rng::Stream;

/// The most disk losses a configuration may ask for.
pub const MAX_DISK_LOSSES: u32 = 1_000;

/// How many disk losses seed `seed` holds: none in nine seeds of ten, else 1 or 2. Rare for
/// the same reason write errors are: every seed they strike runs differently from then on,
/// and a restart easily breaks the narrow schedules of the rarest planted bugs.
pub fn draw_count(seed: u64) -> u32 {
    let mut rng = Stream::new(seed, "config/disk-losses");
    if rng.below(10) != 0 {
        0
    } else {
        rng.between(1, 2) as u32
    }
}

/// The disk losses of a run's fault script (unsorted): `config.faults.disk_losses` of them,
/// at times within the chaos phase, each on a node or on the leader of the moment, which
/// boots again after a downtime of up to two nemesis intervals.
pub fn draw(config: &SimConfig) -> Vec<ScriptedFault> {
    let n = config.nodes;
    if n == 0 || config.chaos_us == 0 {
        return Vec::new();
    }
    let interval = config.faults.nemesis_interval_us;
    (0..u64::from(config.faults.disk_losses))
        .map(|i| {
            let mut rng = Stream::keyed(config.seed, "faults/disk-losses", &[i]);
            let at = rng.between(0, config.chaos_us - 1);
            let node = rng.below(n);
            let target = if rng.chance(300_000) {
                Target::Leader { fallback: node }
            } else {
                Target::Node(node)
            };
            let down_us: Micros = rng.between(config.tick_us, interval * 2);
            ScriptedFault {
                at,
                fault: Fault::LoseLog { target, down_us },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_losses_strike_nodes_and_the_leader_across_seeds_and_leave_other_slots_alone() {
        let (mut leader, mut runs) = (false, 0);
        for seed in 0..200 {
            let config = SimConfig::draw(seed);
            let losses = draw(&config);
            assert_eq!(losses.len() as u32, config.faults.disk_losses);
            runs += usize::from(!losses.is_empty());
            for f in &losses {
                assert!(f.at < config.chaos_us);
                let Fault::LoseLog { target, .. } = f.fault else {
                    panic!("{:?}", f.fault);
                };
                leader |= matches!(target, Target::Leader { .. });
            }
            // The nemesis's own slots are the same with or without disk losses.
            let mut without = config.clone();
            without.faults.disk_losses = 0;
            let others: Vec<_> = crate::faults::draw_script(&config)
                .into_iter()
                .filter(|f| !matches!(f.fault, Fault::LoseLog { .. }))
                .collect();
            assert_eq!(others, crate::faults::draw_script(&without), "seed {seed}");
        }
        assert!(leader);
        assert!((8..=40).contains(&runs), "{runs} of 200 runs");
    }
}
