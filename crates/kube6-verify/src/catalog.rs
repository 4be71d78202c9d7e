//! Every check `kube6 verify` runs, with its stable id, its name, why it matters and what fixes a
//! failure. Reports are made from these entries only, so docs/verify.md (generated from
//! [`markdown`]) lists everything verify can say; `--ignore` takes ids or names from here. The
//! catalog's shape is shared with host check and probe (`kube6-catalog`).

use kube6_catalog::checks;
pub use kube6_catalog::{Catalog, CheckInfo, UnknownCheck};

/// The catalog of this command, for the shared lookups of `kube6-catalog`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyChecks;

impl Catalog for VerifyChecks {
    const ALL: &'static [CheckInfo] = ALL;
    const PREFIX: &'static str = "K6V";
    const TITLE_HEADER: &'static str = "checks";
}

/// The checks whose failures do not count (`--ignore CHECK,...`).
pub type IgnoreSet = kube6_catalog::IgnoreSet<VerifyChecks>;

checks! {
    INPUT_COVERAGE = "K6V001", "input-coverage",
        "The input holds the cluster's Nodes; kinds and namespaces it lacks are named",
        why: "Without Nodes nothing about node or pod addresses can be judged: a dump without them (`kubectl get all -A` has none) would otherwise pass while checking almost nothing. Other gaps (no EndpointSlices, one namespace) make the checks that need them skip, and this check says which.",
        fix: "Dump the whole cluster with `kubectl get nodes,pods,services,endpointslices -A -o json` (add `ippools.crd.projectcalico.org,ipamblocks.crd.projectcalico.org` or `ciliumnodes,ciliumpodippools` for the CNI's IPAM), or let kube6 verify read the live cluster.";
    NODE_ADDRESSES = "K6V002", "node-addresses",
        "Nodes have an IP of every cluster family, the primary family first, as Kubernetes takes them (InternalIPs, then ExternalIPs)",
        why: "Kubernetes takes a node's IPs from its InternalIPs, then its ExternalIPs, the first of each family (GetNodeHostIPs): hostNetwork pods get exactly these as their pod IPs and every pod gets the first as its hostIP. A node without an IP of a cluster family cannot take part in that family; one whose first IP is of the secondary family makes hostNetwork pods single-stack or backwards.",
        fix: "Give the kubelet --node-ip with one address per family, the primary family first (k3s/RKE2: `node-ip`; k0s: `--kubelet-extra-args=--node-ip=...`; kubeadm: `nodeRegistration.kubeletExtraArgs`), or make the cloud controller report the missing address.";
    NODE_POD_CIDRS = "K6V003", "node-pod-cidrs",
        "Node podCIDRs: one per family in kube-controller-manager's order, inside the pod ranges, of the node mask, disjoint",
        why: "kube-controller-manager gives every node one block of each cluster range, in the order of its --cluster-cidr. CNIs with host-local IPAM (Flannel, kube-router, Canal, Cilium in kubernetes mode) hand out pod addresses from these blocks, so a missing, misplaced, oversized or overlapping block breaks pod networking on that node.",
        fix: "Make kube-controller-manager's --cluster-cidr and --node-cidr-mask-size-ipv4/-ipv6 what the plan says. A node keeps the podCIDRs it was given: delete the Node object (drain it first) and let the kubelet register it again.";
    CNI_IPAM = "K6V004", "cni-ipam",
        "The CNI's own IPAM (Calico IPPools and blocks, Cilium CiliumNodes and pod IP pools) hands out the planned ranges",
        why: "Calico IPAM and Cilium's cluster-pool and multi-pool IPAM do not use the nodes' podCIDRs: their pools, and the blocks or per-node CIDRs cut from them, decide every pod's address. A pool outside the plan gives pods addresses that no route, firewall rule or NDP proxy expects.",
        fix: "Give the CNI the plan's pod ranges: Calico IPPool `spec.cidr` and `blockSize` (the operator's Installation `calicoNetwork.ipPools`), Cilium `ipam.operator.clusterPoolIPv4PodCIDRList`/`clusterPoolIPv6PodCIDRList` and their mask sizes, or the CiliumPodIPPools. Pools are not changed in place: add the new one, disable the old one, then restart the pods that hold old addresses.";
    POD_IPS = "K6V005", "pod-ips",
        "Pods have one IP per cluster family, inside the pod ranges and inside what their node's IPAM gave it",
        why: "A pod address outside the planned pod ranges is not routed, masqueraded or proxied as the plan expects, whatever the node says; one outside its node's block (host-local IPAM) or its CNI's pools means the IPAM is not what the plan describes. A pod that lacks a family cannot reach or be reached in it.",
        fix: "Fix the node or IPAM finding that comes with it (K6V003, K6V004); pods keep their addresses until they are recreated, so restart them afterwards. A pod without an address of a family usually means the CNI has that family switched off (Cilium `ipv6.enabled`, Flannel `EnableIPv6`, Calico `assign_ipv6`).";
    POD_IPS_UNIQUE = "K6V006", "pod-ips-unique",
        "Pod IPs are unique across the cluster",
        why: "Two running pods with one address lose each other's traffic: overlapping node blocks or IPAM pools, or two clusters' IPAM sharing a range, cause it.",
        fix: "Fix the overlap K6V003 or K6V004 reports, then recreate one of the pods.";
    HOST_NETWORK_PODS = "K6V007", "host-network-pods",
        "hostNetwork pods carry their node's IPs",
        why: "The kubelet gives a hostNetwork pod its node's IPs; any other address means the node's IPs changed after the pod started or the node object is not the host the pod runs on.",
        fix: "Restart the pod after the node's addresses are right (K6V002).";
    SERVICE_IP_FAMILIES = "K6V008", "service-ip-families",
        "Services: ipFamilies, ipFamilyPolicy and clusterIPs agree, in families the cluster has",
        why: "kube-proxy and the CNI's service handling program one rule per cluster IP and family; a Service whose fields disagree, or that lists a family the cluster has no service range for, is served in a family nobody expects or not at all.",
        fix: "Recreate the Service with the policy it needs (SingleStack, PreferDualStack or RequireDualStack); a Service created before the cluster became dual-stack keeps one family until it is edited or recreated.";
    SERVICE_RANGES = "K6V009", "service-ranges",
        "Service cluster IPs are inside the planned service ranges",
        why: "kube-apiserver hands out cluster IPs from its --service-cluster-ip-range and, where the cluster has the ServiceCIDR API, from every ServiceCIDR an operator added (those count as inside); an address outside both means the API server runs with other ranges than the plan (and than the kubelets' clusterDNS, the CNI's service CIDR and any firewall rule built from the plan).",
        fix: "Run kube-apiserver (and kube-controller-manager) with the plan's service ranges; existing Services keep their addresses until they are recreated.";
    KUBERNETES_SERVICE = "K6V010", "kubernetes-service",
        "default/kubernetes has the first address of the primary service range",
        why: "Every in-cluster client reaches the API server through this address; the API server takes the first address of its primary service range, so another address or family means it runs with other ranges or another primary family than planned.",
        fix: "Give kube-apiserver the plan's --service-cluster-ip-range with the primary family first (and an --advertise-address of that family).";
    KUBE_DNS_SERVICE = "K6V011", "kube-dns-service",
        "The cluster DNS addresses the kubelets give pods are served, the primary family first",
        why: "Pods send DNS queries to the kubelet's clusterDNS addresses: if no Service holds one of them, every lookup through it times out; if kube-dns's first address is of the secondary family, the distribution's DNS address is not the one pods get (k0s#7294).",
        fix: "Give kube-dns the distribution's addresses (the kubelet's clusterDNS), the primary family's first; making it dual-stack (PreferDualStack or RequireDualStack) on top is a legitimate choice.";
    ENDPOINTSLICE_FAMILIES = "K6V012", "endpointslice-families",
        "Dual-stack Services with a selector have an EndpointSlice per family",
        why: "The EndpointSlice controller writes one slice per address family; a dual-stack Service without a slice of one family has no endpoints there, so its cluster IP of that family answers nothing.",
        fix: "Check that the pods behind the Service have addresses of both families (K6V005) and that kube-controller-manager runs its EndpointSlice controller.";
    LOAD_BALANCER_ADDRESSES = "K6V013", "load-balancer-addresses",
        "LoadBalancer Services the cluster's implementation serves have a load-balancer address of every family they must get, inside a planned pool (ServiceLB: a node's address)",
        why: "A LoadBalancer Service without an address of one of its ipFamilies is unreachable from outside in that family, though its ClusterIPs and endpoints look fine: MetalLB with one pool per family, a cloud controller without IPv6 load balancers, or no implementation at all leave it pending or single-family. An address outside the planned pools is not announced, routed or NDP-proxied as the plan expects. A Service is judged by the controller that serves it: another loadBalancerClass is noted, not judged; a PreferDualStack Service with one family is what MetalLB and Cilium give when no pool has both free (noted); a Service left pending because no pool serves its namespace (MetalLB serviceAllocation, autoAssign: false, Cilium serviceSelector or disabled) is a warning.",
        fix: "Give the implementation a pool with addresses of every family, both families in one pool for MetalLB (spec.loadBalancer.pools, rendered by `kube6 render`); for ServiceLB give the nodes addresses of both families (node-ip). A Service that asks for an address (spec.loadBalancerIP, metallb.io/loadBalancerIPs, lbipam.cilium.io/ips) gets it only from a pool that holds it. A Service keeps its addresses: after fixing the pools, delete and recreate it, or remove its status with `kubectl patch --subresource=status`.";
}

/// The check with this id or name (case-insensitive).
pub fn find(key: &str) -> Option<&'static CheckInfo> {
    VerifyChecks::find(key)
}

/// The check table of docs/verify.md, generated from this catalog (`kube6 verify --list-checks --markdown`); a test fails
/// when the file holds another.
pub fn markdown() -> String {
    VerifyChecks::markdown()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_catalog_is_well_formed() {
        assert_eq!(VerifyChecks::defects(), Vec::<String>::new());
    }

    #[test]
    fn ignore_takes_ids_names_and_all_and_refuses_the_rest() {
        let set = IgnoreSet::parse(["k6v005, node-Pod-CIDRs", "K6V012"]).unwrap();
        assert!(set.contains("K6V005") && set.contains("K6V003") && set.contains("K6V012"));
        assert!(!set.contains("K6V001"));
        let all = IgnoreSet::parse(["ALL"]).unwrap();
        assert!(ALL.iter().all(|c| all.contains(c.id)));
        let err = IgnoreSet::parse(["pod-ip"]).unwrap_err();
        assert_eq!(err.given, "pod-ip");
        assert!(
            err.to_string().contains("K6V001 input-coverage, K6V002"),
            "{err}"
        );
        assert!(IgnoreSet::parse([""]).unwrap().is_empty());
    }
}
