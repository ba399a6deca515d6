//! The bad-input corpus (`fixtures/bad-inputs/cases.txt`): every command line in it is run
//! against the built `cargo xtask` binary, which must exit with the expected code (2 for a
//! usage error; never 101, a panic) and say on stderr what is wrong.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

struct Case {
    line: usize,
    exit: i32,
    expect: String,
    args: Vec<String>,
}

fn cases(substitute: &dyn Fn(&str) -> String) -> Vec<Case> {
    let path = root().join("fixtures/bad-inputs/cases.txt");
    let text = std::fs::read_to_string(&path).expect("the corpus");
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| {
            let parts: Vec<&str> = l.splitn(3, " | ").collect();
            assert_eq!(parts.len(), 3, "cases.txt:{}: exit | expect | args", i + 1);
            Case {
                line: i + 1,
                exit: parts[0].trim().parse().expect("an exit code"),
                expect: substitute(parts[1]),
                args: parts[2].split_whitespace().map(substitute).collect(),
            }
        })
        .collect()
}

#[test]
fn every_bad_input_is_refused_with_its_exit_code_and_a_message_that_names_it() {
    let tmp = std::env::temp_dir().join(format!("xtask-bad-inputs-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let valid = tmp.join("valid.json");
    std::fs::copy(
        root().join("fixtures/regressions/duplicate-vote-counted.json"),
        &valid,
    )
    .unwrap();
    let bad = root().join("fixtures/bad-inputs");
    let substitute = |s: &str| {
        s.replace("{bad}", &bad.display().to_string())
            .replace("{tmp}", &tmp.display().to_string())
            .replace("{valid}", &valid.display().to_string())
            .replace("{missing}", &tmp.join("missing.json").display().to_string())
    };
    let cases = cases(&substitute);
    assert!(cases.len() >= 50, "only {} cases", cases.len());
    let mut problems = Vec::new();
    for case in &cases {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .current_dir(&tmp)
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("RUST_LOG");
        let mut args = case.args.iter().peekable();
        while let Some((name, value)) = args
            .peek()
            .and_then(|a| a.strip_prefix("env:"))
            .and_then(|a| a.split_once('='))
        {
            command.env(name, value);
            args.next();
        }
        command.args(args);
        let output = command.output().expect("run xtask");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let code = output.status.code();
        let shown = format!(
            "cases.txt:{}: {}\n  exit {code:?}, stderr: {}",
            case.line,
            case.args.join(" "),
            stderr.trim()
        );
        if code == Some(101) || stderr.contains("panicked") {
            problems.push(format!("PANIC {shown}"));
        } else if code != Some(case.exit) {
            problems.push(format!("expected exit {}: {shown}", case.exit));
        } else if !stderr.contains(&case.expect) {
            problems.push(format!(
                "expected stderr to name {:?}: {shown}",
                case.expect
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(
        problems.is_empty(),
        "{} of {} cases:\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
}
