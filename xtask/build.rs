//! Records the git commit the command line is built from (`cargo xtask --version`, and every
//! bundle and report it writes). Outside a git checkout (a source tarball) it is `unknown`;
//! a checkout with uncommitted changes gets `-modified`, because the commit alone would not
//! name the code that ran.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    let commit = match git(&["rev-parse", "HEAD"]) {
        Some(commit) => {
            let modified = git(&["status", "--porcelain", "--untracked-files=no"]).is_some();
            if modified {
                format!("{commit}-modified")
            } else {
                commit
            }
        }
        None => "unknown".to_string(),
    };
    println!("cargo:rustc-env=XTASK_COMMIT={commit}");

    // Look again when HEAD moves (a commit, a checkout) or the sources change (modified).
    // Only paths that exist: cargo reruns the script every build for one that does not.
    let mut watch: Vec<PathBuf> = [
        "build.rs",
        "src",
        "../raft-core/src",
        "../sim/src",
        "../scenarios/src",
        "../state-machines/src",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    if let Some(git_dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        let git_dir = PathBuf::from(git_dir);
        watch.push(git_dir.join("HEAD"));
        watch.push(git_dir.join("index"));
        if let (Some(common), Some(head_ref)) = (
            git(&["rev-parse", "--git-common-dir"]),
            git(&["symbolic-ref", "-q", "HEAD"]),
        ) {
            let common = std::env::current_dir().unwrap_or_default().join(common);
            watch.push(common.join(head_ref));
            watch.push(common.join("packed-refs"));
        }
    }
    for path in watch.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}
