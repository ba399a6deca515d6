//! Timing a workload: wall clock, the thread's CPU time and its wait for a CPU; the median
//! of repetitions.

use std::time::{Duration, Instant};

pub(super) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`, nanosecond precision) and the
/// time it spent runnable but waiting for a CPU (`/proc/thread-self/schedstat`, coarser). On a
/// shared machine the wall clock also counts the time other tenants held the core; the
/// thread's CPU time does not.
fn thread_times() -> (Option<Duration>, Duration) {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let wait = text
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0);
    (thread_cpu_time(), Duration::from_nanos(wait))
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
pub(super) fn thread_cpu_time() -> Option<Duration> {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, time: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut time = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec (two 64-bit fields on 64-bit Linux) through a
    // pointer to a live, properly aligned value; the clock id is Linux's constant.
    let status = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut time) };
    (status == 0).then(|| Duration::new(time.tv_sec as u64, time.tv_nsec as u32))
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
pub(super) fn thread_cpu_time() -> Option<Duration> {
    None
}

/// Wall, CPU and run-queue wait time of a single-threaded piece of work.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Timing {
    pub wall: Duration,
    pub cpu: Duration,
    pub wait: Duration,
}

impl std::ops::Add for Timing {
    type Output = Timing;
    fn add(self, o: Timing) -> Timing {
        Timing {
            wall: self.wall + o.wall,
            cpu: self.cpu + o.cpu,
            wait: self.wait + o.wait,
        }
    }
}

/// Runs `work` and times it (wall clock, and this thread's CPU and wait time).
pub(crate) fn timed<T>(work: impl FnOnce() -> T) -> (T, Timing) {
    let (cpu0, wait0) = thread_times();
    let started = Instant::now();
    let out = work();
    let wall = started.elapsed();
    let (cpu1, wait1) = thread_times();
    // Without a thread CPU clock (not 64-bit Linux), CPU time falls back to the wall clock.
    let cpu = match (cpu0, cpu1) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => wall,
    };
    (
        out,
        Timing {
            wall,
            cpu,
            wait: wait1.saturating_sub(wait0),
        },
    )
}
