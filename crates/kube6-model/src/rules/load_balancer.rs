//! LoadBalancer Services and ingress: the pools against the cluster's ranges and families, what
//! each implementation does with them (MetalLB's allocator and BGP modes, Cilium's L2
//! announcements per release, ServiceLB's node addresses), the ingress charts' Service families,
//! and the KKP providers' cloud load balancers. The facts each rule encodes, with their upstream
//! sources, are in `facts::{metallb, cilium, servicelb, ingress, kkp}`.

use std::net::IpAddr;

use ipnet::IpNet;
use kube6_net::Family;

use super::catalog as r;
use super::{Out, ranges};
use crate::diagnostic::Diagnostic;
use crate::facts;
use crate::load_balancer::PoolNdpAnswer;
use crate::model::{
    ClusterNetwork, Cni, Distribution, IngressController, LbImplementation, LbMode, NdpProxyMode,
    UpstreamMode,
};
use crate::source::Origin;

pub fn check(net: &ClusterNetwork, out: &mut Out) {
    pool_syntax(net, out);
    pool_overlaps(net, out);
    pool_families(net, out);
    l2_announcements(net, out);
    ndp_proxy_mode(net, out);
    bgp_peers(net, out);
    cilium(net, out);
    cilium_kube_proxy(net, out);
    kube_vip(net, out);
    servicelb(net, out);
    ingress(net, out);
    kkp_provider(net, out);
}

fn implementation(net: &ClusterNetwork) -> LbImplementation {
    net.load_balancer.implementation.value
}

fn pool_syntax(net: &ClusterNetwork, out: &mut Out) {
    for (i, pool) in net.load_balancer.pools.iter().enumerate() {
        if let Some(name) = &pool.name
            && !super::is_dns_subdomain(&name.value)
        {
            out.push(Diagnostic::new(
                &r::LB_POOL_INVALID,
                &name.origin,
                format!(
                    "the pool name {:?} is not a DNS-1123 subdomain: it names the pool's object (IPAddressPool, CiliumLoadBalancerIPPool)",
                    name.value
                ),
                "use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
            ));
        }
        for address in &pool.addresses {
            match &address.value.parsed {
                Err(e) => out.push(Diagnostic::new(
                    &r::LB_POOL_INVALID,
                    &address.origin,
                    format!(
                        "pool {}: {:?} is not a CIDR or a range: {e}",
                        pool.display_name(i),
                        address.value.text
                    ),
                    "write a CIDR (2001:db8:5::/120) or FIRST-LAST (2001:db8:5::10-2001:db8:5::20)",
                )),
                Ok(block) if address.value.host_bits_set => out.push(Diagnostic::new(
                    &r::HOST_BITS_SET,
                    &address.origin,
                    format!(
                        "pool {}: {} has host bits set; the pool is {block}",
                        pool.display_name(i),
                        address.value.text
                    ),
                    format!("write {block}"),
                )),
                Ok(_) => {}
            }
        }
    }
    if !implementation(net).uses_pools()
        && implementation(net) != LbImplementation::Servicelb
        && let Some(pool) = net.load_balancer.pools.first()
    {
        out.push(Diagnostic::new(
            &r::LB_POOLS_UNUSED,
            &pool.origin,
            format!(
                "{} allocates from no pool: the pools are not used",
                implementation(net).display_name()
            ),
            "choose an implementation with pools (metallb, cilium, kube-vip), or remove the pools",
        ));
    }
}

fn pool_overlaps(net: &ClusterNetwork, out: &mut Out) {
    let lb = &net.load_balancer;
    let mut taken: Vec<(String, IpNet)> = Vec::new();
    for (_, cidr) in ranges(&net.pods) {
        taken.push((format!("the pod range {cidr}"), cidr));
    }
    for (_, cidr) in ranges(&net.services) {
        taken.push((format!("the service range {cidr}"), cidr));
    }
    let mut addresses: Vec<(String, IpAddr)> = Vec::new();
    for node in &net.nodes {
        for a in &node.addresses {
            if let Some(ip) = a.value.parsed {
                addresses.push((format!("node {}'s address {ip}", node.name.value), ip));
            }
        }
    }
    if let Some(ip) = net.api.address.as_ref().and_then(|a| a.value.parse().ok()) {
        addresses.push((format!("the API server address {ip}"), ip));
    }
    for vip in &net.api.endpoint_addresses {
        if let Some(ip) = vip.value.parsed {
            addresses.push((format!("the API endpoint address {ip}"), ip));
        }
    }
    let blocks: Vec<_> = lb.blocks().collect();
    for (n, (i, pool, address, block)) in blocks.iter().enumerate() {
        let name = pool.display_name(*i);
        let mut hits: Vec<String> = taken
            .iter()
            .filter(|(_, net)| block.overlaps_net(net))
            .map(|(what, _)| what.clone())
            .collect();
        hits.extend(
            addresses
                .iter()
                .filter(|(_, ip)| block.contains(ip))
                .map(|(what, _)| what.clone()),
        );
        // Each pair of blocks once, reported at the later one.
        hits.extend(
            blocks[..n]
                .iter()
                .filter(|(_, _, _, other)| block.overlaps(other))
                .map(|(j, other_pool, _, other)| {
                    format!("{other} of pool {}", other_pool.display_name(*j))
                }),
        );
        if !hits.is_empty() {
            out.push(Diagnostic::new(
                &r::LB_POOL_OVERLAP,
                &address.origin,
                format!("pool {name}: {block} overlaps {}", hits.join(", ")),
                "give the pool addresses nothing else uses: outside the pod and service ranges, the nodes' and the API's addresses and the other pools",
            ));
        }
    }
}

fn pool_families(net: &ClusterNetwork, out: &mut Out) {
    let lb = &net.load_balancer;
    let families = net.families();
    for (i, pool) in lb.pools.iter().enumerate() {
        for family in pool.families() {
            if !families.is_empty() && !families.contains(&family) {
                let origin = pool
                    .blocks()
                    .find(|(_, b)| b.family() == family)
                    .map_or_else(|| pool.origin.clone(), |(a, _)| a.origin.clone());
                out.push(Diagnostic::new(
                    &r::LB_POOL_FOREIGN_FAMILY,
                    &origin,
                    format!(
                        "pool {} holds {family} addresses, but the cluster has no {family}: no Service can ask for them",
                        pool.display_name(i)
                    ),
                    format!("remove the {family} addresses, or make the cluster dual-stack"),
                ));
            }
        }
    }
    if !implementation(net).uses_pools() {
        return;
    }
    let Some(&primary) = families.first() else {
        return;
    };
    let have = lb.pool_families();
    let origin = lb
        .pools
        .first()
        .map_or_else(|| lb.implementation.origin.clone(), |p| p.origin.clone());
    if !have.contains(&primary) {
        let what = if lb.pools.is_empty() {
            "declares no pool".to_string()
        } else {
            format!("has no pool with {primary} addresses")
        };
        out.push(Diagnostic::new(
            &r::LB_NO_PRIMARY_POOL,
            &origin,
            format!(
                "{} {what}: LoadBalancer Services, SingleStack in the primary family {primary} by default, stay pending",
                implementation(net).display_name()
            ),
            format!("add a pool with {primary} addresses (spec.loadBalancer.pools[].addresses)"),
        ));
    }
    if let [_, secondary] = families[..]
        && !have.contains(&secondary)
        && have.contains(&primary)
    {
        out.push(Diagnostic::new(
            &r::LB_NO_SECONDARY_POOL,
            &origin,
            format!(
                "no pool has {secondary} addresses: RequireDualStack LoadBalancer Services stay pending, PreferDualStack ones get only {primary}"
            ),
            format!("add {secondary} addresses to a pool"),
        ));
    }
    if implementation(net) == LbImplementation::Metallb
        && families.len() == 2
        && families.iter().all(|f| have.contains(f))
        && !lb.pools.iter().any(|p| p.families().len() == 2)
    {
        out.push(Diagnostic::new(
            &r::METALLB_SPLIT_POOLS,
            &origin,
            "MetalLB takes both addresses of a dual-stack Service from one pool, and every pool here holds one family: \
             RequireDualStack Services stay pending, PreferDualStack ones get one family",
            "put the IPv4 and the IPv6 addresses into one pool (one pool per address pair you want to hand out)",
        ));
    }
}

/// The /64s of the nodes' IPv6 addresses: where the upstream router sends neighbor
/// solicitations (the same assumption as the pod-range check of the NDP proxy).
fn node_links(net: &ClusterNetwork) -> Vec<IpNet> {
    let mut links: Vec<IpNet> = net
        .nodes
        .iter()
        .flat_map(|n| &n.addresses)
        .filter_map(|a| match a.value.parsed {
            Some(IpAddr::V6(v6)) => IpNet::new(v6.into(), 64).ok().map(|n| n.trunc()),
            _ => None,
        })
        .collect();
    links.sort();
    links.dedup();
    links
}

fn l2_announcements(net: &ClusterNetwork, out: &mut Out) {
    let lb = &net.load_balancer;
    if !implementation(net).uses_pools() {
        return;
    }
    let links = node_links(net);
    let routed = net
        .upstream_for(Family::IPv6)
        .is_some_and(|u| matches!(u.mode.value, UpstreamMode::Routed | UpstreamMode::Bgp));
    let cilium_version = net.cni_release();
    for (i, pool) in lb.pools.iter().enumerate() {
        if pool.mode() != LbMode::L2 {
            continue;
        }
        let v6: Vec<_> = pool
            .blocks()
            .filter(|(_, b)| b.family() == Family::IPv6)
            .collect();
        let Some((first, _)) = v6.first() else {
            continue;
        };
        if !links.is_empty() && !routed {
            for (address, block) in &v6 {
                if !links.iter().any(|l| block.inside(l)) {
                    out.push(Diagnostic::new(
                        &r::LB_L2_OFF_LINK,
                        &address.origin,
                        format!(
                            "pool {}: {block} is not inside the nodes' on-link prefix ({}): the upstream router solicits only on-link addresses, so it never asks for these",
                            pool.display_name(i),
                            links.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                        ),
                        "take the L2 pool from the nodes' /64, or have the upstream route the pool to the nodes (mode: bgp, or a static route)",
                    ));
                }
            }
        }
        if implementation(net) == LbImplementation::Cilium {
            // kube6's NDP proxy answers only where Cilium does not answer NDP itself (before
            // 1.19): from 1.19.0 to 1.19.5 Cilium answers, so the missing group joins matter
            // with an ndp-proxy upstream too.
            let proxied = matches!(
                crate::load_balancer::pool_ndp_answer(net, pool),
                Some(PoolNdpAnswer::NdpProxyStatic | PoolNdpAnswer::NdpProxyWatch)
            );
            if !facts::cilium::l2_answers_ndp(cilium_version.as_ref()) && !proxied {
                out.push(Diagnostic::new(
                    &r::CILIUM_L2_NO_NDP,
                    &first.origin,
                    format!(
                        "pool {}: Cilium {} announces L2 addresses with ARP only (NDP from {}): nothing answers the router's neighbor solicitations for these IPv6 addresses",
                        pool.display_name(i),
                        cilium_version.as_ref().map_or("", |v| v.as_str()),
                        facts::cilium::L2_NDP_SINCE
                    ),
                    format!(
                        "use Cilium {} or later, announce the pool over BGP (mode: bgp), or let kube6's NDP proxy answer for it (spec.upstream.IPv6.mode: ndp-proxy)",
                        facts::cilium::L2_NDP_MLD_SINCE
                    ),
                ));
            } else if !proxied
                && !facts::cilium::l2_joins_solicited_node_groups(cilium_version.as_ref())
            {
                out.push(Diagnostic::new(
                    &r::CILIUM_L2_MLD,
                    &first.origin,
                    format!(
                        "pool {}: Cilium {} does not join the solicited-node multicast groups of the IPv6 addresses it announces: behind a switch or bridge with MLD snooping the router's solicitations never arrive",
                        pool.display_name(i),
                        cilium_version
                            .as_ref()
                            .map_or_else(|| format!("{} (assumed)", facts::cilium::ASSUMED_RELEASE), |v| v.as_str().to_string())
                    ),
                    format!(
                        "use Cilium {} or later (spec.cni.version), or turn MLD snooping off on the nodes' link",
                        facts::cilium::L2_NDP_MLD_SINCE
                    ),
                ));
            }
        }
    }
}

/// `ndpProxy: watch` where kube6's NDP proxy answers for no pool: render writes no watch
/// DaemonSet, so say why instead of ignoring the setting.
fn ndp_proxy_mode(net: &ClusterNetwork, out: &mut Out) {
    let lb = &net.load_balancer;
    let Some(mode) = lb
        .ndp_proxy
        .as_ref()
        .filter(|m| m.value == NdpProxyMode::Watch)
    else {
        return;
    };
    if !crate::load_balancer::ndp_proxy_pool_prefixes(net).is_empty() {
        return;
    }
    let proxied = net
        .upstream_for(Family::IPv6)
        .is_some_and(|u| u.mode.value == UpstreamMode::NdpProxy);
    let why = if !proxied {
        "the IPv6 upstream is not ndp-proxy (spec.upstream.IPv6.mode), so kube6's NDP proxy answers for no load-balancer address".to_string()
    } else if let Some(how) = implementation(net).addresses_without_pools() {
        format!("{how}: there is no pool to answer for")
    } else if crate::load_balancer::implementation_answers_ndp(net) {
        format!(
            "{} answers neighbor solicitations for its pools itself",
            implementation(net).display_name()
        )
    } else {
        "no pool holds IPv6 addresses in l2 mode (pools in bgp mode are announced to the peers, not solicited)".to_string()
    };
    out.push(Diagnostic::new(
        &r::LB_NDP_PROXY_WATCH_UNUSED,
        &mode.origin,
        format!("ndpProxy: watch has nothing to watch: {why}; no watch DaemonSet is rendered"),
        "remove ndpProxy, or give the NDP proxy pools to answer for (spec.upstream.IPv6.mode: ndp-proxy, IPv6 pools in l2 mode of an implementation that does not answer NDP: Cilium before 1.19)",
    ));
}

fn bgp_peers(net: &ClusterNetwork, out: &mut Out) {
    let lb = &net.load_balancer;
    if !implementation(net).uses_pools() {
        return;
    }
    let peers: Vec<IpAddr> = lb
        .bgp_peers
        .iter()
        .chain(net.upstream.iter().filter_map(|u| u.bgp.as_ref()))
        .filter_map(|p| p.peer_address.as_ref().and_then(|a| a.value.parsed))
        .collect();
    let metallb = implementation(net) == LbImplementation::Metallb;
    let own_family_only =
        metallb && facts::metallb::sessions_carry_own_family_only(lb.release().as_ref());
    let mut native_warned = false;
    for (i, pool) in lb.pools.iter().enumerate() {
        if pool.mode() != LbMode::Bgp {
            continue;
        }
        let origin = pool.mode.as_ref().map_or(&pool.origin, |m| &m.origin);
        for family in pool.families() {
            let of_family = peers.iter().any(|p| Family::of_addr(p) == family);
            if peers.is_empty() || (own_family_only && !of_family) {
                out.push(Diagnostic::new(
                    &r::LB_BGP_NO_PEER,
                    origin,
                    if peers.is_empty() {
                        format!("pool {} is announced over BGP, but no BGP peer is given", pool.display_name(i))
                    } else {
                        format!(
                            "pool {} has {family} addresses, but no BGP peer is of {family}: MetalLB carries each family over sessions of that family",
                            pool.display_name(i)
                        )
                    },
                    if peers.is_empty() {
                        format!(
                            "add a {family} peer (spec.loadBalancer.bgpPeers, or spec.upstream.{family}.bgp)"
                        )
                    } else {
                        format!(
                            "add a {family} peer (spec.loadBalancer.bgpPeers, or spec.upstream.{family}.bgp), or set dualStackAddressFamily: true on the BGPPeer that should carry {family}"
                        )
                    },
                ));
            }
            if metallb && family == Family::IPv6 && !native_warned {
                native_warned = true;
                out.push(Diagnostic::new(
                    &r::METALLB_NATIVE_BGP_IPV6,
                    origin,
                    format!(
                        "pool {}: MetalLB announces IPv6 over BGP only in its FRR or FRR-K8s mode; the native mode refuses the pool",
                        pool.display_name(i)
                    ),
                    "install MetalLB's FRR-K8s manifests (metallb-frr-k8s.yaml) or the Helm chart with frrk8s.enabled",
                ));
            }
        }
    }
}

fn cilium(net: &ClusterNetwork, out: &mut Out) {
    let lb = &net.load_balancer;
    if implementation(net) != LbImplementation::Cilium {
        return;
    }
    if net.cni.value != Cni::Cilium {
        out.push(Diagnostic::new(
            &r::CILIUM_LB_CNI,
            &lb.implementation.origin,
            format!(
                "Cilium LB-IPAM runs in Cilium, but the CNI is {}",
                net.cni.value
            ),
            "use MetalLB (implementation: metallb) with this CNI, or Cilium as the CNI",
        ));
        return;
    }
    let Some(version) = net.cni_release() else {
        return;
    };
    let needs = if lb.pools.iter().any(|p| p.mode() == LbMode::L2) {
        facts::cilium::L2_ANNOUNCEMENTS_SINCE
    } else {
        facts::cilium::LB_IPAM_SINCE
    };
    if version.is_before(needs) {
        let origin = net
            .cni_version
            .as_ref()
            .map_or(&net.cni.origin, |v| &v.origin);
        out.push(Diagnostic::new(
            &r::CILIUM_LB_VERSION,
            origin,
            format!(
                "Cilium {version} has no {}: it arrived in {needs}",
                if needs == facts::cilium::LB_IPAM_SINCE {
                    "LB-IPAM"
                } else {
                    "L2 announcements"
                }
            ),
            format!("use Cilium {needs} or later, or MetalLB"),
        ));
    }
}

/// Cilium's L2 announcements are asked for (LB-IPAM pools in l2 mode, or
/// `l2announcements.enabled` in Cilium's own values) where kube-proxy replacement is off
/// (facts::cilium::L2_NEEDS_KUBE_PROXY_REPLACEMENT): Cilium's values say so, or KKP runs
/// kube-proxy (a `proxyMode` other than ebpf, which is how KKP switches Cilium's replacement on).
fn cilium_kube_proxy(net: &ClusterNetwork, out: &mut Out) {
    if net.cni.value != Cni::Cilium {
        return;
    }
    let lb = &net.load_balancer;
    let l2_pool = (implementation(net) == LbImplementation::Cilium)
        .then(|| lb.pools.iter().find(|p| p.mode() == LbMode::L2))
        .flatten();
    let asked = match (&net.cilium.l2_announcements, l2_pool) {
        (Some(l2), _) if l2.value => Some(l2.origin.clone()),
        (_, Some(pool)) => Some(pool.origin.clone()),
        _ => None,
    };
    let Some(asked) = asked else {
        return;
    };
    let off = net
        .cilium
        .kube_proxy_replacement
        .as_ref()
        .filter(|k| !facts::cilium::replaces_kube_proxy(&k.value))
        .map(|k| {
            (
                k.origin.clone(),
                format!("kubeProxyReplacement is {:?}", k.value),
            )
        })
        .or_else(|| {
            net.kube_proxy_mode
                .as_ref()
                .filter(|m| {
                    net.distribution.value == Distribution::Kkp
                        && m.value != facts::kkp::PROXY_MODE_EBPF
                })
                .map(|m| {
                    (
                        m.origin.clone(),
                        format!("KKP runs kube-proxy in {} mode", m.value),
                    )
                })
        });
    if let Some((origin, why)) = off {
        out.push(Diagnostic::new(
            &r::CILIUM_L2_KUBE_PROXY,
            &origin,
            format!(
                "Cilium's L2 announcements (asked at {}) need kube-proxy replacement, but {why}: the announcing node answers ARP/NDP for addresses only Cilium's own service load balancing takes traffic for",
                asked.path()
            ),
            if net.distribution.value == Distribution::Kkp {
                "set spec.clusterNetwork.proxyMode: ebpf (KKP then turns Cilium's kube-proxy replacement on), or announce the pools over BGP or with MetalLB".to_string()
            } else {
                "set kubeProxyReplacement: true (and k8sServiceHost/k8sServicePort) and run no kube-proxy, or announce the pools over BGP or with MetalLB".to_string()
            },
        ));
    }
}

/// kube-vip announces every Service of one instance the same way, and its cloud provider keeps
/// one address list per namespace (`cidr-<namespace>`/`range-<namespace>`, else `-global`): pools
/// of two modes cannot each be announced their own way (facts::kube_vip).
fn kube_vip(net: &ClusterNetwork, out: &mut Out) {
    let lb = &net.load_balancer;
    if implementation(net) != LbImplementation::KubeVip {
        return;
    }
    let Some(first) = lb.pools.first() else {
        return;
    };
    if let Some((i, other)) = lb
        .pools
        .iter()
        .enumerate()
        .find(|(_, p)| p.mode() != first.mode())
    {
        out.push(Diagnostic::new(
            &r::KUBE_VIP_MIXED_MODES,
            &other.origin,
            format!(
                "pool {} is in {} mode, pool {} in {} mode: kube-vip announces every Service one way ({} for {}, {} for {}) and its cloud provider hands out addresses from all pools alike",
                other.display_name(i),
                other.mode(),
                first.display_name(0),
                first.mode(),
                facts::kube_vip::ARP_ENABLE,
                LbMode::L2,
                facts::kube_vip::BGP_ENABLE,
                LbMode::Bgp
            ),
            "give the kube-vip pools one mode, or use MetalLB or Cilium LB-IPAM, which announce each pool its own way",
        ));
    }
}

fn servicelb(net: &ClusterNetwork, out: &mut Out) {
    let lb = &net.load_balancer;
    if implementation(net) != LbImplementation::Servicelb {
        return;
    }
    if !net.distribution.value.is_k3s_family() {
        out.push(Diagnostic::new(
            &r::SERVICELB_DISTRIBUTION,
            &lb.implementation.origin,
            format!("{} has no ServiceLB; it is part of k3s and RKE2", net.distribution.value),
            "choose metallb, cilium or kube-vip, or cloud where a cloud controller provides load balancers",
        ));
    }
    if let Some(pool) = lb.pools.first() {
        out.push(Diagnostic::new(
            &r::SERVICELB_POOLS,
            &pool.origin,
            "ServiceLB takes no pool: a Service's load-balancer addresses are the IPs of the nodes that run its svclb pods",
            "remove the pools, or use MetalLB (k3s: disable: [servicelb]) to hand out pool addresses",
        ));
    }
    let with_addresses: Vec<_> = net
        .nodes
        .iter()
        .filter(|n| !n.addresses.is_empty())
        .collect();
    if with_addresses.is_empty() {
        return;
    }
    for family in net.families() {
        if !with_addresses
            .iter()
            .flat_map(|n| &n.addresses)
            .any(|a| a.value.family() == Some(family))
        {
            out.push(Diagnostic::new(
                &r::SERVICELB_NODE_FAMILY,
                &with_addresses[0].addresses_origin(),
                format!(
                    "no node lists a {family} address: ServiceLB gives LoadBalancer Services the node IPs of their families, so {family} Services get none"
                ),
                format!("give the nodes their {family} addresses (node-ip), or use a pool-based implementation"),
            ));
        }
    }
}

fn ingress(net: &ClusterNetwork, out: &mut Out) {
    let lb = &net.load_balancer;
    let dist = net.distribution.value;
    let families = net.families();
    // RKE2's charts listen on host ports with their Service disabled or ClusterIP.
    if dist == Distribution::Rke2 || lb.ingress.value == IngressController::None {
        return;
    }
    if lb.ingress.value == IngressController::IngressNginx && families.contains(&Family::IPv6) {
        let why = if families == [Family::IPv6] {
            "the API server refuses it on this IPv6-only cluster (spec.ipFamilies[0]: Invalid value: \"IPv4\": not configured on this cluster)"
        } else {
            "it gets no IPv6 address"
        };
        out.push(Diagnostic::new(
            &r::INGRESS_NGINX_SINGLE_STACK,
            &lb.ingress.origin,
            format!(
                "the ingress-nginx chart's Service asks for {} {}: {why}",
                facts::ingress::INGRESS_NGINX_DEFAULT_POLICY,
                facts::ingress::INGRESS_NGINX_DEFAULT_FAMILIES.join(",")
            ),
            "install the chart with the values kube6 renders (ingress/ingress-nginx-values.yaml: controller.service.ipFamilyPolicy and ipFamilies)",
        ));
    }
    if lb.ingress.value == IngressController::Traefik
        && dist != Distribution::K3s
        && families.len() == 2
    {
        out.push(Diagnostic::new(
            &r::TRAEFIK_SINGLE_STACK,
            &lb.ingress.origin,
            format!(
                "the Traefik chart's Service is SingleStack {} unless its values ask otherwise",
                families[0]
            ),
            "install the chart with the values kube6 renders (ingress/traefik-values.yaml: ipFamilyPolicy PreferDualStack)",
        ));
    }
    if implementation(net) == LbImplementation::None {
        out.push(Diagnostic::new(
            &r::INGRESS_NO_LB,
            &lb.implementation.origin,
            format!(
                "{}'s Service is of type LoadBalancer, but nothing hands out load-balancer addresses: it stays pending",
                lb.ingress.value
            ),
            match dist {
                Distribution::K3s => "keep k3s's ServiceLB (remove servicelb from disable), or install MetalLB (spec.loadBalancer.implementation: metallb with pools)",
                _ => "install a load-balancer implementation (spec.loadBalancer.implementation: metallb with pools), or give the ingress Service type NodePort",
            },
        ));
    }
}

fn kkp_provider(net: &ClusterNetwork, out: &mut Out) {
    if net.distribution.value != Distribution::Kkp {
        return;
    }
    let Some(provider) = &net.specific.kkp_provider else {
        return;
    };
    let Some(support) = facts::kkp::provider_lb(&provider.value) else {
        return;
    };
    let has_v6 = net.families().contains(&Family::IPv6);
    let origin: &Origin = &provider.origin;
    let name = &provider.value;
    match support {
        facts::kkp::ProviderLb::Unsupported | facts::kkp::ProviderLb::NeedsAddon => {
            out.push(Diagnostic::new(
                &r::KKP_PROVIDER_NO_LB,
                origin,
                format!("KKP on {name} provides no load balancer: LoadBalancer Services stay pending"),
                if support == facts::kkp::ProviderLb::NeedsAddon {
                    "install MetalLB in the user cluster (kube6 renders its pools: spec.loadBalancer in kube6's format), or expose Services with NodePort"
                } else {
                    "expose Services with NodePort, or run MetalLB on the nodes' network"
                },
            ));
        }
        facts::kkp::ProviderLb::Ipv4Only if has_v6 => out.push(Diagnostic::new(
            &r::KKP_PROVIDER_IPV4_LB,
            origin,
            format!("the {name} cloud controller makes IPv4 load balancers only: LoadBalancer Services get no IPv6 address"),
            "expose Services over IPv6 with NodePort, or run MetalLB with IPv6 pools",
        )),
        facts::kkp::ProviderLb::NeedsAnnotation => out.push(Diagnostic::new(
            &r::KKP_HETZNER_LB_ANNOTATION,
            origin,
            "Hetzner load balancers need a network zone or location: a LoadBalancer Service without one stays pending",
            format!(
                "annotate every LoadBalancer Service with {} (e.g. eu-central) or {} (e.g. fsn1)",
                facts::kkp::HETZNER_LB_ANNOTATIONS[0],
                facts::kkp::HETZNER_LB_ANNOTATIONS[1]
            ),
        )),
        facts::kkp::ProviderLb::Ipv6Since(release)
            if has_v6 && net.kubernetes_release().is_some_and(|v| v.is_before(release)) =>
        {
            out.push(Diagnostic::new(
                &r::KKP_OPENSTACK_IPV6_LB,
                net.kubernetes_version.as_ref().map_or(origin, |v| &v.origin),
                format!("the OpenStack cloud controller of Kubernetes before {release} makes IPv4 load balancers only"),
                format!("use Kubernetes {release} or later, or NodePort for IPv6"),
            ));
        }
        _ => {}
    }
}
