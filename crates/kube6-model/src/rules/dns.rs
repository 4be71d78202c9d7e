//! Cluster DNS on the way out: where CoreDNS forwards, NodeLocal DNSCache's address, the dns64
//! plugin of a Corefile in the input, and the NAT64 prefix they must agree on.

use std::net::IpAddr;

use ipnet::IpNet;
use kube6_net::Family;

use super::Out;
use super::catalog as r;
use crate::diagnostic::Diagnostic;
use crate::facts::coredns as facts;
use crate::model::ClusterNetwork;
use crate::source::Origin;

pub fn check(net: &ClusterNetwork, out: &mut Out) {
    forwarders(net, out);
    node_local(net, out);
    dns64(net, out);
    nat64_prefix(net, out);
    hybrid(net, out);
}

/// Nodes of an IPv6-only cluster that also have IPv4 addresses: which traffic uses which family.
pub fn hybrid_nodes(net: &ClusterNetwork) -> Vec<&crate::model::NodeSpec> {
    if net.families() != [Family::IPv6] {
        return Vec::new();
    }
    net.nodes
        .iter()
        .filter(|n| {
            n.addresses
                .iter()
                .any(|a| a.value.parsed.is_some_and(|ip| ip.is_ipv4()))
        })
        .collect()
}

fn hybrid(net: &ClusterNetwork, out: &mut Out) {
    let nodes = hybrid_nodes(net);
    let Some(first) = nodes.first() else { return };
    let names: Vec<&str> = nodes.iter().map(|n| n.name.value.as_str()).collect();
    out.push(Diagnostic::new(
        &r::HYBRID_LAYOUT,
        &first.addresses_origin(),
        format!(
            "hybrid layout ({}): pods and Services use IPv6 only; image pulls by the container runtime and other \
             node traffic to IPv4-only hosts use the nodes' IPv4{}",
            names.join(", "),
            if net.nat64.is_some() {
                "; pods reach IPv4-only hosts through NAT64"
            } else {
                "; pods cannot reach IPv4-only hosts (no NAT64)"
            }
        ),
        "keep an IPv4 default route on these nodes (kube6 host check --plan checks it); give the kubelet only the \
         IPv6 node IP (kube6 render does)",
    ));
}

fn family_names(families: &[Family]) -> String {
    families
        .iter()
        .map(|f| f.to_string())
        .collect::<Vec<_>>()
        .join(" and ")
}

fn forwarders(net: &ClusterNetwork, out: &mut Out) {
    let families = net.families();
    if families.is_empty() {
        return;
    }
    for f in &net.dns.forwarders {
        let Some(ip) = f.value.parsed else { continue };
        let family = Family::of_addr(&ip);
        if families.contains(&family) {
            continue;
        }
        let hint = if families == [Family::IPv6] {
            "forward to IPv6 resolvers (a DNS64 resolver when IPv4-only names must resolve), or run CoreDNS \
             on nodes' resolvers with `forward . /etc/resolv.conf` where those resolvers are IPv6"
        } else {
            "forward to resolvers of the cluster's families"
        };
        out.push(Diagnostic::new(
            &r::DNS_FORWARDER_FAMILY,
            &f.origin,
            format!(
                "CoreDNS forwards to {ip} ({family}), but the cluster is {}: CoreDNS pods cannot reach it and \
                 names outside the cluster do not resolve",
                family_names(&families)
            ),
            hint,
        ));
    }
}

fn is_ipv4_link_local(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V4(v4) if v4.is_link_local())
}

fn node_local(net: &ClusterNetwork, out: &mut Out) {
    if net.families() != [Family::IPv6] {
        return;
    }
    let hint = "run NodeLocal DNSCache on an IPv6 address (e.g. one in fd00::/8 outside every cluster range) and \
                give the kubelet that address as clusterDNS, or do without NodeLocal DNSCache";
    if let Some(local) = &net.dns.node_local
        && let Some(ip) = local.value.parsed
        && ip.is_ipv4()
    {
        out.push(Diagnostic::new(
            &r::NODELOCAL_DNS_FAMILY,
            &local.origin,
            format!(
                "NodeLocal DNSCache listens on {ip} (IPv4{}) in an IPv6-only cluster: pods cannot reach it",
                if ip.to_string() == facts::NODELOCAL_DEFAULT_ADDRESS {
                    ", its default"
                } else {
                    ""
                }
            ),
            hint,
        ));
    }
    for dns in &net.cluster_dns {
        let Some(ip) = dns.value.parsed else { continue };
        if is_ipv4_link_local(&ip) {
            out.push(Diagnostic::new(
                &r::NODELOCAL_DNS_FAMILY,
                &dns.origin,
                format!(
                    "cluster DNS {ip} is an IPv4 link-local address (NodeLocal DNSCache's) in an IPv6-only cluster: \
                     the kubelet writes it into every pod's resolv.conf and IPv6-only pods cannot reach it"
                ),
                hint,
            ));
        }
    }
}

/// The prefix a dns64 plugin uses: its own, else the plugin's default.
fn plugin_prefix(prefix: Option<&crate::model::CidrValue>) -> Option<IpNet> {
    match prefix {
        Some(p) => p.net(),
        None => facts::DNS64_DEFAULT_PREFIX.parse().ok(),
    }
}

fn dns64(net: &ClusterNetwork, out: &mut Out) {
    let has_ipv4 = net.families().contains(&Family::IPv4);
    for plugin in &net.dns.dns64 {
        if let Some(origin) = &plugin.translate_all {
            out.push(Diagnostic::new(
                &r::DNS64_TRANSLATE_ALL,
                origin,
                "the dns64 plugin has translate_all: names with their own AAAA records get synthesized ones, \
                 so IPv6-capable destinations are reached through NAT64 and dual-stack names break when it fails",
                "remove translate_all: DNS64 synthesizes only for names without AAAA records (RFC 6147)",
            ));
        }
        if has_ipv4 && let Some(origin) = &plugin.allow_ipv4 {
            out.push(Diagnostic::new(
                &r::DNS64_ALLOW_IPV4,
                origin,
                "the dns64 plugin has allow_ipv4 in a cluster with IPv4: pods asking over IPv4 get synthesized \
                 AAAA records for IPv4-only names and connect through NAT64 instead of directly",
                "remove allow_ipv4",
            ));
        }
        let written = plugin.prefix.as_ref();
        if let Some(p) = written {
            let valid = matches!(p.value.net(), Some(IpNet::V6(v6)) if facts::dns64_accepts_prefix_len(v6.prefix_len()));
            if !valid {
                out.push(Diagnostic::new(
                    &r::DNS64_PREFIX_INVALID,
                    &p.origin,
                    format!(
                        "the dns64 prefix {} is not an IPv6 prefix of /32 to /96 in steps of 8: CoreDNS does not start",
                        p.value.text
                    ),
                    "use the NAT64's prefix, e.g. 64:ff9b::/96",
                ));
                continue;
            }
        }
        if let Some(nat64) = &net.nat64
            && let Some(want) = nat64.prefix.value.net()
            && let Some(got) = plugin_prefix(written.map(|p| &p.value))
            && got.trunc() != want.trunc()
        {
            let origin: &Origin = written.map_or(&plugin.origin, |p| &p.origin);
            out.push(Diagnostic::new(
                &r::DNS64_PREFIX_MISMATCH,
                origin,
                format!(
                    "the dns64 plugin synthesizes addresses in {got}{}, but the NAT64 (spec.nat64.prefix) translates {want}",
                    if written.is_none() { " (its default)" } else { "" }
                ),
                format!("use `dns64 {{ prefix {want} }}`"),
            ));
        }
    }
}

fn nat64_prefix(net: &ClusterNetwork, out: &mut Out) {
    let Some(nat64) = &net.nat64 else { return };
    if let Some(gw) = &nat64.gateway
        && let Some(pool) = gw.pool4.value.net()
        && !matches!(pool, IpNet::V4(v4) if v4.prefix_len() <= 31)
    {
        out.push(Diagnostic::new(
            &r::NAT64_POOL4_INVALID,
            &gw.pool4.origin,
            format!("the NAT64 gateway's pool4 {pool} is not an IPv4 prefix of /31 or shorter: TAYGA refuses it"),
            "use private IPv4 space of /31 or shorter that the gateway masquerades, e.g. 198.51.100.0/24 or 100.64.64.0/24",
        ));
    }
    let Some(prefix) = nat64.prefix.value.net() else {
        return;
    };
    let ok =
        matches!(prefix, IpNet::V6(v6) if facts::RFC6052_PREFIX_LENGTHS.contains(&v6.prefix_len()));
    if !ok {
        out.push(Diagnostic::new(
            &r::NAT64_PREFIX_LENGTH,
            &nat64.prefix.origin,
            format!(
                "the NAT64 prefix {prefix} is not an IPv6 prefix of an RFC 6052 length (/32, /40, /48, /56, /64, /96)"
            ),
            "use 64:ff9b::/96 (the well-known prefix) or a /96 of your own IPv6 space (a network-specific prefix)",
        ));
    }
}
