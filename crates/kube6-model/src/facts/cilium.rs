//! Cilium (cilium/cilium install/kubernetes/cilium/values.yaml, pkg/ipam/cidrset/cidr_set.go).

use super::PerFamily;

/// `ipam.mode` default of the chart.
pub const DEFAULT_IPAM_MODE: &str = "cluster-pool";

/// `ipam.operator.clusterPoolIPv4PodCIDRList` / `clusterPoolIPv6PodCIDRList` defaults.
pub const DEFAULT_CLUSTER_POOL: PerFamily<&str> = PerFamily {
    ipv4: "10.0.0.0/8",
    ipv6: "fd00::/104",
};

/// `clusterPoolIPv4MaskSize` / `clusterPoolIPv6MaskSize` defaults.
pub const DEFAULT_CLUSTER_POOL_MASK: PerFamily<u8> = PerFamily {
    ipv4: 24,
    ipv6: 120,
};

/// The operator's cidrset fork keeps kube's 16-bit limit for IPv6 node masks.
pub const CLUSTER_POOL_MAX_MASK_DIFF: u8 = 16;
