//! `kube6 convert`: every example to every format it can express, read back by `kube6 plan`
//! with the same families, ranges, node masks and DNS addresses; refusals with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn kube6(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kube6"))
        .current_dir(root())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn plan_of(file: &str, extra: &[&str]) -> Value {
    let mut args = vec!["plan", file, "-o", "json"];
    args.extend_from_slice(extra);
    let out = kube6(&args);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What must survive a conversion.
fn essence(plan: &Value, dns: usize) -> String {
    let pods: Vec<String> = plan["pods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{}/{}", p["cidr"], p["nodeMaskSize"]))
        .collect();
    let services: Vec<String> = plan["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["cidr"].to_string())
        .collect();
    let dns: Vec<String> = plan["dnsIPs"]
        .as_array()
        .unwrap()
        .iter()
        .take(dns)
        .map(|d| d.to_string())
        .collect();
    format!(
        "{} {pods:?} {services:?} {dns:?} {}",
        plan["families"], plan["clusterDomain"]
    )
}

#[test]
fn examples_convert_to_every_format_and_back() {
    let gate = ["--feature-gates", "IPv6SingleStack=true"];
    let dir = tempfile::tempdir().unwrap();
    let mut converted = 0;
    for entry in std::fs::read_dir(root().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let input = path.display().to_string();
        let original = plan_of(&input, &gate);
        assert_eq!(original["valid"], true, "{input}");
        for to in ["kubeadm", "k3s", "rke2", "k0s", "kkp", "kube6"] {
            let target = dir.path().join(format!("{converted}-{to}.yaml"));
            let out = kube6(&[
                "convert",
                &input,
                "--to",
                to,
                "--out",
                &target.display().to_string(),
                "--feature-gates",
                "IPv6SingleStack=true",
            ]);
            let err = String::from_utf8_lossy(&out.stderr).to_string();
            if out.status.code() == Some(1) {
                assert!(err.contains("cannot"), "{input} -> {to}: {err}");
                assert!(!target.exists());
                continue;
            }
            assert_eq!(out.status.code(), Some(0), "{input} -> {to}: {err}");
            let back = plan_of(
                &target.display().to_string(),
                &["--format", to, gate[0], gate[1]],
            );
            assert_eq!(back["valid"], true, "{input} -> {to}: {back:#}");
            let dns = if err.contains("one DNS address") {
                1
            } else {
                8
            };
            assert_eq!(
                essence(&back, dns),
                essence(&original, dns),
                "{input} -> {to}"
            );
            converted += 1;
        }
    }
    assert!(converted >= 40, "only {converted} conversions");
}

#[test]
fn convert_writes_to_stdout_by_default() {
    let out = kube6(&["convert", "examples/k3s-ipv6-only.yaml", "--to", "kubeadm"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("kind: ClusterConfiguration"));
    assert!(text.contains("podSubnet: \"2001:c0c0:42::/56\""), "{text}");
}

#[test]
fn convert_refuses_what_the_target_cannot_express() {
    let out = kube6(&["convert", "examples/k3s-ipv6-only.yaml", "--to", "kkp"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("IPv6-only") && err.contains("ipFamily"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    // k0s before v1.36.1 sets kube-router, kube-proxy and the kubelet up IPv4 first
    // (k0sproject/k0s#7321); from v1.36.1 IPv6-first dual-stack with kube-router works.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.yaml");
    let text = std::fs::read_to_string(root().join("examples/kube6-dual-stack-ipv6-first.yaml"))
        .unwrap()
        .replace("name: calico", "name: kube-router");
    let old = regex_free_distribution(&text, "{name: k0s, version: v1.35.7+k0s.0}");
    std::fs::write(&input, &old).unwrap();
    let out = kube6(&["convert", &input.display().to_string(), "--to", "k0s"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("K6E202") && err.contains("7321"), "{err}");
    let new = regex_free_distribution(&text, "{name: k0s, version: v1.36.1+k0s.0}");
    std::fs::write(&input, &new).unwrap();
    let out = kube6(&["convert", &input.display().to_string(), "--to", "k0s"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn convert_output_file_needs_force_to_be_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("k0s.yaml");
    std::fs::write(&target, "keep\n").unwrap();
    let t = target.display().to_string();
    let out = kube6(&[
        "convert",
        "examples/k0s-dual-stack.yaml",
        "--to",
        "k0s",
        "--out",
        &t,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep\n");
    let out = kube6(&[
        "convert",
        "examples/k0s-dual-stack.yaml",
        "--to",
        "k0s",
        "--out",
        &t,
        "--force",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("wrote {t} (k0s YAML)\n")
    );
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .contains("dualStack")
    );
}

#[test]
fn convert_output_is_a_format() {
    // One document: the object itself.
    let out = kube6(&[
        "convert",
        "examples/k0s-dual-stack.yaml",
        "--to",
        "k0s",
        "-o",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["kind"], "ClusterConfig");
    assert!(
        doc["spec"]["network"]["dualStack"]["enabled"]
            .as_bool()
            .unwrap()
    );
    // Several documents (kubeadm): one List, as kubectl prints several objects.
    let out = kube6(&[
        "convert",
        "examples/kubeadm-dual-stack-join.yaml",
        "--to",
        "kubeadm",
        "-o",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["kind"], "List");
    assert!(
        doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "ClusterConfiguration")
    );
    // The old spelling, `-o FILE`, says where the file name goes now.
    let out = kube6(&[
        "convert",
        "examples/k0s-dual-stack.yaml",
        "--to",
        "k0s",
        "-o",
        "k0s.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--out FILE"), "{err}");
    assert!(!std::path::Path::new("k0s.yaml").exists());
}

/// The document with its `distribution:` line replaced by `value`.
fn regex_free_distribution(text: &str, value: &str) -> String {
    text.lines()
        .map(|l| {
            if l.trim_start().starts_with("distribution:") {
                let indent = &l[..l.len() - l.trim_start().len()];
                format!("{indent}distribution: {value}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
