//! `cargo xtask perturb`: replays bundles with the simulator changed the way unrelated code
//! changes change it (`sim::perturbation`) and counts how many still fail the same property.

use crate::shared::usage_error;
use clap::Args;
use sim::bundle::Bundle;
use sim::perturbation::{self, Decisions, Perturbation};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args)]
pub struct PerturbArgs {
    /// Bundles to measure. Default: every regression fixture (with the bug it guards
    /// planted) and each planted bug's first failing seed pinned in
    /// fixtures/pinned/trace-hashes.txt.
    bundles: Vec<PathBuf>,
    /// One line per bundle and perturbation: which property each replay failed.
    #[arg(long)]
    per_bundle: bool,
}

pub fn perturb_command(args: PerturbArgs) -> ExitCode {
    let started = Instant::now();
    let bundles = if args.bundles.is_empty() {
        match perturbation::standard_bundles(std::path::Path::new("fixtures")) {
            Ok(b) => b,
            Err(e) => return usage_error(&format!("{e} (run from the project's root)")),
        }
    } else {
        let mut bundles = Vec::new();
        for path in &args.bundles {
            match Bundle::read(path) {
                Ok(mut b) => {
                    b.planted_bug = b.guards.clone().or(b.planted_bug);
                    bundles.push((path.display().to_string(), b));
                }
                Err(e) => return usage_error(&e.to_string()),
            }
        }
        bundles
    };
    eprintln!(
        "replaying {} bundles, unperturbed and under {} perturbations, each with its recorded \
         decisions and with every decision derived afresh",
        bundles.len(),
        Perturbation::ALL.len()
    );
    let rows = perturbation::survey(&bundles, &Perturbation::ALL);
    if args.per_bundle {
        for row in &rows {
            for (p, d, o) in &row.outcomes {
                let got = o.property.map_or("pass", |p| p.name());
                println!(
                    "{:<50} {:<16} {:<8} {} {}",
                    row.name,
                    p.map_or("none", |p| p.name()),
                    match d {
                        Decisions::Recorded => "recorded",
                        Decisions::Derived => "derived",
                    },
                    got,
                    if o.same_violation {
                        "(exact)"
                    } else if o.same_property {
                        "(same property)"
                    } else {
                        "(DIFFERENT)"
                    }
                );
            }
        }
    }
    print!("{}", perturbation::render(&rows, &Perturbation::ALL));
    let n = rows.len();
    let short: Vec<&str> = Perturbation::ALL
        .iter()
        .filter(|&&p| perturbation::tally(&rows, Some(p), Decisions::Recorded).0 * 10 < n * 9)
        .map(|p| p.name())
        .collect();
    println!("total {:.1}s", started.elapsed().as_secs_f64());
    if short.is_empty() {
        println!("every perturbation: at least 9 in 10 bundles still fail the same property");
        ExitCode::SUCCESS
    } else {
        println!(
            "BELOW 9 IN 10: {} (bundles that no longer reproduce guard nothing)",
            short.join(", ")
        );
        ExitCode::from(1)
    }
}
