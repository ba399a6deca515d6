//! Flag groups that several commands flatten into theirs: the knobs that override what a seed
//! draws (and the command line that reproduces them), and the views of a run's trace.

use crate::shared::write_file;
use clap::Args;
use sim::{RunReport, SimConfig};

/// Knobs that override what the seed draws. Unset knobs keep the drawn value.
#[derive(Args, Clone, Debug, Default)]
pub struct Overrides {
    /// Cluster size (the seed draws 3, 5 or 7).
    #[arg(long)]
    nodes: Option<usize>,
    /// Switch every fault off: lossless network, healthy disks, no nemesis.
    #[arg(long)]
    no_faults: bool,
    /// Per-message drop probability, parts per million.
    #[arg(long, value_name = "PPM")]
    drop_ppm: Option<u32>,
    /// Per-message duplication probability, parts per million.
    #[arg(long, value_name = "PPM")]
    duplicate_ppm: Option<u32>,
    /// Length of the chaos phase in virtual seconds (faults stop after it).
    #[arg(long, value_name = "SECONDS")]
    chaos_secs: Option<u64>,
    /// Number of simulated clients.
    #[arg(long)]
    clients: Option<usize>,
    /// The state machine the hosts run on top of Raft: `kv` (the key-value store) or
    /// `stream` (a JetStream-like stream with atomic batch publish). The seed draws the
    /// stream for about one seed in four.
    #[arg(long, value_name = "kv|stream", value_parser = parse_state_machine)]
    state_machine: Option<sim::StateMachine>,
}

fn parse_state_machine(name: &str) -> Result<sim::StateMachine, String> {
    sim::StateMachine::from_name(name)
        .ok_or_else(|| format!("unknown state machine {name:?}: kv or stream"))
}

impl Overrides {
    pub fn apply(&self, mut config: SimConfig) -> Result<SimConfig, String> {
        if let Some(n) = self.nodes {
            config.nodes = n;
        }
        if self.no_faults {
            config = config.without_faults();
        }
        if let Some(ppm) = self.drop_ppm {
            config.faults.drop_ppm = ppm;
        }
        if let Some(ppm) = self.duplicate_ppm {
            config.faults.duplicate_ppm = ppm;
        }
        if let Some(secs) = self.chaos_secs {
            config.chaos_us = secs * 1_000_000;
        }
        if let Some(c) = self.clients {
            config.workload.clients = c;
        }
        if let Some(m) = self.state_machine {
            config.state_machine = m;
        }
        config.validate()?;
        Ok(config)
    }

    /// The flags that reproduce these overrides.
    pub fn flags(&self) -> String {
        let mut out = String::new();
        if let Some(n) = self.nodes {
            out += &format!(" --nodes {n}");
        }
        if self.no_faults {
            out += " --no-faults";
        }
        if let Some(p) = self.drop_ppm {
            out += &format!(" --drop-ppm {p}");
        }
        if let Some(p) = self.duplicate_ppm {
            out += &format!(" --duplicate-ppm {p}");
        }
        if let Some(s) = self.chaos_secs {
            out += &format!(" --chaos-secs {s}");
        }
        if let Some(c) = self.clients {
            out += &format!(" --clients {c}");
        }
        if let Some(m) = self.state_machine {
            out += &format!(" --state-machine {}", m.name());
        }
        out
    }
}

/// The command that reproduces seed `seed` with these overrides (printed with a failure and
/// kept in its bundle).
pub fn repro(seed: u64, overrides: &Overrides) -> String {
    format!("cargo xtask sim --seed {seed}{}", overrides.flags())
}

/// Views of the run's trace.
#[derive(Args, Clone, Debug, Default)]
pub struct Views {
    /// Write Chrome trace-event JSON (open it in ui.perfetto.dev).
    #[arg(long, value_name = "FILE")]
    pub perfetto: Option<std::path::PathBuf>,
    /// Write a self-contained HTML space-time diagram of the run.
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,
}

impl Views {
    pub fn wanted(&self) -> bool {
        self.perfetto.is_some() || self.html.is_some()
    }

    /// Writes the requested views; returns false (after printing why) on an I/O error.
    pub fn write(&self, report: &RunReport, title: &str) -> bool {
        let mut ok = true;
        if let Some(path) = &self.perfetto {
            ok &= write_file(
                path,
                &sim::views::perfetto(&report.trace, report.config.nodes),
                "perfetto trace",
            );
        }
        if let Some(path) = &self.html {
            let summary = format!(
                "{} nodes, {} events, verdict: {}",
                report.config.nodes,
                report.stats.events,
                report
                    .violation
                    .as_ref()
                    .map_or("PASS".to_string(), |v| v.to_string())
            );
            ok &= write_file(
                path,
                &sim::views::html(&report.trace, report.config.nodes, title, &summary),
                "HTML view",
            );
        }
        ok
    }
}
