//! Perturbations: the simulator changed the way ordinary code changes change it, to measure
//! whether a saved bundle still reproduces its failure afterwards.
//!
//! A bundle is only worth keeping if it survives changes that have nothing to do with the bug
//! it shows: a new random decision somewhere, a loop that sends in another order, a new kind
//! of message. Each [`Perturbation`] is one such change, compiled into the simulator so that
//! a test can switch it on ([`crate::RunOptions::perturbation`]); production never sets it.
//! [`survey`] replays a set of bundles under each perturbation and counts how many still fail
//! the same property (the figure README.md reports, `cargo xtask perturb`).

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

/// Replays `bundle` (with the bug it records planted, if any) under `perturbation`.
pub fn replay(bundle: &Bundle, perturbation: Option<Perturbation>) -> Outcome {
    let options = RunOptions {
        perturbation,
        ..bundle.run_options(false)
    };
    let report = crate::run(bundle.config.clone(), &options);
    let property = report.violation.as_ref().map(|v| v.property);
    Outcome {
        property,
        same_property: property == Some(bundle.violation.property),
        same_violation: report.violation.as_ref() == Some(&bundle.violation),
    }
}

/// One bundle's outcomes: unperturbed first, then one per perturbation asked for.
#[derive(Clone, Debug)]
pub struct Row {
    pub name: String,
    pub property: Property,
    pub outcomes: Vec<(Option<Perturbation>, Outcome)>,
}

/// Replays every bundle unperturbed and under each perturbation.
pub fn survey(bundles: &[(String, Bundle)], perturbations: &[Perturbation]) -> Vec<Row> {
    bundles
        .iter()
        .map(|(name, bundle)| {
            let outcomes = std::iter::once(None)
                .chain(perturbations.iter().copied().map(Some))
                .map(|p| (p, replay(bundle, p)))
                .collect();
            Row {
                name: name.clone(),
                property: bundle.violation.property,
                outcomes,
            }
        })
        .collect()
}

/// How many rows reproduced their property (and their exact violation) under `perturbation`.
pub fn tally(rows: &[Row], perturbation: Option<Perturbation>) -> (usize, usize) {
    let outcomes = rows
        .iter()
        .filter_map(|r| r.outcomes.iter().find(|(p, _)| *p == perturbation))
        .map(|(_, o)| o);
    outcomes.fold((0, 0), |(property, exact), o| {
        (
            property + usize::from(o.same_property),
            exact + usize::from(o.same_violation),
        )
    })
}
