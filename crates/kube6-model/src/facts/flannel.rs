//! Flannel (flannel-io/flannel pkg/subnet/config.go `ParseConfig`).

use super::PerFamily;

/// The longest network prefix Flannel accepts without an explicit subnet length ("Network is
/// too small. Minimum useful network prefix is /28", "... /124" for IPv6).
pub const MAX_NETWORK_PREFIX: PerFamily<u8> = PerFamily {
    ipv4: 28,
    ipv6: 124,
};

/// The backend k3s configures when `flannel-backend` is unset (k3s-io/k3s pkg/cli/cmds/server.go
/// `--flannel-backend` default), and the one Flannel's documentation names as its default
/// (flannel-io/flannel Documentation/configuration.md). Flannel's code disagrees: a
/// net-conf.json without `Backend` is read as `udp` (pkg/subnet/config.go `parseBackendType`),
/// so kube6 always writes the backend explicitly.
pub const K3S_DEFAULT_BACKEND: &str = "vxlan";
