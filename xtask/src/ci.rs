//! `cargo xtask ci`: exactly what CI runs, one cargo command after the other.

use std::process::ExitCode;

pub fn ci_command() -> ExitCode {
    let steps: [(&str, &[&str]); 4] = [
        ("format", &["fmt", "--all", "--", "--check"]),
        (
            "clippy",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
        ("tests", &["test", "--workspace"]),
        // The planted-bug hunt: every catalogued bug must still be found within the seed
        // budget, and the correct core must pass the same seeds.
        ("bug hunt", &["xtask", "hunt", "--ci"]),
    ];
    for (name, args) in steps {
        eprintln!("==> {name}: cargo {}", args.join(" "));
        let status =
            std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(args)
                .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => {
                eprintln!("==> {name} failed ({s})");
                return ExitCode::from(1);
            }
            Err(e) => {
                eprintln!("==> cannot run cargo: {e}");
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}
