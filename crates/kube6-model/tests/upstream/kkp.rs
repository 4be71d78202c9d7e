//! Kubermatic KKP (kubermatic/kubermatic): pkg/validation/cluster_test.go
//! TestValidateClusterNetworkingConfig and pkg/defaulting/cluster_test.go TestDefaultClusterNetwork.
//!
//! The validation test calls `ValidateClusterNetworkConfig` on a bare networking config. In a
//! running KKP the API server applies the CRD defaults and the mutating webhook
//! (`DefaultClusterNetwork`) before the validating webhook runs, so an empty or missing field is
//! never validated as such; kube6 reads a Cluster the same way. Rows for those cases say so. The
//! datacenter cases depend on the Seed's datacenter (`ipv6Enabled`), which is not part of the
//! Cluster kube6 reads.

use super::{Kube6, Row, Upstream, Upstreams, check, row};
use Upstreams::{Accepts, Refuses};

const KKP: &str = "kubermatic/kubermatic";

fn validation(case: &'static str) -> Upstream {
    Upstream {
        repo: KKP,
        file: "pkg/validation/cluster_test.go",
        test: "TestValidateClusterNetworkingConfig",
        case,
    }
}

/// A Cluster with `cloud` (YAML under spec.cloud, or empty) and these clusterNetwork lines.
fn cluster(cloud: &str, network: &str) -> String {
    let mut text = String::from(
        "apiVersion: kubermatic.k8c.io/v1\nkind: Cluster\nmetadata:\n  name: c\nspec:\n  version: 1.33.4\n",
    );
    if !cloud.is_empty() {
        text.push_str(&format!("  cloud:\n    {cloud}\n"));
    }
    text.push_str("  clusterNetwork:");
    if network.is_empty() {
        text.push_str(" {}\n");
    } else {
        text.push('\n');
        for line in network.lines() {
            text.push_str(&format!("    {line}\n"));
        }
    }
    text
}

const V4: &str = "pods: {cidrBlocks: [10.241.0.0/16]}\nservices: {cidrBlocks: [10.240.32.0/20]}\n";
const DUAL: &str = "pods: {cidrBlocks: [10.241.0.0/16, fd00::/104]}\nservices: {cidrBlocks: [10.240.32.0/20, fd03::/120]}\n";
const REST: &str = "dnsDomain: cluster.local\nproxyMode: ipvs\nnodeLocalDNSCacheEnabled: true\n";

fn net(parts: &[&str]) -> String {
    parts.concat()
}

const DEFAULTED: &str = "KKP's mutating webhook (pkg/defaulting DefaultClusterNetwork) fills the missing \
     fields before validation runs; the unit test validates the undefaulted config";

const MASK: &str = "the test's IPv6 pod range fd00::/104 has no nodeCidrMaskSizeIPv6, and the test validates \
     without defaulting; in KKP the webhook sets the default /64 (pkg/defaulting DefaultClusterNetwork), which the \
     same validation then refuses as not longer than /104 (validateNodeCIDRMaskSize), so the Cluster as written is \
     refused";

/// The datacenter rows that upstream refuses: kube6 refuses them too, but for the defaulted IPv6
/// node mask (see MASK); whether the datacenter enables IPv6 is a property of the Seed, which the
/// Cluster does not carry, so kube6 only warns about it (K6W067).
const DC_REFUSED: Kube6 = Kube6::Refuses(&["K6E064"]);

fn validation_rows() -> Vec<Row> {
    vec![
        row(
            validation("empty network config"),
            Refuses,
            cluster("", ""),
            Kube6::Accepts,
        )
        .differs(DEFAULTED),
        row(
            validation("valid network config"),
            Accepts,
            cluster("", &net(&[V4, REST])),
            Kube6::Accepts,
        ),
        row(
            validation("missing pods CIDR"),
            Refuses,
            cluster(
                "",
                &net(&["services: {cidrBlocks: [10.240.32.0/20]}\n", REST]),
            ),
            Kube6::Accepts,
        )
        .differs(DEFAULTED),
        row(
            validation("missing services CIDR"),
            Refuses,
            cluster("", &net(&["pods: {cidrBlocks: [10.241.0.0/16]}\n", REST])),
            Kube6::Accepts,
        )
        .differs(DEFAULTED),
        row(
            validation("valid dual-stack network config"),
            Accepts,
            cluster("", &net(&[DUAL, REST])),
            Kube6::Refuses(&["K6E064"]),
        )
        .differs(MASK),
        row(
            validation("invalid dual-stack network config (IPv6 as primary address)"),
            Refuses,
            cluster(
                "",
                &net(&[
                    "pods: {cidrBlocks: [fd00::/104, 10.241.0.0/16]}\nservices: {cidrBlocks: [fd03::/120, 10.240.32.0/20]}\n",
                    REST,
                ]),
            ),
            Kube6::Refuses(&["K6E061", "K6E064"]),
        ),
        row(
            validation("invalid dual-stack network config (missing IPv6 services CIDR)"),
            Refuses,
            cluster(
                "",
                &net(&[
                    "pods: {cidrBlocks: [10.241.0.0/16, fd00::/104]}\nservices: {cidrBlocks: [10.240.32.0/20]}\n",
                    REST,
                ]),
            ),
            Kube6::Refuses(&["K6E062", "K6E064"]),
        ),
        row(
            validation("valid ip family - IPv4"),
            Accepts,
            cluster("", &net(&["ipFamily: IPv4\n", V4, REST])),
            Kube6::Accepts,
        ),
        row(
            validation("valid ip family - dual stack"),
            Accepts,
            cluster("", &net(&["ipFamily: IPv4+IPv6\n", DUAL, REST])),
            Kube6::Refuses(&["K6E064"]),
        )
        .differs(MASK),
        row(
            validation("invalid ip family"),
            Refuses,
            cluster("", &net(&["ipFamily: IPv4+IPv6\n", V4, REST])),
            Kube6::Refuses(&["K6E063"]),
        ),
        row(
            validation("valid node CIDR mask sizes"),
            Accepts,
            cluster(
                "",
                &net(&[
                    DUAL,
                    "nodeCidrMaskSizeIPv4: 26\nnodeCidrMaskSizeIPv6: 112\n",
                    REST,
                ]),
            ),
            Kube6::Accepts,
        ),
        row(
            validation("invalid node CIDR mask size - IPv4"),
            Refuses,
            cluster(
                "",
                &net(&[
                    DUAL,
                    "nodeCidrMaskSizeIPv4: 12\nnodeCidrMaskSizeIPv6: 112\n",
                    REST,
                ]),
            ),
            Kube6::Refuses(&["K6E064"]),
        ),
        row(
            validation("invalid node CIDR mask size - IPv6"),
            Refuses,
            cluster(
                "",
                &net(&[
                    DUAL,
                    "nodeCidrMaskSizeIPv4: 24\nnodeCidrMaskSizeIPv6: 64\n",
                    REST,
                ]),
            ),
            Kube6::Refuses(&["K6E064"]),
        ),
        row(
            validation("missing DNS domain"),
            Refuses,
            cluster(
                "",
                &net(&[V4, "proxyMode: ipvs\nnodeLocalDNSCacheEnabled: true\n"]),
            ),
            Kube6::Accepts,
        )
        .differs(DEFAULTED),
        row(
            validation("missing proxy mode"),
            Refuses,
            cluster(
                "",
                &net(&[
                    V4,
                    "dnsDomain: cluster.local\nnodeLocalDNSCacheEnabled: true\n",
                ]),
            ),
            Kube6::Accepts,
        )
        .differs("the CRD defaults an absent proxyMode to ipvs before any webhook runs"),
        row(
            validation("invalid pod cidr"),
            Refuses,
            cluster("", "pods: {cidrBlocks: [\"192.127.0.0:20\"]}\n"),
            // With the pod range unreadable KKP's family checks see a count mismatch too.
            Kube6::Refuses(&["K6E001"]),
        ),
        row(
            validation("invalid service cidr"),
            Refuses,
            cluster("", "services: {cidrBlocks: [\"192.127/20\"]}\n"),
            Kube6::Refuses(&["K6E001"]),
        ),
        row(
            Upstream {
                repo: KKP,
                file: "pkg/defaulting/cluster.go",
                test: "DefaultClusterNetwork (code; no upstream test)",
                case: "empty dnsDomain becomes cluster.local",
            },
            Accepts,
            cluster("", "dnsDomain: \"\"\n"),
            Kube6::Accepts,
        ),
        row(
            validation("invalid DNS domain"),
            Refuses,
            cluster("", "dnsDomain: cluster.bla\n"),
            Kube6::Refuses(&["K6E065"]),
        ),
        row(
            validation("invalid proxy mode"),
            Refuses,
            cluster("", "proxyMode: none\n"),
            Kube6::Refuses(&["K6E305"]),
        ),
        row(
            validation("valid dual-stack datacenter config"),
            Accepts,
            cluster("aws: {}", &net(&["ipFamily: IPv4+IPv6\n", DUAL, REST])),
            Kube6::Refuses(&["K6E064"]),
        )
        .differs(MASK),
        row(
            validation("valid dual-stack datacenter config (openstack)"),
            Accepts,
            cluster(
                "openstack: {}",
                &net(&["ipFamily: IPv4+IPv6\n", DUAL, REST]),
            ),
            Kube6::Refuses(&["K6E064"]),
        )
        .differs(MASK),
        row(
            validation(
                "invalid dual-stack datacenter config (IPv6 not enabled for openstack datacenter)",
            ),
            Refuses,
            cluster(
                "openstack: {}",
                &net(&["ipFamily: IPv4+IPv6\n", DUAL, REST]),
            ),
            DC_REFUSED,
        ),
        row(
            validation("valid dual-stack datacenter config (vsphere)"),
            Accepts,
            cluster("vsphere: {}", &net(&["ipFamily: IPv4+IPv6\n", DUAL, REST])),
            Kube6::Refuses(&["K6E064"]),
        )
        .differs(MASK),
        row(
            validation(
                "invalid dual-stack datacenter config (IPv6 not enabled for vsphere datacenter)",
            ),
            Refuses,
            cluster("vsphere: {}", &net(&["ipFamily: IPv4+IPv6\n", DUAL, REST])),
            DC_REFUSED,
        ),
        row(
            validation("valid dual-stack datacenter config (not known ipv6 cloud provider)"),
            Accepts,
            cluster(
                "digitalocean: {}",
                &net(&["ipFamily: IPv4+IPv6\n", DUAL, REST]),
            ),
            Kube6::Refuses(&["K6E064"]),
        )
        .differs(MASK),
    ]
}

#[test]
fn validation_tests() {
    check(validation_rows());
}

/// The fields TestDefaultClusterNetwork checks, as kube6 reads them after its KKP defaulting.
struct Defaulted {
    pods: &'static [&'static str],
    services: &'static [&'static str],
    proxy: &'static str,
    masks: [Option<u8>; 2],
    domain: &'static str,
}

/// TestDefaultClusterNetwork. The test hands the webhook a spec whose proxyMode is empty; in a
/// Cluster that is `proxyMode: ""` (an absent field gets the CRD's ipvs first).
#[test]
fn default_cluster_network() {
    let head = "apiVersion: kubermatic.k8c.io/v1\nkind: Cluster\nmetadata:\n  name: c\nspec:\n";
    let cases: [(&str, String, Defaulted); 7] = [
        (
            "empty spec ipv4",
            "  clusterNetwork:\n    proxyMode: \"\"\n".into(),
            Defaulted {
                pods: &["172.25.0.0/16"],
                services: &["10.240.16.0/20"],
                proxy: "ipvs",
                masks: [Some(24), None],
                domain: "cluster.local",
            },
        ),
        (
            "empty spec dual stack",
            "  clusterNetwork:\n    ipFamily: IPv4+IPv6\n    proxyMode: \"\"\n".into(),
            Defaulted {
                pods: &["172.25.0.0/16", "fd01::/48"],
                services: &["10.240.16.0/20", "fd02::/108"],
                proxy: "ipvs",
                masks: [Some(24), Some(64)],
                domain: "cluster.local",
            },
        ),
        (
            "empty spec detect dual stack",
            "  clusterNetwork:\n    pods: {cidrBlocks: [174.27.0.0/16, fd05::/48]}\n    proxyMode: \"\"\n".into(),
            Defaulted {
                pods: &["174.27.0.0/16", "fd05::/48"],
                services: &["10.240.16.0/20", "fd02::/108"],
                proxy: "ipvs",
                masks: [Some(24), Some(64)],
                domain: "cluster.local",
            },
        ),
        (
            "empty spec dual stack kubevirt",
            "  cloud:\n    providerName: kubevirt\n  clusterNetwork:\n    ipFamily: IPv4+IPv6\n    proxyMode: \"\"\n".into(),
            Defaulted {
                pods: &["172.26.0.0/16", "fd01::/48"],
                services: &["10.241.0.0/20", "fd02::/108"],
                proxy: "ipvs",
                masks: [Some(24), Some(64)],
                domain: "cluster.local",
            },
        ),
        (
            "prefilled spec ipv4",
            "  clusterNetwork:\n    ipFamily: IPv4\n    pods: {cidrBlocks: [173.26.0.0/16]}\n    services: {cidrBlocks: [11.241.17.0/20]}\n    proxyMode: ipvs\n    nodeCidrMaskSizeIPv4: 32\n    nodeLocalDNSCacheEnabled: false\n    dnsDomain: cluster.local.test\n".into(),
            Defaulted {
                pods: &["173.26.0.0/16"],
                services: &["11.241.17.0/20"],
                proxy: "ipvs",
                masks: [Some(32), None],
                domain: "cluster.local.test",
            },
        ),
        (
            "prefilled spec dual stack",
            "  clusterNetwork:\n    ipFamily: IPv4+IPv6\n    pods: {cidrBlocks: [173.26.0.0/16, fd02::/48]}\n    services: {cidrBlocks: [11.241.17.0/20, fd03::/120]}\n    proxyMode: proxy-test\n    nodeCidrMaskSizeIPv4: 32\n    nodeCidrMaskSizeIPv6: 48\n    dnsDomain: cluster.local.test\n".into(),
            Defaulted {
                pods: &["173.26.0.0/16", "fd02::/48"],
                services: &["11.241.17.0/20", "fd03::/120"],
                proxy: "proxy-test",
                masks: [Some(32), Some(48)],
                domain: "cluster.local.test",
            },
        ),
        (
            "v1.35 defaults to nftables",
            "  version: 1.35.0\n  cloud:\n    providerName: aws\n  clusterNetwork:\n    proxyMode: \"\"\n".into(),
            Defaulted {
                pods: &["172.25.0.0/16"],
                services: &["10.240.16.0/20"],
                proxy: "nftables",
                masks: [Some(24), None],
                domain: "cluster.local",
            },
        ),
    ];
    let mut failures = Vec::new();
    for (case, spec, want) in cases {
        let upstream = Upstream {
            repo: KKP,
            file: "pkg/defaulting/cluster_test.go",
            test: "TestDefaultClusterNetwork",
            case,
        };
        let net = super::analyze(&format!("{head}{spec}"), &[]).network;
        let pods: Vec<&str> = net.pods.iter().map(|p| p.value.text.as_str()).collect();
        let services: Vec<&str> = net.services.iter().map(|p| p.value.text.as_str()).collect();
        let proxy = net.kube_proxy_mode.as_ref().map(|m| m.value.as_str());
        let masks = [&net.node_masks.ipv4, &net.node_masks.ipv6]
            .map(|m| m.as_ref().and_then(|m| m.value.parsed));
        let got = (
            pods,
            services,
            proxy,
            masks,
            net.cluster_domain.value.as_str(),
        );
        let expected = (
            want.pods.to_vec(),
            want.services.to_vec(),
            Some(want.proxy),
            want.masks,
            want.domain,
        );
        if got != expected {
            failures.push(format!("{upstream}: got {got:?}, upstream {expected:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
