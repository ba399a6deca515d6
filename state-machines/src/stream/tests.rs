//! The stream's rules, one input at a time.

use super::*;

fn config() -> StreamConfig {
    StreamConfig {
        max_msgs: 10,
        dedupe_window: 4,
        max_batch: 3,
        max_open_batches: 2,
        batch_timeout_us: 100,
    }
}

fn msg(subject: &str, data: &str, id: Option<&str>) -> Message {
    Message {
        subject: subject.into(),
        data: data.into(),
        msg_id: id.map(String::from),
        expect: Expect::default(),
        rollup: false,
    }
}

fn publish(client: u32, seq: u64, m: Message) -> Vec<u8> {
    StreamEntry {
        client,
        seq,
        body: EntryBody::Publish {
            msg: m,
            batch: None,
        },
    }
    .encode()
}

fn part(id: &str, seq: u32, commit: bool, m: Message) -> Vec<u8> {
    StreamEntry {
        client: 1,
        seq: 9,
        body: EntryBody::Publish {
            msg: m,
            batch: Some(BatchPart {
                id: id.into(),
                seq,
                commit,
            }),
        },
    }
    .encode()
}

fn reply(a: &Applied) -> Option<&StreamResult> {
    a.reply.as_ref().map(|(_, _, r)| r)
}

#[test]
fn sequences_are_dense_and_per_subject_last_is_kept() {
    let mut s = Stream::new(config());
    let a = s.apply(1, 1, true, &publish(1, 1, msg("a", "x", None)));
    assert_eq!(reply(&a), Some(&StreamResult::Stored { seq: 1 }));
    s.apply(2, 1, true, &publish(1, 2, msg("b", "y", None)));
    s.apply(3, 1, true, &publish(1, 3, msg("a", "z", None)));
    assert_eq!(s.last_seq(), 3);
    assert_eq!(s.last_by_subject("a").map(|f| f.seq), Some(3));
    assert_eq!(s.last_by_subject("b").map(|f| f.data), Some("y".into()));
}

#[test]
fn a_msg_id_inside_the_window_is_a_duplicate_and_outside_it_is_stored() {
    let mut s = Stream::new(config());
    s.apply(1, 1, true, &publish(1, 1, msg("a", "x", Some("m"))));
    let dup = s.apply(2, 1, true, &publish(2, 1, msg("a", "x2", Some("m"))));
    assert_eq!(reply(&dup), Some(&StreamResult::Duplicate { seq: 1 }));
    assert!(dup.stored.is_empty());
    for i in 0..4 {
        s.apply(3 + i, 1, true, &publish(3, i, msg("a", "f", None)));
    }
    let again = s.apply(7, 1, true, &publish(2, 2, msg("a", "x3", Some("m"))));
    assert_eq!(reply(&again), Some(&StreamResult::Stored { seq: 6 }));
}

#[test]
fn expectations_refuse_and_store_nothing() {
    let mut s = Stream::new(config());
    s.apply(1, 1, true, &publish(1, 1, msg("a", "x", Some("m1"))));
    let mut m = msg("a", "y", None);
    m.expect.last_seq = Some(0);
    let r = s.apply(2, 1, true, &publish(1, 2, m));
    assert_eq!(
        reply(&r),
        Some(&StreamResult::Refused(Refusal::LastSeq { actual: 1 }))
    );
    let mut m = msg("b", "y", None);
    m.expect.last_subject_seq = Some(0);
    assert_eq!(
        reply(&s.apply(3, 1, true, &publish(1, 3, m))),
        Some(&StreamResult::Stored { seq: 2 })
    );
    let mut m = msg("a", "z", None);
    m.expect.last_msg_id = Some("m1".into());
    let r = s.apply(4, 1, true, &publish(1, 4, m));
    assert_eq!(reply(&r), Some(&StreamResult::Refused(Refusal::LastMsgId)));
}

#[test]
fn discard_new_refuses_beyond_the_limit_and_rollup_makes_room() {
    let mut c = config();
    c.max_msgs = 2;
    let mut s = Stream::new(c);
    s.apply(1, 1, true, &publish(1, 1, msg("a", "1", None)));
    s.apply(2, 1, true, &publish(1, 2, msg("a", "2", None)));
    let r = s.apply(3, 1, true, &publish(1, 3, msg("b", "3", None)));
    assert_eq!(reply(&r), Some(&StreamResult::Refused(Refusal::MaxMsgs)));
    let mut roll = msg("a", "4", None);
    roll.rollup = true;
    let r = s.apply(4, 1, true, &publish(1, 4, roll));
    assert_eq!(reply(&r), Some(&StreamResult::Stored { seq: 3 }));
    assert_eq!(
        (s.len(), s.get(1), s.get(3).map(|f| f.data)),
        (1, None, Some("4".into()))
    );
}

#[test]
fn a_batch_is_stored_at_its_commit_marker_and_processed_runs_ahead_of_applied() {
    let mut s = Stream::new(config());
    s.apply(1, 1, true, &publish(1, 1, msg("a", "x", None)));
    let first = s.apply(2, 1, true, &part("b", 1, false, msg("a", "b1", Some("b"))));
    assert!(first.stored.is_empty() && first.reply.is_none());
    assert_eq!(
        (s.processed(), s.applied_through(), s.last_seq()),
        (2, 1, 1)
    );
    let last = s.apply(3, 1, true, &part("b", 2, true, msg("a", "b2", None)));
    assert_eq!(
        reply(&last),
        Some(&StreamResult::BatchStored { first: 2, count: 2 })
    );
    assert_eq!(last.stored.len(), 2);
    assert_eq!((s.processed(), s.applied_through()), (3, 3));
}

#[test]
fn one_failed_header_check_refuses_the_whole_batch() {
    let mut s = Stream::new(config());
    s.apply(1, 1, true, &part("b", 1, false, msg("a", "b1", None)));
    let mut second = msg("a", "b2", None);
    second.expect.last_subject_seq = Some(7);
    let r = s.apply(2, 1, true, &part("b", 2, true, second));
    assert_eq!(
        reply(&r),
        Some(&StreamResult::Refused(Refusal::LastSubjectSeq {
            actual: 1
        }))
    );
    assert!(r.stored.is_empty());
    assert_eq!(s.last_seq(), 0);
}

#[test]
fn a_newer_term_abandons_the_batch_being_collected() {
    let mut s = Stream::new(config());
    s.apply(1, 1, true, &part("b", 1, false, msg("a", "b1", None)));
    let noop = s.apply(2, 2, false, &[]);
    assert_eq!(noop.abandoned, vec!["b".to_string()]);
    assert_eq!(s.applied_through(), 2);
    let retry = s.apply(3, 2, true, &part("b", 1, false, msg("a", "b1", None)));
    assert!(retry.abandoned.is_empty());
    let done = s.apply(4, 2, true, &part("b", 2, true, msg("a", "b2", None)));
    assert_eq!(
        reply(&done),
        Some(&StreamResult::BatchStored { first: 1, count: 2 })
    );
}

#[test]
fn a_snapshot_holds_the_dedupe_table_and_no_part_of_an_open_batch() {
    let mut s = Stream::new(config());
    s.apply(1, 1, true, &publish(1, 1, msg("a", "x", Some("m"))));
    s.apply(2, 1, true, &part("b", 1, false, msg("a", "b1", None)));
    let snap = s.snapshot();
    let mut restored = Stream::restore(config(), &snap, s.applied_through(), 1).unwrap();
    assert_eq!((restored.last_seq(), restored.applied_through()), (1, 1));
    let dup = restored.apply(2, 1, true, &publish(2, 1, msg("a", "y", Some("m"))));
    assert_eq!(reply(&dup), Some(&StreamResult::Duplicate { seq: 1 }));
    assert!(Stream::restore(config(), b"not json", 0, 0).is_err());
}

#[test]
fn staging_proposes_at_the_commit_marker_in_the_term_it_started() {
    let c = config();
    let mut st = Staging::default();
    assert_eq!(
        st.stage(&c, 0, 5, "b", 1, msg("a", "1", None), false),
        Staged::Staged
    );
    assert_eq!(
        st.stage(&c, 10, 5, "b", 2, msg("a", "2", None), true),
        Staged::Commit {
            term: 5,
            msgs: vec![msg("a", "1", None), msg("a", "2", None)]
        }
    );
    assert_eq!(st.open(), 0);
}

#[test]
fn staging_refuses_gaps_other_terms_oversize_too_many_and_timed_out_batches() {
    let c = config();
    let mut st = Staging::default();
    let unknown = Staged::Refused(Refusal::BatchUnknown);
    assert_eq!(
        st.stage(&c, 0, 5, "b", 2, msg("a", "2", None), false),
        unknown
    );
    st.stage(&c, 0, 5, "b", 1, msg("a", "1", None), false);
    assert_eq!(
        st.stage(&c, 0, 6, "b", 2, msg("a", "2", None), false),
        unknown
    );
    st.stage(&c, 0, 5, "c", 1, msg("a", "1", None), false);
    st.stage(&c, 0, 5, "d", 1, msg("a", "1", None), false);
    assert_eq!(
        st.stage(&c, 0, 5, "e", 1, msg("a", "1", None), false),
        Staged::Refused(Refusal::TooManyBatches)
    );
    st.stage(&c, 0, 5, "c", 2, msg("a", "2", None), false);
    st.stage(&c, 0, 5, "c", 3, msg("a", "3", None), false);
    assert_eq!(
        st.stage(&c, 0, 5, "c", 4, msg("a", "4", None), false),
        Staged::Refused(Refusal::BatchTooLarge)
    );
    assert_eq!(
        st.stage(&c, 200, 5, "d", 2, msg("a", "2", None), false),
        unknown
    );
}

#[test]
fn staging_abandons_every_batch_when_leadership_is_lost() {
    let c = config();
    let mut st = Staging::default();
    st.stage(&c, 0, 5, "b", 1, msg("a", "1", None), false);
    st.leadership_lost();
    assert_eq!(
        st.stage(&c, 1, 5, "b", 2, msg("a", "2", None), true),
        Staged::Refused(Refusal::BatchUnknown)
    );
}
