//! A YAML document as a tree of nodes that remember their line and column.
//!
//! Parsing goes through `serde-saphyr` with limits against YAML bombs and oversized input; the
//! importers then walk this tree, so every value they read keeps its position and every unknown
//! key can be reported where it stands.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::source::Position;

/// The largest input accepted, in bytes. Cluster network configuration is a few kilobytes;
/// anything near this limit is a mistake or an attack.
pub const MAX_INPUT_BYTES: usize = 4 * 1024 * 1024;
/// The deepest nesting accepted.
pub const MAX_DEPTH: usize = 64;
/// The most nodes accepted across all documents, alias expansions included.
pub const MAX_NODES: usize = 200_000;
/// The most documents accepted in one file.
pub const MAX_DOCUMENTS: usize = 256;

/// A YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub pos: Position,
}

/// The content of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A mapping key (always read as text) with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub pos: Position,
}

/// A document that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub pos: Option<Position>,
    pub message: String,
}

impl Node {
    /// What the node is, for "expected a string, found a list" messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "nothing (null)",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a number",
            Kind::Str(_) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }

    /// The entries of a mapping, or None for any other node.
    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    /// A scalar as text, the way a Kubernetes component reading a string field would see it:
    /// `120` and `"120"` both give "120". Null, lists and mappings give None.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.kind {
            Kind::Str(s) => Some(s.clone()),
            Kind::Int(i) => Some(i.to_string()),
            Kind::Float(f) => Some(f.to_string()),
            Kind::Bool(b) => Some(b.to_string()),
            Kind::Null | Kind::Seq(_) | Kind::Map(_) => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }
}

fn position(loc: &serde_saphyr::Location) -> Position {
    Position {
        line: loc.line().max(1) as u32,
        column: loc.column().max(1) as u32,
    }
}

impl From<Spanned<RawKind>> for Node {
    fn from(spanned: Spanned<RawKind>) -> Node {
        let pos = position(&spanned.referenced);
        let kind = match spanned.value {
            RawKind::Null => Kind::Null,
            RawKind::Bool(b) => Kind::Bool(b),
            RawKind::Int(i) => Kind::Int(i),
            RawKind::Float(f) => Kind::Float(f),
            RawKind::Str(s) => Kind::Str(s),
            RawKind::Seq(items) => Kind::Seq(items.into_iter().map(Node::from).collect()),
            RawKind::Map(entries) => Kind::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        let key_pos = position(&k.referenced);
                        let name = Node::from(k).scalar_text().unwrap_or_default();
                        (Key { name, pos: key_pos }, Node::from(v))
                    })
                    .collect(),
            ),
        };
        Node { kind, pos }
    }
}

/// The tree as serde-saphyr hands it over, before positions are flattened into `Node`.
enum RawKind {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawKind>>),
    Map(Vec<(Spanned<RawKind>, Spanned<RawKind>)>),
}

impl<'de> Deserialize<'de> for RawKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawKind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<RawKind, E> {
        Ok(RawKind::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<RawKind, E> {
        Ok(RawKind::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawKind, D::Error> {
        RawKind::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawKind, E> {
        Ok(RawKind::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawKind, E> {
        Ok(RawKind::Int(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawKind, E> {
        Ok(RawKind::Int(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawKind, E> {
        Ok(RawKind::Int(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawKind, E> {
        Ok(RawKind::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawKind, E> {
        Ok(RawKind::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<RawKind, E> {
        Ok(RawKind::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawKind, E> {
        Ok(RawKind::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawKind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawKind::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawKind, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key()? {
            entries.push((key, map.next_value()?));
        }
        Ok(RawKind::Map(entries))
    }
}

fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_nodes = MAX_NODES;
    budget.max_documents = MAX_DOCUMENTS;
    budget.max_reader_input_bytes = Some(MAX_INPUT_BYTES);
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.with_snippet = false;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    options
}

/// Parses every document in `text`. Empty documents (`---` with nothing after it) are dropped;
/// a file with no document at all gives an empty list, which the caller reports.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(YamlError {
            pos: None,
            message: format!(
                "the file is {} bytes; kube6 reads at most {} bytes of configuration",
                text.len(),
                MAX_INPUT_BYTES
            ),
        });
    }
    let docs: Vec<Option<Spanned<RawKind>>> =
        serde_saphyr::from_multiple_with_options(text, options()).map_err(yaml_error)?;
    Ok(docs
        .into_iter()
        .flatten()
        .map(Node::from)
        .filter(|node| !node.is_null())
        .collect())
}

fn yaml_error(err: serde_saphyr::Error) -> YamlError {
    let pos = err
        .location()
        .map(|loc| position(&loc))
        .filter(|p| p.line > 0);
    let rendered = err.to_string();
    // serde-saphyr prefixes "error: line L column C: "; the caller prints the position itself.
    let message = rendered
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_string();
    let message = match message.split_once(": ") {
        Some((head, rest)) if head.starts_with("line ") => rest.to_string(),
        _ => message,
    };
    // The position is printed by the caller; drop the parser's own copy of it.
    let message = match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    let message = if message.starts_with("budget breached") || message.contains("recursion limit") {
        budget_message(&message)
    } else {
        message
    };
    YamlError { pos, message }
}

/// A limit breach said in words: which limit, and that it protects against YAML bombs.
fn budget_message(raw: &str) -> String {
    let what = if raw.contains("Depth") || raw.contains("recursion") {
        format!("it nests deeper than {MAX_DEPTH} levels")
    } else if raw.contains("Nodes") {
        format!("it expands to more than {MAX_NODES} values (aliases included)")
    } else if raw.contains("Documents") {
        format!("it holds more than {MAX_DOCUMENTS} documents")
    } else if raw.contains("Alias") || raw.contains("Anchor") || raw.contains("Replay") {
        "it uses too many aliases or anchors".to_string()
    } else {
        "it exceeds kube6's size limits".to_string()
    };
    format!("refused: {what}; configuration files never need that, YAML bombs do")
}

/// Parses a document held in a string value (a HelmChartConfig's `valuesContent`, a ConfigMap's
/// `net-conf.json`), with positions moved to where the text stands in the outer file. A block
/// scalar's position is its first content line, so inner line 1, column 1 is that position; a
/// quoted one-line string starts one column after its quote.
pub fn parse_embedded(outer: &Node) -> Result<Vec<Node>, YamlError> {
    let Kind::Str(text) = &outer.kind else {
        return Err(YamlError {
            pos: Some(outer.pos),
            message: format!(
                "expected a string holding a document, found {}",
                outer.type_name()
            ),
        });
    };
    let (line_shift, column_shift) = if text.contains('\n') {
        (outer.pos.line - 1, outer.pos.column - 1)
    } else {
        (outer.pos.line - 1, outer.pos.column)
    };
    let shift = |p: Position| Position {
        line: p.line + line_shift,
        column: if p.line == 1 || text.contains('\n') {
            p.column + column_shift
        } else {
            p.column
        },
    };
    let docs = parse_documents(text).map_err(|e| YamlError {
        pos: e.pos.map(shift).or(Some(outer.pos)),
        message: e.message,
    })?;
    Ok(docs.into_iter().map(|d| shifted(d, &shift)).collect())
}

fn shifted(node: Node, shift: &impl Fn(Position) -> Position) -> Node {
    let kind = match node.kind {
        Kind::Seq(items) => Kind::Seq(items.into_iter().map(|n| shifted(n, shift)).collect()),
        Kind::Map(entries) => Kind::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    (
                        Key {
                            name: k.name,
                            pos: shift(k.pos),
                        },
                        shifted(v, shift),
                    )
                })
                .collect(),
        ),
        other => other,
    };
    Node {
        kind,
        pos: shift(node.pos),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_of_keys_and_values() {
        let docs = parse_documents("spec:\n  network:\n    podCIDR: fd00::/108\n").unwrap();
        let network = docs[0].get("spec").unwrap().get("network").unwrap();
        let (key, value) = &network.as_map().unwrap()[0];
        assert_eq!(key.name, "podCIDR");
        assert_eq!(key.pos, Position { line: 3, column: 5 });
        assert_eq!(
            value.pos,
            Position {
                line: 3,
                column: 14
            }
        );
        assert_eq!(value.scalar_text().as_deref(), Some("fd00::/108"));
    }

    #[test]
    fn reads_every_document_and_drops_empty_ones() {
        let docs = parse_documents("a: 1\n---\n---\nb: [x, y]\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert!(parse_documents("").unwrap().is_empty());
        assert!(parse_documents("# only a comment\n").unwrap().is_empty());
    }

    #[test]
    fn syntax_errors_have_a_position_and_one_line() {
        let err = parse_documents("a: [1, 2\nb: c\n").unwrap_err();
        assert!(err.pos.is_some());
        assert!(!err.message.contains('\n'));
        assert!(!err.message.starts_with("error"));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = parse_documents("podCIDR: a\npodCIDR: b\n").unwrap_err();
        assert_eq!(err.pos.map(|p| p.line), Some(2), "{err:?}");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse_documents(&bomb).is_err());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = "[".repeat(500) + &"]".repeat(500);
        assert!(parse_documents(&deep).is_err());
    }

    #[test]
    fn embedded_documents_keep_outer_positions() {
        let docs =
            parse_documents("spec:\n  valuesContent: |-\n    ipam:\n      mode: x\n").unwrap();
        let outer = docs[0].get("spec").unwrap().get("valuesContent").unwrap();
        let inner = parse_embedded(outer).unwrap();
        let mode = inner[0].get("ipam").unwrap().get("mode").unwrap();
        assert_eq!(
            mode.pos,
            Position {
                line: 4,
                column: 13
            }
        );
        let docs =
            parse_documents("data:\n  net-conf.json: '{\"Network\": \"10.0.0.0/8\"}'\n").unwrap();
        let outer = docs[0].get("data").unwrap().get("net-conf.json").unwrap();
        let inner = parse_embedded(outer).unwrap();
        assert_eq!(inner[0].get("Network").unwrap().pos.line, 2);
        assert!(
            parse_embedded(&Node {
                kind: Kind::Int(1),
                pos: outer.pos
            })
            .is_err()
        );
    }

    #[test]
    fn oversized_input_is_refused() {
        let big = "a: b\n".repeat(MAX_INPUT_BYTES / 4);
        let err = parse_documents(&big).unwrap_err();
        assert!(err.message.contains("at most"));
    }
}
