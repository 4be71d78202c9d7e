//! kubeadm `v1beta3` and `v1beta4` (`kubeadm.k8s.io`), multi-document: InitConfiguration,
//! ClusterConfiguration, JoinConfiguration, and the KubeletConfiguration and
//! KubeProxyConfiguration documents kubeadm passes on to the kubelet and kube-proxy.
//!
//! Paths are in kubeadm's own terms (`networking.podSubnet`,
//! `controllerManager.extraArgs.node-cidr-mask-size-ipv6`, `clusterDNS[0]`), without the kind.
//! `extraArgs` and `kubeletExtraArgs` are a mapping of flag to string in v1beta3 and a list of
//! `{name, value}` in v1beta4; kubeadm refuses the other form, and so does this importer.

use super::DocKind;
use super::walk::{self, Fields, Notes, ShapeError};
use crate::model::{AddrValue, CidrValue, ClusterNetwork, Distribution, Format, NodeSpec, Role};
use crate::source::{Located, Origin};
use crate::yaml::{Kind, Node};

const TOP: &[&str] = &["apiVersion", "kind"];
const TOP_IGNORED: &[&str] = &["metadata"];

const INIT: &[&str] = &["nodeRegistration", "localAPIEndpoint"];
const INIT_IGNORED: &[&str] = &[
    "bootstrapTokens",
    "certificateKey",
    "skipPhases",
    "patches",
    "dryRun",
    "timeouts",
];
const JOIN: &[&str] = &["nodeRegistration", "controlPlane"];
const JOIN_IGNORED: &[&str] = &[
    "caCertPath",
    "discovery",
    "skipPhases",
    "patches",
    "dryRun",
    "timeouts",
];
const JOIN_CONTROL_PLANE: &[&str] = &["localAPIEndpoint"];
const JOIN_CONTROL_PLANE_IGNORED: &[&str] = &["certificateKey"];
const NODE_REGISTRATION: &[&str] = &["name", "kubeletExtraArgs"];
const NODE_REGISTRATION_IGNORED: &[&str] = &[
    "criSocket",
    "taints",
    "ignorePreflightErrors",
    "imagePullPolicy",
    "imagePullSerial",
];
const LOCAL_API_ENDPOINT: &[&str] = &["advertiseAddress"];
const LOCAL_API_ENDPOINT_IGNORED: &[&str] = &["bindPort"];

const CLUSTER: &[&str] = &[
    "networking",
    "controlPlaneEndpoint",
    "apiServer",
    "controllerManager",
    "kubernetesVersion",
];
const CLUSTER_IGNORED: &[&str] = &[
    "etcd",
    "scheduler",
    "dns",
    "proxy",
    "certificatesDir",
    "imageRepository",
    "featureGates",
    "clusterName",
    "encryptionAlgorithm",
    "certificateValidityPeriod",
    "caCertificateValidityPeriod",
    "useHyphenInImageName",
];
const NETWORKING: &[&str] = &["podSubnet", "serviceSubnet", "dnsDomain"];
const API_SERVER: &[&str] = &["extraArgs", "certSANs"];
const API_SERVER_IGNORED: &[&str] = &["extraVolumes", "extraEnvs", "timeoutForControlPlane"];
const CONTROLLER_MANAGER: &[&str] = &["extraArgs"];
const CONTROLLER_MANAGER_IGNORED: &[&str] = &["extraVolumes", "extraEnvs"];
const ARG: &[&str] = &["name", "value"];

const KUBELET: &[&str] = &["clusterDNS", "clusterDomain"];
/// Every other field of `KubeletConfiguration` (kubelet.config.k8s.io/v1beta1).
const KUBELET_IGNORED: &[&str] = &[
    "enableServer",
    "staticPodPath",
    "podLogsDir",
    "syncFrequency",
    "fileCheckFrequency",
    "httpCheckFrequency",
    "staticPodURL",
    "staticPodURLHeader",
    "address",
    "port",
    "readOnlyPort",
    "tlsCertFile",
    "tlsPrivateKeyFile",
    "tlsCipherSuites",
    "tlsMinVersion",
    "rotateCertificates",
    "serverTLSBootstrap",
    "authentication",
    "authorization",
    "registryPullQPS",
    "registryBurst",
    "imagePullCredentialsVerificationPolicy",
    "preloadedImagesVerificationAllowlist",
    "eventRecordQPS",
    "eventBurst",
    "enableDebuggingHandlers",
    "enableContentionProfiling",
    "healthzPort",
    "healthzBindAddress",
    "oomScoreAdj",
    "streamingConnectionIdleTimeout",
    "nodeStatusUpdateFrequency",
    "nodeStatusReportFrequency",
    "nodeLeaseDurationSeconds",
    "imageMinimumGCAge",
    "imageMaximumGCAge",
    "imageGCHighThresholdPercent",
    "imageGCLowThresholdPercent",
    "volumeStatsAggPeriod",
    "kubeletCgroups",
    "systemCgroups",
    "cgroupRoot",
    "cgroupsPerQOS",
    "cgroupDriver",
    "cpuManagerPolicy",
    "cpuManagerPolicyOptions",
    "cpuManagerReconcilePeriod",
    "singleProcessOOMKill",
    "memoryManagerPolicy",
    "topologyManagerPolicy",
    "topologyManagerScope",
    "topologyManagerPolicyOptions",
    "qosReserved",
    "runtimeRequestTimeout",
    "hairpinMode",
    "maxPods",
    "podCIDR",
    "podPidsLimit",
    "resolvConf",
    "runOnce",
    "cpuCFSQuota",
    "cpuCFSQuotaPeriod",
    "nodeStatusMaxImages",
    "maxOpenFiles",
    "contentType",
    "kubeAPIQPS",
    "kubeAPIBurst",
    "serializeImagePulls",
    "maxParallelImagePulls",
    "evictionHard",
    "evictionSoft",
    "evictionSoftGracePeriod",
    "evictionPressureTransitionPeriod",
    "evictionMaxPodGracePeriod",
    "evictionMinimumReclaim",
    "mergeDefaultEvictionSettings",
    "podsPerCore",
    "enableControllerAttachDetach",
    "protectKernelDefaults",
    "makeIPTablesUtilChains",
    "iptablesMasqueradeBit",
    "iptablesDropBit",
    "featureGates",
    "failSwapOn",
    "memorySwap",
    "containerLogMaxSize",
    "containerLogMaxFiles",
    "containerLogMaxWorkers",
    "containerLogMonitorInterval",
    "configMapAndSecretChangeDetectionStrategy",
    "systemReserved",
    "kubeReserved",
    "reservedSystemCPUs",
    "showHiddenMetricsForVersion",
    "systemReservedCgroup",
    "kubeReservedCgroup",
    "enforceNodeAllocatable",
    "allowedUnsafeSysctls",
    "volumePluginDir",
    "providerID",
    "kernelMemcgNotification",
    "logging",
    "enableSystemLogHandler",
    "enableSystemLogQuery",
    "shutdownGracePeriod",
    "shutdownGracePeriodCriticalPods",
    "shutdownGracePeriodByPodPriority",
    "crashLoopBackOff",
    "reservedMemory",
    "enableProfilingHandler",
    "enableDebugFlagsHandler",
    "seccompDefault",
    "memoryThrottlingFactor",
    "registerWithTaints",
    "registerNode",
    "tracing",
    "localStorageCapacityIsolation",
    "containerRuntimeEndpoint",
    "imageServiceEndpoint",
    "failCgroupV1",
    "userNamespaces",
];

const KUBE_PROXY: &[&str] = &["clusterCIDR", "mode", "detectLocalMode"];
/// Every other field of `KubeProxyConfiguration` (kubeproxy.config.k8s.io/v1alpha1).
const KUBE_PROXY_IGNORED: &[&str] = &[
    "featureGates",
    "clientConnection",
    "logging",
    "hostnameOverride",
    "bindAddress",
    "healthzBindAddress",
    "metricsBindAddress",
    "bindAddressHardFail",
    "enableProfiling",
    "showHiddenMetricsForVersion",
    "iptables",
    "ipvs",
    "nftables",
    "winkernel",
    "linux",
    "detectLocal",
    "nodePortAddresses",
    "oomScoreAdj",
    "conntrack",
    "configSyncPeriod",
    "portRange",
    "udpIdleTimeout",
    "windowsRunAsService",
];

/// The kubeadm API versions read, and how they write extraArgs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1beta3,
    V1beta4,
}

/// One flag from an extraArgs block: its value, with the path `<block>.<flag>`.
struct Arg {
    name: String,
    value: Located<String>,
}

/// What the documents say, collected before the precedence between them is applied.
#[derive(Default)]
struct Collected {
    pod_subnet: Option<Located<String>>,
    service_subnet: Option<Located<String>>,
    dns_domain: Option<Located<String>>,
    kcm_cluster_cidr: Option<Located<String>>,
    apiserver_service_range: Option<Located<String>>,
    apiserver_advertise: Option<Located<String>>,
    init_advertise: Option<Located<String>>,
    kubelet_domain: Option<Located<String>>,
    kubelet_dns: Vec<Located<AddrValue>>,
    flag_dns: Vec<Located<AddrValue>>,
}

pub fn import(docs: &[(&Node, DocKind)], notes: &mut Notes) -> Result<ClusterNetwork, ShapeError> {
    let first = docs
        .iter()
        .find(|(_, k)| *k == DocKind::Kubeadm)
        .or(docs.first())
        .map(|(d, _)| *d);
    let distribution = Located::new(
        Distribution::Kubeadm,
        Origin::input(
            "apiVersion",
            first.and_then(|d| d.get("apiVersion")).map(|n| n.pos),
        ),
    );
    let mut net = ClusterNetwork::new(Format::Kubeadm, distribution);
    let mut got = Collected::default();
    for &(doc, kind) in docs {
        match kind {
            DocKind::Kubeadm => read_kubeadm(doc, &mut net, &mut got, notes)?,
            DocKind::Kubelet => read_kubelet(doc, &mut got, notes)?,
            DocKind::KubeProxy => read_kube_proxy(doc, &mut net, notes)?,
            _ => {}
        }
    }
    apply(&mut net, got);
    Ok(net)
}

fn apply(net: &mut ClusterNetwork, got: Collected) {
    // kube-controller-manager's --cluster-cidr comes from networking.podSubnet unless extraArgs
    // set it; the same holds for kube-apiserver's --service-cluster-ip-range.
    // Both given: the component runs with its extraArgs value (kubeadm's ArgumentsToCommand lets
    // extraArgs override the flags it derives from networking), while kubeadm validates
    // networking and derives kube-proxy's clusterCIDR from it; a rule compares the two.
    if got.pod_subnet.is_some() {
        net.specific.kubeadm_kcm_cluster_cidr = got.kcm_cluster_cidr.clone();
    }
    if got.service_subnet.is_some() {
        net.specific.kubeadm_apiserver_service_range = got.apiserver_service_range.clone();
    }
    if let Some(raw) = got.pod_subnet.or(got.kcm_cluster_cidr) {
        net.pods = cidrs(&raw);
        net.specific.raw_pod_list = Some(raw);
    }
    if let Some(raw) = got.service_subnet.or(got.apiserver_service_range) {
        net.services = cidrs(&raw);
        net.specific.raw_service_list = Some(raw);
    }
    if let Some(domain) = got.dns_domain.or(got.kubelet_domain) {
        net.cluster_domain = domain;
    }
    // kube-apiserver's --advertise-address in extraArgs overrides localAPIEndpoint.
    if let Some(address) = got.apiserver_advertise.or(got.init_advertise) {
        net.api.address = Some(address);
    }
    net.cluster_dns = if got.kubelet_dns.is_empty() {
        got.flag_dns
    } else {
        got.kubelet_dns
    };
}

/// kubeadm's defaulting treats an empty string as unset: serviceSubnet and dnsDomain get their
/// defaults, advertiseAddress is detected, and an empty podSubnet is not validated
/// (cmd/kubeadm/app/apis/kubeadm/v1beta4/defaults.go `SetDefaults_Networking`, validation.go).
fn non_empty(value: Option<Located<String>>) -> Option<Located<String>> {
    value.filter(|v| !v.value.trim().is_empty())
}

/// A subnet list as kubeadm reads it: split on commas, an empty entry kept (kubeadm refuses it).
fn cidrs(raw: &Located<String>) -> Vec<Located<CidrValue>> {
    walk::split_cidr_list(raw)
        .into_iter()
        .map(|s| s.map(CidrValue::new))
        .collect()
}

fn version(doc: &Node) -> Result<Version, ShapeError> {
    let node = doc.get("apiVersion");
    let api = node.and_then(Node::scalar_text).unwrap_or_default();
    match api.as_str() {
        "kubeadm.k8s.io/v1beta3" => Ok(Version::V1beta3),
        "kubeadm.k8s.io/v1beta4" => Ok(Version::V1beta4),
        _ => Err(ShapeError::new(
            "apiVersion",
            node.map(|n| n.pos),
            format!(
                "kube6 reads kubeadm.k8s.io/v1beta3 and v1beta4, not {api}; current kubeadm no \
                 longer reads older versions either: convert the file with `kubeadm config migrate`"
            ),
        )),
    }
}

fn read_kubeadm(
    doc: &Node,
    net: &mut ClusterNetwork,
    got: &mut Collected,
    notes: &mut Notes,
) -> Result<(), ShapeError> {
    let version = version(doc)?;
    let kind_node = doc.get("kind");
    let kind = kind_node.and_then(Node::scalar_text).unwrap_or_default();
    let kind_origin = Origin::input("kind", kind_node.map(|n| n.pos));
    match kind.as_str() {
        "InitConfiguration" => {
            let fields = read_top(doc, INIT, INIT_IGNORED, notes)?;
            if let Some(endpoint) = fields.map(
                "localAPIEndpoint",
                LOCAL_API_ENDPOINT,
                LOCAL_API_ENDPOINT_IGNORED,
                notes,
            )? {
                got.init_advertise = non_empty(endpoint.string("advertiseAddress")?);
            }
            read_node_registration(
                &fields,
                version,
                Located::new(Role::Controller, kind_origin),
                net,
                got,
                notes,
            )?;
        }
        "JoinConfiguration" => {
            let fields = read_top(doc, JOIN, JOIN_IGNORED, notes)?;
            let mut role = Located::new(Role::Worker, kind_origin);
            if let Some(cp) = fields.map(
                "controlPlane",
                JOIN_CONTROL_PLANE,
                JOIN_CONTROL_PLANE_IGNORED,
                notes,
            )? {
                role = Located::new(
                    Role::Controller,
                    Origin::input("controlPlane", fields.get("controlPlane").map(|n| n.pos)),
                );
                cp.map(
                    "localAPIEndpoint",
                    LOCAL_API_ENDPOINT,
                    LOCAL_API_ENDPOINT_IGNORED,
                    notes,
                )?;
            }
            read_node_registration(&fields, version, role, net, got, notes)?;
        }
        "ClusterConfiguration" => read_cluster(doc, version, net, got, notes)?,
        _ => {}
    }
    Ok(())
}

fn read_top<'n>(
    doc: &'n Node,
    known: &[&str],
    ignored: &[&str],
    notes: &mut Notes,
) -> Result<Fields<'n>, ShapeError> {
    let known: Vec<&str> = TOP.iter().chain(known).copied().collect();
    let ignored: Vec<&str> = TOP_IGNORED.iter().chain(ignored).copied().collect();
    Fields::read(doc, "", &known, &ignored, notes)
}

fn read_node_registration(
    fields: &Fields<'_>,
    version: Version,
    role: Located<Role>,
    net: &mut ClusterNetwork,
    got: &mut Collected,
    notes: &mut Notes,
) -> Result<(), ShapeError> {
    let Some(reg) = fields.map(
        "nodeRegistration",
        NODE_REGISTRATION,
        NODE_REGISTRATION_IGNORED,
        notes,
    )?
    else {
        return Ok(());
    };
    let name = reg.string("name")?;
    let mut addresses = Vec::new();
    let mut ignored_addresses = Vec::new();
    if let Some(args) = reg.get("kubeletExtraArgs") {
        for arg in extra_args(args, &reg.path_of("kubeletExtraArgs"), version, notes)? {
            match arg.name.as_str() {
                // The kubelet's --node-ip parser (k8s.io/component-helpers node/util
                // ParseNodeIPArgument) reads addresses sloppily and skips entries that are not
                // addresses, empty ones included; an empty flag means no --node-ip at all.
                "node-ip" if arg.value.value.is_empty() => {}
                "node-ip" => {
                    for item in walk::split_list(&arg.value) {
                        let addr = AddrValue::sloppy(item.value.clone());
                        if addr.parsed.is_some() {
                            addresses.push(Located::new(addr, item.origin));
                        } else {
                            ignored_addresses.push(item);
                        }
                    }
                }
                // --cluster-dns is validated entry by entry: an empty one is refused.
                "cluster-dns" => {
                    got.flag_dns = walk::split_list(&arg.value)
                        .into_iter()
                        .map(|a| a.map(AddrValue::sloppy))
                        .collect();
                }
                _ => {}
            }
        }
    }
    if name.is_none() && addresses.is_empty() && ignored_addresses.is_empty() {
        return Ok(());
    }
    let name = name.unwrap_or_else(|| {
        Located::new(
            "this node".to_string(),
            Origin::default_by(reg.path_of("name"), "kubeadm default (the host name)"),
        )
    });
    net.nodes.push(NodeSpec {
        name,
        role: Some(role),
        addresses,
        ignored_addresses,
    });
    Ok(())
}

fn read_cluster(
    doc: &Node,
    version: Version,
    net: &mut ClusterNetwork,
    got: &mut Collected,
    notes: &mut Notes,
) -> Result<(), ShapeError> {
    let fields = read_top(doc, CLUSTER, CLUSTER_IGNORED, notes)?;
    if let Some(v) = fields.string("kubernetesVersion")? {
        // kubeadm is released with Kubernetes: its version is the one it installs.
        net.distribution_version = Some(v.clone());
        net.kubernetes_version = Some(v);
    }
    net.api.external = fields.string("controlPlaneEndpoint")?;
    if let Some(networking) = fields.map("networking", NETWORKING, &[], notes)? {
        got.pod_subnet = non_empty(networking.string("podSubnet")?);
        got.service_subnet = non_empty(networking.string("serviceSubnet")?);
        got.dns_domain = non_empty(networking.string("dnsDomain")?);
    }
    if let Some(cm) = fields.map(
        "controllerManager",
        CONTROLLER_MANAGER,
        CONTROLLER_MANAGER_IGNORED,
        notes,
    )? && let Some(args) = cm.get("extraArgs")
    {
        for arg in extra_args(args, &cm.path_of("extraArgs"), version, notes)? {
            let mask = || Some(arg.value.clone().map(crate::model::MaskValue::new));
            match arg.name.as_str() {
                "node-cidr-mask-size" => net.node_masks.single = mask(),
                "node-cidr-mask-size-ipv4" => net.node_masks.ipv4 = mask(),
                "node-cidr-mask-size-ipv6" => net.node_masks.ipv6 = mask(),
                "allocate-node-cidrs" => net.specific.allocate_node_cidrs = Some(arg.value),
                "cluster-cidr" => got.kcm_cluster_cidr = Some(arg.value),
                _ => {}
            }
        }
    }
    let api_server = fields.map("apiServer", API_SERVER, API_SERVER_IGNORED, notes)?;
    if let Some(api) = &api_server {
        net.api.sans = api.strings("certSANs")?;
    }
    if let Some(api) = api_server
        && let Some(args) = api.get("extraArgs")
    {
        for arg in extra_args(args, &api.path_of("extraArgs"), version, notes)? {
            match arg.name.as_str() {
                "advertise-address" => got.apiserver_advertise = Some(arg.value),
                "service-cluster-ip-range" => got.apiserver_service_range = Some(arg.value),
                "endpoint-reconciler-type" => {
                    net.specific.endpoint_reconciler_type = Some(arg.value)
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The flags of an extraArgs block, in the form `version` prescribes. Later entries with the
/// same name win, as on a command line.
fn extra_args(
    node: &Node,
    path: &str,
    version: Version,
    notes: &mut Notes,
) -> Result<Vec<Arg>, ShapeError> {
    match (&node.kind, version) {
        (Kind::Map(entries), Version::V1beta3) => entries
            .iter()
            .map(|(key, value)| {
                let path = walk::join(path, &key.name);
                Ok(Arg {
                    name: key.name.clone(),
                    value: flag_value(value, &path)?,
                })
            })
            .collect(),
        (Kind::Seq(items), Version::V1beta4) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let entry = Fields::read(item, &walk::index(path, i), ARG, &[], notes)?;
                let name = entry.string("name")?.ok_or_else(|| {
                    ShapeError::new(
                        &entry.path,
                        Some(item.pos),
                        "every extraArgs entry needs a `name` (the flag without dashes)",
                    )
                })?;
                let arg_path = walk::join(path, &name.value);
                let value = match entry.get("value") {
                    Some(v) => flag_value(v, &arg_path)?,
                    None => Located::new(String::new(), Origin::input(&arg_path, Some(item.pos))),
                };
                out.push(Arg {
                    name: name.value,
                    value,
                });
            }
            Ok(out)
        }
        (Kind::Map(_), Version::V1beta4) => Err(ShapeError::new(
            path,
            Some(node.pos),
            "in kubeadm.k8s.io/v1beta4 extraArgs is a list of `- name: FLAG` / `value: \"VALUE\"` \
             entries, and kubeadm refuses the v1beta3 mapping form; rewrite the entries as a list \
             (or declare apiVersion kubeadm.k8s.io/v1beta3)",
        )),
        (Kind::Seq(_), Version::V1beta3) => Err(ShapeError::new(
            path,
            Some(node.pos),
            "in kubeadm.k8s.io/v1beta3 extraArgs is a mapping of `FLAG: \"VALUE\"`, and kubeadm \
             refuses the list of name/value entries, which is v1beta4's form; write a mapping \
             (or declare apiVersion kubeadm.k8s.io/v1beta4)",
        )),
        _ => Err(ShapeError::new(
            path,
            Some(node.pos),
            format!(
                "expected {}, found {}",
                match version {
                    Version::V1beta3 => "a mapping of flag names to values",
                    Version::V1beta4 => "a list of {name, value} entries",
                },
                node.type_name()
            ),
        )),
    }
}

/// A flag value. kubeadm declares these as strings and refuses a YAML number or boolean
/// (`node-cidr-mask-size-ipv6: 120` fails to decode), so only strings are accepted.
fn flag_value(node: &Node, path: &str) -> Result<Located<String>, ShapeError> {
    match &node.kind {
        Kind::Str(_) => walk::string(node, path),
        Kind::Int(_) | Kind::Float(_) | Kind::Bool(_) => Err(ShapeError::new(
            path,
            Some(node.pos),
            format!(
                "kubeadm reads flag values as strings and refuses {}; quote it: \"{}\"",
                node.type_name(),
                node.scalar_text().unwrap_or_default()
            ),
        )),
        _ => Err(ShapeError::new(
            path,
            Some(node.pos),
            format!("expected a string, found {}", node.type_name()),
        )),
    }
}

fn read_kubelet(doc: &Node, got: &mut Collected, notes: &mut Notes) -> Result<(), ShapeError> {
    let known: Vec<&str> = TOP.iter().chain(KUBELET).copied().collect();
    let fields = Fields::read(doc, "", &known, KUBELET_IGNORED, notes)?;
    got.kubelet_domain = fields.string("clusterDomain")?;
    if let Some(list) = fields.list("clusterDNS")? {
        got.kubelet_dns = list
            .into_iter()
            .map(|(path, n)| walk::string(n, &path).map(|s| s.map(AddrValue::sloppy)))
            .collect::<Result<_, _>>()?;
    }
    Ok(())
}

fn read_kube_proxy(
    doc: &Node,
    net: &mut ClusterNetwork,
    notes: &mut Notes,
) -> Result<(), ShapeError> {
    let known: Vec<&str> = TOP.iter().chain(KUBE_PROXY).copied().collect();
    let fields = Fields::read(doc, "", &known, KUBE_PROXY_IGNORED, notes)?;
    net.kube_proxy_cluster_cidr = fields.string("clusterCIDR")?;
    net.kube_proxy_mode = fields.string("mode")?;
    net.kube_proxy_detect_local_mode = fields.string("detectLocalMode")?;
    Ok(())
}
