//! How often each fault kind fired over a range of swarm seeds, and in how many seeds:
//! `cargo run --release -p sim --example fault_mix -- FROM TO`.
use std::collections::BTreeMap;

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("seed numbers"))
        .collect();
    let (from, to) = (args[0], args.get(1).copied().unwrap_or(args[0] + 1));
    let mut totals: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for seed in from..to {
        let report = sim::run(sim::SimConfig::draw(seed), &sim::RunOptions::default());
        for (kind, count) in &report.stats.faults {
            let entry = totals.entry(kind.clone()).or_default();
            entry.0 += *count;
            entry.1 += 1;
        }
    }
    println!("{:<24} {:>8} {:>8}", "fault", "events", "seeds");
    for (kind, (events, seeds)) in totals {
        println!("{kind:<24} {events:>8} {seeds:>8}");
    }
}
