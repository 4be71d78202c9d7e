//! Every rule kube6 checks, with its stable id, severity and the component that enforces it.
//! Diagnostics are made from these entries only, so `kube6 rules` and docs/rules.md list
//! everything kube6 can say.

use crate::diagnostic::{Component, Severity};

/// A rule's fixed metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleInfo {
    pub id: &'static str,
    pub severity: Severity,
    pub enforced_by: Component,
    /// What the rule checks, in one sentence.
    pub summary: &'static str,
    /// When it applies (distribution, CNI, or "always").
    pub applies_to: &'static str,
}

macro_rules! rules {
    ($($name:ident = $id:literal, $sev:ident, $comp:ident, $applies:literal, $summary:literal;)*) => {
        $(
            #[doc = $summary]
            pub const $name: RuleInfo = RuleInfo {
                id: $id,
                severity: Severity::$sev,
                enforced_by: Component::$comp,
                summary: $summary,
                applies_to: $applies,
            };
        )*
        /// Every rule, in id order.
        pub const ALL: &[RuleInfo] = &[$($name),*];
    };
}

rules! {
    // Input.
    UNKNOWN_FIELD = "K6W900", Warning, Kube6, "always",
        "A field the format does not define (often a typo); it is ignored.";
    HOST_BITS_SET = "K6W001", Warning, Kube6, "always",
        "A CIDR has host bits set; components use the network address, and strict validators (ServiceCIDR API, Calico) reject it.";
    CIDR_INVALID = "K6E001", Error, Kube6, "always",
        "A pod or service range is not a valid CIDR.";
    ADDRESS_INVALID = "K6E002", Error, Kube6, "always",
        "A node, API or DNS address is not a valid IP address.";
    TOO_MANY_RANGES = "K6E003", Error, KubeApiserver, "always",
        "More than two pod or service ranges, or two of the same family: Kubernetes takes at most one per family.";
    NO_POD_RANGE = "K6W004", Warning, KubeControllerManager, "kubeadm",
        "No pod range: kube-controller-manager allocates no node CIDRs, so the CNI must do its own IPAM.";
    FAMILY_SETS_DIFFER = "K6E005", Error, Kube6, "always",
        "Pods and services do not cover the same families (one is dual-stack, the other not, or they differ).";
    PRIMARY_ORDER_DIFFERS = "K6E006", Error, Kube6, "always",
        "The pod ranges and the service ranges list their families in different orders, so components disagree on the primary family.";
    PRIMARY_FAMILY_CONFLICT = "K6E007", Error, Kube6, "always",
        "An explicit primary family disagrees with the order of the ranges.";
    PRIMARY_FAMILY_INVALID = "K6E008", Error, Kube6, "always",
        "The primary family is neither IPv4 nor IPv6.";
    VERSION_UNREADABLE = "K6W009", Warning, Kube6, "always",
        "A distribution, Kubernetes or CNI version kube6 cannot read; defaults and rules of the newest release kube6 knows apply.";

    // kube-apiserver.
    SERVICE_RANGE_TOO_LARGE = "K6E010", Error, KubeApiserver, "always",
        "A service range has more than 20 host bits (IPv4 larger than /12, IPv6 larger than /108).";
    SERVICE_RANGE_TOO_SMALL = "K6E011", Error, KubeApiserver, "always",
        "A service range has fewer than 8 addresses.";
    ADVERTISE_FAMILY = "K6E012", Error, KubeApiserver, "always",
        "The API server's advertise address is not in the family of the primary service range.";
    KUBELET_NODE_IP = "K6E014", Error, Kubelet, "always",
        "A node's --node-ip is more than two addresses, two of the same family, or an unspecified address in a pair.";
    SERVICE_RANGE_CLAMPED = "K6W013", Warning, Kube6, "always",
        "An IPv6 service range between /108 and /111: the allocator's bitmap uses only its first 65,536 addresses.";

    // kube-controller-manager.
    NODE_MASK_SHORTER_THAN_RANGE = "K6E020", Error, KubeControllerManager, "pod ranges allocated by kube-controller-manager",
        "The node mask is shorter than the pod range's prefix: no node block fits.";
    NODE_MASK_IPV6_TOO_FAR = "K6E021", Error, KubeControllerManager, "pod ranges allocated by kube-controller-manager",
        "The IPv6 node mask is more than 16 bits longer than the pod range's prefix (cidrset's bitmap limit).";
    LEGACY_MASK_DUAL_STACK = "K6E022", Error, KubeControllerManager, "dual-stack",
        "--node-cidr-mask-size is set on a dual-stack cluster; only the per-family flags are allowed.";
    LEGACY_MASK_WITH_FAMILY_MASK = "K6E023", Error, KubeControllerManager, "single-stack",
        "--node-cidr-mask-size is set together with --node-cidr-mask-size-ipv4/-ipv6.";
    MASK_FLAG_WRONG_FAMILY = "K6E024", Error, KubeControllerManager, "single-stack",
        "A per-family node-mask flag is set for the family the single-stack cluster does not use.";
    MASK_INVALID = "K6E025", Error, KubeControllerManager, "always",
        "A node mask is not an integer between 0 and the family's address width.";
    MASK_LEAVES_ONE_NODE = "K6W026", Warning, Kube6, "always",
        "The node mask equals the pod range's prefix: the whole range goes to one node.";

    // kubeadm.
    KUBEADM_SUBNET_TOO_SMALL = "K6E030", Error, Kubeadm, "kubeadm",
        "A subnet is below kubeadm's minimum (10 addresses for services, 14 for pods).";
    KUBEADM_NODE_MASK_RANGE = "K6E031", Error, Kubeadm, "kubeadm",
        "kubeadm requires pod prefix <= node mask <= pod prefix + 16 for each family.";
    KUBEADM_LEGACY_MASK_IGNORED = "K6W032", Warning, Kubeadm, "kubeadm",
        "kubeadm checks node masks against -ipv4/-ipv6 flags (default 24/64) and ignores --node-cidr-mask-size, which kube-controller-manager uses.";
    DNS_DOMAIN_INVALID = "K6E033", Error, Kube6, "always",
        "The cluster domain is not a valid DNS name.";
    KUBE_PROXY_CLUSTER_CIDR = "K6E034", Error, KubeProxy, "always",
        "kube-proxy's clusterCIDR differs from the pod ranges.";

    // k0s.
    K0S_SINGLE_STACK_GATE = "K6E040", Error, K0s, "k0s",
        "IPv6 single-stack needs the IPv6SingleStack feature gate (`k0s controller --feature-gates=IPv6SingleStack=true`).";
    K0S_SERVICE_PREFIX = "K6E041", Error, K0s, "k0s",
        "k0s rejects an IPv6 single-stack service range longer than /108; with kube-apiserver's limit only /108 passes both.";
    K0S_DUAL_STACK_CALICO_MODE = "K6E042", Error, K0s, "k0s",
        "k0s allows dual-stack with Calico only in `bird` mode.";
    K0S_DUAL_STACK_SLOTS = "K6E043", Error, K0s, "k0s",
        "In k0s dual-stack, podCIDR/serviceCIDR must be IPv4 and dualStack.IPv6podCIDR/IPv6serviceCIDR IPv6, and both IPv6 ranges are required.";
    K0S_PRIMARY_DERIVED = "K6W044", Warning, K0s, "k0s",
        "IPv6 single-stack k0s derives IPv4 as its primary family (from primaryAddressFamily or the API address) where Calico, kube-router without a router-id or the API endpoint reconciler read it.";
    K0S_DNS_TOO_NARROW = "K6E045", Error, K0s, "k0s",
        "k0s cannot compute the cluster DNS address: the service range is too narrow.";
    K0S_DUAL_STACK_NODE_IPS = "K6E046", Error, K0s, "k0s",
        "k0s dual-stack needs every node's name to resolve to both families (or an explicit --node-ip pair).";
    K0S_FAMILY_MISMATCH = "K6E047", Error, K0s, "k0s",
        "k0s requires podCIDR and serviceCIDR to be of the same family.";

    // k3s / RKE2.
    K3S_CIDR_FAMILIES = "K6E050", Error, K3s, "k3s, rke2",
        "k3s requires cluster-cidr and service-cidr to share the IP version, including which family comes first.";
    K3S_NODE_IP_FAMILIES = "K6E051", Error, K3s, "k3s, rke2",
        "k3s requires node-ip to cover the families of cluster-cidr.";
    K3S_NODE_IP_ORDER = "K6W052", Warning, K3s, "k3s, rke2",
        "IPv6-primary cluster without an IPv6-first node-ip: the kubelet prefers IPv4.";
    CLUSTER_DNS_OUTSIDE = "K6E053", Error, Kube6, "always",
        "A cluster DNS IP is outside the service ranges or in the wrong family order.";

    // KKP.
    KKP_IPV6_ONLY = "K6E060", Error, Kkp, "kkp",
        "KKP does not support IPv6-only clusters (ipFamily is IPv4 or IPv4+IPv6).";
    KKP_PRIMARY_IPV4 = "K6E061", Error, Kkp, "kkp",
        "KKP requires the first CIDR to be IPv4 and the second IPv6.";
    KKP_COUNTS = "K6E062", Error, Kkp, "kkp",
        "KKP requires as many pod CIDRs as service CIDRs, at most two each.";
    KKP_IP_FAMILY = "K6E063", Error, Kkp, "kkp",
        "KKP's ipFamily does not match the number of pod CIDRs.";
    KKP_NODE_MASK = "K6E064", Error, Kkp, "kkp",
        "KKP requires the node mask to be strictly longer than the pod CIDR's prefix.";
    KKP_DNS_DOMAIN = "K6E065", Error, Kkp, "kkp",
        "KKP requires dnsDomain to be cluster.local.";
    KKP_DATACENTER_IPV6 = "K6W067", Warning, Kkp, "kkp",
        "Dual-stack on OpenStack or vSphere needs IPv6 enabled in the KKP datacenter.";

    // CNIs.
    CANAL_DUAL_STACK_VERSION = "K6E066", Error, Canal, "canal",
        "Dual-stack with Canal needs Canal 3.22 or later.";
    CALICO_BLOCK_SIZE = "K6E070", Error, Calico, "calico, canal",
        "A Calico block size is outside 20-32 (IPv4) or 116-128 (IPv6).";
    CALICO_POOL_SMALLER_THAN_BLOCK = "K6E071", Error, Calico, "calico, canal",
        "A Calico pool is smaller than its block size.";
    CALICO_IPIP_IPV6 = "K6E072", Error, Calico, "calico, canal",
        "IP-in-IP is not supported on an IPv6 pool.";
    CALICO_VXLAN_AND_IPIP = "K6E073", Error, Calico, "calico, canal",
        "A pool cannot enable both VXLAN and IP-in-IP.";
    CALICO_IPV6_VXLAN_VERSION = "K6E074", Error, Calico, "calico",
        "IPv6 over VXLAN needs Calico 3.23 or later; older versions need BGP (bird) for IPv6.";
    CALICO_POOL_OUTSIDE = "K6W075", Warning, Calico, "calico, canal",
        "A Calico pool is not inside the pod range of its family (pods get addresses the plan does not show).";
    CALICO_BLOCK_VS_NODE_MASK = "K6I076", Info, Calico, "calico",
        "Calico IPAM hands out blocks of its own size, not the kube-controller-manager node blocks.";
    FLANNEL_NETWORK_TOO_SMALL = "K6E080", Error, Flannel, "flannel, canal",
        "Flannel needs an IPv4 network of /28 or larger and an IPv6 network of /124 or larger, with room for four subnets.";
    CILIUM_MASK_TOO_FAR = "K6E085", Error, Cilium, "cilium",
        "A Cilium cluster-pool IPv6 mask is more than 16 bits longer than its pool, or longer than the address.";
    CILIUM_POOL_OUTSIDE = "K6W086", Warning, Cilium, "cilium",
        "Cilium's cluster-pool allocates from its own pool list, which is not the pod range (by default 10.0.0.0/8 and fd00::/104).";
    CILIUM_IPV6_DISABLED = "K6E087", Error, Cilium, "cilium",
        "IPv6 pod ranges with Cilium's ipv6.enabled false.";
    KUBE_ROUTER_ROUTER_ID = "K6E090", Error, KubeRouter, "kube-router",
        "kube-router on an IPv6-only cluster needs --router-id (k0s sets `generate`).";
    KUBE_ROUTER_CONFORMANCE = "K6I091", Info, KubeRouter, "kube-router",
        "kube-router on IPv6 single-stack does not pass the Kubernetes network conformance tests (k0s documentation).";

    // What a target distribution cannot express (render and `--target`).
    KKP_CNI = "K6E201", Error, Kkp, "kkp",
        "KKP installs Cilium or Canal, or none (cniPlugin.type none) for a CNI you bring; it cannot install Calico, flannel or kube-router.";
    K0S_IPV6_FIRST_KUBE_ROUTER = "K6E202", Error, K0s, "k0s",
        "k0s configures kube-router, kube-proxy and the kubelet for IPv4-first dual-stack only; an IPv6-first cluster with kube-router needs rawArgs on each (k0sproject/k0s#7321).";
    KUBEADM_CONTROL_PLANE_ENDPOINT = "K6E203", Error, Kubeadm, "kubeadm",
        "Two or more control-plane nodes without a control-plane endpoint: kubeadm refuses to join a control-plane node to a cluster without one.";
    KKP_EXPOSE_STRATEGY = "K6E204", Error, Kkp, "kkp",
        "KKP's exposeStrategy is NodePort, LoadBalancer or Tunneling.";
    KKP_VERSION = "K6E222", Error, Kkp, "kkp",
        "A KKP Cluster needs spec.version (the CRD requires it and no webhook fills it in).";

    // The highly available API endpoint.
    API_ENDPOINT_FAMILY = "K6E205", Error, Kube6, "always",
        "The API endpoint (or one of its virtual IPs) is of a family the cluster does not have, two virtual IPs share a family, or none is of the primary family.";
    API_ENDPOINT_SECONDARY = "K6W206", Warning, Kube6, "dual-stack",
        "The API endpoint is an address of the secondary family: components that take the primary family from it (k0s) or reach it from single-family nodes disagree with the plan.";

    // CNI configuration, as read from the CNI's own files.
    CILIUM_TUNNEL_UNDERLAY = "K6E210", Error, Cilium, "cilium",
        "Cilium in tunnel mode (its default) tunnels over IPv4; on an IPv6-only cluster the agent stops (\"external IPv4 node address could not be derived\"). Use native routing, or underlayProtocol ipv6 from Cilium 1.18.";
    CILIUM_NATIVE_ROUTING_CIDR = "K6E211", Error, Cilium, "cilium",
        "Cilium in native routing mode with masquerading on needs the native-routing CIDR of that family (ipv4NativeRoutingCIDR/ipv6NativeRoutingCIDR).";
    CILIUM_NATIVE_ROUTES = "K6W212", Warning, Cilium, "cilium",
        "Cilium in native routing mode, but nothing routes the other nodes' pod CIDRs: no autoDirectNodeRoutes, no BGP control plane, no routed or BGP upstream.";
    CNI_IPAM_FAMILY = "K6E213", Error, Calico, "calico, canal, flannel, kube-router",
        "The CNI configuration's IPAM does not hand out addresses of a cluster family (host-local without usePodCidr/usePodCidrIPv6, calico-ipam with assign_ipv4/assign_ipv6 off): pods get no address of it.";
    CALICO_FELIX_IPV6 = "K6E214", Error, Calico, "calico, canal",
        "FELIX_IPV6SUPPORT is false on a cluster with IPv6 pods: Felix programs no IPv6 routes or policy.";
    FLANNEL_FAMILY_SWITCH = "K6E215", Error, Flannel, "flannel, canal",
        "net-conf.json's EnableIPv4/EnableIPv6 do not match the cluster's families (IPv6 pods need EnableIPv6 with IPv6Network; an IPv6-only cluster needs EnableIPv4: false).";
    FLANNEL_NETWORK_MISMATCH = "K6E216", Error, Flannel, "flannel, canal",
        "net-conf.json's Network or IPv6Network does not contain the pod range: flanneld refuses the nodes' podCIDRs (\"subnet ... doesn't contain ... PodCIDR\").";
    MASQUERADE_ROUTED = "K6W217", Warning, Kube6, "IPv6 pod ranges",
        "The CNI masquerades pod traffic of a family the plan routes (routed, NDP proxy or BGP upstream): pods leave with the node's address, not their own.";
    KUBE_ROUTER_FAMILY = "K6E218", Error, KubeRouter, "kube-router",
        "kube-router's --enable-ipv4/--enable-ipv6 or --service-cluster-ip-range do not match the cluster's families.";
    K0S_POD_CIDR_ORDER = "K6I219", Info, K0s, "k0s",
        "k0s before v1.36.1 passes kube-controller-manager the IPv6 pod range first in dual-stack, whatever the primary family: nodes carry their IPv6 podCIDR first.";
    NDP_PROXY_FLOATING_BLOCKS = "K6I220", Info, Kube6, "calico, cilium",
        "The CNI's own IPAM (Calico blocks, Cilium cluster-pool) places pods outside kube-controller-manager's node blocks: the NDP proxy answers for the whole pool where the node routes the address.";

    // Carving a delegated prefix (spec.prefix, kube6 plan --prefix).
    PREFIX_INVALID = "K6E700", Error, Kube6, "spec.prefix, --prefix",
        "The prefix to carve is not an IPv6 CIDR, or a count or size asked of it is not a usable number.";
    PREFIX_TOO_SMALL = "K6E701", Error, Kube6, "spec.prefix, --prefix",
        "The prefix cannot hold what is asked of it (node subnets, a pod range for the nodes and pods per node, a service range, load-balancer pools) within the components' limits, around the ranges the input fixes.";
    PREFIX_ON_LINK = "K6W702", Warning, Kube6, "spec.prefix, --prefix",
        "Pods and services are carved inside the nodes' own /64 (the prefix is a single /64, or longer): the upstream router solicits each of their addresses on the link, so each node must answer for them (NDP proxy, kube6 ndp-proxy) unless the upstream routes the prefix to the nodes.";
    PREFIX_CARVED = "K6I703", Info, Kube6, "spec.prefix, --prefix",
        "A range carved from the prefix, with why it has this place and size.";
    PREFIX_BLOCK_BELOW_MAX_PODS = "K6W704", Warning, Kubelet, "spec.prefix, --prefix",
        "The node blocks carved for the pods per node asked hold fewer pod addresses than the kubelet's maxPods: a node that runs more pods than that gets no address for them.";
    PREFIX_RENUMBERED = "K6I705", Info, Kube6, "spec.prefix with --prefix or --previous-prefix",
        "The prefix changed: ranges and addresses the input fixes inside the old prefix keep their place in the new one, carved ranges are carved again; the plan's renumbering lists each before and after.";
    PREFIX_RENUMBER_DOES_NOT_FIT = "K6E706", Error, Kube6, "spec.prefix with --prefix or --previous-prefix",
        "A range or address the input fixes inside the old prefix lies beyond the end of the new, smaller prefix.";
    PREFIX_FIXED_OUTSIDE = "K6I707", Info, Kube6, "spec.prefix, --prefix",
        "A range the input fixes lies outside the prefix: it is kept as it is and nothing is carved for it.";

    // Cross-checks.
    RANGES_OVERLAP = "K6E100", Error, Kube6, "always",
        "Pod and service ranges overlap.";
    NODE_IN_RANGE = "K6E101", Error, Kube6, "always",
        "A node or API address lies inside a pod or service range.";
    SPECIAL_RANGE = "K6E102", Error, Kube6, "always",
        "A range overlaps loopback, link-local, multicast, unspecified or another range that cannot carry pod or service traffic.";
    SPECIAL_RANGE_WARNING = "K6W103", Warning, Kube6, "always",
        "A range overlaps a deprecated (site-local) or documentation-only range.";
    NODE_FAMILY_ORDER = "K6W104", Warning, Kube6, "always",
        "A node's first IP is not of the primary family, or it lacks an IP of a cluster family.";
    CAPACITY = "K6E105", Error, Kube6, "always",
        "The pod range and node mask give fewer node blocks than the spec declares nodes.";
    ULA_NO_EGRESS = "K6W106", Warning, Kube6, "IPv6 pod ranges",
        "A ULA (fc00::/7) pod range with no masquerade/NAT66 or NAT64: pods cannot reach the internet over IPv6.";
    GLOBAL_NOT_ROUTED = "K6W107", Warning, Kube6, "IPv6 pod ranges",
        "A global pod range with no declared way upstream (routed, NDP proxy or BGP): the upstream will not deliver replies.";
    NDP_PROXY_STATIC_LIMIT = "K6I108", Info, Kube6, "IPv6 pod ranges",
        "The NDP proxy answers for the pod range on the uplink; it needs the range inside the uplink's on-link prefix.";
    IPV6_ONLY_NO_NAT64 = "K6I109", Info, Kube6, "IPv6 single-stack",
        "An IPv6-only cluster without NAT64: pods cannot reach IPv4-only services (registries, APIs).";
}

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static RuleInfo> {
    ALL.iter().find(|r| r.id.eq_ignore_ascii_case(id))
}

/// docs/rules.md: every rule as a table, generated from this catalog (`kube6 rules --markdown`).
pub fn markdown() -> String {
    let mut out = String::from(
        "# kube6 rules\n\n\
         Generated by `kube6 rules --markdown`; do not edit by hand (a test fails when this file is stale).\n\n\
         Each diagnostic names the rule's id, the field path with line and column, the component that\n\
         enforces it (`kube6` for cross-checks no single component makes) and a hint with the fix.\n\
         Ids are stable: `K6E` errors make `kube6 validate` exit 1, `K6W` warnings and `K6I` notes do not.\n\n\
         | id | severity | enforced by | applies to | what it checks |\n\
         |---|---|---|---|---|\n",
    );
    let mut rules: Vec<&RuleInfo> = ALL.iter().collect();
    rules.sort_by_key(|r| (r.id[3..].to_string(), r.id));
    for rule in rules {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            rule.id,
            rule.severity,
            rule.enforced_by,
            rule.applies_to,
            rule.summary.replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_match_severity() {
        let mut ids: Vec<&str> = ALL.iter().map(|r| r.id).collect();
        ids.sort();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate rule ids");
        for rule in ALL {
            let letter = match rule.severity {
                Severity::Error => 'E',
                Severity::Warning => 'W',
                Severity::Info => 'I',
            };
            assert_eq!(
                rule.id.chars().nth(2),
                Some(letter),
                "{} severity letter",
                rule.id
            );
        }
    }
}
