//! Drawing a script's graph as Mermaid or Graphviz dot (`switchboard graph`). Global handler
//! targets are drawn from a `handlers` pseudo-node.

use std::fmt::Write;

use crate::script::{NodeKind, Script};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Mermaid,
    Dot,
}

fn esc(s: &str) -> String {
    s.replace('"', "'")
}

/// Renders the graph.
pub fn render(script: &Script, format: Format) -> String {
    let mut s = String::new();
    let handler_edges: Vec<(usize, String)> = script
        .handlers
        .iter()
        .flat_map(|h| {
            h.goto
                .map(|g| (g, h.name.clone()))
                .into_iter()
                .chain(h.on_limit.map(|g| (g, format!("{} (limit)", h.name))))
        })
        .collect();
    match format {
        Format::Mermaid => {
            let _ = writeln!(s, "flowchart TD");
            let _ = writeln!(s, "  start((start)) --> n{}", script.start);
            for (i, n) in script.nodes.iter().enumerate() {
                let label = format!("{}<br/><i>{}</i>", esc(&n.id), n.kind.name());
                let shape = match n.kind {
                    NodeKind::Branch { .. } => format!("n{i}{{\"{label}\"}}"),
                    _ if n.kind.is_terminal() => format!("n{i}([\"{label}\"])"),
                    _ => format!("n{i}[\"{label}\"]"),
                };
                let _ = writeln!(s, "  {shape}");
            }
            for (i, n) in script.nodes.iter().enumerate() {
                for (t, label) in dedup(n.kind.edges()) {
                    if label.is_empty() {
                        let _ = writeln!(s, "  n{i} --> n{t}");
                    } else {
                        let _ = writeln!(s, "  n{i} -->|\"{}\"| n{t}", esc(&label));
                    }
                }
            }
            if !handler_edges.is_empty() {
                let _ = writeln!(s, "  handlers{{{{global handlers}}}}");
                for (t, name) in handler_edges {
                    let _ = writeln!(s, "  handlers -.->|\"{}\"| n{t}", esc(&name));
                }
            }
        }
        Format::Dot => {
            let _ = writeln!(
                s,
                "digraph \"{}\" {{\n  rankdir=TB;\n  start [shape=point];",
                esc(&script.id)
            );
            let _ = writeln!(s, "  start -> n{};", script.start);
            for (i, n) in script.nodes.iter().enumerate() {
                let shape = match n.kind {
                    NodeKind::Branch { .. } => "diamond",
                    _ if n.kind.is_terminal() => "doubleoctagon",
                    _ => "box",
                };
                let _ = writeln!(
                    s,
                    "  n{i} [label=\"{}\\n({})\", shape={shape}];",
                    esc(&n.id),
                    n.kind.name()
                );
            }
            for (i, n) in script.nodes.iter().enumerate() {
                for (t, label) in dedup(n.kind.edges()) {
                    let _ = writeln!(s, "  n{i} -> n{t} [label=\"{}\"];", esc(&label));
                }
            }
            if !handler_edges.is_empty() {
                let _ = writeln!(s, "  handlers [label=\"global handlers\", shape=hexagon];");
                for (t, name) in handler_edges {
                    let _ = writeln!(
                        s,
                        "  handlers -> n{t} [label=\"{}\", style=dashed];",
                        esc(&name)
                    );
                }
            }
            s.push_str("}\n");
        }
    }
    s
}

/// Merges parallel edges to the same target into one labelled edge.
fn dedup(edges: Vec<(usize, String)>) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    for (t, l) in edges {
        match out.iter_mut().find(|(x, _)| *x == t) {
            Some((_, existing)) if !l.is_empty() && !existing.contains(&l) => {
                if existing.is_empty() {
                    *existing = l;
                } else {
                    existing.push_str(" / ");
                    existing.push_str(&l);
                }
            }
            Some(_) => {}
            None => out.push((t, l)),
        }
    }
    out
}
