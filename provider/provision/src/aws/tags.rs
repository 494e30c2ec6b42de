//! Tag differences: what to set and what to remove so a piece carries exactly the desired tags.

use std::collections::BTreeMap;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct TagChanges {
    pub set: BTreeMap<String, String>,
    pub remove: Vec<String>,
}

impl TagChanges {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }
}

pub fn changes(observed: &BTreeMap<String, String>, desired: &BTreeMap<String, String>) -> TagChanges {
    TagChanges {
        set: desired.iter().filter(|(k, v)| observed.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect(),
        remove: observed.keys().filter(|k| !desired.contains_key(*k)).cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn sets_changed_and_new_removes_gone() {
        let c = changes(&map(&[("a", "1"), ("b", "2"), ("c", "3")]), &map(&[("a", "1"), ("b", "9"), ("d", "4")]));
        assert_eq!(c.set, map(&[("b", "9"), ("d", "4")]));
        assert_eq!(c.remove, vec!["c".to_string()]);
        assert!(changes(&map(&[("a", "1")]), &map(&[("a", "1")])).is_empty());
    }
}
