//! Rules of the Kubernetes components every distribution runs: kube-apiserver's service range
//! checks, kube-controller-manager's node-mask checks, kube-proxy and the kubelet's DNS.

use ipnet::IpNet;
use kube6_net::{Family, range_size};

use super::catalog as r;
use super::{Out, ranges, with_prefix};
use crate::defaults::{self, mask_flag};
use crate::diagnostic::Diagnostic;
use crate::model::{ClusterNetwork, Cni, Distribution};

/// kube-apiserver's limit on service range size, in host bits.
pub const MAX_SERVICE_HOST_BITS: u8 = 20;

pub fn check(net: &ClusterNetwork, out: &mut Out) {
    apiserver(net, out);
    if allocates_node_cidrs(net) {
        controller_manager(net, out);
    }
    kube_proxy(net, out);
    cluster_dns(net, out);
    kubelet_node_ips(net, out);
}

/// The kubelet takes one IP, or a pair of one IPv4 and one IPv6 (and no `0.0.0.0`/`::` in a pair).
fn kubelet_node_ips(net: &ClusterNetwork, out: &mut Out) {
    for node in &net.nodes {
        let ips: Vec<std::net::IpAddr> = node
            .addresses
            .iter()
            .filter_map(|a| a.value.parsed)
            .collect();
        let problem = match ips.as_slice() {
            [] | [_] => None,
            [a, b] if Family::of_addr(a) == Family::of_addr(b) => {
                Some(format!("two {} addresses", Family::of_addr(a)))
            }
            [a, b] if a.is_unspecified() || b.is_unspecified() => {
                Some("an unspecified address in a pair".to_string())
            }
            [_, _] => None,
            more => Some(format!("{} addresses", more.len())),
        };
        if let Some(problem) = problem {
            let origin = node.addresses_origin();
            out.push(Diagnostic::new(
                &r::KUBELET_NODE_IP,
                &origin,
                format!(
                    "node {} would get --node-ip={} ({problem}); the kubelet takes one IP or a dual-stack pair of one IPv4 and one IPv6",
                    node.name.value,
                    node.node_ip_text()
                ),
                "keep one address per family, the primary family's first",
            ));
        }
    }
}

fn gate_on(net: &ClusterNetwork, name: &str) -> bool {
    net.feature_gate(name).is_some_and(|g| g.enabled.value)
}

fn apiserver(net: &ClusterNetwork, out: &mut Out) {
    // With both gates on, kube-apiserver stops limiting the flag's range size.
    let size_checked =
        !(gate_on(net, "MultiCIDRServiceAllocator") && gate_on(net, "DisableAllocatorDualWrite"));
    for (value, cidr) in ranges(&net.services) {
        let bits = cidr.max_prefix_len();
        let host_bits = bits - cidr.prefix_len();
        if size_checked && host_bits > MAX_SERVICE_HOST_BITS {
            let min = bits - MAX_SERVICE_HOST_BITS;
            out.push(Diagnostic::new(
                &r::SERVICE_RANGE_TOO_LARGE,
                &value.origin,
                format!(
                    "service range {cidr} has {host_bits} host bits; kube-apiserver refuses it \
                     (\"specified --service-cluster-ip-range is too large; for {bits}-bit addresses, the mask must be >= {min}\")"
                ),
                format!("use a /{min} or longer prefix, e.g. {}", with_prefix(&cidr, min)),
            ));
        }
        if range_size(&cidr).to_u128().is_some_and(|n| n < 8) {
            out.push(Diagnostic::new(
                &r::SERVICE_RANGE_TOO_SMALL,
                &value.origin,
                format!("service range {cidr} has fewer than 8 addresses; kube-apiserver needs at least 8"),
                format!("use a /{} or shorter prefix", bits - 3),
            ));
        }
        if cidr.max_prefix_len() == 128 && (108..112).contains(&cidr.prefix_len()) {
            let hint = if net.distribution.value == Distribution::K0s && !net.is_dual_stack() {
                "nothing to change on k0s IPv6 single-stack, where /108 is the only size both k0s and kube-apiserver accept; \
                 elsewhere a /112 matches what is used"
                    .to_string()
            } else {
                format!(
                    "use {} to have the range match the addresses in use, or keep it knowingly",
                    with_prefix(&cidr, 112)
                )
            };
            out.push(Diagnostic::new(
                &r::SERVICE_RANGE_CLAMPED,
                &value.origin,
                format!(
                    "service range {cidr} has {} addresses, but the ClusterIP allocator keeps a bitmap of at most 65,536: \
                     only the first 65,536 are ever used",
                    range_size(&cidr).human()
                ),
                hint,
            ));
        }
    }
    // The advertise address must be of the primary service family (unless no endpoint reconciler).
    let reconciler_off = net
        .specific
        .endpoint_reconciler_type
        .as_ref()
        .is_some_and(|t| t.value.eq_ignore_ascii_case("none"));
    if let (Some(api), Some((_, first))) = (&net.api.address, ranges(&net.services).first())
        && !reconciler_off
        && let Ok(ip) = api.value.parse::<std::net::IpAddr>()
        && Family::of_addr(&ip) != Family::of_net(first)
    {
        out.push(Diagnostic::new(
            &r::ADVERTISE_FAMILY,
            &api.origin,
            format!(
                "the API server advertises {ip} ({}), but the primary service range {first} is {}; \
                 kube-apiserver refuses this (\"service IP family must match public address family\")",
                Family::of_addr(&ip),
                Family::of_net(first)
            ),
            format!("advertise a {} address of this node, or list the {} service range first", Family::of_net(first), Family::of_addr(&ip)),
        ));
    }
}

/// Whether kube-controller-manager allocates node pod CIDRs (and so checks its mask flags).
pub fn allocates_node_cidrs(net: &ClusterNetwork) -> bool {
    let explicitly_off = net
        .specific
        .allocate_node_cidrs
        .as_ref()
        .is_some_and(|v| v.value.trim().eq_ignore_ascii_case("false"));
    // KKP does not turn on node CIDR allocation when Cilium does the IPAM.
    let kkp_cilium = net.distribution.value == Distribution::Kkp && net.cni.value == Cni::Cilium;
    !net.pods.is_empty() && !explicitly_off && !kkp_cilium
}

fn controller_manager(net: &ClusterNetwork, out: &mut Out) {
    let dual = net.is_dual_stack();
    let masks = &net.node_masks;
    let single_max = net.primary().map_or(128, Family::bits);
    for (mask, max) in [
        (&masks.single, single_max),
        (&masks.ipv4, 32),
        (&masks.ipv6, 128),
    ] {
        let Some(mask) = mask else { continue };
        if mask.value.parsed.is_none_or(|m| m > max) {
            out.push(Diagnostic::new(
                &r::MASK_INVALID,
                &mask.origin,
                format!(
                    "node mask {:?} is not a prefix length between 0 and {max}",
                    mask.value.text
                ),
                "write a number such as \"24\" for IPv4 or \"64\" for IPv6",
            ));
        }
    }
    if dual && let Some(single) = &masks.single {
        out.push(Diagnostic::new(
            &r::LEGACY_MASK_DUAL_STACK,
            &single.origin,
            "--node-cidr-mask-size is set on a dual-stack cluster; kube-controller-manager refuses to start \
             (\"usage of --node-cidr-mask-size is not allowed with dual-stack clusters\")",
            format!(
                "replace it with node-cidr-mask-size-ipv4 and node-cidr-mask-size-ipv6 (e.g. node-cidr-mask-size-ipv6: \"{}\")",
                single.value.text
            ),
        ));
    }
    if !dual {
        if let Some(single) = &masks.single
            && (masks.ipv4.is_some() || masks.ipv6.is_some())
        {
            out.push(Diagnostic::new(
                &r::LEGACY_MASK_WITH_FAMILY_MASK,
                &single.origin,
                "--node-cidr-mask-size is set together with a per-family node-mask flag; kube-controller-manager refuses to start",
                "keep only one of them: on a single-stack cluster either works",
            ));
        }
        if let Some(family) = net.primary() {
            let wrong = match family {
                Family::IPv4 => masks.ipv6.as_ref(),
                Family::IPv6 => masks.ipv4.as_ref(),
            };
            if let Some(wrong) = wrong {
                out.push(Diagnostic::new(
                    &r::MASK_FLAG_WRONG_FAMILY,
                    &wrong.origin,
                    format!(
                        "--{} is set on a single-stack {family} cluster; kube-controller-manager refuses to start",
                        mask_flag(true, family.other())
                    ),
                    format!("remove it, or use --{} for the {family} range", mask_flag(true, family)),
                ));
            }
        }
    }
    for (value, cidr) in ranges(&net.pods) {
        let family = Family::of_net(&cidr);
        let Some(mask) = defaults::node_mask(net, family) else {
            continue;
        };
        let prefix = cidr.prefix_len();
        let m = mask.value;
        if m > family.bits() {
            continue;
        }
        let origin = if mask.origin.is_default() {
            &value.origin
        } else {
            &mask.origin
        };
        if m < prefix {
            out.push(Diagnostic::new(
                &r::NODE_MASK_SHORTER_THAN_RANGE,
                origin,
                format!(
                    "the {family} node mask /{m} is shorter than the pod range {cidr}; kube-controller-manager refuses it \
                     (\"mask size of cluster CIDR must be less than or equal to --node-cidr-mask-size\")"
                ),
                format!(
                    "set {} to a value between {prefix} and {} (each node gets a /mask block of the range)",
                    mask_flag(net.is_dual_stack(), family),
                    (prefix + 16).min(family.bits())
                ),
            ));
        } else if family == Family::IPv6 && m - prefix > kube6_net::CLUSTER_SUBNET_MAX_DIFF {
            out.push(Diagnostic::new(
                &r::NODE_MASK_IPV6_TOO_FAR,
                origin,
                format!(
                    "the IPv6 node mask /{m} is {} bits longer than the pod range {cidr}; kube-controller-manager's allocator \
                     allows at most 16 (\"New CIDR set failed; the node CIDR size is too big\")",
                    m - prefix
                ),
                format!(
                    "use a node mask of at most /{} ({} = \"{}\"), or a pod range of /{} or longer",
                    prefix + 16,
                    mask_flag(net.is_dual_stack(), family),
                    prefix + 16,
                    m - 16
                ),
            ));
        } else if m == prefix {
            out.push(Diagnostic::new(
                &r::MASK_LEAVES_ONE_NODE,
                origin,
                format!("the node mask /{m} equals the pod range {cidr}: only one node can get a pod CIDR"),
                format!("use a longer node mask (e.g. /{}) so that several nodes fit", (prefix + 8).min(family.bits())),
            ));
        }
    }
}

fn kube_proxy(net: &ClusterNetwork, out: &mut Out) {
    let Some(cluster_cidr) = &net.kube_proxy_cluster_cidr else {
        return;
    };
    let given: Vec<Option<IpNet>> = cluster_cidr
        .value
        .split(',')
        .map(|s| kube6_net::parse_cidr(s).ok().map(|p| p.net))
        .collect();
    let pods: Vec<Option<IpNet>> = net.pods.iter().map(|p| p.value.net()).collect();
    if given != pods {
        let pods_text: Vec<String> = net.pods.iter().map(|p| p.value.text.clone()).collect();
        out.push(Diagnostic::new(
            &r::KUBE_PROXY_CLUSTER_CIDR,
            &cluster_cidr.origin,
            format!(
                "kube-proxy's clusterCIDR {:?} differs from the pod ranges {:?}: kube-proxy decides what to masquerade from it",
                cluster_cidr.value,
                pods_text.join(",")
            ),
            format!("set clusterCIDR: \"{}\"", pods_text.join(",")),
        ));
    }
}

fn cluster_dns(net: &ClusterNetwork, out: &mut Out) {
    let services = ranges(&net.services);
    let primary_service = services.first().map(|(_, c)| *c);
    for (i, dns) in net.cluster_dns.iter().enumerate() {
        let Some(ip) = dns.value.parsed else { continue };
        let inside = services.iter().any(|(_, c)| c.contains(&ip));
        if !inside {
            out.push(Diagnostic::new(
                &r::CLUSTER_DNS_OUTSIDE,
                &dns.origin,
                format!("cluster DNS IP {ip} is not inside any service range: no CoreDNS service can have it"),
                match primary_service.and_then(|c| kube6_net::indexed_ip(&c, 10)) {
                    Some(suggested) => format!("use {suggested} (the 10th address of the primary service range)"),
                    None => "use an address inside the service range".to_string(),
                },
            ));
            continue;
        }
        if i == 0
            && let Some(primary) = primary_service
            && !primary.contains(&ip)
        {
            out.push(Diagnostic::new(
                &r::CLUSTER_DNS_OUTSIDE,
                &dns.origin,
                format!(
                    "the first cluster DNS IP {ip} is not of the primary family ({})",
                    Family::of_net(&primary)
                ),
                "list the DNS IP of the primary family first",
            ));
            continue;
        }
        if net.distribution.value == Distribution::Kubeadm
            && i == 0
            && let Some(primary) = primary_service
            && let Some(expected) = kube6_net::indexed_ip(&primary, 10)
            && expected != ip
        {
            out.push(Diagnostic::new(
                &r::CLUSTER_DNS_OUTSIDE,
                &dns.origin,
                format!("kubeadm gives the CoreDNS service {expected} (the 10th address of {primary}), but the kubelet is told {ip}"),
                format!("set clusterDNS to [{expected}]"),
            ));
        }
    }
}
