//! What the cluster should look like: taken from a plan, or inferred from the cluster itself.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use kube6_model::plan::Plan;
use kube6_net::Family;
use serde::Serialize;

use crate::snapshot::{Addr, Snapshot};

/// Where the expectations come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "from")]
pub enum ExpectationSource {
    /// A plan file (`--plan`).
    Plan { file: String, distribution: String },
    /// The cluster itself: families and node masks only; ranges and DNS addresses are unknown.
    Cluster,
}

/// The pod range of one family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodRangeExpectation {
    pub family: Family,
    /// Unknown when inferred from the cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr: Option<IpNet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_mask_size: Option<u8>,
}

/// What verification compares the cluster with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Expectations {
    pub source: ExpectationSource,
    /// The families, primary first.
    pub families: Vec<Family>,
    /// The order of every node's podCIDRs (kube-controller-manager's `--cluster-cidr` order),
    /// when it differs from `families`: k0s before v1.36.1 puts IPv6 first in dual-stack.
    #[serde(rename = "podCIDROrder", skip_serializing_if = "Vec::is_empty")]
    pub pod_cidr_order: Vec<Family>,
    pub pods: Vec<PodRangeExpectation>,
    /// Service ranges (empty when inferred).
    pub service_ranges: Vec<IpNet>,
    /// The `kubernetes` Service's address: the first address of the primary service range.
    #[serde(rename = "apiServerIP", skip_serializing_if = "Option::is_none")]
    pub api_server_ip: Option<IpAddr>,
    /// The kube-dns Service's cluster IPs as the distribution sets them, in order (empty when
    /// unknown).
    #[serde(rename = "dnsIPs")]
    pub dns_ips: Vec<IpAddr>,
}

impl Expectations {
    pub fn primary(&self) -> Option<Family> {
        self.families.first().copied()
    }

    pub fn is_dual(&self) -> bool {
        self.families.len() > 1
    }

    pub fn expects(&self, family: Family) -> bool {
        self.families.contains(&family)
    }

    /// The family a node's first podCIDR is of.
    pub fn first_pod_cidr_family(&self) -> Option<Family> {
        self.pod_cidr_order
            .first()
            .or(self.families.first())
            .copied()
    }

    pub fn pod_range(&self, family: Family) -> Option<&PodRangeExpectation> {
        self.pods.iter().find(|p| p.family == family)
    }

    /// From a plan (`kube6 plan`'s document).
    pub fn from_plan(plan: &Plan) -> Expectations {
        let dns_ips = if plan.dns_ips.is_empty() {
            plan.services.iter().filter_map(|s| s.dns_ip).collect()
        } else {
            plan.dns_ips.clone()
        };
        Expectations {
            source: ExpectationSource::Plan {
                file: plan.source.file.clone(),
                distribution: plan.distribution.as_str().to_string(),
            },
            families: plan.families.clone(),
            pod_cidr_order: plan.pod_cidr_order.clone(),
            pods: plan
                .pods
                .iter()
                .map(|p| PodRangeExpectation {
                    family: p.family,
                    cidr: Some(p.cidr),
                    node_mask_size: p.node_mask_size,
                })
                .collect(),
            service_ranges: plan.services.iter().map(|s| s.cidr).collect(),
            api_server_ip: plan
                .services
                .iter()
                .find(|s| Some(s.family) == plan.primary_family)
                .and_then(|s| s.api_server_ip),
            dns_ips,
        }
    }

    /// Inferred from the cluster. The primary family is the `kubernetes` Service's (the API
    /// server gives it the first address of its primary range), else the one most nodes list
    /// first. A second family is expected when some Service has an address of it (the API
    /// server has a range for it) or some node has a pod CIDR of it (kube-controller-manager
    /// has a cluster CIDR for it). Node masks are the most common per family.
    pub fn infer(snapshot: &Snapshot) -> Expectations {
        let first_family = |ips: &[&str]| {
            ips.first()
                .and_then(|ip| Addr::from(*ip).ip())
                .map(|ip| Family::of_addr(&ip))
        };
        let kubernetes = snapshot
            .services
            .iter()
            .find(|s| s.namespace == "default" && s.name == "kubernetes");
        let mut primary = kubernetes.and_then(|s| first_family(&s.effective_cluster_ips()));
        if primary.is_none() {
            let mut votes: HashMap<Family, usize> = HashMap::new();
            for node in &snapshot.nodes {
                let first = node
                    .pod_cidrs
                    .first()
                    .and_then(|c| c.net())
                    .map(|n| Family::of_net(&n))
                    .or_else(|| {
                        node.internal_ips()
                            .next()
                            .and_then(|a| a.ip())
                            .map(|ip| Family::of_addr(&ip))
                    });
                if let Some(f) = first {
                    *votes.entry(f).or_default() += 1;
                }
            }
            primary = votes
                .into_iter()
                .max_by_key(|(f, n)| (*n, *f == Family::IPv4))
                .map(|(f, _)| f);
        }
        let primary = primary.unwrap_or(Family::IPv4);
        let other = primary.other();
        let services_have_other = snapshot.services.iter().any(|s| {
            s.effective_cluster_ips()
                .iter()
                .filter_map(|ip| Addr::from(*ip).ip())
                .any(|ip| Family::of_addr(&ip) == other)
        });
        let nodes_have_other = snapshot.nodes.iter().any(|n| n.pod_cidr(other).is_some());
        let mut families = vec![primary];
        if services_have_other || nodes_have_other {
            families.push(other);
        }

        let pods = families
            .iter()
            .map(|&family| {
                let mut masks: HashMap<u8, usize> = HashMap::new();
                for node in &snapshot.nodes {
                    if let Some(net) = node.pod_cidr(family) {
                        *masks.entry(net.prefix_len()).or_default() += 1;
                    }
                }
                PodRangeExpectation {
                    family,
                    cidr: None,
                    node_mask_size: masks
                        .into_iter()
                        .max_by_key(|(mask, n)| (*n, u8::MAX - mask))
                        .map(|(mask, _)| mask),
                }
            })
            .collect();
        // kube-controller-manager gives every node its podCIDRs in the same order; a node with
        // two shows it (k0s before v1.36.1 puts IPv6 first whatever the primary family).
        let pod_cidr_order: Vec<Family> = snapshot
            .nodes
            .iter()
            .map(|n| {
                n.pod_cidrs
                    .iter()
                    .filter_map(|c| c.net())
                    .map(|net| Family::of_net(&net))
                    .collect::<Vec<_>>()
            })
            .find(|order| order.len() == 2 && order[0] != order[1])
            .filter(|order| *order != families)
            .unwrap_or_default();
        Expectations {
            source: ExpectationSource::Cluster,
            families,
            pod_cidr_order,
            pods,
            service_ranges: Vec::new(),
            api_server_ip: None,
            dns_ips: Vec::new(),
        }
    }
}
