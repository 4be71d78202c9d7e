//! Golden plans: every file in examples/ is planned (JSON and text) and compared with
//! tests/golden/. Run with UPDATE_GOLDEN=1 to rewrite them after a reviewed change.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "examples/ should hold every seed configuration"
    );
    files
}

/// The command-line gates an example's header says to run it with.
fn extra_args(example: &Path) -> Vec<&'static str> {
    let text = std::fs::read_to_string(example).unwrap();
    if text.contains("--feature-gates IPv6SingleStack=true") {
        vec!["--feature-gates", "IPv6SingleStack=true"]
    } else {
        Vec::new()
    }
}

fn plan(example: &Path, output: &str) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_kube6"))
        .current_dir(root())
        .arg("plan")
        .arg(example.strip_prefix(root()).unwrap_or(example))
        .args(extra_args(example))
        .args(["-o", output])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

fn compare(golden: &Path, actual: &str, failures: &mut Vec<String>) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(golden, actual).unwrap();
        return;
    }
    match std::fs::read_to_string(golden) {
        Ok(expected) if expected == actual => {}
        Ok(expected) => failures.push(format!(
            "{} differs (UPDATE_GOLDEN=1 rewrites it after review):\n--- expected\n{expected}\n--- actual\n{actual}",
            golden.display()
        )),
        Err(_) => failures.push(format!("{} is missing (UPDATE_GOLDEN=1 writes it)", golden.display())),
    }
}

#[test]
fn every_example_matches_its_golden_plan() {
    let mut failures = Vec::new();
    for example in examples() {
        let name = example.file_name().unwrap().to_string_lossy().to_string();
        let golden_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
        let (json, code) = plan(&example, "json");
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            parsed["valid"].as_bool(),
            Some(code == 0),
            "{name}: exit {code} disagrees with valid"
        );
        assert_eq!(
            code, 0,
            "{name}: the examples users copy must be valid:\n{json}"
        );
        compare(
            &golden_dir.join(format!("{name}.plan.json")),
            &json,
            &mut failures,
        );
        let (text, _) = plan(&example, "text");
        compare(
            &golden_dir.join(format!("{name}.plan.txt")),
            &text,
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn plan_json(example: &str) -> serde_json::Value {
    let (json, _) = plan(&root().join("examples").join(example), "json");
    serde_json::from_str(&json).unwrap()
}

#[test]
fn k0s_ipv6_single_stack_gives_512_nodes_of_2048() {
    let plan = plan_json("k0s-ipv6-single-stack.yaml");
    assert_eq!(plan["families"], serde_json::json!(["IPv6"]));
    let pods = &plan["pods"][0];
    assert_eq!(pods["cidr"], "fd00::/108");
    assert_eq!(pods["nodeMaskSize"], 117);
    assert_eq!(pods["maxNodes"], 512);
    assert_eq!(pods["addressesPerNode"], 2048);
    assert_eq!(pods["firstNodeBlocks"][1], "fd00::800/117");
    let services = &plan["services"][0];
    assert_eq!(services["size"], 1_048_576);
    assert_eq!(services["apiServerIP"], "fd01::1");
    assert_eq!(services["dnsIP"], "fd01::a");
}

#[test]
fn k0s_node_mask_120_gives_4096_nodes_of_256() {
    let pods = &plan_json("k0s-ipv6-single-stack-mask120.yaml")["pods"][0];
    assert_eq!(pods["nodeMaskSize"], 120);
    assert_eq!(pods["maxNodes"], 4096);
    assert_eq!(pods["addressesPerNode"], 256);
}

#[test]
fn kubeadm_guide_gives_65536_nodes_of_256_and_a_calico_block_of_120() {
    let plan = plan_json("kubeadm-ipv6-calico.yaml");
    let pods = &plan["pods"][0];
    assert_eq!(pods["cidr"], "2001:db8:1234:5678:8:2::/104");
    assert_eq!(pods["maxNodes"], 65536);
    assert_eq!(pods["addressesPerNode"], 256);
    assert_eq!(plan["cni"], "calico");
    // No Calico block-size diagnostic: /120 is inside 116-128 and the pool holds it.
    let ids: Vec<&str> = plan["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.contains(&"K6E070") && !ids.contains(&"K6E071"),
        "{ids:?}"
    );
    assert_eq!(plan["services"][0]["dnsIP"], "2001:db8:1234:5678:8:3:0:a");
}

#[test]
fn k0s_dual_stack_has_one_dns_ip_and_k3s_one_per_family() {
    let k0s = plan_json("k0s-dual-stack.yaml");
    assert_eq!(k0s["families"], serde_json::json!(["IPv4", "IPv6"]));
    assert_eq!(k0s["dnsIPs"], serde_json::json!(["10.96.0.10"]));
    assert_eq!(k0s["pods"][1]["maxNodes"], 512);
    let rke2 = plan_json("rke2-dual-stack.yaml");
    assert_eq!(rke2["dnsIPs"].as_array().unwrap().len(), 2);
}
