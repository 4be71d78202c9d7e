//! Choosing this node's IP per family, the way a kubelet `--node-ip` value should be chosen.
//!
//! For each expected family, primary first:
//! 1. an explicit value (`--node-ip`);
//! 2. else the hostname's DNS answers of that family, kept only if they are global unicast
//!    addresses present and usable on a local, non-virtual interface;
//! 3. else a usable address on the interface of that family's default route.
//!
//! Never chosen: link-local, loopback, deprecated, tentative or DAD-failed addresses, IPv6
//! temporary (privacy) addresses, and addresses on CNI and virtual interfaces. "Global unicast"
//! follows Go's `IsGlobalUnicast`, as Kubernetes does: unique local IPv6 (fc00::/7) and private
//! IPv4 ranges count, documentation prefixes too.

use std::net::IpAddr;

use kube6_net::Family;
use serde::{Deserialize, Serialize};

use crate::expect::Expectations;
use crate::netlink::{Address, Interfaces};

/// Where a node IP came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Explicit,
    Hostname,
    DefaultRoute,
}

/// An address that was looked at and not taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    pub address: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    pub reason: String,
}

/// The choice for one family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeIpChoice {
    pub family: Family,
    /// The chosen address; `None` when nothing usable was found.
    pub address: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// Why this address (or why none).
    pub reason: String,
    /// Set when the chosen address will not work (an explicit address not on this host).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Candidates that were looked at and skipped, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<Rejected>,
}

impl NodeIpChoice {
    /// An address was chosen and nothing is wrong with it.
    pub fn ok(&self) -> bool {
        self.address.is_some() && self.problem.is_none()
    }
}

/// The choices for every expected family, primary first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeIps {
    pub choices: Vec<NodeIpChoice>,
}

impl NodeIps {
    /// Every family has a usable address.
    pub fn complete(&self) -> bool {
        self.choices.iter().all(NodeIpChoice::ok)
    }

    /// The chosen addresses, primary first.
    pub fn addresses(&self) -> Vec<IpAddr> {
        self.choices.iter().filter_map(|c| c.address).collect()
    }

    /// The kubelet `--node-ip` value: the addresses joined by commas, primary first.
    pub fn kubelet_value(&self) -> String {
        self.addresses()
            .iter()
            .map(IpAddr::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The answers to the hostname lookup, as read from the resolver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostnameLookup {
    pub name: String,
    /// The addresses in the resolver's order, or the lookup error.
    pub result: Result<Vec<IpAddr>, String>,
}

/// Interfaces whose addresses are never node IPs: CNI bridges, overlays, tunnels, container
/// bridges. Returns the reason, or `None` for an ordinary interface.
pub fn virtual_interface(name: &str) -> Option<&'static str> {
    let exact = ["cni0", "kube-bridge", "kube-ipvs0", "tunl0", "docker0"];
    let prefixes = ["flannel.", "cali", "vxlan", "lxc"];
    if exact.contains(&name) || prefixes.iter().any(|p| name.starts_with(p)) {
        Some("CNI or virtual interface")
    } else {
        None
    }
}

/// Go's `IsGlobalUnicast`: not unspecified, loopback, link-local, multicast or broadcast.
pub fn is_global_unicast(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast())
        }
        IpAddr::V6(v6) => {
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_unicast_link_local()
                || v6.is_multicast())
        }
    }
}

/// Unique local IPv6 (fc00::/7).
pub fn is_ula(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if v6.is_unique_local())
}

/// Why an address on an interface cannot be a node IP, or `None` when it can.
pub fn unusable(interfaces: &Interfaces, address: &Address) -> Option<String> {
    if !is_global_unicast(&address.addr) {
        return Some(if address.addr.is_loopback() {
            "loopback address".into()
        } else {
            "link-local or not unicast".into()
        });
    }
    if let Some(link) = interfaces.link(&address.ifname)
        && link.loopback
    {
        return Some(format!("on the loopback interface {}", link.name));
    }
    if let Some(why) = virtual_interface(&address.ifname) {
        return Some(format!("on {} ({why})", address.ifname));
    }
    let f = address.flags;
    if f.dadfailed {
        return Some("duplicate address detection failed".into());
    }
    if f.tentative {
        return Some("tentative (duplicate address detection not finished)".into());
    }
    if f.deprecated {
        return Some("deprecated (preferred lifetime over)".into());
    }
    if f.temporary {
        return Some("temporary privacy address (changes over time)".into());
    }
    None
}

/// Chooses the node IP of every expected family. Pure: works on what was read.
pub fn detect(exp: &Expectations, interfaces: &Interfaces, lookup: &HostnameLookup) -> NodeIps {
    let choices = exp
        .families
        .iter()
        .map(|&family| detect_family(family, exp, interfaces, lookup))
        .collect();
    NodeIps { choices }
}

fn detect_family(
    family: Family,
    exp: &Expectations,
    interfaces: &Interfaces,
    lookup: &HostnameLookup,
) -> NodeIpChoice {
    let mut choice = NodeIpChoice {
        family,
        address: None,
        interface: None,
        source: None,
        reason: String::new(),
        problem: None,
        rejected: Vec::new(),
    };

    // 1. Explicit.
    if let Some(ip) = exp.node_ip(family) {
        choice.address = Some(ip);
        choice.source = Some(Source::Explicit);
        match interfaces.find_address(ip) {
            Some(found) => {
                choice.interface = Some(found.ifname.clone());
                choice.reason = format!("given explicitly; present on {}", found.ifname);
                if let Some(why) = unusable(interfaces, found) {
                    choice.problem = Some(format!("{ip} is {why}"));
                }
            }
            None => {
                choice.reason = "given explicitly".into();
                choice.problem = Some(format!(
                    "{ip} is not on any interface of this host; the kubelet refuses a node IP it does not have"
                ));
            }
        }
        return choice;
    }

    // 2. Hostname answers.
    let mut dns_note = String::new();
    match &lookup.result {
        Ok(answers) => {
            let of_family: Vec<_> = answers
                .iter()
                .filter(|ip| Family::of_addr(ip) == family)
                .collect();
            if of_family.is_empty() {
                dns_note = format!("hostname {} has no {family} address", lookup.name);
            }
            for ip in of_family {
                let verdict = match interfaces.find_address(*ip) {
                    None => Err(("not on any local interface".to_string(), None)),
                    Some(found) => match unusable(interfaces, found) {
                        Some(why) => Err((why, Some(found.ifname.clone()))),
                        None => Ok(found),
                    },
                };
                match verdict {
                    // Every answer is looked at, so the report lists all rejected ones.
                    Ok(_) if choice.address.is_some() => {}
                    Ok(found) => {
                        choice.address = Some(*ip);
                        choice.interface = Some(found.ifname.clone());
                        choice.source = Some(Source::Hostname);
                        choice.reason = format!(
                            "hostname {} resolves to it and it is on {}",
                            lookup.name, found.ifname
                        );
                    }
                    Err((why, interface)) => choice.rejected.push(Rejected {
                        address: *ip,
                        interface,
                        reason: format!("hostname answer: {why}"),
                    }),
                }
            }
            if choice.address.is_some() {
                return choice;
            }
            if dns_note.is_empty() {
                dns_note = format!("no usable answer for hostname {}", lookup.name);
            }
        }
        Err(e) => dns_note = format!("hostname {} does not resolve ({e})", lookup.name),
    }

    // 3. The default route's interface.
    let Some(route) = interfaces.default_route(family) else {
        choice.reason = format!("{dns_note}; no {family} default route");
        return choice;
    };
    let Some(ifname) = route.oif_name.clone() else {
        choice.reason = format!("{dns_note}; the {family} default route has no interface");
        return choice;
    };
    if let Some(why) = virtual_interface(&ifname) {
        choice.reason = format!("{dns_note}; the {family} default route is on {ifname} ({why})");
        return choice;
    }
    let mut candidates: Vec<&Address> = Vec::new();
    for address in interfaces.addresses_on(&ifname) {
        if Family::of_addr(&address.addr) != family {
            continue;
        }
        let why = unusable(interfaces, address).or_else(|| {
            address
                .flags
                .secondary
                .then(|| "secondary address (often a floating VIP)".to_string())
        });
        match why {
            Some(why) => choice.rejected.push(Rejected {
                address: address.addr,
                interface: Some(ifname.clone()),
                reason: why,
            }),
            None => candidates.push(address),
        }
    }
    // The route's preferred source wins; then static addresses before autoconfigured ones.
    let pick = candidates
        .iter()
        .find(|a| Some(a.addr) == route.prefsrc)
        .or_else(|| candidates.iter().find(|a| a.flags.permanent))
        .or_else(|| candidates.first());
    match pick {
        Some(address) => {
            choice.address = Some(address.addr);
            choice.interface = Some(ifname.clone());
            choice.source = Some(Source::DefaultRoute);
            choice.reason = format!(
                "{dns_note}; first usable {family} address on {ifname}, the interface of the default route"
            );
        }
        None => {
            choice.reason = format!(
                "{dns_note}; no usable {family} address on {ifname}, the interface of the default route"
            );
        }
    }
    choice
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::netlink::{AddrFlags, Link, Route};

    fn link(index: u32, name: &str) -> Link {
        Link {
            index,
            name: name.into(),
            mtu: 1500,
            up: true,
            loopback: name == "lo",
            kind: None,
        }
    }

    fn addr(ifname: &str, ip: &str, flags: AddrFlags) -> Address {
        Address {
            ifindex: 0,
            ifname: ifname.into(),
            addr: ip.parse().unwrap(),
            prefix_len: 64,
            flags,
        }
    }

    fn default_route(family: Family, ifname: &str) -> Route {
        Route {
            family,
            dst: None,
            gateway: None,
            oif: Some(2),
            oif_name: Some(ifname.into()),
            protocol: "static".into(),
            metric: 1024,
            prefsrc: None,
        }
    }

    /// An uplink with a global, a link-local, a deprecated and a temporary address, a cni0
    /// bridge, lo, and default routes for both families on the uplink.
    pub(crate) fn fixture() -> Interfaces {
        let permanent = AddrFlags {
            permanent: true,
            ..AddrFlags::default()
        };
        let deprecated = AddrFlags {
            deprecated: true,
            ..AddrFlags::default()
        };
        let temporary = AddrFlags {
            temporary: true,
            ..AddrFlags::default()
        };
        Interfaces {
            links: vec![link(1, "lo"), link(2, "eth0"), link(3, "cni0")],
            addresses: vec![
                addr("lo", "::1", permanent),
                addr("lo", "127.0.0.1", permanent),
                addr("eth0", "fe80::1", permanent),
                addr("eth0", "2001:db8:1::d", deprecated),
                addr("eth0", "2001:db8:1::7", temporary),
                addr("eth0", "2001:db8:1::10", permanent),
                addr("eth0", "192.0.2.10", permanent),
                addr("cni0", "fd00:10::1", permanent),
                addr("cni0", "10.42.0.1", permanent),
            ],
            routes: vec![
                default_route(Family::IPv6, "eth0"),
                default_route(Family::IPv4, "eth0"),
            ],
        }
    }

    fn lookup(answers: &[&str]) -> HostnameLookup {
        HostnameLookup {
            name: "node1".into(),
            result: Ok(answers.iter().map(|a| a.parse().unwrap()).collect()),
        }
    }

    fn exp(families: &[Family]) -> Expectations {
        Expectations {
            families: families.to_vec(),
            ..Expectations::default()
        }
    }

    #[test]
    fn default_route_interface_skips_bad_addresses() {
        let ips = detect(&exp(&[Family::IPv6]), &fixture(), &lookup(&[]));
        assert_eq!(ips.kubelet_value(), "2001:db8:1::10");
        let c = &ips.choices[0];
        assert_eq!(c.source, Some(Source::DefaultRoute));
        let rejected: Vec<String> = c.rejected.iter().map(|r| r.address.to_string()).collect();
        assert_eq!(rejected, ["fe80::1", "2001:db8:1::d", "2001:db8:1::7"]);
    }

    #[test]
    fn hostname_answers_must_be_local_usable_and_not_virtual() {
        let l = lookup(&[
            "::1",
            "fd00:10::1",
            "2001:db8:9::1",
            "2001:db8:1::d",
            "2001:db8:1::10",
        ]);
        let ips = detect(&exp(&[Family::IPv6]), &fixture(), &l);
        let c = &ips.choices[0];
        assert_eq!(c.address, Some("2001:db8:1::10".parse().unwrap()));
        assert_eq!(c.source, Some(Source::Hostname));
        assert_eq!(c.rejected.len(), 4, "{c:?}");
    }

    #[test]
    fn dual_stack_primary_first() {
        let ips = detect(
            &exp(&[Family::IPv6, Family::IPv4]),
            &fixture(),
            &lookup(&[]),
        );
        assert_eq!(ips.kubelet_value(), "2001:db8:1::10,192.0.2.10");
        let ips = detect(
            &exp(&[Family::IPv4, Family::IPv6]),
            &fixture(),
            &lookup(&[]),
        );
        assert_eq!(ips.kubelet_value(), "192.0.2.10,2001:db8:1::10");
        assert!(ips.complete());
    }

    #[test]
    fn explicit_wins_and_must_exist() {
        let mut e = exp(&[Family::IPv6]);
        e.node_ips = vec!["2001:db8:1::10".parse().unwrap()];
        let ips = detect(&e, &fixture(), &lookup(&["2001:db8:1::d"]));
        assert_eq!(ips.choices[0].source, Some(Source::Explicit));
        assert!(ips.complete());
        e.node_ips = vec!["2001:db8:5::5".parse().unwrap()];
        let ips = detect(&e, &fixture(), &lookup(&[]));
        assert!(!ips.complete());
        assert!(ips.choices[0].problem.is_some());
    }

    #[test]
    fn default_route_on_a_cni_interface_is_not_used() {
        let mut ifs = fixture();
        ifs.routes = vec![default_route(Family::IPv6, "cni0")];
        let ips = detect(&exp(&[Family::IPv6]), &ifs, &lookup(&[]));
        assert!(!ips.complete());
        assert!(
            ips.choices[0].reason.contains("cni0"),
            "{:?}",
            ips.choices[0]
        );
    }

    #[test]
    fn virtual_names() {
        for name in [
            "cni0",
            "flannel.1",
            "kube-bridge",
            "kube-ipvs0",
            "cali1234",
            "vxlan.calico",
            "tunl0",
            "docker0",
            "lxc12",
        ] {
            assert!(virtual_interface(name).is_some(), "{name}");
        }
        assert!(virtual_interface("eth0").is_none());
        assert!(virtual_interface("veth-up").is_none());
    }
}
