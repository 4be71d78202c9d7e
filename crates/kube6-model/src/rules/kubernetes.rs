//! Rules of the Kubernetes components every distribution runs: kube-apiserver's service range
//! checks, kube-controller-manager's node-mask checks, kube-proxy and the kubelet's DNS.

use ipnet::IpNet;
use kube6_net::Family;

use super::catalog as r;
use super::{Out, ranges, with_prefix};
use crate::defaults::{self, mask_flag};
use crate::diagnostic::Diagnostic;
use crate::facts;
use crate::model::{ClusterNetwork, Cni, Distribution};
use crate::source::Origin;

pub fn check(net: &ClusterNetwork, out: &mut Out) {
    apiserver(net, out);
    advertise_family(net, out);
    if allocates_node_cidrs(net) {
        controller_manager(net, out);
    }
    kube_proxy(net, out);
    kube_proxy_mode(net, out);
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

/// A feature gate as the input sets it (`--feature-gates` or the format's own field).
fn gate(net: &ClusterNetwork, name: &str) -> Option<bool> {
    net.feature_gate(name).map(|g| g.enabled.value)
}

fn apiserver(net: &ClusterNetwork, out: &mut Out) {
    let version = net.kubernetes_release();
    let multi_cidr = gate(net, "MultiCIDRServiceAllocator");
    let disable_dual_write = gate(net, "DisableAllocatorDualWrite");
    // kube-apiserver limits the flag's range size (and allocates from a bitmap) unless both
    // service-allocator gates are on: by default from Kubernetes 1.34.
    let size_checked = facts::kubernetes::service_range_size_checked(
        version.as_ref(),
        multi_cidr,
        disable_dual_write,
    );
    // Without a version, kube6 cannot tell which kube-apiserver runs: it warns instead.
    let version_unknown = version.is_none() && multi_cidr.is_none() && disable_dual_write.is_none();
    let max_host_bits = facts::kubernetes::SERVICE_RANGE_MAX_HOST_BITS;
    let services = ranges(&net.services);
    for (value, cidr) in &services {
        let bits = cidr.max_prefix_len();
        let prefix = cidr.prefix_len();
        let host_bits = bits - prefix;
        let min = bits - max_host_bits;
        let too_short_for_new_allocator =
            bits == 128 && prefix < facts::kubernetes::IP_ADDRESS_ALLOCATOR_MIN_IPV6_PREFIX;
        if too_short_for_new_allocator && (version_unknown || !size_checked) {
            out.push(Diagnostic::new(
                &r::SERVICE_RANGE_IPV6_TOO_LARGE,
                &value.origin,
                format!(
                    "service range {cidr} is shorter than /64: kube-apiserver's ClusterIP allocator refuses it \
                     (\"shortest allowed prefix length for service CIDR is 64\"), and before Kubernetes 1.34 \
                     kube-apiserver refuses any IPv6 range shorter than /108"
                ),
                format!("use a /64 or longer prefix, e.g. {}", with_prefix(cidr, 112)),
            ));
        } else if host_bits > max_host_bits && size_checked && !version_unknown {
            out.push(Diagnostic::new(
                &r::SERVICE_RANGE_TOO_LARGE,
                &value.origin,
                format!(
                    "service range {cidr} has {host_bits} host bits; kube-apiserver{} refuses it \
                     (\"specified --service-cluster-ip-range is too large; for {bits}-bit addresses, the mask must be >= {min}\")",
                    version.as_ref().map_or(String::new(), |v| format!(" {}", v.core()))
                ),
                format!(
                    "use a /{min} or longer prefix, e.g. {}, or Kubernetes 1.34 or later with its default gates",
                    with_prefix(cidr, min)
                ),
            ));
        } else if host_bits > max_host_bits
            && version_unknown
            && net.distribution.value != Distribution::Kubeadm
        {
            // kubeadm refuses it in every version (K6E308); this warning would only repeat it.
            out.push(Diagnostic::new(
                &r::SERVICE_RANGE_SIZE_VERSION,
                &value.origin,
                format!(
                    "service range {cidr} has {host_bits} host bits: kube-apiserver before Kubernetes 1.34 refuses it \
                     (\"the mask must be >= {min}\"), from 1.34 on it accepts it; the input does not say which Kubernetes runs"
                ),
                format!(
                    "state the Kubernetes version, or use a /{min} or longer prefix (e.g. {}) that every release accepts",
                    with_prefix(cidr, min)
                ),
            ));
        }
        if bits == 128 && (108..112).contains(&prefix) && (size_checked || version_unknown) {
            let hint = if net.distribution.value == Distribution::K0s && !net.is_dual_stack() {
                "nothing to change on k0s IPv6 single-stack, where /108 is the only size both k0s and kube-apiserver accept; \
                 elsewhere a /112 matches what is used"
                    .to_string()
            } else {
                format!(
                    "use {} to have the range match the addresses in use, or keep it knowingly",
                    with_prefix(cidr, 112)
                )
            };
            out.push(Diagnostic::new(
                &r::SERVICE_RANGE_CLAMPED,
                &value.origin,
                if version_unknown {
                    format!(
                        "service range {cidr} has {} addresses; before Kubernetes 1.34 the bitmap ClusterIP allocator \
                         keeps at most 65,536, so only the first 65,536 are used there (the plan assumes a newer \
                         release, whose allocator uses the whole range; state the Kubernetes version to settle it)",
                        kube6_net::range_size(cidr).human(),
                    )
                } else {
                    format!(
                        "service range {cidr} has {} addresses, but the bitmap ClusterIP allocator keeps at most 65,536: \
                         only the first 65,536 are ever used",
                        kube6_net::range_size(cidr).human(),
                    )
                },
                hint,
            ));
        }
    }
    // Only the primary range gives the API server its Service address.
    if let Some((value, cidr)) = services.first()
        && kube6_net::range_size(cidr).to_u128().is_some_and(|n| n < 8)
    {
        out.push(Diagnostic::new(
            &r::SERVICE_RANGE_TOO_SMALL,
            &value.origin,
            format!(
                "the primary service range {cidr} has fewer than 8 addresses; kube-apiserver refuses it \
                 (\"the service cluster IP range must be at least 8 IP addresses\")"
            ),
            format!("use a /{} or shorter prefix", cidr.max_prefix_len() - 3),
        ));
    }
}

/// The address kube-apiserver advertises, where it comes from, and why. k3s passes
/// `--advertise-address` as given, else the first valid node-external-ip, else the first valid
/// node-ip, whatever its family (k3s-io/k3s pkg/cli/server/server.go `GetFirstValidIPString`).
fn advertised_address(net: &ClusterNetwork) -> Option<(std::net::IpAddr, Origin, String)> {
    if let Some(api) = &net.api.address {
        let ip: std::net::IpAddr = api.value.trim().parse().ok()?;
        // An unspecified address makes kube-apiserver advertise the host's default-route address
        // (ServerRunOptions.DefaultAdvertiseAddress), whose family kube6 does not know.
        if ip.is_unspecified() {
            return None;
        }
        return Some((
            ip,
            api.origin.clone(),
            "the API server advertises".to_string(),
        ));
    }
    if !net.distribution.value.is_k3s_family() {
        return None;
    }
    let external = net.specific.node_external_ips.iter();
    let node_ips = net.nodes.iter().flat_map(|n| &n.addresses);
    let (source, addr) = external
        .map(|a| ("node-external-ip", a))
        .chain(node_ips.map(|a| ("node-ip", a)))
        .find(|(_, a)| a.value.parsed.is_some())?;
    let ip = addr.value.parsed?;
    Some((
        ip,
        addr.origin.clone(),
        format!("with no advertise-address, k3s has kube-apiserver advertise the first {source}"),
    ))
}

/// The advertise address must be of the primary service family, unless no endpoint reconciler
/// runs (`validatePublicIPServiceClusterIPRangeIPFamilies`).
fn advertise_family(net: &ClusterNetwork, out: &mut Out) {
    let explicit_off = net
        .specific
        .endpoint_reconciler_type
        .as_ref()
        .is_some_and(|t| t.value.trim().eq_ignore_ascii_case("none"));
    // k0s reconciles the kubernetes endpoint itself when an external address is set, and then
    // starts kube-apiserver with --endpoint-reconciler-type=none.
    let k0s_off = net.distribution.value == Distribution::K0s
        && facts::k0s::apiserver_endpoint_reconciler_off(
            net.api
                .external
                .as_ref()
                .is_some_and(|e| !e.value.trim().is_empty()),
            net.specific
                .k0s_cplb_enabled
                .as_ref()
                .is_some_and(|c| c.value),
        );
    if explicit_off || k0s_off {
        return;
    }
    let (Some((ip, origin, how)), Some((_, first))) = (
        advertised_address(net),
        ranges(&net.services).first().copied(),
    ) else {
        return;
    };
    let (ip_family, service_family) = (Family::of_addr(&ip), Family::of_net(&first));
    if ip_family == service_family {
        return;
    }
    let fix = if net.distribution.value.is_k3s_family() && net.api.address.is_none() {
        format!(
            "list the node's {service_family} address first in node-ip, or set advertise-address to it"
        )
    } else {
        format!(
            "advertise a {service_family} address of this node, or list the {ip_family} service range first"
        )
    };
    out.push(Diagnostic::new(
        &r::ADVERTISE_FAMILY,
        &origin,
        format!(
            "{how} {ip} ({ip_family}), but the primary service range {first} is {service_family}; \
             kube-apiserver refuses this (\"service IP family must match public address family\")"
        ),
        fix,
    ));
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
    // kube-controller-manager reads 0 as "not set".
    let set = |mask: &Option<crate::source::Located<crate::model::MaskValue>>| {
        mask.as_ref()
            .is_some_and(|m| m.value.set_for_controller_manager())
    };
    if dual
        && set(&masks.single)
        && let Some(single) = &masks.single
    {
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
        if set(&masks.single)
            && (set(&masks.ipv4) || set(&masks.ipv6))
            && let Some(single) = &masks.single
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
            }
            .filter(|m| m.value.set_for_controller_manager());
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
    let detect_local_mode = net
        .kube_proxy_detect_local_mode
        .as_ref()
        .map(|m| m.value.as_str());
    if let Some(mode) = &net.kube_proxy_detect_local_mode
        && !mode.value.is_empty()
        && !facts::kubernetes::KUBE_PROXY_DETECT_LOCAL_MODES.contains(&mode.value.as_str())
    {
        out.push(Diagnostic::new(
            &r::KUBE_PROXY_DETECT_LOCAL_MODE,
            &mode.origin,
            format!(
                "kube-proxy refuses detectLocalMode {:?} (supported values: {})",
                mode.value,
                facts::kubernetes::KUBE_PROXY_DETECT_LOCAL_MODES.join(", ")
            ),
            "use ClusterCIDR (the default, from clusterCIDR), NodeCIDR, BridgeInterface or InterfaceNamePrefix",
        ));
    }
    let Some(cluster_cidr) = &net.kube_proxy_cluster_cidr else {
        return;
    };
    // An empty clusterCIDR is unset for kube-proxy (the conversion skips it).
    if !cluster_cidr.value.is_empty()
        && facts::kubernetes::kube_proxy_validates_cluster_cidr(detect_local_mode)
        && let Some(why) = cluster_cidr_problem(&cluster_cidr.value)
    {
        out.push(Diagnostic::new(
            &r::KUBE_PROXY_CLUSTER_CIDR_INVALID,
            &cluster_cidr.origin,
            format!(
                "kube-proxy refuses clusterCIDR {:?}: {why}",
                cluster_cidr.value
            ),
            "write one CIDR, or one IPv4 and one IPv6 CIDR separated by a comma without spaces, e.g. 10.244.0.0/16,fd00:10::/56",
        ));
        return;
    }
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

/// Why kube-proxy (`validateDualStackCIDRStrings` after the v1alpha1 conversion splits on
/// commas) refuses `text` as its clusterCIDR, if it does.
fn cluster_cidr_problem(text: &str) -> Option<String> {
    let entries: Vec<&str> = text.split(',').collect();
    if entries.len() > 2 {
        return Some(format!(
            "{} entries (\"must be a either a single CIDR or dual-stack pair of CIDRs\")",
            entries.len()
        ));
    }
    let mut families = Vec::new();
    for entry in &entries {
        match kube6_net::parse_cidr(entry) {
            Ok(parsed) => families.push(Family::of_net(&parsed.net)),
            Err(_) if entry.is_empty() => {
                return Some(
                    "an empty entry (a leading, trailing or doubled comma) is not a CIDR (\"must be a valid CIDR block\")"
                        .into(),
                );
            }
            Err(err) => {
                return Some(format!(
                    "`{entry}` is not a CIDR ({err}; \"must be a valid CIDR block\")"
                ));
            }
        }
    }
    (families.len() == 2 && families[0] == families[1]).then(|| {
        format!(
            "both entries are {} (\"must be a either a single CIDR or dual-stack pair of CIDRs\")",
            families[0]
        )
    })
}

/// kube-proxy's own check of its mode (KKP's `ebpf` means no kube-proxy and has KKP's rule).
fn kube_proxy_mode(net: &ClusterNetwork, out: &mut Out) {
    let Some(mode) = &net.kube_proxy_mode else {
        return;
    };
    let k0s_disabled = net
        .specific
        .k0s_kube_proxy_disabled
        .as_ref()
        .is_some_and(|d| d.value);
    if net.distribution.value == Distribution::Kkp || k0s_disabled || mode.origin.is_default() {
        return;
    }
    // k0s refuses values outside its own list first (K6E301).
    if net.distribution.value == Distribution::K0s
        && !facts::k0s::KUBE_PROXY_MODES.contains(&mode.value.as_str())
    {
        return;
    }
    let version = net.kubernetes_release();
    let nftables_gate = gate(net, "NFTablesProxyMode");
    if facts::kubernetes::kube_proxy_accepts(version.as_ref(), nftables_gate, mode.value.trim()) {
        return;
    }
    let release = version.as_ref().map_or_else(
        || "current kube-proxy".to_string(),
        |v| format!("kube-proxy {}", v.core()),
    );
    let why = match mode.value.trim() {
        "userspace" => " (the userspace proxy was removed in Kubernetes 1.26)".to_string(),
        "nftables" => {
            " (nftables needs Kubernetes 1.29 and, before 1.31, the NFTablesProxyMode gate)"
                .to_string()
        }
        _ => String::new(),
    };
    out.push(Diagnostic::new(
        &r::KUBE_PROXY_MODE,
        &mode.origin,
        format!(
            "{release} refuses proxy mode {:?}{why} (\"must be iptables, ipvs, nftables or blank\")",
            mode.value
        ),
        "use iptables, ipvs or nftables, or leave the mode empty for the default",
    ));
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
                format!(
                    "cluster DNS IP {ip} is not inside any service range: the kubelet accepts it, but no CoreDNS Service can \
                     have it (fine only when a node-local DNS cache answers on that address)"
                ),
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
                    "the first cluster DNS IP {ip} is not of the primary family ({}); the kubelet accepts it, but pods \
                     then query DNS over their secondary family",
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
                format!(
                    "kubeadm gives the CoreDNS Service {expected} (the 10th address of {primary}), but the kubelet is told {ip}: \
                     the kubelet accepts it, but pods ask an address CoreDNS does not have"
                ),
                format!("set clusterDNS to [{expected}]"),
            ));
        }
    }
}
