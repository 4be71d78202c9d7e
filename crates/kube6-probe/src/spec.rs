//! What one run probes: the agents and targets found in the cluster (or given to `probe local`),
//! what is expected of them, and the options. The orchestrator writes the spec into a ConfigMap;
//! every runner reads it and derives its own tasks from it ([`crate::plan::tasks_for`]), so the
//! document stays small (it grows with the nodes, not with nodes squared).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use ipnet::{IpNet, Ipv6Net};
use kube6_net::Family;
use serde::{Deserialize, Serialize};

/// The version of the spec document; a runner refuses another.
pub const SPEC_VERSION: u32 = 1;

/// The agents' default port (TCP greeting, and the port NodePort targets).
pub const DEFAULT_PORT: u16 = 9646;

/// The NAT64 well-known prefix (RFC 6052).
pub fn well_known_nat64() -> Ipv6Net {
    Ipv6Net::new(std::net::Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96).unwrap_or_default()
}

/// Which network an agent runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentKind {
    /// On the pod network: a pod address from the CNI.
    Pod,
    /// On the host network: the node's own addresses.
    Host,
}

impl AgentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentKind::Pod => "pod",
            AgentKind::Host => "host",
        }
    }
}

impl fmt::Display for AgentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One agent: a pod of one of the two DaemonSets (or, in `probe local`, this host).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    /// The node it runs on.
    pub node: String,
    pub kind: AgentKind,
    /// `pod/NAMESPACE/NAME` of the agent (for reports).
    pub object: String,
    /// Its addresses, as the pod's `status.podIPs` lists them.
    pub addresses: Vec<IpAddr>,
}

impl Agent {
    /// `NODE/pod` or `NODE/host`: unique in a run.
    pub fn id(&self) -> String {
        agent_id(&self.node, self.kind)
    }

    /// Its first address of a family.
    pub fn address(&self, family: Family) -> Option<IpAddr> {
        self.addresses
            .iter()
            .copied()
            .find(|a| Family::of_addr(a) == family)
    }
}

/// The id of the agent of `kind` on `node`.
pub fn agent_id(node: &str, kind: AgentKind) -> String {
    format!("{node}/{kind}")
}

/// A node and its addresses (InternalIPs, then ExternalIPs, as Kubernetes takes them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    pub name: String,
    pub addresses: Vec<IpAddr>,
}

/// What a probe Service is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ServiceRole {
    /// `ipFamilyPolicy: SingleStack` of one family.
    SingleStack(Family),
    /// `ipFamilyPolicy: PreferDualStack`: every family the cluster has.
    PreferDualStack,
    /// `clusterIP: None`: DNS answers with the pods' addresses.
    Headless,
    /// `type: NodePort`, on every node address.
    NodePort,
}

/// One of the probe's Services, as the API server filled it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceInfo {
    pub name: String,
    pub role: ServiceRole,
    /// `spec.clusterIPs` (empty for the headless Service).
    #[serde(rename = "clusterIPs")]
    pub cluster_ips: Vec<IpAddr>,
    /// `spec.ipFamilies`.
    pub families: Vec<Family>,
    /// The node port, for the NodePort Service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_port: Option<u16>,
}

/// A host given to `--external` or `--target`: an address or a name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Host {
    Addr(IpAddr),
    Name(String),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Addr(a) => write!(f, "{a}"),
            Host::Name(n) => f.write_str(n),
        }
    }
}

/// A destination outside the cluster: `HOST` or `HOST:PORT` (IPv6 addresses with a port in
/// brackets, `[2001:db8::1]:443`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct External {
    pub host: Host,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

impl fmt::Display for External {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.host, self.port) {
            (Host::Addr(IpAddr::V6(a)), Some(p)) => write!(f, "[{a}]:{p}"),
            (host, Some(p)) => write!(f, "{host}:{p}"),
            (host, None) => write!(f, "{host}"),
        }
    }
}

/// A `--external`/`--target` value that is not `HOST[:PORT]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{given:?} is not HOST or HOST:PORT ({why}); write IPv6 addresses with a port as [ADDRESS]:PORT"
)]
pub struct BadTarget {
    pub given: String,
    pub why: String,
}

impl FromStr for External {
    type Err = BadTarget;

    fn from_str(text: &str) -> Result<External, BadTarget> {
        let bad = |why: &str| BadTarget {
            given: text.to_string(),
            why: why.to_string(),
        };
        let text = text.trim();
        if text.is_empty() {
            return Err(bad("empty"));
        }
        if let Ok(addr) = text.parse::<IpAddr>() {
            return Ok(External {
                host: Host::Addr(addr),
                port: None,
            });
        }
        if let Ok(sock) = text.parse::<SocketAddr>() {
            if sock.port() == 0 {
                return Err(bad("port 0"));
            }
            return Ok(External {
                host: Host::Addr(sock.ip()),
                port: Some(sock.port()),
            });
        }
        // RFC 3986 host syntax: brackets hold an IPv6 address, with or without a port after
        // them (`[::1]`, `[::1]:443`); the SocketAddr parse above took the valid ports.
        if let Some(rest) = text.strip_prefix('[') {
            let Some((inside, after)) = rest.split_once(']') else {
                return Err(bad("a [ without its ]"));
            };
            let addr = match inside.parse::<IpAddr>() {
                Ok(IpAddr::V6(addr)) => addr,
                Ok(IpAddr::V4(_)) => {
                    return Err(bad(
                        "brackets hold an IPv6 address; write IPv4 without them",
                    ));
                }
                Err(_) => return Err(bad("not an IPv6 address in brackets")),
            };
            return match after {
                "" => Ok(External {
                    host: Host::Addr(IpAddr::V6(addr)),
                    port: None,
                }),
                _ => Err(bad(
                    "after [ADDRESS] comes nothing or :PORT, a number from 1 to 65535",
                )),
            };
        }
        let (name, port) = match text.rsplit_once(':') {
            Some((name, port)) => {
                let port: u16 = port
                    .parse()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?;
                (name, Some(port))
            }
            None => (text, None),
        };
        let name = name.trim_end_matches('.');
        let valid = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !valid {
            return Err(bad("not an IP address or a DNS name"));
        }
        Ok(External {
            host: Host::Name(name.to_ascii_lowercase()),
            port,
        })
    }
}

/// Where the expectations come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "from")]
pub enum ExpectationSource {
    /// A plan file (`--plan`).
    Plan { file: String, distribution: String },
    /// The cluster itself (the `kubernetes` Service's and the nodes' families).
    Cluster,
    /// `probe local`: the families this host has addresses and routes of.
    Host,
}

/// What the run expects to work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Expectations {
    pub source: ExpectationSource,
    /// The families expected to work, primary first. Tests of other families are skipped.
    pub families: Vec<Family>,
    /// The NAT64 prefix when NAT64 is expected (IPv4-only destinations reached over IPv6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat64: Option<Ipv6Net>,
    /// How each family's pod range reaches the outside, when the plan says (`routed`,
    /// `ndp-proxy`, `bgp`, `masquerade`), for the causes of egress failures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upstream: Vec<(Family, String)>,
    /// The planned pod ranges (for the causes: which block a missing route is for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pod_ranges: Vec<IpNet>,
    /// What was assumed, for the report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Expectations {
    pub fn expects(&self, family: Family) -> bool {
        self.families.contains(&family)
    }

    /// From a plan (`kube6 plan`'s analysis of the input).
    pub fn from_analysis(analysis: &kube6_model::Analysis) -> Expectations {
        let plan = &analysis.plan;
        let net = &analysis.network;
        let nat64 = net.nat64.as_ref().and_then(|n| match n.prefix.value.net() {
            Some(IpNet::V6(p)) => Some(p),
            _ => None,
        });
        let mut notes = Vec::new();
        if let Some(prefix) = nat64 {
            notes.push(format!(
                "the plan has NAT64 ({prefix}): IPv4-only destinations are expected through it"
            ));
        }
        Expectations {
            source: ExpectationSource::Plan {
                file: plan.source.file.clone(),
                distribution: plan.distribution.as_str().to_string(),
            },
            families: plan.families.clone(),
            nat64,
            upstream: net
                .upstream
                .iter()
                .map(|u| (u.family, u.mode.value.as_str().to_string()))
                .collect(),
            pod_ranges: plan.pods.iter().map(|p| p.cidr).collect(),
            notes,
        }
    }

    /// From the cluster: the families of the `kubernetes` Service (the API server's service
    /// ranges), else those the nodes have addresses of. NAT64 is expected when `nat64` is given
    /// (`--nat64-prefix`).
    pub fn infer(kubernetes_ips: &[IpAddr], nodes: &[NodeInfo], nat64: Option<Ipv6Net>) -> Self {
        let mut families: Vec<Family> = Vec::new();
        let mut notes = Vec::new();
        for ip in kubernetes_ips {
            let f = Family::of_addr(ip);
            if !families.contains(&f) {
                families.push(f);
            }
        }
        if families.is_empty() {
            notes.push(
                "the `kubernetes` Service could not be read: families are those of the node addresses"
                    .to_string(),
            );
            for node in nodes {
                for ip in &node.addresses {
                    let f = Family::of_addr(ip);
                    if !families.contains(&f) {
                        families.push(f);
                    }
                }
            }
        } else {
            notes.push(format!(
                "families from the `kubernetes` Service ({}); give --plan to compare with the plan",
                families
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Expectations {
            source: ExpectationSource::Cluster,
            families,
            nat64,
            upstream: Vec::new(),
            pod_ranges: Vec::new(),
            notes,
        }
    }
}

/// How the tests are run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    /// How long one attempt waits for an answer, in milliseconds.
    pub timeout_ms: u64,
    /// How many tests an agent runs at once.
    pub parallel: usize,
    /// Run the path MTU tests.
    pub mtu: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            timeout_ms: 2000,
            parallel: 32,
            mtu: true,
        }
    }
}

/// Everything a run probes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    pub version: u32,
    /// The probe's namespace (the Services' DNS names are `NAME.NAMESPACE.svc.DOMAIN`).
    pub namespace: String,
    /// The cluster domain; `None` to take it from the runner's resolv.conf search list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_domain: Option<String>,
    /// The agents' port.
    pub port: u16,
    pub expect: Expectations,
    pub nodes: Vec<NodeInfo>,
    pub agents: Vec<Agent>,
    pub services: Vec<ServiceInfo>,
    /// The `kubernetes` Service's ClusterIPs.
    #[serde(rename = "kubernetesIPs")]
    pub kubernetes_ips: Vec<IpAddr>,
    /// The cluster DNS (kube-dns's ClusterIPs); empty to use the runner's resolv.conf.
    pub dns_servers: Vec<IpAddr>,
    pub externals: Vec<External>,
    pub options: Options,
}

impl Spec {
    pub fn agent(&self, id: &str) -> Option<&Agent> {
        self.agents.iter().find(|a| a.id() == id)
    }

    pub fn service(&self, role: ServiceRole) -> Option<&ServiceInfo> {
        self.services.iter().find(|s| s.role == role)
    }

    /// The nodes in a stable order (by name).
    pub fn node_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.nodes.iter().map(|n| n.name.as_str()).collect();
        for a in &self.agents {
            if !names.contains(&a.node.as_str()) {
                names.push(&a.node);
            }
        }
        names.sort_unstable();
        names
    }

    /// The NAT64 prefix IPv4-only destinations are reached through, when NAT64 is expected.
    pub fn nat64(&self) -> Option<Ipv6Net> {
        self.expect.nat64
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A spec document that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("the probe spec is not valid JSON")]
    Parse(#[source] serde_json::Error),
    #[error(
        "the probe spec has version {found}, this agent reads version {SPEC_VERSION}: run the agent image of the same kube6 release"
    )]
    Version { found: u32 },
}

impl Spec {
    pub fn from_json(text: &str) -> Result<Spec, SpecError> {
        let spec: Spec = serde_json::from_str(text).map_err(SpecError::Parse)?;
        if spec.version != SPEC_VERSION {
            return Err(SpecError::Version {
                found: spec.version,
            });
        }
        Ok(spec)
    }
}

/// The address of the NAT64 prefix that embeds `v4` (RFC 6052 section 2.2, /96 prefixes; other
/// lengths place the address around the reserved octet u).
pub fn embed_ipv4(prefix: Ipv6Net, v4: std::net::Ipv4Addr) -> std::net::Ipv6Addr {
    let mut bytes = prefix.network().octets();
    let v4 = v4.octets();
    let positions: [usize; 4] = match prefix.prefix_len() {
        32 => [4, 5, 6, 7],
        40 => [5, 6, 7, 9],
        48 => [6, 7, 9, 10],
        56 => [7, 9, 10, 11],
        64 => [9, 10, 11, 12],
        _ => [12, 13, 14, 15],
    };
    for (i, p) in positions.iter().enumerate() {
        bytes[*p] = v4[i];
    }
    std::net::Ipv6Addr::from(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn externals_parse_addresses_names_and_ports() {
        let e: External = "2001:db8::1".parse().unwrap();
        assert_eq!(e.host, Host::Addr("2001:db8::1".parse().unwrap()));
        assert_eq!(e.port, None);
        let e: External = "[2001:db8::1]:443".parse().unwrap();
        assert_eq!(e.port, Some(443));
        assert_eq!(e.to_string(), "[2001:db8::1]:443");
        let e: External = "192.0.2.7:80".parse().unwrap();
        assert_eq!(e.to_string(), "192.0.2.7:80");
        let e: External = "Www.Example.org.:443".parse().unwrap();
        assert_eq!(e.host, Host::Name("www.example.org".into()));
        assert_eq!(e.to_string(), "www.example.org:443");
        for bad in [
            "",
            "example.org:0",
            "example.org:http",
            "[2001:db8::1",
            "-bad.example",
            "a..b",
            "x:65536",
        ] {
            assert!(bad.parse::<External>().is_err(), "{bad}");
        }
        let err = "2001:db8::1:99999".parse::<External>().unwrap_err();
        assert!(err.to_string().contains("[ADDRESS]:PORT"), "{err}");
    }

    /// An IPv6 address in brackets without a port is the address (as in a URL's host), printed
    /// back without brackets; what follows the brackets is a port or nothing.
    #[test]
    fn a_bracketed_address_without_a_port_is_an_address() {
        for text in ["[::1]", " [2001:db8::1] ", "[2001:DB8:0::1]"] {
            let e: External = text.parse().unwrap();
            assert!(matches!(e.host, Host::Addr(IpAddr::V6(_))), "{text}");
            assert_eq!(e.port, None, "{text}");
        }
        assert_eq!("[::1]".parse::<External>().unwrap().to_string(), "::1");
        let e: External = "[::1]".parse().unwrap();
        assert_eq!(e, "::1".parse().unwrap());
        for (text, why) in [
            ("[::1]:", "after [ADDRESS] comes nothing or :PORT"),
            ("[::1]:0", "port 0"),
            ("[::1]:65536", "after [ADDRESS] comes nothing or :PORT"),
            ("[::1]x", "after [ADDRESS] comes nothing or :PORT"),
            ("[192.0.2.1]", "brackets hold an IPv6 address"),
            ("[192.0.2.1]:80", "brackets hold an IPv6 address"),
            ("[example.org]", "not an IPv6 address in brackets"),
            ("[2001:db8::1", "a [ without its ]"),
        ] {
            let err = text.parse::<External>().unwrap_err();
            assert!(err.to_string().contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn nat64_embedding_follows_rfc6052() {
        let v4 = "192.0.2.33".parse().unwrap();
        assert_eq!(
            embed_ipv4(well_known_nat64(), v4),
            "64:ff9b::c000:221".parse::<std::net::Ipv6Addr>().unwrap()
        );
        // RFC 6052 section 2.4's table, for 2001:db8::/32 and /64.
        let p32: Ipv6Net = "2001:db8::/32".parse().unwrap();
        assert_eq!(
            embed_ipv4(p32, v4),
            "2001:db8:c000:221::".parse::<std::net::Ipv6Addr>().unwrap()
        );
        let p64: Ipv6Net = "2001:db8:122:344::/64".parse().unwrap();
        assert_eq!(
            embed_ipv4(p64, v4),
            "2001:db8:122:344:c0:2:2100:0"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
        );
    }

    #[test]
    fn families_are_inferred_from_the_kubernetes_service_then_the_nodes() {
        let nodes = vec![NodeInfo {
            name: "a".into(),
            addresses: vec!["192.0.2.1".parse().unwrap(), "2001:db8::1".parse().unwrap()],
        }];
        let e = Expectations::infer(&["2001:db8:1::1".parse().unwrap()], &nodes, None);
        assert_eq!(e.families, vec![Family::IPv6]);
        let e = Expectations::infer(&[], &nodes, None);
        assert_eq!(e.families, vec![Family::IPv4, Family::IPv6]);
        assert!(e.notes[0].contains("could not be read"));
    }
}
