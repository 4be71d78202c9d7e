//! Cilium (cilium/cilium) cluster-pool IPAM: pkg/ipam/allocator/clusterpool/cidralloc/cidralloc_test.go
//! TestNewCIDRSets (the pool lists) and pkg/ipam/cidrset/cidr_set_test.go TestInvalidSubNetMaskSize
//! and TestCIDRSetv6 (the mask limits). Read from a mirror of a fork that tracks upstream
//! (qiniu/cilium at cf4b9c4820, whose files under pkg/ipam match cilium/cilium's). Cilium's cidrset is
//! a copy of kube-controller-manager's: the allocation tests it shares with it (FullyAllocated,
//! IndexToCIDRBlock, RandomishAllocation, AllocationOccupied, GetBitforCIDR, Occupy) are ported
//! once, in kube_controller_manager.rs, against kube6-net's CidrSet.
//!
//! Each row is a kube6 ClusterNetwork with Cilium in cluster-pool mode and the case's list and mask.

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
    check(rows());
}
