//! Rules about the input as such: values that do not parse, range lists that no component
//! accepts, families that do not line up, an invalid cluster domain.

use std::collections::BTreeSet;

use kube6_net::Family;

use super::catalog as r;
use super::{Out, ranges};
use crate::diagnostic::Diagnostic;
use crate::model::{CidrValue, ClusterNetwork, Distribution};
use crate::source::Located;
use crate::version::Version;

pub fn check(net: &ClusterNetwork, out: &mut Out) {
    cidrs(net, out);
    addresses(net, out);
    ignored_node_ips(net, out);
    range_counts(net, out);
    families(net, out);
    primary(net, out);
    domain(net, out);
    node_names(net, out);
    versions(net, out);
    let allocate_on = net
        .specific
        .allocate_node_cidrs
        .as_ref()
        .filter(|v| v.value.trim().eq_ignore_ascii_case("true"));
    if net.pods.is_empty()
        && let Some(allocate) = allocate_on
    {
        out.push(Diagnostic::new(
            &r::ALLOCATE_WITHOUT_POD_RANGE,
            &allocate.origin,
            "--allocate-node-cidrs is true but there is no pod range: kube-controller-manager refuses to start \
             (\"Controller: Must specify --cluster-cidr if --allocate-node-cidrs is set\")",
            "set the pod range (networking.podSubnet), or drop allocate-node-cidrs if the CNI does its own IPAM",
        ));
    } else if net.pods.is_empty() {
        out.push(Diagnostic::new(
            &r::NO_POD_RANGE,
            &crate::source::Origin::default_by("networking.podSubnet", "kubeadm (no default)"),
            "no pod range is set: kube-controller-manager gets no --cluster-cidr and assigns no node pod CIDRs",
            "set networking.podSubnet (e.g. \"fd00:10::/56\" or \"10.244.0.0/16,fd00:10::/56\"), unless your CNI does its own IPAM",
        ));
    }
}

/// Versions that decide defaults and rules must be readable; a label such as kubeadm's
/// `stable-1.33` is valid for its tool but tells kube6 nothing about the release.
fn versions(net: &ClusterNetwork, out: &mut Out) {
    let stated = [
        ("distribution", &net.distribution_version),
        ("Kubernetes", &net.kubernetes_version),
        ("CNI", &net.cni_version),
    ];
    for (what, value) in stated {
        let Some(value) = value else { continue };
        if let Err(err) = Version::parse(&value.value) {
            out.push(Diagnostic::new(
                &r::VERSION_UNREADABLE,
                &value.origin,
                format!("kube6 cannot read the {what} version: {err}; it applies the defaults and rules of the newest release it knows"),
                "write the release as MAJOR.MINOR[.PATCH], e.g. v1.34.1",
            ));
        }
    }
}

/// Every CIDR of the input, and whether host bits in it get their own, stricter rule (Calico
/// refuses them in an IPPool: K6E313).
fn all_cidrs(net: &ClusterNetwork) -> Vec<(&Located<CidrValue>, bool)> {
    let mut all: Vec<(&Located<CidrValue>, bool)> = net
        .pods
        .iter()
        .chain(&net.services)
        .map(|c| (c, false))
        .collect();
    all.extend(net.calico.pools.iter().map(|p| (&p.cidr, true)));
    all.extend(net.nat64.iter().map(|n| (&n.prefix, false)));
    all.extend(
        [
            &net.cilium.ipv4_native_routing_cidr,
            &net.cilium.ipv6_native_routing_cidr,
        ]
        .into_iter()
        .flatten()
        .map(|c| (c, false)),
    );
    if let Some(conf) = &net.flannel.net_conf {
        all.extend(
            [&conf.network, &conf.ipv6_network]
                .into_iter()
                .flatten()
                .map(|c| (c, false)),
        );
    }
    all
}

fn cidrs(net: &ClusterNetwork, out: &mut Out) {
    // kube-router refuses an entry of --service-cluster-ip-range that is not a CIDR itself
    // (K6E323, with its other checks of the list); only host bits are left to say here.
    // Cilium's operator likewise refuses a cluster-pool entry that is not a CIDR (K6E317).
    for value in net
        .kube_router
        .service_ranges
        .iter()
        .chain(&net.cilium.ipv4_pools)
        .chain(&net.cilium.ipv6_pools)
    {
        host_bits(value, out);
    }
    for (value, strict_host_bits) in all_cidrs(net) {
        match &value.value.parsed {
            // A leading, trailing or doubled comma leaves an empty entry, which kubeadm
            // (k8s.io/utils/net ParseCIDRs), kube-controller-manager and k3s refuse.
            Err(_) if value.value.text.trim().is_empty() => out.push(Diagnostic::new(
                &r::CIDR_INVALID,
                &value.origin,
                format!(
                    "{} has an empty entry (a leading, trailing or doubled comma, or an empty list item); \
                     {} refuses it",
                    value.origin.path(),
                    list_parser(net)
                ),
                "remove the extra comma (or the empty item)",
            )),
            Err(err) => out.push(Diagnostic::new(
                &r::CIDR_INVALID,
                &value.origin,
                format!("`{}` is not a valid CIDR: {err}", value.value.text),
                "write the range as address/prefix, for example fd00:10::/56 or 10.244.0.0/16",
            )),
            Ok(_) if !strict_host_bits => host_bits(value, out),
            Ok(_) => {}
        }
    }
}

/// K6W001 for a CIDR written with host bits set.
fn host_bits(value: &Located<CidrValue>, out: &mut Out) {
    if let Ok(parsed) = &value.value.parsed
        && parsed.host_bits_set
    {
        out.push(Diagnostic::new(
            &r::HOST_BITS_SET,
            &value.origin,
            format!(
                "`{}` has host bits set; components use {} and strict validators reject it",
                value.value.text, parsed.net
            ),
            format!("write {}", parsed.net),
        ));
    }
}

/// The tool whose list parser refuses an empty entry, for messages.
fn list_parser(net: &ClusterNetwork) -> &'static str {
    match net.distribution.value {
        Distribution::K3s | Distribution::Rke2 => "k3s",
        Distribution::Kubeadm => "kubeadm",
        _ => "the component reading the list",
    }
}

fn addresses(net: &ClusterNetwork, out: &mut Out) {
    let parser = list_parser(net);
    let mut check = |value: &Located<crate::model::AddrValue>, what: &str| {
        if value.value.parsed.is_some() {
            return;
        }
        let message = if value.value.text.trim().is_empty() {
            format!(
                "{} has an empty {what} entry (a leading, trailing or doubled comma); {parser} refuses it",
                value.origin.path()
            )
        } else {
            format!("`{}` is not a valid IP address ({what})", value.value.text)
        };
        out.push(Diagnostic::new(
            &r::ADDRESS_INVALID,
            &value.origin,
            message,
            "write a plain IPv4 or IPv6 address without brackets, port or prefix, e.g. 2001:db8::10",
        ));
    };
    for node in &net.nodes {
        for addr in &node.addresses {
            check(addr, "node IP");
        }
    }
    for dns in &net.cluster_dns {
        check(dns, "cluster DNS IP");
    }
    // k3s parses node-external-ip with the same strict list parser as node-ip.
    for external in &net.specific.node_external_ips {
        check(external, "node external IP");
    }
    for vip in &net.api.endpoint_addresses {
        check(vip, "API endpoint address");
    }
    if let Some(api) = &net.api.address {
        let value = api.clone().map(crate::model::AddrValue::new);
        // 0.0.0.0 and :: are valid: kubeadm and kube-apiserver then advertise the address of the
        // host's default route (k0s refuses them, K6E320).
        if value.value.parsed.is_none() {
            check(&value, "API server address");
        }
    }
}

/// Entries the kubelet's lenient --node-ip parser skips (kubeadm hands it the list as is).
fn ignored_node_ips(net: &ClusterNetwork, out: &mut Out) {
    for node in &net.nodes {
        for ignored in &node.ignored_addresses {
            let what = if ignored.value.is_empty() {
                "an empty entry".to_string()
            } else {
                format!("`{}`, which is not an IP address", ignored.value)
            };
            out.push(Diagnostic::new(
                &r::KUBELET_NODE_IP_IGNORED,
                &ignored.origin,
                format!(
                    "the kubelet's --node-ip of node {} has {what}; the kubelet ignores it and uses {}",
                    node.name.value,
                    if node.addresses.is_empty() {
                        "the address it detects itself".to_string()
                    } else {
                        node.node_ip_text()
                    }
                ),
                "remove the entry, or correct it to the node's address",
            ));
        }
    }
}

fn range_counts(net: &ClusterNetwork, out: &mut Out) {
    for (what, list) in [("pod", &net.pods), ("service", &net.services)] {
        let parsed = ranges(list);
        let mut seen = BTreeSet::new();
        for (i, (value, cidr)) in parsed.iter().enumerate() {
            let family = Family::of_net(cidr);
            if i >= 2 {
                out.push(Diagnostic::new(
                    &r::TOO_MANY_RANGES,
                    &value.origin,
                    format!(
                        "{} {what} ranges are given; Kubernetes takes at most two, one per family",
                        parsed.len()
                    ),
                    format!("remove {}: keep one IPv4 and one IPv6 range at most", cidr),
                ));
            } else if !seen.insert(family) {
                out.push(Diagnostic::new(
                    &r::TOO_MANY_RANGES,
                    &value.origin,
                    format!("two {family} {what} ranges are given; dual-stack takes one range of each family"),
                    format!("remove {cidr} or replace it with a range of the other family"),
                ));
            }
        }
    }
}

fn families(net: &ClusterNetwork, out: &mut Out) {
    let dist = net.distribution.value;
    // k0s, k3s and KKP refuse the same mismatches with rules (and messages) of their own.
    if matches!(dist, Distribution::K0s | Distribution::Kkp) || dist.is_k3s_family() {
        return;
    }
    let pods = net.pod_families();
    let services = net.service_families();
    if pods.is_empty() || services.is_empty() {
        return;
    }
    let pod_set: BTreeSet<_> = pods.iter().collect();
    let service_set: BTreeSet<_> = services.iter().collect();
    let Some(first_service) = net.services.first() else {
        return;
    };
    if pod_set != service_set {
        out.push(Diagnostic::new(
            &r::FAMILY_SETS_DIFFER,
            &first_service.origin,
            format!(
                "the pod ranges are {} but the service ranges are {}: kubeadm and kube-apiserver accept this, \
                 but {}",
                describe(&pods),
                describe(&services),
                family_gap(&pods, &services)
            ),
            "give services the same families as pods: one range per family in both lists",
        ));
    } else if pods.first() != services.first() {
        out.push(Diagnostic::new(
            &r::PRIMARY_ORDER_DIFFERS,
            &first_service.origin,
            format!(
                "the pod ranges list {} first but the service ranges list {} first: kubeadm and kube-apiserver \
                 accept this, but node pod CIDRs and the kubernetes Service then disagree on the primary family",
                pods[0], services[0]
            ),
            format!(
                "list the {} service range first, as the pod ranges do",
                pods[0]
            ),
        ));
    }
}

/// What goes wrong when pods and services cover different families.
fn family_gap(pods: &[Family], services: &[Family]) -> String {
    let service_only: Vec<&Family> = services.iter().filter(|f| !pods.contains(f)).collect();
    match service_only.first() {
        Some(family) => format!(
            "Services of family {family} get no endpoints, because no pod has an {family} address"
        ),
        None => "Services are reachable in fewer families than pods".to_string(),
    }
}

/// "IPv6 single-stack" or "dual-stack (IPv4 first)".
pub fn describe(families: &[Family]) -> String {
    match families {
        [one] => format!("{one} single-stack"),
        [first, _] => format!("dual-stack ({first} first)"),
        _ => "empty".to_string(),
    }
}

fn primary(net: &ClusterNetwork, out: &mut Out) {
    let Some(explicit) = &net.primary_family else {
        return;
    };
    let family = match explicit.value.as_str() {
        "IPv4" => Family::IPv4,
        "IPv6" => Family::IPv6,
        other => {
            out.push(Diagnostic::new(
                &r::PRIMARY_FAMILY_INVALID,
                &explicit.origin,
                format!("primary family {other:?} is not supported (spelled exactly IPv4 or IPv6)"),
                "write IPv4 or IPv6",
            ));
            return;
        }
    };
    if let Some(first) = net.primary()
        && first != family
        && (net.distribution.value != Distribution::K0s || net.is_dual_stack())
    {
        out.push(Diagnostic::new(
            &r::PRIMARY_FAMILY_CONFLICT,
            &explicit.origin,
            format!("the primary family is set to {family}, but the ranges list {first} first"),
            format!("put the {family} pod and service ranges first, or set the primary family to {first}"),
        ));
    }
}

/// DNS-1123 subdomain: what kubeadm checks, and what the others' name checks amount to.
pub fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Node names as the API server takes them (`ValidateNodeName`, a DNS-1123 subdomain:
/// k8s.io/apimachinery pkg/util/validation IsDNS1123Subdomain), each once. k3s and RKE2 lower
/// the name first (k3s pkg/util/net.go GetHostnameAndIPs), so case is theirs to fix. A node
/// without a name (the host name, at install time) is not checked.
fn node_names(net: &ClusterNetwork, out: &mut Out) {
    let lowers = matches!(
        net.distribution.value,
        Distribution::K3s | Distribution::Rke2
    );
    let mut seen: Vec<(String, &Located<String>)> = Vec::new();
    for node in &net.nodes {
        if node.name.origin.is_default() {
            continue;
        }
        let name = if lowers {
            node.name.value.to_lowercase()
        } else {
            node.name.value.clone()
        };
        if !is_dns_subdomain(&name) {
            out.push(Diagnostic::new(
                &r::NODE_NAME_INVALID,
                &node.name.origin,
                format!(
                    "node name {:?} is not a DNS-1123 subdomain; the API server refuses such a Node",
                    node.name.value
                ),
                "use lower-case letters, digits, '-' and '.', starting and ending with a letter or \
                 digit, at most 253 characters (e.g. worker-1 or worker-1.example.org)",
            ));
            continue;
        }
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
            let at = first
                .origin
                .pos()
                .map(|p| format!(" (line {})", p.line))
                .unwrap_or_default();
            out.push(Diagnostic::new(
                &r::NODE_NAME_DUPLICATE,
                &node.name.origin,
                format!(
                    "node name {:?} is given twice; the first is at {}{at}",
                    node.name.value,
                    first.origin.path()
                ),
                "give every node its own name",
            ));
        } else {
            seen.push((name, &node.name));
        }
    }
}

/// The cluster domain, as each distribution checks it: kubeadm requires a DNS-1123 subdomain,
/// k0s only govalidator's looser DNS name, k3s nothing; KKP requires cluster.local (K6E065).
fn domain(net: &ClusterNetwork, out: &mut Out) {
    let domain = &net.cluster_domain;
    if is_dns_subdomain(&domain.value) {
        return;
    }
    let hint = "use cluster.local unless you have a reason not to";
    match net.distribution.value {
        Distribution::Kkp => {}
        Distribution::Kubeadm => out.push(Diagnostic::new(
            &r::DNS_DOMAIN_INVALID,
            &domain.origin,
            format!(
                "kubeadm refuses the cluster domain {:?}: it is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')",
                domain.value
            ),
            hint,
        )),
        Distribution::K0s if !crate::facts::k0s::is_dns_name(&domain.value) => out.push(Diagnostic::new(
            &r::K0S_CLUSTER_DOMAIN,
            &domain.origin,
            format!("k0s refuses the cluster domain {:?} (\"invalid DNS name\")", domain.value),
            hint,
        )),
        _ => out.push(Diagnostic::new(
            &r::CLUSTER_DOMAIN_NOT_DNS1123,
            &domain.origin,
            format!(
                "the cluster domain {:?} is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.'); {} accepts it, \
                 but kubeadm would refuse it and DNS names of Services are lower-case",
                domain.value, net.distribution.value
            ),
            hint,
        )),
    }
}
