//! Clock faults: a node's clock changes its rate during the run (drift that changes over
//! time), jumps forward, or stalls — beyond the fixed per-node drift every run draws
//! (`Faults::clock_drift_ppm`). The schedule is part of the explicit fault script (a bundle
//! replays it, the shrinker can drop it), drawn from streams of its own: how many clock
//! faults a run holds from `config/clock-faults`, each one from `faults/clocks` keyed by its
//! number. Adding them left every nemesis slot of every seed as it was.
//!
//! What a fault does to the node's ticks is the world's business (`world/clocks.rs`); when
//! the faults stop every clock goes back to its drawn drift and no stall outlasts them, so
//! the liveness bound, computed from the configuration, still holds.

use crate::config::{Micros, SimConfig};
use crate::faults::{Fault, ScriptedFault};
use crate::rng::Stream;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The most clock faults a configuration may ask for.
pub const MAX_CLOCK_FAULTS: u32 = 1_000;

/// The furthest a changed clock rate is off its nominal tick, in ppm either way.
pub const MAX_RATE_PPM: i32 = 300_000;

/// What happens to a node's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClockChange {
    /// The clock's rate changes: from now on the node's tick is the nominal tick off by
    /// `ppm` (until the next change, or the end of the faults).
    Rate { ppm: i32 },
    /// The clock jumps forward by `ticks` ticks: the node is handed them all at once.
    Jump { ticks: u32 },
    /// The clock stands still for `for_us`: no tick, while messages are still handled.
    Stall { for_us: Micros },
}

impl fmt::Display for ClockChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClockChange::Rate { ppm } => write!(f, "rate {ppm:+}ppm"),
            ClockChange::Jump { ticks } => write!(f, "jump {ticks} ticks"),
            ClockChange::Stall { for_us } => write!(f, "stall {for_us}us"),
        }
    }
}

/// How many clock faults seed `seed` holds: none in five seeds of six, else 1 to 4.
pub fn draw_count(seed: u64) -> u32 {
    let mut rng = Stream::new(seed, "config/clock-faults");
    if rng.below(6) != 0 {
        0
    } else {
        rng.between(1, 4) as u32
    }
}

/// The clock faults of a run's fault script (unsorted): `config.faults.clock_faults` of
/// them, at times within the chaos phase, each on a node: a new rate within
/// ±[`MAX_RATE_PPM`], a jump of up to two maximum election timeouts, or a stall of up to two
/// nemesis intervals.
pub fn draw(config: &SimConfig) -> Vec<ScriptedFault> {
    let n = config.nodes;
    if n == 0 || config.chaos_us == 0 {
        return Vec::new();
    }
    let interval = config.faults.nemesis_interval_us;
    (0..u64::from(config.faults.clock_faults))
        .map(|i| {
            let mut rng = Stream::keyed(config.seed, "faults/clocks", &[i]);
            let at = rng.between(0, config.chaos_us - 1);
            let node = rng.below(n);
            let change = match rng.below(3) {
                0 => ClockChange::Rate {
                    ppm: rng.between(0, 2 * MAX_RATE_PPM as u64) as i32 - MAX_RATE_PPM,
                },
                1 => ClockChange::Jump {
                    ticks: rng.between(1, 2 * u64::from(config.election_timeout_max_ticks)) as u32,
                },
                _ => ClockChange::Stall {
                    for_us: rng.between(config.tick_us, interval * 2),
                },
            };
            ScriptedFault {
                at,
                fault: Fault::Clock { node, change },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_faults_of_every_kind_are_drawn_across_seeds_and_leave_other_slots_alone() {
        let (mut kinds, mut runs) = ([false; 3], 0);
        for seed in 0..200 {
            let config = SimConfig::draw(seed);
            let clocks = draw(&config);
            assert_eq!(clocks.len() as u32, config.faults.clock_faults);
            runs += usize::from(!clocks.is_empty());
            for f in &clocks {
                assert!(f.at < config.chaos_us);
                let Fault::Clock { change, .. } = f.fault else {
                    panic!("{:?}", f.fault);
                };
                kinds[match change {
                    ClockChange::Rate { ppm } => {
                        assert!(ppm.abs() <= MAX_RATE_PPM);
                        0
                    }
                    ClockChange::Jump { ticks } => {
                        assert!(ticks >= 1);
                        1
                    }
                    ClockChange::Stall { .. } => 2,
                }] = true;
            }
            let mut without = config.clone();
            without.faults.clock_faults = 0;
            let others: Vec<_> = crate::faults::draw_script(&config)
                .into_iter()
                .filter(|f| !matches!(f.fault, Fault::Clock { .. }))
                .collect();
            assert_eq!(others, crate::faults::draw_script(&without), "seed {seed}");
        }
        assert_eq!(kinds, [true; 3]);
        assert!((15..=55).contains(&runs), "{runs} of 200 runs");
    }
}
