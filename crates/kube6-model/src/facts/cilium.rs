//! Cilium (cilium/cilium install/kubernetes/cilium/values.yaml, pkg/option/config.go,
//! pkg/node/address.go, pkg/datapath/tunnel/tunnel.go, pkg/ipam/cidrset/cidr_set.go). Release
//! cut-offs were read from the git history of the chart and agent (the fork qiniu/cilium carries
//! upstream's history unchanged up to v1.19.4).

use super::PerFamily;
use crate::version::{Release, Version};

/// The newest Cilium release kube6's Cilium facts were checked against (the values schema in
/// shared/schemas/cilium is v1.19.4's, KKP's default Cilium).
pub const ASSUMED_RELEASE: Release = Release::new(1, 19, 4);

/// `ipam.mode` default of the upstream chart.
pub const DEFAULT_IPAM_MODE: &str = "cluster-pool";

/// RKE2 packages Cilium with `ipam.mode: kubernetes` (rancher/rke2-charts
/// packages/rke2-cilium/generated-changes/patch/values.yaml.patch), so pods take their addresses
/// from the nodes' podCIDRs.
pub const RKE2_IPAM_MODE: &str = "kubernetes";

/// The `ipam.mode` the Cilium chart a distribution installs defaults to.
pub fn default_ipam_mode(distribution: crate::model::Distribution) -> &'static str {
    match distribution {
        crate::model::Distribution::Rke2 => RKE2_IPAM_MODE,
        _ => DEFAULT_IPAM_MODE,
    }
}

/// `ipam.operator.clusterPoolIPv4PodCIDRList` / `clusterPoolIPv6PodCIDRList` defaults.
pub const DEFAULT_CLUSTER_POOL: PerFamily<&str> = PerFamily {
    ipv4: "10.0.0.0/8",
    ipv6: "fd00::/104",
};

/// `clusterPoolIPv4MaskSize` / `clusterPoolIPv6MaskSize` defaults.
pub const DEFAULT_CLUSTER_POOL_MASK: PerFamily<u8> = PerFamily {
    ipv4: 24,
    ipv6: 120,
};

/// The operator's cidrset fork keeps kube's 16-bit limit for IPv6 node masks.
pub const CLUSTER_POOL_MAX_MASK_DIFF: u8 = 16;

/// The operator's cidrset refuses a node mask longer than the address ("SubNetMask is invalid,
/// should be lower or equal to 32 for IPv4 and to 128 for IPv6").
pub const MAX_MASK: PerFamily<u8> = PerFamily {
    ipv4: 32,
    ipv6: 128,
};

/// `enableIPv4Masquerade` / `enableIPv6Masquerade` defaults: Cilium masquerades pod traffic
/// leaving the native-routing CIDR (or the cluster) to the node's address.
pub const DEFAULT_MASQUERADE: PerFamily<bool> = PerFamily {
    ipv4: true,
    ipv6: true,
};

/// The chart's routing mode when `routingMode` is empty: tunnel (VXLAN).
pub const DEFAULT_ROUTING_MODE: &str = "tunnel";

/// The tunnel's outer family when `underlayProtocol` is empty.
pub const DEFAULT_UNDERLAY: &str = "ipv4";

/// Cilium 1.14 (commit be04d3b458, "helm: New flags for native routing and tunnel protocol")
/// replaced `tunnel: disabled|vxlan|geneve` with `routingMode: native|tunnel` and
/// `tunnelProtocol`; 1.15 (commit 39324b279c) removed `tunnel`.
pub const ROUTING_MODE_SINCE: Release = Release::new(1, 14, 0);

/// `ipv6NativeRoutingCIDR` arrived with commit 16f3262b94 ("daemon: add support for IPv6 native
/// routing CIDR"), first released in 1.11.
pub const IPV6_NATIVE_ROUTING_CIDR_SINCE: Release = Release::new(1, 11, 0);

/// Cilium 1.18 (commits 151d302bbb "datapath/tunnel: New flag --underlay-protocol={ipv4,ipv6}"
/// and 2882e1d333 "helm: New option underlayProtocol") can run its VXLAN/Geneve tunnels over
/// IPv6. Before, tunnel mode needs an IPv4 node address: the agent stops with "external IPv4
/// node address could not be derived, please configure via --ipv4-node" (pkg/node/address.go
/// `ValidatePostInit`).
pub const IPV6_UNDERLAY_SINCE: Release = Release::new(1, 18, 0);

/// How a Cilium release spells the routing mode in its Helm values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutingKeys {
    /// `routingMode: native|tunnel`, `tunnelProtocol`, `underlayProtocol` (1.14 and later).
    RoutingMode,
    /// `tunnel: disabled|vxlan|geneve` (before 1.14).
    Tunnel,
}

/// The routing keys of `version` (an unknown version is assumed new).
pub fn routing_keys(version: Option<&Version>) -> RoutingKeys {
    if version.is_some_and(|v| v.is_before(ROUTING_MODE_SINCE)) {
        RoutingKeys::Tunnel
    } else {
        RoutingKeys::RoutingMode
    }
}

/// `routing-mode` values the agent accepts ("invalid routing mode", cilium/cilium
/// pkg/option/config.go `DaemonConfig.validate`).
pub const ROUTING_MODES: &[&str] = &["native", "tunnel"];

/// `underlay-protocol` values the agent accepts ("invalid IP family for underlay", cilium/cilium
/// pkg/datapath/tunnel/tunnel.go `newConfig`).
pub const UNDERLAY_PROTOCOLS: &[&str] = &["ipv4", "ipv6"];

/// Whether this Cilium release can tunnel over IPv6 (`underlayProtocol: ipv6`).
pub fn has_ipv6_underlay(version: Option<&Version>) -> bool {
    version.is_none_or(|v| v.is_at_least(IPV6_UNDERLAY_SINCE))
}

/// Whether this Cilium release knows `ipv6NativeRoutingCIDR`.
pub fn has_ipv6_native_routing_cidr(version: Option<&Version>) -> bool {
    version.is_none_or(|v| v.is_at_least(IPV6_NATIVE_ROUTING_CIDR_SINCE))
}

/// LB-IPAM (CiliumLoadBalancerIPPool) arrived in Cilium 1.13; L2 announcements
/// (CiliumL2AnnouncementPolicy, `l2announcements.enabled`) in 1.14.
pub const LB_IPAM_SINCE: Release = Release::new(1, 13, 0);
pub const L2_ANNOUNCEMENTS_SINCE: Release = Release::new(1, 14, 0);

/// L2 announcements answer NDP for IPv6 addresses from 1.19.0 (cilium/cilium#39648, "Add L2
/// announcement IPv6 support"); before, they answered ARP only (Documentation/network/
/// l2-announcements.rst, "Limitations: The feature currently does not support IPv6/NDP").
pub const L2_NDP_SINCE: Release = Release::new(1, 19, 0);

/// 1.19.6 (#46332, backport #46845) joins the solicited-node multicast group of every announced
/// address, so switches and bridges with MLD snooping deliver the router's solicitations; and
/// 1.19.5 (#46079) made the unsolicited advertisements RFC 4861 conformant. Earlier 1.19
/// releases answer NDP only where multicast is flooded (#46274, #44311).
pub const L2_NDP_MLD_SINCE: Release = Release::new(1, 19, 6);

/// L2 announcements need kube-proxy replacement (`kubeProxyReplacement: true`), and do not work
/// with `externalTrafficPolicy: Local` (the lease holder may have no endpoint):
/// Documentation/network/l2-announcements.rst, "Prerequisites: Kube Proxy replacement mode must
/// be enabled", in every release that has the feature (1.14 to 1.19). The announcing node
/// answers ARP/NDP for an address that is on no interface; only Cilium's own service load
/// balancing (BPF) takes the traffic to it. Without kube-proxy, Cilium cannot reach the API
/// through the `kubernetes` Service either, so it needs `k8sServiceHost`/`k8sServicePort`
/// (Documentation/network/kubernetes/kubeproxy-free.rst).
pub const L2_NEEDS_KUBE_PROXY_REPLACEMENT: bool = true;

/// Whether a `kubeProxyReplacement` value (`kube-proxy-replacement` in cilium-config) turns
/// kube-proxy replacement on: `true` from 1.14, and `strict`, which 1.14 still reads as `true`
/// (deprecated, cilium/cilium#25988); `false`, and the older `partial`, `probe` and `disabled`,
/// leave kube-proxy to do the service load balancing.
pub fn replaces_kube_proxy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "true" | "strict"
    )
}

/// The switch of the feature, one for both families: IPv6 (NDP) announcements have no Helm
/// value of their own. The chart of 1.19.4 knows `l2announcements.enabled` only
/// (install/kubernetes/cilium/values.schema.json in shared/schemas/cilium; the lease timings
/// sit next to it), with no key for IPv6 (NDP answers came in 1.19, cilium/cilium#39648). The
/// `enable-ipv6-ndp`/`ipv6-mcast-device` pair some reports set (cilium/cilium#44311) is the
/// older NDP proxy for pod addresses, not this. `l2NeighDiscovery` is another feature too (the
/// agent resolving its neighbours' MACs).
pub const L2_ANNOUNCEMENTS_VALUE: &str = "l2announcements.enabled";
pub const L2_ANNOUNCEMENTS_FLAG: &str = "enable-l2-announcements";

/// One Lease per announced Service, in Cilium's namespace: `cilium-l2announce-NAMESPACE-NAME`,
/// whose `holderIdentity` is the node that answers for its addresses (pkg/l2announcer).
pub const L2_LEASE_PREFIX: &str = "cilium-l2announce-";

/// The `loadBalancerClass` L2 announcements take besides none: a Service of another class is
/// never announced (Documentation/network/l2-announcements.rst, "Service Selector").
pub const L2_LOAD_BALANCER_CLASS: &str = "io.cilium/l2-announcer";

/// The BGPv2 resources (CiliumBGPClusterConfig, CiliumBGPPeerConfig, CiliumBGPAdvertisement)
/// arrived in 1.16 as cilium.io/v2alpha1; 1.18 serves them, and CiliumLoadBalancerIPPool, as
/// cilium.io/v2 (the CRDs in shared/schemas/cilium, v1.19.4, store v2 and still serve v2alpha1).
pub const BGP_V2_SINCE: Release = Release::new(1, 16, 0);
pub const CRDS_V2_SINCE: Release = Release::new(1, 18, 0);

/// CiliumLoadBalancerIPPool's address list: 1.13 and 1.14 take `spec.cidrs` (CIDRs only);
/// 1.15 added `spec.blocks` with FIRST-LAST ranges (`start`/`stop`) and kept `cidrs` as an
/// alias; 1.16 removed `cidrs` (cilium/cilium#33151, fixing #28590).
pub const LB_POOL_BLOCKS_SINCE: Release = Release::new(1, 15, 0);

/// `spec.allowFirstLastIPs` arrived in 1.15 with the first and last address of every CIDR
/// block reserved unless it says `Yes`; from 1.16 (cilium/cilium#33151, fixing #28591) a pool
/// hands them out unless it says `No`. /31, /32, /127 and /128 blocks and start/stop ranges
/// are never trimmed (Documentation/network/lb-ipam.rst).
pub const LB_POOL_ALLOW_FIRST_LAST_SINCE: Release = Release::new(1, 15, 0);
pub const LB_POOL_FIRST_LAST_ALLOWED_BY_DEFAULT_SINCE: Release = Release::new(1, 16, 0);

/// How a Cilium release's CiliumLoadBalancerIPPool lists its addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LbPoolKeys {
    /// `spec.cidrs: [{cidr}]`, CIDRs only (before 1.15).
    Cidrs,
    /// `spec.blocks: [{cidr} | {start, stop}]`, with `allowFirstLastIPs` (1.15 and later).
    Blocks,
}

/// The pool keys of `version` (an unknown version is assumed new).
pub fn lb_pool_keys(version: Option<&Version>) -> LbPoolKeys {
    if version.is_some_and(|v| v.is_before(LB_POOL_BLOCKS_SINCE)) {
        LbPoolKeys::Cidrs
    } else {
        LbPoolKeys::Blocks
    }
}

/// Whether a pool of `version` keeps the first and last address of its CIDR blocks back unless
/// it sets `allowFirstLastIPs: "Yes"` (1.15 only).
pub fn lb_pool_reserves_first_last(version: Option<&Version>) -> bool {
    version.is_some_and(|v| {
        v.is_at_least(LB_POOL_ALLOW_FIRST_LAST_SINCE)
            && v.is_before(LB_POOL_FIRST_LAST_ALLOWED_BY_DEFAULT_SINCE)
    })
}

/// Whether this Cilium release answers NDP for L2-announced IPv6 addresses.
pub fn l2_answers_ndp(version: Option<&Version>) -> bool {
    version.is_none_or(|v| v.is_at_least(L2_NDP_SINCE))
}

/// Whether this release joins the solicited-node groups of L2-announced IPv6 addresses.
pub fn l2_joins_solicited_node_groups(version: Option<&Version>) -> bool {
    version.is_some_and(|v| v.is_at_least(L2_NDP_MLD_SINCE))
}

/// The apiVersion of Cilium's LB-IPAM and BGPv2 resources for a release.
pub fn lb_api_version(version: Option<&Version>) -> &'static str {
    if version.is_some_and(|v| v.is_before(CRDS_V2_SINCE)) {
        "cilium.io/v2alpha1"
    } else {
        "cilium.io/v2"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Option<Version> {
        Version::parse(text).ok()
    }

    #[test]
    fn routing_keys_and_underlay_follow_the_release() {
        assert_eq!(routing_keys(v("1.13.9").as_ref()), RoutingKeys::Tunnel);
        assert_eq!(routing_keys(v("1.14.0").as_ref()), RoutingKeys::RoutingMode);
        assert_eq!(routing_keys(None), RoutingKeys::RoutingMode);
        assert!(!has_ipv6_underlay(v("1.17.6").as_ref()));
        assert!(has_ipv6_underlay(v("v1.18.0").as_ref()));
        assert!(has_ipv6_underlay(None));
        assert!(!has_ipv6_native_routing_cidr(v("1.10.20").as_ref()));
        assert!(has_ipv6_native_routing_cidr(v("1.11.0").as_ref()));
    }

    #[test]
    fn l2_announcements_and_lb_resources_follow_the_release() {
        assert!(!l2_answers_ndp(v("1.18.7").as_ref()));
        assert!(l2_answers_ndp(v("1.19.0").as_ref()));
        assert!(l2_answers_ndp(None));
        assert!(!l2_joins_solicited_node_groups(v("1.19.5").as_ref()));
        assert!(l2_joins_solicited_node_groups(v("1.19.6").as_ref()));
        // No version: the assumed release, 1.19.4, which does not.
        assert!(!l2_joins_solicited_node_groups(None));
        assert_eq!(lb_api_version(v("1.17.3").as_ref()), "cilium.io/v2alpha1");
        assert_eq!(lb_api_version(None), "cilium.io/v2");
        assert_eq!(lb_pool_keys(v("1.14.9").as_ref()), LbPoolKeys::Cidrs);
        assert_eq!(lb_pool_keys(v("1.15.0").as_ref()), LbPoolKeys::Blocks);
        assert_eq!(lb_pool_keys(None), LbPoolKeys::Blocks);
        assert!(!lb_pool_reserves_first_last(v("1.14.9").as_ref()));
        assert!(lb_pool_reserves_first_last(v("1.15.7").as_ref()));
        assert!(!lb_pool_reserves_first_last(v("1.16.0").as_ref()));
        assert!(!lb_pool_reserves_first_last(None));
    }

    #[test]
    fn kube_proxy_replacement_values() {
        for on in ["true", "True", "strict"] {
            assert!(replaces_kube_proxy(on), "{on}");
        }
        for off in ["false", "partial", "probe", "disabled", ""] {
            assert!(!replaces_kube_proxy(off), "{off}");
        }
    }
}
