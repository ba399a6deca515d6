//! The commands end to end, run as a user runs them: the built `cargo xtask` binary in a
//! scratch directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .current_dir(&self.0)
            .env_remove("RUST_LOG")
            .env_remove("JOB_COMPLETION_INDEX")
            .args(args);
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().expect("run xtask")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited")
}

/// The words of the printed line that starts with `prefix`, from `cargo xtask` on.
fn command_after(text: &str, prefix: &str) -> Vec<String> {
    let line = text
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{text}"));
    let words: Vec<String> = line.split_whitespace().map(String::from).collect();
    let at = words
        .windows(2)
        .position(|w| w[0] == "cargo" && w[1] == "xtask")
        .expect("a cargo xtask command");
    words[at + 2..].to_vec()
}

fn trace_hash(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("trace hash  "))
        .expect("a trace hash")
        .to_string()
}

#[test]
fn a_sweep_with_one_node_runs_every_seed() {
    let s = Scratch::new("one-node");
    let o = s.run(&[
        "sweep",
        "--seeds",
        "0..20",
        "--nodes",
        "1",
        "--chaos-secs",
        "1",
        "--jobs",
        "2",
    ]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("20 passed, 0 failed, 0 unknown"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn shards_merge_into_one_sweep_and_a_missing_shard_is_incomplete() {
    let s = Scratch::new("shards");
    for k in 0..3 {
        let shard = format!("{k}/3");
        let json = s.path(&format!("shard-{k}.json"));
        let o = s.run(&[
            "sweep",
            "--seeds",
            "0..7",
            "--shard",
            &shard,
            "--chaos-secs",
            "1",
            "--clients",
            "2",
            "--corrupt-weight",
            "300",
            "--jobs",
            "1",
            "--json",
            &json,
        ]);
        assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(report["range"], serde_json::json!([0, 7]));
        assert_eq!(report["shard"], serde_json::json!([k, 3]));
        assert_eq!(
            report["overrides"],
            "--chaos-secs 1 --clients 2 --corrupt-weight 300"
        );
        assert!(report["build"]["commit"].is_string());
        assert!(report["build"]["version"].is_string());
    }
    let merged = s.path("merged.json");
    let all = [
        "sweep-merge",
        &s.path("shard-0.json"),
        &s.path("shard-1.json"),
        &s.path("shard-2.json"),
        "--json",
        &merged,
    ];
    let o = s.run(&all);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("3 of 3 shards of seeds 0..7"),
        "{}",
        stdout(&o)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    assert_eq!(report["seeds_run"], 7);
    assert_eq!(report["complete"], true);
    // The damage and write-error sections are the sums of the shards'.
    let shards: Vec<serde_json::Value> = (0..3)
        .map(|k| {
            let text = std::fs::read_to_string(s.path(&format!("shard-{k}.json"))).unwrap();
            serde_json::from_str(&text).unwrap()
        })
        .collect();
    let total = |section: &str, key: &str| -> u64 {
        shards
            .iter()
            .map(|r| r[section][key].as_u64().unwrap())
            .sum()
    };
    for key in [
        "nodes_damaged",
        "nodes_repaired",
        "nodes_halted",
        "nodes_stopped",
        "term_vote_copies_rewritten",
    ] {
        assert_eq!(report["damage"][key], total("damage", key), "{key}");
    }
    assert_eq!(
        report["write_errors"]["persists_failed"],
        total("write_errors", "persists_failed")
    );
    assert!(
        total("damage", "nodes_damaged") + total("write_errors", "persists_failed") > 0,
        "the shards drew no damage and no write error: the sums above test nothing"
    );

    let o = s.run(&[
        "sweep-merge",
        &s.path("shard-0.json"),
        &s.path("shard-2.json"),
    ]);
    assert_eq!(code(&o), 3, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("INCOMPLETE  shards 1/3 missing: 2 seeds not run"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_planted_bug_fails_and_its_repro_line_reproduces_it() {
    let s = Scratch::new("plant");
    let bundle = s.path("b.json");
    let html = s.path("v.html");
    let o = s.run(&[
        "sim",
        "--seed",
        "0",
        "--plant",
        "vote-before-durable",
        "--bundle",
        &bundle,
        "--html",
        &html,
    ]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("verdict     FAIL persist-before-send"),
        "{out}"
    );
    assert!(Path::new(&html).exists());
    let repro = command_after(&out, "repro ");
    assert_eq!(repro.join(" "), "sim --seed 0 --plant vote-before-durable");
    let args: Vec<&str> = repro.iter().map(String::as_str).collect();
    let again = s.run(&args);
    assert_eq!(code(&again), 1);
    assert_eq!(trace_hash(&stdout(&again)), trace_hash(&out));

    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    assert_eq!(written["planted_bug"], "vote-before-durable");
    assert_eq!(written["written_by"]["program"], "cargo xtask");
    let o = s.run(&["replay", &bundle]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("same trace hash: yes"),
        "{}",
        stdout(&o)
    );

    // Shrinking onto the input is refused, and the input is left as it was.
    let before = std::fs::read(&bundle).unwrap();
    let o = s.run(&["shrink", &bundle, "-o", &bundle]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("is the input bundle"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&bundle).unwrap(), before);
}

#[test]
fn the_hunt_prints_repro_lines_that_work() {
    let s = Scratch::new("hunt");
    let bundles = s.path("hunt");
    let o = s.run(&[
        "hunt",
        "--bug",
        "ack-before-fsync",
        "--seeds",
        "0..5",
        "--no-shrink",
        "--jobs",
        "1",
        "--bundles",
        &bundles,
    ]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let repro = command_after(&stdout(&o), "repro ");
    assert!(repro.contains(&"--plant".to_string()), "{repro:?}");
    let args: Vec<&str> = repro.iter().map(String::as_str).collect();
    let again = s.run(&args);
    assert_eq!(code(&again), 1, "{}", stdout(&again));
    assert!(Path::new(&bundles).join("ack-before-fsync.json").exists());
}

#[test]
fn version_names_the_build() {
    let o = Scratch::new("version").run(&["--version"]);
    assert_eq!(code(&o), 0);
    let text = stdout(&o);
    assert!(
        text.starts_with(&format!(
            "cargo xtask {} (commit ",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
}

#[test]
fn diagnostics_follow_verbose_and_rust_log() {
    let s = Scratch::new("logs");
    let args = ["sim", "--seed", "1", "--chaos-secs", "1", "--no-faults"];
    let quiet = s.run(&args);
    assert_eq!(code(&quiet), 0);
    assert!(!stderr(&quiet).contains("run starts"), "{}", stderr(&quiet));
    let verbose = s.run(&[&args[..], &["-v"]].concat());
    assert!(
        stderr(&verbose).contains("run starts"),
        "{}",
        stderr(&verbose)
    );
    assert!(!stderr(&verbose).contains("sim::trace"));
    let events = s.run_with(&args, &[("RUST_LOG", "sim::trace=debug")]);
    assert!(
        stderr(&events).contains("role role=leader"),
        "{}",
        stderr(&events)
    );
    assert!(!stderr(&events).contains("run starts"));
    // The same run whatever is logged.
    assert_eq!(trace_hash(&stdout(&events)), trace_hash(&stdout(&quiet)));
}

#[test]
fn a_failure_whose_bundle_cannot_be_written_is_reported_and_still_fails() {
    let s = Scratch::new("unwritten");
    let bundles = s.0.join("bundles");
    // A directory where the bundle of seed 0 would go: the directory passes the check made
    // before the sweep, the bundle itself cannot be written.
    std::fs::create_dir_all(bundles.join("seed-0.json")).unwrap();
    let json = s.path("report.json");
    let o = s.run(&[
        "sweep",
        "--seeds",
        "0..2",
        "--plant",
        "vote-before-durable",
        "--jobs",
        "1",
        "--bundles",
        &bundles.display().to_string(),
        "--json",
        &json,
    ]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("bundle: NOT WRITTEN"), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("1 failure bundle(s) could not be written"),
        "{}",
        stderr(&o)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let failures = report["failures"].as_array().unwrap();
    assert!(failures[0]["bundle"].is_null());
    assert!(failures[0]["bundle_error"].is_string());
    assert!(failures[1]["bundle"].is_string());

    // The hunt: every bug found, but a bundle it names was not written: an error, and its
    // JSON says so instead of naming the file.
    let hunt = s.0.join("hunt");
    std::fs::create_dir_all(hunt.join("vote-before-durable.json")).unwrap();
    let json = s.path("hunt.json");
    let o = s.run(&[
        "hunt",
        "--bug",
        "vote-before-durable",
        "--seeds",
        "0..2",
        "--no-shrink",
        "--jobs",
        "1",
        "--bundles",
        &hunt.display().to_string(),
        "--json",
        &json,
    ]);
    assert_eq!(code(&o), 2, "{}{}", stdout(&o), stderr(&o));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(report["bugs"][0]["bundle"].is_null());
    assert!(report["bugs"][0]["bundle_error"].is_string());
}
