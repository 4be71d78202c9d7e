//! `kube6 plan --prefix`, renumbering and the pictures, through the binary: exit statuses, the
//! JSON a script reads, the HTML page's self-containment, and docs/plan.svg kept up to date.
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

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

const EXAMPLE: &str = "examples/kube6-delegated-prefix.yaml";

fn json(args: &[&str]) -> (Value, i32) {
    let mut all = vec!["plan"];
    all.extend_from_slice(args);
    all.extend(["-o", "json"]);
    let out = kube6(&all);
    (
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: {}{}",
                stdout(&out),
                String::from_utf8_lossy(&out.stderr)
            )
        }),
        out.status.code().unwrap(),
    )
}

fn ids(plan: &Value) -> Vec<String> {
    plan["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_example_is_carved_routed_on_nibble_boundaries() {
    let (plan, status) = json(&[EXAMPLE]);
    assert_eq!(status, 0, "{plan:#}");
    let prefix = &plan["prefix"];
    assert_eq!(prefix["cidr"], "2001:db8:1234:5600::/56");
    assert_eq!(prefix["layout"], "routed");
    assert_eq!(prefix["nibbleAligned"], true);
    assert_eq!(plan["pods"][0]["cidr"], "2001:db8:1234:5601::/64");
    assert_eq!(plan["services"][0]["cidr"], "2001:db8:1234:5602::/112");
    let roles: Vec<&str> = prefix["ranges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role"].as_str().unwrap())
        .collect();
    for role in [
        "nodeSubnet",
        "hosts",
        "pods",
        "services",
        "loadBalancerPool",
    ] {
        assert!(roles.contains(&role), "{role} missing: {roles:?}");
    }
    assert!(
        prefix["ranges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| !r["why"].as_str().unwrap().is_empty())
    );
    assert!(!prefix["free"].as_array().unwrap().is_empty());
}

#[test]
fn a_new_prefix_renumbers_the_same_configuration() {
    let (plan, status) = json(&[EXAMPLE, "--prefix", "2001:db8:1234:7700::/56"]);
    assert_eq!(status, 0, "{plan:#}");
    assert_eq!(plan["pods"][0]["cidr"], "2001:db8:1234:7701::/64");
    let renumbering = &plan["renumbering"];
    assert_eq!(renumbering["from"], "2001:db8:1234:5600::/56");
    assert_eq!(renumbering["to"], "2001:db8:1234:7700::/56");
    let node = renumbering["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["what"] == "nodeAddress" && c["node"] == "worker2")
        .expect("worker2's address is renumbered");
    assert_eq!(node["before"], "2001:db8:1234:5600::12");
    assert_eq!(node["after"], "2001:db8:1234:7700::12");
    assert!(ids(&plan).contains(&"K6I705".to_string()));
}

#[test]
fn a_single_64_needs_an_ndp_proxy() {
    // A /64 from a VPS provider is one link: pods and services share it.
    let file = std::env::temp_dir().join(format!("kube6-plan-prefix-{}.yaml", std::process::id()));
    std::fs::write(
        &file,
        "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: k3s\n  prefix: \"2001:db8:77::/64\"\n",
    )
    .unwrap();
    let (plan, status) = json(&[file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    assert_eq!(status, 0, "{plan:#}");
    assert_eq!(plan["prefix"]["layout"], "on-link");
    assert!(ids(&plan).contains(&"K6W702".to_string()), "{plan:#}");
}

#[test]
fn bad_and_too_small_prefixes_exit_1_with_their_rule() {
    for (args, id) in [
        (vec![EXAMPLE, "--prefix", "10.0.0.0/8"], "K6E700"),
        (vec![EXAMPLE, "--prefix", "2001:db8::/124"], "K6E701"),
        (
            vec!["examples/k0s-dual-stack.yaml", "--nodes", "3"],
            "K6E700",
        ),
    ] {
        let (plan, status) = json(&args);
        assert_eq!(status, 1, "{args:?}: {plan:#}");
        assert_eq!(plan["valid"], false);
        assert!(ids(&plan).contains(&id.to_string()), "{args:?}: {plan:#}");
    }
    // Not a CIDR at all is the same rule, not a usage error: other formats' values are judged
    // like the file's.
    let out = kube6(&["plan", EXAMPLE, "--prefix", "nonsense"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("K6E700"));
    // Counts out of range are refused by the command line itself.
    let out = kube6(&["plan", EXAMPLE, "--prefix", "2001:db8::/56", "--nodes", "0"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn other_formats_carve_from_the_command_line() {
    let (plan, status) = json(&[
        "examples/kubeadm-ipv6-calico.yaml",
        "--previous-prefix",
        "2001:db8:1234::/48",
        "--prefix",
        "2001:db8:9999::/48",
    ]);
    assert!(status <= 1, "{plan:#}");
    assert_eq!(plan["prefix"]["source"], "--prefix");
}

#[test]
fn svg_is_one_image_and_docs_show_the_current_one() {
    let out = kube6(&["plan", EXAMPLE, "-o", "svg"]);
    assert_eq!(out.status.code(), Some(0));
    let svg = stdout(&out);
    assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"));
    assert!(!svg.contains("href=\"http") && !svg.contains("<script"));
    let docs = std::fs::read_to_string(root().join("docs/plan.svg")).unwrap_or_default();
    assert!(
        docs == svg,
        "docs/plan.svg is stale: regenerate it with `cargo run -q -p kube6 -- plan {EXAMPLE} -o svg > docs/plan.svg`"
    );
}

#[test]
fn html_is_one_self_contained_page() {
    let out = kube6(&[
        "plan",
        EXAMPLE,
        "--prefix",
        "2001:db8:1234:7700::/56",
        "-o",
        "html",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let page = stdout(&out);
    assert!(page.starts_with("<!DOCTYPE html>"), "{}", &page[..80]);
    assert!(page.contains("Content-Security-Policy"));
    assert!(page.contains("<svg") && page.contains("Renumbering"));
    for external in [
        "<script",
        "<link",
        "src=\"http",
        "href=\"http",
        "@import",
        "url(http",
    ] {
        assert!(!page.contains(external), "the page holds {external}");
    }
    // Invalid input still gets its page, with exit status 1.
    let out = kube6(&["plan", EXAMPLE, "--prefix", "2001:db8::/124", "-o", "html"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("K6E701"));
}

/// The pools carved from a prefix are the cluster's pools: `kube6 render` writes them for the
/// implementation (MetalLB on k3s, which then disables ServiceLB; Cilium LB-IPAM on kubeadm),
/// and `kube6 verify --plan` expects Services' addresses in them. The rendered documents are
/// validated against the upstream CRDs by upstream_schemas.rs, which renders every example.
#[test]
fn carved_pools_are_rendered_for_their_implementation() {
    let rendered = |example: &str, target: &str| -> String {
        let out = kube6(&["render", example, "--target", target, "--dry-run"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout(&out)
    };
    let k3s = rendered(EXAMPLE, "k3s");
    let metallb = k3s
        .split("==> ")
        .find(|f| f.starts_with("./load-balancer/metallb.yaml"))
        .unwrap_or_else(|| panic!("no metallb.yaml in\n{k3s}"));
    assert!(metallb.contains("kind: IPAddressPool"), "{metallb}");
    assert!(
        metallb.contains("\"2001:db8:1234:5600:1::/120\""),
        "{metallb}"
    );
    assert!(metallb.contains("kind: L2Advertisement"), "{metallb}");
    assert!(k3s.contains("disable:\n  - servicelb"), "{k3s}");

    let kubeadm = rendered("examples/kube6-prefix-kubeadm-cilium.yaml", "kubeadm");
    let cilium = kubeadm
        .split("==> ")
        .find(|f| f.starts_with("./load-balancer/cilium-lb.yaml"))
        .unwrap_or_else(|| panic!("no cilium-lb.yaml in\n{kubeadm}"));
    assert!(
        cilium.contains("kind: CiliumLoadBalancerIPPool"),
        "{cilium}"
    );
    assert!(
        cilium.contains("cidr: \"2001:db8:1234:5678:3::/112\""),
        "{cilium}"
    );
    // The plan's pools hold the carved block, marked so; the picture draws it (once: see
    // kube6-picture's map tests).
    let (plan, _) = json(&["examples/kube6-prefix-kubeadm-cilium.yaml"]);
    let pools = plan["loadBalancer"]["pools"].as_array().unwrap();
    assert_eq!(pools.len(), 1, "{pools:?}");
    assert_eq!(
        pools[0]["blocks"][0]["carved"],
        "carved from 2001:db8:1234:5678::/64"
    );
    let svg = stdout(&kube6(&[
        "plan",
        "examples/kube6-prefix-kubeadm-cilium.yaml",
        "-o",
        "svg",
    ]));
    assert!(
        svg.contains("2001:db8:1234:5678:3::/112"),
        "the pool is not drawn"
    );
}

/// K6V013 with a plan carved from a prefix: the carved pool is a planned pool.
#[test]
fn verify_expects_load_balancer_addresses_in_the_carved_pool() {
    let analysis = kube6_model::analyze(
        EXAMPLE,
        &std::fs::read_to_string(root().join(EXAMPLE)).unwrap(),
        &Default::default(),
    )
    .unwrap();
    let expect = kube6_verify::Expectations::from_analysis(&analysis);
    let lb = expect.load_balancer.as_ref().unwrap();
    assert!(lb.uses_pools);
    assert!(
        lb.pools
            .iter()
            .any(|p| p.contains(&"2001:db8:1234:5600:1::5".parse().unwrap())),
        "{:?}",
        lb.pools
    );
    assert!(
        !lb.pools
            .iter()
            .any(|p| p.contains(&"2001:db8:1234:5600:2::5".parse().unwrap()))
    );
}
