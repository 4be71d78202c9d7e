//! A YAML document as a tree of nodes that remember their line and column.
//!
//! Parsing goes through `serde-saphyr` with limits against YAML bombs and oversized input; the
//! importers then walk this tree, so every value they read keeps its position and every unknown
//! key can be reported where it stands.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::source::Position;

/// The largest input accepted, in bytes. A cluster network configuration is a few kilobytes; a
/// kube6 file that lists 5,000 nodes (Kubernetes' own scalability limit) with two addresses
/// each is about 600 KB. The limit leaves room for ten times that and more.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;
/// The deepest nesting accepted; Kubernetes configuration nests fewer than 10 levels. Kept
/// low: each level costs the deserializer stack, and a test thread has 2 MiB.
pub const MAX_DEPTH: usize = 32;
/// The most values (scalars, lists, mappings) accepted across all documents. A 5,000-node
/// kube6 file has about 40,000; 70,000 nodes need about 600,000.
pub const MAX_VALUES: usize = 2_000_000;
/// The most values aliases may expand to: configuration files use a few anchors, if any;
/// YAML bombs expand a few bytes into billions of values.
pub const MAX_ALIAS_VALUES: usize = 100_000;
/// The most documents accepted in one file.
pub const MAX_DOCUMENTS: usize = 256;

/// A YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub pos: Position,
    /// A number as written (`0x1F`, `1e3`, `99999999999999999999999`), to quote it exactly.
    pub raw: Option<Box<str>>,
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
            Kind::Int(_) | Kind::Float(_) if self.raw.is_some() => {
                self.raw.as_deref().map(str::to_string)
            }
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
        Node {
            kind,
            pos,
            raw: None,
        }
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
    budget.max_nodes = MAX_VALUES;
    // Every value is one event, every list and mapping one more for its end, every document two.
    budget.max_events = MAX_VALUES * 2 + MAX_DOCUMENTS * 2;
    budget.max_documents = MAX_DOCUMENTS;
    budget.max_reader_input_bytes = Some(MAX_INPUT_BYTES);
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = MAX_ALIAS_VALUES;
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
                "the file is {} bytes; kube6 reads configuration files of at most {} bytes",
                text.len(),
                MAX_INPUT_BYTES
            ),
        });
    }
    let docs: Vec<Option<Spanned<RawKind>>> =
        serde_saphyr::from_multiple_with_options(text, options()).map_err(yaml_error)?;
    let lines = LineIndex::new(text);
    let mut nodes: Vec<Node> = docs
        .into_iter()
        .flatten()
        .map(Node::from)
        .filter(|node| !node.is_null())
        .collect();
    for node in &mut nodes {
        keep_number_text(node, text, &lines);
    }
    Ok(nodes)
}

/// Where each line starts, to find a value's text from its position.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr_newlines(text));
        LineIndex(starts)
    }

    /// The text from `pos` to the end of its line.
    fn rest_of_line<'t>(&self, text: &'t str, pos: Position) -> Option<&'t str> {
        let start = *self.0.get(pos.line.checked_sub(1)? as usize)?;
        let line = text[start..].split('\n').next()?;
        let offset = line
            .char_indices()
            .nth(pos.column.checked_sub(1)? as usize)
            .map(|(i, _)| i)?;
        Some(&line[offset..])
    }
}

fn memchr_newlines(text: &str) -> impl Iterator<Item = usize> + '_ {
    text.bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'\n')
        .map(|(i, _)| i + 1)
}

/// Records how every number was written, so that messages quote it as the user wrote it
/// (a float cannot hold `99999999999999999999999` and would print another number).
fn keep_number_text(node: &mut Node, text: &str, lines: &LineIndex) {
    match &mut node.kind {
        Kind::Int(_) | Kind::Float(_) => {
            node.raw = lines.rest_of_line(text, node.pos).and_then(|rest| {
                let token: &str = rest
                    .split(|c: char| c.is_whitespace() || matches!(c, ',' | ']' | '}' | '#'))
                    .next()
                    .unwrap_or_default();
                // Only a plain number (not a tag or an anchor that happens to be there).
                token
                    .starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'))
                    .then(|| token.into())
            });
        }
        Kind::Seq(items) => {
            for item in items {
                keep_number_text(item, text, lines);
            }
        }
        Kind::Map(entries) => {
            for (_, value) in entries {
                keep_number_text(value, text, lines);
            }
        }
        Kind::Null | Kind::Bool(_) | Kind::Str(_) => {}
    }
}

/// The error as one line of kube6's own words, without the parser's position prefix (the
/// caller prints `file:line:column`) and without advice meant for programmers.
fn yaml_error(err: serde_saphyr::Error) -> YamlError {
    let pos = err
        .location()
        .map(|loc| position(&loc))
        .filter(|p| p.line > 0);
    let message = match original(&err) {
        serde_saphyr::Error::Budget { breach, .. } => budget_message(breach),
        serde_saphyr::Error::AliasReplayLimitExceeded { .. }
        | serde_saphyr::Error::AliasExpansionLimitExceeded { .. }
        | serde_saphyr::Error::AliasReplayStackDepthExceeded { .. }
        | serde_saphyr::Error::AliasReplayCounterOverflow { .. } => format!(
            "refused: its aliases expand to more than {MAX_ALIAS_VALUES} values; configuration \
             files need a few aliases at most, YAML bombs need this many"
        ),
        serde_saphyr::Error::DuplicateMappingKey { key: Some(key), .. } => format!(
            "duplicate key `{key}`: a mapping holds each key once (Kubernetes refuses the file); remove one"
        ),
        serde_saphyr::Error::DuplicateMappingKey { key: None, .. } => {
            "duplicate key: a mapping holds each key once (Kubernetes refuses the file); remove one"
                .to_string()
        }
        serde_saphyr::Error::NonFiniteFloat { .. } => {
            "a number too large to represent (or .nan/.inf); no configuration value takes it"
                .to_string()
        }
        other => clean_message(&other.to_string()),
    };
    YamlError { pos, message }
}

/// The error behind snippet and alias wrappers.
fn original(err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    match err.without_snippet() {
        serde_saphyr::Error::AliasError { error, .. } => original(error),
        other => other,
    }
}

/// The parser's own message without "error: line L column C: " and " at line L column C".
fn clean_message(rendered: &str) -> String {
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
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    }
}

/// A limit breach said in words: which limit was hit, and what it protects against.
fn budget_message(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    match breach {
        B::Depth { .. } => format!(
            "refused: it nests deeper than {MAX_DEPTH} levels, kube6's limit (Kubernetes \
             configuration nests fewer than 10)"
        ),
        B::Nodes { .. } | B::Events { .. } => format!(
            "refused: it holds more than {} values, kube6's limit for a configuration file (a \
             5,000-node cluster needs about 40,000)",
            group_thousands(MAX_VALUES)
        ),
        B::Documents { .. } => format!(
            "refused: it holds more than {MAX_DOCUMENTS} documents, kube6's limit for one file"
        ),
        B::InputBytes { .. } => format!(
            "refused: it is larger than {} bytes, kube6's limit for a configuration file",
            group_thousands(MAX_INPUT_BYTES)
        ),
        B::Aliases { .. }
        | B::Anchors { .. }
        | B::AliasAnchorRatio { .. }
        | B::RecordedAnchorEvents { .. }
        | B::RecordedAnchorBytes { .. }
        | B::MergeKeys { .. } => format!(
            "refused: it uses more aliases or anchors than kube6 reads (aliases may expand to \
             {MAX_ALIAS_VALUES} values); configuration files need a few at most, YAML bombs need \
             this many"
        ),
        B::ScalarBytes { .. } => {
            "refused: its values hold more text than kube6 reads in a configuration file"
                .to_string()
        }
        other => format!("refused: it exceeds kube6's limits for a configuration file ({other:?})"),
    }
}

/// `1000000` as `1,000,000`.
fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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
        raw: node.raw,
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
    fn numbers_keep_their_text() {
        let docs =
            parse_documents("a: 99999999999999999999999\nb: [0x1F, 1e3, -5]\nc: '7'\n").unwrap();
        let doc = &docs[0];
        assert_eq!(
            doc.get("a").unwrap().scalar_text().as_deref(),
            Some("99999999999999999999999")
        );
        let Kind::Seq(items) = &doc.get("b").unwrap().kind else {
            panic!("b is a list")
        };
        let texts: Vec<String> = items.iter().filter_map(Node::scalar_text).collect();
        assert_eq!(texts, ["0x1F", "1e3", "-5"]);
        assert_eq!(doc.get("c").unwrap().scalar_text().as_deref(), Some("7"));
    }

    #[test]
    fn messages_are_kube6_wording() {
        let err = parse_documents("a: 1\na: 2\n").unwrap_err();
        assert!(
            !err.message.contains("DuplicateKeyPolicy"),
            "{}",
            err.message
        );
        assert!(err.message.contains("duplicate key `a`"), "{}", err.message);
        let deep = "[".repeat(40) + &"]".repeat(40);
        let err = parse_documents(&deep).unwrap_err();
        assert!(
            err.message.contains("nests deeper than 32"),
            "{}",
            err.message
        );
    }

    /// Values in a tree, as the parser's budget counts them.
    fn count(node: &Node) -> usize {
        1 + match &node.kind {
            Kind::Seq(items) => items.iter().map(count).sum(),
            Kind::Map(entries) => entries.iter().map(|(_, v)| 1 + count(v)).sum(),
            _ => 0,
        }
    }

    #[test]
    fn a_large_real_cluster_fits() {
        // A tenth of a 70,000-node file (4 MB in all; Kubernetes itself stops at 5,000 nodes):
        // the whole file fits the limits ten times over this part, and this part parses.
        let mut text =
            String::from("apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  nodes:\n");
        for i in 0..7_000 {
            text.push_str(&format!(
                "    - name: node-{i:05}\n      addresses: [2001:db8::{i:x}]\n"
            ));
        }
        let docs = parse_documents(&text).unwrap();
        assert!(text.len() * 10 < MAX_INPUT_BYTES, "{}", text.len());
        assert!(count(&docs[0]) * 10 < MAX_VALUES, "{}", count(&docs[0]));
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
                pos: outer.pos,
                raw: None,
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
