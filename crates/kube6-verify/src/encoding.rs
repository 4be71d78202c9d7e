//! What a dump file is before it is parsed: UTF-8 JSON or YAML (a UTF-8 byte-order mark is
//! skipped), or text in an encoding kube6 does not read. Windows PowerShell 5.1 writes UTF-16
//! (little-endian, with a byte-order mark) when a command's output is redirected with `>`;
//! such a file is recognised and refused with a way to write a usable one.

/// How the document is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// The first character is `{` or `[`: one or more JSON documents.
    Json,
    /// Anything else: YAML (`kubectl get -o yaml`), one or more documents.
    Yaml,
}

/// An encoding kube6 refuses, with what it looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Foreign {
    Utf16 { little_endian: bool, bom: bool },
    Utf32 { little_endian: bool },
}

impl Foreign {
    /// The file's encoding, in words.
    pub fn describe(self) -> String {
        let endian = |little: bool| {
            if little {
                "little-endian"
            } else {
                "big-endian"
            }
        };
        match self {
            Foreign::Utf16 { little_endian, bom } => format!(
                "UTF-16 ({}, {})",
                endian(little_endian),
                if bom {
                    "with a byte-order mark"
                } else {
                    "without a byte-order mark"
                }
            ),
            Foreign::Utf32 { little_endian } => {
                format!("UTF-32 ({}, with a byte-order mark)", endian(little_endian))
            }
        }
    }

    /// Why the file is like this and how to write a usable one.
    pub fn advice(self) -> &'static str {
        match self {
            Foreign::Utf16 { .. } => {
                "Windows PowerShell writes UTF-16 when output is redirected with `>`; kube6 reads \
                 UTF-8: in PowerShell write the dump with `kubectl get nodes,pods,services,\
                 endpointslices -A -o json | Out-File -Encoding utf8 cluster.json`, or from cmd or \
                 bash with `kubectl get nodes,pods,services,endpointslices -A -o json > cluster.json`"
            }
            Foreign::Utf32 { .. } => {
                "kube6 reads UTF-8: write the dump with `kubectl get nodes,pods,services,\
                 endpointslices -A -o json > cluster.json` (in PowerShell: `| Out-File -Encoding \
                 utf8 cluster.json`)"
            }
        }
    }
}

/// What the start of the input says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// UTF-8 text; `skip` bytes of byte-order mark come first.
    Text {
        skip: usize,
        syntax: Syntax,
    },
    /// Nothing but white space (or nothing at all).
    Empty,
    Foreign(Foreign),
}

const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// Looks at the first bytes of a dump (a few dozen are enough; more are fine).
pub fn sniff(bytes: &[u8]) -> Sniffed {
    // UTF-32 before UTF-16: the little-endian UTF-32 mark starts with the UTF-16 one.
    if bytes.starts_with(&[0xFF, 0xFE, 0x00, 0x00]) {
        return Sniffed::Foreign(Foreign::Utf32 {
            little_endian: true,
        });
    }
    if bytes.starts_with(&[0x00, 0x00, 0xFE, 0xFF]) {
        return Sniffed::Foreign(Foreign::Utf32 {
            little_endian: false,
        });
    }
    if bytes.starts_with(&[0xFF, 0xFE]) {
        return Sniffed::Foreign(Foreign::Utf16 {
            little_endian: true,
            bom: true,
        });
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        return Sniffed::Foreign(Foreign::Utf16 {
            little_endian: false,
            bom: true,
        });
    }
    // UTF-16 without a mark: ASCII text (which a dump starts with) has a zero byte beside every
    // character. No UTF-8 text has zero bytes.
    if let [a, b, c, d, ..] = bytes {
        if *a != 0 && *b == 0 && *c != 0 && *d == 0 {
            return Sniffed::Foreign(Foreign::Utf16 {
                little_endian: true,
                bom: false,
            });
        }
        if *a == 0 && *b != 0 && *c == 0 && *d != 0 {
            return Sniffed::Foreign(Foreign::Utf16 {
                little_endian: false,
                bom: false,
            });
        }
    }
    let skip = if bytes.starts_with(UTF8_BOM) {
        UTF8_BOM.len()
    } else {
        0
    };
    match bytes[skip..]
        .iter()
        .find(|b| !matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
    {
        None => Sniffed::Empty,
        Some(b'{' | b'[') => Sniffed::Text {
            skip,
            syntax: Syntax::Json,
        },
        Some(_) => Sniffed::Text {
            skip,
            syntax: Syntax::Yaml,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, little: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if bom {
            out.extend(if little { [0xFF, 0xFE] } else { [0xFE, 0xFF] });
        }
        for unit in text.encode_utf16() {
            out.extend(if little {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            });
        }
        out
    }

    #[test]
    fn tells_json_from_yaml_and_skips_a_utf8_mark() {
        assert_eq!(
            sniff(b"  \n{\"kind\": \"List\"}"),
            Sniffed::Text {
                skip: 0,
                syntax: Syntax::Json
            }
        );
        assert_eq!(
            sniff(b"\xEF\xBB\xBF{\"kind\": \"List\"}"),
            Sniffed::Text {
                skip: 3,
                syntax: Syntax::Json
            }
        );
        assert_eq!(
            sniff(b"apiVersion: v1\nkind: List\n"),
            Sniffed::Text {
                skip: 0,
                syntax: Syntax::Yaml
            }
        );
        assert_eq!(
            sniff(b"---\napiVersion: v1\n"),
            Sniffed::Text {
                skip: 0,
                syntax: Syntax::Yaml
            }
        );
        assert_eq!(sniff(b""), Sniffed::Empty);
        assert_eq!(sniff(b"\xEF\xBB\xBF \r\n"), Sniffed::Empty);
    }

    #[test]
    fn recognises_utf16_and_utf32_with_and_without_a_mark() {
        let text = "{\n  \"apiVersion\": \"v1\"";
        for (little, bom) in [(true, true), (false, true), (true, false), (false, false)] {
            assert_eq!(
                sniff(&utf16(text, little, bom)),
                Sniffed::Foreign(Foreign::Utf16 {
                    little_endian: little,
                    bom
                }),
                "little {little}, bom {bom}"
            );
        }
        assert_eq!(
            sniff(&[0xFF, 0xFE, 0, 0, b'{', 0, 0, 0]),
            Sniffed::Foreign(Foreign::Utf32 {
                little_endian: true
            })
        );
        let described = Foreign::Utf16 {
            little_endian: true,
            bom: true,
        }
        .describe();
        assert_eq!(described, "UTF-16 (little-endian, with a byte-order mark)");
    }
}
