//! The bounded log cache and read errors as a disk fault. With a cache
//! ([`crate::config::LogCache`]), a node keeps only that many payload bytes in memory and its
//! leader reads evicted entries back from the simulated WAL to catch a follower up
//! (`raft_core::Action::ReadLog`); each read fails (an EIO) with the drawn probability. Both
//! are drawn from streams of their own: whether a seed has a cache and how large from
//! `config/log-cache`, each read's fate from `faults/read-errors` keyed by the node, its
//! life and the read's number in that life, so no other draw of any seed moved when they
//! joined, and a read's fate does not depend on any other read.
//!
//! What a read does to the node is the world's business (`world/log_reads.rs`).

use crate::config::LogCache;
use crate::rng::{Ppm, Stream};

/// The largest read-error probability a configuration may ask for: a read must succeed
/// sometimes, or a follower behind the cache is never caught up.
pub const MAX_READ_ERROR_PPM: Ppm = 900_000;

/// Whether seed `seed` has a log cache, and its bound and read-error rate: about one seed in
/// four has one, from 0 bytes (every applied payload leaves memory) to 4 KiB; two of three
/// of those fail 5% to 30% of their reads.
pub fn draw(seed: u64) -> Option<LogCache> {
    let mut rng = Stream::new(seed, "config/log-cache");
    if rng.below(4) != 0 {
        return None;
    }
    let bytes = *rng.pick(&[0usize, 64, 256, 1024, 4096]);
    let read_error_ppm = if rng.below(3) == 0 {
        0
    } else {
        rng.between(50_000, 300_000) as Ppm
    };
    Some(LogCache {
        bytes,
        read_error_ppm,
    })
}

/// Whether read number `read` of node `node`'s life `incarnation` fails.
pub fn read_fails(seed: u64, node: usize, incarnation: u64, read: u64, ppm: Ppm) -> bool {
    ppm > 0
        && Stream::keyed(
            seed,
            "faults/read-errors",
            &[node as u64, incarnation, read],
        )
        .chance(ppm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimConfig;

    #[test]
    fn a_share_of_seeds_draws_a_cache_with_and_without_read_errors() {
        let caches: Vec<LogCache> = (0..400).filter_map(draw).collect();
        assert!((60..140).contains(&caches.len()), "{}", caches.len());
        assert!(caches.iter().any(|c| c.read_error_ppm == 0));
        assert!(caches.iter().any(|c| c.read_error_ppm > 0));
        assert!(caches.iter().any(|c| c.bytes == 0) && caches.iter().any(|c| c.bytes == 4096));
        for seed in 0..50 {
            assert_eq!(SimConfig::draw(seed).log_cache, draw(seed));
        }
    }

    #[test]
    fn read_errors_strike_at_about_the_drawn_rate_and_are_keyed_by_the_read() {
        let fails = (0..10_000)
            .filter(|&r| read_fails(7, 1, 0, r, 200_000))
            .count();
        assert!((1_700..2_300).contains(&fails), "{fails}");
        assert!(!(0..1_000).any(|r| read_fails(7, 1, 0, r, 0)));
        assert_eq!(
            read_fails(7, 1, 0, 5, 500_000),
            read_fails(7, 1, 0, 5, 500_000)
        );
    }
}
