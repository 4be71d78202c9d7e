//! kubeadm (kubernetes/kubernetes cmd/kubeadm/app/constants/constants.go and
//! cmd/kubeadm/app/apis/kubeadm/v1beta4/defaults.go).

/// `DefaultServicesSubnet`; kubeadm has no default pod subnet.
pub const SERVICE_CIDR: &str = "10.96.0.0/12";

/// `MinimumAddressesInServiceSubnet`: the DNS Service is always at the tenth address.
pub const MIN_SERVICE_ADDRESSES: u128 = 10;

/// `MinimumAddressesInPodSubnet`.
pub const MIN_POD_ADDRESSES: u128 = 14;

/// `PodSubnetNodeMaskMaxDiff`: the node mask may be at most this many bits longer than the pod
/// subnet, for both families (kubeadm is stricter than kube-controller-manager for IPv4).
pub const POD_NODE_MASK_MAX_DIFF: u8 = 16;

/// `GetDNSIP`: the CoreDNS Service takes the tenth address of the first service subnet.
pub const DNS_SERVICE_INDEX: u128 = 10;
