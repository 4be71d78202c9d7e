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

/// `MaximumBitsForServiceSubnet`: kubeadm refuses a service subnet with more host bits
/// (`ValidateServiceSubnetSize`, for every Kubernetes version, unlike kube-apiserver).
pub const MAX_SERVICE_SUBNET_HOST_BITS: u8 = 20;

/// kubeadm refuses to add a control-plane node to a cluster initialised without
/// `controlPlaneEndpoint`: "unable to add a new control plane instance to a cluster that doesn't
/// have a stable controlPlaneEndpoint address" (kubeadm's join preflight,
/// `checkIfReadyForAdditionalControlPlane`). With two or more control-plane nodes the init
/// configuration must name it.
pub const CONTROL_PLANE_ENDPOINT_NEEDED_FROM: usize = 2;

/// `kubeadm init --upload-certs` stores the control-plane certificates in the cluster, encrypted
/// with the certificate key, for 2 hours; a joining control-plane node downloads them with
/// `controlPlane.certificateKey` (cmd/kubeadm/app/phases/copycerts). The flag is one of the few
/// `--config` may be mixed with (cmd/kubeadm/app/apis/kubeadm/validation `isAllowedFlag`);
/// `--control-plane` is not, so a control-plane join is a JoinConfiguration with `controlPlane`.
pub const UPLOAD_CERTS_FLAG: &str = "--upload-certs";

/// The API server's secure port kubeadm uses when the endpoint names none.
pub const API_PORT: u16 = 6443;

/// The init phase that installs kube-proxy (`addon` with its sub-phase `kube-proxy`,
/// kubernetes/kubernetes cmd/kubeadm/app/cmd/phases/init/addons.go), skipped with
/// `skipPhases: [addon/kube-proxy]` in the InitConfiguration (v1beta3 and v1beta4) or
/// `kubeadm init --skip-phases=addon/kube-proxy`: a cluster whose CNI replaces kube-proxy
/// (Cilium, Documentation/network/kubernetes/kubeproxy-free.rst) runs none. Joining nodes run
/// no addon phase.
pub const KUBE_PROXY_PHASE: &str = "addon/kube-proxy";
