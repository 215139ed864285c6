//! Set arithmetic shared by every association: de-duplication and diffs.

use std::collections::HashSet;
use std::hash::Hash;

/// What [`set_*`](crate#generated-methods) changed: rows added to and removed
/// from the association. Rows that were already associated and stay so are
/// not touched and not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetDiff {
    /// Associations created.
    pub added: usize,
    /// Associations removed.
    pub removed: usize,
}

/// The distinct keys of `keys`, in first-seen order.
pub fn dedup<K: Eq + Hash + Clone>(keys: impl IntoIterator<Item = K>) -> Vec<K> {
    let keys: Vec<K> = keys.into_iter().collect();
    if keys.len() <= 16 {
        // A handful (one, for every one-row call): no hashing.
        let mut out: Vec<K> = Vec::with_capacity(keys.len());
        for key in keys {
            if !out.contains(&key) {
                out.push(key);
            }
        }
        return out;
    }
    let mut seen: HashSet<&K> = HashSet::with_capacity(keys.len());
    let keep: Vec<bool> = keys.iter().map(|k| seen.insert(k)).collect();
    drop(seen);
    keys.into_iter()
        .zip(keep)
        .filter_map(|(k, keep)| keep.then_some(k))
        .collect()
}

/// Splits the change from `current` to `wanted` into the keys to add and the
/// keys to remove. Duplicates in either input count once; keys in both are in
/// neither output.
pub fn diff<K: Eq + Hash + Clone>(current: Vec<K>, wanted: &[K]) -> (Vec<K>, Vec<K>) {
    let current_set: HashSet<&K> = current.iter().collect();
    let wanted = dedup(wanted.iter().cloned());
    let wanted_set: HashSet<&K> = wanted.iter().collect();
    let to_remove = dedup(current.iter().filter(|k| !wanted_set.contains(k)).cloned());
    let to_add = wanted
        .iter()
        .filter(|k| !current_set.contains(k))
        .cloned()
        .collect();
    (to_add, to_remove)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_keeps_first_seen_order() {
        assert_eq!(dedup([3, 1, 3, 2, 1]), vec![3, 1, 2]);
        // Past the handful that is compared without hashing.
        let many: Vec<i32> = (0..100).chain((0..100).rev()).collect();
        assert_eq!(dedup(many), (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn diff_adds_and_removes_only_the_difference() {
        let (add, remove) = diff(vec![1, 2, 3], &[2, 3, 4, 4, 5]);
        assert_eq!(add, vec![4, 5]);
        assert_eq!(remove, vec![1]);
    }

    #[test]
    fn diff_to_empty_removes_everything_once() {
        let (add, remove) = diff(vec![1, 1, 2], &[]);
        assert!(add.is_empty());
        assert_eq!(remove, vec![1, 2]);
    }

    #[test]
    fn diff_of_equal_sets_is_empty() {
        let (add, remove) = diff(vec![2, 1], &[1, 2, 1]);
        assert!(add.is_empty() && remove.is_empty());
    }
}
