//! `cargo xtask ci`: exactly what CI runs, one cargo command after the other.

use std::process::ExitCode;

/// The etcd validation's tests (real/tests/etcd.rs): the test step skips them, and a step of
/// their own runs them with etcd required, so CI never passes because etcd was missing.
const ETCD_TESTS: &str = "etcd_validation";

/// A step: its name, cargo's arguments, environment variables.
type Step = (
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

pub fn ci_command() -> ExitCode {
    let steps: [Step; 6] = [
        ("format", &["fmt", "--all", "--", "--check"], &[]),
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
            &[],
        ),
        (
            "tests",
            &["test", "--workspace", "--", "--skip", ETCD_TESTS],
            &[],
        ),
        // The planted-bug hunt: every catalogued bug must still be found within the seed
        // budget, and the correct core must pass the same seeds.
        ("bug hunt", &["xtask", "hunt", "--ci"], &[]),
        // A short Jepsen-style run against real raft-kv processes, every fault kind. The
        // test step built raft-kv (its integration tests run the binary); using that build
        // spares CI a release build of the server.
        (
            "real processes",
            &[
                "xtask",
                "real",
                "--time",
                "30s",
                "--binary",
                "target/debug/raft-kv",
            ],
            &[],
        ),
        // The harness against etcd: clean with linearizable reads, stale reads caught with
        // serializable ones. `.ci/run` installs etcd for this step.
        (
            "etcd validation",
            &[
                "test",
                // `--workspace` resolves features as the test step did: no rebuild.
                "--workspace",
                "--test",
                "etcd",
                "--",
                ETCD_TESTS,
            ],
            &[("REAL_REQUIRE_ETCD", "1")],
        ),
    ];
    for (name, args, env) in steps {
        eprintln!("==> {name}: cargo {}", args.join(" "));
        let status =
            std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(args)
                .envs(env.iter().copied())
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
