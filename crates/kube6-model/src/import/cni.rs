//! CNI configuration that may accompany any cluster configuration, read so that the same rules
//! judge it as the cluster: Cilium's Helm values (as a values file, a `cilium-config`
//! ConfigMap or RKE2's rke2-cilium HelmChartConfig), flannel's net-conf.json (alone or in
//! `kube-flannel-cfg`), a CNI network configuration (Canal's `cni_network_config`), Canal's
//! `canal-config` ConfigMap and rke2-canal HelmChartConfig, RKE2's rke2-calico HelmChartConfig,
//! and the DaemonSets (or strategic-merge patches of them) of kube-router, calico-node and
//! kube-flannel. Documents are recognised by their kind, or by shape for the ones that have none
//! (values files, net-conf.json, CNI configurations).
//!
//! A document of one CNI names the cluster's CNI when the cluster configuration leaves it to the
//! distribution's default; when the cluster configuration names another CNI, the file is refused
//! (one cluster, one CNI).

use kube6_net::Family;

use super::walk::{self, Fields, Notes, ShapeError};
use crate::model::{CalicoPool, CidrValue, ClusterNetwork, Cni, CniConf, FlannelNetConf};
use crate::source::{Located, Origin};
use crate::yaml::{self, Kind, Node};

/// Every top-level key of the Cilium chart's values (install/kubernetes/cilium/values.schema.json
/// of v1.19.4), plus `tunnel` (the routing switch of charts before 1.15). Keys outside this list
/// are reported as unknown; the ones kube6 reads are in `CILIUM_READ`.
const CILIUM_KEYS: &[&str] = &[
    "MTU",
    "affinity",
    "agent",
    "agentNotReadyTaintKey",
    "aksbyocni",
    "alibabacloud",
    "annotateK8sNode",
    "annotations",
    "apiRateLimit",
    "authentication",
    "autoDirectNodeRoutes",
    "azure",
    "bandwidthManager",
    "bgpControlPlane",
    "bpf",
    "bpfClockProbe",
    "certgen",
    "cgroup",
    "ciliumEndpointSlice",
    "cleanBpfState",
    "cleanState",
    "cluster",
    "clustermesh",
    "cni",
    "commonLabels",
    "configDriftDetection",
    "connectivityProbeFrequencyRatio",
    "conntrackGCInterval",
    "conntrackGCMaxInterval",
    "crdWaitTimeout",
    "daemon",
    "dashboards",
    "debug",
    "defaultLBServiceIPAM",
    "directRoutingSkipUnreachable",
    "disableEndpointCRD",
    "dnsPolicy",
    "dnsProxy",
    "egressGateway",
    "enableCriticalPriorityClass",
    "enableIPv4BIGTCP",
    "enableIPv4Masquerade",
    "enableIPv6BIGTCP",
    "enableIPv6Masquerade",
    "enableInternalTrafficPolicy",
    "enableLBIPAM",
    "enableMasqueradeRouteSource",
    "enableNoServiceEndpointsRoutable",
    "enableNonDefaultDenyPolicies",
    "enableXTSocketFallback",
    "encryption",
    "endpointHealthChecking",
    "endpointLockdownOnMapOverflow",
    "endpointPolicyUpdateTimeoutDuration",
    "endpointRoutes",
    "eni",
    "envoy",
    "envoyConfig",
    "etcd",
    "extraArgs",
    "extraConfig",
    "extraContainers",
    "extraEnv",
    "extraHostPathMounts",
    "extraInitContainers",
    "extraVolumeMounts",
    "extraVolumes",
    "forceDeviceDetection",
    "gatewayAPI",
    "gke",
    "global",
    "healthCheckICMPFailureThreshold",
    "healthChecking",
    "healthPort",
    "hostFirewall",
    "hubble",
    "identityAllocationMode",
    "identityChangeGracePeriod",
    "identityManagementMode",
    "image",
    "imagePullSecrets",
    "ingressController",
    "initResources",
    "installNoConntrackIptablesRules",
    "ipMasqAgent",
    "ipam",
    "iptablesRandomFully",
    "ipv4",
    "ipv4NativeRoutingCIDR",
    "ipv6",
    "ipv6NativeRoutingCIDR",
    "k8s",
    "k8sClientExponentialBackoff",
    "k8sClientRateLimit",
    "k8sNetworkPolicy",
    "k8sServiceHost",
    "k8sServiceHostRef",
    "k8sServiceLookupConfigMapName",
    "k8sServiceLookupNamespace",
    "k8sServicePort",
    "keepDeprecatedLabels",
    "keepDeprecatedProbes",
    "kubeConfigPath",
    "kubeProxyReplacement",
    "kubeProxyReplacementHealthzBindAddr",
    "l2NeighDiscovery",
    "l2announcements",
    "l2podAnnouncements",
    "l7Proxy",
    "livenessProbe",
    "loadBalancer",
    "localRedirectPolicies",
    "localRedirectPolicy",
    "logSystemLoad",
    "maglev",
    "monitor",
    "name",
    "namespaceOverride",
    "nat",
    "nat46x64Gateway",
    "nodeIPAM",
    "nodePort",
    "nodeSelector",
    "nodeSelectorLabels",
    "nodeinit",
    "operator",
    "pmtuDiscovery",
    "podAnnotations",
    "podLabels",
    "podSecurityContext",
    "policyCIDRMatchMode",
    "policyDenyResponse",
    "policyEnforcementMode",
    "pprof",
    "preflight",
    "priorityClassName",
    "prometheus",
    "rbac",
    "readinessProbe",
    "resourceQuotas",
    "resources",
    "rollOutCiliumPods",
    "routingMode",
    "scheduling",
    "sctp",
    "secretsNamespaceAnnotations",
    "secretsNamespaceLabels",
    "securityContext",
    "serviceAccounts",
    "serviceNoBackendResponse",
    "sleepAfterInit",
    "socketLB",
    "standaloneDnsProxy",
    "startupProbe",
    "synchronizeK8sNodes",
    "sysctlfix",
    "terminationGracePeriodSeconds",
    "tls",
    "tmpVolume",
    "tolerations",
    "tunnel",
    "tunnelPort",
    "tunnelProtocol",
    "tunnelSourcePortRange",
    "underlayProtocol",
    "updateStrategy",
    "upgradeCompatibility",
    "vtep",
    "waitForKubeProxy",
    "wellKnownIdentities",
];

/// Keys that only Cilium's values have: one of them (or `ipam.mode`/`ipv6.enabled`) makes a
/// document without kind a Cilium values file.
const CILIUM_MARKERS: &[&str] = &[
    "routingMode",
    "tunnel",
    "tunnelProtocol",
    "underlayProtocol",
    "ipv4NativeRoutingCIDR",
    "ipv6NativeRoutingCIDR",
    "autoDirectNodeRoutes",
    "enableIPv4Masquerade",
    "enableIPv6Masquerade",
    "k8sServiceHost",
    "kubeProxyReplacement",
    "hubble",
    "bgpControlPlane",
];

const CILIUM_IPAM: &[&str] = &["mode", "operator"];
const CILIUM_IPAM_IGNORED: &[&str] = &[
    "ciliumNodeUpdateRate",
    "installUplinkRoutesForDelegatedIPAM",
    "multiPoolPreAllocation",
    "nodeSpec",
];
const CILIUM_OPERATOR: &[&str] = &[
    "clusterPoolIPv4PodCIDRList",
    "clusterPoolIPv4MaskSize",
    "clusterPoolIPv6PodCIDRList",
    "clusterPoolIPv6MaskSize",
];
const CILIUM_OPERATOR_IGNORED: &[&str] = &[
    "autoCreateCiliumPodIPPools",
    "externalAPILimitBurstSize",
    "externalAPILimitQPS",
];

/// net-conf.json fields (flannel-io/flannel pkg/subnet/config.go `Config`).
const NET_CONF: &[&str] = &[
    "EnableIPv4",
    "EnableIPv6",
    "Network",
    "IPv6Network",
    "SubnetLen",
    "IPv6SubnetLen",
    "Backend",
];
const NET_CONF_IGNORED: &[&str] = &[
    "Networks",
    "IPv6Networks",
    "SubnetMin",
    "SubnetMax",
    "IPv6SubnetMin",
    "IPv6SubnetMax",
    "EnableNFTables",
];

/// Whether `doc` (a mapping without apiVersion/kind) is Cilium's Helm values.
pub(crate) fn looks_like_cilium_values(doc: &Node) -> bool {
    let Some(entries) = doc.as_map() else {
        return false;
    };
    entries
        .iter()
        .any(|(k, _)| CILIUM_MARKERS.contains(&k.name.as_str()))
        || doc.get("ipam").and_then(|i| i.get("mode")).is_some()
        || doc.get("ipv6").and_then(|i| i.get("enabled")).is_some()
}

/// Whether `doc` is flannel's net-conf.json.
pub(crate) fn looks_like_net_conf(doc: &Node) -> bool {
    let Some(entries) = doc.as_map() else {
        return false;
    };
    !entries.is_empty()
        && entries.iter().all(|(k, _)| {
            NET_CONF.contains(&k.name.as_str()) || NET_CONF_IGNORED.contains(&k.name.as_str())
        })
        && ["Network", "IPv6Network", "EnableIPv6"]
            .iter()
            .any(|k| doc.get(k).is_some())
}

/// Whether `doc` is a CNI network configuration (a conflist, or a single plugin's conf).
pub(crate) fn looks_like_cni_conf(doc: &Node) -> bool {
    doc.get("cniVersion").is_some()
        || doc
            .get("plugins")
            .is_some_and(|p| matches!(p.kind, Kind::Seq(_)))
        || (doc.get("type").is_some() && doc.get("ipam").is_some())
}

/// Names `cni` as the cluster's CNI, unless the cluster configuration named another one.
fn claim(net: &mut ClusterNetwork, cni: Cni, doc: &Node, what: &str) -> Result<(), ShapeError> {
    let compatible = net.cni.value == cni
        // Canal is Calico plus flannel: documents of either belong to it.
        || (net.cni.value == Cni::Canal && matches!(cni, Cni::Calico | Cni::Flannel));
    if compatible {
        return Ok(());
    }
    if net.cni.origin.is_default() || net.cni.value == Cni::Custom {
        net.cni = Located::new(cni, Origin::input(what, Some(doc.pos)));
        return Ok(());
    }
    Err(ShapeError::new(
        what,
        Some(doc.pos),
        format!(
            "this is {cni} configuration, but the cluster's CNI is {} ({}); give one CNI per cluster",
            net.cni.value,
            net.cni.origin.path()
        ),
    ))
}

/// Cilium's Helm values at `path` (`""` for a values file, `spec.valuesContent` inside a
/// HelmChartConfig).
pub fn import_cilium_values(
    doc: &Node,
    path: &str,
    net: &mut ClusterNetwork,
    notes: &mut Notes,
) -> Result<(), ShapeError> {
    let read = [
        "ipam",
        "ipv4",
        "ipv6",
        "routingMode",
        "tunnel",
        "underlayProtocol",
        "ipv4NativeRoutingCIDR",
        "ipv6NativeRoutingCIDR",
        "autoDirectNodeRoutes",
        "enableIPv4Masquerade",
        "enableIPv6Masquerade",
        "bgpControlPlane",
        "kubeProxyReplacement",
        "l2announcements",
    ];
    let ignored: Vec<&str> = CILIUM_KEYS
        .iter()
        .copied()
        .filter(|k| !read.contains(k))
        .collect();
    let values = Fields::read(doc, path, &read, &ignored, notes)?;
    claim(net, Cni::Cilium, doc, &values.path_of("ipam"))?;
    let c = &mut net.cilium;
    c.source = Some(Origin::input(
        if path.is_empty() {
            "Cilium values"
        } else {
            path
        },
        Some(doc.pos),
    ));
    if let Some(ipam) = values.map("ipam", CILIUM_IPAM, CILIUM_IPAM_IGNORED, notes)? {
        c.ipam_mode = ipam.string("mode")?;
        if let Some(operator) =
            ipam.map("operator", CILIUM_OPERATOR, CILIUM_OPERATOR_IGNORED, notes)?
        {
            c.ipv4_pools = cidrs(&operator, "clusterPoolIPv4PodCIDRList")?;
            c.ipv6_pools = cidrs(&operator, "clusterPoolIPv6PodCIDRList")?;
            c.ipv4_mask = operator.mask("clusterPoolIPv4MaskSize")?;
            c.ipv6_mask = operator.mask("clusterPoolIPv6MaskSize")?;
        }
    }
    if let Some(v4) = values.map("ipv4", &["enabled"], &[], notes)? {
        c.ipv4_enabled = v4.boolean("enabled")?;
    }
    if let Some(v6) = values.map("ipv6", &["enabled"], &[], notes)? {
        c.ipv6_enabled = v6.boolean("enabled")?;
    }
    c.routing_mode = values
        .string("routingMode")?
        .filter(|m| !m.value.is_empty());
    if c.routing_mode.is_none()
        && let Some(tunnel) = values.string("tunnel")?.filter(|t| !t.value.is_empty())
    {
        // Before 1.14: `tunnel: disabled` is native routing, vxlan/geneve are tunnels.
        c.routing_mode =
            Some(tunnel.map(|t| if t == "disabled" { "native" } else { "tunnel" }.to_string()));
    }
    c.underlay_protocol = values
        .string("underlayProtocol")?
        .filter(|u| !u.value.is_empty());
    c.ipv4_native_routing_cidr = values
        .string("ipv4NativeRoutingCIDR")?
        .filter(|v| !v.value.is_empty())
        .map(|v| v.map(CidrValue::new));
    c.ipv6_native_routing_cidr = values
        .string("ipv6NativeRoutingCIDR")?
        .filter(|v| !v.value.is_empty())
        .map(|v| v.map(CidrValue::new));
    c.auto_direct_node_routes = values.boolean("autoDirectNodeRoutes")?;
    c.ipv4_masquerade = values.boolean("enableIPv4Masquerade")?;
    c.ipv6_masquerade = values.boolean("enableIPv6Masquerade")?;
    if let Some(bgp) = values.get("bgpControlPlane") {
        let bgp = Fields::any(bgp, &values.path_of("bgpControlPlane"))?;
        c.bgp_control_plane = bgp.boolean("enabled")?;
    }
    c.kube_proxy_replacement = values.text("kubeProxyReplacement")?;
    if let Some(l2) = values.get("l2announcements") {
        let l2 = Fields::any(l2, &values.path_of("l2announcements"))?;
        c.l2_announcements = l2.boolean("enabled")?;
    }
    Ok(())
}

/// A cluster-pool CIDR list of the Helm values, as Cilium's operator gets it: the chart joins
/// the list with spaces into `cluster-pool-ipv*-cidr` (install/kubernetes/cilium/templates/
/// cilium-configmap.yaml), and the operator splits that on white space (`vp.GetStringSlice` on a
/// ConfigMap string, operator/option/config.go). Empty items vanish; a comma separates nothing,
/// so `a,b` stays one entry, which the operator refuses (K6E317).
fn cidrs(fields: &Fields<'_>, key: &str) -> Result<Vec<Located<CidrValue>>, ShapeError> {
    Ok(fields
        .strings(key)?
        .iter()
        .flat_map(split_white_space)
        .map(|v| v.map(CidrValue::new))
        .collect())
}

/// Splits `value` on white space as Go's `strings.Fields` does, each item keeping the value's
/// origin.
fn split_white_space(value: &Located<String>) -> Vec<Located<String>> {
    value
        .value
        .split_whitespace()
        .map(|item| Located::new(item.to_string(), value.origin.clone()))
        .collect()
}

/// The `cilium-config` ConfigMap's data (the agent's flags, as the chart writes them).
fn import_cilium_config(
    data: &Fields<'_>,
    doc: &Node,
    net: &mut ClusterNetwork,
) -> Result<(), ShapeError> {
    claim(net, Cni::Cilium, doc, &data.path_of("ipam"))?;
    let flag = |key: &str| data.text(key);
    let c = &mut net.cilium;
    c.source = Some(Origin::input("data", Some(doc.pos)));
    c.ipam_mode = flag("ipam")?;
    c.ipv4_enabled = flag("enable-ipv4")?.map(|v| v.map(|t| t == "true"));
    c.ipv6_enabled = flag("enable-ipv6")?.map(|v| v.map(|t| t == "true"));
    c.routing_mode = flag("routing-mode")?;
    if c.routing_mode.is_none()
        && let Some(tunnel) = flag("tunnel")?
    {
        c.routing_mode =
            Some(tunnel.map(|t| if t == "disabled" { "native" } else { "tunnel" }.to_string()));
    }
    c.underlay_protocol = flag("underlay-protocol")?;
    c.ipv4_native_routing_cidr = flag("ipv4-native-routing-cidr")?.map(|v| v.map(CidrValue::new));
    c.ipv6_native_routing_cidr = flag("ipv6-native-routing-cidr")?.map(|v| v.map(CidrValue::new));
    c.auto_direct_node_routes = flag("auto-direct-node-routes")?.map(|v| v.map(|t| t == "true"));
    c.ipv4_masquerade = flag("enable-ipv4-masquerade")?.map(|v| v.map(|t| t == "true"));
    c.ipv6_masquerade = flag("enable-ipv6-masquerade")?.map(|v| v.map(|t| t == "true"));
    c.bgp_control_plane = flag("enable-bgp-control-plane")?.map(|v| v.map(|t| t == "true"));
    c.kube_proxy_replacement = flag("kube-proxy-replacement")?;
    c.l2_announcements = flag("enable-l2-announcements")?.map(|v| v.map(|t| t == "true"));
    for (key, list) in [
        ("cluster-pool-ipv4-cidr", &mut c.ipv4_pools),
        ("cluster-pool-ipv6-cidr", &mut c.ipv6_pools),
    ] {
        // The operator reads the ConfigMap value with `vp.GetStringSlice`, which splits a string
        // on white space only (see `cidrs`).
        if let Some(v) = flag(key)? {
            *list = split_white_space(&v)
                .into_iter()
                .map(|s| s.map(CidrValue::new))
                .collect();
        }
    }
    c.ipv4_mask = flag("cluster-pool-ipv4-mask-size")?.map(|v| v.map(crate::model::MaskValue::new));
    c.ipv6_mask = flag("cluster-pool-ipv6-mask-size")?.map(|v| v.map(crate::model::MaskValue::new));
    Ok(())
}

/// flannel's net-conf.json.
pub fn import_net_conf(
    doc: &Node,
    path: &str,
    net: &mut ClusterNetwork,
    notes: &mut Notes,
) -> Result<(), ShapeError> {
    let conf = Fields::read(doc, path, NET_CONF, NET_CONF_IGNORED, notes)?;
    if net.cni.value != Cni::Canal {
        claim(net, Cni::Flannel, doc, &conf.path_of("Network"))?;
    }
    let backend = match conf.get("Backend") {
        Some(b) => Fields::any(b, &conf.path_of("Backend"))?.string("Type")?,
        None => None,
    };
    if backend.is_some() {
        net.flannel.backend = backend;
    }
    net.flannel.net_conf = Some(FlannelNetConf {
        origin: Origin::input(
            if path.is_empty() {
                "net-conf.json"
            } else {
                path
            },
            Some(doc.pos),
        ),
        enable_ipv4: conf.boolean("EnableIPv4")?,
        enable_ipv6: conf.boolean("EnableIPv6")?,
        network: conf.cidr("Network")?,
        ipv6_network: conf.cidr("IPv6Network")?,
        subnet_len: conf.mask("SubnetLen")?,
        ipv6_subnet_len: conf.mask("IPv6SubnetLen")?,
    });
    Ok(())
}

/// A CNI network configuration: the first plugin with an `ipam` section is the main one.
pub fn import_cni_conf(doc: &Node, path: &str, net: &mut ClusterNetwork) -> Result<(), ShapeError> {
    let top = Fields::any(doc, path)?;
    let plugins: Vec<(String, &Node)> = match top.list("plugins")? {
        Some(list) => list,
        None => vec![(path.to_string(), doc)],
    };
    let Some((plugin_path, plugin)) = plugins
        .iter()
        .find(|(_, p)| p.get("ipam").is_some())
        .or(plugins.first())
    else {
        return Ok(());
    };
    let plugin = Fields::any(plugin, plugin_path)?;
    let Some(kind) = plugin.string("type")? else {
        return Err(ShapeError::new(
            plugin_path,
            Some(doc.pos),
            "a CNI plugin needs a `type`",
        ));
    };
    match kind.value.as_str() {
        "calico" if net.cni.value != Cni::Canal => {
            claim(net, Cni::Calico, doc, kind.origin.path())?
        }
        "flannel" => claim(net, Cni::Flannel, doc, kind.origin.path())?,
        _ => {}
    }
    let mut conf = CniConf {
        plugin: kind,
        ipam_type: None,
        subnets: Vec::new(),
        assign_ipv4: None,
        assign_ipv6: None,
    };
    if let Some(ipam) = plugin.get("ipam") {
        let ipam = Fields::any(ipam, &plugin.path_of("ipam"))?;
        conf.ipam_type = ipam.string("type")?;
        if let Some(subnet) = ipam.string("subnet")? {
            conf.subnets.push(subnet);
        }
        if let Some(ranges) = ipam.list("ranges")? {
            for (range_path, range) in ranges {
                let Kind::Seq(items) = &range.kind else {
                    return Err(ShapeError::new(
                        &range_path,
                        Some(range.pos),
                        format!("expected a list of ranges, found {}", range.type_name()),
                    ));
                };
                for (i, item) in items.iter().enumerate() {
                    let item = Fields::any(item, &walk::index(&range_path, i))?;
                    if let Some(subnet) = item.string("subnet")? {
                        conf.subnets.push(subnet);
                    }
                }
            }
        }
        conf.assign_ipv4 = ipam.boolean("assign_ipv4")?;
        conf.assign_ipv6 = ipam.boolean("assign_ipv6")?;
        if let Some(t) = &conf.ipam_type {
            let calico_ipam = match t.value.as_str() {
                "calico-ipam" => Some("Calico"),
                "host-local" => Some("HostLocal"),
                _ => None,
            };
            if let Some(kind) = calico_ipam
                && matches!(net.cni.value, Cni::Calico | Cni::Canal)
            {
                net.calico.ipam = Some(Located::new(kind.to_string(), t.origin.clone()));
            }
        }
    }
    net.cni_conf = Some(conf);
    Ok(())
}

/// A ConfigMap kube6 knows: Canal's `canal-config`, flannel's `kube-flannel-cfg`, Cilium's
/// `cilium-config`.
pub fn import_config_map(
    doc: &Node,
    net: &mut ClusterNetwork,
    notes: &mut Notes,
) -> Result<(), ShapeError> {
    let top = Fields::read(
        doc,
        "ConfigMap",
        &["apiVersion", "kind", "metadata", "data"],
        &["binaryData", "immutable"],
        notes,
    )?;
    let name = match top.get("metadata") {
        Some(m) => Fields::any(m, "metadata")?.string("name")?,
        None => None,
    };
    let Some(data) = top.get("data") else {
        return Ok(());
    };
    let data = Fields::any(data, "data")?;
    let name = name.map(|n| n.value).unwrap_or_default();
    if super::coredns::is_coredns_config_map(&name) {
        return super::coredns::import_config_map_data(&name, &data, net);
    }
    if data.get("routing-mode").is_some()
        || data.get("enable-ipv6").is_some()
        || name == "cilium-config"
    {
        return import_cilium_config(&data, doc, net);
    }
    if name.starts_with("canal") || data.get("canal_iface").is_some() {
        claim(net, Cni::Canal, doc, "metadata.name")?;
        if let Some(masq) = data.text("masquerade")? {
            net.flannel.ip_masq = Some(masq.map(|t| t == "true"));
        }
    }
    for key in ["cni_network_config", "cni-conf.json"] {
        if let Some(node) = data.get(key) {
            // Canal's install-cni puts a number where `__CNI_MTU__` stands (unquoted, so the
            // template is no JSON until then); read it as installed.
            let installed;
            let node = match &node.kind {
                Kind::Str(text) if text.contains("__CNI_MTU__") => {
                    installed = Node {
                        kind: Kind::Str(text.replace("__CNI_MTU__", "1500")),
                        pos: node.pos,
                        raw: None,
                    };
                    &installed
                }
                _ => node,
            };
            let docs = yaml::parse_embedded(node).map_err(|e| {
                ShapeError::new(
                    &data.path_of(key),
                    e.pos,
                    format!("not a CNI configuration: {}", e.message),
                )
            })?;
            if let Some(inner) = docs.first() {
                import_cni_conf(inner, &data.path_of(key), net)?;
            }
        }
    }
    if let Some(node) = data.get("net-conf.json") {
        let docs = yaml::parse_embedded(node).map_err(|e| {
            ShapeError::new(
                &data.path_of("net-conf.json"),
                e.pos,
                format!("not a net-conf.json: {}", e.message),
            )
        })?;
        if let Some(inner) = docs.first() {
            import_net_conf(inner, &data.path_of("net-conf.json"), net, notes)?;
        }
    }
    Ok(())
}

/// A DaemonSet (or a strategic-merge patch of one): kube-router's arguments, calico-node's
/// environment, kube-flannel's arguments.
pub fn import_daemon_set(doc: &Node, net: &mut ClusterNetwork) -> Result<(), ShapeError> {
    let containers = doc
        .get("spec")
        .and_then(|s| s.get("template"))
        .and_then(|t| t.get("spec"))
        .and_then(|s| s.get("containers"));
    let Some(containers) = containers else {
        return Ok(());
    };
    let path = "spec.template.spec.containers";
    let Kind::Seq(items) = &containers.kind else {
        return Err(ShapeError::new(
            path,
            Some(containers.pos),
            format!("expected a list, found {}", containers.type_name()),
        ));
    };
    for (i, container) in items.iter().enumerate() {
        let cpath = walk::index(path, i);
        let fields = Fields::any(container, &cpath)?;
        let name = fields.string("name")?.map(|n| n.value).unwrap_or_default();
        let mut args = fields.strings("args")?;
        args.extend(
            fields
                .strings("command")?
                .into_iter()
                .filter(|a| a.value.starts_with("--")),
        );
        let env = read_env(&fields)?;
        match name.as_str() {
            "kube-router" => {
                claim(net, Cni::KubeRouter, container, &fields.path_of("args"))?;
                import_kube_router_args(&args, net);
            }
            "calico-node" => {
                if net.cni.value != Cni::Canal {
                    claim(net, Cni::Calico, container, &fields.path_of("env"))?;
                }
                import_calico_node_env(&env, net);
            }
            "kube-flannel" => {
                if net.cni.value != Cni::Canal {
                    claim(net, Cni::Flannel, container, &fields.path_of("args"))?;
                }
                let mut masq = args
                    .iter()
                    .find(|a| a.value == "--ip-masq" || a.value.starts_with("--ip-masq="))
                    .map(|a| a.clone().map(|v| v != "--ip-masq=false"));
                if let Some(e) = env.iter().find(|(n, _)| n.value == "FLANNELD_IP_MASQ") {
                    masq = masq.or(Some(e.1.clone().map(|v| v == "true")));
                }
                if masq.is_some() {
                    net.flannel.ip_masq = masq;
                } else if !args.is_empty() && net.flannel.ip_masq.is_none() {
                    // flanneld's own default: no masquerading without --ip-masq.
                    net.flannel.ip_masq = Some(Located::new(
                        false,
                        Origin::default_by(
                            fields.path_of("args"),
                            "flanneld default (no --ip-masq)",
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// An environment variable's name and literal value, where each was written.
type EnvEntry = (Located<String>, Located<String>);

/// `env` entries with a literal `value` (valueFrom entries say nothing kube6 can read).
fn read_env(container: &Fields<'_>) -> Result<Vec<EnvEntry>, ShapeError> {
    let mut out = Vec::new();
    if let Some(list) = container.list("env")? {
        for (path, entry) in list {
            let entry = Fields::any(entry, &path)?;
            if let (Some(name), Some(value)) = (entry.string("name")?, entry.text("value")?) {
                out.push((name, value));
            }
        }
    }
    Ok(out)
}

/// kube-router's command-line arguments (`--flag=value` or `--flag value`).
pub fn import_kube_router_args(args: &[Located<String>], net: &mut ClusterNetwork) {
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let text = arg.value.trim();
        let Some(flag) = text.strip_prefix("--") else {
            i += 1;
            continue;
        };
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => {
                let next = args.get(i + 1).filter(|a| !a.value.starts_with("--"));
                if next.is_some() {
                    i += 1;
                }
                (flag.to_string(), next.map(|a| a.value.clone()))
            }
        };
        set_kube_router_flag(&name, value.as_deref(), arg.origin.clone(), net);
        i += 1;
    }
}

/// One kube-router flag; booleans given without a value mean true.
pub fn set_kube_router_flag(
    name: &str,
    value: Option<&str>,
    origin: Origin,
    net: &mut ClusterNetwork,
) {
    let k = &mut net.kube_router;
    k.args_origin.get_or_insert_with(|| origin.clone());
    let boolean = || Located::new(value.is_none_or(|v| v.trim() == "true"), origin.clone());
    match name {
        "router-id" => k.router_id = value.map(|v| Located::new(v.to_string(), origin.clone())),
        "enable-pod-egress" => k.pod_egress = Some(boolean()),
        "enable-ipv4" => k.enable_ipv4 = Some(boolean()),
        "enable-ipv6" => k.enable_ipv6 = Some(boolean()),
        // A pflag string slice: each occurrence is read as one CSV record and appended, so an
        // empty entry (a stray comma) stays and kube-router refuses it (K6E323); an empty
        // value is no entry at all (cloudnativelabs/kube-router pkg/options/options.go,
        // pkg/svcip/validator.go).
        "service-cluster-ip-range" => {
            let value = value.unwrap_or_default();
            if !value.is_empty() {
                for part in value.split(',') {
                    k.service_ranges
                        .push(Located::new(CidrValue::new(part), origin.clone()));
                }
            }
        }
        _ => {}
    }
}

/// calico-node's environment: the default pools it creates, Felix's IPv6 switch.
pub fn import_calico_node_env(
    env: &[(Located<String>, Located<String>)],
    net: &mut ClusterNetwork,
) {
    let get = |key: &str| {
        env.iter()
            .find(|(n, _)| n.value == key)
            .map(|(_, v)| v.clone())
    };
    if let Some(v) = get("FELIX_IPV6SUPPORT") {
        net.calico.felix_ipv6_support = Some(v.map(|t| t.eq_ignore_ascii_case("true")));
    }
    for &family in Family::ALL {
        let tag = match family {
            Family::IPv4 => "IPV4",
            Family::IPv6 => "IPV6",
        };
        let Some(cidr) = get(&format!("CALICO_{tag}POOL_CIDR")) else {
            continue;
        };
        let cidr = cidr.map(CidrValue::new);
        if net
            .calico
            .pools
            .iter()
            .any(|p| p.cidr.value.net().is_some() && p.cidr.value.net() == cidr.value.net())
        {
            continue;
        }
        let nat = get(&format!("CALICO_{tag}POOL_NAT_OUTGOING")).map(|v| v.map(|t| t == "true"));
        let nat = nat.or_else(|| {
            Some(Located::new(
                crate::facts::calico::DEFAULT_POOL_NAT_OUTGOING.get(family),
                Origin::default_by(
                    format!("CALICO_{tag}POOL_NAT_OUTGOING"),
                    "calico-node default",
                ),
            ))
        });
        net.calico.pools.push(CalicoPool {
            // calico-node names the pools it creates from its environment like this.
            name: Some(Located::new(
                format!("default-{}-ippool", tag.to_ascii_lowercase()),
                Origin::default_by(format!("CALICO_{tag}POOL_CIDR"), "calico-node default"),
            )),
            cidr,
            block_size: get(&format!("CALICO_{tag}POOL_BLOCK_SIZE"))
                .map(|v| v.map(crate::model::MaskValue::new)),
            nat_outgoing: nat,
            ipip_mode: get(&format!("CALICO_{tag}POOL_IPIP")),
            vxlan_mode: get(&format!("CALICO_{tag}POOL_VXLAN")),
            // calico-node's default pools are enabled and serve workloads and tunnels.
            disabled: None,
            allowed_uses: Vec::new(),
        });
    }
}

/// A HelmChartConfig (or HelmChart) for one of RKE2's bundled CNI charts: its `valuesContent`.
pub fn import_helm_chart_config(
    doc: &Node,
    net: &mut ClusterNetwork,
    notes: &mut Notes,
) -> Result<(), ShapeError> {
    let name = doc
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Node::scalar_text)
        .unwrap_or_default();
    let Some(values) = doc.get("spec").and_then(|s| s.get("valuesContent")) else {
        return Ok(());
    };
    let path = "spec.valuesContent";
    let docs = yaml::parse_embedded(values).map_err(|e| {
        ShapeError::new(
            path,
            e.pos,
            format!("valuesContent is not YAML: {}", e.message),
        )
    })?;
    let Some(inner) = docs.first() else {
        return Ok(());
    };
    match name.as_str() {
        crate::facts::coredns::RKE2_CHART => {
            super::coredns::import_rke2_values(inner, path, net, notes)
        }
        "rke2-cilium" => import_cilium_values(inner, path, net, notes),
        "rke2-calico" => {
            claim(net, Cni::Calico, doc, "metadata.name")?;
            if let Some(installation) = inner.get("installation") {
                super::calico::import_installation_spec(
                    installation,
                    &format!("{path}.installation"),
                    net,
                    notes,
                )?;
            }
            Ok(())
        }
        "rke2-canal" => {
            claim(net, Cni::Canal, doc, "metadata.name")?;
            let values = Fields::any(inner, path)?;
            // flanneld masquerades when its arguments hold --ip-masq or FLANNELD_IP_MASQ (from
            // `calico.masquerade`) is true; the chart's defaults have both.
            let mut env_masq = None;
            if let Some(calico) = values.get("calico") {
                let calico = Fields::any(calico, &values.path_of("calico"))?;
                env_masq = calico.boolean("masquerade")?;
            }
            let mut arg_masq = None;
            if let Some(flannel) = values.get("flannel") {
                let flannel = Fields::any(flannel, &values.path_of("flannel"))?;
                if let Some(backend) = flannel.string("backend")? {
                    net.flannel.backend = Some(backend);
                }
                if flannel.get("args").is_some() {
                    let args = flannel.strings("args")?;
                    let on = args
                        .iter()
                        .any(|a| a.value == "--ip-masq" || a.value == "--ip-masq=true");
                    let origin = args.first().map_or_else(
                        || Origin::input(flannel.path_of("args"), None),
                        |a| a.origin.clone(),
                    );
                    arg_masq = Some(Located::new(on, origin));
                }
            }
            let on = arg_masq.as_ref().is_none_or(|m| m.value)
                || env_masq.as_ref().is_none_or(|m| m.value);
            let origin = match (&arg_masq, &env_masq) {
                (Some(a), _) if a.value || !on => a.origin.clone(),
                (_, Some(e)) => e.origin.clone(),
                (Some(a), None) => a.origin.clone(),
                (None, None) => Origin::default_by(
                    format!("{path}.flannel.args"),
                    "rke2-canal default (--ip-masq)",
                ),
            };
            net.flannel.ip_masq = Some(Located::new(on, origin));
            Ok(())
        }
        _ => Ok(()),
    }
}
