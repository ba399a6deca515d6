//! Tests of the configuration the seeds draw.

mod draw {
    use crate::config::*;

    #[test]
    fn drawn_configurations_are_valid_and_vary() {
        let mut sizes = std::collections::BTreeSet::new();
        let mut drop_off = 0;
        for seed in 0..200 {
            let config = SimConfig::draw(seed);
            config.validate().unwrap();
            sizes.insert(config.nodes);
            if config.faults.drop_ppm == 0 {
                drop_off += 1;
            }
        }
        assert_eq!(sizes.into_iter().collect::<Vec<_>>(), vec![3, 5, 7]);
        assert!(
            drop_off > 20 && drop_off < 120,
            "drop switched off in {drop_off} of 200"
        );
    }

    #[test]
    fn the_same_seed_draws_the_same_configuration() {
        assert_eq!(SimConfig::draw(99), SimConfig::draw(99));
    }
}

mod state_machine_draw {
    use crate::config::*;

    #[test]
    fn about_one_seed_in_four_draws_the_stream() {
        let stream = (0..1_000)
            .filter(|&s| SimConfig::draw(s).state_machine == StateMachine::Stream)
            .count();
        assert!((180..=320).contains(&stream), "{stream} of 1000");
    }
}

mod disaster_draw {
    use crate::config::*;

    #[test]
    fn disasters_are_drawn_only_where_check_quorum_is_on() {
        let seeds: Vec<SimConfig> = (0..1_000).map(SimConfig::draw).collect();
        let disasters = seeds.iter().filter(|c| c.faults.disaster_ppm > 0).count();
        assert!((50..=150).contains(&disasters), "{disasters} of 1000");
        assert!(seeds
            .iter()
            .filter(|c| c.faults.disaster_ppm > 0)
            .all(|c| c.pre_vote_check_quorum));
    }

    #[test]
    fn a_disaster_without_check_quorum_is_refused_and_named() {
        let mut config = SimConfig::draw(1);
        config.pre_vote_check_quorum = false;
        config.faults.disaster_ppm = 1_000_000;
        let error = config.validate().unwrap_err();
        assert_eq!(error.field, "faults.disaster_ppm");
        assert!(error.problem.contains("CheckQuorum"), "{}", error.problem);
    }
}
