use super::*;

#[test]
fn ddmin_finds_the_two_needed_items() {
    let items: Vec<u32> = (0..40).collect();
    let mut calls = 0;
    let result = ddmin(items, |s| {
        calls += 1;
        s.contains(&7) && s.contains(&31)
    });
    assert_eq!(result, vec![7, 31]);
    assert!(calls < 200, "{calls} calls");
}

#[test]
fn fewer_nodes_cut_spares_first_and_keep_a_voter() {
    assert_eq!(spares_after_cut(2, 7, 5), 0);
    assert_eq!(spares_after_cut(2, 7, 6), 1);
    assert_eq!(spares_after_cut(1, 5, 1), 0);
    assert_eq!(spares_after_cut(0, 5, 3), 0);
    assert_eq!(spares_after_cut(1, 3, 3), 1);
}

#[test]
fn fewer_nodes_keep_corruption_to_a_minority_of_the_voters() {
    let mut config = SimConfig::draw(1).without_faults();
    config.nodes = 7;
    let mut bundle = Bundle {
        format: FORMAT,
        seed: 1,
        workload: vec![Vec::new(); config.workload.clients],
        config,
        script: Vec::new(),
        violation: Violation {
            property: Property::Liveness,
            time: 0,
            node: None,
            detail: String::new(),
        },
        trace_hash: String::new(),
        repro: String::new(),
        note: String::new(),
        planted_bug: None,
        guards: None,
        decisions: Vec::new(),
        written_by: None,
    };
    let corrupt = |node, at| ScriptedFault {
        at,
        fault: Fault::Corrupt {
            node,
            then_crash: true,
            leader: false,
            file: Default::default(),
        },
    };
    bundle.script = vec![corrupt(4, 1), corrupt(0, 2), corrupt(1, 3), corrupt(0, 4)];
    let nodes = |b: &Bundle| -> Vec<usize> {
        b.script
            .iter()
            .filter_map(|f| match f.fault {
                Fault::Corrupt { node, .. } => Some(node),
                _ => None,
            })
            .collect()
    };
    // Seven voters tolerate three damaged, five two, three one, one none.
    assert_eq!(nodes(&bundle), [4, 0, 1, 0]);
    assert_eq!(nodes(&with_nodes(&bundle, 5)), [4, 0, 0]);
    assert_eq!(nodes(&with_nodes(&bundle, 3)), [0, 0]);
    assert!(nodes(&with_nodes(&bundle, 1)).is_empty());
}

#[test]
fn every_drawn_script_is_a_valid_bundle_and_a_foreign_node_is_not() {
    let bundle_of = |seed: u64| {
        let config = SimConfig::draw(seed);
        Bundle {
            format: FORMAT,
            seed,
            script: crate::faults::draw_script(&config),
            workload: vec![Vec::new(); config.workload.clients],
            config,
            violation: Violation {
                property: Property::Liveness,
                time: 0,
                node: None,
                detail: String::new(),
            },
            trace_hash: String::new(),
            repro: String::new(),
            note: String::new(),
            planted_bug: None,
            guards: None,
            decisions: Vec::new(),
            written_by: None,
        }
    };
    for seed in 0..300 {
        let bundle = bundle_of(seed);
        assert_eq!(bundle.validate(), Ok(()), "seed {seed}");
    }
    let mut bundle = bundle_of(1);
    bundle.script.push(ScriptedFault {
        at: 5,
        fault: Fault::Crash {
            target: Target::Node(77),
            down_us: 10,
        },
    });
    let error = bundle.validate().unwrap_err();
    assert!(error.contains("names node 77"), "{error}");
}

#[test]
fn ddmin_removes_everything_when_nothing_is_needed() {
    assert!(ddmin(vec![1, 2, 3], |_| true).is_empty());
}

#[test]
fn signature_ignores_numbers() {
    let v = |detail: &str| Violation {
        property: Property::LogMatching,
        time: 5,
        node: Some(1),
        detail: detail.into(),
    };
    assert_eq!(
        signature(&v("entry 3/14 on n2")),
        signature(&v("entry 5/9 on n0"))
    );
    assert_ne!(
        signature(&v("entry 3/14 on n2")),
        signature(&v("vote 3 n2"))
    );
}
