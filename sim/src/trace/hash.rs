//! The trace hash: 64-bit words mixed one at a time, over the typed pieces of every event.
//!
//! Why words and not the text: every event of every run is hashed, and most runs keep no
//! event, so the text would be rendered (decimal digits, padding) only to be hashed byte by
//! byte (FNV-1a over the canonical text was the hash until this module replaced it; the
//! rendering and hashing were 15% of the standard run's instructions, now 3.4%). Here an
//! integer is one word; a string is its 8-byte chunks plus one last word that holds the rest
//! of its bytes and, in the top byte, a tag and its length; a name (an event's kind, a
//! field's key) is one word worked out at compile time. No piece is rendered unless the
//! trace is kept or echoed.
//!
//! What the hash is a function of: per event its time, its node, its kind, then per field
//! its key and the pieces of its value, each piece an integer or a string. A value's pieces
//! are the calls its [`TraceValue::write`](super::TraceValue::write) makes, so `"AE(t", 3,
//! ")"` is three pieces and hashes unlike the one string `"AE(t3)"`: the hash follows the
//! types, not the rendered text. The words can be parsed back into the pieces (so different
//! traces mix different words): a string's last word carries the text tag and the length
//! (within the last 8-byte chunk the length is what tells `"ab"` from `"ab\0"`), a kind's
//! word the kind tag and marks the start of an event (the two integers before it are its
//! time and node), a key's word the key tag and the start of a field. An integer could only
//! be read as a tagged word if its top bit were set and its other bytes spelled the rest,
//! which no trace value does; two names share a word only if their 56-bit digests collide.
//!
//! The mix is FxHash's (`h = (rotl(h, 5) ^ w) * K`): each step is a bijection of the state
//! for a given word and of the word for a given state, so two traces that differ in one word
//! (and are otherwise the same length) always hash differently. [`TraceHasher::finish`]
//! runs a final avalanche so that every bit of the printed hash depends on every word. Only
//! the bytes of strings and names and the values of integers go in, never an address, so
//! the hash is the same across builds and machines.

/// The tag in the top byte of a string's last word (with its length's low five bits) or of
/// a name's word: what sort of piece the word ends.
const TEXT: u8 = 0x80;
const KEY: u8 = 0xa0;
const KIND: u8 = 0xc0;

/// An event's kind or a field's key, with its word worked out at compile time (`event!` makes
/// them in `const` blocks): a name is one word whatever its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Name {
    pub text: &'static str,
    word: u64,
}

impl Name {
    pub const fn kind(text: &'static str) -> Name {
        Name {
            text,
            word: name_word(text, KIND),
        }
    }

    pub const fn key(text: &'static str) -> Name {
        Name {
            text,
            word: name_word(text, KEY),
        }
    }
}

/// The low 56 bits of the name's 64-bit FNV-1a, under the tag: a function of its bytes only
/// (any such function would do; this one runs at compile time, so its speed is no matter).
const fn name_word(text: &str, tag: u8) -> u64 {
    let bytes = text.as_bytes();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash & 0x00ff_ffff_ffff_ffff | (tag as u64) << 56
}

/// FxHash's multiplier (an odd constant, so the multiplication is invertible).
const K: u64 = 0x517c_c1b7_2722_0a95;
/// The state before the first word (the first 64 bits of pi's fraction; any nonzero value).
const SEED: u64 = 0x243f_6a88_85a3_08d3;

/// Mixes the pieces of a trace into one 64-bit state.
#[derive(Clone, Debug)]
pub struct TraceHasher {
    state: u64,
}

impl Default for TraceHasher {
    fn default() -> TraceHasher {
        TraceHasher { state: SEED }
    }
}

impl TraceHasher {
    /// One word: an integer piece, or a chunk of a string.
    #[inline]
    pub fn word(&mut self, word: u64) {
        self.state = (self.state.rotate_left(5) ^ word).wrapping_mul(K);
    }

    /// A name: its one word.
    #[inline]
    pub fn name(&mut self, name: Name) {
        self.word(name.word);
    }

    /// A string piece: its whole 8-byte chunks, then its last word.
    #[inline]
    pub fn string(&mut self, s: &str) {
        let bytes = s.as_bytes();
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.word(u64::from_le_bytes(
                chunk.try_into().expect("chunks_exact gives 8 bytes"),
            ));
        }
        self.word(last_word(chunks.remainder(), bytes.len()));
    }

    /// The hash of everything mixed so far (the state is left as it is).
    pub fn finish(&self) -> u64 {
        // MurmurHash3's 64-bit finaliser.
        let mut h = self.state;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// The last word of a string of `len` bytes whose last `rest.len()` (0 to 7) bytes are
/// `rest`: those bytes little-endian in the low seven bytes, the text tag and the length's
/// low five bits in the top byte. (Two strings with the same number of whole chunks differ in
/// length by less than 8, so five bits of it tell them apart.)
#[inline]
fn last_word(rest: &[u8], len: usize) -> u64 {
    let top = TEXT | (len & 0x1f) as u8;
    load_short(rest) | u64::from(top) << 56
}

/// Up to 7 bytes, little-endian, without a loop: two overlapping 4-byte loads for 4 to 7
/// bytes, three single bytes (some the same) for 1 to 3. Overlapping bytes are equal, so
/// OR-ing them in twice is harmless.
#[inline]
fn load_short(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    debug_assert!(n < 8);
    if n >= 4 {
        let low = u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"));
        let high = u32::from_le_bytes(bytes[n - 4..].try_into().expect("4 bytes"));
        u64::from(low) | u64::from(high) << ((n - 4) * 8)
    } else if n > 0 {
        u64::from(bytes[0])
            | u64::from(bytes[n / 2]) << (n / 2 * 8)
            | u64::from(bytes[n - 1]) << ((n - 1) * 8)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_loads_read_every_byte_in_place() {
        let bytes: Vec<u8> = (1..=7).collect();
        for n in 0..8 {
            let mut padded = [0u8; 8];
            padded[..n].copy_from_slice(&bytes[..n]);
            assert_eq!(
                load_short(&bytes[..n]),
                u64::from_le_bytes(padded),
                "{n} bytes"
            );
        }
    }

    fn hash_of(strings: &[&str]) -> u64 {
        let mut h = TraceHasher::default();
        for s in strings {
            h.string(s);
        }
        h.finish()
    }

    #[test]
    fn strings_of_every_length_and_byte_hash_apart() {
        // Every prefix of a 20-byte string (0 to 2 whole chunks and every remainder), a zero
        // byte appended to it, and each of its bytes changed: all different.
        let text = "abcdefghijklmnopqrst";
        let mut seen = std::collections::HashSet::new();
        for len in 0..=text.len() {
            let s = &text[..len];
            assert!(seen.insert(hash_of(&[s])), "{s:?}");
            let zero = format!("{s}\0");
            assert!(seen.insert(hash_of(&[&zero])), "{zero:?}");
            for at in 0..len {
                let mut changed = s.as_bytes().to_vec();
                changed[at] = b'_';
                let changed = String::from_utf8(changed).expect("ASCII");
                assert!(seen.insert(hash_of(&[&changed])), "{changed:?}");
            }
        }
    }

    #[test]
    fn names_texts_and_integers_are_different_pieces() {
        let words = |f: &dyn Fn(&mut TraceHasher)| {
            let mut h = TraceHasher::default();
            f(&mut h);
            h.finish()
        };
        let all = [
            words(&|h| h.string("ab")),
            words(&|h| h.name(Name::key("ab"))),
            words(&|h| h.name(Name::kind("ab"))),
            words(&|h| h.name(Name::kind("ba"))),
            words(&|h| {
                h.string("a");
                h.string("b");
            }),
            words(&|h| {
                h.string("ab");
                h.string("");
            }),
            // The empty string's last word carries its tag, so it is not the integer 0.
            words(&|h| h.string("")),
            words(&|h| h.word(0)),
        ];
        let distinct: std::collections::HashSet<_> = all.iter().collect();
        assert_eq!(distinct.len(), all.len(), "{all:x?}");
    }

    #[test]
    fn the_hash_is_pinned() {
        // The hash is part of every verdict: this pins the function itself (the seeds'
        // hashes in sim/tests/pinned_hashes.rs pin it through whole runs).
        let mut h = TraceHasher::default();
        h.word(1500);
        h.word(3);
        h.name(Name::kind("commit"));
        h.name(Name::key("index"));
        h.word(7);
        h.string("entries=");
        assert_eq!(h.finish(), 0xd49c_792e_961e_1f62);
    }
}
