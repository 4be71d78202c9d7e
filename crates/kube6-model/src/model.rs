//! The canonical cluster network: what every importer produces and every rule reads.
//!
//! Ranges are ordered lists (the first one is the primary family), as Kubernetes components take
//! them. Settings that only some distributions or CNIs have are kept as optional fields; each
//! value remembers where it came from (`Located`).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use kube6_net::{CidrError, Family, ParsedCidr, parse_cidr};
use serde::Serialize;

pub use crate::load_balancer::{
    AddressBlock, Block, IngressController, LbImplementation, LbMode, LbPool, LoadBalancer,
    NdpProxyMode, PoolNdpAnswer,
};
use crate::source::{Located, Origin};
use crate::version::Version;

/// The input formats kube6 reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, strum::VariantArray)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// kube6's own `ClusterNetwork` (`kube6.dev/v1alpha1`).
    Kube6,
    /// k0s `ClusterConfig` (`k0s.k0sproject.io/v1beta1`).
    K0s,
    /// kubeadm `v1beta3`/`v1beta4` documents.
    Kubeadm,
    /// k3s `config.yaml`.
    K3s,
    /// RKE2 `config.yaml`.
    Rke2,
    /// A k3s command line (`server --cluster-cidr ...`).
    K3sArgs,
    /// Kubermatic KKP `Cluster` (`kubermatic.k8c.io/v1`).
    Kkp,
}

impl Format {
    /// Every variant, in declaration order (derived: a new variant cannot be left out).
    pub const ALL: &'static [Format] = <Format as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Kube6 => "kube6",
            Format::K0s => "k0s",
            Format::Kubeadm => "kubeadm",
            Format::K3s => "k3s",
            Format::Rke2 => "rke2",
            Format::K3sArgs => "k3s-args",
            Format::Kkp => "kkp",
        }
    }
}

impl Format {
    /// What a document of this format is called, for people: "k0s ClusterConfig".
    pub fn document_name(self) -> &'static str {
        match self {
            Format::Kube6 => "kube6 ClusterNetwork",
            Format::K0s => "k0s ClusterConfig",
            Format::Kubeadm => "kubeadm configuration",
            Format::K3s => "k3s config.yaml",
            Format::Rke2 => "RKE2 config.yaml",
            Format::K3sArgs => "k3s command line",
            Format::Kkp => "Kubermatic Cluster",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown format {s:?}: use one of {}",
                    Format::ALL
                        .iter()
                        .map(|f| f.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

/// A Kubernetes distribution whose defaults and checks apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, strum::VariantArray)]
#[serde(rename_all = "kebab-case")]
pub enum Distribution {
    K0s,
    K3s,
    Rke2,
    Kubeadm,
    Kkp,
}

impl Distribution {
    /// Every variant, in declaration order (derived: a new variant cannot be left out).
    pub const ALL: &'static [Distribution] = <Distribution as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        match self {
            Distribution::K0s => "k0s",
            Distribution::K3s => "k3s",
            Distribution::Rke2 => "rke2",
            Distribution::Kubeadm => "kubeadm",
            Distribution::Kkp => "kkp",
        }
    }

    /// k3s and RKE2 share the server code that picks defaults and checks families.
    pub fn is_k3s_family(self) -> bool {
        matches!(self, Distribution::K3s | Distribution::Rke2)
    }
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Distribution {
    type Err = String;
    fn from_str(s: &str) -> Result<Distribution, String> {
        Distribution::ALL
            .iter()
            .copied()
            .find(|d| d.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown distribution {s:?}: use one of {}",
                    Distribution::ALL
                        .iter()
                        .map(|d| d.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

/// A CNI plugin whose rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, strum::VariantArray)]
#[serde(rename_all = "kebab-case")]
pub enum Cni {
    KubeRouter,
    Calico,
    Canal,
    Cilium,
    Flannel,
    /// Something kube6 has no rules for; only the Kubernetes and cross-checks apply.
    Custom,
}

impl Cni {
    /// Every variant, in declaration order (derived: a new variant cannot be left out).
    pub const ALL: &'static [Cni] = <Cni as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        match self {
            Cni::KubeRouter => "kube-router",
            Cni::Calico => "calico",
            Cni::Canal => "canal",
            Cni::Cilium => "cilium",
            Cni::Flannel => "flannel",
            Cni::Custom => "custom",
        }
    }
}

impl fmt::Display for Cni {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Cni {
    type Err = String;
    fn from_str(s: &str) -> Result<Cni, String> {
        let norm = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        let norm = match norm.as_str() {
            "kuberouter" => "kube-router".to_string(),
            "none" => "custom".to_string(),
            _ => norm,
        };
        Cni::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == norm)
            .ok_or_else(|| {
                format!(
                    "unknown CNI {s:?}: use one of {}",
                    Cni::ALL
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

/// How pod addresses of one family reach (and are reached from) outside the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, strum::VariantArray)]
#[serde(rename_all = "kebab-case")]
pub enum UpstreamMode {
    /// The upstream network routes the pod range to the nodes (static routes or a routed prefix).
    Routed,
    /// The upstream treats the prefix as on-link; the node answers neighbor solicitations.
    NdpProxy,
    /// The nodes announce their pod blocks to an upstream BGP peer.
    Bgp,
    /// Pods leave through the node's address (SNAT, NAT66 for IPv6).
    Masquerade,
}

impl UpstreamMode {
    /// Every variant, in declaration order (derived: a new variant cannot be left out).
    pub const ALL: &'static [UpstreamMode] = <UpstreamMode as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        match self {
            UpstreamMode::Routed => "routed",
            UpstreamMode::NdpProxy => "ndp-proxy",
            UpstreamMode::Bgp => "bgp",
            UpstreamMode::Masquerade => "masquerade",
        }
    }
}

impl FromStr for UpstreamMode {
    type Err = String;
    fn from_str(s: &str) -> Result<UpstreamMode, String> {
        let norm = s.trim().to_ascii_lowercase();
        let norm = match norm.as_str() {
            "nat66" | "snat" | "nat" => "masquerade",
            "ndp" | "ndppd" => "ndp-proxy",
            other => other,
        };
        UpstreamMode::ALL
            .iter()
            .copied()
            .find(|m| m.as_str() == norm)
            .ok_or_else(|| {
                format!(
                    "unknown upstream mode {s:?}: use one of {}",
                    UpstreamMode::ALL
                        .iter()
                        .map(|m| m.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

/// A CIDR as written, with the result of parsing it (rules report parse errors, importers don't).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CidrValue {
    pub text: String,
    pub parsed: Result<ParsedCidr, CidrError>,
}

impl CidrValue {
    pub fn new(text: impl Into<String>) -> CidrValue {
        let text = text.into();
        let parsed = parse_cidr(&text);
        CidrValue { text, parsed }
    }

    /// The canonical network, if the text parsed.
    pub fn net(&self) -> Option<IpNet> {
        self.parsed.as_ref().ok().map(|p| p.net)
    }

    pub fn family(&self) -> Option<Family> {
        self.net().map(|n| Family::of_net(&n))
    }
}

/// An IP address as written, with the result of parsing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrValue {
    pub text: String,
    pub parsed: Option<IpAddr>,
}

impl AddrValue {
    pub fn new(text: impl Into<String>) -> AddrValue {
        let text = text.into();
        let parsed = kube6_net::parse_ip(&text).ok();
        AddrValue { text, parsed }
    }

    /// An address as Kubernetes' lenient parser (k8s.io/utils/net `ParseIPSloppy`, used by the
    /// kubelet for `--node-ip` and by kubeadm) reads it: like [`AddrValue::new`], but IPv4 octets
    /// may have leading zeros, read as decimal (`01.2.3.004` is 1.2.3.4).
    pub fn sloppy(text: impl Into<String>) -> AddrValue {
        let text = text.into();
        let strict = kube6_net::parse_ip(&text).ok();
        let parsed = strict.or_else(|| {
            let octets: Vec<&str> = text.trim().split('.').collect();
            let digits = octets.len() == 4
                && octets.iter().all(|o| {
                    !o.is_empty() && o.len() <= 3 && o.bytes().all(|b| b.is_ascii_digit())
                });
            if !digits {
                return None;
            }
            let mut bytes = [0u8; 4];
            for (byte, octet) in bytes.iter_mut().zip(&octets) {
                *byte = octet.parse().ok()?;
            }
            Some(IpAddr::from(bytes))
        });
        AddrValue { text, parsed }
    }

    pub fn family(&self) -> Option<Family> {
        self.parsed.as_ref().map(Family::of_addr)
    }
}

/// A node-mask setting as written (flags are strings in most formats), parsed if possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskValue {
    pub text: String,
    pub parsed: Option<u8>,
}

impl MaskValue {
    pub fn new(text: impl Into<String>) -> MaskValue {
        let text = text.into();
        let parsed = text.trim().trim_start_matches('/').parse::<u8>().ok();
        MaskValue { text, parsed }
    }

    /// Whether kube-controller-manager counts the flag as set: it reads 0 as "use the default"
    /// (`NodeCIDRMaskSize != 0` in cmd/kube-controller-manager/app/core.go).
    pub fn set_for_controller_manager(&self) -> bool {
        self.parsed != Some(0)
    }
}

/// A count as written (`nodes: 20`), parsed if possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountValue {
    pub text: String,
    pub parsed: Option<u64>,
}

impl CountValue {
    pub fn new(text: impl Into<String>) -> CountValue {
        let text = text.into();
        let parsed = text.trim().parse::<u64>().ok();
        CountValue { text, parsed }
    }
}

/// A delegated prefix to carve the cluster's ranges from (kube6 `spec.prefix`, or `kube6 plan
/// --prefix` for any format), with what the carving must make room for. Ranges the input sets
/// itself are kept; the rest is carved around them (see `crate::prefix`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixSpec {
    /// The delegated prefix (an IPv6 CIDR).
    pub cidr: Located<CidrValue>,
    /// How many nodes the cluster must hold (default: the nodes the input declares, at least 1).
    pub nodes: Option<Located<CountValue>>,
    /// How many pods a node must be able to run (default: the kubelet's maxPods).
    pub pods_per_node: Option<Located<CountValue>>,
    /// How many node links (/64 each) to carve (default 1).
    pub node_subnets: Option<Located<CountValue>>,
    /// How many load-balancer pools to carve (default: one when the load-balancer
    /// implementation takes pools and `spec.loadBalancer.pools` declares no IPv6 one, else none).
    pub load_balancer_pools: Option<Located<CountValue>>,
    /// The prefix length of each load-balancer pool (default /112, smaller when space is short).
    pub load_balancer_pool_mask: Option<Located<MaskValue>>,
}

/// kube-controller-manager's node-mask flags, as the input sets them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeMasks {
    /// `--node-cidr-mask-size` (single-stack only).
    pub single: Option<Located<MaskValue>>,
    /// `--node-cidr-mask-size-ipv4`.
    pub ipv4: Option<Located<MaskValue>>,
    /// `--node-cidr-mask-size-ipv6`.
    pub ipv6: Option<Located<MaskValue>>,
}

impl NodeMasks {
    pub fn for_family(&self, family: Family) -> Option<&Located<MaskValue>> {
        match family {
            Family::IPv4 => self.ipv4.as_ref(),
            Family::IPv6 => self.ipv6.as_ref(),
        }
    }
}

/// The API server's addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Api {
    /// The address the API server advertises (k0s `spec.api.address`, kubeadm
    /// `localAPIEndpoint.advertiseAddress`, k3s `advertise-address`).
    pub address: Option<Located<String>>,
    /// The highly available endpoint clients and joining nodes use: a DNS name or a virtual IP,
    /// `host` or `host:port` (k0s `externalAddress`, kubeadm `controlPlaneEndpoint`, k3s/RKE2
    /// `server` URL, kube6 `api.externalAddress`).
    pub external: Option<Located<String>>,
    /// The virtual IPs behind the endpoint, at most one per family (k0s
    /// `controlPlaneLoadBalancing` virtual IPs, kube6 `api.endpointAddresses`). A DNS name that
    /// resolves to them is the endpoint; each also goes into the serving certificate.
    pub endpoint_addresses: Vec<Located<AddrValue>>,
    /// More names and addresses the API server's certificate must hold (k3s/RKE2 `tls-san`,
    /// kubeadm `apiServer.certSANs`, k0s `spec.api.sans`, kube6 `api.sans`).
    pub sans: Vec<Located<String>>,
}

impl Api {
    /// The endpoint's host: the external address without port or brackets.
    pub fn external_host(&self) -> Option<String> {
        self.external.as_ref().map(|e| {
            crate::k0s::external_host(
                e.value
                    .trim()
                    .trim_start_matches("https://")
                    .trim_end_matches('/'),
            )
        })
    }

    /// The endpoint's port, if it names one.
    pub fn external_port(&self) -> Option<u16> {
        let text = self.external.as_ref()?.value.trim();
        let text = text.trim_start_matches("https://").trim_end_matches('/');
        if text.parse::<IpAddr>().is_ok() {
            return None;
        }
        let (host, port) = text.rsplit_once(':')?;
        if host.is_empty() || (host.contains(':') && !host.ends_with(']')) {
            return None;
        }
        port.parse().ok()
    }

    /// The endpoint's host as an address, when it is an IP literal.
    pub fn external_ip(&self) -> Option<IpAddr> {
        self.external_host().and_then(|h| h.parse().ok())
    }
}

/// A feature gate and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureGate {
    pub name: Located<String>,
    pub enabled: Located<bool>,
}

/// The role of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Controller,
    Worker,
    ControllerWorker,
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "controller" | "control-plane" | "server" | "master" => Ok(Role::Controller),
            "worker" | "agent" => Ok(Role::Worker),
            "controller+worker" | "controller-worker" | "single" => Ok(Role::ControllerWorker),
            _ => Err(format!(
                "unknown role {s:?}: use controller, worker or controller+worker"
            )),
        }
    }
}

/// A node the spec declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpec {
    pub name: Located<String>,
    pub role: Option<Located<Role>>,
    /// The node's IPs, in the order the kubelet would get them (`--node-ip`).
    pub addresses: Vec<Located<AddrValue>>,
    /// `--node-ip` entries the kubelet's lenient parser ignores (not an IP, or empty); only
    /// formats that hand the list to the kubelet as written (kubeadm's kubeletExtraArgs) fill it.
    pub ignored_addresses: Vec<Located<String>>,
}

impl NodeSpec {
    /// The addresses as the kubelet's `--node-ip` value would read: `a,b`.
    pub fn node_ip_text(&self) -> String {
        let texts: Vec<&str> = self
            .addresses
            .iter()
            .map(|a| a.value.text.as_str())
            .collect();
        texts.join(",")
    }

    /// Where a finding about the node's addresses points: its first address, else its name.
    pub fn addresses_origin(&self) -> crate::source::Origin {
        self.addresses
            .first()
            .map_or_else(|| self.name.origin.clone(), |a| a.origin.clone())
    }
}

/// How one family reaches the outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub family: Family,
    pub mode: Located<UpstreamMode>,
    /// The node interface facing the upstream router (for the NDP proxy).
    pub uplink: Option<Located<String>>,
    /// The upstream BGP peer, for `mode: bgp`.
    pub bgp: Option<BgpPeer>,
}

/// An upstream BGP peer the nodes announce their pod blocks to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BgpPeer {
    pub peer_address: Option<Located<AddrValue>>,
    pub peer_asn: Option<Located<String>>,
    pub local_asn: Option<Located<String>>,
}

/// NAT64 for an IPv6-only cluster reaching IPv4-only destinations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nat64 {
    pub prefix: Located<CidrValue>,
    /// A self-hosted NAT64 gateway kube6 writes the configuration of (TAYGA).
    pub gateway: Option<Nat64Gateway>,
}

/// A stateless NAT64 gateway host (TAYGA): IPv6 clients are mapped to addresses of an IPv4
/// pool, which the gateway masquerades behind its own IPv4 address on the way out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nat64Gateway {
    /// TAYGA's `dynamic-pool`: IPv4 addresses handed to IPv6 clients (private space, /31 or
    /// shorter).
    pub pool4: Located<CidrValue>,
    /// The gateway's interface towards the IPv4 internet (masquerading leaves through it).
    pub uplink: Option<Located<String>>,
}

/// Cluster DNS beyond the Service address: where CoreDNS forwards, NodeLocal DNSCache, and the
/// dns64 plugin of a Corefile given in the input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsSettings {
    /// The resolvers CoreDNS forwards names outside the cluster to (kube6 `spec.dns.forwarders`;
    /// the addresses of `forward .` in an imported Corefile). Empty: the node's resolv.conf.
    pub forwarders: Vec<Located<AddrValue>>,
    /// NodeLocal DNSCache's listen address (kube6 `spec.dns.nodeLocal`; RKE2's rke2-coredns
    /// `nodelocal.ip_address` when `nodelocal.enabled`).
    pub node_local: Option<Located<AddrValue>>,
    /// Every dns64 plugin of an imported Corefile.
    pub dns64: Vec<Dns64Plugin>,
}

/// One `dns64` directive of a Corefile, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dns64Plugin {
    /// Where the directive is.
    pub origin: Origin,
    /// Its prefix (argument or `prefix` line), None for the plugin's default 64:ff9b::/96.
    pub prefix: Option<Located<CidrValue>>,
    /// `translate_all`, where written.
    pub translate_all: Option<Origin>,
    /// `allow_ipv4`, where written.
    pub allow_ipv4: Option<Origin>,
}

/// Calico settings that rules depend on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalicoSettings {
    /// k0s `calico.mode` (`bird`, `vxlan`, `ipip`) or the operator's encapsulation.
    pub mode: Option<Located<String>>,
    /// IP pools declared in the input (Calico `IPPool` documents, the operator's
    /// `calicoNetwork.ipPools`, calico-node's `CALICO_IPV*POOL_*` environment, or kube6's
    /// `cni.calico.pools`).
    pub pools: Vec<CalicoPool>,
    /// Which IPAM hands out pod addresses: `Calico` (blocks from the pools, the default) or
    /// `HostLocal` (the node's podCIDRs from kube-controller-manager) — the operator's
    /// `spec.cni.ipam.type`, a CNI configuration's `ipam.type`, kube6 `cni.calico.ipam`.
    pub ipam: Option<Located<String>>,
    /// calico-node's `FELIX_IPV6SUPPORT`: Felix programs no IPv6 dataplane when false.
    pub felix_ipv6_support: Option<Located<bool>>,
}

/// A Calico IP pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalicoPool {
    /// The pool's name (an IPPool's `metadata.name`, an operator pool's `name`): pools of one name
    /// are one object, so a later document with the name replaces the earlier pool.
    pub name: Option<Located<String>>,
    pub cidr: Located<CidrValue>,
    pub block_size: Option<Located<MaskValue>>,
    pub nat_outgoing: Option<Located<bool>>,
    pub ipip_mode: Option<Located<String>>,
    pub vxlan_mode: Option<Located<String>>,
    /// `disabled: true`: Calico allocates nothing from the pool (and exempts it from the
    /// pool-size check).
    pub disabled: Option<Located<bool>>,
    /// `allowedUses` (Workload, Tunnel, LoadBalancer); empty means Workload and Tunnel.
    pub allowed_uses: Vec<Located<String>>,
}

impl CalicoPool {
    /// Whether pods get addresses from this pool: it is enabled and allowed for workloads.
    pub fn serves_pods(&self) -> bool {
        let enabled = self.disabled.as_ref().is_none_or(|d| !d.value);
        let workload =
            self.allowed_uses.is_empty() || self.allowed_uses.iter().any(|u| u.value == "Workload");
        enabled && workload
    }
}

/// Cilium settings that rules depend on (Helm values).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CiliumSettings {
    pub ipam_mode: Option<Located<String>>,
    pub ipv4_pools: Vec<Located<CidrValue>>,
    pub ipv4_mask: Option<Located<MaskValue>>,
    pub ipv6_pools: Vec<Located<CidrValue>>,
    pub ipv6_mask: Option<Located<MaskValue>>,
    pub ipv6_enabled: Option<Located<bool>>,
    pub ipv6_masquerade: Option<Located<bool>>,
    pub ipv4_enabled: Option<Located<bool>>,
    pub ipv4_masquerade: Option<Located<bool>>,
    /// `routingMode` (`native` or `tunnel`; the legacy `tunnel: disabled` reads as native).
    pub routing_mode: Option<Located<String>>,
    /// `underlayProtocol` (`ipv4` or `ipv6`): the family the tunnels run over.
    pub underlay_protocol: Option<Located<String>>,
    pub ipv4_native_routing_cidr: Option<Located<CidrValue>>,
    pub ipv6_native_routing_cidr: Option<Located<CidrValue>>,
    /// `autoDirectNodeRoutes`: routes to the other nodes' pod CIDRs where they share a link.
    pub auto_direct_node_routes: Option<Located<bool>>,
    /// `bgpControlPlane.enabled`: Cilium announces pod CIDRs over BGP itself.
    pub bgp_control_plane: Option<Located<bool>>,
    /// `kubeProxyReplacement` (`kube-proxy-replacement`) as written: `true`/`false`, or before
    /// 1.14 `strict`/`partial`/`probe`/`disabled` (see `facts::cilium::replaces_kube_proxy`).
    pub kube_proxy_replacement: Option<Located<String>>,
    /// `l2announcements.enabled` (`enable-l2-announcements`).
    pub l2_announcements: Option<Located<bool>>,
    /// Where Cilium's own configuration was read (a values file, a HelmChartConfig, the
    /// cilium-config ConfigMap). Settings it leaves out take the chart's defaults; settings of
    /// kube6's `cni.cilium` leave the rest to kube6's rendering.
    pub source: Option<Origin>,
}

/// Flannel settings that rules depend on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlannelSettings {
    pub backend: Option<Located<String>>,
    /// k3s `flannel-ipv6-masq`.
    pub ipv6_masquerade: Option<Located<bool>>,
    /// flanneld's `--ip-masq` (Canal's `masquerade`), one switch for both families.
    pub ip_masq: Option<Located<bool>>,
    /// net-conf.json, when the input holds one.
    pub net_conf: Option<FlannelNetConf>,
}

/// flannel's net-conf.json.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlannelNetConf {
    /// Where the document is (for findings about a missing field).
    pub origin: Origin,
    pub enable_ipv4: Option<Located<bool>>,
    pub enable_ipv6: Option<Located<bool>>,
    pub network: Option<Located<CidrValue>>,
    pub ipv6_network: Option<Located<CidrValue>>,
    pub subnet_len: Option<Located<MaskValue>>,
    pub ipv6_subnet_len: Option<Located<MaskValue>>,
}

/// A CNI network configuration (`/etc/cni/net.d/*.conflist`) as the input gives it: its main
/// plugin and that plugin's IPAM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CniConf {
    /// The main plugin's `type` (`calico`, `flannel`, `bridge`, ...).
    pub plugin: Located<String>,
    /// `ipam.type` (`host-local`, `calico-ipam`, ...).
    pub ipam_type: Option<Located<String>>,
    /// host-local's subnets, as written (`usePodCidr`, `usePodCidrIPv6` or CIDRs), from
    /// `ipam.subnet` and `ipam.ranges`.
    pub subnets: Vec<Located<String>>,
    /// calico-ipam's `assign_ipv4` / `assign_ipv6`.
    pub assign_ipv4: Option<Located<bool>>,
    pub assign_ipv6: Option<Located<bool>>,
}

/// kube-router settings that rules depend on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeRouterSettings {
    pub router_id: Option<Located<String>>,
    /// `--enable-pod-egress` (SNAT of pod traffic leaving the cluster; default true).
    pub pod_egress: Option<Located<bool>>,
    pub enable_ipv4: Option<Located<bool>>,
    pub enable_ipv6: Option<Located<bool>>,
    /// `--service-cluster-ip-range` entries.
    pub service_ranges: Vec<Located<CidrValue>>,
    /// Where kube-router's arguments were read (a DaemonSet, k0s extraArgs), if anywhere.
    pub args_origin: Option<Origin>,
}

/// Settings only one input format has, kept so that rules enforced by that format's tool can
/// run (the canonical fields above are what everything else uses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormatSpecific {
    /// k0s `spec.network.dualStack.enabled`.
    pub k0s_dual_stack: Option<Located<bool>>,
    /// k0s `spec.network.podCIDR`/`serviceCIDR` (the IPv4 slot in dual-stack).
    pub k0s_pod_cidr: Option<Located<CidrValue>>,
    pub k0s_service_cidr: Option<Located<CidrValue>>,
    /// k0s `spec.network.dualStack.IPv6podCIDR`/`IPv6serviceCIDR`.
    pub k0s_ipv6_pod_cidr: Option<Located<CidrValue>>,
    pub k0s_ipv6_service_cidr: Option<Located<CidrValue>>,
    /// KKP `spec.clusterNetwork.ipFamily`.
    pub kkp_ip_family: Option<Located<String>>,
    /// KKP `spec.cloud.<provider>`.
    pub kkp_provider: Option<Located<String>>,
    /// Pod/service lists as one comma-separated string (kubeadm, k3s), to check the entry count
    /// the tool itself sees.
    pub raw_pod_list: Option<Located<String>>,
    pub raw_service_list: Option<Located<String>>,
    /// kube-controller-manager `allocate-node-cidrs` as set in the input.
    pub allocate_node_cidrs: Option<Located<String>>,
    /// kube-apiserver `endpoint-reconciler-type` as set in the input.
    pub endpoint_reconciler_type: Option<Located<String>>,
    /// k0s `spec.network.provider` as written (rules check it against k0s's enumeration).
    pub k0s_provider: Option<Located<String>>,
    /// k0s `spec.network.kubeProxy.disabled`.
    pub k0s_kube_proxy_disabled: Option<Located<bool>>,
    /// k0s `spec.network.controlPlaneLoadBalancing.enabled`.
    pub k0s_cplb_enabled: Option<Located<bool>>,
    /// KKP `spec.cniPlugin.type` as written (rules check it against KKP's enumeration).
    pub kkp_cni_type: Option<Located<String>>,
    /// KKP `spec.clusterNetwork.konnectivityEnabled` (the CRD defaults it to true).
    pub kkp_konnectivity: Option<Located<bool>>,
    /// k3s `node-external-ip` (k3s advertises the first valid one when no advertise-address is set).
    pub node_external_ips: Vec<Located<AddrValue>>,

    /// KKP `metadata.name`, `spec.humanReadableName`, `spec.exposeStrategy`.
    pub kkp_name: Option<Located<String>>,
    pub kkp_human_readable_name: Option<Located<String>>,
    pub kkp_expose_strategy: Option<Located<String>>,
    /// The input configures a k3s/RKE2 agent (`k3s agent ...`): agents take the cluster's ranges
    /// from the servers, so what the plan shows for them is k3s's defaults, not the cluster's.
    pub k3s_agent: Option<Located<bool>>,
    /// RKE2's `cni` values, split on commas as RKE2 splits them (empty entries kept), with
    /// where each came from: rules check them against RKE2's list.
    pub rke2_cni: Vec<Located<String>>,
    /// kubeadm `controllerManager.extraArgs` `cluster-cidr` and `apiServer.extraArgs`
    /// `service-cluster-ip-range`, kept when `networking` sets the same ranges too.
    pub kubeadm_kcm_cluster_cidr: Option<Located<String>>,
    pub kubeadm_apiserver_service_range: Option<Located<String>>,
}

/// One cluster's network, as every component will see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNetwork {
    pub format: Format,
    pub distribution: Located<Distribution>,
    /// The distribution's own version (k0s `v1.34.1+k0s.0`, k3s `v1.33.4+k3s1`, kubeadm's is the
    /// Kubernetes version it installs). KKP's own version is not in a Cluster object.
    pub distribution_version: Option<Located<String>>,
    /// The Kubernetes version when the input states it apart from the distribution's (KKP
    /// `spec.version`, kubeadm `kubernetesVersion`, kube6 `spec.kubernetesVersion`).
    pub kubernetes_version: Option<Located<String>>,
    pub cni: Located<Cni>,
    pub cni_version: Option<Located<String>>,
    /// Pod ranges, primary family first.
    pub pods: Vec<Located<CidrValue>>,
    /// Service ranges, primary family first.
    pub services: Vec<Located<CidrValue>>,
    pub node_masks: NodeMasks,
    pub cluster_domain: Located<String>,
    pub api: Api,
    /// An explicit primary family (k0s `primaryAddressFamily`, kube6 `primaryFamily`), as written.
    pub primary_family: Option<Located<String>>,
    pub feature_gates: Vec<FeatureGate>,
    /// Cluster DNS IPs set explicitly (kubelet `clusterDNS`, k3s `cluster-dns`).
    pub cluster_dns: Vec<Located<AddrValue>>,
    pub nodes: Vec<NodeSpec>,
    pub upstream: Vec<Upstream>,
    pub nat64: Option<Nat64>,
    pub dns: DnsSettings,
    pub kube_proxy_mode: Option<Located<String>>,
    /// kube-proxy `clusterCIDR` as set in the input.
    pub kube_proxy_cluster_cidr: Option<Located<String>>,
    /// kube-proxy `detectLocalMode` (`--detect-local-mode`) as set in the input; unset means
    /// `ClusterCIDR`, the mode that reads (and validates) `clusterCIDR`.
    pub kube_proxy_detect_local_mode: Option<Located<String>>,
    pub calico: CalicoSettings,
    pub cilium: CiliumSettings,
    pub flannel: FlannelSettings,
    pub kube_router: KubeRouterSettings,
    /// The CNI network configuration, when the input holds one.
    pub cni_conf: Option<CniConf>,
    /// How LoadBalancer Services get addresses, and the ingress controller in front of them.
    pub load_balancer: LoadBalancer,
    /// The delegated prefix the ranges the input leaves open are carved from.
    pub prefix: Option<PrefixSpec>,
    pub specific: FormatSpecific,
}

impl ClusterNetwork {
    /// The families of the pod ranges that parsed, in order.
    pub fn pod_families(&self) -> Vec<Family> {
        families(&self.pods)
    }

    /// The families of the service ranges that parsed, in order.
    pub fn service_families(&self) -> Vec<Family> {
        families(&self.services)
    }

    /// The cluster's families, primary first: those of the pod ranges, else of the services.
    pub fn families(&self) -> Vec<Family> {
        let pods = self.pod_families();
        if pods.is_empty() {
            self.service_families()
        } else {
            pods
        }
    }

    pub fn is_dual_stack(&self) -> bool {
        self.families().len() == 2
    }

    pub fn primary(&self) -> Option<Family> {
        self.families().first().copied()
    }

    pub fn pod_range(&self, family: Family) -> Option<&Located<CidrValue>> {
        self.pods.iter().find(|p| p.value.family() == Some(family))
    }

    pub fn service_range(&self, family: Family) -> Option<&Located<CidrValue>> {
        self.services
            .iter()
            .find(|p| p.value.family() == Some(family))
    }

    /// A feature gate's value, if set.
    pub fn feature_gate(&self, name: &str) -> Option<&FeatureGate> {
        self.feature_gates.iter().find(|g| g.name.value == name)
    }

    pub fn upstream_for(&self, family: Family) -> Option<&Upstream> {
        self.upstream.iter().find(|u| u.family == family)
    }

    /// The Cilium IPAM mode: as configured, else what the distribution installs (RKE2's chart and
    /// kube6's own rendering use `kubernetes`, the upstream chart and KKP `cluster-pool`).
    pub fn cilium_ipam_mode(&self) -> String {
        if let Some(mode) = &self.cilium.ipam_mode {
            return mode.value.clone();
        }
        if self.distribution.value == Distribution::Rke2 || self.format == Format::Kube6 {
            crate::facts::cilium::RKE2_IPAM_MODE.to_string()
        } else {
            crate::facts::cilium::DEFAULT_IPAM_MODE.to_string()
        }
    }

    /// Whether pods get their addresses from the node blocks kube-controller-manager assigns
    /// (`node.spec.podCIDRs`): host-local IPAM (flannel, Canal, kube-router, Calico with HostLocal)
    /// and Cilium's `kubernetes` IPAM do; Calico IPAM and Cilium's cluster-pool and multi-pool
    /// hand out blocks of their own.
    pub fn pod_addresses_from_node_blocks(&self) -> bool {
        match self.cni.value {
            Cni::Calico => self
                .calico
                .ipam
                .as_ref()
                .is_some_and(|i| i.value.eq_ignore_ascii_case("HostLocal")),
            Cni::Cilium => self.cilium_ipam_mode() == "kubernetes",
            Cni::Canal | Cni::Flannel | Cni::KubeRouter | Cni::Custom => true,
        }
    }

    /// The distribution's version, if given and readable (rule K6W009 reports unreadable ones).
    pub fn distribution_release(&self) -> Option<Version> {
        parsed_version(&self.distribution_version)
    }

    /// The CNI's version, if given and readable.
    pub fn cni_release(&self) -> Option<Version> {
        parsed_version(&self.cni_version)
    }

    /// The Kubernetes version: as stated, else the one a versioned k0s, k3s, RKE2 or kubeadm
    /// release ships (`v1.34.1+k0s.0` ships Kubernetes 1.34.1).
    pub fn kubernetes_release(&self) -> Option<Version> {
        parsed_version(&self.kubernetes_version).or_else(|| match self.distribution.value {
            Distribution::Kkp => None,
            _ => self
                .distribution_release()
                .and_then(|v| Version::parse(&v.core()).ok()),
        })
    }
}

fn parsed_version(value: &Option<Located<String>>) -> Option<Version> {
    value.as_ref().and_then(|v| Version::parse(&v.value).ok())
}

fn families(ranges: &[Located<CidrValue>]) -> Vec<Family> {
    let mut out = Vec::new();
    for range in ranges {
        if let Some(f) = range.value.family()
            && !out.contains(&f)
        {
            out.push(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Every variant (the lists are derived) reads back from its own name, and the names are
    /// distinct: a new variant is parsed, listed in `--help` and goes through the goldens.
    #[test]
    fn every_variant_parses_from_its_name() {
        fn check<T: Copy + PartialEq + fmt::Debug + FromStr<Err = String>>(
            all: &[T],
            name: impl Fn(T) -> &'static str,
        ) {
            let mut names: Vec<&str> = all.iter().map(|v| name(*v)).collect();
            for v in all {
                assert_eq!(name(*v).parse::<T>(), Ok(*v));
            }
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), all.len(), "two variants share a name");
        }
        check(Format::ALL, Format::as_str);
        check(Distribution::ALL, Distribution::as_str);
        check(Cni::ALL, Cni::as_str);
        check(UpstreamMode::ALL, UpstreamMode::as_str);
        assert_eq!(Format::ALL.len(), 7);
        assert!(Format::ALL.contains(&Format::K3sArgs));
    }
}
