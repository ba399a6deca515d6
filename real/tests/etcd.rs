//! The harness validated on a system nobody here wrote: an etcd 3.4 cluster. With
//! linearizable reads the checker must find nothing; with serializable reads (which etcd
//! serves from a member's local state, possibly stale) it must report the stale reads as a
//! linearizability violation. The nemesis cuts links (network namespaces, when the test
//! runs as root), so an isolated member really serves stale data.
//!
//! Runs when `etcd` is on PATH; skipped with a message otherwise, unless
//! `REAL_REQUIRE_ETCD=1` (CI sets it after installing etcd-server), which makes a missing
//! etcd a failure.

use real::client::Reads;
use real::cluster::System;
use real::nemesis::Fault;
use real::run::{run, Options};
use std::sync::Mutex;
use std::time::Duration;

/// The two runs share the machine's two cores; one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn etcd() -> Option<System> {
    match real::procs::which("etcd") {
        Some(binary) => Some(System::Etcd { binary }),
        None if std::env::var("REAL_REQUIRE_ETCD").is_ok_and(|v| v == "1") => {
            panic!("REAL_REQUIRE_ETCD=1 but etcd is not on PATH (apt-get install etcd-server)")
        }
        None => {
            eprintln!("etcd is not installed: skipping the etcd validation");
            None
        }
    }
}

fn options(system: System, reads: Reads, name: &str, seed: u64) -> Options {
    let dir = std::env::temp_dir().join(format!("real-etcd-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    Options {
        system,
        nodes: 3,
        duration: Duration::from_secs(20),
        clients: 5,
        keys: 3,
        faults: vec![Fault::Partition, Fault::Pause, Fault::Kill],
        reads,
        network: "auto".into(),
        seed,
        dir,
        verbose: false,
    }
}

#[test]
fn etcd_validation_linearizable_reads_pass() {
    let Some(system) = etcd() else { return };
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let options = options(system, Reads::Linearizable, "linearizable", 11);
    let report = run(&options).expect("the run is carried out");
    report.print();
    assert!(
        report.passed(),
        "etcd with linearizable reads failed the check"
    );
    let ok = report
        .history
        .ops
        .iter()
        .filter(|op| matches!(op.completed, Some((_, sim::history::Outcome::Ok(_)))))
        .count();
    assert!(
        ok > 200,
        "only {ok} operations succeeded: the run checked too little"
    );
    let _ = std::fs::remove_dir_all(&options.dir);
}

#[test]
fn etcd_validation_serializable_reads_are_caught_stale() {
    let Some(system) = etcd() else { return };
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let options = options(system, Reads::Stale, "serializable", 12);
    let report = run(&options).expect("the run is carried out");
    report.print();
    assert!(
        report.verdict.is_not_linearizable(),
        "serializable reads from etcd members were not caught: {}",
        report.verdict
    );
    let _ = std::fs::remove_dir_all(&options.dir);
}
