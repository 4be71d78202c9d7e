//! Each distribution's defaults, exactly as the distributions apply them (see
//! `shared/reference/k0s_k3s.md` and `kubernetes_kkp_cni.md`). Defaulted values carry
//! `Origin::Default` so the plan can show them as such.

use kube6_net::Family;

use crate::facts;
use crate::model::{CidrValue, ClusterNetwork, Cni, Distribution, Format, MaskValue};
use crate::source::{Located, Origin};

pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// The CNI a distribution installs when the input names none.
pub fn cni(distribution: Distribution) -> Cni {
    match distribution {
        Distribution::K0s => Cni::KubeRouter,
        Distribution::K3s => Cni::Flannel,
        Distribution::Rke2 => Cni::Canal,
        Distribution::Kkp => Cni::Cilium,
        // kubeadm installs no CNI: the user brings one.
        Distribution::Kubeadm => Cni::Custom,
    }
}

/// Where a user sets the CNI in each format (for defaulted values' paths).
fn cni_path(format: Format) -> &'static str {
    match format {
        Format::Kube6 => "spec.cni",
        Format::K0s => "spec.network.provider",
        Format::K3s | Format::K3sArgs => "flannel-backend",
        Format::Rke2 => "cni",
        Format::Kkp => "spec.cniPlugin.type",
        Format::Kubeadm => "--cni",
    }
}

/// Where a user chooses the load-balancer implementation in each format.
fn lb_path(format: Format) -> &'static str {
    match format {
        Format::Kube6 => "spec.loadBalancer.implementation",
        Format::K3s | Format::K3sArgs => "disable",
        Format::Rke2 => "enable-servicelb",
        Format::K0s | Format::Kubeadm | Format::Kkp => "spec.loadBalancer.implementation",
    }
}

/// Where a user chooses the ingress controller in each format.
fn ingress_path(format: Format) -> &'static str {
    match format {
        Format::Kube6 => "spec.loadBalancer.ingress",
        Format::K3s | Format::K3sArgs => "disable",
        Format::Rke2 => "ingress-controller",
        Format::K0s | Format::Kubeadm | Format::Kkp => "spec.loadBalancer.ingress",
    }
}

fn domain_path(format: Format) -> &'static str {
    match format {
        Format::Kube6 => "spec.clusterDomain",
        Format::K0s => "spec.network.clusterDomain",
        Format::K3s | Format::Rke2 | Format::K3sArgs => "cluster-domain",
        Format::Kkp => "spec.clusterNetwork.dnsDomain",
        Format::Kubeadm => "networking.dnsDomain",
    }
}

fn pods_path(format: Format) -> &'static str {
    match format {
        Format::Kube6 => "spec.pods",
        Format::K0s => "spec.network.podCIDR",
        Format::K3s | Format::Rke2 | Format::K3sArgs => "cluster-cidr",
        Format::Kkp => "spec.clusterNetwork.pods.cidrBlocks",
        Format::Kubeadm => "networking.podSubnet",
    }
}

fn services_path(format: Format) -> &'static str {
    match format {
        Format::Kube6 => "spec.services",
        Format::K0s => "spec.network.serviceCIDR",
        Format::K3s | Format::Rke2 | Format::K3sArgs => "service-cidr",
        Format::Kkp => "spec.clusterNetwork.services.cidrBlocks",
        Format::Kubeadm => "networking.serviceSubnet",
    }
}

impl ClusterNetwork {
    /// An empty network for `distribution`, with the distribution's CNI and cluster domain as
    /// defaults; importers overwrite what the input sets.
    pub fn new(format: Format, distribution: Located<Distribution>) -> ClusterNetwork {
        let by = format!("{} default", distribution.value);
        ClusterNetwork {
            format,
            cni: Located::new(
                cni(distribution.value),
                Origin::default_by(cni_path(format), &by),
            ),
            cluster_domain: Located::new(
                CLUSTER_DOMAIN.to_string(),
                Origin::default_by(domain_path(format), &by),
            ),
            distribution,
            distribution_version: None,
            kubernetes_version: None,
            cni_version: None,
            pods: Vec::new(),
            services: Vec::new(),
            node_masks: Default::default(),
            api: Default::default(),
            primary_family: None,
            feature_gates: Vec::new(),
            cluster_dns: Vec::new(),
            nodes: Vec::new(),
            upstream: Vec::new(),
            nat64: None,
            dns: Default::default(),
            kube_proxy_mode: None,
            kube_proxy_cluster_cidr: None,
            kube_proxy_detect_local_mode: None,
            calico: Default::default(),
            cilium: Default::default(),
            flannel: Default::default(),
            kube_router: Default::default(),
            cni_conf: None,
            load_balancer: crate::load_balancer::LoadBalancer {
                implementation: Located::new(
                    crate::load_balancer::LbImplementation::None,
                    Origin::default_by(lb_path(format), "not yet decided"),
                ),
                version: None,
                pools: Vec::new(),
                bgp_peers: Vec::new(),
                ndp_proxy: None,
                ingress: Located::new(
                    crate::load_balancer::IngressController::None,
                    Origin::default_by(ingress_path(format), "not yet decided"),
                ),
                declared: false,
            },
            prefix: None,
            specific: Default::default(),
        }
    }

    /// The first node IP the input gives (k3s picks its defaults from it).
    pub fn first_node_ip_family(&self) -> Option<Family> {
        self.nodes
            .iter()
            .flat_map(|n| n.addresses.first())
            .find_map(|a| a.value.family())
    }
}

fn defaulted(text: &str, path: &str, by: &str) -> Located<CidrValue> {
    Located::new(CidrValue::new(text), Origin::default_by(path, by))
}

/// Adds the pod and service ranges a distribution uses when the input gives none.
/// (k0s's importer applies k0s's defaults itself, since k0s orders ranges by its primary family.)
pub fn fill_ranges(net: &mut ClusterNetwork) {
    let dist = net.distribution.value;
    let by = format!("{dist} default");
    let pods_path = pods_path(net.format);
    let services_path = services_path(net.format);
    match dist {
        Distribution::K0s => {
            if net.pods.is_empty() {
                net.pods
                    .push(defaulted(facts::k0s::POD_CIDR, pods_path, &by));
            }
            if net.services.is_empty() {
                net.services
                    .push(defaulted(facts::k0s::SERVICE_CIDR, services_path, &by));
            }
        }
        Distribution::K3s | Distribution::Rke2 => {
            // k3s picks IPv6 defaults when the first node IP is IPv6 (IPv6-only mode is implicit).
            let v6 = net.first_node_ip_family() == Some(Family::IPv6);
            let by = if v6 {
                format!("{by} for an IPv6 first node IP")
            } else {
                by
            };
            if net.pods.is_empty() {
                let cidr = if v6 {
                    facts::k3s::POD_CIDR_V6
                } else {
                    facts::k3s::POD_CIDR_V4
                };
                net.pods.push(defaulted(cidr, pods_path, &by));
            }
            if net.services.is_empty() {
                let cidr = if v6 {
                    facts::k3s::SERVICE_CIDR_V6
                } else {
                    facts::k3s::SERVICE_CIDR_V4
                };
                net.services.push(defaulted(cidr, services_path, &by));
            }
        }
        Distribution::Kubeadm => {
            if net.services.is_empty() {
                net.services
                    .push(defaulted(facts::kubeadm::SERVICE_CIDR, services_path, &by));
            }
        }
        Distribution::Kkp => {
            let kubevirt = net
                .specific
                .kkp_provider
                .as_ref()
                .is_some_and(|p| p.value == "kubevirt");
            // `DefaultClusterNetwork` settles the ipFamily first (from the pod CIDRs when it is
            // empty) and then defaults pods and services to it.
            let dual = kkp_ip_family(net) == facts::kkp::IP_FAMILY_DUAL_STACK;
            if net.pods.is_empty() {
                let v4 = if kubevirt {
                    facts::kkp::POD_CIDR_V4_KUBEVIRT
                } else {
                    facts::kkp::POD_CIDR_V4
                };
                net.pods.push(defaulted(v4, pods_path, &by));
                if dual {
                    net.pods
                        .push(defaulted(facts::kkp::POD_CIDR_V6, pods_path, &by));
                }
            }
            if net.services.is_empty() {
                let v4 = if kubevirt {
                    facts::kkp::SERVICE_CIDR_V4_KUBEVIRT
                } else {
                    facts::kkp::SERVICE_CIDR_V4
                };
                net.services.push(defaulted(v4, services_path, &by));
                if dual {
                    net.services
                        .push(defaulted(facts::kkp::SERVICE_CIDR_V6, services_path, &by));
                }
            }
        }
    }
}

/// A node-mask flag as kube-controller-manager reads it: a value of 0 means "not set".
fn set_for_kcm(mask: Option<&Located<MaskValue>>) -> Option<&Located<MaskValue>> {
    mask.filter(|m| m.value.set_for_controller_manager())
}

/// The ipFamily KKP works with: as written, else what its `DefaultClusterNetwork`
/// (kubermatic/kubermatic pkg/defaulting/cluster.go) picks from the number of pod CIDRs.
pub fn kkp_ip_family(net: &ClusterNetwork) -> &str {
    match &net.specific.kkp_ip_family {
        Some(family) if !family.value.is_empty() => family.value.as_str(),
        _ => facts::kkp::default_ip_family(net.pods.len()),
    }
}

/// The node mask kube-controller-manager will use for `family`, and where it comes from, the
/// way the distribution configures it. None when the flag value does not parse (a rule reports it).
pub fn node_mask(net: &ClusterNetwork, family: Family) -> Option<Located<u8>> {
    let dual = net.is_dual_stack();
    // kube-controller-manager reads a flag value of 0 as "not set" (the default applies).
    let explicit = if dual {
        set_for_kcm(net.node_masks.for_family(family))
    } else {
        // Single-stack: the legacy flag wins, else the family's own flag.
        set_for_kcm(net.node_masks.single.as_ref())
            .or_else(|| set_for_kcm(net.node_masks.for_family(family)))
    };
    if let Some(mask) = explicit {
        return mask
            .value
            .parsed
            .map(|m| Located::new(m, mask.origin.clone()));
    }
    let dist = net.distribution.value;
    let (value, by) = match (dist, family) {
        (Distribution::K0s, _) => {
            let version = net.distribution_release();
            let by = match &version {
                Some(v) => format!("k0s {v} default"),
                None => "k0s default".to_string(),
            };
            (facts::k0s::node_mask(version.as_ref(), dual, family), by)
        }
        (_, _) => (
            facts::kubernetes::KCM_NODE_MASK.get(family),
            "kube-controller-manager default".to_string(),
        ),
    };
    let path = match (net.format, family) {
        (Format::Kube6, _) => "spec.pods[].nodeMaskSize".to_string(),
        (Format::Kkp, Family::IPv4) => "spec.clusterNetwork.nodeCidrMaskSizeIPv4".to_string(),
        (Format::Kkp, Family::IPv6) => "spec.clusterNetwork.nodeCidrMaskSizeIPv6".to_string(),
        (Format::K0s, _) => format!(
            "spec.controllerManager.extraArgs.{}",
            mask_flag(dual, family)
        ),
        (Format::Kubeadm, _) => format!("controllerManager.extraArgs.{}", mask_flag(dual, family)),
        (Format::K3s | Format::Rke2 | Format::K3sArgs, _) => {
            format!("kube-controller-manager-arg: {}", mask_flag(dual, family))
        }
    };
    Some(Located::new(value, Origin::default_by(path, by)))
}

/// The kube-controller-manager flag that sets the node mask for `family`.
pub fn mask_flag(dual: bool, family: Family) -> &'static str {
    match (dual, family) {
        (false, _) => "node-cidr-mask-size",
        (true, Family::IPv4) => "node-cidr-mask-size-ipv4",
        (true, Family::IPv6) => "node-cidr-mask-size-ipv6",
    }
}

/// What a distribution runs for LoadBalancer Services and ingress when the input does not say:
/// k3s its ServiceLB and Traefik, RKE2 its ingress controller of the release (and no load
/// balancer unless `enable-servicelb`), KKP its provider's cloud controller where there is one,
/// k0s and kubeadm nothing. Values the input set keep their origin.
pub fn fill_load_balancer(net: &mut ClusterNetwork) {
    use crate::load_balancer::LbImplementation;
    let dist = net.distribution.value;
    let release = net.distribution_release();
    let lb = &mut net.load_balancer;
    if lb.implementation.origin.is_default() {
        let (value, by) = match dist {
            Distribution::K3s => (
                LbImplementation::Servicelb,
                "k3s default (ServiceLB, unless disable: servicelb)".to_string(),
            ),
            Distribution::Rke2 => (
                LbImplementation::None,
                "rke2 default (no ServiceLB unless enable-servicelb: true)".to_string(),
            ),
            Distribution::Kkp => {
                let provider = net.specific.kkp_provider.as_ref().map(|p| p.value.clone());
                match provider.as_deref().map(facts::kkp::provider_lb) {
                    Some(Some(
                        facts::kkp::ProviderLb::NeedsAddon | facts::kkp::ProviderLb::Unsupported,
                    ))
                    | None => (
                        LbImplementation::None,
                        format!(
                            "kkp default (no cloud load balancer on {})",
                            provider.as_deref().unwrap_or("this provider")
                        ),
                    ),
                    Some(_) => (
                        LbImplementation::Cloud,
                        format!(
                            "kkp default (the {} cloud controller)",
                            provider.as_deref().unwrap_or("provider's")
                        ),
                    ),
                }
            }
            Distribution::K0s | Distribution::Kubeadm => (
                LbImplementation::None,
                format!("{dist} default (none installed)"),
            ),
        };
        lb.implementation = Located::new(value, Origin::default_by(lb_path(net.format), by));
    }
    if lb.ingress.origin.is_default() {
        let value = facts::ingress::default_for(dist, release.as_ref());
        let by = match (dist, &release) {
            (Distribution::Rke2, Some(v)) => format!("rke2 {v} default"),
            (Distribution::Rke2, None) => format!(
                "rke2 default from {} on (ingress-nginx before)",
                facts::ingress::RKE2_TRAEFIK_DEFAULT_SINCE
            ),
            (Distribution::K3s, _) => "k3s default (Traefik, unless disable: traefik)".to_string(),
            _ => format!("{dist} default (none installed)"),
        };
        lb.ingress = Located::new(value, Origin::default_by(ingress_path(net.format), by));
    }
}
