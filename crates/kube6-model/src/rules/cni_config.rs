//! Rules on a CNI's own configuration, as read from its files (Cilium values, a CNI network
//! configuration, calico-node's environment, flannel's net-conf.json, kube-router's arguments):
//! the same rules judge what `kube6 render` writes (read back) and what people write by hand.
//! Settings a file leaves out take the CNI's own defaults; when no file of the CNI was read,
//! these rules stay silent (kube6 renders that configuration itself).

use kube6_net::{Family, contains_net};

use super::catalog as r;
use super::{Out, ranges};
use crate::diagnostic::Diagnostic;
use crate::facts;
use crate::model::{ClusterNetwork, Cni, UpstreamMode};
use crate::source::{Located, Origin};

pub fn check(net: &ClusterNetwork, out: &mut Out) {
    match net.cni.value {
        Cni::Cilium => cilium(net, out),
        Cni::KubeRouter if net.kube_router.args_origin.is_some() => kube_router(net, out),
        _ => {}
    }
    if matches!(net.cni.value, Cni::Calico | Cni::Canal) {
        felix(net, out);
    }
    if matches!(net.cni.value, Cni::Flannel | Cni::Canal)
        && let Some(conf) = &net.flannel.net_conf
    {
        net_conf(net, conf, out);
    }
    if let Some(conf) = &net.cni_conf {
        ipam(net, conf, out);
    }
    masquerade_against_routing(net, out);
    floating_blocks(net, out);
}

/// Whether the plan routes a family's pod addresses to the nodes (no masquerading wanted).
fn routed(net: &ClusterNetwork, family: Family) -> Option<&Located<UpstreamMode>> {
    net.upstream_for(family)
        .map(|u| &u.mode)
        .filter(|m| m.value != UpstreamMode::Masquerade)
}

fn family_key(family: Family) -> &'static str {
    match family {
        Family::IPv4 => "IPv4",
        Family::IPv6 => "IPv6",
    }
}

/// A setting as written, or, when the CNI's own file was read, the CNI's default with where it
/// would be set (without such a file, kube6's rendering decides what is unset).
fn or_default<T: Clone>(
    value: &Option<Located<T>>,
    file_read: bool,
    default: T,
    path: &str,
    by: &str,
) -> Option<Located<T>> {
    value
        .clone()
        .or_else(|| file_read.then(|| Located::new(default, Origin::default_by(path, by))))
}

fn cilium(net: &ClusterNetwork, out: &mut Out) {
    let c = &net.cilium;
    let file = c.source.is_some();
    let version = net.cni_release();
    let families = net.families();
    let ipv6_only = families == [Family::IPv6];
    if let Some(ipv4) = or_default(
        &c.ipv4_enabled,
        file,
        true,
        "ipv4.enabled",
        "cilium default",
    ) && ipv6_only
        && ipv4.value
    {
        out.push(Diagnostic::new(
            &r::CILIUM_TUNNEL_UNDERLAY,
            &ipv4.origin,
            "Cilium runs IPv4 (ipv4.enabled is true, the chart's default) on an IPv6-only cluster: the agent stops \
             (\"external IPv4 node address could not be derived, please configure via --ipv4-node\")",
            "set ipv4.enabled: false and ipv6.enabled: true",
        ));
    }
    cilium_enumerations(net, out);
    let Some(routing) = or_default(
        &c.routing_mode,
        file,
        facts::cilium::DEFAULT_ROUTING_MODE.to_string(),
        "routingMode",
        "cilium default",
    ) else {
        return;
    };
    // A mode the agent refuses (K6E326) says nothing about tunnels.
    if !routing.value.is_empty() && !facts::cilium::ROUTING_MODES.contains(&routing.value.as_str())
    {
        return;
    }
    let tunnel = routing.value != "native";
    let version_text = version.as_ref().map_or_else(
        || format!("{} (assumed)", facts::cilium::ASSUMED_RELEASE),
        |v| v.as_str().to_string(),
    );
    if tunnel && ipv6_only {
        let underlay = c.underlay_protocol.clone().unwrap_or_else(|| {
            Located::new(
                facts::cilium::DEFAULT_UNDERLAY.to_string(),
                Origin::default_by("underlayProtocol", "cilium default"),
            )
        });
        let supported = facts::cilium::has_ipv6_underlay(version.as_ref());
        // An underlay the agent refuses (K6E326) says nothing about the tunnel's family.
        let refused = supported
            && !underlay.value.is_empty()
            && !facts::cilium::UNDERLAY_PROTOCOLS.contains(&underlay.value.as_str());
        if !refused && (underlay.value != "ipv6" || !supported) {
            let origin = if underlay.value == "ipv6" {
                underlay.origin.clone()
            } else {
                routing.origin.clone()
            };
            let why = if underlay.value == "ipv6" {
                format!(
                    "Cilium {version_text} cannot tunnel over IPv6 (underlayProtocol arrived in {})",
                    facts::cilium::IPV6_UNDERLAY_SINCE
                )
            } else {
                "Cilium tunnels (routingMode tunnel, the default) over IPv4 (underlayProtocol ipv4, the default)".to_string()
            };
            let pod = net
                .pod_range(Family::IPv6)
                .map(|p| p.value.text.clone())
                .unwrap_or_default();
            out.push(Diagnostic::new(
                &r::CILIUM_TUNNEL_UNDERLAY,
                &origin,
                format!(
                    "{why}, but the cluster is IPv6-only: the agent finds no IPv4 node address and stops \
                     (\"external IPv4 node address could not be derived\")"
                ),
                if supported {
                    format!(
                        "set routingMode: native with ipv6NativeRoutingCIDR: {pod} and autoDirectNodeRoutes: true (nodes on one link) \
                         or routes from the upstream; or keep the tunnel with underlayProtocol: ipv6"
                    )
                } else {
                    format!(
                        "set routingMode: native with ipv6NativeRoutingCIDR: {pod} and autoDirectNodeRoutes: true (nodes on one link) \
                         or routes from the upstream; or use Cilium {} or later with underlayProtocol: ipv6",
                        facts::cilium::IPV6_UNDERLAY_SINCE
                    )
                },
            ));
        }
    }
    if tunnel {
        return;
    }
    for &family in &families {
        let (masq, cidr, key) = match family {
            Family::IPv4 => (
                &c.ipv4_masquerade,
                &c.ipv4_native_routing_cidr,
                "ipv4NativeRoutingCIDR",
            ),
            Family::IPv6 => (
                &c.ipv6_masquerade,
                &c.ipv6_native_routing_cidr,
                "ipv6NativeRoutingCIDR",
            ),
        };
        // Without Cilium's own file, kube6 renders the masquerading and the CIDR together.
        let masq_on = masq.as_ref().map_or(file, |m| m.value);
        let eni = c
            .ipam_mode
            .as_ref()
            .is_some_and(|m| matches!(m.value.as_str(), "eni" | "alibabacloud"));
        if masq_on && cidr.is_none() && !(family == Family::IPv4 && eni) {
            let pod = net
                .pod_range(family)
                .map(|p| p.value.text.clone())
                .unwrap_or_default();
            out.push(Diagnostic::new(
                &r::CILIUM_NATIVE_ROUTING_CIDR,
                &routing.origin,
                format!(
                    "Cilium in native routing mode masquerades {family} traffic leaving the native-routing CIDR, and none is set: \
                     the agent refuses to start (\"native routing cidr must be configured with option --{}\")",
                    if family == Family::IPv4 { "ipv4-native-routing-cidr" } else { "ipv6-native-routing-cidr" }
                ),
                format!("set {key}: {pod}"),
            ));
        }
        let direct = c.auto_direct_node_routes.as_ref().is_some_and(|a| a.value)
            || c.bgp_control_plane.as_ref().is_some_and(|b| b.value);
        let upstream_routes = routed(net, family).is_some();
        if !direct && !upstream_routes {
            out.push(Diagnostic::new(
                &r::CILIUM_NATIVE_ROUTES,
                &routing.origin,
                format!(
                    "Cilium in native routing mode hands {family} packets for other nodes' pods to the kernel, but nothing routes \
                     those pod CIDRs: autoDirectNodeRoutes and the BGP control plane are off and no upstream routes them"
                ),
                format!(
                    "set autoDirectNodeRoutes: true when the nodes share a link, enable bgpControlPlane, or have the upstream \
                     route the pod range (kube6: spec.upstream.{}.mode: routed or bgp)",
                    family_key(family)
                ),
            ));
        }
    }
}

fn kube_router(net: &ClusterNetwork, out: &mut Out) {
    let k = &net.kube_router;
    let Some(args) = &k.args_origin else {
        return;
    };
    for (family, value, default, flag) in [
        (
            Family::IPv4,
            &k.enable_ipv4,
            facts::kube_router::ENABLE_IPV4_DEFAULT,
            "--enable-ipv4",
        ),
        (
            Family::IPv6,
            &k.enable_ipv6,
            facts::kube_router::ENABLE_IPV6_DEFAULT,
            "--enable-ipv6",
        ),
    ] {
        let on = value.as_ref().map_or(default, |v| v.value);
        let wanted = net.families().contains(&family);
        if on != wanted {
            let origin = value
                .as_ref()
                .map_or_else(|| args.clone(), |v| v.origin.clone());
            out.push(Diagnostic::new(
                &r::KUBE_ROUTER_FAMILY,
                &origin,
                if wanted {
                    format!("kube-router runs without {family} ({flag} is false{}), but the cluster has {family} pods: they get no {family} routes or policy",
                        if value.is_none() { ", its default" } else { "" })
                } else {
                    format!("kube-router runs {family} ({flag}{}), but the cluster has no {family}: it stops (\"{family} was enabled, but no {family} address was found on the node\")",
                        if value.is_none() { " defaults to true" } else { " is true" })
                },
                format!("pass {flag}={wanted}"),
            ));
        }
    }
    service_range_list(k, out);
    for range in &k.service_ranges {
        let Some(family) = range.value.family() else {
            continue;
        };
        let enabled = match family {
            Family::IPv4 => k
                .enable_ipv4
                .as_ref()
                .map_or(facts::kube_router::ENABLE_IPV4_DEFAULT, |v| v.value),
            Family::IPv6 => k
                .enable_ipv6
                .as_ref()
                .map_or(facts::kube_router::ENABLE_IPV6_DEFAULT, |v| v.value),
        };
        let cluster = net.service_range(family).and_then(|s| s.value.net());
        if !enabled {
            out.push(Diagnostic::new(
                &r::KUBE_ROUTER_FAMILY,
                &range.origin,
                format!("kube-router refuses --service-cluster-ip-range={} (\"{family} CIDR specified while {family} is disabled\")", range.value.text),
                format!("pass --enable-{}=true, or drop the range", family.as_str().to_ascii_lowercase()),
            ));
        } else if cluster.is_some() && cluster != range.value.net() {
            out.push(Diagnostic::new(
                &r::KUBE_ROUTER_SERVICE_RANGE_DIFFERS,
                &range.origin,
                format!(
                    "kube-router's --service-cluster-ip-range {} is not the cluster's {family} service range {}: kube-router accepts it, but its policies and service routes cover the wrong addresses",
                    range.value.text,
                    cluster.map(|c| c.to_string()).unwrap_or_default()
                ),
                "pass the service ranges kube-apiserver uses",
            ));
        }
    }
}

/// The Cilium agent's own checks of its routing settings: `routing-mode` native or tunnel,
/// `underlay-protocol` ipv4 or ipv6 (the latter from the release that has the setting). An empty
/// value is the chart's default.
fn cilium_enumerations(net: &ClusterNetwork, out: &mut Out) {
    let c = &net.cilium;
    let underlay_known = facts::cilium::has_ipv6_underlay(net.cni_release().as_ref());
    for (value, allowed, what, upstream) in [
        (
            &c.routing_mode,
            facts::cilium::ROUTING_MODES,
            "routing mode",
            "invalid routing mode",
        ),
        (
            if underlay_known {
                &c.underlay_protocol
            } else {
                &None
            },
            facts::cilium::UNDERLAY_PROTOCOLS,
            "underlay protocol",
            "invalid IP family for underlay",
        ),
    ] {
        let Some(value) = value else { continue };
        if value.value.is_empty() || allowed.contains(&value.value.as_str()) {
            continue;
        }
        out.push(Diagnostic::new(
            &r::CILIUM_ENUM,
            &value.origin,
            format!(
                "the Cilium agent refuses the {what} {:?} (\"{upstream}\"): it takes {}",
                value.value,
                allowed.join(" or ")
            ),
            format!("use {} (lower case)", allowed.join(" or ")),
        ));
    }
}

/// kube-router's own checks of `--service-cluster-ip-range` (cloudnativelabs/kube-router
/// pkg/svcip/validator.go `NewValidator`): every entry a CIDR (`net.ParseCIDR`), at most two.
fn service_range_list(k: &crate::model::KubeRouterSettings, out: &mut Out) {
    for range in &k.service_ranges {
        if let Err(err) = &range.value.parsed {
            let why = if range.value.text.is_empty() {
                "an empty entry (a leading, trailing or doubled comma)".to_string()
            } else {
                format!("`{}` is not a CIDR ({err})", range.value.text)
            };
            out.push(Diagnostic::new(
                &r::KUBE_ROUTER_SERVICE_RANGES,
                &range.origin,
                format!("kube-router refuses --service-cluster-ip-range: {why} (\"failed to parse --service-cluster-ip-range parameter\")"),
                "list the service ranges as CIDRs separated by single commas, e.g. --service-cluster-ip-range=fd00:20::/112",
            ));
        }
    }
    if let [_, _, third, ..] = k.service_ranges.as_slice() {
        out.push(Diagnostic::new(
            &r::KUBE_ROUTER_SERVICE_RANGES,
            &third.origin,
            format!(
                "kube-router refuses {} service ranges (\"too many CIDRs provided in --service-cluster-ip-range parameter, only two addresses are allowed at once for dual-stack\")",
                k.service_ranges.len()
            ),
            "pass at most one IPv4 and one IPv6 service range",
        ));
    }
}

fn felix(net: &ClusterNetwork, out: &mut Out) {
    if let Some(v6) = &net.calico.felix_ipv6_support
        && !v6.value
        && net.families().contains(&Family::IPv6)
    {
        out.push(Diagnostic::new(
            &r::CALICO_FELIX_IPV6,
            &v6.origin,
            "FELIX_IPV6SUPPORT is false, but the cluster has IPv6 pods: Felix programs no IPv6 routes or policy for them",
            "set FELIX_IPV6SUPPORT=true (and IP6=autodetect) on calico-node",
        ));
    }
}

fn net_conf(net: &ClusterNetwork, conf: &crate::model::FlannelNetConf, out: &mut Out) {
    let families = net.families();
    for &family in Family::ALL {
        let (enable, default, network, key, enable_key) = match family {
            Family::IPv4 => (
                &conf.enable_ipv4,
                facts::flannel::ENABLE_IPV4_DEFAULT,
                &conf.network,
                "Network",
                "EnableIPv4",
            ),
            Family::IPv6 => (
                &conf.enable_ipv6,
                facts::flannel::ENABLE_IPV6_DEFAULT,
                &conf.ipv6_network,
                "IPv6Network",
                "EnableIPv6",
            ),
        };
        let on = enable.as_ref().map_or(default, |e| e.value);
        let wanted = families.contains(&family);
        let origin = enable
            .as_ref()
            .map_or_else(|| conf.origin.clone(), |e| e.origin.clone());
        if wanted && !on {
            out.push(Diagnostic::new(
                &r::FLANNEL_FAMILY_SWITCH,
                &origin,
                format!("net-conf.json leaves {family} off ({enable_key} is false{}), but the cluster has {family} pods: they get no {family} address or route",
                    if enable.is_none() { ", its default" } else { "" }),
                format!("set \"{enable_key}\": true and \"{key}\" to the {family} pod range"),
            ));
            continue;
        }
        if !wanted && on {
            out.push(Diagnostic::new(
                &r::FLANNEL_FAMILY_SWITCH,
                &origin,
                format!("net-conf.json runs {family} ({enable_key}{}), but the cluster has no {family}: flanneld looks for a {family} address on the node and stops",
                    if enable.is_none() { " defaults to true" } else { " is true" }),
                format!("set \"{enable_key}\": false"),
            ));
            continue;
        }
        if !wanted {
            continue;
        }
        let Some(pod) = net.pod_range(family).and_then(|p| p.value.net()) else {
            continue;
        };
        match network.as_ref().map(|n| (n, n.value.net())) {
            None => out.push(Diagnostic::new(
                &r::FLANNEL_FAMILY_SWITCH,
                &conf.origin,
                format!("net-conf.json has no {key}: flanneld stops (\"please define a correct {key} parameter in the flannel config\")"),
                format!("set \"{key}\": \"{pod}\""),
            )),
            Some((value, Some(n))) if !contains_net(&n, &pod) => out.push(Diagnostic::new(
                &r::FLANNEL_NETWORK_MISMATCH,
                &value.origin,
                format!("{key} {n} does not contain the pod range {pod}: flanneld refuses the nodes' podCIDRs (\"subnet ... doesn't contain ... PodCIDR\")"),
                format!("set \"{key}\": \"{pod}\""),
            )),
            _ => {}
        }
    }
}

fn ipam(net: &ClusterNetwork, conf: &crate::model::CniConf, out: &mut Out) {
    let families = net.families();
    let Some(kind) = &conf.ipam_type else { return };
    match kind.value.as_str() {
        "host-local" => {
            // Without subnets, the CNI (kube-router's bridge) fills them in itself.
            if conf.subnets.is_empty() {
                return;
            }
            for &family in Family::ALL {
                let token = facts::calico::HOST_LOCAL_POD_CIDR.get(family);
                let given = conf.subnets.iter().find(|s| {
                    s.value == token
                        || crate::model::CidrValue::new(s.value.clone()).family() == Some(family)
                });
                let wanted = families.contains(&family);
                match (given, wanted) {
                    (None, true) => out.push(Diagnostic::new(
                        &r::CNI_IPAM_FAMILY,
                        &kind.origin,
                        format!(
                            "host-local IPAM has no {family} range ({}), but the cluster has {family} pods: they get no {family} address{}",
                            if family == Family::IPv6 { "usePodCidrIPv6 is missing; usePodCidr is IPv4 only" } else { "usePodCidr is missing" },
                            if families.len() == 2 { " (dual-stack pods come up single-stack)" } else { "" }
                        ),
                        if families.len() == 2 {
                            "use \"ranges\": [[{\"subnet\": \"usePodCidr\"}], [{\"subnet\": \"usePodCidrIPv6\"}]]".to_string()
                        } else {
                            format!("use \"subnet\": \"{token}\"")
                        },
                    )),
                    (Some(s), false) if s.value == token => out.push(Diagnostic::new(
                        &r::CNI_IPAM_FAMILY,
                        &s.origin,
                        format!("host-local IPAM asks for the node's {family} podCIDR ({token}), but the cluster has no {family}: the Calico CNI plugin fails every pod (\"{token} found but there is no {family} CIDR configured\")"),
                        format!("remove the {token} range"),
                    )),
                    _ => {}
                }
            }
        }
        "calico-ipam" => {
            for (family, value, default, key) in [
                (Family::IPv4, &conf.assign_ipv4, true, "assign_ipv4"),
                (Family::IPv6, &conf.assign_ipv6, false, "assign_ipv6"),
            ] {
                let on = value.as_ref().map_or(default, |v| v.value);
                let wanted = families.contains(&family);
                if on != wanted {
                    let origin = value
                        .as_ref()
                        .map_or_else(|| kind.origin.clone(), |v| v.origin.clone());
                    out.push(Diagnostic::new(
                        &r::CNI_IPAM_FAMILY,
                        &origin,
                        format!(
                            "calico-ipam {} {family} addresses ({key} is {on}{}), but the cluster {} {family}",
                            if on { "assigns" } else { "assigns no" },
                            if value.is_none() { ", its default" } else { "" },
                            if wanted { "has" } else { "has no" }
                        ),
                        format!("set \"{key}\": \"{wanted}\""),
                    ));
                }
            }
        }
        _ => {}
    }
}

/// Whether the CNI, as configured in the files read, masquerades `family`, and where it says so.
fn masquerades(net: &ClusterNetwork, family: Family) -> Option<Origin> {
    match net.cni.value {
        Cni::KubeRouter => {
            let k = &net.kube_router;
            match (&k.pod_egress, &k.args_origin) {
                (Some(e), _) => e.value.then(|| e.origin.clone()),
                (None, Some(args)) => Some(Origin::default_by(
                    args.path(),
                    "kube-router default (--enable-pod-egress=true)",
                )),
                (None, None) => None,
            }
        }
        Cni::Cilium => {
            let value = match family {
                Family::IPv4 => &net.cilium.ipv4_masquerade,
                Family::IPv6 => &net.cilium.ipv6_masquerade,
            };
            match value {
                Some(v) => v.value.then(|| v.origin.clone()),
                None if net.cilium.source.is_none() => None,
                None => Some(Origin::default_by(
                    format!("enable{}Masquerade", family_key(family)),
                    "cilium default (true)",
                )),
            }
        }
        Cni::Flannel | Cni::Canal => {
            if family == Family::IPv6
                && let Some(v6) = &net.flannel.ipv6_masquerade
            {
                return v6.value.then(|| v6.origin.clone());
            }
            net.flannel
                .ip_masq
                .as_ref()
                .and_then(|m| m.value.then(|| m.origin.clone()))
                .or_else(|| {
                    net.calico
                        .pools
                        .iter()
                        .find(|p| {
                            p.cidr.value.family() == Some(family)
                                && p.nat_outgoing
                                    .as_ref()
                                    .is_some_and(|n| n.value && !n.origin.is_default())
                        })
                        .and_then(|p| p.nat_outgoing.as_ref().map(|n| n.origin.clone()))
                })
        }
        Cni::Calico => net
            .calico
            .pools
            .iter()
            .find(|p| {
                p.cidr.value.family() == Some(family)
                    && p.nat_outgoing.as_ref().is_some_and(|n| n.value)
            })
            .and_then(|p| p.nat_outgoing.as_ref().map(|n| n.origin.clone())),
        _ => None,
    }
}

fn masquerade_against_routing(net: &ClusterNetwork, out: &mut Out) {
    for family in net.families() {
        let Some(mode) = routed(net, family) else {
            continue;
        };
        let Some(origin) = masquerades(net, family) else {
            continue;
        };
        let hint = match net.cni.value {
            Cni::KubeRouter => "pass --enable-pod-egress=false to kube-router (k0s: spec.network.kuberouter.extraArgs)".to_string(),
            Cni::Cilium => format!("set enable{}Masquerade: false", family_key(family)),
            Cni::Flannel | Cni::Canal => "drop --ip-masq (Canal: masquerade \"false\"); masquerade a private family with a Calico IPPool's natOutgoing instead".to_string(),
            _ => "set natOutgoing: false on the pool".to_string(),
        };
        out.push(Diagnostic::new(
            &r::MASQUERADE_ROUTED,
            &origin,
            format!(
                "{} masquerades {family} pod traffic leaving the cluster, but the plan routes the {family} pod range upstream \
                 ({}): pods leave with the node's address instead of their own",
                net.cni.value,
                mode.value.as_str()
            ),
            hint,
        ));
    }
}

fn floating_blocks(net: &ClusterNetwork, out: &mut Out) {
    let Some(upstream) = net.upstream_for(Family::IPv6) else {
        return;
    };
    if upstream.mode.value != UpstreamMode::NdpProxy || !net.families().contains(&Family::IPv6) {
        return;
    }
    if net.pod_addresses_from_node_blocks() {
        return;
    }
    let pool = ranges(&net.pods)
        .into_iter()
        .find(|(_, n)| Family::of_net(n) == Family::IPv6)
        .map(|(_, n)| n.to_string())
        .unwrap_or_default();
    out.push(Diagnostic::new(
        &r::NDP_PROXY_FLOATING_BLOCKS,
        &upstream.mode.origin,
        format!(
            "{}'s IPAM gives pods addresses from blocks of its own, which move between nodes, not from kube-controller-manager's \
             node blocks: the NDP proxy on each node answers for the whole IPv6 pool {pool} where the node routes the address \
             to a local pod (kube6 ndp-proxy routed mode)",
            net.cni.value
        ),
        "nothing to do with kube6's rendered files; a hand-written ndppd.conf with static rules for node blocks would answer for the wrong node",
    ));
}
