//! The network changes between two sides, each with what it touches.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use kube6_net::Family;
use serde::Serialize;

use crate::state::{NetworkState, NodeBlock, ServiceAddress};

/// What changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Distribution,
    PrimaryFamily,
    FamilyAdded,
    FamilyRemoved,
    PodRange,
    ServiceRange,
    NodeMask,
    Cni,
    DnsAddress,
    ApiEndpoint,
    NodeAddresses,
    LoadBalancerPool,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Distribution => "distribution",
            ChangeKind::PrimaryFamily => "primary-family",
            ChangeKind::FamilyAdded => "family-added",
            ChangeKind::FamilyRemoved => "family-removed",
            ChangeKind::PodRange => "pod-range",
            ChangeKind::ServiceRange => "service-range",
            ChangeKind::NodeMask => "node-mask",
            ChangeKind::Cni => "cni",
            ChangeKind::DnsAddress => "dns-address",
            ChangeKind::ApiEndpoint => "api-endpoint",
            ChangeKind::NodeAddresses => "node-addresses",
            ChangeKind::LoadBalancerPool => "load-balancer-pool",
        }
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a range relates to the one it replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RangeChange {
    /// The new range holds the old one.
    Extended,
    /// The old range holds the new one.
    Shrunk,
    /// Neither holds the other.
    Replaced,
    /// The configured range is not known (a running cluster), but addresses in use lie outside
    /// the new one.
    InUseOutside,
}

/// Addresses of the running cluster a change affects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Affected {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub node_blocks: Vec<NodeBlock>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub service_addresses: Vec<ServiceAddress>,
}

impl Affected {
    pub fn is_empty(&self) -> bool {
        self.node_blocks.is_empty() && self.service_addresses.is_empty()
    }
}

/// One network change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub kind: ChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range_change: Option<RangeChange>,
    /// The node the change is about (node addresses).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The current value, as text (absent: not set or not known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposed: Option<String>,
    /// One line for people.
    pub summary: String,
    #[serde(skip_serializing_if = "Affected::is_empty")]
    pub affected: Affected,
    /// The running cluster's ServiceCIDRs that already allocate from all of the proposed
    /// service range: an extension through the ServiceCIDR API that is already made.
    #[serde(rename = "servedBy", skip_serializing_if = "Vec::is_empty")]
    pub served_by: Vec<String>,
}

impl Change {
    fn new(kind: ChangeKind, summary: String) -> Change {
        Change {
            kind,
            family: None,
            range_change: None,
            node: None,
            current: None,
            proposed: None,
            summary,
            affected: Affected::default(),
            served_by: Vec::new(),
        }
    }

    fn values(mut self, current: Option<String>, proposed: Option<String>) -> Change {
        self.current = current;
        self.proposed = proposed;
        self
    }

    fn family(mut self, family: Family) -> Change {
        self.family = Some(family);
        self
    }
}

fn families_text(families: &[Family]) -> String {
    match families {
        [] => "no family".to_string(),
        [one] => format!("{one} single-stack"),
        [first, second] => format!("dual-stack, {first} primary ({first}, {second})"),
        more => more
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn join_ips(ips: &[IpAddr]) -> String {
    ips.iter()
        .map(|ip| ip.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// How `proposed` relates to `current` (both known and different).
fn relate(current: &IpNet, proposed: &IpNet) -> RangeChange {
    if proposed.contains(current) {
        RangeChange::Extended
    } else if current.contains(proposed) {
        RangeChange::Shrunk
    } else {
        RangeChange::Replaced
    }
}

fn range_words(change: RangeChange) -> &'static str {
    match change {
        RangeChange::Extended => "extended",
        RangeChange::Shrunk => "shrunk",
        RangeChange::Replaced => "replaced",
        RangeChange::InUseOutside => "does not hold the addresses in use",
    }
}

/// Every network change from `current` to `proposed`, in a stable order.
pub fn detect(current: &NetworkState, proposed: &NetworkState) -> Vec<Change> {
    let mut out = Vec::new();
    if let (Some(cur), Some(new)) = (current.distribution, proposed.distribution)
        && cur != new
    {
        out.push(
            Change::new(
                ChangeKind::Distribution,
                format!("the distribution changes from {cur} to {new}"),
            )
            .values(Some(cur.to_string()), Some(new.to_string())),
        );
    }

    let primary_changed = match (current.primary(), proposed.primary()) {
        (Some(cur), Some(new)) if cur != new => {
            out.push(
                Change::new(
                    ChangeKind::PrimaryFamily,
                    format!(
                        "the primary family changes from {cur} to {new} ({} to {})",
                        families_text(&current.families),
                        families_text(&proposed.families)
                    ),
                )
                .values(Some(cur.to_string()), Some(new.to_string())),
            );
            true
        }
        _ => false,
    };
    if !primary_changed {
        for &family in &proposed.families {
            if !current.families.contains(&family) {
                out.push(
                    Change::new(
                        ChangeKind::FamilyAdded,
                        format!(
                            "{family} is added ({} to {})",
                            families_text(&current.families),
                            families_text(&proposed.families)
                        ),
                    )
                    .family(family)
                    .values(None, Some(family.to_string())),
                );
            }
        }
        for &family in &current.families {
            if !proposed.families.contains(&family) {
                let mut change = Change::new(
                    ChangeKind::FamilyRemoved,
                    format!(
                        "{family} is removed ({} to {})",
                        families_text(&current.families),
                        families_text(&proposed.families)
                    ),
                )
                .family(family)
                .values(Some(family.to_string()), None);
                if let Some(in_use) = &current.in_use {
                    change.affected.node_blocks = in_use
                        .node_blocks
                        .iter()
                        .filter(|b| Family::of_net(&b.cidr) == family)
                        .cloned()
                        .collect();
                    change.affected.service_addresses = in_use
                        .service_addresses
                        .iter()
                        .filter(|s| Family::of_addr(&s.ip) == family)
                        .cloned()
                        .collect();
                }
                out.push(change);
            }
        }
    }

    for &family in &proposed.families {
        if !current.families.contains(&family) {
            continue;
        }
        pod_range_change(current, proposed, family, &mut out);
        service_range_change(current, proposed, family, &mut out);
        if let (Some(cur), Some(new)) = (
            current.pod_range(family).and_then(|p| p.node_mask_size),
            proposed.pod_range(family).and_then(|p| p.node_mask_size),
        ) && cur != new
        {
            out.push(
                Change::new(
                    ChangeKind::NodeMask,
                    format!("the {family} node mask changes from /{cur} to /{new}"),
                )
                .family(family)
                .values(Some(format!("/{cur}")), Some(format!("/{new}"))),
            );
        }
    }

    if let (Some(cur), Some(new)) = (current.cni, proposed.cni)
        && cur != new
    {
        out.push(
            Change::new(
                ChangeKind::Cni,
                format!("the CNI changes from {cur} to {new}"),
            )
            .values(Some(cur.to_string()), Some(new.to_string())),
        );
    }

    // The address pods resolve through is the first one; a second family's address added next
    // to it comes with the family and is part of that change's steps.
    if let (Some(cur), Some(new)) = (current.dns_ips.first(), proposed.dns_ips.first())
        && !primary_changed
        && cur != new
        && !current.dns_ips.contains(new)
    {
        out.push(
            Change::new(
                ChangeKind::DnsAddress,
                format!(
                    "the cluster DNS address changes from {} to {}",
                    join_ips(&current.dns_ips),
                    join_ips(&proposed.dns_ips)
                ),
            )
            .values(
                Some(join_ips(&current.dns_ips)),
                Some(join_ips(&proposed.dns_ips)),
            ),
        );
    }

    if let (Some(cur), Some(new)) = (&current.api_endpoint, &proposed.api_endpoint)
        && cur != new
    {
        out.push(
            Change::new(
                ChangeKind::ApiEndpoint,
                format!("the API endpoint changes from {cur} to {new}"),
            )
            .values(Some(cur.clone()), Some(new.clone())),
        );
    }

    lb_pool_changes(current, proposed, &mut out);

    for node in &proposed.nodes {
        let Some(old) = current.nodes.iter().find(|n| n.name == node.name) else {
            continue;
        };
        // A running cluster's node lists its addresses as Kubernetes orders them; compare sets
        // and the first address (the primary one), which is what the kubelet's --node-ip sets.
        let mut a = old.addresses.clone();
        let mut b = node.addresses.clone();
        a.sort();
        b.sort();
        if node.addresses.is_empty() || (a == b && old.addresses.first() == node.addresses.first())
        {
            continue;
        }
        let mut change = Change::new(
            ChangeKind::NodeAddresses,
            format!(
                "node {} changes its addresses from {} to {}",
                node.name,
                if old.addresses.is_empty() {
                    "none".to_string()
                } else {
                    join_ips(&old.addresses)
                },
                join_ips(&node.addresses)
            ),
        )
        .values(
            Some(join_ips(&old.addresses)).filter(|s| !s.is_empty()),
            Some(join_ips(&node.addresses)),
        );
        change.node = Some(node.name.clone());
        out.push(change);
    }
    out
}

/// The load-balancer pool addresses of each family, where both sides know them (a renumbered
/// prefix moves the pools carved from it, or declared inside it); against a running cluster,
/// whose pool objects kube6 does not read, the load-balancer addresses Services hold outside
/// every proposed pool.
fn lb_pool_changes(current: &NetworkState, proposed: &NetworkState, out: &mut Vec<Change>) {
    let Some(new) = &proposed.lb_pools else {
        return;
    };
    let Some(cur) = &current.lb_pools else {
        let blocks: Vec<kube6_model::load_balancer::Block> = new
            .iter()
            .filter_map(|b| kube6_model::load_balancer::AddressBlock::new(&b.addresses).block())
            .collect();
        for family in Family::ALL.iter().copied() {
            let outside: Vec<ServiceAddress> = current
                .in_use
                .iter()
                .flat_map(|u| &u.load_balancer_addresses)
                .filter(|s| Family::of_addr(&s.ip) == family)
                .filter(|s| !blocks.iter().any(|b| b.contains(&s.ip)))
                .cloned()
                .collect();
            if outside.is_empty() {
                continue;
            }
            let mut change = Change::new(
                ChangeKind::LoadBalancerPool,
                format!(
                    "{} {family} load-balancer address(es) Services hold lie in no proposed pool",
                    outside.len()
                ),
            )
            .family(family)
            .values(
                None,
                Some(
                    new.iter()
                        .filter(|b| b.family == family)
                        .map(|b| format!("{} ({})", b.addresses, b.pool))
                        .collect::<Vec<_>>()
                        .join(", "),
                )
                .filter(|s| !s.is_empty()),
            );
            change.range_change = Some(RangeChange::InUseOutside);
            change.affected.service_addresses = outside;
            out.push(change);
        }
        return;
    };
    for family in Family::ALL.iter().copied() {
        let of = |blocks: &[crate::state::PoolBlock]| -> Vec<String> {
            let mut v: Vec<String> = blocks
                .iter()
                .filter(|b| b.family == family)
                .map(|b| format!("{} ({})", b.addresses, b.pool))
                .collect();
            v.sort();
            v
        };
        let (before, after) = (of(cur), of(new));
        if before == after {
            continue;
        }
        let text = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        out.push(
            Change::new(
                ChangeKind::LoadBalancerPool,
                format!(
                    "the {family} load-balancer pool addresses change from {} to {}",
                    text(&before),
                    text(&after)
                ),
            )
            .family(family)
            .values(
                (!before.is_empty()).then(|| before.join(", ")),
                (!after.is_empty()).then(|| after.join(", ")),
            ),
        );
    }
}

fn pod_range_change(
    current: &NetworkState,
    proposed: &NetworkState,
    family: Family,
    out: &mut Vec<Change>,
) {
    let Some(new) = proposed.pod_range(family).and_then(|p| p.cidr) else {
        return;
    };
    let outside: Vec<NodeBlock> = current
        .in_use
        .iter()
        .flat_map(|u| &u.node_blocks)
        .filter(|b| Family::of_net(&b.cidr) == family && !new.contains(&b.cidr))
        .cloned()
        .collect();
    let cur = current.pod_range(family).and_then(|p| p.cidr);
    let relation = match cur {
        Some(cur) if cur == new && outside.is_empty() => return,
        Some(cur) if cur != new => relate(&cur, &new),
        _ if !outside.is_empty() => RangeChange::InUseOutside,
        _ => return,
    };
    let current_text = cur.map(|c| c.to_string());
    let summary = match (relation, cur) {
        (RangeChange::InUseOutside, _) => format!(
            "the {family} pod range {new} does not hold the blocks {} node(s) already have",
            count_nodes(&outside)
        ),
        (r, Some(cur)) => format!(
            "the {family} pod range is {} from {cur} to {new}",
            range_words(r)
        ),
        (r, None) => format!("the {family} pod range is {} to {new}", range_words(r)),
    };
    let mut change = Change::new(ChangeKind::PodRange, summary)
        .family(family)
        .values(current_text, Some(new.to_string()));
    change.range_change = Some(relation);
    change.affected.node_blocks = outside;
    out.push(change);
}

fn count_nodes(blocks: &[NodeBlock]) -> usize {
    let mut nodes: Vec<&str> = blocks.iter().map(|b| b.node.as_str()).collect();
    nodes.sort_unstable();
    nodes.dedup();
    nodes.len()
}

fn service_range_change(
    current: &NetworkState,
    proposed: &NetworkState,
    family: Family,
    out: &mut Vec<Change>,
) {
    let Some(new) = proposed.service_range(family).and_then(|s| s.cidr) else {
        return;
    };
    // Addresses in a ServiceCIDR an operator added stay valid whatever the configured range:
    // kube-apiserver allocates from, and keeps, every ServiceCIDR.
    let added: Vec<IpNet> = current
        .added_service_ranges(family)
        .map(|(_, n)| n)
        .collect();
    let mut outside: Vec<ServiceAddress> = current
        .in_use
        .iter()
        .flat_map(|u| &u.service_addresses)
        .filter(|s| {
            Family::of_addr(&s.ip) == family
                && !new.contains(&s.ip)
                && !added.iter().any(|n| n.contains(&s.ip))
        })
        .cloned()
        .collect();
    // kube-apiserver gives the `kubernetes` Service the first address of its primary range and
    // never moves it: a primary range with another first address leaves it behind even when
    // the range still holds it.
    if proposed.primary() == Some(family)
        && let Some(in_use) = &current.in_use
        && let Some(ip) = in_use
            .kubernetes_service
            .iter()
            .find(|ip| Family::of_addr(ip) == family)
        && kube6_net::indexed_ip(
            &new,
            kube6_model::facts::kubernetes::API_SERVER_SERVICE_INDEX,
        ) != Some(*ip)
        && !outside.iter().any(|s| s.ip == *ip)
    {
        outside.push(ServiceAddress {
            service: "default/kubernetes".to_string(),
            ip: *ip,
        });
    }
    let cur = current.service_range(family).and_then(|s| s.cidr);
    let relation = match cur {
        Some(cur) if cur == new && outside.is_empty() => return,
        Some(cur) if cur != new => relate(&cur, &new),
        _ if !outside.is_empty() => RangeChange::InUseOutside,
        _ => return,
    };
    let summary = match (relation, cur) {
        (RangeChange::InUseOutside, _) => format!(
            "the {family} service range {new} does not hold {} cluster IP(s) Services already have",
            outside.len()
        ),
        (r, Some(cur)) => format!(
            "the {family} service range is {} from {cur} to {new}",
            range_words(r)
        ),
        (r, None) => format!("the {family} service range is {} to {new}", range_words(r)),
    };
    let mut change = Change::new(ChangeKind::ServiceRange, summary)
        .family(family)
        .values(cur.map(|c| c.to_string()), Some(new.to_string()));
    change.range_change = Some(relation);
    change.affected.service_addresses = outside;
    change.served_by = current.service_cidrs_covering(&new);
    out.push(change);
}
