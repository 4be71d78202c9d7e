//! kube6's own `ClusterNetwork` (for `kube6 convert --to kube6`): every setting of the plan in
//! one document, with explicit node masks and the source's distribution.

use kube6_model::model::{MaskValue, Role, UpstreamMode};
use kube6_net::Family;

use crate::context::Context;
use crate::yaml::{self, Yaml};
use crate::{RenderError, Rendered, RenderedFile};

fn role(role: Role) -> &'static str {
    match role {
        Role::Controller => "controller",
        Role::Worker => "worker",
        Role::ControllerWorker => "controller+worker",
    }
}

fn mode(mode: UpstreamMode) -> &'static str {
    mode.as_str()
}

/// A block or mask size as the schema wants it: an integer (`kube6 schema` types them so);
/// text that is not a number is kept as written, for the rules to report.
fn mask(value: &MaskValue) -> Yaml {
    match value.parsed {
        Some(n) => Yaml::Int(i64::from(n)),
        None => Yaml::str(&value.text),
    }
}

/// The CNI settings the model keeps (so rules that read them see the same values).
fn cni_settings(cx: &Context<'_>, cni: &mut Yaml) {
    let net = cx.net;
    if cx.cni != cx.plan.cni {
        return;
    }
    let c = &net.calico;
    if c.mode.is_some() || c.ipam.is_some() || !c.pools.is_empty() {
        let mut calico = Yaml::map::<&str>([]);
        if let Some(m) = &c.mode {
            calico.push("mode", Yaml::str(&m.value));
        }
        if let Some(i) = &c.ipam {
            calico.push("ipam", Yaml::str(&i.value));
        }
        if !c.pools.is_empty() {
            calico.push(
                "pools",
                Yaml::Seq(
                    c.pools
                        .iter()
                        .map(|p| {
                            let mut pool = Yaml::map([("cidr", Yaml::str(&p.cidr.value.text))]);
                            if let Some(b) = &p.block_size {
                                pool.push("blockSize", mask(&b.value));
                            }
                            if let Some(n) = &p.nat_outgoing {
                                pool.push("natOutgoing", Yaml::Bool(n.value));
                            }
                            if let Some(m) = &p.ipip_mode {
                                pool.push("ipipMode", Yaml::str(&m.value));
                            }
                            if let Some(m) = &p.vxlan_mode {
                                pool.push("vxlanMode", Yaml::str(&m.value));
                            }
                            pool
                        })
                        .collect(),
                ),
            );
        }
        cni.push("calico", calico);
    }
    let ci = &net.cilium;
    let mut cilium = Yaml::map::<&str>([]);
    if let Some(m) = &ci.ipam_mode {
        cilium.push("ipamMode", Yaml::str(&m.value));
    }
    if !ci.ipv4_pools.is_empty() {
        cilium.push(
            "clusterPoolIPv4PodCIDRList",
            Yaml::strs(ci.ipv4_pools.iter().map(|p| p.value.text.clone())),
        );
    }
    if let Some(m) = &ci.ipv4_mask {
        cilium.push("clusterPoolIPv4MaskSize", mask(&m.value));
    }
    if !ci.ipv6_pools.is_empty() {
        cilium.push(
            "clusterPoolIPv6PodCIDRList",
            Yaml::strs(ci.ipv6_pools.iter().map(|p| p.value.text.clone())),
        );
    }
    if let Some(m) = &ci.ipv6_mask {
        cilium.push("clusterPoolIPv6MaskSize", mask(&m.value));
    }
    if let Some(b) = &ci.ipv6_enabled {
        cilium.push("ipv6Enabled", Yaml::Bool(b.value));
    }
    if let Some(b) = &ci.ipv6_masquerade {
        cilium.push("enableIPv6Masquerade", Yaml::Bool(b.value));
    }
    if let Some(m) = &ci.routing_mode {
        cilium.push("routingMode", Yaml::str(&m.value));
    }
    if let Some(u) = &ci.underlay_protocol {
        cilium.push("underlayProtocol", Yaml::str(&u.value));
    }
    if let Some(c) = &ci.ipv6_native_routing_cidr {
        cilium.push("ipv6NativeRoutingCIDR", Yaml::str(&c.value.text));
    }
    if let Some(b) = &ci.auto_direct_node_routes {
        cilium.push("autoDirectNodeRoutes", Yaml::Bool(b.value));
    }
    if let Some(b) = &ci.bgp_control_plane {
        cilium.push("bgpControlPlane", Yaml::Bool(b.value));
    }
    if matches!(&cilium, Yaml::Map(e) if !e.is_empty()) {
        cni.push("cilium", cilium);
    }
    let mut flannel = Yaml::map::<&str>([]);
    if let Some(b) = &net.flannel.backend {
        flannel.push("backend", Yaml::str(&b.value));
    }
    if let Some(b) = &net.flannel.ipv6_masquerade {
        flannel.push("ipv6Masquerade", Yaml::Bool(b.value));
    }
    if let Some(b) = &net.flannel.ip_masq {
        flannel.push("ipMasq", Yaml::Bool(b.value));
    }
    if matches!(&flannel, Yaml::Map(e) if !e.is_empty()) {
        cni.push("flannel", flannel);
    }
    let mut kube_router = Yaml::map::<&str>([]);
    if let Some(id) = &net.kube_router.router_id {
        kube_router.push("routerID", Yaml::str(&id.value));
    }
    if let Some(e) = &net.kube_router.pod_egress {
        kube_router.push("podEgress", Yaml::Bool(e.value));
    }
    if matches!(&kube_router, Yaml::Map(e) if !e.is_empty()) {
        cni.push("kubeRouter", kube_router);
    }
}

pub fn document(cx: &Context<'_>) -> Result<Rendered, RenderError> {
    let net = cx.net;
    let mut spec = Yaml::map::<&str>([]);
    let mut dist = Yaml::map([("name", Yaml::str(cx.distribution.as_str()))]);
    // A version belongs to the distribution it was stated for.
    if let Some(v) = &cx.plan.distribution_version
        && cx.distribution == cx.plan.distribution
    {
        dist.push("version", Yaml::str(v));
    }
    spec.push("distribution", dist);
    if let Some(v) = &cx.net.kubernetes_version {
        spec.push("kubernetesVersion", Yaml::str(&v.value));
    }
    let mut cni = Yaml::map([("name", Yaml::str(cx.cni.as_str()))]);
    if let Some(v) = &cx.plan.cni_version
        && cx.cni == cx.plan.cni
    {
        cni.push("version", Yaml::str(v));
    }
    cni_settings(cx, &mut cni);
    spec.push("cni", cni);
    spec.push("primaryFamily", Yaml::str(cx.primary().as_str()));
    spec.push(
        "pods",
        Yaml::Seq(
            cx.pods()
                .iter()
                .map(|p| {
                    let mut range = Yaml::map([("cidr", Yaml::str(p.cidr.to_string()))]);
                    if let Some(m) = p.node_mask_size {
                        range.push("nodeMaskSize", Yaml::Int(i64::from(m)));
                    }
                    range
                })
                .collect(),
        ),
    );
    spec.push(
        "services",
        Yaml::strs(cx.services().iter().map(|s| s.cidr.to_string())),
    );
    spec.push("clusterDomain", Yaml::str(&cx.plan.cluster_domain));
    if !net.cluster_dns.is_empty() {
        spec.push(
            "clusterDNS",
            Yaml::strs(cx.dns_ips().iter().map(ToString::to_string)),
        );
    }
    let mut api = Yaml::map::<&str>([]);
    if let Some(a) = &net.api.address {
        api.push("address", Yaml::str(&a.value));
    }
    if let Some(a) = &net.api.external {
        api.push("externalAddress", Yaml::str(&a.value));
    }
    if !net.api.endpoint_addresses.is_empty() {
        api.push(
            "endpointAddresses",
            Yaml::strs(
                net.api
                    .endpoint_addresses
                    .iter()
                    .map(|a| a.value.text.clone()),
            ),
        );
    }
    if !net.api.sans.is_empty() {
        api.push(
            "sans",
            Yaml::strs(net.api.sans.iter().map(|a| a.value.clone())),
        );
    }
    if matches!(&api, Yaml::Map(e) if !e.is_empty()) {
        spec.push("api", api);
    }
    // Later settings of the same gate win, as on a command line.
    let mut gates: Vec<(String, Yaml)> = Vec::new();
    for g in &net.feature_gates {
        gates.retain(|(name, _)| *name != g.name.value);
        gates.push((g.name.value.clone(), Yaml::Bool(g.enabled.value)));
    }
    if !gates.is_empty() {
        spec.push("featureGates", Yaml::Map(gates));
    }
    if let Some(m) = &net.kube_proxy_mode {
        spec.push("kubeProxy", Yaml::map([("mode", Yaml::str(&m.value))]));
    }
    if !cx.nodes.is_empty() {
        spec.push(
            "nodes",
            Yaml::Seq(
                cx.nodes
                    .iter()
                    .map(|n| {
                        Yaml::map([
                            ("name", Yaml::str(&n.name)),
                            ("role", Yaml::str(role(n.role))),
                            (
                                "addresses",
                                Yaml::strs(n.addresses.iter().map(ToString::to_string)),
                            ),
                        ])
                    })
                    .collect(),
            ),
        );
    }
    let mut upstream = Yaml::map::<&str>([]);
    for &family in Family::ALL {
        if let Some(u) = net.upstream_for(family) {
            let mut entry = Yaml::map([("mode", Yaml::str(mode(u.mode.value)))]);
            if let Some(uplink) = &u.uplink {
                entry.push("uplink", Yaml::str(&uplink.value));
            }
            if let Some(bgp) = &u.bgp {
                let mut b = Yaml::map::<&str>([]);
                if let Some(a) = &bgp.peer_address {
                    b.push("peerAddress", Yaml::str(&a.value.text));
                }
                if let Some(a) = &bgp.peer_asn {
                    b.push("peerASN", Yaml::str(&a.value));
                }
                if let Some(a) = &bgp.local_asn {
                    b.push("localASN", Yaml::str(&a.value));
                }
                entry.push("bgp", b);
            }
            upstream.push(family.as_str(), entry);
        }
    }
    if matches!(&upstream, Yaml::Map(e) if !e.is_empty()) {
        spec.push("upstream", upstream);
    }
    if let Some(nat64) = &net.nat64 {
        let mut entry = Yaml::map([("prefix", Yaml::str(&nat64.prefix.value.text))]);
        if let Some(gw) = &nat64.gateway {
            let mut gateway = Yaml::map([("pool4", Yaml::str(&gw.pool4.value.text))]);
            if let Some(uplink) = &gw.uplink {
                gateway.push("uplink", Yaml::str(&uplink.value));
            }
            entry.push("gateway", gateway);
        }
        spec.push("nat64", entry);
    }
    let mut dns = Yaml::map::<&str>([]);
    if !net.dns.forwarders.is_empty() {
        dns.push(
            "forwarders",
            Yaml::strs(net.dns.forwarders.iter().map(|f| f.value.text.clone())),
        );
    }
    if let Some(local) = &net.dns.node_local {
        dns.push("nodeLocal", Yaml::str(&local.value.text));
    }
    if matches!(&dns, Yaml::Map(e) if !e.is_empty()) {
        spec.push("dns", dns);
    }
    let doc = Yaml::map([
        ("apiVersion", Yaml::str("kube6.dev/v1alpha1")),
        ("kind", Yaml::str("ClusterNetwork")),
        ("metadata", Yaml::map([("name", Yaml::str("converted"))])),
        ("spec", spec),
    ]);
    Ok(Rendered {
        files: vec![RenderedFile::config(
            "kube6/clusternetwork.yaml",
            format!(
                "# Converted by kube6 from {} ({}).\n{}",
                cx.plan.source.file,
                cx.plan.source.format,
                yaml::to_string(&doc)
            ),
        )],
        notes: Vec::new(),
    })
}
