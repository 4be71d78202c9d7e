//! Every command that prints survives a closed stdout (`kube6 host check | head -1`): no panic,
//! the exit status it would have had, nothing on stderr but what it says anyway. The read end of
//! the pipe is closed before the command starts, so its very first write fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use kube6_testnet::{Netns, describe, require, scratch_dir};

const KUBE6: &str = env!("CARGO_BIN_EXE_kube6");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `cmd` with stdout a pipe nobody reads.
fn with_closed_stdout(cmd: &mut Command) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    cmd.stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .env("NO_COLOR", "1")
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .unwrap()
}

fn assert_quiet_exit(args: &[&str], out: &Output, code: i32) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "kube6 {args:?}: {}",
        describe(out)
    );
    assert_eq!(
        out.status.code(),
        Some(code),
        "kube6 {args:?}: {}",
        describe(out)
    );
}

#[test]
fn commands_that_need_no_privileges() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("rendered");
    let dump = dir.path().join("cluster.json");
    std::fs::write(
        &dump,
        serde_json::to_string(&kube6_verify::synth::Shape::ipv6().list()).unwrap(),
    )
    .unwrap();
    let invalid = dir.path().join("invalid.yaml");
    std::fs::write(
        &invalid,
        "apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nspec:\n  network:\n    podCIDR: fd00::/108\n    serviceCIDR: fd01::/112\n",
    )
    .unwrap();
    let ndp = dir.path().join("ndp.yaml");
    std::fs::write(&ndp, "uplink: n0\nprefixes:\n  - 2001:db8:1::a:0/112\n").unwrap();
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["--help"], 0),
        (vec!["plan", "--help"], 0),
        (vec!["--version"], 0),
        (vec!["validate", "examples/k0s-dual-stack.yaml"], 0),
        (vec!["validate", invalid.to_str().unwrap()], 1),
        (
            vec!["validate", "examples/k0s-dual-stack.yaml", "-o", "json"],
            0,
        ),
        (vec!["plan"], 0),
        (vec!["plan", "-o", "json"], 0),
        (vec!["plan", "-o", "yaml"], 0),
        (vec!["plan", invalid.to_str().unwrap()], 1),
        (
            vec![
                "render",
                "examples/k0s-dual-stack.yaml",
                "--target",
                "k0s",
                "--dry-run",
            ],
            0,
        ),
        (
            vec![
                "render",
                "examples/k0s-dual-stack.yaml",
                "--target",
                "k0s",
                "--out",
                out_dir.to_str().unwrap(),
            ],
            0,
        ),
        (
            vec!["convert", "examples/k0s-dual-stack.yaml", "--to", "kube6"],
            0,
        ),
        (vec!["verify", "--dump", dump.to_str().unwrap()], 0),
        (
            vec!["verify", "--dump", dump.to_str().unwrap(), "-o", "json"],
            0,
        ),
        (vec!["rules"], 0),
        (vec!["rules", "--markdown"], 0),
        (vec!["rules", "-o", "yaml"], 0),
        (vec!["schema"], 0),
        (vec!["completion", "bash"], 0),
        (vec!["completions", "zsh"], 0),
        (vec!["man"], 0),
        (vec!["man", "plan"], 0),
        (
            vec!["ndp-proxy", "--config", ndp.to_str().unwrap(), "--check"],
            0,
        ),
    ];
    for (args, code) in cases {
        let out = with_closed_stdout(Command::new(KUBE6).current_dir(root()).args(&args));
        assert_quiet_exit(&args, &out, code);
    }
    assert!(
        out_dir.join("k0s.yaml").is_file() || out_dir.read_dir().unwrap().next().is_some(),
        "render wrote its files although nobody read its listing"
    );
}

/// Errors still reach stderr, and a closed stderr is no panic either.
#[test]
fn a_closed_stderr_is_not_a_panic() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(KUBE6)
        .args(["validate", "/nonexistent/kube6.yaml"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(writer)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// `host check`, `host fix --dry-run` and `node-ip` read the kernel: they run in a namespace of
/// their own, against a temporary root.
#[test]
fn host_and_node_ip_commands() {
    if !require("closed-pipe host test", &[]) {
        return;
    }
    let ns = Netns::new("pipe");
    ns.ip("link add up0 type veth peer name up1");
    ns.ip("link set up0 up");
    ns.ip("link set up1 up");
    ns.ip("addr add 2001:db8:7::10/64 dev up0 nodad");
    let tree = scratch_dir("pipe");
    let root = tree.path().to_str().unwrap();
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (
            vec![
                "host",
                "check",
                "--root",
                root,
                "--proc-sys",
                "/proc/sys",
                "--hostname",
                "localhost",
            ],
            1,
        ),
        (
            vec![
                "host",
                "check",
                "--root",
                root,
                "--proc-sys",
                "/proc/sys",
                "--hostname",
                "localhost",
                "-o",
                "json",
            ],
            1,
        ),
        (
            vec![
                "host",
                "fix",
                "--dry-run",
                "--root",
                root,
                "--proc-sys",
                "/proc/sys",
                "--hostname",
                "localhost",
            ],
            0,
        ),
        (
            vec!["node-ip", "--family", "IPv6", "--node-ip", "2001:db8:7::10"],
            0,
        ),
        (
            vec![
                "node-ip",
                "--family",
                "IPv6",
                "--node-ip",
                "2001:db8:7::10",
                "-o",
                "yaml",
            ],
            0,
        ),
    ];
    for (args, code) in cases {
        let mut cmd = ns.command(KUBE6);
        cmd.args(&args);
        let out = with_closed_stdout(&mut cmd);
        assert_quiet_exit(&args, &out, code);
    }
}

/// The lints in main.rs deny raw printing in the binary; only output.rs may lift them.
#[test]
fn raw_printing_is_allowed_only_in_the_output_module() {
    let main = std::fs::read_to_string(root().join("crates/kube6/src/main.rs")).unwrap();
    for lint in [
        "clippy::print_stdout",
        "clippy::print_stderr",
        "clippy::disallowed_methods",
    ] {
        assert!(main.contains(lint), "main.rs no longer denies {lint}");
    }
    let mut files = Vec::new();
    let mut dirs = vec![root().join("crates/kube6/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for file in files {
        if file.ends_with("src/output.rs") || file.ends_with("src/main.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for lint in [
            "print_stdout",
            "print_stderr",
            "disallowed_methods",
            "explicit_write",
        ] {
            assert!(
                !text.contains(&format!("allow(clippy::{lint}")),
                "{} lifts clippy::{lint}: write through crate::output instead",
                file.display()
            );
        }
    }
}
