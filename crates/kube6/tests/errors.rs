//! Every error's cause is printed once: the message says what failed, its source says why, and
//! `kube6/src/exit.rs` prints the chain on one line. These tests compare whole lines of stderr
//! for representative failures, and check the rule itself over every crate's error types.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn kube6(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kube6"))
        .args(args)
        .env("NO_COLOR", "1")
        // A live cluster must never be reached from these tests.
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .unwrap()
}

/// stderr, which must be exactly `line` (and a newline), with the exit status `code`.
fn assert_line(out: &Output, code: i32, line: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err,
        format!("{line}\n"),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(out.status.code(), Some(code), "{err}");
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_missing_input_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml");
    let line = format!(
        "kube6: cannot read {}: No such file or directory (os error 2)",
        s(&missing)
    );
    for command in ["validate", "plan", "render"] {
        let mut args = vec![command, s(&missing)];
        if command == "render" {
            args.extend(["--target", "k0s", "--dry-run"]);
        }
        assert_line(&kube6(&args), 2, &line);
    }
}

#[test]
fn a_file_that_is_not_yaml_names_file_line_and_column_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k0s.yaml");
    std::fs::write(
        &path,
        "apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nspec:\n  network:\n    podCIDR: [fd00::/108]\n",
    )
    .unwrap();
    assert_line(
        &kube6(&["validate", s(&path)]),
        2,
        &format!(
            "kube6: {}:5:14: spec.network.podCIDR: expected a string, found a list",
            s(&path)
        ),
    );
}

#[test]
fn unreadable_kubeconfigs() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    // kube6 reads the kubeconfig itself (bounded, regular files only) and hands it to kube-rs.
    assert_line(
        &kube6(&["verify", "--kubeconfig", s(&missing)]),
        2,
        &format!(
            "kube6: cannot read {}: No such file or directory (os error 2)",
            s(&missing)
        ),
    );

    let broken = dir.path().join("broken");
    std::fs::write(&broken, "apiVersion: v1\nkind: Config\nclusters: [\n").unwrap();
    assert_line(
        &kube6(&["verify", "--kubeconfig", s(&broken)]),
        2,
        &format!(
            "kube6: cannot read the kubeconfig {}: failed to parse kubeconfig YAML: \
             error: line 3 column 11: unclosed bracket '['",
            s(&broken)
        ),
    );

    let empty = dir.path().join("empty");
    std::fs::write(
        &empty,
        "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\ncurrent-context: prod\n",
    )
    .unwrap();
    assert_line(
        &kube6(&["verify", "--kubeconfig", s(&empty)]),
        2,
        &format!(
            "kube6: cannot use the kubeconfig {}: failed to load current context: prod",
            s(&empty)
        ),
    );
    assert_line(
        &kube6(&["verify", "--kubeconfig", s(&empty), "--context", "dev"]),
        2,
        &format!(
            "kube6: cannot use the context \"dev\" of the kubeconfig {}: \
             failed to load current context: dev",
            s(&empty)
        ),
    );
}

#[test]
fn ndp_proxy_configuration_and_metrics_failures() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("ndp.yaml");
    assert_line(
        &kube6(&["ndp-proxy", "--config", s(&missing), "--check"]),
        2,
        &format!(
            "kube6: cannot read {}: No such file or directory (os error 2)",
            s(&missing)
        ),
    );
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "uplink: [\n").unwrap();
    assert_line(
        &kube6(&["ndp-proxy", "--config", s(&broken), "--check"]),
        2,
        &format!("kube6: {}:1:9: expected string scalar", s(&broken)),
    );
    // The metrics port is taken: the daemon stops before it touches any interface.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = kube6(&[
        "ndp-proxy",
        "--uplink",
        "lo",
        "--prefix",
        "2001:db8:1::/64",
        "--metrics",
        &addr,
    ]);
    assert_line(
        &out,
        1,
        &format!("kube6: cannot serve metrics on {addr}: Address already in use (os error 98)"),
    );
}

/// The workspace rule, checked on the source: an error message (`#[error("...")]`) never
/// interpolates the field that is also its source (`#[source]`, `#[from]` or a field named
/// `source`), so the chain printer is the only place a cause is printed.
#[test]
fn no_error_message_interpolates_its_source() {
    let mut offenders = Vec::new();
    let mut files = Vec::new();
    for krate in std::fs::read_dir(root().join("crates")).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            collect_rust_files(&src, &mut files);
        }
    }
    assert!(files.len() > 20, "the crates' sources were not found");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests may show what the rule forbids.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (message, item) in error_attributes(text) {
            for source in source_fields(item) {
                if message.contains(&format!("{{{source}}}"))
                    || message.contains(&format!("{{{source}:"))
                {
                    offenders.push(format!("{}: {message:?}", file.display()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "messages that print their source (the chain printer does): {offenders:#?}"
    );
}

fn collect_rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            collect_rust_files(&path, out);
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// Each `#[error("...")]` message with the variant or struct it annotates (up to the next
/// `#[error` or the end of the enum).
fn error_attributes(text: &str) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("#[error(") {
        let after = &rest[start + "#[error(".len()..];
        let Some(end) = after.find(")]") else { break };
        let attribute = &after[..end];
        let message = match (attribute.find('"'), attribute.rfind('"')) {
            (Some(a), Some(b)) if b > a => attribute[a + 1..b].to_string(),
            _ => String::new(),
        };
        let body = &after[end + 2..];
        let item_end = [body.find("#[error("), body.find("\n}")]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(body.len());
        out.push((message, &body[..item_end]));
        rest = body;
    }
    out
}

/// The names a message could use for the source of `item`: a named field's name, or a tuple
/// field's index.
fn source_fields(item: &str) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(open) = item.find('(')
        && item.find('{').is_none_or(|brace| open < brace)
    {
        // Tuple variant: fields separated by top-level commas.
        let inner = &item[open + 1..item.rfind(')').unwrap_or(item.len())];
        for (index, field) in split_top_level(inner).iter().enumerate() {
            if field.contains("#[source]") || field.contains("#[from]") {
                names.push(index.to_string());
            }
        }
    } else if let Some(open) = item.find('{') {
        let inner = &item[open + 1..item.rfind('}').unwrap_or(item.len())];
        for field in split_top_level(inner) {
            let field = field.trim();
            let declaration = field.lines().last().unwrap_or_default().trim();
            let declaration = declaration.trim_start_matches("pub ");
            let Some((name, _)) = declaration.split_once(':') else {
                continue;
            };
            if name == "source" || field.contains("#[source]") || field.contains("#[from]") {
                names.push(name.trim().to_string());
            }
        }
    }
    names
}

fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' | '<' | '[' | '{' => depth += 1,
            ')' | '>' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[test]
fn the_rule_checker_finds_offenders() {
    let text = r#"
pub enum E {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("netlink: {0}")]
    Netlink(#[source] io::Error),
    #[error("metrics endpoint {0}")]
    Metrics(std::net::SocketAddr, #[source] io::Error),
    #[error("{file}: {reason}")]
    Dump {
        file: PathBuf,
        #[source]
        reason: DumpError,
    },
}
"#;
    let found: Vec<(String, Vec<String>)> = error_attributes(text)
        .into_iter()
        .map(|(m, item)| (m, source_fields(item)))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "cannot read {path}: {source}".to_string(),
                vec!["source".to_string()]
            ),
            ("netlink: {0}".to_string(), vec!["0".to_string()]),
            ("metrics endpoint {0}".to_string(), vec!["1".to_string()]),
            ("{file}: {reason}".to_string(), vec!["reason".to_string()]),
        ]
    );
}

/// `ndp-proxy --log-format json` writes JSON records only, its failures included.
#[test]
fn ndp_proxy_json_log_has_json_failures() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let common = ["ndp-proxy", "--log-format", "json", "--uplink", "lo"];
    let mut args = common.to_vec();
    args.extend(["--prefix", "2001:db8:1::/64", "--metrics", &addr]);
    let out = kube6(&args);
    assert_eq!(out.status.code(), Some(1));
    let records = json_lines(&out.stderr);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["level"], "ERROR");
    assert_eq!(
        records[0]["fields"]["error"],
        format!("cannot serve metrics on {addr}: Address already in use (os error 98)")
    );

    // An invalid configuration: one record per problem, exit 1.
    let mut args = common.to_vec();
    args.extend(["--prefix", "2001:db8:1::1/64", "--prefix", "fe80::/64"]);
    let out = kube6(&args);
    assert_eq!(out.status.code(), Some(1));
    let records = json_lines(&out.stderr);
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(
        records
            .iter()
            .all(|r| r["level"] == "ERROR" && r["fields"]["message"] == "invalid configuration")
    );

    // A usage error (no prefixes source at all) is a record too, exit 2.
    let out = kube6(&["ndp-proxy", "--log-format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let records = json_lines(&out.stderr);
    assert_eq!(records.len(), 1, "{records:?}");
}

fn json_lines(bytes: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}
