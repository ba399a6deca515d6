//! The virtual network between nodes: latency, loss, duplication, reordering (through latency),
//! partitions of every shape, and clogged links. One module owns every network fault.
//!
//! The network decides how a message fares from what it is (the link, the topology, clogs)
//! and from one random draw per message ([`FateDraw`]), which the world takes from the run's
//! decisions (`crate::decisions`): drawn by [`Network::draw_fate`] from the message's own
//! generator, or replayed from a bundle.

use crate::config::{Latency, Micros};
use crate::decisions::FateDraw;
use crate::rng::{Ppm, Stream};
use std::fmt;

/// A connectivity shape imposed by the nemesis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Topology {
    /// Everyone reaches everyone.
    Full,
    /// Two sides that cannot talk to each other.
    Split { side_a: Vec<usize> },
    /// One node cut off from all others, both ways.
    Isolate { node: usize },
    /// Messages from `from` to `to` are lost; the reverse direction works.
    OneWay { from: usize, to: usize },
    /// Two sides that cannot talk, and a bridge node that talks to both (the Cloudflare 2020
    /// etcd outage shape).
    Bridge { side_a: Vec<usize>, bridge: usize },
}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[usize]| {
            v.iter()
                .map(|n| format!("n{n}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        match self {
            Topology::Full => write!(f, "full"),
            Topology::Split { side_a } => write!(f, "split[{}]", list(side_a)),
            Topology::Isolate { node } => write!(f, "isolate[n{node}]"),
            Topology::OneWay { from, to } => write!(f, "one-way[n{from}->n{to}]"),
            Topology::Bridge { side_a, bridge } => {
                write!(f, "bridge[{}|n{bridge}]", list(side_a))
            }
        }
    }
}

/// The delays of a message's deliveries: one, or two when the network duplicates it. Inline
/// rather than a `Vec`, because every message sent gets one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delays {
    len: u8,
    delays: [Micros; 2],
}

impl Delays {
    fn one(delay: Micros) -> Delays {
        Delays {
            len: 1,
            delays: [delay, 0],
        }
    }

    fn duplicate(&mut self, delay: Micros) {
        debug_assert_eq!(self.len, 1);
        self.delays[1] = delay;
        self.len = 2;
    }
}

impl std::ops::Deref for Delays {
    type Target = [Micros];
    fn deref(&self) -> &[Micros] {
        &self.delays[..self.len as usize]
    }
}

/// What happened to one sent message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Delivered once or more, after these delays.
    Deliver(Delays),
    /// Lost on the wire.
    Dropped,
    /// The link is partitioned.
    Partitioned,
}

/// The network model. It decides fates; the world schedules the deliveries.
#[derive(Clone, Debug)]
pub struct Network {
    nodes: usize,
    /// `reachable[from * nodes + to]`.
    reachable: Vec<bool>,
    /// Clogged links hold messages until this time.
    clogged_until: Vec<Micros>,
    pub topology: Topology,
    pub latency: Latency,
    pub drop_ppm: Ppm,
    pub duplicate_ppm: Ppm,
}

impl Network {
    pub fn new(nodes: usize, latency: Latency, drop_ppm: Ppm, duplicate_ppm: Ppm) -> Network {
        Network {
            nodes,
            reachable: vec![true; nodes * nodes],
            clogged_until: vec![0; nodes * nodes],
            topology: Topology::Full,
            latency,
            drop_ppm,
            duplicate_ppm,
        }
    }

    pub fn set_topology(&mut self, topology: Topology) {
        let n = self.nodes;
        let mut reachable = vec![true; n * n];
        let mut cut = |a: usize, b: usize| {
            if a < n && b < n && a != b {
                reachable[a * n + b] = false;
            }
        };
        match &topology {
            Topology::Full => {}
            Topology::Split { side_a } => {
                for a in 0..n {
                    for b in 0..n {
                        if side_a.contains(&a) != side_a.contains(&b) {
                            cut(a, b);
                        }
                    }
                }
            }
            Topology::Isolate { node } => {
                for other in 0..n {
                    cut(*node, other);
                    cut(other, *node);
                }
            }
            Topology::OneWay { from, to } => cut(*from, *to),
            Topology::Bridge { side_a, bridge } => {
                for a in 0..n {
                    for b in 0..n {
                        let crossing = side_a.contains(&a) != side_a.contains(&b);
                        if crossing && a != *bridge && b != *bridge {
                            cut(a, b);
                        }
                    }
                }
            }
        }
        self.reachable = reachable;
        self.topology = topology;
    }

    /// Full connectivity, and no link holds new messages; what a clog already holds arrives
    /// at its release (the nemesis never lets a clog outlast the faults).
    pub fn heal(&mut self) {
        self.set_topology(Topology::Full);
        self.clogged_until.fill(0);
    }

    /// Holds every message on the link `from -> to` until `until`, then releases them.
    pub fn clog(&mut self, from: usize, to: usize, until: Micros) {
        self.clogged_until[from * self.nodes + to] = until;
    }

    pub fn is_reachable(&self, from: usize, to: usize) -> bool {
        self.reachable[from * self.nodes + to]
    }

    /// What happens to a message sent now on `from -> to` that fared as `draw` (see
    /// [`Network::draw_fate`]): cut by a partition, lost, or delivered once or twice, a
    /// clogged link holding it until it is released.
    pub fn fate(&self, from: usize, to: usize, now: Micros, draw: FateDraw) -> Fate {
        if !self.is_reachable(from, to) {
            return Fate::Partitioned;
        }
        if draw.dropped {
            return Fate::Dropped;
        }
        let release = self.clogged_until[from * self.nodes + to].saturating_sub(now);
        let mut delays = Delays::one(release + draw.latency);
        if let Some(latency) = draw.duplicate {
            delays.duplicate(release + latency);
        }
        Fate::Deliver(delays)
    }

    /// One message's random draw: lost or not, its latency, and a duplicate's. Every part is
    /// drawn whatever the others came to, so each keeps its value when another changes.
    pub fn draw_fate(&self, rng: &mut Stream) -> FateDraw {
        let dropped = rng.chance(self.drop_ppm);
        let latency = self.sample_latency(rng);
        let duplicated = rng.chance(self.duplicate_ppm);
        let duplicate_latency = self.sample_latency(rng);
        FateDraw {
            dropped,
            latency,
            duplicate: duplicated.then_some(duplicate_latency),
        }
    }

    /// A draw as the network now lets it happen: no loss or duplication once they have
    /// stopped (a replayed draw may come from before).
    pub fn allow(&self, draw: FateDraw) -> FateDraw {
        FateDraw {
            dropped: draw.dropped && self.drop_ppm > 0,
            latency: draw.latency,
            duplicate: draw.duplicate.filter(|_| self.duplicate_ppm > 0),
        }
    }

    /// A client <-> node hop: latency only (clients sit next to the cluster).
    pub fn client_latency(&self, rng: &mut Stream) -> Micros {
        self.sample_latency(rng)
    }

    fn sample_latency(&self, rng: &mut Stream) -> Micros {
        let l = &self.latency;
        let tail = rng.chance(l.tail_ppm);
        let slow = rng.between(l.max_us, l.tail_max_us.max(l.max_us));
        let normal = rng.between(l.min_us, l.max_us);
        if tail {
            slow
        } else {
            normal
        }
    }

    /// Switches message loss and duplication off (the faults stop for the liveness phase).
    pub fn stop_loss_and_duplication(&mut self) {
        self.drop_ppm = 0;
        self.duplicate_ppm = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(n: usize) -> Network {
        let latency = Latency {
            min_us: 10,
            max_us: 20,
            tail_ppm: 0,
            tail_max_us: 0,
        };
        Network::new(n, latency, 0, 0)
    }

    fn after(latency: Micros) -> FateDraw {
        FateDraw {
            dropped: false,
            latency,
            duplicate: None,
        }
    }

    #[test]
    fn bridge_node_sees_both_sides() {
        let mut net = network(5);
        net.set_topology(Topology::Bridge {
            side_a: vec![0, 1],
            bridge: 2,
        });
        assert!(net.is_reachable(0, 2) && net.is_reachable(2, 4) && net.is_reachable(4, 2));
        assert!(!net.is_reachable(0, 3) && !net.is_reachable(4, 1));
        assert!(net.is_reachable(3, 4) && net.is_reachable(0, 1));
    }

    #[test]
    fn one_way_partition_cuts_one_direction() {
        let mut net = network(3);
        net.set_topology(Topology::OneWay { from: 0, to: 1 });
        assert!(!net.is_reachable(0, 1));
        assert!(net.is_reachable(1, 0));
        assert_eq!(net.fate(0, 1, 0, after(10)), Fate::Partitioned);
    }

    #[test]
    fn clogged_link_holds_until_release() {
        let mut net = network(2);
        net.clog(0, 1, 1_000);
        match net.fate(0, 1, 100, after(15)) {
            Fate::Deliver(delays) => assert_eq!(delays[0], 915),
            other => panic!("unexpected {other:?}"),
        }
        net.heal();
        match net.fate(0, 1, 100, after(15)) {
            Fate::Deliver(delays) => assert_eq!(delays[0], 15),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn split_cuts_across_sides_only() {
        let mut net = network(4);
        net.set_topology(Topology::Split { side_a: vec![0, 3] });
        assert!(net.is_reachable(0, 3) && net.is_reachable(1, 2));
        assert!(!net.is_reachable(0, 1) && !net.is_reachable(2, 3));
    }

    #[test]
    fn drawn_fates_follow_the_rates_and_stop_with_the_faults() {
        let mut net = network(2);
        net.drop_ppm = 500_000;
        net.duplicate_ppm = 250_000;
        let draws: Vec<FateDraw> = (0..4_000)
            .map(|i| net.draw_fate(&mut Stream::keyed(1, "t", &[i])))
            .collect();
        let dropped = draws.iter().filter(|d| d.dropped).count();
        let duplicated = draws.iter().filter(|d| d.duplicate.is_some()).count();
        assert!((1_800..2_200).contains(&dropped), "{dropped}");
        assert!((850..1_150).contains(&duplicated), "{duplicated}");
        assert!(draws.iter().all(|d| (10..=20).contains(&d.latency)));
        net.stop_loss_and_duplication();
        let allowed: Vec<FateDraw> = draws.iter().map(|&d| net.allow(d)).collect();
        assert!(allowed.iter().all(|d| !d.dropped && d.duplicate.is_none()));
        assert!(allowed
            .iter()
            .zip(&draws)
            .all(|(a, d)| a.latency == d.latency));
    }
}
