//! k3s and RKE2 share the server code that picks defaults (k3s-io/k3s pkg/util/net.go
//! `GetDefaultAddresses`, pkg/cli/server/server.go).

/// Defaults when the first node IP is IPv4.
pub const POD_CIDR_V4: &str = "10.42.0.0/16";
pub const SERVICE_CIDR_V4: &str = "10.43.0.0/16";
/// Defaults when the first node IP is IPv6 (IPv6-only mode is implicit in k3s).
pub const POD_CIDR_V6: &str = "fd00:42::/56";
pub const SERVICE_CIDR_V6: &str = "fd00:43::/112";

/// Without `--cluster-dns`, k3s takes `GetIndexedIP(serviceCIDR, 10)` of each service range.
pub const DNS_SERVICE_INDEX: u128 = 10;
