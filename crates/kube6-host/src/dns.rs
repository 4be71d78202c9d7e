//! Name lookups: the node's hostname (through the system resolver, so `/etc/hosts` and
//! `/etc/nsswitch.conf` apply as they do for the kubelet) and RFC 7050 discovery of a NAT64
//! prefix from the AAAA answers for `ipv4only.arpa`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

use serde::{Deserialize, Serialize};

/// The name RFC 7050 (and RFC 8880) reserve for NAT64 prefix discovery.
pub const IPV4ONLY_ARPA: &str = "ipv4only.arpa";

/// The two IPv4 addresses `ipv4only.arpa` has (RFC 7050 section 2.2).
pub const WELL_KNOWN_IPV4: [Ipv4Addr; 2] =
    [Ipv4Addr::new(192, 0, 0, 170), Ipv4Addr::new(192, 0, 0, 171)];

/// Looks names up. The system implementation uses the C library's resolver; tests use a table.
pub trait Resolver {
    /// Every address of a name, in the resolver's order, without repeats.
    fn lookup(&self, name: &str) -> Result<Vec<IpAddr>, String>;
}

/// The C library's `getaddrinfo`, as every other program on the node resolves names.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn lookup(&self, name: &str) -> Result<Vec<IpAddr>, String> {
        let answers = (name, 0u16).to_socket_addrs().map_err(|e| e.to_string())?;
        let mut out: Vec<IpAddr> = Vec::new();
        for answer in answers {
            if !out.contains(&answer.ip()) {
                out.push(answer.ip());
            }
        }
        Ok(out)
    }
}

/// A NAT64 prefix as found in a synthesized answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nat64Prefix {
    pub prefix: Ipv6Addr,
    pub len: u8,
}

impl std::fmt::Display for Nat64Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.prefix, self.len)
    }
}

/// The result of RFC 7050 discovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dns64Probe {
    /// The IPv6 answers for `ipv4only.arpa`, or the lookup error.
    pub answers: Result<Vec<Ipv6Addr>, String>,
    /// The NAT64 prefixes found in those answers.
    pub prefixes: Vec<Nat64Prefix>,
}

/// Asks the resolver for `ipv4only.arpa` and extracts the NAT64 prefixes from its IPv6 answers.
pub fn probe_dns64(resolver: &dyn Resolver) -> Dns64Probe {
    let answers = resolver.lookup(IPV4ONLY_ARPA).map(|all| {
        all.into_iter()
            .filter_map(|ip| match ip {
                IpAddr::V6(v6) => Some(v6),
                IpAddr::V4(_) => None,
            })
            .collect::<Vec<_>>()
    });
    let mut prefixes = Vec::new();
    if let Ok(list) = &answers {
        for answer in list {
            if let Some(prefix) = nat64_prefix(*answer)
                && !prefixes.contains(&prefix)
            {
                prefixes.push(prefix);
            }
        }
    }
    Dns64Probe { answers, prefixes }
}

/// The RFC 6052 prefix that embeds one of the well-known IPv4 addresses in `answer`, trying the
/// prefix lengths from /96 down to /32. Bits 64..72 (the "u" octet) never carry IPv4 bits.
pub fn nat64_prefix(answer: Ipv6Addr) -> Option<Nat64Prefix> {
    let bytes = answer.octets();
    for len in [96u8, 64, 56, 48, 40, 32] {
        let start = usize::from(len / 8);
        let embedded: Vec<u8> = (start..16)
            .filter(|&i| i != 8)
            .take(4)
            .map(|i| bytes[i])
            .collect();
        let v4 = Ipv4Addr::new(embedded[0], embedded[1], embedded[2], embedded[3]);
        if WELL_KNOWN_IPV4.contains(&v4) {
            let mut prefix = [0u8; 16];
            prefix[..start].copy_from_slice(&bytes[..start]);
            return Some(Nat64Prefix {
                prefix: Ipv6Addr::from(prefix),
                len,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    pub struct Table(pub HashMap<String, Result<Vec<IpAddr>, String>>);

    impl Resolver for Table {
        fn lookup(&self, name: &str) -> Result<Vec<IpAddr>, String> {
            self.0
                .get(name)
                .cloned()
                .unwrap_or_else(|| Err("not found".into()))
        }
    }

    #[test]
    fn prefixes_of_every_rfc6052_length() {
        let cases = [
            ("64:ff9b::c000:aa", "64:ff9b::/96"),
            ("2001:db8:64::c000:ab", "2001:db8:64::/96"),
            ("2001:db8:122:344:c0:0:aa00:0", "2001:db8:122:344::/64"),
            ("2001:db8:122:3c0:0:aa:0:0", "2001:db8:122:300::/56"),
            ("2001:db8:122:c000:0:aa00:0:0", "2001:db8:122::/48"),
            ("2001:db8:1c0:0:aa::", "2001:db8:100::/40"),
            ("2001:db8:c000:aa::", "2001:db8::/32"),
        ];
        for (answer, want) in cases {
            let got = nat64_prefix(answer.parse().unwrap()).map(|p| p.to_string());
            assert_eq!(got.as_deref(), Some(want), "{answer}");
        }
        assert_eq!(nat64_prefix("2001:db8::1".parse().unwrap()), None);
    }

    #[test]
    fn probe_keeps_ipv6_answers_only() {
        let mut t = HashMap::new();
        t.insert(
            IPV4ONLY_ARPA.to_string(),
            Ok(vec![
                "192.0.0.170".parse().unwrap(),
                "64:ff9b::c000:aa".parse().unwrap(),
                "64:ff9b::c000:ab".parse().unwrap(),
            ]),
        );
        let probe = probe_dns64(&Table(t));
        assert_eq!(probe.prefixes.len(), 1);
        assert_eq!(probe.prefixes[0].to_string(), "64:ff9b::/96");
        let probe = probe_dns64(&Table(HashMap::new()));
        assert!(probe.answers.is_err());
        assert!(probe.prefixes.is_empty());
    }
}
