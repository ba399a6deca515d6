use super::*;

fn message(from: u8, to: u8, term: u64, prev: u64) -> MessageKey {
    MessageKey {
        from,
        to,
        kind: MessageKind::AppendEntries,
        term,
        fields: [prev, 0, 3, 0],
    }
}

fn fate(rng: &mut Stream) -> FateDraw {
    FateDraw {
        dropped: rng.chance(100_000),
        latency: rng.between(1, 1_000_000),
        duplicate: None,
    }
}

fn every_kind() -> Vec<Decision> {
    let d = |key, ordinal, value| Decision {
        key,
        ordinal,
        value,
    };
    vec![
        d(
            Key::Message(message(0, 1, 3, 17)),
            0,
            Value::Fate(FateDraw {
                dropped: false,
                latency: 1234,
                duplicate: None,
            }),
        ),
        d(
            Key::Message(MessageKey {
                kind: MessageKind::VoteResponse,
                fields: [1, 0, 0, 0],
                ..message(2, 0, 4, 0)
            }),
            2,
            Value::Fate(FateDraw {
                dropped: true,
                latency: 2210,
                duplicate: Some(900),
            }),
        ),
        d(
            Key::Message(MessageKey::ping(1, 2)),
            0,
            Value::Fate(FateDraw {
                dropped: false,
                latency: 5,
                duplicate: Some(7),
            }),
        ),
        d(
            Key::Hop {
                client: 2,
                seq: 15,
                attempt: 1,
                leg: Leg::Reply,
            },
            0,
            Value::Latency(2345),
        ),
        d(
            Key::Fsync {
                node: 2,
                life: 1,
                persist: 17,
            },
            0,
            Value::Fsync(FsyncDraw {
                latency: 1234,
                slow_by: Some(250_000),
            }),
        ),
        d(
            Key::PowerLoss { node: 1, life: 2 },
            0,
            Value::PowerLoss(PowerLossDraw {
                unsynced: Unsynced::Torn { roll: u64::MAX },
                renames_kept: 5,
            }),
        ),
        d(
            Key::PowerLoss { node: 1, life: 3 },
            0,
            Value::PowerLoss(PowerLossDraw {
                unsynced: Unsynced::Kept,
                renames_kept: 0,
            }),
        ),
        d(
            Key::Corruption {
                node: 3,
                at: 1_234_567,
            },
            0,
            Value::Corruption(CorruptionDraw::BitFlip {
                roll: 98765,
                bit: 5,
            }),
        ),
        d(
            Key::Corruption { node: 3, at: 9 },
            1,
            Value::Corruption(CorruptionDraw::ZeroSector { roll: 1 }),
        ),
        d(
            Key::Corruption { node: 1, at: 10 },
            0,
            Value::Corruption(CorruptionDraw::LostWrite { roll: 7 }),
        ),
        d(
            Key::Corruption { node: 2, at: 11 },
            0,
            Value::Corruption(CorruptionDraw::MisdirectedWrite { roll: 8, target: 9 }),
        ),
        d(
            Key::LeaderCrash {
                node: 2,
                life: 1,
                term: 7,
            },
            0,
            Value::LeaderCrash {
                after_us: 302,
                down_us: 16957,
            },
        ),
        d(Key::Bridge, 0, Value::Node(2)),
        d(Key::ClockDrift { node: 0 }, 0, Value::DriftPpm(-1234)),
        d(
            Key::Election { node: 0, life: 0 },
            0,
            Value::Seed(1_234_567_890),
        ),
        d(
            Key::Upkeep {
                node: 1,
                at: 2_500_000,
            },
            0,
            Value::Seed(987_654_321),
        ),
    ]
}

#[test]
fn every_kind_of_decision_reads_back_from_its_line() {
    for decision in every_kind() {
        let line = decision.to_string();
        assert_eq!(line.parse::<Decision>(), Ok(decision), "{line}");
    }
    assert_eq!(
        every_kind()[0].to_string(),
        "msg n0>n1 AE t3 17/0/3/0 #0 = 1234"
    );
    assert_eq!(
        every_kind()[1].to_string(),
        "msg n2>n0 VR t4 1 #2 = drop 2210 dup 900"
    );
}

#[test]
fn a_line_that_is_not_a_decision_is_refused_with_the_reason() {
    let reason = |line: &str| line.parse::<Decision>().unwrap_err().reason;
    assert_eq!(
        reason("note n1 #0 = 5"),
        "unknown kind of decision \"note\""
    );
    assert_eq!(
        reason("msg n0>n1 AE t3 17/0 #0 = 5"),
        "AE carries 4 numbers, got \"17/0\""
    );
    assert_eq!(
        reason("msg n0>n1 XX t3 - #0 = 5"),
        "unknown message kind \"XX\""
    );
    assert_eq!(
        reason("hop c1 s2 a3 request #0 = 5 6"),
        "unexpected \"6\" at the end"
    );
    assert_eq!(reason("fsync n1 life0 p4 #0"), "ends before =");
    assert_eq!(
        reason("drift nX #0 = 5"),
        "node: expected n<number>, got \"nX\""
    );
    assert_eq!(
        reason("power n1 life2 #0 = gone renames 0"),
        "unknown power loss \"gone\""
    );
    assert!("".parse::<Decision>().is_err());
}

#[test]
fn a_replay_takes_the_recorded_value_where_the_key_matches_and_draws_the_rest() {
    let key = message(0, 1, 3, 17);
    let recorded = Decision {
        key: Key::Message(key),
        ordinal: 1,
        value: Value::Fate(FateDraw {
            dropped: false,
            latency: 42,
            duplicate: None,
        }),
    };
    let mut fresh = Decisions::new(9, &[], false);
    let mut replay = Decisions::new(9, &[recorded], false);
    let run = |d: &mut Decisions| -> Vec<FateDraw> {
        vec![
            d.fate(key, fate, |f| f),
            d.fate(key, fate, |f| f),
            d.fate(message(1, 0, 3, 17), fate, |f| f),
        ]
    };
    let drawn = run(&mut fresh);
    let replayed = run(&mut replay);
    // The second send of the same message is the recorded one; the others are drawn as in
    // a fresh run.
    assert_eq!(replayed[0], drawn[0]);
    assert_eq!(replayed[1].latency, 42);
    assert_ne!(drawn[1].latency, 42);
    assert_eq!(replayed[2], drawn[2]);
    assert_eq!(
        replay.usage(),
        Usage {
            given: 1,
            replayed: 1,
            drawn: 2
        }
    );
    // What a run made replays it exactly.
    let mut again = Decisions::new(9, fresh.made(), false);
    assert_eq!(run(&mut again), drawn);
    assert_eq!(again.usage().drawn, 0);
}

#[test]
fn identical_keys_are_told_apart_by_their_ordinal_and_other_keys_are_untouched() {
    let mut a = Decisions::new(5, &[], false);
    let mut b = Decisions::new(5, &[], false);
    let first = a.fate(message(0, 1, 3, 17), fate, |f| f);
    let second = a.fate(message(0, 1, 3, 17), fate, |f| f);
    assert_ne!(first, second);
    assert_eq!(
        a.made().iter().map(|d| d.ordinal).collect::<Vec<_>>(),
        [0, 1]
    );
    // Other decisions made in between, in any order, change neither.
    b.fate(message(0, 2, 3, 17), fate, |f| f);
    assert_eq!(b.fate(message(0, 1, 3, 17), fate, |f| f), first);
    b.hop(
        Key::Hop {
            client: 0,
            seq: 1,
            attempt: 1,
            leg: Leg::Request,
        },
        |rng| rng.between(0, 10),
    );
    assert_eq!(b.fate(message(0, 1, 3, 17), fate, |f| f), second);
}

#[test]
fn an_extra_draw_moves_drawn_values_but_not_replayed_ones() {
    let mut plain = Decisions::new(5, &[], false);
    let drawn: Vec<FateDraw> = (0..20)
        .map(|i| plain.fate(message(0, 1, 3, i), fate, |f| f))
        .collect();
    let mut perturbed = Decisions::new(5, &[], true);
    let moved: Vec<FateDraw> = (0..20)
        .map(|i| perturbed.fate(message(0, 1, 3, i), fate, |f| f))
        .collect();
    assert_ne!(drawn, moved);
    let mut replayed = Decisions::new(5, plain.made(), true);
    let kept: Vec<FateDraw> = (0..20)
        .map(|i| replayed.fate(message(0, 1, 3, i), fate, |f| f))
        .collect();
    assert_eq!(drawn, kept);
}

#[test]
fn a_replayed_value_is_fitted_to_the_present_rules_and_recorded_as_used() {
    let key = message(0, 1, 3, 17);
    let lost = Decision {
        key: Key::Message(key),
        ordinal: 0,
        value: Value::Fate(FateDraw {
            dropped: true,
            latency: 42,
            duplicate: None,
        }),
    };
    let mut replay = Decisions::new(9, &[lost], false);
    let no_loss = |f: FateDraw| FateDraw {
        dropped: false,
        ..f
    };
    let used = replay.fate(key, fate, no_loss);
    assert!(!used.dropped && used.latency == 42);
    assert_eq!(replay.made()[0].value, Value::Fate(used));
}

#[test]
fn a_recorded_value_of_the_wrong_kind_is_not_used() {
    let key = Key::ClockDrift { node: 1 };
    let wrong = Decision {
        key,
        ordinal: 0,
        value: Value::Seed(7),
    };
    let mut replay = Decisions::new(9, &[wrong], false);
    let mut fresh = Decisions::new(9, &[], false);
    let drift = |rng: &mut Stream| rng.between(0, 100) as i64;
    assert_eq!(replay.drift_ppm(key, drift), fresh.drift_ppm(key, drift));
    assert_eq!(replay.usage().replayed, 0);
}

#[test]
fn a_recorded_node_choice_outside_the_candidates_is_not_used() {
    let recorded = Decision {
        key: Key::Bridge,
        ordinal: 0,
        value: Value::Node(4),
    };
    assert_eq!(
        Decisions::new(1, &[recorded], false).node(Key::Bridge, &[4, 5]),
        4
    );
    assert_eq!(
        Decisions::new(1, &[recorded], false).node(Key::Bridge, &[2, 3]),
        2
    );
}

#[test]
fn key_hashes_and_derived_values_are_pinned() {
    // A change here changes every decision of every run: make it a conscious one.
    assert_eq!(
        Key::Message(message(0, 1, 3, 17)).hash(),
        0xd5e6_019b_0662_0e7c
    );
    let hop = Key::Hop {
        client: 1,
        seq: 2,
        attempt: 1,
        leg: Leg::Request,
    };
    assert_eq!(hop.hash(), 0xfac8_d244_be24_fb64);
    let mut decisions = Decisions::new(42, &[], false);
    assert_eq!(
        decisions.hop(hop, |rng| rng.next_u64()),
        0xd2c9_cefd_e7c6_458c
    );
}
