//! IPv6 addressing itself (IETF): what a link and a delegated prefix look like.

/// An IPv6 link (a subnet nodes sit on) is a /64: interface identifiers are 64 bits (RFC 4291
/// section 2.5.1), and stateless address autoconfiguration needs exactly that (RFC 4862 with
/// RFC 2464 for Ethernet). Routers solicit every on-link address with neighbor solicitations.
pub const LINK_PREFIX_LEN: u8 = 64;

/// Prefixes are delegated and assigned on nibble (4-bit) boundaries where possible: reverse DNS
/// delegates per hex digit (ip6.arpa, RFC 3596), and operators' guidance asks for it (RFC 6177
/// section 2, RIPE-690 section 4.2) so that each range reads as whole hex digits.
pub const NIBBLE_BITS: u8 = 4;
