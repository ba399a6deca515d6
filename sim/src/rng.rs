//! Independent random streams. One seed determines a run; each concern draws from its own
//! ChaCha stream derived from the seed and a stable label, so a change in how one concern
//! uses randomness does not reshuffle the others.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Parts per million: probabilities are integers, never floats.
pub type Ppm = u32;

/// Derives the 64-bit seed of the stream named `label` (FNV-1a over the label, mixed with the
/// run seed by SplitMix64; both are fixed algorithms, stable across platforms and versions).
pub fn derive_seed(seed: u64, label: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in label.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    splitmix64(seed ^ splitmix64(hash))
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A named random stream.
#[derive(Clone, Debug)]
pub struct Stream(ChaCha8Rng);

impl Stream {
    pub fn new(seed: u64, label: &str) -> Stream {
        Stream(ChaCha8Rng::seed_from_u64(derive_seed(seed, label)))
    }

    /// True with probability `ppm` parts per million.
    pub fn chance(&mut self, ppm: Ppm) -> bool {
        ppm > 0 && self.0.gen_range(0..1_000_000u32) < ppm
    }

    /// Uniform in `[low, high]` (inclusive).
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        self.0.gen_range(low..=high)
    }

    /// Uniform index below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0.gen_range(0..n)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.gen()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_with_different_labels_differ() {
        let mut a = Stream::new(1, "network");
        let mut b = Stream::new(1, "disk/n1");
        assert_ne!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn derived_seeds_are_pinned() {
        // Pinned so that a change to the derivation (which would reshuffle every seed's run)
        // is a conscious decision.
        assert_eq!(derive_seed(0, ""), 0x21fa_69a5_8f3d_62f5);
        assert_eq!(derive_seed(42, "network"), 0x3737_a5ce_3f25_fe76);
        assert_eq!(derive_seed(42, "disk/n1"), 0x3b26_0fa8_2811_72b3);
        assert_ne!(derive_seed(42, "network"), derive_seed(43, "network"));
    }
}
