//! `kube6 diff`: golden runbooks for the changes users make most, exit statuses and formats.
//! The inputs are in tests/diff/ (each names what it is); the goldens in tests/golden/diff/.
//! UPDATE_GOLDEN=1 rewrites the goldens after a reviewed change.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diff")
}

fn kube6(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kube6"))
        .current_dir(dir())
        .arg("diff")
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn compare(name: &str, actual: &str, failures: &mut Vec<String>) {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/diff")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, actual).unwrap();
        return;
    }
    match std::fs::read_to_string(&golden) {
        Ok(expected) if expected == actual => {}
        Ok(expected) => failures.push(format!(
            "{} differs (UPDATE_GOLDEN=1 rewrites it after review):\n--- expected\n{expected}\n--- actual\n{actual}",
            golden.display()
        )),
        Err(_) => failures.push(format!(
            "{} is missing (UPDATE_GOLDEN=1 writes it)",
            golden.display()
        )),
    }
}

/// (golden, arguments, exit status): the runbooks issue 16 asks for.
const RUNBOOKS: &[(&str, &[&str], i32)] = &[
    // IPv4 to dual-stack on kubeadm with flannel: allowed with steps (node rotation).
    (
        "kubeadm-ipv4-to-dual-stack.txt",
        &[
            "kubeadm-ipv4.yaml",
            "kubeadm-dual-stack.yaml",
            "--cni",
            "flannel",
        ],
        0,
    ),
    // A service range extended on Kubernetes 1.34: a ServiceCIDR, live.
    (
        "kubeadm-service-range-extended.txt",
        &[
            "kubeadm-ipv4.yaml",
            "kubeadm-ipv4-services-extended.yaml",
            "--cni",
            "flannel",
        ],
        0,
    ),
    // The same on Kubernetes 1.32: kube-apiserver restarts with the larger range.
    (
        "kubeadm-1.32-service-range-extended.txt",
        &[
            "kubeadm-1.32-ipv4.yaml",
            "kubeadm-1.32-ipv4-services-extended.yaml",
            "--cni",
            "flannel",
        ],
        0,
    ),
    // The primary family changes: refused, with the alternative.
    (
        "kubeadm-primary-family.txt",
        &[
            "kubeadm-dual-stack.yaml",
            "kubeadm-dual-stack-ipv6-primary.yaml",
            "--cni",
            "flannel",
        ],
        1,
    ),
    // The pod range on kubeadm: moved (refused by kube-controller-manager) and extended.
    (
        "kubeadm-pod-range-moved.txt",
        &[
            "kubeadm-ipv4.yaml",
            "kubeadm-ipv4-pods-moved.yaml",
            "--cni",
            "flannel",
        ],
        1,
    ),
    (
        "kubeadm-pod-range-extended.txt",
        &[
            "kubeadm-ipv4.yaml",
            "kubeadm-ipv4-pods-extended.yaml",
            "--cni",
            "flannel",
        ],
        0,
    ),
    // k0s IPv6 single-stack to dual-stack keeping IPv6 primary (the k0s documentation's path).
    (
        "k0s-ipv6-to-dual-stack.txt",
        &[
            "k0s-ipv6.yaml",
            "k0s-dual-stack-ipv6-primary.yaml",
            "--feature-gates",
            "IPv6SingleStack=true",
        ],
        0,
    ),
    // The same with IPv4 primary: refused by kube-apiserver and k0s.
    (
        "k0s-ipv6-to-dual-stack-ipv4-primary.txt",
        &[
            "k0s-ipv6.yaml",
            "k0s-dual-stack-ipv4-primary.yaml",
            "--feature-gates",
            "IPv6SingleStack=true",
        ],
        1,
    ),
    // k3s IPv6 to dual-stack: nodes rejoin and lose their local data, unsafe.
    (
        "k3s-ipv6-to-dual-stack.txt",
        &["k3s-ipv6.yaml", "k3s-dual-stack-ipv6-primary.yaml"],
        1,
    ),
    // A running cluster (a kubectl dump) as the current side.
    (
        "dump-to-dual-stack.txt",
        &[
            "--dump",
            "cluster-dump.json",
            "kubeadm-dual-stack.yaml",
            "--cni",
            "flannel",
        ],
        0,
    ),
    (
        "dump-services-shrunk.txt",
        &[
            "--dump",
            "cluster-dump.json",
            "kubeadm-ipv4-services-shrunk.yaml",
            "--cni",
            "flannel",
        ],
        1,
    ),
];

#[test]
fn golden_runbooks() {
    let mut failures = Vec::new();
    for (golden, args, code) in RUNBOOKS {
        let out = kube6(args);
        assert_eq!(
            out.status.code(),
            Some(*code),
            "{golden}: {}\n{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{golden}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        compare(golden, &stdout(&out), &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn json_and_yaml_carry_the_same_report() {
    let args = [
        "kubeadm-ipv4.yaml",
        "kubeadm-dual-stack.yaml",
        "--cni",
        "flannel",
    ];
    let json = kube6(&[&args[..], &["-o", "json"]].concat());
    assert_eq!(json.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["allowed"], true);
    let change = &doc["changes"][0];
    assert_eq!(change["kind"], "family-added");
    assert_eq!(change["family"], "IPv6");
    assert_eq!(change["class"], "allowed-with-steps");
    let rules: Vec<&str> = change["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"K6W601"), "{rules:?}");
    assert!(
        change["verdicts"][0]["sources"][0]
            .as_str()
            .unwrap()
            .contains(':')
    );
    assert!(doc["runbook"]["steps"].as_array().unwrap().len() >= 4);
    assert_eq!(doc["totals"]["allowedWithSteps"], 1);

    let yaml = kube6(&[&args[..], &["-o", "yaml"]].concat());
    assert_eq!(yaml.status.code(), Some(0));
    let from_yaml: serde_json::Value =
        serde_saphyr::from_str(&String::from_utf8(yaml.stdout).unwrap()).unwrap();
    assert_eq!(from_yaml, doc);
}

#[test]
fn refused_and_unsafe_exit_1_in_every_format() {
    for format in ["text", "json", "yaml"] {
        let out = kube6(&[
            "kubeadm-dual-stack.yaml",
            "kubeadm-dual-stack-ipv6-primary.yaml",
            "-o",
            format,
        ]);
        assert_eq!(out.status.code(), Some(1), "{format}");
    }
    let out = kube6(&[
        "kubeadm-ipv4.yaml",
        "kubeadm-ipv4-pods-moved.yaml",
        "-o",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["allowed"], false);
    assert_eq!(doc["runbook"]["blocked"][0]["rules"][0], "K6E602");
}

/// A proposal that a component refuses at start (here kube-apiserver 1.32, an IPv6 service
/// range larger than /108) is not allowed, whatever its changes: its errors are in the report.
#[test]
fn an_invalid_proposal_exits_1_with_its_errors() {
    let out = kube6(&[
        "kubeadm-1.32-ipv4.yaml",
        "kubeadm-invalid.yaml",
        "--cni",
        "flannel",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("is not valid"), "{text}");
    assert!(text.contains("K6E010"), "{text}");
    let out = kube6(&[
        "kubeadm-1.32-ipv4.yaml",
        "kubeadm-invalid.yaml",
        "--cni",
        "flannel",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["allowed"], false);
    assert_eq!(doc["proposedErrors"][0]["id"], "K6E010");
}

#[test]
fn the_same_file_twice_is_no_change() {
    let out = kube6(&["kubeadm-ipv4.yaml", "kubeadm-ipv4.yaml"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("No network changes."),
        "{}",
        stdout(&out)
    );
}

#[test]
fn unreadable_input_and_bad_usage_exit_2() {
    let cases: &[&[&str]] = &[
        &["missing.yaml", "kubeadm-ipv4.yaml"],
        &["kubeadm-ipv4.yaml", "not-a-config.txt"],
        &["kubeadm-ipv4.yaml"],
        &[
            "--dump",
            "cluster-dump.json",
            "kubeadm-ipv4.yaml",
            "kubeadm-ipv4.yaml",
        ],
        &["--dump", "missing.json", "kubeadm-ipv4.yaml"],
        &["--dump", "kubeadm-ipv4.yaml", "kubeadm-ipv4.yaml"],
        &[
            "--dump",
            "cluster-dump.json",
            "--context",
            "x",
            "kubeadm-ipv4.yaml",
        ],
        &["-", "-"],
        &["kubeadm-ipv4.yaml", "kubeadm-ipv4.yaml", "-o", "svg"],
    ];
    for args in cases {
        let out = kube6(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stderr.is_empty(), "{args:?} says nothing");
        assert!(out.stdout.is_empty(), "{args:?} printed a report");
    }
}

/// A kubeconfig that points nowhere readable is a usage error, not a hang.
#[test]
fn a_missing_kubeconfig_exits_2() {
    let out = kube6(&["--kubeconfig", "missing-kubeconfig", "kubeadm-ipv4.yaml"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
