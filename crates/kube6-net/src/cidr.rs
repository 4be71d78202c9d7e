//! CIDR parsing and address arithmetic.
//!
//! This module owns: strict parsing of CIDR and address text (with errors a user can act on), the
//! canonical form of a network, exact range sizes ([`AddressCount`], a power of two up to 2^128),
//! indexing into a range (`nth_address`, `indexed_ip`, `add_to_last_byte`), and containment and
//! overlap tests. Everything is pure; nothing here touches the system.

use std::cmp::Ordering;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::Family;

/// Why a CIDR or address text could not be parsed. Every message says what was wrong and what a
/// valid value looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// The text is empty (or only whitespace).
    #[error("empty value: expected a CIDR such as 10.244.0.0/16 or fd00:10:244::/56")]
    Empty,

    /// The CIDR has whitespace around or in it. Go's `net.ParseCIDR` and `netip.ParsePrefix`,
    /// which k0s, k3s, kubeadm, Kubermatic and Calico parse CIDRs with, refuse it (they split
    /// lists at commas without trimming).
    #[error(
        "{text:?} has a space (or tab) in it, which the components refuse: write {trimmed} \
         (in a comma-separated list, no space after the commas either)"
    )]
    Whitespace {
        /// The text as given.
        text: String,
        /// The text without its whitespace.
        trimmed: String,
    },

    /// A bare address was given where a CIDR is required.
    #[error(
        "{text:?} is an address without a prefix length: write {text}/{max} for this single address, \
         or give the network with its prefix length (e.g. {example})"
    )]
    MissingPrefix {
        /// The text as given (trimmed).
        text: String,
        /// 32 or 128: the prefix length that makes it a single-address CIDR.
        max: u8,
        /// An example network of the same family.
        example: &'static str,
    },

    /// The text carries an IPv6 zone id (`%eth0`), which has no meaning in a cluster range.
    #[error(
        "{text:?} has a zone id ({zone:?}): zones are only meaningful for link-local addresses on one \
         host and are not accepted here; remove the %{zone} part"
    )]
    ZoneId {
        /// The text as given (trimmed).
        text: String,
        /// The zone id after `%`.
        zone: String,
    },

    /// The address is written in brackets (`[fd00::1]`), as in a URL.
    #[error(
        "{text:?} is written with brackets: brackets belong in URLs (with a port), not in an address \
         or CIDR; write it without them, e.g. fd00::1 or fd00::/64"
    )]
    Brackets {
        /// The text as given (trimmed).
        text: String,
    },

    /// An IPv4 octet has a leading zero (`010.0.0.0`).
    #[error(
        "{text:?} has an IPv4 octet with a leading zero ({octet:?}): Go's net/netip, which Kubernetes \
         components use, rejects it because it could be read as octal; write {suggestion}"
    )]
    LeadingZero {
        /// The text as given (trimmed).
        text: String,
        /// The offending octet.
        octet: String,
        /// The same text with the leading zeros removed.
        suggestion: String,
    },

    /// The address part is not an IPv4 or IPv6 address.
    #[error(
        "{text:?}: {addr:?} is not a valid IP address; expected IPv4 dotted decimal (10.96.0.0) or \
         IPv6 (fd00:10:96::)"
    )]
    InvalidAddress {
        /// The text as given (trimmed).
        text: String,
        /// The address part that failed to parse.
        addr: String,
    },

    /// The part after `/` is not a plain decimal number.
    #[error(
        "{text:?}: prefix length {prefix:?} is not a plain decimal number; write it like /16 or /64 \
         (no sign, no leading zeros, no netmask)"
    )]
    InvalidPrefix {
        /// The text as given (trimmed).
        text: String,
        /// The part after `/`.
        prefix: String,
    },

    /// The prefix length is larger than the address width.
    #[error("{text:?}: prefix length /{prefix} is out of range for {family}; use /0 to /{max}")]
    PrefixOutOfRange {
        /// The text as given (trimmed).
        text: String,
        /// The prefix length given.
        prefix: u32,
        /// The family of the address.
        family: Family,
        /// 32 or 128.
        max: u8,
    },

    /// A CIDR was given where a single address is expected.
    #[error(
        "{text:?} is a CIDR, but a single IP address is expected here: drop the /prefix part \
         (e.g. fd00::1 or 10.96.0.10)"
    )]
    UnexpectedPrefix {
        /// The text as given (trimmed).
        text: String,
    },
}

/// A CIDR as parsed: the canonical network and what the user actually wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParsedCidr {
    /// The canonical network: host bits cleared.
    pub net: IpNet,
    /// True when the text had host bits set (`fd00::1/108`); Kubernetes' strict validation rejects
    /// such values, while most flag parsers silently clear the bits.
    pub host_bits_set: bool,
    /// The network exactly as written (address with host bits kept).
    pub written: IpNet,
}

impl ParsedCidr {
    /// The address family of the network.
    pub fn family(&self) -> Family {
        Family::of_net(&self.net)
    }
}

impl fmt::Display for ParsedCidr {
    /// Prints the canonical network.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.net, f)
    }
}

/// Parses one CIDR (`10.244.0.0/16`, `fd00::/108`) as Go's `net.ParseCIDR` reads it: whitespace,
/// a bare address, a zone id, brackets, IPv4 octets with leading zeros and prefix lengths out of
/// range are errors. Host bits may be set; the result records that in [`ParsedCidr::host_bits_set`].
/// An IPv4-mapped IPv6 text (`::ffff:10.0.0.0/104`) stays IPv6.
pub fn parse_cidr(text: &str) -> Result<ParsedCidr, CidrError> {
    if text.trim().is_empty() {
        return Err(CidrError::Empty);
    }
    if text.contains(char::is_whitespace) {
        return Err(CidrError::Whitespace {
            text: text.to_string(),
            trimmed: text.split_whitespace().collect(),
        });
    }
    check_common(text)?;
    let Some((addr_text, prefix_text)) = text.split_once('/') else {
        let addr = parse_addr_part(text, text)?;
        let (max, example) = match addr {
            IpAddr::V4(_) => (32, "10.244.0.0/16"),
            IpAddr::V6(_) => (128, "fd00:10:244::/56"),
        };
        return Err(CidrError::MissingPrefix {
            text: text.to_string(),
            max,
            example,
        });
    };
    let addr = parse_addr_part(text, addr_text)?;
    let prefix = parse_prefix(text, prefix_text)?;
    let family = Family::of_addr(&addr);
    let max = family.bits();
    if prefix > u32::from(max) {
        return Err(CidrError::PrefixOutOfRange {
            text: text.to_string(),
            prefix,
            family,
            max,
        });
    }
    // prefix <= max <= 128 here, so the conversion and the constructor cannot fail.
    let prefix = prefix as u8;
    let written = match addr {
        IpAddr::V4(a) => IpNet::V4(Ipv4Net::new_assert(a, prefix)),
        IpAddr::V6(a) => IpNet::V6(Ipv6Net::new_assert(a, prefix)),
    };
    let net = written.trunc();
    Ok(ParsedCidr {
        net,
        host_bits_set: net.addr() != written.addr(),
        written,
    })
}

/// Parses a comma-separated list of CIDRs (as k3s `cluster-cidr` and kubeadm `podSubnet` take
/// them). Each element is parsed with [`parse_cidr`]; the result has one entry per element, in
/// order, so an empty element (`a,,b`) shows up as [`CidrError::Empty`].
pub fn parse_cidr_list(text: &str) -> Vec<Result<ParsedCidr, CidrError>> {
    text.split(',').map(parse_cidr).collect()
}

/// Parses one IP address (no prefix, no brackets, no zone id; surrounding whitespace is ignored).
pub fn parse_ip(text: &str) -> Result<IpAddr, CidrError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(CidrError::Empty);
    }
    check_common(text)?;
    if text.contains('/') {
        return Err(CidrError::UnexpectedPrefix {
            text: text.to_string(),
        });
    }
    parse_addr_part(text, text)
}

/// Checks shared by addresses and CIDRs: zone ids and brackets.
fn check_common(text: &str) -> Result<(), CidrError> {
    if let Some((_, zone)) = text.split_once('%') {
        let zone = zone.split('/').next().unwrap_or_default();
        return Err(CidrError::ZoneId {
            text: text.to_string(),
            zone: zone.to_string(),
        });
    }
    if text.contains('[') || text.contains(']') {
        return Err(CidrError::Brackets {
            text: text.to_string(),
        });
    }
    Ok(())
}

/// Parses the address part of `text`, rejecting IPv4 octets with leading zeros (also inside an
/// IPv4-suffixed IPv6 address).
fn parse_addr_part(text: &str, addr: &str) -> Result<IpAddr, CidrError> {
    // The dotted part is whatever follows the last ':' (all of it for plain IPv4).
    let dotted_start = addr.rfind(':').map_or(0, |i| i + 1);
    let dotted = &addr[dotted_start..];
    if dotted.contains('.') {
        let bad = dotted
            .split('.')
            .find(|o| o.len() > 1 && o.starts_with('0') && o.bytes().all(|b| b.is_ascii_digit()));
        if let Some(octet) = bad {
            let fixed: Vec<String> = dotted
                .split('.')
                .map(|o| {
                    if o.len() > 1 && o.bytes().all(|b| b.is_ascii_digit()) {
                        let t = o.trim_start_matches('0');
                        if t.is_empty() {
                            "0".to_string()
                        } else {
                            t.to_string()
                        }
                    } else {
                        o.to_string()
                    }
                })
                .collect();
            let suggestion = format!(
                "{}{}{}",
                &addr[..dotted_start],
                fixed.join("."),
                &text[addr.len().min(text.len())..]
            );
            return Err(CidrError::LeadingZero {
                text: text.to_string(),
                octet: octet.to_string(),
                suggestion,
            });
        }
    }
    addr.parse::<IpAddr>()
        .map_err(|_| CidrError::InvalidAddress {
            text: text.to_string(),
            addr: addr.to_string(),
        })
}

/// Parses the prefix length: plain decimal digits, no sign, no leading zeros.
fn parse_prefix(text: &str, prefix: &str) -> Result<u32, CidrError> {
    let invalid = || CidrError::InvalidPrefix {
        text: text.to_string(),
        prefix: prefix.to_string(),
    };
    if prefix.is_empty()
        || prefix.len() > 3
        || !prefix.bytes().all(|b| b.is_ascii_digit())
        || (prefix.len() > 1 && prefix.starts_with('0'))
    {
        return Err(invalid());
    }
    prefix.parse::<u32>().map_err(|_| invalid())
}

/// The number of addresses in a range, or of blocks in a range: always an exact power of two 2^k
/// with k in 0..=128. Range sizes, `maxNodes` and `addressesPerNode` are all of this form.
///
/// Serializes as a JSON number when it fits in a `u64`, otherwise as a decimal string (the plan
/// JSON contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddressCount {
    log2: u8,
}

/// 2^128 in decimal, which does not fit in a `u128`.
const TWO_POW_128: &str = "340282366920938463463374607431768211456";

impl AddressCount {
    /// One address (2^0).
    pub const ONE: AddressCount = AddressCount { log2: 0 };

    /// 2^k. `k` above 128 is clamped to 128 (the largest range there is).
    pub fn pow2(k: u8) -> Self {
        AddressCount { log2: k.min(128) }
    }

    /// The count as a power of two, if `n` is one (`n` = 0 is not).
    pub fn from_u128(n: u128) -> Option<Self> {
        n.is_power_of_two().then(|| AddressCount {
            log2: n.trailing_zeros() as u8,
        })
    }

    /// k, where the count is 2^k.
    pub fn log2(&self) -> u8 {
        self.log2
    }

    /// The exact value, or `None` for 2^128.
    pub fn to_u128(&self) -> Option<u128> {
        1u128.checked_shl(u32::from(self.log2))
    }

    /// The exact value, or `None` when it is 2^64 or more.
    pub fn to_u64(&self) -> Option<u64> {
        1u64.checked_shl(u32::from(self.log2))
    }

    /// The value as a `u128`, saturating 2^128 to `u128::MAX`.
    pub fn saturating_u128(&self) -> u128 {
        self.to_u128().unwrap_or(u128::MAX)
    }

    /// This count divided by `other` (2^(a-b)), or `None` if `other` is larger.
    pub fn checked_div(&self, other: AddressCount) -> Option<AddressCount> {
        self.log2.checked_sub(other.log2).map(AddressCount::pow2)
    }

    /// This count multiplied by `other`, or `None` if it exceeds 2^128.
    pub fn checked_mul(&self, other: AddressCount) -> Option<AddressCount> {
        let k = u16::from(self.log2) + u16::from(other.log2);
        (k <= 128).then(|| AddressCount::pow2(k as u8))
    }

    /// Compares with a plain integer.
    pub fn cmp_u128(&self, n: u128) -> Ordering {
        match self.to_u128() {
            Some(v) => v.cmp(&n),
            None => Ordering::Greater,
        }
    }

    /// The exact decimal value with thousands separators, for text output: `65,536`.
    pub fn human(&self) -> String {
        let digits = self.to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    }
}

impl fmt::Display for AddressCount {
    /// The exact decimal value (2^128 = 340282366920938463463374607431768211456).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_u128() {
            Some(v) => fmt::Display::fmt(&v, f),
            None => f.pad(TWO_POW_128),
        }
    }
}

impl Serialize for AddressCount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.to_u64() {
            Some(v) => serializer.serialize_u64(v),
            None => serializer.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for AddressCount {
    /// Accepts what [`Serialize`] writes: a JSON number, or a decimal string for 2^64 and above.
    /// The value must be a power of two.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CountVisitor;

        impl CountVisitor {
            fn check<E: de::Error>(n: u128) -> Result<AddressCount, E> {
                AddressCount::from_u128(n).ok_or_else(|| {
                    E::custom(format!(
                        "{n} is not a power of two (an address count is 2^k)"
                    ))
                })
            }
        }

        impl Visitor<'_> for CountVisitor {
            type Value = AddressCount;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a power of two as a number or a decimal string")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AddressCount, E> {
                Self::check(u128::from(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AddressCount, E> {
                let v = u128::try_from(v)
                    .map_err(|_| E::custom("an address count cannot be negative"))?;
                Self::check(v)
            }

            fn visit_u128<E: de::Error>(self, v: u128) -> Result<AddressCount, E> {
                Self::check(v)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<AddressCount, E> {
                let t = v.trim();
                if t == TWO_POW_128 {
                    return Ok(AddressCount::pow2(128));
                }
                let n = t
                    .replace(',', "")
                    .parse::<u128>()
                    .map_err(|_| E::custom(format!("{v:?} is not a decimal address count")))?;
                Self::check(n)
            }
        }

        deserializer.deserialize_any(CountVisitor)
    }
}

/// An address as an integer, with its width in bits.
pub(crate) fn addr_to_u128(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// The address of `family` with integer value `value` (truncated to the family's width).
pub(crate) fn u128_to_addr(family: Family, value: u128) -> IpAddr {
    match family {
        Family::IPv4 => IpAddr::V4(Ipv4Addr::from(value as u32)),
        Family::IPv6 => IpAddr::V6(Ipv6Addr::from(value)),
    }
}

/// Number of host bits of `net` (address width minus prefix length).
pub(crate) fn host_bits(net: &IpNet) -> u8 {
    net.max_prefix_len() - net.prefix_len()
}

/// The network address of `net` as an integer.
pub(crate) fn net_start(net: &IpNet) -> u128 {
    addr_to_u128(net.network())
}

/// The last address of `net` as an integer.
pub(crate) fn net_end(net: &IpNet) -> u128 {
    addr_to_u128(net.broadcast())
}

/// The number of addresses in `net`: 2^(width - prefix).
pub fn range_size(net: &IpNet) -> AddressCount {
    AddressCount::pow2(host_bits(net))
}

/// The address at offset `index` from the network address of `net`, or `None` if that is outside
/// the range (`index >= range_size(net)`).
pub fn nth_address(net: &IpNet, index: u128) -> Option<IpAddr> {
    if range_size(net).cmp_u128(index) != Ordering::Greater {
        return None;
    }
    let value = net_start(net).checked_add(index)?;
    Some(u128_to_addr(Family::of_net(net), value))
}

/// The last address of `net` (the IPv4 broadcast address; all host bits set).
pub fn last_address(net: &IpNet) -> IpAddr {
    net.broadcast()
}

/// True when `inner` lies entirely inside `outer` (same family; equal networks count). Host bits
/// of either argument are ignored.
pub fn contains_net(outer: &IpNet, inner: &IpNet) -> bool {
    Family::of_net(outer) == Family::of_net(inner)
        && outer.prefix_len() <= inner.prefix_len()
        && net_start(outer) <= net_start(inner)
        && net_end(inner) <= net_end(outer)
}

/// True when `a` and `b` share at least one address. Always false across families. For CIDRs this
/// means one contains the other.
pub fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    Family::of_net(a) == Family::of_net(b)
        && net_start(a) <= net_end(b)
        && net_start(b) <= net_end(a)
}

/// True when `net` contains the address `addr` (same family).
pub fn contains_addr(net: &IpNet, addr: &IpAddr) -> bool {
    Family::of_net(net) == Family::of_addr(addr) && {
        let v = addr_to_u128(*addr);
        net_start(net) <= v && v <= net_end(net)
    }
}

/// The canonical text of a network: host bits cleared, IPv6 in RFC 5952 form (lowercase, longest
/// zero run compressed), which is what Kubernetes' strict validation expects.
pub fn canonical_text(net: &IpNet) -> String {
    net.trunc().to_string()
}

/// The network address of `net` with `n` added to its last byte (how k0s and KKP derive the DNS
/// and API service IPs, e.g. `.10`). `None` if the byte overflows or the result leaves the range.
pub fn add_to_last_byte(net: &IpNet, n: u8) -> Option<IpAddr> {
    let addr = match net.network() {
        IpAddr::V4(a) => {
            let mut o = a.octets();
            o[3] = o[3].checked_add(n)?;
            IpAddr::V4(Ipv4Addr::from(o))
        }
        IpAddr::V6(a) => {
            let mut o = a.octets();
            o[15] = o[15].checked_add(n)?;
            IpAddr::V6(Ipv6Addr::from(o))
        }
    };
    contains_addr(net, &addr).then_some(addr)
}

/// The network address of `net` plus `index`, carrying across bytes (kubeadm's and k3s'
/// `GetIndexedIP`). `None` when the result is outside the range.
pub fn indexed_ip(net: &IpNet, index: u128) -> Option<IpAddr> {
    nth_address(net, index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn parses_canonical_and_host_bits() {
        let cases = [
            ("fd00::/108", "fd00::/108", false),
            ("10.244.0.0/16", "10.244.0.0/16", false),
            ("10.244.1.7/16", "10.244.0.0/16", true),
            ("FD00:0:0::/64", "fd00::/64", false),
            ("::/0", "::/0", false),
            ("0.0.0.0/0", "0.0.0.0/0", false),
            ("192.0.2.1/32", "192.0.2.1/32", false),
        ];
        for (text, canon, host_bits) in cases {
            let p = parse_cidr(text).unwrap();
            assert_eq!(canonical_text(&p.net), canon, "{text}");
            assert_eq!(p.host_bits_set, host_bits, "{text}");
            assert_eq!(p.written.prefix_len(), p.net.prefix_len());
        }
        let p = parse_cidr("fd00::1/108").unwrap();
        assert_eq!(p.written.addr(), "fd00::1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn ipv4_mapped_stays_ipv6() {
        let p = parse_cidr("::ffff:10.0.0.0/104").unwrap();
        assert_eq!(p.family(), Family::IPv6);
        assert_eq!(p.net.prefix_len(), 104);
        assert!(!p.host_bits_set);
    }

    #[test]
    fn parse_errors() {
        type Check = fn(&CidrError) -> bool;
        let cases: [(&str, Check); 14] = [
            ("", |e| matches!(e, CidrError::Empty)),
            ("   ", |e| matches!(e, CidrError::Empty)),
            ("fd00::1", |e| {
                matches!(e, CidrError::MissingPrefix { max: 128, .. })
            }),
            ("10.0.0.1", |e| {
                matches!(e, CidrError::MissingPrefix { max: 32, .. })
            }),
            (
                "fe80::1%eth0/64",
                |e| matches!(e, CidrError::ZoneId { zone, .. } if zone == "eth0"),
            ),
            ("[fd00::]/64", |e| matches!(e, CidrError::Brackets { .. })),
            (
                "010.0.0.0/8",
                |e| matches!(e, CidrError::LeadingZero { suggestion, .. } if suggestion == "10.0.0.0/8"),
            ),
            ("10.0.0.00/8", |e| {
                matches!(e, CidrError::LeadingZero { .. })
            }),
            ("::ffff:010.0.0.0/104", |e| {
                matches!(e, CidrError::LeadingZero { .. })
            }),
            ("10.0.0.0/33", |e| {
                matches!(
                    e,
                    CidrError::PrefixOutOfRange {
                        prefix: 33,
                        max: 32,
                        ..
                    }
                )
            }),
            ("fd00::/129", |e| {
                matches!(e, CidrError::PrefixOutOfRange { max: 128, .. })
            }),
            ("fd00::/abc", |e| {
                matches!(e, CidrError::InvalidPrefix { .. })
            }),
            ("fd00::/064", |e| {
                matches!(e, CidrError::InvalidPrefix { .. })
            }),
            ("fd00:::/64", |e| {
                matches!(e, CidrError::InvalidAddress { .. })
            }),
        ];
        for (text, check) in cases {
            let err = parse_cidr(text).unwrap_err();
            assert!(check(&err), "{text}: {err:?}");
            assert!(!err.to_string().is_empty());
        }
        let msg = parse_cidr("fd00::1").unwrap_err().to_string();
        assert!(msg.contains("fd00::1/128"), "{msg}");
        let msg = parse_cidr("010.0.0.0/8").unwrap_err().to_string();
        assert!(msg.contains("Go") && msg.contains("10.0.0.0/8"), "{msg}");
        assert!(matches!(
            parse_cidr("10.0.0.0/").unwrap_err(),
            CidrError::InvalidPrefix { .. }
        ));
    }

    #[test]
    fn parses_lists_and_ips() {
        let list = parse_cidr_list("10.42.0.0/16,fd00:42::/56");
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].as_ref().unwrap().net, net("fd00:42::/56"));
        // k3s and kubeadm split at commas and parse each part as it is: a space is an error.
        let list = parse_cidr_list("10.42.0.0/16, fd00:42::/56");
        assert_eq!(
            list[1],
            Err(CidrError::Whitespace {
                text: " fd00:42::/56".into(),
                trimmed: "fd00:42::/56".into()
            })
        );
        let list = parse_cidr_list("10.42.0.0/16,,x");
        assert_eq!(list[1], Err(CidrError::Empty));
        assert!(list[2].is_err());

        assert_eq!(
            parse_ip(" fd00::a ").unwrap(),
            "fd00::a".parse::<IpAddr>().unwrap()
        );
        assert!(matches!(
            parse_ip("fd00::/64"),
            Err(CidrError::UnexpectedPrefix { .. })
        ));
        assert!(matches!(
            parse_ip("[fd00::1]"),
            Err(CidrError::Brackets { .. })
        ));
        assert!(matches!(
            parse_ip("fe80::1%2"),
            Err(CidrError::ZoneId { .. })
        ));
        assert!(matches!(
            parse_ip("01.2.3.4"),
            Err(CidrError::LeadingZero { .. })
        ));
        assert!(matches!(
            parse_ip("nope"),
            Err(CidrError::InvalidAddress { .. })
        ));
    }

    #[test]
    fn address_count_display_and_serde() {
        assert_eq!(AddressCount::pow2(128).to_string(), TWO_POW_128);
        assert_eq!(range_size(&net("::/0")).to_string(), TWO_POW_128);
        assert_eq!(range_size(&net("::/0")).to_u128(), None);
        assert_eq!(AddressCount::pow2(127).to_u128(), Some(1u128 << 127));
        assert_eq!(AddressCount::pow2(64).to_u64(), None);
        assert_eq!(AddressCount::pow2(63).to_u64(), Some(1u64 << 63));
        assert_eq!(AddressCount::pow2(16).human(), "65,536");
        assert_eq!(AddressCount::pow2(0).human(), "1");
        assert_eq!(AddressCount::pow2(10).human(), "1,024");
        assert_eq!(AddressCount::pow2(20).human(), "1,048,576");
        assert_eq!(
            AddressCount::pow2(128).human(),
            "340,282,366,920,938,463,463,374,607,431,768,211,456"
        );
        assert!(AddressCount::pow2(3) < AddressCount::pow2(4));
        assert_eq!(AddressCount::from_u128(2048), Some(AddressCount::pow2(11)));
        assert_eq!(AddressCount::from_u128(3), None);
        assert_eq!(
            AddressCount::pow2(20).checked_div(AddressCount::pow2(9)),
            Some(AddressCount::pow2(11))
        );
        assert_eq!(
            AddressCount::pow2(100).checked_mul(AddressCount::pow2(29)),
            None
        );
    }

    #[test]
    fn address_count_serializes_per_contract() {
        // A minimal serializer check without serde_json: use the Display-based fallback and u64.
        struct Probe(String);
        impl Serializer for &mut Probe {
            type Ok = ();
            type Error = std::fmt::Error;
            type SerializeSeq = serde::ser::Impossible<(), std::fmt::Error>;
            type SerializeTuple = serde::ser::Impossible<(), std::fmt::Error>;
            type SerializeTupleStruct = serde::ser::Impossible<(), std::fmt::Error>;
            type SerializeTupleVariant = serde::ser::Impossible<(), std::fmt::Error>;
            type SerializeMap = serde::ser::Impossible<(), std::fmt::Error>;
            type SerializeStruct = serde::ser::Impossible<(), std::fmt::Error>;
            type SerializeStructVariant = serde::ser::Impossible<(), std::fmt::Error>;
            fn serialize_u64(self, v: u64) -> Result<(), Self::Error> {
                self.0 = format!("num:{v}");
                Ok(())
            }
            fn serialize_str(self, v: &str) -> Result<(), Self::Error> {
                self.0 = format!("str:{v}");
                Ok(())
            }
            fn collect_str<T: fmt::Display + ?Sized>(self, v: &T) -> Result<(), Self::Error> {
                self.0 = format!("str:{v}");
                Ok(())
            }
            fn serialize_bool(self, _: bool) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_i8(self, _: i8) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_i16(self, _: i16) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_i32(self, _: i32) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_i64(self, _: i64) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_u8(self, _: u8) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_u16(self, _: u16) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_u32(self, _: u32) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_f32(self, _: f32) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_f64(self, _: f64) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_char(self, _: char) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_bytes(self, _: &[u8]) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_none(self) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_unit(self) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_unit_struct(self, _: &'static str) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_unit_variant(
                self,
                _: &'static str,
                _: u32,
                _: &'static str,
            ) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_newtype_struct<T: Serialize + ?Sized>(
                self,
                _: &'static str,
                _: &T,
            ) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_newtype_variant<T: Serialize + ?Sized>(
                self,
                _: &'static str,
                _: u32,
                _: &'static str,
                _: &T,
            ) -> Result<(), Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_tuple_struct(
                self,
                _: &'static str,
                _: usize,
            ) -> Result<Self::SerializeTupleStruct, Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_tuple_variant(
                self,
                _: &'static str,
                _: u32,
                _: &'static str,
                _: usize,
            ) -> Result<Self::SerializeTupleVariant, Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_struct(
                self,
                _: &'static str,
                _: usize,
            ) -> Result<Self::SerializeStruct, Self::Error> {
                Err(fmt::Error)
            }
            fn serialize_struct_variant(
                self,
                _: &'static str,
                _: u32,
                _: &'static str,
                _: usize,
            ) -> Result<Self::SerializeStructVariant, Self::Error> {
                Err(fmt::Error)
            }
        }
        let ser = |c: AddressCount| {
            let mut p = Probe(String::new());
            c.serialize(&mut p).unwrap();
            p.0
        };
        assert_eq!(ser(AddressCount::pow2(11)), "num:2048");
        assert_eq!(ser(AddressCount::pow2(63)), format!("num:{}", 1u64 << 63));
        assert_eq!(ser(AddressCount::pow2(64)), "str:18446744073709551616");
        assert_eq!(ser(AddressCount::pow2(128)), format!("str:{TWO_POW_128}"));
    }

    #[test]
    fn address_count_deserializes_numbers_and_strings() {
        use serde::de::IntoDeserializer;
        use serde::de::value::Error;
        let from_u64 =
            |v: u64| AddressCount::deserialize(IntoDeserializer::<Error>::into_deserializer(v));
        let from_str =
            |v: &str| AddressCount::deserialize(IntoDeserializer::<Error>::into_deserializer(v));
        assert_eq!(from_u64(2048).unwrap(), AddressCount::pow2(11));
        assert!(from_u64(0).is_err());
        assert!(from_u64(6).is_err());
        assert_eq!(from_str(TWO_POW_128).unwrap(), AddressCount::pow2(128));
        assert_eq!(
            from_str("18446744073709551616").unwrap(),
            AddressCount::pow2(64)
        );
        assert_eq!(from_str("65,536").unwrap(), AddressCount::pow2(16));
        assert!(from_str("lots").is_err());
    }

    #[test]
    fn sizes_and_indexing() {
        assert_eq!(range_size(&net("fd00::/108")).to_u128(), Some(1 << 20));
        assert_eq!(range_size(&net("10.96.0.0/12")).human(), "1,048,576");
        let n = net("fd00::/120");
        assert_eq!(nth_address(&n, 0), Some("fd00::".parse().unwrap()));
        assert_eq!(nth_address(&n, 255), Some("fd00::ff".parse().unwrap()));
        assert_eq!(nth_address(&n, 256), None);
        assert_eq!(last_address(&n), "fd00::ff".parse::<IpAddr>().unwrap());
        assert_eq!(
            nth_address(&net("::/0"), u128::MAX),
            Some("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap())
        );
        assert_eq!(
            last_address(&net("10.0.0.0/8")),
            "10.255.255.255".parse::<IpAddr>().unwrap()
        );
        // nth_address works from the network address even if host bits are set.
        assert_eq!(
            nth_address(&net("10.0.0.5/24"), 1),
            Some("10.0.0.1".parse().unwrap())
        );
    }

    #[test]
    fn dns_style_helpers() {
        let cases = [
            ("fd01::/108", 10, Some("fd01::a")),
            ("10.96.0.0/12", 10, Some("10.96.0.10")),
            ("10.96.0.0/30", 10, None),
            ("10.96.0.250/31", 10, None),
            ("fd01::ff00/120", 255, Some("fd01::ffff")),
        ];
        for (n, k, want) in cases {
            let want = want.map(|w| w.parse::<IpAddr>().unwrap());
            assert_eq!(add_to_last_byte(&net(n), k), want, "{n} + {k}");
        }
        // add_to_last_byte does not carry; indexed_ip does.
        assert_eq!(add_to_last_byte(&net("10.0.0.128/25"), 200), None);
        assert_eq!(
            indexed_ip(&net("10.96.0.0/12"), 256),
            Some("10.96.1.0".parse().unwrap())
        );
        assert_eq!(
            indexed_ip(&net("fd01::/108"), 1),
            Some("fd01::1".parse().unwrap())
        );
        assert_eq!(indexed_ip(&net("10.96.0.0/30"), 4), None);
    }

    #[test]
    fn containment_and_overlap() {
        let cases = [
            ("fd00::/108", "fd00::/117", true, true),
            ("fd00::/117", "fd00::/108", false, true),
            ("fd00::/108", "fd01::/108", false, false),
            ("10.0.0.0/8", "10.244.0.0/16", true, true),
            ("10.0.0.0/8", "::ffff:10.0.0.0/104", false, false),
            ("0.0.0.0/0", "::/0", false, false),
            ("fd00::/64", "fd00::/64", true, true),
        ];
        for (a, b, contains, ov) in cases {
            let (a, b) = (net(a), net(b));
            assert_eq!(contains_net(&a, &b), contains, "{a} ⊇ {b}");
            assert_eq!(overlaps(&a, &b), ov, "{a} ∩ {b}");
            assert_eq!(overlaps(&b, &a), ov, "{b} ∩ {a}");
        }
    }

    #[test]
    fn canonical_text_is_rfc5952() {
        assert_eq!(canonical_text(&net("FD00:0000:0:0::1/128")), "fd00::1/128");
        assert_eq!(
            canonical_text(&net("2001:db8:0:0:1:0:0:1/128")),
            "2001:db8::1:0:0:1/128"
        );
        assert_eq!(canonical_text(&net("fd00::1/64")), "fd00::/64");
    }
}
