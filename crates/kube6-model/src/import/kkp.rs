//! Kubermatic KKP `Cluster` (`kubermatic.k8c.io/v1`): `spec.clusterNetwork`, `spec.cniPlugin`,
//! the cloud provider (the key under `spec.cloud`) and `spec.version`.
//!
//! Values are recorded as written, with paths like `spec.clusterNetwork.pods.cidrBlocks[0]`.
//! What KKP's defaulting adds besides the ranges (which `defaults::fill_ranges` adds) is set here
//! with `Origin::Default` ("kkp default"): the node masks of the families the pods will have,
//! the CNI and its version, and the kube-proxy mode.

use kube6_net::Family;

use super::walk::{self, Fields, Notes, ShapeError};
use crate::facts;
use crate::model::{CidrValue, ClusterNetwork, Cni, Distribution, Format, MaskValue};
use crate::source::{Located, Origin};
use crate::yaml::Node;

const TOP: &[&str] = &["apiVersion", "kind", "metadata", "spec"];
const TOP_IGNORED: &[&str] = &["status"];
const SPEC: &[&str] = &[
    "clusterNetwork",
    "cniPlugin",
    "cloud",
    "version",
    "humanReadableName",
    "exposeStrategy",
];
const SPEC_IGNORED: &[&str] = &[
    "containerRuntime",
    "imagePullSecret",
    "machineNetworks",
    "apiServerAllowedIPRanges",
    "componentsOverride",
    "oidc",
    "authenticationConfiguration",
    "features",
    "updateWindow",
    "usePodSecurityPolicyAdmissionPlugin",
    "usePodNodeSelectorAdmissionPlugin",
    "useEventRateLimitAdmissionPlugin",
    "admissionPlugins",
    "podNodeSelectorAdmissionPluginConfig",
    "eventRateLimitConfig",
    "enableUserSSHKeyAgent",
    "enableOperatingSystemManager",
    "kubelb",
    "kubernetesDashboard",
    "auditLogging",
    "opaIntegration",
    "serviceAccount",
    "mla",
    "applicationSettings",
    "encryptionConfiguration",
    "pause",
    "pauseReason",
    "debugLog",
    "disableCsiDriver",
    "backupConfig",
    "kyverno",
    "authorizationConfig",
    "containerRuntimeOpts",
];
const CLUSTER_NETWORK: &[&str] = &[
    "ipFamily",
    "pods",
    "services",
    "nodeCidrMaskSizeIPv4",
    "nodeCidrMaskSizeIPv6",
    "dnsDomain",
    "proxyMode",
    "konnectivityEnabled",
];
const CLUSTER_NETWORK_IGNORED: &[&str] = &[
    "ipvs",
    "nodeLocalDNSCacheEnabled",
    "coreDNSReplicas",
    "tunnelingAgentIP",
];
const RANGES: &[&str] = &["cidrBlocks"];
const CNI_PLUGIN: &[&str] = &["type", "version"];
/// The providers KKP's `CloudSpec` has, one key each.
const PROVIDERS: &[&str] = &[
    "fake",
    "digitalocean",
    "bringyourown",
    "baremetal",
    "edge",
    "aws",
    "azure",
    "openstack",
    "packet",
    "hetzner",
    "vsphere",
    "gcp",
    "kubevirt",
    "alibaba",
    "anexia",
    "nutanix",
    "vmwareclouddirector",
];
const CLOUD_IGNORED: &[&str] = &["dc", "providerName"];

const BY: &str = "kkp default";

pub fn import(doc: &Node, notes: &mut Notes) -> Result<ClusterNetwork, ShapeError> {
    let top = Fields::read(doc, "", TOP, TOP_IGNORED, notes)?;
    let distribution = Located::new(
        Distribution::Kkp,
        Origin::input("apiVersion", doc.get("apiVersion").map(|n| n.pos)),
    );
    let mut net = ClusterNetwork::new(Format::Kkp, distribution);
    if let Some(metadata) = top.get("metadata") {
        net.specific.kkp_name = Fields::any(metadata, "metadata")?.string("name")?;
    }
    let spec = top.map("spec", SPEC, SPEC_IGNORED, notes)?;
    let mut cni_given = false;
    if let Some(spec) = &spec {
        net.specific.kkp_human_readable_name = spec.string("humanReadableName")?;
        net.specific.kkp_expose_strategy = spec.string("exposeStrategy")?;
        // `spec.version` is the user cluster's Kubernetes version, not KKP's own.
        net.kubernetes_version = spec.text("version")?;
        if let Some(cloud) = spec.map("cloud", PROVIDERS, CLOUD_IGNORED, notes)? {
            // The provider is the key of its spec block; `providerName` names it too (and is
            // all KKP's own defaulting tests set).
            net.specific.kkp_provider = cloud
                .entries()
                .find(|(key, value)| PROVIDERS.contains(&key.name.as_str()) && !value.is_null())
                .map(|(key, _)| {
                    Located::new(
                        key.name.clone(),
                        Origin::input(cloud.path_of(&key.name), Some(key.pos)),
                    )
                });
            if net.specific.kkp_provider.is_none() {
                net.specific.kkp_provider = cloud.string("providerName")?;
            }
        }
        if let Some(cni) = spec.map("cniPlugin", CNI_PLUGIN, &[], notes)? {
            if let Some(kind) = cni.string("type")? {
                // A type outside KKP's enumeration is a validation error of a readable file
                // (rule K6E306), not an unreadable document: no CNI's rules apply then.
                let value = match kind.value.as_str() {
                    "cilium" => Cni::Cilium,
                    "canal" => Cni::Canal,
                    _ => Cni::Custom,
                };
                net.cni = Located::new(value, kind.origin.clone());
                net.specific.kkp_cni_type = Some(kind);
                cni_given = true;
            }
            net.cni_version = cni.text("version")?;
        }
        if let Some(network) = spec.map(
            "clusterNetwork",
            CLUSTER_NETWORK,
            CLUSTER_NETWORK_IGNORED,
            notes,
        )? {
            net.specific.kkp_ip_family = network.string("ipFamily")?;
            net.pods = cidr_blocks(&network, "pods", notes)?;
            net.services = cidr_blocks(&network, "services", notes)?;
            net.node_masks.ipv4 = network.mask("nodeCidrMaskSizeIPv4")?;
            net.node_masks.ipv6 = network.mask("nodeCidrMaskSizeIPv6")?;
            // DefaultClusterNetwork treats an empty dnsDomain as unset (cluster.local).
            if let Some(domain) = network.string("dnsDomain")?.filter(|d| !d.value.is_empty()) {
                net.cluster_domain = domain;
            }
            net.kube_proxy_mode = network.string("proxyMode")?;
            net.specific.kkp_konnectivity = network.boolean("konnectivityEnabled")?;
        }
    }
    apply_defaults(&mut net, cni_given);
    Ok(net)
}

fn cidr_blocks(
    network: &Fields<'_>,
    key: &str,
    notes: &mut Notes,
) -> Result<Vec<Located<CidrValue>>, ShapeError> {
    let Some(ranges) = network.map(key, RANGES, &[], notes)? else {
        return Ok(Vec::new());
    };
    let Some(blocks) = ranges.list("cidrBlocks")? else {
        return Ok(Vec::new());
    };
    blocks
        .into_iter()
        .map(|(path, node)| walk::string(node, &path).map(|s| s.map(CidrValue::new)))
        .collect()
}

/// What KKP's defaulting (pkg/defaulting/cluster.go) adds besides the ranges.
fn apply_defaults(net: &mut ClusterNetwork, cni_given: bool) {
    let provider = net.specific.kkp_provider.as_ref().map(|p| p.value.clone());
    // The CNI: Canal for the Edge provider, Cilium otherwise.
    if !cni_given && provider.as_deref() == Some("edge") {
        net.cni = Located::new(
            Cni::Canal,
            Origin::default_by("spec.cniPlugin.type", "kkp default for the edge provider"),
        );
    }
    if net.cni_version.is_none() {
        let version = match net.cni.value {
            Cni::Canal => Some(facts::kkp::DEFAULT_CANAL_VERSION),
            Cni::Cilium => Some(facts::kkp::DEFAULT_CILIUM_VERSION),
            _ => None,
        };
        net.cni_version = version.map(|v| {
            Located::new(
                v.to_string(),
                Origin::default_by("spec.cniPlugin.version", BY),
            )
        });
    }
    // Node masks: 24 and 64, each only when the pods (as given, or as KKP defaults them) have
    // that family.
    let families: Vec<Family> = if net.pods.is_empty() {
        if crate::defaults::kkp_ip_family(net) == facts::kkp::IP_FAMILY_DUAL_STACK {
            vec![Family::IPv4, Family::IPv6]
        } else {
            vec![Family::IPv4]
        }
    } else {
        net.pod_families()
    };
    if net.node_masks.ipv4.is_none() && families.contains(&Family::IPv4) {
        net.node_masks.ipv4 = Some(Located::new(
            MaskValue::new("24"),
            Origin::default_by("spec.clusterNetwork.nodeCidrMaskSizeIPv4", BY),
        ));
    }
    if net.node_masks.ipv6.is_none() && families.contains(&Family::IPv6) {
        net.node_masks.ipv6 = Some(Located::new(
            MaskValue::new("64"),
            Origin::default_by("spec.clusterNetwork.nodeCidrMaskSizeIPv6", BY),
        ));
    }
    // kube-proxy: the CRD defaults an absent proxyMode to ipvs before KKP's webhook sees it;
    // only an explicitly empty one gets the webhook's pick (iptables on Hetzner, nftables from
    // Kubernetes 1.35, ipvs before).
    match &net.kube_proxy_mode {
        None => {
            net.kube_proxy_mode = Some(Located::new(
                facts::kkp::CRD_DEFAULT_PROXY_MODE.to_string(),
                Origin::default_by("spec.clusterNetwork.proxyMode", "kkp CRD default"),
            ));
        }
        Some(mode) if mode.value.is_empty() => {
            let kubernetes = net.kubernetes_release();
            let picked = facts::kkp::default_proxy_mode(kubernetes.as_ref(), provider.as_deref());
            net.kube_proxy_mode = Some(Located::new(
                picked.to_string(),
                Origin::default_by("spec.clusterNetwork.proxyMode", BY),
            ));
        }
        Some(_) => {}
    }
}
