//! Prints the canonical trace of a bundle's replay:
//! `cargo run --release -p sim --features planted-bugs --example bundle_trace -- FILE`.
fn main() {
    let path = std::env::args().nth(1).expect("a bundle file");
    let bundle = sim::bundle::Bundle::read(std::path::Path::new(&path)).expect("a readable bundle");
    let report = bundle.run(true);
    for event in &report.trace {
        println!("{}", event.canonical());
    }
    println!("{:?}", report.violation);
}
