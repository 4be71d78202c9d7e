//! The address plan: families, the primary family, per family the pod range with its node mask,
//! capacity and first node blocks, the service ranges with the API server and DNS addresses the
//! distribution would use. Computed from the model (even an invalid one, as far as it goes).

use std::net::IpAddr;

use ipnet::IpNet;
use kube6_net::{AddressCount, Family, NodeAllocator, indexed_ip, range_size};
use serde::Serialize;

use crate::defaults;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{
    ClusterNetwork, Cni, Distribution, Format, IngressController, LbImplementation, LbMode,
};

/// How many node blocks the plan lists when the spec declares fewer nodes.
pub const SHOWN_NODE_BLOCKS: usize = 4;

/// Where the input came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceRef {
    pub format: Format,
    pub file: String,
    /// The built-in example of `kube6 plan` without a file, not a file read from disk.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub builtin: bool,
    /// Feature gates given on the command line (`--feature-gates`), as the distribution is
    /// started with them: `IPv6SingleStack=true`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub feature_gates: Vec<String>,
    /// The input is a k3s/RKE2 agent's: agents do not set the cluster's ranges (the servers do),
    /// so the ranges, cluster DNS and domain in this plan are k3s's defaults.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub agent: bool,
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
    /// The pods a node can run in this range: its addresses, bounded by the kubelet's maxPods
    /// (the plan's `maxPods`).
    pub pods_per_node: Option<u64>,
    /// The first node blocks kube-controller-manager would hand out.
    pub first_node_blocks: Vec<IpNet>,
    /// Where the node mask comes from ("kube-controller-manager default", a field path, ...).
    pub node_mask_source: Option<String>,
    pub defaulted: bool,
    /// Carved from the delegated prefix (`spec.prefix`, `--prefix`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub carved: bool,
}

/// One service range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRange {
    pub family: Family,
    pub cidr: IpNet,
    pub size: AddressCount,
    /// Addresses the ClusterIP allocator can hand out: the bitmap allocator of Kubernetes before
    /// 1.34 holds at most 65,536; the network address, and for IPv4 the broadcast address, are
    /// never used.
    pub allocatable: u64,
    #[serde(rename = "apiServerIP")]
    pub api_server_ip: Option<IpAddr>,
    #[serde(rename = "dnsIP", skip_serializing_if = "Option::is_none")]
    pub dns_ip: Option<IpAddr>,
    pub defaulted: bool,
    /// Carved from the delegated prefix (`spec.prefix`, `--prefix`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub carved: bool,
}

/// A declared node and the pod blocks it would get if nodes registered in the order listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePlan {
    /// The node's name; null when the input leaves it to the host name (k3s without
    /// `node-name`, kubeadm without `nodeRegistration.name`), which only the node knows.
    pub name: Option<String>,
    pub addresses: Vec<IpAddr>,
    #[serde(rename = "podCIDRs")]
    pub pod_cidrs: Vec<IpNet>,
}

/// How many addresses a pool block holds: a JSON number, or a decimal string beyond 2^64 (the
/// plan's rule for counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSize(pub Option<u128>);

impl PoolSize {
    /// "256", "2^64", for people.
    pub fn human(&self) -> String {
        match self.0 {
            Some(n) if n.is_power_of_two() && n > 1 << 20 => format!("2^{}", n.trailing_zeros()),
            Some(n) => {
                let digits = n.to_string();
                let mut out = String::new();
                for (i, c) in digits.chars().enumerate() {
                    if i > 0 && (digits.len() - i) % 3 == 0 {
                        out.push(',');
                    }
                    out.push(c);
                }
                out
            }
            None => "2^128".to_string(),
        }
    }
}

impl Serialize for PoolSize {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(n) => match u64::try_from(n) {
                Ok(small) => s.serialize_u64(small),
                Err(_) => s.serialize_str(&n.to_string()),
            },
            None => s.serialize_str("340282366920938463463374607431768211456"),
        }
    }
}

/// One block of a load-balancer pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolBlock {
    pub family: Family,
    /// The block as kube6 writes it: a canonical CIDR, or FIRST-LAST.
    pub addresses: String,
    pub first: IpAddr,
    pub last: IpAddr,
    pub size: PoolSize,
    /// Where the block was carved from ("carved from 2001:db8:1234:5600::/56"), when the
    /// prefix carving made it (`spec.prefix`, `--prefix`) rather than the input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carved: Option<String>,
}

/// One load-balancer pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LbPoolPlan {
    pub name: String,
    pub mode: LbMode,
    /// The families of its addresses, IPv4 first (MetalLB allocates a dual-stack Service from
    /// one pool that has both).
    pub families: Vec<Family>,
    pub blocks: Vec<PoolBlock>,
    /// Addresses per family, in `families` order.
    pub sizes: Vec<PoolSize>,
}

/// How LoadBalancer Services get addresses, and the ingress controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerPlan {
    pub implementation: LbImplementation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub ingress: IngressController,
    pub pools: Vec<LbPoolPlan>,
}

/// A component whose version the input does not state, and the release whose defaults and
/// rules kube6 applied to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assumed {
    pub component: String,
    pub release: String,
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
    /// The order kube-controller-manager gets the pod ranges in (`--cluster-cidr`), and so the
    /// order of every node's podCIDRs; written only where it differs from `families` (k0s
    /// before v1.36.1 in dual-stack puts IPv6 first whatever the primary family).
    #[serde(rename = "podCIDROrder", skip_serializing_if = "Vec::is_empty")]
    pub pod_cidr_order: Vec<Family>,
    pub pods: Vec<PodRange>,
    pub services: Vec<ServiceRange>,
    pub cluster_domain: String,
    /// The kubelet's maxPods: the most pods a node runs, whatever its pod block holds.
    pub max_pods: u32,
    /// Who decides `maxPods` ("kubelet default").
    pub max_pods_source: String,
    /// The DNS IPs the kubelet gets, in order.
    #[serde(rename = "dnsIPs")]
    pub dns_ips: Vec<IpAddr>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodePlan>,
    pub defaults: Vec<Defaulted>,
    /// LoadBalancer Services: the implementation, its pools with their sizes, the ingress.
    pub load_balancer: LoadBalancerPlan,
    /// The delegated prefix and what was carved from it (`spec.prefix`, `--prefix`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<crate::prefix::PrefixPlan>,
    /// When the prefix changed: every range and address before and after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renumbering: Option<crate::prefix::Renumbering>,
    /// Components without a stated version, and the release kube6 assumed for each.
    #[serde(rename = "assumedReleases", skip_serializing_if = "Vec::is_empty")]
    pub assumed_releases: Vec<Assumed>,
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
    // k3s's CNI default is its bundled Flannel, chosen at `flannel-backend`, whose default value
    // is the backend, vxlan (facts::flannel), not the CNI's name.
    let cni_default = match &net.cni.origin {
        crate::source::Origin::Default { path, .. }
            if net.cni.value == Cni::Flannel && path == "flannel-backend" =>
        {
            crate::facts::flannel::K3S_DEFAULT_BACKEND.to_string()
        }
        _ => net.cni.value.to_string(),
    };
    note_default(&net.cni.origin, cni_default);
    note_default(&net.cluster_domain.origin, net.cluster_domain.value.clone());
    note_default(
        &net.load_balancer.implementation.origin,
        net.load_balancer.implementation.value.to_string(),
    );
    note_default(
        &net.load_balancer.ingress.origin,
        net.load_balancer.ingress.value.to_string(),
    );

    let (max_pods, max_pods_source) = crate::facts::kubernetes::max_pods(net.distribution.value);
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
            pods_per_node: mask_value.map(|m| {
                AddressCount::pow2(family.bits() - m)
                    .to_u64()
                    .map_or(u64::from(max_pods), |n| n.min(u64::from(max_pods)))
            }),
            first_node_blocks: Vec::new(),
            node_mask_source: mask.map(|m| match &m.origin {
                crate::source::Origin::Default { by, .. } => by.clone(),
                crate::source::Origin::Derived { from, .. } => from.clone(),
                other => other.path().to_string(),
            }),
            defaulted: range.origin.is_default(),
            carved: range.origin.is_derived(),
        });
    }

    let mut services = Vec::new();
    let bitmap = clusterip_bitmap(net);
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
            allocatable: allocatable(&cidr, bitmap),
            api_server_ip: indexed_ip(&cidr, 1),
            dns_ip: distribution_dns_ip(net, i, &cidr),
            defaulted: range.origin.is_default(),
            carved: range.origin.is_derived(),
        });
    }

    let dns_ips = kubelet_dns_ips(net, &services);
    let order = pod_cidr_order(net, &families);
    let nodes = allocate_blocks(net, &mut pods, &services, &order);

    let valid = !diagnostics.iter().any(|d| d.severity == Severity::Error);
    Plan {
        valid,
        source: SourceRef {
            format: net.format,
            file: file.to_string(),
            builtin: false,
            agent: net.specific.k3s_agent.as_ref().is_some_and(|a| a.value),
            feature_gates: net
                .feature_gates
                .iter()
                .filter(|g| matches!(&g.name.origin, crate::source::Origin::Input { path, .. } if path == "--feature-gates"))
                .map(|g| format!("{}={}", g.name.value, g.enabled.value))
                .collect(),
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
        pod_cidr_order: if order == families { Vec::new() } else { order },
        assumed_releases: assumed_releases(net),
        families,
        pods,
        services,
        cluster_domain: net.cluster_domain.value.clone(),
        max_pods,
        max_pods_source: max_pods_source.to_string(),
        dns_ips,
        nodes,
        defaults: defaults_used,
        load_balancer: load_balancer_plan(net),
        prefix: None,
        renumbering: None,
        diagnostics,
    }
}

/// The load-balancer section: every pool with the blocks that parsed and their sizes.
fn load_balancer_plan(net: &ClusterNetwork) -> LoadBalancerPlan {
    let lb = &net.load_balancer;
    let pools = lb
        .pools
        .iter()
        .enumerate()
        .map(|(i, pool)| {
            let blocks: Vec<PoolBlock> = pool
                .blocks()
                .map(|(a, b)| PoolBlock {
                    family: b.family(),
                    addresses: b.to_string(),
                    first: b.first,
                    last: b.last,
                    size: PoolSize(b.size()),
                    carved: match &a.origin {
                        crate::source::Origin::Derived { from, .. } => Some(from.clone()),
                        _ => None,
                    },
                })
                .collect();
            let families = pool.families();
            let sizes = families
                .iter()
                .map(|f| {
                    PoolSize(
                        blocks
                            .iter()
                            .filter(|b| b.family == *f)
                            .try_fold(0u128, |sum, b| b.size.0.and_then(|n| sum.checked_add(n))),
                    )
                })
                .collect();
            LbPoolPlan {
                name: pool.display_name(i),
                mode: pool.mode(),
                families,
                blocks,
                sizes,
            }
        })
        .collect();
    LoadBalancerPlan {
        implementation: lb.implementation.value,
        version: lb.version.as_ref().map(|v| v.value.clone()),
        ingress: lb.ingress.value,
        pools,
    }
}

/// The order of the pod ranges on kube-controller-manager's `--cluster-cidr`: the families'
/// order, except k0s before v1.36.1, which always put the IPv6 range first in dual-stack
/// (facts::k0s::pod_cidrs_ipv6_first).
pub fn pod_cidr_order(net: &ClusterNetwork, families: &[Family]) -> Vec<Family> {
    if net.distribution.value == Distribution::K0s
        && families.len() == 2
        && crate::facts::k0s::pod_cidrs_ipv6_first(net.distribution_release().as_ref())
    {
        return vec![Family::IPv6, Family::IPv4];
    }
    families.to_vec()
}

/// The components whose version the input leaves open, with the release kube6 assumed.
fn assumed_releases(net: &ClusterNetwork) -> Vec<Assumed> {
    let mut out = Vec::new();
    if net.distribution_release().is_none() && net.distribution.value != Distribution::Kkp {
        out.push(Assumed {
            component: net.distribution.value.to_string(),
            release: crate::facts::distribution_assumed_release(net.distribution.value).to_string(),
        });
    }
    if net.distribution.value == Distribution::Kkp {
        if net.kubernetes_release().is_none() {
            out.push(Assumed {
                component: "kubernetes".to_string(),
                release: crate::facts::kkp::DEFAULT_KUBERNETES_VERSION.to_string(),
            });
        }
        out.push(Assumed {
            component: "kkp".to_string(),
            release: crate::facts::kkp::ASSUMED_RELEASE.to_string(),
        });
    }
    if net.cni_release().is_none()
        && let Some(release) = crate::facts::cni_assumed_release(net.cni.value)
    {
        out.push(Assumed {
            component: net.cni.value.to_string(),
            release: release.to_string(),
        });
    }
    out
}

/// Addresses the ClusterIP allocator can hand out for `cidr`. The bitmap allocator (kubernetes
/// pkg/registry/core/service/ipallocator/bitmap.go, still in use until both service-allocator
/// gates are on) keeps at most 65,536 addresses of an IPv6 range; the IPAddress allocator
/// (ipallocator.go `NewIPAllocator`, the default from Kubernetes 1.34) uses the whole range. Both
/// skip the network address, and for IPv4 the broadcast address.
pub fn allocatable(cidr: &IpNet, bitmap: bool) -> u64 {
    let size = range_size(cidr).to_u64().unwrap_or(u64::MAX);
    match cidr {
        IpNet::V6(_) if bitmap => size
            .min(crate::facts::kubernetes::SERVICE_BITMAP_MAX)
            .saturating_sub(1),
        IpNet::V6(_) => size.saturating_sub(1),
        IpNet::V4(_) => size.saturating_sub(2),
    }
}

/// Whether kube-apiserver allocates ClusterIPs from the bitmap (see [`allocatable`]).
fn clusterip_bitmap(net: &ClusterNetwork) -> bool {
    let gate = |name| net.feature_gate(name).map(|g| g.enabled.value);
    crate::facts::kubernetes::service_range_size_checked(
        net.kubernetes_release().as_ref(),
        gate("MultiCIDRServiceAllocator"),
        gate("DisableAllocatorDualWrite"),
    )
}

/// The CoreDNS service address the distribution itself picks in the `index`-th service range.
fn distribution_dns_ip(net: &ClusterNetwork, index: usize, cidr: &IpNet) -> Option<IpAddr> {
    match net.distribution.value {
        // k0s: one address, in the primary family's range, network address + 10 in its last byte.
        Distribution::K0s => (index == 0)
            .then(|| crate::k0s::dns_address(cidr))
            .flatten(),
        // k3s/RKE2: the 10th address of each service range (or what cluster-dns says).
        // An explicit `cluster-dns` list is taken as it is; without one, k3s takes the 10th
        // address of every service range (of the first only before the releases in
        // `facts::k3s::DNS_PER_SERVICE_RANGE_SINCE`).
        Distribution::K3s | Distribution::Rke2 => {
            if !net.cluster_dns.is_empty() {
                net.cluster_dns.get(index).and_then(|d| d.value.parsed)
            } else if index == 0
                || crate::facts::k3s::dns_per_service_range(net.distribution_release().as_ref())
            {
                indexed_ip(cidr, crate::facts::k3s::DNS_SERVICE_INDEX)
            } else {
                None
            }
        }
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
    order: &[Family],
) -> Vec<NodePlan> {
    // kube-controller-manager's sets, in the order it gets the ranges; each node's podCIDRs
    // come out in that order.
    let mut in_order: Vec<usize> = (0..pods.len()).collect();
    in_order.sort_by_key(|&i| order.iter().position(|f| *f == pods[i].family));
    let cluster: Vec<(IpNet, u8)> = in_order
        .iter()
        .filter_map(|&i| {
            let p = &pods[i];
            p.max_nodes.and(p.node_mask_size).map(|m| (p.cidr, m))
        })
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
    for (set, &i) in in_order.iter().enumerate() {
        pods[i].first_node_blocks = handed_out
            .iter()
            .take(SHOWN_NODE_BLOCKS)
            .filter_map(|b| b.get(set).copied())
            .collect();
    }
    net.nodes
        .iter()
        .enumerate()
        .map(|(i, node)| NodePlan {
            name: (!node.name.origin.is_default()).then(|| node.name.value.clone()),
            addresses: node
                .addresses
                .iter()
                .filter_map(|a| a.value.parsed)
                .collect(),
            pod_cidrs: handed_out.get(i).cloned().unwrap_or_default(),
        })
        .collect()
}
