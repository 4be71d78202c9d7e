//! CNIs: Calico (operator Installation and IPPools), Cilium (Helm values), Flannel
//! (net-conf.json), kube-router (DaemonSet arguments) and Canal (flannel's net-conf.json plus
//! calico-node's environment). Files go under `cni/`. A CNI that the target distribution
//! installs and configures from its own file (flannel in k3s, kube-router and Calico in k0s,
//! Cilium and Canal in KKP, Cilium and Calico in RKE2, whose HelmChartConfig the RKE2 target
//! writes) gets no file here.

use kube6_model::facts;
use kube6_model::model::{Cni, Distribution};
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
            | (Distribution::Rke2, Cni::Cilium | Cni::Calico)
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
                            ("ipam", Yaml::map([("type", Yaml::str("Calico"))])),
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

/// Cilium's Helm values for the plan.
pub fn cilium_values(cx: &Context<'_>) -> Yaml {
    let mode = cx
        .net
        .cilium
        .ipam_mode
        .as_ref()
        .map(|m| m.value.clone())
        .unwrap_or_else(|| "kubernetes".to_string());
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
    if let Some(addr) = cx.api_address() {
        values.push("k8sServiceHost", Yaml::str(addr.to_string()));
        values.push("k8sServicePort", Yaml::Int(6443));
    }
    values
}

pub struct Cilium;

impl Renderer for Cilium {
    fn name(&self) -> &'static str {
        "cilium"
    }

    fn render(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        let values = cilium_values(cx);
        Ok(Rendered {
            files: vec![RenderedFile::config(
                "cni/cilium-values.yaml",
                format!(
                    "# Rendered by kube6: Cilium Helm values (helm install cilium cilium/cilium -n kube-system -f cilium-values.yaml).\n{}",
                    yaml::to_string(&values)
                ),
            )],
            notes: Vec::new(),
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
        .map(|b| b.value.clone())
        .unwrap_or_else(|| "vxlan".to_string());
    conf.insert("Backend".into(), json!({ "Type": backend }));
    serde_json::to_string_pretty(&serde_json::Value::Object(conf)).unwrap_or_default() + "\n"
}

pub struct Flannel;

impl Renderer for Flannel {
    fn name(&self) -> &'static str {
        "flannel"
    }

    fn render(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        let mut notes = vec![
            "flannel: put net-conf.json into the kube-flannel-cfg ConfigMap; run flanneld with --kube-subnet-mgr (node blocks come from kube-controller-manager)".to_string(),
        ];
        if cx.has(Family::IPv6) && cx.needs_masquerade(Family::IPv6) {
            notes.push("flannel: IPv6 pods use private addresses; flanneld masquerades IPv6 only with --ip-masq and EnableIPv6".to_string());
        }
        Ok(Rendered {
            files: vec![RenderedFile::config(
                "cni/flannel-net-conf.json",
                net_conf(cx),
            )],
            notes,
        })
    }
}

pub struct KubeRouter;

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
        let doc = Yaml::map([("args", Yaml::strs(kube_router_args(cx)))]);
        Ok(Rendered {
            files: vec![RenderedFile::config(
                "cni/kube-router-args.yaml",
                format!(
                    "# Rendered by kube6: the kube-router container's args in its DaemonSet\n# (spec.template.spec.containers[name=kube-router].args).\n{}",
                    yaml::to_string(&doc)
                ),
            )],
            notes: Vec::new(),
        })
    }
}

pub struct Canal;

impl Renderer for Canal {
    fn name(&self) -> &'static str {
        "canal"
    }

    fn render(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        let mut env = Vec::new();
        if let Some(p) = cx.pod(Family::IPv4) {
            env.push(("CALICO_IPV4POOL_CIDR", p.cidr.to_string()));
            // Flannel already masquerades; Canal's manifests leave Calico's NAT off.
            env.push(("CALICO_IPV4POOL_NAT_OUTGOING", "false".to_string()));
        }
        if let Some(p) = cx.pod(Family::IPv6) {
            env.push(("FELIX_IPV6SUPPORT", "true".to_string()));
            env.push(("IP6", "autodetect".to_string()));
            env.push(("CALICO_IPV6POOL_CIDR", p.cidr.to_string()));
        } else {
            env.push(("FELIX_IPV6SUPPORT", "false".to_string()));
        }
        if !cx.has(Family::IPv4) {
            env.push(("IP", "none".to_string()));
        }
        let doc = Yaml::map([(
            "env",
            Yaml::Seq(
                env.into_iter()
                    .map(|(k, v)| Yaml::map([("name", Yaml::str(k)), ("value", Yaml::str(v))]))
                    .collect(),
            ),
        )]);
        Ok(Rendered {
            files: vec![
                RenderedFile::config("cni/canal-net-conf.json", net_conf(cx)),
                RenderedFile::config(
                    "cni/canal-calico-node-env.yaml",
                    format!(
                        "# Rendered by kube6: calico-node's environment in the Canal DaemonSet.\n{}",
                        yaml::to_string(&doc)
                    ),
                ),
            ],
            notes: Vec::new(),
        })
    }
}
