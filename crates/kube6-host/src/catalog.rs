//! Every check `kube6 host check` runs, with its stable id, its name, what it checks, why it
//! matters and what fixes a failure. Reports are made from these entries only, so docs/host.md
//! (its table generated from [`markdown`]) lists everything host check can say; `--ignore` takes
//! ids or names from here.

use std::collections::BTreeSet;

/// A check's fixed description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CheckInfo {
    /// Stable id, `K6H0nn`.
    pub id: &'static str,
    /// Stable name, `ipv6-enabled`.
    pub name: &'static str,
    /// What passes, in one line.
    pub title: &'static str,
    /// Why it matters: what breaks when it fails.
    pub why: &'static str,
    /// What fixes a failure, in general; each report says what to do on this node.
    pub fix: &'static str,
}

macro_rules! checks {
    ($($konst:ident = $id:literal, $name:literal, $title:literal, why: $why:literal, fix: $fix:literal;)*) => {
        $(
            #[doc = $title]
            pub const $konst: CheckInfo = CheckInfo {
                id: $id,
                name: $name,
                title: $title,
                why: $why,
                fix: $fix,
            };
        )*
        /// Every check, in the order they run and are reported.
        pub const ALL: &[CheckInfo] = &[$($konst),*];
    };
}

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
}

/// The check with this id or name (case-insensitive).
pub fn find(key: &str) -> Option<&'static CheckInfo> {
    let key = key.trim();
    ALL.iter()
        .find(|c| c.id.eq_ignore_ascii_case(key) || c.name.eq_ignore_ascii_case(key))
}

/// A name given to `--ignore` that is no check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown check {given:?}: use a check id or name ({known}) or `all`")]
pub struct UnknownCheck {
    pub given: String,
    pub known: String,
}

/// The checks whose failures and warnings do not count (`--ignore CHECK,...`), in the spirit of
/// kubeadm's `--ignore-preflight-errors`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IgnoreSet(BTreeSet<&'static str>);

impl IgnoreSet {
    /// Reads check ids or names (case-insensitive), or `all`, from one or more comma lists.
    pub fn parse<'a>(lists: impl IntoIterator<Item = &'a str>) -> Result<IgnoreSet, UnknownCheck> {
        let mut set = BTreeSet::new();
        for item in lists
            .into_iter()
            .flat_map(|l| l.split(','))
            .map(str::trim)
            .filter(|i| !i.is_empty())
        {
            if item.eq_ignore_ascii_case("all") {
                set.extend(ALL.iter().map(|c| c.id));
                continue;
            }
            let check = find(item).ok_or_else(|| UnknownCheck {
                given: item.to_string(),
                known: ALL
                    .iter()
                    .map(|c| format!("{} {}", c.id, c.name))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
            set.insert(check.id);
        }
        Ok(IgnoreSet(set))
    }

    pub fn contains(&self, id: &str) -> bool {
        self.0.contains(id)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The check table of docs/host.md, generated from this catalog (`kube6 host check
/// --list-checks --markdown`); a test fails when the file holds another.
pub fn markdown() -> String {
    let mut out = String::from(
        "| id | name | passes when | why it matters | what fixes it |\n|---|---|---|---|---|\n",
    );
    let cell = |text: &str| text.replace('|', "\\|");
    for check in ALL {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            check.id,
            check.name,
            cell(check.title),
            cell(check.why),
            cell(check.fix)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ids_and_names_are_unique_and_well_formed() {
        let mut ids: Vec<&str> = ALL.iter().map(|c| c.id).collect();
        let mut names: Vec<&str> = ALL.iter().map(|c| c.name).collect();
        ids.sort();
        names.sort();
        ids.dedup();
        names.dedup();
        assert_eq!(ids.len(), ALL.len(), "duplicate ids");
        assert_eq!(names.len(), ALL.len(), "duplicate names");
        for (i, check) in ALL.iter().enumerate() {
            assert_eq!(check.id, format!("K6H{:03}", i + 1), "ids follow the order");
            assert!(
                check
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                check.name
            );
            assert!(!check.title.is_empty() && !check.why.is_empty() && !check.fix.is_empty());
        }
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
