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

/// RKE2 packages Cilium with `ipam.mode: kubernetes` (rancher/rke2-charts
/// packages/rke2-cilium/generated-changes/patch/values.yaml.patch), so pods take their addresses
/// from the nodes' podCIDRs.
pub const RKE2_IPAM_MODE: &str = "kubernetes";

/// The `ipam.mode` the Cilium chart a distribution installs defaults to.
pub fn default_ipam_mode(distribution: crate::model::Distribution) -> &'static str {
    match distribution {
        crate::model::Distribution::Rke2 => RKE2_IPAM_MODE,
        _ => DEFAULT_IPAM_MODE,
    }
}
