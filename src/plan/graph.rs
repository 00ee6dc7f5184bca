//! Ordering steps: a petgraph DAG from what each step creates, uses and drops, then a
//! deterministic topological order (phase first, then the order recipes produced the steps).

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use super::resource::Resource;
use super::step::Step;
use super::PlanError;

/// Order `steps` so that every step runs after what it needs and before what removes what it
/// needs, phase by phase. Steps are moved to a later phase when something they depend on was
/// placed in one (never to an earlier one: that could run a drop while the old app runs).
pub fn order(mut steps: Vec<Step>) -> Result<Vec<Step>, PlanError> {
    let graph = build(&steps);

    // Push steps to later phases until every edge points forward or within a phase.
    let mut changed = true;
    while changed {
        changed = false;
        for edge in graph.raw_edges() {
            let (from, to) = (edge.source().index(), edge.target().index());
            if steps[from].phase > steps[to].phase {
                steps[to].phase = steps[from].phase;
                changed = true;
            }
        }
    }

    // Kahn's algorithm with a min-heap: among ready steps, the earliest phase, then the
    // earliest produced. Same input, same order.
    let mut indegree: Vec<usize> = graph
        .node_indices()
        .map(|n| graph.neighbors_directed(n, Direction::Incoming).count())
        .collect();
    let mut ready: BinaryHeap<Reverse<(super::Phase, usize)>> = indegree
        .iter()
        .enumerate()
        .filter(|(_, d)| **d == 0)
        .map(|(i, _)| Reverse((steps[i].phase, i)))
        .collect();
    let mut order = Vec::with_capacity(steps.len());
    while let Some(Reverse((_, i))) = ready.pop() {
        order.push(i);
        for next in graph.neighbors_directed(NodeIndex::new(i), Direction::Outgoing) {
            let n = next.index();
            indegree[n] -= 1;
            if indegree[n] == 0 {
                ready.push(Reverse((steps[n].phase, n)));
            }
        }
    }
    if order.len() < steps.len() {
        return Err(cycle_error(&graph, &steps));
    }
    let mut slots: Vec<Option<Step>> = steps.into_iter().map(Some).collect();
    Ok(order
        .into_iter()
        .map(|i| slots[i].take().expect("each step is ordered once"))
        .collect())
}

fn build(steps: &[Step]) -> DiGraph<usize, ()> {
    let mut graph = DiGraph::new();
    for i in 0..steps.len() {
        graph.add_node(i);
    }
    let mut creators: BTreeMap<&Resource, Vec<usize>> = BTreeMap::new();
    let mut droppers: BTreeMap<&Resource, Vec<usize>> = BTreeMap::new();
    for (i, step) in steps.iter().enumerate() {
        for r in &step.creates {
            creators.entry(r).or_default().push(i);
        }
        for r in &step.drops {
            droppers.entry(r).or_default().push(i);
        }
    }
    let mut add = |a: usize, b: usize| {
        if a != b && !graph.contains_edge(NodeIndex::new(a), NodeIndex::new(b)) {
            graph.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
        }
    };
    for (i, step) in steps.iter().enumerate() {
        for r in &step.uses {
            // Needed things exist first ...
            for &c in creators.get(r).into_iter().flatten() {
                add(c, i);
            }
            // ... and are removed last, unless the removal makes way for a replacement
            // (dropped, then created again): then the step uses the new one.
            for &d in droppers.get(r).into_iter().flatten() {
                let replaced = creators.get(r).is_some_and(|cs| cs.iter().any(|&c| c >= d));
                if !replaced {
                    add(i, d);
                }
            }
        }
    }
    for (i, step) in steps.iter().enumerate() {
        for r in &step.after_drop_of {
            for &d in droppers.get(r).into_iter().flatten() {
                add(d, i);
            }
        }
    }
    // A name that is both dropped and created: the recipe's own order says which comes first
    // (drop-then-create for a replacement, create-then-drop for a temporary helper).
    for (r, cs) in &creators {
        for &d in droppers.get(r).into_iter().flatten() {
            for &c in cs {
                if d < c {
                    add(d, c);
                } else {
                    add(c, d);
                }
            }
        }
    }
    graph
}

fn cycle_error(graph: &DiGraph<usize, ()>, steps: &[Step]) -> PlanError {
    let cycle = tarjan_scc(graph)
        .into_iter()
        .find(|scc| scc.len() > 1)
        .unwrap_or_default();
    PlanError::Cycle {
        steps: cycle
            .into_iter()
            .map(|n| steps[graph[n]].description.clone())
            .collect(),
    }
}
