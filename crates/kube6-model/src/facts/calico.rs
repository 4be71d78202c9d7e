//! Calico (projectcalico/calico libcalico-go/lib/clientv3/ippool.go `validateAndSetDefaults`,
//! node/pkg/lifecycle/startup/startup.go).

use kube6_net::Family;

use super::{PerFamily, PrefixBounds};
use crate::version::{Release, Version};

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

/// calico-node's pool when `CALICO_IPV4POOL_CIDR` is unset and kubeadm gives no podSubnet.
pub const DEFAULT_IPV4_POOL: &str = "192.168.0.0/16";

/// IPv6 over VXLAN arrived in the Calico 3.23 cycle (projectcalico/calico PRs #5919, #6005,
/// #6033; inferred from PR dates, see shared/reference/kubernetes_kkp_cni.md).
pub const IPV6_VXLAN_SINCE: Release = Release::new(3, 23, 0);

/// Whether this Calico release can carry IPv6 over VXLAN (an unknown version is assumed new).
pub fn has_ipv6_vxlan(version: Option<&Version>) -> bool {
    version.is_none_or(|v| v.is_at_least(IPV6_VXLAN_SINCE))
}
