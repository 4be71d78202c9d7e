//! Host files, per declared node (or one set for "every node" when the spec lists none):
//! a sysctl.d file, the NDP proxy configuration (ndppd.conf and kube6's own proxy, with a
//! systemd unit) when a family's upstream is `ndp-proxy`, and a BIRD 2 configuration that
//! announces the node's pod block to the upstream peer when it is `bgp`.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;
use kube6_model::model::{Cni, NdpProxyMode, UpstreamMode};
use kube6_model::node_kernel::{self, When};
use kube6_net::Family;

use crate::context::{Context, NodeView, is_private};
use crate::yaml::{self, Yaml};
use crate::{RenderError, Rendered, RenderedFile, Renderer};

/// The uplink when the spec names none.
pub const DEFAULT_UPLINK: &str = "eth0";
/// AS number used when the spec gives none (private range, RFC 6996).
pub const DEFAULT_ASN: &str = "64512";

pub struct HostFiles;

impl Renderer for HostFiles {
    fn name(&self) -> &'static str {
        "host files"
    }

    fn render(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        let mut out = Rendered::default();
        if cx.cni == Cni::Calico {
            calico_bgp(cx, &mut out);
        }
        if let Some(file) = ndp_watch_manifest(cx)? {
            out.files.push(file);
        }
        if cx.nodes.is_empty() {
            node_files(cx, None, "host", &mut out);
        } else {
            for node in &cx.nodes {
                node_files(
                    cx,
                    Some(node),
                    &format!("host/{}", node.file_name()),
                    &mut out,
                );
            }
        }
        Ok(out)
    }
}

fn uplink(cx: &Context<'_>, family: Family) -> Option<String> {
    cx.net
        .upstream_for(family)
        .and_then(|u| u.uplink.as_ref())
        .map(|u| u.value.clone())
}

fn node_files(cx: &Context<'_>, node: Option<&NodeView>, dir: &str, out: &mut Rendered) {
    let (content, note) = sysctl(cx);
    if let Some(note) = note
        && !out.notes.contains(&note)
    {
        out.notes.push(note);
    }
    out.files.push(RenderedFile::config(
        format!("{dir}/sysctl.d/90-kube6.conf"),
        content,
    ));
    if cx.upstream(Family::IPv6) == Some(UpstreamMode::NdpProxy) && cx.has(Family::IPv6) {
        let iface = uplink(cx, Family::IPv6).unwrap_or_else(|| DEFAULT_UPLINK.to_string());
        let rules = ndp_rules(cx, node, PoolRules::AsPlanned);
        if rules.iter().all(|r| r.per_node) {
            out.files.push(RenderedFile::config(
                format!("{dir}/ndppd.conf"),
                ndppd_conf(&iface, &rules),
            ));
        } else if !cx.pods_in_node_blocks() {
            push_once(
                out,
                format!(
                    "ndppd: {}'s IPAM moves pod blocks between nodes, so no node has a fixed block for a static rule, and \
                     ndppd 0.2.5's `auto` rule answers only the first address behind a route (DanielAdolfsson/ndppd#68); \
                     no ndppd.conf is written. kube6-ndp-proxy.yaml answers for the whole pod range where the node routes \
                     the address to a local pod (routed mode)",
                    cx.cni
                ),
            );
        } else {
            push_once(
                out,
                "ndppd: list the nodes (spec.nodes) to get an ndppd.conf per node with a static rule for its own pod block; ndppd 0.2.5's `auto` rule for a whole range answers only the first address behind a route (DanielAdolfsson/ndppd#68). kube6-ndp-proxy.yaml uses the routed mode instead".to_string(),
            );
        }
        out.files.push(RenderedFile::config(
            format!("{dir}/kube6-ndp-proxy.yaml"),
            kube6_ndp_config(&iface, &rules),
        ));
        out.files.push(RenderedFile::config(
            format!("{dir}/kube6-ndp-proxy.service"),
            NDP_UNIT.to_string(),
        ));
    }
    let bgp_families: Vec<Family> = cx
        .families()
        .iter()
        .copied()
        .filter(|f| cx.upstream(*f) == Some(UpstreamMode::Bgp))
        .collect();
    // Calico and kube-router run their own BGP speaker on port 179 on every node; a second
    // one (BIRD) cannot listen there. They peer with the upstream themselves (cni/ files).
    let cni_speaks_bgp = matches!(cx.cni, Cni::Calico | Cni::KubeRouter);
    if !bgp_families.is_empty() && !cni_speaks_bgp && !cx.pods_in_node_blocks() {
        push_once(
            out,
            format!(
                "bird: {}'s IPAM does not use the node blocks of the plan, so BIRD would announce the wrong prefixes; \
                 no bird.conf is written (use the CNI's own BGP, e.g. Cilium's bgpControlPlane)",
                cx.cni
            ),
        );
    } else if !bgp_families.is_empty() && !cni_speaks_bgp {
        match (node, bird_conf(cx, node, &bgp_families)) {
            (Some(_), Ok(conf)) => out
                .files
                .push(RenderedFile::config(format!("{dir}/bird.conf"), conf)),
            (None, _) => push_once(
                out,
                "bird: list the nodes (spec.nodes) to get a BIRD configuration per node; each announces its own pod block".to_string(),
            ),
            (Some(_), Err(why)) => push_once(out, why),
        }
    }
}

/// The upstream BGP peers (address, peer ASN, local ASN) of the families whose mode is bgp.
pub fn bgp_peers(cx: &Context<'_>) -> Vec<(Family, IpAddr, String, String)> {
    cx.families()
        .iter()
        .filter(|f| cx.upstream(**f) == Some(UpstreamMode::Bgp))
        .filter_map(|f| {
            let bgp = cx.net.upstream_for(*f)?.bgp.as_ref()?;
            let peer = bgp.peer_address.as_ref()?.value.parsed?;
            let peer_asn = asn(bgp.peer_asn.as_ref()).unwrap_or_else(|| DEFAULT_ASN.to_string());
            let local_asn = asn(bgp.local_asn.as_ref()).unwrap_or_else(|| DEFAULT_ASN.to_string());
            Some((*f, peer, peer_asn, local_asn))
        })
        .collect()
}

/// Calico peers with the upstream itself: a BGPConfiguration (the nodes' AS) and one BGPPeer
/// per family whose upstream mode is bgp.
fn calico_bgp(cx: &Context<'_>, out: &mut Rendered) {
    let peers = bgp_peers(cx);
    if peers.is_empty() {
        if cx
            .families()
            .iter()
            .any(|f| cx.upstream(*f) == Some(UpstreamMode::Bgp))
        {
            push_once(out, "calico: spec.upstream.<family>.bgp.peerAddress is not set; no BGPPeer was rendered".to_string());
        }
        return;
    }
    let local = peers[0].3.clone();
    let mut docs = vec![Yaml::map([
        ("apiVersion", Yaml::str("projectcalico.org/v3")),
        ("kind", Yaml::str("BGPConfiguration")),
        ("metadata", Yaml::map([("name", Yaml::str("default"))])),
        (
            "spec",
            Yaml::map([
                ("asNumber", Yaml::Int(local.parse().unwrap_or(64512))),
                ("nodeToNodeMeshEnabled", Yaml::Bool(true)),
            ]),
        ),
    ])];
    for (family, peer, peer_asn, _) in &peers {
        docs.push(Yaml::map([
            ("apiVersion", Yaml::str("projectcalico.org/v3")),
            ("kind", Yaml::str("BGPPeer")),
            (
                "metadata",
                Yaml::map([(
                    "name",
                    Yaml::str(format!("upstream-{}", family.as_str().to_ascii_lowercase())),
                )]),
            ),
            (
                "spec",
                Yaml::map([
                    ("peerIP", Yaml::str(peer.to_string())),
                    ("asNumber", Yaml::Int(peer_asn.parse().unwrap_or(64512))),
                ]),
            ),
        ]));
    }
    out.files.push(RenderedFile::config(
        "cni/calico-bgp.yaml",
        format!(
            "# Rendered by kube6: Calico peers every node with the upstream router (calicoctl apply -f, or kubectl with the Calico API server).\n{}",
            yaml::documents(&docs)
        ),
    ));
}

fn push_once(out: &mut Rendered, note: String) {
    if !out.notes.contains(&note) {
        out.notes.push(note);
    }
}

/// The sysctl.d file: every setting of the node's kernel list (kube6_model::node_kernel, the
/// list `kube6 host check` checks), and a note when the uplink is unknown.
pub fn sysctl(cx: &Context<'_>) -> (String, Option<String>) {
    let mut s = String::from(
        "# Rendered by kube6: kernel settings for the nodes of this cluster (the ones `kube6 host check` checks).\n\
         # Install as /etc/sysctl.d/90-kube6.conf; apply with `sysctl -p /etc/sysctl.d/90-kube6.conf`.\n",
    );
    let mut note = None;
    let uplink = uplink(cx, Family::IPv6).or_else(|| uplink(cx, Family::IPv4));
    let mut last_why = "";
    for setting in node_kernel::settings(cx.families()) {
        if setting.why != last_why {
            s.push_str(&format!("\n# {}.\n", setting.why));
            last_why = setting.why;
        }
        let name = setting
            .key
            .sysctl_name(uplink.as_deref().unwrap_or("UPLINK"));
        let line = format!("{name} = {}", setting.value);
        match (setting.when, setting.key.on_uplink() && uplink.is_none()) {
            (When::BridgeNetfilterLoaded, _) => s.push_str(&format!(
                "# {line}   (exists once br_netfilter is loaded: modprobe br_netfilter, then uncomment)\n"
            )),
            (_, true) => {
                s.push_str(&format!("# {line}   (uncomment with your uplink's name)\n"));
                note = Some(
                    "host: the spec names no uplink (spec.upstream.<family>.uplink); its settings in sysctl.d/90-kube6.conf are commented out".to_string(),
                );
            }
            _ => {
                s.push_str(&line);
                s.push('\n');
            }
        }
    }
    (s, note)
}

/// An NDP proxy rule: the prefix and whether to answer at once (static) or only when the
/// route to the target leaves through another interface (a range shared by every node).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NdpRule {
    pub prefix: IpNet,
    pub per_node: bool,
    /// A load-balancer pool (answerable per announced address in watch mode).
    pub load_balancer: bool,
}

/// Which load-balancer pools a host proxy's rules include.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolRules {
    /// As the plan says (`spec.loadBalancer.ndpProxy`): the pools in static mode, or none
    /// where the watch DaemonSet answers for them.
    AsPlanned,
    /// Every pool the proxy answers for, whatever the plan's mode (`kube6 ndp-proxy --plan
    /// --watch-load-balancers` runs them in watch mode on the host).
    All,
}

/// What `kube6 ndp-proxy --plan FILE --node NAME` runs with: the uplink the plan names for IPv6
/// (if any) and the same rules the rendered proxy configuration holds for that node (or, with no
/// node, for the whole pod range in routed mode); with `PoolRules::All`, the load-balancer pools
/// too where the plan leaves them to the watch DaemonSet.
pub fn ndp_proxy_rules(
    cx: &Context<'_>,
    node: Option<&NodeView>,
    pools: PoolRules,
) -> (Option<String>, Vec<NdpRule>) {
    (uplink(cx, Family::IPv6), ndp_rules(cx, node, pools))
}

fn ndp_rules(cx: &Context<'_>, node: Option<&NodeView>, pools: PoolRules) -> Vec<NdpRule> {
    let mut rules = Vec::new();
    // A node's own block is answered at once, where pods take their addresses from the node
    // blocks. Calico IPAM and Cilium's cluster-pool move blocks between nodes: every node answers
    // for the whole range, where its routes send the address to a local pod (routed mode).
    let own_block = node
        .filter(|_| cx.pods_in_node_blocks())
        .and_then(|n| n.pod_cidr(Family::IPv6));
    match own_block {
        Some(block) => rules.push(NdpRule {
            prefix: block,
            per_node: true,
            load_balancer: false,
        }),
        None => {
            if let Some(pod) = cx.pod(Family::IPv6) {
                rules.push(NdpRule {
                    prefix: pod.cidr,
                    per_node: false,
                    load_balancer: false,
                });
            }
        }
    }
    // Load-balancer addresses of IPv6 pools in l2 mode whose implementation does not answer NDP
    // (Cilium before 1.19): every node accepts traffic to them, so every node answers, unless
    // the plan leaves them to the watch DaemonSet (one proxy per pool, never two).
    let static_pools = cx.net.load_balancer.ndp_proxy_mode() == NdpProxyMode::Static;
    let pool_prefixes = if static_pools || pools == PoolRules::All {
        kube6_model::load_balancer::ndp_proxy_pool_prefixes(cx.net)
    } else {
        Vec::new()
    };
    for prefix in pool_prefixes {
        rules.push(NdpRule {
            prefix,
            per_node: true,
            load_balancer: true,
        });
    }
    // Service addresses are handled on every node; answer for a global service range too.
    if let Some(svc) = cx.service(Family::IPv6)
        && !is_private(&svc.cidr)
    {
        rules.push(NdpRule {
            prefix: svc.cidr,
            per_node: true,
            load_balancer: false,
        });
    }
    rules
}

/// Where the watch-mode proxy runs and serves its metrics (a port apart from the host proxy's
/// 9465, as both run on the node's network).
const WATCH_NAMESPACE: &str = "kube6-system";
const WATCH_MANIFEST: &str = "load-balancer/kube6-ndp-proxy-watch.yaml";
const WATCH_METRICS: &str = "127.0.0.1:9466";

/// The watch-mode alternative to the static pool rules: a DaemonSet running `kube6 ndp-proxy`
/// with the IPv6 l2 pools in watch mode (only the addresses each node announces), with the
/// read-only RBAC it needs (list/watch Services and EndpointSlices; Leases in Cilium's
/// namespace). Rendered where kube6's proxy answers for load-balancer pools and the plan asks
/// for watch mode (`spec.loadBalancer.ndpProxy: watch`); the host files then leave the pools out.
fn ndp_watch_manifest(cx: &Context<'_>) -> Result<Option<RenderedFile>, RenderError> {
    if cx.upstream(Family::IPv6) != Some(UpstreamMode::NdpProxy)
        || !cx.has(Family::IPv6)
        || cx.net.load_balancer.ndp_proxy_mode() != NdpProxyMode::Watch
    {
        return Ok(None);
    }
    let pools = kube6_model::load_balancer::ndp_proxy_pool_prefixes(cx.net);
    if pools.is_empty() {
        return Ok(None);
    }
    // The host files leave these pools to the DaemonSet: without a pullable image nothing would
    // answer for them, so no placeholder is written.
    let Some(image) = cx.kube6_image.as_deref() else {
        return Err(RenderError::Kube6ImageNeeded {
            file: WATCH_MANIFEST,
            why: "spec.loadBalancer.ndpProxy: watch",
        });
    };
    let cilium = kube6_model::load_balancer::ndp_watch_follows_cilium_leases(cx.net);
    let election = if cilium { "cilium-lease" } else { "none" };
    // Cilium keeps its leases in its own namespace; kube6 renders Cilium into kube-system.
    let lease_namespace = "kube-system";
    let iface = uplink(cx, Family::IPv6).unwrap_or_else(|| DEFAULT_UPLINK.to_string());
    let name = "kube6-ndp-proxy-watch";
    let meta = |namespace: Option<&str>| {
        let mut m = Yaml::map([("name", Yaml::str(name))]);
        if let Some(ns) = namespace {
            m.push("namespace", Yaml::str(ns));
        }
        m.push(
            "labels",
            Yaml::map([("app.kubernetes.io/name", Yaml::str(name))]),
        );
        m
    };
    let rule = |groups: &[&str], resources: &[&str]| {
        Yaml::map([
            ("apiGroups", Yaml::strs(groups.iter().copied())),
            ("resources", Yaml::strs(resources.iter().copied())),
            ("verbs", Yaml::strs(["list", "watch"])),
        ])
    };
    let subject = Yaml::Seq(vec![Yaml::map([
        ("kind", Yaml::str("ServiceAccount")),
        ("name", Yaml::str(name)),
        ("namespace", Yaml::str(WATCH_NAMESPACE)),
    ])]);
    let mut args = vec![
        "ndp-proxy".to_string(),
        "--uplink".to_string(),
        iface,
        "--election".to_string(),
        election.to_string(),
        "--lease-namespace".to_string(),
        lease_namespace.to_string(),
        "--metrics".to_string(),
        WATCH_METRICS.to_string(),
        "--log-format".to_string(),
        "json".to_string(),
    ];
    for pool in &pools {
        args.push("--prefix".to_string());
        args.push(format!("{pool}=watch"));
    }
    let mut docs = vec![
        Yaml::map([
            ("apiVersion", Yaml::str("v1")),
            ("kind", Yaml::str("Namespace")),
            (
                "metadata",
                Yaml::map([("name", Yaml::str(WATCH_NAMESPACE))]),
            ),
        ]),
        Yaml::map([
            ("apiVersion", Yaml::str("v1")),
            ("kind", Yaml::str("ServiceAccount")),
            ("metadata", meta(Some(WATCH_NAMESPACE))),
        ]),
        Yaml::map([
            ("apiVersion", Yaml::str("rbac.authorization.k8s.io/v1")),
            ("kind", Yaml::str("ClusterRole")),
            ("metadata", meta(None)),
            (
                "rules",
                Yaml::Seq(vec![
                    rule(&[""], &["services"]),
                    rule(&["discovery.k8s.io"], &["endpointslices"]),
                ]),
            ),
        ]),
        Yaml::map([
            ("apiVersion", Yaml::str("rbac.authorization.k8s.io/v1")),
            ("kind", Yaml::str("ClusterRoleBinding")),
            ("metadata", meta(None)),
            (
                "roleRef",
                Yaml::map([
                    ("apiGroup", Yaml::str("rbac.authorization.k8s.io")),
                    ("kind", Yaml::str("ClusterRole")),
                    ("name", Yaml::str(name)),
                ]),
            ),
            ("subjects", subject.clone()),
        ]),
    ];
    if cilium {
        docs.push(Yaml::map([
            ("apiVersion", Yaml::str("rbac.authorization.k8s.io/v1")),
            ("kind", Yaml::str("Role")),
            ("metadata", meta(Some(lease_namespace))),
            (
                "rules",
                Yaml::Seq(vec![rule(&["coordination.k8s.io"], &["leases"])]),
            ),
        ]));
        docs.push(Yaml::map([
            ("apiVersion", Yaml::str("rbac.authorization.k8s.io/v1")),
            ("kind", Yaml::str("RoleBinding")),
            ("metadata", meta(Some(lease_namespace))),
            (
                "roleRef",
                Yaml::map([
                    ("apiGroup", Yaml::str("rbac.authorization.k8s.io")),
                    ("kind", Yaml::str("Role")),
                    ("name", Yaml::str(name)),
                ]),
            ),
            ("subjects", subject),
        ]));
    }
    let labels = Yaml::map([("app.kubernetes.io/name", Yaml::str(name))]);
    let container = Yaml::map([
        ("name", Yaml::str("ndp-proxy")),
        ("image", Yaml::str(image)),
        ("args", Yaml::strs(args)),
        (
            "env",
            Yaml::Seq(vec![Yaml::map([
                ("name", Yaml::str("NODE_NAME")),
                (
                    "valueFrom",
                    Yaml::map([(
                        "fieldRef",
                        Yaml::map([("fieldPath", Yaml::str("spec.nodeName"))]),
                    )]),
                ),
            ])]),
        ),
        (
            "securityContext",
            Yaml::map([
                ("runAsUser", Yaml::Int(0)),
                ("allowPrivilegeEscalation", Yaml::Bool(false)),
                ("readOnlyRootFilesystem", Yaml::Bool(true)),
                (
                    "capabilities",
                    Yaml::map([
                        ("drop", Yaml::strs(["ALL"])),
                        ("add", Yaml::strs(["NET_RAW", "NET_ADMIN"])),
                    ]),
                ),
            ]),
        ),
        (
            "resources",
            Yaml::map([
                (
                    "requests",
                    Yaml::map([("cpu", Yaml::str("10m")), ("memory", Yaml::str("32Mi"))]),
                ),
                ("limits", Yaml::map([("memory", Yaml::str("128Mi"))])),
            ]),
        ),
        (
            "livenessProbe",
            Yaml::map([
                (
                    "httpGet",
                    Yaml::map([
                        ("host", Yaml::str("127.0.0.1")),
                        ("path", Yaml::str("/healthz")),
                        ("port", Yaml::Int(9466)),
                    ]),
                ),
                ("periodSeconds", Yaml::Int(20)),
            ]),
        ),
    ]);
    docs.push(Yaml::map([
        ("apiVersion", Yaml::str("apps/v1")),
        ("kind", Yaml::str("DaemonSet")),
        ("metadata", meta(Some(WATCH_NAMESPACE))),
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
                                ("serviceAccountName", Yaml::str(name)),
                                ("hostNetwork", Yaml::Bool(true)),
                                ("dnsPolicy", Yaml::str("ClusterFirstWithHostNet")),
                                ("priorityClassName", Yaml::str("system-node-critical")),
                                (
                                    "tolerations",
                                    Yaml::Seq(vec![Yaml::map([("operator", Yaml::str("Exists"))])]),
                                ),
                                ("containers", Yaml::Seq(vec![container])),
                            ]),
                        ),
                    ]),
                ),
            ]),
        ),
    ]));
    let pool_list = pools
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Some(RenderedFile::config(
        WATCH_MANIFEST,
        format!(
            "# Rendered by kube6: the NDP proxy in watch mode for the load-balancer pools {pool_list}\n\
             # (docs/ndp-proxy.md, \"Watch mode\"): each node answers only for the addresses it announces\n\
             # ({}).\n\
             # The plan asks for it (spec.loadBalancer.ndpProxy: watch), so the host files\n\
             # (host/*/kube6-ndp-proxy.yaml) leave these pools out: one proxy answers for them.\n{}",
            if cilium {
                "the holder of the Service's Cilium L2 announcement lease"
            } else {
                "every node; with externalTrafficPolicy Local the nodes with a ready endpoint"
            },
            yaml::documents(&docs)
        ),
    )))
}

/// ndppd.conf (0.2.5 syntax): static rules for this node's pod block and a global service
/// range.
pub fn ndppd_conf(iface: &str, rules: &[NdpRule]) -> String {
    let mut s = String::from(
        "# Rendered by kube6: ndppd configuration (/etc/ndppd.conf) answering the upstream\n\
         # router's neighbor solicitations for this node's pod addresses.\n\
         route-ttl 30000\n",
    );
    s.push_str(&format!(
        "proxy {iface} {{\n    router yes\n    timeout 500\n    ttl 30000\n"
    ));
    for rule in rules {
        s.push_str(&format!(
            "    rule {} {{\n        static\n    }}\n",
            rule.prefix
        ));
    }
    s.push_str("}\n");
    s
}

/// The configuration file of `kube6 ndp-proxy --config`.
pub fn kube6_ndp_config(iface: &str, rules: &[NdpRule]) -> String {
    let doc = Yaml::map([
        ("uplink", Yaml::str(iface)),
        (
            "prefixes",
            Yaml::Seq(
                rules
                    .iter()
                    .map(|r| {
                        Yaml::map([
                            ("prefix", Yaml::str(r.prefix.to_string())),
                            (
                                "mode",
                                Yaml::str(if r.per_node { "static" } else { "routed" }),
                            ),
                        ])
                    })
                    .collect(),
            ),
        ),
    ]);
    format!(
        "# Rendered by kube6: configuration for `kube6 ndp-proxy --config /etc/kube6/ndp-proxy.yaml`.\n{}",
        yaml::to_string(&doc)
    )
}

const NDP_UNIT: &str = "# Rendered by kube6: install as /etc/systemd/system/kube6-ndp-proxy.service with\n\
# kube6-ndp-proxy.yaml as /etc/kube6/ndp-proxy.yaml.\n\
[Unit]\n\
Description=kube6 NDP proxy for this node's pod addresses\n\
After=network-online.target\n\
Wants=network-online.target\n\
\n\
[Service]\n\
ExecStart=/usr/local/bin/kube6 ndp-proxy --config /etc/kube6/ndp-proxy.yaml\n\
Restart=on-failure\n\
AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN\n\
CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN\n\
NoNewPrivileges=yes\n\
\n\
[Install]\n\
WantedBy=multi-user.target\n";

/// A BIRD router ID: the node's IPv4 address, else the low 32 bits of its IPv6 address.
fn router_id(node: &NodeView) -> Option<Ipv4Addr> {
    if let Some(IpAddr::V4(v4)) = node.address(Family::IPv4) {
        return Some(v4);
    }
    match node.address(Family::IPv6) {
        Some(IpAddr::V6(v6)) => {
            let low = (u128::from(v6) & 0xffff_ffff) as u32;
            Some(Ipv4Addr::from(if low == 0 { 1 } else { low }))
        }
        _ => None,
    }
}

fn asn(value: Option<&kube6_model::source::Located<String>>) -> Option<String> {
    value.and_then(|v| {
        let t = v
            .value
            .trim()
            .trim_start_matches("AS")
            .trim_start_matches("as");
        t.parse::<u32>().ok().map(|n| n.to_string())
    })
}

/// BIRD 2 configuration for `node`: a static protocol holding its pod blocks and one BGP
/// session per family exporting only those.
pub fn bird_conf(
    cx: &Context<'_>,
    node: Option<&NodeView>,
    families: &[Family],
) -> Result<String, String> {
    let Some(node) = node else {
        return Err("bird: no node".to_string());
    };
    let id = router_id(node).ok_or_else(|| {
        format!(
            "bird: node {} has no address to derive a router id from; give its addresses",
            node.name
        )
    })?;
    let mut s = format!(
        "# Rendered by kube6: BIRD 2 configuration for node {} (/etc/bird/bird.conf).\n\
         # Announces the node's pod block to the upstream BGP peer; learns nothing from it.\n\
         router id {id};\n\nprotocol device {{\n}}\n",
        node.name
    );
    for family in families {
        let upstream = cx.net.upstream_for(*family);
        let bgp = upstream.and_then(|u| u.bgp.as_ref());
        let Some(peer) = bgp
            .and_then(|b| b.peer_address.as_ref())
            .and_then(|a| a.value.parsed)
        else {
            return Err(format!(
                "bird: spec.upstream.{}.bgp.peerAddress is not set; no BIRD configuration was rendered",
                family.as_str()
            ));
        };
        let local_asn =
            asn(bgp.and_then(|b| b.local_asn.as_ref())).unwrap_or_else(|| DEFAULT_ASN.to_string());
        let peer_asn =
            asn(bgp.and_then(|b| b.peer_asn.as_ref())).unwrap_or_else(|| DEFAULT_ASN.to_string());
        let Some(block) = node.pod_cidr(*family) else {
            return Err(format!(
                "bird: node {} has no {} pod block in the plan",
                node.name,
                family.as_str()
            ));
        };
        let (channel, suffix) = match family {
            Family::IPv4 => ("ipv4", "4"),
            Family::IPv6 => ("ipv6", "6"),
        };
        s.push_str(&format!(
            "\n# The pod block kube-controller-manager gives this node; the CNI routes the pods\n\
             # inside it, so BIRD only needs the route to announce it (not exported to the kernel).\n\
             protocol static kube6_pods{suffix} {{\n    {channel};\n    route {block} blackhole;\n}}\n"
        ));
        let local = node
            .address(*family)
            .map(|a| format!("{a} "))
            .unwrap_or_default();
        s.push_str(&format!(
            "\nprotocol bgp upstream{suffix} {{\n    description \"upstream {} peer\";\n    local {local}as {local_asn};\n    neighbor {peer} as {peer_asn};\n    {channel} {{\n        import none;\n        export where proto = \"kube6_pods{suffix}\";\n    }};\n}}\n",
            family.as_str()
        ));
    }
    Ok(s)
}
