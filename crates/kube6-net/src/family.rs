//! IP address families, spelled as Kubernetes spells them (`IPv4`, `IPv6`).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// An IP address family.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::VariantArray,
)]
pub enum Family {
    /// IPv4 (32-bit addresses).
    IPv4,
    /// IPv6 (128-bit addresses).
    IPv6,
}

impl Family {
    /// Both families, IPv4 first (derived: declaration order).
    pub const ALL: &'static [Family] = <Family as strum::VariantArray>::VARIANTS;

    /// The family of an address. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is IPv6, as the
    /// kernel and Kubernetes treat it when it is written in IPv6 notation.
    pub fn of_addr(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::IPv4,
            IpAddr::V6(_) => Family::IPv6,
        }
    }

    /// The family of a network.
    pub fn of_net(net: &IpNet) -> Family {
        match net {
            IpNet::V4(_) => Family::IPv4,
            IpNet::V6(_) => Family::IPv6,
        }
    }

    /// Address width in bits: 32 or 128.
    pub fn bits(self) -> u8 {
        match self {
            Family::IPv4 => 32,
            Family::IPv6 => 128,
        }
    }

    /// The other family.
    pub fn other(self) -> Family {
        match self {
            Family::IPv4 => Family::IPv6,
            Family::IPv6 => Family::IPv4,
        }
    }

    /// The Kubernetes spelling: `IPv4` or `IPv6`.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::IPv4 => "IPv4",
            Family::IPv6 => "IPv6",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A family name that is neither `IPv4` nor `IPv6`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown address family {0:?}: use IPv4 or IPv6")]
pub struct FamilyParseError(pub String);

impl FromStr for Family {
    type Err = FamilyParseError;

    /// Accepts `IPv4`/`IPv6` in any letter case, and `4`/`6`, since people type all of them.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ipv4" | "4" | "inet" => Ok(Family::IPv4),
            "ipv6" | "6" | "inet6" => Ok(Family::IPv6),
            _ => Err(FamilyParseError(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kubernetes_spelling_and_short_forms() {
        assert_eq!("IPv6".parse::<Family>(), Ok(Family::IPv6));
        assert_eq!("ipv4".parse::<Family>(), Ok(Family::IPv4));
        assert_eq!("6".parse::<Family>(), Ok(Family::IPv6));
        assert!("IPv5".parse::<Family>().is_err());
    }

    #[test]
    fn family_of_addresses() {
        assert_eq!(Family::of_addr(&"fd00::1".parse().unwrap()), Family::IPv6);
        assert_eq!(Family::of_addr(&"192.0.2.1".parse().unwrap()), Family::IPv4);
        assert_eq!(Family::IPv6.bits(), 128);
        assert_eq!(Family::IPv4.other(), Family::IPv6);
    }
}
