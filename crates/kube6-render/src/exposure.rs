//! Getting traffic in: the load-balancer implementation's pools and announcements (MetalLB
//! IPAddressPool / L2Advertisement / BGPAdvertisement / BGPPeer, Cilium
//! CiliumLoadBalancerIPPool / CiliumL2AnnouncementPolicy / BGPv2 resources) and the ingress
//! controller's chart values with a Service of every family the cluster has (k3s's Traefik and
//! RKE2's ingress charts through HelmChartConfigs, plain Helm values files elsewhere).
//!
//! Field names are the upstream CRDs' (shared/schemas/metallb at v0.16.1, shared/schemas/cilium
//! at v1.19.4) and the charts' values (kubernetes/ingress-nginx charts/ingress-nginx/values.yaml
//! `controller.service.ipFamilyPolicy`; traefik/traefik-helm-chart traefik/templates/_service.tpl,
//! which copies `service.spec` into the Service and, up to chart v39, also reads
//! `service.ipFamilyPolicy`). What each implementation can do per release is in
//! `kube6_model::facts::{metallb, cilium, ingress}`; the rules (K6x4xx) judge the plan first.

use kube6_model::facts;
use kube6_model::load_balancer::{Block, IngressController, LbImplementation, LbMode, LbPool};
use kube6_model::model::{BgpPeer, Distribution};
use kube6_net::Family;

use crate::yaml::{self, Yaml};
use crate::{Context, RenderError, Rendered, RenderedFile, Renderer};

/// MetalLB's namespace in its manifests and Helm chart (config/native, charts/metallb).
pub const METALLB_NAMESPACE: &str = "metallb-system";
/// The label kube6's CiliumBGPAdvertisement carries and its CiliumBGPPeerConfig selects.
const CILIUM_ADVERTISE_LABEL: &str = "kube6.dev/advertise";
const CILIUM_ADVERTISE_VALUE: &str = "load-balancer";

pub struct Exposure;

impl Renderer for Exposure {
    fn name(&self) -> &'static str {
        "load balancers and ingress"
    }

    fn render(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        let mut out = Rendered::default();
        let lb = &cx.net.load_balancer;
        let pools: Vec<(String, &LbPool)> = lb
            .pools
            .iter()
            .enumerate()
            .map(|(i, p)| (p.display_name(i), p))
            .collect();
        match implementation(cx) {
            LbImplementation::Metallb if !pools.is_empty() => {
                out.files.push(metallb(cx, &pools, &mut out.notes));
            }
            LbImplementation::Cilium if !pools.is_empty() => {
                out.files.push(cilium(cx, &pools, &mut out.notes));
            }
            LbImplementation::KubeVip if !pools.is_empty() => out.notes.push(
                "kube-vip: kube6 renders no kube-vip configuration; give its cloud provider the pools as range-global/cidr-global in the kubevip ConfigMap"
                    .to_string(),
            ),
            _ => {}
        }
        if let Some(file) = ingress(cx, &mut out.notes) {
            out.files.push(file);
        }
        Ok(out)
    }
}

/// The implementation for the target: the input's choice, or the target distribution's
/// default (k3s's ServiceLB; nothing elsewhere) when the input did not choose.
pub fn implementation(cx: &Context<'_>) -> LbImplementation {
    let lb = &cx.net.load_balancer;
    if lb.implementation.origin.is_default() && cx.distribution != cx.net.distribution.value {
        return match cx.distribution {
            Distribution::K3s => LbImplementation::Servicelb,
            _ => LbImplementation::None,
        };
    }
    lb.implementation.value
}

/// Whether the rendered Cilium runs L2 announcements (and so replaces kube-proxy).
pub fn cilium_l2(cx: &Context<'_>) -> bool {
    cx.cni == kube6_model::model::Cni::Cilium
        && implementation(cx) == LbImplementation::Cilium
        && cx
            .net
            .load_balancer
            .pools
            .iter()
            .any(|p| p.mode() == LbMode::L2)
}

/// The ingress controller for the target: the input's choice, or the target distribution's
/// default (the input's release only counts for its own distribution).
pub fn ingress_controller(cx: &Context<'_>) -> IngressController {
    let lb = &cx.net.load_balancer;
    if !lb.ingress.origin.is_default() {
        return lb.ingress.value;
    }
    let release = (cx.distribution == cx.net.distribution.value)
        .then(|| cx.net.distribution_release())
        .flatten();
    facts::ingress::default_for(cx.distribution, release.as_ref())
}

/// `ipFamilyPolicy` and `ipFamilies` for a Service that should have every family of the
/// cluster, primary first: SingleStack on a single-stack cluster, PreferDualStack on a
/// dual-stack one (it still gets created where a family's ClusterIP range is exhausted).
pub fn service_families(cx: &Context<'_>) -> Vec<(&'static str, Yaml)> {
    let policy = if cx.dual() {
        "PreferDualStack"
    } else {
        "SingleStack"
    };
    vec![
        ("ipFamilyPolicy", Yaml::str(policy)),
        (
            "ipFamilies",
            Yaml::strs(cx.families().iter().map(|f| f.to_string())),
        ),
    ]
}

fn block_text(block: &Block) -> String {
    block.to_string()
}

/// An AS number as MetalLB and Cilium take it (an integer; "AS64500" is read too).
fn asn(text: &str) -> Option<i64> {
    let t = text.trim();
    let t = t
        .strip_prefix("AS")
        .or_else(|| t.strip_prefix("as"))
        .unwrap_or(t);
    t.parse::<u32>().ok().map(i64::from)
}

/// The peers pools in BGP mode are announced to: spec.loadBalancer.bgpPeers, else the upstream
/// BGP peers. Each with its address, peer ASN and local ASN, or why it cannot be written.
fn peers(cx: &Context<'_>, notes: &mut Vec<String>) -> Vec<(String, i64, i64)> {
    let lb = &cx.net.load_balancer;
    let from: Vec<&BgpPeer> = if lb.bgp_peers.is_empty() {
        cx.net
            .upstream
            .iter()
            .filter_map(|u| u.bgp.as_ref())
            .collect()
    } else {
        lb.bgp_peers.iter().collect()
    };
    let mut out = Vec::new();
    for peer in from {
        let address = peer.peer_address.as_ref().and_then(|a| a.value.parsed);
        let peer_asn = peer.peer_asn.as_ref().and_then(|a| asn(&a.value));
        let local_asn = peer.local_asn.as_ref().and_then(|a| asn(&a.value));
        match (address, peer_asn, local_asn) {
            (Some(a), Some(p), Some(l)) => out.push((a.to_string(), p, l)),
            _ => notes.push(format!(
                "load balancer: the BGP peer {} lacks a valid address, peerASN or localASN; it is left out (add it, then render again)",
                address.map_or_else(|| "without an address".to_string(), |a| a.to_string())
            )),
        }
    }
    out
}

fn object(api_version: &str, kind: &str, name: &str, namespace: Option<&str>, spec: Yaml) -> Yaml {
    let mut metadata = Yaml::map([("name", Yaml::str(name))]);
    if let Some(ns) = namespace {
        metadata.push("namespace", Yaml::str(ns));
    }
    Yaml::map([
        ("apiVersion", Yaml::str(api_version)),
        ("kind", Yaml::str(kind)),
        ("metadata", metadata),
        ("spec", spec),
    ])
}

fn pools_in(pools: &[(String, &LbPool)], mode: LbMode) -> Vec<String> {
    pools
        .iter()
        .filter(|(_, p)| p.mode() == mode)
        .map(|(n, _)| n.clone())
        .collect()
}

/// MetalLB: one IPAddressPool per pool (a pool with both families serves dual-stack
/// Services, facts::metallb::DUAL_STACK_NEEDS_ONE_POOL), an L2Advertisement for the pools in
/// l2 mode, a BGPAdvertisement and the BGPPeers (metallb.io/v1beta2) for the ones in bgp mode.
fn metallb(cx: &Context<'_>, pools: &[(String, &LbPool)], notes: &mut Vec<String>) -> RenderedFile {
    let ns = Some(METALLB_NAMESPACE);
    let mut docs = Vec::new();
    for (name, pool) in pools {
        let addresses: Vec<String> = pool.blocks().map(|(_, b)| block_text(&b)).collect();
        docs.push(object(
            "metallb.io/v1beta1",
            "IPAddressPool",
            name,
            ns,
            Yaml::map([("addresses", Yaml::strs(addresses))]),
        ));
    }
    let l2 = pools_in(pools, LbMode::L2);
    if !l2.is_empty() {
        let mut spec = Yaml::map([("ipAddressPools", Yaml::strs(l2))]);
        if let Some(uplink) = uplink(cx) {
            // The speaker answers NDP and ARP on every eligible interface unless told
            // (internal/layer2/announcer.go): the upstream router is on the uplink.
            spec.push("interfaces", Yaml::strs([uplink]));
        }
        docs.push(object(
            "metallb.io/v1beta1",
            "L2Advertisement",
            "kube6-l2",
            ns,
            spec,
        ));
    }
    let bgp = pools_in(pools, LbMode::Bgp);
    if !bgp.is_empty() {
        docs.push(object(
            "metallb.io/v1beta1",
            "BGPAdvertisement",
            "kube6-bgp",
            ns,
            Yaml::map([("ipAddressPools", Yaml::strs(bgp))]),
        ));
        for (i, (address, peer_asn, local_asn)) in peers(cx, notes).into_iter().enumerate() {
            docs.push(object(
                "metallb.io/v1beta2",
                "BGPPeer",
                &format!("kube6-peer-{}", i + 1),
                ns,
                Yaml::map([
                    ("myASN", Yaml::Int(local_asn)),
                    ("peerASN", Yaml::Int(peer_asn)),
                    ("peerAddress", Yaml::str(address)),
                ]),
            ));
        }
        if pools
            .iter()
            .any(|(_, p)| p.mode() == LbMode::Bgp && p.families().contains(&Family::IPv6))
        {
            notes.push(
                "metallb: IPv6 pools over BGP need MetalLB's FRR or FRR-K8s mode (the native BGP mode refuses them)"
                    .to_string(),
            );
        }
    }
    RenderedFile::config(
        "load-balancer/metallb.yaml",
        format!(
            "# Rendered by kube6: MetalLB pools and announcements (MetalLB {} CRDs; kubectl apply -f metallb.yaml once MetalLB runs in {METALLB_NAMESPACE}).\n{}",
            facts::metallb::ASSUMED_RELEASE,
            yaml::documents(&docs)
        ),
    )
}

/// The interface facing the upstream router, when the plan names one for IPv6 (or IPv4).
fn uplink(cx: &Context<'_>) -> Option<String> {
    [Family::IPv6, Family::IPv4]
        .iter()
        .filter_map(|f| cx.net.upstream_for(*f))
        .find_map(|u| u.uplink.as_ref().map(|l| l.value.clone()))
}

/// Cilium LB-IPAM: one CiliumLoadBalancerIPPool per pool, an L2 announcement policy for
/// LoadBalancer IPs when a pool is in l2 mode, and the BGPv2 cluster config, peer config and
/// Service advertisement when one is in bgp mode. The Helm values that switch these on are in
/// `cni::cilium_values`.
fn cilium(cx: &Context<'_>, pools: &[(String, &LbPool)], notes: &mut Vec<String>) -> RenderedFile {
    let version = (cx.cni == cx.net.cni.value)
        .then(|| cx.net.cni_release())
        .flatten();
    let api = facts::cilium::lb_api_version(version.as_ref());
    let mut docs = Vec::new();
    let keys = facts::cilium::lb_pool_keys(version.as_ref());
    for (name, pool) in pools {
        let spec = match keys {
            // Before 1.15 a pool takes CIDRs only: a range becomes the CIDRs that cover it.
            facts::cilium::LbPoolKeys::Cidrs => {
                let cidrs: Vec<Yaml> = pool
                    .blocks()
                    .flat_map(|(_, b)| b.cidrs())
                    .map(|cidr| Yaml::map([("cidr", Yaml::str(cidr.to_string()))]))
                    .collect();
                Yaml::map([("cidrs", Yaml::Seq(cidrs))])
            }
            facts::cilium::LbPoolKeys::Blocks => {
                let blocks: Vec<Yaml> = pool
                    .blocks()
                    .map(|(_, b)| match b.cidr {
                        Some(cidr) => Yaml::map([("cidr", Yaml::str(cidr.to_string()))]),
                        None => Yaml::map([
                            ("start", Yaml::str(b.first.to_string())),
                            ("stop", Yaml::str(b.last.to_string())),
                        ]),
                    })
                    .collect();
                let mut spec = Yaml::map([("blocks", Yaml::Seq(blocks))]);
                // 1.15 keeps the first and last address of each CIDR back by default; the
                // plan counts every address of the pool, as later releases hand them out.
                if facts::cilium::lb_pool_reserves_first_last(version.as_ref()) {
                    spec.push("allowFirstLastIPs", Yaml::str("Yes"));
                }
                spec
            }
        };
        docs.push(object(api, "CiliumLoadBalancerIPPool", name, None, spec));
    }
    let has_l2 = pools.iter().any(|(_, p)| p.mode() == LbMode::L2);
    let has_bgp = pools.iter().any(|(_, p)| p.mode() == LbMode::Bgp);
    if has_l2 {
        let mut spec = Yaml::map([("loadBalancerIPs", Yaml::Bool(true))]);
        if let Some(uplink) = uplink(cx) {
            spec.push("interfaces", Yaml::strs([format!("^{uplink}$")]));
        }
        docs.push(object(
            "cilium.io/v2alpha1",
            "CiliumL2AnnouncementPolicy",
            "kube6-l2",
            None,
            spec,
        ));
    }
    if has_bgp {
        if version
            .as_ref()
            .is_some_and(|v| v.is_before(facts::cilium::BGP_V2_SINCE))
        {
            notes.push(format!(
                "cilium: the BGPv2 resources arrived in {}; announce the pools with this release's CiliumBGPPeeringPolicy by hand",
                facts::cilium::BGP_V2_SINCE
            ));
        } else {
            let peers = peers(cx, notes);
            if let Some((_, _, local_asn)) = peers.first() {
                let peer_entries: Vec<Yaml> = peers
                    .iter()
                    .enumerate()
                    .map(|(i, (address, peer_asn, _))| {
                        Yaml::map([
                            ("name", Yaml::str(format!("peer-{}", i + 1))),
                            ("peerASN", Yaml::Int(*peer_asn)),
                            ("peerAddress", Yaml::str(address)),
                            (
                                "peerConfigRef",
                                Yaml::map([("name", Yaml::str("kube6-load-balancer"))]),
                            ),
                        ])
                    })
                    .collect();
                docs.push(object(
                    api,
                    "CiliumBGPClusterConfig",
                    "kube6",
                    None,
                    Yaml::map([(
                        "bgpInstances",
                        Yaml::Seq(vec![Yaml::map([
                            ("name", Yaml::str("kube6")),
                            ("localASN", Yaml::Int(*local_asn)),
                            ("peers", Yaml::Seq(peer_entries)),
                        ])]),
                    )]),
                ));
                let families: Vec<Yaml> = cx
                    .families()
                    .iter()
                    .map(|f| {
                        Yaml::map([
                            (
                                "afi",
                                Yaml::str(match f {
                                    Family::IPv4 => "ipv4",
                                    Family::IPv6 => "ipv6",
                                }),
                            ),
                            ("safi", Yaml::str("unicast")),
                            (
                                "advertisements",
                                Yaml::map([(
                                    "matchLabels",
                                    Yaml::map([(
                                        CILIUM_ADVERTISE_LABEL,
                                        Yaml::str(CILIUM_ADVERTISE_VALUE),
                                    )]),
                                )]),
                            ),
                        ])
                    })
                    .collect();
                docs.push(object(
                    api,
                    "CiliumBGPPeerConfig",
                    "kube6-load-balancer",
                    None,
                    Yaml::map([("families", Yaml::Seq(families))]),
                ));
                let mut advert = object(
                    api,
                    "CiliumBGPAdvertisement",
                    "kube6-load-balancer",
                    None,
                    Yaml::map([(
                        "advertisements",
                        Yaml::Seq(vec![Yaml::map([
                            ("advertisementType", Yaml::str("Service")),
                            (
                                "service",
                                Yaml::map([("addresses", Yaml::strs(["LoadBalancerIP"]))]),
                            ),
                            // Every Service: Cilium's documented idiom for "no selector".
                            (
                                "selector",
                                Yaml::map([(
                                    "matchExpressions",
                                    Yaml::Seq(vec![Yaml::map([
                                        ("key", Yaml::str("kube6.dev/no-such-label")),
                                        ("operator", Yaml::str("DoesNotExist")),
                                    ])]),
                                )]),
                            ),
                        ])]),
                    )]),
                );
                if let Yaml::Map(entries) = &mut advert
                    && let Some((_, metadata)) = entries.iter_mut().find(|(k, _)| k == "metadata")
                {
                    metadata.push(
                        "labels",
                        Yaml::map([(CILIUM_ADVERTISE_LABEL, Yaml::str(CILIUM_ADVERTISE_VALUE))]),
                    );
                }
                docs.push(advert);
            } else {
                notes.push(
                    "cilium: pools in bgp mode but no complete BGP peer (address, peerASN, localASN): no BGP resources rendered"
                        .to_string(),
                );
            }
        }
    }
    if has_l2 && has_bgp {
        notes.push(
            "cilium: L2 announcements and BGP both announce every LoadBalancer IP; restrict them with serviceSelector where a pool should use one mode only"
                .to_string(),
        );
    }
    RenderedFile::config(
        "load-balancer/cilium-lb.yaml",
        format!(
            "# Rendered by kube6: Cilium LB-IPAM pools and their announcement (kubectl apply -f cilium-lb.yaml; the Cilium values switch the features on).\n{}",
            yaml::documents(&docs)
        ),
    )
}

/// The Helm values that give the ingress controller's Service the cluster's families.
pub fn ingress_values(cx: &Context<'_>, controller: IngressController) -> Option<Yaml> {
    let families = service_families(cx);
    match controller {
        IngressController::IngressNginx => Some(Yaml::map([(
            "controller",
            Yaml::map([("service", Yaml::map(families))]),
        )])),
        IngressController::Traefik => {
            let major = facts::ingress::bundled_traefik_chart_major(
                cx.distribution,
                (cx.distribution == cx.net.distribution.value)
                    .then(|| cx.net.distribution_release())
                    .flatten()
                    .as_ref(),
            );
            // k3s bundles a chart that reads service.ipFamilyPolicy and sets it itself
            // (manifests/traefik.yaml): override that key, never add a second one through
            // service.spec. Elsewhere the chart copies service.spec into the Service.
            let service = if cx.distribution == Distribution::K3s
                || !facts::ingress::traefik_uses_service_spec(major)
            {
                Yaml::map(families)
            } else {
                Yaml::map([("spec", Yaml::map(families))])
            };
            Some(Yaml::map([("service", service)]))
        }
        IngressController::None => None,
    }
}

fn ingress(cx: &Context<'_>, notes: &mut Vec<String>) -> Option<RenderedFile> {
    // On an IPv4-only cluster the charts' defaults already fit.
    if !cx.has(Family::IPv6) {
        return None;
    }
    let controller = ingress_controller(cx);
    let values = ingress_values(cx, controller)?;
    let chart = match (cx.distribution, controller) {
        (Distribution::K3s, IngressController::Traefik) => {
            Some(("k3s", facts::ingress::K3S_TRAEFIK_CHART))
        }
        (Distribution::Rke2, IngressController::Traefik) => {
            Some(("rke2", facts::ingress::RKE2_TRAEFIK_CHART))
        }
        (Distribution::Rke2, IngressController::IngressNginx) => {
            Some(("rke2", facts::ingress::RKE2_INGRESS_NGINX_CHART))
        }
        _ => None,
    };
    if cx.distribution == Distribution::Rke2 {
        notes.push(format!(
            "rke2: its {controller} listens on host ports 80/443 of every node (both families where the node has them); the HelmChartConfig makes the chart's Service, when enabled, of the cluster's families too"
        ));
    }
    if cx.distribution == Distribution::K3s && controller == IngressController::IngressNginx {
        notes.push(
            "k3s bundles Traefik, not ingress-nginx: disable traefik (disable: [traefik]) and install the ingress-nginx chart with ingress/ingress-nginx-values.yaml"
                .to_string(),
        );
    }
    Some(match chart {
        Some((dist, chart)) => {
            let mut content = format!(
                "# Rendered by kube6: values for {dist}'s bundled {chart} chart, a Service of the cluster's families\n\
                 # (/var/lib/rancher/{dist}/server/manifests/{chart}-config.yaml on every server).\n\
                 apiVersion: helm.cattle.io/v1\nkind: HelmChartConfig\nmetadata:\n  name: {chart}\n  \
                 namespace: kube-system\nspec:\n  valuesContent: |-\n"
            );
            for line in yaml::to_string(&values).lines() {
                content.push_str("    ");
                content.push_str(line);
                content.push('\n');
            }
            RenderedFile::config(
                format!("{dist}/server-manifests/{chart}-config.yaml"),
                content,
            )
        }
        None => {
            let (file, install) = match controller {
                IngressController::IngressNginx => (
                    "ingress/ingress-nginx-values.yaml",
                    "helm install ingress-nginx ingress-nginx/ingress-nginx -n ingress-nginx --create-namespace -f ingress-nginx-values.yaml",
                ),
                _ => (
                    "ingress/traefik-values.yaml",
                    "helm install traefik traefik/traefik -n traefik --create-namespace -f traefik-values.yaml",
                ),
            };
            RenderedFile::config(
                file,
                format!(
                    "# Rendered by kube6: {controller} Helm values, a Service of the cluster's families ({install}).\n{}",
                    yaml::to_string(&values)
                ),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asns_read_plain_and_prefixed() {
        assert_eq!(asn("64500"), Some(64500));
        assert_eq!(asn("AS64501"), Some(64501));
        assert_eq!(asn("4294967295"), Some(4_294_967_295));
        assert_eq!(asn("4294967296"), None);
        assert_eq!(asn("sixty"), None);
    }
}
