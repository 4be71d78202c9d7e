//! The proxy's configuration: built programmatically, from command-line style prefix specs
//! (`2001:db8:1::a:0/112=probe:p0`) or from a YAML file.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use ipnet::Ipv6Net;
use serde::Deserialize;

/// How the proxy decides to answer for targets in a prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Answer at once.
    Static,
    /// Answer only when the kernel's main routing table sends the target somewhere other than
    /// the uplink (kept current from netlink route events).
    Routed,
    /// Forward the NS to `interface` and answer when the owner answers there.
    Probe { interface: String },
    /// Answer only for the addresses in the set handed to [`crate::Control::set_watched`]
    /// (the load-balancer addresses this node announces, followed through the Kubernetes API
    /// by `kube6 ndp-proxy`); nothing before the first set arrives.
    Watch,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Static => f.write_str("static"),
            Mode::Routed => f.write_str("routed"),
            Mode::Watch => f.write_str("watch"),
            Mode::Probe { interface } => write!(f, "probe:{interface}"),
        }
    }
}

impl FromStr for Mode {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Mode, ConfigError> {
        match s {
            "static" => Ok(Mode::Static),
            "routed" => Ok(Mode::Routed),
            "watch" => Ok(Mode::Watch),
            _ => match s.strip_prefix("probe:") {
                Some(iface) if !iface.is_empty() => Ok(Mode::Probe {
                    interface: iface.to_string(),
                }),
                _ => Err(ConfigError::Mode(s.to_string())),
            },
        }
    }
}

/// One prefix the proxy answers for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrefixRule {
    pub prefix: Ipv6Net,
    pub mode: Mode,
}

impl PrefixRule {
    pub fn new(prefix: Ipv6Net, mode: Mode) -> PrefixRule {
        PrefixRule { prefix, mode }
    }
}

impl fmt::Display for PrefixRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.prefix, self.mode)
    }
}

impl FromStr for PrefixRule {
    type Err = ConfigError;

    /// `PREFIX[=static|routed|watch|probe:IFACE]`; the mode defaults to static.
    fn from_str(s: &str) -> Result<PrefixRule, ConfigError> {
        let (net, mode) = match s.split_once('=') {
            Some((net, mode)) => (net.trim(), mode.trim().parse()?),
            None => (s.trim(), Mode::Static),
        };
        let prefix = Ipv6Net::from_str(net).map_err(|_| ConfigError::Prefix(net.to_string()))?;
        Ok(PrefixRule { prefix, mode })
    }
}

/// Per-source limit on the NS the proxy acts upon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained NS per second per source (IPv6 source and MAC); 0 disables the limit.
    pub per_second: u32,
    /// Bucket size: how many NS a source may send at once.
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> RateLimit {
        RateLimit {
            per_second: 1000,
            burst: 1000,
        }
    }
}

/// How watch mode decides which node answers for a load-balancer address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Election {
    /// Cilium's L2 announcements elect one node per Service with a Lease
    /// `cilium-l2announce-NAMESPACE-NAME` in Cilium's namespace, held by the node's name
    /// (cilium/cilium pkg/l2announcer/l2announcer.go); the holder answers.
    #[default]
    CiliumLease,
    /// No elector: every node answers (kube-proxy accepts the address on every node), or with
    /// `externalTrafficPolicy: Local` the nodes with a ready endpoint.
    None,
}

impl fmt::Display for Election {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Election::CiliumLease => "cilium-lease",
            Election::None => "none",
        })
    }
}

impl FromStr for Election {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Election, ConfigError> {
        match s {
            "cilium-lease" => Ok(Election::CiliumLease),
            "none" => Ok(Election::None),
            other => Err(ConfigError::Election(other.to_string())),
        }
    }
}

/// Where Cilium is usually installed (its Helm chart's documented namespace); the leases live
/// in Cilium's own namespace (cilium/cilium Documentation/network/l2-announcements.rst).
pub const DEFAULT_LEASE_NAMESPACE: &str = "kube-system";
/// Default bound on the LoadBalancer Services followed in watch mode.
pub const DEFAULT_MAX_SERVICES: usize = 10_000;
/// Highest accepted `max-services`.
pub const MAX_MAX_SERVICES: usize = 1_000_000;

/// Watch mode's settings (used by `kube6 ndp-proxy`, which follows the API; the daemon only
/// receives the resulting address set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchSettings {
    /// This node's Kubernetes name (the downward API's `spec.nodeName`).
    pub node_name: Option<String>,
    pub election: Election,
    /// Namespace of Cilium's L2 announcement leases.
    pub lease_namespace: String,
    /// LoadBalancer Services followed at most; more are counted and logged, not followed.
    pub max_services: usize,
}

impl Default for WatchSettings {
    fn default() -> WatchSettings {
        WatchSettings {
            node_name: None,
            election: Election::default(),
            lease_namespace: DEFAULT_LEASE_NAMESPACE.to_string(),
            max_services: DEFAULT_MAX_SERVICES,
        }
    }
}

/// A DNS-1123 subdomain (Node names): at most 253 characters, lowercase alphanumerics, '-'
/// and '.', starting and ending alphanumeric.
pub fn valid_node_name(name: &str) -> bool {
    name.len() <= 253
        && !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// A DNS-1123 label (namespace names): at most 63 characters.
fn valid_namespace(name: &str) -> bool {
    name.len() <= 63 && !name.contains('.') && valid_node_name(name)
}

/// Default metrics address.
pub const DEFAULT_METRICS: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9465);

/// The whole configuration of one proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The interface NS arrive on and NA leave from.
    pub uplink: String,
    /// The prefixes answered for; the longest matching prefix decides the mode.
    pub prefixes: Vec<PrefixRule>,
    /// Router flag in the answers (the node forwards for the targets, so true by default).
    pub router: bool,
    /// Where Prometheus metrics are served (loopback only); `None` disables them.
    pub metrics: Option<SocketAddr>,
    /// Per-source rate limit.
    pub rate_limit: RateLimit,
    /// Probe mode: how long to wait for the owner's NA.
    pub probe_timeout: Duration,
    /// Probe mode: how long an answer from the owner is remembered.
    pub probe_ttl: Duration,
    /// Keep reading the uplink for this long after a solicitation before sleeping (0: off).
    /// Trades CPU for latency under load; at most 10 ms.
    pub busy_poll: Duration,
    /// Watch mode's settings (meaningful when a prefix is in watch mode).
    pub watch: WatchSettings,
}

impl Config {
    /// A configuration with defaults for everything but the uplink and the prefixes.
    pub fn new(uplink: impl Into<String>, prefixes: Vec<PrefixRule>) -> Config {
        Config {
            uplink: uplink.into(),
            prefixes,
            router: true,
            metrics: Some(DEFAULT_METRICS),
            rate_limit: RateLimit::default(),
            probe_timeout: Duration::from_millis(500),
            probe_ttl: Duration::from_secs(30),
            busy_poll: Duration::ZERO,
            watch: WatchSettings::default(),
        }
    }

    /// Parses a YAML configuration file's text (it is not validated; see [`Config::validate`]).
    /// The uplink may be left out when it comes from elsewhere (`--uplink`, a plan).
    pub fn from_yaml(text: &str) -> Result<Config, ConfigError> {
        let nothing = text.lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('#') || l == "---"
        });
        if nothing {
            return Err(ConfigError::Syntax {
                line: None,
                column: None,
                message: "the file holds no configuration; expected uplink and prefixes (see \
                          docs/ndp-proxy.md)"
                    .into(),
            });
        }
        let file: FileConfig =
            serde_saphyr::from_str_with_options(text, yaml_options()).map_err(syntax_error)?;
        file.into_config()
    }

    /// Every problem with this configuration (empty when it is valid).
    pub fn validate(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if self.uplink.is_empty() {
            errors.push(ConfigError::NoUplink);
        } else if !valid_ifname(&self.uplink) {
            errors.push(ConfigError::Interface(self.uplink.clone()));
        }
        if self.prefixes.is_empty() {
            errors.push(ConfigError::NoPrefixes);
        }
        for (i, rule) in self.prefixes.iter().enumerate() {
            let net = rule.prefix;
            if net.trunc() != net {
                errors.push(ConfigError::HostBits(net, net.trunc()));
            }
            let addr = net.network();
            if addr.to_ipv4_mapped().is_some() || is_ipv4_compatible(&net) {
                errors.push(ConfigError::Ipv4Embedded(net));
            } else if addr.is_multicast()
                || addr.is_unspecified()
                || addr.is_loopback()
                || (addr.segments()[0] & 0xffc0) == 0xfe80
                || net.prefix_len() < 8
            {
                errors.push(ConfigError::Unusable(net));
            }
            if self.prefixes[..i].iter().any(|r| r.prefix == net) {
                errors.push(ConfigError::Duplicate(net));
            }
            if let Mode::Probe { interface } = &rule.mode {
                if !valid_ifname(interface) {
                    errors.push(ConfigError::Interface(interface.clone()));
                } else if *interface == self.uplink {
                    errors.push(ConfigError::ProbeOnUplink(net));
                }
            }
        }
        if let Some(addr) = self.metrics
            && !addr.ip().is_loopback()
        {
            errors.push(ConfigError::MetricsNotLoopback(addr));
        }
        if self.rate_limit.per_second > 0 && self.rate_limit.burst == 0 {
            errors.push(ConfigError::RateLimit);
        }
        if self.busy_poll > Duration::from_millis(10) {
            errors.push(ConfigError::BusyPoll);
        }
        if self.probe_timeout.is_zero() || self.probe_timeout > Duration::from_secs(10) {
            errors.push(ConfigError::ProbeTimeout);
        }
        if !self.watch_prefixes().is_empty() {
            match &self.watch.node_name {
                None => errors.push(ConfigError::NoNodeName),
                Some(name) if !valid_node_name(name) => {
                    errors.push(ConfigError::NodeName(name.clone()))
                }
                Some(_) => {}
            }
        }
        if !valid_namespace(&self.watch.lease_namespace) {
            errors.push(ConfigError::LeaseNamespace(
                self.watch.lease_namespace.clone(),
            ));
        }
        if self.watch.max_services == 0 || self.watch.max_services > MAX_MAX_SERVICES {
            errors.push(ConfigError::MaxServices);
        }
        errors
    }

    /// The prefixes in watch mode (load-balancer pools answered per announced address).
    pub fn watch_prefixes(&self) -> Vec<Ipv6Net> {
        self.prefixes
            .iter()
            .filter(|r| r.mode == Mode::Watch)
            .map(|r| r.prefix)
            .collect()
    }

    /// Interfaces probe rules send on.
    pub fn probe_interfaces(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .prefixes
            .iter()
            .filter_map(|r| match &r.mode {
                Mode::Probe { interface } => Some(interface.clone()),
                _ => None,
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Inside ::/96, the deprecated IPv4-compatible addresses (RFC 4291 §2.5.5.1); `::` itself and
/// `::1` are refused as unspecified and loopback.
fn is_ipv4_compatible(net: &Ipv6Net) -> bool {
    let seg = net.network().segments();
    net.prefix_len() >= 96
        && seg[..6].iter().all(|s| *s == 0)
        && !net.network().is_loopback()
        && !net.network().is_unspecified()
}

/// Linux interface names: 1 to 15 bytes, no '/', whitespace or ':'.
fn valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 16
        && name != "."
        && name != ".."
        && !name
            .bytes()
            .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace() || b == 0)
}

/// What is wrong with a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file is not YAML of the configuration's shape; `line` and `column` when known.
    #[error("{message}")]
    Syntax {
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    #[error("no uplink: give `uplink:` in the configuration, --uplink IF, or --plan FILE")]
    NoUplink,
    #[error(
        "prefix {0} holds IPv4 addresses embedded in IPv6 (::ffff:0:0/96 or ::/96); they never \
         appear in neighbor solicitations: give the IPv6 prefix the pods or services use"
    )]
    Ipv4Embedded(Ipv6Net),
    #[error("invalid IPv6 prefix {0:?} (expected e.g. 2001:db8:1::a:0/112)")]
    Prefix(String),
    #[error("invalid mode {0:?} (expected static, routed, watch or probe:IFACE)")]
    Mode(String),
    #[error("invalid interface name {0:?}")]
    Interface(String),
    #[error("no prefixes configured: give at least one --prefix or `prefixes:` entry")]
    NoPrefixes,
    #[error("prefix {0} has host bits set; write {1}")]
    HostBits(Ipv6Net, Ipv6Net),
    #[error("prefix {0} cannot be proxied (multicast, link-local, loopback or shorter than /8)")]
    Unusable(Ipv6Net),
    #[error("prefix {0} is listed twice")]
    Duplicate(Ipv6Net),
    #[error("prefix {0}: probe interface is the uplink itself")]
    ProbeOnUplink(Ipv6Net),
    #[error("metrics address {0} is not a loopback address")]
    MetricsNotLoopback(SocketAddr),
    #[error("rate-limit burst must be at least 1 when per-second is set")]
    RateLimit,
    #[error("busy-poll-us must be at most 10000")]
    BusyPoll,
    #[error("probe timeout must be between 1 ms and 10 s")]
    ProbeTimeout,
    #[error("invalid metrics address {0:?} (expected e.g. 127.0.0.1:9465 or off)")]
    Metrics(String),
    #[error("unknown mode key {0:?} for prefix {1}")]
    ModeKey(String, String),
    #[error("invalid election {0:?} (expected cilium-lease or none)")]
    Election(String),
    #[error(
        "watch prefixes need this node's Kubernetes name: --node-name NAME, the NODE_NAME \
         environment variable (the downward API's spec.nodeName), or watch.node-name"
    )]
    NoNodeName,
    #[error("invalid node name {0:?} (a DNS-1123 subdomain: lowercase letters, digits, '-', '.')")]
    NodeName(String),
    #[error("invalid lease namespace {0:?} (a DNS-1123 label)")]
    LeaseNamespace(String),
    #[error("watch.max-services must be between 1 and 1000000")]
    MaxServices,
}

/// The parser's options: no snippets (the caller names the file), duplicate keys refused.
fn yaml_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = 16;
    options.budget = Some(budget);
    options
}

/// A parser error in kube6's words: where, and what, without the parser's advice to
/// programmers or its own rendering of the position.
fn syntax_error(err: serde_saphyr::Error) -> ConfigError {
    let location = err.location();
    let original = match err.without_snippet() {
        serde_saphyr::Error::AliasError { error, .. } => error.as_ref(),
        other => other,
    };
    let message = match original {
        serde_saphyr::Error::DuplicateMappingKey { key: Some(key), .. } => {
            format!("duplicate key `{key}`: each key is given once")
        }
        serde_saphyr::Error::DuplicateMappingKey { key: None, .. } => {
            "duplicate key: each key is given once".to_string()
        }
        serde_saphyr::Error::Budget { .. } => {
            "refused: nests too deep or is too large for an NDP proxy configuration".to_string()
        }
        other => {
            let rendered = other.to_string();
            let first = rendered.lines().next().unwrap_or_default();
            let first = first.trim_start_matches("error: ");
            let first = match first.split_once(": ") {
                Some((head, rest)) if head.starts_with("line ") => rest,
                _ => first,
            };
            match first.find(" at line ") {
                Some(i) => first[..i].to_string(),
                None => first.to_string(),
            }
        }
    };
    ConfigError::Syntax {
        line: location.map(|l| l.line() as usize).filter(|l| *l > 0),
        column: location.map(|l| l.column() as usize).filter(|c| *c > 0),
        message,
    }
}

/// The YAML form of [`Config`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileConfig {
    #[serde(default)]
    uplink: Option<String>,
    #[serde(default)]
    prefixes: Vec<FilePrefix>,
    #[serde(default)]
    router: Option<bool>,
    #[serde(default)]
    metrics: Option<String>,
    #[serde(default)]
    rate_limit: Option<FileRateLimit>,
    #[serde(default)]
    probe: Option<FileProbe>,
    #[serde(default)]
    busy_poll_us: Option<u64>,
    #[serde(default)]
    watch: Option<FileWatch>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileWatch {
    #[serde(default)]
    node_name: Option<String>,
    #[serde(default)]
    election: Option<String>,
    #[serde(default)]
    lease_namespace: Option<String>,
    #[serde(default)]
    max_services: Option<usize>,
}

/// A prefix entry: `PREFIX[=MODE]` or `{prefix, mode, interface}`.
#[derive(Debug)]
enum FilePrefix {
    Short(String),
    Long(FilePrefixLong),
}

impl<'de> Deserialize<'de> for FilePrefix {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<FilePrefix, D::Error> {
        struct Entry;
        impl<'de> serde::de::Visitor<'de> for Entry {
            type Value = FilePrefix;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a prefix (2001:db8:1::a:0/112, optionally =routed or =probe:IFACE) or a \
                     mapping with prefix, mode and interface",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FilePrefix, E> {
                Ok(FilePrefix::Short(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<FilePrefix, A::Error> {
                FilePrefixLong::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(FilePrefix::Long)
            }
        }
        d.deserialize_any(Entry)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePrefixLong {
    prefix: String,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    interface: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileRateLimit {
    per_second: u32,
    #[serde(default)]
    burst: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileProbe {
    #[serde(default)]
    timeout_ms: Option<u64>,
    #[serde(default)]
    ttl_ms: Option<u64>,
}

impl FileConfig {
    fn into_config(self) -> Result<Config, ConfigError> {
        let mut prefixes = Vec::with_capacity(self.prefixes.len());
        for p in self.prefixes {
            prefixes.push(match p {
                FilePrefix::Short(spec) => spec.parse()?,
                FilePrefix::Long(long) => {
                    let prefix = Ipv6Net::from_str(long.prefix.trim())
                        .map_err(|_| ConfigError::Prefix(long.prefix.clone()))?;
                    let mode = match (long.mode.as_deref(), long.interface) {
                        (None | Some("static"), None) => Mode::Static,
                        (Some("routed"), None) => Mode::Routed,
                        (Some("watch"), None) => Mode::Watch,
                        (Some("probe"), Some(interface)) => Mode::Probe { interface },
                        (Some("probe"), None) => {
                            return Err(ConfigError::Mode("probe without interface".into()));
                        }
                        (Some(other), None) => other.parse()?,
                        (_, Some(_)) => {
                            return Err(ConfigError::ModeKey("interface".into(), long.prefix));
                        }
                    };
                    PrefixRule { prefix, mode }
                }
            });
        }
        let mut config = Config::new(self.uplink.unwrap_or_default(), prefixes);
        if let Some(router) = self.router {
            config.router = router;
        }
        if let Some(metrics) = self.metrics {
            config.metrics = parse_metrics(&metrics)?;
        }
        if let Some(rl) = self.rate_limit {
            config.rate_limit = RateLimit {
                per_second: rl.per_second,
                burst: rl.burst.unwrap_or(rl.per_second),
            };
        }
        if let Some(us) = self.busy_poll_us {
            config.busy_poll = Duration::from_micros(us);
        }
        if let Some(watch) = self.watch {
            if let Some(name) = watch.node_name {
                config.watch.node_name = Some(name);
            }
            if let Some(election) = watch.election {
                config.watch.election = election.parse()?;
            }
            if let Some(ns) = watch.lease_namespace {
                config.watch.lease_namespace = ns;
            }
            if let Some(max) = watch.max_services {
                config.watch.max_services = max;
            }
        }
        if let Some(probe) = self.probe {
            if let Some(ms) = probe.timeout_ms {
                config.probe_timeout = Duration::from_millis(ms);
            }
            if let Some(ms) = probe.ttl_ms {
                config.probe_ttl = Duration::from_millis(ms);
            }
        }
        Ok(config)
    }
}

/// `ADDR:PORT`, or `off` for no metrics.
pub fn parse_metrics(text: &str) -> Result<Option<SocketAddr>, ConfigError> {
    match text.trim() {
        "off" | "none" | "" => Ok(None),
        t => t
            .parse()
            .map(Some)
            .map_err(|_| ConfigError::Metrics(t.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_specs() {
        let r: PrefixRule = "2001:db8:1::a:0/112".parse().unwrap();
        assert_eq!(r.mode, Mode::Static);
        let r: PrefixRule = "2001:db8:1::a:0/112=routed".parse().unwrap();
        assert_eq!(r.mode, Mode::Routed);
        let r: PrefixRule = "2001:db8:1::a:0/112=probe:p0".parse().unwrap();
        assert_eq!(
            r.mode,
            Mode::Probe {
                interface: "p0".into()
            }
        );
        assert_eq!(r.to_string(), "2001:db8:1::a:0/112=probe:p0");
        assert!("2001:db8:1::a:0/112=probe:".parse::<PrefixRule>().is_err());
        assert!("2001:db8:1::a:0/112=auto".parse::<PrefixRule>().is_err());
        let r: PrefixRule = "2001:db8:5::ff00/120=watch".parse().unwrap();
        assert_eq!(r.mode, Mode::Watch);
        assert_eq!(r.to_string(), "2001:db8:5::ff00/120=watch");
        assert!("10.0.0.0/8".parse::<PrefixRule>().is_err());
    }

    #[test]
    fn yaml_file() {
        let c = Config::from_yaml(
            "uplink: n0\n\
             prefixes:\n\
             \x20 - 2001:db8:1::a:0/112\n\
             \x20 - prefix: 2001:db8:1::b:0/112\n\
             \x20   mode: routed\n\
             \x20 - prefix: 2001:db8:1::c:0/112\n\
             \x20   mode: probe\n\
             \x20   interface: p0\n\
             router: false\n\
             metrics: 127.0.0.1:9999\n\
             rate-limit:\n\
             \x20 per-second: 10\n\
             probe:\n\
             \x20 timeout-ms: 200\n\
             busy-poll-us: 50\n",
        )
        .unwrap();
        assert_eq!(c.uplink, "n0");
        assert_eq!(c.prefixes.len(), 3);
        assert_eq!(c.prefixes[1].mode, Mode::Routed);
        assert!(!c.router);
        assert_eq!(c.metrics, Some("127.0.0.1:9999".parse().unwrap()));
        assert_eq!(c.rate_limit.burst, 10);
        assert_eq!(c.probe_timeout, Duration::from_millis(200));
        assert_eq!(c.busy_poll, Duration::from_micros(50));
        assert!(c.validate().is_empty(), "{:?}", c.validate());
        assert_eq!(c.probe_interfaces(), vec!["p0".to_string()]);
    }

    #[test]
    fn yaml_errors() {
        assert!(matches!(
            Config::from_yaml("uplink: n0\nbogus: 1\n"),
            Err(ConfigError::Syntax { .. })
        ));
        // kube6's words, with the position apart; no advice meant for programmers.
        for (text, want, line) in [
            (
                "uplink: n0\nuplink: n1\n",
                "duplicate key `uplink`: each key is given once",
                2,
            ),
            (
                "uplink: n0\nprefixes:\n  - [1]\n",
                "a prefix (2001:db8:1::a:0/112",
                3,
            ),
        ] {
            match Config::from_yaml(text) {
                Err(ConfigError::Syntax {
                    line: l, message, ..
                }) => {
                    assert!(message.contains(want), "{message}");
                    assert!(!message.contains("DuplicateKeyPolicy"), "{message}");
                    assert!(!message.contains("untagged"), "{message}");
                    assert!(!message.contains("<input>"), "{message}");
                    assert!(!message.contains('\n'), "{message}");
                    assert_eq!(l, Some(line), "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(Config::from_yaml("uplink: [\n").is_err());
        assert!(matches!(
            Config::from_yaml(
                "uplink: n0\nprefixes:\n  - prefix: 2001:db8::/64\n    mode: probe\n"
            ),
            Err(ConfigError::Mode(_))
        ));
        assert!(matches!(
            Config::from_yaml("uplink: n0\nmetrics: nowhere\n"),
            Err(ConfigError::Metrics(_))
        ));
    }

    #[test]
    fn watch_settings() {
        let c = Config::from_yaml(
            "uplink: n0\n\
             prefixes:\n\
             \x20 - prefix: 2001:db8:5::ff00/120\n\
             \x20   mode: watch\n\
             watch:\n\
             \x20 node-name: worker-1.example\n\
             \x20 election: none\n\
             \x20 lease-namespace: cilium\n\
             \x20 max-services: 50\n",
        )
        .unwrap();
        assert_eq!(c.prefixes[0].mode, Mode::Watch);
        assert_eq!(c.watch_prefixes().len(), 1);
        assert_eq!(c.watch.node_name.as_deref(), Some("worker-1.example"));
        assert_eq!(c.watch.election, Election::None);
        assert_eq!(c.watch.lease_namespace, "cilium");
        assert_eq!(c.watch.max_services, 50);
        assert!(c.validate().is_empty(), "{:?}", c.validate());

        let mut no_name = c.clone();
        no_name.watch.node_name = None;
        assert_eq!(no_name.validate(), vec![ConfigError::NoNodeName]);
        let mut bad = c.clone();
        bad.watch.node_name = Some("Worker_1".into());
        bad.watch.lease_namespace = "kube.system".into();
        bad.watch.max_services = 0;
        assert_eq!(
            bad.validate(),
            vec![
                ConfigError::NodeName("Worker_1".into()),
                ConfigError::LeaseNamespace("kube.system".into()),
                ConfigError::MaxServices
            ]
        );
        // Without watch prefixes the node name is not needed.
        let mut static_only = no_name;
        static_only.prefixes[0].mode = Mode::Static;
        assert!(static_only.validate().is_empty());
        assert!(matches!(
            Config::from_yaml("uplink: n0\nwatch:\n  election: metallb\n"),
            Err(ConfigError::Election(_))
        ));
        assert!(matches!(
            Config::from_yaml("uplink: n0\nwatch:\n  nodename: a\n"),
            Err(ConfigError::Syntax { .. })
        ));
    }

    #[test]
    fn validation() {
        let ok = Config::new("n0", vec!["2001:db8:1::a:0/112".parse().unwrap()]);
        assert!(ok.validate().is_empty());

        let mut c = ok.clone();
        c.prefixes = vec![];
        assert_eq!(c.validate(), vec![ConfigError::NoPrefixes]);

        let mut c = ok.clone();
        c.prefixes = vec!["2001:db8:1::a:1/112".parse().unwrap()];
        assert!(matches!(c.validate()[0], ConfigError::HostBits(..)));

        for bad in ["::ffff:10.0.0.0/104", "::ffff:0:0/96", "::10.0.0.0/104"] {
            let mut c = ok.clone();
            c.prefixes = vec![bad.parse().unwrap()];
            assert!(
                matches!(c.validate()[0], ConfigError::Ipv4Embedded(_)),
                "{bad}: {:?}",
                c.validate()
            );
        }
        let mut c = ok.clone();
        c.uplink = String::new();
        assert_eq!(c.validate(), vec![ConfigError::NoUplink]);

        for bad in ["ff02::/16", "fe80::/64", "::1/128", "2000::/3"] {
            let mut c = ok.clone();
            c.prefixes = vec![bad.parse().unwrap()];
            assert!(
                matches!(c.validate()[0], ConfigError::Unusable(_)),
                "{bad}: {:?}",
                c.validate()
            );
        }

        let mut c = ok.clone();
        c.prefixes.push(c.prefixes[0].clone());
        assert!(matches!(c.validate()[0], ConfigError::Duplicate(_)));

        let mut c = ok.clone();
        c.prefixes = vec!["2001:db8:1::a:0/112=probe:n0".parse().unwrap()];
        assert!(matches!(c.validate()[0], ConfigError::ProbeOnUplink(_)));

        let mut c = ok.clone();
        c.uplink = "a/b".into();
        assert!(matches!(c.validate()[0], ConfigError::Interface(_)));

        let mut c = ok.clone();
        c.metrics = Some("0.0.0.0:9465".parse().unwrap());
        assert!(matches!(
            c.validate()[0],
            ConfigError::MetricsNotLoopback(_)
        ));

        let mut c = ok.clone();
        c.metrics = None;
        c.rate_limit = RateLimit {
            per_second: 5,
            burst: 0,
        };
        assert_eq!(c.validate(), vec![ConfigError::RateLimit]);

        let mut c = ok.clone();
        c.probe_timeout = Duration::ZERO;
        assert_eq!(c.validate(), vec![ConfigError::ProbeTimeout]);

        let mut c = ok;
        c.busy_poll = Duration::from_millis(11);
        assert_eq!(c.validate(), vec![ConfigError::BusyPoll]);
    }
}
