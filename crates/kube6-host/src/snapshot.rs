//! Everything the checks look at, read once from the system ([`Snapshot::read`]) or built by
//! hand in tests. Checks and fixes are pure functions of a snapshot and the expectations.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kube6_net::Family;

use crate::Error;
use crate::dns::{Dns64Probe, Resolver, probe_dns64};
use crate::expect::Expectations;
use crate::netlink::{Interfaces, read_interfaces};
use crate::nodeip::{HostnameLookup, is_global_unicast, virtual_interface};
use crate::sysctl::{Key, Persisted, Runtime};

/// Where the files live: `root` holds `etc/sysctl.d` (and the other sysctl directories);
/// `proc_sys` is the runtime tree, `<root>/proc/sys` unless set apart (tests write the kernel's
/// per-namespace `/proc/sys` but keep `/etc` in a temporary directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPaths {
    pub root: PathBuf,
    pub proc_sys: PathBuf,
}

impl HostPaths {
    pub fn new(root: impl Into<PathBuf>, proc_sys: Option<PathBuf>) -> HostPaths {
        let root = root.into();
        let proc_sys = proc_sys.unwrap_or_else(|| root.join("proc/sys"));
        HostPaths { root, proc_sys }
    }

    /// The live system: `/` and `/proc/sys`.
    pub fn system() -> HostPaths {
        HostPaths::new("/", None)
    }

    pub fn runtime(&self) -> Runtime {
        Runtime {
            dir: self.proc_sys.clone(),
        }
    }
}

impl Default for HostPaths {
    fn default() -> Self {
        HostPaths::system()
    }
}

/// The uplink and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uplink {
    pub name: Option<String>,
    pub reason: String,
}

/// What was read from the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub interfaces: Interfaces,
    pub uplink: Uplink,
    /// `/proc/sys/net/ipv6` exists (or there is no runtime tree to look at): the kernel has IPv6.
    pub ipv6_available: bool,
    /// Why the runtime values could not be read at all (no runtime tree under `--root`, as when an
    /// image is being built); the checks that need them are skipped with this reason.
    pub runtime_unreadable: Option<String>,
    /// The kernel command line has `ipv6.disable=1`.
    pub ipv6_disabled_at_boot: bool,
    /// Runtime values of the parameters the checks need; `None` when absent.
    pub sysctl: BTreeMap<Key, Option<String>>,
    pub persisted: Persisted,
    pub hostname: HostnameLookup,
    pub dns64: Dns64Probe,
    /// The node's resolvers.
    pub resolv_conf: crate::egress::ResolvConf,
    /// A connection through NAT64, when a prefix and a target are known.
    pub nat64: Option<crate::egress::Nat64Probe>,
    /// Each registry of `--registry` (or the plan), looked up and connected to.
    pub registries: Vec<crate::egress::RegistryProbe>,
    /// `ip6tables`, `iptables`, `nft` found on the node.
    pub packet_filter_tools: Vec<String>,
    /// `/proc/sys/net/bridge` exists: `br_netfilter` is loaded.
    pub bridge_netfilter_loaded: bool,
}

impl Snapshot {
    /// Reads the node: netlink in the calling thread's network namespace, files under `paths`,
    /// names through `resolver`.
    pub fn read(
        paths: &HostPaths,
        exp: &Expectations,
        resolver: &dyn Resolver,
    ) -> Result<Snapshot, Error> {
        let interfaces = read_interfaces()?;
        let uplink = find_uplink(exp, &interfaces);
        let runtime = paths.runtime();
        let mut sysctl = BTreeMap::new();
        for key in keys_to_read(uplink.name.as_deref()) {
            let value = runtime.read(&key)?;
            sysctl.insert(key, value);
        }
        let cmdline_path = paths
            .proc_sys
            .parent()
            .map(|p| p.join("cmdline"))
            .unwrap_or_else(|| PathBuf::from("/proc/cmdline"));
        let cmdline = read_small(&cmdline_path);
        let dns64 = probe_dns64(resolver);
        let nat64 = exp
            .nat64_prefix
            .or_else(|| dns64.prefixes.first().copied())
            .zip(exp.nat64_target.as_deref())
            .map(|(prefix, target)| crate::egress::probe_nat64(target, prefix, resolver));
        let prefix = exp.nat64_prefix.or_else(|| dns64.prefixes.first().copied());
        let ipv4_route = interfaces.default_route(Family::IPv4).is_some();
        let registries = exp
            .registries
            .iter()
            .map(|r| crate::egress::probe_registry(r, prefix, ipv4_route, resolver))
            .collect();
        Ok(Snapshot {
            registries,
            resolv_conf: crate::egress::read_resolv_conf(&paths.root),
            nat64,
            uplink,
            // Without a runtime tree at all (an image being built) IPv6 is assumed available.
            ipv6_available: !paths.proc_sys.is_dir() || paths.proc_sys.join("net/ipv6").is_dir(),
            runtime_unreadable: (!paths.proc_sys.is_dir())
                .then(|| format!("{} does not exist", paths.proc_sys.display())),
            ipv6_disabled_at_boot: cmdline.split_whitespace().any(|w| w == "ipv6.disable=1"),
            sysctl,
            persisted: Persisted::read(&paths.root)?,
            hostname: hostname_lookup(exp, paths, resolver),
            dns64,
            packet_filter_tools: find_tools(&paths.root, &["ip6tables", "iptables", "nft"]),
            bridge_netfilter_loaded: paths.proc_sys.join("net/bridge").is_dir(),
            interfaces,
        })
    }

    /// The runtime value of a parameter, if it exists.
    pub fn value(&self, key: &Key) -> Option<&str> {
        self.sysctl.get(key).and_then(|v| v.as_deref())
    }
}

/// The parameters the checks read, for an uplink.
pub fn keys_to_read(uplink: Option<&str>) -> Vec<Key> {
    let mut keys = Vec::new();
    for iface in ["all", "default", "lo"] {
        keys.push(Key::ipv6_conf(iface, "disable_ipv6"));
    }
    keys.push(Key::ipv6_conf("all", "forwarding"));
    keys.push(Key::ipv6_conf("all", "proxy_ndp"));
    if let Some(up) = uplink {
        for name in ["disable_ipv6", "forwarding", "accept_ra", "proxy_ndp"] {
            keys.push(Key::ipv6_conf(up, name));
        }
    }
    for k in [
        "net.ipv4.ip_forward",
        "net.bridge.bridge-nf-call-ip6tables",
        "net.bridge.bridge-nf-call-iptables",
    ] {
        keys.push(Key::parse(k));
    }
    keys
}

/// `--uplink`, else the interface of the IPv6 default route, else of the IPv4 default route,
/// else the only ordinary interface with a global address.
pub fn find_uplink(exp: &Expectations, interfaces: &Interfaces) -> Uplink {
    if let Some(name) = &exp.uplink {
        return if interfaces.link(name).is_some() {
            Uplink {
                name: Some(name.clone()),
                reason: "given with --uplink".into(),
            }
        } else {
            Uplink {
                name: None,
                reason: format!("--uplink {name}: no such interface"),
            }
        };
    }
    for family in [Family::IPv6, Family::IPv4] {
        if let Some(route) = interfaces.default_route(family)
            && let Some(name) = &route.oif_name
            && virtual_interface(name).is_none()
        {
            return Uplink {
                name: Some(name.clone()),
                reason: format!("the interface of the {family} default route"),
            };
        }
    }
    let candidates: Vec<&str> = interfaces
        .links
        .iter()
        .filter(|l| l.up && !l.loopback && virtual_interface(&l.name).is_none())
        .filter(|l| {
            interfaces
                .addresses_on(&l.name)
                .any(|a| is_global_unicast(&a.addr))
        })
        .map(|l| l.name.as_str())
        .collect();
    match candidates.as_slice() {
        [one] => Uplink {
            name: Some(one.to_string()),
            reason: "no default route; the only interface with a global address".into(),
        },
        [] => Uplink {
            name: None,
            reason: "no default route and no interface with a global address".into(),
        },
        many => Uplink {
            name: None,
            reason: format!(
                "no default route and several candidate interfaces ({}): pass --uplink",
                many.join(", ")
            ),
        },
    }
}

/// A small kernel file as text, or empty when it cannot be read (bounded; never a FIFO).
fn read_small(path: &Path) -> String {
    kube6_fs::read::text(path, &crate::sysctl::VALUE_LIMIT)
        .map(|t| t.text)
        .unwrap_or_default()
}

/// The node name: `exp.hostname`, else the kernel's hostname.
pub fn node_name(exp: &Expectations, paths: &HostPaths) -> String {
    if let Some(name) = &exp.hostname {
        return name.clone();
    }
    let name = read_small(&paths.proc_sys.join("kernel/hostname"));
    let name = if name.is_empty() {
        read_small(Path::new("/proc/sys/kernel/hostname"))
    } else {
        name
    };
    name.trim().to_string()
}

/// Resolves the node name.
pub fn hostname_lookup(
    exp: &Expectations,
    paths: &HostPaths,
    resolver: &dyn Resolver,
) -> HostnameLookup {
    let name = node_name(exp, paths);
    let result = if name.is_empty() {
        Err("no hostname".to_string())
    } else {
        resolver.lookup(&name)
    };
    HostnameLookup { name, result }
}

fn find_tools(root: &Path, names: &[&str]) -> Vec<String> {
    let dirs = ["usr/sbin", "sbin", "usr/bin", "bin", "usr/local/sbin"];
    names
        .iter()
        .filter(|name| dirs.iter().any(|d| root.join(d).join(name).exists()))
        .map(|n| n.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uplink_from_flag_route_or_the_only_candidate() {
        let mut ifs = crate::nodeip::tests::fixture();
        let exp = Expectations::default();
        let u = find_uplink(&exp, &ifs);
        assert_eq!(u.name.as_deref(), Some("eth0"));
        assert!(u.reason.contains("IPv6 default route"), "{u:?}");

        let given = Expectations {
            uplink: Some("nope0".into()),
            ..Expectations::default()
        };
        assert_eq!(find_uplink(&given, &ifs).name, None);

        // No default route: eth0 is the only ordinary interface with a global address (cni0 is
        // virtual, lo is loopback).
        ifs.routes.clear();
        let u = find_uplink(&exp, &ifs);
        assert_eq!(u.name.as_deref(), Some("eth0"), "{u:?}");

        // A second candidate makes it ambiguous.
        ifs.links.push(crate::netlink::Link {
            index: 4,
            name: "eth1".into(),
            mtu: 1500,
            up: true,
            loopback: false,
            kind: None,
        });
        let mut second = ifs.addresses[5].clone();
        second.ifname = "eth1".into();
        second.addr = "2001:db8:7::1".parse().unwrap();
        ifs.addresses.push(second);
        let u = find_uplink(&exp, &ifs);
        assert_eq!(u.name, None);
        assert!(u.reason.contains("--uplink"), "{u:?}");
    }

    #[test]
    fn sysctl_keys_for_the_uplink() {
        let keys = keys_to_read(Some("eth0.100"));
        assert!(keys.contains(&Key::ipv6_conf("eth0.100", "accept_ra")));
        assert!(keys.contains(&Key::parse("net.ipv4.ip_forward")));
    }
}
