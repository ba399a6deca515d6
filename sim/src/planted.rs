//! The one list of re-plantable bugs a run can take (`RunOptions::planted_bug`): raft-core's
//! catalogue (`raft_core::planted`) and the stream layer's (`state_machines::stream::planted`).
//! The hunt iterates it, `--plant` offers it, and a bundle naming a bug is checked against it.
//! Empty without the `planted-bugs` feature.

use crate::config::StateMachine;

/// A catalogued bug, and the state machine its runs need (`None`: any; a stream-layer bug
/// lives only in the stream, so its seeds must run the stream).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CatalogueBug {
    pub name: &'static str,
    pub state_machine: Option<StateMachine>,
}

/// Every bug this build can plant: raft-core's first, then the stream layer's.
pub fn catalogue() -> Vec<CatalogueBug> {
    #[cfg(feature = "planted-bugs")]
    {
        let core = raft_core::planted::PlantedBug::ALL
            .into_iter()
            .map(|b| CatalogueBug {
                name: b.name(),
                state_machine: None,
            });
        let stream = state_machines::stream::planted::StreamBug::ALL
            .into_iter()
            .map(|b| CatalogueBug {
                name: b.name(),
                state_machine: Some(StateMachine::Stream),
            });
        core.chain(stream).collect()
    }
    #[cfg(not(feature = "planted-bugs"))]
    Vec::new()
}

/// The catalogued bug named `name`.
pub fn find(name: &str) -> Option<CatalogueBug> {
    catalogue().into_iter().find(|b| b.name == name)
}

/// Why `name` cannot be planted in this build, if it cannot.
pub fn check(name: &str) -> Result<CatalogueBug, String> {
    if !cfg!(feature = "planted-bugs") {
        return Err(format!(
            "planted bug {name:?}: this build has no planted-bug catalogue (the sim crate's \
             planted-bugs feature is off)"
        ));
    }
    find(name).ok_or_else(|| {
        let known: Vec<&str> = catalogue().iter().map(|b| b.name).collect();
        format!(
            "planted bug {name:?} is not in the catalogue (known: {})",
            known.join(", ")
        )
    })
}

#[cfg(all(test, feature = "planted-bugs"))]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_are_listed_once_and_stream_bugs_need_the_stream() {
        let all = catalogue();
        let mut names: Vec<&str> = all.iter().map(|b| b.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len(), "a name in both catalogues");
        assert!(all.len() > raft_core::planted::PlantedBug::ALL.len());
        for bug in &all {
            let in_core = raft_core::planted::PlantedBug::from_name(bug.name).is_some();
            assert_eq!(bug.state_machine.is_none(), in_core, "{}", bug.name);
        }
        assert!(check("no-such-bug")
            .unwrap_err()
            .contains("not in the catalogue"));
    }
}
