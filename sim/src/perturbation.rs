//! Perturbations: the simulator changed the way ordinary code changes change it, to measure
//! whether a saved bundle still reproduces its failure afterwards.
//!
//! A bundle is only worth keeping if it survives changes that have nothing to do with the bug
//! it shows: a new random decision somewhere, a loop that sends in another order, a new kind
//! of message. Each [`Perturbation`] is one such change, compiled into the simulator so that
//! a test can switch it on ([`crate::RunOptions::perturbation`]); production never sets it.
//! [`survey`] replays a set of bundles under each perturbation and counts how many still fail
//! the same property (the figure README.md reports, `cargo xtask perturb`): replayed from the
//! bundle's recorded decisions, as `cargo xtask replay` does, and with every decision
//! derived afresh from its key, as a fresh run of the seed would.

use crate::bundle::Bundle;
use crate::checkers::Property;
use crate::world::RunOptions;
use std::fmt;

/// One kind of code change, applied everywhere it can apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Perturbation {
    /// Every random decision of the run (a message's fate and delay, a client hop, an fsync's
    /// latency, what a power loss tears, what a corruption damages, the nemesis's choices at
    /// run time) draws one value more before its own: what adding a new random choice next
    /// to an existing one does.
    ExtraDraw,
    /// Each batch of messages a node sends in one step leaves in descending order of the
    /// receiver (the messages to one receiver keep their order): a send loop over the peers
    /// that runs the other way.
    ReorderedSends,
    /// Every heartbeat is followed, to the same receiver, by a message of a new kind that the
    /// receiving host ignores (it goes through the network like any other: it can be lost,
    /// delayed or duplicated): one more message kind on the wire.
    ExtraMessage,
}

impl Perturbation {
    pub const ALL: [Perturbation; 3] = [
        Perturbation::ExtraDraw,
        Perturbation::ReorderedSends,
        Perturbation::ExtraMessage,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Perturbation::ExtraDraw => "extra-draw",
            Perturbation::ReorderedSends => "reordered-sends",
            Perturbation::ExtraMessage => "extra-message",
        }
    }
}

impl fmt::Display for Perturbation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one replay of a bundle gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The property the replay violated, if any.
    pub property: Option<Property>,
    /// The same property as the bundle's.
    pub same_property: bool,
    /// The same violation: property, time, node and detail.
    pub same_violation: bool,
}

/// How a replay takes the run's random decisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decisions {
    /// From the bundle's recording where their keys match (what `cargo xtask replay` does).
    Recorded,
    /// Every one derived afresh from its key, the recording ignored: what a fresh run of the
    /// same seed, script and workload does.
    Derived,
}

/// Replays `bundle` (with the bug it records planted, if any) under `perturbation`.
pub fn replay(
    bundle: &Bundle,
    perturbation: Option<Perturbation>,
    decisions: Decisions,
) -> Outcome {
    let mut options = RunOptions {
        perturbation,
        ..bundle.run_options(false)
    };
    if decisions == Decisions::Derived {
        options.decisions = None;
    }
    let report = crate::run(bundle.config.clone(), &options);
    let property = report.violation.as_ref().map(|v| v.property);
    Outcome {
        property,
        same_property: property == Some(bundle.violation.property),
        same_violation: report.violation.as_ref() == Some(&bundle.violation),
    }
}

/// One bundle's outcomes, unperturbed and under each perturbation asked for, with its
/// decisions recorded and derived.
#[derive(Clone, Debug)]
pub struct Row {
    pub name: String,
    pub property: Property,
    pub outcomes: Vec<(Option<Perturbation>, Decisions, Outcome)>,
}

/// Replays every bundle unperturbed and under each perturbation, both ways.
pub fn survey(bundles: &[(String, Bundle)], perturbations: &[Perturbation]) -> Vec<Row> {
    bundles
        .iter()
        .map(|(name, bundle)| {
            let mut outcomes = Vec::new();
            for p in std::iter::once(None).chain(perturbations.iter().copied().map(Some)) {
                for d in [Decisions::Recorded, Decisions::Derived] {
                    outcomes.push((p, d, replay(bundle, p, d)));
                }
            }
            Row {
                name: name.clone(),
                property: bundle.violation.property,
                outcomes,
            }
        })
        .collect()
}

/// How many rows reproduced their property (and their exact violation) under `perturbation`
/// with their decisions taken as `decisions` says.
pub fn tally(
    rows: &[Row],
    perturbation: Option<Perturbation>,
    decisions: Decisions,
) -> (usize, usize) {
    let outcomes = rows
        .iter()
        .filter_map(|r| {
            r.outcomes
                .iter()
                .find(|(p, d, _)| *p == perturbation && *d == decisions)
        })
        .map(|(_, _, o)| o);
    outcomes.fold((0, 0), |(property, exact), o| {
        (
            property + usize::from(o.same_property),
            exact + usize::from(o.same_violation),
        )
    })
}

/// The table of a survey: each perturbation's figures, recorded and derived.
pub fn render(rows: &[Row], perturbations: &[Perturbation]) -> String {
    let n = rows.len();
    let mut out = format!(
        "{:<16} {:>24} {:>24}\n",
        "perturbation", "replayed from bundles", "decisions derived afresh"
    );
    for p in std::iter::once(None).chain(perturbations.iter().copied().map(Some)) {
        let cell = |d| {
            let (property, exact) = tally(rows, p, d);
            format!("{property}/{n} ({exact} exact)")
        };
        out += &format!(
            "{:<16} {:>24} {:>24}\n",
            p.map_or("none", |p| p.name()),
            cell(Decisions::Recorded),
            cell(Decisions::Derived)
        );
    }
    out
}

/// The bundles the perturbation test measures: every regression fixture in
/// `fixtures/regressions/` (with the bug it guards planted), then the first failure of each
/// planted bug whose first failing seed `fixtures/pinned/trace-hashes.txt` pins (run from
/// the seed, its decisions recorded). `fixtures` is the fixtures directory.
#[cfg(feature = "planted-bugs")]
pub fn standard_bundles(
    fixtures: &std::path::Path,
) -> Result<Vec<(String, Bundle)>, crate::bundle::BundleError> {
    let io = |path: &std::path::Path, error| crate::bundle::BundleError::Io {
        path: path.display().to_string(),
        error,
    };
    let dir = fixtures.join("regressions");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| io(&dir, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut bundles = Vec::new();
    for path in paths {
        let mut bundle = Bundle::read(&path)?;
        bundle.planted_bug = bundle.guards.clone().or(bundle.planted_bug);
        let name = path.file_stem().unwrap_or_default().to_string_lossy();
        bundles.push((format!("fixture {name}"), bundle));
    }
    let pins_path = fixtures.join("pinned/trace-hashes.txt");
    let pins = std::fs::read_to_string(&pins_path).map_err(|e| io(&pins_path, e))?;
    for line in pins.lines() {
        let Some(rest) = line.strip_prefix("planted ") else {
            continue;
        };
        let mut words = rest.split(' ');
        let (Some(bug), Some("seed"), Some(seed)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        let Ok(seed) = seed.parse::<u64>() else {
            continue;
        };
        let options = RunOptions {
            planted_bug: Some(bug.to_string()),
            ..RunOptions::default()
        };
        // A stream-layer bug's seeds run the stream (`crate::planted::CatalogueBug`).
        let Some(catalogued) = crate::planted::find(bug) else {
            continue;
        };
        let mut config = crate::SimConfig::draw(seed);
        if let Some(machine) = catalogued.state_machine {
            config.state_machine = machine;
        }
        let report = crate::run(config, &options);
        if let Some(bundle) = Bundle::from_report(&report, format!("seed {seed}")) {
            bundles.push((format!("first failure {bug} (seed {seed})"), bundle));
        }
    }
    Ok(bundles)
}
