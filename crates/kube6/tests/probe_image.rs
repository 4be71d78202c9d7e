//! The agent image's description agrees with what `kube6 probe` runs: deploy/probe/Containerfile
//! is an image FROM scratch (nothing to pull) with the binary as its entry point, the pods give
//! only arguments (so the entry point runs them), the default `--image` is the tag
//! deploy/probe/build.sh gives, and the build script is valid shell that refuses a dynamically
//! linked binary. Building the image itself needs a release build for another link mode (many
//! minutes on two cores); docs/probe.md says how, and the script checks the result.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use kube6_probe::cluster::{self, RunOptions};
use kube6_probe::spec::{AgentKind, Options};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// The Containerfile's instructions (continuation lines joined, comments dropped).
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(part) = line.strip_suffix('\\') {
            current.push_str(part);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        let (keyword, rest) = current.split_once(' ').unwrap_or((&current, ""));
        out.push((keyword.to_ascii_uppercase(), rest.trim().to_string()));
        current.clear();
    }
    out
}

#[test]
fn the_image_is_from_scratch_with_the_binary_as_entry_point() {
    let file = read("deploy/probe/Containerfile");
    let steps = instructions(&file);
    let from: Vec<&str> = steps
        .iter()
        .filter(|(k, _)| k == "FROM")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(from, vec!["scratch"], "one stage, nothing pulled");
    assert!(
        steps
            .iter()
            .any(|(k, v)| k == "COPY" && v == "kube6 /kube6"),
        "{steps:?}"
    );
    let entry = steps
        .iter()
        .find(|(k, _)| k == "ENTRYPOINT")
        .map(|(_, v)| v.as_str());
    assert_eq!(
        entry,
        Some(r#"["/kube6"]"#),
        "exec form, no shell in the image"
    );
    // Nothing that needs a shell or a package manager: scratch has neither.
    assert!(!steps.iter().any(|(k, _)| k == "RUN"), "{steps:?}");
}

#[test]
fn the_pods_give_arguments_only_so_the_entry_point_runs_them() {
    let options = RunOptions {
        image: "registry.example/kube6-probe:1".into(),
        image_pull_policy: None,
        port: 9646,
        wait: Duration::from_secs(60),
        poll: Duration::from_secs(1),
        externals: Vec::new(),
        cluster_domain: None,
        tests: Options::default(),
        keep: false,
    };
    for kind in [AgentKind::Pod, AgentKind::Host] {
        let ds = cluster::daemonset(kind, &options);
        let container = &ds["spec"]["template"]["spec"]["containers"][0];
        assert!(container.get("command").is_none(), "{container:#}");
        assert_eq!(container["args"][0], "probe");
        assert_eq!(container["args"][1], "agent");
        assert_eq!(container["image"], "registry.example/kube6-probe:1");
        // User 0 with NET_RAW only: the image's USER is not what the agents run as.
        assert_eq!(container["securityContext"]["runAsUser"], 0);
        assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    }
}

#[test]
fn the_default_image_is_the_tag_the_build_script_gives() {
    let script = read("deploy/probe/build.sh");
    assert!(
        script.contains("tag=${tag:-localhost/kube6-probe:$version}"),
        "build.sh's default tag changed: change DEFAULT_IMAGE in commands/probe.rs with it"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_kube6"))
        .args(["probe", "--help"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    let want = format!(
        "[default: localhost/kube6-probe:{}]",
        env!("CARGO_PKG_VERSION")
    );
    assert!(help.contains(&want), "{help}");
    assert!(help.contains("deploy/probe/build.sh"), "{help}");
}

#[test]
fn the_build_script_is_valid_shell_and_checks_its_arguments() {
    let script = root().join("deploy/probe/build.sh");
    let out = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Refusals come before any build.
    for (args, message) in [
        (vec!["--profile", "fast"], "--profile is release or dev"),
        (
            vec!["--builder", "docker"],
            "--builder is podman or buildah",
        ),
        (vec!["--nonsense"], "unknown argument --nonsense"),
    ] {
        let out = Command::new("bash")
            .arg(&script)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{args:?}: {err}");
    }
    let out = Command::new("bash")
        .arg(&script)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--push"));
}
