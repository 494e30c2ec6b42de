//! Ownership: which existing AWS objects belong to this resource instance. AWS names are not proof of ownership
//! (another state, a teammate or another tool may use the same name), so every taggable piece carries an owner tag
//! whose value the instance keeps in its state, and nothing is written or deleted that does not carry it.
//!
//! Pieces without tags are owned through the piece they hang on: the subscription through the topic, the Lambda
//! permissions through the function, the EventBridge target through the rule. A lifecycle hook (untaggable) is ours
//! when it targets our topic with our notification metadata.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};

/// The tag key that marks a piece as created by one `graceful_shutdown_asg` instance.
pub const OWNER_TAG: &str = "graceful:owner";

/// Which pieces found by name this call may treat as its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// Only pieces whose owner tag holds this id (the instance's `owner_id`).
    Tagged(String),
    /// A state written before owner tags existed: pieces without an owner tag are ours (they were created by this
    /// instance under its name), pieces tagged by someone else are not. With `claim`, converge tags ours with it.
    Untagged { claim: Option<String> },
    /// Every piece found by name: an import, which takes ownership explicitly.
    Any,
}

impl Ownership {
    /// Whether a piece carrying `tags` is ours.
    pub fn owns(&self, tags: &BTreeMap<String, String>) -> bool {
        let tag = tags.get(OWNER_TAG);
        match self {
            Ownership::Tagged(id) => tag == Some(id),
            Ownership::Untagged { claim } => tag.is_none() || tag == claim.as_ref(),
            Ownership::Any => true,
        }
    }

    /// The owner id converge writes on every taggable piece.
    pub fn id(&self) -> Option<&str> {
        match self {
            Ownership::Tagged(id) | Ownership::Untagged { claim: Some(id) } => Some(id),
            Ownership::Untagged { claim: None } | Ownership::Any => None,
        }
    }

    /// `user_tags` plus the owner tag: what every taggable piece carries.
    pub fn tags_with_owner(&self, user_tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut tags = user_tags.clone();
        if let Some(id) = self.id() {
            tags.insert(OWNER_TAG.to_owned(), id.to_owned());
        }
        tags
    }
}

/// The owner id found on a piece, for an import (which adopts the id of what it imports).
pub fn owner_tag(tags: &BTreeMap<String, String>) -> Option<&str> {
    tags.get(OWNER_TAG).map(String::as_str)
}

/// `tags` without the owner tag: the user's tags.
pub fn user_tags(tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    tags.iter().filter(|(k, _)| k.as_str() != OWNER_TAG).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// A fresh owner id: 128 bits, unique per call. Not a secret, only distinct: std's `RandomState` is seeded from
/// the operating system's random source once per thread (and changes per instance), and the clock and process id
/// are mixed in so two processes never agree.
pub fn new_owner_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let half = |salt: u64| {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(salt);
        hasher.write_u128(nanos);
        hasher.write_u32(std::process::id());
        hasher.finish()
    };
    format!("{:016x}{:016x}", half(1), half(2))
}

/// An object that has one of our names but is not ours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignPiece {
    /// What it is, e.g. "SNS topic".
    pub kind: &'static str,
    /// Its name or ARN.
    pub id: String,
    /// Why it is not ours, e.g. `its graceful:owner tag is "…"`.
    pub reason: String,
}

impl ForeignPiece {
    pub(crate) fn tagged(kind: &'static str, id: &str, tags: &BTreeMap<String, String>) -> Self {
        let reason = match owner_tag(tags) {
            Some(other) => format!("its {OWNER_TAG} tag is {other:?}, another resource instance's"),
            None => format!("it has no {OWNER_TAG} tag, so this provider did not create it for this resource"),
        };
        ForeignPiece { kind, id: id.to_owned(), reason }
    }
}

impl fmt::Display for ForeignPiece {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} already exists ({})", self.kind, self.id, self.reason)
    }
}

/// The refusal when names are taken: one line per piece, then what the user can do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotOwned {
    pub name: String,
    pub pieces: Vec<ForeignPiece>,
}

impl fmt::Display for NotOwned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "its names are taken by objects this resource did not create:")?;
        for piece in &self.pieces {
            writeln!(f, "- {piece}")?;
        }
        write!(
            f,
            "Nothing was changed: this resource never takes over objects another configuration, state or tool \
manages. To manage them with this resource, import it (terraform import <address> {name}); otherwise choose another \
name. With lifecycle {{ create_before_destroy = true }}, a replacement must have a new name, because the old and the \
new instance exist at the same time.",
            name = self.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn tagged_owns_only_its_own_id() {
        let mine = Ownership::Tagged("a".into());
        assert!(mine.owns(&tags(&[(OWNER_TAG, "a"), ("team", "ci")])));
        assert!(!mine.owns(&tags(&[(OWNER_TAG, "b")])));
        assert!(!mine.owns(&tags(&[("team", "ci")])), "an untagged piece was not created by this instance");
    }

    #[test]
    fn untagged_state_owns_untagged_and_claimed_pieces_only() {
        let legacy = Ownership::Untagged { claim: None };
        assert!(legacy.owns(&tags(&[])));
        assert!(!legacy.owns(&tags(&[(OWNER_TAG, "b")])));
        let claiming = Ownership::Untagged { claim: Some("c".into()) };
        assert!(claiming.owns(&tags(&[])));
        assert!(claiming.owns(&tags(&[(OWNER_TAG, "c")])));
        assert!(!claiming.owns(&tags(&[(OWNER_TAG, "b")])));
        assert_eq!(claiming.tags_with_owner(&tags(&[("x", "1")])), tags(&[("x", "1"), (OWNER_TAG, "c")]));
        assert_eq!(legacy.tags_with_owner(&tags(&[("x", "1")])), tags(&[("x", "1")]));
    }

    #[test]
    fn owner_ids_are_distinct_and_user_tags_hide_the_owner_tag() {
        let a = new_owner_id();
        assert_eq!(a.len(), 32);
        assert_ne!(a, new_owner_id());
        assert_eq!(user_tags(&tags(&[(OWNER_TAG, "a"), ("team", "ci")])), tags(&[("team", "ci")]));
    }
}
