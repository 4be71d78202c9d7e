//! k3s's ServiceLB, klipper-lb (k3s-io/k3s pkg/cloudprovider/servicelb.go): a DaemonSet of
//! svclb pods per LoadBalancer Service; the Service's addresses are the IPs of the nodes that
//! run a ready svclb pod.

/// `podIPs`: when any of those nodes has an ExternalIP, only ExternalIPs are used (of every
/// node); else their InternalIPs. `filterByIPFamily` then keeps the addresses of the Service's
/// `ipFamilies`, in their order. A family whose nodes have an InternalIP of it but where some
/// node has an ExternalIP of the other family gets no address.
pub const EXTERNAL_IPS_WIN: bool = true;

/// The svclb pods take host ports: `net.ipv6.conf.all.forwarding=1` is set in their pods for an
/// IPv6 Service, and the default source range `0.0.0.0/0` is widened with `::/0`.
pub const SVCLB_NAMESPACE: &str = "kube-system";

/// RKE2 runs ServiceLB only with `enable-servicelb: true` (rancher/rke2 pkg/cli/cmds/server.go).
pub const RKE2_FLAG: &str = "enable-servicelb";

/// Rootless k3s reports `127.0.0.1` as every ServiceLB Service's address (`podIPs` returns it
/// when `k.Rootless`): the Service is reachable through the rootless port forwarder, not on a
/// node address.
pub const ROOTLESS_ADDRESS: &str = "127.0.0.1";
