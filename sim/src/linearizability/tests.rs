//! Unit and property tests for the checker, the models and the parsers.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

// ---------------------------------------------------------------------------------------------
// Helpers

fn op<I, O>(client: u64, call: u64, ret: u64, input: I, output: O) -> Operation<I, O> {
    Operation {
        client,
        call,
        ret,
        input,
        output,
    }
}

fn put(key: &str, value: &str) -> KvInput {
    KvInput::Put {
        key: key.into(),
        value: value.into(),
    }
}

fn append(key: &str, value: &str) -> KvInput {
    KvInput::Append {
        key: key.into(),
        value: value.into(),
    }
}

fn cas(key: &str, expected: Option<&str>, new: &str) -> KvInput {
    KvInput::Cas {
        key: key.into(),
        expected: expected.map(Into::into),
        new: new.into(),
    }
}

fn get(key: &str) -> KvInput {
    KvInput::Get { key: key.into() }
}

fn read(value: Option<&str>) -> KvOutput {
    KvOutput::Value(value.map(Into::into))
}

fn kv(history: &[Operation<KvInput, KvOutput>]) -> Verdict {
    check_kv(history, &CheckOptions::default())
}

fn linearizable(history: &[Operation<KvInput, KvOutput>]) -> bool {
    match kv(history) {
        Verdict::Linearizable => true,
        Verdict::NotLinearizable(_) => false,
        v @ Verdict::Unknown { .. } => panic!("{v}"),
    }
}

/// Exhaustive search with no pruning at all: the definition of linearizability, for small
/// histories. Optional operations (unknown outcome or never returned) may be left out.
/// Operations are grouped by `group` (not by [`Model::partitions`], which may leave some out).
fn reference<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    group: impl Fn(&M::Input) -> String,
) -> bool {
    fn go<M: Model>(
        model: &M,
        history: &[Operation<M::Input, M::Output>],
        ops: &[usize],
        optional: &[bool],
        done: u32,
        state: &M::State,
    ) -> bool {
        let all = (1u32 << ops.len()) - 1;
        if (0..ops.len()).all(|i| done & (1 << i) != 0 || optional[i]) {
            return true;
        }
        for i in 0..ops.len() {
            if done & (1 << i) != 0 {
                continue;
            }
            let a = &history[ops[i]];
            // Every operation that returned before `a` was called must come first.
            let blocked = (0..ops.len())
                .any(|j| j != i && done & (1 << j) == 0 && history[ops[j]].ret < a.call);
            if blocked {
                continue;
            }
            if let Some(next) = model.step(state, &a.input, &a.output) {
                if go(model, history, ops, optional, done | (1 << i), &next) {
                    return true;
                }
            }
        }
        for i in 0..ops.len() {
            if done & (1 << i) == 0
                && optional[i]
                && done | (1 << i) != all
                && go(model, history, ops, optional, done | (1 << i), state)
            {
                return true;
            }
        }
        false
    }
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, op) in history.iter().enumerate() {
        groups.entry(group(&op.input)).or_default().push(i);
    }
    groups.into_values().all(|ops| {
        let ops: Vec<usize> = ops
            .into_iter()
            .filter(|&i| !model.is_trivial(&history[i].input, &history[i].output))
            .collect();
        let optional: Vec<bool> = ops
            .iter()
            .map(|&i| {
                history[i].ret == PENDING || model.is_unknown(&history[i].input, &history[i].output)
            })
            .collect();
        go(model, history, &ops, &optional, 0, &model.init())
    })
}

// ---------------------------------------------------------------------------------------------
// Hand-made key-value histories

#[test]
fn empty_history_is_linearizable() {
    assert!(linearizable(&[]));
}

#[test]
fn sequential_reads_see_the_last_write() {
    let h = vec![
        op(1, 0, 1, get("x"), read(None)),
        op(1, 2, 3, put("x", "a"), KvOutput::Ok),
        op(2, 4, 5, get("x"), read(Some("a"))),
        op(2, 6, 7, append("x", "b"), KvOutput::Ok),
        op(1, 8, 9, get("x"), read(Some("ab"))),
    ];
    assert!(linearizable(&h));
    let mut stale = h.clone();
    stale[4].output = read(Some("a"));
    let Verdict::NotLinearizable(c) = kv(&stale) else {
        panic!("stale read accepted");
    };
    assert_eq!(c.partition, "x");
    assert_eq!(c.longest_prefix, vec![0, 1, 2, 3]);
    assert_eq!(c.stuck_op, Some(4));
    assert_eq!(c.pending, vec![4]);
    assert_eq!(c.state, "\"ab\"");
    assert!(
        c.explanation.contains("get(\"x\") -> \"a\""),
        "{}",
        c.explanation
    );
}

#[test]
fn concurrent_read_may_see_either_value() {
    for seen in [None, Some("a")] {
        let h = vec![
            op(1, 0, 10, put("x", "a"), KvOutput::Ok),
            op(2, 5, 6, get("x"), read(seen)),
        ];
        assert!(linearizable(&h));
    }
    // But not a value nobody wrote.
    let h = vec![
        op(1, 0, 10, put("x", "a"), KvOutput::Ok),
        op(2, 5, 6, get("x"), read(Some("b"))),
    ];
    assert!(!linearizable(&h));
}

#[test]
fn reads_cannot_go_back_in_time() {
    // Two concurrent writes, then reads that disagree on which came last.
    let h = vec![
        op(1, 0, 10, put("x", "a"), KvOutput::Ok),
        op(2, 0, 10, put("x", "b"), KvOutput::Ok),
        op(3, 11, 12, get("x"), read(Some("a"))),
        op(4, 13, 14, get("x"), read(Some("b"))),
    ];
    assert!(!linearizable(&h));
    // Overlapping reads may, if the second write lands between them.
    let h = vec![
        op(1, 0, 10, put("x", "a"), KvOutput::Ok),
        op(2, 0, 20, put("x", "b"), KvOutput::Ok),
        op(3, 11, 12, get("x"), read(Some("a"))),
        op(4, 13, 14, get("x"), read(Some("b"))),
    ];
    assert!(linearizable(&h));
}

#[test]
fn equal_times_are_concurrent() {
    // The put returns at 5 and the get is called at 5: they overlap.
    let h = vec![
        op(1, 0, 5, put("x", "a"), KvOutput::Ok),
        op(2, 5, 6, get("x"), read(None)),
    ];
    assert!(linearizable(&h));
    let h = vec![
        op(1, 0, 5, put("x", "a"), KvOutput::Ok),
        op(2, 6, 7, get("x"), read(None)),
    ];
    assert!(!linearizable(&h));
}

#[test]
fn unknown_write_can_explain_a_later_read() {
    let h = vec![
        op(1, 0, PENDING, put("x", "a"), KvOutput::Unknown),
        op(2, 10, 11, get("x"), read(Some("a"))),
        op(2, 12, 13, get("x"), read(Some("a"))),
    ];
    assert!(linearizable(&h));
    // ... or may never have happened.
    let h = vec![
        op(1, 0, PENDING, put("x", "a"), KvOutput::Unknown),
        op(2, 10, 11, get("x"), read(None)),
    ];
    assert!(linearizable(&h));
    // ... or may take effect long after the client gave up.
    let h = vec![
        op(1, 0, PENDING, put("x", "a"), KvOutput::Unknown),
        op(2, 10, 11, get("x"), read(None)),
        op(2, 100, 101, get("x"), read(Some("a"))),
    ];
    assert!(linearizable(&h));
    // But not before it was called, and only once.
    let h = vec![
        op(2, 0, 1, get("x"), read(Some("a"))),
        op(1, 5, PENDING, put("x", "a"), KvOutput::Unknown),
    ];
    assert!(!linearizable(&h));
    let h = vec![
        op(1, 0, PENDING, put("x", "a"), KvOutput::Unknown),
        op(1, 1, 2, put("x", "b"), KvOutput::Ok),
        op(2, 10, 11, get("x"), read(Some("a"))),
        op(2, 12, 13, get("x"), read(Some("b"))),
        op(2, 14, 15, get("x"), read(Some("a"))),
    ];
    assert!(!linearizable(&h));
}

#[test]
fn unknown_outcome_with_a_deadline() {
    // Unknown output but a known return time: it took effect before 5, or never.
    let h = vec![
        op(1, 0, 5, put("x", "a"), KvOutput::Unknown),
        op(2, 6, 7, get("x"), read(Some("a"))),
    ];
    assert!(linearizable(&h));
    let h = vec![
        op(1, 0, 5, put("x", "a"), KvOutput::Unknown),
        op(2, 6, 7, get("x"), read(None)),
    ];
    assert!(linearizable(&h));
    let h = vec![
        op(1, 0, 5, put("x", "a"), KvOutput::Unknown),
        op(2, 6, 7, get("x"), read(None)),
        op(2, 8, 9, get("x"), read(Some("a"))),
    ];
    assert!(!linearizable(&h));
}

#[test]
fn unknown_cas() {
    // An unknown CAS from absent explains a later read.
    let h = vec![
        op(1, 0, PENDING, cas("x", None, "a"), KvOutput::Unknown),
        op(2, 10, 11, get("x"), read(Some("a"))),
    ];
    assert!(linearizable(&h));
    // It only applies if the comparison holds.
    let h = vec![
        op(1, 0, PENDING, cas("x", Some("z"), "a"), KvOutput::Unknown),
        op(2, 10, 11, get("x"), read(Some("a"))),
    ];
    assert!(!linearizable(&h));
    // It can apply once the expected value is there.
    let h = vec![
        op(1, 0, PENDING, cas("x", Some("z"), "a"), KvOutput::Unknown),
        op(3, 1, 2, put("x", "z"), KvOutput::Ok),
        op(2, 10, 11, get("x"), read(Some("a"))),
    ];
    assert!(linearizable(&h));
}

#[test]
fn cas_outcomes() {
    let h = vec![
        op(1, 0, 1, cas("x", None, "a"), KvOutput::Ok),
        op(1, 2, 3, cas("x", None, "b"), KvOutput::Fail),
        op(1, 4, 5, cas("x", Some("a"), "c"), KvOutput::Ok),
        op(1, 6, 7, get("x"), read(Some("c"))),
    ];
    assert!(linearizable(&h));
    // A failed comparison is a claim that the value differed.
    let h = vec![
        op(1, 0, 1, put("x", "a"), KvOutput::Ok),
        op(1, 2, 3, cas("x", Some("a"), "b"), KvOutput::Fail),
    ];
    assert!(!linearizable(&h));
    // A successful one, that it matched.
    let h = vec![
        op(1, 0, 1, put("x", "a"), KvOutput::Ok),
        op(1, 2, 3, cas("x", None, "b"), KvOutput::Ok),
    ];
    assert!(!linearizable(&h));
    // Outputs that do not fit the request are never legal.
    let h = vec![op(1, 0, 1, put("x", "a"), KvOutput::Fail)];
    assert!(!linearizable(&h));
}

#[test]
fn append_semantics() {
    let h = vec![
        op(1, 0, 1, append("x", "a"), KvOutput::Ok),
        op(1, 2, 3, append("x", "bc"), KvOutput::Ok),
        op(1, 4, 5, get("x"), read(Some("abc"))),
        op(1, 6, 7, put("x", "ab"), KvOutput::Ok),
        op(1, 8, 9, append("x", "c"), KvOutput::Ok),
        // Same value reached two ways.
        op(1, 10, 11, cas("x", Some("abc"), "d"), KvOutput::Ok),
        op(1, 12, 13, append("x", ""), KvOutput::Ok),
        op(1, 14, 15, get("x"), read(Some("d"))),
    ];
    assert!(linearizable(&h));
    // Concurrent appends: any order, but one order.
    let h = vec![
        op(1, 0, 10, append("x", "a"), KvOutput::Ok),
        op(2, 0, 10, append("x", "b"), KvOutput::Ok),
        op(3, 11, 12, get("x"), read(Some("ba"))),
    ];
    assert!(linearizable(&h));
    let h = vec![
        op(1, 0, 10, append("x", "a"), KvOutput::Ok),
        op(2, 0, 10, append("x", "b"), KvOutput::Ok),
        op(3, 11, 12, get("x"), read(Some("ab"))),
        op(3, 13, 14, get("x"), read(Some("ba"))),
    ];
    assert!(!linearizable(&h));
    // Absent is not the empty string for reads, with the default model...
    let h = vec![op(1, 0, 1, get("x"), read(Some("")))];
    assert!(!linearizable(&h));
    // ... but every key starts as "" with `with_initial("")`.
    let model = KvModel::with_initial("");
    assert!(check(&model, &h, &CheckOptions::default()).is_linearizable());
    let h = vec![op(1, 0, 1, get("x"), read(None))];
    assert!(check(&model, &h, &CheckOptions::default()).is_not_linearizable());
}

#[test]
fn unknown_gets_are_ignored() {
    let h = vec![
        op(1, 0, 1, put("x", "a"), KvOutput::Ok),
        op(2, 2, 3, get("x"), KvOutput::Unknown),
        op(2, 4, PENDING, get("x"), KvOutput::Unknown),
    ];
    let (verdict, stats) = check_with_stats(&KvModel::new(), &h, &CheckOptions::default());
    assert!(verdict.is_linearizable());
    assert_eq!(stats.operations, 1);
}

#[test]
fn keys_are_checked_independently() {
    let h = vec![
        op(1, 0, 1, put("x", "a"), KvOutput::Ok),
        op(1, 2, 3, put("y", "b"), KvOutput::Ok),
        op(2, 4, 5, get("y"), read(Some("b"))),
        op(2, 6, 7, get("x"), read(Some("b"))),
    ];
    let (verdict, stats) = check_with_stats(&KvModel::new(), &h, &CheckOptions::default());
    let Verdict::NotLinearizable(c) = verdict else {
        panic!("{verdict}");
    };
    assert_eq!(c.partition, "x");
    assert_eq!(c.partition_ops, 2);
    assert_eq!(stats.partitions, 2);
}

#[test]
fn history_order_does_not_matter() {
    let h = vec![
        op(2, 4, 5, get("x"), read(Some("a"))),
        op(1, 0, 1, put("x", "a"), KvOutput::Ok),
    ];
    assert!(linearizable(&h));
}

#[test]
fn return_before_call_does_not_panic() {
    let h = vec![op(1, 5, 2, put("x", "a"), KvOutput::Ok)];
    assert!(!linearizable(&h));
    let h = vec![op(1, 5, 2, put("x", "a"), KvOutput::Unknown)];
    assert!(linearizable(&h));
}

/// A history whose search is long: concurrent puts of distinct values, then two reads that
/// disagree (the search has to go through the orders of the other puts before giving up).
fn hard_history(n: usize) -> Vec<Operation<KvInput, KvOutput>> {
    let mut h: Vec<_> = (0..n)
        .map(|i| op(i as u64, 0, 100, put("x", &format!("<{i}>")), KvOutput::Ok))
        .collect();
    h.push(op(98, 101, 102, get("x"), read(Some("<0>"))));
    h.push(op(99, 103, 104, get("x"), read(Some("<1>"))));
    h
}

#[test]
fn budget_gives_unknown_and_is_deterministic() {
    let h = hard_history(10);
    let options = CheckOptions::with_max_steps(5_000);
    let (v1, s1) = check_with_stats(&KvModel::new(), &h, &options);
    let (v2, s2) = check_with_stats(&KvModel::new(), &h, &options);
    assert_eq!(
        v1,
        Verdict::Unknown {
            partition: "x".into(),
            steps: 5_000,
            budget: Budget::Steps,
        }
    );
    assert_eq!((v1, s1), (v2, s2));
    assert!(check_kv(&hard_history(6), &CheckOptions::default()).is_not_linearizable());
}

#[test]
fn memory_budget_gives_unknown_and_is_deterministic() {
    let h = hard_history(10);
    let options = CheckOptions::default().with_max_cache_bytes(64 << 10);
    let (v1, s1) = check_with_stats(&KvModel::new(), &h, &options);
    let (v2, s2) = check_with_stats(&KvModel::new(), &h, &options);
    assert!(
        matches!(
            &v1,
            Verdict::Unknown {
                budget: Budget::Memory,
                ..
            }
        ),
        "{v1}"
    );
    assert!(v1.to_string().contains("memory budget exhausted"), "{v1}");
    assert_eq!((v1, s1), (v2, s2));
    // A generous budget changes nothing.
    let roomy = CheckOptions::default().with_max_cache_bytes(1 << 30);
    assert!(check_kv(&hard_history(6), &roomy).is_not_linearizable());
}

#[test]
fn a_failing_partition_is_found_beside_a_hard_one() {
    // Key "x" needs a long search; key "y" fails at once. Partitions are searched in rounds,
    // so "y" is reported well within the budget.
    let mut h = hard_history(12);
    h.push(op(1, 0, 1, get("y"), read(Some("nothing"))));
    let verdict = check_kv(&h, &CheckOptions::with_max_steps(100_000));
    let Verdict::NotLinearizable(c) = verdict else {
        panic!("{verdict}");
    };
    assert_eq!(c.partition, "y");
}

// ---------------------------------------------------------------------------------------------
// Register model (porcupine etcd / Knossos cas-register semantics)

fn reg(
    client: u64,
    call: u64,
    ret: u64,
    input: RegisterInput,
    output: RegisterOutput,
) -> Operation<RegisterInput, RegisterOutput> {
    op(client, call, ret, input, output)
}

#[test]
fn register_semantics() {
    use RegisterInput::*;
    use RegisterOutput as O;
    let model = RegisterModel::new(None);
    let check =
        |h: &[Operation<RegisterInput, RegisterOutput>]| check(&model, h, &CheckOptions::default());
    let h = vec![
        reg(0, 0, 1, Read, O::Value(None)),
        reg(0, 2, 3, Write(1), O::Ok),
        reg(0, 4, 5, Cas { from: 2, to: 3 }, O::Fail),
        reg(0, 6, 7, Cas { from: 1, to: 3 }, O::Ok),
        reg(0, 8, 9, Read, O::Value(Some(3))),
        reg(1, 10, PENDING, Write(4), O::Unknown),
        reg(2, 11, PENDING, Cas { from: 4, to: 0 }, O::Unknown),
        reg(0, 12, 13, Read, O::Value(Some(0))),
    ];
    assert!(check(&h).is_linearizable());
    let mut bad = h.clone();
    bad[2].output = O::Ok;
    assert!(check(&bad).is_not_linearizable());
    let mut bad = h.clone();
    bad[3].output = O::Fail;
    assert!(check(&bad).is_not_linearizable());
    // Knossos's initial 0.
    let h = vec![reg(0, 0, 1, Read, O::Value(Some(0)))];
    assert!(check(&h).is_not_linearizable());
    let knossos = RegisterModel::new(Some(0));
    assert!(super::check(&knossos, &h, &CheckOptions::default()).is_linearizable());
}

#[test]
fn identical_unknown_writes_are_interchangeable() {
    use RegisterInput::*;
    use RegisterOutput as O;
    // Many identical timed-out writes and a read that nothing explains.
    let mut h: Vec<_> = (0..30)
        .map(|i| reg(i, i, PENDING, Write((i % 2) as i64), O::Unknown))
        .collect();
    h.push(reg(99, 40, 41, Read, O::Value(Some(7))));
    let (verdict, stats) =
        check_with_stats(&RegisterModel::new(None), &h, &CheckOptions::default());
    assert!(verdict.is_not_linearizable());
    assert!(stats.steps < 10_000, "{stats:?}");
    h.pop();
    h.push(reg(99, 40, 41, Read, O::Value(Some(1))));
    h.push(reg(99, 42, 43, Read, O::Value(Some(0))));
    h.push(reg(99, 44, 45, Read, O::Value(Some(1))));
    assert!(check(&RegisterModel::new(None), &h, &CheckOptions::default()).is_linearizable());
}

// ---------------------------------------------------------------------------------------------
// Parsers

#[test]
fn jepsen_parser() {
    let text = "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n\
                INFO  jepsen.util - 1   :invoke   :write   3\n\
                INFO  jepsen.util - 2\t:invoke\t:cas\t[3 4]\n\
                INFO  jepsen.util - 3\t:invoke\t:cas\t[1 2]\n\
                INFO  jepsen.util - 4\t:invoke\t:read\tnil\n\
                \n\
                INFO  jepsen.util - 0\t:ok\t:read\tnil\n\
                INFO  jepsen.util - 1\t:info\t:write\t:timed-out\n\
                INFO  jepsen.util - 2\t:ok\t:cas\t[3 4]\n\
                INFO  jepsen.util - 3\t:fail\t:cas\t[1 2]\n\
                INFO  jepsen.util - 4\t:fail\t:read\t:timed-out\n\
                INFO  jepsen.util - 6\t:invoke\t:write\t0\n";
    let h = parse_jepsen_etcd_log(text).unwrap();
    use RegisterInput::*;
    use RegisterOutput as O;
    assert_eq!(
        h,
        vec![
            reg(0, 1, 7, Read, O::Value(None)),
            reg(1, 2, PENDING, Write(3), O::Unknown),
            reg(2, 3, 9, Cas { from: 3, to: 4 }, O::Ok),
            reg(3, 4, 10, Cas { from: 1, to: 2 }, O::Fail),
            reg(4, 5, 11, Read, O::Unknown),
            reg(6, 12, PENDING, Write(0), O::Unknown),
        ]
    );
    assert!(check(&RegisterModel::new(None), &h, &CheckOptions::default()).is_linearizable());
    assert_eq!(parse_jepsen_etcd_log("").unwrap(), vec![]);
}

#[test]
fn jepsen_parser_errors_name_the_line() {
    let ok = "INFO jepsen.util - 0 :invoke :read nil\n";
    for (text, line) in [
        ("garbage\n", 1),
        ("INFO jepsen.util - x :invoke :read nil\n", 1),
        ("INFO jepsen.util - 0 :invoke :read\n", 1),
        ("INFO jepsen.util - 0 :begin :read nil\n", 1),
        ("INFO jepsen.util - 0 :invoke :delete nil\n", 1),
        ("INFO jepsen.util - 0 :invoke :write nil\n", 1),
        ("INFO jepsen.util - 0 :invoke :cas [1\n", 1),
        ("INFO jepsen.util - 0 :invoke :cas [1 2 3]\n", 1),
        ("INFO jepsen.util - 0 :ok :read 1\n", 1),
        (&format!("{ok}{ok}"), 2),
        (&format!("{ok}INFO jepsen.util - 0 :ok :write 1\n"), 2),
        (
            &format!("{ok}INFO jepsen.util - 0 :ok :read :timed-out\n"),
            2,
        ),
        (&format!("{ok}\nINFO jepsen.util - 0 :ok :read [1 2]\n"), 3),
    ] {
        let e = parse_jepsen_etcd_log(text).unwrap_err();
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.to_string().starts_with(&format!("line {line}: ")));
    }
}

#[test]
fn porcupine_kv_parser() {
    let text = r#"{:process 0, :type :invoke, :f :put, :key "1", :value "x 0 0 y"}
{:process 1, :type :invoke, :f :get, :key "1", :value nil}
{:process 0, :type :ok, :f :put, :key "1", :value "x 0 0 y"}
{:process 1, :type :ok, :f :get, :key "1", :value ""}
{:process 2, :type :invoke, :f :append, :key "2", :value "z"}
"#;
    let h = parse_porcupine_kv(text).unwrap();
    assert_eq!(
        h,
        vec![
            op(0, 1, 3, put("1", "x 0 0 y"), KvOutput::Ok),
            op(1, 2, 4, get("1"), read(Some(""))),
            op(2, 5, PENDING, append("2", "z"), KvOutput::Unknown),
        ]
    );
    let model = KvModel::with_initial("");
    assert!(check(&model, &h, &CheckOptions::default()).is_linearizable());

    for (text, line) in [
        (
            "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil\n",
            1,
        ),
        ("[1 2]\n", 1),
        (
            "{:process 0, :type :invoke, :f :cas, :key \"1\", :value nil}\n",
            1,
        ),
        (
            "{:process 0, :type :invoke, :f :put, :key \"1\", :value nil}\n",
            1,
        ),
        (
            "{:process 0, :type :invoke, :f :get, :key 1, :value nil}\n",
            1,
        ),
        (
            "\n{:process 0, :type :ok, :f :get, :key \"1\", :value \"\"}\n",
            2,
        ),
        (
            "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n\
             {:process 0, :type :ok, :f :get, :key \"2\", :value \"\"}\n",
            2,
        ),
        (
            "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n\
             {:process 0, :type :ok, :f :get, :key \"1\", :value nil}\n",
            2,
        ),
    ] {
        let e = parse_porcupine_kv(text).unwrap_err();
        assert_eq!(e.line, line, "{text:?}: {e}");
    }
}

#[test]
fn knossos_parser() {
    let text = r#"; a comment
[{:process 0, :type :invoke, :f :write, :value 1}
 {:process :nemesis, :type :info, :f :start, :value "cut"}
 {:process 1, :type :invoke, :f :read, :value nil}
 {:process 0, :type :ok, :f :write, :value 1}
 {:process 2, :type :invoke, :f :cas, :value [1 2]}
 {:process 1, :type :ok, :f :read, :value nil}
 {:process 3, :type :invoke, :f :write, :value 5}
 {:process 2, :type :fail, :f :cas, :value [1 2], :error [:timeout nil]}
 {:type :info, :f :write, :process 3, :value 5, :time 12}
 {:process 4, :type :invoke, :f :read, :value nil}
 {:process 4, :type :ok, :f :read, :value 1}]"#;
    let h = parse_knossos_cas_register(text).unwrap();
    use RegisterInput::*;
    use RegisterOutput as O;
    assert_eq!(
        h,
        vec![
            reg(0, 0, 3, Write(1), O::Ok),
            reg(1, 2, 5, Read, O::Unknown),
            reg(3, 6, PENDING, Write(5), O::Unknown),
            reg(4, 9, 10, Read, O::Value(Some(1))),
        ]
    );
    for (text, line) in [
        ("{:a 1}", 1),
        ("[\n{:process 0, :type :invoke, :f :lock, :value nil}]", 2),
        ("[{:process 0, :type :invoke, :f :cas, :value 3}]", 1),
        ("[{:process 0, :type :ok, :f :read, :value 3}]", 1),
        ("[{:process 0, :type :invoke, :f :read}\n 1]", 2),
        ("[{:process 0, :type :invoke, :f :read}", 1),
    ] {
        let e = parse_knossos_cas_register(text).unwrap_err();
        assert_eq!(e.line, line, "{text:?}: {e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Parsers return errors, never panic, on arbitrary input.
    #[test]
    fn parsers_never_panic(text in "(INFO|jepsen\\.util|-|[0-9]|:ok|:invoke|:fail|:info|:read|:write|:cas|nil|\\[|\\]|\\{|\\}|\\(|\\)|:process|:type|:f|:key|:value|\"|\\\\|;|#|[ \t\n,]|[a-z]|é){0,60}") {
        let _ = parse_jepsen_etcd_log(&text);
        let _ = parse_porcupine_kv(&text);
        let _ = parse_knossos_cas_register(&text);
        let _ = parse_edn(&text);
    }
}

// ---------------------------------------------------------------------------------------------
// Property tests

/// A sequential key-value store, written independently of `KvModel`.
#[derive(Default, Clone)]
struct Store(BTreeMap<String, String>);

impl Store {
    fn apply(&mut self, input: &KvInput) -> KvOutput {
        match input {
            KvInput::Put { key, value } => {
                self.0.insert(key.clone(), value.clone());
                KvOutput::Ok
            }
            KvInput::Append { key, value } => {
                self.0.entry(key.clone()).or_default().push_str(value);
                KvOutput::Ok
            }
            KvInput::Cas { key, expected, new } => {
                if self.0.get(key) == expected.as_ref() {
                    self.0.insert(key.clone(), new.clone());
                    KvOutput::Ok
                } else {
                    KvOutput::Fail
                }
            }
            KvInput::Get { key } => KvOutput::Value(self.0.get(key).cloned()),
        }
    }
}

fn arb_input() -> impl Strategy<Value = KvInput> {
    let key = prop::sample::select(vec!["a", "b", "c"]);
    let value = prop::sample::select(vec!["", "0", "1", "22"]);
    let expected = prop::option::of(prop::sample::select(vec!["", "0", "1", "01", "22"]));
    prop_oneof![
        (key.clone(), value.clone()).prop_map(|(k, v)| put(k, v)),
        (key.clone(), value.clone()).prop_map(|(k, v)| append(k, v)),
        (key.clone(), expected, value).prop_map(|(k, e, v)| cas(k, e, v)),
        key.clone().prop_map(get),
        key.prop_map(get),
    ]
}

/// Runs operations one after another (no overlap) on `Store`.
fn sequential(inputs: Vec<KvInput>) -> Vec<Operation<KvInput, KvOutput>> {
    let mut store = Store::default();
    inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| {
            let output = store.apply(&input);
            op(i as u64 % 3, 2 * i as u64, 2 * i as u64 + 1, input, output)
        })
        .collect()
}

/// An operation of a concurrent run: its interval and where it takes effect.
#[derive(Clone, Debug)]
struct Planned {
    input: KvInput,
    call: u64,
    /// Offset of the linearization point after the call.
    at: u64,
    /// Offset of the return after the linearization point.
    ret: u64,
    /// The client never hears back; `applies` says whether it took effect.
    lost: bool,
    applies: bool,
}

fn arb_planned() -> impl Strategy<Value = Planned> {
    (
        arb_input(),
        0..40u64,
        0..10u64,
        0..10u64,
        prop::bool::weighted(0.2),
        any::<bool>(),
    )
        .prop_map(|(input, call, at, ret, lost, applies)| Planned {
            input,
            call,
            at,
            ret,
            lost,
            applies,
        })
}

/// Executes the operations at their linearization points, giving a linearizable history.
fn concurrent(plan: &[Planned]) -> Vec<Operation<KvInput, KvOutput>> {
    let mut order: Vec<usize> = (0..plan.len()).collect();
    order.sort_by_key(|&i| (plan[i].call + plan[i].at, i));
    let mut store = Store::default();
    let mut outputs = vec![KvOutput::Unknown; plan.len()];
    for i in order {
        let p = &plan[i];
        if !p.lost || p.applies {
            outputs[i] = store.apply(&p.input);
        }
    }
    plan.iter()
        .zip(outputs)
        .enumerate()
        .map(|(i, (p, output))| {
            if p.lost {
                op(
                    i as u64,
                    p.call,
                    PENDING,
                    p.input.clone(),
                    KvOutput::Unknown,
                )
            } else {
                op(
                    i as u64,
                    p.call,
                    p.call + p.at + p.ret,
                    p.input.clone(),
                    output,
                )
            }
        })
        .collect()
}

fn arb_register_op() -> impl Strategy<Value = Operation<RegisterInput, RegisterOutput>> {
    let input = prop_oneof![
        Just(RegisterInput::Read),
        (0..3i64).prop_map(RegisterInput::Write),
        (0..3i64, 0..3i64).prop_map(|(from, to)| RegisterInput::Cas { from, to }),
    ];
    let output = prop_oneof![
        prop::option::of(0..3i64).prop_map(RegisterOutput::Value),
        Just(RegisterOutput::Ok),
        Just(RegisterOutput::Fail),
        Just(RegisterOutput::Unknown),
    ];
    (input, output, 0..12u64, 0..8u64, prop::bool::weighted(0.15)).prop_map(
        |(input, output, call, len, lost)| {
            let ret = if lost { PENDING } else { call + len };
            op(0, call, ret, input, output)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Histories of a sequential store with no overlap are linearizable; changing one read to
    /// a value never written makes them not linearizable.
    #[test]
    fn sequential_histories_are_linearizable(
        inputs in prop::collection::vec(arb_input(), 1..40),
        pick in any::<prop::sample::Index>(),
    ) {
        let history = sequential(inputs);
        prop_assert!(linearizable(&history));

        let gets: Vec<usize> = history
            .iter()
            .enumerate()
            .filter(|(_, o)| matches!(o.input, KvInput::Get { .. }))
            .map(|(i, _)| i)
            .collect();
        if !gets.is_empty() {
            let i = gets[pick.index(gets.len())];
            let mut mutant = history.clone();
            mutant[i].output = read(Some("never written"));
            let Verdict::NotLinearizable(c) = kv(&mutant) else {
                return Err(TestCaseError::fail("mutant accepted"));
            };
            prop_assert_eq!(c.partition.as_str(), history[i].input.key());
            prop_assert_eq!(c.stuck_op, Some(i));
        }
    }

    /// Histories produced by a concurrent run (operations take effect somewhere inside their
    /// interval; lost ones may or may not take effect) are linearizable.
    #[test]
    fn concurrent_runs_are_linearizable(plan in prop::collection::vec(arb_planned(), 1..30)) {
        let history = concurrent(&plan);
        prop_assert!(linearizable(&history), "{:#?}", history);
    }

    /// The search agrees with exhaustive search on small random key-value histories.
    #[test]
    fn kv_agrees_with_exhaustive_search(
        plan in prop::collection::vec(arb_planned(), 1..7),
        mutate in prop::option::of((any::<prop::sample::Index>(), arb_input())),
        tweak in prop::option::of((any::<prop::sample::Index>(), prop::sample::select(vec![
            KvOutput::Ok, KvOutput::Fail, KvOutput::Unknown, read(None), read(Some("0")),
            read(Some("1")), read(Some("01")), read(Some("10")), read(Some("")),
        ]))),
    ) {
        let mut history = concurrent(&plan);
        if let Some((i, input)) = mutate {
            let i = i.index(history.len());
            history[i].input = input;
        }
        if let Some((i, output)) = tweak {
            let i = i.index(history.len());
            history[i].output = output;
        }
        let expected = reference(&KvModel::new(), &history, |i| i.key().to_string());
        prop_assert_eq!(linearizable(&history), expected, "{:#?}", history);
    }

    /// The search agrees with exhaustive search on small random register histories.
    #[test]
    fn register_agrees_with_exhaustive_search(
        history in prop::collection::vec(arb_register_op(), 1..8),
    ) {
        let model = RegisterModel::new(Some(0));
        let verdict = check(&model, &history, &CheckOptions::default());
        let unknown = matches!(verdict, Verdict::Unknown { .. });
        prop_assert!(!unknown);
        prop_assert_eq!(
            verdict.is_linearizable(),
            reference(&model, &history, |_| String::new()),
            "{:#?}",
            history
        );
    }
}
