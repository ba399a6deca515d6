//! Voter masks (bit `i` is node `i`) and the majority arithmetic the properties share.

/// Whether node `node` is in the voter mask `mask` (bit `i` is node `i`).
pub(super) fn in_mask(mask: u64, node: usize) -> bool {
    node < 64 && mask & (1 << node) != 0
}

/// Whether some majority of the voters `a` and some majority of the voters `b` (masks) can
/// have no voter in common.
pub(super) fn majorities_can_be_disjoint(a: u64, b: u64) -> bool {
    // Fill each majority from its own side first; only the rest needs shared voters.
    let own_side = |x: u64, y: u64| (x & !y).count_ones() as usize;
    let shared_needed =
        quorum(a).saturating_sub(own_side(a, b)) + quorum(b).saturating_sub(own_side(b, a));
    shared_needed <= (a & b).count_ones() as usize
}

/// The size of a majority of the voters `voters` (a mask).
pub(super) fn quorum(voters: u64) -> usize {
    voters.count_ones() as usize / 2 + 1
}

/// A voter mask as `{n0,n2}`.
pub(crate) fn fmt_mask(mask: u64) -> String {
    let nodes: Vec<String> = (0..64)
        .filter(|&i| in_mask(mask, i))
        .map(|i| format!("n{i}"))
        .collect();
    format!("{{{}}}", nodes.join(","))
}
