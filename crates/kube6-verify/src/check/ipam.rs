//! K6V004: the CNI's own IPAM objects hand out the planned ranges.
//!
//! Calico: IPPools inside the plan's pod ranges, with the planned block size; IPAMBlocks inside
//! a pool, of its block size (block affinity is information only: blocks are released and
//! addresses borrowed). Cilium cluster-pool: each CiliumNode's podCIDRs inside the cluster-pool
//! lists (or the pod ranges), of the mask size, one per family, disjoint. Cilium multi-pool:
//! CiliumPodIPPools inside the pod ranges, allocations inside their pool, of its mask size.

use std::collections::{BTreeMap, HashMap};

use ipnet::IpNet;
use kube6_net::{Family, contains_net};

use super::{Check, Context, nets_text, overlaps, span};
use crate::catalog;
use crate::ipam::{IpamMode, IpamPool};
use crate::snapshot::CiliumPool;

pub(super) fn cni_ipam(ctx: &Context) -> Check {
    let mut check = Check::new(&catalog::CNI_IPAM);
    let (snapshot, expect) = (ctx.snapshot, ctx.expect);
    let cni = &snapshot.cni;
    let mode = expect.ipam.mode;
    let planned: Vec<IpNet> = expect.pod_cidrs().collect();
    let planned_pools: &[IpamPool] = &expect.ipam.pools;
    // A range the CNI may hand out: a planned pod range or a planned pool.
    let in_plan = |net: &IpNet| {
        planned.iter().any(|p| contains_net(p, net))
            || planned_pools.iter().any(|p| contains_net(&p.cidr, net))
    };
    let plan_known = !planned.is_empty() || !planned_pools.is_empty();

    // Evidence of another IPAM than the one expected.
    if mode.uses_node_pod_cidrs() {
        if !cni.calico_blocks.is_empty() {
            check.warn(
                Vec::new(),
                format!(
                    "the cluster has {} Calico IPAMBlocks: Calico IPAM hands out pod addresses, \
                     not the nodes' podCIDRs ({})",
                    cni.calico_blocks.len(),
                    expect.ipam.why
                ),
            );
        }
        if cni.cilium_nodes.iter().any(|n| !n.pool_cidrs.is_empty()) {
            check.warn(
                Vec::new(),
                format!(
                    "the CiliumNodes hold multi-pool allocations, not the nodes' podCIDRs ({})",
                    expect.ipam.why
                ),
            );
        }
    }

    calico(ctx, &mut check, &in_plan, plan_known);
    if matches!(mode, IpamMode::CiliumClusterPool | IpamMode::Unknown)
        || !cni.cilium_nodes.is_empty() && mode != IpamMode::CiliumMultiPool
    {
        cilium_cluster_pool(ctx, &mut check, &in_plan, plan_known);
    }
    cilium_multi_pool(ctx, &mut check, plan_known, &in_plan);

    let nothing = match mode {
        IpamMode::NodePodCidrs => {
            "pod addresses come from the nodes' podCIDRs (K6V003), and the input has no CNI \
             IPAM objects"
        }
        IpamMode::CalicoIpam => "the input has no Calico IPPools or IPAMBlocks",
        IpamMode::CiliumClusterPool | IpamMode::CiliumMultiPool => {
            "the input has no CiliumNodes or CiliumPodIPPools"
        }
        IpamMode::Unknown => "the IPAM is unknown and the input has no CNI IPAM objects",
    };
    check.done(nothing)
}

fn calico(ctx: &Context, check: &mut Check, in_plan: &dyn Fn(&IpNet) -> bool, plan_known: bool) {
    let (snapshot, expect) = (ctx.snapshot, ctx.expect);
    let cni = &snapshot.cni;
    let calico_ipam = expect.ipam.mode == IpamMode::CalicoIpam;
    let mut pools: Vec<(IpNet, u8, &str)> = Vec::new();
    for pool in &cni.calico_pools {
        check.checked += 1;
        let me = || vec![format!("ippool/{}", pool.name)];
        let Some(cidr) = pool.cidr.net() else {
            check.fail(me(), format!("cidr {} is not a canonical CIDR", pool.cidr));
            continue;
        };
        let family = Family::of_net(&cidr);
        let block = pool
            .block_size
            .unwrap_or(kube6_model::facts::calico::DEFAULT_BLOCK_SIZE.get(family));
        pools.push((cidr, block, pool.name.as_str()));
        if !calico_ipam {
            // Canal and Calico with host-local IPAM keep a pool for Felix, unused for pods.
            continue;
        }
        if plan_known && !in_plan(&cidr) {
            let message = format!(
                "Calico hands out pod addresses from {cidr}, which is outside the plan's pod \
                 ranges ({})",
                nets_text(&expect.pod_cidrs().collect::<Vec<_>>())
            );
            if pool.disabled {
                check.warn(
                    me(),
                    format!(
                        "{message}; the pool is disabled, but pods may still hold its addresses"
                    ),
                );
            } else {
                check.fail(me(), message);
            }
            continue;
        }
        // The planned block size, where the plan states the pool itself.
        if let Some(planned) = expect
            .ipam
            .pools
            .iter()
            .find(|p| p.stated && p.cidr == cidr)
            && let Some(want) = planned.mask
            && want != block
        {
            check.fail(
                me(),
                format!("blockSize is /{block}, but the plan gives {cidr} blocks of /{want}"),
            );
        }
    }
    if calico_ipam && !cni.calico_pools.is_empty() {
        for planned in expect.ipam.pools.iter().filter(|p| p.stated) {
            if !pools.iter().any(|(cidr, _, _)| *cidr == planned.cidr) {
                check.warn(
                    Vec::new(),
                    format!(
                        "the planned Calico pool {} is not in the cluster",
                        planned.cidr
                    ),
                );
            }
        }
    }
    if cni.calico_blocks.is_empty() {
        return;
    }
    let mut affine: BTreeMap<&str, usize> = BTreeMap::new();
    let mut unaffine = 0usize;
    let mut spans: [Vec<(u128, u128, usize)>; 2] = [Vec::new(), Vec::new()];
    for (index, block) in cni.calico_blocks.iter().enumerate() {
        check.checked += 1;
        let me = || vec![format!("ipamblock/{}", block.name)];
        let Some(cidr) = block.cidr.net() else {
            check.fail(me(), format!("cidr {} is not a canonical CIDR", block.cidr));
            continue;
        };
        match &block.node {
            Some(node) => *affine.entry(node.as_str()).or_default() += 1,
            None => unaffine += 1,
        }
        let (first, last) = span(&cidr);
        spans[usize::from(Family::of_net(&cidr) == Family::IPv6)].push((first, last, index));
        match pools.iter().find(|(pool, _, _)| contains_net(pool, &cidr)) {
            Some((pool, size, name)) if cidr.prefix_len() != *size => check.fail(
                me(),
                format!(
                    "block {cidr} is a /{}, but ippool/{name} ({pool}) hands out /{size} blocks",
                    cidr.prefix_len()
                ),
            ),
            Some(_) => {}
            None if !pools.is_empty() => check.warn(
                me(),
                format!("block {cidr} is in no IPPool of the input (its pool was deleted?)"),
            ),
            None => {}
        }
        if plan_known && calico_ipam && !in_plan(&cidr) {
            check.fail(
                me(),
                format!("block {cidr} is outside the plan's pod ranges"),
            );
        }
    }
    for family_spans in &mut spans {
        overlaps(family_spans, |a, b| {
            let (a, b) = (&cni.calico_blocks[a], &cni.calico_blocks[b]);
            check.fail(
                vec![
                    format!("ipamblock/{}", a.name),
                    format!("ipamblock/{}", b.name),
                ],
                format!("blocks overlap: {} and {}", a.cidr, b.cidr),
            );
        });
    }
    check.note(format!(
        "{} Calico blocks, affine to {} nodes{}",
        cni.calico_blocks.len(),
        affine.len(),
        if unaffine > 0 {
            format!(", {unaffine} affine to none")
        } else {
            String::new()
        }
    ));
}

fn cilium_cluster_pool(
    ctx: &Context,
    check: &mut Check,
    in_plan: &dyn Fn(&IpNet) -> bool,
    plan_known: bool,
) {
    let (snapshot, expect) = (ctx.snapshot, ctx.expect);
    let nodes = &snapshot.cni.cilium_nodes;
    let masks: HashMap<Family, u8> = expect
        .ipam
        .pools
        .iter()
        .filter_map(|p| Some((Family::of_net(&p.cidr), p.mask?)))
        .collect();
    let mut spans: [Vec<(u128, u128, usize)>; 2] = [Vec::new(), Vec::new()];
    let mut strangers = 0usize;
    for (index, cn) in nodes.iter().enumerate() {
        if cn.pod_cidrs.is_empty() {
            continue;
        }
        check.checked += 1;
        if !ctx.nodes.contains_key(cn.name.as_str()) && !snapshot.nodes.is_empty() {
            strangers += 1;
        }
        let me = || vec![format!("ciliumnode/{}", cn.name)];
        let mut seen: Vec<Family> = Vec::new();
        for cidr in &cn.pod_cidrs {
            let Some(net) = cidr.net() else {
                check.fail(me(), format!("podCIDR {cidr} is not a canonical CIDR"));
                continue;
            };
            let family = Family::of_net(&net);
            if seen.contains(&family) {
                check.warn(me(), format!("more than one {family} podCIDR ({net})"));
            }
            seen.push(family);
            if !expect.expects(family) {
                check.fail(
                    me(),
                    format!("podCIDR {net} is {family}, but the cluster has no {family} pods"),
                );
                continue;
            }
            if plan_known && !in_plan(&net) {
                check.fail(
                    me(),
                    format!(
                        "podCIDR {net} is outside the cluster-pool lists and pod ranges ({})",
                        nets_text(
                            &expect
                                .ipam
                                .pools
                                .iter()
                                .map(|p| p.cidr)
                                .chain(expect.pod_cidrs())
                                .filter(|c| Family::of_net(c) == family)
                                .collect::<Vec<_>>()
                        )
                    ),
                );
            }
            if expect.ipam.mode == IpamMode::CiliumClusterPool
                && let Some(mask) = masks.get(&family)
                && net.prefix_len() != *mask
            {
                check.fail(
                    me(),
                    format!(
                        "podCIDR {net} is a /{}, but the {family} cluster-pool mask size is /{mask}",
                        net.prefix_len()
                    ),
                );
            }
            let (first, last) = span(&net);
            spans[usize::from(family == Family::IPv6)].push((first, last, index));
        }
        if expect.ipam.mode == IpamMode::CiliumClusterPool {
            for family in &expect.families {
                if !seen.contains(family) {
                    check.fail(me(), format!("has no {family} podCIDR: Cilium gives its pods no {family} address (ipv6.enabled / ipv4.enabled?)"));
                }
            }
        }
    }
    for family_spans in &mut spans {
        overlaps(family_spans, |a, b| {
            let (a, b) = (&nodes[a], &nodes[b]);
            check.fail(
                vec![
                    format!("ciliumnode/{}", a.name),
                    format!("ciliumnode/{}", b.name),
                ],
                "podCIDRs overlap".to_string(),
            );
        });
    }
    if strangers > 0 {
        check.note(format!(
            "{strangers} CiliumNodes are of nodes the input does not hold"
        ));
    }
}

fn cilium_multi_pool(
    ctx: &Context,
    check: &mut Check,
    plan_known: bool,
    in_plan: &dyn Fn(&IpNet) -> bool,
) {
    let cni = &ctx.snapshot.cni;
    let expect = ctx.expect;
    let by_name: HashMap<&str, &CiliumPool> = cni
        .cilium_pools
        .iter()
        .map(|p| (p.name.as_str(), p))
        .collect();
    for pool in &cni.cilium_pools {
        check.checked += 1;
        for cidr in &pool.cidrs {
            let Some(net) = cidr.net() else {
                check.fail(
                    vec![format!("ciliumpodippool/{}", pool.name)],
                    format!("cidr {cidr} is not a canonical CIDR"),
                );
                continue;
            };
            if plan_known && !in_plan(&net) {
                check.fail(
                    vec![format!("ciliumpodippool/{}", pool.name)],
                    format!(
                        "Cilium hands out pod addresses from {net}, which is outside the plan's \
                         pod ranges ({})",
                        nets_text(&expect.pod_cidrs().collect::<Vec<_>>())
                    ),
                );
            }
        }
    }
    let mut spans: [Vec<(u128, u128, usize)>; 2] = [Vec::new(), Vec::new()];
    let mut allocations: Vec<(&str, &str, IpNet)> = Vec::new();
    for cn in &cni.cilium_nodes {
        if cn.pool_cidrs.is_empty() {
            continue;
        }
        check.checked += 1;
        for (pool_name, cidr) in &cn.pool_cidrs {
            let me = || vec![format!("ciliumnode/{}", cn.name)];
            let Some(net) = cidr.net() else {
                check.fail(
                    me(),
                    format!("pool {pool_name} CIDR {cidr} is not a canonical CIDR"),
                );
                continue;
            };
            let family = Family::of_net(&net);
            match by_name.get(pool_name.as_str()) {
                Some(pool) => {
                    let pool_nets: Vec<IpNet> = pool.cidrs.iter().filter_map(|c| c.net()).collect();
                    if !pool_nets.iter().any(|p| contains_net(p, &net)) {
                        check.fail(
                            me(),
                            format!(
                                "{net} of pool {pool_name} is outside the pool's CIDRs ({})",
                                nets_text(&pool_nets)
                            ),
                        );
                    }
                    if let Some(mask) = pool.mask(family)
                        && net.prefix_len() != mask
                    {
                        check.fail(
                            me(),
                            format!(
                                "{net} of pool {pool_name} is a /{}, but the pool's {family} mask \
                                 size is /{mask}",
                                net.prefix_len()
                            ),
                        );
                    }
                }
                None if !cni.cilium_pools.is_empty() => check.warn(
                    me(),
                    format!("allocation from pool {pool_name}, which the input does not hold"),
                ),
                None => {}
            }
            if plan_known && !in_plan(&net) {
                check.fail(
                    me(),
                    format!("{net} of pool {pool_name} is outside the plan's pod ranges"),
                );
            }
            let (first, last) = span(&net);
            spans[usize::from(family == Family::IPv6)].push((first, last, allocations.len()));
            allocations.push((cn.name.as_str(), pool_name.as_str(), net));
        }
    }
    for family_spans in &mut spans {
        overlaps(family_spans, |a, b| {
            let (a, b) = (allocations[a], allocations[b]);
            if a.0 != b.0 {
                check.fail(
                    vec![format!("ciliumnode/{}", a.0), format!("ciliumnode/{}", b.0)],
                    format!("allocations overlap: {} and {}", a.2, b.2),
                );
            }
        });
    }
}
