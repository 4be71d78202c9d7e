//! MetalLB (metallb/metallb, read at 7938d3f89, after v0.16.1): the IPAddressPool validation of
//! internal/config/config_test.go `TestParse` (config.go `ParseCIDR`, `poolsFor`,
//! `addressPoolFromCR`) and the dual-stack allocation of internal/allocator/allocator_test.go
//! `TestPoolAllocation` (allocator.go `findBestPoolForService`, allocation.go
//! `selectIPsForFamilyAndPolicy`).
//!
//! Each row is a dual-stack kube6 ClusterNetwork whose `spec.loadBalancer` (MetalLB) holds the
//! case's pools. kube6's pools are rendered into IPAddressPools by `kube6 render`, so a pool
//! kube6 accepts must be one MetalLB accepts.

use super::{Kube6, Row, Upstream, Upstreams, check, row};
use Upstreams::{Accepts, Refuses};

const METALLB: &str = "metallb/metallb";

fn parse(case: &'static str) -> Upstream {
    Upstream {
        repo: METALLB,
        file: "internal/config/config_test.go",
        test: "TestParse",
        case,
    }
}

fn allocation(case: &'static str) -> Upstream {
    Upstream {
        repo: METALLB,
        file: "internal/allocator/allocator_test.go",
        test: "TestPoolAllocation",
        case,
    }
}

/// A dual-stack kubeadm cluster on 192.0.2.0/24 and 2001:db8:5::/64 whose MetalLB pools are
/// `pools` (each a list of addresses), in l2 mode.
fn cluster(pools: &[&[&str]]) -> String {
    let mut text = String::from(
        "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: {name: kubeadm, version: v1.35.2}\n  pods: [10.244.0.0/16, fd00:10::/56]\n  services: [10.96.0.0/16, fd00:20::/112]\n  nodes:\n    - {name: n1, addresses: [192.0.2.10, \"2001:db8:5::10\"]}\n  loadBalancer:\n    implementation: metallb\n    version: v0.16.1\n    pools:\n",
    );
    for (i, addresses) in pools.iter().enumerate() {
        let list: Vec<String> = addresses.iter().map(|a| format!("{a:?}")).collect();
        text.push_str(&format!(
            "      - {{name: pool{}, addresses: [{}]}}\n",
            i + 1,
            list.join(", ")
        ));
    }
    text
}

fn rows() -> Vec<Row> {
    vec![
        // TestParse, pool cases.
        row(
            parse("invalid pool CIDR"),
            Refuses,
            cluster(&[&[
                "100.200.300.400/24",
                "198.51.100.0/28",
                "2001:db8:5::ff00/120",
            ]]),
            Kube6::Refuses(&["K6E400"]),
        ),
        row(
            parse("invalid pool CIDR prefix length"),
            Refuses,
            cluster(&[&["1.2.3.0/33", "198.51.100.0/28", "2001:db8:5::ff00/120"]]),
            Kube6::Refuses(&["K6E400"]),
        ),
        row(
            parse("invalid pool CIDR, first address of the range is after the second"),
            Refuses,
            cluster(&[&[
                "192.0.2.100-192.0.2.90",
                "198.51.100.0/28",
                "2001:db8:5::ff00/120",
            ]]),
            Kube6::Refuses(&["K6E400"]),
        ),
        row(
            parse("overlapping CIDRs"),
            Refuses,
            cluster(&[&["10.0.0.0/8", "2001:db8:5::ff00/120"], &["10.0.0.0/16"]]),
            // The pod and service ranges are inside 10.0.0.0/8 too.
            Kube6::Refuses(&["K6E401"]),
        ),
        row(
            parse("duplicate CIDRs"),
            Refuses,
            cluster(&[
                &["198.51.100.0/24", "2001:db8:5::ff00/120"],
                &["198.51.100.0/24"],
            ]),
            Kube6::Refuses(&["K6E401"]),
        ),
        row(
            parse("config using all features (pools of CIDRs and FIRST-LAST ranges)"),
            Accepts,
            cluster(&[
                &["198.51.100.0/24", "2001:db8:5::ff00/120"],
                &[
                    "203.0.113.10-203.0.113.20",
                    "2001:db8:5::fe00-2001:db8:5::feff",
                ],
            ]),
            Kube6::Accepts,
        ),
        row(
            parse("a CIDR with host bits (net.ParseCIDR takes its network)"),
            Accepts,
            cluster(&[&["198.51.100.7/24", "2001:db8:5::ff00/120"]]),
            Kube6::Warns("K6W001"),
        ),
        // TestPoolAllocation, dual-stack cases: how pools serve dual-stack Services.
        row(
            allocation("s1 gets dual-stack IPs (pool test-dualstack holds both families)"),
            Accepts,
            cluster(&[&["198.51.100.0/28", "2001:db8:5::ff00/120"]]),
            Kube6::Accepts,
        ),
        row(
            allocation(
                "s2 gets ipv4 IP / s3 gets ipv6 IP (PreferDualStack from test-v4, test-v6); RequireDualStack gets none",
            ),
            Accepts,
            cluster(&[&["198.51.100.0/28"], &["2001:db8:5::ff00/120"]]),
            Kube6::Warns("K6W405"),
        ),
    ]
}

#[test]
fn metallb_pools_and_dual_stack_allocation() {
    check(rows());
}
