//! kube-vip (kube-vip/kube-vip, read at bee5cfe, after v1.2.3) and its cloud provider
//! (kube-vip/kube-vip-cloud-provider, read at d3522c6, after v0.0.12): where the cloud provider
//! reads the address pools, how it allocates dual-stack Services, and the environment variables
//! that make kube-vip announce Services over ARP/NDP or BGP.
//!
//! The cloud provider hands out the addresses (it writes them into the Service's
//! `kube-vip.io/loadbalancerIPs` annotation); kube-vip, a DaemonSet on the nodes, announces them.

use crate::version::{Release, Version};

/// The kube-vip release kube6's kube-vip facts were read at (the image kube6 renders when the
/// plan names no version).
pub const ASSUMED_RELEASE: Release = Release::new(1, 2, 3);

/// kube-vip's image (its README and `kube-vip manifest` output).
pub const IMAGE: &str = "ghcr.io/kube-vip/kube-vip";

/// The cloud provider's ConfigMap: `kubevip` in `kube-system` unless `KUBEVIP_CONFIG_MAP` /
/// `KUBEVIP_NAMESPACE` say otherwise (pkg/provider/provider.go `KubeVipClientConfig`,
/// `KubeVipClientConfigNamespace`).
pub const CONFIG_MAP: &str = "kubevip";
pub const CONFIG_MAP_NAMESPACE: &str = "kube-system";

/// The pool keys: `cidr-<namespace>` or `range-<namespace>` for one namespace, `cidr-global` /
/// `range-global` for every namespace without its own (pkg/provider/loadBalancer.go
/// `getConfig`). A `cidr-` key wins over a `range-` key of the same scope (`discoverPool` looks
/// for the CIDR first), so one scope holds CIDRs or ranges, never both.
pub const CIDR_KEY_PREFIX: &str = "cidr";
pub const RANGE_KEY_PREFIX: &str = "range";
pub const GLOBAL_SCOPE: &str = "global";

/// The key of the pool for every namespace.
pub fn global_key(prefix: &str) -> String {
    format!("{prefix}-{GLOBAL_SCOPE}")
}

/// Entries of one key are separated by a comma and nothing else: `parseCidrs` and
/// `buildAddressesFromRange` (pkg/ipam/addressbuilder.go) split on "," and parse each piece as it
/// is (a space makes `netip.ParsePrefix` fail). A range is `FIRST-LAST`, of one family.
pub const LIST_SEPARATOR: &str = ",";

/// One key may hold both families: `SplitCIDRsByIPFamily` / `SplitRangesByIPFamily` split it,
/// and `discoverVIPsDualStack` (pkg/provider/loadBalancer.go) gives a PreferDualStack or
/// RequireDualStack Service one address of each family, the Service's first family first; a
/// SingleStack Service gets one of its first family. Since v0.0.8 (6df70ff, "Add support for
/// dual-stack loadbalancer services"); before, a Service got one address, whatever its families.
pub const CLOUD_PROVIDER_DUAL_STACK_SINCE: Release = Release::new(0, 0, 8);

/// kube-vip announces both addresses of a dual-stack Service from v0.7.0 (#687, "Dualstack
/// support for Loadbalancer Services"), in BGP mode from v0.9.0 (271f21f, "dual-stack support
/// for BGP mode").
pub const DUAL_STACK_SINCE: Release = Release::new(0, 7, 0);
pub const BGP_DUAL_STACK_SINCE: Release = Release::new(0, 9, 0);

/// In ARP mode kube-vip puts each Service address on the node's interface, so the kernel answers
/// neighbor solicitations (and joins the solicited-node group) for IPv6 addresses, and it sends
/// unsolicited neighbor advertisements itself (pkg/vip/ndp.go); since v0.3.3 (dbfc39c, "Support
/// IPv6").
pub const NDP_SINCE: Release = Release::new(0, 3, 3);

/// IPv6 BGP peers are written in brackets in `bgp_peers` (`[2001:db8::1]:64500`,
/// pkg/kubevip/config_bgp.go `ParseBGPPeerConfig`) from v1.0.1 (16b9f67).
pub const BGP_IPV6_PEER_SINCE: Release = Release::new(1, 0, 1);

/// The environment variables of kube-vip's DaemonSet (pkg/kubevip/config_envvar.go). One kube-vip
/// announces every Service the same way: `vip_arp` (ARP for IPv4, NDP for IPv6) or `bgp_enable`
/// (pkg/manager/manager.go `startMode`).
pub const ARP_ENABLE: &str = "vip_arp";
pub const BGP_ENABLE: &str = "bgp_enable";
/// Watch LoadBalancer Services (`svc_enable`), with one leader election per Service
/// (`svc_election`) so that Services spread over the nodes in ARP mode.
pub const SERVICES_ENABLE: &str = "svc_enable";
pub const SERVICES_ELECTION: &str = "svc_election";
pub const LEADER_ELECTION: &str = "vip_leaderelection";
/// The interface the Service addresses go on (ARP mode); kube-vip takes the default route's
/// interface when it is not given.
pub const INTERFACE: &str = "vip_interface";
pub const BGP_AS: &str = "bgp_as";
pub const BGP_PEERS: &str = "bgp_peers";
pub const BGP_ROUTER_ID: &str = "bgp_routerid";
/// The node's name, from the downward API in kube-vip's generated manifests (leases name it).
pub const NODE_NAME: &str = "vip_nodename";

/// The RBAC kube-vip's `manifest` command generates (pkg/kubevip/config_generator.go
/// `GenerateSA`, `GenerateCR`, `GenerateRoleBinding`): the rules are kube-vip's; the cluster-wide
/// objects are named `kube-vip` as its namespaced Role and RoleBinding are (kube-vip calls the
/// cluster-wide ones `system:kube-vip-role`/`system:kube-vip-binding`; kube6 keeps the
/// `system:` prefix to Kubernetes' own roles).
pub const SERVICE_ACCOUNT: &str = "kube-vip";
pub const CLUSTER_ROLE: &str = "kube-vip";
pub const CLUSTER_ROLE_BINDING: &str = "kube-vip";
/// (apiGroup, resources, verbs) of that ClusterRole.
pub const CLUSTER_ROLE_RULES: &[(&str, &[&str], &[&str])] = &[
    ("", &["services/status"], &["update"]),
    (
        "",
        &["services", "endpoints"],
        &["list", "get", "watch", "update"],
    ),
    ("", &["nodes"], &["list", "get", "watch", "update", "patch"]),
    (
        "coordination.k8s.io",
        &["leases"],
        &["list", "get", "watch", "update", "create"],
    ),
    (
        "discovery.k8s.io",
        &["endpointslices"],
        &["list", "get", "watch", "update"],
    ),
    ("", &["pods"], &["list"]),
    (
        "networking.k8s.io",
        &["servicecidrs"],
        &["list", "get", "watch"],
    ),
];

/// Whether kube-vip `version` (None: the assumed release) announces both addresses of a
/// dual-stack Service in ARP mode (`bgp`: in BGP mode).
pub fn announces_dual_stack(version: Option<&Version>, bgp: bool) -> bool {
    let since = if bgp {
        BGP_DUAL_STACK_SINCE
    } else {
        DUAL_STACK_SINCE
    };
    version.is_none_or(|v| v.is_at_least(since))
}

/// Whether kube-vip `version` reads IPv6 BGP peers.
pub fn reads_ipv6_bgp_peers(version: Option<&Version>) -> bool {
    version.is_none_or(|v| v.is_at_least(BGP_IPV6_PEER_SINCE))
}

/// Whether kube-vip `version` answers NDP for IPv6 Service addresses in ARP mode.
pub fn answers_ndp(version: Option<&Version>) -> bool {
    version.is_none_or(|v| v.is_at_least(NDP_SINCE))
}

/// One BGP peer as `bgp_peers` takes it: `ADDRESS:AS`, the address in brackets when IPv6.
pub fn bgp_peer(address: std::net::IpAddr, asn: i64) -> String {
    match address {
        std::net::IpAddr::V4(a) => format!("{a}:{asn}"),
        std::net::IpAddr::V6(a) => format!("[{a}]:{asn}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Option<Version> {
        Version::parse(text).ok()
    }

    #[test]
    fn versions_gate_dual_stack_ndp_and_ipv6_peers() {
        assert!(!announces_dual_stack(v("v0.6.4").as_ref(), false));
        assert!(announces_dual_stack(v("v0.7.0").as_ref(), false));
        assert!(!announces_dual_stack(v("v0.8.10").as_ref(), true));
        assert!(announces_dual_stack(v("v0.9.0").as_ref(), true));
        assert!(announces_dual_stack(None, true));
        assert!(!reads_ipv6_bgp_peers(v("v1.0.0").as_ref()));
        assert!(reads_ipv6_bgp_peers(v("v1.0.1").as_ref()));
        assert!(!answers_ndp(v("v0.3.2").as_ref()));
        assert!(answers_ndp(v("v0.3.3").as_ref()));
    }

    #[test]
    fn keys_and_peers_are_written_as_kube_vip_reads_them() {
        assert_eq!(global_key(CIDR_KEY_PREFIX), "cidr-global");
        assert_eq!(global_key(RANGE_KEY_PREFIX), "range-global");
        assert_eq!(
            bgp_peer(
                "2001:db8::1"
                    .parse()
                    .unwrap_or(std::net::IpAddr::from([0u8; 16])),
                64500
            ),
            "[2001:db8::1]:64500"
        );
        assert_eq!(
            bgp_peer(std::net::IpAddr::from([192, 0, 2, 1]), 64500),
            "192.0.2.1:64500"
        );
    }
}
