//! The nemesis: one fault at a time, in a shuffled cycle through the enabled kinds, each
//! held for a few seconds and then healed, with a quiet gap between faults.

use crate::cluster::{Cluster, System};
use crate::net::{Mechanism, Network};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Node `i`'s name in reports: raft-kv's id, `n1` for the first.
pub fn name(i: usize) -> String {
    format!("n{}", i + 1)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// SIGKILL a node (the leader half the time), restart it when the fault ends.
    Kill,
    /// SIGSTOP a node (the leader half the time), SIGCONT when the fault ends.
    Pause,
    /// Cut links: isolate a node, split majority from minority, or stop a leader's sends.
    Partition,
    /// Drop a fraction of what a node sends to its peers.
    Loss,
    /// Delay what a node sends to its peers.
    Delay,
    /// Make fsync fail on a node: it must stop without acknowledging, and restarts.
    DiskFail,
    /// Make fsync slow on the leader.
    DiskSlow,
}

impl Fault {
    pub const ALL: [Fault; 7] = [
        Fault::Kill,
        Fault::Pause,
        Fault::Partition,
        Fault::Loss,
        Fault::Delay,
        Fault::DiskFail,
        Fault::DiskSlow,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::Kill => "kill",
            Fault::Pause => "pause",
            Fault::Partition => "partition",
            Fault::Loss => "loss",
            Fault::Delay => "delay",
            Fault::DiskFail => "disk-fail",
            Fault::DiskSlow => "disk-slow",
        }
    }

    /// `all`, `none`, or a comma-separated list of names.
    pub fn parse_list(text: &str) -> Result<Vec<Fault>, String> {
        match text {
            "all" => return Ok(Fault::ALL.to_vec()),
            "none" => return Ok(Vec::new()),
            _ => {}
        }
        text.split(',')
            .map(|name| {
                Fault::ALL
                    .into_iter()
                    .find(|f| f.name() == name.trim())
                    .ok_or_else(|| {
                        let names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
                        format!(
                            "--nemesis: unknown fault {name:?} (known: {}, all, none)",
                            names.join(", ")
                        )
                    })
            })
            .collect()
    }

    /// Why this fault cannot run against `system` on `network`, if it cannot.
    pub fn unavailable(self, system: &System, network: &Network) -> Option<&'static str> {
        let etcd = matches!(system, System::Etcd { .. });
        match self {
            Fault::DiskFail | Fault::DiskSlow if etcd => {
                Some("etcd release builds have no failpoints")
            }
            Fault::Partition | Fault::Loss if etcd && matches!(network, Network::Loopback) => {
                Some("etcd has no fault switch; needs namespaces")
            }
            Fault::Delay if etcd && network.delays() != Mechanism::Netem => {
                Some("etcd has no fault switch and this kernel has no netem")
            }
            _ => None,
        }
    }
}

/// What the nemesis did.
#[derive(Debug, Default)]
pub struct NemesisLog {
    pub events: Vec<String>,
    pub counts: BTreeMap<Fault, u32>,
    /// Steps that failed (a command that did not work): reported, and the run fails.
    pub errors: Vec<String>,
}

pub struct Nemesis {
    faults: Vec<Fault>,
    rng: StdRng,
    start: Instant,
    pub log: NemesisLog,
    pub verbose: bool,
}

impl Nemesis {
    pub fn new(faults: Vec<Fault>, seed: u64, start: Instant) -> Nemesis {
        Nemesis {
            faults,
            rng: StdRng::seed_from_u64(seed ^ 0x006e_656d_6573_6973),
            start,
            log: NemesisLog::default(),
            verbose: false,
        }
    }

    fn note(&mut self, text: String) {
        let line = format!("{:>7.2}s  {text}", self.start.elapsed().as_secs_f64());
        if self.verbose {
            eprintln!("{line}");
        }
        self.log.events.push(line);
    }

    fn check(&mut self, what: &str, result: Result<(), String>) {
        if let Err(e) = result {
            self.note(format!("ERROR {what}: {e}"));
            self.log.errors.push(format!("{what}: {e}"));
        }
    }

    /// A node to hit: the leader half the time (if there is one), else any node.
    fn target(&mut self, cluster: &Cluster) -> (usize, &'static str) {
        if self.rng.gen_bool(0.5) {
            if let Some(leader) = cluster.leader() {
                return (leader, " (leader)");
            }
        }
        (self.rng.gen_range(0..cluster.len()), "")
    }

    /// Runs faults until `deadline`, then heals everything.
    pub fn run(&mut self, cluster: &mut Cluster, deadline: Instant) {
        if self.faults.is_empty() {
            std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
            return;
        }
        let mut cycle: Vec<Fault> = Vec::new();
        loop {
            // Short enough that a 30-second run (CI's) reaches all seven kinds; long
            // enough for elections (the harness's raft-kv times out after 250..500 ms).
            let quiet = Duration::from_millis(self.rng.gen_range(500..1000));
            let hold = Duration::from_millis(self.rng.gen_range(1500..2500));
            if Instant::now() + quiet + hold > deadline {
                break;
            }
            std::thread::sleep(quiet);
            self.restart_exited(cluster);
            if cycle.is_empty() {
                cycle = self.faults.clone();
                cycle.shuffle(&mut self.rng);
            }
            let fault = cycle.pop().expect("refilled above");
            *self.log.counts.entry(fault).or_default() += 1;
            self.inject(cluster, fault, hold);
        }
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        self.heal_all(cluster);
    }

    fn inject(&mut self, cluster: &mut Cluster, fault: Fault, hold: Duration) {
        match fault {
            Fault::Kill => {
                let (node, role) = self.target(cluster);
                let who = name(node);
                cluster.kill(node);
                self.note(format!("kill {who}{role} (SIGKILL)"));
                std::thread::sleep(hold);
                let restarted = cluster.restart(node);
                self.check("restart", restarted);
                self.note(format!("restart {who}"));
            }
            Fault::Pause => {
                let (node, role) = self.target(cluster);
                let who = name(node);
                let paused = cluster.pause(node);
                self.check("pause", paused);
                self.note(format!("pause {who}{role} (SIGSTOP)"));
                std::thread::sleep(hold);
                let resumed = cluster.resume(node);
                self.check("resume", resumed);
                self.note(format!("resume {who} (SIGCONT)"));
            }
            Fault::Partition => {
                let n = cluster.len();
                let (node, role) = self.target(cluster);
                let who = name(node);
                let shape = self.rng.gen_range(0..4);
                let cuts: Vec<(usize, usize)> = match shape {
                    // Isolate one node.
                    0 | 1 => (0..n)
                        .filter(|&j| j != node)
                        .flat_map(|j| [(node, j), (j, node)])
                        .collect(),
                    // A minority (with `node`) against the majority.
                    2 => {
                        let mut others: Vec<usize> = (0..n).filter(|&j| j != node).collect();
                        others.shuffle(&mut self.rng);
                        let minority: Vec<usize> = std::iter::once(node)
                            .chain(others.iter().copied().take(((n - 1) / 2).saturating_sub(1)))
                            .collect();
                        let majority: Vec<usize> =
                            (0..n).filter(|j| !minority.contains(j)).collect();
                        minority
                            .iter()
                            .flat_map(|&a| majority.iter().flat_map(move |&b| [(a, b), (b, a)]))
                            .collect()
                    }
                    // One way: the node hears its peers but nothing it sends arrives.
                    _ => (0..n).filter(|&j| j != node).map(|j| (node, j)).collect(),
                };
                let describe: Vec<String> = cuts
                    .iter()
                    .map(|&(a, b)| format!("{}->{}", name(a), name(b)))
                    .collect();
                for &(from, to) in &cuts {
                    let cut = cluster.cut(from, to);
                    self.check("cut", cut);
                }
                let kind = match shape {
                    0 | 1 => "isolate",
                    2 => "split",
                    _ => "one-way from",
                };
                self.note(format!(
                    "partition: {kind} {who}{role} (cut {}; {})",
                    describe.join(" "),
                    cluster.network.cuts().name()
                ));
                std::thread::sleep(hold);
                let healed = cluster.heal();
                self.check("heal", healed);
                self.note("heal".into());
            }
            Fault::Loss => {
                let (node, role) = self.target(cluster);
                let who = name(node);
                let ppm = self.rng.gen_range(200_000..500_000);
                let lossy = cluster.lossy(node, ppm);
                self.check("loss", lossy);
                self.note(format!(
                    "loss: {who}{role} drops {}% of what it sends ({})",
                    ppm / 10_000,
                    cluster.network.losses().name()
                ));
                std::thread::sleep(hold);
                let healed = cluster.heal();
                self.check("heal", healed);
                self.note("heal".into());
            }
            Fault::Delay => {
                let (node, role) = self.target(cluster);
                let who = name(node);
                let ms = self.rng.gen_range(30..120);
                let delayed = cluster.delay(node, ms);
                self.check("delay", delayed);
                self.note(format!(
                    "delay: {who}{role} sends {ms} ms late ({})",
                    cluster.network.delays().name()
                ));
                std::thread::sleep(hold);
                let healed = cluster.heal();
                self.check("heal", healed);
                self.note("heal".into());
            }
            Fault::DiskFail => {
                let (node, role) = self.target(cluster);
                let who = name(node);
                let set = cluster.failpoint(node, "fsync", Some("return"));
                self.check("failpoint", set);
                self.note(format!(
                    "disk-fail: fsync fails on {who}{role} (failpoint fsync=return)"
                ));
                let until = Instant::now() + hold;
                while cluster.is_running(node) && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(50));
                }
                if cluster.is_running(node) {
                    let cleared = cluster.failpoint(node, "fsync", None);
                    self.check("failpoint", cleared);
                    self.note(format!("{who} did no fsync meanwhile; failpoint cleared"));
                } else {
                    let tail = cluster.log_tail(node, 1);
                    self.note(format!("{who} stopped: {}", tail.trim()));
                    std::thread::sleep(until.saturating_duration_since(Instant::now()));
                    let restarted = cluster.restart(node);
                    self.check("restart", restarted);
                    self.note(format!("restart {who}"));
                }
            }
            Fault::DiskSlow => {
                let (node, role) = self.target(cluster);
                let who = name(node);
                let ms = self.rng.gen_range(50..250);
                let set = cluster.failpoint(node, "fsync", Some(&format!("sleep({ms})")));
                self.check("failpoint", set);
                self.note(format!(
                    "disk-slow: fsync takes {ms} ms more on {who}{role} (failpoint)"
                ));
                std::thread::sleep(hold);
                if cluster.is_running(node) {
                    let cleared = cluster.failpoint(node, "fsync", None);
                    self.check("failpoint", cleared);
                }
                self.note(format!("disk-slow on {who} cleared"));
            }
        }
    }

    /// Restarts nodes that exited on their own (a failed fsync stops raft-kv).
    fn restart_exited(&mut self, cluster: &mut Cluster) {
        for node in 0..cluster.len() {
            let who = name(node);
            if !cluster.is_running(node) {
                let restarted = cluster.restart(node);
                self.check("restart", restarted);
                self.note(format!("restart {who} (it had exited)"));
            }
        }
    }

    /// Heals the network, resumes paused nodes and restarts dead ones.
    pub fn heal_all(&mut self, cluster: &mut Cluster) {
        for node in 0..cluster.len() {
            let resumed = cluster.resume(node);
            self.check("resume", resumed);
        }
        self.restart_exited(cluster);
        let healed = cluster.heal();
        self.check("heal", healed);
        self.note("end of faults: everything healed, every node running".into());
    }
}
