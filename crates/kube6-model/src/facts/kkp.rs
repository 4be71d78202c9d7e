//! Kubermatic KKP (kubermatic/kubermatic pkg/resources/resources.go, pkg/defaulting/cluster.go,
//! pkg/cni/version.go, pkg/validation/cluster.go).

use crate::version::{Release, Version};

/// The KKP release kube6's KKP facts were read at (the Cluster CRD in shared/schemas is v2.31.0's).
pub const ASSUMED_RELEASE: Release = Release::new(2, 31, 0);

/// The Kubernetes version a KKP v2.31.0 installation offers by default
/// (pkg/defaulting/configuration.go `DefaultKubernetesVersioning.Default`). A Cluster must name
/// its version: the CRD lists `spec.version` as required and no webhook fills it in, so kube6
/// writes this one, with a note, when the input states none. Installations configure their own
/// default (KubermaticConfiguration `spec.versions.default`).
pub const DEFAULT_KUBERNETES_VERSION: &str = "v1.35.7";

/// `spec.exposeStrategy` values of the Cluster CRD.
pub const EXPOSE_STRATEGIES: &[&str] = &["NodePort", "LoadBalancer", "Tunneling"];

/// The expose strategy a Seed (and so a Cluster) gets when nothing sets one
/// (pkg/defaulting/configuration.go `DefaultExposeStrategy`; pkg/defaulting/cluster.go copies
/// the Seed's into a Cluster without one). The CRD requires the field.
pub const DEFAULT_EXPOSE_STRATEGY: &str = "NodePort";

/// KKP runs IPv4 or IPv4+IPv6 clusters, never IPv6-only (`spec.clusterNetwork.ipFamily` is
/// `IPv4` or `IPv4+IPv6`, pkg/validation/cluster.go), and the first CIDR must be IPv4.
pub const IPV6_SINGLE_STACK: bool = false;

pub const POD_CIDR_V4: &str = "172.25.0.0/16";
pub const POD_CIDR_V4_KUBEVIRT: &str = "172.26.0.0/16";
pub const POD_CIDR_V6: &str = "fd01::/48";
pub const SERVICE_CIDR_V4: &str = "10.240.16.0/20";
pub const SERVICE_CIDR_V4_KUBEVIRT: &str = "10.241.0.0/20";
pub const SERVICE_CIDR_V6: &str = "fd02::/108";

/// The CNI versions KKP installs when the Cluster names none (pkg/cni/version.go).
pub const DEFAULT_CILIUM_VERSION: &str = "1.19.4";
pub const DEFAULT_CANAL_VERSION: &str = "v3.31";

/// `ValidateClusterSpec`: "dual-stack not allowed on Canal CNI version lower than 3.22".
pub const CANAL_DUAL_STACK_SINCE: Release = Release::new(3, 22, 0);

/// `spec.clusterNetwork.proxyMode` values KKP accepts (`resources.AllProxyModes`, checked by
/// `validateProxyMode`; the CRD enum is the same). `ebpf` disables kube-proxy: KKP allows it only
/// with Cilium and Konnectivity.
pub const PROXY_MODES: &[&str] = &["ipvs", "iptables", "ebpf", "nftables"];

/// The proxy mode in which KKP runs no kube-proxy and switches Cilium's kube-proxy replacement on.
pub const PROXY_MODE_EBPF: &str = "ebpf";

/// The proxy mode KKP's CRD defaults an absent `proxyMode` to (`+kubebuilder:default=ipvs` on
/// sdk/apis/kubermatic/v1/cluster.go): the API server applies it before KKP's defaulting webhook,
/// which picks by provider and version (`default_proxy_mode`) only for an explicitly empty value.
pub const CRD_DEFAULT_PROXY_MODE: &str = "ipvs";

/// The `spec.clusterNetwork` fields KKP's Cluster webhook refuses to change once set
/// (`validateClusterNetworkingConfigUpdateImmutability` in pkg/validation/cluster.go, KKP 2.31);
/// `proxyMode` may change only when the Cluster carries [`UNSAFE_CNI_MIGRATION_LABEL`]. The node
/// mask sizes are not among them.
pub const IMMUTABLE_NETWORK_FIELDS: &[&str] = &[
    "ipFamily",
    "pods.cidrBlocks",
    "services.cidrBlocks",
    "dnsDomain",
    "nodeLocalDNSCacheEnabled",
];

/// The label that lets KKP's webhook accept another `spec.cniPlugin.type` (and proxy mode):
/// `UnsafeCNIMigrationLabel` in pkg/validation/cluster.go (`validateCNIUpdate`).
pub const UNSAFE_CNI_MIGRATION_LABEL: &str = "unsafe-cni-migration";

/// `spec.cniPlugin.type` values KKP supports (`cni.GetSupportedCNIPlugins`, CRD enum).
pub const CNI_TYPES: &[&str] = &["canal", "cilium", "none"];

/// `spec.clusterNetwork.ipFamily` values (CRD enum `"";IPv4;IPv4+IPv6`).
pub const IP_FAMILY_IPV4: &str = "IPv4";
pub const IP_FAMILY_DUAL_STACK: &str = "IPv4+IPv6";

/// `DefaultClusterNetwork`: an empty ipFamily becomes IPv4+IPv6 when two or more pod CIDRs are
/// given, IPv4 otherwise; the default service (and pod) CIDRs then follow the ipFamily.
pub fn default_ip_family(pod_cidrs: usize) -> &'static str {
    if pod_cidrs >= 2 {
        IP_FAMILY_DUAL_STACK
    } else {
        IP_FAMILY_IPV4
    }
}

/// `GetDefaultProxyMode`: nftables from Kubernetes 1.35, ipvs before (hetzner: iptables).
pub const NFTABLES_PROXY_SINCE: Release = Release::new(1, 35, 0);

/// KKP's default kube-proxy mode for a cluster of `kubernetes` on `provider`.
pub fn default_proxy_mode(kubernetes: Option<&Version>, provider: Option<&str>) -> &'static str {
    if provider == Some("hetzner") {
        "iptables"
    } else if kubernetes.is_some_and(|v| v.is_at_least(NFTABLES_PROXY_SINCE)) {
        "nftables"
    } else {
        "ipvs"
    }
}

/// What a KKP provider's cloud controller does for LoadBalancer Services, per the KKP dual-stack
/// documentation (the Kubermatic seed, "Dual-stack specifics & limitations of individual
/// cloud-providers").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderLb {
    /// The cloud controller gives LoadBalancer Services addresses of both families.
    DualStack,
    /// AWS, Azure, GCP: IPv4 load balancers only; "Only NodePort services can be used to
    /// expose services outside the cluster via IPv6".
    Ipv4Only,
    /// DigitalOcean, Equinix Metal (packet): "LoadBalancer are not yet supported in KKP ... (not
    /// even for IPv4-only clusters)".
    Unsupported,
    /// vSphere and bring-your-own (kubeadm): no cloud load balancer; "You can use additional
    /// addon software, such as MetalLB".
    NeedsAddon,
    /// Hetzner: every LoadBalancer Service needs `load-balancer.hetzner.cloud/network-zone` or
    /// `load-balancer.hetzner.cloud/location`, else it stays Pending.
    NeedsAnnotation,
    /// OpenStack: IPv6 load balancers from the OpenStack cloud controller released with
    /// Kubernetes 1.25 (kubernetes/cloud-provider-openstack#1901); IPv4 only before.
    Ipv6Since(Release),
}

/// The provider's load-balancer support, for the providers the seed lists.
pub fn provider_lb(provider: &str) -> Option<ProviderLb> {
    Some(match provider {
        "aws" | "azure" | "gcp" => ProviderLb::Ipv4Only,
        "digitalocean" | "packet" => ProviderLb::Unsupported,
        "vsphere" | "bringyourown" => ProviderLb::NeedsAddon,
        "hetzner" => ProviderLb::NeedsAnnotation,
        "openstack" => ProviderLb::Ipv6Since(Release::new(1, 25, 0)),
        _ => return None,
    })
}

/// The annotations a Hetzner LoadBalancer Service needs one of.
pub const HETZNER_LB_ANNOTATIONS: &[&str] = &[
    "load-balancer.hetzner.cloud/network-zone",
    "load-balancer.hetzner.cloud/location",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_mode_follows_provider_and_kubernetes() {
        let v = |t: &str| Version::parse(t).ok();
        assert_eq!(
            default_proxy_mode(v("1.35.0").as_ref(), Some("hetzner")),
            "iptables"
        );
        assert_eq!(
            default_proxy_mode(v("1.35.0").as_ref(), Some("aws")),
            "nftables"
        );
        assert_eq!(default_proxy_mode(v("v1.34.9").as_ref(), None), "ipvs");
        assert_eq!(default_proxy_mode(None, None), "ipvs");
    }

    #[test]
    fn ip_family_follows_the_pod_cidrs() {
        assert_eq!(default_ip_family(0), "IPv4");
        assert_eq!(default_ip_family(1), "IPv4");
        assert_eq!(default_ip_family(2), "IPv4+IPv6");
    }
}
