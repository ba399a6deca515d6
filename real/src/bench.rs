//! raft-kv against etcd on this machine: the same cluster size on loopback, the same
//! workload (puts of fixed-size values to random keys, each client waiting for its answer
//! before the next), the same durability (both fsync their log before they acknowledge;
//! etcd always does), both spoken to over HTTP/1.1 at the leader (etcd through its v3
//! JSON gateway). Writes per second and latency percentiles at each client count, and
//! their ratios.

use crate::cluster::{Cluster, System, Tuning};
use crate::http::Connection;
use crate::net::Network;
use base64::Engine;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct BenchOptions {
    pub raft_kv: PathBuf,
    pub etcd: Option<PathBuf>,
    pub nodes: usize,
    pub clients: Vec<usize>,
    pub seconds: f64,
    pub warmup_seconds: f64,
    pub value_size: usize,
    pub keys: usize,
    pub dir: PathBuf,
}

/// One measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub system: &'static str,
    pub clients: usize,
    pub writes: u64,
    pub errors: u64,
    pub seconds: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    /// raft-kv only: log entries per WAL fsync on the leader during the point (what group
    /// commit and batching achieved).
    pub entries_per_fsync: Option<f64>,
}

impl Point {
    pub fn writes_per_second(&self) -> f64 {
        self.writes as f64 / self.seconds
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The request a benchmark client sends for a put.
fn put_request(system: &System, key: &str, value: &str) -> (&'static str, String, Vec<u8>) {
    match system {
        System::RaftKv { .. } => ("PUT", format!("/kv/{key}"), value.as_bytes().to_vec()),
        System::Etcd { .. } => {
            let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
            let body = serde_json::json!({"key": b64(key), "value": b64(value)}).to_string();
            ("POST", "/v3/kv/put".to_string(), body.into_bytes())
        }
    }
}

fn raft_kv_counters(cluster: &Cluster, leader: usize) -> Option<(u64, u64)> {
    let addr = cluster.addrs[leader].client;
    let r = crate::http::once(addr, "GET", "/status", b"", Duration::from_secs(2)).ok()?;
    let status: serde_json::Value = serde_json::from_slice(&r.body).ok()?;
    Some((
        status["last_index"].as_u64()?,
        status["wal_fsyncs"].as_u64()?,
    ))
}

/// Runs `clients` closed-loop writers against the leader for the warm-up and the measured
/// time.
fn measure(cluster: &Cluster, leader: usize, clients: usize, options: &BenchOptions) -> Point {
    let addr = cluster.addrs[leader].client;
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let system = cluster.system.clone();
            let (stop, measuring) = (stop.clone(), measuring.clone());
            let (keys, size) = (options.keys, options.value_size);
            std::thread::spawn(move || {
                let mut rng = StdRng::seed_from_u64(c as u64);
                let value: String = (0..size)
                    .map(|_| char::from(rng.gen_range(b'a'..=b'z')))
                    .collect();
                let mut connection = Connection::new(addr, Duration::from_secs(10));
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let key = format!("bench{}", rng.gen_range(0..keys));
                    let (method, target, body) = put_request(&system, &key, &value);
                    let started = Instant::now();
                    let ok = matches!(
                        connection.request(method, &target, &[], &body),
                        Ok(r) if r.status == 200
                    );
                    let took = started.elapsed().as_micros() as u64;
                    if measuring.load(Ordering::Relaxed) {
                        if ok {
                            latencies.push(took);
                        } else {
                            errors += 1;
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(options.warmup_seconds));
    let before = raft_kv_counters(cluster, leader);
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(options.seconds));
    measuring.store(false, Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    let after = raft_kv_counters(cluster, leader);
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut errors = 0;
    for thread in threads {
        if let Ok((l, e)) = thread.join() {
            latencies.extend(l);
            errors += e;
        }
    }
    latencies.sort_unstable();
    let entries_per_fsync = match (before, after) {
        (Some((p0, f0)), Some((p1, f1))) if f1 > f0 => Some((p1 - p0) as f64 / (f1 - f0) as f64),
        _ => None,
    };
    Point {
        system: cluster.system.name(),
        clients,
        writes: latencies.len() as u64,
        errors,
        seconds,
        p50_us: percentile(&latencies, 0.50),
        p99_us: percentile(&latencies, 0.99),
        p999_us: percentile(&latencies, 0.999),
        entries_per_fsync,
    }
}

fn bench_system(system: System, options: &BenchOptions) -> Result<Vec<Point>, String> {
    let dir = options.dir.join(system.name());
    let _ = std::fs::remove_dir_all(&dir);
    let mut cluster = Cluster::start(
        system,
        Network::Loopback,
        options.nodes,
        &dir,
        &Tuning::defaults(),
    )?;
    let leader = cluster.wait_ready(Duration::from_secs(30))?;
    let mut points = Vec::new();
    for &clients in &options.clients {
        let point = measure(&cluster, leader, clients, options);
        eprintln!(
            "  {:<8} {:>4} clients: {:>8.0} writes/s, p50 {:.2} ms, p99 {:.2} ms{}",
            point.system,
            clients,
            point.writes_per_second(),
            point.p50_us as f64 / 1e3,
            point.p99_us as f64 / 1e3,
            if point.errors > 0 {
                format!(" ({} errors)", point.errors)
            } else {
                String::new()
            }
        );
        points.push(point);
    }
    cluster.stop_all();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(points)
}

/// Measures raft-kv, then etcd (if given), at every client count.
pub fn run(options: &BenchOptions) -> Result<(Vec<Point>, Vec<Point>), String> {
    let raft_kv = bench_system(
        System::RaftKv {
            binary: options.raft_kv.clone(),
        },
        options,
    )?;
    let etcd = match &options.etcd {
        Some(binary) => bench_system(
            System::Etcd {
                binary: binary.clone(),
            },
            options,
        )?,
        None => Vec::new(),
    };
    Ok((raft_kv, etcd))
}

/// The table: one row per client count, raft-kv and etcd side by side, with ratios
/// (throughput raft-kv/etcd, latency etcd/raft-kv: above 1 means raft-kv is better).
pub fn table(raft_kv: &[Point], etcd: &[Point]) -> String {
    let ms = |us: u64| format!("{:.2}", us as f64 / 1e3);
    let mut out = String::from(
        "| clients | raft-kv writes/s | etcd writes/s | throughput ratio | raft-kv p50 / p99 / p99.9 ms | etcd p50 / p99 / p99.9 ms | p99 ratio (etcd / raft-kv) | raft-kv entries per fsync |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in raft_kv {
        let e = etcd.iter().find(|e| e.clients == r.clients);
        let (ew, ratio, el, p99_ratio) = match e {
            Some(e) => (
                format!("{:.0}", e.writes_per_second()),
                format!(
                    "{:.2}x",
                    r.writes_per_second() / e.writes_per_second().max(1e-9)
                ),
                format!("{} / {} / {}", ms(e.p50_us), ms(e.p99_us), ms(e.p999_us)),
                format!("{:.2}x", e.p99_us as f64 / (r.p99_us.max(1)) as f64),
            ),
            None => ("-".into(), "-".into(), "-".into(), "-".into()),
        };
        out.push_str(&format!(
            "| {} | {:.0} | {ew} | {ratio} | {} / {} / {} | {el} | {p99_ratio} | {} |\n",
            r.clients,
            r.writes_per_second(),
            ms(r.p50_us),
            ms(r.p99_us),
            ms(r.p999_us),
            r.entries_per_fsync
                .map_or("-".into(), |p| format!("{p:.1}")),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), 50);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&v, 0.999), 100);
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[7], 0.01), 7);
    }
}
