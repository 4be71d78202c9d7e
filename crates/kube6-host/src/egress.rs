//! How this node reaches the IPv4 world: the resolvers it (and CoreDNS, which forwards to the
//! node's resolv.conf) asks, and a real connection through a NAT64-synthesized address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::dns::{Nat64Prefix, Resolver};

/// glibc's resolver reads at most this many `nameserver` lines (resolv.h `MAXNS`); later ones
/// are ignored.
pub const MAX_NAMESERVERS: usize = 3;

/// How long one connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The resolvers of the node's resolv.conf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvConf {
    /// The file read (`/etc/resolv.conf`, or systemd-resolved's upstream file when the first
    /// lists only its local stub).
    pub path: PathBuf,
    /// `nameserver` addresses in order, or why the file could not be read.
    pub nameservers: Result<Vec<IpAddr>, String>,
    /// The stub file read first, when `path` is systemd-resolved's upstream list.
    pub stub: Option<PathBuf>,
    /// The file exists (an image being built under `--root` may have none yet).
    pub exists: bool,
}

/// The upstream list systemd-resolved writes; kubeadm and k3s give it to the kubelet when
/// /etc/resolv.conf holds only the 127.0.0.53 stub (a loop for CoreDNS otherwise).
pub const SYSTEMD_RESOLVED_UPSTREAM: &str = "run/systemd/resolve/resolv.conf";

/// The `nameserver` lines of a resolv.conf (comments with `#` or `;`, an IPv6 zone index
/// `fe80::1%eth0` dropped; unparsable addresses skipped as glibc skips them).
pub fn parse_resolv_conf(text: &str) -> Vec<IpAddr> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next()? == "nameserver").then_some(())?;
            let addr = words.next()?;
            let addr = addr.split('%').next().unwrap_or(addr);
            addr.parse().ok()
        })
        .collect()
}

/// Reads `<root>/etc/resolv.conf`, following systemd-resolved's stub to its upstream list.
pub fn read_resolv_conf(root: &Path) -> ResolvConf {
    let main = root.join("etc/resolv.conf");
    let read = |path: &Path| {
        kube6_fs::read::text(path, &crate::sysctl::VALUE_LIMIT)
            .map(|t| parse_resolv_conf(&t.text))
            .map_err(|e| e.to_string())
    };
    let nameservers = read(&main);
    if let Ok(list) = &nameservers
        && !list.is_empty()
        && list.iter().all(IpAddr::is_loopback)
    {
        let upstream = root.join(SYSTEMD_RESOLVED_UPSTREAM);
        if let Ok(up) = read(&upstream)
            && !up.is_empty()
        {
            return ResolvConf {
                path: upstream,
                nameservers: Ok(up),
                stub: Some(main),
                exists: true,
            };
        }
    }
    ResolvConf {
        exists: main.exists(),
        path: main,
        nameservers,
        stub: None,
    }
}

/// The IPv6 address RFC 6052 (section 2.2) builds from a NAT64 prefix and an IPv4 address: the
/// IPv4 bits follow the prefix, skipping bits 64..72 (the "u" octet, always zero).
pub fn synthesize(prefix: &Nat64Prefix, v4: Ipv4Addr) -> Ipv6Addr {
    let mut bytes = prefix.prefix.octets();
    let start = usize::from(prefix.len / 8);
    let positions = (start..16).filter(|&i| i != 8).take(4);
    for (i, b) in positions.zip(v4.octets()) {
        bytes[i] = b;
    }
    if start <= 8 {
        bytes[8] = 0;
    }
    Ipv6Addr::from(bytes)
}

/// A target `HOST:PORT` (`[v6]:port` for an IPv6 literal) split in two.
pub fn split_target(target: &str) -> Result<(String, u16), String> {
    let (host, port) = target
        .rsplit_once(':')
        .ok_or_else(|| format!("{target}: expected HOST:PORT"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("{target}: {port:?} is not a port number"))?;
    let bracketed = host.starts_with('[') && host.ends_with(']');
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.contains(':') && !bracketed {
        return Err(format!(
            "{target}: write an IPv6 address in brackets, [ADDR]:PORT"
        ));
    }
    if host.is_empty() {
        return Err(format!("{target}: the host is empty"));
    }
    Ok((host.to_string(), port))
}

/// One TCP connection attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub address: SocketAddr,
    /// None: connected; else why not.
    pub error: Option<String>,
}

/// Connects to `address` within [`CONNECT_TIMEOUT`] and closes at once.
pub fn connect(address: SocketAddr) -> Attempt {
    Attempt {
        address,
        error: TcpStream::connect_timeout(&address, CONNECT_TIMEOUT)
            .err()
            .map(|e| e.to_string()),
    }
}

/// A connection through NAT64: the target's IPv4 addresses, each synthesized into the prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nat64Probe {
    pub target: String,
    pub prefix: Nat64Prefix,
    /// The target's IPv4 addresses (A records, or the literal), or why there are none.
    pub ipv4: Result<Vec<Ipv4Addr>, String>,
    /// Connections to the synthesized addresses, until one succeeds.
    pub attempts: Vec<Attempt>,
}

impl Nat64Probe {
    pub fn connected(&self) -> Option<&Attempt> {
        self.attempts.iter().find(|a| a.error.is_none())
    }
}

/// The IPv4 addresses of `host` (an IPv4 literal, or the A answers of a name).
pub fn ipv4_of(host: &str, resolver: &dyn Resolver) -> Result<Vec<Ipv4Addr>, String> {
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return Ok(vec![v4]);
    }
    let all = resolver.lookup(host)?;
    let v4: Vec<Ipv4Addr> = all
        .into_iter()
        .filter_map(|ip| match ip {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(_) => None,
        })
        .collect();
    if v4.is_empty() {
        Err(format!("{host} has no IPv4 address (A record)"))
    } else {
        Ok(v4)
    }
}

/// Connects to `target` (HOST:PORT) through `prefix`: every IPv4 address of the host, synthesized,
/// until one connection succeeds.
pub fn probe_nat64(target: &str, prefix: Nat64Prefix, resolver: &dyn Resolver) -> Nat64Probe {
    let (ipv4, attempts) = match split_target(target) {
        Err(e) => (Err(e), Vec::new()),
        Ok((host, port)) => match ipv4_of(&host, resolver) {
            Err(e) => (Err(e), Vec::new()),
            Ok(list) => {
                let mut attempts = Vec::new();
                for v4 in &list {
                    let attempt =
                        connect(SocketAddr::new(IpAddr::V6(synthesize(&prefix, *v4)), port));
                    let ok = attempt.error.is_none();
                    attempts.push(attempt);
                    if ok {
                        break;
                    }
                }
                (Ok(list), attempts)
            }
        },
    };
    Nat64Probe {
        target: target.to_string(),
        prefix,
        ipv4,
        attempts,
    }
}

/// A registry to look at: its name as image references spell it, the host and port a client
/// connects to, and the images that come from it (for the report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryTarget {
    pub registry: String,
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub images: Vec<String>,
}

/// What one registry looks like from this node, per family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryProbe {
    pub target: RegistryTarget,
    /// The lookup's error, if it failed.
    pub lookup_error: Option<String>,
    /// AAAA answers of the registry's own (outside the NAT64 prefix).
    pub aaaa: Vec<Ipv6Addr>,
    /// AAAA answers a DNS64 resolver synthesized (inside the NAT64 prefix).
    pub synthesized: Vec<Ipv6Addr>,
    pub a: Vec<Ipv4Addr>,
    /// A connection over the registry's own IPv6 address.
    pub ipv6: Option<Attempt>,
    /// A connection through NAT64 (a synthesized answer, or an A answer written into the prefix).
    pub nat64: Option<Attempt>,
    /// A connection over IPv4, when this node has an IPv4 default route.
    pub ipv4: Option<Attempt>,
}

impl RegistryProbe {
    fn ok(attempt: &Option<Attempt>) -> bool {
        attempt.as_ref().is_some_and(|a| a.error.is_none())
    }
    pub fn ipv6_ok(&self) -> bool {
        Self::ok(&self.ipv6)
    }
    pub fn nat64_ok(&self) -> bool {
        Self::ok(&self.nat64)
    }
    pub fn ipv4_ok(&self) -> bool {
        Self::ok(&self.ipv4)
    }
    /// An IPv6-only node can pull: over the registry's own IPv6 or through NAT64.
    pub fn pulls_ipv6_only(&self) -> bool {
        self.ipv6_ok() || self.nat64_ok()
    }
}

/// Looks a registry up and connects to it in every way this node can: its own IPv6 address,
/// through NAT64 (when `prefix` is known), and over IPv4 when `ipv4_route`.
pub fn probe_registry(
    target: &RegistryTarget,
    prefix: Option<Nat64Prefix>,
    ipv4_route: bool,
    resolver: &dyn Resolver,
) -> RegistryProbe {
    let mut probe = RegistryProbe {
        target: target.clone(),
        lookup_error: None,
        aaaa: Vec::new(),
        synthesized: Vec::new(),
        a: Vec::new(),
        ipv6: None,
        nat64: None,
        ipv4: None,
    };
    match resolver.lookup(&target.host) {
        Err(e) => probe.lookup_error = Some(e),
        Ok(all) => {
            for ip in all {
                match ip {
                    IpAddr::V4(v4) => probe.a.push(v4),
                    IpAddr::V6(v6) if prefix.is_some_and(|p| in_prefix(&p, v6)) => {
                        probe.synthesized.push(v6)
                    }
                    IpAddr::V6(v6) => probe.aaaa.push(v6),
                }
            }
        }
    }
    let port = target.port;
    probe.ipv6 = probe
        .aaaa
        .first()
        .map(|v6| connect(SocketAddr::new(IpAddr::V6(*v6), port)));
    let via_nat64 = probe.synthesized.first().copied().or_else(|| {
        prefix
            .zip(probe.a.first())
            .map(|(p, v4)| synthesize(&p, *v4))
    });
    probe.nat64 = via_nat64.map(|v6| connect(SocketAddr::new(IpAddr::V6(v6), port)));
    if ipv4_route {
        probe.ipv4 = probe
            .a
            .first()
            .map(|v4| connect(SocketAddr::new(IpAddr::V4(*v4), port)));
    }
    probe
}

/// Whether `addr` is inside the NAT64 prefix.
pub fn in_prefix(prefix: &Nat64Prefix, addr: Ipv6Addr) -> bool {
    let bits = u32::from(prefix.len);
    if bits == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - bits);
    (u128::from(addr) & mask) == (u128::from(prefix.prefix) & mask)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn prefix(text: &str) -> Nat64Prefix {
        let (addr, len) = text.split_once('/').unwrap();
        Nat64Prefix {
            prefix: addr.parse().unwrap(),
            len: len.parse().unwrap(),
        }
    }

    /// RFC 6052 section 2.4's table, and the inverse of RFC 7050 discovery.
    #[test]
    fn synthesis_follows_rfc6052() {
        let v4: Ipv4Addr = "192.0.2.33".parse().unwrap();
        let cases = [
            ("2001:db8::/32", "2001:db8:c000:221::"),
            ("2001:db8:100::/40", "2001:db8:1c0:2:21::"),
            ("2001:db8:122::/48", "2001:db8:122:c000:2:2100::"),
            ("2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"),
            ("2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"),
            ("2001:db8:122:344::/96", "2001:db8:122:344::192.0.2.33"),
            ("64:ff9b::/96", "64:ff9b::192.0.2.33"),
        ];
        for (p, want) in cases {
            let got = synthesize(&prefix(p), v4);
            assert_eq!(got, want.parse::<Ipv6Addr>().unwrap(), "{p}");
            let back = synthesize(&prefix(p), crate::dns::WELL_KNOWN_IPV4[0]);
            assert_eq!(crate::dns::nat64_prefix(back), Some(prefix(p)), "{p}");
        }
    }

    #[test]
    fn resolv_conf_nameservers() {
        let text = "# generated\nsearch example.test\nnameserver 192.0.2.53\nnameserver fe80::1%eth0 ; zone\nnameserver 2001:db8::53\nnameserver bogus\noptions edns0\n";
        let got: Vec<String> = parse_resolv_conf(text)
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(got, ["192.0.2.53", "fe80::1", "2001:db8::53"]);
    }

    #[test]
    fn systemd_resolved_stub_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::create_dir_all(dir.path().join("run/systemd/resolve")).unwrap();
        std::fs::write(
            dir.path().join("etc/resolv.conf"),
            "nameserver 127.0.0.53\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(SYSTEMD_RESOLVED_UPSTREAM),
            "nameserver 2001:db8::53\n",
        )
        .unwrap();
        let conf = read_resolv_conf(dir.path());
        assert_eq!(conf.path, dir.path().join(SYSTEMD_RESOLVED_UPSTREAM));
        assert_eq!(conf.nameservers.unwrap().len(), 1);
        assert!(conf.stub.is_some());
        let missing = read_resolv_conf(&dir.path().join("nothing"));
        assert!(missing.nameservers.is_err() && !missing.exists);
    }

    #[test]
    fn addresses_inside_the_nat64_prefix() {
        let p = prefix("2001:db8:64::/96");
        assert!(in_prefix(&p, "2001:db8:64::c000:20a".parse().unwrap()));
        assert!(!in_prefix(&p, "2001:db8:65::c000:20a".parse().unwrap()));
    }

    #[test]
    fn targets_split_into_host_and_port() {
        assert_eq!(
            split_target("registry.k8s.io:443").unwrap(),
            ("registry.k8s.io".to_string(), 443)
        );
        assert_eq!(
            split_target("[2001:db8::1]:53").unwrap(),
            ("2001:db8::1".to_string(), 53)
        );
        assert!(split_target("registry.k8s.io").is_err());
        assert!(split_target(":443").is_err());
        assert!(split_target("2001:db8::1").is_err());
    }
}
