//! How Services of type LoadBalancer get their addresses, and which ingress controller the
//! distribution runs in front of them: one `LoadBalancer` in the model (kube6's
//! `spec.loadBalancer`, or what a distribution implies: k3s's ServiceLB and Traefik, RKE2's
//! ingress controller, a KKP provider's cloud controller), read by rules, the plan, render, the
//! NDP proxy and verify alike.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use kube6_net::{Family, parse_cidr};

use crate::model::{AddrValue, BgpPeer};
use crate::source::Located;

/// What hands out (and announces) the addresses of LoadBalancer Services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, strum::VariantArray)]
#[serde(rename_all = "kebab-case")]
pub enum LbImplementation {
    /// MetalLB: IPAddressPools, announced by its speakers over L2 (ARP/NDP) or BGP.
    Metallb,
    /// Cilium's LB-IPAM (CiliumLoadBalancerIPPool), announced by L2 announcements or its BGP
    /// control plane.
    Cilium,
    /// k3s's (and RKE2's `enable-servicelb`) ServiceLB, klipper-lb: no pool; a Service's
    /// addresses are the IPs of the nodes that run its svclb pods.
    Servicelb,
    /// kube-vip with its cloud provider: addresses from its ranges, announced by ARP/NDP or BGP.
    KubeVip,
    /// The cloud provider's controller (a cloud load balancer).
    Cloud,
    /// Nothing: LoadBalancer Services stay pending (NodePort still works).
    None,
}

impl LbImplementation {
    /// Every variant, in declaration order (derived).
    pub const ALL: &'static [LbImplementation] =
        <LbImplementation as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        match self {
            LbImplementation::Metallb => "metallb",
            LbImplementation::Cilium => "cilium",
            LbImplementation::Servicelb => "servicelb",
            LbImplementation::KubeVip => "kube-vip",
            LbImplementation::Cloud => "cloud",
            LbImplementation::None => "none",
        }
    }

    /// What people call it, for messages.
    pub fn display_name(self) -> &'static str {
        match self {
            LbImplementation::Metallb => "MetalLB",
            LbImplementation::Cilium => "Cilium LB-IPAM",
            LbImplementation::Servicelb => "ServiceLB (klipper-lb)",
            LbImplementation::KubeVip => "kube-vip",
            LbImplementation::Cloud => "the cloud controller",
            LbImplementation::None => "no load-balancer implementation",
        }
    }

    /// Whether the implementation hands out addresses from pools the cluster configures.
    pub fn uses_pools(self) -> bool {
        self.addresses_without_pools().is_none()
    }

    /// Where a Service's load-balancer addresses come from when the implementation takes no
    /// pool (None for those that do: MetalLB's IPAddressPools, Cilium's
    /// CiliumLoadBalancerIPPools, kube-vip's cloud-provider ranges). The one place the rules,
    /// the prefix carving, render and verify learn which implementations take pools.
    pub fn addresses_without_pools(self) -> Option<&'static str> {
        match self {
            LbImplementation::Metallb | LbImplementation::Cilium | LbImplementation::KubeVip => {
                None
            }
            // k3s pkg/cloudprovider/servicelb.go: the ingress addresses are the node IPs of
            // the nodes running the Service's svclb pods.
            LbImplementation::Servicelb => Some(
                "ServiceLB (klipper-lb) gives a Service the addresses of the nodes that run its svclb pods",
            ),
            LbImplementation::Cloud => {
                Some("the cloud controller takes a Service's addresses from the provider")
            }
            LbImplementation::None => Some(
                "nothing hands out load-balancer addresses (LoadBalancer Services stay pending)",
            ),
        }
    }
}

impl fmt::Display for LbImplementation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LbImplementation {
    type Err = String;
    fn from_str(s: &str) -> Result<LbImplementation, String> {
        let norm = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        let norm = match norm.as_str() {
            "klipper" | "klipper-lb" | "service-lb" => "servicelb",
            "kubevip" => "kube-vip",
            "cilium-lb-ipam" | "lb-ipam" => "cilium",
            other => other,
        };
        LbImplementation::ALL
            .iter()
            .copied()
            .find(|i| i.as_str() == norm)
            .ok_or_else(|| {
                format!(
                    "unknown load-balancer implementation {s:?}: use one of {}",
                    names(LbImplementation::ALL.iter().map(|i| i.as_str()))
                )
            })
    }
}

/// How a pool's addresses are made reachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, strum::VariantArray)]
#[serde(rename_all = "kebab-case")]
pub enum LbMode {
    /// One node answers ARP (IPv4) or NDP (IPv6) for each address on the nodes' link.
    L2,
    /// Every node (or the ones with endpoints) announces the addresses to a BGP peer.
    Bgp,
}

impl LbMode {
    pub const ALL: &'static [LbMode] = <LbMode as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        match self {
            LbMode::L2 => "l2",
            LbMode::Bgp => "bgp",
        }
    }
}

impl fmt::Display for LbMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LbMode {
    type Err = String;
    fn from_str(s: &str) -> Result<LbMode, String> {
        let norm = s.trim().to_ascii_lowercase();
        let norm = match norm.as_str() {
            "layer2" | "arp" | "ndp" => "l2",
            other => other,
        };
        LbMode::ALL
            .iter()
            .copied()
            .find(|m| m.as_str() == norm)
            .ok_or_else(|| format!("unknown pool mode {s:?}: use l2 or bgp"))
    }
}

/// Which of kube6's NDP proxy configurations answers for the IPv6 addresses of the pools it
/// proxies (`spec.loadBalancer.ndpProxy`): exactly one is rendered, so two proxies never answer
/// for the same pool.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, strum::VariantArray,
)]
#[serde(rename_all = "kebab-case")]
pub enum NdpProxyMode {
    /// The host proxy of every node (`host/NODE/kube6-ndp-proxy.yaml`) answers for the whole
    /// pool: every node accepts traffic to a LoadBalancer address, so any node may take it.
    #[default]
    Static,
    /// A DaemonSet (`load-balancer/kube6-ndp-proxy-watch.yaml`) answers on each node only for
    /// the addresses that node announces, followed through the Kubernetes API.
    Watch,
}

impl NdpProxyMode {
    pub const ALL: &'static [NdpProxyMode] = <NdpProxyMode as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        match self {
            NdpProxyMode::Static => "static",
            NdpProxyMode::Watch => "watch",
        }
    }
}

impl fmt::Display for NdpProxyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NdpProxyMode {
    type Err = String;
    fn from_str(s: &str) -> Result<NdpProxyMode, String> {
        let norm = s.trim().to_ascii_lowercase();
        NdpProxyMode::ALL
            .iter()
            .copied()
            .find(|m| m.as_str() == norm)
            .ok_or_else(|| format!("unknown NDP proxy mode {s:?}: use static or watch"))
    }
}

/// The ingress controller the cluster runs (its Service is a LoadBalancer, or it listens on the
/// nodes' host ports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, strum::VariantArray)]
#[serde(rename_all = "kebab-case")]
pub enum IngressController {
    IngressNginx,
    Traefik,
    None,
}

impl IngressController {
    pub const ALL: &'static [IngressController] =
        <IngressController as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        match self {
            IngressController::IngressNginx => "ingress-nginx",
            IngressController::Traefik => "traefik",
            IngressController::None => "none",
        }
    }
}

impl fmt::Display for IngressController {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IngressController {
    type Err = String;
    fn from_str(s: &str) -> Result<IngressController, String> {
        let norm = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        let norm = match norm.as_str() {
            "nginx" | "rke2-ingress-nginx" => "ingress-nginx",
            "rke2-traefik" => "traefik",
            other => other,
        };
        IngressController::ALL
            .iter()
            .copied()
            .find(|i| i.as_str() == norm)
            .ok_or_else(|| {
                format!(
                    "unknown ingress controller {s:?}: use one of {}",
                    names(IngressController::ALL.iter().map(|i| i.as_str()))
                )
            })
    }
}

fn names<'a>(all: impl Iterator<Item = &'a str>) -> String {
    all.collect::<Vec<_>>().join(", ")
}

/// A block of pool addresses as parsed: a CIDR, or a `first-last` range (MetalLB's
/// `192.0.2.10-192.0.2.20`, Cilium's `start`/`stop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    pub first: IpAddr,
    pub last: IpAddr,
    /// The CIDR, when the block was written as one.
    pub cidr: Option<IpNet>,
}

impl Block {
    pub fn family(&self) -> Family {
        Family::of_addr(&self.first)
    }

    /// How many addresses the block holds: `None` for 2^128 (`::/0`), the only count a `u128`
    /// cannot hold.
    pub fn size(&self) -> Option<u128> {
        let (a, b) = (to_u128(self.first), to_u128(self.last));
        (b - a).checked_add(1)
    }

    pub fn contains(&self, ip: &IpAddr) -> bool {
        Family::of_addr(ip) == self.family()
            && to_u128(self.first) <= to_u128(*ip)
            && to_u128(*ip) <= to_u128(self.last)
    }

    /// Whether the block shares an address with `net`.
    pub fn overlaps_net(&self, net: &IpNet) -> bool {
        Family::of_net(net) == self.family()
            && to_u128(self.first) <= to_u128(net.broadcast())
            && to_u128(net.network()) <= to_u128(self.last)
    }

    /// Whether the block shares an address with `other`.
    pub fn overlaps(&self, other: &Block) -> bool {
        self.family() == other.family()
            && to_u128(self.first) <= to_u128(other.last)
            && to_u128(other.first) <= to_u128(self.last)
    }

    /// Whether the whole block lies inside `net`.
    pub fn inside(&self, net: &IpNet) -> bool {
        Family::of_net(net) == self.family()
            && to_u128(net.network()) <= to_u128(self.first)
            && to_u128(self.last) <= to_u128(net.broadcast())
    }

    /// The smallest CIDRs that cover exactly the block (a CIDR block is itself), for components
    /// that take only CIDRs (MetalLB's BGP aggregation, the NDP proxy's prefixes).
    pub fn cidrs(&self) -> Vec<IpNet> {
        if let Some(cidr) = self.cidr {
            return vec![cidr];
        }
        let family = self.family();
        let bits = u32::from(family.bits());
        let mut out = Vec::new();
        let mut start = to_u128(self.first);
        let end = to_u128(self.last);
        loop {
            // The largest aligned block starting at `start` that ends at or before `end`.
            let align = if start == 0 {
                bits
            } else {
                start.trailing_zeros().min(bits)
            };
            let mut host = align;
            while host > 0 {
                let span = if host >= 128 {
                    u128::MAX
                } else {
                    (1u128 << host) - 1
                };
                if start.checked_add(span).is_some_and(|last| last <= end) {
                    break;
                }
                host -= 1;
            }
            let prefix = (bits - host) as u8;
            let net = match family {
                Family::IPv4 => {
                    IpNet::new(IpAddr::from(std::net::Ipv4Addr::from(start as u32)), prefix)
                }
                Family::IPv6 => IpNet::new(IpAddr::from(std::net::Ipv6Addr::from(start)), prefix),
            };
            if let Ok(net) = net {
                out.push(net);
            }
            let span = if host >= 128 {
                u128::MAX
            } else {
                (1u128 << host) - 1
            };
            match start.checked_add(span) {
                Some(last) if last < end => start = last + 1,
                _ => break,
            }
        }
        out
    }
}

impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cidr {
            Some(cidr) => write!(f, "{cidr}"),
            None => write!(f, "{}-{}", self.first, self.last),
        }
    }
}

fn to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// One entry of a pool's `addresses` as written, with the result of parsing it (rules report
/// what does not parse; importers do not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressBlock {
    pub text: String,
    pub parsed: Result<Block, String>,
    /// The CIDR was written with host bits set (`2001:db8::1/120`).
    pub host_bits_set: bool,
}

impl AddressBlock {
    pub fn new(text: impl Into<String>) -> AddressBlock {
        let text = text.into();
        let trimmed = text.trim();
        let mut host_bits_set = false;
        let parsed = if let Some((a, b)) =
            trimmed.split_once('-').filter(|_| !trimmed.contains('/'))
        {
            parse_range(a.trim(), b.trim())
        } else {
            match parse_cidr(trimmed) {
                Ok(p) => {
                    host_bits_set = p.host_bits_set;
                    Ok(Block {
                        first: p.net.network(),
                        last: p.net.broadcast(),
                        cidr: Some(p.net),
                    })
                }
                Err(e) => Err(format!(
                    "{e}; write a CIDR (2001:db8:5::/120) or a range (2001:db8:5::10-2001:db8:5::20)"
                )),
            }
        };
        AddressBlock {
            text,
            parsed,
            host_bits_set,
        }
    }

    pub fn block(&self) -> Option<Block> {
        self.parsed.as_ref().ok().copied()
    }
}

fn parse_range(a: &str, b: &str) -> Result<Block, String> {
    let first = AddrValue::new(a)
        .parsed
        .ok_or_else(|| format!("{a:?} is not an IP address (a range is FIRST-LAST)"))?;
    let last = AddrValue::new(b)
        .parsed
        .ok_or_else(|| format!("{b:?} is not an IP address (a range is FIRST-LAST)"))?;
    if Family::of_addr(&first) != Family::of_addr(&last) {
        return Err(format!("{a} and {b} are of different families"));
    }
    if to_u128(first) > to_u128(last) {
        return Err(format!("the range {a}-{b} ends before it starts"));
    }
    Ok(Block {
        first,
        last,
        cidr: None,
    })
}

/// One address pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LbPool {
    /// The pool's name (MetalLB IPAddressPool, CiliumLoadBalancerIPPool); kube6 names unnamed
    /// pools after their position.
    pub name: Option<Located<String>>,
    /// The pool's addresses: CIDRs or ranges, one family or both.
    pub addresses: Vec<Located<AddressBlock>>,
    /// How the addresses are announced; L2 when not given.
    pub mode: Option<Located<LbMode>>,
    /// Where the pool is in the input (for findings about the pool as a whole).
    pub origin: crate::source::Origin,
}

impl LbPool {
    pub fn mode(&self) -> LbMode {
        self.mode.as_ref().map_or(LbMode::L2, |m| m.value)
    }

    /// The blocks that parsed.
    pub fn blocks(&self) -> impl Iterator<Item = (&Located<AddressBlock>, Block)> {
        self.addresses
            .iter()
            .filter_map(|a| a.value.block().map(|b| (a, b)))
    }

    /// The families the pool holds addresses of, IPv4 first.
    pub fn families(&self) -> Vec<Family> {
        Family::ALL
            .iter()
            .copied()
            .filter(|f| self.blocks().any(|(_, b)| b.family() == *f))
            .collect()
    }

    /// The pool's name, or `pool-N` (1-based) after its position.
    pub fn display_name(&self, index: usize) -> String {
        self.name
            .as_ref()
            .map_or_else(|| format!("pool-{}", index + 1), |n| n.value.clone())
    }
}

/// How LoadBalancer Services get their addresses, and the ingress controller in front.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancer {
    pub implementation: Located<LbImplementation>,
    /// The implementation's version (MetalLB `v0.15.2`, kube-vip `v0.9.1`); Cilium's is the
    /// CNI's version.
    pub version: Option<Located<String>>,
    pub pools: Vec<LbPool>,
    /// BGP peers of pools in `bgp` mode; without any, the upstream BGP peers
    /// (`spec.upstream.<family>.bgp`) are the peers.
    pub bgp_peers: Vec<BgpPeer>,
    pub ingress: Located<IngressController>,
    /// How kube6's NDP proxy answers for the pools it proxies (`ndpProxy`); static when not
    /// given (other formats have no such setting).
    pub ndp_proxy: Option<Located<NdpProxyMode>>,
    /// The input said `loadBalancer` (rather than the distribution's defaults alone).
    pub declared: bool,
}

impl LoadBalancer {
    /// Every pool block that parsed, with its pool.
    pub fn blocks(&self) -> impl Iterator<Item = (usize, &LbPool, &Located<AddressBlock>, Block)> {
        self.pools
            .iter()
            .enumerate()
            .flat_map(|(i, p)| p.blocks().map(move |(a, b)| (i, p, a, b)))
    }

    /// The families some pool holds addresses of.
    pub fn pool_families(&self) -> Vec<Family> {
        Family::ALL
            .iter()
            .copied()
            .filter(|f| self.blocks().any(|(_, _, _, b)| b.family() == *f))
            .collect()
    }

    /// How kube6's NDP proxy answers for the pools it proxies; static when not given.
    pub fn ndp_proxy_mode(&self) -> NdpProxyMode {
        self.ndp_proxy
            .as_ref()
            .map_or_else(NdpProxyMode::default, |m| m.value)
    }

    /// The release of the implementation's version, if given and readable.
    pub fn release(&self) -> Option<crate::version::Version> {
        self.version
            .as_ref()
            .and_then(|v| crate::version::Version::parse(&v.value).ok())
    }
}

/// Whether the load-balancer implementation itself answers neighbor solicitations for the IPv6
/// addresses of its pools in l2 mode: MetalLB's speakers (internal/layer2/ndp.go) do, kube-vip
/// from v0.3.3 (facts::kube_vip::NDP_SINCE); Cilium's L2 announcements only from 1.19 (facts::cilium::L2_NDP_SINCE). Where it does not,
/// kube6's NDP proxy answers for those pools when the IPv6 upstream is `ndp-proxy`: every node's
/// kube-proxy (or Cilium's service load balancing) accepts traffic to a LoadBalancer address, so
/// any node may answer.
pub fn implementation_answers_ndp(net: &crate::model::ClusterNetwork) -> bool {
    match net.load_balancer.implementation.value {
        LbImplementation::Metallb => true,
        LbImplementation::KubeVip => {
            crate::facts::kube_vip::answers_ndp(net.load_balancer.release().as_ref())
        }
        LbImplementation::Cilium => {
            crate::facts::cilium::l2_answers_ndp(net.cni_release().as_ref())
        }
        LbImplementation::Servicelb | LbImplementation::Cloud | LbImplementation::None => false,
    }
}

/// Whether kube6's NDP proxy answers for the IPv6 l2 pools: the IPv6 upstream is `ndp-proxy`,
/// the implementation takes pools and does not answer NDP for them itself.
fn proxy_answers_for_pools(net: &crate::model::ClusterNetwork) -> bool {
    net.upstream_for(Family::IPv6)
        .is_some_and(|u| u.mode.value == crate::model::UpstreamMode::NdpProxy)
        && net.load_balancer.implementation.value.uses_pools()
        && !implementation_answers_ndp(net)
}

/// The IPv6 blocks kube6's NDP proxy answers for: the IPv6 addresses of pools in l2 mode, as
/// CIDRs, when the IPv6 upstream is `ndp-proxy` and the implementation does not answer NDP
/// itself. Who answers for them (every node's host proxy, or the watch DaemonSet on the
/// announcing node) is `LoadBalancer::ndp_proxy_mode`.
pub fn ndp_proxy_pool_prefixes(net: &crate::model::ClusterNetwork) -> Vec<IpNet> {
    if !proxy_answers_for_pools(net) {
        return Vec::new();
    }
    net.load_balancer
        .pools
        .iter()
        .filter(|p| p.mode() == LbMode::L2)
        .flat_map(|p| p.blocks().map(|(_, b)| b))
        .filter(|b| b.family() == Family::IPv6)
        .flat_map(|b| b.cidrs())
        .collect()
}

/// Whether kube6's NDP proxy in watch mode follows Cilium's L2 announcement leases (one node
/// per Service, cilium/cilium pkg/l2announcer/l2announcer.go) rather than answering on every
/// node: only Cilium elects an announcing node among the implementations the proxy answers for.
pub fn ndp_watch_follows_cilium_leases(net: &crate::model::ClusterNetwork) -> bool {
    net.load_balancer.implementation.value == LbImplementation::Cilium
}

/// Who answers the upstream router's neighbor solicitations for the IPv6 addresses of a pool in
/// l2 mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PoolNdpAnswer {
    /// The implementation's own speakers (MetalLB, kube-vip, Cilium from 1.19).
    Implementation,
    /// kube6's host NDP proxy on every node (`host/NODE/kube6-ndp-proxy.yaml`).
    NdpProxyStatic,
    /// kube6's NDP proxy in watch mode, on the node that announces each address
    /// (`load-balancer/kube6-ndp-proxy-watch.yaml`).
    NdpProxyWatch,
    /// Nothing answers (Cilium before 1.19 without an `ndp-proxy` upstream: K6E409).
    None,
}

impl PoolNdpAnswer {
    pub fn as_str(self) -> &'static str {
        match self {
            PoolNdpAnswer::Implementation => "implementation",
            PoolNdpAnswer::NdpProxyStatic => "ndp-proxy-static",
            PoolNdpAnswer::NdpProxyWatch => "ndp-proxy-watch",
            PoolNdpAnswer::None => "none",
        }
    }
}

impl fmt::Display for PoolNdpAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who answers NDP for the IPv6 addresses of `pool`: `None` for a pool without IPv6 addresses,
/// a pool in bgp mode (announced, not solicited) and an implementation that takes no pools.
pub fn pool_ndp_answer(net: &crate::model::ClusterNetwork, pool: &LbPool) -> Option<PoolNdpAnswer> {
    if !net.load_balancer.implementation.value.uses_pools()
        || pool.mode() != LbMode::L2
        || !pool.families().contains(&Family::IPv6)
    {
        return None;
    }
    Some(if implementation_answers_ndp(net) {
        PoolNdpAnswer::Implementation
    } else if proxy_answers_for_pools(net) {
        match net.load_balancer.ndp_proxy_mode() {
            NdpProxyMode::Static => PoolNdpAnswer::NdpProxyStatic,
            NdpProxyMode::Watch => PoolNdpAnswer::NdpProxyWatch,
        }
    } else {
        PoolNdpAnswer::None
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_parse_back() {
        for i in LbImplementation::ALL {
            assert_eq!(i.as_str().parse::<LbImplementation>(), Ok(*i));
        }
        for m in LbMode::ALL {
            assert_eq!(m.as_str().parse::<LbMode>(), Ok(*m));
        }
        for c in IngressController::ALL {
            assert_eq!(c.as_str().parse::<IngressController>(), Ok(*c));
        }
        for m in NdpProxyMode::ALL {
            assert_eq!(m.as_str().parse::<NdpProxyMode>(), Ok(*m));
        }
        assert_eq!(" Watch ".parse(), Ok(NdpProxyMode::Watch));
        assert!("dynamic".parse::<NdpProxyMode>().is_err());
        assert_eq!(NdpProxyMode::default(), NdpProxyMode::Static);
        assert_eq!("klipper-lb".parse(), Ok(LbImplementation::Servicelb));
        assert!("f5".parse::<LbImplementation>().is_err());
    }

    #[test]
    fn blocks_parse_as_cidrs_and_ranges() {
        let b = AddressBlock::new("2001:db8:5::/120").block().unwrap();
        assert_eq!(b.size(), Some(256));
        assert_eq!(
            b.cidrs(),
            vec!["2001:db8:5::/120".parse::<IpNet>().unwrap()]
        );
        let r = AddressBlock::new("192.0.2.10-192.0.2.20").block().unwrap();
        assert_eq!(r.size(), Some(11));
        assert_eq!(r.family(), Family::IPv4);
        let cover: Vec<String> = r.cidrs().iter().map(ToString::to_string).collect();
        assert_eq!(
            cover,
            [
                "192.0.2.10/31",
                "192.0.2.12/30",
                "192.0.2.16/30",
                "192.0.2.20/32"
            ]
        );
        assert!(r.contains(&"192.0.2.15".parse().unwrap()));
        assert!(!r.contains(&"192.0.2.21".parse().unwrap()));
        assert!(AddressBlock::new("192.0.2.20-192.0.2.10").parsed.is_err());
        assert!(AddressBlock::new("192.0.2.1-2001:db8::1").parsed.is_err());
        assert!(AddressBlock::new("2001:db8::/129").parsed.is_err());
        assert!(AddressBlock::new("2001:db8::1/120").host_bits_set);
        assert_eq!(AddressBlock::new("::/0").block().unwrap().size(), None);
        let all = AddressBlock::new("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
            .block()
            .unwrap();
        assert_eq!(all.cidrs(), vec!["::/0".parse::<IpNet>().unwrap()]);
        let net: IpNet = "192.0.2.0/28".parse().unwrap();
        assert!(r.overlaps_net(&net));
        assert!(!r.inside(&net));
    }
}
