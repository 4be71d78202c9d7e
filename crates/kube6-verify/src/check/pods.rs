//! K6V005 pod IPs, K6V006 their uniqueness, K6V007 hostNetwork pods.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use kube6_net::Family;

use super::{Check, Context, bit, families_text, live_pod, nets_text, node_ref, pod_ref, span};
use crate::catalog;
use crate::ipam::IpamMode;
use crate::snapshot::{Addr, CiliumNode, Node, PodPhase};

const NO_PODS: &str = "the input has no pods with addresses (hostNetwork pods aside)";

/// Calico blocks sorted by their first address, per family, to find the block of an address.
struct Blocks<'a> {
    by_family: [Vec<(u128, u128, Option<&'a str>)>; 2],
}

impl<'a> Blocks<'a> {
    fn new(ctx: &Context<'a>) -> Blocks<'a> {
        let mut by_family: [Vec<(u128, u128, Option<&'a str>)>; 2] = [Vec::new(), Vec::new()];
        for block in &ctx.snapshot.cni.calico_blocks {
            if let Some(net) = block.cidr.net() {
                let (first, last) = span(&net);
                by_family[usize::from(Family::of_net(&net) == Family::IPv6)].push((
                    first,
                    last,
                    block.node.as_deref(),
                ));
            }
        }
        for list in &mut by_family {
            list.sort_unstable_by_key(|b| b.0);
        }
        Blocks { by_family }
    }

    /// The node the block holding `ip` is affine to: `Some(None)` for a block affine to no
    /// node, `None` when no block holds it.
    fn affinity(&self, ip: &IpAddr) -> Option<Option<&'a str>> {
        let (list, n) = match ip {
            IpAddr::V4(v4) => (&self.by_family[0], u128::from(u32::from(*v4))),
            IpAddr::V6(v6) => (&self.by_family[1], u128::from(*v6)),
        };
        let i = list.partition_point(|b| b.0 <= n);
        let (first, last, node) = *list.get(i.checked_sub(1)?)?;
        (first <= n && n <= last).then_some(node)
    }
}

pub(super) fn pod_ips(ctx: &Context) -> Check {
    let mut check = Check::new(&catalog::POD_IPS);
    let (snapshot, expect) = (ctx.snapshot, ctx.expect);
    let mode = expect.ipam.mode;
    // Every pod address must lie in a planned pod range or in one of the CNI's pools (the
    // plan's, or those the cluster shows: a pool outside the plan is K6V004's finding, not
    // one per pod), whatever the node says.
    let planned: Vec<IpNet> = expect.pod_cidrs().collect();
    let mut allowed = planned.clone();
    allowed.extend(expect.ipam.pools.iter().map(|p| p.cidr));
    let cni = &snapshot.cni;
    allowed.extend(cni.calico_pools.iter().filter_map(|p| p.cidr.net()));
    allowed.extend(
        cni.cilium_pools
            .iter()
            .flat_map(|p| p.cidrs.iter().filter_map(|c| c.net())),
    );
    allowed.sort();
    allowed.dedup();
    let nodes_have_cidrs = snapshot.nodes.iter().any(|n| !n.pod_cidrs.is_empty());
    let cilium_nodes: HashMap<&str, &CiliumNode> = cni
        .cilium_nodes
        .iter()
        .map(|n| (n.name.as_str(), n))
        .collect();
    let blocks = Blocks::new(ctx);
    let wanted = expect.families.iter().fold(0u8, |m, f| m | bit(*f));
    let mut unknown_nodes = 0usize;
    let mut without_ips = 0usize;
    let mut borrowed = 0usize;
    let mut in_blocks = 0usize;
    for pod in &snapshot.pods {
        if pod.host_network || !live_pod(pod) {
            continue;
        }
        if pod.pod_ips.is_empty() {
            if pod.phase == PodPhase::Running {
                check.fail(
                    vec![pod_ref(pod)],
                    "is Running but has no status.podIPs".to_string(),
                );
            } else {
                without_ips += 1;
            }
            continue;
        }
        check.checked += 1;
        let node: Option<&Node> = pod
            .node_name
            .as_deref()
            .and_then(|n| ctx.nodes.get(n).copied());
        if node.is_none() && !snapshot.nodes.is_empty() {
            unknown_nodes += 1;
        }
        let mut seen = 0u8;
        let mut first_family = None;
        for addr in &pod.pod_ips {
            let Addr::Ip(ip) = addr else {
                check.fail(
                    vec![pod_ref(pod)],
                    format!("pod IP {addr} is not an IP address"),
                );
                continue;
            };
            let family = Family::of_addr(ip);
            first_family.get_or_insert(family);
            if !expect.expects(family) {
                check.fail(
                    vec![pod_ref(pod)],
                    format!("has the {family} address {ip}, but the cluster has no {family} pods"),
                );
                continue;
            }
            if seen & bit(family) != 0 {
                check.fail(
                    vec![pod_ref(pod)],
                    format!("has more than one {family} address ({ip})"),
                );
                continue;
            }
            seen |= bit(family);
            if !allowed.is_empty() && !allowed.iter().any(|r| r.contains(ip)) {
                let family_ranges: Vec<IpNet> = allowed
                    .iter()
                    .copied()
                    .filter(|r| Family::of_net(r) == family)
                    .collect();
                check.fail(
                    vec![pod_ref(pod)],
                    if family_ranges.is_empty() {
                        format!("pod IP {ip} is in no {family} pod range")
                    } else {
                        format!(
                            "pod IP {ip} is outside the {family} pod ranges and CNI pools ({})",
                            nets_text(&family_ranges)
                        )
                    },
                );
                continue;
            }
            // Within the node's share, where the IPAM gives nodes one.
            let Some(node) = node else {
                continue;
            };
            match mode {
                IpamMode::NodePodCidrs if nodes_have_cidrs => {
                    if let Some(block) = node.pod_cidr(family)
                        && !block.contains(ip)
                    {
                        check.fail(
                            vec![pod_ref(pod), node_ref(node)],
                            format!("pod IP {ip} is outside its node's podCIDR {block}"),
                        );
                    }
                }
                IpamMode::CiliumClusterPool | IpamMode::CiliumMultiPool => {
                    let Some(cn) = cilium_nodes.get(node.name.as_str()) else {
                        continue;
                    };
                    let shares: Vec<IpNet> = if mode == IpamMode::CiliumClusterPool {
                        cn.pod_cidrs.iter().filter_map(|c| c.net()).collect()
                    } else {
                        cn.pool_cidrs.iter().filter_map(|(_, c)| c.net()).collect()
                    };
                    let shares: Vec<IpNet> = shares
                        .into_iter()
                        .filter(|s| Family::of_net(s) == family)
                        .collect();
                    if !shares.is_empty() && !shares.iter().any(|s| s.contains(ip)) {
                        check.fail(
                            vec![pod_ref(pod), format!("ciliumnode/{}", cn.name)],
                            format!(
                                "pod IP {ip} is outside what Cilium gave its node ({})",
                                nets_text(&shares)
                            ),
                        );
                    }
                }
                IpamMode::CalicoIpam => {
                    // Blocks are affine to a node, but a node may borrow from another's block
                    // or keep addresses of a released one: information, not a fault.
                    if let Some(affine) = blocks.affinity(ip) {
                        in_blocks += 1;
                        if affine != Some(node.name.as_str()) {
                            borrowed += 1;
                        }
                    }
                }
                _ => {}
            }
        }
        let complete = seen & wanted == wanted;
        if !complete && seen != 0 {
            let missing: Vec<Family> = expect
                .families
                .iter()
                .copied()
                .filter(|f| seen & bit(*f) == 0)
                .collect();
            check.fail(
                vec![pod_ref(pod)],
                format!("has no {} address", families_text(&missing)),
            );
        }
        if let (Some(first), Some(primary)) = (first_family, expect.primary())
            && first != primary
            && complete
        {
            check.warn(
                vec![pod_ref(pod)],
                format!("the first pod IP is {first}, but the primary family is {primary}"),
            );
        }
    }
    if allowed.is_empty() {
        check.note(
            "the pod ranges are unknown (no --plan, no CNI pools in the input): pod IPs were not \
             compared with them",
        );
    }
    if without_ips > 0 {
        check.note(format!("{without_ips} pending pods have no addresses yet"));
    }
    if unknown_nodes > 0 {
        check.note(format!(
            "{unknown_nodes} pods are on nodes the input does not hold"
        ));
    }
    if mode == IpamMode::NodePodCidrs && !nodes_have_cidrs && !snapshot.nodes.is_empty() {
        check.note("nodes have no podCIDRs, so pod IPs were not compared with them");
    }
    if in_blocks > 0 {
        check.note(format!(
            "{in_blocks} pod addresses are in Calico blocks, {borrowed} of them in a block \
             affine to another node (borrowed, or a block released and reclaimed)"
        ));
    }
    check.done(NO_PODS)
}

pub(super) fn pod_ips_unique(ctx: &Context) -> Check {
    let mut check = Check::new(&catalog::POD_IPS_UNIQUE);
    let snapshot = ctx.snapshot;
    let mut owner: HashMap<IpAddr, u32> = HashMap::with_capacity(snapshot.pods.len() * 2);
    for (index, pod) in snapshot.pods.iter().enumerate() {
        if pod.host_network || !live_pod(pod) || pod.pod_ips.is_empty() {
            continue;
        }
        check.checked += 1;
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        for ip in pod.pod_ips.iter().filter_map(Addr::ip) {
            if let Some(&first) = owner.get(&ip) {
                if first == index {
                    continue;
                }
                let other = &snapshot.pods[first as usize];
                check.fail(
                    vec![pod_ref(other), pod_ref(pod)],
                    format!("both pods have the address {ip}"),
                );
            } else {
                owner.insert(ip, index);
            }
        }
    }
    check.done(NO_PODS)
}

pub(super) fn host_network_pods(ctx: &Context) -> Check {
    let mut check = Check::new(&catalog::HOST_NETWORK_PODS);
    let (snapshot, expect) = (ctx.snapshot, ctx.expect);
    let mut unknown_nodes = 0usize;
    for pod in &snapshot.pods {
        if !pod.host_network || !live_pod(pod) || pod.pod_ips.is_empty() {
            continue;
        }
        let Some(node) = pod
            .node_name
            .as_deref()
            .and_then(|n| ctx.nodes.get(n).copied())
        else {
            unknown_nodes += 1;
            continue;
        };
        check.checked += 1;
        for addr in &pod.pod_ips {
            match addr {
                Addr::Ip(ip) if node.ips().any(|n| n == *ip) => {}
                Addr::Ip(ip) => check.fail(
                    vec![pod_ref(pod), node_ref(node)],
                    format!(
                        "hostNetwork pod has the address {ip}, which is not one of its node's ({})",
                        node.ips()
                            .map(|ip| ip.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                Addr::Invalid(text) => check.fail(
                    vec![pod_ref(pod)],
                    format!("pod IP {text:?} is not an IP address"),
                ),
            }
        }
        // The kubelet gives a hostNetwork pod its node's IPs as Kubernetes takes them
        // (GetNodeHostIPs), of every family the cluster uses.
        let has = pod
            .pod_ips
            .iter()
            .filter_map(Addr::ip)
            .fold(0u8, |m, ip| m | bit(Family::of_addr(&ip)));
        let missing: Vec<Family> = node
            .host_ips()
            .iter()
            .map(Family::of_addr)
            .filter(|f| expect.expects(*f) && has & bit(*f) == 0)
            .collect();
        if !missing.is_empty() {
            check.warn(
                vec![pod_ref(pod), node_ref(node)],
                format!(
                    "hostNetwork pod lacks its node's {} address",
                    families_text(&missing)
                ),
            );
        }
    }
    if unknown_nodes > 0 {
        check.note(format!(
            "{unknown_nodes} hostNetwork pods are on nodes the input does not hold"
        ));
    }
    check.done(if snapshot.nodes.is_empty() {
        "the input has no Nodes to compare hostNetwork pods with"
    } else {
        "the input has no hostNetwork pods with addresses"
    })
}
