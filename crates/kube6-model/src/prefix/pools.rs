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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use ipnet::IpNet;

    use crate::diagnostic::Severity;
    use crate::load_balancer::LbImplementation;
    use crate::plan::Plan;
    use crate::prefix::RangeRole;

    /// A declared pool, relative to the prefix.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Declared {
        Nothing,
        /// In the slot the carving would otherwise give its first range of the node link.
        Inside,
        /// A ULA pool outside every prefix of the table.
        Outside,
    }

    const PREFIXES: [&str; 3] = ["2001:db8:1::/48", "2001:db8:1::/56", "2001:db8:1::/64"];
    const INSIDE: &str = "2001:db8:1:0:1::/112";
    const OUTSIDE: &str = "fd00:5::/120";

    fn spec(prefix: &str, implementation: LbImplementation, declared: Declared) -> String {
        let (dist, cni) = match implementation {
            LbImplementation::Servicelb => ("k3s", "flannel"),
            LbImplementation::Cilium => ("kubeadm", "{name: cilium, version: v1.19.4}"),
            _ => ("kubeadm", "calico"),
        };
        let pools = match declared {
            Declared::Nothing => String::new(),
            Declared::Inside => format!(", pools: [{{name: web, addresses: [\"{INSIDE}\"]}}]"),
            Declared::Outside => format!(", pools: [{{name: web, addresses: [\"{OUTSIDE}\"]}}]"),
        };
        format!(
            "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: {dist}\n  cni: {cni}\n  \
             prefix: {{cidr: \"{prefix}\", loadBalancerPools: {{count: 1}}}}\n  \
             nodes: [{{name: cp1, addresses: [\"2001:db8:1::10\"]}}]\n  \
             upstream: {{IPv6: {{mode: ndp-proxy, uplink: eth0}}}}\n  \
             loadBalancer: {{implementation: {implementation}{pools}}}\n"
        )
    }

    fn plan(text: &str) -> Plan {
        crate::analyze("t.yaml", text, &crate::import::ImportOptions::default())
            .unwrap()
            .plan
    }

    fn has(plan: &Plan, id: &str) -> bool {
        plan.diagnostics.iter().any(|d| d.id == id)
    }

    #[test]
    fn pools_per_prefix_implementation_and_declared_pool() {
        for prefix in PREFIXES {
            let whole: IpNet = prefix.parse().unwrap();
            for implementation in LbImplementation::ALL.iter().copied() {
                for declared in [Declared::Nothing, Declared::Inside, Declared::Outside] {
                    let case = format!("{prefix}, {implementation}, declared {declared:?}");
                    let plan = plan(&spec(prefix, implementation, declared));
                    let carving = plan
                        .prefix
                        .as_ref()
                        .unwrap_or_else(|| panic!("{case}: no carving"));
                    let carved: Vec<IpNet> = carving
                        .ranges_of(RangeRole::LoadBalancerPool)
                        .filter(|r| !r.fixed)
                        .map(|r| r.cidr)
                        .collect();
                    let kept: Vec<IpNet> = carving
                        .ranges_of(RangeRole::LoadBalancerPool)
                        .filter(|r| r.fixed)
                        .map(|r| r.cidr)
                        .collect();
                    let lb_blocks: Vec<(String, bool)> = plan
                        .load_balancer
                        .pools
                        .iter()
                        .flat_map(|p| &p.blocks)
                        .map(|b| (b.addresses.clone(), b.carved.is_some()))
                        .collect();
                    // What the carving made is the cluster's pools, and nothing else is.
                    let carved_in_model: Vec<String> = lb_blocks
                        .iter()
                        .filter(|(_, c)| *c)
                        .map(|(a, _)| a.clone())
                        .collect();
                    let carved_text: Vec<String> = carved.iter().map(|c| c.to_string()).collect();
                    assert_eq!(carved_in_model, carved_text, "{case}");

                    let takes_pools = implementation.uses_pools();
                    let expect_carved = takes_pools && declared == Declared::Nothing;
                    assert_eq!(
                        carved.len(),
                        usize::from(expect_carved),
                        "{case}: {carved:?}"
                    );
                    // K6W709 exactly when the count asked is not carved.
                    assert_eq!(has(&plan, "K6W709"), !expect_carved, "{case}");
                    for pool in &carved {
                        assert!(whole.contains(pool), "{case}: {pool} outside the prefix");
                        for range in carving.ranges.iter().filter(|r| {
                            !matches!(r.role, RangeRole::NodeSubnet | RangeRole::Hosts)
                                && r.cidr != *pool
                        }) {
                            assert!(
                                !range.cidr.contains(pool) && !pool.contains(&range.cidr),
                                "{case}: {pool} overlaps {} {}",
                                range.role.as_str(),
                                range.cidr
                            );
                        }
                    }
                    // A declared pool is kept as it is; inside the prefix, the carving goes
                    // around it.
                    match declared {
                        Declared::Nothing => assert!(kept.is_empty(), "{case}"),
                        Declared::Inside => {
                            assert_eq!(kept, [INSIDE.parse::<IpNet>().unwrap()], "{case}");
                            assert_eq!(lb_blocks, [(INSIDE.to_string(), false)], "{case}");
                            for range in carving.ranges.iter().filter(|r| {
                                !r.fixed
                                    && !matches!(r.role, RangeRole::NodeSubnet | RangeRole::Hosts)
                            }) {
                                let inside: IpNet = INSIDE.parse().unwrap();
                                assert!(
                                    !range.cidr.contains(&inside) && !inside.contains(&range.cidr),
                                    "{case}: carved {} {} over the declared pool",
                                    range.role.as_str(),
                                    range.cidr
                                );
                            }
                        }
                        Declared::Outside => {
                            assert!(kept.is_empty(), "{case}");
                            assert_eq!(lb_blocks, [(OUTSIDE.to_string(), false)], "{case}");
                            assert!(has(&plan, "K6I707"), "{case}");
                        }
                    }
                    // No overlap is ever reported for what the carving placed.
                    let overlaps: Vec<&str> = plan
                        .diagnostics
                        .iter()
                        .filter(|d| d.id == "K6E401")
                        .map(|d| d.message.as_str())
                        .collect();
                    assert!(overlaps.is_empty(), "{case}: {overlaps:?}");
                    // The plan says why there is no carved pool.
                    if !expect_carved {
                        assert!(
                            carving
                                .notes
                                .iter()
                                .any(|n| n.starts_with("no load-balancer pool is carved")),
                            "{case}: {:?}",
                            carving.notes
                        );
                    }
                    let errors: Vec<String> = plan
                        .diagnostics
                        .iter()
                        .filter(|d| d.severity == Severity::Error)
                        .map(|d| format!("{} {}", d.id, d.message))
                        .collect();
                    assert!(errors.is_empty(), "{case}: {errors:?}");
                }
            }
        }
    }

    #[test]
    fn one_pool_is_carved_unless_the_count_says_otherwise() {
        let text = |lb: &str, count: &str| {
            format!(
                "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: k3s\n  \
                 prefix: {{cidr: \"2001:db8:1::/56\"{count}}}\n  loadBalancer: {{implementation: {lb}}}\n"
            )
        };
        let metallb = plan(&text("metallb", ""));
        assert_eq!(metallb.load_balancer.pools.len(), 1);
        assert!(!has(&metallb, "K6W709"));
        let none = plan(&text("metallb", ", loadBalancerPools: {count: 0}"));
        assert!(none.load_balancer.pools.is_empty());
        // k3s's ServiceLB: no pool, and no warning when none was asked.
        let servicelb = plan(&text("servicelb", ""));
        assert!(servicelb.load_balancer.pools.is_empty());
        assert!(!has(&servicelb, "K6W709"));
        assert!(
            servicelb
                .prefix
                .as_ref()
                .unwrap()
                .notes
                .iter()
                .any(|n| n.contains("addresses of the nodes")),
            "{:?}",
            servicelb.prefix
        );
    }

    /// A declared IPv4-only pool takes the carved IPv6 block, so that MetalLB gives a
    /// dual-stack Service both its addresses from one pool.
    #[test]
    fn a_declared_ipv4_pool_takes_the_carved_ipv6_block() {
        let plan = plan(
            "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: kubeadm\n  cni: calico\n  \
             prefix: \"2001:db8:1::/56\"\n  pods: [10.244.0.0/16]\n  services: [10.96.0.0/16]\n  \
             nodes: [{name: cp1, addresses: [192.0.2.10, \"2001:db8:1::10\"]}]\n  \
             loadBalancer: {implementation: metallb, pools: [{name: public, addresses: [192.0.2.64/28]}]}\n",
        );
        let pools = &plan.load_balancer.pools;
        assert_eq!(pools.len(), 1, "{pools:?}");
        assert_eq!(pools[0].name, "public");
        assert_eq!(pools[0].families.len(), 2);
        assert!(pools[0].blocks[1].carved.is_some());
        assert!(!has(&plan, "K6W405"), "{:?}", plan.diagnostics);
    }
}
