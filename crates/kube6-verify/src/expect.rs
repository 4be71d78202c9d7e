//! What the cluster should look like: taken from a plan, or inferred from the cluster itself.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use kube6_model::Analysis;
use kube6_model::model::{Cni, Distribution};
use kube6_net::Family;
use serde::Serialize;

use crate::distro::DistroRules;
use crate::ipam::{self, IpamExpectation};
use crate::snapshot::{Addr, Snapshot};

/// Where the expectations come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "from")]
pub enum ExpectationSource {
    /// A plan file (`--plan`).
    Plan {
        file: String,
        distribution: String,
        /// The distribution's version as the plan states it; without one, the newest release
        /// kube6 knows is assumed.
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<String>,
    },
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

/// The cluster DNS: what the kubelets give pods, and how the distribution serves it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DnsExpectation {
    /// The kubelets' `clusterDNS`, in order (empty when unknown).
    #[serde(rename = "clusterDNS")]
    pub cluster_dns: Vec<IpAddr>,
    /// The `ipFamilyPolicy` the distribution gives the kube-dns Service (for the report: the
    /// operator may choose another).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_family_policy: Option<String>,
}

/// What verification compares the cluster with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Expectations {
    pub source: ExpectationSource,
    /// The families, primary first.
    pub families: Vec<Family>,
    pub pods: Vec<PodRangeExpectation>,
    /// The order in which kube-controller-manager gives nodes their podCIDRs (its
    /// `--cluster-cidr` order); `None` when not known (no plan), and then not judged.
    #[serde(rename = "podCIDROrder", skip_serializing_if = "Option::is_none")]
    pub pod_cidr_order: Option<Vec<Family>>,
    /// Service ranges (empty when inferred).
    pub service_ranges: Vec<IpNet>,
    /// The `kubernetes` Service's address: the first address of the primary service range.
    #[serde(rename = "apiServerIP", skip_serializing_if = "Option::is_none")]
    pub api_server_ip: Option<IpAddr>,
    pub dns: DnsExpectation,
    pub ipam: IpamExpectation,
    /// The release whose rules are assumed because the plan states no version of its
    /// distribution (`k0s v1.36.3`), where the distribution's behaviour changed by release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assumed_release: Option<String>,
    /// Assumptions made (a version not stated, a CNI not named), for the report.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
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

    pub fn pod_range(&self, family: Family) -> Option<&PodRangeExpectation> {
        self.pods.iter().find(|p| p.family == family)
    }

    /// The planned pod ranges that are known.
    pub fn pod_cidrs(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.pods.iter().filter_map(|p| p.cidr)
    }

    /// From a plan (`kube6 plan`'s analysis of the input; `--cni` is applied by the import).
    pub fn from_analysis(analysis: &Analysis) -> Expectations {
        let plan = &analysis.plan;
        let net = &analysis.network;
        let version = net.distribution_version.as_ref().map(|v| v.value.clone());
        let mut notes = Vec::new();
        let cluster_dns = if plan.dns_ips.is_empty() {
            plan.services.iter().filter_map(|s| s.dns_ip).collect()
        } else {
            plan.dns_ips.clone()
        };
        let rules = DistroRules::new(net, &mut notes);
        let ip_family_policy = rules.kube_dns_policy(cluster_dns.len());
        Expectations {
            source: ExpectationSource::Plan {
                file: plan.source.file.clone(),
                distribution: plan.distribution.as_str().to_string(),
                version,
            },
            families: plan.families.clone(),
            pods: plan
                .pods
                .iter()
                .map(|p| PodRangeExpectation {
                    family: p.family,
                    cidr: Some(p.cidr),
                    node_mask_size: p.node_mask_size,
                })
                .collect(),
            // The plan's order, so plan, render and verify agree (k0s before v1.36.1).
            pod_cidr_order: Some(if plan.pod_cidr_order.is_empty() {
                plan.families.clone()
            } else {
                plan.pod_cidr_order.clone()
            }),
            service_ranges: plan.services.iter().map(|s| s.cidr).collect(),
            api_server_ip: plan
                .services
                .iter()
                .find(|s| Some(s.family) == plan.primary_family)
                .and_then(|s| s.api_server_ip),
            dns: DnsExpectation {
                cluster_dns,
                ip_family_policy,
            },
            ipam: ipam::from_network(net),
            assumed_release: plan
                .assumed_releases
                .iter()
                .find(|a| a.component == plan.distribution.as_str())
                .map(|a| format!("{} {}", a.component, a.release)),
            notes,
        }
    }

    /// Inferred from the cluster. The primary family is the `kubernetes` Service's (the API
    /// server gives it the first address of its primary range), else the one most nodes list
    /// first among their IPs (the kubelet's --node-ip order), else the one most pods list first.
    /// Node podCIDRs do not vote: k0s before v1.36.1 gives them IPv6 first whatever the primary
    /// family. A second family is expected when some Service has an address of it (the API
    /// server has a range for it) or some node has a pod CIDR of it (kube-controller-manager
    /// has a cluster CIDR for it). Node masks are the most common per family.
    pub fn infer(snapshot: &Snapshot, cni: Option<Cni>) -> Expectations {
        let first_family = |ips: &[&str]| {
            ips.first()
                .and_then(|ip| Addr::from(*ip).ip())
                .map(|ip| Family::of_addr(&ip))
        };
        let kubernetes = snapshot
            .services
            .iter()
            .find(|s| s.namespace == "default" && s.name == "kubernetes");
        let majority = |firsts: &mut dyn Iterator<Item = Family>| {
            let mut votes: HashMap<Family, usize> = HashMap::new();
            for f in firsts {
                *votes.entry(f).or_default() += 1;
            }
            votes
                .into_iter()
                .max_by_key(|(f, n)| (*n, *f == Family::IPv4))
                .map(|(f, _)| f)
        };
        let primary = kubernetes
            .and_then(|s| first_family(&s.effective_cluster_ips()))
            .or_else(|| {
                majority(
                    &mut snapshot
                        .nodes
                        .iter()
                        .filter_map(|n| n.host_ips().first().map(Family::of_addr)),
                )
            })
            .or_else(|| {
                majority(
                    &mut snapshot
                        .pods
                        .iter()
                        .filter(|p| !p.host_network)
                        .filter_map(|p| {
                            p.pod_ips
                                .first()
                                .and_then(Addr::ip)
                                .map(|ip| Family::of_addr(&ip))
                        }),
                )
            })
            .unwrap_or(Family::IPv4);
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
        let ipam = match cni {
            Some(cni) => ipam::from_cni(cni, snapshot),
            None => ipam::from_evidence(snapshot),
        };
        Expectations {
            source: ExpectationSource::Cluster,
            families,
            pods,
            pod_cidr_order: None,
            service_ranges: Vec::new(),
            api_server_ip: None,
            dns: DnsExpectation::default(),
            ipam,
            assumed_release: None,
            notes: Vec::new(),
        }
    }

    /// The distribution the expectations come from, if a plan named one.
    pub fn distribution(&self) -> Option<Distribution> {
        match &self.source {
            ExpectationSource::Plan { distribution, .. } => distribution.parse().ok(),
            ExpectationSource::Cluster => None,
        }
    }
}
