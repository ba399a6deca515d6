//! Prints the canonical trace of a bundle's replay:
//! `cargo run --release -p sim --features planted-bugs --example bundle_trace -- FILE`.
fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: bundle_trace FILE (a failure bundle written by sweep, hunt or shrink)");
        return std::process::ExitCode::from(2);
    };
    let bundle = match sim::bundle::Bundle::read(std::path::Path::new(&path)) {
        Ok(bundle) => bundle,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let report = bundle.run(true);
    for event in &report.trace {
        println!("{}", event.canonical());
    }
    println!("{:?}", report.violation);
    std::process::ExitCode::SUCCESS
}
