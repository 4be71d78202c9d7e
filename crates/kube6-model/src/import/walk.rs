//! Reading typed values out of a YAML tree, keeping positions, and warning about unknown keys.

use crate::diagnostic::Diagnostic;
use crate::model::{AddrValue, CidrValue, MaskValue};
use crate::rules::catalog;
use crate::source::{Located, Origin, Position};
use crate::yaml::{Kind, Node};

/// Input that has the wrong shape: a list where a string belongs, and the like (exit status 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ShapeError {
    pub path: String,
    pub pos: Option<Position>,
    pub message: String,
}

impl ShapeError {
    pub fn new(path: &str, pos: Option<Position>, message: impl Into<String>) -> ShapeError {
        ShapeError {
            path: path.to_string(),
            pos,
            message: message.into(),
        }
    }

    fn wrong_type(path: &str, node: &Node, expected: &str) -> ShapeError {
        ShapeError::new(
            path,
            Some(node.pos),
            format!("expected {expected}, found {}", node.type_name()),
        )
    }
}

/// Collects the warnings an importer finds on the way (unknown fields, values kube6 ignores).
#[derive(Debug, Default)]
pub struct Notes {
    pub diagnostics: Vec<Diagnostic>,
}

impl Notes {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }
}

/// `parent.child`, or `parent[index]`.
pub fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

pub fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// A mapping whose keys have been checked against the ones a format knows.
pub struct Fields<'n> {
    node: &'n Node,
    pub path: String,
}

impl<'n> Fields<'n> {
    /// Checks that `node` is a mapping and warns about keys not in `known` (with a suggestion
    /// when one is close). Keys in `ignored` are accepted silently: they belong to the format
    /// but carry nothing about the network.
    pub fn read(
        node: &'n Node,
        path: &str,
        known: &[&str],
        ignored: &[&str],
        notes: &mut Notes,
    ) -> Result<Fields<'n>, ShapeError> {
        let Some(entries) = node.as_map() else {
            return Err(ShapeError::wrong_type(path, node, "a mapping"));
        };
        for (key, _) in entries {
            if known.contains(&key.name.as_str()) || ignored.contains(&key.name.as_str()) {
                continue;
            }
            let field_path = join(path, &key.name);
            let hint = match suggest(&key.name, known.iter().chain(ignored)) {
                Some(s) => format!("did you mean `{s}`? Rename the field, or remove it"),
                None => format!("remove it; fields known here: {}", known.join(", ")),
            };
            notes.push(Diagnostic::new(
                &catalog::UNKNOWN_FIELD,
                &Origin::input(&field_path, Some(key.pos)),
                format!("unknown field `{}`", key.name),
                hint,
            ));
        }
        Ok(Fields {
            node,
            path: path.to_string(),
        })
    }

    /// A mapping read without checking its keys (free-form maps such as extraArgs).
    pub fn any(node: &'n Node, path: &str) -> Result<Fields<'n>, ShapeError> {
        if node.as_map().is_none() {
            return Err(ShapeError::wrong_type(path, node, "a mapping"));
        }
        Ok(Fields {
            node,
            path: path.to_string(),
        })
    }

    /// The value of `key`, unless absent or null.
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.node.get(key).filter(|n| !n.is_null())
    }

    pub fn path_of(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// Every key and value, in order.
    pub fn entries(&self) -> impl Iterator<Item = (&'n crate::yaml::Key, &'n Node)> {
        self.node
            .as_map()
            .unwrap_or_default()
            .iter()
            .map(|(k, v)| (k, v))
    }

    pub fn map(
        &self,
        key: &str,
        known: &[&str],
        ignored: &[&str],
        notes: &mut Notes,
    ) -> Result<Option<Fields<'n>>, ShapeError> {
        self.get(key)
            .map(|n| Fields::read(n, &self.path_of(key), known, ignored, notes))
            .transpose()
    }

    pub fn string(&self, key: &str) -> Result<Option<Located<String>>, ShapeError> {
        self.get(key)
            .map(|n| string(n, &self.path_of(key)))
            .transpose()
    }

    /// A value read as text whatever its scalar type (flag values: `"120"` or `120`).
    pub fn text(&self, key: &str) -> Result<Option<Located<String>>, ShapeError> {
        self.get(key)
            .map(|n| text(n, &self.path_of(key)))
            .transpose()
    }

    pub fn boolean(&self, key: &str) -> Result<Option<Located<bool>>, ShapeError> {
        self.get(key)
            .map(|n| boolean(n, &self.path_of(key)))
            .transpose()
    }

    pub fn cidr(&self, key: &str) -> Result<Option<Located<CidrValue>>, ShapeError> {
        Ok(self.string(key)?.map(|s| s.map(CidrValue::new)))
    }

    pub fn mask(&self, key: &str) -> Result<Option<Located<MaskValue>>, ShapeError> {
        Ok(self.text(key)?.map(|s| s.map(MaskValue::new)))
    }

    pub fn addr(&self, key: &str) -> Result<Option<Located<AddrValue>>, ShapeError> {
        Ok(self.string(key)?.map(|s| s.map(AddrValue::new)))
    }

    /// A list, or None when absent.
    pub fn list(&self, key: &str) -> Result<Option<Vec<(String, &'n Node)>>, ShapeError> {
        let Some(node) = self.get(key) else {
            return Ok(None);
        };
        let path = self.path_of(key);
        match &node.kind {
            Kind::Seq(items) => Ok(Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (index(&path, i), n))
                    .collect(),
            )),
            _ => Err(ShapeError::wrong_type(&path, node, "a list")),
        }
    }

    /// A list of strings, or a single string (several formats accept both).
    pub fn strings(&self, key: &str) -> Result<Vec<Located<String>>, ShapeError> {
        let Some(node) = self.get(key) else {
            return Ok(Vec::new());
        };
        strings(node, &self.path_of(key))
    }
}

/// A string scalar. Numbers and booleans are refused: a CIDR or name that YAML read as a number
/// was almost certainly mistyped.
pub fn string(node: &Node, path: &str) -> Result<Located<String>, ShapeError> {
    match &node.kind {
        Kind::Str(s) => Ok(Located::new(s.clone(), Origin::input(path, Some(node.pos)))),
        _ => Err(ShapeError::wrong_type(path, node, "a string")),
    }
}

/// Any scalar, as text.
pub fn text(node: &Node, path: &str) -> Result<Located<String>, ShapeError> {
    node.scalar_text()
        .map(|s| Located::new(s, Origin::input(path, Some(node.pos))))
        .ok_or_else(|| ShapeError::wrong_type(path, node, "a single value"))
}

/// A boolean, or the strings `"true"`/`"false"` (flag values are often quoted).
pub fn boolean(node: &Node, path: &str) -> Result<Located<bool>, ShapeError> {
    let value = match &node.kind {
        Kind::Bool(b) => Some(*b),
        Kind::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    };
    value
        .map(|b| Located::new(b, Origin::input(path, Some(node.pos))))
        .ok_or_else(|| ShapeError::wrong_type(path, node, "true or false"))
}

/// A list of strings, or one string.
pub fn strings(node: &Node, path: &str) -> Result<Vec<Located<String>>, ShapeError> {
    match &node.kind {
        Kind::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, n)| text(n, &index(path, i)))
            .collect(),
        Kind::Map(_) => Err(ShapeError::wrong_type(
            path,
            node,
            "a string or a list of strings",
        )),
        _ => Ok(vec![text(node, path)?]),
    }
}

/// Splits a comma-separated value into its items, each trimmed and keeping the value's origin
/// (the column moved to where the item starts when the value was written on one line without
/// quotes). An empty item stays in the list as an empty string: kubeadm (k8s.io/utils/net
/// `ParseCIDRs`), kube-controller-manager and k3s split on commas and refuse the empty entry a
/// leading, trailing or doubled comma leaves. (Only the kubelet's `--node-ip` parser skips
/// empty entries; its importer drops them itself.)
pub fn split_list(value: &Located<String>) -> Vec<Located<String>> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    for part in value.value.split(',') {
        let lead = part.len() - part.trim_start().len();
        let origin = match &value.origin {
            Origin::Input {
                path,
                pos: Some(pos),
            } => Origin::input(
                path.clone(),
                Some(Position {
                    line: pos.line,
                    column: pos.column + (offset + lead) as u32,
                }),
            ),
            other => other.clone(),
        };
        offset += part.len() + 1;
        out.push(Located::new(part.trim().to_string(), origin));
    }
    out
}

/// Splits a comma-separated CIDR list exactly as k3s (`util.SplitStringSlice`) and kubeadm
/// (`strings.Split(subnet, ",")`) do before `net.ParseCIDR`: items keep their spaces and empty
/// items stay, so that the rules report what those components refuse. A value that is empty
/// altogether gives no item (unset).
pub fn split_cidr_list(value: &Located<String>) -> Vec<Located<String>> {
    if value.value.trim().is_empty() {
        return Vec::new();
    }
    split_list_raw(value)
}

/// Splits on commas exactly as Go's `strings.Split(value, ",")`: items keep their spaces, empty
/// items stay, and an empty value is one empty item (RKE2's `cni` flag reads its values so).
pub fn split_list_raw(value: &Located<String>) -> Vec<Located<String>> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    for part in value.value.split(',') {
        let origin = match &value.origin {
            Origin::Input {
                path,
                pos: Some(pos),
            } => Origin::input(
                path.clone(),
                Some(Position {
                    line: pos.line,
                    column: pos.column + offset as u32,
                }),
            ),
            other => other.clone(),
        };
        offset += part.chars().count() + 1;
        out.push(Located::new(part.to_string(), origin));
    }
    out
}

/// The closest known name to `name`, if one is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, known: impl Iterator<Item = &'a &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    let mut best: Option<(&str, f64)> = None;
    for candidate in known {
        if candidate.to_ascii_lowercase() == lower {
            return Some(candidate);
        }
        let score = strsim::jaro_winkler(&lower, &candidate.to_ascii_lowercase());
        if score >= 0.85 && best.is_none_or(|(_, s)| score > s) {
            best = Some((candidate, score));
        }
    }
    best.map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    #[test]
    fn unknown_fields_get_a_suggestion() {
        let doc = &parse_documents("podCIRD: fd00::/108\nserviceCIDR: fd01::/108\n").unwrap()[0];
        let mut notes = Notes::default();
        Fields::read(
            doc,
            "spec.network",
            &["podCIDR", "serviceCIDR"],
            &[],
            &mut notes,
        )
        .unwrap();
        assert_eq!(notes.diagnostics.len(), 1);
        let d = &notes.diagnostics[0];
        assert_eq!(d.path, "spec.network.podCIRD");
        assert_eq!(d.line, Some(1));
        assert!(d.hint.contains("`podCIDR`"), "{}", d.hint);
    }

    #[test]
    fn far_names_get_the_list_of_known_fields() {
        assert_eq!(suggest("zzz", ["podCIDR"].iter()), None);
        assert_eq!(
            suggest("ipv6podcidr", ["IPv6podCIDR"].iter()),
            Some("IPv6podCIDR")
        );
    }

    #[test]
    fn wrong_types_name_what_was_expected() {
        let doc = &parse_documents("podCIDR: [a, b]\n").unwrap()[0];
        let fields = Fields::any(doc, "spec").unwrap();
        let err = fields.string("podCIDR").unwrap_err();
        assert_eq!(err.path, "spec.podCIDR");
        assert!(err.message.contains("expected a string, found a list"));
    }

    #[test]
    fn empty_items_stay_in_lists_that_refuse_them() {
        let v = Located::new(
            ",10.96.0.0/16,".to_string(),
            Origin::input("serviceSubnet", Some(Position { line: 1, column: 1 })),
        );
        let kept: Vec<String> = split_list(&v).into_iter().map(|i| i.value).collect();
        assert_eq!(kept, ["", "10.96.0.0/16", ""]);
        let raw = Located::new(String::new(), Origin::input("cni", None));
        let raw: Vec<String> = split_list_raw(&raw).into_iter().map(|i| i.value).collect();
        assert_eq!(raw, [""]);
    }

    #[test]
    fn cidr_lists_keep_what_the_components_refuse() {
        let v = Located::new(
            "10.42.0.0/16, fd00:42::/56,".to_string(),
            Origin::input(
                "cluster-cidr",
                Some(Position {
                    line: 3,
                    column: 15,
                }),
            ),
        );
        let parts = split_cidr_list(&v);
        let texts: Vec<&str> = parts.iter().map(|p| p.value.as_str()).collect();
        assert_eq!(texts, ["10.42.0.0/16", " fd00:42::/56", ""]);
        assert_eq!(parts[1].origin.pos().map(|p| p.column), Some(28));
        let empty = Located::new(" ".to_string(), Origin::input("x", None));
        assert!(split_cidr_list(&empty).is_empty());
    }

    #[test]
    fn comma_lists_keep_columns() {
        let v = Located::new(
            "10.42.0.0/16, fd00:42::/56".to_string(),
            Origin::input(
                "cluster-cidr",
                Some(Position {
                    line: 3,
                    column: 15,
                }),
            ),
        );
        let parts = split_list(&v);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].value, "fd00:42::/56");
        assert_eq!(
            parts[1].origin.pos(),
            Some(Position {
                line: 3,
                column: 29
            })
        );
    }
}
