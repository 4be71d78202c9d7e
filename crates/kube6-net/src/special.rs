//! Special-purpose address ranges (IANA special-purpose registries) that pod and service ranges
//! must not use, plus the classification helpers for ULA, IPv6 global unicast and private IPv4.
//!
//! This module owns the table of special ranges, their RFCs, and the overlap query; deciding how
//! severe an overlap is belongs to the rules that call it.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

use crate::cidr::{contains_net, overlaps};

/// A special-purpose range that must not hold pods or services (except
/// [`SpecialRange::SharedAddressSpace`], which is reported for information only).
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
pub enum SpecialRange {
    /// 0.0.0.0/32 and ::/128.
    Unspecified,
    /// 127.0.0.0/8 and ::1/128.
    Loopback,
    /// 169.254.0.0/16 and fe80::/10.
    LinkLocal,
    /// 224.0.0.0/4 and ff00::/8.
    Multicast,
    /// fec0::/10, deprecated by RFC 3879.
    SiteLocal,
    /// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32 and 3fff::/20.
    Documentation,
    /// ::ffff:0:0/96, IPv4-mapped IPv6 addresses.
    Ipv4Mapped,
    /// 100::/64, the discard-only prefix.
    Discard,
    /// 2001::/32, Teredo.
    Teredo,
    /// 64:ff9b::/96, the NAT64 well-known prefix.
    Nat64WellKnown,
    /// 255.255.255.255/32, limited broadcast.
    Broadcast,
    /// 0.0.0.0/8, "this network".
    ThisNetwork,
    /// 240.0.0.0/4, reserved for future use.
    Reserved,
    /// 100.64.0.0/10, carrier-grade NAT shared address space (information only: usable, but may
    /// collide with the provider's network).
    SharedAddressSpace,
}

const fn v4(a: u8, b: u8, c: u8, d: u8, p: u8) -> IpNet {
    IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), p))
}

const fn v6(s: [u16; 8], p: u8) -> IpNet {
    IpNet::V6(Ipv6Net::new_assert(
        Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]),
        p,
    ))
}

const UNSPECIFIED: &[IpNet] = &[v4(0, 0, 0, 0, 32), v6([0; 8], 128)];
const LOOPBACK: &[IpNet] = &[v4(127, 0, 0, 0, 8), v6([0, 0, 0, 0, 0, 0, 0, 1], 128)];
const LINK_LOCAL: &[IpNet] = &[
    v4(169, 254, 0, 0, 16),
    v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),
];
const MULTICAST: &[IpNet] = &[v4(224, 0, 0, 0, 4), v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8)];
const SITE_LOCAL: &[IpNet] = &[v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10)];
const DOCUMENTATION: &[IpNet] = &[
    v4(192, 0, 2, 0, 24),
    v4(198, 51, 100, 0, 24),
    v4(203, 0, 113, 0, 24),
    v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32),
    v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),
];
const IPV4_MAPPED: &[IpNet] = &[v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96)];
const DISCARD: &[IpNet] = &[v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64)];
const TEREDO: &[IpNet] = &[v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32)];
const NAT64: &[IpNet] = &[v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96)];
const BROADCAST: &[IpNet] = &[v4(255, 255, 255, 255, 32)];
const THIS_NETWORK: &[IpNet] = &[v4(0, 0, 0, 0, 8)];
const RESERVED: &[IpNet] = &[v4(240, 0, 0, 0, 4)];
const SHARED: &[IpNet] = &[v4(100, 64, 0, 0, 10)];

const ULA: IpNet = v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7);
const GLOBAL_UNICAST: IpNet = v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3);
const PRIVATE_V4: &[IpNet] = &[
    v4(10, 0, 0, 0, 8),
    v4(172, 16, 0, 0, 12),
    v4(192, 168, 0, 0, 16),
    v4(100, 64, 0, 0, 10),
];

impl SpecialRange {
    /// Every variant, in declaration order (derived: a new variant cannot be left out).
    pub const ALL: &'static [SpecialRange] = <SpecialRange as strum::VariantArray>::VARIANTS;

    /// The CIDRs this special range consists of (both families where it has both).
    pub fn cidrs(&self) -> &'static [IpNet] {
        match self {
            SpecialRange::Unspecified => UNSPECIFIED,
            SpecialRange::Loopback => LOOPBACK,
            SpecialRange::LinkLocal => LINK_LOCAL,
            SpecialRange::Multicast => MULTICAST,
            SpecialRange::SiteLocal => SITE_LOCAL,
            SpecialRange::Documentation => DOCUMENTATION,
            SpecialRange::Ipv4Mapped => IPV4_MAPPED,
            SpecialRange::Discard => DISCARD,
            SpecialRange::Teredo => TEREDO,
            SpecialRange::Nat64WellKnown => NAT64,
            SpecialRange::Broadcast => BROADCAST,
            SpecialRange::ThisNetwork => THIS_NETWORK,
            SpecialRange::Reserved => RESERVED,
            SpecialRange::SharedAddressSpace => SHARED,
        }
    }

    /// A short human name, e.g. "link-local".
    pub fn name(&self) -> &'static str {
        match self {
            SpecialRange::Unspecified => "unspecified address",
            SpecialRange::Loopback => "loopback",
            SpecialRange::LinkLocal => "link-local",
            SpecialRange::Multicast => "multicast",
            SpecialRange::SiteLocal => "site-local (deprecated)",
            SpecialRange::Documentation => "documentation",
            SpecialRange::Ipv4Mapped => "IPv4-mapped IPv6",
            SpecialRange::Discard => "discard-only",
            SpecialRange::Teredo => "Teredo",
            SpecialRange::Nat64WellKnown => "NAT64 well-known prefix",
            SpecialRange::Broadcast => "limited broadcast",
            SpecialRange::ThisNetwork => "\"this network\"",
            SpecialRange::Reserved => "reserved (future use)",
            SpecialRange::SharedAddressSpace => "shared address space (carrier-grade NAT)",
        }
    }

    /// The RFC(s) that define the range, e.g. "RFC 4291".
    pub fn rfc(&self) -> &'static str {
        match self {
            SpecialRange::Unspecified => "RFC 1122, RFC 4291",
            SpecialRange::Loopback => "RFC 1122, RFC 4291",
            SpecialRange::LinkLocal => "RFC 3927, RFC 4291",
            SpecialRange::Multicast => "RFC 5771, RFC 4291",
            SpecialRange::SiteLocal => "RFC 3879",
            SpecialRange::Documentation => "RFC 5737, RFC 3849, RFC 9637",
            SpecialRange::Ipv4Mapped => "RFC 4291",
            SpecialRange::Discard => "RFC 6666",
            SpecialRange::Teredo => "RFC 4380",
            SpecialRange::Nat64WellKnown => "RFC 6052",
            SpecialRange::Broadcast => "RFC 919, RFC 8190",
            SpecialRange::ThisNetwork => "RFC 791, RFC 1122",
            SpecialRange::Reserved => "RFC 1112",
            SpecialRange::SharedAddressSpace => "RFC 6598",
        }
    }

    /// True for ranges reported for information only (they may legitimately hold pods, but can
    /// collide with the surrounding network): the shared address space.
    pub fn is_info_only(&self) -> bool {
        matches!(self, SpecialRange::SharedAddressSpace)
    }
}

impl fmt::Display for SpecialRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.rfc())
    }
}

/// Every special range that overlaps `net`, each with the special range's CIDR that it overlaps.
/// A range with several CIDRs (documentation) can appear more than once.
pub fn special_overlaps(net: &IpNet) -> Vec<(SpecialRange, IpNet)> {
    SpecialRange::ALL
        .iter()
        .flat_map(|r| r.cidrs().iter().map(move |c| (*r, *c)))
        .filter(|(_, c)| overlaps(net, c))
        .collect()
}

/// True when `net` lies inside the IPv6 unique local range fc00::/7 (RFC 4193).
pub fn is_ula(net: &IpNet) -> bool {
    contains_net(&ULA, net)
}

/// True when `net` lies inside the IPv6 global unicast range 2000::/3.
pub fn is_global_unicast_v6(net: &IpNet) -> bool {
    contains_net(&GLOBAL_UNICAST, net)
}

/// True when `net` lies inside an RFC 1918 private range (10/8, 172.16/12, 192.168/16) or the
/// RFC 6598 shared address space 100.64/10.
pub fn is_private_v4(net: &IpNet) -> bool {
    PRIVATE_V4.iter().any(|p| contains_net(p, net))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn table_is_well_formed() {
        for &r in SpecialRange::ALL {
            assert!(!r.cidrs().is_empty());
            assert!(r.rfc().starts_with("RFC "));
            for c in r.cidrs() {
                assert_eq!(*c, c.trunc(), "{r:?} {c}");
            }
        }
        assert_eq!(
            SpecialRange::Discard.cidrs(),
            &[net("100::/64")],
            "discard prefix"
        );
        assert_eq!(SpecialRange::Ipv4Mapped.cidrs(), &[net("::ffff:0:0/96")]);
        assert_eq!(SpecialRange::Nat64WellKnown.cidrs(), &[net("64:ff9b::/96")]);
        assert_eq!(SpecialRange::Teredo.cidrs(), &[net("2001::/32")]);
    }

    #[test]
    fn overlaps_found() {
        let cases: [(&str, &[(SpecialRange, &str)]); 9] = [
            ("fd00::/108", &[]),
            ("10.244.0.0/16", &[]),
            ("fe80::/64", &[(SpecialRange::LinkLocal, "fe80::/10")]),
            (
                "2001:db8:1::/64",
                &[(SpecialRange::Documentation, "2001:db8::/32")],
            ),
            ("3fff::/64", &[(SpecialRange::Documentation, "3fff::/20")]),
            ("fec0::/64", &[(SpecialRange::SiteLocal, "fec0::/10")]),
            (
                "100.64.0.0/16",
                &[(SpecialRange::SharedAddressSpace, "100.64.0.0/10")],
            ),
            (
                "0.0.0.0/8",
                &[
                    (SpecialRange::Unspecified, "0.0.0.0/32"),
                    (SpecialRange::ThisNetwork, "0.0.0.0/8"),
                ],
            ),
            (
                "::/96",
                &[
                    (SpecialRange::Unspecified, "::/128"),
                    (SpecialRange::Loopback, "::1/128"),
                ],
            ),
        ];
        for (n, want) in cases {
            let got = special_overlaps(&net(n));
            let want: Vec<_> = want.iter().map(|(r, c)| (*r, net(c))).collect();
            assert_eq!(got, want, "{n}");
        }
        // A huge range overlaps many.
        assert!(special_overlaps(&net("::/0")).len() > 8);
        assert!(special_overlaps(&net("0.0.0.0/0")).len() > 8);
    }

    #[test]
    fn classification() {
        assert!(is_ula(&net("fd00::/108")));
        assert!(is_ula(&net("fc00::/7")));
        assert!(!is_ula(&net("fc00::/6")));
        assert!(!is_ula(&net("10.0.0.0/8")));
        assert!(is_global_unicast_v6(&net("2001:db8::/32")));
        assert!(!is_global_unicast_v6(&net("fd00::/8")));
        assert!(is_private_v4(&net("10.244.0.0/16")));
        assert!(is_private_v4(&net("172.31.0.0/16")));
        assert!(is_private_v4(&net("100.64.0.0/10")));
        assert!(!is_private_v4(&net("172.32.0.0/16")));
        assert!(!is_private_v4(&net("fd00::/8")));
    }
}
