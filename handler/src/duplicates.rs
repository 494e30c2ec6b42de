//! Duplicate drain commands in the history: the drain lock (`drain_lock`) keeps a second command from being sent,
//! but commands sent before it existed, or by hand with our comment, may still be listed. Every command carries the
//! lifecycle token in its `Comment`, so duplicates are recognisable; the earliest one (requested time, then command
//! id) is the drain, and observation ignores every later one.

use crate::decide::CommandSeen;

/// Orders commands of one comment: the smallest key is the drain that stands.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SendOrder {
    /// `RequestedDateTime` as (seconds, nanoseconds): SSM keeps milliseconds, so whole seconds would tie.
    pub requested: (i64, u32),
    pub command_id: String,
}

/// Keeps, per comment, only the command that stands; later duplicates are dropped. Order of the rest is kept.
pub fn without_duplicates(commands: Vec<(SendOrder, CommandSeen)>) -> Vec<CommandSeen> {
    let standing = |order: &SendOrder, comment: &str| {
        !commands.iter().any(|(other, seen)| seen.comment == comment && other < order)
    };
    let keep: Vec<bool> = commands.iter().map(|(order, seen)| standing(order, &seen.comment)).collect();
    commands.into_iter().zip(keep).filter(|(_, keep)| *keep).map(|((_, seen), _)| seen).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(seconds: i64, nanos: u32, id: &str) -> SendOrder {
        SendOrder { requested: (seconds, nanos), command_id: id.to_string() }
    }

    fn seen(id: &str, comment: &str) -> CommandSeen {
        CommandSeen { command_id: id.into(), comment: comment.into(), status: "InProgress".into(), requested_at: 100 }
    }

    #[test]
    fn the_earliest_command_of_a_comment_stands_and_later_ones_are_dropped() {
        let kept = without_duplicates(vec![
            (order(100, 900_000_000, "b"), seen("b", "graceful-drain t1")),
            (order(100, 100_000_000, "a"), seen("a", "graceful-drain t1")),
            (order(90, 0, "old"), seen("old", "graceful-drain t0")),
        ]);
        let ids: Vec<&str> = kept.iter().map(|c| c.command_id.as_str()).collect();
        assert_eq!(ids, ["a", "old"]);
    }

    #[test]
    fn an_exact_tie_is_broken_by_command_id() {
        let kept = without_duplicates(vec![
            (order(100, 5, "z"), seen("z", "graceful-drain t1")),
            (order(100, 5, "m"), seen("m", "graceful-drain t1")),
        ]);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].command_id, "m");
    }
}
