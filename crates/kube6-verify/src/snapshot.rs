//! The objects the checks read: lean copies of Nodes, Pods, Services and EndpointSlices holding
//! only the fields verification needs.

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

    /// Every address of the node that is an IP (InternalIP, ExternalIP, ...).
    pub fn ips(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.addresses
            .iter()
            .filter_map(|a| a.address.parse::<IpAddr>().ok())
    }

    /// The node's pod CIDR of `family`, if it has one that parses.
    pub fn pod_cidr(&self, family: Family) -> Option<IpNet> {
        self.pod_cidrs
            .iter()
            .filter_map(Cidr::net)
            .find(|n| Family::of_net(n) == family)
    }
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
}

impl Service {
    pub fn is_external_name(&self) -> bool {
        self.type_.as_deref() == Some("ExternalName")
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

/// How many objects of each kind a snapshot holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub nodes: usize,
    pub pods: usize,
    pub services: usize,
    pub endpoint_slices: usize,
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
    pub ignored: usize,
}

impl Snapshot {
    pub fn counts(&self) -> Counts {
        Counts {
            nodes: self.nodes.len(),
            pods: self.pods.len(),
            services: self.services.len(),
            endpoint_slices: self.endpoint_slices.len(),
            ignored: self.ignored,
        }
    }

    /// Adds `other`'s objects. When the same object appears in both (overlapping dumps), the
    /// later copy is dropped so that it is not counted twice.
    pub fn merge(&mut self, other: Snapshot) {
        use std::collections::HashSet;
        fn extend<T>(into: &mut Vec<T>, from: Vec<T>, key: impl Fn(&T) -> (String, String)) {
            if into.is_empty() {
                *into = from;
                return;
            }
            let seen: HashSet<(String, String)> = into.iter().map(&key).collect();
            into.extend(from.into_iter().filter(|o| !seen.contains(&key(o))));
        }
        extend(&mut self.nodes, other.nodes, |n| {
            (String::new(), n.name.clone())
        });
        extend(&mut self.pods, other.pods, |p| {
            (p.namespace.clone(), p.name.clone())
        });
        extend(&mut self.services, other.services, |s| {
            (s.namespace.clone(), s.name.clone())
        });
        extend(&mut self.endpoint_slices, other.endpoint_slices, |e| {
            (e.namespace.clone(), e.name.clone())
        });
        self.ignored += other.ignored;
    }
}
