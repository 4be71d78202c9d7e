//! One side of a diff: the network of a cluster as far as it is known, from a configuration
//! (its plan, defaults applied) or from a running cluster (what its objects show).

use std::net::IpAddr;

use ipnet::IpNet;
use kube6_model::Analysis;
use kube6_model::model::{Cni, Distribution};
use kube6_model::version::Version;
use kube6_net::Family;
use kube6_verify::Snapshot;
use kube6_verify::expect::Expectations;
use serde::Serialize;

/// Where a side comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "from")]
pub enum Origin {
    /// A configuration file in any format kube6 reads.
    Configuration { file: String, format: String },
    /// A running cluster (a live API server or a kubectl dump): families, node blocks and the
    /// addresses in use are known, the configured ranges are not.
    Cluster { name: String },
}

/// How pods get their addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PodIpam {
    /// From the node blocks kube-controller-manager assigns (`node.spec.podCIDRs`).
    NodeBlocks,
    /// From the CNI's own pools (Calico IPAM, Cilium cluster-pool or multi-pool).
    CniPools,
}

/// One family's pod range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodRange {
    pub family: Family,
    /// Unknown for a running cluster whose CNI keeps no pool objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr: Option<IpNet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_mask_size: Option<u8>,
}

/// One family's service range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRange {
    pub family: Family,
    /// Unknown for a running cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr: Option<IpNet>,
}

/// A ServiceCIDR object of a running cluster (`kubectl get servicecidrs`): the ranges
/// kube-apiserver allocates ClusterIPs from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceCidr {
    pub name: String,
    pub cidrs: Vec<IpNet>,
    /// The default ServiceCIDR `kubernetes`, which kube-apiserver keeps from its flags.
    pub default: bool,
    /// Being deleted: no new addresses from it, and it goes once its addresses are gone.
    pub deleting: bool,
    /// New ClusterIPs come from it (not being deleted, not marked not-ready).
    pub allocates: bool,
}

/// A node and its addresses, primary family first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    pub name: String,
    pub addresses: Vec<IpAddr>,
}

/// A node block a node holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeBlock {
    pub node: String,
    pub cidr: IpNet,
}

/// A Service's cluster IP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceAddress {
    /// `namespace/name`.
    pub service: String,
    pub ip: IpAddr,
}

/// What a running cluster already uses: addresses that must stay valid across a change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InUse {
    pub node_blocks: Vec<NodeBlock>,
    pub service_addresses: Vec<ServiceAddress>,
    /// The `default/kubernetes` Service's addresses, primary first.
    pub kubernetes_service: Vec<IpAddr>,
    /// LoadBalancer Services' load-balancer addresses (`status.loadBalancer.ingress[].ip`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub load_balancer_addresses: Vec<ServiceAddress>,
}

/// A cluster's network, as far as one side knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkState {
    pub origin: Origin,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Distribution>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cni: Option<Cni>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_ipam: Option<PodIpam>,
    /// kube-controller-manager gives nodes podCIDRs (configured so, or nodes have them).
    #[serde(rename = "nodePodCIDRs")]
    pub node_cidrs_allocated: bool,
    /// Primary first.
    pub families: Vec<Family>,
    /// The order of kube-controller-manager's --cluster-cidr, and so of every node's podCIDRs
    /// (k0s before v1.36.1 puts IPv6 first whatever the primary family).
    #[serde(rename = "podCIDROrder")]
    pub pod_cidr_order: Vec<Family>,
    pub pods: Vec<PodRange>,
    pub services: Vec<ServiceRange>,
    /// The cluster DNS addresses, primary first (the kubelets' clusterDNS, or kube-dns's
    /// addresses in a running cluster).
    #[serde(rename = "dnsIPs")]
    pub dns_ips: Vec<IpAddr>,
    /// The API endpoint clients and joining nodes use (host or host:port).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_endpoint: Option<String>,
    pub nodes: Vec<Node>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_use: Option<InUse>,
    /// The ServiceCIDR objects of a running cluster that has the API (none for a
    /// configuration, or for a cluster read without them).
    #[serde(rename = "serviceCIDRs", skip_serializing_if = "Vec::is_empty")]
    pub service_cidrs: Vec<ServiceCidr>,
    /// kube-apiserver's `MultiCIDRServiceAllocator` gate, when set explicitly.
    #[serde(skip)]
    pub multi_cidr_gate: Option<bool>,
    /// The load-balancer pools' blocks, for an implementation with pools (MetalLB, Cilium
    /// LB-IPAM, kube-vip); None when not known (a running cluster: kube6 reads no pool objects).
    #[serde(rename = "loadBalancerPools", skip_serializing_if = "Option::is_none")]
    pub lb_pools: Option<Vec<PoolBlock>>,
}

/// One block of a load-balancer pool.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PoolBlock {
    pub family: Family,
    /// The pool's name.
    pub pool: String,
    /// A CIDR, or FIRST-LAST.
    pub addresses: String,
}

impl NetworkState {
    pub fn primary(&self) -> Option<Family> {
        self.families.first().copied()
    }

    pub fn pod_range(&self, family: Family) -> Option<&PodRange> {
        self.pods.iter().find(|p| p.family == family)
    }

    pub fn service_range(&self, family: Family) -> Option<&ServiceRange> {
        self.services.iter().find(|s| s.family == family)
    }

    /// The ranges of `family` a running cluster's ServiceCIDRs other than the default one
    /// still allocate from: addresses in them stay valid whatever the configured range.
    pub fn added_service_ranges(&self, family: Family) -> impl Iterator<Item = (&str, IpNet)> {
        self.service_cidrs
            .iter()
            .filter(|c| !c.default && c.allocates)
            .flat_map(|c| c.cidrs.iter().map(move |n| (c.name.as_str(), *n)))
            .filter(move |(_, n)| Family::of_net(n) == family)
    }

    /// The ServiceCIDRs that already allocate from all of `range` (alone or together), by
    /// name; empty when the cluster's ServiceCIDRs do not cover it.
    pub fn service_cidrs_covering(&self, range: &IpNet) -> Vec<String> {
        let family = Family::of_net(range);
        let holding: Vec<(&str, IpNet)> = self
            .service_cidrs
            .iter()
            .filter(|c| c.allocates)
            .flat_map(|c| c.cidrs.iter().map(move |n| (c.name.as_str(), *n)))
            .filter(|(_, n)| {
                Family::of_net(n) == family && (n.contains(range) || range.contains(n))
            })
            .collect();
        let nets: Vec<IpNet> = holding.iter().map(|(_, n)| *n).collect();
        if !IpNet::aggregate(&nets).iter().any(|n| n.contains(range)) {
            return Vec::new();
        }
        let mut names: Vec<String> = holding.iter().map(|(name, _)| name.to_string()).collect();
        names.dedup();
        names
    }

    /// The Kubernetes release, if stated (or shipped by a stated distribution release).
    pub fn kubernetes_release(&self) -> Option<Version> {
        self.kubernetes_version
            .as_deref()
            .and_then(|v| Version::parse(v).ok())
    }

    /// The distribution's release, if stated.
    pub fn distribution_release(&self) -> Option<Version> {
        self.distribution_version
            .as_deref()
            .and_then(|v| Version::parse(v).ok())
    }

    pub fn is_cluster(&self) -> bool {
        matches!(self.origin, Origin::Cluster { .. })
    }

    /// A configuration, as `kube6 plan` sees it (defaults of its distribution applied).
    pub fn from_analysis(analysis: &Analysis) -> NetworkState {
        let plan = &analysis.plan;
        let net = &analysis.network;
        let dns_ips = if plan.dns_ips.is_empty() {
            plan.services.iter().filter_map(|s| s.dns_ip).collect()
        } else {
            plan.dns_ips.clone()
        };
        let api_endpoint = net
            .api
            .external
            .as_ref()
            .or(net.api.address.as_ref())
            .map(|a| a.value.trim().to_string())
            .filter(|a| !a.is_empty());
        NetworkState {
            origin: Origin::Configuration {
                file: plan.source.file.clone(),
                format: plan.source.format.as_str().to_string(),
            },
            distribution: Some(plan.distribution),
            distribution_version: plan.distribution_version.clone(),
            kubernetes_version: net
                .kubernetes_release()
                .map(|v| v.as_str().to_string())
                .or_else(|| plan.kubernetes_version.clone()),
            cni: Some(plan.cni),
            pod_ipam: Some(if net.pod_addresses_from_node_blocks() {
                PodIpam::NodeBlocks
            } else {
                PodIpam::CniPools
            }),
            node_cidrs_allocated: kube6_model::rules::allocates_node_cidrs(net),
            families: plan.families.clone(),
            pod_cidr_order: if plan.pod_cidr_order.is_empty() {
                plan.pods.iter().map(|p| p.family).collect()
            } else {
                plan.pod_cidr_order.clone()
            },
            pods: plan
                .pods
                .iter()
                .map(|p| PodRange {
                    family: p.family,
                    cidr: Some(p.cidr),
                    node_mask_size: p.node_mask_size,
                })
                .collect(),
            services: plan
                .services
                .iter()
                .map(|s| ServiceRange {
                    family: s.family,
                    cidr: Some(s.cidr),
                })
                .collect(),
            dns_ips,
            api_endpoint,
            nodes: plan
                .nodes
                .iter()
                .filter_map(|n| {
                    n.name.as_ref().map(|name| Node {
                        name: name.clone(),
                        addresses: n.addresses.clone(),
                    })
                })
                .collect(),
            in_use: None,
            service_cidrs: Vec::new(),
            multi_cidr_gate: net
                .feature_gate("MultiCIDRServiceAllocator")
                .map(|g| g.enabled.value),
            lb_pools: plan.load_balancer.implementation.uses_pools().then(|| {
                plan.load_balancer
                    .pools
                    .iter()
                    .flat_map(|p| {
                        p.blocks.iter().map(|b| PoolBlock {
                            family: b.family,
                            pool: p.name.clone(),
                            addresses: b.addresses.clone(),
                        })
                    })
                    .collect()
            }),
        }
    }

    /// A running cluster, from a snapshot of its objects. Families, the primary family and node
    /// masks are inferred as `kube6 verify` infers them without a plan; pod ranges are known only
    /// where the CNI keeps pools (one enabled Calico IPPool, or one Cilium pool CIDR, per family);
    /// service ranges are the default ServiceCIDR's where the cluster has that API (Kubernetes
    /// 1.33, or the gate on before), else the addresses in use stand for them.
    pub fn from_snapshot(snapshot: &Snapshot, name: &str, cni: Option<Cni>) -> NetworkState {
        let expect = Expectations::infer(snapshot, cni);
        let pods = expect
            .pods
            .iter()
            .map(|p| PodRange {
                family: p.family,
                cidr: pool_range(snapshot, p.family),
                node_mask_size: p.node_mask_size,
            })
            .collect();
        let service_cidrs: Vec<ServiceCidr> = snapshot
            .service_cidrs
            .iter()
            .map(|c| ServiceCidr {
                name: c.name.clone(),
                cidrs: c.nets().collect(),
                default: c.is_default(),
                deleting: c.deleting,
                allocates: c.allocates(),
            })
            .collect();
        // kube-apiserver keeps the default ServiceCIDR from its --service-cluster-ip-range
        // (pkg/controlplane/controller/defaultservicecidr): the configured ranges.
        let default_range = |family: Family| {
            service_cidrs
                .iter()
                .filter(|c| c.default)
                .flat_map(|c| &c.cidrs)
                .find(|n| Family::of_net(n) == family)
                .copied()
        };
        let services = expect
            .families
            .iter()
            .map(|&family| ServiceRange {
                family,
                cidr: default_range(family),
            })
            .collect();
        let parse = |ips: Vec<&str>| -> Vec<IpAddr> {
            ips.into_iter().filter_map(|ip| ip.parse().ok()).collect()
        };
        let kube_dns = snapshot
            .services
            .iter()
            .find(|s| s.namespace == "kube-system" && s.app_label.as_deref() == Some("kube-dns"))
            .or_else(|| {
                snapshot
                    .services
                    .iter()
                    .find(|s| s.namespace == "kube-system" && s.name == "kube-dns")
            });
        let kubernetes = snapshot
            .services
            .iter()
            .find(|s| s.namespace == "default" && s.name == "kubernetes");
        let mut in_use = InUse {
            kubernetes_service: kubernetes
                .map(|s| parse(s.effective_cluster_ips()))
                .unwrap_or_default(),
            ..InUse::default()
        };
        for node in &snapshot.nodes {
            for cidr in node.pod_cidrs.iter().filter_map(|c| c.net()) {
                in_use.node_blocks.push(NodeBlock {
                    node: node.name.clone(),
                    cidr,
                });
            }
        }
        for service in &snapshot.services {
            if service.is_external_name() || service.is_headless() {
                continue;
            }
            for ip in parse(service.effective_cluster_ips()) {
                in_use.service_addresses.push(ServiceAddress {
                    service: format!("{}/{}", service.namespace, service.name),
                    ip,
                });
            }
            if service.is_load_balancer() {
                for ip in parse(
                    service
                        .load_balancer_ips
                        .iter()
                        .map(String::as_str)
                        .collect(),
                ) {
                    in_use.load_balancer_addresses.push(ServiceAddress {
                        service: format!("{}/{}", service.namespace, service.name),
                        ip,
                    });
                }
            }
        }
        let pod_ipam = match expect.ipam.mode.uses_node_pod_cidrs() {
            true => PodIpam::NodeBlocks,
            false => PodIpam::CniPools,
        };
        NetworkState {
            origin: Origin::Cluster {
                name: name.to_string(),
            },
            distribution: None,
            distribution_version: None,
            kubernetes_version: None,
            cni,
            pod_ipam: Some(pod_ipam),
            node_cidrs_allocated: snapshot.nodes.iter().any(|n| !n.pod_cidrs.is_empty()),
            pod_cidr_order: node_cidr_order(snapshot).unwrap_or_else(|| expect.families.clone()),
            families: expect.families.clone(),
            pods,
            services,
            dns_ips: kube_dns
                .map(|s| parse(s.effective_cluster_ips()))
                .unwrap_or_default(),
            api_endpoint: None,
            nodes: snapshot
                .nodes
                .iter()
                .map(|n| Node {
                    name: n.name.clone(),
                    addresses: n.host_ips(),
                })
                .collect(),
            in_use: Some(in_use),
            // ServiceCIDR objects exist only where kube-apiserver runs with
            // MultiCIDRServiceAllocator: the API is there, whatever the version.
            multi_cidr_gate: (!service_cidrs.is_empty()).then_some(true),
            service_cidrs,
            lb_pools: None,
        }
    }
}

/// The family order most nodes' podCIDRs show (kube-controller-manager's --cluster-cidr order).
fn node_cidr_order(snapshot: &Snapshot) -> Option<Vec<Family>> {
    let mut orders: Vec<(Vec<Family>, usize)> = Vec::new();
    for node in &snapshot.nodes {
        let order: Vec<Family> = node
            .pod_cidrs
            .iter()
            .filter_map(|c| c.net())
            .map(|n| Family::of_net(&n))
            .collect();
        if order.is_empty() {
            continue;
        }
        match orders.iter_mut().find(|(o, _)| *o == order) {
            Some((_, n)) => *n += 1,
            None => orders.push((order, 1)),
        }
    }
    orders
        .into_iter()
        .max_by_key(|(o, n)| (*n, o.len()))
        .map(|(o, _)| o)
}

/// The pod range of `family` the CNI's pool objects show, when they show exactly one.
fn pool_range(snapshot: &Snapshot, family: Family) -> Option<IpNet> {
    let mut ranges: Vec<IpNet> = snapshot
        .cni
        .calico_pools
        .iter()
        .filter(|p| !p.disabled)
        .filter_map(|p| p.cidr.net())
        .chain(
            snapshot
                .cni
                .cilium_pools
                .iter()
                .flat_map(|p| p.cidrs.iter().filter_map(|c| c.net())),
        )
        .filter(|n| Family::of_net(n) == family)
        .collect();
    ranges.sort();
    ranges.dedup();
    match ranges.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn snapshot(json: &str) -> Snapshot {
        kube6_verify::read_dump_bytes("dump.json", json.as_bytes()).unwrap()
    }

    const DUAL_IPV6_FIRST: &str = r#"{"kind": "List", "apiVersion": "v1", "items": [
        {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "a"},
         "spec": {"podCIDRs": ["fd00::/117", "10.244.0.0/24"]},
         "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.1"}, {"type": "InternalIP", "address": "2001:db8::1"}]}},
        {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "b"},
         "spec": {"podCIDRs": ["fd00::800/117", "10.244.1.0/24"]},
         "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.2"}, {"type": "InternalIP", "address": "2001:db8::2"}]}},
        {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "kubernetes", "namespace": "default"},
         "spec": {"clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1", "fd01::1"], "ipFamilies": ["IPv4", "IPv6"]}},
        {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "coredns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
         "spec": {"clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "ipFamilies": ["IPv4"]}},
        {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "headless", "namespace": "shop"},
         "spec": {"clusterIP": "None", "clusterIPs": ["None"]}},
        {"kind": "IPPool", "apiVersion": "crd.projectcalico.org/v1", "metadata": {"name": "v6"},
         "spec": {"cidr": "fd00::/108", "blockSize": 122}}
    ]}"#;

    /// k0s before v1.36.1 gives nodes their IPv6 podCIDR first in an IPv4-primary cluster: the
    /// order of the nodes' podCIDRs, not the primary family, is kube-controller-manager's.
    #[test]
    fn a_cluster_shows_its_node_block_order_and_addresses_in_use() {
        let state = NetworkState::from_snapshot(&snapshot(DUAL_IPV6_FIRST), "dump.json", None);
        assert_eq!(state.families, vec![Family::IPv4, Family::IPv6]);
        assert_eq!(state.pod_cidr_order, vec![Family::IPv6, Family::IPv4]);
        assert!(state.node_cidrs_allocated);
        // kube-dns found by its label, whatever the Service is called.
        assert_eq!(state.dns_ips, vec!["10.96.0.10".parse::<IpAddr>().unwrap()]);
        let in_use = state.in_use.as_ref().unwrap();
        assert_eq!(in_use.node_blocks.len(), 4);
        // Headless Services hold no address.
        assert_eq!(in_use.service_addresses.len(), 3);
        assert_eq!(in_use.kubernetes_service.len(), 2);
        // One enabled pool per family gives the pod range; none for IPv4 leaves it unknown.
        assert_eq!(
            state.pod_range(Family::IPv6).unwrap().cidr,
            Some("fd00::/108".parse().unwrap())
        );
        assert_eq!(state.pod_range(Family::IPv4).unwrap().cidr, None);
        assert!(state.services.iter().all(|s| s.cidr.is_none()));
        assert_eq!(state.nodes[1].addresses.len(), 2);
    }
}
