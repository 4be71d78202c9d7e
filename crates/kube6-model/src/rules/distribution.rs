//! Rules each distribution enforces itself (k0s's `Network.Validate`, k3s's agent checks,
//! kubeadm's `ValidateNetworking`, KKP's `ValidateClusterNetworkConfig`), plus the places where
//! one of them disagrees with a Kubernetes component.

use kube6_net::{Family, range_size};

use super::catalog as r;
use super::{Out, ranges, with_prefix};
use crate::diagnostic::Diagnostic;
use crate::model::{CidrValue, ClusterNetwork, Cni, Distribution, Format};
use crate::source::{Located, Origin};
use crate::{facts, k0s};

pub fn check(net: &ClusterNetwork, out: &mut Out) {
    check_for(net, net.distribution.value, out);
}

/// The rules `distribution` enforces, applied to `net` (which may have been written for another
/// distribution: `--target`, and what render checks before it writes a target's files).
pub fn check_for(net: &ClusterNetwork, distribution: Distribution, out: &mut Out) {
    match distribution {
        Distribution::K0s => check_k0s(net, out),
        Distribution::K3s | Distribution::Rke2 => check_k3s(net, out),
        Distribution::Kubeadm => check_kubeadm(net, out),
        Distribution::Kkp => check_kkp(net, out),
    }
    canal_version(net, out);
}

/// k0s's enumerations (`Network.Validate`, `KubeProxy.Validate`, `Calico.Validate`).
fn k0s_enumerations(net: &ClusterNetwork, out: &mut Out) {
    let s = &net.specific;
    if let Some(provider) = &s.k0s_provider
        && !facts::k0s::PROVIDERS.contains(&provider.value.as_str())
    {
        let message = if provider.value.is_empty() {
            "k0s requires a network provider (\"Required value\")".to_string()
        } else {
            format!(
                "k0s refuses the network provider {:?} (\"Unsupported value\": kuberouter, calico or custom)",
                provider.value
            )
        };
        out.push(Diagnostic::new(
            &r::K0S_PROVIDER,
            &provider.origin,
            message,
            "set spec.network.provider to kuberouter (the default), calico, or custom to bring your own CNI",
        ));
    }
    if let Some(address) = &net.api.address
        && facts::k0s::ANY_ADDRESSES.contains(&address.value.as_str())
    {
        out.push(Diagnostic::new(
            &r::K0S_API_ADDRESS_ANY,
            &address.origin,
            format!("k0s refuses spec.api.address {:?} (\"invalid INADDR_ANY\")", address.value),
            "set spec.api.address to this controller's own address, or leave it out (k0s then picks the first public address)",
        ));
    }
    let proxy_disabled = s.k0s_kube_proxy_disabled.as_ref().is_some_and(|d| d.value);
    if let Some(mode) = &net.kube_proxy_mode
        && !proxy_disabled
        && !facts::k0s::KUBE_PROXY_MODES.contains(&mode.value.as_str())
    {
        out.push(Diagnostic::new(
            &r::K0S_KUBE_PROXY_MODE,
            &mode.origin,
            format!(
                "k0s refuses kubeProxy.mode {:?} (\"unsupported mode {} for kubeProxy config\")",
                mode.value, mode.value
            ),
            "use iptables (the default), ipvs or nftables, or set kubeProxy.disabled: true",
        ));
    }
    if net.cni.value == Cni::Calico
        && let Some(mode) = &net.calico.mode
        && !facts::k0s::CALICO_MODES.contains(&mode.value.as_str())
    {
        out.push(Diagnostic::new(
            &r::K0S_CALICO_MODE,
            &mode.origin,
            format!(
                "k0s refuses calico.mode {:?}: it accepts bird, vxlan or ipip",
                mode.value
            ),
            "use vxlan (the default) or bird (needed for dual-stack)",
        ));
    }
}

/// The version stated for `distribution`, when the input is for that distribution (another
/// distribution's version says nothing about it).
fn version_of(net: &ClusterNetwork, distribution: Distribution) -> Option<crate::version::Version> {
    (net.distribution.value == distribution)
        .then(|| net.distribution_release())
        .flatten()
}

fn check_k0s(net: &ClusterNetwork, out: &mut Out) {
    if net.format == Format::K0s {
        k0s_enumerations(net, out);
    }
    k0s_service_prefix(net, out);
    let dual = net.is_dual_stack()
        || net
            .specific
            .k0s_dual_stack
            .as_ref()
            .is_some_and(|d| d.value);
    let s = &net.specific;
    if !dual {
        let (Some(pod), Some(service)) = (net.pods.first(), net.services.first()) else {
            return;
        };
        let (Some(pod_family), Some(service_family)) = (pod.value.family(), service.value.family())
        else {
            return;
        };
        if pod_family != service_family {
            out.push(Diagnostic::new(
                &r::K0S_FAMILY_MISMATCH,
                &pod.origin,
                format!("podCIDR is {pod_family} but serviceCIDR is {service_family}; k0s refuses this (\"podCIDR and serviceCIDR must be both IPv4 or IPv6\")"),
                "make both ranges the same family, or enable dualStack for an IPv4 + IPv6 cluster",
            ));
            return;
        }
        if pod_family == Family::IPv6 {
            let gate = net.feature_gate("IPv6SingleStack");
            if !gate.is_some_and(|g| g.enabled.value) {
                let origin = gate.map_or_else(|| pod.origin.clone(), |g| g.enabled.origin.clone());
                out.push(Diagnostic::new(
                    &r::K0S_SINGLE_STACK_GATE,
                    &origin,
                    "an IPv6 podCIDR without dual-stack is IPv6 single-stack, which k0s allows only with the IPv6SingleStack \
                     feature gate (\"feature gate IPv6SingleStack must be explicitly enabled to use IPv6 single stack\")",
                    "start every controller with `k0s controller --feature-gates=IPv6SingleStack=true` \
                     (for kube6: --feature-gates IPv6SingleStack=true)",
                ));
            }
            if net.format == Format::K0s {
                primary_family_in_single_stack(net, pod, out);
            }
        }
    } else {
        let version = version_of(net, Distribution::K0s);
        if net.cni.value == Cni::KubeRouter
            && net.primary() == Some(Family::IPv6)
            && !facts::k0s::supports_ipv6_primary_kube_router(version.as_ref())
        {
            let origin = net
                .pods
                .first()
                .map_or_else(|| net.cni.origin.clone(), |p| p.origin.clone());
            out.push(Diagnostic::new(
                &r::K0S_IPV6_FIRST_KUBE_ROUTER,
                &origin,
                format!(
                    "k0s {} configures kube-router, kube-proxy and the kubelet for IPv4-first dual-stack only; \
                     with IPv6 first the nodes' addresses, pod ranges and kube-router's router id disagree (k0sproject/k0s#7321)",
                    version.as_ref().map_or("before v1.36.1", |v| v.as_str())
                ),
                format!(
                    "use k0s {} or later, Calico (mode bird), or make IPv4 the primary family",
                    facts::k0s::IPV6_PRIMARY_KUBE_ROUTER_SINCE
                ),
            ));
        }
        if net.primary() == Some(Family::IPv4) && facts::k0s::pod_cidrs_ipv6_first(version.as_ref())
        {
            let origin = net
                .pods
                .first()
                .map_or_else(|| net.distribution.origin.clone(), |p| p.origin.clone());
            out.push(Diagnostic::new(
                &r::K0S_POD_CIDR_ORDER,
                &origin,
                format!(
                    "k0s {} gives kube-controller-manager the IPv6 pod range first (BuildPodCIDR): every node's \
                     podCIDRs list IPv6 first although the primary family is IPv4; the plan's node blocks are in that order",
                    version.as_ref().map_or("before v1.36.1", |v| v.as_str())
                ),
                format!(
                    "nothing to fix; k0s {} and later order them by the primary family",
                    facts::k0s::POD_CIDRS_PRIMARY_FIRST_SINCE
                ),
            ));
        }
        if net.cni.value == Cni::Calico {
            let mode = net.calico.mode.as_ref();
            if mode.is_none_or(|m| m.value != "bird") {
                let origin = mode.map_or_else(|| net.cni.origin.clone(), |m| m.origin.clone());
                out.push(Diagnostic::new(
                    &r::K0S_DUAL_STACK_CALICO_MODE,
                    &origin,
                    format!(
                        "k0s allows dual-stack with Calico only in mode `bird`, not `{}`",
                        mode.map_or("vxlan", |m| m.value.as_str())
                    ),
                    "set spec.network.calico.mode: bird",
                ));
            }
        }
        if net.format == Format::K0s {
            let slot = |value: &Option<Located<CidrValue>>,
                        want: Family,
                        field: &str,
                        out: &mut Out| {
                match value {
                    None => out.push(Diagnostic::new(
                        &r::K0S_DUAL_STACK_SLOTS,
                        &Origin::input(format!("spec.network.{field}"), None),
                        format!("dual-stack is enabled but spec.network.{field} is not set"),
                        format!("set spec.network.{field} to an {want} range, e.g. {}", if field.contains("pod") { "fd00::/108" } else { "fd01::/108" }),
                    )),
                    Some(v) if v.value.family().is_some_and(|f| f != want) => out.push(Diagnostic::new(
                        &r::K0S_DUAL_STACK_SLOTS,
                        &v.origin,
                        format!("with dual-stack enabled, spec.network.{field} must be {want}, not {}", want.other()),
                        if want == Family::IPv4 {
                            "put the IPv4 range here and the IPv6 one under dualStack (the order of families comes from primaryAddressFamily)".to_string()
                        } else {
                            "put the IPv6 range here and the IPv4 one in podCIDR/serviceCIDR".to_string()
                        },
                    )),
                    Some(_) => {}
                }
            };
            slot(&s.k0s_pod_cidr, Family::IPv4, "podCIDR", out);
            slot(&s.k0s_service_cidr, Family::IPv4, "serviceCIDR", out);
            slot(
                &s.k0s_ipv6_pod_cidr,
                Family::IPv6,
                "dualStack.IPv6podCIDR",
                out,
            );
            slot(
                &s.k0s_ipv6_service_cidr,
                Family::IPv6,
                "dualStack.IPv6serviceCIDR",
                out,
            );
        }
        for node in &net.nodes {
            let families: Vec<Family> = node
                .addresses
                .iter()
                .filter_map(|a| a.value.family())
                .collect();
            let has_both = families.contains(&Family::IPv4) && families.contains(&Family::IPv6);
            if !node.addresses.is_empty() && !has_both {
                out.push(Diagnostic::new(
                    &r::K0S_DUAL_STACK_NODE_IPS,
                    &node.name.origin,
                    format!(
                        "node {} has no {} address; k0s dual-stack looks up both families for --node-ip and fails without one",
                        node.name.value,
                        if families.contains(&Family::IPv4) { "IPv6" } else { "IPv4" }
                    ),
                    "give the node an address of each family (and make its name resolve to both), or pass \
                     --kubelet-extra-args=--node-ip=<IPv4>,<IPv6>",
                ));
            }
        }
    }
    let primary_service = if net.format == Format::K0s {
        match k0s::primary_family(net).0 {
            Family::IPv6 if dual => s.k0s_ipv6_service_cidr.clone(),
            _ => s.k0s_service_cidr.clone(),
        }
    } else {
        net.services.first().cloned()
    };
    if let Some(service) = primary_service
        && let Some(cidr) = service.value.net()
        && k0s::dns_address(&cidr).is_none()
    {
        out.push(Diagnostic::new(
            &r::K0S_DNS_TOO_NARROW,
            &service.origin,
            format!("k0s cannot place the cluster DNS address in {cidr} (\"failed to calculate DNS address: CIDR too narrow\")"),
            "use a service range with room for network address + 10 in its last byte, e.g. a /108 or /24",
        ));
    }
}

/// k0s's own IPv6 service-range limits (`Network.Validate`): serviceCIDR, when IPv6, may not be
/// longer than /108 (in any mode); in dual-stack, IPv6serviceCIDR may not be shorter than /108.
/// Both say "IPv6 service CIDR prefix must be <= 108".
fn k0s_service_prefix(net: &ClusterNetwork, out: &mut Out) {
    let limit = 128 - facts::kubernetes::SERVICE_RANGE_MAX_HOST_BITS;
    let dual = net
        .specific
        .k0s_dual_stack
        .as_ref()
        .is_some_and(|d| d.value);
    let (service, ipv6_service) = if net.format == Format::K0s {
        (
            net.specific.k0s_service_cidr.as_ref(),
            net.specific.k0s_ipv6_service_cidr.as_ref(),
        )
    } else if net.is_dual_stack() {
        (None, net.service_range(Family::IPv6))
    } else {
        (net.services.first(), None)
    };
    if let Some(service) = service
        && let Some(cidr) = service.value.net()
        && Family::of_net(&cidr) == Family::IPv6
        && cidr.prefix_len() > limit
    {
        let both = if dual {
            String::new()
        } else {
            format!(
                ", while kube-apiserver before Kubernetes 1.34 refuses any prefix shorter than /{limit}: only exactly /{limit} passes both"
            )
        };
        out.push(Diagnostic::new(
            &r::K0S_SERVICE_PREFIX,
            &service.origin,
            format!("k0s refuses the IPv6 service range {cidr} (\"IPv6 service CIDR prefix must be <= {limit}\"){both}"),
            format!("use {}", with_prefix(&cidr, limit)),
        ));
    }
    if dual
        && let Some(service) = ipv6_service
        && let Some(cidr) = service.value.net()
        && Family::of_net(&cidr) == Family::IPv6
        && cidr.prefix_len() < limit
    {
        out.push(Diagnostic::new(
            &r::K0S_SERVICE_PREFIX,
            &service.origin,
            format!(
                "k0s refuses the dual-stack IPv6 service range {cidr}: it has more than 20 host bits \
                 (\"IPv6 service CIDR prefix must be <= {limit}\", meaning at least /{limit})"
            ),
            format!("use a /{limit} or longer prefix, e.g. {}", with_prefix(&cidr, limit)),
        ));
    }
}

fn check_k3s(net: &ClusterNetwork, out: &mut Out) {
    k3s_default_dns(net, out);
    if net.distribution.value == Distribution::Rke2 {
        rke2_cni(net, out);
    }
    let pods = net.pod_families();
    let services = net.service_families();
    if !pods.is_empty() && !services.is_empty() && pods != services {
        let pod_text: Vec<&str> = net.pods.iter().map(|p| p.value.text.as_str()).collect();
        let svc_text: Vec<&str> = net.services.iter().map(|p| p.value.text.as_str()).collect();
        let origin = net
            .services
            .first()
            .map_or_else(|| net.distribution.origin.clone(), |s| s.origin.clone());
        out.push(Diagnostic::new(
            &r::K3S_CIDR_FAMILIES,
            &origin,
            format!(
                "cluster-cidr: {} and service-cidr: {}, must share the same IP version (IPv4, IPv6 or dual-stack), in the same order",
                pod_text.join(","),
                svc_text.join(",")
            ),
            format!("give service-cidr one range per family in the order {}", pods.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")),
        ));
    }
    let Some(&cluster_first) = pods.first() else {
        return;
    };
    let dual_cluster = pods.len() == 2;
    for node in &net.nodes {
        let ips: Vec<Family> = node
            .addresses
            .iter()
            .filter_map(|a| a.value.family())
            .collect();
        let Some(&first) = ips.first() else { continue };
        let dual_node = ips.contains(&Family::IPv4) && ips.contains(&Family::IPv6);
        let bad = (cluster_first == Family::IPv6 && !(first == Family::IPv6 || dual_node))
            || (dual_cluster && !dual_node)
            || (cluster_first == Family::IPv4 && !(first == Family::IPv4 || dual_node));
        if bad {
            let origin = node.addresses_origin();
            out.push(Diagnostic::new(
                &r::K3S_NODE_IP_FAMILIES,
                &origin,
                format!(
                    "cluster-cidr is {} but node-ip {} is not; k3s refuses to start (\"must share the same IP version\")",
                    super::input::describe(&pods),
                    node.node_ip_text()
                ),
                format!("give node-ip an address of each cluster family, {} first", cluster_first),
            ));
        }
    }
    if dual_cluster
        && cluster_first == Family::IPv6
        && net.nodes.iter().all(|n| n.addresses.is_empty())
    {
        let origin = net.pods[0].origin.clone();
        out.push(Diagnostic::new(
            &r::K3S_NODE_IP_ORDER,
            &origin,
            "the cluster is IPv6-primary but no node-ip is set: the kubelet detects IPv4 first",
            "set node-ip to this node's IPv6 and IPv4 addresses, IPv6 first (kube6 node-ip prints them)",
        ));
    }
}

/// Without cluster-dns, k3s takes `GetIndexedIP(range, 10)` of every service range and refuses
/// to start when that is outside the range ("cannot configure default cluster-dns address").
/// RKE2's check of its `cni` list (`validateCNI`).
fn rke2_cni(net: &ClusterNetwork, out: &mut Out) {
    let values: Vec<&str> = net
        .specific
        .rke2_cni
        .iter()
        .map(|v| v.value.as_str())
        .collect();
    let Some(problem) = facts::k3s::rke2_cni_problem(&values) else {
        return;
    };
    let origin = net
        .specific
        .rke2_cni
        .iter()
        .find(|v| {
            v.value != "multus"
                && !facts::k3s::RKE2_CNI_ITEMS.contains(&v.value.as_str())
                && v.value != "none"
        })
        .or(net.specific.rke2_cni.last())
        .map_or_else(|| net.cni.origin.clone(), |v| v.origin.clone());
    out.push(Diagnostic::new(
        &r::RKE2_CNI,
        &origin,
        format!(
            "RKE2 refuses cni {:?}: {problem} (\"Failed to validate --cni flag\")",
            values.join(",")
        ),
        format!(
            "set cni to one of none, {} (lower case), or to multus followed by one of them",
            facts::k3s::RKE2_CNI_ITEMS.join(", ")
        ),
    ));
}

fn k3s_default_dns(net: &ClusterNetwork, out: &mut Out) {
    if !net.cluster_dns.is_empty() {
        return;
    }
    for (value, cidr) in ranges(&net.services) {
        let size = range_size(&cidr);
        if size
            .to_u128()
            .is_some_and(|n| n < facts::k3s::MIN_SERVICE_ADDRESSES_FOR_DEFAULT_DNS)
        {
            out.push(Diagnostic::new(
                &r::K3S_DNS_RANGE_TOO_SMALL,
                &value.origin,
                format!(
                    "k3s takes the 10th address of each service range as a cluster DNS IP, but {cidr} has only {size} \
                     address(es); k3s refuses to start (\"cannot configure default cluster-dns address\")"
                ),
                format!(
                    "use a /{} or shorter prefix, or set cluster-dns to an address inside the range",
                    cidr.max_prefix_len() - 4
                ),
            ));
        }
    }
}

/// kubeadm derives kube-controller-manager's `--cluster-cidr` and kube-apiserver's
/// `--service-cluster-ip-range` from `networking`, and lets extraArgs override them
/// (cmd/kubeadm/app/phases/controlplane/manifests.go `getControllerManagerCommand`,
/// `getAPIServerCommand`): a different extraArgs value is what the component runs with.
fn kubeadm_extra_args_override(net: &ClusterNetwork, out: &mut Out) {
    let same = |a: &str, b: &str| {
        let nets = |t: &str| -> Vec<Option<ipnet::IpNet>> {
            t.split(',')
                .map(|s| kube6_net::parse_cidr(s.trim()).ok().map(|p| p.net))
                .collect()
        };
        a.trim() == b.trim() || (nets(a) == nets(b) && nets(a).iter().all(Option::is_some))
    };
    for (arg, networking, flag, field, component, derived) in [
        (
            &net.specific.kubeadm_kcm_cluster_cidr,
            &net.specific.raw_pod_list,
            "cluster-cidr",
            "networking.podSubnet",
            "kube-controller-manager allocates node pod CIDRs from it",
            "kube-proxy's clusterCIDR",
        ),
        (
            &net.specific.kubeadm_apiserver_service_range,
            &net.specific.raw_service_list,
            "service-cluster-ip-range",
            "networking.serviceSubnet",
            "kube-apiserver gives Services addresses from it",
            "the DNS Service address",
        ),
    ] {
        let (Some(arg), Some(networking)) = (arg, networking) else {
            continue;
        };
        if same(&arg.value, &networking.value) {
            continue;
        }
        out.push(Diagnostic::new(
            &r::KUBEADM_EXTRA_ARGS_OVERRIDE,
            &arg.origin,
            format!(
                "extraArgs {flag} {:?} overrides {field} {:?}: {component}, while kubeadm validated {field} and derives {derived} from it (kube6 follows {field})",
                arg.value, networking.value
            ),
            format!("set {field} to the range you want and drop the {flag} extraArg"),
        ));
    }
}

fn check_kubeadm(net: &ClusterNetwork, out: &mut Out) {
    kubeadm_extra_args_override(net, out);
    let control_planes: Vec<&crate::model::NodeSpec> = net
        .nodes
        .iter()
        .filter(|n| {
            n.role.as_ref().is_some_and(|r| {
                matches!(
                    r.value,
                    crate::model::Role::Controller | crate::model::Role::ControllerWorker
                )
            })
        })
        .collect();
    if control_planes.len() >= facts::kubeadm::CONTROL_PLANE_ENDPOINT_NEEDED_FROM
        && net.api.external.is_none()
    {
        let names: Vec<&str> = control_planes
            .iter()
            .map(|n| n.name.value.as_str())
            .collect();
        out.push(Diagnostic::new(
            &r::KUBEADM_CONTROL_PLANE_ENDPOINT,
            &control_planes[1].name.origin,
            format!(
                "{} control-plane nodes ({}) but no control-plane endpoint: kubeadm refuses to join the second one \
                 (\"unable to add a new control plane instance to a cluster that doesn't have a stable controlPlaneEndpoint address\")",
                control_planes.len(),
                names.join(", ")
            ),
            "set controlPlaneEndpoint (kube6: spec.api.externalAddress) to a DNS name or virtual IP that reaches every \
             control-plane node, e.g. a keepalived VIP or a load balancer",
        ));
    }
    for (value, cidr) in ranges(&net.services) {
        let bits = cidr.max_prefix_len();
        let host_bits = bits - cidr.prefix_len();
        let max = facts::kubeadm::MAX_SERVICE_SUBNET_HOST_BITS;
        if host_bits > max {
            out.push(Diagnostic::new(
                &r::KUBEADM_SERVICE_SUBNET_TOO_LARGE,
                &value.origin,
                format!(
                    "kubeadm refuses service subnet {cidr} (\"specified service subnet is too large; for {bits}-bit addresses, \
                     the mask must be >= {}\"), whatever the Kubernetes version",
                    bits - max
                ),
                format!("use a /{} or longer prefix, e.g. {}", bits - max, with_prefix(&cidr, bits - max)),
            ));
        }
    }
    for (value, cidr) in ranges(&net.services) {
        if range_size(&cidr).to_u128().is_some_and(|n| n < 10) {
            out.push(Diagnostic::new(
                &r::KUBEADM_SUBNET_TOO_SMALL,
                &value.origin,
                format!("service subnet {cidr} has {} address(es); kubeadm needs at least 10 (the DNS service takes the 10th)", range_size(&cidr)),
                format!("use a /{} or shorter prefix", cidr.max_prefix_len() - 4),
            ));
        }
    }
    for (value, cidr) in ranges(&net.pods) {
        if range_size(&cidr).to_u128().is_some_and(|n| n < 14) {
            out.push(Diagnostic::new(
                &r::KUBEADM_SUBNET_TOO_SMALL,
                &value.origin,
                format!(
                    "pod subnet {cidr} has {} address(es); kubeadm needs at least 14",
                    range_size(&cidr)
                ),
                format!("use a /{} or shorter prefix", cidr.max_prefix_len() - 4),
            ));
        }
    }
    if let Some(legacy) = &net.node_masks.single {
        out.push(Diagnostic::new(
            &r::KUBEADM_LEGACY_MASK_IGNORED,
            &legacy.origin,
            format!(
                "kubeadm ignores node-cidr-mask-size ({}) when it checks the pod subnet, and assumes the per-family flags \
                 (default 24 for IPv4, 64 for IPv6), while kube-controller-manager uses this value",
                legacy.value.text
            ),
            format!(
                "use node-cidr-mask-size-{}: \"{}\" instead, which both kubeadm and kube-controller-manager read",
                net.primary().map_or("ipv6", |f| if f == Family::IPv4 { "ipv4" } else { "ipv6" }),
                legacy.value.text
            ),
        ));
    }
    if !super::allocates_node_cidrs(net) {
        return;
    }
    for (value, cidr) in ranges(&net.pods) {
        let family = Family::of_net(&cidr);
        // kubeadm reads only the per-family flags (and their defaults), never the legacy one.
        let (mask, mask_origin) = match net.node_masks.for_family(family) {
            Some(m) => match m.value.parsed {
                Some(v) => (v, m.origin.clone()),
                None => continue,
            },
            None => (
                if family == Family::IPv4 {
                    crate::facts::kubernetes::KCM_NODE_MASK.ipv4
                } else {
                    crate::facts::kubernetes::KCM_NODE_MASK.ipv6
                },
                value.origin.clone(),
            ),
        };
        let prefix = cidr.prefix_len();
        let flag = format!(
            "node-cidr-mask-size-{}",
            if family == Family::IPv4 {
                "ipv4"
            } else {
                "ipv6"
            }
        );
        let message = if prefix > mask {
            Some(format!(
                "kubeadm refuses pod subnet {cidr}: \"the size of pod subnet with mask {prefix} is smaller than the size of node subnet with mask {mask}\" ({flag} is {mask})"
            ))
        } else if mask - prefix > 16 {
            Some(format!(
                "kubeadm refuses pod subnet {cidr}: \"pod subnet mask ({prefix}) and node-mask ({mask}) difference is greater than 16\""
            ))
        } else {
            None
        };
        if let Some(message) = message {
            let suggested = (prefix + 8).min(prefix + 16).min(family.bits());
            let suggested = if family == Family::IPv6 && prefix <= 64 && prefix + 16 >= 64 {
                64
            } else {
                suggested
            };
            out.push(Diagnostic::new(
                &r::KUBEADM_NODE_MASK_RANGE,
                &mask_origin,
                message,
                format!("set controllerManager.extraArgs {flag}: \"{suggested}\" (between {prefix} and {})", (prefix + 16).min(family.bits())),
            ));
        }
    }
}

/// KKP's enumerations and their conditions (`validateProxyMode`, `ValidateClusterSpec`).
fn kkp_enumerations(net: &ClusterNetwork, out: &mut Out) {
    if let Some(kind) = &net.specific.kkp_cni_type
        && !facts::kkp::CNI_TYPES.contains(&kind.value.as_str())
    {
        out.push(Diagnostic::new(
            &r::KKP_CNI_TYPE,
            &kind.origin,
            format!(
                "KKP refuses cniPlugin.type {:?} (\"Unsupported value\": canal, cilium or none)",
                kind.value
            ),
            "use cilium (the default), canal, or none to bring your own CNI",
        ));
    }
    let Some(mode) = &net.kube_proxy_mode else {
        return;
    };
    if !facts::kkp::PROXY_MODES.contains(&mode.value.as_str()) {
        out.push(Diagnostic::new(
            &r::KKP_PROXY_MODE,
            &mode.origin,
            format!("KKP refuses proxyMode {:?} (\"Unsupported value\": ipvs, iptables, ebpf or nftables)", mode.value),
            "use ipvs, iptables or nftables, or ebpf with Cilium",
        ));
    } else if mode.value == "ebpf" {
        // KKP refuses ebpf with Canal; with `none` the user's CNI is trusted to replace kube-proxy.
        if net.cni.value == Cni::Canal {
            out.push(Diagnostic::new(
                &r::KKP_PROXY_MODE,
                &mode.origin,
                "KKP refuses proxyMode ebpf with the Canal CNI (\"ebpf proxy mode is not valid for canal CNI\"): \
                 nothing would replace kube-proxy",
                "use cniPlugin.type: cilium, or another proxyMode",
            ));
        }
        if let Some(konnectivity) = &net.specific.kkp_konnectivity
            && !konnectivity.value
        {
            out.push(Diagnostic::new(
                &r::KKP_PROXY_MODE,
                &konnectivity.origin,
                "KKP refuses proxyMode ebpf without Konnectivity (\"ebpf proxy mode can be used only when Konnectivity is enabled\")",
                "remove konnectivityEnabled: false (KKP no longer allows disabling Konnectivity)",
            ));
        }
    }
}

fn check_kkp(net: &ClusterNetwork, out: &mut Out) {
    kkp_enumerations(net, out);
    if !matches!(net.cni.value, Cni::Cilium | Cni::Canal | Cni::Custom) {
        out.push(Diagnostic::new(
            &r::KKP_CNI,
            &net.cni.origin,
            format!(
                "KKP installs Cilium or Canal (or nothing, cniPlugin.type none); it cannot install {}",
                net.cni.value
            ),
            "use cilium or canal, or cniPlugin.type none and install the CNI yourself (kube6: --cni custom)",
        ));
    }
    if let Some(strategy) = &net.specific.kkp_expose_strategy
        && !facts::kkp::EXPOSE_STRATEGIES.contains(&strategy.value.as_str())
    {
        out.push(Diagnostic::new(
            &r::KKP_EXPOSE_STRATEGY,
            &strategy.origin,
            format!("KKP has no exposeStrategy {:?}", strategy.value),
            format!("use one of {}", facts::kkp::EXPOSE_STRATEGIES.join(", ")),
        ));
    }
    if net.format == Format::Kkp && net.kubernetes_version.is_none() {
        out.push(Diagnostic::new(
            &r::KKP_VERSION,
            &Origin::input("spec.version", None),
            "the Cluster has no spec.version: the CRD requires it and no KKP webhook fills it in, so the API server refuses the object",
            format!(
                "set spec.version to the Kubernetes version of the user cluster, e.g. {} (KKP v2.31's default)",
                facts::kkp::DEFAULT_KUBERNETES_VERSION
            ),
        ));
    }
    let families = net.families();
    if families == [Family::IPv6] {
        let origin = net
            .pods
            .first()
            .map_or_else(|| net.distribution.origin.clone(), |p| p.origin.clone());
        out.push(Diagnostic::new(
            &r::KKP_IPV6_ONLY,
            &origin,
            "KKP does not support IPv6-only clusters: ipFamily is IPv4 or IPv4+IPv6",
            "add an IPv4 pod and service range first (ipFamily: IPv4+IPv6), or use another distribution for IPv6-only",
        ));
    }
    for (what, list) in [("pods", &net.pods), ("services", &net.services)] {
        for (i, value) in list.iter().enumerate().take(2) {
            let Some(family) = value.value.family() else {
                continue;
            };
            let wrong = (i == 0 && family != Family::IPv4 && list.len() == 2)
                || (i == 1 && family == Family::IPv4);
            if wrong {
                out.push(Diagnostic::new(
                    &r::KKP_PRIMARY_IPV4,
                    &value.origin,
                    format!(
                        "KKP requires {what}.cidrBlocks to list IPv4 first and IPv6 second (\"invalid address family for {} CIDR\")",
                        if i == 0 { "primary" } else { "secondary" }
                    ),
                    "swap the two cidrBlocks entries; KKP supports only IPv4 as the primary family",
                ));
            }
        }
    }
    if !net.pods.is_empty() && !net.services.is_empty() && net.pods.len() != net.services.len() {
        out.push(Diagnostic::new(
            &r::KKP_COUNTS,
            &net.services[0].origin,
            format!(
                "{} pod CIDRs but {} service CIDRs; KKP needs the same number of each",
                net.pods.len(),
                net.services.len()
            ),
            "give one service CIDR per pod CIDR family",
        ));
    }
    if let Some(ip_family) = &net.specific.kkp_ip_family {
        // An empty ipFamily is defaulted from the pod CIDRs, so it always matches them.
        let expected = match ip_family.value.as_str() {
            "" => Some(net.pods.len()),
            "IPv4" => Some(1),
            "IPv4+IPv6" => Some(2),
            _ => None,
        };
        match expected {
            None => out.push(Diagnostic::new(
                &r::KKP_IP_FAMILY,
                &ip_family.origin,
                format!(
                    "ipFamily {:?} is not one KKP knows (IPv4 or IPv4+IPv6)",
                    ip_family.value
                ),
                "set ipFamily: IPv4+IPv6 for dual-stack or IPv4",
            )),
            Some(n) if !net.pods.is_empty() && net.pods.len() != n => out.push(Diagnostic::new(
                &r::KKP_IP_FAMILY,
                &ip_family.origin,
                format!(
                    "ipFamily {} does not match the {} pod CIDR(s)",
                    ip_family.value,
                    net.pods.len()
                ),
                if n == 2 {
                    "add an IPv6 pod CIDR, or set ipFamily: IPv4"
                } else {
                    "set ipFamily: IPv4+IPv6"
                },
            )),
            Some(_) => {}
        }
    }
    for (value, cidr) in ranges(&net.pods) {
        let family = Family::of_net(&cidr);
        let Some(mask) = net.node_masks.for_family(family) else {
            continue;
        };
        let Some(m) = mask.value.parsed else { continue };
        if cidr.prefix_len() >= m {
            out.push(Diagnostic::new(
                &r::KKP_NODE_MASK,
                &mask.origin,
                format!(
                    "KKP refuses node mask {m}: \"node CIDR mask size ({m}) must be longer than the mask size of the pod CIDR ({cidr})\""
                ),
                format!("use a node mask longer than /{}", cidr.prefix_len()),
            ));
        }
        let _ = value;
    }
    if net.cluster_domain.value != "cluster.local" {
        out.push(Diagnostic::new(
            &r::KKP_DNS_DOMAIN,
            &net.cluster_domain.origin,
            format!(
                "KKP requires dnsDomain to be cluster.local, not {:?}",
                net.cluster_domain.value
            ),
            "set spec.clusterNetwork.dnsDomain: cluster.local",
        ));
    }
    if net.is_dual_stack()
        && let Some(provider) = &net.specific.kkp_provider
        && matches!(provider.value.as_str(), "openstack" | "vsphere")
    {
        out.push(Diagnostic::new(
            &r::KKP_DATACENTER_IPV6,
            &provider.origin,
            format!(
                "dual-stack on {} works only where the KKP datacenter enables IPv6",
                provider.value
            ),
            format!(
                "make sure the datacenter in the KKP Seed sets spec.{}.ipv6Enabled: true",
                provider.value
            ),
        ));
    }
}

fn canal_version(net: &ClusterNetwork, out: &mut Out) {
    if net.cni.value != Cni::Canal || !net.is_dual_stack() {
        return;
    }
    let Some(version) = &net.cni_version else {
        return;
    };
    if net
        .cni_release()
        .is_some_and(|v| v.is_before(facts::kkp::CANAL_DUAL_STACK_SINCE))
    {
        out.push(Diagnostic::new(
            &r::CANAL_DUAL_STACK_VERSION,
            &version.origin,
            format!(
                "Canal {} does not support dual-stack; {} is the first version that does",
                version.value,
                facts::kkp::CANAL_DUAL_STACK_SINCE
            ),
            "use Canal v3.22 or later",
        ));
    }
}

/// K6W044: k0s picks the primary family from the API address, not from the ranges, and in IPv6
/// single-stack a derived IPv4 primary family matters only where k0s reads it:
///
/// - `ClusterSpec.PrimaryAddressFamily()` (k0sproject/k0s pkg/apis/k0s/v1beta1/
///   clusterconfig_types.go): `spec.network.primaryAddressFamily`, else IPv6 when the host of
///   `spec.api.externalAddress` (or `spec.api.address`) is an IPv6 address, else IPv4. An unset
///   `spec.api.address` is defaulted to `iface.FirstPublicAddress()` (pkg/apis/k0s/v1beta1/api.go
///   `setDefaults`, internal/pkg/iface): the first non-loopback IPv4 address of the host, IPv6
///   only when the host has no IPv4 at all.
/// - Without dual-stack, pod and service ranges and the DNS address ignore the primary family
///   (network.go `BuildPodCIDR`, `BuildServiceCIDR`, `DNSAddress`); so does the kubelet's node IP
///   detection (pkg/component/worker/kubelet.go, dual-stack only).
/// - Calico runs with `EnableIPv6 = dualStack || primary is IPv6` (pkg/component/controller/
///   calico.go `getConfig`): a derived IPv4 primary switches IPv6 off in calico-node.
/// - kube-router gets `router-id=generate` only with an IPv6 primary (pkg/component/controller/
///   kuberouter.go), and `spec.network.kuberouter.extraArgs` is merged after it, so a `router-id`
///   there makes the primary family moot. Without one kube-router derives its router id from the
///   node's first IP and stops only when that IP is IPv6 (cloudnativelabs/kube-router
///   pkg/controllers/routing/network_routes_controller.go: "router-id must be specified when
///   primary node IP is an IPv6 address").
/// - The API endpoint reconciler, which runs only with `spec.api.externalAddress`, resolves that
///   address in the primary family (pkg/component/controller/apiendpointreconciler.go).
///
/// So the warning fires when the configuration itself makes IPv4 primary and a component above
/// reads it; when only the host decides (no API address), it fires for Calico, which breaks on
/// any host with IPv4, and not for kube-router, whose router id then comes from the node's IP:
/// k0s's own IPv6 single-stack examples (kube-router, no API address) are right on IPv6-only
/// hosts and are not flagged.
fn primary_family_in_single_stack(net: &ClusterNetwork, pod: &Located<CidrValue>, out: &mut Out) {
    let (primary, source) = k0s::primary_family(net);
    if primary != Family::IPv4 {
        return;
    }
    let host_decides = source == k0s::PrimarySource::Unset;
    let mut effects = Vec::new();
    match net.cni.value {
        Cni::Calico => effects.push("calico-node runs with IPv6 switched off"),
        Cni::KubeRouter if net.kube_router.router_id.is_none() && !host_decides => effects
            .push("kube-router gets no router id and stops on every node whose first IP is IPv6"),
        _ => {}
    }
    if net
        .api
        .external
        .as_ref()
        .is_some_and(|e| !e.value.trim().is_empty())
    {
        effects.push(
            "the API endpoint reconciler looks up spec.api.externalAddress in IPv4 and writes \
             IPv4 endpoints for the kubernetes Service",
        );
    }
    if effects.is_empty() {
        return;
    }
    let why = match source {
        k0s::PrimarySource::Explicit => "spec.network.primaryAddressFamily is IPv4",
        k0s::PrimarySource::Unset => {
            "spec.api.address is unset, and k0s defaults it to the host's first IPv4 address when the host has one"
        }
        k0s::PrimarySource::Fallback => "the spec.api address is a hostname",
        _ => "the spec.api address is IPv4",
    };
    let certainty = if host_decides {
        "on a host with any IPv4 address, "
    } else {
        ""
    };
    out.push(Diagnostic::new(
        &r::K0S_PRIMARY_DERIVED,
        &pod.origin,
        format!(
            "{certainty}k0s will treat IPv4 as the primary family ({why}), although the ranges are IPv6: {}",
            effects.join("; ")
        ),
        "set spec.network.primaryAddressFamily: IPv6",
    ));
}
