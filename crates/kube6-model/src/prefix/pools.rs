//! Load-balancer pools and the prefix: which pools the carving makes, and how carved pools
//! become the cluster's pools (`spec.loadBalancer.pools`, the one model that rules, the plan,
//! render, the picture and verify read).
//!
//! - An implementation that takes no pool (ServiceLB, a cloud controller, none: see
//!   `LbImplementation::addresses_without_pools`) gets none, and the plan says why.
//! - Pools the input declares with IPv6 addresses are the cluster's IPv6 pools: they are kept
//!   as fixed ranges, the rest of the carving fits around them, and no IPv6 pool is carved.
//! - Otherwise `loadBalancerPools.count` pools are carved (one when not said), each placed in
//!   the node link in l2 mode, or in a /64 of its own in bgp mode with a BGP upstream.
//!   A carved block joins a declared IPv4-only pool of the same mode (so MetalLB can give a
//!   dual-stack Service both addresses from one pool), else it is a pool of its own.

use ipnet::IpNet;
use kube6_net::Family;

use super::space::Block;
use crate::diagnostic::Diagnostic;
use crate::load_balancer::{AddressBlock, LbMode, LbPool};
use crate::model::ClusterNetwork;
use crate::rules::catalog as r;
use crate::source::{Located, Origin};

/// An IPv6 block of a pool the input declares, as the CIDRs that cover it exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeclaredBlock {
    /// The pool's name (or `pool-N`).
    pub pool: String,
    pub block: Block,
    pub mode: LbMode,
    pub origin: Origin,
}

/// Every IPv6 block of the declared (not carved) pools.
pub(crate) fn declared(net: &ClusterNetwork) -> Vec<DeclaredBlock> {
    net.load_balancer
        .pools
        .iter()
        .enumerate()
        .flat_map(|(i, pool)| {
            pool.blocks()
                .filter(|(a, b)| !a.origin.is_derived() && b.family() == Family::IPv6)
                .flat_map(move |(a, b)| {
                    b.cidrs().into_iter().filter_map(move |cidr| match cidr {
                        IpNet::V6(v6) => Some(DeclaredBlock {
                            pool: pool.display_name(i),
                            block: Block::from_net(&v6),
                            mode: pool.mode(),
                            origin: a.origin.clone(),
                        }),
                        IpNet::V4(_) => None,
                    })
                })
        })
        .collect()
}

/// How many pools to carve, and why, as notes for the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Decision {
    pub count: u64,
    pub notes: Vec<String>,
}

/// Decides how many pools the carving makes for `net` when `asked` (`loadBalancerPools.count`)
/// and the input declares `declared`; warns (K6W709) when a count asked is not carved.
pub(crate) fn decide(
    net: &ClusterNetwork,
    asked: Option<u64>,
    declared: &[DeclaredBlock],
    out: &mut Vec<Diagnostic>,
) -> Decision {
    let lb = &net.load_balancer;
    let implementation = lb.implementation.value;
    let asked_origin = net
        .prefix
        .as_ref()
        .and_then(|p| p.load_balancer_pools.as_ref())
        .map(|c| c.origin.clone());
    let from = match &lb.implementation.origin {
        Origin::Default { by, .. } => format!(" ({by})"),
        _ => String::new(),
    };
    let mut warn = |why: String, hint: &str| {
        if let (Some(n), Some(origin)) = (asked.filter(|n| *n > 0), &asked_origin) {
            out.push(Diagnostic::new(
                &r::PREFIX_POOLS_NOT_CARVED,
                origin,
                format!("loadBalancerPools.count asks for {n} pool(s), but {why}: none is carved"),
                hint.to_string(),
            ));
        }
    };
    if let Some(reason) = implementation.addresses_without_pools() {
        let why = format!(
            "the load balancer is {}{from}, which takes no pool: {reason}",
            implementation.display_name()
        );
        warn(
            why.clone(),
            "choose an implementation with pools (spec.loadBalancer.implementation: metallb, cilium or kube-vip; on k3s \
             kube6 then disables ServiceLB), or leave loadBalancerPools out",
        );
        return Decision {
            count: 0,
            notes: vec![format!("no load-balancer pool is carved: {why}")],
        };
    }
    if !declared.is_empty() {
        let mut listed: Vec<String> = Vec::new();
        for d in declared {
            let item = format!("{} {}", d.pool, d.block.net());
            if !listed.contains(&item) {
                listed.push(item);
            }
        }
        let why = format!(
            "spec.loadBalancer.pools declares the cluster's IPv6 pool addresses ({})",
            listed.join(", ")
        );
        warn(
            why.clone(),
            "leave the IPv6 addresses out of spec.loadBalancer.pools to have kube6 carve them, or leave \
             loadBalancerPools out",
        );
        return Decision {
            count: 0,
            notes: vec![format!(
                "no load-balancer pool is carved: {why}; they are kept as they are, and the other ranges are carved around \
                 those inside the prefix"
            )],
        };
    }
    let count = asked.unwrap_or(1);
    let notes = if count == 0 {
        vec![format!(
            "no load-balancer pool is carved (loadBalancerPools.count: 0): {} has no IPv6 pool, so IPv6 LoadBalancer \
             Services get no address",
            implementation.display_name()
        )]
    } else {
        vec![format!(
            "{count} load-balancer pool(s) carved for {}{from}{}; they are the cluster's pools (spec.loadBalancer.pools), \
             rendered, checked and verified like declared ones",
            implementation.display_name(),
            if asked.is_none() {
                " (one unless loadBalancerPools.count says otherwise)"
            } else {
                ""
            }
        )]
    };
    Decision { count, notes }
}

/// Puts carved pool blocks into the network's pools: each joins the first declared pool of
/// its mode that has no IPv6 address yet, or else makes a pool of its own (named by position).
pub(crate) fn install(net: &mut ClusterNetwork, carved: &[(Block, LbMode)], origin: &Origin) {
    let pools = &mut net.load_balancer.pools;
    for (block, mode) in carved {
        let address = Located::new(AddressBlock::new(block.net().to_string()), origin.clone());
        let joinable = pools.iter_mut().find(|p| {
            p.mode() == *mode
                && !p.origin.is_derived()
                && !p.families().contains(&Family::IPv6)
                && p.addresses.iter().all(|a| a.value.block().is_some())
        });
        match joinable {
            Some(pool) => pool.addresses.push(address),
            None => pools.push(LbPool {
                name: None,
                addresses: vec![address],
                mode: Some(Located::new(*mode, origin.clone())),
                origin: origin.clone(),
            }),
        }
    }
}

/// The pool (its display name) that holds the carved `block`, after `install`.
pub(crate) fn pool_of(net: &ClusterNetwork, block: &Block) -> Option<String> {
    let text = block.net().to_string();
    net.load_balancer
        .pools
        .iter()
        .enumerate()
        .find(|(_, p)| p.addresses.iter().any(|a| a.value.text == text))
        .map(|(i, p)| p.display_name(i))
}
