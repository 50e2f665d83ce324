//! YAML with positions: a small tree built from `yaml-rust2` parser events, where every node
//! keeps its line and column. The loader deserialises the schema types from this tree (see
//! [`de`](crate::yaml::de)) so every error and every [`Spanned`] value can point at its source.
//!
//! Limits (bad input must never take the process down): nesting deeper than [`MAX_DEPTH`] and
//! documents expanding to more than [`MAX_NODES`] nodes (alias bombs) are refused.

pub mod de;

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

pub use de::{from_node, DeError, Spanned};

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 64;
/// Most nodes (after alias expansion) accepted in one document.
pub const MAX_NODES: usize = 200_000;

/// A 1-based line and column in a source file.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// One YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub kind: Kind,
}

/// The shape of a node. Scalars keep their text; typing happens when deserialising.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A scalar; `plain` is false for quoted and block scalars (always strings).
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The mapping entry whose key is `key`, if this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The scalar text, if this node is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// True for a plain `~`, `null` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { text, plain: true } if is_null_text(text))
    }

    /// A short human word for the node's shape, for error messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            Kind::Scalar { .. } if self.is_null() => "null",
            Kind::Scalar { .. } => "a scalar",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }
}

pub(crate) fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// A problem found while reading YAML text.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
}

/// Parses the first document of `src` into a positioned tree. An empty document is a null
/// scalar at 1:1. Duplicate mapping keys are reported in the second return value (the tree
/// keeps both entries) so the caller can list them with other errors.
///
/// # Errors
/// Syntax errors, unknown aliases, too deep or too large documents.
pub fn parse(src: &str) -> Result<(Node, Vec<YamlError>), YamlError> {
    let mut parser = Parser::new_from_str(src);
    let mut b = Builder::default();
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| YamlError {
            pos: Pos {
                line: e.marker().line() as u32,
                col: e.marker().col() as u32 + 1,
            },
            message: e.info().to_string(),
        })?;
        let pos = Pos {
            line: mark.line() as u32,
            col: mark.col() as u32 + 1,
        };
        match ev {
            Event::StreamEnd | Event::DocumentEnd => break,
            Event::Nothing | Event::StreamStart | Event::DocumentStart => {}
            Event::Scalar(text, style, anchor, _tag) => {
                let plain = style == TScalarStyle::Plain;
                b.push(
                    Node {
                        pos,
                        kind: Kind::Scalar { text, plain },
                    },
                    anchor,
                )?;
            }
            Event::Alias(id) => {
                let node = b.anchors.get(&id).cloned().ok_or_else(|| YamlError {
                    pos,
                    message: "unknown alias".into(),
                })?;
                b.count += count_nodes(&node);
                b.push(node, 0)?;
            }
            Event::SequenceStart(anchor, _) => b.open(
                Node {
                    pos,
                    kind: Kind::Seq(Vec::new()),
                },
                anchor,
            )?,
            Event::MappingStart(anchor, _) => b.open(
                Node {
                    pos,
                    kind: Kind::Map(Vec::new()),
                },
                anchor,
            )?,
            Event::SequenceEnd | Event::MappingEnd => b.close()?,
        }
        if b.done.is_some() {
            break;
        }
    }
    let root = b.done.unwrap_or(Node {
        pos: Pos { line: 1, col: 1 },
        kind: Kind::Scalar {
            text: String::new(),
            plain: true,
        },
    });
    let mut dups = Vec::new();
    find_duplicate_keys(&root, &mut dups);
    Ok((root, dups))
}

fn count_nodes(n: &Node) -> usize {
    match &n.kind {
        Kind::Scalar { .. } => 1,
        Kind::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Kind::Map(e) => {
            1 + e
                .iter()
                .map(|(k, v)| count_nodes(k) + count_nodes(v))
                .sum::<usize>()
        }
    }
}

fn find_duplicate_keys(n: &Node, out: &mut Vec<YamlError>) {
    // Iterative walk: the tree depth is bounded, but keep the stack flat anyway.
    let mut stack = vec![n];
    while let Some(n) = stack.pop() {
        match &n.kind {
            Kind::Scalar { .. } => {}
            Kind::Seq(items) => stack.extend(items.iter()),
            Kind::Map(entries) => {
                let mut seen: HashMap<&str, ()> = HashMap::new();
                for (k, v) in entries {
                    if let Some(key) = k.as_str() {
                        if seen.insert(key, ()).is_some() {
                            out.push(YamlError {
                                pos: k.pos,
                                message: format!("duplicate key `{key}`"),
                            });
                        }
                    }
                    stack.push(v);
                }
            }
        }
    }
}

/// Open containers; a mapping alternates between waiting for a key and for its value.
#[derive(Default)]
struct Builder {
    stack: Vec<(Node, usize, Option<Node>)>,
    anchors: HashMap<usize, Node>,
    done: Option<Node>,
    count: usize,
}

impl Builder {
    fn open(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError {
                pos: node.pos,
                message: format!("nesting deeper than {MAX_DEPTH}"),
            });
        }
        self.stack.push((node, anchor, None));
        Ok(())
    }

    fn close(&mut self) -> Result<(), YamlError> {
        let Some((node, anchor, _)) = self.stack.pop() else {
            return Ok(());
        };
        self.push(node, anchor)
    }

    fn push(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        self.count += 1;
        if self.count > MAX_NODES {
            return Err(YamlError {
                pos: node.pos,
                message: format!("more than {MAX_NODES} nodes"),
            });
        }
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.done = Some(node),
            Some((parent, _, pending_key)) => match &mut parent.kind {
                Kind::Seq(items) => items.push(node),
                Kind::Map(entries) => match pending_key.take() {
                    None => *pending_key = Some(node),
                    Some(key) => entries.push((key, node)),
                },
                Kind::Scalar { .. } => {}
            },
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_columns() {
        let (root, dups) = parse("a: 1\nb:\n  - x\n  - 'y'\n").unwrap();
        assert!(dups.is_empty());
        let b = root.get("b").unwrap();
        let Kind::Seq(items) = &b.kind else {
            panic!("seq")
        };
        assert_eq!(items[0].pos, Pos { line: 3, col: 5 });
        assert_eq!(
            items[1].kind,
            Kind::Scalar {
                text: "y".into(),
                plain: false
            }
        );
        assert_eq!(root.get("a").unwrap().pos, Pos { line: 1, col: 4 });
    }

    #[test]
    fn syntax_errors_and_duplicates_have_positions() {
        let err = parse("a: [1, 2\nb: 3").unwrap_err();
        assert!(err.pos.line >= 1, "{err:?}");
        let (_, dups) = parse("a: 1\na: 2\n").unwrap();
        assert_eq!(dups.len(), 1);
        assert_eq!(dups[0].pos.line, 2);
    }

    #[test]
    fn deep_nesting_and_alias_bombs_are_refused() {
        let deep = "[".repeat(200);
        assert!(parse(&deep).is_err());
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            bomb.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        assert!(parse(&bomb).is_err());
    }
}
