//! Flannel (flannel-io/flannel pkg/subnet/config.go `ParseConfig`).

use super::PerFamily;
use crate::version::Release;

/// The flannel release kube6's flannel facts were last read at (v0.28.9, main.go at commit cdf76059).
pub const ASSUMED_RELEASE: Release = Release::new(0, 28, 9);

/// flanneld's `--ip-masq` is one switch for both families: with `EnableIPv6` it sets up the
/// IPv6 masquerade rules next to the IPv4 ones (flannel-io/flannel main.go,
/// `trafficMngr.SetupAndEnsureMasqRules(config.Network, ..., config.IPv6Network, ...)`), so a
/// cluster cannot masquerade one family and route the other through flanneld alone. k3s's
/// embedded flannel is the exception: it has `flannel-ipv6-masq` apart from IPv4.
pub const IP_MASQ_COVERS_BOTH_FAMILIES: bool = true;

/// net-conf.json `EnableIPv4` defaults to true, `EnableIPv6` to false (pkg/subnet/config.go).
pub const ENABLE_IPV4_DEFAULT: bool = true;
pub const ENABLE_IPV6_DEFAULT: bool = false;

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

/// flannel's net-conf.json `Backend.Type` for a backend as kube6 and k3s's `--flannel-backend`
/// name it. k3s's `wireguard-native` is flannel's `wireguard` backend (k3s-io/k3s
/// pkg/agent/flannel/setup.go `wireguardNativeBackend`: `"Type": "wireguard"`); the other
/// names are flannel's own (pkg/backend: vxlan, host-gw, ipip, ipsec, udp, ...).
pub fn net_conf_backend(name: &str) -> &str {
    match name {
        "wireguard-native" => "wireguard",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k3s_backend_names_become_flannel_types() {
        assert_eq!(net_conf_backend("wireguard-native"), "wireguard");
        assert_eq!(net_conf_backend("host-gw"), "host-gw");
        assert_eq!(net_conf_backend(K3S_DEFAULT_BACKEND), "vxlan");
    }
}
