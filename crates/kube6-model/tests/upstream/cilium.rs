//! Cilium (cilium/cilium) cluster-pool IPAM: pkg/ipam/allocator/clusterpool/cidralloc/cidralloc_test.go
//! TestNewCIDRSets (the pool lists) and pkg/ipam/cidrset/cidr_set_test.go TestInvalidSubNetMaskSize
//! and TestCIDRSetv6 (the mask limits). Read from a mirror of a fork that tracks upstream
//! (qiniu/cilium at cf4b9c4820, whose files under pkg/ipam match cilium/cilium's). Cilium's cidrset is
//! a copy of kube-controller-manager's: the allocation tests it shares with it (FullyAllocated,
//! IndexToCIDRBlock, RandomishAllocation, AllocationOccupied, GetBitforCIDR, Occupy) are ported
//! once, in kube_controller_manager.rs, against kube6-net's CidrSet.
//!
//! Each row is a kube6 ClusterNetwork with Cilium in cluster-pool mode and the case's list and mask;
//! the rows on how the operator reads its lists (operator/option/config.go) give the lists as
//! Helm values or as the `cilium-config` ConfigMap.

use super::{Kube6, Row, Upstream, Upstreams, check, row};
use Upstreams::{Accepts, Refuses};

const CILIUM: &str = "cilium/cilium";

fn cidralloc(case: &'static str) -> Upstream {
    Upstream {
        repo: CILIUM,
        file: "pkg/ipam/allocator/clusterpool/cidralloc/cidralloc_test.go",
        test: "TestNewCIDRSets",
        case,
    }
}

fn cidrset(test: &'static str, case: &'static str) -> Upstream {
    Upstream {
        repo: CILIUM,
        file: "pkg/ipam/cidrset/cidr_set_test.go",
        test,
        case,
    }
}

fn code(case: &'static str) -> Upstream {
    Upstream {
        repo: CILIUM,
        file: "pkg/ipam/allocator/clusterpool/cidralloc/cidralloc.go",
        test: "NewCIDRSets (code; no upstream test)",
        case,
    }
}

/// A dual-stack cluster whose Cilium cluster pool for `family` ("IPv4" or "IPv6") is `list` with
/// node mask `mask`.
fn cilium(family: &str, list: &[&str], mask: u8) -> String {
    let list: Vec<String> = list.iter().map(|c| format!("\"{c}\"")).collect();
    format!(
        "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: kubeadm\n  pods: [10.244.0.0/16, fd00:10::/56]\n  services: [10.96.0.0/16, fd00:20::/112]\n  cni: {{name: cilium, cilium: {{ipamMode: cluster-pool, clusterPool{family}PodCIDRList: [{}], clusterPool{family}MaskSize: {mask}}}}}\n",
        list.join(", ")
    )
}

fn operator_option(case: &'static str) -> Upstream {
    Upstream {
        repo: CILIUM,
        file: "operator/option/config.go",
        test: "Config.Populate, vp.GetStringSlice of the ConfigMap value (code; no upstream test)",
        case,
    }
}

/// A dual-stack cluster and the Helm values Cilium is installed with (cluster-pool IPAM), `ipam`
/// giving the operator block.
fn helm_values(operator: &str) -> String {
    format!(
        "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: kubeadm\n  pods: [10.244.0.0/16, fd00:10::/56]\n  services: [10.96.0.0/16, fd00:20::/112]\n---\nipv4: {{enabled: true}}\nipv6: {{enabled: true}}\nipam:\n  mode: cluster-pool\n  operator:\n{operator}"
    )
}

/// The same cluster with the `cilium-config` ConfigMap the chart writes, `data` holding the
/// cluster-pool keys.
fn config_map(data: &str) -> String {
    format!(
        "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: kubeadm\n  pods: [10.244.0.0/16, fd00:10::/56]\n  services: [10.96.0.0/16, fd00:20::/112]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cilium-config\n  namespace: kube-system\ndata:\n  ipam: cluster-pool\n  enable-ipv4: \"true\"\n  enable-ipv6: \"true\"\n{data}"
    )
}

/// How the operator reads its pool lists: the chart joins the values list with spaces
/// (install/kubernetes/cilium/templates/cilium-configmap.yaml), and `GetStringSlice` splits the
/// ConfigMap string on white space, not on commas.
fn list_parsing() -> Vec<Row> {
    vec![
        row(
            operator_option("values list of two CIDRs"),
            Accepts,
            helm_values(
                "    clusterPoolIPv4PodCIDRList: [10.0.0.0/16, 10.1.0.0/16]\n    clusterPoolIPv6PodCIDRList: [\"fd00:10::/104\"]\n    clusterPoolIPv6MaskSize: 120\n",
            ),
            Kube6::Accepts,
        ),
        row(
            operator_option("values string with two CIDRs and a comma: one entry, not a CIDR"),
            Refuses,
            helm_values("    clusterPoolIPv4PodCIDRList: \"10.0.0.0/16,10.1.0.0/16\"\n"),
            Kube6::Refuses(&["K6E317"]),
        ),
        row(
            operator_option("values string with two CIDRs and a space"),
            Accepts,
            helm_values("    clusterPoolIPv4PodCIDRList: \"10.0.0.0/16 10.1.0.0/16\"\n"),
            Kube6::Accepts,
        ),
        row(
            operator_option("an empty values item vanishes in the joined string"),
            Accepts,
            helm_values("    clusterPoolIPv4PodCIDRList: [10.0.0.0/16, \"\"]\n"),
            Kube6::Accepts,
        ),
        row(
            operator_option("ConfigMap list separated by a space"),
            Accepts,
            config_map(
                "  cluster-pool-ipv4-cidr: \"10.0.0.0/16 10.1.0.0/16\"\n  cluster-pool-ipv4-mask-size: \"24\"\n",
            ),
            Kube6::Accepts,
        ),
        row(
            operator_option("ConfigMap list separated by a comma: one entry, not a CIDR"),
            Refuses,
            config_map(
                "  cluster-pool-ipv4-cidr: \"10.0.0.0/16,10.1.0.0/16\"\n  cluster-pool-ipv4-mask-size: \"24\"\n",
            ),
            Kube6::Refuses(&["K6E317"]),
        ),
    ]
}

fn tunnel_config(case: &'static str) -> Upstream {
    Upstream {
        repo: CILIUM,
        file: "pkg/datapath/tunnel/tunnel_test.go",
        test: "TestConfig",
        case,
    }
}

fn native_routing_cidr(case: &'static str) -> Upstream {
    Upstream {
        repo: CILIUM,
        file: "pkg/option/config_test.go",
        test: "TestCheckIPv6NativeRoutingCIDR",
        case,
    }
}

fn routing_mode(case: &'static str) -> Upstream {
    Upstream {
        repo: CILIUM,
        file: "pkg/option/config.go",
        test: "DaemonConfig.validate (code; no upstream test case)",
        case,
    }
}

/// An IPv6-only cluster (pods fd00:10::/56) with Cilium 1.18 installed with these Helm values
/// (Kubernetes host-scope IPAM).
fn ipv6_values(values: &str) -> String {
    format!(
        "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: kubeadm\n  pods: [fd00:10::/56]\n  services: [fd00:20::/112]\n  cni: {{name: cilium, version: 1.18.2}}\n---\nipv4: {{enabled: false}}\nipv6: {{enabled: true}}\nipam: {{mode: kubernetes}}\n{values}"
    )
}

/// The agent's checks of its routing settings, on an IPv6-only cluster.
fn routing() -> Vec<Row> {
    vec![
        row(
            tunnel_config("invalid underlay"),
            Refuses,
            ipv6_values("routingMode: tunnel\nunderlayProtocol: invalid\n"),
            Kube6::Refuses(&["K6E326"]),
        ),
        row(
            tunnel_config("tunnel enabled, vxlan, ipv6 underlay"),
            Accepts,
            ipv6_values("routingMode: tunnel\ntunnelProtocol: vxlan\nunderlayProtocol: ipv6\n"),
            Kube6::Accepts,
        ),
        row(
            routing_mode("a routing mode other than native or tunnel"),
            Refuses,
            ipv6_values("routingMode: direct\n"),
            Kube6::Refuses(&["K6E326"]),
        ),
        row(
            native_routing_cidr("with native routing cidr"),
            Accepts,
            ipv6_values(
                "routingMode: native\nautoDirectNodeRoutes: true\nenableIPv6Masquerade: true\nipv6NativeRoutingCIDR: fd00:10::/56\n",
            ),
            Kube6::Accepts,
        ),
        row(
            native_routing_cidr("without native routing cidr and no masquerade"),
            Accepts,
            ipv6_values(
                "routingMode: native\nautoDirectNodeRoutes: true\nenableIPv6Masquerade: false\n",
            ),
            Kube6::Accepts,
        ),
        row(
            native_routing_cidr("without native routing cidr and tunnel enabled"),
            Accepts,
            ipv6_values(
                "routingMode: tunnel\nunderlayProtocol: ipv6\nenableIPv6Masquerade: true\n",
            ),
            Kube6::Accepts,
        ),
        row(
            native_routing_cidr("without native routing cidr and tunnel disabled"),
            Refuses,
            ipv6_values(
                "routingMode: native\nautoDirectNodeRoutes: true\nenableIPv6Masquerade: true\n",
            ),
            Kube6::Refuses(&["K6E211"]),
        ),
    ]
}

fn rows() -> Vec<Row> {
    vec![
        row(cidralloc("test-1"), Accepts, cilium("IPv4", &["10.0.0.0/16"], 24), Kube6::Accepts),
        row(
            cidralloc("test-2 - CIDRs collide"),
            Refuses,
            cilium("IPv4", &["10.0.0.0/16", "10.0.0.0/8"], 24),
            Kube6::Refuses(&["K6E317"]),
        ),
        row(
            cidralloc("test-2 - CIDRs collide (the second case of that name: one /8)"),
            Accepts,
            cilium("IPv4", &["10.0.0.0/8"], 24),
            Kube6::Accepts,
        ),
        row(
            cidralloc("test-4 - CIDRs collide"),
            Refuses,
            cilium("IPv6", &["fd00::/100", "fd00::/96"], 112),
            Kube6::Refuses(&["K6E317"]),
        ),
        row(
            cidralloc("test-5 - CIDRs do not collide"),
            Accepts,
            cilium("IPv6", &["fd00::/100", "fd00::1:0:0/96"], 112),
            Kube6::Accepts,
        ),
        row(
            cidralloc("test-6 - CIDR does not collide"),
            Accepts,
            cilium("IPv6", &["fd00::/104"], 120),
            Kube6::Accepts,
        ),
        row(
            code("CIDR is not v6 family"),
            Refuses,
            cilium("IPv6", &["10.0.0.0/16"], 112),
            Kube6::Refuses(&["K6E317"]),
        ),
        row(
            code("CIDR is not v4 family"),
            Refuses,
            cilium("IPv4", &["fd00::/104"], 24),
            Kube6::Refuses(&["K6E317"]),
        ),
        row(
            code("pool longer than the node mask"),
            Accepts,
            cilium("IPv4", &["10.0.0.0/26"], 24),
            Kube6::Refuses(&["K6E317"]),
        )
        .differs(
            "Cilium's NewCIDRSet does not check this: 1 << (24 - 26) wraps to zero blocks, so the operator \
             starts but never hands a node a pod CIDR from the pool",
        ),
        row(
            cidrset("TestInvalidSubNetMaskSize", "Check valid subnet mask size with IPv4"),
            Accepts,
            cilium("IPv4", &["10.0.0.0/24"], 32),
            Kube6::Accepts,
        ),
        row(
            cidrset("TestInvalidSubNetMaskSize", "Check valid subnet mask size with IPv6"),
            Accepts,
            cilium("IPv6", &["2001:beef:1234:3690::/60"], 64),
            Kube6::Accepts,
        ),
        row(
            cidrset("TestInvalidSubNetMaskSize", "Check invalid subnet mask size with IPv4"),
            Refuses,
            cilium("IPv4", &["10.0.0.0/24"], 64),
            Kube6::Refuses(&["K6E085"]),
        ),
        row(
            cidrset("TestInvalidSubNetMaskSize", "Check invalid subnet mask size with IPv6"),
            Refuses,
            cilium("IPv6", &["2001:beef:1234:3690::/60"], 130),
            Kube6::Refuses(&["K6E085"]),
        ),
        row(
            cidrset("TestCIDRSetv6", "Max cluster subnet size with IPv4"),
            Accepts,
            cilium("IPv4", &["127.0.0.0/8"], 32),
            Kube6::Accepts,
        ),
        row(
            cidrset("TestCIDRSetv6", "Max cluster subnet size with IPv6"),
            Refuses,
            cilium("IPv6", &["beef:1234::/32"], 49),
            Kube6::Refuses(&["K6E085"]),
        ),
        row(
            cidrset("TestCIDRSetv6", "Allocate a few IPv6"),
            Accepts,
            cilium("IPv6", &["2001:beef:1234:3690::/60"], 64),
            Kube6::Accepts,
        ),
    ]
}

#[test]
fn validation_tests() {
    let mut rows = rows();
    rows.extend(list_parsing());
    rows.extend(routing());
    check(rows);
}
