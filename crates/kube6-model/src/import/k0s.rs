//! k0s `ClusterConfig` (`k0s.k0sproject.io/v1beta1`): `spec.network`, `spec.api` and the
//! controller-manager's extra args. The IPv6SingleStack gate comes from the command line
//! (`--feature-gates`), as for `k0s controller`.

use kube6_net::Family;

use super::walk::{Fields, Notes, ShapeError};
use crate::k0s;
use crate::model::{ClusterNetwork, Cni, Distribution, Format};
use crate::source::{Located, Origin};
use crate::yaml::{Kind, Node};

const TOP: &[&str] = &["apiVersion", "kind", "metadata", "spec"];
const SPEC: &[&str] = &["api", "controllerManager", "network"];
const SPEC_IGNORED: &[&str] = &[
    "scheduler",
    "extensions",
    "images",
    "installConfig",
    "konnectivity",
    "storage",
    "telemetry",
    "workerProfiles",
    "featureGates",
    "podSecurityPolicy",
];
const API: &[&str] = &["address", "externalAddress", "sans"];
const API_IGNORED: &[&str] = &[
    "port",
    "k0sApiPort",
    "extraArgs",
    "rawArgs",
    "onlyBindToAddress",
    "tunneledNetworkingMode",
    "ca",
];
const CONTROLLER_MANAGER: &[&str] = &["extraArgs"];
const CONTROLLER_MANAGER_IGNORED: &[&str] = &["rawArgs"];
const NETWORK: &[&str] = &[
    "podCIDR",
    "serviceCIDR",
    "provider",
    "calico",
    "kuberouter",
    "kubeProxy",
    "dualStack",
    "clusterDomain",
    "primaryAddressFamily",
    "controlPlaneLoadBalancing",
];
const NETWORK_IGNORED: &[&str] = &["coreDNS", "nodeLocalLoadBalancing"];
const CPLB: &[&str] = &["enabled", "type", "keepalived"];
const KEEPALIVED: &[&str] = &["vrrpInstances"];
const KEEPALIVED_IGNORED: &[&str] = &[
    "virtualServers",
    "disableLoadBalancing",
    "userSpaceProxyBindPort",
];
const VRRP: &[&str] = &["virtualIPs"];
const VRRP_IGNORED: &[&str] = &[
    "interface",
    "virtualRouterID",
    "advertIntervalSeconds",
    "authPass",
    "unicastPeers",
    "unicastSourceIP",
    "addressLabel",
];
const DUAL_STACK: &[&str] = &["enabled", "IPv6podCIDR", "IPv6serviceCIDR"];
const CALICO: &[&str] = &["mode"];
const CALICO_IGNORED: &[&str] = &[
    "ipAutodetectionMethod",
    "ipV6AutodetectionMethod",
    "mtu",
    "overlay",
    "vxlanPort",
    "vxlanVNI",
    "wireguard",
    "envVars",
    "flexVolumeDriverPath",
    "patches",
];
const KUBE_ROUTER: &[&str] = &["extraArgs"];
const KUBE_ROUTER_IGNORED: &[&str] = &[
    "autoMTU",
    "mtu",
    "metricsPort",
    "hairpin",
    "hairpinMode",
    "ipMasq",
    "peerRouterIPs",
    "peerRouterASNs",
    "rawArgs",
    "patches",
];
const KUBE_PROXY: &[&str] = &["mode", "disabled"];
const KUBE_PROXY_IGNORED: &[&str] = &[
    "iptables",
    "ipvs",
    "nftables",
    "nodePortAddresses",
    "metricsBindAddress",
    "extraArgs",
    "rawArgs",
    "config",
];

/// The string maps of ClusterConfig (`additionalProperties: {type: string}` in k0s's CRD,
/// static/_crds/k0s/k0s.k0sproject.io_clusterconfigs.yaml; `map[string]string` in
/// pkg/apis/k0s/v1beta1). k0s reads its configuration strictly (strictyaml, through JSON), so
/// an unquoted `120` or `true` there stops k0s: "cannot unmarshal number into ... of type
/// string".
const STRING_MAPS: &[&[&str]] = &[
    &["spec", "api", "extraArgs"],
    &["spec", "controllerManager", "extraArgs"],
    &["spec", "scheduler", "extraArgs"],
    &["spec", "network", "kubeProxy", "extraArgs"],
    &["spec", "network", "kuberouter", "extraArgs"],
    &["spec", "network", "calico", "envVars"],
    &["spec", "storage", "etcd", "extraArgs"],
    &["spec", "storage", "kine", "extraArgs"],
];

/// Refuses, as k0s does, a value in one of its string maps that YAML reads as a number or a
/// boolean.
fn check_string_maps(doc: &Node) -> Result<(), ShapeError> {
    for path in STRING_MAPS {
        let Some(map) = path.iter().try_fold(doc, |node, key| node.get(key)) else {
            continue;
        };
        let Some(entries) = map.as_map() else {
            continue;
        };
        for (key, value) in entries {
            if matches!(value.kind, Kind::Int(_) | Kind::Float(_) | Kind::Bool(_)) {
                let text = value.scalar_text().unwrap_or_default();
                return Err(ShapeError::new(
                    &format!("{}.{}", path.join("."), key.name),
                    Some(value.pos),
                    format!(
                        "k0s reads {} as strings and refuses {} {text} (k0s does not start); \
                         quote it: \"{text}\"",
                        path[path.len() - 1],
                        value.type_name()
                    ),
                ));
            }
        }
    }
    Ok(())
}

pub fn import(doc: &Node, notes: &mut Notes) -> Result<ClusterNetwork, ShapeError> {
    check_string_maps(doc)?;
    let top = Fields::read(doc, "", TOP, &[], notes)?;
    let distribution = Located::new(
        Distribution::K0s,
        Origin::input("apiVersion", doc.get("apiVersion").map(|n| n.pos)),
    );
    let mut net = ClusterNetwork::new(Format::K0s, distribution);
    let Some(spec) = top.map("spec", SPEC, SPEC_IGNORED, notes)? else {
        apply_ranges(&mut net, None, None, None, None);
        return Ok(net);
    };

    if let Some(api) = spec.map("api", API, API_IGNORED, notes)? {
        net.api.address = api.string("address")?;
        net.api.external = api.string("externalAddress")?;
        // k0s passes spec.api.extraArgs to kube-apiserver as flags.
        if let Some(args) = api.get("extraArgs") {
            let args = Fields::any(args, &api.path_of("extraArgs"))?;
            net.specific.endpoint_reconciler_type = args.text("endpoint-reconciler-type")?;
        }

        net.api.sans = api.strings("sans")?;
    }
    if let Some(cm) = spec.map(
        "controllerManager",
        CONTROLLER_MANAGER,
        CONTROLLER_MANAGER_IGNORED,
        notes,
    )? && let Some(args) = cm.get("extraArgs")
    {
        let args = Fields::any(args, &cm.path_of("extraArgs"))?;
        read_mask_args(&args, &mut net)?;
    }

    let Some(network) = spec.map("network", NETWORK, NETWORK_IGNORED, notes)? else {
        apply_ranges(&mut net, None, None, None, None);
        return Ok(net);
    };
    if let Some(provider) = network.string("provider")? {
        // A provider outside k0s's enumeration is a validation error of a readable file
        // (rule K6E300), not an unreadable document: no CNI's rules apply then.
        let cni = match provider.value.as_str() {
            "kuberouter" => Cni::KubeRouter,
            "calico" => Cni::Calico,
            _ => Cni::Custom,
        };
        net.cni = Located::new(cni, provider.origin.clone());
        net.specific.k0s_provider = Some(provider);
    }
    if net.cni.value == Cni::Calico {
        net.calico.mode = Some(Located::new(
            "vxlan".to_string(),
            Origin::default_by("spec.network.calico.mode", "k0s default"),
        ));
    }
    if let Some(calico) = network.map("calico", CALICO, CALICO_IGNORED, notes)?
        && let Some(mode) = calico.string("mode")?
    {
        net.calico.mode = Some(mode);
    }
    if let Some(kube_router) = network.map("kuberouter", KUBE_ROUTER, KUBE_ROUTER_IGNORED, notes)?
        && let Some(args) = kube_router.get("extraArgs")
    {
        let args = Fields::any(args, &kube_router.path_of("extraArgs"))?;
        for (key, value) in args.entries() {
            let Some(text) = value.scalar_text() else {
                continue;
            };
            let origin = Origin::input(args.path_of(&key.name), Some(value.pos));
            super::cni::set_kube_router_flag(
                key.name.trim_start_matches('-'),
                Some(&text),
                origin,
                &mut net,
            );
        }
    }
    read_control_plane_load_balancing(&network, &mut net, notes)?;
    if let Some(proxy) = network.map("kubeProxy", KUBE_PROXY, KUBE_PROXY_IGNORED, notes)? {
        net.kube_proxy_mode = proxy.string("mode")?;
        net.specific.k0s_kube_proxy_disabled = proxy.boolean("disabled")?;
    }
    // Control-plane load balancing turns k0s's own API endpoint reconciler off.
    if let Some(cplb) = network.get("controlPlaneLoadBalancing") {
        let cplb = Fields::any(cplb, &network.path_of("controlPlaneLoadBalancing"))?;
        net.specific.k0s_cplb_enabled = cplb.boolean("enabled")?;
    }
    if let Some(domain) = network.string("clusterDomain")? {
        net.cluster_domain = domain;
    }
    // An empty primaryAddressFamily is k0s's PrimaryFamilyUnknown: derived from the API address.
    net.primary_family = network
        .string("primaryAddressFamily")?
        .filter(|f| !f.value.is_empty());

    let pod = network.cidr("podCIDR")?;
    let service = network.cidr("serviceCIDR")?;
    let mut ipv6_pod = None;
    let mut ipv6_service = None;
    if let Some(dual) = network.map("dualStack", DUAL_STACK, &[], notes)? {
        net.specific.k0s_dual_stack = dual.boolean("enabled")?;
        ipv6_pod = dual.cidr("IPv6podCIDR")?;
        ipv6_service = dual.cidr("IPv6serviceCIDR")?;
    }
    apply_ranges(&mut net, pod, service, ipv6_pod, ipv6_service);
    kube_router_defaults(&mut net);
    Ok(net)
}

/// The kube-router flags k0s sets itself (pkg/component/controller/kuberouter.go), under the
/// ones `extraArgs` gives: `enable-ipv4` unless single-stack IPv6, `enable-ipv6` in dual-stack
/// and single-stack IPv6.
fn kube_router_defaults(net: &mut ClusterNetwork) {
    if net.cni.value != Cni::KubeRouter {
        return;
    }
    let families = net.families();
    let by = "k0s (pkg/component/controller/kuberouter.go)";
    let k = &mut net.kube_router;
    for (slot, flag, on) in [
        (
            &mut k.enable_ipv4,
            "enable-ipv4",
            families.contains(&Family::IPv4),
        ),
        (
            &mut k.enable_ipv6,
            "enable-ipv6",
            families.contains(&Family::IPv6),
        ),
    ] {
        if slot.is_none() {
            *slot = Some(Located::new(
                on,
                Origin::default_by(format!("spec.network.kuberouter.extraArgs.{flag}"), by),
            ));
        }
    }
}

/// k0s's control-plane load balancing (keepalived): its virtual IPs are the API endpoint's
/// addresses (pkg/apis/k0s/v1beta1/cplb.go; `virtualIPs` are CIDRs, the address is what counts).
fn read_control_plane_load_balancing(
    network: &Fields<'_>,
    net: &mut ClusterNetwork,
    notes: &mut Notes,
) -> Result<(), ShapeError> {
    let Some(cplb) = network.map("controlPlaneLoadBalancing", CPLB, &[], notes)? else {
        return Ok(());
    };
    if !cplb.boolean("enabled")?.is_some_and(|e| e.value) {
        return Ok(());
    }
    let Some(keepalived) = cplb.map("keepalived", KEEPALIVED, KEEPALIVED_IGNORED, notes)? else {
        return Ok(());
    };
    for (path, instance) in keepalived.list("vrrpInstances")?.unwrap_or_default() {
        let instance = Fields::read(instance, &path, VRRP, VRRP_IGNORED, notes)?;
        for vip in instance.strings("virtualIPs")? {
            let vip = vip.map(|v| v.split('/').next().unwrap_or_default().to_string());
            net.api
                .endpoint_addresses
                .push(vip.map(crate::model::AddrValue::new));
        }
    }
    Ok(())
}

fn read_mask_args(args: &Fields<'_>, net: &mut ClusterNetwork) -> Result<(), ShapeError> {
    net.node_masks.single = args.mask("node-cidr-mask-size")?;
    net.node_masks.ipv4 = args.mask("node-cidr-mask-size-ipv4")?;
    net.node_masks.ipv6 = args.mask("node-cidr-mask-size-ipv6")?;
    net.specific.allocate_node_cidrs = args.text("allocate-node-cidrs")?;
    Ok(())
}

/// Puts k0s's ranges in the canonical order: k0s keeps the IPv4 ranges in podCIDR/serviceCIDR
/// and the IPv6 ones under dualStack, and orders them by its primary family.
fn apply_ranges(
    net: &mut ClusterNetwork,
    pod: Option<Located<crate::model::CidrValue>>,
    service: Option<Located<crate::model::CidrValue>>,
    ipv6_pod: Option<Located<crate::model::CidrValue>>,
    ipv6_service: Option<Located<crate::model::CidrValue>>,
) {
    let by = "k0s default";
    let pod = pod.unwrap_or_else(|| {
        Located::new(
            crate::model::CidrValue::new(crate::facts::k0s::POD_CIDR),
            Origin::default_by("spec.network.podCIDR", by),
        )
    });
    let service = service.unwrap_or_else(|| {
        Located::new(
            crate::model::CidrValue::new(crate::facts::k0s::SERVICE_CIDR),
            Origin::default_by("spec.network.serviceCIDR", by),
        )
    });
    net.specific.k0s_pod_cidr = Some(pod.clone());
    net.specific.k0s_service_cidr = Some(service.clone());
    net.specific.k0s_ipv6_pod_cidr = ipv6_pod.clone();
    net.specific.k0s_ipv6_service_cidr = ipv6_service.clone();
    let dual = net
        .specific
        .k0s_dual_stack
        .as_ref()
        .is_some_and(|d| d.value);
    if !dual {
        net.pods = vec![pod];
        net.services = vec![service];
        return;
    }
    let ipv6_first = k0s::primary_family(net).0 == Family::IPv6;
    let pair = |v4: Located<crate::model::CidrValue>,
                v6: Option<Located<crate::model::CidrValue>>| {
        let mut list = vec![v4];
        if let Some(v6) = v6 {
            if ipv6_first {
                list.insert(0, v6)
            } else {
                list.push(v6)
            }
        }
        list
    };
    net.pods = pair(pod, ipv6_pod);
    net.services = pair(service, ipv6_service);
}
