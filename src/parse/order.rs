//! Load order: a topological order of the statements by provides/requires, ties broken by file
//! position. Statements in a dependency cycle keep their file order (the loader's retry copes).

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use super::{ObjectName, Statement, StatementKind};

/// `statements` must be in file order (file path, then offset).
pub(crate) fn load_order(statements: Vec<Statement>) -> Vec<Statement> {
    let n = statements.len();
    let mut providers: HashMap<&ObjectName, Vec<usize>> = HashMap::new();
    for (i, s) in statements.iter().enumerate() {
        for p in &s.provides {
            providers.entry(p).or_default().push(i);
        }
    }
    let extensions: Vec<usize> = statements
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.provides
                .iter()
                .any(|p| matches!(p, ObjectName::Extension(_)))
        })
        .map(|(i, _)| i)
        .collect();

    let mut graph: DiGraph<usize, ()> = DiGraph::with_capacity(n, n);
    let nodes: Vec<NodeIndex> = (0..n).map(|i| graph.add_node(i)).collect();
    let mut edges = BTreeSet::new();
    for (i, s) in statements.iter().enumerate() {
        let mut unresolved = false;
        for r in &s.requires {
            match providers.get(r) {
                Some(ps) => edges.extend(ps.iter().filter(|&&p| p != i).map(|&p| (p, i))),
                None => unresolved |= matches!(r, ObjectName::Type(_) | ObjectName::Function(_)),
            }
        }
        // A type or function nobody here creates may come from an extension.
        if unresolved && s.kind == StatementKind::Ddl {
            edges.extend(extensions.iter().filter(|&&e| e != i).map(|&e| (e, i)));
        }
    }
    for &(a, b) in &edges {
        graph.add_edge(nodes[a], nodes[b], ());
    }

    // Components (a single statement, or a cycle), ordered by their first statement.
    let sccs = tarjan_scc(&graph);
    let mut component = vec![0usize; n];
    let mut members: Vec<Vec<usize>> = Vec::with_capacity(sccs.len());
    for (c, scc) in sccs.iter().enumerate() {
        let mut m: Vec<usize> = scc.iter().map(|&ix| graph[ix]).collect();
        m.sort_unstable();
        for &i in &m {
            component[i] = c;
        }
        members.push(m);
    }
    let mut successors: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); members.len()];
    let mut indegree = vec![0usize; members.len()];
    for &(a, b) in &edges {
        let (ca, cb) = (component[a], component[b]);
        if ca != cb && successors[ca].insert(cb) {
            indegree[cb] += 1;
        }
    }
    let mut ready: BinaryHeap<Reverse<(usize, usize)>> = (0..members.len())
        .filter(|&c| indegree[c] == 0)
        .map(|c| Reverse((members[c][0], c)))
        .collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse((_, c))) = ready.pop() {
        order.extend(members[c].iter().copied());
        for &next in &successors[c] {
            indegree[next] -= 1;
            if indegree[next] == 0 {
                ready.push(Reverse((members[next][0], next)));
            }
        }
    }
    debug_assert_eq!(order.len(), n);
    let mut slots: Vec<Option<Statement>> = statements.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}
