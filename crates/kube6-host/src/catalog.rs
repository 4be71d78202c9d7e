//! Every check `kube6 host check` runs, with its stable id, its name, what it checks, why it
//! matters and what fixes a failure. Reports are made from these entries only, so docs/host.md
//! (its table generated from [`markdown`]) lists everything host check can say; `--ignore` takes
//! ids or names from here. The catalog's shape is shared with verify and probe (`kube6-catalog`).

use kube6_catalog::checks;
pub use kube6_catalog::{Catalog, CheckInfo, UnknownCheck};

/// The catalog of this command, for the shared lookups of `kube6-catalog`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostChecks;

impl Catalog for HostChecks {
    const ALL: &'static [CheckInfo] = ALL;
    const PREFIX: &'static str = "K6H";
    const TITLE_HEADER: &'static str = "passes when";
}

/// The checks whose failures do not count (`--ignore CHECK,...`).
pub type IgnoreSet = kube6_catalog::IgnoreSet<HostChecks>;

checks! {
    IPV6_ENABLED = "K6H001", "ipv6-enabled",
        "IPv6 is on: `net.ipv6.conf.{all,default,lo,<uplink>}.disable_ipv6 = 0`, and the kernel was not booted with `ipv6.disable=1`",
        why: "An IPv6 cluster needs IPv6 on the node, on loopback (components bind ::1) and on the uplink.",
        fix: "`kube6 host fix` sets `disable_ipv6 = 0`; a kernel booted with `ipv6.disable=1` (no /proc/sys/net/ipv6) needs that word removed from its command line and a reboot.";
    FORWARDING = "K6H002", "forwarding",
        "Forwarding is on for every cluster family: `net.ipv6.conf.all.forwarding = 1`, `net.ipv4.ip_forward = 1`",
        why: "Pod traffic is routed through the node; without forwarding it stops at the node.",
        fix: "`kube6 host fix` sets and persists them (after `accept_ra = 2` on an uplink configured by router advertisements).";
    UPLINK = "K6H003", "uplink",
        "The uplink is known, up, and its MTU is at least 1280 (IPv6's minimum)",
        why: "The uplink carries node and pod traffic; the kernel turns IPv6 off on links with an MTU below 1280.",
        fix: "Add a default route or name the interface with `--uplink`; `ip link set IF up`; raise the MTU to 1280 or more (and in the network configuration).";
    ACCEPT_RA = "K6H004", "accept-ra",
        "Router advertisements keep configuring the uplink with forwarding on: `accept_ra = 2` there, or RAs play no part (fails when `accept_ra = 1` and a default route with `proto ra`, an autoconfigured address or no IPv6 default route shows that RAs configure it)",
        why: "With forwarding on, the kernel ignores router advertisements unless `accept_ra = 2`, and drops the default route it learned from them (k3s issue 5019): the node loses IPv6 connectivity when the cluster starts.",
        fix: "`kube6 host fix` sets `accept_ra = 2` on the uplink before it turns forwarding on.";
    UPLINK_ADDRESS = "K6H005", "uplink-address",
        "The uplink has a global IPv6 address that is not temporary, deprecated, tentative or dadfailed (warns with only a unique local address, unless `--allow-ula`)",
        why: "The node needs a stable IPv6 address on the uplink: temporary addresses change, deprecated ones are being retired, tentative or dadfailed ones cannot be used.",
        fix: "Configure a global IPv6 address on the uplink (static, SLAAC or DHCPv6); for a cluster meant to use ULA addresses pass `--allow-ula` (pods then need NAT66 to reach the internet).";
    DEFAULT_ROUTE = "K6H006", "default-route",
        "There is a default route for every cluster family",
        why: "The kubelet and the CNI pick node addresses and egress paths from the default route of each family.",
        fix: "Configure a default route per family (statically, or from router advertisements with `accept_ra = 2` when forwarding is on).";
    NODE_IPS = "K6H007", "node-ips",
        "`kube6 node-ip` finds a usable node IP for every cluster family (or the `--node-ip` addresses given exist here)",
        why: "The kubelet registers the node with one IP per cluster family; a family without a node IP breaks dual-stack and IPv6-only services.",
        fix: "Configure a usable address for each family on the uplink, or pass `--node-ip` with addresses configured on this host.";
    PROXY_NDP = "K6H008", "proxy-ndp",
        "Where the kernel itself proxies neighbour solicitations (`ip -6 neigh add proxy` entries): `proxy_ndp = 1` on the uplink (or `all`); skipped for kube6's NDP proxy and ndppd, which answer from user space",
        why: "The kernel answers for its proxy entries only with `proxy_ndp`; a user-space proxy (kube6 ndp-proxy, ndppd) needs only forwarding.",
        fix: "`kube6 host fix` sets and persists `proxy_ndp = 1` on the uplink.";
    BRIDGE_NETFILTER = "K6H009", "bridge-netfilter",
        "`br_netfilter` is loaded and `bridge-nf-call-ip6tables` (and `-iptables` with IPv4) = 1 (warns otherwise)",
        why: "kube-proxy in iptables mode must see traffic between pods on the same bridge.",
        fix: "`modprobe br_netfilter` and list it in /etc/modules-load.d, then `kube6 host fix`.";
    PACKET_FILTER = "K6H010", "packet-filter",
        "`ip6tables` (or `iptables` without IPv6) or `nft` is on the node (warns otherwise)",
        why: "kube-proxy and most CNIs program the kernel's packet filter; tools on the node are needed to inspect and debug it.",
        fix: "Install iptables (ip6tables) or nftables.";
    HOSTNAME = "K6H011", "hostname",
        "The node name resolves to usable addresses of this node in every cluster family (fails in dual-stack, warns otherwise)",
        why: "k0s in dual-stack takes the node IPs from the hostname's answers and stops when a family is missing; kubelets fall back to them too.",
        fix: "Add AAAA/A records (or /etc/hosts lines) for the node name with this node's addresses, or set the kubelet's `--node-ip` explicitly.";
    DNS64 = "K6H012", "dns64",
        "IPv6-only: the AAAA answers for `ipv4only.arpa` reveal a NAT64 prefix (RFC 7050, every RFC 6052 length); warns without one, fails with `--require-dns64`; passes when the cluster has IPv4",
        why: "Without IPv4, a node reaches IPv4-only hosts (many container registries) only through DNS64 and NAT64.",
        fix: "Use a DNS64 resolver with a NAT64 gateway on the path, or run the nodes dual-stack with an IPv6-only cluster (the node keeps IPv4 for pulling images, pods and services stay IPv6).";
    PERSISTENCE = "K6H013", "persistence",
        "Every setting in place at runtime also holds at the next boot, as `sysctl --system` reads the files (warns otherwise)",
        why: "Values set at runtime but absent from /etc/sysctl.conf and /etc/sysctl.d are lost on reboot.",
        fix: "`kube6 host fix` writes them into /etc/sysctl.d/90-kube6.conf.";
    RESOLVERS = "K6H014", "resolvers",
        "The resolvers of /etc/resolv.conf (systemd-resolved's upstream list behind its 127.0.0.53 stub) are of families the node has, and an IPv6-only cluster has an IPv6 one (fails without a usable resolver, warns about the others)",
        why: "CoreDNS forwards names outside the cluster to the node's resolvers from pods that have only the cluster's families: IPv4 resolvers are unreachable from an IPv6-only cluster (also with dual-stack nodes), and resolvers of a family the node lacks cost a timeout on every lookup.",
        fix: "List resolvers of the node's families (IPv6 ones, doing DNS64, for an IPv6-only cluster) in /etc/resolv.conf or the network configuration that writes it; glibc reads only the first three.";
    NAT64 = "K6H015", "nat64",
        "A TCP connection to an IPv4-only host through its NAT64-synthesized address succeeds (the prefix from DNS64 discovery or the plan, the target from `--nat64-target`); skipped without a NAT64 prefix",
        why: "DNS64 only synthesizes addresses; without a working NAT64 gateway on the path, connections to them (image pulls from IPv4-only registries) time out.",
        fix: "Route the NAT64 prefix to a NAT64 gateway (TAYGA or Jool; `kube6 render` writes one for spec.nat64.gateway) and check that the gateway has IPv4 connectivity.";
    REGISTRIES = "K6H016", "registries",
        "Every container registry of `--registry` (bare, with `--plan`: those the distribution and CNI pull from) can be reached by this node: over its own IPv6 address (AAAA), through NAT64, or over IPv4 where the node has it; reports per registry and family, and the images an IPv6-only node could not pull",
        why: "Many registries have no AAAA record (ghcr.io among them): on an IPv6-only node without NAT64 their images never pull, and the pods that need them never start.",
        fix: "Provide DNS64 + NAT64 (spec.nat64), mirror the images to a registry reachable over IPv6, or keep IPv4 on the nodes for the container runtime (the hybrid layout).";
}

/// The check with this id or name (case-insensitive).
pub fn find(key: &str) -> Option<&'static CheckInfo> {
    HostChecks::find(key)
}

/// The check table of docs/host.md, generated from this catalog (`kube6 host check --list-checks --markdown`); a test fails
/// when the file holds another.
pub fn markdown() -> String {
    HostChecks::markdown()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_catalog_is_well_formed() {
        assert_eq!(HostChecks::defects(), Vec::<String>::new());
    }

    #[test]
    fn ignore_takes_ids_names_and_all_and_refuses_the_rest() {
        let set = IgnoreSet::parse(["k6h012, Forwarding", "K6H013"]).unwrap();
        assert!(set.contains("K6H012") && set.contains("K6H002") && set.contains("K6H013"));
        assert!(!set.contains("K6H001"));
        let all = IgnoreSet::parse(["ALL"]).unwrap();
        assert!(ALL.iter().all(|c| all.contains(c.id)));
        let err = IgnoreSet::parse(["dns"]).unwrap_err();
        assert_eq!(err.given, "dns");
        assert!(err.to_string().contains("K6H012 dns64"), "{err}");
        assert!(IgnoreSet::parse([""]).unwrap().is_empty());
    }
}
