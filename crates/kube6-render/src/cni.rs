//! CNIs: Calico (operator Installation and IPPools), Cilium (Helm values), Flannel
//! (net-conf.json), kube-router (DaemonSet arguments) and Canal (flannel's net-conf.json plus
//! calico-node's environment). Files go under `cni/`. A CNI that the target distribution
//! installs and configures from its own file (flannel in k3s, kube-router and Calico in k0s,
//! Cilium and Canal in KKP, Cilium, Calico and Canal in RKE2, whose HelmChartConfig the RKE2
//! target writes) gets no file here.

use kube6_model::facts;
use kube6_model::model::{Cni, Distribution, LbImplementation, LbMode, UpstreamMode};
use kube6_net::Family;
use serde_json::json;

use crate::context::Context;
use crate::yaml::{self, Yaml};
use crate::{RenderError, Rendered, RenderedFile, Renderer};

/// The renderer for the request's CNI, if it needs files of its own.
pub fn renderer(cx: &Context<'_>) -> Option<Box<dyn Renderer>> {
    let builtin = matches!(
        (cx.distribution, cx.cni),
        (Distribution::K3s, Cni::Flannel)
            | (Distribution::K0s, Cni::KubeRouter | Cni::Calico)
            | (Distribution::Kkp, Cni::Cilium | Cni::Canal)
            | (Distribution::Rke2, Cni::Cilium | Cni::Calico | Cni::Canal)
    );
    if builtin {
        return None;
    }
    match cx.cni {
        Cni::Calico => Some(Box::new(Calico)),
        Cni::Cilium => Some(Box::new(Cilium)),
        Cni::Flannel => Some(Box::new(Flannel)),
        Cni::KubeRouter => Some(Box::new(KubeRouter)),
        Cni::Canal => Some(Box::new(Canal)),
        Cni::Custom => None,
    }
}

/// Calico's block size for a family: the input's pool setting, else the node mask when it is
/// in Calico's range (so blocks line up with the plan's node blocks), else Calico's default.
fn block_size(cx: &Context<'_>, family: Family) -> u8 {
    let pod = cx.pod(family);
    let explicit = cx.net.calico.pools.iter().find_map(|p| {
        (p.cidr.value.net() == pod.map(|p| p.cidr))
            .then(|| p.block_size.as_ref().and_then(|b| b.value.parsed))
            .flatten()
    });
    if let Some(b) = explicit {
        return b;
    }
    let bounds = facts::calico::block_size_bounds(family);
    match cx.mask(family) {
        Some(m) if bounds.contains(m) && pod.is_some_and(|p| p.cidr.prefix_len() <= m) => m,
        _ => facts::calico::DEFAULT_BLOCK_SIZE.get(family),
    }
}

/// Calico's `calicoNetwork` (operator Installation), the same pools as IPPools, and notes.
pub fn calico_network(cx: &Context<'_>) -> (Yaml, Vec<Yaml>, Vec<String>) {
    let mut notes = Vec::new();
    let mode = cx.net.calico.mode.as_ref().map(|m| m.value.as_str());
    let vxlan = mode == Some("vxlan");
    let version = cx.net.cni_release();
    let v6_vxlan = vxlan && facts::calico::has_ipv6_vxlan(version.as_ref());
    if vxlan && cx.has(Family::IPv6) && !v6_vxlan {
        notes.push(format!(
            "calico: {} has no IPv6 VXLAN (added in {}); the IPv6 pool uses BGP without encapsulation",
            version.as_ref().map_or("this version", |v| v.as_str()),
            facts::calico::IPV6_VXLAN_SINCE
        ));
    }
    let bgp = !vxlan || (cx.has(Family::IPv6) && !v6_vxlan);
    let mut pools = Vec::new();
    let mut ippools = Vec::new();
    for pod in cx.pods() {
        let family = pod.family;
        let encapsulation = match (family, vxlan) {
            (Family::IPv4, true) => "VXLAN",
            (Family::IPv6, true) if v6_vxlan => "VXLAN",
            (Family::IPv4, false) if mode == Some("ipip") => "IPIP",
            _ => "None",
        };
        let nat = cx.needs_masquerade(family);
        let block = block_size(cx, family);
        pools.push(Yaml::map([
            ("name", Yaml::str(pool_name(family))),
            ("cidr", Yaml::str(pod.cidr.to_string())),
            ("blockSize", Yaml::Int(i64::from(block))),
            ("encapsulation", Yaml::str(encapsulation)),
            (
                "natOutgoing",
                Yaml::str(if nat { "Enabled" } else { "Disabled" }),
            ),
            ("nodeSelector", Yaml::str("all()")),
        ]));
        let (ipip, vx) = match encapsulation {
            "IPIP" => ("Always", "Never"),
            "VXLAN" => ("Never", "Always"),
            _ => ("Never", "Never"),
        };
        ippools.push(Yaml::map([
            ("apiVersion", Yaml::str("projectcalico.org/v3")),
            ("kind", Yaml::str("IPPool")),
            (
                "metadata",
                Yaml::map([("name", Yaml::str(pool_name(family)))]),
            ),
            (
                "spec",
                Yaml::map([
                    ("cidr", Yaml::str(pod.cidr.to_string())),
                    ("blockSize", Yaml::Int(i64::from(block))),
                    ("ipipMode", Yaml::str(ipip)),
                    ("vxlanMode", Yaml::str(vx)),
                    ("natOutgoing", Yaml::Bool(nat)),
                    ("nodeSelector", Yaml::str("all()")),
                ]),
            ),
        ]));
    }
    let mut network = Yaml::map([
        ("bgp", Yaml::str(if bgp { "Enabled" } else { "Disabled" })),
        ("ipPools", Yaml::Seq(pools)),
    ]);
    if cx.has(Family::IPv4) {
        network.push(
            "nodeAddressAutodetectionV4",
            Yaml::map([("firstFound", Yaml::Bool(true))]),
        );
    }
    if cx.has(Family::IPv6) {
        network.push(
            "nodeAddressAutodetectionV6",
            Yaml::map([("firstFound", Yaml::Bool(true))]),
        );
    }
    (network, ippools, notes)
}

pub struct Calico;

impl Renderer for Calico {
    fn name(&self) -> &'static str {
        "calico"
    }

    fn render(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        let (network, ippools, notes) = calico_network(cx);
        let installation = Yaml::map([
            ("apiVersion", Yaml::str("operator.tigera.io/v1")),
            ("kind", Yaml::str("Installation")),
            ("metadata", Yaml::map([("name", Yaml::str("default"))])),
            (
                "spec",
                Yaml::map([
                    ("calicoNetwork", network),
                    (
                        "cni",
                        Yaml::map([
                            ("type", Yaml::str("Calico")),
                            (
                                "ipam",
                                Yaml::map([(
                                    "type",
                                    Yaml::str(
                                        cx.net
                                            .calico
                                            .ipam
                                            .as_ref()
                                            .map_or("Calico", |i| i.value.as_str()),
                                    ),
                                )]),
                            ),
                        ]),
                    ),
                ]),
            ),
        ]);
        Ok(Rendered {
            files: vec![
                RenderedFile::config(
                    "cni/calico-installation.yaml",
                    format!(
                        "# Rendered by kube6: Calico operator Installation (kubectl create -f after the tigera-operator).\n{}",
                        yaml::to_string(&installation)
                    ),
                ),
                RenderedFile::config(
                    "cni/calico-ippools.yaml",
                    format!(
                        "# Rendered by kube6: the same pools as projectcalico.org/v3 IPPools (for manifest installs or calicoctl).\n{}",
                        yaml::documents(&ippools)
                    ),
                ),
            ],
            notes,
        })
    }
}

fn pool_name(family: Family) -> &'static str {
    match family {
        Family::IPv4 => "default-ipv4-ippool",
        Family::IPv6 => "default-ipv6-ippool",
    }
}

/// The CNI version the input states for the CNI being rendered (another CNI's version says
/// nothing about it).
fn cni_version(cx: &Context<'_>) -> Option<kube6_model::version::Version> {
    (cx.cni == cx.net.cni.value)
        .then(|| cx.net.cni_release())
        .flatten()
}

/// Cilium's Helm values for the plan, and notes on what they assume.
///
/// An IPv6-only cluster gets native routing: Cilium's default tunnel runs over IPv4 and the agent
/// stops without an IPv4 node address (facts::cilium). The native-routing CIDR of each family is
/// its pod range; routes to the other nodes' pod CIDRs come from `autoDirectNodeRoutes` (nodes on
/// one link) unless the upstream routes or announces every family's pod range. A tunnel the
/// input asks for on an IPv6-only cluster runs over IPv6 (`underlayProtocol`, Cilium 1.18).
pub fn cilium_values(cx: &Context<'_>) -> (Yaml, Vec<String>) {
    let mut notes = Vec::new();
    let c = &cx.net.cilium;
    let version = cni_version(cx);
    let mode = c
        .ipam_mode
        .as_ref()
        .map(|m| m.value.clone())
        .unwrap_or_else(|| facts::cilium::RKE2_IPAM_MODE.to_string());
    let mut ipam = Yaml::map([("mode", Yaml::str(&mode))]);
    if mode == "cluster-pool" {
        let mut operator = Yaml::map::<&str>([]);
        for family in cx.families() {
            let (list, size) = match family {
                Family::IPv4 => ("clusterPoolIPv4PodCIDRList", "clusterPoolIPv4MaskSize"),
                Family::IPv6 => ("clusterPoolIPv6PodCIDRList", "clusterPoolIPv6MaskSize"),
            };
            if let Some(pod) = cx.pod(*family) {
                operator.push(list, Yaml::strs([pod.cidr.to_string()]));
                if let Some(m) = pod.node_mask_size {
                    operator.push(size, Yaml::Int(i64::from(m)));
                }
            }
        }
        ipam.push("operator", operator);
    }
    let mut values = Yaml::map([
        (
            "ipv4",
            Yaml::map([("enabled", Yaml::Bool(cx.has(Family::IPv4)))]),
        ),
        (
            "ipv6",
            Yaml::map([("enabled", Yaml::Bool(cx.has(Family::IPv6)))]),
        ),
        ("ipam", ipam),
    ]);
    let explicit = c.routing_mode.as_ref().map(|m| m.value.as_str());
    let native = match explicit {
        Some(m) => m == "native",
        None => cx.ipv6_only(),
    };
    let keys = facts::cilium::routing_keys(version.as_ref());
    if native {
        match keys {
            facts::cilium::RoutingKeys::RoutingMode => {
                values.push("routingMode", Yaml::str("native"))
            }
            facts::cilium::RoutingKeys::Tunnel => values.push("tunnel", Yaml::str("disabled")),
        }
        for family in cx.families() {
            let Some(pod) = cx.pod(*family) else { continue };
            let key = match family {
                Family::IPv4 => "ipv4NativeRoutingCIDR",
                Family::IPv6 => "ipv6NativeRoutingCIDR",
            };
            if *family == Family::IPv6
                && !facts::cilium::has_ipv6_native_routing_cidr(version.as_ref())
            {
                notes.push(format!(
                    "cilium: {} has no ipv6NativeRoutingCIDR (added in {}); IPv6 masquerading in native routing needs a newer Cilium",
                    version.as_ref().map_or("this version", |v| v.as_str()),
                    facts::cilium::IPV6_NATIVE_ROUTING_CIDR_SINCE
                ));
                continue;
            }
            values.push(key, Yaml::str(pod.cidr.to_string()));
        }
        let upstream_routes_all = cx.families().iter().all(|f| {
            matches!(
                cx.upstream(*f),
                Some(UpstreamMode::Routed | UpstreamMode::Bgp)
            )
        });
        let direct = c
            .auto_direct_node_routes
            .as_ref()
            .map_or(!upstream_routes_all, |a| a.value);
        values.push("autoDirectNodeRoutes", Yaml::Bool(direct));
        if direct && c.auto_direct_node_routes.is_none() {
            notes.push(
                "cilium: native routing with autoDirectNodeRoutes: true; this needs every node on one link \
                 (else have the upstream route the pod ranges: spec.upstream.<family>.mode routed or bgp)"
                    .to_string(),
            );
        }
    } else if explicit == Some("tunnel") {
        match keys {
            facts::cilium::RoutingKeys::RoutingMode => {
                values.push("routingMode", Yaml::str("tunnel"))
            }
            facts::cilium::RoutingKeys::Tunnel => values.push("tunnel", Yaml::str("vxlan")),
        }
        if cx.ipv6_only() {
            values.push("underlayProtocol", Yaml::str("ipv6"));
        }
    }
    // LB-IPAM as the load-balancer implementation: L2 announcements need kube-proxy
    // replacement (facts::cilium::L2_NEEDS_KUBE_PROXY_REPLACEMENT), pools in bgp mode the BGP
    // control plane (Documentation/network/l2-announcements.rst, bgp-control-plane).
    let lb = &cx.net.load_balancer;
    let lb_cilium = lb.implementation.value == LbImplementation::Cilium;
    let lb_l2 = lb_cilium && lb.pools.iter().any(|p| p.mode() == LbMode::L2);
    let lb_bgp = lb_cilium && lb.pools.iter().any(|p| p.mode() == LbMode::Bgp);
    if lb_l2 {
        values.push(
            "l2announcements",
            Yaml::map([("enabled", Yaml::Bool(true))]),
        );
        if facts::cilium::L2_NEEDS_KUBE_PROXY_REPLACEMENT {
            values.push("kubeProxyReplacement", Yaml::Bool(true));
            notes.push(format!(
                "cilium: L2 announcements need kube-proxy replacement (kubeProxyReplacement: true), so the cluster runs no kube-proxy ({})",
                match cx.distribution {
                    kube6_model::model::Distribution::Kubeadm => format!(
                        "kubeadm's InitConfiguration skips the {} phase",
                        facts::kubeadm::KUBE_PROXY_PHASE
                    ),
                    kube6_model::model::Distribution::K3s | kube6_model::model::Distribution::Rke2 =>
                        "disable-kube-proxy: true in the server config".to_string(),
                    kube6_model::model::Distribution::K0s =>
                        "spec.network.kubeProxy.disabled: true".to_string(),
                    kube6_model::model::Distribution::Kkp =>
                        "spec.clusterNetwork.proxyMode: ebpf".to_string(),
                }
            ));
        }
    }
    match &c.bgp_control_plane {
        Some(bgp) => {
            if lb_bgp && !bgp.value {
                notes.push(
                    "cilium: pools in bgp mode, but the input turns the BGP control plane off: nothing announces them"
                        .to_string(),
                );
            }
            values.push(
                "bgpControlPlane",
                Yaml::map([("enabled", Yaml::Bool(bgp.value))]),
            )
        }
        None if lb_bgp => values.push(
            "bgpControlPlane",
            Yaml::map([("enabled", Yaml::Bool(true))]),
        ),
        None => {}
    }
    if cx.has(Family::IPv4) {
        values.push(
            "enableIPv4Masquerade",
            Yaml::Bool(cx.needs_masquerade(Family::IPv4)),
        );
    }
    if cx.has(Family::IPv6) {
        values.push(
            "enableIPv6Masquerade",
            Yaml::Bool(cx.needs_masquerade(Family::IPv6)),
        );
    }
    let host = cx
        .net
        .api
        .external_host()
        .or_else(|| cx.api_address().map(|a| a.to_string()));
    if let Some(host) = host {
        values.push("k8sServiceHost", Yaml::str(host));
        let port = cx
            .net
            .api
            .external_port()
            .unwrap_or(facts::kubeadm::API_PORT);
        values.push("k8sServicePort", Yaml::Int(i64::from(port)));
    } else if lb_l2 {
        // Without kube-proxy the agent cannot reach the API through the kubernetes Service's
        // ClusterIP before its own service load balancing runs (kubeproxy-free.rst).
        notes.push(
            "cilium: without kube-proxy Cilium reaches the API server only at k8sServiceHost/k8sServicePort, and the plan names no API address: set them in cni/cilium-values.yaml (spec.api.address or externalAddress in the plan)"
                .to_string(),
        );
    }
    (values, notes)
}

pub struct Cilium;

impl Renderer for Cilium {
    fn name(&self) -> &'static str {
        "cilium"
    }

    fn render(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        let (values, notes) = cilium_values(cx);
        Ok(Rendered {
            files: vec![RenderedFile::config(
                "cni/cilium-values.yaml",
                format!(
                    "# Rendered by kube6: Cilium Helm values (helm install cilium cilium/cilium -n kube-system -f cilium-values.yaml).\n{}",
                    yaml::to_string(&values)
                ),
            )],
            notes,
        })
    }
}

/// flannel's net-conf.json for the plan's ranges and node masks.
fn net_conf(cx: &Context<'_>) -> String {
    let mut conf = serde_json::Map::new();
    let v4 = cx.pod(Family::IPv4);
    let v6 = cx.pod(Family::IPv6);
    conf.insert("EnableIPv4".into(), json!(v4.is_some()));
    conf.insert("EnableIPv6".into(), json!(v6.is_some()));
    if let Some(p) = v4 {
        conf.insert("Network".into(), json!(p.cidr.to_string()));
        if let Some(m) = p.node_mask_size {
            conf.insert("SubnetLen".into(), json!(m));
        }
    }
    if let Some(p) = v6 {
        conf.insert("IPv6Network".into(), json!(p.cidr.to_string()));
        if let Some(m) = p.node_mask_size {
            conf.insert("IPv6SubnetLen".into(), json!(m));
        }
    }
    let backend = cx
        .net
        .flannel
        .backend
        .as_ref()
        .map(|b| facts::flannel::net_conf_backend(&b.value).to_string())
        .unwrap_or_else(|| "vxlan".to_string());
    conf.insert("Backend".into(), json!({ "Type": backend }));
    serde_json::to_string_pretty(&serde_json::Value::Object(conf)).unwrap_or_default() + "\n"
}

pub struct Flannel;

/// flanneld's arguments: `--ip-masq` covers both families at once (facts::flannel), so it is
/// given only when every family masquerades.
fn flanneld_args(cx: &Context<'_>) -> (Vec<String>, Option<String>) {
    let mut args = vec!["--kube-subnet-mgr".to_string()];
    let mut note = None;
    match cx.masquerade_uniform() {
        Some(true) => args.insert(0, "--ip-masq".to_string()),
        Some(false) => {}
        None => {
            let masq: Vec<&str> = cx
                .families()
                .iter()
                .filter(|f| cx.needs_masquerade(**f))
                .map(|f| f.as_str())
                .collect();
            note = Some(format!(
                "flannel: --ip-masq masquerades every family, but the plan routes some and masquerades {}; \
                 flanneld runs without it, so {} pod traffic needs NAT at the upstream router",
                masq.join(", "),
                masq.join(", ")
            ));
        }
    }
    (args, note)
}

/// A strategic-merge patch for one container of a DaemonSet in kube-system
/// (`kubectl -n kube-system patch daemonset NAME --patch-file FILE`).
fn container_patch(daemon_set: &str, container: Yaml) -> Yaml {
    Yaml::map([
        ("apiVersion", Yaml::str("apps/v1")),
        ("kind", Yaml::str("DaemonSet")),
        (
            "metadata",
            Yaml::map([
                ("name", Yaml::str(daemon_set)),
                ("namespace", Yaml::str("kube-system")),
            ]),
        ),
        (
            "spec",
            Yaml::map([(
                "template",
                Yaml::map([(
                    "spec",
                    Yaml::map([("containers", Yaml::Seq(vec![container]))]),
                )]),
            )]),
        ),
    ])
}

impl Renderer for Flannel {
    fn name(&self) -> &'static str {
        "flannel"
    }

    fn render(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        let mut notes = vec![
            "flannel: put net-conf.json into the kube-flannel-cfg ConfigMap and apply kube-flannel-patch.yaml \
             (flanneld with --kube-subnet-mgr takes the node blocks from kube-controller-manager)"
                .to_string(),
        ];
        let (args, note) = flanneld_args(cx);
        notes.extend(note);
        let patch = container_patch(
            "kube-flannel-ds",
            Yaml::map([
                ("name", Yaml::str("kube-flannel")),
                ("args", Yaml::strs(args)),
            ]),
        );
        Ok(Rendered {
            files: vec![
                RenderedFile::config("cni/flannel-net-conf.json", net_conf(cx)),
                RenderedFile::config(
                    "cni/kube-flannel-patch.yaml",
                    format!(
                        "# Rendered by kube6: flanneld's arguments (kubectl -n kube-flannel patch daemonset kube-flannel-ds --patch-file kube-flannel-patch.yaml).\n{}",
                        yaml::to_string(&patch)
                    ),
                ),
            ],
            notes,
        })
    }
}

pub struct KubeRouter;

/// Whether kube-router's pod-egress SNAT must be off: the plan routes every family's pods
/// upstream (`--enable-pod-egress` is one switch for both families).
pub fn kube_router_pod_egress(cx: &Context<'_>) -> (bool, Option<String>) {
    match cx.masquerade_uniform() {
        Some(masq) => (masq, None),
        None => (
            true,
            Some(
                "kube-router: --enable-pod-egress masquerades every family; the plan routes some and masquerades \
                 others, so it stays on and the routed family's pods leave with the node's address"
                    .to_string(),
            ),
        ),
    }
}

/// kube-router's DaemonSet arguments for the plan.
pub fn kube_router_args(cx: &Context<'_>) -> Vec<String> {
    let mut args = vec![
        "--run-router=true".to_string(),
        "--run-firewall=true".to_string(),
        "--run-service-proxy=false".to_string(),
        "--bgp-graceful-restart=true".to_string(),
        format!("--enable-ipv4={}", cx.has(Family::IPv4)),
        format!("--enable-ipv6={}", cx.has(Family::IPv6)),
    ];
    for svc in cx.services() {
        args.push(format!("--service-cluster-ip-range={}", svc.cidr));
    }
    if !kube_router_pod_egress(cx).0 {
        args.push(format!("--{}=false", facts::kube_router::POD_EGRESS_FLAG));
    }
    let peers = crate::host::bgp_peers(cx);
    if !peers.is_empty() {
        let ips: Vec<String> = peers.iter().map(|p| p.1.to_string()).collect();
        let asns: Vec<String> = peers.iter().map(|p| p.2.clone()).collect();
        args.push(format!("--cluster-asn={}", peers[0].3));
        args.push(format!("--peer-router-ips={}", ips.join(",")));
        args.push(format!("--peer-router-asns={}", asns.join(",")));
        args.push("--advertise-pod-cidr=true".to_string());
    }
    let router_id = cx
        .net
        .kube_router
        .router_id
        .as_ref()
        .map(|r| r.value.clone());
    match router_id {
        Some(id) => args.push(format!("--router-id={id}")),
        // Without an IPv4 address kube-router cannot derive a BGP router ID.
        None if !cx.has(Family::IPv4) || cx.ipv6_primary() => {
            args.push("--router-id=generate".to_string())
        }
        None => {}
    }
    args
}

impl Renderer for KubeRouter {
    fn name(&self) -> &'static str {
        "kube-router"
    }

    fn render(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        let patch = container_patch(
            "kube-router",
            Yaml::map([
                ("name", Yaml::str("kube-router")),
                ("args", Yaml::strs(kube_router_args(cx))),
            ]),
        );
        Ok(Rendered {
            files: vec![RenderedFile::config(
                "cni/kube-router-patch.yaml",
                format!(
                    "# Rendered by kube6: kube-router's arguments (kubectl -n kube-system patch daemonset kube-router --patch-file kube-router-patch.yaml).\n{}",
                    yaml::to_string(&patch)
                ),
            )],
            notes: kube_router_pod_egress(cx).1.into_iter().collect(),
        })
    }
}

pub struct Canal;

/// Canal's masquerading: flanneld's switch when every family agrees, else flanneld off and the
/// Calico pools' natOutgoing per family (Felix masquerades traffic from a pool with natOutgoing,
/// whatever the IPAM). Returns (flanneld masquerade, natOutgoing per pod range).
pub fn canal_masquerade(cx: &Context<'_>) -> (bool, Vec<(Family, bool)>) {
    match cx.masquerade_uniform() {
        Some(masq) => (masq, cx.families().iter().map(|f| (*f, false)).collect()),
        None => (
            false,
            cx.families()
                .iter()
                .map(|f| (*f, cx.needs_masquerade(*f)))
                .collect(),
        ),
    }
}

/// Calico IPPools (crd.projectcalico.org/v1, appliable with kubectl where Calico's CRDs are
/// installed, as RKE2's rke2-canal does) for the pod ranges, with natOutgoing per family.
pub fn canal_ippools(cx: &Context<'_>, nat: &[(Family, bool)]) -> Vec<Yaml> {
    cx.pods()
        .iter()
        .map(|pod| {
            let masq = nat.iter().any(|(f, n)| *f == pod.family && *n);
            Yaml::map([
                ("apiVersion", Yaml::str("crd.projectcalico.org/v1")),
                ("kind", Yaml::str("IPPool")),
                (
                    "metadata",
                    Yaml::map([("name", Yaml::str(pool_name(pod.family)))]),
                ),
                (
                    "spec",
                    Yaml::map([
                        ("cidr", Yaml::str(pod.cidr.to_string())),
                        (
                            "blockSize",
                            Yaml::Int(i64::from(facts::calico::DEFAULT_BLOCK_SIZE.get(pod.family))),
                        ),
                        ("ipipMode", Yaml::str("Never")),
                        ("vxlanMode", Yaml::str("Never")),
                        ("natOutgoing", Yaml::Bool(masq)),
                        ("nodeSelector", Yaml::str("all()")),
                    ]),
                ),
            ])
        })
        .collect()
}

/// The CNI network configuration Canal installs on every node: Calico's plugin with host-local
/// IPAM on the node's podCIDR of each family (`usePodCidr` is IPv4 only; IPv6 needs
/// `usePodCidrIPv6`). The `__...__` placeholders are filled in by Canal's install-cni.
pub fn canal_cni_config(cx: &Context<'_>) -> String {
    let ranges: Vec<serde_json::Value> = cx
        .families()
        .iter()
        .map(|f| json!([{ "subnet": facts::calico::HOST_LOCAL_POD_CIDR.get(*f) }]))
        .collect();
    let config = json!({
        "name": "k8s-pod-network",
        "cniVersion": "0.3.1",
        "plugins": [
            {
                "type": "calico",
                "log_level": "info",
                "datastore_type": "kubernetes",
                "nodename": "__KUBERNETES_NODE_NAME__",
                "mtu": "__CNI_MTU_NUMBER__",
                "ipam": { "type": "host-local", "ranges": ranges },
                "policy": { "type": "k8s" },
                "kubernetes": { "kubeconfig": "__KUBECONFIG_FILEPATH__" }
            },
            { "type": "portmap", "snat": true, "capabilities": { "portMappings": true } },
            { "type": "bandwidth", "capabilities": { "bandwidth": true } }
        ]
    });
    // install-cni substitutes a number for the MTU: the placeholder stands unquoted.
    serde_json::to_string_pretty(&config)
        .unwrap_or_default()
        .replace("\"__CNI_MTU_NUMBER__\"", "__CNI_MTU__")
}

/// calico-node's environment in the Canal DaemonSet.
pub fn canal_calico_node_env(cx: &Context<'_>) -> Vec<(&'static str, String)> {
    let (_, nat) = canal_masquerade(cx);
    let nat_of = |f: Family| nat.iter().any(|(g, n)| *g == f && *n);
    let mut env = Vec::new();
    if let Some(p) = cx.pod(Family::IPv4) {
        env.push(("CALICO_IPV4POOL_CIDR", p.cidr.to_string()));
        env.push((
            "CALICO_IPV4POOL_NAT_OUTGOING",
            nat_of(Family::IPv4).to_string(),
        ));
    } else {
        env.push(("IP", "none".to_string()));
    }
    if let Some(p) = cx.pod(Family::IPv6) {
        env.push(("FELIX_IPV6SUPPORT", "true".to_string()));
        env.push(("IP6", "autodetect".to_string()));
        env.push(("CALICO_IPV6POOL_CIDR", p.cidr.to_string()));
        env.push((
            "CALICO_IPV6POOL_NAT_OUTGOING",
            nat_of(Family::IPv6).to_string(),
        ));
    } else {
        env.push(("FELIX_IPV6SUPPORT", "false".to_string()));
    }
    env
}

impl Renderer for Canal {
    fn name(&self) -> &'static str {
        "canal"
    }

    fn render(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        let (masq, _) = canal_masquerade(cx);
        let config_map = Yaml::map([
            ("apiVersion", Yaml::str("v1")),
            ("kind", Yaml::str("ConfigMap")),
            (
                "metadata",
                Yaml::map([
                    ("name", Yaml::str("canal-config")),
                    ("namespace", Yaml::str("kube-system")),
                ]),
            ),
            (
                "data",
                Yaml::map([
                    ("typha_service_name", Yaml::str("none")),
                    ("canal_iface", Yaml::str("")),
                    ("masquerade", Yaml::str(masq.to_string())),
                    ("veth_mtu", Yaml::str("0")),
                    ("cni_network_config", Yaml::str(canal_cni_config(cx))),
                    ("net-conf.json", Yaml::str(net_conf(cx))),
                ]),
            ),
        ]);
        let env = Yaml::Seq(
            canal_calico_node_env(cx)
                .into_iter()
                .map(|(k, v)| Yaml::map([("name", Yaml::str(k)), ("value", Yaml::str(v))]))
                .collect(),
        );
        let patch = container_patch(
            "canal",
            Yaml::map([("name", Yaml::str("calico-node")), ("env", env)]),
        );
        let mut notes = Vec::new();
        if cx.masquerade_uniform().is_none() {
            notes.push(
                "canal: flanneld's masquerading covers every family, so it is off and the Calico pools' natOutgoing \
                 masquerades only the families the plan does not route"
                    .to_string(),
            );
        }
        Ok(Rendered {
            files: vec![
                RenderedFile::config(
                    "cni/canal-config.yaml",
                    format!(
                        "# Rendered by kube6: Canal's ConfigMap (replaces canal-config from Calico's canal.yaml).\n{}",
                        yaml::to_string(&config_map)
                    ),
                ),
                RenderedFile::config(
                    "cni/canal-calico-node-patch.yaml",
                    format!(
                        "# Rendered by kube6: calico-node's environment (kubectl -n kube-system patch daemonset canal --patch-file canal-calico-node-patch.yaml).\n{}",
                        yaml::to_string(&patch)
                    ),
                ),
            ],
            notes,
        })
    }
}
