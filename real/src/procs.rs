//! Server processes: started (inside a network namespace when there is one), killed with
//! SIGKILL, paused with SIGSTOP/SIGCONT, stopped with SIGTERM, and restarted with the same
//! command line. Output goes to a log file per node.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to start one server.
#[derive(Clone, Debug)]
pub struct Spec {
    pub name: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Run inside this network namespace (`ip netns exec`, which execs the program: the
    /// child's pid is the server's).
    pub netns: Option<String>,
    pub log: PathBuf,
}

/// A server process that can be killed and started again.
pub struct Proc {
    pub spec: Spec,
    child: Option<Child>,
    paused: bool,
    /// Starts so far.
    pub starts: u32,
}

fn signal(pid: u32, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: kill(2) with a pid we own and a valid signal number has no memory effects.
    let rc = unsafe { libc::kill(pid as libc::pid_t, sig) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl Proc {
    pub fn new(spec: Spec) -> Proc {
        Proc {
            spec,
            child: None,
            paused: false,
            starts: 0,
        }
    }

    pub fn start(&mut self) -> io::Result<()> {
        if self.is_running() {
            return Ok(());
        }
        let log: File = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.spec.log)?;
        let mut command = match &self.spec.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(&self.spec.program);
                c
            }
            None => Command::new(&self.spec.program),
        };
        command
            .args(&self.spec.args)
            .envs(self.spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        self.child = Some(command.spawn()?);
        self.paused = false;
        self.starts += 1;
        Ok(())
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// True while the process has not exited (paused counts as running).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut().map(|c| c.try_wait()) {
            Some(Ok(None)) => true,
            Some(Ok(Some(_))) | Some(Err(_)) => {
                self.child = None;
                false
            }
            None => false,
        }
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// SIGKILL, and wait for the exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            if self.paused {
                let _ = signal(child.id(), libc::SIGCONT);
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        self.paused = false;
    }

    /// SIGTERM, and wait up to `grace` for a clean exit before SIGKILL. Returns whether it
    /// exited by itself, and its exit code.
    pub fn terminate(&mut self, grace: Duration) -> Option<i32> {
        let mut child = self.child.take()?;
        if self.paused {
            let _ = signal(child.id(), libc::SIGCONT);
            self.paused = false;
        }
        let _ = signal(child.id(), libc::SIGTERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    pub fn pause(&mut self) -> io::Result<()> {
        if let Some(pid) = self.pid() {
            signal(pid, libc::SIGSTOP)?;
            self.paused = true;
        }
        Ok(())
    }

    pub fn resume(&mut self) -> io::Result<()> {
        if let Some(pid) = self.pid() {
            signal(pid, libc::SIGCONT)?;
        }
        self.paused = false;
        Ok(())
    }

    /// The last `lines` lines of the log, for failure reports.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.spec.log, lines)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// `program` on the PATH, if there.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
