//! K6V002 node addresses and K6V003 node podCIDRs.

use kube6_net::Family;

use super::{Check, Context, bit, families_text, node_ref, overlaps, span, version_hint};
use crate::catalog;
use crate::ipam::IpamMode;
use crate::snapshot::{Addr, Node};

const NO_NODES: &str = "the input has no Nodes";

pub(super) fn node_addresses(ctx: &Context) -> Check {
    let mut check = Check::new(&catalog::NODE_ADDRESSES);
    let expect = ctx.expect;
    let mut external_only = 0usize;
    for node in &ctx.snapshot.nodes {
        check.checked += 1;
        let me = || vec![node_ref(node)];
        for addr in node.internal_ips() {
            if let Addr::Invalid(text) = addr
                && crate::snapshot::parse_ip_sloppy(&text).is_none()
            {
                check.warn(
                    me(),
                    format!("InternalIP {text:?} is not an IP address (Kubernetes skips it)"),
                );
            }
        }
        // As Kubernetes takes them: InternalIPs, then ExternalIPs, first of each family.
        let host_ips = node.host_ips();
        if host_ips.is_empty() {
            check.fail(
                me(),
                format!(
                    "has no InternalIP or ExternalIP that is an IP address (addresses: {}): \
                     Kubernetes knows no IP for it",
                    address_list(node)
                ),
            );
            continue;
        }
        if host_ips.iter().any(|ip| node.host_ip_is_external(ip)) {
            external_only += 1;
        }
        let families: Vec<Family> = host_ips.iter().map(Family::of_addr).collect();
        let missing: Vec<Family> = expect
            .families
            .iter()
            .copied()
            .filter(|f| !families.contains(f))
            .collect();
        if !missing.is_empty() {
            check.fail(
                me(),
                format!(
                    "has no {} address, neither InternalIP nor ExternalIP (addresses: {})",
                    families_text(&missing),
                    address_list(node)
                ),
            );
        } else if let (Some(first), Some(primary)) = (families.first(), expect.primary())
            && *first != primary
        {
            check.fail(
                me(),
                format!(
                    "its first IP is {} ({first}), but the primary family is {primary}: give the \
                     kubelet --node-ip with the {primary} address first",
                    host_ips[0]
                ),
            );
        }
        if let Some(f) = families.iter().find(|f| !expect.expects(**f)) {
            check.warn(
                me(),
                format!("has an {f} address, but the cluster has no {f} ranges"),
            );
        }
    }
    if external_only > 0 {
        check.note(format!(
            "{external_only} nodes have an address of one family only as an ExternalIP, which \
             Kubernetes takes as the node's IP of that family (GetNodeHostIPs)"
        ));
    }
    check.done(NO_NODES)
}

/// The node's addresses, for messages.
fn address_list(node: &Node) -> String {
    if node.addresses.is_empty() {
        return "none".to_string();
    }
    node.addresses
        .iter()
        .map(|a| format!("{} {}", a.kind, a.address))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn node_pod_cidrs(ctx: &Context) -> Check {
    let mut check = Check::new(&catalog::NODE_POD_CIDRS);
    let (snapshot, expect) = (ctx.snapshot, ctx.expect);
    if snapshot.nodes.is_empty() {
        return check.skip(NO_NODES);
    }
    let mode = expect.ipam.mode;
    if snapshot.nodes.iter().all(|n| n.pod_cidrs.is_empty()) {
        return match mode {
            IpamMode::NodePodCidrs => {
                check.fail(
                    Vec::new(),
                    format!(
                        "no node has spec.podCIDRs, but {}: kube-controller-manager runs \
                         without --allocate-node-cidrs, or without --cluster-cidr",
                        expect.ipam.why
                    ),
                );
                check
            }
            IpamMode::Unknown => check.skip(
                "no node has spec.podCIDRs: kube-controller-manager allocates none (the CNI \
                 hands out addresses itself?)",
            ),
            _ => check.skip(format!(
                "no node has spec.podCIDRs, which {} does not use",
                mode.as_str()
            )),
        };
    }
    if !mode.uses_node_pod_cidrs() && mode != IpamMode::Unknown {
        check.note(format!(
            "{} does not use the nodes' podCIDRs; they are judged against the plan's \
             kube-controller-manager settings",
            mode.as_str()
        ));
    }
    // Per family: (first address, last address, node index) for the overlap sweep.
    let mut spans: [Vec<(u128, u128, usize)>; 2] = [Vec::new(), Vec::new()];
    let order = expect.pod_cidr_order.as_deref();
    for (index, node) in snapshot.nodes.iter().enumerate() {
        check.checked += 1;
        let me = || vec![node_ref(node)];
        if node.pod_cidrs.is_empty() {
            let message = if mode.uses_node_pod_cidrs() {
                "has no spec.podCIDRs: kube-controller-manager gave it no pod range (is the \
                 cluster range full?), so its pods get no addresses"
            } else {
                "has no spec.podCIDRs while other nodes have them (is the cluster range full?)"
            };
            check.fail(me(), message.to_string());
            continue;
        }
        let mut seen = 0u8;
        for (position, cidr) in node.pod_cidrs.iter().enumerate() {
            let Some(net) = cidr.net() else {
                check.fail(me(), format!("podCIDR {cidr} is not a canonical CIDR"));
                continue;
            };
            let family = Family::of_net(&net);
            if !expect.expects(family) {
                check.fail(
                    me(),
                    format!("podCIDR {net} is {family}, but the cluster has no {family} pods"),
                );
                continue;
            }
            if seen & bit(family) != 0 {
                check.fail(me(), format!("more than one {family} podCIDR ({net})"));
                continue;
            }
            seen |= bit(family);
            // kube-controller-manager allocates in its --cluster-cidr order, which the plan's
            // distribution decides (k0s before v1.36.1: IPv6 first). Without a plan the order
            // is not judged.
            if position == 0
                && let Some(first) = order.and_then(|o| o.first())
                && family != *first
            {
                check.fail(
                    me(),
                    format!(
                        "the first podCIDR {net} is {family}, but kube-controller-manager's \
                         --cluster-cidr lists {first} first{}",
                        version_hint(expect)
                    ),
                );
            }
            if let Some(range) = expect.pod_range(family) {
                if let Some(cluster) = range.cidr
                    && !cluster.contains(&net)
                {
                    check.fail(
                        me(),
                        format!("podCIDR {net} is outside the {family} pod range {cluster}"),
                    );
                }
                if let Some(mask) = range.node_mask_size
                    && net.prefix_len() != mask
                {
                    check.fail(
                        me(),
                        format!(
                            "podCIDR {net} is a /{}, but the {family} node mask size is /{mask}{}",
                            net.prefix_len(),
                            version_hint(expect)
                        ),
                    );
                }
            }
            let (first, last) = span(&net);
            spans[usize::from(family == Family::IPv6)].push((first, last, index));
        }
        for family in &expect.families {
            if seen & bit(*family) == 0 {
                check.fail(me(), format!("has no {family} podCIDR"));
            }
        }
    }
    for family_spans in &mut spans {
        overlaps(family_spans, |a, b| {
            let (a, b) = (&snapshot.nodes[a], &snapshot.nodes[b]);
            check.fail(
                vec![node_ref(a), node_ref(b)],
                format!(
                    "podCIDRs overlap: {} and {}",
                    overlapping(a, b).unwrap_or_default(),
                    overlapping(b, a).unwrap_or_default()
                ),
            );
        });
    }
    if expect.pods.iter().all(|p| p.cidr.is_none()) {
        check.note(
            "without --plan the pod ranges and kube-controller-manager's order are unknown; \
             masks are the most common",
        );
    }
    check.done(NO_NODES)
}

/// `node`'s podCIDR that overlaps one of `other`'s.
fn overlapping(node: &Node, other: &Node) -> Option<String> {
    node.pod_cidrs.iter().filter_map(|c| c.net()).find_map(|a| {
        other
            .pod_cidrs
            .iter()
            .filter_map(|c| c.net())
            .any(|b| a.contains(&b) || b.contains(&a))
            .then(|| a.to_string())
    })
}
