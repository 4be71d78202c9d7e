//! Kubernetes components themselves: kube-apiserver, kube-controller-manager, the kubelet and
//! kube-proxy.

use super::PerFamily;
use crate::version::{Release, Version};

/// kube-controller-manager's node masks when no flag sets them: `defaultNodeMaskCIDRIPv4/IPv6`
/// in kubernetes/kubernetes cmd/kube-controller-manager/app/core.go.
pub const KCM_NODE_MASK: PerFamily<u8> = PerFamily { ipv4: 24, ipv6: 64 };

/// cidrset keeps an uncompressed bitmap of node blocks, so an IPv6 node mask may be at most this
/// many bits longer than the cluster CIDR (`clusterSubnetMaxDiff`, kubernetes/kubernetes
/// pkg/controller/nodeipam/ipam/cidrset/cidr_set.go). IPv4 has no such check there.
pub const CIDRSET_MAX_MASK_DIFF: u8 = 16;

/// kube-apiserver refuses a service range with more host bits than this (`maxCIDRBits` in
/// kubernetes/kubernetes cmd/kube-apiserver/app/options/validation.go `validateMaxCIDRRange`),
/// unless both service-allocator gates below are on.
pub const SERVICE_RANGE_MAX_HOST_BITS: u8 = 20;

/// `MultiCIDRServiceAllocator` is on by default from Kubernetes 1.33 (GA; locked on from 1.34),
/// kubernetes/kubernetes pkg/features/kube_features.go.
pub const MULTI_CIDR_SERVICE_ALLOCATOR_ON_SINCE: Release = Release::new(1, 33, 0);

/// `DisableAllocatorDualWrite` is on by default from Kubernetes 1.34 (GA; locked on from 1.35),
/// kubernetes/kubernetes pkg/features/kube_features.go.
pub const DISABLE_ALLOCATOR_DUAL_WRITE_ON_SINCE: Release = Release::new(1, 34, 0);

/// With both gates on, ClusterIPs come from the IPAddress-object allocator, which refuses an IPv6
/// service range shorter than this ("shortest allowed prefix length for service CIDR is 64",
/// kubernetes/kubernetes pkg/registry/core/service/ipallocator/ipallocator.go `NewIPAllocator`).
pub const IP_ADDRESS_ALLOCATOR_MIN_IPV6_PREFIX: u8 = 64;

/// Whether a feature gate of kube-apiserver is on: as set explicitly, else its default for the
/// release (`None`: the newest release kube6 knows, `ASSUMED_RELEASE`).
fn gate_on(version: Option<&Version>, explicit: Option<bool>, on_since: Release) -> bool {
    explicit.unwrap_or_else(|| version.is_none_or(|v| v.is_at_least(on_since)))
}

/// Whether kube-apiserver still limits `--service-cluster-ip-range` to 20 host bits and keeps the
/// bitmap ClusterIP allocator: unless `MultiCIDRServiceAllocator` and `DisableAllocatorDualWrite`
/// are both on (`validateClusterIPFlags`). Explicit gate values win over the release's defaults.
pub fn service_range_size_checked(
    version: Option<&Version>,
    multi_cidr: Option<bool>,
    disable_dual_write: Option<bool>,
) -> bool {
    !(gate_on(version, multi_cidr, MULTI_CIDR_SERVICE_ALLOCATOR_ON_SINCE)
        && gate_on(
            version,
            disable_dual_write,
            DISABLE_ALLOCATOR_DUAL_WRITE_ON_SINCE,
        ))
}

/// kube-apiserver needs at least this many addresses in the service range ("the service cluster
/// IP range must be at least 8 IP addresses", pkg/controlplane/apiserver/options).
pub const SERVICE_RANGE_MIN_ADDRESSES: u128 = 8;

/// The ClusterIP bitmap allocator holds at most this many addresses of an IPv6 range
/// (kubernetes/kubernetes pkg/registry/core/service/ipallocator/bitmap.go).
pub const SERVICE_BITMAP_MAX: u64 = 1 << 16;

/// The API server's Service takes this index of the primary service range (`GetIndexedIP(..., 1)`).
pub const API_SERVER_SERVICE_INDEX: u128 = 1;

/// The kubelet's `maxPods` default (kubernetes/kubernetes pkg/kubelet/apis/config/v1beta1
/// defaults.go `SetDefaults_KubeletConfiguration`).
pub const KUBELET_MAX_PODS: u32 = 110;

/// kube-proxy (kubernetes/kubernetes pkg/proxy/apis/config/validation/validation.go
/// `validateProxyModeLinux`) accepts these modes on Linux, or none ("the best available").
pub const KUBE_PROXY_MODES: &[&str] = &["iptables", "ipvs", "nftables"];

/// The userspace proxy was removed in Kubernetes 1.26; before, kube-proxy accepted `userspace`.
pub const KUBE_PROXY_USERSPACE_REMOVED: Release = Release::new(1, 26, 0);

/// `nftables` needs the `NFTablesProxyMode` gate: alpha (off) in 1.29 and 1.30, on by default
/// from 1.31 (pkg/features/kube_features.go); before 1.29 the mode does not exist.
pub const KUBE_PROXY_NFTABLES_SINCE: Release = Release::new(1, 29, 0);
pub const KUBE_PROXY_NFTABLES_ON_SINCE: Release = Release::new(1, 31, 0);

/// Whether kube-proxy of `version` accepts `mode` (`nftables_gate`: the `NFTablesProxyMode` gate
/// as set explicitly). An empty mode means the default and is always accepted.
pub fn kube_proxy_accepts(
    version: Option<&Version>,
    nftables_gate: Option<bool>,
    mode: &str,
) -> bool {
    match mode {
        "" | "iptables" | "ipvs" => true,
        "userspace" => version.is_some_and(|v| v.is_before(KUBE_PROXY_USERSPACE_REMOVED)),
        "nftables" => {
            version.is_none_or(|v| v.is_at_least(KUBE_PROXY_NFTABLES_SINCE))
                && gate_on(version, nftables_gate, KUBE_PROXY_NFTABLES_ON_SINCE)
        }
        _ => false,
    }
}

/// kube-proxy's `detectLocalMode` values (`validateDetectLocalMode`, kubernetes/kubernetes
/// pkg/proxy/apis/config/validation/validation.go); an empty value means the default,
/// `ClusterCIDR` (pkg/proxy/apis/config/v1alpha1/defaults.go).
pub const KUBE_PROXY_DETECT_LOCAL_MODES: &[&str] = &[
    "ClusterCIDR",
    "NodeCIDR",
    "BridgeInterface",
    "InterfaceNamePrefix",
];

/// Whether kube-proxy validates its `clusterCIDR` under `detect_local_mode` (as written; `None`
/// or empty: the default). kube-proxy splits `clusterCIDR` on commas
/// (pkg/proxy/apis/config/v1alpha1/conversion.go) and, in `ClusterCIDR` mode, refuses a list
/// that is not one CIDR or a dual-stack pair (`validateDualStackCIDRStrings`); the other modes
/// do not read it.
pub fn kube_proxy_validates_cluster_cidr(detect_local_mode: Option<&str>) -> bool {
    matches!(detect_local_mode.unwrap_or(""), "" | "ClusterCIDR")
}

/// The pods a node runs at most when the input does not set the kubelet's `maxPods`, and who
/// decides it. No supported distribution changes the kubelet's default: k0s's worker profiles and
/// kubelet arguments leave `maxPods` alone (k0sproject/k0s, no `maxPods` under pkg/ or cmd/),
/// k3s and RKE2 pass no `--max-pods`, kubeadm writes no `maxPods` into its
/// KubeletConfiguration, and KKP's kubelet configuration keeps it unless an operator sets it.
pub fn max_pods(distribution: crate::model::Distribution) -> (u32, &'static str) {
    let _ = distribution;
    (KUBELET_MAX_PODS, "kubelet default")
}

/// The Kubernetes release kube6's facts about the core components were last checked against.
pub const ASSUMED_RELEASE: crate::version::Release = crate::version::Release::new(1, 36, 0);

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Option<Version> {
        Version::parse(text).ok()
    }

    #[test]
    fn service_range_limit_follows_the_allocator_gates() {
        assert!(service_range_size_checked(v("1.32.5").as_ref(), None, None));
        // 1.33: MultiCIDRServiceAllocator on, DisableAllocatorDualWrite still off.
        assert!(service_range_size_checked(v("1.33.0").as_ref(), None, None));
        assert!(!service_range_size_checked(
            v("1.34.0").as_ref(),
            None,
            None
        ));
        assert!(!service_range_size_checked(None, None, None));
        assert!(!service_range_size_checked(
            v("1.33.2").as_ref(),
            None,
            Some(true)
        ));
        assert!(service_range_size_checked(
            v("1.34.1").as_ref(),
            None,
            Some(false)
        ));
    }

    #[test]
    fn kube_proxy_modes_follow_the_release() {
        assert!(kube_proxy_accepts(None, None, "nftables"));
        assert!(!kube_proxy_accepts(v("1.30.2").as_ref(), None, "nftables"));
        assert!(kube_proxy_accepts(
            v("1.30.2").as_ref(),
            Some(true),
            "nftables"
        ));
        assert!(!kube_proxy_accepts(
            v("1.28.0").as_ref(),
            Some(true),
            "nftables"
        ));
        assert!(kube_proxy_accepts(v("1.25.9").as_ref(), None, "userspace"));
        assert!(!kube_proxy_accepts(v("1.26.0").as_ref(), None, "userspace"));
        assert!(!kube_proxy_accepts(None, None, "userspace"));
        assert!(kube_proxy_accepts(None, None, ""));
        assert!(!kube_proxy_accepts(None, None, "kernelspace"));
    }

    #[test]
    fn cluster_cidr_is_validated_in_cluster_cidr_mode_only() {
        assert!(kube_proxy_validates_cluster_cidr(None));
        assert!(kube_proxy_validates_cluster_cidr(Some("")));
        assert!(kube_proxy_validates_cluster_cidr(Some("ClusterCIDR")));
        assert!(!kube_proxy_validates_cluster_cidr(Some("NodeCIDR")));
        assert!(!kube_proxy_validates_cluster_cidr(Some(
            "InterfaceNamePrefix"
        )));
    }
}
