//! Helpers every command shares: usage errors, written files, the default number of jobs,
//! and the message of a caught panic.

use std::process::ExitCode;

pub fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

pub fn write_file(path: &std::path::Path, text: &str, what: &str) -> bool {
    match std::fs::write(path, text) {
        Ok(()) => {
            println!("{what:<11} written to {}", path.display());
            true
        }
        Err(e) => {
            eprintln!("error: cannot write {what} to {}: {e}", path.display());
            false
        }
    }
}

pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The message of a caught panic (a run's failure in sweeps and hunts).
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".into())
}
