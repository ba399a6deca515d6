//! Clock faults at the host ([`crate::faults::Fault::Clock`], drawn by `crate::clocks`): a
//! node's tick interval changes, its clock jumps forward (the ticks it skipped are handed to
//! the node at once, as a host whose timer fires late catches up), or it stalls (no tick,
//! messages still handled).
//!
//! *Invariant:* when the faults stop, every clock is back at its drawn drift and no stall
//! outlasts them (`restore_clock`), so the liveness bound needs nothing more. The checkers
//! are told of each change (a faster tick shortens how long a leader's transfer may keep it
//! quiet; a jump may end it at once).

use super::events::Event;
use super::World;
use crate::app::Application;
use crate::clocks::ClockChange;
use crate::config::Micros;
use crate::event;

/// A host's clock: the tick it was drawn with and a stall in progress.
#[derive(Clone, Copy, Debug)]
pub(super) struct Clock {
    /// The tick with the run's drawn drift, which a rate change replaces for a while.
    pub(super) drawn_tick_us: Micros,
    /// No tick before this time (0: no stall).
    pub(super) stalled_until: Micros,
}

impl Clock {
    pub(super) fn new(tick_us: Micros) -> Clock {
        Clock {
            drawn_tick_us: tick_us,
            stalled_until: 0,
        }
    }
}

impl<A: Application> World<A> {
    /// A [`crate::faults::Fault::Clock`] fires.
    pub(super) fn clock_fault(&mut self, node: usize, change: ClockChange) {
        let now = self.now;
        match change {
            ClockChange::Rate { ppm } => {
                let nominal = self.config.tick_us as i64;
                let tick_us = (nominal * (1_000_000 + i64::from(ppm)) / 1_000_000).max(1) as Micros;
                self.hosts[node].tick_us = tick_us;
                self.checks.clock_rate(node, tick_us);
            }
            ClockChange::Stall { for_us } => {
                let clock = &mut self.hosts[node].clock;
                clock.stalled_until = clock.stalled_until.max(now + for_us);
            }
            ClockChange::Jump { ticks } => {
                self.checks.clock_jumped(node, now);
                if self.hosts[node].running().is_some() {
                    for _ in 0..ticks {
                        self.tick_once(node);
                    }
                }
            }
        }
        self.stats.fault(match change {
            ClockChange::Rate { .. } => "clock-rate",
            ClockChange::Jump { .. } => "clock-jump",
            ClockChange::Stall { .. } => "clock-stall",
        });
        let what = format!("clock {change}");
        self.record(event!(now, Some(node), "fault", what = what));
    }

    /// Whether `node`'s clock stands still now; if so the tick is skipped and the clock
    /// looked at again a tick later (so that a stall the end of the faults cuts short ends
    /// at once).
    pub(super) fn tick_stalled(&mut self, node: usize, incarnation: u64) -> bool {
        let host = &self.hosts[node];
        if self.now >= host.clock.stalled_until {
            return false;
        }
        let next = self.now + host.tick_us;
        self.schedule(next, Event::Tick { node, incarnation });
        true
    }

    /// The faults stopped: the clock goes back to its drawn drift, and a stall ends.
    pub(super) fn restore_clock(&mut self, node: usize) {
        let host = &mut self.hosts[node];
        host.tick_us = host.clock.drawn_tick_us;
        host.clock.stalled_until = 0;
    }
}
