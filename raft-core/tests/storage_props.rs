//! Property tests for the on-disk formats: WAL replay against an in-memory model, torn tails
//! versus corruption, and the checksummed term/vote, peer-state and snapshot files.

use bytes::Bytes;
use proptest::prelude::*;
use raft_core::storage::*;
use raft_core::{AppendEntries, Entry, EntryKind, HardState, NodeId, PeerState, SnapshotMeta};

/// One append as the node would persist it: go back `back` entries from the end of the log
/// (truncating them), then append `datas` with term = term at that point + `bump`.
#[derive(Clone, Debug)]
struct Op {
    back: u64,
    bump: u64,
    commit: u64,
    datas: Vec<(EntryKind, Vec<u8>)>,
}

fn kind() -> impl Strategy<Value = EntryKind> {
    prop_oneof![
        4 => Just(EntryKind::Normal),
        1 => Just(EntryKind::PeerState),
        1 => Just(EntryKind::AddPeer),
        1 => Just(EntryKind::Snapshot),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    (
        prop_oneof![3 => Just(0u64), 2 => 0u64..4, 1 => 0u64..40],
        0u64..3,
        0u64..100,
        proptest::collection::vec(
            (kind(), proptest::collection::vec(any::<u8>(), 0..24)),
            0..5,
        ),
    )
        .prop_map(|(back, bump, commit, datas)| Op {
            back,
            bump,
            commit,
            datas,
        })
}

/// The log start (snapshot point) of the first record.
fn log_start() -> impl Strategy<Value = (u64, u64)> {
    prop_oneof![3 => Just((0u64, 0u64)), 1 => (1u64..1_000, 1u64..5)]
}

/// A WAL image built from `ops`, with what a naive in-memory model says after each record.
#[derive(Debug)]
struct Image {
    bytes: Vec<u8>,
    /// `offsets[k]` = where record k starts; `offsets[n]` = total length.
    offsets: Vec<usize>,
    /// `models[k]` = the log after the first k records.
    models: Vec<Vec<Entry>>,
    log_start: (u64, u64),
}

impl Image {
    fn records(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of complete records in the first `cut` bytes.
    fn complete_before(&self, cut: usize) -> usize {
        self.offsets
            .iter()
            .skip(1)
            .take_while(|&&o| o <= cut)
            .count()
    }

    /// The record containing byte `pos`.
    fn record_at(&self, pos: usize) -> usize {
        self.complete_before(pos)
    }

    fn start_after(&self, k: usize) -> (u64, u64) {
        if k == 0 {
            (0, 0)
        } else {
            self.log_start
        }
    }
}

fn build(start: (u64, u64), ops: &[Op]) -> Image {
    let mut bytes = Vec::new();
    let mut offsets = vec![0];
    let mut model: Vec<Entry> = Vec::new();
    let mut models = vec![Vec::new()];
    for op in ops {
        let last = start.0 + model.len() as u64;
        let prev_index = last - op.back.min(model.len() as u64);
        let keep = (prev_index - start.0) as usize;
        let prev_term = if keep == 0 {
            start.1
        } else {
            model[keep - 1].term
        };
        let term = prev_term + op.bump;
        let entries: Vec<Entry> = op
            .datas
            .iter()
            .enumerate()
            .map(|(i, (kind, data))| Entry {
                term,
                index: prev_index + 1 + i as u64,
                kind: *kind,
                data: Bytes::from(data.clone()),
            })
            .collect();
        let ae = AppendEntries {
            leader: NodeId(7),
            term: term + 1,
            commit: op.commit,
            prev_term,
            prev_index,
            entries: entries.clone(),
            read_seq: 0,
        };
        append_wal_record(&mut bytes, &ae).unwrap();
        offsets.push(bytes.len());
        // The model: truncate after prev_index, append.
        model.truncate(keep);
        model.extend(entries);
        models.push(model.clone());
    }
    Image {
        bytes,
        offsets,
        models,
        log_start: start,
    }
}

fn image() -> impl Strategy<Value = Image> {
    (log_start(), proptest::collection::vec(op(), 1..8)).prop_map(|(s, ops)| build(s, &ops))
}

fn assert_corrupt_at(img: &Image, damaged: &[u8], k: usize) -> Result<(), TestCaseError> {
    let r = recover_wal(damaged);
    match &r.verdict {
        WalVerdict::Corrupt {
            offset,
            record_number,
            ..
        } => {
            prop_assert_eq!(*offset, img.offsets[k]);
            prop_assert_eq!(*record_number, k);
        }
        other => prop_assert!(false, "expected Corrupt at record {}, got {:?}", k, other),
    }
    prop_assert!(!r.is_usable());
    prop_assert_eq!(r.valid_len, img.offsets[k]);
    prop_assert_eq!(r.records, k);
    prop_assert_eq!(&r.entries, &img.models[k]);
    prop_assert_eq!(r.log_start, img.start_after(k));
    Ok(())
}

proptest! {
    #[test]
    fn wal_replay_matches_model(img in image()) {
        let r = recover_wal(&img.bytes);
        prop_assert_eq!(&r.verdict, &WalVerdict::Clean);
        prop_assert_eq!(r.valid_len, img.bytes.len());
        prop_assert_eq!(r.records, img.records());
        prop_assert_eq!(r.log_start, img.log_start);
        prop_assert_eq!(&r.entries, img.models.last().unwrap());
        let expected_last = img.models.last().unwrap().last().map_or(img.log_start.0, |e| e.index);
        prop_assert_eq!(r.last_index(), expected_last);

        // The same log written in one multi-term append (split into one record per term run).
        let log = img.models.last().unwrap();
        let one = encode_wal_append(img.log_start.0, img.log_start.1, log, 3).unwrap();
        let r = recover_wal(&one);
        prop_assert_eq!(&r.verdict, &WalVerdict::Clean);
        prop_assert_eq!(r.log_start, img.log_start);
        prop_assert_eq!(&r.entries, log);
        let runs = 1 + log.windows(2).filter(|w| w[0].term != w[1].term).count();
        prop_assert_eq!(r.records, runs);
    }

    /// Cutting the image anywhere gives Clean (at a record boundary) or TornTail, never Corrupt,
    /// with the log of the complete records before the cut.
    #[test]
    fn wal_any_truncation_is_torn_not_corrupt(img in image()) {
        for cut in 0..=img.bytes.len() {
            let r = recover_wal(&img.bytes[..cut]);
            let k = img.complete_before(cut);
            let boundary = img.offsets[k];
            if cut == boundary {
                prop_assert_eq!(&r.verdict, &WalVerdict::Clean);
            } else {
                prop_assert_eq!(
                    &r.verdict,
                    &WalVerdict::TornTail { offset: boundary, dropped_bytes: cut - boundary }
                );
            }
            prop_assert_eq!(r.valid_len, boundary);
            prop_assert_eq!(r.records, k);
            prop_assert_eq!(&r.entries, &img.models[k]);
            prop_assert_eq!(r.log_start, img.start_after(k));
        }
    }

    /// A single flipped bit anywhere inside any complete record (including the last, and
    /// including its length field) is Corrupt at that record, never a torn tail. The image may
    /// end in a torn partial record after it.
    #[test]
    fn wal_bit_flip_is_corrupt(
        img in image(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..12),
        tail in 0usize..30,
    ) {
        // The last record, cut short, plays the torn tail (when there are at least 2 records).
        let n = img.records();
        let (end, complete) = if n >= 2 && tail > 0 {
            let last_len = img.offsets[n] - img.offsets[n - 1];
            (img.offsets[n - 1] + tail.min(last_len - 1), n - 1)
        } else {
            (img.bytes.len(), n)
        };
        let complete_len = img.offsets[complete];
        for (pos, bit) in flips {
            let pos = pos.index(complete_len);
            let mut damaged = img.bytes[..end].to_vec();
            damaged[pos] ^= 1 << bit;
            assert_corrupt_at(&img, &damaged, img.record_at(pos))?;
        }
    }

    /// Zeroing a 512-byte aligned sector that overlaps complete records is Corrupt at the first
    /// record whose bytes changed (or Clean if the sector already held only zeros).
    #[test]
    fn wal_zeroed_sector_is_corrupt(img in image(), sector in any::<prop::sample::Index>()) {
        let len = img.bytes.len();
        let sectors = len.div_ceil(512);
        let s = sector.index(sectors);
        let range = s * 512..((s + 1) * 512).min(len);
        let mut damaged = img.bytes.clone();
        damaged[range.clone()].fill(0);
        match range.clone().find(|&i| img.bytes[i] != 0) {
            None => prop_assert_eq!(recover_wal(&damaged).verdict, WalVerdict::Clean),
            Some(first_changed) => assert_corrupt_at(&img, &damaged, img.record_at(first_changed))?,
        }
    }

    /// Records with larger entries, so that sectors fall inside records and across boundaries.
    #[test]
    fn wal_zeroed_sector_in_large_records(
        sizes in proptest::collection::vec(0usize..900, 1..6),
        sector in any::<prop::sample::Index>(),
        fill in any::<u8>(),
    ) {
        let ops: Vec<Op> = sizes
            .iter()
            .map(|&s| Op { back: 0, bump: 0, commit: 0, datas: vec![(EntryKind::Normal, vec![fill | 1; s])] })
            .collect();
        let img = build((0, 0), &ops);
        let s = sector.index(img.bytes.len().div_ceil(512));
        let range = s * 512..((s + 1) * 512).min(img.bytes.len());
        let mut damaged = img.bytes.clone();
        damaged[range.clone()].fill(0);
        match range.clone().find(|&i| img.bytes[i] != 0) {
            None => prop_assert_eq!(recover_wal(&damaged).verdict, WalVerdict::Clean),
            Some(first_changed) => assert_corrupt_at(&img, &damaged, img.record_at(first_changed))?,
        }
    }

    /// Arbitrary bytes, and records with valid header checksums around arbitrary payloads,
    /// never panic.
    #[test]
    fn wal_garbage_never_panics(
        raw in proptest::collection::vec(any::<u8>(), 0..200),
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 0..4),
        lie in any::<bool>(),
    ) {
        let r = recover_wal(&raw);
        prop_assert!(r.valid_len <= raw.len());
        let mut img = Vec::new();
        for p in &payloads {
            let len = p.len() as u32 + u32::from(lie);
            img.extend_from_slice(&len.to_le_bytes());
            img.extend_from_slice(&crc32c::crc32c(&len.to_le_bytes()).to_le_bytes());
            img.extend_from_slice(&crc32c::crc32c(p).to_le_bytes());
            img.extend_from_slice(p);
        }
        let r = recover_wal(&img);
        prop_assert!(r.valid_len <= img.len());
        let _ = r.verdict.to_string();
    }

    #[test]
    fn hard_state_round_trip_and_bit_flips(term in any::<u64>(), vote in proptest::option::of(any::<u64>())) {
        let hs = HardState { term, vote: vote.map(NodeId) };
        let bytes = encode_hard_state(&hs);
        prop_assert_eq!(bytes.len(), if vote.is_some() { 20 } else { 12 });
        prop_assert_eq!(decode_hard_state(&bytes).unwrap(), hs);
        for bit in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(decode_hard_state(&b).is_err(), "bit {} flip accepted", bit);
        }
        for cut in 1..bytes.len() {
            prop_assert!(decode_hard_state(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn peer_state_file_round_trip_and_bit_flips(
        cluster_size in any::<u32>(),
        peers in proptest::collection::vec(any::<u64>(), 0..6),
        domain_ext in any::<u16>(),
        observers in proptest::collection::vec(any::<u64>(), 0..3),
    ) {
        let ps = PeerState {
            cluster_size,
            peers: peers.into_iter().map(NodeId).collect(),
            domain_ext,
            observers: observers.into_iter().map(NodeId).collect(),
        };
        let bytes = encode_peer_state_file(&ps);
        prop_assert_eq!(decode_peer_state_file(&bytes).unwrap(), Some(ps));
        for bit in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(decode_peer_state_file(&b).is_err(), "bit {} flip accepted", bit);
        }
        for cut in 1..bytes.len() {
            prop_assert!(decode_peer_state_file(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn snapshot_file_round_trip_and_bit_flips(
        index in 1u64..u64::MAX,
        term in any::<u64>(),
        voters in proptest::collection::vec(any::<u64>(), 0..4),
        observers in proptest::collection::vec(any::<u64>(), 0..3),
        data in proptest::collection::vec(any::<u8>(), 0..48),
    ) {
        let meta = SnapshotMeta {
            index,
            term,
            peers: PeerState {
                cluster_size: voters.len() as u32,
                peers: voters.into_iter().map(NodeId).collect(),
                domain_ext: 0,
                observers: observers.into_iter().map(NodeId).collect(),
            },
        };
        let bytes = encode_snapshot_file(&meta, &data);
        let snapshot = decode_snapshot_file(&bytes).unwrap();
        prop_assert_eq!(&snapshot.meta, &meta);
        prop_assert_eq!(&snapshot.data[..], &data[..]);
        // Every single bit flip anywhere is caught (CRC-32C detects all 1-bit errors).
        for bit in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(decode_snapshot_file(&b).is_err(), "bit {} flip accepted", bit);
        }
        // So is every truncation (a torn or partial file).
        for cut in 0..bytes.len() {
            prop_assert!(decode_snapshot_file(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn snapshot_file_garbage_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..96)) {
        if let Err(e) = decode_snapshot_file(&raw) {
            prop_assert!(!e.to_string().is_empty());
        }
        // With a valid checksum the body is parsed: still no panic.
        let mut sealed = raw.clone();
        sealed.extend_from_slice(&crc32c_of(&raw).to_le_bytes());
        if let Err(e) = decode_snapshot_file(&sealed) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn term_vote_record_survives_damage_to_one_copy(
        term in any::<u64>(),
        vote in proptest::option::of(any::<u64>()),
        copy in 0usize..2,
        at in any::<usize>(),
        mask in 1u8..,
    ) {
        let hs = HardState { term, vote: vote.map(NodeId) };
        let bytes = encode_hard_state(&hs);
        let mut damaged = bytes.clone();
        damaged[at % bytes.len()] ^= mask;
        let copies: [&[u8]; 2] = if copy == 0 { [&damaged, &bytes] } else { [&bytes, &damaged] };
        let r = recover_term_vote(&copies);
        prop_assert_eq!(r.hard_state, hs);
        prop_assert_eq!(r.record, VoteRecord::CopyDamaged);
    }

    #[test]
    fn term_vote_recovery_never_panics(
        a in proptest::collection::vec(any::<u8>(), 0..32),
        b in proptest::collection::vec(any::<u8>(), 0..32),
    ) {
        let r = recover_term_vote(&[&a, &b]);
        if r.record == VoteRecord::Lost {
            prop_assert_eq!(r.hard_state, HardState::default());
        }
        for (_, e) in &r.damaged {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn small_files_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_hard_state(&raw);
        if let Err(e) = decode_peer_state_file(&raw) {
            prop_assert!(!e.to_string().is_empty());
        }
    }
}

/// The CRC-32C used by every file, computed bit by bit (independent of the crc32c crate).
fn crc32c_of(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
