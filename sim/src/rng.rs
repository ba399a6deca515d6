//! Random draws. One seed determines a run. Nothing draws from a stream shared by unrelated
//! decisions: each decision (or each knob of the configuration, each slot of the fault
//! script, each client operation) draws from a small generator of its own, seeded by the run
//! seed, a stable label and the decision's key ([`Stream::keyed`]). So a new draw, a new
//! decision or a reordered loop changes only the decisions it touches, never the ones after
//! it (`crate::decisions` says which key each decision has).

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

/// The seed of the generator for one key under `label`: the label's seed with every part of
/// the key mixed in, in order.
pub fn keyed_seed(seed: u64, label: &str, key: &[u64]) -> u64 {
    key.iter()
        .fold(derive_seed(seed, label), |hash, &part| mix(hash, part))
}

/// Mixes one more value into a hash (SplitMix64's finalizer: every input bit moves about
/// half of the output bits, and `mix(mix(h, a), b)` differs from `mix(mix(h, b), a)`).
#[inline]
pub fn mix(hash: u64, value: u64) -> u64 {
    splitmix64(hash ^ splitmix64(value))
}

#[inline]
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A small deterministic generator (SplitMix64): a few draws per decision, cheap to seed.
#[derive(Clone, Debug)]
pub struct Stream {
    state: u64,
}

impl Stream {
    /// The stream named `label` of the run `seed`.
    pub fn new(seed: u64, label: &str) -> Stream {
        Stream {
            state: derive_seed(seed, label),
        }
    }

    /// The generator of one decision: `label` names what is decided, `key` which one.
    pub fn keyed(seed: u64, label: &str, key: &[u64]) -> Stream {
        Stream {
            state: keyed_seed(seed, label, key),
        }
    }

    /// A generator seeded directly (a decision's seed computed elsewhere).
    pub fn from_seed(seed: u64) -> Stream {
        Stream { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True with probability `ppm` parts per million.
    pub fn chance(&mut self, ppm: Ppm) -> bool {
        ppm > 0 && self.below(1_000_000) < ppm as usize
    }

    /// Uniform in `[low, high]` (inclusive).
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        let span = u128::from(high - low) + 1;
        low + ((u128::from(self.next_u64()) * span) >> 64) as u64
    }

    /// Uniform index below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
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

    #[test]
    fn keyed_draws_are_pinned() {
        // The same: a change here changes every decision of every run.
        assert_eq!(keyed_seed(42, "message", &[0, 1, 2]), 0x6fe6_e746_f3af_42ee);
        let mut stream = Stream::keyed(42, "message", &[0, 1, 2]);
        assert_eq!(stream.next_u64(), 0xe348_d638_6e01_b93b);
        assert_eq!(stream.between(100, 200), 170);
    }

    #[test]
    fn keys_differ_in_every_part_and_in_order() {
        let seeds = [
            keyed_seed(1, "m", &[1, 2]),
            keyed_seed(1, "m", &[2, 1]),
            keyed_seed(1, "m", &[1, 3]),
            keyed_seed(1, "n", &[1, 2]),
            keyed_seed(2, "m", &[1, 2]),
            keyed_seed(1, "m", &[1, 2, 0]),
        ];
        let distinct: std::collections::BTreeSet<u64> = seeds.iter().copied().collect();
        assert_eq!(distinct.len(), seeds.len());
    }

    #[test]
    fn draws_stay_in_range_and_cover_it() {
        let mut stream = Stream::new(3, "t");
        let mut seen = [false; 7];
        for _ in 0..1_000 {
            let v = stream.between(10, 16);
            assert!((10..=16).contains(&v));
            seen[(v - 10) as usize] = true;
            assert!(stream.below(5) < 5);
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(stream.between(5, 5), 5);
        assert!(!stream.chance(0));
        assert!(stream.chance(1_000_000));
        let hits = (0..10_000).filter(|_| stream.chance(250_000)).count();
        assert!((2_200..2_800).contains(&hits), "{hits}");
    }
}
