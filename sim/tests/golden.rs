//! Golden traces: the canonical trace of a few pinned seeds (short runs with faults) is
//! compared with a reviewed snapshot in `fixtures/golden/`. A change in behaviour shows up as a
//! diff; review it with `cargo insta review` and accept only changes you meant (see README).

use sim::{RunOptions, SimConfig};

fn golden(seed: u64) -> String {
    let mut config = SimConfig::draw(seed);
    config.chaos_us = 600_000;
    config.workload.clients = config.workload.clients.min(2);
    let report = sim::run(
        config,
        &RunOptions {
            keep_trace: true,
            ..Default::default()
        },
    );
    let mut text = format!(
        "# seed {seed}: {} nodes, verdict {}\n",
        report.config.nodes,
        report
            .violation
            .as_ref()
            .map_or("PASS".to_string(), |v| v.to_string())
    );
    for event in &report.trace {
        text.push_str(&event.canonical());
        text.push('\n');
    }
    text
}

macro_rules! golden_seed {
    ($name:ident, $seed:expr) => {
        #[test]
        fn $name() {
            insta::with_settings!({ snapshot_path => "../../fixtures/golden", prepend_module_to_snapshot => false }, {
                insta::assert_snapshot!(stringify!($name), golden($seed));
            });
        }
    };
}

golden_seed!(seed_123, 123);
golden_seed!(seed_186, 186);
golden_seed!(seed_42, 42);
