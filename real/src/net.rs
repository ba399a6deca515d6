//! The network the servers run on, and how the nemesis breaks it.
//!
//! **Namespaces** (as Jepsen does it; needs root, `ip` and `iptables`): every server gets a
//! network namespace of its own with one veth interface on a bridge in a hub namespace, and
//! an address `10.200.N.(i+1)` of a /24 that this run owns; the harness reaches the bridge
//! from the root namespace at `10.200.N.254`. Links are cut with iptables DROP rules in the
//! sender's namespace (so a one-way cut is one rule), lossy links drop a fraction with the
//! `statistic` match, and delays use `tc netem` when the kernel has it. Client traffic
//! (to and from .254) is never touched.
//!
//! **Loopback** (anywhere): servers listen on 127.0.0.1; cuts, loss and delays go through
//! the fault switch in raft-kv's own transport (`POST /admin/faults`).
//!
//! A run owns subnet N by creating the hub namespace `rkvNh` first (creation fails if
//! another run holds it); the owner's pid is kept in the run's lock file so a later run
//! can clear what a killed one left behind.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// What breaks links in a run, for the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    Iptables,
    IptablesStatistic,
    Netem,
    TransportSwitch,
    Unavailable,
}

impl Mechanism {
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Iptables => "iptables DROP",
            Mechanism::IptablesStatistic => "iptables statistic DROP",
            Mechanism::Netem => "tc netem",
            Mechanism::TransportSwitch => "raft-kv transport fault switch",
            Mechanism::Unavailable => "unavailable",
        }
    }
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn lock_dir() -> PathBuf {
    std::env::temp_dir().join("raft-real-netns")
}

fn pid_alive(pid: u32) -> bool {
    PathBuf::from(format!("/proc/{pid}")).exists()
}

/// Network namespaces on a bridge. Dropping it kills every process left in them and
/// deletes them.
pub struct Namespaces {
    subnet: u8,
    nodes: usize,
    /// `tc netem` works in this kernel.
    pub netem: bool,
}

impl Namespaces {
    /// Whether this machine can do it: root, and `ip` and `iptables` present.
    pub fn possible() -> Result<(), String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("not root".into());
        }
        for tool in ["ip", "iptables", "tc"] {
            if crate::procs::which(tool).is_none() {
                return Err(format!("`{tool}` is not installed"));
            }
        }
        Ok(())
    }

    fn hub(subnet: u8) -> String {
        format!("rkv{subnet}h")
    }

    pub fn namespace(&self, node: usize) -> String {
        format!("rkv{}n{node}", self.subnet)
    }

    pub fn ip(&self, node: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 200, self.subnet, node as u8 + 1)
    }

    /// Creates the namespaces for `nodes` servers.
    pub fn setup(nodes: usize) -> Result<Namespaces, String> {
        Namespaces::possible()?;
        if nodes > 100 {
            return Err("at most 100 nodes".into());
        }
        std::fs::create_dir_all(lock_dir()).map_err(|e| format!("lock directory: {e}"))?;
        for subnet in 0..=250u8 {
            let lock = lock_dir().join(subnet.to_string());
            if let Ok(owner) = std::fs::read_to_string(&lock) {
                match owner.trim().parse::<u32>() {
                    Ok(pid) if pid_alive(pid) => continue,
                    _ => teardown(subnet, 100),
                }
            }
            if run("ip", &["netns", "add", &Namespaces::hub(subnet)]).is_err() {
                continue;
            }
            std::fs::write(&lock, std::process::id().to_string())
                .map_err(|e| format!("lock file: {e}"))?;
            let mut namespaces = Namespaces {
                subnet,
                nodes,
                netem: false,
            };
            if let Err(e) = namespaces.build() {
                drop(namespaces);
                return Err(e);
            }
            namespaces.netem = namespaces.probe_netem();
            return Ok(namespaces);
        }
        Err("no free subnet 10.200.N.0/24".into())
    }

    fn build(&self) -> Result<(), String> {
        let s = self.subnet;
        let hub = Namespaces::hub(s);
        run("ip", &["-n", &hub, "link", "add", "br0", "type", "bridge"])?;
        run("ip", &["-n", &hub, "link", "set", "br0", "up"])?;
        for node in 0..self.nodes {
            let ns = self.namespace(node);
            let (inside, outside) = (format!("rkv{s}e{node}"), format!("rkv{s}b{node}"));
            run("ip", &["netns", "add", &ns])?;
            run(
                "ip",
                &[
                    "link", "add", &inside, "type", "veth", "peer", "name", &outside,
                ],
            )?;
            run("ip", &["link", "set", &inside, "netns", &ns])?;
            run("ip", &["link", "set", &outside, "netns", &hub])?;
            run(
                "ip",
                &["-n", &hub, "link", "set", &outside, "master", "br0"],
            )?;
            run("ip", &["-n", &hub, "link", "set", &outside, "up"])?;
            let cidr = format!("{}/24", self.ip(node));
            run("ip", &["-n", &ns, "addr", "add", &cidr, "dev", &inside])?;
            run("ip", &["-n", &ns, "link", "set", &inside, "up"])?;
            run("ip", &["-n", &ns, "link", "set", "lo", "up"])?;
        }
        let (root, root_hub) = (format!("rkv{s}r"), format!("rkv{s}rb"));
        run(
            "ip",
            &[
                "link", "add", &root, "type", "veth", "peer", "name", &root_hub,
            ],
        )?;
        run("ip", &["link", "set", &root_hub, "netns", &hub])?;
        run(
            "ip",
            &["-n", &hub, "link", "set", &root_hub, "master", "br0"],
        )?;
        run("ip", &["-n", &hub, "link", "set", &root_hub, "up"])?;
        run(
            "ip",
            &["addr", "add", &format!("10.200.{s}.254/24"), "dev", &root],
        )?;
        run("ip", &["link", "set", &root, "up"])?;
        Ok(())
    }

    fn probe_netem(&self) -> bool {
        let ns = self.namespace(0);
        let ok = run(
            "ip",
            &[
                "netns", "exec", &ns, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay",
                "1ms",
            ],
        )
        .is_ok();
        if ok {
            let _ = run(
                "ip",
                &[
                    "netns", "exec", &ns, "tc", "qdisc", "del", "dev", "lo", "root",
                ],
            );
        }
        ok
    }

    fn iptables(&self, node: usize, args: &[&str]) -> Result<(), String> {
        let ns = self.namespace(node);
        let mut all = vec!["netns", "exec", &ns, "iptables", "-w"];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// Drops everything `from` sends to `to`.
    pub fn cut(&self, from: usize, to: usize) -> Result<(), String> {
        let dst = self.ip(to).to_string();
        self.iptables(from, &["-A", "OUTPUT", "-d", &dst, "-j", "DROP"])
    }

    /// Drops `ppm` of what `from` sends to each other node.
    pub fn lossy(&self, from: usize, ppm: u32) -> Result<(), String> {
        let probability = format!("{:.6}", f64::from(ppm) / 1e6);
        for to in (0..self.nodes).filter(|&to| to != from) {
            let dst = self.ip(to).to_string();
            self.iptables(
                from,
                &[
                    "-A",
                    "OUTPUT",
                    "-d",
                    &dst,
                    "-m",
                    "statistic",
                    "--mode",
                    "random",
                    "--probability",
                    &probability,
                    "-j",
                    "DROP",
                ],
            )?;
        }
        Ok(())
    }

    /// Delays what `from` sends to the other nodes (not to clients) with netem.
    pub fn delay(&self, from: usize, ms: u32) -> Result<(), String> {
        let ns = self.namespace(from);
        let dev = format!("rkv{}e{from}", self.subnet);
        let tc = |args: &[&str]| {
            let mut all = vec!["netns", "exec", ns.as_str(), "tc"];
            all.extend_from_slice(args);
            run("ip", &all)
        };
        tc(&[
            "qdisc", "add", "dev", &dev, "root", "handle", "1:", "prio", "bands", "4",
        ])?;
        let delay = format!("{ms}ms");
        tc(&[
            "qdisc", "add", "dev", &dev, "parent", "1:4", "handle", "40:", "netem", "delay", &delay,
        ])?;
        let peers = format!("10.200.{}.0/25", self.subnet);
        tc(&[
            "filter", "add", "dev", &dev, "parent", "1:", "protocol", "ip", "u32", "match", "ip",
            "dst", &peers, "flowid", "1:4",
        ])
    }

    /// Removes every rule and qdisc.
    pub fn heal(&self) -> Result<(), String> {
        for node in 0..self.nodes {
            self.iptables(node, &["-F", "OUTPUT"])?;
            if self.netem {
                let dev = format!("rkv{}e{node}", self.subnet);
                let ns = self.namespace(node);
                let _ = run(
                    "ip",
                    &[
                        "netns", "exec", &ns, "tc", "qdisc", "del", "dev", &dev, "root",
                    ],
                );
            }
        }
        Ok(())
    }
}

/// Kills whatever runs in a run's namespaces and deletes them.
fn teardown(subnet: u8, nodes: usize) {
    for node in 0..nodes {
        let ns = format!("rkv{subnet}n{node}");
        if let Ok(out) = Command::new("ip").args(["netns", "pids", &ns]).output() {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                if let Ok(pid) = pid.parse::<i32>() {
                    // SAFETY: kill(2) has no memory effects.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
        let _ = run("ip", &["netns", "del", &ns]);
    }
    let _ = run("ip", &["netns", "del", &Namespaces::hub(subnet)]);
    let _ = run("ip", &["link", "del", &format!("rkv{subnet}r")]);
    let _ = std::fs::remove_file(lock_dir().join(subnet.to_string()));
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        teardown(self.subnet, self.nodes);
    }
}

/// The network of one run.
pub enum Network {
    Namespaces(Namespaces),
    Loopback,
}

impl Network {
    /// Namespaces if asked for or possible (`auto`), else loopback; with the reason when
    /// namespaces were wanted and not possible.
    pub fn choose(mode: &str, nodes: usize) -> Result<(Network, Option<String>), String> {
        match mode {
            "loopback" => Ok((Network::Loopback, None)),
            "namespaces" => Namespaces::setup(nodes).map(|n| (Network::Namespaces(n), None)),
            "auto" => match Namespaces::setup(nodes) {
                Ok(n) => Ok((Network::Namespaces(n), None)),
                Err(why) => Ok((Network::Loopback, Some(why))),
            },
            other => Err(format!(
                "--network {other:?}: expected auto, namespaces or loopback"
            )),
        }
    }

    pub fn cuts(&self) -> Mechanism {
        match self {
            Network::Namespaces(_) => Mechanism::Iptables,
            Network::Loopback => Mechanism::TransportSwitch,
        }
    }

    pub fn losses(&self) -> Mechanism {
        match self {
            Network::Namespaces(_) => Mechanism::IptablesStatistic,
            Network::Loopback => Mechanism::TransportSwitch,
        }
    }

    pub fn delays(&self) -> Mechanism {
        match self {
            Network::Namespaces(n) if n.netem => Mechanism::Netem,
            _ => Mechanism::TransportSwitch,
        }
    }

    /// One line for the report.
    pub fn describe(&self) -> String {
        match self {
            Network::Namespaces(n) => format!(
                "namespaces rkv{}n* on 10.200.{}.0/24 (cuts: {}, loss: {}, delays: {})",
                n.subnet,
                n.subnet,
                self.cuts().name(),
                self.losses().name(),
                if n.netem {
                    Mechanism::Netem.name()
                } else {
                    "raft-kv transport fault switch (this kernel has no netem qdisc)"
                }
            ),
            Network::Loopback => format!(
                "loopback 127.0.0.1 (cuts, loss and delays: {})",
                Mechanism::TransportSwitch.name()
            ),
        }
    }
}
