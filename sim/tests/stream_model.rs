//! The stream model judged on hand-written histories with known verdicts: the model must
//! accept what a correct stream does and refuse each of the anomalies a broken one shows.

use sim::linearizability::{
    check, CheckOptions, ModelMsg, Operation, StreamInput, StreamModel, StreamOutput, PENDING,
};
use state_machines::stream::Refusal;

const MODEL: StreamModel = StreamModel {
    max_msgs: 100,
    dedupe_window: 100,
};

fn msg(subject: u32, data: u32, id: Option<u32>) -> ModelMsg {
    ModelMsg {
        subject,
        data,
        msg_id: id,
        expect_last_seq: None,
        expect_last_subject_seq: None,
        expect_last_msg_id: None,
        rollup: false,
    }
}

fn op(
    client: u64,
    call: u64,
    ret: u64,
    input: StreamInput,
    output: StreamOutput,
) -> Operation<StreamInput, StreamOutput> {
    Operation {
        client,
        call,
        ret,
        input,
        output,
    }
}

fn verdict(history: &[Operation<StreamInput, StreamOutput>]) -> bool {
    let v = check(&MODEL, history, &CheckOptions::default());
    assert!(!matches!(v, sim::linearizability::Verdict::Unknown { .. }));
    v.is_linearizable()
}

fn get(seq: u64) -> StreamInput {
    StreamInput::Get { seq }
}

fn found(seq: u64, subject: u32, data: u32) -> StreamOutput {
    StreamOutput::Found(Some((seq, subject, data)))
}

/// A batch of two messages (data 10, 11) stored at 1..=2.
fn batch() -> StreamInput {
    StreamInput::Batch(vec![msg(0, 10, Some(10)), msg(0, 11, None)])
}

#[test]
fn a_batch_read_whole_after_it_is_stored_is_linearizable() {
    let history = vec![
        op(
            1,
            0,
            10,
            batch(),
            StreamOutput::BatchStored { first: 1, count: 2 },
        ),
        op(2, 11, 12, get(1), found(1, 0, 10)),
        op(2, 13, 14, get(2), found(2, 0, 11)),
    ];
    assert!(verdict(&history));
}

#[test]
fn a_reader_seeing_part_of_a_batch_is_not_linearizable() {
    // The reader sees the batch's first message but, later, not its second: the batch was
    // visible half-stored.
    let history = vec![
        op(
            1,
            0,
            100,
            batch(),
            StreamOutput::BatchStored { first: 1, count: 2 },
        ),
        op(2, 10, 20, get(1), found(1, 0, 10)),
        op(2, 30, 40, get(2), StreamOutput::Found(None)),
    ];
    assert!(!verdict(&history));
}

#[test]
fn a_batch_whose_outcome_is_unknown_may_be_stored_or_not_but_whole() {
    let unknown = op(1, 0, PENDING, batch(), StreamOutput::Unknown);
    assert!(verdict(&[
        unknown.clone(),
        op(2, 10, 20, get(2), StreamOutput::Found(None))
    ]));
    assert!(verdict(&[
        unknown.clone(),
        op(2, 10, 20, get(2), found(2, 0, 11))
    ]));
    assert!(!verdict(&[
        unknown,
        op(2, 10, 20, get(1), found(1, 0, 10)),
        op(2, 30, 40, get(2), StreamOutput::Found(None)),
    ]));
}

#[test]
fn a_duplicate_inside_the_window_stored_again_is_not_linearizable() {
    // Two publishes with the same Nats-Msg-Id 7: the second must be answered as a duplicate
    // of the first, not stored.
    let history = vec![
        op(
            1,
            0,
            10,
            StreamInput::Publish(msg(0, 1, Some(7))),
            StreamOutput::Stored { seq: 1 },
        ),
        op(
            2,
            20,
            30,
            StreamInput::Publish(msg(0, 2, Some(7))),
            StreamOutput::Stored { seq: 2 },
        ),
    ];
    assert!(!verdict(&history));
    let caught = vec![
        history[0].clone(),
        op(
            2,
            20,
            30,
            StreamInput::Publish(msg(0, 2, Some(7))),
            StreamOutput::Duplicate { seq: 1 },
        ),
    ];
    assert!(verdict(&caught));
}

#[test]
fn a_retry_answered_duplicate_of_its_own_earlier_attempt_is_linearizable() {
    // The first attempt stored the message at 1 (its answer was lost); the retry is told it
    // is a duplicate of 1. The model applies the operation once.
    let history = vec![
        op(
            1,
            0,
            50,
            StreamInput::Publish(msg(0, 1, Some(7))),
            StreamOutput::Duplicate { seq: 1 },
        ),
        op(2, 60, 70, get(1), found(1, 0, 1)),
    ];
    assert!(verdict(&history));
}

#[test]
fn a_sequence_gap_is_not_linearizable() {
    // Nothing else was published, yet the second publish is stored at 3: sequence 2 was
    // skipped.
    let history = vec![
        op(
            1,
            0,
            10,
            StreamInput::Publish(msg(0, 1, Some(1))),
            StreamOutput::Stored { seq: 1 },
        ),
        op(
            1,
            20,
            30,
            StreamInput::Publish(msg(0, 2, Some(2))),
            StreamOutput::Stored { seq: 3 },
        ),
    ];
    assert!(!verdict(&history));
}

#[test]
fn expectation_refusals_are_judged_against_the_state() {
    let mut expecting = msg(0, 2, Some(2));
    expecting.expect_last_seq = Some(1);
    let first = op(
        1,
        0,
        10,
        StreamInput::Publish(msg(0, 1, Some(1))),
        StreamOutput::Stored { seq: 1 },
    );
    // After the first publish the last sequence is 1: storing is right, refusing is not.
    assert!(verdict(&[
        first.clone(),
        op(
            2,
            20,
            30,
            StreamInput::Publish(expecting.clone()),
            StreamOutput::Stored { seq: 2 }
        ),
    ]));
    assert!(!verdict(&[
        first.clone(),
        op(
            2,
            20,
            30,
            StreamInput::Publish(expecting.clone()),
            StreamOutput::Refused(Refusal::LastSeq { actual: 1 })
        ),
    ]));
    // Concurrent with the first publish, the refusal is right if it came first.
    assert!(verdict(&[
        op(
            1,
            0,
            40,
            StreamInput::Publish(msg(0, 1, Some(1))),
            StreamOutput::Stored { seq: 1 }
        ),
        op(
            2,
            10,
            30,
            StreamInput::Publish(expecting),
            StreamOutput::Refused(Refusal::LastSeq { actual: 0 })
        ),
    ]));
}

#[test]
fn discard_new_refuses_only_at_the_limit() {
    let model = StreamModel {
        max_msgs: 1,
        dedupe_window: 100,
    };
    let history = vec![
        op(
            1,
            0,
            10,
            StreamInput::Publish(msg(0, 1, None)),
            StreamOutput::Stored { seq: 1 },
        ),
        op(
            1,
            20,
            30,
            StreamInput::Publish(msg(0, 2, None)),
            StreamOutput::Refused(Refusal::MaxMsgs),
        ),
    ];
    assert!(check(&model, &history, &CheckOptions::default()).is_linearizable());
    let wrong = vec![op(
        1,
        0,
        10,
        StreamInput::Publish(msg(0, 1, None)),
        StreamOutput::Refused(Refusal::MaxMsgs),
    )];
    assert!(check(&model, &wrong, &CheckOptions::default()).is_not_linearizable());
}

#[test]
fn a_rollup_purges_the_subject_but_keeps_its_sequences() {
    let mut roll = msg(0, 3, None);
    roll.rollup = true;
    let history = vec![
        op(
            1,
            0,
            10,
            StreamInput::Publish(msg(0, 1, None)),
            StreamOutput::Stored { seq: 1 },
        ),
        op(
            1,
            11,
            20,
            StreamInput::Publish(msg(1, 2, None)),
            StreamOutput::Stored { seq: 2 },
        ),
        op(
            1,
            21,
            30,
            StreamInput::Publish(roll),
            StreamOutput::Stored { seq: 3 },
        ),
        op(2, 31, 40, get(1), StreamOutput::Found(None)),
        op(2, 41, 50, get(2), found(2, 1, 2)),
        op(
            2,
            51,
            60,
            StreamInput::LastBySubject { subject: 0 },
            found(3, 0, 3),
        ),
    ];
    assert!(verdict(&history));
}

#[test]
fn the_memory_budget_counts_the_messages_each_visited_state_holds() {
    // 2,000 publishes one after the other: every configuration the search keeps holds every
    // message stored so far, so the copies grow with the square of the history (tens of
    // megabytes here) while the states' inline sizes stay a few kilobytes. A stream history
    // of a few hundred operations of unknown outcome once took the search past 9 GB this way,
    // inside a 256 MB budget that counted inline sizes only.
    let history: Vec<_> = (1..=2_000u64)
        .map(|i| {
            op(
                1,
                2 * i,
                2 * i + 1,
                StreamInput::Publish(msg(0, i as u32, None)),
                StreamOutput::Stored { seq: i },
            )
        })
        .collect();
    let roomy = StreamModel {
        max_msgs: 10_000,
        dedupe_window: 100,
    };
    let tight = CheckOptions::default().with_max_cache_bytes(4 << 20);
    let v = check(&roomy, &history, &tight);
    assert!(
        matches!(
            v,
            sim::linearizability::Verdict::Unknown {
                budget: sim::linearizability::Budget::Memory,
                ..
            }
        ),
        "{v}"
    );
    assert!(check(
        &roomy,
        &history,
        &CheckOptions::default().with_max_cache_bytes(1 << 30)
    )
    .is_linearizable());
}
