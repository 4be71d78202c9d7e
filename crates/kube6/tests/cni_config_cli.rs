//! CNI configuration files given next to the cluster (`kube6 validate cluster.yaml
//! cilium-values.yaml`), and `--target` on validate and plan: the same rules judge what people
//! write by hand and what render would refuse.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn kube6(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kube6"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

const CLUSTER: &str = "apiVersion: kube6.dev/v1alpha1
kind: ClusterNetwork
spec:
  distribution: kubeadm
  cni: cilium
  pods: [fd00:10::/56]
  services: [fd00:20::/112]
";

fn write(dir: &Path, name: &str, content: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.display().to_string()
}

#[test]
fn a_cilium_values_file_is_judged_with_its_cluster_and_findings_point_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = write(dir.path(), "cluster.yaml", CLUSTER);
    let values = write(
        dir.path(),
        "cilium-values.yaml",
        "ipv4:\n  enabled: false\nipv6:\n  enabled: true\nroutingMode: tunnel\n",
    );
    let out = kube6(&["validate", &cluster, &values]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(printed.contains("error[K6E210]"), "{printed}");
    assert!(printed.contains("cilium-values.yaml:5:14"), "{printed}");
    assert!(printed.contains("routingMode: tunnel"), "{printed}");
    let json = kube6(&["validate", &cluster, &values, "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let d = doc["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "K6E210")
        .unwrap()
        .clone();
    assert!(
        d["file"].as_str().unwrap().ends_with("cilium-values.yaml"),
        "{d}"
    );
    assert_eq!(d["line"], 5);

    // Native routing with the pod range as native-routing CIDR: valid.
    let fixed = write(
        dir.path(),
        "fixed.yaml",
        "ipv4:\n  enabled: false\nipv6:\n  enabled: true\nroutingMode: native\nipv6NativeRoutingCIDR: fd00:10::/56\nautoDirectNodeRoutes: true\n",
    );
    let out = kube6(&["validate", &cluster, &fixed]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    // plan takes the same files.
    let out = kube6(&["plan", &cluster, &values, "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_cni_file_without_a_cluster_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let values = write(dir.path(), "values.yaml", "ipv6:\n  enabled: true\n");
    let out = kube6(&["validate", &values]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("holds only CNI configuration"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn validate_and_plan_report_what_the_target_cannot_express() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = write(dir.path(), "cluster.yaml", CLUSTER);
    assert_eq!(kube6(&["validate", &cluster]).status.code(), Some(0));
    let out = kube6(&["validate", &cluster, "--target", "kkp"]);
    assert_eq!(out.status.code(), Some(1));
    let printed = text(&out.stdout);
    assert!(printed.contains("error[K6E060]"), "{printed}");
    let out = kube6(&["plan", &cluster, "--target", "kkp", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["valid"], false);
    // render refuses with the same diagnostic, before writing anything.
    let out = kube6(&["render", &cluster, "--target", "kkp", "--dry-run"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("error[K6E060]"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn kubeadm_with_two_control_planes_needs_an_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let spec = CLUSTER.to_string()
        + "  nodes:\n    - {name: cp1, role: controller, addresses: [\"2001:db8::1\"]}\n    - {name: cp2, role: controller, addresses: [\"2001:db8::2\"]}\n";
    let cluster = write(dir.path(), "cluster.yaml", &spec);
    let out = kube6(&["validate", &cluster]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("K6E203"),
        "{}",
        text(&out.stdout)
    );
    let with = write(
        dir.path(),
        "ha.yaml",
        &spec.replace(
            "  pods:",
            "  api:\n    externalAddress: api.example.test\n    endpointAddresses: [\"2001:db8::100\"]\n  pods:",
        ),
    );
    let out = kube6(&["render", &with, "--target", "kubeadm", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(
        printed.contains("controlPlaneEndpoint: \"api.example.test:6443\""),
        "{printed}"
    );
    assert!(
        printed.contains("kubeadm init --config /etc/kubernetes/kube6/init.yaml --upload-certs"),
        "{printed}"
    );
    assert!(
        printed.contains("certificateKey: REPLACE-WITH-THE-CERTIFICATE-KEY"),
        "{printed}"
    );
}
