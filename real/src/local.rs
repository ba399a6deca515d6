//! `cargo xtask cluster`: a raft-kv cluster on loopback to try by hand. Prints where each
//! node listens and curl commands to talk to it; Ctrl-C (or SIGTERM) stops every node with
//! SIGTERM, which each one answers by finishing its pending writes and exiting.

use crate::cluster::{Addrs, Cluster, System, Tuning};
use crate::nemesis::name;
use crate::net::Network;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

#[derive(Clone, Debug)]
pub struct LocalOptions {
    pub binary: PathBuf,
    pub nodes: usize,
    /// Nodes that start outside the membership (listed in every address book).
    pub spares: usize,
    /// Node i listens for clients on `http_base + i + 1` and for peers on `raft_base + i + 1`.
    pub http_base: u16,
    pub raft_base: u16,
    pub dir: PathBuf,
    /// Start from empty data directories.
    pub fresh: bool,
}

/// The lines printed once the cluster is up.
pub fn banner(addrs: &[Addrs], voters: usize, leader: usize, dir: &std::path::Path) -> String {
    let mut out = format!(
        "raft-kv cluster: {} nodes ({voters} voters), data and logs in {}\n",
        addrs.len(),
        dir.display()
    );
    for (i, a) in addrs.iter().enumerate() {
        let role = if i == leader {
            "leader"
        } else if i < voters {
            "voter"
        } else {
            "spare (not a member)"
        };
        out.push_str(&format!(
            "  {}  http://{}  raft {}  {role}  log {}/{}.log\n",
            name(i),
            a.client,
            a.peer,
            dir.display(),
            name(i)
        ));
    }
    let at = |i: usize| format!("http://{}", addrs[i].client);
    let (first, other) = (at(0), at(addrs.len().min(voters).saturating_sub(1)));
    out.push_str(&format!(
        "\ntry (followers answer 307 with the leader's address; -L follows it):
  curl -L -X PUT -d hello {first}/kv/greeting
  curl -L {other}/kv/greeting                        # linearizable (ReadIndex)
  curl {other}/kv/greeting?read=local                # this node's copy, may be stale
  curl -L -X POST -d ,world {first}/kv/greeting/append
  curl -L -X POST -d bye '{first}/kv/greeting/cas?expected=hello,world'
  curl {first}/status
  curl -L -X POST {first}/admin/transfer             # hand leadership to another voter
  curl {first}/                                      # the whole API
"
    ));
    if addrs.len() > voters {
        let spare = voters + 1;
        out.push_str(&format!(
            "  curl -L -X POST {first}/admin/members/{spare}/voter   # add n{spare}\n  curl -L -X DELETE {first}/admin/members/{spare}        # remove it again\n"
        ));
    }
    out.push_str("Ctrl-C stops the cluster.\n");
    out
}

/// Runs the cluster until Ctrl-C.
pub fn run(options: &LocalOptions) -> Result<(), String> {
    if options.fresh {
        let _ = std::fs::remove_dir_all(&options.dir);
    }
    let total = options.nodes + options.spares;
    let addrs: Vec<Addrs> = (1..=total as u16)
        .map(|i| Addrs {
            client: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), options.http_base + i),
            peer: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), options.raft_base + i),
        })
        .collect();
    let tuning = Tuning {
        raft_kv_voters: (options.spares > 0).then_some(options.nodes),
        ..Tuning::defaults()
    };
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
    let system = System::RaftKv {
        binary: options.binary.clone(),
    };
    let mut cluster = Cluster::start_at(
        system,
        Network::Loopback,
        addrs.clone(),
        &options.dir,
        &tuning,
    )?;
    let leader = match cluster.wait_ready(Duration::from_secs(30)) {
        Ok(leader) => leader,
        Err(e) => {
            cluster.stop_all();
            return Err(e);
        }
    };
    print!("{}", banner(&addrs, options.nodes, leader, &options.dir));
    while !STOP.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
        for node in 0..cluster.len() {
            if cluster.is_running(node) {
                continue;
            }
            // Ctrl-C reaches the nodes too (one process group); only a node that exited
            // while the cluster is meant to run is restarted.
            std::thread::sleep(Duration::from_millis(200));
            if !STOP.load(Ordering::SeqCst) {
                eprintln!(
                    "{} exited; its log ends with:\n{}",
                    name(node),
                    cluster.log_tail(node, 5)
                );
                let _ = cluster.restart(node);
            }
        }
    }
    eprintln!("stopping...");
    let unclean = cluster.stop_all();
    if unclean.is_empty() {
        eprintln!("every node stopped cleanly");
        Ok(())
    } else {
        Err(format!("nodes {unclean:?} did not stop cleanly"))
    }
}
