//! What the cluster expects of this node.
//!
//! [`Expectations`] is filled from command-line flags today (`--family`, `--node-ip`, `--uplink`,
//! `--upstream`, `--require-dns64`, `--allow-ula`, `--hostname`) and is meant to be filled from a
//! kube6 plan as well. Every field has a plain meaning and a safe default, so a caller sets only
//! what it knows.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use kube6_net::Family;
use serde::{Deserialize, Serialize};

use crate::Error;

/// How pod and service ranges are made reachable from the upstream network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::VariantArray)]
#[serde(rename_all = "kebab-case")]
pub enum Upstream {
    /// The upstream router has routes to the pod prefixes.
    Routed,
    /// This node answers neighbour solicitations for pod addresses on the uplink (needs
    /// `proxy_ndp`).
    NdpProxy,
    /// Pod prefixes are announced with BGP.
    Bgp,
    /// Pod traffic is masqueraded behind the node's address.
    Nat,
}

impl Upstream {
    /// Every mode (derived).
    pub const ALL: &'static [Upstream] = <Upstream as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        match self {
            Upstream::Routed => "routed",
            Upstream::NdpProxy => "ndp-proxy",
            Upstream::Bgp => "bgp",
            Upstream::Nat => "nat",
        }
    }
}

impl fmt::Display for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Upstream {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "routed" => Ok(Upstream::Routed),
            "ndp-proxy" | "ndp_proxy" | "ndpproxy" => Ok(Upstream::NdpProxy),
            "bgp" => Ok(Upstream::Bgp),
            "nat" => Ok(Upstream::Nat),
            _ => Err(Error::Invalid(format!(
                "unknown upstream mode {s:?}: use routed, ndp-proxy, bgp or nat"
            ))),
        }
    }
}

/// What the cluster expects of this node. Filled from flags or from a kube6 plan.
///
/// ```
/// use kube6_host::{Expectations, Upstream};
/// use kube6_net::Family;
///
/// // A dual-stack cluster with IPv6 primary whose pod ranges are reached by NDP proxying.
/// let exp = Expectations {
///     families: vec![Family::IPv6, Family::IPv4],
///     upstream: Some(Upstream::NdpProxy),
///     ..Expectations::default()
/// };
/// assert!(exp.validate().is_ok());
/// assert_eq!(exp.primary(), Family::IPv6);
/// assert!(exp.dual_stack());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Expectations {
    /// The cluster's address families, primary first (`[IPv6]`, `[IPv4, IPv6]`, `[IPv6, IPv4]`).
    /// Never empty; the default is IPv6 single-stack.
    pub families: Vec<Family>,
    /// Node IPs given explicitly (kubelet `--node-ip`), at most one per family. Empty: detect them.
    pub node_ips: Vec<IpAddr>,
    /// The interface facing the upstream network. `None`: the interface of the default route.
    pub uplink: Option<String>,
    /// How pod ranges reach the upstream network, when known.
    pub upstream: Option<Upstream>,
    /// A missing DNS64 resolver is a failure rather than a warning.
    pub require_dns64: bool,
    /// The NAT64 prefix the cluster uses (the plan's `spec.nat64.prefix`); None: the one DNS64
    /// discovery finds.
    #[serde(default)]
    pub nat64_prefix: Option<crate::dns::Nat64Prefix>,
    /// `HOST:PORT` of an IPv4-only host to connect to through NAT64.
    #[serde(default)]
    pub nat64_target: Option<String>,
    /// Container registries to look at (`--registry`, or the plan's distribution and CNI).
    #[serde(default)]
    pub registries: Vec<crate::egress::RegistryTarget>,
    /// The hybrid layout (an IPv6-only cluster on dual-stack nodes): the node keeps its IPv4
    /// default route for the container runtime.
    #[serde(default)]
    pub keep_ipv4_route: bool,
    /// A unique local address (fc00::/7) is acceptable as the uplink's IPv6 address.
    pub allow_ula: bool,
    /// The node name the kubelet registers (and resolves). `None`: the kernel's hostname.
    pub hostname: Option<String>,
    /// The kernel settings the node needs, in the order to apply them. The list is not kept
    /// here: kube6 fills it from the plan's `kube6_model::node_kernel` list, the one `kube6
    /// render` writes into the sysctl.d file, so the two never disagree.
    pub kernel: Vec<KernelRequirement>,
}

/// The kernel settings a node of a cluster with `families` needs: kube6_model's node_kernel
/// list, the one `kube6 render` writes into the nodes' sysctl.d file.
#[cfg(any(test, feature = "model"))]
pub fn kernel_requirements(families: &[Family]) -> Vec<KernelRequirement> {
    use kube6_model::node_kernel::{self, Interface, Key, When};
    node_kernel::settings(families)
        .into_iter()
        .map(|setting| {
            let key = match setting.key {
                Key::Ipv6 {
                    interface: Interface::Uplink,
                    name,
                } => ["net", "ipv6", "conf"]
                    .iter()
                    .map(|s| Segment::Text(s.to_string()))
                    .chain([Segment::Uplink, Segment::Text(name.to_string())])
                    .collect(),
                other => other.segments("").into_iter().map(Segment::Text).collect(),
            };
            KernelRequirement {
                key,
                value: setting.value.to_string(),
                when: match setting.when {
                    When::Always => Condition::Always,
                    When::UplinkUsesRouterAdvertisements => {
                        Condition::UplinkUsesRouterAdvertisements
                    }
                    When::BridgeNetfilterLoaded => Condition::BridgeNetfilterLoaded,
                },
                why: setting.why.to_string(),
            }
        })
        .collect()
}

/// One segment of a kernel parameter's name: fixed text, or the uplink's name (known only on
/// the node).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Segment {
    Text(String),
    Uplink,
}

/// When a setting applies on this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Condition {
    Always,
    /// The uplink takes its address or default route from router advertisements.
    UplinkUsesRouterAdvertisements,
    /// br_netfilter is loaded (its parameters exist only then).
    BridgeNetfilterLoaded,
}

/// A kernel parameter the node needs, as the plan states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelRequirement {
    /// The parameter's path segments (`net`, `ipv6`, `conf`, the uplink, `accept_ra`).
    pub key: Vec<Segment>,
    pub value: String,
    pub when: Condition,
    pub why: String,
}

impl Default for Expectations {
    fn default() -> Self {
        Expectations {
            families: vec![Family::IPv6],
            node_ips: Vec::new(),
            uplink: None,
            upstream: None,
            require_dns64: false,
            nat64_prefix: None,
            nat64_target: None,
            registries: Vec::new(),
            keep_ipv4_route: false,
            allow_ula: false,
            hostname: None,
            kernel: Vec::new(),
        }
    }
}

impl Expectations {
    /// The primary family (the first one).
    pub fn primary(&self) -> Family {
        self.families.first().copied().unwrap_or(Family::IPv6)
    }

    pub fn has(&self, family: Family) -> bool {
        self.families.contains(&family)
    }

    /// Dual-stack: both families are expected.
    pub fn dual_stack(&self) -> bool {
        self.has(Family::IPv4) && self.has(Family::IPv6)
    }

    /// The explicit node IP of a family, if one was given.
    pub fn node_ip(&self, family: Family) -> Option<IpAddr> {
        self.node_ips
            .iter()
            .copied()
            .find(|ip| Family::of_addr(ip) == family)
    }

    /// Checks that the fields agree with each other: families not empty and without repeats, at
    /// most one node IP per family, and every node IP in a planned family.
    pub fn validate(&self) -> Result<(), Error> {
        if self.families.is_empty() {
            return Err(Error::Invalid("no address family given".into()));
        }
        if self.families.len() == 2 && self.families[0] == self.families[1]
            || self.families.len() > 2
        {
            return Err(Error::Invalid(format!(
                "families {:?}: give each family once",
                self.families
            )));
        }
        for &family in Family::ALL {
            let of_family: Vec<_> = self
                .node_ips
                .iter()
                .filter(|ip| Family::of_addr(ip) == family)
                .collect();
            if of_family.len() > 1 {
                return Err(Error::Invalid(format!(
                    "more than one {family} node IP given: at most one per family"
                )));
            }
            if !of_family.is_empty() && !self.has(family) {
                return Err(Error::Invalid(format!(
                    "node IP {} is {family}, but the families are {}",
                    of_family[0],
                    families_to_string(&self.families)
                )));
            }
        }
        Ok(())
    }
}

/// `IPv6`, `IPv4,IPv6`.
pub fn families_to_string(families: &[Family]) -> String {
    families
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses `--family`: `IPv4`, `IPv6`, `dual` (IPv4 primary), `dual6` (IPv6 primary), or a comma
/// list in primary-first order such as `IPv6,IPv4`.
pub fn parse_families(s: &str) -> Result<Vec<Family>, Error> {
    let lower = s.trim().to_ascii_lowercase();
    let families = match lower.as_str() {
        "dual" | "dual4" | "dualstack" | "dual-stack" => vec![Family::IPv4, Family::IPv6],
        "dual6" => vec![Family::IPv6, Family::IPv4],
        _ => s
            .split(',')
            .map(|part| {
                part.parse::<Family>()
                    .map_err(|e| Error::Invalid(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let exp = Expectations {
        families,
        ..Expectations::default()
    };
    exp.validate()?;
    Ok(exp.families)
}

/// Parses `--node-ip ADDR[,ADDR]`.
pub fn parse_node_ips(s: &str) -> Result<Vec<IpAddr>, Error> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.trim()
                .parse::<IpAddr>()
                .map_err(|_| Error::Invalid(format!("invalid node IP {:?}", p.trim())))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_orders() {
        assert_eq!(parse_families("IPv6").unwrap(), vec![Family::IPv6]);
        assert_eq!(
            parse_families("dual").unwrap(),
            vec![Family::IPv4, Family::IPv6]
        );
        assert_eq!(
            parse_families("dual6").unwrap(),
            vec![Family::IPv6, Family::IPv4]
        );
        assert_eq!(
            parse_families("IPv6,IPv4").unwrap(),
            vec![Family::IPv6, Family::IPv4]
        );
        assert!(parse_families("IPv6,IPv6").is_err());
        assert!(parse_families("IPv5").is_err());
    }

    #[test]
    fn node_ips_must_match_families() {
        let exp = Expectations {
            node_ips: parse_node_ips("192.0.2.1").unwrap(),
            ..Expectations::default()
        };
        assert!(exp.validate().is_err());
        let exp = Expectations {
            families: vec![Family::IPv6, Family::IPv4],
            node_ips: parse_node_ips("2001:db8::1,192.0.2.1").unwrap(),
            ..Expectations::default()
        };
        assert!(exp.validate().is_ok());
        assert_eq!(
            exp.node_ip(Family::IPv4),
            Some("192.0.2.1".parse().unwrap())
        );
        assert!(parse_node_ips("nope").is_err());
    }

    #[test]
    fn upstream_names() {
        assert_eq!("ndp-proxy".parse::<Upstream>().unwrap(), Upstream::NdpProxy);
        assert!("carrier-pigeon".parse::<Upstream>().is_err());
    }
}
