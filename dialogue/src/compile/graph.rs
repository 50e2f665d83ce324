//! Graph checks on a script whose nodes all compiled: every node reachable from the start (or
//! from a global handler's target), and every reachable node able to reach an end.

use crate::diag::{DiagKind, Sink};
use crate::script::{Handler, Node, NodeId};

pub(crate) fn check(sink: &mut Sink, nodes: &[Node], handlers: &[Handler], start: NodeId) {
    if nodes.is_empty() {
        return;
    }
    let mut roots = vec![start];
    roots.extend(
        handlers
            .iter()
            .flat_map(|h| h.goto.into_iter().chain(h.on_limit)),
    );
    let reach = reachable(nodes, &roots);
    for (i, n) in nodes.iter().enumerate() {
        if !reach[i] {
            sink.push(
                n.pos,
                DiagKind::UnreachableNode,
                format!("node `{}` is unreachable", n.id),
            );
        }
    }
    // Reverse reachability from terminal nodes.
    let mut ends = vec![false; nodes.len()];
    let mut changed = true;
    for (i, n) in nodes.iter().enumerate() {
        ends[i] = n.kind.is_terminal();
    }
    while changed {
        changed = false;
        for (i, n) in nodes.iter().enumerate() {
            if !ends[i] && n.kind.edges().iter().any(|(t, _)| ends[*t]) {
                ends[i] = true;
                changed = true;
            }
        }
    }
    if !ends[start] {
        let n = &nodes[start];
        sink.push(
            n.pos,
            DiagKind::NoReachableEnd,
            format!("no end node is reachable from the start `{}`", n.id),
        );
        return;
    }
    for (i, n) in nodes.iter().enumerate() {
        if reach[i] && !ends[i] {
            sink.push(
                n.pos,
                DiagKind::NoReachableEnd,
                format!("node `{}` can never reach an end", n.id),
            );
        }
    }
}

/// Nodes reachable from `roots`.
pub(crate) fn reachable(nodes: &[Node], roots: &[NodeId]) -> Vec<bool> {
    let mut seen = vec![false; nodes.len()];
    let mut stack: Vec<NodeId> = roots.iter().copied().filter(|r| *r < nodes.len()).collect();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        stack.extend(
            nodes[i]
                .kind
                .edges()
                .into_iter()
                .map(|(t, _)| t)
                .filter(|t| !seen[*t]),
        );
    }
    seen
}
