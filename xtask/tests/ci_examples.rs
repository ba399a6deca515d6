//! The CI examples in fixtures/ci/ are parsed and checked for what makes them work as
//! written: every shard of the range runs, a shard's failure is a result that keeps its report
//! instead of stopping the others, and the merge publishes the merged report.

use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

fn documents(name: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/ci")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
}

/// The number after `flag` in a command line (`--shard 3/8` gives "3/8").
fn flag_value<'a>(command: &'a str, flag: &str) -> &'a str {
    let words: Vec<&str> = command.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| *w == flag)
        .unwrap_or_else(|| panic!("no {flag} in {command}"));
    words[at + 1]
}

#[test]
fn the_github_actions_matrix_runs_every_shard_and_publishes_the_merge() {
    let docs = documents("github-actions-sweep.yml");
    assert_eq!(docs.len(), 1);
    let jobs = &docs[0]["jobs"];
    let sweep = &jobs["sweep"];
    assert_eq!(sweep["strategy"]["fail-fast"], false);
    let shards: Vec<u64> = sweep["strategy"]["matrix"]["shard"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_u64().unwrap())
        .collect();
    assert_eq!(shards, (0..shards.len() as u64).collect::<Vec<_>>());
    let steps = sweep["steps"].as_array().unwrap();
    let run = steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .find(|r| r.contains("cargo xtask sweep "))
        .expect("a sweep step");
    let command = run.replace("${{ matrix.shard }}", "K");
    assert_eq!(
        flag_value(&command, "--shard"),
        format!("K/{}", shards.len())
    );
    let report = flag_value(&command, "--json").replace('K', "${{ matrix.shard }}");
    // Exit codes 1 and 3 are results: the step succeeds and the report is uploaded.
    assert!(
        run.contains("set +e") && run.contains("0|1|3) exit 0"),
        "{run}"
    );
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact"))
        })
        .expect("the shard uploads its report");
    assert_eq!(upload["if"], "always()");
    assert!(upload["with"]["path"].as_str().unwrap().contains(&report));

    let merge = &jobs["merge"];
    assert_eq!(merge["needs"], "sweep");
    assert_eq!(merge["if"], "always()");
    let steps = merge["steps"].as_array().unwrap();
    let run = steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .find(|r| r.contains("cargo xtask sweep-merge"))
        .expect("a merge step");
    let merged = flag_value(run, "--json");
    let published = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact"))
        })
        .expect("the merge job uploads the merged report");
    assert_eq!(published["if"], "always()");
    assert!(published["with"]["path"].as_str().unwrap().contains(merged));
    assert!(steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .any(|r| r.contains("GITHUB_STEP_SUMMARY")));
}

#[test]
fn the_indexed_job_keeps_every_shard_and_its_report() {
    let docs = documents("k8s-indexed-job.yaml");
    let kind = |k: &str, name: &str| {
        docs.iter()
            .find(|d| d["kind"] == k && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {k} {name}"))
            .clone()
    };
    let claim = kind("PersistentVolumeClaim", "raft-sim-reports");
    assert_eq!(claim["spec"]["accessModes"][0], "ReadWriteMany");
    let job = kind("Job", "raft-sim-sweep");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let shards = spec["completions"].as_u64().unwrap();
    assert_eq!(spec["parallelism"].as_u64(), Some(shards));
    // One failing shard must not fail the others: failures are per index.
    assert!(spec["backoffLimitPerIndex"].is_u64());
    assert_eq!(spec["maxFailedIndexes"].as_u64(), Some(shards));
    let rules = spec["podFailurePolicy"]["rules"].as_array().unwrap();
    let codes = |action: &str| -> Vec<u64> {
        rules
            .iter()
            .filter(|r| r["action"] == action)
            .flat_map(|r| {
                r["onExitCodes"]["values"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|v| v.as_u64().unwrap())
            .collect()
    };
    assert_eq!(codes("FailIndex"), vec![1, 3], "results are not retried");
    assert_eq!(
        codes("FailJob"),
        vec![2],
        "a usage error fails every shard alike"
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    let container = &pod["containers"][0];
    assert_eq!(rules[0]["onExitCodes"]["containerName"], container["name"]);
    let command = container["command"][2].as_str().unwrap();
    assert_eq!(flag_value(command, "--shard"), shards.to_string());
    assert!(flag_value(command, "--json").starts_with("/out/"));
    assert_eq!(container["volumeMounts"][0]["mountPath"], "/out");
    assert_eq!(
        pod["volumes"][0]["persistentVolumeClaim"]["claimName"], "raft-sim-reports",
        "the reports outlive the pods"
    );

    let merge = kind("Job", "raft-sim-sweep-merge");
    let pod = &merge["spec"]["template"]["spec"];
    let command = pod["containers"][0]["command"][2].as_str().unwrap();
    assert!(command.contains(&format!("-ge {shards} ]")), "{command}");
    assert!(command.contains("cargo xtask sweep-merge /out/sweep-*.json"));
    assert_eq!(
        pod["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "raft-sim-reports"
    );
}
