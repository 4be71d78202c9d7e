//! A self-hosted NAT64 gateway for `spec.nat64.gateway`: TAYGA (Debian package `tayga`), the
//! stateless NAT64 that maps each IPv6 client to an address of an IPv4 pool, with the gateway
//! masquerading that pool behind its own IPv4 address. Written into `nat64-gateway/`:
//!
//! - `tayga.conf`: `tun-device`, `ipv4-addr` (the pool's first address, which TAYGA reserves
//!   for itself and removes from the pool), `prefix` (the plan's NAT64 prefix) and
//!   `dynamic-pool` (tayga.conf(5) of TAYGA 0.9.2);
//! - `sysctl.d/90-kube6-nat64.conf`: forwarding in both families;
//! - `setup.sh CONF`: creates the TUN device, routes the prefix and the pool into it,
//!   masquerades the pool out of the uplink, and runs TAYGA in the foreground (for a systemd unit
//!   or a supervisor).
//!
//! The cluster's nodes (or their router) route the NAT64 prefix to the gateway's IPv6 address.

use ipnet::IpNet;

use crate::context::Context;
use crate::{Rendered, RenderedFile};

/// The TUN device TAYGA creates.
pub const TUN_DEVICE: &str = "nat64";

/// tayga.conf for `prefix` and `pool4`.
pub fn tayga_conf(prefix: &IpNet, pool4: &IpNet) -> Option<String> {
    let IpNet::V4(pool) = pool4 else { return None };
    let own = pool.hosts().next()?;
    Some(format!(
        "# Rendered by kube6: TAYGA, the stateless NAT64 of this cluster's egress (tayga.conf(5)).\n\
         tun-device {TUN_DEVICE}\n\
         # TAYGA's own IPv4 address (ICMP errors), taken out of the dynamic pool.\n\
         ipv4-addr {own}\n\
         # The NAT64 prefix (RFC 6052): IPv4 destinations are written into it.\n\
         prefix {}\n\
         # IPv4 addresses handed to IPv6 clients, masqueraded by the gateway on the way out.\n\
         dynamic-pool {}\n",
        prefix.trunc(),
        pool.trunc()
    ))
}

/// The gateway's setup script: TUN device, routes, masquerading, then TAYGA in the foreground.
pub fn setup_script(prefix: &IpNet, pool4: &IpNet, uplink: Option<&str>) -> String {
    let masquerade = match uplink {
        Some(uplink) => format!(
            "# The pool leaves through {uplink} behind the gateway's own IPv4 address.\n\
             iptables -t nat -C POSTROUTING -s {pool} -o {uplink} -j MASQUERADE 2>/dev/null || \\\n  \
             iptables -t nat -A POSTROUTING -s {pool} -o {uplink} -j MASQUERADE\n",
            pool = pool4.trunc()
        ),
        None => format!(
            "# No uplink given (spec.nat64.gateway.uplink): masquerade {} out of the IPv4 uplink yourself,\n\
             # or route it to this gateway from the IPv4 network.\n",
            pool4.trunc()
        ),
    };
    format!(
        "#!/bin/sh\n\
         # Rendered by kube6: bring up the NAT64 gateway (TAYGA) and run it in the foreground.\n\
         # Usage: setup.sh [TAYGA_CONF] (default /etc/tayga.conf). Needs the tayga package.\n\
         set -eu\n\
         conf=${{1:-/etc/tayga.conf}}\n\
         sysctl -q -w net.ipv6.conf.all.forwarding=1 net.ipv4.ip_forward=1\n\
         tayga --config \"$conf\" --mktun\n\
         ip link set {TUN_DEVICE} up\n\
         ip -6 route replace {prefix} dev {TUN_DEVICE}\n\
         ip -4 route replace {pool} dev {TUN_DEVICE}\n\
         {masquerade}\
         exec tayga --config \"$conf\" --nodetach\n",
        prefix = prefix.trunc(),
        pool = pool4.trunc(),
    )
}

/// `nat64-gateway/` files when the plan has a gateway.
pub fn render(cx: &Context<'_>, out: &mut Rendered) {
    let Some(nat64) = &cx.net.nat64 else { return };
    let Some(gw) = &nat64.gateway else { return };
    let (Some(prefix), Some(pool4)) = (nat64.prefix.value.net(), gw.pool4.value.net()) else {
        return;
    };
    let Some(conf) = tayga_conf(&prefix, &pool4) else {
        return;
    };
    out.files
        .push(RenderedFile::config("nat64-gateway/tayga.conf", conf));
    out.files.push(RenderedFile::config(
        "nat64-gateway/sysctl.d/90-kube6-nat64.conf",
        "# Rendered by kube6: the NAT64 gateway forwards in both families.\n\
         net.ipv6.conf.all.forwarding = 1\n\
         net.ipv4.ip_forward = 1\n",
    ));
    out.files.push(RenderedFile::script(
        "nat64-gateway/setup.sh",
        setup_script(
            &prefix,
            &pool4,
            gw.uplink.as_ref().map(|u| u.value.as_str()),
        ),
    ));
    out.notes.push(format!(
        "nat64-gateway: run setup.sh with tayga.conf on the gateway host (TAYGA translates {} into {}); \
         route {} from the nodes (or their router) to the gateway's IPv6 address",
        prefix.trunc(),
        pool4.trunc(),
        prefix.trunc()
    ));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tayga_reserves_the_pools_first_address() {
        let conf = tayga_conf(
            &"2001:db8:64::/96".parse().unwrap(),
            &"198.51.100.0/24".parse().unwrap(),
        )
        .unwrap();
        assert!(conf.contains("\nipv4-addr 198.51.100.1\n"), "{conf}");
        assert!(conf.contains("\nprefix 2001:db8:64::/96\n"));
        assert!(conf.contains("\ndynamic-pool 198.51.100.0/24\n"));
        assert!(
            tayga_conf(
                &"2001:db8:64::/96".parse().unwrap(),
                &"2001:db8::/64".parse().unwrap()
            )
            .is_none()
        );
        let script = setup_script(
            &"2001:db8:64::/96".parse().unwrap(),
            &"198.51.100.0/24".parse().unwrap(),
            Some("eth1"),
        );
        assert!(script.contains("-s 198.51.100.0/24 -o eth1 -j MASQUERADE"));
        assert!(script.ends_with("exec tayga --config \"$conf\" --nodetach\n"));
    }
}
