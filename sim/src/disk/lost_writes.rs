//! Lost and misdirected writes (TigerBeetle's storage fault atlas models both): a write the
//! disk reported durable that never reached the medium, or that reached it at another
//! offset. Only the WAL suffers them here: its records carry checksums over their own bytes
//! and name the log position they store after (`prev_index`, `prev_term`), so recovery
//! reads a lost write (zeros) as damage, and a misdirected one as damage twice — zeros
//! where it belonged, and a record that does not link where it landed. A misdirected record
//! that happens to link where it landed would pass; the atlas declines such a strike
//! (`world/atlas.rs`), the one case these checks cannot tell.

use super::AppendFile;

impl AppendFile {
    /// The writes wholly inside the synced bytes.
    fn synced_writes(&self) -> Vec<(usize, usize)> {
        self.writes
            .iter()
            .copied()
            .filter(|&(_, end)| end <= self.synced_len)
            .collect()
    }

    /// The synced write `roll` picks reads back as zeros. None when nothing is synced.
    pub(super) fn lose_write(&mut self, roll: u64) -> Option<String> {
        let writes = self.synced_writes();
        let (start, end) = *writes.get((roll % writes.len().max(1) as u64) as usize)?;
        self.rewriting()[start..end].fill(0);
        Some(format!("lost-write@{start}..{end}"))
    }

    /// The synced write `roll` picks landed at the start of the one `target` picks (another
    /// when there are two or more), cut to the file's end; its own place reads as zeros.
    pub(super) fn misdirect_write(&mut self, roll: u64, target: u64) -> Option<String> {
        let writes = self.synced_writes();
        let n = writes.len();
        let (start, end) = *writes.get((roll % n.max(1) as u64) as usize)?;
        let mut t = (target % n as u64) as usize;
        if n > 1 && writes[t] == (start, end) {
            t = (t + 1) % n;
        }
        let at = writes[t].0;
        let bytes = self.data[start..end].to_vec();
        let landed = (at + bytes.len()).min(self.synced_len);
        let data = self.rewriting();
        data[start..end].fill(0);
        data[at..landed].copy_from_slice(&bytes[..landed - at]);
        Some(format!("misdirected-write@{start}..{end}->{at}"))
    }
}

#[cfg(test)]
mod tests {
    use super::super::AppendFile;

    fn synced(writes: &[&[u8]]) -> AppendFile {
        let mut file = AppendFile::default();
        for w in writes {
            let end = file.append(w);
            file.sync_to(end);
        }
        file
    }

    #[test]
    fn a_lost_write_reads_back_as_zeros_and_spares_the_others() {
        let mut file = synced(&[&[1; 10], &[2; 20], &[3; 5]]);
        file.append(&[4; 7]);
        assert_eq!(file.lose_write(1).as_deref(), Some("lost-write@10..30"));
        assert_eq!(&file.bytes()[..10], &[1; 10]);
        assert_eq!(&file.bytes()[10..30], &[0; 20]);
        assert_eq!(&file.bytes()[30..35], &[3; 5]);
        // The unsynced write is never picked.
        for roll in 0..9 {
            let mut copy = synced(&[&[1; 10]]);
            copy.append(&[4; 7]);
            assert_eq!(copy.lose_write(roll).as_deref(), Some("lost-write@0..10"));
        }
        assert_eq!(AppendFile::default().lose_write(3), None);
    }

    #[test]
    fn a_misdirected_write_lands_on_another_and_leaves_zeros() {
        let mut file = synced(&[&[1; 10], &[2; 20], &[3; 5]]);
        let what = file.misdirect_write(2, 0);
        assert_eq!(what.as_deref(), Some("misdirected-write@30..35->0"));
        assert_eq!(&file.bytes()[..5], &[3; 5]);
        assert_eq!(&file.bytes()[5..10], &[1; 5]);
        assert_eq!(&file.bytes()[30..35], &[0; 5]);
        // Never onto itself when there is another write.
        let mut file = synced(&[&[1; 10], &[2; 4]]);
        assert_eq!(
            file.misdirect_write(1, 1).as_deref(),
            Some("misdirected-write@10..14->0")
        );
        // A long write landing near the end is cut at the synced end.
        let mut file = synced(&[&[1; 4], &[2; 10]]);
        assert_eq!(
            file.misdirect_write(0, 1).as_deref(),
            Some("misdirected-write@0..4->4")
        );
        assert_eq!(file.bytes(), &[0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
    }
}
