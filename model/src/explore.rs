//! Breadth-first search over every world reachable within `depth` steps, each state kept once (by a 64-bit hash
//! of the whole world). A world in which the handler broke a property stops the search; its path from the start,
//! replayed with logging on, is the counterexample's timeline. With `Model::liveness`, every state from which
//! liveness is judged (see `liveness`) also gets its fair continuation run, which must complete every action.

use crate::liveness::{fair_continuation, judged_from};
use crate::steps::{Model, Step};
use crate::world::World;
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

/// What a search found.
pub struct Report {
    pub states: usize,
    pub transitions: usize,
    /// The deepest level reached (all of it explored).
    pub depth: usize,
    pub elapsed: Duration,
    pub counterexample: Option<Counterexample>,
}

pub struct Counterexample {
    pub violation: String,
    pub timeline: Vec<String>,
}

impl std::fmt::Display for Counterexample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "counterexample: {}", self.violation)?;
        for line in &self.timeline {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

fn fingerprint(world: &World) -> u64 {
    let mut hasher = DefaultHasher::new();
    world.hash(&mut hasher);
    hasher.finish()
}

/// One explored state: how it was reached.
struct Node {
    parent: usize,
    step: Option<Step>,
}

pub fn explore(model: &Model, depth: usize) -> Report {
    let started = Instant::now();
    let initial = World::new(&model.bounds);
    let mut seen = HashSet::from([fingerprint(&initial)]);
    let mut nodes = vec![Node { parent: 0, step: None }];
    let mut frontier = vec![(0usize, initial)];
    let mut transitions = 0;
    let mut reached = 0;
    for level in 1..=depth {
        let mut next_frontier = Vec::new();
        for (node, world) in &frontier {
            for step in model.steps(world).into_iter().chain(model.races(world)) {
                let outcome = model.apply(world, &step, false);
                let faulty = match &step {
                    Step::Deliver { .. } | Step::Tick { .. } => {
                        model.faulty(world, &step, outcome.calls, &outcome.effectful)
                    }
                    _ => Vec::new(),
                };
                let successors = std::iter::once((step, outcome.world))
                    .chain(faulty.into_iter().map(|step| {
                        let next = model.apply(world, &step, false).world;
                        (step, next)
                    }))
                    .collect::<Vec<_>>();
                for (step, next) in successors {
                    transitions += 1;
                    if !seen.insert(fingerprint(&next)) {
                        continue;
                    }
                    nodes.push(Node { parent: *node, step: Some(step) });
                    if let Some(violation) = next.violation.clone() {
                        let timeline = replay(model, &nodes, nodes.len() - 1, &[]);
                        let counterexample = Some(Counterexample { violation, timeline });
                        let elapsed = started.elapsed();
                        return Report { states: seen.len(), transitions, depth: level, elapsed, counterexample };
                    }
                    if model.liveness && judged_from(&next, &model.bounds) {
                        let (continuation, stalled) = fair_continuation(model, &next);
                        if let Some(stalled) = stalled {
                            let mut timeline = replay(model, &nodes, nodes.len() - 1, &continuation);
                            timeline.push(format!("     NOT LIVE: {stalled}"));
                            let counterexample = Some(Counterexample { violation: stalled, timeline });
                            let elapsed = started.elapsed();
                            return Report { states: seen.len(), transitions, depth: level, elapsed, counterexample };
                        }
                    }
                    next_frontier.push((nodes.len() - 1, next));
                }
            }
        }
        if next_frontier.is_empty() {
            break;
        }
        reached = level;
        frontier = next_frontier;
    }
    Report { states: seen.len(), transitions, depth: reached, elapsed: started.elapsed(), counterexample: None }
}

/// The timeline of the path to `node`, then `then`: the steps carried out again from the start, with every AWS call
/// written.
fn replay(model: &Model, nodes: &[Node], node: usize, then: &[Step]) -> Vec<String> {
    let mut path = Vec::new();
    let mut at = node;
    while let Some(step) = &nodes[at].step {
        path.push(step.clone());
        at = nodes[at].parent;
    }
    path.reverse();
    path.extend_from_slice(then);
    let mut world = World::new(&model.bounds);
    let mut timeline = Vec::new();
    for (number, step) in path.iter().enumerate() {
        let outcome = model.apply(&world, step, true);
        for (index, line) in outcome.lines.into_iter().enumerate() {
            timeline.push(if index == 0 { format!("{:>3}. {line}", number + 1) } else { format!("     {line}") });
        }
        world = outcome.world;
    }
    if let Some(violation) = &world.violation {
        timeline.push(format!("     BROKEN: {violation}"));
    }
    timeline
}
