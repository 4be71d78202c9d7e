//! Neighbor solicitations and advertisements on Ethernet: a validating parser (RFC 4861 7.1.1 and
//! 7.1.2) and builders for the frames the proxy sends.
//!
//! Everything here is pure: no I/O, no allocation on the parse path, and no panics on any input,
//! which the fuzz test in `tests/fuzz_parser.rs` checks.

use std::net::Ipv6Addr;

/// A MAC address.
pub type Mac = [u8; 6];

/// Ethernet header length (no VLAN tag: the packet socket delivers frames with the tag removed).
pub const ETH_HLEN: usize = 14;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// IPv6 header length.
pub const IPV6_HLEN: usize = 40;
/// IPv6 next header value of ICMPv6.
pub const NEXT_HEADER_ICMPV6: u8 = 58;
/// ICMPv6 type of a neighbor solicitation.
pub const ICMPV6_NS: u8 = 135;
/// ICMPv6 type of a neighbor advertisement.
pub const ICMPV6_NA: u8 = 136;
/// NDP option: source link-layer address.
pub const OPT_SOURCE_LLA: u8 = 1;
/// NDP option: target link-layer address.
pub const OPT_TARGET_LLA: u8 = 2;
/// Length of an NS or NA without options.
pub const ND_MIN_LEN: usize = 24;

/// Why a received frame is not acted upon. Each variant is a metrics label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, strum::VariantArray)]
pub enum DropReason {
    /// Shorter than the headers it claims to carry.
    Truncated,
    /// Not an IPv6 packet (EtherType or version).
    NotIpv6,
    /// Next header is not ICMPv6 (extension headers are not followed).
    NotIcmpv6,
    /// ICMPv6 type other than the expected NS or NA.
    WrongType,
    /// IPv6 hop limit is not 255 (the packet was routed).
    HopLimit,
    /// ICMPv6 checksum over the pseudo-header does not match.
    Checksum,
    /// ICMPv6 code is not 0.
    Code,
    /// ICMPv6 length is below 24 octets.
    Length,
    /// The target address is a multicast address.
    MulticastTarget,
    /// An option has length zero.
    ZeroLengthOption,
    /// An option runs past the end of the message.
    TruncatedOption,
    /// The IPv6 source is a multicast address (never valid as a source; an answer would go to a
    /// group with the solicited flag set).
    MulticastSource,
    /// DAD NS (source ::) whose destination is not a solicited-node multicast address.
    DadDestination,
    /// DAD NS (source ::) carrying a source link-layer address option.
    DadSourceLinkLayer,
    /// NA to a multicast destination with the solicited flag set (RFC 4861 7.1.2).
    SolicitedToMulticast,
    /// The target is not inside any configured prefix.
    OutsidePrefix,
    /// The target is one of this host's own addresses.
    OwnAddress,
    /// The NS came from one of this host's own addresses.
    OwnSource,
    /// The source exceeded its rate limit.
    RateLimited,
    /// Routed mode: no route for the target, or the route leads back out the uplink.
    NoRoute,
    /// Probe mode: the owner did not answer in time.
    ProbeTimeout,
    /// Probe mode: the downstream interface is missing or has no address to probe from.
    ProbeUnavailable,
    /// The uplink is not known yet (missing, no MAC).
    UplinkUnavailable,
    /// Watch mode: the target is in a watched pool but no Service this node announces has it.
    NotAnnounced,
    /// Sending the answer failed.
    SendFailed,
}

impl DropReason {
    /// Every variant, in declaration order (derived: a new variant cannot be left out).
    pub const ALL: &'static [DropReason] = <DropReason as strum::VariantArray>::VARIANTS;

    /// The metrics label of this reason.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Truncated => "truncated",
            DropReason::NotIpv6 => "not_ipv6",
            DropReason::NotIcmpv6 => "not_icmpv6",
            DropReason::WrongType => "wrong_type",
            DropReason::HopLimit => "hop_limit",
            DropReason::Checksum => "checksum",
            DropReason::Code => "code",
            DropReason::Length => "length",
            DropReason::MulticastTarget => "multicast_target",
            DropReason::ZeroLengthOption => "zero_length_option",
            DropReason::TruncatedOption => "truncated_option",
            DropReason::MulticastSource => "multicast_source",
            DropReason::DadDestination => "dad_destination",
            DropReason::DadSourceLinkLayer => "dad_source_link_layer",
            DropReason::SolicitedToMulticast => "solicited_to_multicast",
            DropReason::OutsidePrefix => "outside_prefix",
            DropReason::OwnAddress => "own_address",
            DropReason::OwnSource => "own_source",
            DropReason::RateLimited => "rate_limited",
            DropReason::NoRoute => "no_route",
            DropReason::ProbeTimeout => "probe_timeout",
            DropReason::ProbeUnavailable => "probe_unavailable",
            DropReason::UplinkUnavailable => "uplink_unavailable",
            DropReason::NotAnnounced => "not_announced",
            DropReason::SendFailed => "send_failed",
        }
    }

    /// Position in [`DropReason::ALL`].
    pub fn index(self) -> usize {
        DropReason::ALL
            .iter()
            .position(|r| *r == self)
            .unwrap_or_default()
    }

    /// True for reasons that mean the packet itself violates RFC 4861.
    pub fn is_malformed(self) -> bool {
        self.index() <= DropReason::SolicitedToMulticast.index()
    }
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated neighbor solicitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighborSolicit {
    /// Ethernet source of the frame.
    pub eth_src: Mac,
    /// Ethernet destination of the frame.
    pub eth_dst: Mac,
    /// IPv6 source (:: for duplicate address detection).
    pub src: Ipv6Addr,
    /// IPv6 destination (solicited-node multicast, or the target for a unicast probe).
    pub dst: Ipv6Addr,
    /// The address being resolved.
    pub target: Ipv6Addr,
    /// Source link-layer address option, if present.
    pub source_lla: Option<Mac>,
}

impl NeighborSolicit {
    /// Duplicate address detection: the source is the unspecified address.
    pub fn is_dad(&self) -> bool {
        self.src.is_unspecified()
    }
}

/// A validated neighbor advertisement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeighborAdvert {
    pub eth_src: Mac,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub target: Ipv6Addr,
    pub router: bool,
    pub solicited: bool,
    pub override_flag: bool,
    pub target_lla: Option<Mac>,
}

/// IPv6 header fields after the generic checks.
struct Ip6<'a> {
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    icmp: &'a [u8],
}

fn addr_at(buf: &[u8], at: usize) -> Option<Ipv6Addr> {
    let bytes: [u8; 16] = buf.get(at..at + 16)?.try_into().ok()?;
    Some(Ipv6Addr::from(bytes))
}

fn mac_at(buf: &[u8], at: usize) -> Option<Mac> {
    buf.get(at..at + 6)?.try_into().ok()
}

/// Parses the IPv6 header and returns the ICMPv6 message, bounded by the payload length
/// (Ethernet padding after it is ignored).
fn parse_ip6(packet: &[u8], want_type: u8) -> Result<Ip6<'_>, DropReason> {
    if packet.len() < IPV6_HLEN {
        return Err(DropReason::Truncated);
    }
    if packet[0] >> 4 != 6 {
        return Err(DropReason::NotIpv6);
    }
    let payload_len = usize::from(u16::from_be_bytes([packet[4], packet[5]]));
    if packet[6] != NEXT_HEADER_ICMPV6 {
        return Err(DropReason::NotIcmpv6);
    }
    let hop_limit = packet[7];
    let src = addr_at(packet, 8).ok_or(DropReason::Truncated)?;
    let dst = addr_at(packet, 24).ok_or(DropReason::Truncated)?;
    let icmp = packet
        .get(IPV6_HLEN..IPV6_HLEN + payload_len)
        .ok_or(DropReason::Truncated)?;
    if icmp.is_empty() {
        return Err(DropReason::Truncated);
    }
    if icmp[0] != want_type {
        return Err(DropReason::WrongType);
    }
    // The order of the checks follows RFC 4861 7.1.1; each failure has its own reason.
    if hop_limit != 255 {
        return Err(DropReason::HopLimit);
    }
    if icmp.len() < 4 {
        return Err(DropReason::Length);
    }
    if checksum(&src, &dst, icmp) != 0 {
        return Err(DropReason::Checksum);
    }
    if icmp[1] != 0 {
        return Err(DropReason::Code);
    }
    if icmp.len() < ND_MIN_LEN {
        return Err(DropReason::Length);
    }
    Ok(Ip6 {
        src,
        dst,
        hop_limit,
        icmp,
    })
}

/// Walks the NDP options after the fixed part; returns the link-layer address of option `want`.
fn scan_options(options: &[u8], want: u8) -> Result<Option<Mac>, DropReason> {
    let mut found = None;
    let mut rest = options;
    while !rest.is_empty() {
        if rest.len() < 2 {
            return Err(DropReason::TruncatedOption);
        }
        let len = usize::from(rest[1]) * 8;
        if len == 0 {
            return Err(DropReason::ZeroLengthOption);
        }
        let opt = rest.get(..len).ok_or(DropReason::TruncatedOption)?;
        if opt[0] == want && found.is_none() {
            found = mac_at(opt, 2);
        }
        rest = &rest[len..];
    }
    Ok(found)
}

/// True for ff02::1:ffXX:XXXX.
pub fn is_solicited_node(addr: &Ipv6Addr) -> bool {
    let o = addr.octets();
    o[..11] == [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0] && o[11] == 0x01 && o[12] == 0xff
}

/// The solicited-node multicast address of `target`.
pub fn solicited_node(target: &Ipv6Addr) -> Ipv6Addr {
    let t = target.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(t[13]),
        u16::from_be_bytes([t[14], t[15]]),
    )
}

/// The Ethernet multicast MAC of an IPv6 multicast address (33:33 + low 32 bits).
pub fn multicast_mac(addr: &Ipv6Addr) -> Mac {
    let o = addr.octets();
    [0x33, 0x33, o[12], o[13], o[14], o[15]]
}

/// Parses and validates an NS from an IPv6 packet (no link-layer header).
pub fn parse_ns_ipv6(packet: &[u8]) -> Result<NeighborSolicit, DropReason> {
    let ip = parse_ip6(packet, ICMPV6_NS)?;
    let _ = ip.hop_limit;
    let target = addr_at(ip.icmp, 8).ok_or(DropReason::Length)?;
    if target.is_multicast() {
        return Err(DropReason::MulticastTarget);
    }
    let source_lla = scan_options(&ip.icmp[ND_MIN_LEN..], OPT_SOURCE_LLA)?;
    if ip.src.is_multicast() {
        return Err(DropReason::MulticastSource);
    }
    if ip.src.is_unspecified() {
        if !is_solicited_node(&ip.dst) {
            return Err(DropReason::DadDestination);
        }
        if has_option(&ip.icmp[ND_MIN_LEN..], OPT_SOURCE_LLA) {
            return Err(DropReason::DadSourceLinkLayer);
        }
    }
    Ok(NeighborSolicit {
        eth_src: [0; 6],
        eth_dst: [0; 6],
        src: ip.src,
        dst: ip.dst,
        target,
        source_lla,
    })
}

/// True if an option of type `kind` is present (options already validated).
fn has_option(options: &[u8], kind: u8) -> bool {
    let mut rest = options;
    while rest.len() >= 2 && rest[1] != 0 {
        if rest[0] == kind {
            return true;
        }
        let len = usize::from(rest[1]) * 8;
        if len > rest.len() {
            return false;
        }
        rest = &rest[len..];
    }
    false
}

fn parse_eth(frame: &[u8]) -> Result<(Mac, Mac, &[u8]), DropReason> {
    if frame.len() < ETH_HLEN {
        return Err(DropReason::Truncated);
    }
    if u16::from_be_bytes([frame[12], frame[13]]) != ETHERTYPE_IPV6 {
        return Err(DropReason::NotIpv6);
    }
    let dst = mac_at(frame, 0).ok_or(DropReason::Truncated)?;
    let src = mac_at(frame, 6).ok_or(DropReason::Truncated)?;
    Ok((dst, src, &frame[ETH_HLEN..]))
}

/// Parses and validates an NS carried in an Ethernet frame.
pub fn parse_ns_frame(frame: &[u8]) -> Result<NeighborSolicit, DropReason> {
    let (eth_dst, eth_src, packet) = parse_eth(frame)?;
    let mut ns = parse_ns_ipv6(packet)?;
    ns.eth_dst = eth_dst;
    ns.eth_src = eth_src;
    Ok(ns)
}

/// Parses and validates an NA carried in an Ethernet frame (RFC 4861 7.1.2).
pub fn parse_na_frame(frame: &[u8]) -> Result<NeighborAdvert, DropReason> {
    let (_, eth_src, packet) = parse_eth(frame)?;
    let ip = parse_ip6(packet, ICMPV6_NA)?;
    let target = addr_at(ip.icmp, 8).ok_or(DropReason::Length)?;
    if target.is_multicast() {
        return Err(DropReason::MulticastTarget);
    }
    let flags = ip.icmp[4];
    let solicited = flags & 0x40 != 0;
    if solicited && ip.dst.is_multicast() {
        return Err(DropReason::SolicitedToMulticast);
    }
    let target_lla = scan_options(&ip.icmp[ND_MIN_LEN..], OPT_TARGET_LLA)?;
    Ok(NeighborAdvert {
        eth_src,
        src: ip.src,
        dst: ip.dst,
        target,
        router: flags & 0x80 != 0,
        solicited,
        override_flag: flags & 0x20 != 0,
        target_lla,
    })
}

/// The ICMPv6 checksum over the pseudo-header and `icmp`. Over a message with a correct checksum
/// field the result is 0; over one with a zero checksum field it is the value to store.
pub fn checksum(src: &Ipv6Addr, dst: &Ipv6Addr, icmp: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    let mut add = |bytes: &[u8]| {
        let mut chunks = bytes.chunks_exact(2);
        for c in &mut chunks {
            sum += u64::from(u16::from_be_bytes([c[0], c[1]]));
        }
        if let [last] = chunks.remainder() {
            sum += u64::from(*last) << 8;
        }
    };
    add(&src.octets());
    add(&dst.octets());
    add(&(icmp.len() as u32).to_be_bytes());
    add(&[0, 0, 0, NEXT_HEADER_ICMPV6]);
    add(icmp);
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Writes Ethernet + IPv6 headers and the ICMPv6 message into one frame, filling the checksum.
fn frame(eth_dst: Mac, eth_src: Mac, src: Ipv6Addr, dst: Ipv6Addr, mut icmp: Vec<u8>) -> Vec<u8> {
    icmp[2] = 0;
    icmp[3] = 0;
    let sum = checksum(&src, &dst, &icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    let mut out = Vec::with_capacity(ETH_HLEN + IPV6_HLEN + icmp.len());
    out.extend_from_slice(&eth_dst);
    out.extend_from_slice(&eth_src);
    out.extend_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
    out.extend_from_slice(&[0x60, 0, 0, 0]);
    out.extend_from_slice(&(icmp.len() as u16).to_be_bytes());
    out.push(NEXT_HEADER_ICMPV6);
    out.push(255);
    out.extend_from_slice(&src.octets());
    out.extend_from_slice(&dst.octets());
    out.extend_from_slice(&icmp);
    out
}

/// What the proxy puts into an answer.
#[derive(Debug, Clone, Copy)]
pub struct AnswerParams {
    /// MAC of the interface the answer leaves from (Ethernet source and target link-layer option).
    pub mac: Mac,
    /// Router flag.
    pub router: bool,
}

/// Builds the NA frame that answers `ns` on behalf of its target.
///
/// - IPv6 source: the target itself (hosts such as OpenBSD reject NAs from other addresses);
/// - unicast-sourced NS: to the solicitor (IPv6 source, Ethernet source), S set;
/// - DAD NS (source ::): to ff02::1 (33:33:00:00:00:01), S clear;
/// - O always clear (a proxy must not override), R as configured, hop limit 255,
///   target link-layer option = `params.mac`.
pub fn build_proxy_na(ns: &NeighborSolicit, params: AnswerParams) -> Vec<u8> {
    let (dst, eth_dst, solicited) = if ns.is_dad() {
        let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
        (all_nodes, multicast_mac(&all_nodes), false)
    } else {
        (ns.src, ns.eth_src, true)
    };
    build_na(NaSpec {
        eth_dst,
        eth_src: params.mac,
        src: ns.target,
        dst,
        target: ns.target,
        router: params.router,
        solicited,
        override_flag: false,
        target_lla: Some(params.mac),
    })
}

/// All fields of an NA frame.
#[derive(Debug, Clone, Copy)]
pub struct NaSpec {
    pub eth_dst: Mac,
    pub eth_src: Mac,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub target: Ipv6Addr,
    pub router: bool,
    pub solicited: bool,
    pub override_flag: bool,
    pub target_lla: Option<Mac>,
}

/// Builds an NA frame.
pub fn build_na(spec: NaSpec) -> Vec<u8> {
    let mut icmp = vec![0u8; ND_MIN_LEN];
    icmp[0] = ICMPV6_NA;
    icmp[4] = (u8::from(spec.router) << 7)
        | (u8::from(spec.solicited) << 6)
        | (u8::from(spec.override_flag) << 5);
    icmp[8..24].copy_from_slice(&spec.target.octets());
    if let Some(mac) = spec.target_lla {
        icmp.extend_from_slice(&[OPT_TARGET_LLA, 1]);
        icmp.extend_from_slice(&mac);
    }
    frame(spec.eth_dst, spec.eth_src, spec.src, spec.dst, icmp)
}

/// All fields of an NS frame. `dst: None` means the solicited-node address of the target.
#[derive(Debug, Clone, Copy)]
pub struct NsSpec {
    pub eth_src: Mac,
    pub src: Ipv6Addr,
    pub dst: Option<(Ipv6Addr, Mac)>,
    pub target: Ipv6Addr,
    pub source_lla: Option<Mac>,
}

/// Builds an NS frame (used by probe mode and by tests and the benchmark).
pub fn build_ns(spec: NsSpec) -> Vec<u8> {
    let (dst, eth_dst) = spec.dst.unwrap_or_else(|| {
        let sn = solicited_node(&spec.target);
        (sn, multicast_mac(&sn))
    });
    let mut icmp = vec![0u8; ND_MIN_LEN];
    icmp[0] = ICMPV6_NS;
    icmp[8..24].copy_from_slice(&spec.target.octets());
    if let Some(mac) = spec.source_lla {
        icmp.extend_from_slice(&[OPT_SOURCE_LLA, 1]);
        icmp.extend_from_slice(&mac);
    }
    frame(eth_dst, spec.eth_src, spec.src, dst, icmp)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC_R: Mac = [0x02, 0, 0, 0, 0, 0x01];
    const MAC_N: Mac = [0x02, 0, 0, 0, 0, 0x02];

    fn ll() -> Ipv6Addr {
        "fe80::1".parse().unwrap()
    }
    fn target() -> Ipv6Addr {
        "2001:db8:1::a:5".parse().unwrap()
    }

    fn ns() -> Vec<u8> {
        build_ns(NsSpec {
            eth_src: MAC_R,
            src: ll(),
            dst: None,
            target: target(),
            source_lla: Some(MAC_R),
        })
    }

    /// Recomputes the checksum after a test edited the frame.
    fn fix_checksum(frame: &mut [u8]) {
        let icmp_start = ETH_HLEN + IPV6_HLEN;
        let src = addr_at(frame, ETH_HLEN + 8).unwrap();
        let dst = addr_at(frame, ETH_HLEN + 24).unwrap();
        frame[icmp_start + 2] = 0;
        frame[icmp_start + 3] = 0;
        let sum = checksum(&src, &dst, &frame[icmp_start..]);
        frame[icmp_start + 2..icmp_start + 4].copy_from_slice(&sum.to_be_bytes());
    }

    fn set_src(frame: &mut [u8], src: Ipv6Addr) {
        frame[ETH_HLEN + 8..ETH_HLEN + 24].copy_from_slice(&src.octets());
    }

    fn set_dst(frame: &mut [u8], dst: Ipv6Addr) {
        frame[ETH_HLEN + 24..ETH_HLEN + 40].copy_from_slice(&dst.octets());
    }

    #[test]
    fn valid_ns_parses() {
        let ns = parse_ns_frame(&ns()).unwrap();
        assert_eq!(ns.target, target());
        assert_eq!(ns.src, ll());
        assert_eq!(ns.dst, "ff02::1:ff0a:5".parse::<Ipv6Addr>().unwrap());
        assert_eq!(ns.source_lla, Some(MAC_R));
        assert_eq!(ns.eth_src, MAC_R);
        assert_eq!(ns.eth_dst, [0x33, 0x33, 0xff, 0x0a, 0, 5]);
        assert!(!ns.is_dad());
    }

    #[test]
    fn ethernet_padding_is_ignored() {
        let mut f = ns();
        f.extend_from_slice(&[0; 20]);
        assert!(parse_ns_frame(&f).is_ok());
    }

    #[test]
    fn hop_limit_must_be_255() {
        let mut f = ns();
        f[ETH_HLEN + 7] = 254;
        assert_eq!(parse_ns_frame(&f), Err(DropReason::HopLimit));
    }

    #[test]
    fn checksum_must_match() {
        let mut f = ns();
        let last = f.len() - 1;
        f[last] ^= 0x55;
        assert_eq!(parse_ns_frame(&f), Err(DropReason::Checksum));
    }

    #[test]
    fn code_must_be_zero() {
        let mut f = ns();
        f[ETH_HLEN + IPV6_HLEN + 1] = 1;
        fix_checksum(&mut f);
        assert_eq!(parse_ns_frame(&f), Err(DropReason::Code));
    }

    #[test]
    fn length_at_least_24() {
        let mut f = ns();
        // Cut the message to 20 octets and say so in the payload length.
        f.truncate(ETH_HLEN + IPV6_HLEN + 20);
        f[ETH_HLEN + 4..ETH_HLEN + 6].copy_from_slice(&20u16.to_be_bytes());
        fix_checksum(&mut f);
        assert_eq!(parse_ns_frame(&f), Err(DropReason::Length));
    }

    #[test]
    fn payload_length_past_end_is_truncated() {
        let mut f = ns();
        f[ETH_HLEN + 4..ETH_HLEN + 6].copy_from_slice(&200u16.to_be_bytes());
        assert_eq!(parse_ns_frame(&f), Err(DropReason::Truncated));
    }

    #[test]
    fn multicast_target_is_rejected() {
        let mut f = ns();
        let t: Ipv6Addr = "ff02::1".parse().unwrap();
        f[ETH_HLEN + IPV6_HLEN + 8..ETH_HLEN + IPV6_HLEN + 24].copy_from_slice(&t.octets());
        fix_checksum(&mut f);
        assert_eq!(parse_ns_frame(&f), Err(DropReason::MulticastTarget));
    }

    #[test]
    fn zero_length_option_is_rejected() {
        let mut f = ns();
        f[ETH_HLEN + IPV6_HLEN + ND_MIN_LEN + 1] = 0;
        fix_checksum(&mut f);
        assert_eq!(parse_ns_frame(&f), Err(DropReason::ZeroLengthOption));
    }

    #[test]
    fn option_past_end_is_rejected() {
        let mut f = ns();
        f[ETH_HLEN + IPV6_HLEN + ND_MIN_LEN + 1] = 2;
        fix_checksum(&mut f);
        assert_eq!(parse_ns_frame(&f), Err(DropReason::TruncatedOption));
    }

    #[test]
    fn dad_needs_solicited_node_destination() {
        let mut f = build_ns(NsSpec {
            eth_src: MAC_R,
            src: Ipv6Addr::UNSPECIFIED,
            dst: None,
            target: target(),
            source_lla: None,
        });
        assert!(parse_ns_frame(&f).unwrap().is_dad());
        set_dst(&mut f, target());
        fix_checksum(&mut f);
        assert_eq!(parse_ns_frame(&f), Err(DropReason::DadDestination));
    }

    #[test]
    fn multicast_source_is_rejected() {
        let mut f = ns();
        set_src(&mut f, "ff02::1".parse().unwrap());
        fix_checksum(&mut f);
        assert_eq!(parse_ns_frame(&f), Err(DropReason::MulticastSource));
    }

    #[test]
    fn dad_must_not_carry_source_lla() {
        let mut f = ns();
        set_src(&mut f, Ipv6Addr::UNSPECIFIED);
        fix_checksum(&mut f);
        assert_eq!(parse_ns_frame(&f), Err(DropReason::DadSourceLinkLayer));
    }

    #[test]
    fn other_types_and_protocols() {
        let mut f = ns();
        f[ETH_HLEN + IPV6_HLEN] = 136;
        fix_checksum(&mut f);
        assert_eq!(parse_ns_frame(&f), Err(DropReason::WrongType));
        let mut f = ns();
        f[ETH_HLEN + 6] = 0; // hop-by-hop header
        assert_eq!(parse_ns_frame(&f), Err(DropReason::NotIcmpv6));
        let mut f = ns();
        f[12] = 0x08;
        f[13] = 0x00;
        assert_eq!(parse_ns_frame(&f), Err(DropReason::NotIpv6));
        let mut f = ns();
        f[ETH_HLEN] = 0x40;
        assert_eq!(parse_ns_frame(&f), Err(DropReason::NotIpv6));
        assert_eq!(parse_ns_frame(&f[..20]), Err(DropReason::Truncated));
        assert_eq!(parse_ns_frame(&[]), Err(DropReason::Truncated));
    }

    #[test]
    fn unknown_options_are_skipped() {
        let mut icmp_opts = ns();
        // Append a nonce option (type 14, length 1) and fix the lengths.
        icmp_opts.extend_from_slice(&[14, 1, 1, 2, 3, 4, 5, 6]);
        let plen = (icmp_opts.len() - ETH_HLEN - IPV6_HLEN) as u16;
        icmp_opts[ETH_HLEN + 4..ETH_HLEN + 6].copy_from_slice(&plen.to_be_bytes());
        fix_checksum(&mut icmp_opts);
        assert!(parse_ns_frame(&icmp_opts).is_ok());
    }

    #[test]
    fn na_for_unicast_ns() {
        let ns = parse_ns_frame(&ns()).unwrap();
        let f = build_proxy_na(
            &ns,
            AnswerParams {
                mac: MAC_N,
                router: true,
            },
        );
        assert_eq!(f.len(), ETH_HLEN + IPV6_HLEN + 32);
        assert_eq!(f[ETH_HLEN + 7], 255);
        let na = parse_na_frame(&f).unwrap();
        assert_eq!(na.eth_src, MAC_N);
        assert_eq!(&f[..6], &MAC_R);
        assert_eq!(na.dst, ll());
        assert_eq!(na.src, target());
        assert_eq!(na.target, target());
        assert!(na.router && na.solicited && !na.override_flag);
        assert_eq!(na.target_lla, Some(MAC_N));
    }

    #[test]
    fn na_for_dad_goes_to_all_nodes() {
        let f = build_ns(NsSpec {
            eth_src: MAC_R,
            src: Ipv6Addr::UNSPECIFIED,
            dst: None,
            target: target(),
            source_lla: None,
        });
        let ns = parse_ns_frame(&f).unwrap();
        let f = build_proxy_na(
            &ns,
            AnswerParams {
                mac: MAC_N,
                router: false,
            },
        );
        let na = parse_na_frame(&f).unwrap();
        assert_eq!(na.dst, "ff02::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(&f[..6], &[0x33, 0x33, 0, 0, 0, 1]);
        assert!(!na.solicited && !na.router && !na.override_flag);
    }

    #[test]
    fn solicited_na_to_multicast_is_invalid() {
        let f = build_na(NaSpec {
            eth_dst: [0x33, 0x33, 0, 0, 0, 1],
            eth_src: MAC_N,
            src: target(),
            dst: "ff02::1".parse().unwrap(),
            target: target(),
            router: false,
            solicited: true,
            override_flag: false,
            target_lla: None,
        });
        assert_eq!(parse_na_frame(&f), Err(DropReason::SolicitedToMulticast));
    }

    #[test]
    fn solicited_node_helpers() {
        let sn = solicited_node(&target());
        assert!(is_solicited_node(&sn));
        assert!(!is_solicited_node(&target()));
        assert!(!is_solicited_node(&"ff02::1".parse().unwrap()));
        assert_eq!(multicast_mac(&sn), [0x33, 0x33, 0xff, 0x0a, 0, 5]);
    }

    #[test]
    fn reasons_have_distinct_labels() {
        let mut labels: Vec<_> = DropReason::ALL.iter().map(|r| r.as_str()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), DropReason::ALL.len());
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
        assert!(DropReason::HopLimit.is_malformed());
        assert!(!DropReason::OutsidePrefix.is_malformed());
    }
}
