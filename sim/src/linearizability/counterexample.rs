//! The explanation of a history that is not linearizable: the longest linearizable prefix
//! the search found, the operation that returned before it could take effect, and the
//! pending operations none of which could come next.

use super::search::Deepest;
use super::{Counterexample, Model, OpSpan, Operation, Partition, PENDING};

pub(super) fn counterexample<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    partition: &Partition,
    ops: &[usize],
    entry_op: &[u32],
    deepest: Deepest<M::State>,
) -> Counterexample {
    const SHOW: usize = 8;
    let global = |l: u32| ops[l as usize];
    let describe = |g: usize| {
        let op = &history[g];
        let ret = if op.ret == PENDING {
            "pending".to_string()
        } else {
            op.ret.to_string()
        };
        format!(
            "#{g} (client {}, {}..{}: {})",
            op.client,
            op.call,
            ret,
            model.describe_operation(&op.input, &op.output)
        )
    };
    let longest_prefix: Vec<usize> = deepest
        .frames
        .iter()
        .filter(|&&(_, skipped)| !skipped)
        .map(|&(e, _)| global(entry_op[e as usize]))
        .collect();
    let state = model.describe_state(&deepest.state);
    let stuck_op = deepest.stuck.map(global);
    let pending: Vec<usize> = deepest.pending.iter().map(|&l| global(l)).collect();

    let mut explanation = format!(
        "partition {:?}: none of the orders of its {} operations is legal. The longest \
         linearizable prefix has {} operations",
        partition.label,
        ops.len(),
        longest_prefix.len()
    );
    if let Some(&last) = longest_prefix.last() {
        explanation.push_str(&format!(" (the last is {})", describe(last)));
    }
    explanation.push_str(&format!(" and leaves the state {state}. "));
    if let Some(stuck) = stuck_op {
        explanation.push_str(&format!(
            "Then {} returns before it can take effect: ",
            describe(stuck)
        ));
    }
    explanation.push_str(&format!(
        "none of the {} pending operations can come next",
        pending.len()
    ));
    if !pending.is_empty() {
        let shown: Vec<String> = pending.iter().take(SHOW).map(|&g| describe(g)).collect();
        explanation.push_str(&format!(": {}", shown.join(", ")));
        if pending.len() > SHOW {
            explanation.push_str(&format!(" and {} more", pending.len() - SHOW));
        }
    }
    explanation.push('.');

    let named_ops = longest_prefix
        .last()
        .into_iter()
        .chain(stuck_op.iter())
        .chain(pending.iter())
        .map(|&g| {
            let op = &history[g];
            OpSpan {
                client: op.client,
                call: op.call,
                ret: op.ret,
            }
        })
        .collect();
    Counterexample {
        partition: partition.label.clone(),
        named_ops,
        partition_ops: ops.len(),
        longest_prefix,
        stuck_op,
        pending,
        state,
        explanation,
    }
}
