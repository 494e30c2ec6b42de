//! Duplicate drain commands: two deliveries of one lifecycle notification handled at the same moment can both see
//! "no command yet" and both call `SendCommand` (SSM has no idempotency token). Every command carries the lifecycle
//! token in its `Comment`, so duplicates are recognisable; the earliest one (requested time, then command id) is
//! the drain, every later one yields: its sender cancels it, and observation ignores it.

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

/// After sending `ours`, the command it must yield to, if another command with the same comment was sent first.
pub fn yields_to<'a>(ours: &SendOrder, same_comment: &'a [SendOrder]) -> Option<&'a SendOrder> {
    same_comment.iter().filter(|other| other.command_id != ours.command_id && *other < ours).min()
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

    #[test]
    fn the_later_sender_yields_and_the_earlier_one_keeps_its_command() {
        let first = order(100, 1, "a");
        let second = order(100, 2, "b");
        let listed = [first.clone(), second.clone()];
        assert_eq!(yields_to(&second, &listed), Some(&first));
        assert_eq!(yields_to(&first, &listed), None);
        // The earlier sender may not see the later command yet; it keeps its own either way.
        assert_eq!(yields_to(&first, std::slice::from_ref(&first)), None);
    }
}
