fn main() {
    let seed: u64 = std::env::args().nth(1).unwrap().parse().unwrap();
    let opts = sim::RunOptions {
        keep_trace: true,
        ..Default::default()
    };
    let r = sim::run(sim::SimConfig::draw(seed), &opts);
    for e in &r.trace {
        println!("{}", e.canonical());
    }
    println!("{:?}", r.violation);
}
