//! k0s (k0sproject/k0s): defaults from pkg/apis/k0s/v1beta1/network.go, the flags it gives
//! kube-controller-manager in pkg/component/controller/controllermanager.go, and the releases
//! at which they changed (read from k0s's git tags).

use kube6_net::Family;

use super::PerFamily;
use crate::version::{Release, Version};

/// `spec.network.podCIDR` default (kubebuilder marker).
pub const POD_CIDR: &str = "10.244.0.0/16";
/// `spec.network.serviceCIDR` default.
pub const SERVICE_CIDR: &str = "10.96.0.0/12";

/// The newest k0s release kube6's k0s facts were checked against (the CRD in
/// shared/schemas/k0s is v1.36.3+k0s.2's).
pub const ASSUMED_RELEASE: Release = Release::new(1, 36, 3);

/// In IPv6 single-stack, k0s refuses a service range longer than /108 ("IPv6 service CIDR prefix
/// must be <= 108", pkg/apis/k0s/v1beta1/network.go `Validate`); kube-apiserver refuses one
/// shorter than /108 (`facts::kubernetes::SERVICE_RANGE_MAX_HOST_BITS`), so only /108 passes both.
pub const IPV6_SINGLE_STACK_SERVICE_MAX_PREFIX: u8 = 108;

/// k0s v1.34.0 (commit 5b9466a3c3, "Fix node-cidr-mask-size for single stack IPv6") moved the
/// dual-stack IPv6 node mask from /110 to /117 and gave IPv6 single-stack its own /117 (before,
/// single-stack got `node-cidr-mask-size=24` whatever the family).
pub const NODE_MASK_117_SINCE: Release = Release::new(1, 34, 0);

/// k0s v1.34.0 (commit a50271db8e, "Implement k0s feature gates") added the IPv6SingleStack gate;
/// before it, k0s did not support IPv6 single-stack at all (DNSAddress errors out).
pub const IPV6_SINGLE_STACK_SINCE: Release = Release::new(1, 34, 0);

/// k0s v1.36.1 (commit eb9388ba13, "More consistently build pod and service CIDRs") orders the
/// dual-stack pod ranges by the primary family. Before, `BuildPodCIDR()` always put the IPv6 pod
/// range first (kube-controller-manager's `--cluster-cidr` and kube-proxy's `clusterCIDR`), so
/// nodes got their IPv6 podCIDR first whatever the primary family.
pub const POD_CIDRS_PRIMARY_FIRST_SINCE: Release = Release::new(1, 36, 1);

/// `spec.network.provider` values `Network.Validate` accepts (pkg/apis/k0s/v1beta1/network.go;
/// the CRD enum is the same). An empty value is refused as "Required".
pub const PROVIDERS: &[&str] = &["kuberouter", "calico", "custom"];

/// `spec.network.kubeProxy.mode` values `KubeProxy.Validate` accepts when kube-proxy is not
/// disabled (pkg/apis/k0s/v1beta1/kubeproxy.go). kube-proxy itself dropped `userspace` in
/// Kubernetes 1.26 (see `facts::kubernetes::kube_proxy_accepts`).
pub const KUBE_PROXY_MODES: &[&str] = &["iptables", "ipvs", "userspace", "nftables"];

/// `spec.network.calico.mode` values `Calico.Validate` accepts (pkg/apis/k0s/v1beta1/calico.go).
pub const CALICO_MODES: &[&str] = &["bird", "vxlan", "ipip"];

/// `spec.api.address` values `APISpec.Validate` refuses as "invalid INADDR_ANY"
/// (pkg/apis/k0s/v1beta1/api.go `isAnyAddress`, an exact string comparison).
pub const ANY_ADDRESSES: &[&str] = &["0.0.0.0", "::"];

/// k0s runs its own API endpoint reconciler, and starts kube-apiserver with
/// `--endpoint-reconciler-type=none`, whenever `spec.api.externalAddress` is set: since v0.9.0
/// (commit 197a688ec1), in cmd/controller/controller.go and pkg/component/controller/apiserver.go.
/// Control-plane load balancing (`spec.network.controlPlaneLoadBalancing.enabled`) turns the k0s
/// reconciler off again (so does `--disable-components=endpoint-reconciler`, since v1.26.0).
pub fn apiserver_endpoint_reconciler_off(external_address_set: bool, cplb_enabled: bool) -> bool {
    external_address_set && !cplb_enabled
}

/// `govalidator.IsDNSName`, which `Network.Validate` applies to `clusterDomain`: labels of 1 to 63
/// letters (any case), digits, `_` and `-` (not first), separated by dots, one optional trailing
/// `.` or `_`, at most 255 characters besides the dots, and not an IP address. It is more lenient
/// than a DNS-1123 subdomain (upper case and `_` pass).
pub fn is_dns_name(name: &str) -> bool {
    if name.is_empty() || name.replace('.', "").len() > 255 || kube6_net::parse_ip(name).is_ok() {
        return false;
    }
    let body = name.strip_suffix(['.', '_']).unwrap_or(name);
    if body.is_empty() {
        return false;
    }
    body.split('.').all(|label| {
        let mut bytes = label.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
        first_ok
            && label.len() <= 63
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

/// `k0s controller --enable-worker` registers the node with the control-plane taint
/// (`node-role.kubernetes.io/control-plane:NoSchedule`) unless `--no-taints` is given
/// (pkg/config/cli.go: "disable default taints for controller node", since v1.23.1, commit
/// fb764abaf9): a controller+worker without it runs no workloads.
pub const NO_TAINTS_FLAG: &str = "--no-taints";

/// Before v1.36.1 (commit eb9388ba13) k0s gave kube-router's `--service-cluster-ip-range` only
/// `spec.network.serviceCIDR` (the IPv4 range in dual-stack), not both ranges.
pub fn kube_router_gets_both_service_ranges(version: Option<&Version>) -> bool {
    version.is_none_or(|v| v.is_at_least(POD_CIDRS_PRIMARY_FIRST_SINCE))
}

/// The node masks k0s passes to kube-controller-manager (before `extraArgs` override them).
pub fn node_mask(version: Option<&Version>, dual_stack: bool, family: Family) -> u8 {
    let modern = version.is_none_or(|v| v.is_at_least(NODE_MASK_117_SINCE));
    let masks = if modern {
        PerFamily {
            ipv4: 24,
            ipv6: 117,
        }
    } else if dual_stack {
        PerFamily {
            ipv4: 24,
            ipv6: 110,
        }
    } else {
        // `node-cidr-mask-size=24` for every single-stack cluster.
        PerFamily { ipv4: 24, ipv6: 24 }
    };
    masks.get(family)
}

/// k0s v1.36.1 runs IPv6-primary dual-stack with kube-router: the kubelet's `--node-ip` follows
/// the primary family (commit 6dda195e94), kube-router gets `--router-id=generate` (d27bc74a0d)
/// and both service ranges primary first, kube-controller-manager and kube-proxy the pod ranges
/// primary first (eb9388ba13). Before, every one of them assumed IPv4 first
/// (k0sproject/k0s#7321).
pub const IPV6_PRIMARY_KUBE_ROUTER_SINCE: Release = Release::new(1, 36, 1);

/// Whether this k0s release runs an IPv6-primary dual-stack cluster with kube-router.
pub fn supports_ipv6_primary_kube_router(version: Option<&Version>) -> bool {
    version.is_none_or(|v| v.is_at_least(IPV6_PRIMARY_KUBE_ROUTER_SINCE))
}

/// Whether k0s passes the dual-stack pod ranges IPv6 first whatever the primary family.
pub fn pod_cidrs_ipv6_first(version: Option<&Version>) -> bool {
    version.is_some_and(|v| v.is_before(POD_CIDRS_PRIMARY_FIRST_SINCE))
}

/// Whether this k0s release can run IPv6 single-stack.
pub fn supports_ipv6_single_stack(version: Option<&Version>) -> bool {
    version.is_none_or(|v| v.is_at_least(IPV6_SINGLE_STACK_SINCE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(text: &str) -> Option<Version> {
        Version::parse(text).ok()
    }

    #[test]
    fn node_masks_follow_the_release() {
        // v1.33.13+k0s.1 is the last release before the change, v1.34.1+k0s.0 the first after.
        let old = version("v1.33.13+k0s.1");
        let new = version("v1.34.1+k0s.0");
        assert_eq!(node_mask(old.as_ref(), true, Family::IPv6), 110);
        assert_eq!(node_mask(old.as_ref(), true, Family::IPv4), 24);
        assert_eq!(node_mask(old.as_ref(), false, Family::IPv6), 24);
        assert_eq!(node_mask(new.as_ref(), true, Family::IPv6), 117);
        assert_eq!(node_mask(new.as_ref(), false, Family::IPv6), 117);
        assert_eq!(node_mask(None, true, Family::IPv6), 117);
    }

    #[test]
    fn dns_names_as_govalidator_reads_them() {
        for ok in [
            "cluster.local",
            "Cluster_Local",
            "something.local.",
            "a-",
            "k8s_",
        ] {
            assert!(is_dns_name(ok), "{ok}");
        }
        for bad in [
            "",
            ".invalid-cluster-domain",
            "-a.local",
            "a..b",
            "10.0.0.1",
            "fd00::1",
            "exa mple",
        ] {
            assert!(!is_dns_name(bad), "{bad}");
        }
        assert!(!is_dns_name(&"a".repeat(64)));
    }

    #[test]
    fn pod_order_and_single_stack_follow_the_release() {
        assert!(pod_cidrs_ipv6_first(version("v1.35.7+k0s.0").as_ref()));
        assert!(!pod_cidrs_ipv6_first(version("v1.36.1+k0s.0").as_ref()));
        assert!(!pod_cidrs_ipv6_first(None));
        assert!(!supports_ipv6_single_stack(
            version("v1.33.4+k0s.0").as_ref()
        ));
        assert!(supports_ipv6_single_stack(
            version("v1.34.1+k0s.0").as_ref()
        ));
    }
}
