//! Carving a delegated IPv6 prefix (kube6 `spec.prefix`, `kube6 plan --prefix`) into the node
//! subnet(s), the pod range with its node blocks, the service range and load-balancer pools.
//!
//! What the input fixes (a pod or service range it sets, a node mask, node addresses, CNI pools,
//! cluster DNS addresses) is kept, and the rest is carved around it. Sizes and places come from
//! the components' limits in `crate::facts`; every candidate layout is then judged by kube6's own
//! rules, so a carved plan never breaks a rule a fixed one would pass (see `choose`). When the
//! prefix changes (`--prefix NEW` on a file carved from another prefix, or `--previous-prefix`),
//! what the input fixes inside the old prefix keeps its place in the new one (`renumber`), and
//! the plan lists every range and address before and after.

mod carve;
mod pools;
mod renumber;
pub mod space;

use std::net::IpAddr;

use ipnet::{IpNet, Ipv6Net};
use kube6_net::{Family, SpecialRange, special_overlaps};
use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::model::{CidrValue, ClusterNetwork, CountValue, MaskValue, PrefixSpec};
use crate::rules::catalog as r;
use crate::source::{Located, Origin};

pub use renumber::{Change, Renumbering, renumbering};

/// The most load-balancer pools kube6 carves from one prefix.
pub const MAX_LOAD_BALANCER_POOLS: u64 = 64;
/// The most node links kube6 carves from one prefix.
pub const MAX_NODE_SUBNETS: u64 = 64;

/// What a carved (or kept) range is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RangeRole {
    /// A link the nodes sit on (a /64).
    NodeSubnet,
    /// The part of a node link left to the nodes' own addresses.
    Hosts,
    Pods,
    Services,
    LoadBalancerPool,
}

impl RangeRole {
    pub fn as_str(self) -> &'static str {
        match self {
            RangeRole::NodeSubnet => "node subnet",
            RangeRole::Hosts => "node addresses",
            RangeRole::Pods => "pods",
            RangeRole::Services => "services",
            RangeRole::LoadBalancerPool => "load-balancer pool",
        }
    }
}

/// How the ranges sit in the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// Pods and services have /64s of their own, which the upstream routes to the nodes.
    Routed,
    /// Pods and services share the nodes' link (a single /64, or an NDP-proxy upstream).
    OnLink,
}

/// A range of the prefix: carved, or kept as the input fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CarvedRange {
    pub role: RangeRole,
    pub cidr: IpNet,
    /// Kept as the input sets it (not carved).
    pub fixed: bool,
    /// The node blocks' prefix length, for the pod range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_mask_size: Option<u8>,
    /// Why this place and size.
    pub why: String,
}

/// The carving of a delegated prefix, as the plan shows it (`prefix` in `kube6 plan -o json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrefixPlan {
    pub cidr: IpNet,
    /// Where the prefix was given: `spec.prefix` or `--prefix`.
    pub source: String,
    pub layout: Layout,
    /// What the carving made room for.
    pub nodes: u64,
    pub pods_per_node: u64,
    pub node_subnets: u64,
    pub load_balancer_pools: u64,
    /// Every carved range starts and ends on a hex digit (nibble) boundary.
    pub nibble_aligned: bool,
    /// The ranges inside the prefix, in address order.
    pub ranges: Vec<CarvedRange>,
    /// What is left of the prefix, as aligned blocks in address order.
    pub free: Vec<IpNet>,
    /// The choices that concern the whole layout, for people.
    pub notes: Vec<String>,
}

impl PrefixPlan {
    /// The ranges of one role.
    pub fn ranges_of(&self, role: RangeRole) -> impl Iterator<Item = &CarvedRange> {
        self.ranges.iter().filter(move |r| r.role == role)
    }
}

/// What the command line asks of the carving (`kube6 plan --prefix ... --nodes ...`); each
/// setting overrides the file's `spec.prefix`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrefixOptions {
    /// `--prefix`: the prefix to carve now.
    pub cidr: Option<String>,
    /// `--previous-prefix`: the prefix the input's ranges were carved from before.
    pub previous: Option<String>,
    pub nodes: Option<String>,
    pub pods_per_node: Option<String>,
    pub node_subnets: Option<String>,
    pub load_balancer_pools: Option<String>,
    pub load_balancer_pool_mask: Option<String>,
}

impl PrefixOptions {
    fn counts_given(&self) -> Vec<&'static str> {
        [
            (self.nodes.is_some(), "--nodes"),
            (self.pods_per_node.is_some(), "--pods-per-node"),
            (self.node_subnets.is_some(), "--node-subnets"),
            (self.load_balancer_pools.is_some(), "--lb-pools"),
            (
                self.load_balancer_pool_mask.is_some(),
                "--lb-pool-mask-size",
            ),
        ]
        .into_iter()
        .filter_map(|(given, flag)| given.then_some(flag))
        .collect()
    }
}

/// What carving did to a network.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The carving (None when there is no prefix, or it could not be read).
    pub plan: Option<PrefixPlan>,
    pub diagnostics: Vec<Diagnostic>,
    /// When the prefix changed: the network carved from the old prefix, with its carving, and
    /// the old and new prefixes.
    pub before: Option<Before>,
}

/// The network as the old prefix gave it.
#[derive(Debug, Clone)]
pub struct Before {
    pub network: ClusterNetwork,
    pub plan: Option<PrefixPlan>,
    pub from: Ipv6Net,
    pub to: Ipv6Net,
}

/// The request read from the file and the command line, checked.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub prefix: Ipv6Net,
    /// Where the prefix was given, for the origin of carved values.
    pub origin: Origin,
    pub nodes: u64,
    pub pods_per_node: u64,
    pub node_subnets: u64,
    /// `loadBalancerPools.count` (`--lb-pools`), when asked; the carving decides otherwise
    /// (`pools::decide`).
    pub load_balancer_pools: Option<u64>,
    pub load_balancer_pool_mask: Option<u8>,
}

/// Carves `net`'s prefix, if it has one (or `options` gives one), into the ranges the input
/// leaves open, and renumbers what it fixes when the prefix changed.
pub fn apply(net: &mut ClusterNetwork, options: &PrefixOptions) -> Outcome {
    let mut out = Outcome::default();
    let file = net.prefix.clone();
    let cli_prefix = options
        .cidr
        .as_ref()
        .map(|text| Located::new(CidrValue::new(text), Origin::input("--prefix", None)));
    let (current, previous) = match (cli_prefix, &file) {
        (Some(cli), Some(spec)) if cli.value.net() != spec.cidr.value.net() => {
            (Some(cli), Some(spec.cidr.clone()))
        }
        (Some(cli), _) => (Some(cli), None),
        (None, Some(spec)) => (Some(spec.cidr.clone()), None),
        (None, None) => (None, None),
    };
    let previous = previous.or_else(|| {
        options.previous.as_ref().map(|text| {
            Located::new(
                CidrValue::new(text),
                Origin::input("--previous-prefix", None),
            )
        })
    });
    let Some(current) = current else {
        let given = options.counts_given();
        if !given.is_empty() || options.previous.is_some() {
            out.diagnostics.push(Diagnostic::new(
                &r::PREFIX_INVALID,
                &Origin::input(given.first().copied().unwrap_or("--previous-prefix"), None),
                format!(
                    "{} given, but there is no prefix to carve",
                    if given.is_empty() {
                        "--previous-prefix is".to_string()
                    } else {
                        format!("{} {}", given.join(", "), if given.len() == 1 { "is" } else { "are" })
                    }
                ),
                "give the delegated prefix with --prefix CIDR (or spec.prefix in a kube6 ClusterNetwork)",
            ));
        }
        return out;
    };
    let spec = merged_spec(current, file.as_ref(), options);
    let Some(request) = read_request(&spec, net, &mut out.diagnostics) else {
        return out;
    };
    net.prefix = Some(spec);

    if let Some(previous) = previous
        && let Some(old) = read_prefix(&previous, &mut out.diagnostics)
        && old != request.prefix
    {
        let mut before = net.clone();
        let old_request = Request {
            prefix: old,
            origin: previous.origin.clone(),
            ..request.clone()
        };
        let (old_plan, _) = carve::carve(&mut before, &old_request);
        out.diagnostics.extend(renumber::translate(
            net,
            old,
            request.prefix,
            &request.origin,
        ));
        out.before = Some(Before {
            network: before,
            plan: old_plan,
            from: old,
            to: request.prefix,
        });
    }
    let (plan, diagnostics) = carve::carve(net, &request);
    out.plan = plan;
    out.diagnostics.extend(diagnostics);
    out
}

/// The file's `spec.prefix` with the command line's settings on top.
fn merged_spec(
    cidr: Located<CidrValue>,
    file: Option<&PrefixSpec>,
    options: &PrefixOptions,
) -> PrefixSpec {
    let count = |cli: &Option<String>, flag: &str, file: Option<&Option<Located<CountValue>>>| {
        cli.as_ref()
            .map(|t| Located::new(CountValue::new(t), Origin::input(flag, None)))
            .or_else(|| file.and_then(|f| f.clone()))
    };
    PrefixSpec {
        cidr,
        nodes: count(&options.nodes, "--nodes", file.map(|f| &f.nodes)),
        pods_per_node: count(
            &options.pods_per_node,
            "--pods-per-node",
            file.map(|f| &f.pods_per_node),
        ),
        node_subnets: count(
            &options.node_subnets,
            "--node-subnets",
            file.map(|f| &f.node_subnets),
        ),
        load_balancer_pools: count(
            &options.load_balancer_pools,
            "--lb-pools",
            file.map(|f| &f.load_balancer_pools),
        ),
        load_balancer_pool_mask: options
            .load_balancer_pool_mask
            .as_ref()
            .map(|t| {
                Located::new(
                    MaskValue::new(t),
                    Origin::input("--lb-pool-mask-size", None),
                )
            })
            .or_else(|| file.and_then(|f| f.load_balancer_pool_mask.clone())),
    }
}

/// The prefix as an IPv6 network pods can use, or a diagnostic saying why not.
fn read_prefix(value: &Located<CidrValue>, out: &mut Vec<Diagnostic>) -> Option<Ipv6Net> {
    let invalid = |out: &mut Vec<Diagnostic>, message: String, hint: &str| {
        out.push(Diagnostic::new(
            &r::PREFIX_INVALID,
            &value.origin,
            message,
            hint.to_string(),
        ));
    };
    let parsed = match &value.value.parsed {
        Ok(parsed) => parsed,
        Err(err) => {
            invalid(
                out,
                format!("`{}` is not a valid CIDR: {err}", value.value.text),
                "give the delegated prefix as an IPv6 CIDR, e.g. 2001:db8:1234:5600::/56",
            );
            return None;
        }
    };
    let IpNet::V6(net) = parsed.net else {
        invalid(
            out,
            format!(
                "the prefix {} is IPv4; kube6 carves delegated IPv6 prefixes",
                parsed.net
            ),
            "give the IPv6 prefix here, and IPv4 ranges as pods and services (they are kept as you set them)",
        );
        return None;
    };
    if let Some((special, special_net)) = special_overlaps(&parsed.net)
        .into_iter()
        .find(|(s, _)| !matches!(s, SpecialRange::Documentation | SpecialRange::SiteLocal))
    {
        invalid(
            out,
            format!(
                "the prefix {net} overlaps {special_net} ({}, {}): it cannot carry pod or service traffic",
                special.name(),
                special.rfc()
            ),
            "give the global prefix your provider delegated, or a ULA prefix under fd00::/8",
        );
        return None;
    }
    if parsed.host_bits_set {
        out.push(Diagnostic::new(
            &r::HOST_BITS_SET,
            &value.origin,
            format!(
                "the prefix `{}` has host bits set; kube6 carves {net}",
                value.value.text
            ),
            format!("write {net}"),
        ));
    }
    Some(net)
}

/// Reads and checks every setting of the request; None (with diagnostics) when one is unusable.
fn read_request(
    spec: &PrefixSpec,
    net: &ClusterNetwork,
    out: &mut Vec<Diagnostic>,
) -> Option<Request> {
    let prefix = read_prefix(&spec.cidr, out);
    let declared = net.nodes.len().max(1) as u64;
    let (max_pods, _) = crate::facts::kubernetes::max_pods(net.distribution.value);
    let max_nodes = 1u64 << crate::facts::kubernetes::CIDRSET_MAX_MASK_DIFF;
    let mut ok = prefix.is_some();
    let mut count = |value: &Option<Located<CountValue>>,
                     default: u64,
                     min: u64,
                     max: u64,
                     what: &str,
                     why_max: &str| {
        let Some(value) = value else {
            return default;
        };
        match value.value.parsed {
            Some(n) if (min..=max).contains(&n) => n,
            _ => {
                ok = false;
                out.push(Diagnostic::new(
                    &r::PREFIX_INVALID,
                    &value.origin,
                    format!(
                        "{what} {:?} is not a whole number between {min} and {max}{why_max}",
                        value.value.text
                    ),
                    format!("set {what} to a number between {min} and {max}"),
                ));
                default
            }
        }
    };
    let nodes = count(
        &spec.nodes,
        declared,
        1,
        max_nodes,
        "nodes",
        " (kube-controller-manager hands out at most 65,536 node blocks from one pod range)",
    );
    let pods_per_node = count(
        &spec.pods_per_node,
        u64::from(max_pods),
        1,
        1 << 32,
        "podsPerNode",
        "",
    );
    let node_subnets = count(
        &spec.node_subnets,
        1,
        1,
        MAX_NODE_SUBNETS,
        "nodeSubnets",
        "",
    );
    let load_balancer_pools = spec.load_balancer_pools.as_ref().map(|_| {
        count(
            &spec.load_balancer_pools,
            0,
            0,
            MAX_LOAD_BALANCER_POOLS,
            "loadBalancerPools.count",
            "",
        )
    });
    let load_balancer_pool_mask = match &spec.load_balancer_pool_mask {
        None => None,
        Some(mask) => match mask.value.parsed {
            Some(m) if (crate::facts::ipv6::LINK_PREFIX_LEN..=128).contains(&m) => Some(m),
            _ => {
                ok = false;
                out.push(Diagnostic::new(
                    &r::PREFIX_INVALID,
                    &mask.origin,
                    format!(
                        "the load-balancer pool size {:?} is not a prefix length between 64 and 128",
                        mask.value.text
                    ),
                    "set loadBalancerPools.maskSize to e.g. 112 (65,536 addresses) or 120 (256)",
                ));
                None
            }
        },
    };
    let prefix = prefix?;
    ok.then(|| Request {
        prefix,
        origin: spec.cidr.origin.clone(),
        nodes,
        pods_per_node,
        node_subnets,
        load_balancer_pools,
        load_balancer_pool_mask,
    })
}

/// The IPv6 addresses the input names (nodes, API server, endpoint, DNS, BGP peer), which no
/// carved range may hold.
pub(crate) fn named_addresses(net: &ClusterNetwork) -> Vec<(String, std::net::Ipv6Addr)> {
    let mut out = Vec::new();
    let mut push = |what: String, ip: Option<IpAddr>| {
        if let Some(IpAddr::V6(v6)) = ip {
            out.push((what, v6));
        }
    };
    for node in &net.nodes {
        for addr in &node.addresses {
            push(format!("node {}", node.name.value), addr.value.parsed);
        }
    }
    if let Some(api) = &net.api.address {
        push(
            "the API server address".to_string(),
            kube6_net::parse_ip(&api.value).ok(),
        );
    }
    push("the API endpoint".to_string(), net.api.external_ip());
    for addr in &net.api.endpoint_addresses {
        push("an API endpoint address".to_string(), addr.value.parsed);
    }
    for upstream in &net.upstream {
        if let Some(peer) = upstream.bgp.as_ref().and_then(|b| b.peer_address.as_ref()) {
            push("the BGP peer".to_string(), peer.value.parsed);
        }
    }
    for peer in &net.load_balancer.bgp_peers {
        if let Some(address) = &peer.peer_address {
            push("a load-balancer BGP peer".to_string(), address.value.parsed);
        }
    }
    out
}

/// Whether the value came from the input (or was carved from it before), not a default.
pub(crate) fn fixed<T>(value: &Located<T>) -> bool {
    !value.origin.is_default()
}

/// `family`'s entry of a range list.
pub(crate) fn family_entry(
    list: &[Located<CidrValue>],
    family: Family,
) -> Option<&Located<CidrValue>> {
    list.iter().find(|v| v.value.family() == Some(family))
}
