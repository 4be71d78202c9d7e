//! Kubernetes components themselves: kube-apiserver, kube-controller-manager, the kubelet.

use super::PerFamily;

/// kube-controller-manager's node masks when no flag sets them: `defaultNodeMaskCIDRIPv4/IPv6`
/// in kubernetes/kubernetes cmd/kube-controller-manager/app/core.go.
pub const KCM_NODE_MASK: PerFamily<u8> = PerFamily { ipv4: 24, ipv6: 64 };

/// cidrset keeps an uncompressed bitmap of node blocks, so an IPv6 node mask may be at most this
/// many bits longer than the cluster CIDR (`clusterSubnetMaxDiff`, kubernetes/kubernetes
/// pkg/controller/nodeipam/ipam/cidrset/cidr_set.go). IPv4 has no such check there.
pub const CIDRSET_MAX_MASK_DIFF: u8 = 16;

/// kube-apiserver refuses a service range with more host bits than this (`maxCIDRBits` in
/// kubernetes/kubernetes cmd/kube-apiserver/app/options/validation.go `validateMaxCIDRRange`).
pub const SERVICE_RANGE_MAX_HOST_BITS: u8 = 20;

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
