//! The workspace's declared `rust-version` is the real minimum: every crate inherits it, and it
//! is no older than what any locked dependency (of the build or of the tests) declares. What
//! the code itself uses of the standard library is checked by clippy's `incompatible_msrv`
//! lint, which reads the same declaration (`cargo xtask ci` runs clippy with -D warnings).

use serde_json::Value;
use std::process::Command;

fn version(text: &str) -> Vec<u64> {
    text.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

#[test]
fn the_declared_rust_version_covers_every_crate_and_dependency() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-vV")
        .output()
        .expect("rustc -vV");
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(String::from))
        .expect("a host triple");
    let output = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--offline",
            "--filter-platform",
            &host,
        ])
        .output()
        .expect("cargo metadata");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    let resolved: Vec<&str> = metadata["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    let declared = packages
        .iter()
        .find(|p| p["name"] == "xtask")
        .and_then(|p| p["rust_version"].as_str())
        .expect("xtask declares a rust-version");
    let mut problems = Vec::new();
    for p in packages {
        let id = p["id"].as_str().unwrap();
        let name = p["name"].as_str().unwrap();
        let needs = p["rust_version"].as_str();
        if members.contains(&id) {
            if needs != Some(declared) {
                problems.push(format!(
                    "{name} declares rust-version {needs:?}, not the workspace's {declared}"
                ));
            }
        } else if resolved.contains(&id) {
            if let Some(needs) = needs.filter(|n| version(n) > version(declared)) {
                problems.push(format!(
                    "{name} {} needs Rust {needs}, newer than the declared {declared}",
                    p["version"].as_str().unwrap()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
