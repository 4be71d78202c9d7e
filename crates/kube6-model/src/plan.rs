//! The address plan: families, the primary family, per family the pod range with its node mask,
//! capacity and first node blocks, the service ranges with the API server and DNS addresses the
//! distribution would use. Computed from the model (even an invalid one, as far as it goes).

use std::net::IpAddr;

use ipnet::IpNet;
use kube6_net::{AddressCount, Family, NodeAllocator, indexed_ip, range_size};
use serde::Serialize;

use crate::defaults;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{ClusterNetwork, Cni, Distribution, Format};

/// How many node blocks the plan lists when the spec declares fewer nodes.
pub const SHOWN_NODE_BLOCKS: usize = 4;

/// Where the input came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceRef {
    pub format: Format,
    pub file: String,
}

/// One pod range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodRange {
    pub family: Family,
    pub cidr: IpNet,
    pub node_mask_size: Option<u8>,
    pub max_nodes: Option<AddressCount>,
    pub addresses_per_node: Option<AddressCount>,
    /// The first node blocks kube-controller-manager would hand out.
    pub first_node_blocks: Vec<IpNet>,
    /// Where the node mask comes from ("kube-controller-manager default", a field path, ...).
    pub node_mask_source: Option<String>,
    pub defaulted: bool,
}

/// One service range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRange {
    pub family: Family,
    pub cidr: IpNet,
    pub size: AddressCount,
    /// Addresses the ClusterIP allocator can hand out (its bitmap holds at most 65,536; the
    /// network address, and for IPv4 the broadcast address, are never used).
    pub allocatable: u64,
    #[serde(rename = "apiServerIP")]
    pub api_server_ip: Option<IpAddr>,
    #[serde(rename = "dnsIP", skip_serializing_if = "Option::is_none")]
    pub dns_ip: Option<IpAddr>,
    pub defaulted: bool,
}

/// A declared node and the pod blocks it would get if nodes registered in the order listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePlan {
    pub name: String,
    pub addresses: Vec<IpAddr>,
    #[serde(rename = "podCIDRs")]
    pub pod_cidrs: Vec<IpNet>,
}

/// A value the input did not set, and who supplied it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Defaulted {
    pub path: String,
    pub value: String,
    pub by: String,
}

/// The plan document (`kube6 plan -o json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub valid: bool,
    pub source: SourceRef,
    pub distribution: Distribution,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_version: Option<String>,
    /// The Kubernetes version: as stated, or the one the distribution's version ships.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    pub cni: Cni,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cni_version: Option<String>,
    pub families: Vec<Family>,
    pub primary_family: Option<Family>,
    pub pods: Vec<PodRange>,
    pub services: Vec<ServiceRange>,
    pub cluster_domain: String,
    /// The DNS IPs the kubelet gets, in order.
    #[serde(rename = "dnsIPs")]
    pub dns_ips: Vec<IpAddr>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodePlan>,
    pub defaults: Vec<Defaulted>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Builds the plan for `net`; `diagnostics` decide `valid`.
pub fn build(net: &ClusterNetwork, file: &str, diagnostics: Vec<Diagnostic>) -> Plan {
    let families = net.families();
    let mut defaults_used = Vec::new();
    let mut note_default = |origin: &crate::source::Origin, value: String| {
        if let crate::source::Origin::Default { path, by } = origin {
            defaults_used.push(Defaulted {
                path: path.clone(),
                value,
                by: by.clone(),
            });
        }
    };
    note_default(&net.cni.origin, net.cni.value.to_string());
    note_default(&net.cluster_domain.origin, net.cluster_domain.value.clone());

    let mut pods = Vec::new();
    for range in &net.pods {
        let Some(cidr) = range.value.net() else {
            continue;
        };
        note_default(&range.origin, cidr.to_string());
        let family = Family::of_net(&cidr);
        let mask = defaults::node_mask(net, family);
        if let Some(mask) = &mask {
            note_default(&mask.origin, format!("/{}", mask.value));
        }
        let mask_value = mask
            .as_ref()
            .map(|m| m.value)
            .filter(|m| *m >= cidr.prefix_len() && *m <= family.bits());
        pods.push(PodRange {
            family,
            cidr,
            node_mask_size: mask.as_ref().map(|m| m.value),
            max_nodes: mask_value.map(|m| AddressCount::pow2(m - cidr.prefix_len())),
            addresses_per_node: mask_value.map(|m| AddressCount::pow2(family.bits() - m)),
            first_node_blocks: Vec::new(),
            node_mask_source: mask.map(|m| match &m.origin {
                crate::source::Origin::Default { by, .. } => by.clone(),
                other => other.path().to_string(),
            }),
            defaulted: range.origin.is_default(),
        });
    }

    let mut services = Vec::new();
    for (i, range) in net.services.iter().enumerate() {
        let Some(cidr) = range.value.net() else {
            continue;
        };
        note_default(&range.origin, cidr.to_string());
        let family = Family::of_net(&cidr);
        let size = range_size(&cidr);
        services.push(ServiceRange {
            family,
            cidr,
            size,
            allocatable: allocatable(&cidr),
            api_server_ip: indexed_ip(&cidr, 1),
            dns_ip: distribution_dns_ip(net, i, &cidr),
            defaulted: range.origin.is_default(),
        });
    }

    let dns_ips = kubelet_dns_ips(net, &services);
    let nodes = allocate_blocks(net, &mut pods, &services);

    let valid = !diagnostics.iter().any(|d| d.severity == Severity::Error);
    Plan {
        valid,
        source: SourceRef {
            format: net.format,
            file: file.to_string(),
        },
        distribution: net.distribution.value,
        distribution_version: net.distribution_version.as_ref().map(|v| v.value.clone()),
        kubernetes_version: net
            .kubernetes_version
            .as_ref()
            .map(|v| v.value.clone())
            .or_else(|| net.kubernetes_release().map(|v| v.core())),
        cni: net.cni.value,
        cni_version: net.cni_version.as_ref().map(|v| v.value.clone()),
        primary_family: families.first().copied(),
        families,
        pods,
        services,
        cluster_domain: net.cluster_domain.value.clone(),
        dns_ips,
        nodes,
        defaults: defaults_used,
        diagnostics,
    }
}

/// Addresses the ClusterIP bitmap allocator can hand out for `cidr`.
pub fn allocatable(cidr: &IpNet) -> u64 {
    let size = range_size(cidr).to_u64().unwrap_or(u64::MAX);
    match cidr {
        // IPv6: the bitmap holds at most 65,536 addresses; the network address is never used.
        IpNet::V6(_) => size.min(1 << 16).saturating_sub(1),
        // IPv4: the network and broadcast addresses are never used.
        IpNet::V4(_) => size.saturating_sub(2),
    }
}

/// The CoreDNS service address the distribution itself picks in the `index`-th service range.
fn distribution_dns_ip(net: &ClusterNetwork, index: usize, cidr: &IpNet) -> Option<IpAddr> {
    match net.distribution.value {
        // k0s: one address, in the primary family's range, network address + 10 in its last byte.
        Distribution::K0s => (index == 0)
            .then(|| crate::k0s::dns_address(cidr))
            .flatten(),
        // k3s/RKE2: the 10th address of each service range (or what cluster-dns says).
        Distribution::K3s | Distribution::Rke2 => match net.cluster_dns.get(index) {
            Some(explicit) => explicit.value.parsed,
            None => indexed_ip(cidr, 10),
        },
        // kubeadm: the 10th address of the first range; the CoreDNS Service is single-stack.
        Distribution::Kubeadm => (index == 0).then(|| indexed_ip(cidr, 10)).flatten(),
        // KKP: the first range's network address with 10 added to its last byte.
        Distribution::Kkp => (index == 0)
            .then(|| kube6_net::add_to_last_byte(cidr, 10))
            .flatten(),
    }
}

/// What the kubelet gets as `clusterDNS`: explicit settings if the input has them (kube6
/// `clusterDNS`, kubeadm KubeletConfiguration, k3s cluster-dns), else the distribution's picks.
fn kubelet_dns_ips(net: &ClusterNetwork, services: &[ServiceRange]) -> Vec<IpAddr> {
    let explicit: Vec<IpAddr> = net
        .cluster_dns
        .iter()
        .filter_map(|d| d.value.parsed)
        .collect();
    if !explicit.is_empty() {
        return explicit;
    }
    services.iter().filter_map(|s| s.dns_ip).collect()
}

/// Hands out node blocks as kube-controller-manager would: the declared nodes in order, or the
/// first few blocks when the spec declares fewer nodes.
fn allocate_blocks(
    net: &ClusterNetwork,
    pods: &mut [PodRange],
    services: &[ServiceRange],
) -> Vec<NodePlan> {
    let cluster: Vec<(IpNet, u8)> = pods
        .iter()
        .filter_map(|p| p.max_nodes.and(p.node_mask_size).map(|m| (p.cidr, m)))
        .collect();
    if cluster.is_empty() || cluster.len() != pods.len() {
        return Vec::new();
    }
    let service_cidrs: Vec<IpNet> = services.iter().map(|s| s.cidr).collect();
    let Ok(mut allocator) = NodeAllocator::new(&cluster, &service_cidrs) else {
        return Vec::new();
    };
    let wanted = net.nodes.len().max(SHOWN_NODE_BLOCKS);
    let mut handed_out: Vec<Vec<IpNet>> = Vec::new();
    for _ in 0..wanted {
        match allocator.allocate_node() {
            Ok(blocks) => handed_out.push(blocks),
            Err(_) => break,
        }
    }
    for (i, pod) in pods.iter_mut().enumerate() {
        pod.first_node_blocks = handed_out
            .iter()
            .take(SHOWN_NODE_BLOCKS)
            .filter_map(|b| b.get(i).copied())
            .collect();
    }
    net.nodes
        .iter()
        .enumerate()
        .map(|(i, node)| NodePlan {
            name: node.name.value.clone(),
            addresses: node
                .addresses
                .iter()
                .filter_map(|a| a.value.parsed)
                .collect(),
            pod_cidrs: handed_out.get(i).cloned().unwrap_or_default(),
        })
        .collect()
}
