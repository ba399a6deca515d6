//! Runs every scenario and compares its trace with the reviewed snapshot in
//! `tests/snapshots/<name>.snap`. A scenario fails on a failed assertion, a checker
//! violation, or a trace that differs from its snapshot. Review changes with
//! `cargo insta review` (or `INSTA_UPDATE=always cargo test -p scenarios` then `git diff`).

#[test]
fn every_scenario_matches_its_golden_trace() {
    let mut failures = Vec::new();
    for scenario in scenarios::all() {
        let outcome = scenarios::run(&scenario);
        if let Some(error) = outcome.error {
            failures.push(error);
            continue;
        }
        let text = scenarios::render(scenario.name, scenario.about, &outcome.events);
        let compared = std::panic::catch_unwind(|| {
            insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
                insta::assert_snapshot!(scenario.name, text);
            });
        });
        if compared.is_err() {
            failures.push(format!(
                "{}: trace differs from its snapshot",
                scenario.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} scenario(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn scenario_names_are_unique_and_prefixed_by_family() {
    let all = scenarios::all();
    let mut names: Vec<&str> = all.iter().map(|s| s.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), all.len(), "duplicate scenario names");
    for s in &all {
        let prefix = match s.family {
            "paper" => "paper_",
            "nrg" => "nrg_",
            "outages" => "outage_",
            "membership" => "member_",
            "stream" => "stream_",
            "repair" => "repair_",
            other => panic!("unknown family {other}"),
        };
        assert!(
            s.name.starts_with(prefix),
            "{} is not prefixed {prefix}",
            s.name
        );
        assert!(!s.about.is_empty(), "{} has no description", s.name);
    }
}

/// Every snapshot belongs to a scenario and every scenario has one: a renamed or deleted
/// scenario leaves no stale golden trace behind, and an empty scenario list cannot pass.
#[test]
fn snapshots_and_scenarios_match_one_to_one() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut snapshots: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().ok()?;
            name.strip_suffix(".snap").map(str::to_string)
        })
        .collect();
    snapshots.sort();
    let mut names: Vec<String> = scenarios::all()
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no scenarios");
    assert_eq!(snapshots, names);
}
