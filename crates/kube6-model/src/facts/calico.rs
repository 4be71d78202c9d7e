//! Calico (projectcalico/calico libcalico-go/lib/clientv3/ippool.go `validateAndSetDefaults`,
//! node/pkg/lifecycle/startup/startup.go).

use kube6_net::Family;

use super::{PerFamily, PrefixBounds};
use crate::version::{Release, Version};

/// The Calico release kube6's Calico facts were checked against (the CRDs in
/// shared/schemas/calico are v3.32.1's). Canal's version is the Calico version it ships.
pub const ASSUMED_RELEASE: Release = Release::new(3, 32, 1);

/// The block sizes an IPPool accepts ("IPv4 block size must be between 20 and 32", "IPv6 block
/// size must be between 116 and 128").
pub const BLOCK_SIZE_BOUNDS: PerFamily<PrefixBounds> = PerFamily {
    ipv4: PrefixBounds { min: 20, max: 32 },
    ipv6: PrefixBounds { min: 116, max: 128 },
};

/// The block size of a pool that sets none.
pub const DEFAULT_BLOCK_SIZE: PerFamily<u8> = PerFamily {
    ipv4: 26,
    ipv6: 122,
};

/// Accepted block sizes for `family`.
pub const fn block_size_bounds(family: Family) -> PrefixBounds {
    BLOCK_SIZE_BOUNDS.get(family)
}

/// `ipipMode` and `vxlanMode` values an IPPool accepts (CRD enum; case matters, "never" is refused).
pub const ENCAPSULATION_MODES: &[&str] = &["Never", "Always", "CrossSubnet"];

/// `allowedUses` values (CRD enum). A `LoadBalancer` pool holds Service addresses, not pods, and
/// may not be combined with `Workload` or `Tunnel` nor use IP-in-IP or VXLAN (CRD CEL rules).
pub const ALLOWED_USES: &[&str] = &["Workload", "Tunnel", "LoadBalancer"];

/// The link-local ranges an IPPool may not overlap ("IPPool CIDR overlaps with IPv4 Link Local
/// range 169.254.0.0/16" / "... IPv6 Link Local range fe80::/10").
pub const LINK_LOCAL: PerFamily<&str> = PerFamily {
    ipv4: "169.254.0.0/16",
    ipv6: "fe80::/10",
};

/// calico-node's pool when `CALICO_IPV4POOL_CIDR` is unset and kubeadm gives no podSubnet.
pub const DEFAULT_IPV4_POOL: &str = "192.168.0.0/16";

/// IPv6 over VXLAN arrived in the Calico 3.23 cycle (projectcalico/calico PRs #5919, #6005,
/// #6033; inferred from PR dates, see shared/reference/kubernetes_kkp_cni.md).
pub const IPV6_VXLAN_SINCE: Release = Release::new(3, 23, 0);

/// Whether this Calico release can carry IPv6 over VXLAN (an unknown version is assumed new).
pub fn has_ipv6_vxlan(version: Option<&Version>) -> bool {
    version.is_none_or(|v| v.is_at_least(IPV6_VXLAN_SINCE))
}

/// The operator's `Installation` `spec.cni.ipam.type` for host-local IPAM over the nodes'
/// podCIDRs; its default, `Calico`, is Calico IPAM (operator.tigera.io_installations.yaml:
/// "For CNI Plugin Calico, this field defaults to Calico").
pub const OPERATOR_HOST_LOCAL_IPAM: &str = "HostLocal";

/// Canal's `calico-node` runs host-local IPAM on kube-controller-manager's node blocks; its CNI
/// configuration names each family's block with a placeholder the Calico CNI plugin replaces:
/// `usePodCidr` (the node's IPv4 podCIDR) and `usePodCidrIPv6` (its IPv6 one). A family
/// without its placeholder gets no address ("usePodCidrIPv6 found but there is no IPv6 CIDR
/// configured" is the other direction). projectcalico/calico
/// cni-plugin/pkg/ipamplugin and tigera/operator `buildHostLocalIPAM`.
pub const HOST_LOCAL_POD_CIDR: PerFamily<&str> = PerFamily {
    ipv4: "usePodCidr",
    ipv6: "usePodCidrIPv6",
};

/// calico-node creates its IPv4 default pool with `natOutgoing: true` and its IPv6 one with
/// `false` unless `CALICO_IPV4POOL_NAT_OUTGOING`/`CALICO_IPV6POOL_NAT_OUTGOING` say otherwise
/// (node/pkg/lifecycle/startup/startup.go).
pub const DEFAULT_POOL_NAT_OUTGOING: PerFamily<bool> = PerFamily {
    ipv4: true,
    ipv6: false,
};
