//! kube-router: cloudnativelabs/kube-router pkg/controllers/netpol/network_policy_controller_test.go
//! `TestNetworkPolicyController`, the cases about `--service-cluster-ip-range`, which
//! pkg/svcip/validator.go `NewValidator` checks at start-up (every entry a CIDR of an enabled
//! family, at most two). The flag is a pflag string slice (pkg/options/options.go), read as CSV:
//! rows for that parser's cases without a test of their own name the code. Each row is a kube6
//! cluster with kube-router's DaemonSet; in the upstream cases IPv4 is on and IPv6 is on only
//! where the case says so. The node-port-range and host-name cases are outside kube6's scope.

use super::{Kube6, Row, Upstream, Upstreams, check, row};
use Upstreams::{Accepts, Refuses};

const KUBE_ROUTER: &str = "cloudnativelabs/kube-router";

fn controller(case: &'static str) -> Upstream {
    Upstream {
        repo: KUBE_ROUTER,
        file: "pkg/controllers/netpol/network_policy_controller_test.go",
        test: "TestNetworkPolicyController",
        case,
    }
}

fn flag(case: &'static str) -> Upstream {
    Upstream {
        repo: KUBE_ROUTER,
        file: "pkg/svcip/validator.go",
        test: "NewValidator after pflag's StringSlice (code; no upstream test case)",
        case,
    }
}

const V4: &str = "  pods: [10.244.0.0/16]\n  services: [10.96.0.0/12]\n";
const DUAL: &str = "  pods: [10.244.0.0/16, \"2001:db8:42::/56\"]\n  services: [10.96.0.0/12, \"2001:db8:42:1::/112\"]\n";

/// A kube6 cluster with `ranges` and kube-router started with `--service-cluster-ip-range=range`
/// (IPv6 on when `ipv6`).
fn cluster(ranges: &str, range: &str, ipv6: bool) -> String {
    let mut args = vec![format!("\"--service-cluster-ip-range={range}\"")];
    if ipv6 {
        args.push("\"--enable-ipv6=true\"".to_string());
    }
    format!(
        "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: kubeadm\n{ranges}---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: kube-router, namespace: kube-system}}\nspec:\n  template:\n    spec:\n      containers:\n        - name: kube-router\n          args: [{}]\n",
        args.join(", ")
    )
}

fn rows() -> Vec<Row> {
    vec![
        row(
            controller("Test bad cluster CIDR (not properly formatting ip address)"),
            Refuses,
            cluster(V4, "10.10.10", false),
            Kube6::Refuses(&["K6E323"]),
        ),
        row(
            controller("Test bad cluster CIDR (not using an ip address)"),
            Refuses,
            cluster(V4, "foo", false),
            Kube6::Refuses(&["K6E323"]),
        ),
        row(
            controller("Test bad cluster CIDR (using an ip address that is not a CIDR)"),
            Refuses,
            cluster(V4, "10.10.10.10", false),
            Kube6::Refuses(&["K6E323"]),
        ),
        row(
            controller(
                "Test bad cluster CIDRs (using more than 2 ip addresses, including 2 ipv4, ipv6 disabled)",
            ),
            Refuses,
            cluster(V4, "10.96.0.0/12,10.244.0.0/16,2001:db8:42:1::/112", false),
            Kube6::Refuses(&["K6E218", "K6E323"]),
        ),
        row(
            controller(
                "Test bad cluster CIDRs (using more than 2 ip addresses, including 2 ipv4, ipv6 enabled)",
            ),
            Refuses,
            cluster(DUAL, "10.96.0.0/12,10.244.0.0/16,2001:db8:42:1::/112", true),
            Kube6::Refuses(&["K6E323"]),
        ),
        row(
            controller(
                "Test bad cluster CIDRs (using more than 2 ip addresses, including 2 ipv6, ipv6 disabled)",
            ),
            Refuses,
            cluster(
                V4,
                "10.96.0.0/12,2001:db8:42:0::/56,2001:db8:42:1::/112",
                false,
            ),
            Kube6::Refuses(&["K6E218", "K6E323"]),
        ),
        row(
            controller(
                "Test bad cluster CIDRs (using more than 2 ip addresses, including 2 ipv6, ipv6 enabled)",
            ),
            Refuses,
            cluster(
                DUAL,
                "10.96.0.0/12,2001:db8:42:0::/56,2001:db8:42:1::/112",
                true,
            ),
            Kube6::Refuses(&["K6E323"]),
        ),
        row(
            controller("Test good cluster CIDR (using single IP with a /32)"),
            Accepts,
            cluster(V4, "10.10.10.10/32", false),
            Kube6::Warns("K6W324"),
        ),
        row(
            controller("Test good cluster CIDR (using normal range with /24)"),
            Accepts,
            cluster(
                "  pods: [10.244.0.0/16]\n  services: [10.10.10.0/24]\n",
                "10.10.10.0/24",
                false,
            ),
            Kube6::Accepts,
        ),
        row(
            controller("Test good cluster CIDR (using ipv6)"),
            Accepts,
            cluster(DUAL, "2001:db8:42:1::/112", true),
            Kube6::Accepts,
        ),
        row(
            controller("Test good cluster CIDRs (with dual-stack)"),
            Accepts,
            cluster(DUAL, "10.96.0.0/12,2001:db8:42:1::/112", true),
            Kube6::Accepts,
        ),
        row(
            flag("a trailing comma leaves an empty entry, which net.ParseCIDR refuses"),
            Refuses,
            cluster(V4, "10.96.0.0/12,", false),
            Kube6::Refuses(&["K6E323"]),
        ),
        row(
            flag("CSV keeps the space after a comma, which net.ParseCIDR refuses"),
            Refuses,
            cluster(DUAL, "10.96.0.0/12, 2001:db8:42:1::/112", true),
            Kube6::Refuses(&["K6E323"]),
        ),
    ]
}

#[test]
fn service_cluster_ip_range() {
    check(rows());
}
