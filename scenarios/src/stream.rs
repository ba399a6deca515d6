//! The stream on Raft: NRG's `Processed` through a batch (the port of `TestNRGProcessed`)
//! and atomic batch publish step by step — a batch spanning two appends, a leader change in
//! the middle of an open batch, a batch cut short in the log by a leader change, and a batch
//! refused by one failed header check. The hosts run the stream (`Script<StreamApp>`).

use crate::script::msg;
use crate::{Script, Sel, Setup};
use sim::stream::StreamApp;
use state_machines::stream::StreamOp;

crate::scenarios!(
    "stream",
    "stream_",
    Stream,
    [
        (nrg_processed, "Port of TestNRGProcessed through a batch: the applier consumes the batch's first entry (processed) but applies nothing until the commit marker's entry (applied stays behind, so no snapshot can cut the batch)"),
        (batch_spans_two_append_entries, "A batch proposed with one ProposeMulti reaches a follower in two appends and two commits: the follower stores nothing of it until the entry with the commit marker, then all of it"),
        (leader_change_mid_batch, "A batch open on a leader that loses leadership is abandoned: its commit marker is refused by the old leader, unknown to the new one; sent again from its first message there, it is stored once"),
        (batch_cut_short_by_leader_change, "A leader deposed after replicating half a batch: the next leader's no-op (a newer term) abandons the half on every replica, and nothing of it is ever stored"),
        (batch_refused_by_one_header_check, "One message of a batch fails Nats-Expected-Last-Subject-Sequence: the whole batch is refused on every replica and nothing of it is stored"),
    ]
);

type S = Script<StreamApp>;

/// Batch `id` of messages `s0:<id>1`, `s0:<id>2`, ...
fn batch(id: &str, n: usize) -> StreamOp {
    StreamOp::Batch {
        id: id.into(),
        msgs: (1..=n).map(|i| msg("s0", &format!("{id}{i}"))).collect(),
    }
}

/// Three voters (no PreVote or CheckQuorum, as NRG), one entry per append, n0 leading.
fn cluster(s: &mut S) {
    s.setup(Setup::new(3).classic().max_bytes_per_message(1));
    s.elect(0);
    s.run_ticks(3);
}

// TestNRGProcessed: Processed(index, applied) keeps processed and applied apart, applied
// never above processed. Here the stream's applier drives it: the batch's first message is
// consumed but held back.
fn nrg_processed(s: &mut S) {
    cluster(s);
    s.expect(0, "commit=1 processed=1 applied=1");
    s.batch(0, 1, 1, &batch("b", 2));
    s.sync(0);
    s.deliver_first(Sel::link(0, 1).and_kind("AE"));
    s.sync(1);
    s.deliver(Sel::link(1, 0).and_kind("AR"));
    s.expect(0, "commit=2 processed=2 applied=1 stream=-");
    s.deliver_first(Sel::link(0, 1).and_kind("AE"));
    s.sync(1);
    s.deliver(Sel::link(1, 0).and_kind("AR"));
    s.expect(0, "commit=3 processed=3 applied=3 stream=1:s0/b1,2:s0/b2");
    s.settle();
    s.run_ticks(5);
    for n in 0..3 {
        s.expect(n, "commit=3 processed=3 applied=3 stream=1:s0/b1,2:s0/b2");
    }
}

fn batch_spans_two_append_entries(s: &mut S) {
    cluster(s);
    s.batch(0, 1, 1, &batch("b", 2));
    s.sync(0);
    // n2 acknowledges the first message's entry: it commits, and the next heartbeat round
    // tells n1, which holds both entries.
    s.deliver_first(Sel::link(0, 2).and_kind("AE"));
    s.sync(2);
    s.deliver(Sel::link(2, 0).and_kind("AR"));
    s.tick(0, 4);
    s.deliver(Sel::link(0, 1));
    s.sync(1);
    s.expect(1, "commit=2 processed=2 applied=1 stream=-");
    // The second entry, with the commit marker, commits: n1 stores the whole batch.
    s.deliver(Sel::link(0, 2));
    s.sync(2);
    s.deliver(Sel::link(2, 0).and_kind("AR"));
    s.tick(0, 4);
    s.deliver(Sel::link(0, 1));
    s.expect(1, "commit=3 processed=3 applied=3 stream=1:s0/b1,2:s0/b2");
    s.settle();
}

fn leader_change_mid_batch(s: &mut S) {
    cluster(s);
    let op = batch("b", 2);
    s.request(0, 1, 1, &op, 1);
    s.elect(1);
    s.request(0, 1, 1, &op, 2);
    s.request(1, 1, 1, &op, 2);
    s.batch(1, 1, 1, &op);
    s.settle();
    s.run_ticks(5);
    for n in 0..3 {
        s.expect(n, "stream=1:s0/b1,2:s0/b2");
    }
}

fn batch_cut_short_by_leader_change(s: &mut S) {
    cluster(s);
    s.batch(0, 1, 1, &batch("b", 3));
    s.sync(0);
    // Only the first message's entry leaves n0 before it is cut off.
    s.deliver_first(Sel::link(0, 1).and_kind("AE"));
    s.sync(1);
    s.partition(&[&[0], &[1, 2]]);
    s.drop(Sel::from(0));
    s.elect(1);
    s.run_ticks(5);
    s.expect(1, "commit=3 processed=3 applied=3 log=1,1,2 stream=-");
    s.expect(2, "commit=3 processed=3 applied=3 log=1,1,2 stream=-");
    s.heal();
    s.run_ticks(3);
    s.expect(0, "follower t2 commit=3 applied=3 log=1,1,2 stream=-");
}

fn batch_refused_by_one_header_check(s: &mut S) {
    cluster(s);
    s.publish(0, 1, 1, msg("s0", "x"));
    s.settle();
    let mut second = msg("s1", "b2");
    second.expect.last_subject_seq = Some(5);
    let op = StreamOp::Batch {
        id: "b".into(),
        msgs: vec![msg("s0", "b1"), second],
    };
    s.batch(0, 2, 1, &op);
    s.settle();
    s.run_ticks(5);
    for n in 0..3 {
        s.expect(n, "commit=4 applied=4 stream=1:s0/x");
    }
}
