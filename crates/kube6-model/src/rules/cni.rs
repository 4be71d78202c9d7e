//! CNI rules: Calico pools and modes, Flannel network sizes, Cilium cluster-pool masks and
//! IPv6 switch, kube-router's router id.

use kube6_net::{Family, contains_net};

use super::catalog as r;
use super::{Out, ranges};
use crate::diagnostic::Diagnostic;
use crate::model::{CalicoPool, CidrValue, ClusterNetwork, Cni, Distribution, Format};
use crate::source::{Located, Origin};
use crate::{defaults, facts, k0s};

pub fn check(net: &ClusterNetwork, out: &mut Out) {
    match net.cni.value {
        Cni::Calico => {
            calico_pools(net, out);
            calico_ipv6_vxlan(net, out);
        }
        Cni::Canal => {
            calico_pools(net, out);
            flannel(net, out);
        }
        Cni::Flannel => flannel(net, out),
        Cni::Cilium => cilium(net, out),
        Cni::KubeRouter => kube_router(net, out),
        Cni::Custom => {}
    }
}

fn is_off(mode: &Option<Located<String>>) -> bool {
    mode.as_ref()
        .is_none_or(|m| m.value.eq_ignore_ascii_case("never") || m.value.is_empty())
}

/// Calico's CRD enumerations and CEL rules on one pool (projectcalico.org_ippools.yaml).
fn calico_pool_enums(pool: &CalicoPool, out: &mut Out) {
    for mode in [&pool.ipip_mode, &pool.vxlan_mode].into_iter().flatten() {
        if !mode.value.is_empty()
            && !facts::calico::ENCAPSULATION_MODES.contains(&mode.value.as_str())
        {
            out.push(Diagnostic::new(
                &r::CALICO_POOL_ENUM,
                &mode.origin,
                format!(
                    "Calico refuses {} {:?}: it accepts Never, Always or CrossSubnet, spelled exactly so",
                    mode.origin.path().rsplit('.').next().unwrap_or("the mode"),
                    mode.value
                ),
                "write Never, Always or CrossSubnet",
            ));
        }
    }
    for used in &pool.allowed_uses {
        if !facts::calico::ALLOWED_USES.contains(&used.value.as_str()) {
            out.push(Diagnostic::new(
                &r::CALICO_POOL_ENUM,
                &used.origin,
                format!("Calico refuses allowedUses entry {:?}: it accepts Workload, Tunnel or LoadBalancer", used.value),
                "write Workload, Tunnel or LoadBalancer",
            ));
        }
    }
    let Some(load_balancer) = pool.allowed_uses.iter().find(|u| u.value == "LoadBalancer") else {
        return;
    };
    if pool
        .allowed_uses
        .iter()
        .any(|u| u.value == "Workload" || u.value == "Tunnel")
    {
        out.push(Diagnostic::new(
            &r::CALICO_POOL_ENUM,
            &load_balancer.origin,
            "Calico refuses a pool for both LoadBalancer and Workload or Tunnel addresses (\"LoadBalancer cannot be combined with Workload or Tunnel allowed uses\")",
            "use one pool for Service load-balancer addresses and another for pods",
        ));
    }
    if !is_off(&pool.ipip_mode) || !is_off(&pool.vxlan_mode) {
        out.push(Diagnostic::new(
            &r::CALICO_POOL_ENUM,
            &load_balancer.origin,
            "Calico refuses IP-in-IP or VXLAN on a LoadBalancer pool (\"LoadBalancer IP pool cannot have IPIP or VXLAN enabled\")",
            "set ipipMode and vxlanMode to Never on the LoadBalancer pool",
        ));
    }
}

/// Calico refuses to create a pool that overlaps an existing one (`validateAndSetDefaults`).
fn calico_pools_overlap(net: &ClusterNetwork, out: &mut Out) {
    let pools: Vec<(&CalicoPool, ipnet::IpNet)> = net
        .calico
        .pools
        .iter()
        .filter_map(|p| p.cidr.value.net().map(|n| (p, n)))
        .collect();
    for (i, (pool, cidr)) in pools.iter().enumerate() {
        if let Some((_, earlier)) = pools[..i]
            .iter()
            .find(|(_, other)| kube6_net::overlaps(other, cidr))
        {
            out.push(Diagnostic::new(
                &r::CALICO_POOLS_OVERLAP,
                &pool.cidr.origin,
                format!("Calico pool {cidr} overlaps the pool {earlier}; Calico refuses to create it (\"CIDR overlaps with IPPool\")"),
                "give every IPPool its own, non-overlapping range",
            ));
        }
    }
}

fn calico_pools(net: &ClusterNetwork, out: &mut Out) {
    calico_pools_overlap(net, out);
    for pool in &net.calico.pools {
        calico_pool_enums(pool, out);
        let Some(parsed) = pool.cidr.value.parsed.as_ref().ok() else {
            continue;
        };
        let cidr = parsed.net;
        let family = Family::of_net(&cidr);
        if parsed.host_bits_set {
            out.push(Diagnostic::new(
                &r::CALICO_POOL_NOT_MASKED,
                &pool.cidr.origin,
                format!(
                    "Calico refuses the pool `{}`: its address has host bits set (\"IPPool CIDR is not strictly masked\")",
                    pool.cidr.value.text
                ),
                format!("write {cidr}"),
            ));
        }
        if let Ok(link_local) = kube6_net::parse_cidr(facts::calico::LINK_LOCAL.get(family))
            && kube6_net::overlaps(&link_local.net, &cidr)
        {
            out.push(Diagnostic::new(
                &r::CALICO_POOL_LINK_LOCAL,
                &pool.cidr.origin,
                format!(
                    "Calico refuses the pool {cidr}: it overlaps the {family} link-local range {} (\"IPPool CIDR overlaps with {family} Link Local range\")",
                    link_local.net
                ),
                "use a range outside 169.254.0.0/16 and fe80::/10",
            ));
        }
        let bounds = facts::calico::block_size_bounds(family);
        let (low, high) = (bounds.min, bounds.max);
        let default = facts::calico::DEFAULT_BLOCK_SIZE.get(family);
        let block = match &pool.block_size {
            Some(b) => match b.value.parsed {
                Some(v) => (v, b.origin.clone()),
                None => {
                    out.push(Diagnostic::new(
                        &r::CALICO_BLOCK_SIZE,
                        &b.origin,
                        format!("block size {:?} is not a number", b.value.text),
                        format!("use a block size between {low} and {high}"),
                    ));
                    continue;
                }
            },
            None => (
                default,
                Origin::default_by(
                    pool.cidr.origin.path().replace("cidr", "blockSize"),
                    "calico default",
                ),
            ),
        };
        if !(low..=high).contains(&block.0) {
            out.push(Diagnostic::new(
                &r::CALICO_BLOCK_SIZE,
                &block.1,
                format!("Calico refuses block size {} for {cidr} (\"{family} block size must be between {low} and {high}\")", block.0),
                format!("use a block size between {low} and {high} (default {default})"),
            ));
        } else if cidr.prefix_len() > block.0 && pool.disabled.as_ref().is_none_or(|d| !d.value) {
            // Calico checks the pool size only for enabled pools.
            out.push(Diagnostic::new(
                &r::CALICO_POOL_SMALLER_THAN_BLOCK,
                &pool.cidr.origin,
                format!("pool {cidr} is smaller than its /{} blocks (\"IP pool size is too small for use with Calico IPAM\")", block.0),
                format!("use a pool of /{} or larger, or a block size of at least {}", block.0, cidr.prefix_len()),
            ));
        }
        if family == Family::IPv6 && !is_off(&pool.ipip_mode) {
            let origin = pool
                .ipip_mode
                .as_ref()
                .map_or_else(|| pool.cidr.origin.clone(), |m| m.origin.clone());
            out.push(Diagnostic::new(
                &r::CALICO_IPIP_IPV6,
                &origin,
                format!("Calico refuses IP-in-IP on the IPv6 pool {cidr} (\"IPIP is not supported on an IPv6 IP pool\")"),
                "set ipipMode: Never on IPv6 pools; use BGP (no encapsulation) or VXLAN",
            ));
        }
        if !is_off(&pool.ipip_mode) && !is_off(&pool.vxlan_mode) {
            let origin = pool
                .vxlan_mode
                .as_ref()
                .map_or_else(|| pool.cidr.origin.clone(), |m| m.origin.clone());
            out.push(Diagnostic::new(
                &r::CALICO_VXLAN_AND_IPIP,
                &origin,
                format!("pool {cidr} enables both VXLAN and IP-in-IP (\"Cannot enable both VXLAN and IPIP on the same IPPool\")"),
                "set one of ipipMode and vxlanMode to Never",
            ));
        }
        // A disabled or LoadBalancer-only pool gives pods no addresses.
        if !pool.serves_pods() {
            continue;
        }
        if let Some((_, pod)) = ranges(&net.pods)
            .into_iter()
            .find(|(_, p)| Family::of_net(p) == family)
            && !contains_net(&pod, &cidr)
        {
            out.push(Diagnostic::new(
                &r::CALICO_POOL_OUTSIDE,
                &pool.cidr.origin,
                format!("Calico pool {cidr} is not inside the {family} pod range {pod}: pods get addresses the rest of the plan does not expect"),
                format!("make the pool {pod} (or a range inside it)"),
            ));
        }
        let mask = defaults::node_mask(net, family);
        if let Some(mask) = mask
            && super::allocates_node_cidrs(net)
            && mask.value != block.0
            && (low..=high).contains(&block.0)
        {
            out.push(Diagnostic::new(
                &r::CALICO_BLOCK_VS_NODE_MASK,
                &block.1,
                format!(
                    "Calico IPAM hands out /{} blocks from {cidr}; the /{} node pod CIDRs of kube-controller-manager are not used by it",
                    block.0, mask.value
                ),
                "nothing to do with calico-ipam; with host-local IPAM the node pod CIDRs apply instead",
            ));
        }
    }
}

fn calico_ipv6_vxlan(net: &ClusterNetwork, out: &mut Out) {
    let Some(version) = &net.cni_version else {
        return;
    };
    if facts::calico::has_ipv6_vxlan(net.cni_release().as_ref())
        || !net.families().contains(&Family::IPv6)
    {
        return;
    }
    let pool_vxlan = net
        .calico
        .pools
        .iter()
        .filter(|p| p.cidr.value.family() == Some(Family::IPv6))
        .find_map(|p| {
            p.vxlan_mode
                .as_ref()
                .filter(|m| !m.value.eq_ignore_ascii_case("never"))
        });
    let mode_vxlan = net.calico.mode.as_ref().filter(|m| m.value == "vxlan");
    if let Some(origin) = pool_vxlan.or(mode_vxlan).map(|m| m.origin.clone()) {
        out.push(Diagnostic::new(
            &r::CALICO_IPV6_VXLAN_VERSION,
            &origin,
            format!(
                "Calico {} cannot carry IPv6 over VXLAN (added in {})",
                version.value,
                facts::calico::IPV6_VXLAN_SINCE
            ),
            format!(
                "use BGP for IPv6 (k0s: calico.mode: bird; IPPool: vxlanMode: Never), or Calico {} or later",
                facts::calico::IPV6_VXLAN_SINCE
            ),
        ));
    }
}

fn flannel(net: &ClusterNetwork, out: &mut Out) {
    for (value, cidr) in ranges(&net.pods) {
        let limit = facts::flannel::MAX_NETWORK_PREFIX.get(Family::of_net(&cidr));
        let min_text = format!("/{limit}");
        if cidr.prefix_len() > limit {
            out.push(Diagnostic::new(
                &r::FLANNEL_NETWORK_TOO_SMALL,
                &value.origin,
                format!("Flannel refuses the network {cidr} (\"Minimum useful network prefix is {min_text}\")"),
                format!("use a pod range of {min_text} or larger"),
            ));
        }
    }
}

fn cilium(net: &ClusterNetwork, out: &mut Out) {
    let c = &net.cilium;
    // Cilium's chart defaults to cluster-pool IPAM; RKE2's packaged chart and kube6's rendering
    // use kubernetes IPAM.
    let cluster_pool = net.cilium_ipam_mode() == "cluster-pool";
    let families = net.families();
    if families.contains(&Family::IPv6)
        && let Some(enabled) = &c.ipv6_enabled
        && !enabled.value
    {
        out.push(Diagnostic::new(
            &r::CILIUM_IPV6_DISABLED,
            &enabled.origin,
            "the cluster has IPv6 pod ranges but Cilium's ipv6.enabled is false: pods get no IPv6 address",
            "set ipv6.enabled: true in the Cilium Helm values",
        ));
    }
    if !cluster_pool {
        return;
    }
    cilium_pool_lists(net, out);
    // KKP fills the pool lists and masks from the cluster's ranges itself.
    let kkp = net.distribution.value == Distribution::Kkp;
    for family in families {
        let (pools, mask) = match family {
            Family::IPv4 => (&c.ipv4_pools, &c.ipv4_mask),
            Family::IPv6 => (&c.ipv6_pools, &c.ipv6_mask),
        };
        let default_pool = facts::cilium::DEFAULT_CLUSTER_POOL.get(family);
        let default_mask = facts::cilium::DEFAULT_CLUSTER_POOL_MASK.get(family);
        let mask_value = mask
            .as_ref()
            .and_then(|m| m.value.parsed)
            .unwrap_or(default_mask);
        let default_pools;
        let pools: &[Located<CidrValue>] = if pools.is_empty() && !kkp {
            default_pools = vec![Located::new(
                CidrValue::new(default_pool),
                Origin::default_by("ipam.operator", "cilium default"),
            )];
            &default_pools
        } else {
            pools
        };
        for (value, pool) in ranges(pools) {
            let mask_origin = mask
                .as_ref()
                .map_or_else(|| value.origin.clone(), |m| m.origin.clone());
            let max_mask = facts::cilium::MAX_MASK.get(family);
            if Family::of_net(&pool) != family {
                // A pool in the other family's list: K6E317 reports it.
            } else if mask_value > max_mask {
                out.push(Diagnostic::new(
                    &r::CILIUM_MASK_TOO_FAR,
                    &mask_origin,
                    format!(
                        "Cilium refuses {family} mask /{mask_value} (\"SubNetMask is invalid, should be lower or equal to 32 for IPv4 and to 128 for IPv6\")"
                    ),
                    format!("use a clusterPool{}MaskSize of at most {max_mask}", family.as_str()),
                ));
            } else if family == Family::IPv6
                && mask_value.saturating_sub(pool.prefix_len())
                    > facts::cilium::CLUSTER_POOL_MAX_MASK_DIFF
            {
                out.push(Diagnostic::new(
                    &r::CILIUM_MASK_TOO_FAR,
                    &mask_origin,
                    format!("Cilium refuses IPv6 mask /{mask_value} for pool {pool} (\"the node CIDR size is too big\": at most 16 bits more)"),
                    format!(
                        "use clusterPoolIPv6MaskSize of at most {}",
                        (pool.prefix_len() + facts::cilium::CLUSTER_POOL_MAX_MASK_DIFF).min(128)
                    ),
                ));
            }
            if !kkp
                && !ranges(&net.pods)
                    .iter()
                    .any(|(_, p)| contains_net(p, &pool))
            {
                let pod = net
                    .pod_range(family)
                    .map(|p| p.value.text.clone())
                    .unwrap_or_default();
                out.push(Diagnostic::new(
                    &r::CILIUM_POOL_OUTSIDE,
                    &value.origin,
                    format!("Cilium's cluster-pool hands out pod addresses from {pool}, which is not the {family} pod range {pod}"),
                    format!(
                        "set ipam.operator.clusterPool{}PodCIDRList to [{pod}], or ipam.mode: kubernetes to use the node pod CIDRs",
                        if family == Family::IPv4 { "IPv4" } else { "IPv6" }
                    ),
                ));
            }
        }
    }
}

/// The operator's cluster-pool lists (`cidralloc.NewCIDRSets`): every CIDR of the family's list,
/// no two colliding, and each pool able to hold a node block (with a mask shorter than the pool,
/// cidrset has no block to hand out).
fn cilium_pool_lists(net: &ClusterNetwork, out: &mut Out) {
    let c = &net.cilium;
    for (family, pools, mask) in [
        (Family::IPv4, &c.ipv4_pools, &c.ipv4_mask),
        (Family::IPv6, &c.ipv6_pools, &c.ipv6_mask),
    ] {
        for value in pools.iter() {
            if let Err(err) = &value.value.parsed {
                out.push(Diagnostic::new(
                    &r::CILIUM_POOL_LIST,
                    &value.origin,
                    format!(
                        "Cilium's operator refuses `{}` in the {family} pool list: {err} (it splits the list on spaces, not commas)",
                        value.value.text
                    ),
                    format!("write each CIDR as its own item of clusterPool{}PodCIDRList (in the ConfigMap, separated by spaces)", family.as_str()),
                ));
            }
        }
        let list = ranges(pools);
        for (i, (value, pool)) in list.iter().enumerate() {
            if Family::of_net(pool) != family {
                out.push(Diagnostic::new(
                    &r::CILIUM_POOL_LIST,
                    &value.origin,
                    format!("Cilium refuses {pool} in the {family} pool list (\"CIDR is not {} family\")", if family == Family::IPv4 { "v4" } else { "v6" }),
                    format!("move it to the clusterPool{}PodCIDRList", family.other().as_str()),
                ));
                continue;
            }
            if let Some((_, earlier)) = list[..i]
                .iter()
                .find(|(_, other)| kube6_net::overlaps(other, pool))
            {
                out.push(Diagnostic::new(
                    &r::CILIUM_POOL_LIST,
                    &value.origin,
                    format!("Cilium refuses {pool}: it collides with {earlier} in the same pool list (\"requested CIDR collides with\")"),
                    "give every pool CIDR its own, non-overlapping range",
                ));
            }
            let mask_value = mask
                .as_ref()
                .and_then(|m| m.value.parsed)
                .unwrap_or(facts::cilium::DEFAULT_CLUSTER_POOL_MASK.get(family));
            if mask_value < pool.prefix_len() {
                let origin = mask.as_ref().map_or(&value.origin, |m| &m.origin);
                out.push(Diagnostic::new(
                    &r::CILIUM_POOL_LIST,
                    origin,
                    format!(
                        "the {family} node mask /{mask_value} is shorter than the pool {pool}: Cilium's operator has no node block to hand out, so no node gets pod addresses"
                    ),
                    format!("use a clusterPool{}MaskSize between {} and {}", family.as_str(), pool.prefix_len(), facts::cilium::MAX_MASK.get(family)),
                ));
            }
        }
    }
}

fn kube_router(net: &ClusterNetwork, out: &mut Out) {
    if net.families() != [Family::IPv6] {
        return;
    }
    let first = net
        .pods
        .first()
        .map_or_else(|| net.cni.origin.clone(), |p| p.origin.clone());
    if net.kube_router.router_id.is_none() {
        // k0s passes router-id=generate when its primary family is IPv6; with no API address
        // that depends on the host (K6W044 says so), so only a certain IPv4 primary is an error.
        let k0s_generates = net.distribution.value == Distribution::K0s
            && (net.format != Format::K0s || {
                let (family, source) = k0s::primary_family(net);
                family == Family::IPv6 || source == k0s::PrimarySource::Unset
            });
        if !k0s_generates {
            out.push(Diagnostic::new(
                &r::KUBE_ROUTER_ROUTER_ID,
                &first,
                "kube-router needs --router-id on an IPv6-only cluster (there is no IPv4 address to take it from)",
                if net.distribution.value == Distribution::K0s {
                    "set spec.network.primaryAddressFamily: IPv6 so that k0s passes --router-id=generate"
                } else {
                    "pass --router-id=generate to kube-router"
                },
            ));
        }
    }
    out.push(Diagnostic::new(
        &r::KUBE_ROUTER_CONFORMANCE,
        &Origin::derived(net.cni.origin.path(), "CNI and families"),
        "kube-router on IPv6 single-stack does not pass the Kubernetes network conformance tests (k0s documentation)",
        "test your workloads' networking before production, or choose Calico or Cilium",
    ));
}
