//! Flag groups that several commands flatten into theirs: the knobs that override what a seed
//! draws (and the command line that reproduces them), and the views of a run's trace.

use crate::shared::{check_output, write_file};
use clap::Args;
use sim::{RunReport, SimConfig};
use std::path::PathBuf;

/// Knobs that override what the seed draws. Unset knobs keep the drawn value. Every value
/// in a flag's range gives a valid configuration for every seed, so a sweep never meets a
/// seed its flags do not fit.
#[derive(Args, Clone, Debug, Default)]
pub struct Overrides {
    /// Cluster size, 1..=9 (the seed draws 3, 5 or 7). The seed's spare nodes (outside the
    /// membership, the highest-numbered) are kept while a voter is left, else cut.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=9))]
    nodes: Option<u64>,
    /// Spare nodes, 0..=8: the highest-numbered nodes start outside the membership for the
    /// membership nemesis to add. Needs --nodes, and fewer spares than nodes.
    #[arg(long, value_name = "N", requires = "nodes",
          value_parser = clap::value_parser!(u64).range(0..=8))]
    spare_nodes: Option<u64>,
    /// Switch every fault off: lossless network, healthy disks, no nemesis.
    #[arg(long)]
    no_faults: bool,
    /// Per-message drop probability, parts per million, 0..=999999.
    #[arg(long, value_name = "PPM", value_parser = clap::value_parser!(u32).range(0..=999_999))]
    drop_ppm: Option<u32>,
    /// Per-message duplication probability, parts per million, 0..=1000000.
    #[arg(long, value_name = "PPM", value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    duplicate_ppm: Option<u32>,
    /// Length of the chaos phase in virtual seconds, 1..=3600 (faults stop after it; the
    /// seed draws 10).
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    chaos_secs: Option<u64>,
    /// Number of simulated clients, 1..=64 (the seed draws 1..=6).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=64))]
    clients: Option<u64>,
    /// The state machine the hosts run on top of Raft: `kv` (the key-value store) or
    /// `stream` (a JetStream-like stream with atomic batch publish). The seed draws the
    /// stream for about one seed in four.
    #[arg(long, value_name = "kv|stream", value_parser = parse_state_machine)]
    state_machine: Option<sim::StateMachine>,
    /// Weight of disk damage among the nemesis's actions, 0..=1000 (the seed draws 0..=3
    /// against about 50 for the rest). Damage strikes any node, the leader, the WAL (a bit
    /// flip, a zeroed sector, a lost or a misdirected write), the snapshot, the peer-state
    /// file or one copy of the term/vote record; the fault atlas lets
    /// a strike through only while a majority of the voters stays undamaged, an intact voter
    /// can still win an election and every node keeps an intact copy of its term/vote
    /// record, and the damaged node must be repaired (from the leader, or from its other
    /// copy).
    #[arg(long, value_name = "W", value_parser = clap::value_parser!(u32).range(0..=1000))]
    corrupt_weight: Option<u32>,
    /// Let disk damage destroy every copy: each strike damages every node at once and
    /// restarts them all. The cluster must then halt (the run reports the nodes still
    /// repairing, and those that lost every copy of their term/vote record and did not
    /// start, as halted) rather than serve a log that lost a committed entry.
    #[arg(long)]
    damage_every_copy: bool,
    /// How many write or fsync errors (write EIO, write ENOSPC, fsync EIO) strike during the
    /// chaos phase, 0..=1000 (about one seed in eight draws 1..=3). Each fails the next
    /// persist of a node or of the leader: the node must not treat it as durable (the disk
    /// drops its unsynced WAL bytes) and keeps a sticky error — no acknowledgement, vote,
    /// campaign or proposal — until its supervisor restarts it, at the latest when the
    /// faults stop.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=1000))]
    write_errors: Option<u32>,
    /// How many times a node loses the disk holding its log (its WAL and snapshot; the
    /// term/vote and peer-state files survive) during the chaos phase, 0..=1000 (about one
    /// seed in ten draws 1..=2). A loss strikes only while every entry the node acknowledged
    /// is held by a majority of the voters without it, one disk at a time as an operator
    /// would (otherwise it is declined and traced); the node boots with an empty log and its
    /// leader must bring it back.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=1000))]
    disk_losses: Option<u32>,
    /// How many clock faults strike during the chaos phase, 0..=1000 (about one seed in six
    /// draws 1..=4): a node's clock changes its rate (up to 30% off the nominal tick), jumps
    /// forward (up to two maximum election timeouts of ticks at once) or stalls (no tick,
    /// messages still handled). Every clock is back at its drawn drift when the faults stop.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=1000))]
    clock_faults: Option<u32>,
    /// Snapshot-heavy run: the application snapshots as soon as N entries were applied past
    /// its last snapshot, 1..=100000 (about one seed in six draws 4..=32), so lagging and
    /// divergent followers are caught up by snapshot. 0 turns it off.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(0..=100_000))]
    compact_every: Option<u64>,
    /// With --compact-every (or a snapshot-heavy seed): the most data bytes a message
    /// carries, and so the size of a snapshot chunk, 16..=262144 (the seed draws 1024 or
    /// 4096; 1024 when only --compact-every is given).
    #[arg(long, value_name = "B", value_parser = clap::value_parser!(u64).range(16..=262_144))]
    snapshot_chunk_bytes: Option<u64>,
    /// Sticky readers, 0..=64: how many clients (the lowest-numbered) keep sending their
    /// reads to the node where a read last succeeded, for half a second to four seconds
    /// (drawn for each stay), even when that node was deposed or cut off since, instead of
    /// following its redirect or moving on at a timeout (connection affinity). Their writes
    /// look for the leader as usual. 0 turns them off; about two seeds in three draw
    /// half of the clients or more.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(0..=64))]
    sticky_readers: Option<u64>,
    /// Bounded log cache: each node keeps at most B bytes of entry payloads in memory,
    /// 0..=1073741824 (about one seed in four draws 0 to 4096). Payloads of entries that are
    /// durable and applied leave memory past it, and a leader reads them back from its WAL
    /// to catch a follower up.
    #[arg(long, value_name = "B", value_parser = clap::value_parser!(u64).range(0..=1_073_741_824))]
    log_cache_bytes: Option<u64>,
    /// Probability that a leader's read of its log (for payloads the cache dropped) fails
    /// with EIO, parts per million, 0..=900000 (two seeds of three with a cache draw 50000
    /// to 300000). The leader must send nothing built on a failed read. On a seed without a
    /// cache, gives it a 256-byte one.
    #[arg(long, value_name = "PPM", value_parser = clap::value_parser!(u32).range(0..=900_000))]
    read_error_ppm: Option<u32>,
    /// Plant a catalogued bug in every node (`cargo xtask hunt --list` shows them; the
    /// hunt's repro lines use this). A stream-layer bug runs the stream unless
    /// --state-machine says otherwise.
    #[arg(long, value_name = "BUG", value_parser = planted_bug_names())]
    plant: Option<String>,
}

fn planted_bug_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(sim::planted::catalogue().into_iter().map(|b| b.name))
}

fn parse_state_machine(name: &str) -> Result<sim::StateMachine, String> {
    sim::StateMachine::from_name(name)
        .ok_or_else(|| format!("unknown state machine {name:?}: kv or stream"))
}

impl Overrides {
    /// Checks what clap's ranges cannot: the flags that depend on each other.
    pub fn check(&self) -> Result<(), String> {
        if let (Some(nodes), Some(spares)) = (self.nodes, self.spare_nodes) {
            if spares >= nodes {
                return Err(format!(
                    "--spare-nodes {spares} with --nodes {nodes} leaves no voter (spare nodes \
                     start outside the membership): use fewer spares than nodes"
                ));
            }
        }
        if self.snapshot_chunk_bytes.is_some() && self.compact_every.is_none_or(|n| n == 0) {
            return Err(
                "--snapshot-chunk-bytes sets the chunk size of a snapshot-heavy run: give \
                 --compact-every N (N > 0) with it"
                    .to_string(),
            );
        }
        Ok(())
    }

    /// The configuration of `seed` with these overrides. The flags' ranges make it valid for
    /// every seed; an error would name the flag whose value does not fit.
    pub fn config(&self, seed: u64) -> Result<SimConfig, String> {
        self.check()?;
        let mut config = SimConfig::draw(seed);
        if let Some(n) = self.nodes {
            let (drawn, n) = (config.nodes, n as usize);
            config.nodes = n;
            config.faults.spare_nodes =
                sim::bundle::spares_after_cut(config.faults.spare_nodes, drawn, n);
        }
        if self.no_faults {
            config = config.without_faults();
        }
        if let Some(spares) = self.spare_nodes {
            config.faults.spare_nodes = spares as usize;
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
            config.workload.clients = c as usize;
        }
        if let Some(w) = self.corrupt_weight {
            config.faults.corrupt_weight = w;
        }
        if self.damage_every_copy {
            config.faults.damage_every_copy = true;
        }
        if let Some(n) = self.write_errors {
            config.faults.write_errors = n;
        }
        if let Some(n) = self.disk_losses {
            config.faults.disk_losses = n;
        }
        if let Some(n) = self.clock_faults {
            config.faults.clock_faults = n;
        }
        match self.compact_every {
            Some(0) => config.compaction = None,
            Some(every) => {
                let drawn = config.compaction.map_or(1024, |c| c.max_bytes_per_message);
                config.compaction = Some(sim::config::Compaction {
                    every_entries: every,
                    max_bytes_per_message: drawn,
                });
            }
            None => {}
        }
        if let (Some(bytes), Some(c)) = (self.snapshot_chunk_bytes, config.compaction.as_mut()) {
            c.max_bytes_per_message = bytes as usize;
        }
        if let Some(n) = self.sticky_readers {
            sim::config::StickyReaders::set(&mut config, n as usize);
        }
        if let Some(bytes) = self.log_cache_bytes {
            let ppm = config.log_cache.map_or(0, |c| c.read_error_ppm);
            config.log_cache = Some(sim::config::LogCache {
                bytes: bytes as usize,
                read_error_ppm: ppm,
            });
        }
        if let Some(ppm) = self.read_error_ppm {
            let cache = config.log_cache.get_or_insert(sim::config::LogCache {
                bytes: 256,
                read_error_ppm: 0,
            });
            cache.read_error_ppm = ppm;
        }
        let planted_needs = self
            .plant
            .as_deref()
            .and_then(sim::planted::find)
            .and_then(|b| b.state_machine);
        if let Some(m) = self.state_machine.or(planted_needs) {
            config.state_machine = m;
        }
        config.validate().map_err(|e| {
            format!(
                "seed {seed}: {} {} (the seed's configuration with these flags is invalid)",
                flag_of(e.field),
                e.problem
            )
        })?;
        Ok(config)
    }

    pub fn planted_bug(&self) -> Option<String> {
        self.plant.clone()
    }

    /// The flags that reproduce these overrides.
    pub fn flags(&self) -> String {
        let mut out = String::new();
        if let Some(n) = self.nodes {
            out += &format!(" --nodes {n}");
        }
        if let Some(n) = self.spare_nodes {
            out += &format!(" --spare-nodes {n}");
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
        if let Some(w) = self.corrupt_weight {
            out += &format!(" --corrupt-weight {w}");
        }
        if self.damage_every_copy {
            out += " --damage-every-copy";
        }
        if let Some(n) = self.write_errors {
            out += &format!(" --write-errors {n}");
        }
        if let Some(n) = self.disk_losses {
            out += &format!(" --disk-losses {n}");
        }
        if let Some(n) = self.clock_faults {
            out += &format!(" --clock-faults {n}");
        }
        if let Some(n) = self.compact_every {
            out += &format!(" --compact-every {n}");
        }
        if let Some(b) = self.snapshot_chunk_bytes {
            out += &format!(" --snapshot-chunk-bytes {b}");
        }
        if let Some(n) = self.sticky_readers {
            out += &format!(" --sticky-readers {n}");
        }
        if let Some(b) = self.log_cache_bytes {
            out += &format!(" --log-cache-bytes {b}");
        }
        if let Some(p) = self.read_error_ppm {
            out += &format!(" --read-error-ppm {p}");
        }
        if let Some(bug) = &self.plant {
            out += &format!(" --plant {bug}");
        }
        out
    }
}

/// The flag that sets a configuration field (the field's own path when no flag does).
fn flag_of(field: &str) -> String {
    match field {
        "nodes" => "--nodes",
        "faults.spare_nodes" => "--spare-nodes",
        "faults.drop_ppm" => "--drop-ppm",
        "faults.duplicate_ppm" => "--duplicate-ppm",
        "chaos_us" => "--chaos-secs",
        "workload.clients" => "--clients",
        "faults.corrupt_weight" => "--corrupt-weight",
        "faults.write_errors" => "--write-errors",
        "faults.disk_losses" => "--disk-losses",
        "faults.clock_faults" => "--clock-faults",
        "compaction.every_entries" => "--compact-every",
        "compaction.max_bytes_per_message" => "--snapshot-chunk-bytes",
        "log_cache.bytes" => "--log-cache-bytes",
        "log_cache.read_error_ppm" => "--read-error-ppm",
        other => return format!("the drawn {other}"),
    }
    .to_string()
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
    pub perfetto: Option<PathBuf>,
    /// Write a self-contained HTML space-time diagram of the run.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

impl Views {
    pub fn wanted(&self) -> bool {
        self.perfetto.is_some() || self.html.is_some()
    }

    /// Checks, before the run, that the views can be written.
    pub fn check(&self) -> Result<(), String> {
        if let Some(path) = &self.perfetto {
            check_output(path, "--perfetto")?;
        }
        if let Some(path) = &self.html {
            check_output(path, "--html")?;
        }
        Ok(())
    }

    /// Writes the requested views of a run; the errors say which could not be written.
    pub fn write(&self, report: &RunReport, title: &str) -> Vec<String> {
        let mut errors = Vec::new();
        if let Some(path) = &self.perfetto {
            let text = sim::views::perfetto(&report.trace, report.config.nodes);
            errors.extend(write_file(path, &text, "perfetto").err());
        }
        if let Some(path) = &self.html {
            let summary = format!(
                "{} nodes ({} spare), {} events, verdict: {}",
                report.config.nodes,
                report.config.faults.spare_nodes,
                report.stats.events,
                match &report.violation {
                    Some(v) => format!("FAIL ({})", v.property),
                    None => report.verdict().name().to_string(),
                }
            );
            let page = sim::views::Page {
                title,
                summary: &summary,
                spare_nodes: report.config.faults.spare_nodes,
                focus: sim::views::focus(report),
            };
            let text = sim::views::html_page(&report.trace, report.config.nodes, &page);
            errors.extend(write_file(path, &text, "HTML view").err());
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overrides(args: &[&str]) -> Overrides {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            overrides: Overrides,
        }
        let mut all = vec!["test"];
        all.extend_from_slice(args);
        <Cli as clap::Parser>::try_parse_from(all)
            .unwrap()
            .overrides
    }

    #[test]
    fn every_value_in_the_flags_ranges_fits_every_seed() {
        for args in [
            &["--nodes", "1"][..],
            &["--nodes", "2"],
            &["--nodes", "9"],
            &["--nodes", "9", "--spare-nodes", "8"],
            &["--nodes", "2", "--spare-nodes", "1", "--no-faults"],
            &["--clients", "64", "--chaos-secs", "3600"],
            &["--clients", "1", "--chaos-secs", "1"],
            &["--drop-ppm", "999999", "--duplicate-ppm", "1000000"],
            &["--drop-ppm", "0", "--duplicate-ppm", "0", "--no-faults"],
        ] {
            let o = overrides(args);
            for seed in 0..2_000 {
                if let Err(e) = o.config(seed) {
                    panic!("{args:?}: {e}");
                }
            }
        }
    }

    #[test]
    fn fewer_nodes_cut_the_drawn_spares_and_keep_a_voter() {
        let o = overrides(&["--nodes", "1"]);
        let seed = (0..500)
            .find(|&s| SimConfig::draw(s).faults.spare_nodes > 0)
            .expect("some seed draws spare nodes");
        let config = o.config(seed).unwrap();
        assert_eq!((config.nodes, config.faults.spare_nodes), (1, 0));
    }

    #[test]
    fn dependent_flags_are_checked_and_errors_name_flags() {
        let o = overrides(&["--nodes", "3", "--spare-nodes", "3"]);
        let error = o.config(0).unwrap_err();
        assert!(error.contains("--spare-nodes 3 with --nodes 3"), "{error}");
        assert_eq!(flag_of("faults.drop_ppm"), "--drop-ppm");
        assert_eq!(flag_of("faults.spare_nodes"), "--spare-nodes");
    }

    #[test]
    fn the_repro_flags_parse_back_to_the_same_overrides() {
        let args = [
            "--nodes",
            "5",
            "--spare-nodes",
            "1",
            "--drop-ppm",
            "10",
            "--chaos-secs",
            "2",
            "--plant",
            "vote-before-durable",
        ];
        let o = overrides(&args);
        let again: Vec<String> = o.flags().split_whitespace().map(String::from).collect();
        assert_eq!(again, args);
    }
}
