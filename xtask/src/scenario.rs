//! `cargo xtask scenario`: list the scripted scenarios, or run one and print its trace (the
//! text its golden snapshot holds), with the timeline views on request.

use crate::flags::Views;
use crate::shared::{catch_run, usage_error, write_file, Exit};
use clap::Args;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ScenarioArgs {
    /// List every scenario: family, name and what it checks.
    #[arg(long, conflicts_with = "name")]
    list: bool,
    /// The scenario to run (see --list), e.g. paper_figure8_previous_term_entry_not_committed_by_counting.
    #[arg(required_unless_present = "list")]
    name: Option<String>,
    #[command(flatten)]
    views: Views,
}

pub fn scenario_command(args: ScenarioArgs) -> ExitCode {
    if args.list {
        let all = scenarios::all();
        for s in &all {
            println!("{:<8} {:<64} {}", s.family, s.name, s.about);
        }
        let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
        for s in &all {
            *counts.entry(s.family).or_default() += 1;
        }
        let per: Vec<String> = counts.iter().map(|(f, c)| format!("{f} {c}")).collect();
        println!("{} scenarios ({})", all.len(), per.join(", "));
        return ExitCode::SUCCESS;
    }
    let name = args.name.expect("clap requires a name without --list");
    let Some(scenario) = scenarios::find(&name) else {
        return usage_error(&format!(
            "no scenario named {name:?}; `cargo xtask scenario --list` shows them"
        ));
    };
    if let Err(e) = args.views.check() {
        return usage_error(&e);
    }
    // The script's own panics are its failures, reported below with the trace up to the
    // failed step (`scenarios::run` catches them; this keeps them off stderr).
    let outcome = match catch_run(|| scenarios::run(&scenario)) {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("error: the scenario runner panicked: {e}");
            return Exit::Fail.into();
        }
    };
    print!(
        "{}",
        scenarios::render(scenario.name, scenario.about, &outcome.events)
    );
    let mut errors = Vec::new();
    if args.views.wanted() {
        let events = scenarios::view_events(&outcome.events);
        let verdict = match &outcome.error {
            Some(e) => format!("FAIL {e}"),
            None => "PASS".into(),
        };
        if let Some(path) = &args.views.perfetto {
            errors.extend(
                write_file(
                    path,
                    &sim::views::perfetto(&events, outcome.nodes),
                    "perfetto",
                )
                .err(),
            );
        }
        if let Some(path) = &args.views.html {
            let summary = format!(
                "{} nodes, {} events, {} script steps, verdict: {verdict}",
                outcome.nodes,
                events.len(),
                events.iter().filter(|e| e.kind == "script").count()
            );
            let page = sim::views::Page {
                title: scenario.name,
                summary: &summary,
                spare_nodes: 0,
                focus: None,
            };
            errors.extend(
                write_file(
                    path,
                    &sim::views::html_page(&events, outcome.nodes, &page),
                    "HTML view",
                )
                .err(),
            );
        }
    }
    let mut exit = match &outcome.error {
        Some(error) => {
            eprintln!("FAIL {error}");
            Exit::Fail
        }
        None => {
            println!("PASS {}", scenario.name);
            Exit::Pass
        }
    };
    for e in &errors {
        eprintln!("error: {e}");
        exit = exit.and(Exit::Error);
    }
    exit.into()
}
