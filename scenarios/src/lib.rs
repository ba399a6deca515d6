//! Scripted scenarios with golden traces.
//!
//! A scenario is a plain Rust function that drives a [`Script`]: it builds a cluster, then
//! ticks, campaigns, proposes, delivers/drops/duplicates/reorders specific messages, cuts
//! links, stalls disks, crashes and restarts nodes, and asserts state at its key points. It
//! runs on the simulator's own host in scripted mode ([`sim::world::scripted`]): the same
//! disks, recovery code and safety checkers as the random runs. Its output is its trace
//! ([`render`]), compared with a reviewed snapshot by `tests/golden.rs`.
//!
//! Families: [`paper`] (Raft paper figures), [`nrg`] (ports of the NATS server's raft tests),
//! [`outages`] (real outages and bug reports), [`membership`] (membership and leadership
//! rules the random membership nemesis exercises), [`repair`] (protocol-aware recovery of
//! damaged storage; [`leader_repair`] when no intact node can lead). Every scenario is listed in [`all`].

pub mod leader_repair;
pub mod membership;
pub mod nrg;
pub mod outages;
pub mod paper;
pub mod repair;
pub mod script;
pub mod stream;

pub use script::{ae, ar, entry, vq, vr, Script, Sel, Setup};
use sim::trace::TraceEvent;

/// One scenario: its name (`paper_`, `nrg_`, `outage_` or `member_` + what it shows), its family, one
/// line saying what it checks, and the script.
#[derive(Clone, Copy)]
pub struct Scenario {
    pub name: &'static str,
    pub family: &'static str,
    pub about: &'static str,
    pub run: Runner,
}

/// A scenario's function, by the application its hosts run.
#[derive(Clone, Copy)]
pub enum Runner {
    /// The key-value store (every family but the stream's).
    Kv(fn(&mut Script)),
    /// The stream (`stream.rs`).
    Stream(fn(&mut Script<sim::stream::StreamApp>)),
}

/// Registers scenario functions of one family: `scenarios!("nrg", "nrg_", [(fn_name, "about"), ...])`.
#[macro_export]
macro_rules! scenarios {
    ($family:expr, $prefix:expr, [$(($f:ident, $about:expr)),* $(,)?]) => {
        $crate::scenarios!($family, $prefix, Kv, [$(($f, $about)),*]);
    };
    ($family:expr, $prefix:expr, $runner:ident, [$(($f:ident, $about:expr)),* $(,)?]) => {
        pub const SCENARIOS: &[$crate::Scenario] = &[
            $($crate::Scenario {
                name: concat!($prefix, stringify!($f)),
                family: $family,
                about: $about,
                run: $crate::Runner::$runner($f),
            }),*
        ];
    };
}

/// Every scenario, family by family.
pub fn all() -> Vec<Scenario> {
    let mut all = Vec::new();
    all.extend_from_slice(paper::SCENARIOS);
    all.extend_from_slice(nrg::SCENARIOS);
    all.extend_from_slice(outages::SCENARIOS);
    all.extend_from_slice(membership::SCENARIOS);
    all.extend_from_slice(repair::SCENARIOS);
    all.extend_from_slice(leader_repair::SCENARIOS);
    all.extend_from_slice(stream::SCENARIOS);
    all
}

pub fn find(name: &str) -> Option<Scenario> {
    all().into_iter().find(|s| s.name == name)
}

/// What running a scenario produced.
pub struct Outcome {
    /// The trace so far (complete when `error` is None).
    pub events: Vec<TraceEvent>,
    pub nodes: usize,
    /// The first failed assertion or checker violation.
    pub error: Option<String>,
}

/// Runs a scenario to its end or its first failure (a panic in the script is caught and
/// reported with the trace up to that point).
pub fn run(scenario: &Scenario) -> Outcome {
    match scenario.run {
        Runner::Kv(f) => run_with(scenario.name, f),
        Runner::Stream(f) => run_with(scenario.name, f),
    }
}

fn run_with<A: sim::app::Application>(name: &'static str, f: fn(&mut Script<A>)) -> Outcome {
    let mut script = Script::<A>::new(name);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        f(&mut script);
        script.finish();
    }));
    let error = result.err().map(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panicked".into())
    });
    Outcome {
        events: script.events().to_vec(),
        nodes: script.nodes(),
        error,
    }
}

pub fn render(name: &str, about: &str, events: &[TraceEvent]) -> String {
    let mut out = format!("# {name}\n# {about}\n");
    for e in events {
        if e.kind == "script" {
            out.push_str("> ");
            out.push_str(e.field("step").unwrap_or(""));
            out.push('\n');
            continue;
        }
        out.push_str("  ");
        match e.node {
            Some(n) => out.push_str(&format!("n{n:<2}")),
            None => out.push_str("-  "),
        }
        out.push(' ');
        out.push_str(e.kind);
        for (key, value) in &e.fields {
            match *key {
                "done_at" | "arrive" | "down_us" => {}
                "what" if e.kind == "persist" => {
                    if !value.is_empty() {
                        out.push(' ');
                        out.push_str(value);
                    }
                }
                _ => {
                    out.push(' ');
                    out.push_str(key);
                    out.push('=');
                    out.push_str(value);
                }
            }
        }
        out.push('\n');
    }
    out
}

/// The trace prepared for the timeline views: each scripted send gets the `arrive` time of
/// its delivery (or loss), so the views draw it as an arrow.
pub fn view_events(events: &[TraceEvent]) -> Vec<TraceEvent> {
    let mut out = events.to_vec();
    let mut arrivals: std::collections::HashMap<String, Vec<u64>> = Default::default();
    for e in events {
        if matches!(e.kind, "recv" | "cut" | "lost") {
            if let Some(id) = e.field("id") {
                arrivals.entry(id.to_string()).or_default().push(e.time);
            }
        }
    }
    for e in out.iter_mut().filter(|e| e.kind == "send") {
        if let Some(times) = e.field("id").and_then(|id| arrivals.get(id)) {
            let list: Vec<String> = times.iter().map(|t| t.to_string()).collect();
            e.fields.push(("arrive", list.join(",")));
        }
    }
    out
}
