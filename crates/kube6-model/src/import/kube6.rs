//! kube6's own `ClusterNetwork` (`apiVersion: kube6.dev/v1alpha1`): the one format written for
//! people, with every setting the rules use in one place. The JSON Schema for it is
//! `schema/clusternetwork.schema.json` (`kube6 schema`).

use kube6_net::Family;

use super::walk::{Fields, Notes, ShapeError, string};
use crate::model::{
    AddrValue, AddressBlock, BgpPeer, CalicoPool, CidrValue, ClusterNetwork, Cni, CountValue,
    Distribution, FeatureGate, Format, IngressController, LbImplementation, LbMode, LbPool, Nat64,
    Nat64Gateway, NdpProxyMode, NodeSpec, PrefixSpec, Role, Upstream, UpstreamMode,
};
use crate::source::{Located, Origin};
use crate::yaml::{Kind, Node};

pub const TOP: &[&str] = &["apiVersion", "kind", "metadata", "spec"];
pub const SPEC: &[&str] = &[
    "distribution",
    "kubernetesVersion",
    "cni",
    "primaryFamily",
    "pods",
    "services",
    "clusterDomain",
    "clusterDNS",
    "api",
    "featureGates",
    "kubeProxy",
    "nodes",
    "upstream",
    "nat64",
    "loadBalancer",
    "prefix",
    "dns",
];
pub const DISTRIBUTION: &[&str] = &["name", "version"];
pub const CNI: &[&str] = &[
    "name",
    "version",
    "calico",
    "cilium",
    "flannel",
    "kubeRouter",
];
pub const RANGE: &[&str] = &["cidr", "nodeMaskSize"];
pub const SERVICE_RANGE: &[&str] = &["cidr"];
pub const API: &[&str] = &["address", "externalAddress", "endpointAddresses", "sans"];
pub const KUBE_PROXY: &[&str] = &["mode"];
pub const NODE: &[&str] = &["name", "role", "addresses"];
pub const UPSTREAM: &[&str] = &["mode", "uplink", "bgp"];
pub const BGP: &[&str] = &["peerAddress", "peerASN", "localASN"];
pub const NAT64: &[&str] = &["prefix", "gateway"];
pub const NAT64_GATEWAY: &[&str] = &["pool4", "uplink"];
pub const DNS: &[&str] = &["forwarders", "nodeLocal"];
pub const LOAD_BALANCER: &[&str] = &[
    "implementation",
    "version",
    "pools",
    "bgpPeers",
    "ingress",
    "ndpProxy",
];
pub const LB_POOL: &[&str] = &["name", "addresses", "mode"];
pub const PREFIX: &[&str] = &[
    "cidr",
    "nodes",
    "podsPerNode",
    "nodeSubnets",
    "loadBalancerPools",
];
pub const LOAD_BALANCER_POOLS: &[&str] = &["count", "maskSize"];
pub const CALICO: &[&str] = &["mode", "ipam", "pools"];
pub const CALICO_POOL: &[&str] = &[
    "cidr",
    "blockSize",
    "natOutgoing",
    "ipipMode",
    "vxlanMode",
    "disabled",
    "allowedUses",
];
pub const CILIUM: &[&str] = &[
    "ipamMode",
    "clusterPoolIPv4PodCIDRList",
    "clusterPoolIPv4MaskSize",
    "clusterPoolIPv6PodCIDRList",
    "clusterPoolIPv6MaskSize",
    "ipv6Enabled",
    "enableIPv6Masquerade",
    "routingMode",
    "underlayProtocol",
    "ipv6NativeRoutingCIDR",
    "autoDirectNodeRoutes",
    "bgpControlPlane",
];
pub const FLANNEL: &[&str] = &["backend", "ipv6Masquerade", "ipMasq"];
pub const KUBE_ROUTER: &[&str] = &["routerID", "podEgress"];

/// Every object of the format with its fields, keyed by a JSON-pointer-like path into the schema.
pub const FIELDS: &[(&str, &[&str])] = &[
    ("", TOP),
    ("spec", SPEC),
    ("spec.distribution", DISTRIBUTION),
    ("spec.cni", CNI),
    ("spec.cni.calico", CALICO),
    ("spec.cni.calico.pools[]", CALICO_POOL),
    ("spec.cni.cilium", CILIUM),
    ("spec.cni.flannel", FLANNEL),
    ("spec.cni.kubeRouter", KUBE_ROUTER),
    ("spec.pods[]", RANGE),
    ("spec.services[]", SERVICE_RANGE),
    ("spec.api", API),
    ("spec.kubeProxy", KUBE_PROXY),
    ("spec.nodes[]", NODE),
    ("spec.upstream.IPv6", UPSTREAM),
    ("spec.upstream.IPv6.bgp", BGP),
    ("spec.nat64", NAT64),
    ("spec.loadBalancer", LOAD_BALANCER),
    ("spec.loadBalancer.pools[]", LB_POOL),
    ("spec.loadBalancer.bgpPeers[]", BGP),
    ("spec.nat64.gateway", NAT64_GATEWAY),
    ("spec.dns", DNS),
    ("spec.prefix", PREFIX),
    ("spec.prefix.loadBalancerPools", LOAD_BALANCER_POOLS),
];

fn parse_enum<T: std::str::FromStr<Err = String>>(
    value: &Located<String>,
) -> Result<Located<T>, ShapeError> {
    value
        .value
        .parse::<T>()
        .map(|v| Located::new(v, value.origin.clone()))
        .map_err(|e| ShapeError::new(value.origin.path(), value.origin.pos(), e))
}

/// A name, its version and the mapping they came from (if written as one).
type NameVersion<'n> = (Located<String>, Option<Located<String>>, Option<Fields<'n>>);

/// A name given either as a string or as `{name: ..., version: ...}`.
fn name_and_version<'n>(
    node: &'n Node,
    path: &str,
    known: &[&str],
    notes: &mut Notes,
) -> Result<NameVersion<'n>, ShapeError> {
    match &node.kind {
        Kind::Str(_) => Ok((string(node, path)?, None, None)),
        Kind::Map(_) => {
            let fields = Fields::read(node, path, known, &[], notes)?;
            let name = fields
                .string("name")?
                .ok_or_else(|| ShapeError::new(path, Some(node.pos), "`name` is required here"))?;
            let version = fields.text("version")?;
            Ok((name, version, Some(fields)))
        }
        _ => Err(ShapeError::new(
            path,
            Some(node.pos),
            format!("expected a name or a mapping, found {}", node.type_name()),
        )),
    }
}

pub fn import(doc: &Node, notes: &mut Notes) -> Result<ClusterNetwork, ShapeError> {
    let top = Fields::read(doc, "", TOP, &[], notes)?;
    let spec_node = top
        .get("spec")
        .ok_or_else(|| ShapeError::new("spec", Some(doc.pos), "a ClusterNetwork needs a `spec`"))?;
    let spec = Fields::read(spec_node, "spec", SPEC, &[], notes)?;

    let dist_node = spec.get("distribution").ok_or_else(|| {
        ShapeError::new(
            "spec.distribution",
            Some(spec_node.pos),
            "`distribution` is required: one of k0s, k3s, rke2, kubeadm, kkp",
        )
    })?;
    let (dist_name, dist_version, _) =
        name_and_version(dist_node, "spec.distribution", DISTRIBUTION, notes)?;
    let distribution: Located<Distribution> = parse_enum(&dist_name)?;
    let mut net = ClusterNetwork::new(Format::Kube6, distribution);
    net.distribution_version = dist_version;
    net.kubernetes_version = spec.text("kubernetesVersion")?;

    if let Some(cni_node) = spec.get("cni") {
        let (name, version, fields) = name_and_version(cni_node, "spec.cni", CNI, notes)?;
        net.cni = parse_enum::<Cni>(&name)?;
        net.cni_version = version;
        if let Some(fields) = fields {
            read_cni_settings(&fields, &mut net, notes)?;
        }
    }

    net.primary_family = spec.string("primaryFamily")?;
    read_ranges(&spec, "pods", RANGE, &mut net, notes)?;
    read_ranges(&spec, "services", SERVICE_RANGE, &mut net, notes)?;
    if let Some(domain) = spec.string("clusterDomain")? {
        net.cluster_domain = domain;
    }
    for ip in spec.strings("clusterDNS")? {
        net.cluster_dns.push(ip.map(crate::model::AddrValue::new));
    }
    if let Some(api) = spec.map("api", API, &[], notes)? {
        net.api.address = api.string("address")?;
        net.api.external = api.string("externalAddress")?;
        net.api.endpoint_addresses = api
            .strings("endpointAddresses")?
            .into_iter()
            .map(|a| a.map(crate::model::AddrValue::new))
            .collect();
        net.api.sans = api.strings("sans")?;
    }
    if let Some(gates) = spec.get("featureGates") {
        let gates = Fields::any(gates, "spec.featureGates")?;
        for (key, value) in gates.entries() {
            let path = gates.path_of(&key.name);
            net.feature_gates.push(FeatureGate {
                name: Located::new(key.name.clone(), Origin::input(&path, Some(key.pos))),
                enabled: super::walk::boolean(value, &path)?,
            });
        }
    }
    if let Some(proxy) = spec.map("kubeProxy", KUBE_PROXY, &[], notes)? {
        net.kube_proxy_mode = proxy.string("mode")?;
    }
    if let Some(nodes) = spec.list("nodes")? {
        for (path, node) in nodes {
            let fields = Fields::read(node, &path, NODE, &[], notes)?;
            let name = fields.string("name")?.ok_or_else(|| {
                ShapeError::new(&path, Some(node.pos), "every node needs a `name`")
            })?;
            let role = fields
                .string("role")?
                .map(|r| parse_enum::<Role>(&r))
                .transpose()?;
            let addresses = fields
                .strings("addresses")?
                .into_iter()
                .map(|a| a.map(crate::model::AddrValue::new))
                .collect();
            net.nodes.push(NodeSpec {
                name,
                role,
                addresses,
                ignored_addresses: Vec::new(),
            });
        }
    }
    if let Some(upstream) = spec.get("upstream") {
        let upstream = Fields::read(upstream, "spec.upstream", &["IPv4", "IPv6"], &[], notes)?;
        for &family in Family::ALL {
            if let Some(entry) = upstream.map(family.as_str(), UPSTREAM, &[], notes)? {
                let mode = entry.string("mode")?.ok_or_else(|| {
                    ShapeError::new(
                        &entry.path,
                        None,
                        "`mode` is required: routed, ndp-proxy, bgp or masquerade",
                    )
                })?;
                net.upstream.push(Upstream {
                    family,
                    mode: parse_enum::<UpstreamMode>(&mode)?,
                    uplink: entry.string("uplink")?,
                    bgp: entry
                        .map("bgp", BGP, &[], notes)?
                        .map(|bgp| -> Result<BgpPeer, ShapeError> {
                            Ok(BgpPeer {
                                peer_address: bgp.addr("peerAddress")?,
                                peer_asn: bgp.text("peerASN")?,
                                local_asn: bgp.text("localASN")?,
                            })
                        })
                        .transpose()?,
                });
            }
        }
    }
    if let Some(nat64) = spec.map("nat64", NAT64, &[], notes)? {
        let prefix = nat64.cidr("prefix")?.unwrap_or_else(|| {
            Located::new(
                CidrValue::new("64:ff9b::/96"),
                Origin::default_by("spec.nat64.prefix", "RFC 6052 well-known prefix"),
            )
        });
        let gateway = match nat64.map("gateway", NAT64_GATEWAY, &[], notes)? {
            None => None,
            Some(gw) => Some(Nat64Gateway {
                pool4: gw.cidr("pool4")?.ok_or_else(|| {
                    ShapeError::new(
                        &gw.path_of("pool4"),
                        None,
                        "a NAT64 gateway needs pool4, the IPv4 addresses it maps IPv6 clients to (e.g. 198.51.100.0/24)",
                    )
                })?,
                uplink: gw.string("uplink")?,
            }),
        };
        net.nat64 = Some(Nat64 { prefix, gateway });
    }
    if let Some(dns) = spec.map("dns", DNS, &[], notes)? {
        net.dns.forwarders = dns
            .strings("forwarders")?
            .into_iter()
            .map(|s| s.map(AddrValue::new))
            .collect();
        net.dns.node_local = dns.addr("nodeLocal")?;
    }
    if let Some(lb) = spec.map("loadBalancer", LOAD_BALANCER, &[], notes)? {
        read_load_balancer(&lb, &mut net, notes)?;
    }
    if let Some(prefix) = spec.get("prefix") {
        net.prefix = Some(read_prefix(prefix, notes)?);
    }
    Ok(net)
}

/// `spec.loadBalancer`: the implementation, its pools and BGP peers, and the ingress controller.
fn read_load_balancer(
    lb: &Fields<'_>,
    net: &mut ClusterNetwork,
    notes: &mut Notes,
) -> Result<(), ShapeError> {
    let load_balancer = &mut net.load_balancer;
    load_balancer.declared = true;
    if let Some(implementation) = lb.string("implementation")? {
        load_balancer.implementation = parse_enum::<LbImplementation>(&implementation)?;
    }
    load_balancer.version = lb.text("version")?;
    if let Some(ingress) = lb.string("ingress")? {
        load_balancer.ingress = parse_enum::<IngressController>(&ingress)?;
    }
    load_balancer.ndp_proxy = lb
        .string("ndpProxy")?
        .map(|m| parse_enum::<NdpProxyMode>(&m))
        .transpose()?;
    if let Some(pools) = lb.list("pools")? {
        for (path, pool) in pools {
            let fields = Fields::read(pool, &path, LB_POOL, &[], notes)?;
            let addresses: Vec<Located<AddressBlock>> = fields
                .strings("addresses")?
                .into_iter()
                .map(|a| a.map(AddressBlock::new))
                .collect();
            if addresses.is_empty() {
                return Err(ShapeError::new(
                    &path,
                    Some(pool.pos),
                    "every pool needs `addresses`: CIDRs or FIRST-LAST ranges",
                ));
            }
            load_balancer.pools.push(LbPool {
                name: fields.string("name")?,
                addresses,
                mode: fields
                    .string("mode")?
                    .map(|m| parse_enum::<LbMode>(&m))
                    .transpose()?,
                origin: Origin::input(&path, Some(pool.pos)),
            });
        }
    }
    if let Some(peers) = lb.list("bgpPeers")? {
        for (path, peer) in peers {
            let fields = Fields::read(peer, &path, BGP, &[], notes)?;
            load_balancer.bgp_peers.push(BgpPeer {
                peer_address: fields.addr("peerAddress")?,
                peer_asn: fields.text("peerASN")?,
                local_asn: fields.text("localASN")?,
            });
        }
    }
    Ok(())
}

/// `spec.prefix`: the delegated prefix as a CIDR, or `{cidr, nodes, podsPerNode, nodeSubnets,
/// loadBalancerPools: {count, maskSize}}`.
fn read_prefix(node: &Node, notes: &mut Notes) -> Result<PrefixSpec, ShapeError> {
    let path = "spec.prefix";
    if let Kind::Str(_) = &node.kind {
        return Ok(PrefixSpec {
            cidr: string(node, path)?.map(CidrValue::new),
            nodes: None,
            pods_per_node: None,
            node_subnets: None,
            load_balancer_pools: None,
            load_balancer_pool_mask: None,
        });
    }
    let fields = Fields::read(node, path, PREFIX, &[], notes)?;
    let cidr = fields.cidr("cidr")?.ok_or_else(|| {
        ShapeError::new(
            path,
            Some(node.pos),
            "`cidr` is required: the delegated prefix, e.g. 2001:db8:1234:5600::/56",
        )
    })?;
    let count = |key: &str| -> Result<Option<Located<CountValue>>, ShapeError> {
        Ok(fields.text(key)?.map(|t| t.map(CountValue::new)))
    };
    let (load_balancer_pools, load_balancer_pool_mask) =
        match fields.map("loadBalancerPools", LOAD_BALANCER_POOLS, &[], notes)? {
            Some(pools) => (
                pools.text("count")?.map(|t| t.map(CountValue::new)),
                pools.mask("maskSize")?,
            ),
            None => (None, None),
        };
    Ok(PrefixSpec {
        cidr,
        nodes: count("nodes")?,
        pods_per_node: count("podsPerNode")?,
        node_subnets: count("nodeSubnets")?,
        load_balancer_pools,
        load_balancer_pool_mask,
    })
}

fn read_ranges(
    spec: &Fields<'_>,
    key: &str,
    known: &[&str],
    net: &mut ClusterNetwork,
    notes: &mut Notes,
) -> Result<(), ShapeError> {
    let Some(items) = spec.list(key)? else {
        return Ok(());
    };
    for (path, item) in items {
        let (cidr, mask) = match &item.kind {
            Kind::Str(_) => (string(item, &path)?.map(CidrValue::new), None),
            _ => {
                let fields = Fields::read(item, &path, known, &[], notes)?;
                let cidr = fields.cidr("cidr")?.ok_or_else(|| {
                    ShapeError::new(&path, Some(item.pos), "every range needs a `cidr`")
                })?;
                (cidr, fields.mask("nodeMaskSize")?)
            }
        };
        if let (Some(mask), Some(family)) = (mask, cidr.value.family()) {
            let slot = match family {
                Family::IPv4 => &mut net.node_masks.ipv4,
                Family::IPv6 => &mut net.node_masks.ipv6,
            };
            *slot = Some(mask);
        }
        if key == "pods" {
            net.pods.push(cidr);
        } else {
            net.services.push(cidr);
        }
    }
    Ok(())
}

fn read_cni_settings(
    cni: &Fields<'_>,
    net: &mut ClusterNetwork,
    notes: &mut Notes,
) -> Result<(), ShapeError> {
    if let Some(calico) = cni.map("calico", CALICO, &[], notes)? {
        net.calico.mode = calico.string("mode")?;
        net.calico.ipam = calico.string("ipam")?;
        if let Some(pools) = calico.list("pools")? {
            for (path, pool) in pools {
                let fields = Fields::read(pool, &path, CALICO_POOL, &[], notes)?;
                let cidr = fields.cidr("cidr")?.ok_or_else(|| {
                    ShapeError::new(&path, Some(pool.pos), "every pool needs a `cidr`")
                })?;
                net.calico.pools.push(CalicoPool {
                    name: None,
                    cidr,
                    block_size: fields.mask("blockSize")?,
                    nat_outgoing: fields.boolean("natOutgoing")?,
                    ipip_mode: fields.string("ipipMode")?,
                    vxlan_mode: fields.string("vxlanMode")?,
                    disabled: fields.boolean("disabled")?,
                    allowed_uses: fields.strings("allowedUses")?,
                });
            }
        }
    }
    if let Some(cilium) = cni.map("cilium", CILIUM, &[], notes)? {
        net.cilium.ipam_mode = cilium.string("ipamMode")?;
        net.cilium.ipv4_pools = cilium
            .strings("clusterPoolIPv4PodCIDRList")?
            .into_iter()
            .map(|c| c.map(CidrValue::new))
            .collect();
        net.cilium.ipv6_pools = cilium
            .strings("clusterPoolIPv6PodCIDRList")?
            .into_iter()
            .map(|c| c.map(CidrValue::new))
            .collect();
        net.cilium.ipv4_mask = cilium.mask("clusterPoolIPv4MaskSize")?;
        net.cilium.ipv6_mask = cilium.mask("clusterPoolIPv6MaskSize")?;
        net.cilium.ipv6_enabled = cilium.boolean("ipv6Enabled")?;
        net.cilium.ipv6_masquerade = cilium.boolean("enableIPv6Masquerade")?;
        net.cilium.routing_mode = cilium.string("routingMode")?;
        net.cilium.underlay_protocol = cilium.string("underlayProtocol")?;
        net.cilium.ipv6_native_routing_cidr = cilium.cidr("ipv6NativeRoutingCIDR")?;
        net.cilium.auto_direct_node_routes = cilium.boolean("autoDirectNodeRoutes")?;
        net.cilium.bgp_control_plane = cilium.boolean("bgpControlPlane")?;
    }
    if let Some(flannel) = cni.map("flannel", FLANNEL, &[], notes)? {
        net.flannel.backend = flannel.string("backend")?;
        net.flannel.ipv6_masquerade = flannel.boolean("ipv6Masquerade")?;
        net.flannel.ip_masq = flannel.boolean("ipMasq")?;
    }
    if let Some(kube_router) = cni.map("kubeRouter", KUBE_ROUTER, &[], notes)? {
        net.kube_router.router_id = kube_router.string("routerID")?;
        net.kube_router.pod_egress = kube_router.boolean("podEgress")?;
    }
    Ok(())
}
