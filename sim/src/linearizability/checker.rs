//! The linearizability check's driver: one resumable search per partition, run in rounds of
//! step slices that double every round, within the step and memory budgets.
//!
//! Architecture invariant: deterministic. No clock, no threads, no hash-map iteration: the
//! same history gives the same verdict, explanation and step count. The search itself is in
//! `search.rs`, the visited configurations in `cache.rs`, the explanation of a failure in
//! `counterexample.rs`.

use super::search::{Progress, Search};
use super::{Budget, CheckOptions, Model, Operation, Verdict};

/// Counters describing the work done by [`check_with_stats`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckStats {
    /// Partitions checked (including the failing one, if any).
    pub partitions: usize,
    /// Operations checked (after dropping trivial ones), over the partitions checked.
    pub operations: usize,
    /// Search steps taken: model steps plus forced skips of optional operations.
    pub steps: u64,
    /// Configurations stored in the caches, over all partitions checked.
    pub cache_entries: u64,
}

/// Checks `history` against `model`. See the [module documentation](super) for the semantics.
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    options: &CheckOptions,
) -> Verdict {
    check_with_stats(model, history, options).0
}

/// Steps given to each unfinished partition in the first round; doubled every round.
const FIRST_SLICE: u64 = 1 << 10;

/// Like [`check`], and also returns counters describing the search.
///
/// Partitions are searched in rounds, each unfinished partition getting a slice of steps that
/// doubles every round, so that one partition that fails quickly is found even when another
/// needs a very long search (porcupine gets the same effect by racing partitions on threads).
/// This is deterministic: the reported partition is the first to fail in (round, partition)
/// order.
pub fn check_with_stats<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    options: &CheckOptions,
) -> (Verdict, CheckStats) {
    let mut stats = CheckStats::default();
    let mut searches: Vec<Option<Search<M::State>>> = Vec::new();
    for partition in model.partitions(history) {
        stats.partitions += 1;
        let search = Search::new(model, history, partition);
        stats.operations += search.ops.len();
        searches.push(Some(search));
    }
    let max = options.max_steps.unwrap_or(u64::MAX);
    let max_bytes = options.max_cache_bytes.unwrap_or(u64::MAX);
    let mut slice = FIRST_SLICE;
    loop {
        let mut running = false;
        for i in 0..searches.len() {
            // What the other partitions' caches (kept while paused) leave of the memory budget.
            let others: u64 = if options.max_cache_bytes.is_some() {
                searches
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .filter_map(|(_, s)| s.as_ref().map(|s| s.cache.bytes()))
                    .sum()
            } else {
                0
            };
            let Some(search) = &mut searches[i] else {
                continue;
            };
            let bytes_left = max_bytes.saturating_sub(others);
            if options.max_cache_bytes.is_some()
                && search.cache.bytes() + model.memory_bytes() > bytes_left
            {
                stats.cache_entries += search.cache.len() as u64;
                let partition = search.partition.label.clone();
                let (steps, budget) = (stats.steps, Budget::Memory);
                let verdict = Verdict::Unknown {
                    partition,
                    steps,
                    budget,
                };
                return (verdict, stats);
            }
            let slot = &mut searches[i];
            let search = slot.as_mut().expect("checked above");
            let stop_at = stats.steps.saturating_add(slice).min(max);
            match search.run(model, history, stop_at, bytes_left, &mut stats.steps) {
                Progress::Linearizable => {
                    stats.cache_entries += search.cache.len() as u64;
                    *slot = None;
                }
                Progress::NotLinearizable(c) => {
                    stats.cache_entries += search.cache.len() as u64;
                    return (Verdict::NotLinearizable(c), stats);
                }
                Progress::Paused if stats.steps >= max => {
                    stats.cache_entries += search.cache.len() as u64;
                    let partition = search.partition.label.clone();
                    let (steps, budget) = (stats.steps, Budget::Steps);
                    let verdict = Verdict::Unknown {
                        partition,
                        steps,
                        budget,
                    };
                    return (verdict, stats);
                }
                Progress::Paused => running = true,
            }
        }
        if !running {
            return (Verdict::Linearizable, stats);
        }
        slice = slice.saturating_mul(2);
    }
}
