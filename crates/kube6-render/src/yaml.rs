//! A small YAML writer with a fixed key order and conservative quoting: every string that YAML
//! could read as something else (a number, a boolean, null, an IPv6 address with colons, a flag
//! value like "120") is double-quoted, so the output reads back exactly as written.

use std::fmt::Write;

/// A YAML value, mappings in insertion order.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Str(String),
    Int(i64),
    Bool(bool),
    Seq(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    pub fn str(s: impl Into<String>) -> Yaml {
        Yaml::Str(s.into())
    }

    /// A mapping from `(key, value)` pairs.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Yaml)>) -> Yaml {
        Yaml::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A sequence of strings.
    pub fn strs<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Yaml {
        Yaml::Seq(items.into_iter().map(|s| Yaml::Str(s.into())).collect())
    }

    /// Appends `key: value` to a mapping (does nothing on other values).
    pub fn push(&mut self, key: impl Into<String>, value: Yaml) {
        if let Yaml::Map(entries) = self {
            entries.push((key.into(), value));
        }
    }

    fn is_empty_collection(&self) -> bool {
        matches!(self, Yaml::Seq(v) if v.is_empty()) || matches!(self, Yaml::Map(v) if v.is_empty())
    }
}

/// One document, ending with a newline.
pub fn to_string(value: &Yaml) -> String {
    let mut out = String::new();
    match value {
        Yaml::Map(_) | Yaml::Seq(_) if !value.is_empty_collection() => {
            write_block(&mut out, value, 0)
        }
        other => {
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
    out
}

/// Several documents separated by `---`.
pub fn documents(values: &[Yaml]) -> String {
    values
        .iter()
        .map(to_string)
        .collect::<Vec<_>>()
        .join("---\n")
}

fn write_block(out: &mut String, value: &Yaml, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Yaml::Map(entries) => {
            for (key, v) in entries {
                let key = scalar(key);
                match v {
                    Yaml::Map(_) if !v.is_empty_collection() => {
                        let _ = writeln!(out, "{pad}{key}:");
                        write_block(out, v, indent + 2);
                    }
                    Yaml::Seq(_) if !v.is_empty_collection() => {
                        let _ = writeln!(out, "{pad}{key}:");
                        write_block(out, v, indent + 2);
                    }
                    Yaml::Str(text) if block_literal(text) => {
                        // A document in a string (a CNI configuration, net-conf.json) stays
                        // readable as a literal block; `|-` drops the final newline, `|` keeps one.
                        let chomp = if text.ends_with('\n') { "" } else { "-" };
                        let _ = writeln!(out, "{pad}{key}: |{chomp}");
                        for line in text.trim_end_matches('\n').lines() {
                            if line.is_empty() {
                                out.push('\n');
                            } else {
                                let _ = writeln!(out, "{pad}  {line}");
                            }
                        }
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}{key}: {}", inline(v));
                    }
                }
            }
        }
        Yaml::Seq(items) => {
            for item in items {
                match item {
                    Yaml::Map(_) if !item.is_empty_collection() => {
                        // The first entry goes on the dash line, the rest are indented under it.
                        let mut nested = String::new();
                        write_block(&mut nested, item, indent + 2);
                        let trimmed = nested.get(indent + 2..).unwrap_or_default();
                        let _ = write!(out, "{pad}- {trimmed}");
                    }
                    Yaml::Seq(_) if !item.is_empty_collection() => {
                        let _ = writeln!(out, "{pad}-");
                        write_block(out, item, indent + 2);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}- {}", inline(item));
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", inline(other));
        }
    }
}

fn inline(value: &Yaml) -> String {
    match value {
        Yaml::Str(s) => scalar(s),
        Yaml::Int(n) => n.to_string(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Seq(items) => format!(
            "[{}]",
            items.iter().map(inline).collect::<Vec<_>>().join(", ")
        ),
        Yaml::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", scalar(k), inline(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Whether a string can be written as a literal block: several lines, no leading spaces on the
/// first (the block's indentation comes from it), no trailing spaces or tabs that a block would
/// lose, at most one final newline.
fn block_literal(text: &str) -> bool {
    text.trim_end_matches('\n').contains('\n')
        && !text.starts_with([' ', '\t', '\n'])
        && !text.ends_with("\n\n")
        && text
            .lines()
            .all(|l| !l.ends_with([' ', '\t']) && !l.contains(['\r', '\t']))
        && text.chars().all(|c| !c.is_control() || c == '\n')
}

/// Words YAML 1.1 or 1.2 would read as booleans or null.
const RESERVED: &[&str] = &[
    "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
];

/// A string as a plain scalar when that is unambiguous, else double-quoted.
pub fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '_' | '-' | '+'))
        && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '_')
        && !RESERVED.contains(&s.to_ascii_lowercase().as_str());
    if plain { s.to_string() } else { quote(s) }
}

/// A double-quoted YAML (and JSON) string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod block_tests {
    use super::*;

    #[test]
    fn multi_line_strings_become_literal_blocks_that_read_back() {
        let text = "{\n  \"a\": 1,\n\n  \"b\": [2]\n}";
        let doc = Yaml::map([(
            "data",
            Yaml::map([("conf", Yaml::str(text)), ("nl", Yaml::str("x\ny\n"))]),
        )]);
        let out = to_string(&doc);
        assert!(out.contains("conf: |-\n    {\n"), "{out}");
        let back = kube6_model::yaml::parse_documents(&out).unwrap();
        let data = back[0].get("data").unwrap();
        assert_eq!(
            data.get("conf").unwrap().scalar_text().as_deref(),
            Some(text)
        );
        assert_eq!(
            data.get("nl").unwrap().scalar_text().as_deref(),
            Some("x\ny\n")
        );
        // Leading spaces would change the block's indentation: such strings stay quoted.
        assert!(!block_literal("  x\ny"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_yaml_would_misread() {
        assert_eq!(scalar("fd00::/108"), "\"fd00::/108\"");
        assert_eq!(scalar("::"), "\"::\"");
        assert_eq!(scalar("120"), "\"120\"");
        assert_eq!(scalar("true"), "\"true\"");
        assert_eq!(scalar("No"), "\"No\"");
        assert_eq!(scalar("10.96.0.0/12"), "\"10.96.0.0/12\"");
        assert_eq!(scalar("cluster.local"), "cluster.local");
        assert_eq!(scalar("node-ip"), "node-ip");
    }

    #[test]
    fn strings_read_back_as_written() {
        let tricky = [
            "::",
            "::1",
            "fd00::/108",
            "[::]:10256",
            "10.96.0.0/12",
            "true",
            "No",
            "null",
            "~",
            "120",
            "0x1f",
            "1e3",
            "-",
            "- x",
            "a: b",
            "#x",
            "x #y",
            "@x",
            "`x",
            "'q'",
            "\"d\"",
            "back\\slash",
            "tab\t",
            "line\nbreak",
            "",
            " lead",
            "trail ",
            "*alias",
            "&anchor",
            "!tag",
            "%x",
            "{a}",
            "[a]",
            "a,b",
            "https://[2001:db8::1]:6443",
            "all()",
            "é",
        ];
        for s in tricky {
            let doc = to_string(&Yaml::map([("k", Yaml::str(s))]));
            let back: std::collections::BTreeMap<String, String> =
                serde_saphyr::from_str(&doc).unwrap_or_else(|e| panic!("{s:?}: {e}\n{doc}"));
            assert_eq!(back["k"], s, "{doc}");
        }
    }

    #[test]
    fn nested_blocks() {
        let doc = Yaml::map([
            ("a", Yaml::str("x")),
            (
                "b",
                Yaml::Seq(vec![
                    Yaml::map([("name", Yaml::str("nm")), ("value", Yaml::str("1"))]),
                    Yaml::str("s"),
                ]),
            ),
            (
                "c",
                Yaml::map([("d", Yaml::Int(3)), ("e", Yaml::Seq(vec![]))]),
            ),
        ]);
        assert_eq!(
            to_string(&doc),
            "a: x\nb:\n  - name: nm\n    value: \"1\"\n  - s\nc:\n  d: 3\n  e: []\n"
        );
    }
}
