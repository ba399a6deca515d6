//! Prints the canonical trace of one seed: `cargo run -p sim --example trace -- SEED [BUG]`
//! (a planted bug needs `--features planted-bugs`).
fn main() {
    let seed: u64 = std::env::args().nth(1).unwrap().parse().unwrap();
    let opts = sim::RunOptions {
        keep_trace: true,
        planted_bug: std::env::args().nth(2),
        ..Default::default()
    };
    let r = sim::run(sim::SimConfig::draw(seed), &opts);
    for e in &r.trace {
        println!("{}", e.canonical());
    }
    println!("{:?}", r.violation);
}
