//! `cargo xtask scenario`: list the scripted scenarios, or run one and print its trace (the
//! text its golden snapshot holds), with the timeline views on request.

use crate::flags::Views;
use crate::shared::write_file;
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
        eprintln!("error: no scenario named {name:?}; `cargo xtask scenario --list` shows them");
        return ExitCode::from(2);
    };
    // The script's own panics are reported below, with the trace up to the failed step.
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = scenarios::run(&scenario);
    let _ = std::panic::take_hook();
    print!(
        "{}",
        scenarios::render(scenario.name, scenario.about, &outcome.events)
    );
    let mut ok = true;
    if args.views.wanted() {
        let events = scenarios::view_events(&outcome.events);
        let verdict = outcome.error.clone().unwrap_or_else(|| "PASS".into());
        if let Some(path) = &args.views.perfetto {
            ok &= write_file(
                path,
                &sim::views::perfetto(&events, outcome.nodes),
                "perfetto trace",
            );
        }
        if let Some(path) = &args.views.html {
            let summary = format!(
                "{} nodes, {} events, verdict: {verdict}",
                outcome.nodes,
                events.len()
            );
            ok &= write_file(
                path,
                &sim::views::html(&events, outcome.nodes, scenario.name, &summary),
                "HTML view",
            );
        }
    }
    match outcome.error {
        Some(error) => {
            eprintln!("FAIL {error}");
            ExitCode::from(1)
        }
        None if ok => {
            println!("PASS {}", scenario.name);
            ExitCode::SUCCESS
        }
        None => ExitCode::from(1),
    }
}
