//! CNI rules: Calico pools and modes, Flannel network sizes, Cilium cluster-pool masks and
//! IPv6 switch, kube-router's router id.

use kube6_net::{Family, contains_net};

use super::catalog as r;
use super::{Out, ranges};
use crate::diagnostic::Diagnostic;
use crate::model::{CidrValue, ClusterNetwork, Cni, Distribution, Format};
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

fn calico_pools(net: &ClusterNetwork, out: &mut Out) {
    for pool in &net.calico.pools {
        let Some(cidr) = pool.cidr.value.net() else {
            continue;
        };
        let family = Family::of_net(&cidr);
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
        } else if cidr.prefix_len() > block.0 {
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
            if family == Family::IPv6
                && (mask_value > 128
                    || mask_value.saturating_sub(pool.prefix_len())
                        > facts::cilium::CLUSTER_POOL_MAX_MASK_DIFF)
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
