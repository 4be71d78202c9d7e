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
            LbImplementation::KubeVip if !pools.is_empty() => {
                out.files.push(kube_vip(cx, &pools, &mut out.notes));
            }
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

/// Whether the rendered cluster runs no kube-proxy because Cilium replaces it (its L2
/// announcements need the replacement, facts::cilium::L2_NEEDS_KUBE_PROXY_REPLACEMENT): kubeadm
/// skips its kube-proxy addon phase, k3s and RKE2 get `disable-kube-proxy`, k0s
/// `network.kubeProxy.disabled`, KKP `proxyMode: ebpf`.
pub fn replaces_kube_proxy(cx: &Context<'_>) -> bool {
    cilium_l2(cx) && facts::cilium::L2_NEEDS_KUBE_PROXY_REPLACEMENT
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

/// The Service label that ties a Service to the pools of one mode, and so to the one
/// announcement that serves that mode, when Cilium pools of both modes exist.
pub const MODE_LABEL: &str = "kube6.dev/lb-mode";

fn announcer(mode: LbMode) -> &'static str {
    match mode {
        LbMode::L2 => "L2 announcements (ARP/NDP)",
        LbMode::Bgp => "BGP",
    }
}

/// How Cilium keeps each pool's addresses to the announcement of its own mode. LB-IPAM gives a
/// Service addresses from the pools whose `serviceSelector` matches the Service
/// (operator/pkg/lbipam/lbipam.go; no selector: every Service); a
/// CiliumL2AnnouncementPolicy announces the Services its `serviceSelector` matches
/// (pkg/l2announcer/l2announcer.go `upsertPolicy`: no selector, every Service) and a
/// CiliumBGPAdvertisement of type Service the Services its `selector` matches ("if not
/// specified, no objects ... are selected", the CRD in shared/schemas/cilium). Both select Services, never pools, so with pools of both modes the Service label
/// [`MODE_LABEL`] decides: the first pool's mode is the default (Services without the label),
/// the other mode is asked for with the label. With one mode, nothing needs selecting.
struct PoolModes {
    default: LbMode,
    /// The second mode, when pools of both exist.
    other: Option<LbMode>,
}

impl PoolModes {
    fn of(pools: &[(String, &LbPool)]) -> PoolModes {
        let default = pools.first().map_or(LbMode::L2, |(_, p)| p.mode());
        let other = pools.iter().map(|(_, p)| p.mode()).find(|m| *m != default);
        PoolModes { default, other }
    }

    /// The Service selector of the pools (and the announcement) of `mode`: the Services
    /// labelled with the other mode, or the Services not labelled with it; none with one mode.
    fn selector(&self, mode: LbMode) -> Option<Yaml> {
        let other = self.other?;
        Some(if mode == other {
            Yaml::map([(
                "matchLabels",
                Yaml::map([(MODE_LABEL, Yaml::str(other.as_str()))]),
            )])
        } else {
            Yaml::map([(
                "matchExpressions",
                Yaml::Seq(vec![Yaml::map([
                    ("key", Yaml::str(MODE_LABEL)),
                    ("operator", Yaml::str("NotIn")),
                    ("values", Yaml::strs([other.as_str()])),
                ])]),
            )])
        })
    }
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
    let modes = PoolModes::of(pools);
    let mut docs = Vec::new();
    let keys = facts::cilium::lb_pool_keys(version.as_ref());
    for (name, pool) in pools {
        let mut spec = match keys {
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
        if let Some(selector) = modes.selector(pool.mode()) {
            spec.push("serviceSelector", selector);
        }
        docs.push(object(api, "CiliumLoadBalancerIPPool", name, None, spec));
    }
    let has_l2 = pools.iter().any(|(_, p)| p.mode() == LbMode::L2);
    let has_bgp = pools.iter().any(|(_, p)| p.mode() == LbMode::Bgp);
    if has_l2 {
        let mut spec = Yaml::map([("loadBalancerIPs", Yaml::Bool(true))]);
        if let Some(selector) = modes.selector(LbMode::L2) {
            spec.push("serviceSelector", selector);
        }
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
            docs.extend(bgp_peering_policy(cx, &modes, notes));
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
                            // The Services of the bgp pools; every Service when all pools
                            // are in bgp mode (a selector is required: none selects nothing).
                            (
                                "selector",
                                modes.selector(LbMode::Bgp).unwrap_or_else(every_service),
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
    if let Some(other) = modes.other {
        notes.push(format!(
            "cilium: pools in l2 and bgp mode: a Service labelled {MODE_LABEL}={other} takes its addresses from the {other} pools and is announced by {}; every other Service from the {} pools, announced by {}",
            announcer(other),
            modes.default,
            announcer(modes.default),
        ));
    }
    RenderedFile::config(
        "load-balancer/cilium-lb.yaml",
        format!(
            "# Rendered by kube6: Cilium LB-IPAM pools and their announcement (kubectl apply -f cilium-lb.yaml; the Cilium values switch the features on).\n{}",
            yaml::documents(&docs)
        ),
    )
}

/// The BGP announcement of Cilium releases before the BGPv2 resources (1.13 to 1.15): one
/// CiliumBGPPeeringPolicy (cilium.io/v2alpha1, pkg/k8s/apis/cilium.io/v2alpha1/bgpp_types.go)
/// with a virtual router per local ASN, its neighbors' `peerAddress` a CIDR (/32, /128), and a
/// `serviceSelector` for the Services of the bgp pools ("If empty / nil no services will be
/// announced"). Cilium 1.19 removed the resource (shared/schemas/cilium/README), so no upstream
/// CRD checks it; the render tests check its fields against those Go types.
fn bgp_peering_policy(
    cx: &Context<'_>,
    modes: &PoolModes,
    notes: &mut Vec<String>,
) -> Option<Yaml> {
    let peers = peers(cx, notes);
    if peers.is_empty() {
        notes.push(
            "cilium: pools in bgp mode but no complete BGP peer (address, peerASN, localASN): no BGP resources rendered"
                .to_string(),
        );
        return None;
    }
    let mut local_asns: Vec<i64> = Vec::new();
    for (_, _, local) in &peers {
        if !local_asns.contains(local) {
            local_asns.push(*local);
        }
    }
    let selector = modes.selector(LbMode::Bgp).unwrap_or_else(every_service);
    let routers: Vec<Yaml> = local_asns
        .iter()
        .map(|local| {
            let neighbors: Vec<Yaml> = peers
                .iter()
                .filter(|(_, _, l)| l == local)
                .filter_map(|(address, peer_asn, _)| {
                    let ip: std::net::IpAddr = address.parse().ok()?;
                    let bits = match ip {
                        std::net::IpAddr::V4(_) => 32,
                        std::net::IpAddr::V6(_) => 128,
                    };
                    Some(Yaml::map([
                        ("peerAddress", Yaml::str(format!("{ip}/{bits}"))),
                        ("peerASN", Yaml::Int(*peer_asn)),
                    ]))
                })
                .collect();
            Yaml::map([
                ("localASN", Yaml::Int(*local)),
                ("serviceSelector", selector.clone()),
                ("neighbors", Yaml::Seq(neighbors)),
            ])
        })
        .collect();
    notes.push(format!(
        "cilium: this release predates the BGPv2 resources ({}): the bgp pools are announced by a CiliumBGPPeeringPolicy",
        facts::cilium::BGP_V2_SINCE
    ));
    Some(object(
        "cilium.io/v2alpha1",
        "CiliumBGPPeeringPolicy",
        "kube6-load-balancer",
        None,
        Yaml::map([("virtualRouters", Yaml::Seq(routers))]),
    ))
}

/// A label selector that matches every Service (Cilium's BGP selectors select nothing when
/// left out).
fn every_service() -> Yaml {
    Yaml::map([(
        "matchExpressions",
        Yaml::Seq(vec![Yaml::map([
            ("key", Yaml::str("kube6.dev/no-such-label")),
            ("operator", Yaml::str("DoesNotExist")),
        ])]),
    )])
}

/// kube-vip: the cloud provider's `kubevip` ConfigMap with every pool under one global key
/// (`cidr-global` when every block is a CIDR, else `range-global` with each CIDR as its range,
/// both families in one list: facts::kube_vip), and kube-vip itself, a DaemonSet with the RBAC
/// its `manifest` command generates, watching LoadBalancer Services and announcing them over
/// ARP/NDP or BGP (the first pool's mode: one kube-vip announces one way, K6W431).
fn kube_vip(
    cx: &Context<'_>,
    pools: &[(String, &LbPool)],
    notes: &mut Vec<String>,
) -> RenderedFile {
    use facts::kube_vip as kv;
    let lb = &cx.net.load_balancer;
    let version = lb.release();
    let blocks: Vec<Block> = pools
        .iter()
        .flat_map(|(_, p)| p.blocks().map(|(_, b)| b))
        .collect();
    let all_cidrs = blocks.iter().all(|b| b.cidr.is_some());
    let (prefix, entries): (&str, Vec<String>) = if all_cidrs {
        (kv::CIDR_KEY_PREFIX, blocks.iter().map(block_text).collect())
    } else {
        (
            kv::RANGE_KEY_PREFIX,
            blocks
                .iter()
                .map(|b| format!("{}-{}", b.first, b.last))
                .collect(),
        )
    };
    let config_map = Yaml::map([
        ("apiVersion", Yaml::str("v1")),
        ("kind", Yaml::str("ConfigMap")),
        (
            "metadata",
            Yaml::map([
                ("name", Yaml::str(kv::CONFIG_MAP)),
                ("namespace", Yaml::str(kv::CONFIG_MAP_NAMESPACE)),
            ]),
        ),
        (
            "data",
            Yaml::map([(
                kv::global_key(prefix),
                Yaml::str(entries.join(kv::LIST_SEPARATOR)),
            )]),
        ),
    ]);
    let ns = kv::CONFIG_MAP_NAMESPACE;
    let meta = |name: &str, namespaced: bool| {
        let mut m = Yaml::map([("name", Yaml::str(name))]);
        if namespaced {
            m.push("namespace", Yaml::str(ns));
        }
        m
    };
    let service_account = Yaml::map([
        ("apiVersion", Yaml::str("v1")),
        ("kind", Yaml::str("ServiceAccount")),
        ("metadata", meta(kv::SERVICE_ACCOUNT, true)),
    ]);
    let rules: Vec<Yaml> = kv::CLUSTER_ROLE_RULES
        .iter()
        .map(|(group, resources, verbs)| {
            Yaml::map([
                ("apiGroups", Yaml::strs([*group])),
                ("resources", Yaml::strs(resources.iter().copied())),
                ("verbs", Yaml::strs(verbs.iter().copied())),
            ])
        })
        .collect();
    let cluster_role = Yaml::map([
        ("apiVersion", Yaml::str("rbac.authorization.k8s.io/v1")),
        ("kind", Yaml::str("ClusterRole")),
        ("metadata", meta(kv::CLUSTER_ROLE, false)),
        ("rules", Yaml::Seq(rules)),
    ]);
    let binding = Yaml::map([
        ("apiVersion", Yaml::str("rbac.authorization.k8s.io/v1")),
        ("kind", Yaml::str("ClusterRoleBinding")),
        ("metadata", meta(kv::CLUSTER_ROLE_BINDING, false)),
        (
            "roleRef",
            Yaml::map([
                ("apiGroup", Yaml::str("rbac.authorization.k8s.io")),
                ("kind", Yaml::str("ClusterRole")),
                ("name", Yaml::str(kv::CLUSTER_ROLE)),
            ]),
        ),
        (
            "subjects",
            Yaml::Seq(vec![Yaml::map([
                ("kind", Yaml::str("ServiceAccount")),
                ("name", Yaml::str(kv::SERVICE_ACCOUNT)),
                ("namespace", Yaml::str(ns)),
            ])]),
        ),
    ]);

    let mode = pools.first().map_or(LbMode::L2, |(_, p)| p.mode());
    let env_var = |name: &str, value: &str| {
        Yaml::map([("name", Yaml::str(name)), ("value", Yaml::str(value))])
    };
    let mut env = vec![
        env_var(kv::SERVICES_ENABLE, "true"),
        Yaml::map([
            ("name", Yaml::str(kv::NODE_NAME)),
            (
                "valueFrom",
                Yaml::map([(
                    "fieldRef",
                    Yaml::map([("fieldPath", Yaml::str("spec.nodeName"))]),
                )]),
            ),
        ]),
    ];
    let families = lb.pool_families();
    match mode {
        LbMode::L2 => {
            env.push(env_var(kv::ARP_ENABLE, "true"));
            env.push(env_var(kv::LEADER_ELECTION, "true"));
            env.push(env_var(kv::SERVICES_ELECTION, "true"));
            if let Some(uplink) = uplink(cx) {
                env.push(env_var(kv::INTERFACE, &uplink));
            }
            if families.contains(&Family::IPv6) && !kv::answers_ndp(version.as_ref()) {
                notes.push(format!(
                    "kube-vip: {} answers no NDP for IPv6 Service addresses (from {})",
                    version.as_ref().map_or("", |v| v.as_str()),
                    kv::NDP_SINCE
                ));
            }
        }
        LbMode::Bgp => {
            env.push(env_var(kv::BGP_ENABLE, "true"));
            let peers = peers(cx, notes);
            if let Some((_, _, local_asn)) = peers.first() {
                env.push(env_var(kv::BGP_AS, &local_asn.to_string()));
                let list: Vec<String> = peers
                    .iter()
                    .filter_map(|(address, peer_asn, _)| {
                        address
                            .parse::<std::net::IpAddr>()
                            .ok()
                            .map(|a| kv::bgp_peer(a, *peer_asn))
                    })
                    .collect();
                env.push(env_var(kv::BGP_PEERS, &list.join(",")));
                if peers.iter().any(|(a, _, _)| a.contains(':'))
                    && !kv::reads_ipv6_bgp_peers(version.as_ref())
                {
                    notes.push(format!(
                        "kube-vip: {} does not read IPv6 BGP peers ([ADDRESS]:AS, from {})",
                        version.as_ref().map_or("", |v| v.as_str()),
                        kv::BGP_IPV6_PEER_SINCE
                    ));
                }
            } else {
                notes.push(
                    "kube-vip: pools in bgp mode but no complete BGP peer (address, peerASN, localASN): set bgp_as and bgp_peers in load-balancer/kube-vip.yaml"
                        .to_string(),
                );
            }
            // The router ID is a 32-bit number, usually the node's IPv4 address; the DaemonSet
            // takes it from the node where the node's primary address is IPv4.
            if cx.families().first() == Some(&Family::IPv4) {
                env.push(Yaml::map([
                    ("name", Yaml::str(kv::BGP_ROUTER_ID)),
                    (
                        "valueFrom",
                        Yaml::map([(
                            "fieldRef",
                            Yaml::map([("fieldPath", Yaml::str("status.hostIP"))]),
                        )]),
                    ),
                ]));
            } else {
                notes.push(format!(
                    "kube-vip: BGP needs a 32-bit router ID per node ({}), and the nodes' primary address is IPv6: set it per node (a static pod, or one DaemonSet per node)",
                    kv::BGP_ROUTER_ID
                ));
            }
        }
    }
    if cx.dual() && !kv::announces_dual_stack(version.as_ref(), mode == LbMode::Bgp) {
        notes.push(format!(
            "kube-vip: {} announces one address of a dual-stack Service (both from {} in ARP mode, {} in BGP mode)",
            version.as_ref().map_or("", |v| v.as_str()),
            kv::DUAL_STACK_SINCE,
            kv::BGP_DUAL_STACK_SINCE
        ));
    }
    // kube-vip tags its images vMAJOR.MINOR.PATCH.
    let tag = lb.version.as_ref().map_or_else(
        || kv::ASSUMED_RELEASE.to_string(),
        |v| v.value.trim().to_string(),
    );
    let image_version = if tag.starts_with('v') {
        tag
    } else {
        format!("v{tag}")
    };
    let container = Yaml::map([
        ("name", Yaml::str("kube-vip")),
        ("image", Yaml::str(format!("{}:{image_version}", kv::IMAGE))),
        ("imagePullPolicy", Yaml::str("IfNotPresent")),
        ("args", Yaml::strs(["manager"])),
        ("env", Yaml::Seq(env)),
        (
            "securityContext",
            Yaml::map([(
                "capabilities",
                Yaml::map([
                    ("add", Yaml::strs(["NET_ADMIN", "NET_RAW"])),
                    ("drop", Yaml::strs(["ALL"])),
                ]),
            )]),
        ),
    ]);
    let labels = Yaml::map([("app.kubernetes.io/name", Yaml::str("kube-vip"))]);
    let daemon_set = Yaml::map([
        ("apiVersion", Yaml::str("apps/v1")),
        ("kind", Yaml::str("DaemonSet")),
        ("metadata", meta("kube-vip-ds", true)),
        (
            "spec",
            Yaml::map([
                ("selector", Yaml::map([("matchLabels", labels.clone())])),
                (
                    "template",
                    Yaml::map([
                        ("metadata", Yaml::map([("labels", labels)])),
                        (
                            "spec",
                            Yaml::map([
                                ("hostNetwork", Yaml::Bool(true)),
                                ("serviceAccountName", Yaml::str(kv::SERVICE_ACCOUNT)),
                                ("containers", Yaml::Seq(vec![container])),
                                (
                                    "tolerations",
                                    Yaml::Seq(vec![Yaml::map([
                                        ("effect", Yaml::str("NoSchedule")),
                                        ("operator", Yaml::str("Exists")),
                                    ])]),
                                ),
                            ]),
                        ),
                    ]),
                ),
            ]),
        ),
    ]);
    notes.push(format!(
        "kube-vip: load-balancer/kube-vip.yaml holds the pools for kube-vip-cloud-provider ({} {}/{}, which hands out the addresses; install it from its manifest/kube-vip-cloud-controller.yaml) and kube-vip itself, announcing in {mode} mode",
        kv::global_key(prefix),
        kv::CONFIG_MAP_NAMESPACE,
        kv::CONFIG_MAP
    ));
    RenderedFile::config(
        "load-balancer/kube-vip.yaml",
        format!(
            "# Rendered by kube6: kube-vip-cloud-provider's pools and kube-vip announcing LoadBalancer Services (kubectl apply -f kube-vip.yaml).\n{}",
            yaml::documents(&[
                config_map,
                service_account,
                cluster_role,
                binding,
                daemon_set
            ])
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
