//! Every check `kube6 probe` runs, with its stable id, its name, why it matters and what fixes a
//! failure. Reports are made from these entries only, so docs/probe.md (its table generated from
//! [`markdown`]) lists everything probe can say; `--ignore` takes ids or names from here. The
//! catalog's shape is shared with host check and verify (`kube6-catalog`).

use kube6_catalog::checks;
pub use kube6_catalog::{Catalog, CheckInfo, UnknownCheck};

/// The catalog of this command, for the shared lookups of `kube6-catalog`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeChecks;

impl Catalog for ProbeChecks {
    const ALL: &'static [CheckInfo] = ALL;
    const PREFIX: &'static str = "K6P";
    const TITLE_HEADER: &'static str = "passes when";
}

/// The checks whose failures do not count (`--ignore CHECK,...`).
pub type IgnoreSet = kube6_catalog::IgnoreSet<ProbeChecks>;

checks! {
    AGENTS = "K6P001", "agents",
        "Every node runs both probe agents (pod network and host network), ready, with an address of every expected family",
        why: "The agents are the two ends of every other test: a node without a ready agent cannot be tested, and an agent without an address of a family means the CNI (pod network) or the kubelet's --node-ip (host network) gives that node no address of it.",
        fix: "For an agent that never became ready: `kubectl -n NAMESPACE describe pod` (image pull, CNI not ready on that node, admission refusing hostNetwork). For a missing family: the CNI's per-family switch (Cilium `ipv6.enabled`, Flannel `EnableIPv6`, Calico `assign_ipv6`), or --node-ip with one address per family.";
    POD_TO_POD_SAME_NODE = "K6P002", "pod-to-pod-same-node",
        "A pod reaches another pod on its own node (TCP to the agent's port)",
        why: "Traffic between pods of one node never leaves the node: when it fails, the CNI's own plumbing on that node (bridge, veth routes, the pod's default route for the family) is broken.",
        fix: "Check the pods' routes (`ip -6 route` in the pod) and the CNI's logs on that node; a family missing only here usually means the CNI has it switched off.";
    POD_TO_POD_CROSS_NODE = "K6P003", "pod-to-pod-cross-node",
        "A pod reaches the pods of every other node (TCP to the agent's port)",
        why: "Cross-node pod traffic needs every node to route every other node's pod block (directly, through a tunnel, or through an upstream router that learned it by BGP): a family whose routes are missing works on one node and nowhere else.",
        fix: "Give the nodes routes to each other's pod blocks in the failing family: the CNI's routing mode (Calico BGP or VXLAN for IPv6, Cilium native routing with autoDirectNodeRoutes, Flannel's IPv6 backend, kube-router's BGP) or the upstream router's routes.";
    POD_TO_NODE = "K6P004", "pod-to-node",
        "A pod reaches every node's address (TCP to the host-network agent)",
        why: "Pods reach node addresses for hostNetwork services, the kubelet and the API server of a hostNetwork control plane: a pod that cannot reach a node address in a family cannot use those in that family.",
        fix: "Check the node's firewall for the agent's port and the route from the pod range to the node addresses (and back).";
    NODE_TO_POD = "K6P005", "node-to-pod",
        "Every node reaches the pods of every node (TCP from the host-network agent)",
        why: "The kubelet's health probes, the API server's webhooks and proxies, and NodePort traffic go from node addresses to pod addresses.",
        fix: "Give the nodes routes to every pod block in the failing family (the same fix as for cross-node pod traffic), and let the node's firewall forward to the pod range.";
    CLUSTER_IP = "K6P006", "cluster-ip",
        "A pod reaches the ClusterIPs of the probe's Services, in every family they have (SingleStack per family, PreferDualStack)",
        why: "Pods reach almost everything through ClusterIPs: kube-proxy (or the CNI's replacement) must program each family's service rules, or a Service answers in one family only.",
        fix: "Run kube-proxy (or the CNI's service handling) with the cluster's families: `--cluster-cidr` of both families, Cilium `kubeProxyReplacement` with IPv6 enabled, the service ranges of both families on kube-apiserver.";
    NODE_PORT = "K6P007", "node-port",
        "A pod reaches the NodePort Service on every node address of every family",
        why: "NodePorts are how load balancers and users outside the cluster reach Services; kube-proxy listens on the addresses given by `--nodeport-addresses` only, in each family it runs.",
        fix: "Let kube-proxy serve NodePorts in both families (`--nodeport-addresses` with a range of each family, or `primary`), and allow the NodePort range in the nodes' firewalls.";
    DNS_SERVICE = "K6P008", "dns-service",
        "The cluster DNS answers A and AAAA for the probe's Services with their ClusterIPs",
        why: "Applications find Services by name: a DNS that answers A only (or AAAA only) makes every client of the other family fail, or fall back to a family the Service does not serve.",
        fix: "Let CoreDNS serve both families (it answers from the Services' clusterIPs: recreate Services created before the cluster became dual-stack), and check that kube-dns has an address pods can reach in every family.";
    DNS_HEADLESS = "K6P009", "dns-headless",
        "The cluster DNS answers A and AAAA for the headless Service with the pods' addresses",
        why: "Headless Services (StatefulSets, peer discovery) are answered from EndpointSlices; a family without endpoints has no records.",
        fix: "Check that the pods have addresses of both families and that the EndpointSlice controller writes a slice per family (`kube6 verify`, K6V012).";
    DNS_KUBERNETES = "K6P010", "dns-kubernetes",
        "The cluster DNS answers for kubernetes.default in the families the `kubernetes` Service has",
        why: "Every in-cluster client of the API server can find it by this name.",
        fix: "Give kube-apiserver a service range of each family; the `kubernetes` Service keeps its families until the API server restarts with the new ranges.";
    DNS_EXTERNAL = "K6P011", "dns-external",
        "The cluster DNS answers for the `--external` names (A and AAAA; with NAT64, AAAA synthesized by DNS64 for IPv4-only names)",
        why: "Pods resolve outside names through the cluster DNS and its upstream: an IPv6-only cluster without DNS64 gets no AAAA for IPv4-only names and cannot reach them.",
        fix: "Check CoreDNS's `forward` upstream; in an IPv6-only cluster with NAT64, use a DNS64 resolver upstream (or CoreDNS's `dns64` plugin with the NAT64 prefix).";
    EGRESS = "K6P012", "egress",
        "Pods and nodes reach the `--external` targets in every family (TCP where a port is given, ICMP echo otherwise)",
        why: "Egress needs a route out and, for pod addresses, either masquerading or an upstream that routes the pod range back: pods with global IPv6 addresses that the upstream router does not know get no answers (the seed guides' NDP story).",
        fix: "For pods failing where their node succeeds: make the upstream route the pod range back (`kube6 ndp-proxy`, BGP) or masquerade it; for a family failing everywhere: the nodes' default route of that family.";
    NAT64 = "K6P013", "nat64",
        "With NAT64 in the plan, pods reach IPv4-only destinations through the NAT64 prefix",
        why: "An IPv6-only cluster reaches the IPv4 internet only through DNS64 and NAT64: a NAT64 gateway that is down or not routed breaks every IPv4-only destination while IPv6 ones work.",
        fix: "Check the NAT64 gateway (TAYGA, Jool, the cloud's NAT64) and the route to its prefix (64:ff9b::/96 by default) from the nodes and the pod range.";
    PATH_MTU = "K6P014", "path-mtu",
        "A full-size packet with don't-fragment crosses to every other node and to the external targets, or path MTU discovery lowers it (an ICMPv6 Packet Too Big or ICMP fragmentation-needed comes back)",
        why: "A link with a smaller MTU on the way drops full-size packets; when the ICMP that says so is filtered, small packets work and large ones vanish: connections hang after the handshake (TLS, image pulls). IPv6 routers never fragment, so IPv6 depends on Packet Too Big entirely.",
        fix: "Let ICMPv6 Packet Too Big (type 2) and ICMP fragmentation-needed through every firewall on the path, or give the pods an MTU that fits the smallest link (the CNI's `mtu`, minus tunnel overhead).";
    ICMP_ECHO = "K6P015", "icmp-echo",
        "`probe local`: the target answers ICMP (ICMPv6) echo in every family it has",
        why: "Echo is the smallest test of a route in each direction; a target that answers TCP but not echo has ICMP filtered, which usually also filters Packet Too Big.",
        fix: "Add the missing route, or let echo (and Packet Too Big) through the firewalls on the path.";
}

/// The check with this id or name (case-insensitive).
pub fn find(key: &str) -> Option<&'static CheckInfo> {
    ProbeChecks::find(key)
}

/// The check with this id; `None` for an id no catalog entry has.
pub fn by_id(id: &str) -> Option<&'static CheckInfo> {
    ProbeChecks::by_id(id)
}

/// The check table of docs/probe.md, generated from this catalog (`kube6 probe --list-checks --markdown`); a test fails
/// when the file holds another.
pub fn markdown() -> String {
    ProbeChecks::markdown()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_catalog_is_well_formed() {
        assert_eq!(ProbeChecks::defects(), Vec::<String>::new());
    }

    #[test]
    fn ignore_takes_ids_names_and_all_and_refuses_the_rest() {
        let set = IgnoreSet::parse(["k6p014, NAT64", "K6P001"]).unwrap();
        assert!(set.contains("K6P014") && set.contains("K6P013") && set.contains("K6P001"));
        assert!(!set.contains("K6P002"));
        let all = IgnoreSet::parse(["All"]).unwrap();
        assert!(ALL.iter().all(|c| all.contains(c.id)));
        let err = IgnoreSet::parse(["mtu"]).unwrap_err();
        assert_eq!(err.given, "mtu");
        assert!(err.to_string().contains("K6P001 agents, K6P002"), "{err}");
        assert!(IgnoreSet::parse([" , "]).unwrap().is_empty());
    }
}
