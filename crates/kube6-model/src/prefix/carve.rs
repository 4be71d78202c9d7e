//! The layouts a prefix can take, in order of preference, the choice among them (the first that
//! kube6's rules accept), and putting the chosen ranges into the network.
//!
//! Preferences, from the components' limits (`crate::facts`):
//! - a node link is a /64 (`facts::ipv6::LINK_PREFIX_LEN`); links of the nodes' own addresses
//!   are kept;
//! - with room for more than one /64 and an upstream that can route, pods and services get /64s
//!   of their own (`Layout::Routed`): the pods' /64 in /80 node blocks, which is 16 bits of node
//!   blocks, the most kube-controller-manager's allocator takes from one range;
//! - otherwise they share the node link (`Layout::OnLink`), each on its own /80 after the first
//!   (left to the nodes' addresses): node blocks are the smallest nibble-aligned block whose
//!   host-local addresses hold the pods per node, with 16 bits of them where there is room;
//! - the service range is a /112, the 65,536 addresses the ClusterIP bitmap holds, except where
//!   a distribution asks for another size (k0s IPv6 single-stack: /108);
//! - load-balancer pools are /112s inside the node link (L2 announcements answer NDP there), or
//!   /64s of their own with a BGP upstream;
//! - everything on nibble boundaries; smaller sizes and then bit boundaries only when the prefix
//!   has no room otherwise.

use std::net::Ipv6Addr;

use ipnet::IpNet;
use kube6_net::Family;

use super::pools::{self, DeclaredBlock};
use super::space::{Area, Block, free_blocks, on_nibble, place, place_around, size};
use super::{
    CarvedRange, Layout, PrefixPlan, RangeRole, Request, family_entry, fixed, named_addresses,
};
use crate::diagnostic::{Diagnostic, Severity};
use crate::facts;
use crate::load_balancer::LbMode;
use crate::model::{CidrValue, ClusterNetwork, Cni, Distribution, Format, MaskValue, UpstreamMode};
use crate::rules::catalog as r;
use crate::source::{Located, Origin};

/// How many candidate layouts are judged by the rules before kube6 settles for the best seen.
const MAX_JUDGED: usize = 48;

/// What the input fixes and asks, as the carving needs it.
struct Context {
    prefix: Block,
    origin: Origin,
    carved_origin: Origin,
    upstream: Option<UpstreamMode>,
    /// The IPv6 pod range the input sets (kept).
    fixed_pods: Option<Block>,
    fixed_services: Option<Block>,
    /// The node mask: set by the input (kept), or the distribution's default for kept pods.
    fixed_mask: Option<u8>,
    default_mask: Option<u8>,
    /// Addresses the input names inside the prefix.
    addresses: Vec<(String, Ipv6Addr)>,
    /// The /64 links of the nodes' addresses inside the prefix.
    declared_links: Vec<Block>,
    /// Nodes have IPv6 addresses, none inside the prefix: their link is elsewhere.
    nodes_elsewhere: bool,
    pod_anchors: Vec<Block>,
    service_anchors: Vec<Block>,
    /// Other fixed ranges inside the prefix that nothing may overlap (the NAT64 prefix, the
    /// IPv6 blocks of declared load-balancer pools).
    other: Vec<Block>,
    /// The IPv6 blocks of the load-balancer pools the input declares inside the prefix.
    declared_pools: Vec<DeclaredBlock>,
    /// How many load-balancer pools to carve (`pools::decide`), and why.
    lb_pools: u64,
    pool_notes: Vec<String>,
    /// After carving, the cluster runs IPv6 only.
    ipv6_only_after: bool,
}

/// Sizes to try, most preferred first.
struct Prefs {
    /// The node blocks' prefix length, when the carving chooses it.
    block_len: Option<u8>,
    node_bits: Vec<u8>,
    service_lens: Vec<u8>,
    lb_lens: Vec<u8>,
    min_node_bits: u8,
}

/// One complete layout.
#[derive(Debug, Clone)]
struct Candidate {
    layout: Layout,
    links: Vec<(Block, bool)>,
    hosts: Option<Block>,
    pods: Option<Block>,
    mask: Option<u8>,
    /// The mask was chosen here (not kept).
    mask_carved: bool,
    node_bits: Option<u8>,
    services: Option<Block>,
    lb_pools: Vec<Block>,
}

/// Carves `net` per `req`: the plan's account of it and the diagnostics that explain it.
pub(crate) fn carve(
    net: &mut ClusterNetwork,
    req: &Request,
) -> (Option<PrefixPlan>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let cx = context(net, req, &mut out);
    let Some(cx) = cx else {
        return (None, out);
    };
    let prefs = preferences(net, req, &cx);
    let candidates = candidates(req, &cx, &prefs);
    let Some((chosen, refusals)) = choose(net, &cx, &candidates) else {
        out.push(too_small(req, &cx, &prefs));
        return (None, out);
    };
    install(net, &cx, &chosen);
    let plan = describe(net, req, &cx, &prefs, &chosen, &refusals, &mut out);
    (Some(plan), out)
}

fn context(net: &ClusterNetwork, req: &Request, out: &mut Vec<Diagnostic>) -> Option<Context> {
    let prefix = Block::from_net(&req.prefix);
    let inside = |b: &Block| prefix.overlaps(b);
    let v6 = |value: &Located<CidrValue>| match value.value.net() {
        Some(IpNet::V6(n)) => Some(Block::from_net(&n)),
        _ => None,
    };
    let mut fixed_range = |list: &[Located<CidrValue>], what: &str| -> Option<Block> {
        let entry = family_entry(list, Family::IPv6).filter(|v| fixed(v))?;
        let block = v6(entry)?;
        if block.contains(&prefix) {
            out.push(Diagnostic::new(
                &r::PREFIX_TOO_SMALL,
                &entry.origin,
                format!(
                    "the {what} range {} the input sets holds the whole prefix {}: nothing can be carved beside it",
                    block.net(),
                    req.prefix
                ),
                format!("set the {what} range inside the prefix, or leave it out and let kube6 carve it"),
            ));
        } else if !inside(&block) {
            out.push(Diagnostic::new(
                &r::PREFIX_FIXED_OUTSIDE,
                &entry.origin,
                format!(
                    "the {what} range {} lies outside the prefix {}: it is kept, and no {what} range is carved",
                    block.net(),
                    req.prefix
                ),
                format!("leave the {what} range out to have kube6 carve one from the prefix"),
            ));
        }
        Some(block)
    };
    let fixed_pods = fixed_range(&net.pods, "pod");
    let fixed_services = fixed_range(&net.services, "service");
    if fixed_pods.is_some_and(|b| b.contains(&prefix))
        || fixed_services.is_some_and(|b| b.contains(&prefix))
    {
        return None;
    }

    let will_be_ipv6_only = ipv6_only_after(net);
    let explicit_mask = net
        .node_masks
        .ipv6
        .as_ref()
        .or(if will_be_ipv6_only {
            net.node_masks.single.as_ref()
        } else {
            None
        })
        .filter(|m| fixed(m));
    let fixed_mask = explicit_mask.and_then(|m| m.value.parsed);
    let default_mask = crate::defaults::node_mask(net, Family::IPv6)
        .filter(|m| m.origin.is_default())
        .map(|m| m.value);

    let addresses: Vec<(String, Ipv6Addr)> = named_addresses(net)
        .into_iter()
        .filter(|(_, ip)| prefix.contains_addr(u128::from(*ip)))
        .collect();
    let node_v6: Vec<Ipv6Addr> = net
        .nodes
        .iter()
        .flat_map(|n| &n.addresses)
        .filter_map(|a| match a.value.parsed {
            Some(std::net::IpAddr::V6(v6)) => Some(v6),
            _ => None,
        })
        .collect();
    let link_len = facts::ipv6::LINK_PREFIX_LEN;
    let mut declared_links: Vec<Block> = Vec::new();
    if prefix.len <= link_len {
        let api = net
            .api
            .address
            .as_ref()
            .and_then(|a| kube6_net::parse_ip(&a.value).ok());
        let link_addresses = node_v6.iter().copied().chain(match api {
            Some(std::net::IpAddr::V6(v6)) => Some(v6),
            _ => None,
        });
        for ip in link_addresses {
            let link = Block::containing(u128::from(ip), link_len);
            if prefix.contains(&link) && !declared_links.contains(&link) {
                declared_links.push(link);
            }
        }
    }
    let nodes_elsewhere = !node_v6.is_empty()
        && !node_v6
            .iter()
            .any(|ip| prefix.contains_addr(u128::from(*ip)));

    let within = |value: &Located<CidrValue>| v6(value).filter(|b| prefix.contains(b));
    let mut pod_anchors: Vec<Block> = net
        .calico
        .pools
        .iter()
        .map(|p| &p.cidr)
        .chain(&net.cilium.ipv6_pools)
        .filter(|v| fixed(v))
        .filter_map(within)
        .collect();
    if let Some(conf) = &net.flannel.net_conf
        && let Some(network) = &conf.ipv6_network
        && let Some(block) = within(network)
    {
        pod_anchors.push(block);
    }
    let mut service_anchors: Vec<Block> = net
        .cluster_dns
        .iter()
        .filter_map(|d| match d.value.parsed {
            Some(std::net::IpAddr::V6(v6)) if prefix.contains_addr(u128::from(v6)) => {
                Some(Block::address(v6))
            }
            _ => None,
        })
        .collect();
    service_anchors.extend(net.kube_router.service_ranges.iter().filter_map(within));
    let mut other: Vec<Block> = net
        .nat64
        .iter()
        .map(|n| &n.prefix)
        .filter_map(v6)
        .filter(|b| prefix.overlaps(b))
        .collect();

    // Declared pools: kept where they are; those inside the prefix are ranges the carving
    // fits around, and an l2 pool's /64 is the nodes' link when no node address says which.
    let all_pools = pools::declared(net);
    let mut outside_told: Vec<&str> = Vec::new();
    for d in all_pools.iter().filter(|d| !prefix.overlaps(&d.block)) {
        if outside_told.contains(&d.pool.as_str()) {
            continue;
        }
        outside_told.push(&d.pool);
        out.push(Diagnostic::new(
            &r::PREFIX_FIXED_OUTSIDE,
            &d.origin,
            format!(
                "the load-balancer pool {} ({}) lies outside the prefix {}: it is kept as it is",
                d.pool,
                d.block.net(),
                req.prefix
            ),
            "leave the pool's IPv6 addresses out of spec.loadBalancer.pools to have kube6 carve a pool from the prefix",
        ));
    }
    let decision = pools::decide(net, req.load_balancer_pools, &all_pools, out);
    let declared_pools: Vec<DeclaredBlock> = all_pools
        .into_iter()
        .filter(|d| prefix.overlaps(&d.block))
        .collect();
    other.extend(declared_pools.iter().map(|d| d.block));
    if declared_links.is_empty() && !nodes_elsewhere && prefix.len <= link_len {
        for d in declared_pools.iter().filter(|d| d.mode == LbMode::L2) {
            let link = Block::containing(d.block.start, link_len);
            if d.block.len >= link_len && prefix.contains(&link) && !declared_links.contains(&link)
            {
                declared_links.push(link);
            }
        }
    }

    Some(Context {
        prefix,
        origin: req.origin.clone(),
        carved_origin: Origin::derived_at(
            req.origin.path(),
            format!("carved from {}", req.prefix),
            req.origin.pos(),
        ),
        upstream: net.upstream_for(Family::IPv6).map(|u| u.mode.value),
        fixed_pods,
        fixed_services,
        fixed_mask,
        default_mask,
        addresses,
        declared_links,
        nodes_elsewhere,
        pod_anchors,
        service_anchors,
        other,
        declared_pools,
        lb_pools: decision.count,
        pool_notes: decision.notes,
        ipv6_only_after: will_be_ipv6_only,
    })
}

/// Whether the cluster runs IPv6 only once the prefix is carved: the input sets no IPv4 range
/// (its IPv4 ranges, if any, are defaults) nor asks for dual-stack, and the distribution can run
/// IPv6 single-stack.
fn ipv6_only_after(net: &ClusterNetwork) -> bool {
    // The input asks for dual-stack without giving the IPv6 ranges (k0s dualStack.enabled, KKP
    // ipFamily IPv4+IPv6): the carved ones join the IPv4 ones.
    let dual_asked = net
        .specific
        .k0s_dual_stack
        .as_ref()
        .is_some_and(|d| d.value)
        || net
            .specific
            .kkp_ip_family
            .as_ref()
            .is_some_and(|f| f.value.contains('+'));
    let ipv4_set = net
        .pods
        .iter()
        .chain(&net.services)
        .any(|v| fixed(v) && v.value.family() == Some(Family::IPv4));
    !ipv4_set
        && !dual_asked
        && facts::supports_ipv6_single_stack(
            net.distribution.value,
            net.distribution_release().as_ref(),
        )
}

/// ceil(log2(n)) for n >= 1.
fn bits_for(n: u64) -> u8 {
    (64 - n.saturating_sub(1).leading_zeros()) as u8
}

fn preferences(net: &ClusterNetwork, req: &Request, cx: &Context) -> Prefs {
    let nibble = facts::ipv6::NIBBLE_BITS;
    // The smallest nibble-aligned block whose host-local addresses hold the pods per node.
    let block_len = (0..=(128 / nibble))
        .rev()
        .map(|i| i * nibble)
        .find(|&len| {
            facts::host_local::usable_addresses(Family::IPv6, len) >= u128::from(req.pods_per_node)
        })
        .unwrap_or(64);
    let mut max_bits = facts::kubernetes::CIDRSET_MAX_MASK_DIFF;
    if net.distribution.value == Distribution::Kubeadm {
        max_bits = max_bits.min(facts::kubeadm::POD_NODE_MASK_MAX_DIFF);
    }
    if net.cni.value == Cni::Cilium {
        max_bits = max_bits.min(facts::cilium::CLUSTER_POOL_MAX_MASK_DIFF);
    }
    // One bit at least: a node mask equal to the range hands the whole range to one node
    // (and KKP requires the node mask to be strictly longer).
    let min_bits = bits_for(req.nodes).max(1);
    let mut node_bits: Vec<u8> = (1..=(max_bits / nibble))
        .rev()
        .map(|i| i * nibble)
        .filter(|&k| k >= min_bits)
        .collect();
    if !node_bits.contains(&min_bits) && min_bits <= max_bits {
        node_bits.push(min_bits);
    }

    let bitmap_len = 128 - facts::kubernetes::SERVICE_BITMAP_MAX.trailing_zeros() as u8;
    let service_lens = if cx.fixed_services.is_some() {
        Vec::new()
    } else if net.distribution.value == Distribution::K0s && cx.ipv6_only_after {
        vec![facts::k0s::IPV6_SINGLE_STACK_SERVICE_MAX_PREFIX]
    } else {
        let min_addresses = if net.distribution.value == Distribution::Kubeadm {
            facts::kubeadm::MIN_SERVICE_ADDRESSES
        } else {
            facts::kubernetes::SERVICE_RANGE_MIN_ADDRESSES
        };
        (bitmap_len..=128)
            .step_by(usize::from(nibble))
            .filter(|&len| 128 - len <= facts::kubernetes::SERVICE_RANGE_MAX_HOST_BITS)
            .filter(|&len| size(len) >= min_addresses)
            .collect()
    };
    let lb_lens = match req.load_balancer_pool_mask {
        Some(m) => vec![m],
        None => (bitmap_len..128)
            .step_by(usize::from(nibble))
            .filter(|&len| size(len) >= 16)
            .collect(),
    };
    Prefs {
        block_len: (cx.fixed_pods.is_none() && cx.fixed_mask.is_none()).then_some(block_len),
        node_bits,
        service_lens,
        lb_lens,
        min_node_bits: min_bits,
    }
}

/// The node mask and node bits to try for kept pods whose mask the input leaves open: the
/// distribution's default where it serves, else a mask chosen for the nodes and pods asked.
fn mask_for_fixed_pods(req: &Request, cx: &Context, prefs: &Prefs, pods: Block) -> (u8, bool) {
    if let Some(mask) = cx.fixed_mask {
        return (mask, false);
    }
    let serves = |m: u8| {
        m > pods.len
            && m - pods.len >= prefs.min_node_bits
            && m - pods.len <= facts::kubernetes::CIDRSET_MAX_MASK_DIFF
            && facts::host_local::usable_addresses(Family::IPv6, m) >= u128::from(req.pods_per_node)
    };
    if let Some(default) = cx.default_mask
        && serves(default)
    {
        return (default, false);
    }
    let wanted = prefs.block_len.unwrap_or(120);
    let mask = if serves(wanted) {
        wanted
    } else {
        (pods.len + facts::kubernetes::CIDRSET_MAX_MASK_DIFF).min(128)
    };
    (mask, true)
}

fn candidates(req: &Request, cx: &Context, prefs: &Prefs) -> Vec<Candidate> {
    let link_len = facts::ipv6::LINK_PREFIX_LEN;
    let routed_possible = cx.prefix.len < link_len && cx.upstream != Some(UpstreamMode::NdpProxy);
    let mut layouts = Vec::new();
    if routed_possible {
        layouts.push(Layout::Routed);
    }
    layouts.push(Layout::OnLink);

    // Node links: the nodes' own, then carved ones up to the number asked.
    let mut taken_outer: Vec<Block> = cx.other.clone();
    taken_outer.extend(cx.addresses.iter().map(|(_, ip)| Block::address(*ip)));
    taken_outer.extend(cx.fixed_pods.filter(|b| cx.prefix.overlaps(b)));
    taken_outer.extend(cx.fixed_services.filter(|b| cx.prefix.overlaps(b)));
    let taken_inner = taken_outer.clone();
    let mut links: Vec<(Block, bool)> = cx.declared_links.iter().map(|l| (*l, true)).collect();
    if cx.prefix.len <= link_len && !cx.nodes_elsewhere {
        let outer_area = Area {
            block: cx.prefix,
            slot_len: link_len,
            skip_first_slot: false,
        };
        let mut taken_links: Vec<Block> = taken_outer
            .iter()
            .copied()
            .filter(|t| !cx.declared_links.iter().any(|l| l.contains(t)))
            .chain(cx.declared_links.iter().copied())
            .collect();
        while (links.len() as u64) < req.node_subnets {
            match place(&outer_area, link_len, &taken_links) {
                Some(link) => {
                    taken_links.push(link);
                    links.push((link, false));
                }
                None => return Vec::new(),
            }
        }
    }
    taken_outer.extend(links.iter().map(|(l, _)| *l));

    // Pod options: (node mask, node bits, mask carved).
    let mut pod_options: Vec<(Layout, u8, Option<u8>, bool)> = Vec::new();
    for &layout in &layouts {
        if let Some(pods) = cx.fixed_pods {
            let (mask, carved) = mask_for_fixed_pods(req, cx, prefs, pods);
            pod_options.push((layout, mask, None, carved));
            continue;
        }
        let mut masks = Vec::new();
        if let Some(m) = cx.fixed_mask {
            masks.push((m, false));
        } else {
            if layout == Layout::Routed {
                // The pods' own /64, in 2^16 blocks.
                masks.push((link_len + facts::kubernetes::CIDRSET_MAX_MASK_DIFF, true));
            }
            if let Some(block) = prefs.block_len {
                masks.push((block, true));
            }
        }
        for (mask, carved) in masks {
            for &bits in &prefs.node_bits {
                if bits <= mask {
                    pod_options.push((layout, mask, Some(bits), carved));
                }
            }
        }
    }

    let services_opts: Vec<Option<u8>> = if prefs.service_lens.is_empty() {
        vec![None]
    } else {
        prefs.service_lens.iter().map(|l| Some(*l)).collect()
    };
    let mut out = Vec::new();
    for (layout, mask, bits, mask_carved) in pod_options {
        for &service_len in &services_opts {
            for &lb_len in &prefs.lb_lens {
                let candidate = place_all(
                    cx,
                    layout,
                    &links,
                    &taken_outer,
                    &taken_inner,
                    (mask, bits, mask_carved),
                    service_len,
                    lb_len,
                );
                if let Some(candidate) = candidate {
                    out.push(candidate);
                }
                if cx.lb_pools == 0 {
                    break;
                }
            }
        }
    }
    out
}

/// Places every range of one layout, or None when one does not fit.
#[allow(clippy::too_many_arguments)]
fn place_all(
    cx: &Context,
    layout: Layout,
    links: &[(Block, bool)],
    taken_outer: &[Block],
    taken_inner: &[Block],
    (mask, bits, mask_carved): (u8, Option<u8>, bool),
    service_len: Option<u8>,
    lb_len: u8,
) -> Option<Candidate> {
    let link_len = facts::ipv6::LINK_PREFIX_LEN;
    let own = Area {
        block: cx.prefix,
        slot_len: link_len.max(cx.prefix.len),
        skip_first_slot: false,
    };
    let inline: Vec<Area> = if links.is_empty() {
        // No link of the nodes in the prefix: the prefix itself, one /16 step down per range.
        vec![Area {
            block: cx.prefix,
            slot_len: cx.prefix.len.saturating_add(16).min(128),
            skip_first_slot: false,
        }]
    } else {
        links
            .iter()
            .map(|(link, _)| Area {
                block: *link,
                slot_len: link_len + 16,
                skip_first_slot: true,
            })
            .collect()
    };
    let mut outer = taken_outer.to_vec();
    let mut inner = taken_inner.to_vec();
    let mut used_inline = false;
    // Places a block in the first of `areas` with room, and records it as taken.
    let mut put = |areas: &[(Area, bool)],
                   len: u8,
                   anchors: &[Block],
                   outer: &mut Vec<Block>,
                   inner: &mut Vec<Block>|
     -> Option<Block> {
        for (area, is_inline) in areas {
            let taken: Vec<Block> = if *is_inline {
                inner.clone()
            } else {
                outer.clone()
            };
            let taken: Vec<Block> = taken
                .into_iter()
                .filter(|t| !anchors.iter().any(|a| t.contains(a) && a.contains(t)))
                .collect();
            let placed = if anchors.is_empty() {
                place(area, len, &taken)
            } else {
                place_around(area, len, anchors, &taken)
            };
            if let Some(block) = placed {
                outer.push(block);
                inner.push(block);
                if *is_inline {
                    used_inline = true;
                }
                return Some(block);
            }
        }
        None
    };
    let own_then_inline: Vec<(Area, bool)> = std::iter::once((own, false))
        .chain(inline.iter().map(|a| (*a, true)))
        .collect();
    let inline_only: Vec<(Area, bool)> = inline.iter().map(|a| (*a, true)).collect();
    let inline_then_own: Vec<(Area, bool)> = inline
        .iter()
        .map(|a| (*a, true))
        .chain(std::iter::once((own, false)))
        .collect();
    let range_areas = match layout {
        Layout::Routed => vec![(own, false)],
        Layout::OnLink => inline_only.clone(),
    };

    let pods = match (cx.fixed_pods, bits) {
        (Some(_), _) => None,
        (None, Some(bits)) => {
            let len = mask.checked_sub(bits)?;
            if len <= cx.prefix.len {
                return None;
            }
            Some(put(
                &range_areas,
                len,
                &cx.pod_anchors,
                &mut outer,
                &mut inner,
            )?)
        }
        (None, None) => return None,
    };
    let services = match service_len {
        None => None,
        Some(len) => {
            let areas = match layout {
                Layout::Routed => &own_then_inline,
                Layout::OnLink => &inline_only,
            };
            Some(put(
                areas,
                len,
                &cx.service_anchors,
                &mut outer,
                &mut inner,
            )?)
        }
    };
    let mut lb_pools = Vec::new();
    for _ in 0..cx.lb_pools {
        let areas = match (layout, cx.upstream) {
            (Layout::Routed, Some(UpstreamMode::Bgp)) => &own_then_inline,
            // Pools too large for the link (asked as /64s, say) go beside it, announced.
            (Layout::Routed | Layout::OnLink, _) => &inline_then_own,
        };
        lb_pools.push(put(areas, lb_len, &[], &mut outer, &mut inner)?);
    }
    let hosts = if used_inline {
        links.first().map(|(link, _)| Block {
            start: link.start,
            len: link_len + 16,
        })
    } else {
        None
    };
    Some(Candidate {
        layout,
        links: links.to_vec(),
        hosts,
        pods,
        mask: Some(mask),
        mask_carved,
        node_bits: bits,
        services,
        lb_pools,
    })
}

/// The errors of `diagnostics` about carved values.
fn attributable(diagnostics: &[Diagnostic], origin: &Origin) -> Vec<&'static str> {
    let line = origin.pos().map(|p| p.line);
    let mut ids: Vec<&'static str> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error && d.path == origin.path() && d.line == line)
        .map(|d| d.id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The first candidate kube6's rules accept; failing that, the first with only the errors every
/// candidate has (those do not depend on the carving). With the refusals met on the way.
fn choose(
    net: &ClusterNetwork,
    cx: &Context,
    candidates: &[Candidate],
) -> Option<(Candidate, Vec<String>)> {
    let mut judged: Vec<(usize, Vec<&'static str>, Option<String>)> = Vec::new();
    for (i, candidate) in candidates.iter().enumerate().take(MAX_JUDGED) {
        let mut trial = net.clone();
        install(&mut trial, cx, candidate);
        let diagnostics = crate::rules::check(&trial);
        let errors = attributable(&diagnostics, &cx.carved_origin);
        if errors.is_empty() {
            let refusals = judged.iter().filter_map(|(_, _, m)| m.clone()).collect();
            return Some((candidate.clone(), dedup(refusals)));
        }
        let first = diagnostics
            .iter()
            .find(|d| errors.contains(&d.id) && d.path == cx.carved_origin.path())
            .map(|d| {
                format!(
                    "{} ({}: {})",
                    describe_candidate(candidate),
                    d.id,
                    d.message
                )
            });
        judged.push((i, errors, first));
    }
    let common: Vec<&'static str> = judged.first().map_or_else(Vec::new, |(_, first, _)| {
        first
            .iter()
            .copied()
            .filter(|id| judged.iter().all(|(_, e, _)| e.contains(id)))
            .collect()
    });
    let (index, _, _) = judged.iter().find(|(_, errors, _)| *errors == common)?;
    let refusals = judged
        .iter()
        .take_while(|(i, _, _)| i != index)
        .filter_map(|(_, _, m)| m.clone())
        .collect();
    Some((candidates[*index].clone(), dedup(refusals)))
}

fn dedup(mut notes: Vec<String>) -> Vec<String> {
    notes.dedup();
    notes.truncate(3);
    notes
}

fn describe_candidate(candidate: &Candidate) -> String {
    let mut parts = Vec::new();
    if let Some(pods) = candidate.pods {
        parts.push(format!(
            "pods {} in /{} blocks",
            pods.net(),
            candidate.mask.unwrap_or_default()
        ));
    }
    if let Some(services) = candidate.services {
        parts.push(format!("services {}", services.net()));
    }
    format!("a layout with {}", parts.join(", "))
}

/// Puts a candidate's ranges into the network, as if the input had set them.
fn install(net: &mut ClusterNetwork, cx: &Context, candidate: &Candidate) {
    let value = |block: Block| {
        Located::new(
            CidrValue::new(block.net().to_string()),
            cx.carved_origin.clone(),
        )
    };
    if cx.ipv6_only_after {
        // The IPv4 defaults give way: the cluster runs IPv6 only.
        let keep = |v: &Located<CidrValue>| fixed(v) || v.value.family() != Some(Family::IPv4);
        net.pods.retain(keep);
        net.services.retain(keep);
    }
    let ipv6_first = ipv6_first(net);
    let pods = candidate.pods.map(value);
    let services = candidate.services.map(value);
    if let Some(pods) = &pods {
        set_family(&mut net.pods, pods.clone(), ipv6_first);
        extend_raw(&mut net.specific.raw_pod_list, &pods.value.text, ipv6_first);
    }
    if let Some(services) = &services {
        set_family(&mut net.services, services.clone(), ipv6_first);
        extend_raw(
            &mut net.specific.raw_service_list,
            &services.value.text,
            ipv6_first,
        );
    }
    if candidate.mask_carved
        && let Some(mask) = candidate.mask
    {
        net.node_masks.ipv6 = Some(Located::new(
            MaskValue::new(mask.to_string()),
            cx.carved_origin.clone(),
        ));
    }
    if net.format == Format::K0s {
        let s = &mut net.specific;
        if net.pods.len() == 2 || net.services.len() == 2 {
            s.k0s_ipv6_pod_cidr = pods.or(s.k0s_ipv6_pod_cidr.take());
            s.k0s_ipv6_service_cidr = services.or(s.k0s_ipv6_service_cidr.take());
            if !s.k0s_dual_stack.as_ref().is_some_and(|d| d.value) {
                s.k0s_dual_stack = Some(Located::new(true, cx.carved_origin.clone()));
            }
        } else {
            s.k0s_pod_cidr = pods.or(s.k0s_pod_cidr.take());
            s.k0s_service_cidr = services.or(s.k0s_service_cidr.take());
        }
    }
    let carved: Vec<(Block, LbMode)> = candidate
        .lb_pools
        .iter()
        .map(|pool| (*pool, pool_mode(cx, candidate, pool)))
        .collect();
    pools::install(net, &carved, &cx.carved_origin);
}

/// How a carved pool is announced: in l2 mode inside the node link (the implementation answers
/// neighbor solicitations there), in bgp mode beside it when the upstream speaks BGP; l2
/// otherwise (the upstream must then route the pool to the nodes, which K6W406 says).
fn pool_mode(cx: &Context, candidate: &Candidate, pool: &Block) -> LbMode {
    let in_link = candidate.links.iter().any(|(l, _)| l.contains(pool));
    if !in_link && cx.upstream == Some(UpstreamMode::Bgp) {
        LbMode::Bgp
    } else {
        LbMode::L2
    }
}

/// Whether the IPv6 ranges go first: the input says IPv6 is the primary family.
fn ipv6_first(net: &ClusterNetwork) -> bool {
    if net.format == Format::K0s {
        return crate::k0s::primary_family(net).0 == Family::IPv6;
    }
    net.primary_family
        .as_ref()
        .is_some_and(|p| p.value.parse::<Family>() == Ok(Family::IPv6))
}

/// Puts `value` in `list`: in place of the IPv6 entry, or beside the other family, first when
/// IPv6 is primary.
fn set_family(list: &mut Vec<Located<CidrValue>>, value: Located<CidrValue>, ipv6_first: bool) {
    if let Some(slot) = list
        .iter_mut()
        .find(|v| v.value.family() == Some(Family::IPv6))
    {
        *slot = value;
    } else if ipv6_first {
        list.insert(0, value);
    } else {
        list.push(value);
    }
}

/// Adds the carved range to a comma-separated list the input wrote (kubeadm, k3s), so that
/// rules on the list see what the tool will.
fn extend_raw(raw: &mut Option<Located<String>>, text: &str, first: bool) {
    if let Some(raw) = raw {
        let items: Vec<&str> = raw.value.split(',').map(str::trim).collect();
        if !items.contains(&text) {
            raw.value = if first {
                format!("{text},{}", raw.value)
            } else {
                format!("{},{text}", raw.value)
            };
        }
    }
}

fn group(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// 2^bits as "65,536", or "2^64" when that is clearer.
fn count(bits: u8) -> String {
    if bits <= 32 {
        group(1u128 << bits)
    } else {
        format!("2^{bits}")
    }
}

/// The plan's account of the chosen layout, and the diagnostics that say it.
fn describe(
    net: &ClusterNetwork,
    req: &Request,
    cx: &Context,
    prefs: &Prefs,
    chosen: &Candidate,
    refusals: &[String],
    out: &mut Vec<Diagnostic>,
) -> PrefixPlan {
    let link_len = facts::ipv6::LINK_PREFIX_LEN;
    let mut ranges = Vec::new();
    let mut notes = Vec::new();
    let prefix = req.prefix;

    for (i, (link, declared)) in chosen.links.iter().enumerate() {
        let why = if *declared {
            let who = cx
                .addresses
                .iter()
                .find(|(_, ip)| link.contains_addr(u128::from(*ip)))
                .map_or_else(String::new, |(what, ip)| format!(" ({what}: {ip})"));
            format!("the /64 the nodes' addresses are in{who}, kept")
        } else if prefix.prefix_len() == link_len {
            "the prefix is one /64: the nodes' link (SLAAC and DHCPv6 address a link as a /64, RFC 4291, RFC 4862)".to_string()
        } else {
            format!(
                "{} free /64 of the prefix for the nodes' link: a link is a /64 (SLAAC and DHCPv6 address it as one, RFC 4291, RFC 4862); \
                 if your router already gave the nodes another /64 of the prefix, list their addresses and kube6 keeps it",
                if i == 0 { "the first" } else { "the next" }
            )
        };
        ranges.push(CarvedRange {
            role: RangeRole::NodeSubnet,
            cidr: link.ip_net(),
            fixed: *declared,
            node_mask_size: None,
            why,
        });
    }
    if let Some(hosts) = chosen.hosts {
        ranges.push(CarvedRange {
            role: RangeRole::Hosts,
            cidr: hosts.ip_net(),
            fixed: false,
            node_mask_size: None,
            why: "the link's first /80 is left to the nodes' own addresses (static such as ::1, or a DHCPv6 pool); \
                  every range carved in the link starts on an /80 of its own, so the fifth group of an address says which range it is in"
                .to_string(),
        });
    }

    // Pods.
    let mask = chosen.mask.unwrap_or(128);
    if let Some(pods) = chosen.pods {
        let bits = chosen.node_bits.unwrap_or(0);
        let mut why = match chosen.layout {
            Layout::Routed if mask == link_len + facts::kubernetes::CIDRSET_MAX_MASK_DIFF => {
                format!(
                    "a /64 of its own for the pods, routed to the nodes: /{mask} node blocks make {} of them, the most \
                 kube-controller-manager hands out from one range ({} bits), and each is one route (static, or a BGP \
                 announcement) to its node",
                    count(facts::kubernetes::CIDRSET_MAX_MASK_DIFF),
                    facts::kubernetes::CIDRSET_MAX_MASK_DIFF
                )
            }
            _ => {
                let place = match chosen.layout {
                    Layout::Routed => "in a /64 of its own, routed to the nodes",
                    Layout::OnLink if chosen.links.is_empty() => "in the prefix",
                    Layout::OnLink => "on its own /80 of the node link",
                };
                let block = if chosen.mask_carved {
                    format!(
                        "/{mask} node blocks, the smallest nibble-aligned block whose {} host-local addresses ({} minus network \
                         and gateway) hold {} pods per node",
                        group(facts::host_local::usable_addresses(Family::IPv6, mask)),
                        count(128 - mask),
                        group(u128::from(req.pods_per_node))
                    )
                } else {
                    format!("/{mask} node blocks as the input sets them")
                };
                let nodes = if bits == facts::kubernetes::CIDRSET_MAX_MASK_DIFF {
                    format!(
                        "{} of them ({bits} bits), the most kube-controller-manager hands out from one range",
                        count(bits)
                    )
                } else if Some(&bits) == prefs.node_bits.first() {
                    format!("{} of them", count(bits))
                } else {
                    format!(
                        "{} of them: the prefix has no room for more ({} bits would make {})",
                        count(bits),
                        facts::kubernetes::CIDRSET_MAX_MASK_DIFF,
                        count(facts::kubernetes::CIDRSET_MAX_MASK_DIFF)
                    )
                };
                format!("{place}: {block}; {nodes}")
            }
        };
        if !on_nibble(pods.len) || !on_nibble(mask) {
            why.push_str(
                "; not on a nibble boundary: the prefix has no room for a nibble-aligned range for the nodes asked",
            );
        }
        ranges.push(CarvedRange {
            role: RangeRole::Pods,
            cidr: pods.ip_net(),
            fixed: false,
            node_mask_size: Some(mask),
            why,
        });
    } else if let Some(pods) = cx.fixed_pods.filter(|p| cx.prefix.overlaps(p)) {
        ranges.push(CarvedRange {
            role: RangeRole::Pods,
            cidr: pods.ip_net(),
            fixed: true,
            node_mask_size: chosen.mask,
            why: if chosen.mask_carved {
                format!(
                    "as the input sets it; its node mask /{mask} is chosen for {} nodes of {} pods",
                    group(u128::from(req.nodes)),
                    group(u128::from(req.pods_per_node))
                )
            } else {
                "as the input sets it, with its node mask".to_string()
            },
        });
    }

    // Services.
    if let Some(services) = chosen.services {
        let bitmap_len = 128 - facts::kubernetes::SERVICE_BITMAP_MAX.trailing_zeros() as u8;
        let size_why = if net.distribution.value == Distribution::K0s && cx.ipv6_only_after {
            "/108: k0s accepts no longer prefix for an IPv6 single-stack service range, and kube-apiserver before \
             Kubernetes 1.34 no shorter one; the bitmap ClusterIP allocator of those releases uses its first 65,536 \
             addresses"
                .to_string()
        } else if services.len == bitmap_len {
            format!(
                "/{bitmap_len}: 65,536 addresses, all that the bitmap ClusterIP allocator of Kubernetes before 1.34 hands \
                 out from a range (it clamps a larger one to them), and ample for Services on later releases"
            )
        } else {
            format!(
                "/{}: {} addresses, as the prefix has no room for a /{bitmap_len}",
                services.len,
                group(size(services.len))
            )
        };
        let place = if chosen.links.iter().any(|(l, _)| l.contains(&services)) {
            "on its own /80 of the node link"
        } else if services.len > link_len {
            "at the start of a /64 of its own, apart from the links"
        } else {
            "in the prefix"
        };
        ranges.push(CarvedRange {
            role: RangeRole::Services,
            cidr: services.ip_net(),
            fixed: false,
            node_mask_size: None,
            why: format!("{size_why}; {place}"),
        });
    } else if let Some(services) = cx.fixed_services.filter(|s| cx.prefix.overlaps(s)) {
        ranges.push(CarvedRange {
            role: RangeRole::Services,
            cidr: services.ip_net(),
            fixed: true,
            node_mask_size: None,
            why: "as the input sets it".to_string(),
        });
    }

    // Load-balancer pools: the declared ones kept, the carved ones as they joined the pools.
    for d in &cx.declared_pools {
        ranges.push(CarvedRange {
            role: RangeRole::LoadBalancerPool,
            cidr: d.block.ip_net(),
            fixed: true,
            node_mask_size: None,
            why: format!(
                "pool {} as spec.loadBalancer.pools declares it ({} mode), kept; the other ranges are carved around it",
                d.pool, d.mode
            ),
        });
    }
    let implementation = net.load_balancer.implementation.value.display_name();
    for pool in &chosen.lb_pools {
        let in_link = chosen.links.iter().any(|(l, _)| l.contains(pool));
        let mode = pool_mode(cx, chosen, pool);
        let place = if in_link {
            let answer = if crate::load_balancer::implementation_answers_ndp(net) {
                format!("{implementation} answers neighbor solicitations for its addresses")
            } else if crate::load_balancer::ndp_proxy_pool_prefixes(net).is_empty() {
                format!("{implementation} must answer neighbor solicitations for its addresses")
            } else {
                "kube6's NDP proxy answers neighbor solicitations for its addresses".to_string()
            };
            format!("inside the node link in l2 mode, where {answer}")
        } else if mode == LbMode::Bgp {
            format!(
                "in a /64 of its own in bgp mode, announced by {implementation} to the upstream's BGP peer"
            )
        } else {
            "outside the node link (l2 mode): announce its addresses over BGP, or have the upstream route it to the nodes"
                .to_string()
        };
        let place = match pools::pool_of(net, pool) {
            Some(name) => format!(
                "{place}; the cluster's load-balancer pool {name} (spec.loadBalancer.pools)"
            ),
            None => place,
        };
        let size_why = if req.load_balancer_pool_mask.is_some() {
            format!("/{} as asked", pool.len)
        } else {
            format!(
                "/{}: {} addresses (loadBalancerPools.maskSize sets another size)",
                pool.len,
                group(size(pool.len))
            )
        };
        ranges.push(CarvedRange {
            role: RangeRole::LoadBalancerPool,
            cidr: pool.ip_net(),
            fixed: false,
            node_mask_size: None,
            why: format!("{size_why}; {place}"),
        });
    }
    ranges.sort_by_key(|r| (cidr_start(&r.cidr), r.cidr.prefix_len()));

    // The layout as a whole.
    match chosen.layout {
        Layout::Routed => notes.push(format!(
            "{prefix} holds {} /64 links: the pods and the services get /64s of their own, apart from the nodes' link; \
             the upstream must route them to the nodes (a static route per node block, BGP, or DHCPv6 prefix delegation \
             to a cluster router; spec.upstream.IPv6.mode: routed or bgp). A router that cannot: spec.upstream.IPv6.mode: \
             ndp-proxy carves them inside the node link instead",
            count(link_len - prefix.prefix_len())
        )),
        Layout::OnLink => {
            let why = if prefix.prefix_len() > link_len {
                format!("{prefix} is smaller than a link (/64)")
            } else if prefix.prefix_len() == link_len {
                format!("{prefix} is a single /64")
            } else {
                "the upstream is an NDP proxy (spec.upstream.IPv6.mode: ndp-proxy)".to_string()
            };
            notes.push(format!(
                "{why}: the pods and services share the nodes' link, so the upstream router sends a neighbor solicitation \
                 for each of their addresses and a node must answer it (kube6 ndp-proxy), unless the upstream routes the \
                 prefix to the nodes"
            ));
            let declared = cx.upstream;
            if !matches!(
                declared,
                Some(
                    UpstreamMode::NdpProxy
                        | UpstreamMode::Routed
                        | UpstreamMode::Bgp
                        | UpstreamMode::Masquerade
                )
            ) {
                out.push(Diagnostic::new(
                    &r::PREFIX_ON_LINK,
                    &cx.origin,
                    format!(
                        "{why}: pods and services are carved inside the nodes' link, where the upstream router solicits every \
                         address; nobody answers for pod addresses unless a node proxies NDP for them"
                    ),
                    "run `kube6 ndp-proxy` on every node and declare spec.upstream.IPv6.mode: ndp-proxy (with uplink), \
                     or have the provider route the prefix to the nodes (mode: routed), or ask for a shorter prefix \
                     (a /56 gives pods and services routed /64s of their own)",
                ));
            }
        }
    }
    if cx.nodes_elsewhere {
        notes.push(format!(
            "no node address lies in {prefix}: the nodes' link is elsewhere, and the prefix must be routed to them"
        ));
    }
    notes.extend(cx.pool_notes.iter().cloned());
    for refusal in refusals {
        notes.push(format!("not chosen: {refusal}"));
    }

    let nibble_aligned = ranges
        .iter()
        .filter(|r| !r.fixed)
        .all(|r| on_nibble(r.cidr.prefix_len()) && r.node_mask_size.is_none_or(on_nibble));
    if !nibble_aligned {
        notes.push(
            "some ranges do not fall on nibble (hex digit) boundaries: the prefix has no room for them otherwise".to_string(),
        );
    }

    // Pods per node beyond the block.
    let (max_pods, max_pods_by) = facts::kubernetes::max_pods(net.distribution.value);
    if chosen.pods.is_some() && chosen.mask_carved {
        let usable = facts::host_local::usable_addresses(Family::IPv6, mask);
        if usable < u128::from(max_pods) {
            out.push(Diagnostic::new(
                &r::PREFIX_BLOCK_BELOW_MAX_PODS,
                &cx.origin,
                format!(
                    "the /{mask} node blocks carved for {} pods per node hold {} pod addresses, but the kubelet runs up to \
                     {max_pods} pods ({max_pods_by}): pods beyond the block get no address",
                    req.pods_per_node,
                    group(usable)
                ),
                format!(
                    "set the kubelet's maxPods to {} or less on every node, or ask for {max_pods} pods per node",
                    group(usable)
                ),
            ));
        }
    }

    // Pods per node beyond what the kubelet admits.
    if req.pods_per_node > u64::from(max_pods) {
        out.push(Diagnostic::new(
            &r::PREFIX_PODS_ABOVE_MAX_PODS,
            &cx.origin,
            format!(
                "{} pods per node are asked and the node blocks hold them, but the kubelet admits at most {max_pods} pods \
                 ({max_pods_by}): nodes run no more than that",
                group(u128::from(req.pods_per_node))
            ),
            format!(
                "raise the kubelet's maxPods to {n} on every node (KubeletConfiguration maxPods; k3s and RKE2: \
                 --kubelet-arg=max-pods={n}), or ask for {max_pods} pods per node",
                n = req.pods_per_node
            ),
        ));
    }

    for range in ranges.iter().filter(|r| !r.fixed) {
        out.push(Diagnostic::new(
            &r::PREFIX_CARVED,
            &cx.origin,
            format!(
                "{} {}{}: {}",
                range.role.as_str(),
                range.cidr,
                range
                    .node_mask_size
                    .map_or_else(String::new, |m| format!(" (node blocks /{m})")),
                range.why
            ),
            match range.role {
                RangeRole::Pods => "to choose the pod range yourself, set it (kube6 keeps it and carves the rest around it)",
                RangeRole::Services => "to choose the service range yourself, set it (kube6 keeps it and carves the rest around it)",
                RangeRole::NodeSubnet | RangeRole::Hosts => "list the nodes with their addresses to keep their link",
                RangeRole::LoadBalancerPool => "set loadBalancerPools (count, maskSize) to change the pools",
            },
        ));
    }

    // What is taken: each range with the slot it keeps to itself, and the node links whole
    // except the one ranges were carved in (its other /80s are free).
    let inline_link = chosen.hosts.map(|h| Block::containing(h.start, link_len));
    let mut taken: Vec<Block> = chosen
        .links
        .iter()
        .map(|(l, _)| *l)
        .filter(|l| Some(*l) != inline_link)
        .collect();
    taken.extend(chosen.hosts);
    for range in ranges
        .iter()
        .filter(|r| !matches!(r.role, RangeRole::NodeSubnet | RangeRole::Hosts))
    {
        let IpNet::V6(net) = range.cidr else { continue };
        let block = Block::from_net(&net);
        let slot = if inline_link.is_some_and(|l| l.contains(&block)) {
            link_len + 16
        } else if chosen.layout == Layout::Routed {
            link_len.max(cx.prefix.len)
        } else {
            cx.prefix.len.saturating_add(16).min(128)
        };
        taken.push(Block::containing(block.start, block.len.min(slot)));
    }
    let free = free_blocks(cx.prefix, &taken)
        .into_iter()
        .map(|b| b.ip_net())
        .collect();
    PrefixPlan {
        cidr: IpNet::V6(prefix),
        source: cx.origin.path().trim_end_matches(".cidr").to_string(),
        layout: chosen.layout,
        nodes: req.nodes,
        pods_per_node: req.pods_per_node,
        node_subnets: chosen.links.len() as u64,
        load_balancer_pools: cx.lb_pools,
        nibble_aligned,
        ranges,
        free,
        notes,
    }
}

fn cidr_start(net: &IpNet) -> u128 {
    match net {
        IpNet::V6(n) => u128::from(n.network()),
        IpNet::V4(n) => u128::from(u32::from(n.network())),
    }
}

/// K6E701, with what the request needs at the least.
fn too_small(req: &Request, cx: &Context, prefs: &Prefs) -> Diagnostic {
    let mut needs = Vec::new();
    let mut total: u128 = 0;
    let link_len = facts::ipv6::LINK_PREFIX_LEN;
    let links = req
        .node_subnets
        .saturating_sub(cx.declared_links.len() as u64);
    if cx.prefix.len <= link_len && !cx.nodes_elsewhere && links > 0 {
        needs.push(format!("{links} node link(s) of /64"));
        total = total.saturating_add(size(link_len).saturating_mul(u128::from(links)));
    }
    if cx.fixed_pods.is_none() {
        let mask = cx.fixed_mask.or(prefs.block_len).unwrap_or(128);
        let len = mask.saturating_sub(prefs.min_node_bits);
        needs.push(format!(
            "a /{len} pod range ({} nodes of {} pods in /{mask} blocks)",
            group(u128::from(req.nodes)),
            group(u128::from(req.pods_per_node))
        ));
        total = total.saturating_add(size(len));
    }
    if let Some(len) = prefs.service_lens.last() {
        needs.push(format!("a /{len} service range"));
        total = total.saturating_add(size(*len));
    }
    if cx.lb_pools > 0
        && let Some(len) = prefs.lb_lens.last()
    {
        needs.push(format!("{} load-balancer pool(s) of /{len}", cx.lb_pools));
        total = total.saturating_add(size(*len).saturating_mul(u128::from(cx.lb_pools)));
    }
    // What the input fixes inside the prefix takes its room too.
    let mut fixed: Vec<String> = Vec::new();
    let mut fixed_total: u128 = 0;
    let mut fix = |what: String, block: Block| {
        fixed.push(format!("{what} {}", block.net()));
        fixed_total = fixed_total.saturating_add(size(block.len));
    };
    if let Some(pods) = cx.fixed_pods.filter(|b| cx.prefix.overlaps(b)) {
        fix("the pod range".to_string(), pods);
    }
    if let Some(services) = cx.fixed_services.filter(|b| cx.prefix.overlaps(b)) {
        fix("the service range".to_string(), services);
    }
    for d in &cx.declared_pools {
        fix(format!("load-balancer pool {}", d.pool), d.block);
    }
    let fixed_text = if fixed.is_empty() {
        "what the input fixes".to_string()
    } else {
        format!("what the input fixes inside it ({})", fixed.join(", "))
    };
    let total = total.saturating_add(fixed_total);
    let bits = 128 - total.saturating_sub(1).leading_zeros().min(128);
    let at_least = 128u32.saturating_sub(bits).min(128);
    Diagnostic::new(
        &r::PREFIX_TOO_SMALL,
        &cx.origin,
        format!(
            "{} cannot hold {} around {fixed_text}: that takes at least a /{at_least}{}",
            req.prefix,
            needs.join(", "),
            if cx.prefix.len >= link_len {
                "; a prefix of a single /64 or less also means pods share the node link, where an NDP proxy must answer for them"
            } else {
                ""
            }
        ),
        "ask the provider for a shorter prefix (a /64 holds all of this on one link with an NDP proxy, a /56 gives pods and \
         services routed /64s), plan fewer nodes or pods per node, make the ranges you fix inside the prefix smaller \
         (or move them out of it), or set some ranges yourself outside the prefix (ULA services such as fd00:10::/112)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_for_counts() {
        assert_eq!(bits_for(1), 0);
        assert_eq!(bits_for(2), 1);
        assert_eq!(bits_for(3), 2);
        assert_eq!(bits_for(65_536), 16);
        assert_eq!(bits_for(65_537), 17);
    }

    #[test]
    fn counts_read_well() {
        assert_eq!(count(16), "65,536");
        assert_eq!(count(48), "2^48");
    }
}
