//! kube6's own cross-checks, which no single component makes: overlaps, special-purpose ranges,
//! one primary family for nodes, capacity against declared nodes, and whether pods can reach the
//! outside over IPv6.

use ipnet::IpNet;
use kube6_net::{
    AddressCount, Family, SpecialRange, is_global_unicast_v6, is_ula, overlaps, special_overlaps,
};

use super::catalog as r;
use super::{Out, ranges};
use crate::defaults;
use crate::diagnostic::Diagnostic;
use crate::model::{ClusterNetwork, Cni, Distribution, UpstreamMode};
use crate::source::Origin;

pub fn check(net: &ClusterNetwork, out: &mut Out) {
    overlaps_between_ranges(net, out);
    addresses_inside_ranges(net, out);
    special_ranges(net, out);
    node_families(net, out);
    capacity(net, out);
    ipv6_reachability(net, out);
}

fn overlaps_between_ranges(net: &ClusterNetwork, out: &mut Out) {
    let pods = ranges(&net.pods);
    let services = ranges(&net.services);
    for (svc_value, svc) in &services {
        for (_, pod) in &pods {
            if !overlaps(pod, svc) {
                continue;
            }
            if let Some(mask) = takes_every_block(net, pod, svc) {
                out.push(Diagnostic::new(
                    &r::SERVICE_RANGE_TAKES_ALL_BLOCKS,
                    &svc_value.origin,
                    format!(
                        "service range {svc} covers every /{mask} node block of the pod range {pod}: kube-controller-manager \
                         marks them all used, so no node gets a pod CIDR"
                    ),
                    "choose a service range outside the pod range (e.g. the next free range of the same size)",
                ));
            } else {
                out.push(Diagnostic::new(
                    &r::RANGES_OVERLAP,
                    &svc_value.origin,
                    format!(
                        "service range {svc} overlaps pod range {pod}: kube-controller-manager accepts this and keeps the \
                         overlapping node blocks free, but a CNI with its own IPAM (Calico, Cilium cluster-pool) can give a \
                         pod an address that is also a ClusterIP"
                    ),
                    "choose a service range outside the pod range (e.g. the next free range of the same size)",
                ));
            }
        }
    }
}

/// The node mask, when kube-controller-manager allocates node blocks from `pod` and the service
/// range `svc` leaves none of them free (its range allocator occupies the service range first).
fn takes_every_block(net: &ClusterNetwork, pod: &IpNet, svc: &IpNet) -> Option<u8> {
    if !super::kubernetes::allocates_node_cidrs(net) {
        return None;
    }
    let mask = defaults::node_mask(net, Family::of_net(pod))?.value;
    let mut set = kube6_net::CidrSet::new(*pod, mask).ok()?;
    set.occupy(svc).ok()?;
    (set.free() == 0).then_some(mask)
}

fn addresses_inside_ranges(net: &ClusterNetwork, out: &mut Out) {
    let all: Vec<(&str, IpNet)> = ranges(&net.pods)
        .into_iter()
        .map(|(_, n)| ("pod", n))
        .chain(
            ranges(&net.services)
                .into_iter()
                .map(|(_, n)| ("service", n)),
        )
        .collect();
    let mut check = |ip: std::net::IpAddr, origin: &Origin, what: String| {
        if let Some((kind, range)) = all.iter().find(|(_, n)| n.contains(&ip)) {
            out.push(Diagnostic::new(
                &r::NODE_IN_RANGE,
                origin,
                format!(
                    "{what} {ip} lies inside the {kind} range {range}: every component accepts this, but once a {} gets \
                     that address, traffic to it is routed into the cluster",
                    if *kind == "pod" { "pod" } else { "ClusterIP" }
                ),
                format!("move the {kind} range away from the node network, or correct the address"),
            ));
        }
    };
    for node in &net.nodes {
        for addr in &node.addresses {
            if let Some(ip) = addr.value.parsed {
                check(
                    ip,
                    &addr.origin,
                    format!("node {} address", node.name.value),
                );
            }
        }
    }
    if let Some(api) = &net.api.address
        && let Ok(ip) = api.value.parse()
    {
        check(ip, &api.origin, "API server address".to_string());
    }
}

fn special_ranges(net: &ClusterNetwork, out: &mut Out) {
    for (value, cidr) in ranges(&net.pods).into_iter().chain(ranges(&net.services)) {
        for (special, special_net) in special_overlaps(&cidr) {
            // Errors only where Linux will not carry the traffic; kube-apiserver accepts even a
            // class E service range ("valid primary, class E range" in its validation tests).
            let rule = match special {
                SpecialRange::SharedAddressSpace => continue,
                SpecialRange::SiteLocal
                | SpecialRange::Documentation
                | SpecialRange::Reserved
                | SpecialRange::Nat64WellKnown
                | SpecialRange::Teredo
                | SpecialRange::Discard => &r::SPECIAL_RANGE_WARNING,
                _ => &r::SPECIAL_RANGE,
            };
            let why = match special {
                SpecialRange::Documentation => {
                    "reserved for documentation and examples; fine in a lab, never routed on the internet"
                }
                SpecialRange::SiteLocal => "deprecated by RFC 3879",
                SpecialRange::Reserved => {
                    "Kubernetes and Linux accept it, but many routers, firewalls and operating systems drop class E addresses"
                }
                SpecialRange::Nat64WellKnown => {
                    "Kubernetes and Linux accept it, but it collides with NAT64 translation on any network that uses it"
                }
                SpecialRange::Teredo | SpecialRange::Discard => {
                    "Kubernetes and Linux accept it, but networks outside the cluster treat it specially"
                }
                _ => "Kubernetes accepts it, but Linux does not route pod or service traffic there",
            };
            out.push(Diagnostic::new(
                rule,
                &value.origin,
                format!("{cidr} overlaps {special_net} ({}, {}): {why}", special.name(), special.rfc()),
                match special {
                    SpecialRange::Documentation => "use your own global prefix, or a ULA range (fd00::/8) you generate".to_string(),
                    _ => format!("choose a range outside {special_net}, e.g. a ULA range under fd00::/8 for IPv6 or 10.0.0.0/8 for IPv4"),
                },
            ));
        }
    }
}

fn node_families(net: &ClusterNetwork, out: &mut Out) {
    let families = net.families();
    let Some(&primary) = families.first() else {
        return;
    };
    for node in &net.nodes {
        let node_families: Vec<Family> = node
            .addresses
            .iter()
            .filter_map(|a| a.value.family())
            .collect();
        let Some(&first) = node_families.first() else {
            continue;
        };
        let origin = node.addresses_origin();
        if let Some(missing) = families.iter().find(|f| !node_families.contains(f)) {
            out.push(Diagnostic::new(
                &r::NODE_FAMILY_ORDER,
                &origin,
                format!("node {} has no {missing} address, but the cluster uses {missing}: its pods get no {missing} route out", node.name.value),
                format!("add the node's {missing} address (kube6 node-ip --family dual shows it)"),
            ));
        } else if first != primary {
            out.push(Diagnostic::new(
                &r::NODE_FAMILY_ORDER,
                &origin,
                format!(
                    "node {} lists {first} first, but the cluster's primary family is {primary}",
                    node.name.value
                ),
                format!(
                    "list the {primary} address first: the kubelet reports node IPs in that order"
                ),
            ));
        }
    }
}

fn capacity(net: &ClusterNetwork, out: &mut Out) {
    let declared = net.nodes.len() as u128;
    if declared == 0 {
        return;
    }
    for (value, cidr) in ranges(&net.pods) {
        let family = Family::of_net(&cidr);
        let Some(mask) = defaults::node_mask(net, family) else {
            continue;
        };
        if mask.value < cidr.prefix_len() || mask.value > family.bits() {
            continue;
        }
        let max = AddressCount::pow2(mask.value - cidr.prefix_len());
        if max.to_u128().is_some_and(|m| m < declared) {
            out.push(Diagnostic::new(
                &r::CAPACITY,
                &value.origin,
                format!("{cidr} with /{} node blocks fits {max} nodes, but the spec declares {declared}", mask.value),
                format!(
                    "use a longer node mask (each step doubles the nodes and halves the pods per node) or a larger pod range than /{}",
                    cidr.prefix_len()
                ),
            ));
        }
    }
}

/// Whether IPv6 traffic from pods leaves with the node's address (NAT66), either as declared or
/// as the CNI does by default.
fn ipv6_masqueraded(net: &ClusterNetwork) -> bool {
    if let Some(upstream) = net.upstream_for(Family::IPv6) {
        return upstream.mode.value == UpstreamMode::Masquerade;
    }
    match net.cni.value {
        Cni::Cilium => net.cilium.ipv6_masquerade.as_ref().is_none_or(|m| m.value),
        Cni::Flannel => net
            .flannel
            .ipv6_masquerade
            .as_ref()
            .or(net.flannel.ip_masq.as_ref())
            .is_some_and(|m| m.value),
        // k0s's Calico manifests set CALICO_IPV6POOL_NAT_OUTGOING=true; Calico's own default is false.
        Cni::Calico => {
            let pools_v6: Vec<_> = net
                .calico
                .pools
                .iter()
                .filter(|p| p.cidr.value.family() == Some(Family::IPv6) && p.serves_pods())
                .collect();
            if pools_v6.is_empty() {
                net.distribution.value == Distribution::K0s
            } else {
                pools_v6
                    .iter()
                    .all(|p| p.nat_outgoing.as_ref().is_some_and(|n| n.value))
            }
        }
        // kube-router SNATs pod egress to outside the cluster unless --enable-pod-egress=false.
        Cni::KubeRouter => net.kube_router.pod_egress.as_ref().is_none_or(|e| e.value),
        Cni::Canal | Cni::Custom => false,
    }
}

fn masquerade_hint(net: &ClusterNetwork) -> String {
    match (net.distribution.value, net.cni.value) {
        (Distribution::K3s | Distribution::Rke2, Cni::Flannel) => "set flannel-ipv6-masq: true".to_string(),
        (_, Cni::Calico | Cni::Canal) => "set natOutgoing: true on the IPv6 IPPool".to_string(),
        (_, Cni::Cilium) => "set enableIPv6Masquerade: true in the Cilium values".to_string(),
        _ if net.format == crate::model::Format::Kube6 => {
            "declare spec.upstream.IPv6.mode: masquerade (NAT66 to the node address), or use a global prefix routed to the nodes"
                .to_string()
        }
        _ => "configure the CNI to masquerade IPv6 pod traffic (NAT66 to the node address), or use a global prefix routed to the nodes"
            .to_string(),
    }
}

fn ipv6_reachability(net: &ClusterNetwork, out: &mut Out) {
    let Some((value, pod)) = ranges(&net.pods)
        .into_iter()
        .find(|(_, n)| Family::of_net(n) == Family::IPv6)
    else {
        return;
    };
    let masqueraded = ipv6_masqueraded(net);
    let upstream = net.upstream_for(Family::IPv6);
    if is_ula(&pod) && !masqueraded && net.nat64.is_none() {
        out.push(Diagnostic::new(
            &r::ULA_NO_EGRESS,
            &value.origin,
            format!("the pod range {pod} is ULA and nothing masquerades it: pods cannot reach the internet over IPv6"),
            masquerade_hint(net),
        ));
    }
    if is_global_unicast_v6(&pod) && !masqueraded {
        let declared = upstream.is_some_and(|u| u.mode.value != UpstreamMode::Masquerade);
        if !declared {
            out.push(Diagnostic::new(
                &r::GLOBAL_NOT_ROUTED,
                &value.origin,
                format!(
                    "the pod range {pod} is global, but nothing says how the upstream reaches it: providers that route a /64 \
                     as on-link send neighbor solicitations for each pod address, and nobody answers"
                ),
                "run `kube6 ndp-proxy` on each node (kube6: spec.upstream.IPv6.mode: ndp-proxy), announce the node blocks \
                 over BGP, or have the provider route the range to the nodes (mode: routed)",
            ));
        }
    }
    if let Some(upstream) = upstream
        && upstream.mode.value == UpstreamMode::NdpProxy
    {
        let on_link = net
            .nodes
            .iter()
            .flat_map(|n| &n.addresses)
            .filter_map(|a| a.value.parsed)
            .filter_map(|ip| match ip {
                std::net::IpAddr::V6(v6) => IpNet::new(v6.into(), 64).ok().map(|n| n.trunc()),
                std::net::IpAddr::V4(_) => None,
            });
        let mut on_link = on_link.peekable();
        if on_link.peek().is_some() && !on_link.any(|link| kube6_net::contains_net(&link, &pod)) {
            out.push(Diagnostic::new(
                &r::NDP_PROXY_STATIC_LIMIT,
                &upstream.mode.origin,
                format!("the pod range {pod} is not inside the /64 of any node address: the upstream router only solicits on-link addresses"),
                "use a pod range inside the nodes' on-link /64, or have the range routed (mode: routed or bgp)",
            ));
        }
    }
    if net.families() == [Family::IPv6] && net.nat64.is_none() {
        out.push(Diagnostic::new(
            &r::IPV6_ONLY_NO_NAT64,
            &value.origin,
            "an IPv6-only cluster without NAT64 cannot reach IPv4-only services (many registries and APIs)",
            "provide DNS64 + NAT64 upstream (kube6: spec.nat64), or run dual-stack nodes with an IPv6-only cluster so that \
             the container runtime can pull over IPv4",
        ));
    }
}
