//! The objects the checks read: lean copies of Nodes, Pods, Services and EndpointSlices holding
//! only the fields verification needs.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use kube6_net::Family;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// An address as the API server wrote it: parsed, or the text that did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addr {
    Ip(IpAddr),
    Invalid(Box<str>),
}

impl Addr {
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Addr::Ip(ip) => Some(*ip),
            Addr::Invalid(_) => None,
        }
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Ip(ip) => write!(f, "{ip}"),
            Addr::Invalid(text) => write!(f, "{text:?}"),
        }
    }
}

impl From<&str> for Addr {
    fn from(text: &str) -> Addr {
        match text.parse() {
            Ok(ip) => Addr::Ip(ip),
            Err(_) => Addr::Invalid(text.into()),
        }
    }
}

impl<'de> Deserialize<'de> for Addr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Addr, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Addr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an IP address")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Addr, E> {
                Ok(Addr::from(v))
            }
        }
        d.deserialize_str(V)
    }
}

/// A CIDR as the API server wrote it: parsed, or the text that did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cidr {
    Net(IpNet),
    Invalid(Box<str>),
}

impl Default for Cidr {
    fn default() -> Cidr {
        Cidr::Invalid("".into())
    }
}

impl Cidr {
    pub fn net(&self) -> Option<IpNet> {
        match self {
            Cidr::Net(net) => Some(*net),
            Cidr::Invalid(_) => None,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cidr::Net(net) => write!(f, "{net}"),
            Cidr::Invalid(text) => write!(f, "{text:?}"),
        }
    }
}

impl From<&str> for Cidr {
    fn from(text: &str) -> Cidr {
        match text.parse::<IpNet>() {
            // The API server stores node CIDRs canonical; anything else is worth reporting.
            Ok(net) if net.trunc() == net => Cidr::Net(net),
            _ => Cidr::Invalid(text.into()),
        }
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Cidr, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Cidr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a CIDR")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Cidr, E> {
                Ok(Cidr::from(v))
            }
        }
        d.deserialize_str(V)
    }
}

/// One entry of a Node's `status.addresses`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddress {
    /// `InternalIP`, `ExternalIP`, `Hostname`, ...
    pub kind: String,
    pub address: String,
}

/// What verification reads of a Node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub addresses: Vec<NodeAddress>,
    /// `spec.podCIDRs` (or the older single `spec.podCIDR`).
    pub pod_cidrs: Vec<Cidr>,
}

impl Node {
    /// The `InternalIP` entries in order, parsed where they parse.
    pub fn internal_ips(&self) -> impl Iterator<Item = Addr> + '_ {
        self.addresses
            .iter()
            .filter(|a| a.kind == "InternalIP")
            .map(|a| Addr::from(a.address.as_str()))
    }

    /// The node's IPs as Kubernetes itself takes them: the InternalIPs, then the ExternalIPs, in
    /// their order; the first is the node's primary IP, then the first one of the other family,
    /// if any. The kubelet gives these to hostNetwork pods as `status.podIPs` and the first as
    /// every pod's `status.hostIP`. Mirrors `GetNodeHostIPs` in kubernetes/kubernetes
    /// pkg/util/node/node.go (addresses parsed with `netutils.ParseIPSloppy`, which also takes
    /// IPv4 octets with leading zeros; anything else that does not parse is skipped).
    pub fn host_ips(&self) -> Vec<IpAddr> {
        let parsed = |kind: &'static str| {
            self.addresses
                .iter()
                .filter(move |a| a.kind == kind)
                .filter_map(|a| parse_ip_sloppy(&a.address))
        };
        let mut all = parsed("InternalIP").chain(parsed("ExternalIP"));
        let Some(first) = all.next() else {
            return Vec::new();
        };
        let mut ips = vec![first];
        if let Some(other) = all.find(|ip| ip.is_ipv6() != first.is_ipv6()) {
            ips.push(other);
        }
        ips
    }

    /// Whether the node has an `ExternalIP` among the host IPs that Kubernetes took for it
    /// (the node's address of that family is only known as an ExternalIP).
    pub fn host_ip_is_external(&self, ip: &IpAddr) -> bool {
        !self
            .addresses
            .iter()
            .filter(|a| a.kind == "InternalIP")
            .filter_map(|a| parse_ip_sloppy(&a.address))
            .any(|a| a == *ip)
    }

    /// Every address of the node that is an IP (InternalIP, ExternalIP, ...).
    pub fn ips(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.addresses
            .iter()
            .filter_map(|a| parse_ip_sloppy(&a.address))
    }

    /// The node's pod CIDR of `family`, if it has one that parses.
    pub fn pod_cidr(&self, family: Family) -> Option<IpNet> {
        self.pod_cidrs
            .iter()
            .filter_map(Cidr::net)
            .find(|n| Family::of_net(n) == family)
    }
}

/// Parses an address the way Kubernetes' `netutils.ParseIPSloppy` (k8s.io/utils/net) does: as
/// Go's `net.ParseIP` did before Go 1.17, which also read IPv4 octets with leading zeros as
/// decimal (`010.001.002.003` is 10.1.2.3).
pub fn parse_ip_sloppy(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    let octets: Vec<&str> = text.split('.').collect();
    if octets.len() != 4 {
        return None;
    }
    let mut out = [0u8; 4];
    for (slot, octet) in out.iter_mut().zip(&octets) {
        if octet.is_empty() || octet.len() > 3 || !octet.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = octet.parse().ok()?;
    }
    Some(IpAddr::from(out))
}

/// A pod's `status.phase`, as far as the checks care.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PodPhase {
    #[default]
    Unknown,
    Pending,
    Running,
    /// Succeeded or Failed: the pod's addresses have been released and may belong to another pod.
    Finished,
}

/// What verification reads of a Pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pod {
    pub namespace: String,
    pub name: String,
    pub node_name: Option<String>,
    pub host_network: bool,
    pub phase: PodPhase,
    /// `status.podIPs` (or the older single `status.podIP`).
    pub pod_ips: Vec<Addr>,
}

/// What verification reads of a Service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Service {
    pub namespace: String,
    pub name: String,
    /// `spec.type`: ClusterIP, NodePort, LoadBalancer, ExternalName.
    pub type_: Option<String>,
    pub cluster_ip: Option<String>,
    pub cluster_ips: Vec<String>,
    pub ip_families: Vec<String>,
    pub ip_family_policy: Option<String>,
    pub has_selector: bool,
    /// The `k8s-app` label (CoreDNS's Service carries `k8s-app: kube-dns`).
    pub app_label: Option<String>,
    /// `status.loadBalancer.ingress[].ip`: the addresses the load-balancer implementation gave.
    pub load_balancer_ips: Vec<String>,
    /// `status.loadBalancer.ingress[].hostname` (cloud load balancers known by name).
    pub load_balancer_hostnames: Vec<String>,
    /// `spec.loadBalancerClass`: which controller serves the Service (none: the cluster's
    /// default implementation).
    pub load_balancer_class: Option<String>,
    /// The addresses or pool the Service asks for (`spec.loadBalancerIP`, the implementations'
    /// annotations), each as (where it is asked, what is asked).
    pub load_balancer_requests: Vec<(String, String)>,
}

impl Service {
    pub fn is_external_name(&self) -> bool {
        self.type_.as_deref() == Some("ExternalName")
    }

    pub fn is_load_balancer(&self) -> bool {
        self.type_.as_deref() == Some("LoadBalancer")
    }

    pub fn is_headless(&self) -> bool {
        self.cluster_ip.as_deref() == Some("None")
            || self.cluster_ips.first().map(String::as_str) == Some("None")
    }

    /// `clusterIPs`, or the single `clusterIP` when the list is absent (older objects).
    pub fn effective_cluster_ips(&self) -> Vec<&str> {
        if self.cluster_ips.is_empty() {
            self.cluster_ip
                .as_deref()
                .filter(|ip| !ip.is_empty())
                .into_iter()
                .collect()
        } else {
            self.cluster_ips.iter().map(String::as_str).collect()
        }
    }
}

/// A load-balancer pool object of the cluster: MetalLB's `IPAddressPool` (metallb.io/v1beta1) or
/// Cilium's `CiliumLoadBalancerIPPool` (cilium.io/v2alpha1, v2 from 1.18). Only what decides
/// which Services the pool hands addresses to automatically is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LbPoolObject {
    pub kind: String,
    pub name: String,
    /// MetalLB `spec.autoAssign` (default true); Cilium pools always assign.
    pub auto_assign: bool,
    /// Cilium `spec.disabled`: the pool hands out no new address.
    pub disabled: bool,
    /// MetalLB `spec.serviceAllocation` is set: the pool serves only the Services it names
    /// (internal/allocator/allocator.go leaves it out of the pools for every Service).
    pub restricted: bool,
    /// MetalLB `spec.serviceAllocation.namespaces`.
    pub namespaces: Vec<String>,
    /// The pool selects namespaces or Services by label (MetalLB `namespaceSelectors` /
    /// `serviceSelectors`, Cilium `serviceSelector`), which a dump of Services cannot evaluate.
    pub selects_by_label: bool,
}

impl LbPoolObject {
    /// Whether the pool may give `namespace`'s Services an address without their asking for
    /// it: Some(true) yes, Some(false) no, None only if a label selector matches.
    pub fn may_serve(&self, namespace: &str) -> Option<bool> {
        if self.disabled || !self.auto_assign {
            return Some(false);
        }
        if !self.restricted || self.namespaces.iter().any(|n| n == namespace) {
            return Some(true);
        }
        if self.selects_by_label {
            None
        } else {
            Some(false)
        }
    }
}

/// What verification reads of an EndpointSlice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointSlice {
    pub namespace: String,
    pub name: String,
    /// The `kubernetes.io/service-name` label.
    pub service_name: Option<String>,
    /// `IPv4`, `IPv6` or `FQDN`.
    pub address_type: Option<String>,
}

/// A Calico `IPPool` (`crd.projectcalico.org/v1` or `projectcalico.org/v3`): a range Calico IPAM
/// hands out pod addresses from, in blocks of `blockSize`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalicoPool {
    pub name: String,
    pub cidr: Cidr,
    /// `spec.blockSize`; Calico's default (26 / 122) when unset.
    pub block_size: Option<u8>,
    /// `spec.disabled`: no new addresses, but pods may still hold addresses from it.
    pub disabled: bool,
}

/// A Calico `IPAMBlock`: one block of a pool, affine to a node (`spec.affinity: host:NAME`) until
/// it is released; other nodes may borrow addresses from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalicoBlock {
    pub name: String,
    pub cidr: Cidr,
    /// The node of `host:NAME`, if the block is affine to one.
    pub node: Option<String>,
}

/// A `CiliumNode` (`cilium.io/v2`): the pod CIDRs Cilium's operator gave the node in cluster-pool
/// mode (`spec.ipam.podCIDRs`) and, in multi-pool mode, per pool (`spec.ipam.pools.allocated`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CiliumNode {
    pub name: String,
    pub pod_cidrs: Vec<Cidr>,
    /// Multi-pool allocations: (pool name, CIDR).
    pub pool_cidrs: Vec<(String, Cidr)>,
}

/// A `CiliumPodIPPool` (`cilium.io/v2alpha1`), the pools of multi-pool IPAM.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CiliumPool {
    pub name: String,
    pub cidrs: Vec<Cidr>,
    /// `spec.ipv4.maskSize`, `spec.ipv6.maskSize`.
    pub ipv4_mask: Option<u8>,
    pub ipv6_mask: Option<u8>,
}

impl CiliumPool {
    pub fn mask(&self, family: Family) -> Option<u8> {
        match family {
            Family::IPv4 => self.ipv4_mask,
            Family::IPv6 => self.ipv6_mask,
        }
    }
}

/// A `ServiceCIDR` (`networking.k8s.io/v1` from Kubernetes 1.33, `v1beta1` in 1.31 and 1.32):
/// a range kube-apiserver allocates ClusterIPs from. kube-apiserver keeps one named
/// `kubernetes` from its `--service-cluster-ip-range` (the default ServiceCIDR); operators add
/// others to extend the ranges live (kubernetes/kubernetes staging/src/k8s.io/api/networking/v1
/// types.go; pkg/controller/servicecidrs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceCidr {
    pub name: String,
    /// `spec.cidrs`: one range per family, at most two.
    pub cidrs: Vec<Cidr>,
    /// `metadata.deletionTimestamp` is set: the object goes once no IPAddress needs it (its
    /// finalizer `networking.k8s.io/service-cidr-finalizer` holds it until then), and nothing
    /// new is allocated from it.
    pub deleting: bool,
    /// The `Ready` condition: `Some(true)` when the servicecidrs controller marked it ready,
    /// `Some(false)` when not (reason `Terminating` while addresses still hold it), `None`
    /// without the condition.
    pub ready: Option<bool>,
    /// The `Ready` condition's reason, if any.
    pub reason: Option<String>,
}

impl ServiceCidr {
    /// The default ServiceCIDR, kept by kube-apiserver from its flags.
    pub fn is_default(&self) -> bool {
        self.name == kube6_model::facts::kubernetes::DEFAULT_SERVICE_CIDR_NAME
    }

    /// New ClusterIPs can come from it: not being deleted, and not marked not-ready.
    pub fn allocates(&self) -> bool {
        !self.deleting && self.ready != Some(false)
    }

    /// Its ranges that parse.
    pub fn nets(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.cidrs.iter().filter_map(Cidr::net)
    }
}

/// The CNI's own IPAM objects found in the input: evidence of which IPAM the cluster uses and
/// of the ranges it hands out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CniObjects {
    pub calico_pools: Vec<CalicoPool>,
    pub calico_blocks: Vec<CalicoBlock>,
    pub cilium_nodes: Vec<CiliumNode>,
    pub cilium_pools: Vec<CiliumPool>,
}

impl CniObjects {
    pub fn is_empty(&self) -> bool {
        self.calico_pools.is_empty()
            && self.calico_blocks.is_empty()
            && self.cilium_nodes.is_empty()
            && self.cilium_pools.is_empty()
    }
}

/// How many objects of each kind a snapshot holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub nodes: usize,
    pub pods: usize,
    pub services: usize,
    pub endpoint_slices: usize,
    #[serde(rename = "calicoIPPools")]
    pub calico_ip_pools: usize,
    #[serde(rename = "calicoIPAMBlocks")]
    pub calico_ipam_blocks: usize,
    pub cilium_nodes: usize,
    #[serde(rename = "ciliumPodIPPools")]
    pub cilium_pod_ip_pools: usize,
    #[serde(rename = "serviceCIDRs")]
    pub service_cidrs: usize,
    /// Objects of other kinds in the input, skipped.
    pub ignored: usize,
}

/// The cluster as verification sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub nodes: Vec<Node>,
    pub pods: Vec<Pod>,
    pub services: Vec<Service>,
    pub endpoint_slices: Vec<EndpointSlice>,
    pub cni: CniObjects,
    /// The cluster's ServiceCIDR objects, where it has the API and the input holds them.
    pub service_cidrs: Vec<ServiceCidr>,
    /// MetalLB and Cilium load-balancer pools, when the dump holds them.
    pub lb_pools: Vec<LbPoolObject>,
    /// Objects of other kinds, counted by kind (`Deployment`, `ReplicaSet`, ...).
    pub ignored: BTreeMap<String, usize>,
}

impl Snapshot {
    pub fn counts(&self) -> Counts {
        Counts {
            nodes: self.nodes.len(),
            pods: self.pods.len(),
            services: self.services.len(),
            endpoint_slices: self.endpoint_slices.len(),
            calico_ip_pools: self.cni.calico_pools.len(),
            calico_ipam_blocks: self.cni.calico_blocks.len(),
            cilium_nodes: self.cni.cilium_nodes.len(),
            cilium_pod_ip_pools: self.cni.cilium_pools.len(),
            service_cidrs: self.service_cidrs.len(),
            ignored: self.ignored.values().sum(),
        }
    }

    /// Counts one object of a kind verification does not read.
    pub fn ignore(&mut self, kind: &str) {
        let kind = if kind.is_empty() { "(no kind)" } else { kind };
        match self.ignored.get_mut(kind) {
            Some(n) => *n += 1,
            None => {
                self.ignored.insert(kind.to_string(), 1);
            }
        }
    }

    /// The one namespace every pod and Service of the input comes from, if there is one (a
    /// dump made with `-n NAMESPACE`).
    pub fn only_namespace(&self) -> Option<&str> {
        let mut all = self
            .pods
            .iter()
            .map(|p| p.namespace.as_str())
            .chain(self.services.iter().map(|s| s.namespace.as_str()));
        let first = all.next()?;
        all.all(|n| n == first).then_some(first)
    }

    /// Adds `other`'s objects after this one's, all of them (parts of one document).
    pub(crate) fn append(&mut self, other: Snapshot) {
        // Destructured field by field: a kind added to the snapshot cannot be forgotten here
        // (MetalLB and Cilium pools once were, and every JSON List dump lost them).
        let Snapshot {
            nodes,
            pods,
            services,
            endpoint_slices,
            cni:
                CniObjects {
                    calico_pools,
                    calico_blocks,
                    cilium_nodes,
                    cilium_pools,
                },
            service_cidrs,
            lb_pools,
            ignored,
        } = other;
        self.nodes.extend(nodes);
        self.pods.extend(pods);
        self.services.extend(services);
        self.endpoint_slices.extend(endpoint_slices);
        self.cni.calico_pools.extend(calico_pools);
        self.cni.calico_blocks.extend(calico_blocks);
        self.cni.cilium_nodes.extend(cilium_nodes);
        self.cni.cilium_pools.extend(cilium_pools);
        self.service_cidrs.extend(service_cidrs);
        self.lb_pools.extend(lb_pools);
        for (kind, n) in ignored {
            *self.ignored.entry(kind).or_default() += n;
        }
    }

    /// Adds `other`'s objects. When the same object appears in both (overlapping dumps), the
    /// later copy is dropped so that it is not counted twice.
    pub fn merge(&mut self, other: Snapshot) {
        fn extend<T>(into: &mut Vec<T>, from: Vec<T>, key: impl Fn(&T) -> (String, String)) {
            if into.is_empty() {
                *into = from;
                return;
            }
            let seen: HashSet<(String, String)> = into.iter().map(&key).collect();
            into.extend(from.into_iter().filter(|o| !seen.contains(&key(o))));
        }
        // Destructured field by field, like `append`.
        let Snapshot {
            nodes,
            pods,
            services,
            endpoint_slices,
            cni:
                CniObjects {
                    calico_pools,
                    calico_blocks,
                    cilium_nodes,
                    cilium_pools,
                },
            service_cidrs,
            lb_pools,
            ignored,
        } = other;
        let cluster_scoped = |name: &String| (String::new(), name.clone());
        extend(&mut self.nodes, nodes, |n| cluster_scoped(&n.name));
        extend(&mut self.pods, pods, |p| {
            (p.namespace.clone(), p.name.clone())
        });
        extend(&mut self.services, services, |s| {
            (s.namespace.clone(), s.name.clone())
        });
        extend(&mut self.endpoint_slices, endpoint_slices, |e| {
            (e.namespace.clone(), e.name.clone())
        });
        extend(&mut self.cni.calico_pools, calico_pools, |p| {
            cluster_scoped(&p.name)
        });
        extend(&mut self.cni.calico_blocks, calico_blocks, |b| {
            cluster_scoped(&b.name)
        });
        extend(&mut self.cni.cilium_nodes, cilium_nodes, |n| {
            cluster_scoped(&n.name)
        });
        extend(&mut self.cni.cilium_pools, cilium_pools, |p| {
            cluster_scoped(&p.name)
        });
        extend(&mut self.service_cidrs, service_cidrs, |c| {
            cluster_scoped(&c.name)
        });
        // MetalLB's pools live in one namespace and Cilium's are cluster-scoped: kind and name
        // name a pool.
        extend(&mut self.lb_pools, lb_pools, |p| {
            (p.kind.clone(), p.name.clone())
        });
        for (kind, n) in ignored {
            *self.ignored.entry(kind).or_default() += n;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn node(addresses: &[(&str, &str)]) -> Node {
        Node {
            name: "n".to_string(),
            addresses: addresses
                .iter()
                .map(|(kind, address)| NodeAddress {
                    kind: kind.to_string(),
                    address: address.to_string(),
                })
                .collect(),
            pod_cidrs: Vec::new(),
        }
    }

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|ip| ip.parse().unwrap()).collect()
    }

    #[test]
    fn host_ips_follow_get_node_host_ips() {
        // InternalIPs first, then ExternalIPs; the first of the other family completes the pair.
        let n = node(&[
            ("Hostname", "n"),
            ("ExternalIP", "2001:db8::5"),
            ("InternalIP", "192.0.2.10"),
            ("InternalIP", "192.0.2.11"),
        ]);
        assert_eq!(n.host_ips(), ips(&["192.0.2.10", "2001:db8::5"]));
        assert!(n.host_ip_is_external(&"2001:db8::5".parse().unwrap()));
        // An IPv6 InternalIP wins over an IPv6 ExternalIP listed before it.
        let n = node(&[
            ("ExternalIP", "2001:db8::5"),
            ("InternalIP", "fd00::10"),
            ("InternalIP", "192.0.2.10"),
        ]);
        assert_eq!(n.host_ips(), ips(&["fd00::10", "192.0.2.10"]));
        // Only ExternalIPs: they are the node's IPs.
        assert_eq!(
            node(&[("ExternalIP", "198.51.100.7")]).host_ips(),
            ips(&["198.51.100.7"])
        );
        // Nothing that parses: no host IP (the kubelet reports "host IP unknown").
        assert!(
            node(&[("Hostname", "n"), ("InternalIP", "not-an-ip")])
                .host_ips()
                .is_empty()
        );
        // Single-stack node: one IP.
        assert_eq!(
            node(&[("InternalIP", "192.0.2.1"), ("InternalIP", "192.0.2.2")]).host_ips(),
            ips(&["192.0.2.1"])
        );
    }

    #[test]
    fn sloppy_parsing_reads_leading_zeros_as_decimal() {
        assert_eq!(
            parse_ip_sloppy("010.001.002.003"),
            Some("10.1.2.3".parse().unwrap())
        );
        assert_eq!(
            parse_ip_sloppy("2001:db8::1"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(parse_ip_sloppy("256.1.1.1"), None);
        assert_eq!(parse_ip_sloppy("1.2.3"), None);
        assert_eq!(parse_ip_sloppy("0x1.2.3.4"), None);
    }

    #[test]
    fn merge_keeps_one_copy_and_counts_ignored_kinds() {
        let mut a = Snapshot::default();
        a.nodes.push(node(&[]));
        a.ignore("Deployment");
        let mut b = a.clone();
        b.cni.calico_pools.push(CalicoPool {
            name: "default-ipv4-ippool".to_string(),
            ..Default::default()
        });
        a.merge(b);
        assert_eq!(a.nodes.len(), 1);
        assert_eq!(a.cni.calico_pools.len(), 1);
        assert_eq!(a.ignored.get("Deployment"), Some(&2));
        assert_eq!(a.counts().ignored, 2);
    }
}
