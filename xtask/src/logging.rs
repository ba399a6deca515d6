//! Diagnostics through `tracing`, on stderr: the simulator's (`sim`, `sim::trace` for every
//! event) and the command line's own (`xtask`). `RUST_LOG`, when set, is the filter
//! (`RUST_LOG=sim=debug`, `RUST_LOG=sim::trace=debug`); otherwise `-v` picks the level:
//! warnings only by default, `-v` info (each run's start and end, each seed's verdict in
//! sweeps and hunts, the bundles written), `-vv` debug (the phases of a run, each shrink
//! candidate, and every trace event as it happens).

use tracing_subscriber::EnvFilter;

/// Installs the subscriber; an invalid `RUST_LOG` is a usage error.
pub fn init(verbose: u8) -> Result<(), String> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::try_new(&spec)
            .map_err(|e| format!("RUST_LOG={spec:?} is not a valid filter: {e}"))?,
        _ => EnvFilter::new(match verbose {
            0 => "warn",
            1 => "info",
            _ => "debug",
        }),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init()
        .map_err(|e| format!("cannot set up logging: {e}"))
}
