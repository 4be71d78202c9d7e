//! The kernel settings a node of a cluster needs: one list, which `kube6 render` writes into the
//! nodes' sysctl.d file and `kube6 host check`/`host fix` check and set (the binary hands this
//! list to kube6-host). Settings are in the order they must be applied: `accept_ra` before
//! forwarding, so a default route learned from router advertisements is never dropped in
//! between.
//!
//! Not in the list, on purpose: `proxy_ndp`. It makes the kernel answer neighbor solicitations
//! for the per-address entries of `ip -6 neigh add proxy` (net/ipv6/ndisc.c `ndisc_recv_ns`);
//! the NDP proxies kube6 renders, `kube6 ndp-proxy` and ndppd, answer from user space on a
//! packet socket and need only forwarding (shared/reference/ndp.md, and the namespace tests of
//! crates/kube6-ndp, which run without it).

use kube6_net::Family;

/// The interface a per-interface IPv6 setting applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interface {
    /// `all`: every existing interface.
    All,
    /// `default`: interfaces created later (pod veths, tunnels).
    Default,
    /// `lo`: components bind `::1`.
    Loopback,
    /// The interface facing the upstream network (named in the plan or detected on the node).
    Uplink,
}

impl Interface {
    fn name(self, uplink: &str) -> &str {
        match self {
            Interface::All => "all",
            Interface::Default => "default",
            Interface::Loopback => "lo",
            Interface::Uplink => uplink,
        }
    }
}

/// A kernel parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// `net.ipv4.ip_forward`.
    Ipv4Forward,
    /// `net.ipv6.conf.<interface>.<name>`.
    Ipv6 {
        interface: Interface,
        name: &'static str,
    },
    /// `net.bridge.bridge-nf-call-ip6tables` / `-iptables` (present once br_netfilter is loaded).
    BridgeNfCall(Family),
}

impl Key {
    /// The parameter's name in sysctl's dotted form, with `uplink` for the uplink. An interface
    /// with a dot in its name (a VLAN, `eth0.100`) needs the slash form, since sysctl reads dots
    /// as separators.
    pub fn sysctl_name(&self, uplink: &str) -> String {
        match self {
            Key::Ipv4Forward => "net.ipv4.ip_forward".to_string(),
            Key::Ipv6 { interface, name } => {
                let iface = interface.name(uplink);
                if iface.contains('.') {
                    format!("net/ipv6/conf/{iface}/{name}")
                } else {
                    format!("net.ipv6.conf.{iface}.{name}")
                }
            }
            Key::BridgeNfCall(Family::IPv6) => "net.bridge.bridge-nf-call-ip6tables".to_string(),
            Key::BridgeNfCall(Family::IPv4) => "net.bridge.bridge-nf-call-iptables".to_string(),
        }
    }

    /// The parameter's path segments (`["net", "ipv6", "conf", "eth0.100", "forwarding"]`).
    pub fn segments(&self, uplink: &str) -> Vec<String> {
        match self {
            Key::Ipv6 { interface, name } => ["net", "ipv6", "conf", interface.name(uplink), name]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            other => other
                .sysctl_name(uplink)
                .split('.')
                .map(str::to_string)
                .collect(),
        }
    }

    /// Whether the key names the uplink (and so needs its name).
    pub fn on_uplink(&self) -> bool {
        matches!(
            self,
            Key::Ipv6 {
                interface: Interface::Uplink,
                ..
            }
        )
    }
}

/// When a setting applies, beyond the cluster's families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum When {
    Always,
    /// The uplink takes its address or default route from router advertisements: with
    /// forwarding on, the kernel ignores them unless `accept_ra` is 2 and the learned default
    /// route expires (k3s-io/k3s#5019).
    UplinkUsesRouterAdvertisements,
    /// The br_netfilter module is loaded (its parameters exist only then).
    BridgeNetfilterLoaded,
}

/// One kernel setting a node needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KernelSetting {
    pub key: Key,
    pub value: &'static str,
    pub when: When,
    pub why: &'static str,
}

const IPV6_ON: &str = "IPv6 must be enabled for the node, new interfaces, loopback and the uplink";
const IPV6_FORWARD: &str = "Pods' IPv6 traffic is routed through the node";
const RA: &str = "Where the uplink takes its address or default route from router advertisements: with forwarding on, the kernel ignores them unless accept_ra = 2 (k3s-io/k3s#5019)";
const BRIDGE: &str = "kube-proxy's rules must see traffic between pods on a bridge";

/// Every kernel setting a node of a cluster with `families` needs, in the order to apply them.
pub fn settings(families: &[Family]) -> Vec<KernelSetting> {
    let mut out = Vec::new();
    let ipv6 = |interface, name, value, when, why| KernelSetting {
        key: Key::Ipv6 { interface, name },
        value,
        when,
        why,
    };
    if families.contains(&Family::IPv6) {
        for interface in [
            Interface::All,
            Interface::Default,
            Interface::Loopback,
            Interface::Uplink,
        ] {
            out.push(ipv6(interface, "disable_ipv6", "0", When::Always, IPV6_ON));
        }
        out.push(ipv6(
            Interface::Uplink,
            "accept_ra",
            "2",
            When::UplinkUsesRouterAdvertisements,
            RA,
        ));
        out.push(ipv6(
            Interface::All,
            "forwarding",
            "1",
            When::Always,
            IPV6_FORWARD,
        ));
        out.push(ipv6(
            Interface::Default,
            "forwarding",
            "1",
            When::Always,
            IPV6_FORWARD,
        ));
    }
    if families.contains(&Family::IPv4) {
        out.push(KernelSetting {
            key: Key::Ipv4Forward,
            value: "1",
            when: When::Always,
            why: "Pods' IPv4 traffic is routed through the node",
        });
    }
    for family in [Family::IPv6, Family::IPv4] {
        if families.contains(&family) {
            out.push(KernelSetting {
                key: Key::BridgeNfCall(family),
                value: "1",
                when: When::BridgeNetfilterLoaded,
                why: BRIDGE,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_settings_come_with_accept_ra_before_forwarding() {
        let list = settings(&[Family::IPv6]);
        let pos = |name: &str| {
            list.iter()
                .position(|s| s.key.sysctl_name("eth0") == name)
                .unwrap_or(usize::MAX)
        };
        assert!(pos("net.ipv6.conf.eth0.accept_ra") < pos("net.ipv6.conf.all.forwarding"));
        assert_eq!(pos("net.ipv4.ip_forward"), usize::MAX);
        assert!(
            !list
                .iter()
                .any(|s| s.key.sysctl_name("eth0").contains("proxy_ndp"))
        );
    }

    #[test]
    fn vlan_uplinks_use_the_slash_form() {
        let key = Key::Ipv6 {
            interface: Interface::Uplink,
            name: "accept_ra",
        };
        assert_eq!(
            key.sysctl_name("eth0.100"),
            "net/ipv6/conf/eth0.100/accept_ra"
        );
        assert_eq!(key.segments("eth0.100")[3], "eth0.100");
        assert!(key.on_uplink());
    }

    #[test]
    fn dual_stack_adds_ipv4_forwarding_and_both_bridge_keys() {
        let list = settings(&[Family::IPv4, Family::IPv6]);
        let names: Vec<String> = list.iter().map(|s| s.key.sysctl_name("eth0")).collect();
        assert!(names.contains(&"net.ipv4.ip_forward".to_string()));
        assert!(names.contains(&"net.bridge.bridge-nf-call-iptables".to_string()));
        assert!(names.contains(&"net.bridge.bridge-nf-call-ip6tables".to_string()));
    }
}
