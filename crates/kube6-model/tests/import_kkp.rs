#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Kubermatic KKP `Cluster` importer, through the public API.

use kube6_model::import::{ImportOptions, Imported, import};
use kube6_model::model::{Cni, Distribution, Format};
use kube6_model::source::Position;

fn read(text: &str) -> Imported {
    import(text, &ImportOptions::default()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

const HEAD: &str = "apiVersion: kubermatic.k8c.io/v1\nkind: Cluster\nmetadata:\n  name: c1\n";

struct Case {
    name: &'static str,
    spec: &'static str,
    cni: Cni,
    cni_version: Option<&'static str>,
    pods: &'static [&'static str],
    services: &'static [&'static str],
    /// nodeCidrMaskSizeIPv4 / IPv6 and whether each was defaulted.
    masks: [Option<(&'static str, bool)>; 2],
    proxy: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "dual-stack as in seed 001",
        spec: "\
spec:
  version: 1.33.4
  cloud:
    aws: {}
  clusterNetwork:
    ipFamily: IPv4+IPv6
    pods:
      cidrBlocks: [172.25.0.0/16, fd01::/48]
    services:
      cidrBlocks: [10.240.16.0/20, fd02::/120]
    nodeCidrMaskSizeIPv4: 24
    nodeCidrMaskSizeIPv6: 64
",
        cni: Cni::Cilium,
        cni_version: Some("1.19.4"),
        pods: &["172.25.0.0/16", "fd01::/48"],
        services: &["10.240.16.0/20", "fd02::/120"],
        masks: [Some(("24", false)), Some(("64", false))],
        proxy: "ipvs",
    },
    Case {
        name: "easy way: ipFamily only, everything defaulted; an empty proxyMode gets the webhook's pick",
        spec: "spec:\n  version: 1.35.0\n  clusterNetwork:\n    ipFamily: IPv4+IPv6\n    proxyMode: \"\"\n",
        cni: Cni::Cilium,
        cni_version: Some("1.19.4"),
        pods: &["172.25.0.0/16", "fd01::/48"],
        services: &["10.240.16.0/20", "fd02::/108"],
        masks: [Some(("24", true)), Some(("64", true))],
        proxy: "nftables",
    },
    Case {
        name: "nothing set: IPv4 defaults, no IPv6 mask, the CRD's proxyMode default",
        spec: "spec:\n  cloud:\n    hetzner:\n      network: n\n",
        cni: Cni::Cilium,
        cni_version: Some("1.19.4"),
        pods: &["172.25.0.0/16"],
        services: &["10.240.16.0/20"],
        masks: [Some(("24", true)), None],
        proxy: "ipvs",
    },
    Case {
        name: "hetzner with an empty proxyMode: the webhook picks iptables",
        spec: "spec:\n  cloud:\n    hetzner:\n      network: n\n  clusterNetwork:\n    proxyMode: \"\"\n",
        cni: Cni::Cilium,
        cni_version: Some("1.19.4"),
        pods: &["172.25.0.0/16"],
        services: &["10.240.16.0/20"],
        masks: [Some(("24", true)), None],
        proxy: "iptables",
    },
    Case {
        name: "two pod CIDRs without ipFamily: dual-stack, both service CIDRs defaulted",
        spec: "spec:\n  clusterNetwork:\n    pods:\n      cidrBlocks: [174.27.0.0/16, fd05::/48]\n",
        cni: Cni::Cilium,
        cni_version: Some("1.19.4"),
        pods: &["174.27.0.0/16", "fd05::/48"],
        services: &["10.240.16.0/20", "fd02::/108"],
        masks: [Some(("24", true)), Some(("64", true))],
        proxy: "ipvs",
    },
    Case {
        name: "kubevirt defaults, canal with version, IPv6-only pods keep only the IPv6 mask",
        spec: "\
spec:
  cloud:
    kubevirt: {}
  cniPlugin:
    type: canal
    version: v3.22
  clusterNetwork:
    pods:
      cidrBlocks: [fd01::/48]
    proxyMode: iptables
",
        cni: Cni::Canal,
        cni_version: Some("v3.22"),
        pods: &["fd01::/48"],
        services: &["10.241.0.0/20"],
        masks: [None, Some(("64", true))],
        proxy: "iptables",
    },
    Case {
        name: "edge provider defaults to canal",
        spec: "spec:\n  cloud:\n    edge: {}\n",
        cni: Cni::Canal,
        cni_version: Some("v3.31"),
        pods: &["172.25.0.0/16"],
        services: &["10.240.16.0/20"],
        masks: [Some(("24", true)), None],
        proxy: "ipvs",
    },
    Case {
        name: "cni none",
        spec: "spec:\n  cniPlugin:\n    type: none\n",
        cni: Cni::Custom,
        cni_version: None,
        pods: &["172.25.0.0/16"],
        services: &["10.240.16.0/20"],
        masks: [Some(("24", true)), None],
        proxy: "ipvs",
    },
];

#[test]
fn table() {
    for case in CASES {
        let imported = read(&format!("{HEAD}{}", case.spec));
        assert!(
            imported.notes.is_empty(),
            "{}: {:?}",
            case.name,
            imported.notes
        );
        let net = &imported.network;
        assert_eq!(net.format, Format::Kkp);
        assert_eq!(net.distribution.value, Distribution::Kkp);
        assert_eq!(net.cni.value, case.cni, "{}", case.name);
        assert_eq!(
            net.cni_version.as_ref().map(|v| v.value.as_str()),
            case.cni_version,
            "{}",
            case.name
        );
        let pods: Vec<&str> = net.pods.iter().map(|p| p.value.text.as_str()).collect();
        assert_eq!(pods, case.pods, "{}", case.name);
        let services: Vec<&str> = net.services.iter().map(|p| p.value.text.as_str()).collect();
        assert_eq!(services, case.services, "{}", case.name);
        let masks = [&net.node_masks.ipv4, &net.node_masks.ipv6].map(|m| {
            m.as_ref()
                .map(|m| (m.value.text.clone(), m.origin.is_default()))
        });
        assert_eq!(
            masks,
            case.masks.map(|m| m.map(|(t, d)| (t.to_string(), d))),
            "{}",
            case.name
        );
        assert!(net.node_masks.single.is_none());
        assert_eq!(
            net.kube_proxy_mode.as_ref().unwrap().value,
            case.proxy,
            "{}",
            case.name
        );
        assert!(net.nodes.is_empty() && net.cluster_dns.is_empty());
    }
}

#[test]
fn positions_and_paths() {
    let text = format!(
        "{HEAD}spec:\n  version: 1.33.4\n  cloud:\n    dc: x\n    openstack:\n      domain: d\n  clusterNetwork:\n    ipFamily: IPv4+IPv6\n    pods:\n      cidrBlocks:\n        - 172.25.0.0/16\n        - fd01::/48\n    nodeCidrMaskSizeIPv6: 80\n    dnsDomain: cluster.local\n"
    );
    let net = read(&text).network;
    let v6 = &net.pods[1];
    assert_eq!(v6.origin.path(), "spec.clusterNetwork.pods.cidrBlocks[1]");
    assert_eq!(
        v6.origin.pos(),
        Some(Position {
            line: 16,
            column: 11
        })
    );
    let mask = net.node_masks.ipv6.as_ref().unwrap();
    assert_eq!(
        mask.origin.path(),
        "spec.clusterNetwork.nodeCidrMaskSizeIPv6"
    );
    assert_eq!(mask.value.parsed, Some(80));
    assert_eq!(mask.origin.pos().map(|p| p.line), Some(17));
    let provider = net.specific.kkp_provider.as_ref().unwrap();
    assert_eq!(provider.value, "openstack");
    assert_eq!(provider.origin.path(), "spec.cloud.openstack");
    assert_eq!(
        net.specific.kkp_ip_family.as_ref().unwrap().value,
        "IPv4+IPv6"
    );
    assert!(
        net.distribution_version.is_none(),
        "spec.version is Kubernetes's, not KKP's"
    );
    assert_eq!(net.kubernetes_version.as_ref().unwrap().value, "1.33.4");
    assert_eq!(
        net.cluster_domain.origin.path(),
        "spec.clusterNetwork.dnsDomain"
    );
    assert!(!net.cluster_domain.origin.is_default());
    // Services defaulted for a dual-stack ipFamily: only the ranges the input left out.
    assert_eq!(net.services.len(), 2);
    assert!(net.services.iter().all(|s| s.origin.is_default()));
}

#[test]
fn unknown_fields_are_warned_with_suggestions() {
    let imported = read(&format!(
        "{HEAD}spec:\n  clusterNetwork:\n    nodeCidrMaskSizeIpv6: 64\n    pods:\n      cidrBlock: [fd01::/48]\n  cloud:\n    openstak: {{}}\n  humanReadableName: x\n"
    ));
    let mut notes = imported.notes.clone();
    notes.sort_by_key(|d| d.line);
    let found: Vec<(&str, &str)> = notes
        .iter()
        .map(|d| (d.path.as_str(), d.hint.as_str()))
        .collect();
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0].0, "spec.clusterNetwork.nodeCidrMaskSizeIpv6");
    assert!(
        found[0].1.contains("`nodeCidrMaskSizeIPv6`"),
        "{}",
        found[0].1
    );
    assert_eq!(found[1].0, "spec.clusterNetwork.pods.cidrBlock");
    assert!(found[1].1.contains("`cidrBlocks`"));
    assert_eq!(found[2].0, "spec.cloud.openstak");
    assert!(found[2].1.contains("`openstack`"));
    assert_eq!(notes[0].line, Some(7));
    assert_eq!(notes[0].column, Some(5));
}

#[test]
fn wrong_shapes_are_errors() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "cidrBlocks as a string",
            "spec:\n  clusterNetwork:\n    pods:\n      cidrBlocks: fd01::/48\n",
            "expected a list",
        ),
        (
            "a CIDR read as a number",
            "spec:\n  clusterNetwork:\n    pods:\n      cidrBlocks: [10]\n",
            "expected a string",
        ),
        (
            "clusterNetwork as a list",
            "spec:\n  clusterNetwork: [a]\n",
            "expected a mapping",
        ),
        (
            "mask as a list",
            "spec:\n  clusterNetwork:\n    nodeCidrMaskSizeIPv4: [24]\n",
            "single value",
        ),
    ];
    for (name, spec, needle) in cases {
        let err = import(&format!("{HEAD}{spec}"), &ImportOptions::default())
            .err()
            .unwrap_or_else(|| panic!("{name}: imported"));
        assert!(err.to_string().contains(needle), "{name}: {err}");
        assert!(err.pos().is_some(), "{name}: no position");
    }
}

#[test]
fn bad_values_are_left_to_the_rules() {
    let net = read(&format!(
        "{HEAD}spec:\n  clusterNetwork:\n    ipFamily: IPv6\n    pods:\n      cidrBlocks: [fd01::/48, 172.25.0.0/16, x]\n    dnsDomain: example.com\n"
    ))
    .network;
    assert_eq!(net.pods.len(), 3);
    assert!(net.pods[2].value.parsed.is_err());
    assert_eq!(net.specific.kkp_ip_family.as_ref().unwrap().value, "IPv6");
    assert_eq!(net.cluster_domain.value, "example.com");
}

#[test]
fn a_cni_type_outside_the_enumeration_is_left_to_the_rules() {
    let net = read(&format!("{HEAD}spec:\n  cniPlugin:\n    type: flannel\n")).network;
    assert_eq!(net.cni.value, Cni::Custom);
    assert_eq!(net.specific.kkp_cni_type.as_ref().unwrap().value, "flannel");
}

#[test]
fn example_imports_without_warnings() {
    let path = format!(
        "{}/../../examples/kkp-dual-stack.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let imported = read(&std::fs::read_to_string(path).unwrap());
    assert!(imported.notes.is_empty(), "{:?}", imported.notes);
    let net = &imported.network;
    let pods: Vec<&str> = net.pods.iter().map(|p| p.value.text.as_str()).collect();
    assert_eq!(pods, ["172.25.0.0/16", "fd01::/48"]);
    let services: Vec<&str> = net.services.iter().map(|p| p.value.text.as_str()).collect();
    assert_eq!(services, ["10.240.16.0/20", "fd02::/120"]);
    assert_eq!(net.cni.value, Cni::Cilium);
    assert_eq!(net.node_masks.ipv6.as_ref().unwrap().value.parsed, Some(64));
    assert_eq!(
        net.specific.kkp_provider.as_ref().unwrap().value,
        "openstack"
    );
}

#[test]
fn truncated_example_never_panics() {
    let path = format!(
        "{}/../../examples/kkp-dual-stack.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    for (i, _) in text.char_indices() {
        let _ = import(&text[..i], &ImportOptions::default());
    }
}
