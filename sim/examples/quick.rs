fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let (from, to) = (args[0], args.get(1).copied().unwrap_or(args[0] + 1));
    let nofault = std::env::var("NOFAULT").is_ok();
    let t = std::time::Instant::now();
    let mut fails = 0;
    for seed in from..to {
        let mut c = sim::SimConfig::draw(seed);
        if nofault {
            c = c.without_faults();
        }
        let r = sim::run(c, &sim::RunOptions::default());
        if let Some(v) = &r.violation {
            fails += 1;
            println!("seed {seed}: {v}");
        }
        if to - from == 1 {
            println!(
                "{:#?}\nend={} hash={:016x}",
                r.stats, r.end_time, r.trace_hash
            );
        }
    }
    println!("{} seeds, {} failed, {:?}", to - from, fails, t.elapsed());
}
