//! Helpers every command shares: exit codes, usage errors, output files checked before the
//! work and written after it, the default number of jobs, and panics caught inside runs.

use std::cell::RefCell;
use std::path::Path;
use std::process::ExitCode;

/// The exit codes of every command (the README's table). A violation is never hidden by
/// anything else: when a run failed and an output could not be written, the command exits 1
/// and prints the write error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Every property held.
    Pass = 0,
    /// A property was violated (or a run panicked).
    Fail = 1,
    /// Bad flags or input files, or an output that could not be written.
    Error = 2,
    /// No violation, but not a pass: a linearizability check ran out of budget, or the
    /// reports merged are not a complete sweep.
    Unknown = 3,
}

impl Exit {
    /// The exit of a run's verdict.
    pub fn of(verdict: sim::RunVerdict) -> Exit {
        match verdict {
            sim::RunVerdict::Pass => Exit::Pass,
            sim::RunVerdict::Fail => Exit::Fail,
            sim::RunVerdict::Unknown => Exit::Unknown,
        }
    }

    /// Combines two outcomes: a failure wins, then an error, then unknown, then a pass.
    pub fn and(self, other: Exit) -> Exit {
        let rank = |e: Exit| match e {
            Exit::Fail => 3,
            Exit::Error => 2,
            Exit::Unknown => 1,
            Exit::Pass => 0,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

pub fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    Exit::Error.into()
}

/// Checks, before any work, that `path` can be written (`flag` names the option that gave
/// it): not a directory, its directory exists or can be made, and the file can be opened
/// for writing. An existing file is left as it is; one the check creates is removed again.
pub fn check_output(path: &Path, flag: &str) -> Result<(), String> {
    let shown = path.display();
    if path.as_os_str().is_empty() {
        return Err(format!("{flag}: the path is empty"));
    }
    if path.is_dir() {
        return Err(format!("{flag} {shown}: is a directory, not a file"));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("{flag} {shown}: cannot create {}: {e}", dir.display()))?;
    }
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| format!("{flag} {shown}: cannot write there: {e}"))?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// Checks, before any seed runs, the outputs of a command that writes failure bundles into
/// `--bundles` and optionally a report to `--json` (`sweep`, `hunt`): the first that cannot be
/// written, as a message naming its flag.
pub fn check_bundles_and_json(bundles: &Path, json: Option<&Path>) -> Result<(), String> {
    check_output_dir(bundles, "--bundles")?;
    json.map_or(Ok(()), |p| check_output(p, "--json"))
}

/// Checks, before any work, that files can be written in directory `dir` (made if missing).
pub fn check_output_dir(dir: &Path, flag: &str) -> Result<(), String> {
    let shown = dir.display();
    std::fs::create_dir_all(dir).map_err(|e| format!("{flag} {shown}: cannot create it: {e}"))?;
    let probe = dir.join(format!(".xtask-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .map_err(|e| format!("{flag} {shown}: cannot write files there: {e}"))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Writes `text` to `path` and says so; the error names the file and what it was for. The
/// file appears whole or not at all (written beside it, then renamed): a merge that reads
/// reports as shards finish never sees half of one.
pub fn write_file(path: &Path, text: &str, what: &str) -> Result<(), String> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let written = std::fs::write(&partial, text).and_then(|()| std::fs::rename(&partial, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    match written {
        Ok(()) => {
            println!("{what:<11} written to {}", path.display());
            Ok(())
        }
        Err(e) => Err(format!("cannot write {what} to {}: {e}", path.display())),
    }
}

pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

thread_local! {
    /// Set while a run on this thread is inside [`catch_run`]: its panic message (with where
    /// it panicked) goes here instead of stderr.
    static CAUGHT: RefCell<Option<Option<String>>> = const { RefCell::new(None) };
}

/// Installs the process's panic hook: a panic inside [`catch_run`] is recorded for the run
/// that caught it (the sweep and the hunt report it as that seed's failure); any other panic
/// is a bug in the command line and prints as usual.
pub fn install_panic_hook() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let caught = CAUGHT.with(|c| {
            let mut c = c.borrow_mut();
            match c.as_mut() {
                Some(slot) => {
                    let message = panic_message(info.payload());
                    *slot = Some(match info.location() {
                        Some(at) => format!("{message} (at {}:{})", at.file(), at.line()),
                        None => message,
                    });
                    true
                }
                None => false,
            }
        });
        if !caught {
            default_hook(info);
        }
    }));
}

/// Runs `f`, turning a panic into `Err` with its message and location.
pub fn catch_run<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    CAUGHT.with(|c| *c.borrow_mut() = Some(None));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    let message = CAUGHT.with(|c| c.borrow_mut().take()).flatten();
    outcome.map_err(|panic| message.unwrap_or_else(|| panic_message(&*panic)))
}

/// The message of a caught panic.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_wins_over_an_error_and_an_error_over_unknown() {
        assert_eq!(Exit::Fail.and(Exit::Error), Exit::Fail);
        assert_eq!(Exit::Error.and(Exit::Fail), Exit::Fail);
        assert_eq!(Exit::Unknown.and(Exit::Error), Exit::Error);
        assert_eq!(Exit::Pass.and(Exit::Unknown), Exit::Unknown);
        assert_eq!(Exit::Pass.and(Exit::Pass), Exit::Pass);
    }

    #[test]
    fn a_caught_panic_names_where_it_happened() {
        install_panic_hook();
        let error = catch_run(|| {
            let v: Vec<u8> = Vec::new();
            v[3]
        })
        .unwrap_err();
        assert!(error.contains("index out of bounds"), "{error}");
        assert!(error.contains("shared.rs"), "{error}");
        assert_eq!(catch_run(|| 7), Ok(7));
    }

    #[test]
    fn outputs_are_checked_without_leaving_files_behind() {
        let dir = std::env::temp_dir().join(format!("xtask-out-{}", std::process::id()));
        let file = dir.join("sub/report.json");
        check_output(&file, "--json").unwrap();
        assert!(!file.exists());
        assert!(check_output(&dir, "--json")
            .unwrap_err()
            .contains("is a directory"));
        assert!(check_output(Path::new("/proc/x/y.json"), "--json")
            .unwrap_err()
            .starts_with("--json /proc/x/y.json: cannot create"));
        assert!(check_output_dir(Path::new("/proc/x"), "--bundles").is_err());
        check_output_dir(&dir, "--bundles").unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
