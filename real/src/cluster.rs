//! A cluster of real server processes (raft-kv or etcd) on a [`Network`], and the handles
//! the nemesis uses on it.

use crate::client::{self, KvClient};
use crate::http;
use crate::net::{Namespaces, Network};
use crate::procs::{Proc, Spec};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Which system the servers run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum System {
    RaftKv { binary: PathBuf },
    Etcd { binary: PathBuf },
}

impl System {
    pub fn name(&self) -> &'static str {
        match self {
            System::RaftKv { .. } => "raft-kv",
            System::Etcd { .. } => "etcd",
        }
    }
}

/// Tuning of the servers' timing; the harness wants fast failover, the benchmark defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tuning {
    /// raft-kv: tick length and snapshot interval. etcd keeps its defaults (100 ms
    /// heartbeat, 1 s election timeout).
    pub raft_kv_tick_ms: u64,
    pub raft_kv_snapshot_every: u64,
    /// raft-kv: only the first this many nodes are voters at bootstrap (the others are
    /// spares an operator can add); None: all.
    pub raft_kv_voters: Option<usize>,
}

impl Tuning {
    pub fn harness() -> Tuning {
        Tuning {
            raft_kv_tick_ms: 25,
            raft_kv_snapshot_every: 500,
            raft_kv_voters: None,
        }
    }

    /// raft-kv's defaults: a 50 ms tick (150 ms heartbeat, 500..1000 ms election timeout),
    /// a snapshot every 100,000 entries (etcd's default snapshot count).
    pub fn defaults() -> Tuning {
        Tuning {
            raft_kv_tick_ms: 50,
            raft_kv_snapshot_every: 100_000,
            raft_kv_voters: None,
        }
    }
}

/// Where node `i` listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addrs {
    pub client: SocketAddr,
    pub peer: SocketAddr,
}

pub struct Cluster {
    pub system: System,
    pub network: Network,
    pub addrs: Vec<Addrs>,
    procs: Vec<Proc>,
    pub dir: PathBuf,
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}

impl Cluster {
    /// Starts `nodes` servers of `system` on `network`, with data and logs under `dir`.
    pub fn start(
        system: System,
        network: Network,
        nodes: usize,
        dir: &Path,
        tuning: &Tuning,
    ) -> Result<Cluster, String> {
        let addrs = (0..nodes)
            .map(|i| match &network {
                Network::Namespaces(n) => Ok(Addrs {
                    client: SocketAddr::new(IpAddr::V4(n.ip(i)), 8000),
                    peer: SocketAddr::new(IpAddr::V4(n.ip(i)), 7000),
                }),
                Network::Loopback => Ok(Addrs {
                    client: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), free_port()?),
                    peer: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), free_port()?),
                }),
            })
            .collect::<Result<Vec<_>, String>>()?;
        Cluster::start_at(system, network, addrs, dir, tuning)
    }

    /// Starts one server per entry of `addrs`.
    pub fn start_at(
        system: System,
        network: Network,
        addrs: Vec<Addrs>,
        dir: &Path,
        tuning: &Tuning,
    ) -> Result<Cluster, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let nodes = addrs.len();
        let specs = (0..nodes)
            .map(|i| spec(&system, &network, &addrs, i, dir, tuning))
            .collect::<Vec<_>>();
        let mut cluster = Cluster {
            system,
            network,
            addrs,
            procs: specs.into_iter().map(Proc::new).collect(),
            dir: dir.to_path_buf(),
        };
        for i in 0..nodes {
            cluster.procs[i]
                .start()
                .map_err(|e| format!("cannot start {}: {e}", crate::nemesis::name(i)))?;
        }
        Ok(cluster)
    }

    pub fn len(&self) -> usize {
        self.procs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.procs.is_empty()
    }

    /// A client with a connection to every node.
    pub fn client(&self, reads: client::Reads, timeout: Duration) -> Box<dyn KvClient> {
        let addrs: Vec<SocketAddr> = self.addrs.iter().map(|a| a.client).collect();
        match self.system {
            System::RaftKv { .. } => Box::new(client::RaftKvClient::new(&addrs, reads, timeout)),
            System::Etcd { .. } => Box::new(client::EtcdClient::new(&addrs, reads, timeout)),
        }
    }

    /// The node that leads, as the nodes report it (None while there is no leader).
    pub fn leader(&self) -> Option<usize> {
        let timeout = Duration::from_millis(500);
        for (i, addrs) in self.addrs.iter().enumerate() {
            if self.procs[i].is_paused() {
                continue;
            }
            let found = match self.system {
                System::RaftKv { .. } => client::raft_kv_leader(addrs.client, timeout),
                System::Etcd { .. } => client::etcd_leader(addrs.client, timeout, &self.addrs),
            };
            if let Some(leader) = found {
                if !self.procs[leader].is_paused() {
                    return Some(leader);
                }
            }
        }
        None
    }

    /// Waits until every running node answers and one leads.
    pub fn wait_ready(&mut self, timeout: Duration) -> Result<usize, String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(leader) = self.leader() {
                return Ok(leader);
            }
            for i in 0..self.len() {
                if !self.procs[i].is_running() && self.procs[i].starts > 0 {
                    return Err(format!(
                        "{} exited; its log ends with:\n{}",
                        crate::nemesis::name(i),
                        self.procs[i].log_tail(20)
                    ));
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no leader within {:?}; node 0's log ends with:\n{}",
                    timeout,
                    self.procs[0].log_tail(20)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn kill(&mut self, node: usize) {
        self.procs[node].kill();
    }

    pub fn restart(&mut self, node: usize) -> Result<(), String> {
        self.procs[node]
            .start()
            .map_err(|e| format!("cannot restart {}: {e}", crate::nemesis::name(node)))
    }

    pub fn pause(&mut self, node: usize) -> Result<(), String> {
        self.procs[node]
            .pause()
            .map_err(|e| format!("cannot pause {}: {e}", crate::nemesis::name(node)))
    }

    pub fn resume(&mut self, node: usize) -> Result<(), String> {
        self.procs[node]
            .resume()
            .map_err(|e| format!("cannot resume {}: {e}", crate::nemesis::name(node)))
    }

    pub fn is_running(&mut self, node: usize) -> bool {
        self.procs[node].is_running()
    }

    pub fn log_tail(&self, node: usize, lines: usize) -> String {
        self.procs[node].log_tail(lines)
    }

    /// Stops every node with SIGTERM (a clean stop); returns the nodes that did not exit
    /// cleanly in time.
    pub fn stop_all(&mut self) -> Vec<usize> {
        let mut unclean = Vec::new();
        for (i, proc) in self.procs.iter_mut().enumerate() {
            if proc.is_running() && proc.terminate(Duration::from_secs(10)) != Some(0) {
                unclean.push(i);
            }
        }
        unclean
    }

    /// A raft-kv admin call on node `node`.
    fn admin(&self, node: usize, method: &str, path: &str, body: &str) -> Result<(), String> {
        let addr = self.addrs[node].client;
        match http::once(addr, method, path, body.as_bytes(), Duration::from_secs(2)) {
            Ok(r) if r.status == 200 => Ok(()),
            Ok(r) => Err(format!(
                "{method} {path} on {}: {} {}",
                crate::nemesis::name(node),
                r.status,
                r.text()
            )),
            Err(e) => Err(format!(
                "{method} {path} on {}: {e}",
                crate::nemesis::name(node)
            )),
        }
    }

    fn namespaces(&self) -> Option<&Namespaces> {
        match &self.network {
            Network::Namespaces(n) => Some(n),
            Network::Loopback => None,
        }
    }

    fn needs_raft_kv(&self, what: &str) -> Result<(), String> {
        match self.system {
            System::RaftKv { .. } => Ok(()),
            System::Etcd { .. } => Err(format!("{what} needs namespaces with etcd")),
        }
    }

    /// Drops everything `from` sends to `to`.
    pub fn cut(&self, from: usize, to: usize) -> Result<(), String> {
        match self.namespaces() {
            Some(n) => n.cut(from, to),
            None => {
                self.needs_raft_kv("a cut")?;
                self.admin(from, "POST", "/admin/faults", &format!("cut {}", to + 1))
            }
        }
    }

    /// Drops `ppm` of what `from` sends to the other nodes.
    pub fn lossy(&self, from: usize, ppm: u32) -> Result<(), String> {
        match self.namespaces() {
            Some(n) => n.lossy(from, ppm),
            None => {
                self.needs_raft_kv("loss")?;
                let body: Vec<String> = (0..self.len())
                    .filter(|&to| to != from)
                    .map(|to| format!("drop {} {ppm}", to + 1))
                    .collect();
                self.admin(from, "POST", "/admin/faults", &body.join("\n"))
            }
        }
    }

    /// Delays what `from` sends to the other nodes.
    pub fn delay(&self, from: usize, ms: u32) -> Result<(), String> {
        match self.namespaces() {
            Some(n) if n.netem => n.delay(from, ms),
            _ => {
                self.needs_raft_kv("a delay without netem")?;
                let body: Vec<String> = (0..self.len())
                    .filter(|&to| to != from)
                    .map(|to| format!("delay {} {ms}", to + 1))
                    .collect();
                self.admin(from, "POST", "/admin/faults", &body.join("\n"))
            }
        }
    }

    /// Removes every network fault (nodes that are down keep none: a restarted raft-kv
    /// starts with a clear switch).
    pub fn heal(&mut self) -> Result<(), String> {
        if let Some(n) = self.namespaces() {
            n.heal()?;
        }
        if let System::RaftKv { .. } = self.system {
            for node in 0..self.len() {
                if self.procs[node].is_running() && !self.procs[node].is_paused() {
                    // A node that is restarting may not listen yet; it has no rules anyway.
                    let _ = self.admin(node, "POST", "/admin/faults", "heal");
                }
            }
        }
        Ok(())
    }

    /// Sets a raft-kv failpoint (`fsync` = `return`, `sleep(ms)`); `None` clears it.
    pub fn failpoint(&self, node: usize, name: &str, actions: Option<&str>) -> Result<(), String> {
        self.needs_raft_kv("failpoints")?;
        let path = format!("/admin/failpoints/{name}");
        match actions {
            Some(actions) => self.admin(node, "PUT", &path, actions),
            None => self.admin(node, "DELETE", &path, ""),
        }
    }
}

fn spec(
    system: &System,
    network: &Network,
    addrs: &[Addrs],
    i: usize,
    dir: &Path,
    tuning: &Tuning,
) -> Spec {
    let netns = match network {
        Network::Namespaces(n) => Some(n.namespace(i)),
        Network::Loopback => None,
    };
    let name = crate::nemesis::name(i);
    let data = dir.join(&name);
    let log = dir.join(format!("{name}.log"));
    let (program, args) = match system {
        System::RaftKv { binary } => {
            let mut args = vec![
                "--id".to_string(),
                (i + 1).to_string(),
                "--data-dir".into(),
                data.display().to_string(),
                "--tick-ms".into(),
                tuning.raft_kv_tick_ms.to_string(),
                "--snapshot-every".into(),
                tuning.raft_kv_snapshot_every.to_string(),
            ];
            for (j, a) in addrs.iter().enumerate() {
                args.push("--peer".into());
                args.push(format!("{}={},{}", j + 1, a.peer, a.client));
            }
            if let Some(voters) = tuning.raft_kv_voters {
                let ids: Vec<String> = (1..=voters).map(|v| v.to_string()).collect();
                args.push("--voters".into());
                args.push(ids.join(","));
            }
            (binary.clone(), args)
        }
        System::Etcd { binary } => {
            let cluster: Vec<String> = addrs
                .iter()
                .enumerate()
                .map(|(j, a)| format!("{}=http://{}", crate::nemesis::name(j), a.peer))
                .collect();
            let a = addrs[i];
            let args = vec![
                format!("--name={name}"),
                format!("--data-dir={}", data.display()),
                format!("--listen-client-urls=http://{}", a.client),
                format!("--advertise-client-urls=http://{}", a.client),
                format!("--listen-peer-urls=http://{}", a.peer),
                format!("--initial-advertise-peer-urls=http://{}", a.peer),
                format!("--initial-cluster={}", cluster.join(",")),
                "--initial-cluster-state=new".into(),
                format!("--initial-cluster-token=real-{}", std::process::id()),
                "--logger=zap".into(),
                "--log-outputs=stderr".into(),
            ];
            (binary.clone(), args)
        }
    };
    Spec {
        name,
        program,
        args,
        env: vec![("RUST_LOG".into(), "info".into())],
        netns,
        log,
    }
}
