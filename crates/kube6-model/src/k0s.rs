//! k0s semantics that both its importer and its rules need: how k0s picks the primary family and
//! the cluster DNS address (pkg/apis/k0s/v1beta1 in k0s).

use std::net::IpAddr;

use ipnet::IpNet;
use kube6_net::Family;

use crate::model::ClusterNetwork;

/// Where k0s's primary family came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrimarySource {
    /// `spec.network.primaryAddressFamily`.
    Explicit,
    /// The family of `spec.api.externalAddress` (its host part).
    ExternalAddress,
    /// The family of `spec.api.address`.
    Address,
    /// The API address is a hostname (or not an IP): k0s falls back to IPv4.
    Fallback,
    /// No API address at all: k0s defaults `spec.api.address` to the host's first non-loopback
    /// address, IPv4 if the host has one, so the family depends on the host.
    Unset,
}

/// k0s's `PrimaryAddressFamily()`: the explicit setting, else the family of the API's external
/// address or address (whichever is set, external first) if it is an IPv6 address, else IPv4.
pub fn primary_family(net: &ClusterNetwork) -> (Family, PrimarySource) {
    if let Some(explicit) = &net.primary_family {
        match explicit.value.as_str() {
            "IPv4" => return (Family::IPv4, PrimarySource::Explicit),
            "IPv6" => return (Family::IPv6, PrimarySource::Explicit),
            _ => {}
        }
    }
    let (text, source) = match (&net.api.external, &net.api.address) {
        (Some(ext), _) if !ext.value.is_empty() => {
            (external_host(&ext.value), PrimarySource::ExternalAddress)
        }
        (_, Some(addr)) => (addr.value.clone(), PrimarySource::Address),
        _ => return (Family::IPv4, PrimarySource::Unset),
    };
    match text.parse::<IpAddr>() {
        Ok(IpAddr::V6(_)) => (Family::IPv6, source),
        Ok(IpAddr::V4(_)) => (Family::IPv4, source),
        Err(_) => (Family::IPv4, PrimarySource::Fallback),
    }
}

/// k0s's `ExternalHost()`: `host:port` without the port; brackets around IPv6 removed.
pub fn external_host(external: &str) -> String {
    let trimmed = external.trim();
    if let Some(rest) = trimmed.strip_prefix('[')
        && let Some((host, _)) = rest.split_once(']')
    {
        return host.to_string();
    }
    if trimmed.parse::<IpAddr>().is_ok() {
        return trimmed.to_string();
    }
    match trimmed.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) && !host.contains(':') => {
            host.to_string()
        }
        _ => trimmed.to_string(),
    }
}

/// k0s's `DNSAddress()`: the network address with its last byte raised by 10 (or by 2 when the
/// range has 3 host bits or fewer). None when that leaves the range ("CIDR too narrow").
pub fn dns_address(service: &IpNet) -> Option<IpAddr> {
    let host_bits = service.max_prefix_len() - service.prefix_len();
    let step = if host_bits > 3 { 10 } else { 2 };
    kube6_net::add_to_last_byte(service, step)
}
