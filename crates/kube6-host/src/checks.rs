//! The readiness checks: pure functions from a [`Snapshot`] and [`Expectations`] to a [`Report`].
//! Each check says what it read, why it matters and how to fix it.

use std::fmt;
use std::net::IpAddr;

use kube6_net::Family;
use serde::Serialize;

use crate::catalog::{self, CheckInfo, IgnoreSet};
use crate::expect::{Condition, Expectations, Segment, Upstream, families_to_string};
use crate::netlink::Address;
use crate::nodeip::{self, NodeIps, is_global_unicast, is_ula, unusable};
use crate::snapshot::Snapshot;
use crate::sysctl::{Key, Persisted};

/// The outcome of one check, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    /// Not applicable here, or what it needs could not be read (the summary says which).
    Skip,
    /// Warned or failed, but named in `--ignore`: does not count.
    Ignored,
    Warn,
    Fail,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Skip => "skip",
            CheckStatus::Ignored => "ignored",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
        }
    }
}

impl fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// Stable id from the catalog: `K6H001`.
    pub id: &'static str,
    /// Stable name: `ipv6-enabled`, `forwarding`, `accept-ra`, ...
    pub name: &'static str,
    /// What passes (the catalog's title).
    pub title: &'static str,
    pub status: CheckStatus,
    /// For an ignored check, what it would have been.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored_status: Option<CheckStatus>,
    /// One line saying what was found.
    pub summary: String,
    /// What was read from the system.
    pub read: Vec<String>,
    /// Why it matters.
    pub why: &'static str,
    /// How to fix it (present when the status is not pass).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// `kube6 host fix` can fix it.
    pub fixable: bool,
}

/// Every check, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub status: CheckStatus,
    /// The expected families, primary first.
    pub families: Vec<Family>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uplink: Option<String>,
    pub checks: Vec<Check>,
}

impl Check {
    /// A check's result, described by its catalog entry.
    fn new(
        info: &CheckInfo,
        status: CheckStatus,
        summary: String,
        read: Vec<String>,
        fix: Option<String>,
        fixable: bool,
    ) -> Check {
        Check {
            id: info.id,
            name: info.name,
            title: info.title,
            status,
            ignored_status: None,
            summary,
            read,
            why: info.why,
            fix,
            fixable,
        }
    }

    /// A check that does not apply here, or cannot be done, and why.
    fn skipped(info: &CheckInfo, reason: impl Into<String>) -> Check {
        Check::new(
            info,
            CheckStatus::Skip,
            reason.into(),
            Vec::new(),
            None,
            false,
        )
    }
}

impl Report {
    fn new(exp: &Expectations, uplink: Option<String>, checks: Vec<Check>) -> Report {
        let mut report = Report {
            status: CheckStatus::Pass,
            families: exp.families.clone(),
            uplink,
            checks,
        };
        report.settle();
        report
    }

    pub fn failed(&self) -> bool {
        self.status == CheckStatus::Fail
    }

    /// The check with this id or name (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&Check> {
        self.checks
            .iter()
            .find(|c| c.id.eq_ignore_ascii_case(key) || c.name.eq_ignore_ascii_case(key))
    }

    /// Marks the warnings and failures of the checks in `ignore` as ignored: they are still
    /// reported, with what they would have been, and no longer decide the report's status.
    pub fn ignore(&mut self, ignore: &IgnoreSet) {
        for check in &mut self.checks {
            if ignore.contains(check.id)
                && matches!(check.status, CheckStatus::Warn | CheckStatus::Fail)
            {
                check.ignored_status = Some(check.status);
                check.status = CheckStatus::Ignored;
            }
        }
        self.settle();
    }

    /// How many checks have `status`.
    pub fn count(&self, status: CheckStatus) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    fn settle(&mut self) {
        self.status = self
            .checks
            .iter()
            .map(|c| c.status)
            .filter(|s| matches!(s, CheckStatus::Pass | CheckStatus::Warn | CheckStatus::Fail))
            .max()
            .unwrap_or(CheckStatus::Pass);
    }
}

/// A kernel parameter the node should have, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting {
    pub key: Key,
    pub value: String,
    pub why: String,
}

impl Setting {
    /// The value the kernel starts with when no file sets it.
    pub fn kernel_default(&self) -> Option<&'static str> {
        let last = self.key.0.last().map(String::as_str);
        match last {
            Some("disable_ipv6") | Some("forwarding") | Some("proxy_ndp") | Some("ip_forward") => {
                Some("0")
            }
            Some("accept_ra") => Some("1"),
            Some("bridge-nf-call-ip6tables") | Some("bridge-nf-call-iptables") => Some("1"),
            _ => None,
        }
    }

    /// The value at the next boot: the last file that sets it, else the kernel default.
    pub fn boot_value<'a>(&self, persisted: &'a Persisted) -> Option<&'a str> {
        persisted
            .effective(&self.key)
            .map(|e| e.value.as_str())
            .or(self.kernel_default())
    }

    /// The next boot gives this setting its value.
    pub fn persisted(&self, persisted: &Persisted) -> bool {
        self.boot_value(persisted) == Some(self.value.as_str())
    }
}

/// Router advertisements are (or were) what configures the uplink: a default route learned
/// from them, an autoconfigured address, or no IPv6 default route at all while RAs are accepted.
pub fn ra_in_use(snap: &Snapshot, uplink: &str) -> bool {
    let route = snap.interfaces.default_route(Family::IPv6);
    if let Some(r) = route
        && r.protocol == "ra"
        && r.oif_name.as_deref() == Some(uplink)
    {
        return true;
    }
    let autoconf = snap.interfaces.addresses_on(uplink).any(|a| {
        matches!(a.addr, IpAddr::V6(_)) && is_global_unicast(&a.addr) && !a.flags.permanent
    });
    autoconf || route.is_none()
}

/// The kernel parameters this node needs, in the order they should be applied (`accept_ra`
/// before forwarding, so a route learned from RAs is never dropped in between): the plan's list
/// (`Expectations::kernel`), resolved on this node. Parameters of the uplink need its name;
/// `accept_ra = 2` applies where router advertisements configure the uplink; the bridge
/// parameters exist once br_netfilter is loaded; IPv6 parameters need a kernel with IPv6.
pub fn desired_settings(snap: &Snapshot, exp: &Expectations) -> Vec<Setting> {
    let uplink = snap.uplink.name.as_deref();
    let mut out = Vec::new();
    for req in &exp.kernel {
        let mut segments = Vec::with_capacity(req.key.len());
        for segment in &req.key {
            match segment {
                Segment::Text(text) => segments.push(text.clone()),
                Segment::Uplink => match uplink {
                    Some(up) => segments.push(up.to_string()),
                    None => break,
                },
            }
        }
        if segments.len() != req.key.len() {
            continue;
        }
        if segments.get(1).is_some_and(|s| s == "ipv6") && !snap.ipv6_available {
            continue;
        }
        let key = Key(segments);
        let applies = match req.when {
            Condition::Always => true,
            Condition::UplinkUsesRouterAdvertisements => {
                uplink.is_some_and(|up| ra_in_use(snap, up))
                    && matches!(snap.value(&key), Some("1") | Some("2"))
            }
            Condition::BridgeNetfilterLoaded => snap.bridge_netfilter_loaded,
        };
        if applies {
            out.push(Setting {
                key,
                value: req.value.clone(),
                why: req.why.clone(),
            });
        }
    }
    out
}

fn shown(snap: &Snapshot, key: &Key) -> String {
    format!("{key} = {}", snap.value(key).unwrap_or("(absent)"))
}

fn fix_with(settings: &[(Key, &str)]) -> String {
    let list: Vec<String> = settings.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    format!("kube6 host fix (sets {})", list.join(", "))
}

/// What a sysctl check says when its keys are (or are not) as wanted.
struct SysctlCheck<'a> {
    info: &'static CheckInfo,
    /// The value every key must have.
    wanted: &'a str,
    /// Whether a key's value (None when absent) needs fixing.
    needs_fix: fn(Option<&str>) -> bool,
    pass: String,
    fail: String,
    fail_status: CheckStatus,
}

impl SysctlCheck<'_> {
    /// Reads `keys`, and passes or fails with the settings that fix them.
    fn run(self, snap: &Snapshot, keys: &[Key]) -> Check {
        let read: Vec<String> = keys.iter().map(|k| shown(snap, k)).collect();
        let off: Vec<(Key, &str)> = keys
            .iter()
            .filter(|k| (self.needs_fix)(snap.value(k)))
            .map(|k| (k.clone(), self.wanted))
            .collect();
        let (status, summary, fix) = if off.is_empty() {
            (CheckStatus::Pass, self.pass, None)
        } else {
            let names: Vec<String> = off.iter().map(|(k, _)| k.to_string()).collect();
            (
                self.fail_status,
                format!("{}: {}", self.fail, names.join(", ")),
                Some(fix_with(&off)),
            )
        };
        let fixable = fix.is_some();
        Check::new(self.info, status, summary, read, fix, fixable)
    }
}

/// Runs every check of the catalog, in its order; those that do not apply to this node are
/// reported as skipped, with the reason.
pub fn run_checks(snap: &Snapshot, exp: &Expectations) -> Report {
    let node_ips = nodeip::detect(exp, &snap.interfaces, &snap.hostname);
    let ipv6 = exp.has(Family::IPv6);
    // Why the uplink's IPv6 checks cannot run, if they cannot.
    let no_uplink_ipv6 = if !ipv6 {
        Some("the cluster has no IPv6")
    } else if !snap.ipv6_available {
        Some("the kernel has no IPv6 (see K6H001)")
    } else if snap.uplink.name.is_none() {
        Some("no uplink (see K6H003)")
    } else {
        None
    };
    let checks = vec![
        if ipv6 {
            ipv6_enabled(snap)
        } else {
            Check::skipped(&catalog::IPV6_ENABLED, "the cluster has no IPv6")
        },
        forwarding(snap, exp),
        uplink(snap, exp),
        match no_uplink_ipv6 {
            None => accept_ra(snap),
            Some(why) => Check::skipped(&catalog::ACCEPT_RA, why),
        },
        match no_uplink_ipv6 {
            None => uplink_address(snap, exp),
            Some(why) => Check::skipped(&catalog::UPLINK_ADDRESS, why),
        },
        default_routes(snap, exp),
        node_ips_check(&node_ips, exp),
        // The kernel's proxy_ndp answers only for `ip -6 neigh add proxy` entries; kube6's NDP
        // proxy and ndppd answer from user space, so the plan's kernel list asks for it only
        // where the kernel does the proxying.
        if ipv6
            && exp
                .kernel
                .iter()
                .any(|k| k.key.last() == Some(&Segment::Text("proxy_ndp".into())))
        {
            proxy_ndp(snap)
        } else if exp.upstream == Some(Upstream::NdpProxy) {
            Check::skipped(
                &catalog::PROXY_NDP,
                "the NDP proxy (kube6 ndp-proxy or ndppd) answers from user space and needs no proxy_ndp",
            )
        } else {
            Check::skipped(
                &catalog::PROXY_NDP,
                "only where the kernel proxies neighbor solicitations (ip -6 neigh add proxy)",
            )
        },
        bridge_netfilter(snap, exp),
        packet_filter(snap, exp),
        hostname(snap, exp),
        dns64(snap, exp),
        persistence(snap, exp),
        resolvers(snap, exp),
        nat64(snap, exp),
        registries(snap),
    ];
    let checks = match &snap.runtime_unreadable {
        None => checks,
        // Values that could not be read are unknown, not fine: every check that judges runtime
        // kernel parameters is skipped, saying why.
        Some(why) => checks
            .into_iter()
            .map(|c| {
                if RUNTIME_CHECKS.contains(&c.id) && c.status != CheckStatus::Skip {
                    Check::skipped(
                        catalog::find(c.id).unwrap_or(&catalog::IPV6_ENABLED),
                        format!(
                            "the runtime kernel parameters cannot be read ({why}); pass --proc-sys DIR \
                             or run on the node itself"
                        ),
                    )
                } else {
                    c
                }
            })
            .collect(),
    };
    Report::new(exp, snap.uplink.name.clone(), checks)
}

/// The checks that judge runtime values under /proc/sys.
const RUNTIME_CHECKS: &[&str] = &[
    catalog::IPV6_ENABLED.id,
    catalog::FORWARDING.id,
    catalog::ACCEPT_RA.id,
    catalog::PROXY_NDP.id,
    catalog::BRIDGE_NETFILTER.id,
    catalog::PERSISTENCE.id,
];

fn ipv6_enabled(snap: &Snapshot) -> Check {
    if !snap.ipv6_available {
        let mut read = vec!["/proc/sys/net/ipv6 does not exist".to_string()];
        let (summary, fix) = if snap.ipv6_disabled_at_boot {
            read.push("kernel command line: ipv6.disable=1".into());
            (
                "IPv6 is disabled on the kernel command line (ipv6.disable=1)",
                "remove ipv6.disable=1 from the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub) and reboot; no sysctl can turn it back on",
            )
        } else {
            (
                "the kernel has no IPv6",
                "use a kernel with IPv6 (CONFIG_IPV6) or load the ipv6 module",
            )
        };
        return Check::new(
            &catalog::IPV6_ENABLED,
            CheckStatus::Fail,
            summary.into(),
            read,
            Some(fix.into()),
            false,
        );
    }
    let mut keys: Vec<Key> = ["all", "default", "lo"]
        .iter()
        .map(|i| Key::ipv6_conf(i, "disable_ipv6"))
        .collect();
    if let Some(up) = &snap.uplink.name {
        keys.push(Key::ipv6_conf(up, "disable_ipv6"));
    }
    SysctlCheck {
        info: &catalog::IPV6_ENABLED,
        wanted: "0",
        needs_fix: |v| v == Some("1"),
        pass: "IPv6 is enabled".into(),
        fail: "IPv6 is disabled".into(),
        fail_status: CheckStatus::Fail,
    }
    .run(snap, &keys)
}

fn forwarding(snap: &Snapshot, exp: &Expectations) -> Check {
    let mut wanted = Vec::new();
    if exp.has(Family::IPv6) {
        wanted.push(Key::ipv6_conf("all", "forwarding"));
    }
    if exp.has(Family::IPv4) {
        wanted.push(Key::parse("net.ipv4.ip_forward"));
    }
    SysctlCheck {
        info: &catalog::FORWARDING,
        wanted: "1",
        needs_fix: |v| v != Some("1"),
        pass: format!("forwarding is on for {}", families_to_string(&exp.families)),
        fail: "forwarding is off".into(),
        fail_status: CheckStatus::Fail,
    }
    .run(snap, &wanted)
}

fn uplink(snap: &Snapshot, exp: &Expectations) -> Check {
    let Some(name) = &snap.uplink.name else {
        return Check::new(
            &catalog::UPLINK,
            CheckStatus::Fail,
            "no uplink interface".into(),
            vec![snap.uplink.reason.clone()],
            Some("add a default route, or name the interface with --uplink".into()),
            false,
        );
    };
    let link = snap.interfaces.link(name);
    let mtu = link.map(|l| l.mtu).unwrap_or(0);
    let up = link.map(|l| l.up).unwrap_or(false);
    let read = vec![
        format!("uplink {name} ({})", snap.uplink.reason),
        format!("mtu {mtu}, {}", if up { "up" } else { "down" }),
    ];
    let (status, summary, fix) = if !up {
        (
            CheckStatus::Fail,
            format!("uplink {name} is down"),
            Some(format!("ip link set {name} up")),
        )
    } else if exp.has(Family::IPv6) && mtu < 1280 {
        (
            CheckStatus::Fail,
            format!("uplink {name} has MTU {mtu}, below IPv6's minimum of 1280"),
            Some(format!(
                "ip link set {name} mtu 1500 (and in the network configuration)"
            )),
        )
    } else {
        (CheckStatus::Pass, format!("uplink {name}, MTU {mtu}"), None)
    };
    Check::new(&catalog::UPLINK, status, summary, read, fix, false)
}

fn accept_ra(snap: &Snapshot) -> Check {
    let up = snap.uplink.name.clone().unwrap_or_default();
    let ra_key = Key::ipv6_conf(&up, "accept_ra");
    let fwd_key = Key::ipv6_conf(&up, "forwarding");
    let route = snap.interfaces.default_route(Family::IPv6);
    let mut read = vec![shown(snap, &ra_key), shown(snap, &fwd_key)];
    read.push(match route {
        Some(r) => format!(
            "IPv6 default route via {} dev {} proto {}",
            r.gateway
                .map(|g| g.to_string())
                .unwrap_or_else(|| "-".into()),
            r.oif_name.as_deref().unwrap_or("?"),
            r.protocol
        ),
        None => "no IPv6 default route".into(),
    });
    let in_use = ra_in_use(snap, &up);
    read.push(format!(
        "router advertisements configure {up}: {}",
        if in_use { "yes" } else { "no sign of it" }
    ));
    let forwarding_on = snap.value(&fwd_key) == Some("1");
    let (status, summary, fix) = match snap.value(&ra_key) {
        Some("1") if in_use => (
            CheckStatus::Fail,
            match (forwarding_on, route.is_some()) {
                (true, true) => format!(
                    "forwarding is on and {up} has accept_ra = 1: the kernel ignores router advertisements and the default route learned from them expires"
                ),
                (true, false) => format!(
                    "forwarding is on and {up} has accept_ra = 1: router advertisements are ignored and there is no IPv6 default route"
                ),
                (false, _) => format!(
                    "{up} has accept_ra = 1: turning forwarding on drops the default route learned from router advertisements"
                ),
            },
            Some(fix_with(&[(ra_key.clone(), "2")])),
        ),
        Some("2") => (
            CheckStatus::Pass,
            format!("{up} accepts router advertisements also with forwarding on"),
            None,
        ),
        _ => (
            CheckStatus::Pass,
            format!("{up} does not depend on router advertisements"),
            None,
        ),
    };
    let fixable = fix.is_some();
    Check::new(&catalog::ACCEPT_RA, status, summary, read, fix, fixable)
}

fn describe_address(a: &Address) -> String {
    let mut flags = Vec::new();
    let f = a.flags;
    for (on, name) in [
        (f.temporary, "temporary"),
        (f.deprecated, "deprecated"),
        (f.tentative, "tentative"),
        (f.dadfailed, "dadfailed"),
        (!f.permanent, "dynamic"),
    ] {
        if on {
            flags.push(name);
        }
    }
    let scope = if !is_global_unicast(&a.addr) {
        "link"
    } else if is_ula(&a.addr) {
        "ula"
    } else {
        "global"
    };
    format!(
        "{}/{} {scope}{}{}",
        a.addr,
        a.prefix_len,
        if flags.is_empty() { "" } else { " " },
        flags.join(" ")
    )
}

fn uplink_address(snap: &Snapshot, exp: &Expectations) -> Check {
    let up = snap.uplink.name.clone().unwrap_or_default();
    let v6: Vec<&Address> = snap
        .interfaces
        .addresses_on(&up)
        .filter(|a| matches!(a.addr, IpAddr::V6(_)))
        .collect();
    let read: Vec<String> = v6
        .iter()
        .map(|a| format!("{up}: {}", describe_address(a)))
        .collect();
    let usable: Vec<&&Address> = v6
        .iter()
        .filter(|a| unusable(&snap.interfaces, a).is_none())
        .collect();
    let global = usable.iter().find(|a| !is_ula(&a.addr));
    let ula = usable.iter().find(|a| is_ula(&a.addr));
    let (status, summary, fix) = match (global, ula) {
        (Some(a), _) => (
            CheckStatus::Pass,
            format!("{up} has {}", a.addr),
            None,
        ),
        (None, Some(a)) if exp.allow_ula => (
            CheckStatus::Pass,
            format!("{up} has the unique local address {} (allowed)", a.addr),
            None,
        ),
        (None, Some(a)) => (
            CheckStatus::Warn,
            format!("{up} has only the unique local address {}", a.addr),
            Some("add a global address, or pass --allow-ula if the cluster is meant to use ULA addresses (pods then need NAT66 to reach the internet)".into()),
        ),
        (None, None) => (
            CheckStatus::Fail,
            format!("{up} has no usable global IPv6 address"),
            Some(format!("configure a global IPv6 address on {up} (static, SLAAC or DHCPv6) that is not temporary, deprecated, tentative or dadfailed")),
        ),
    };
    Check::new(&catalog::UPLINK_ADDRESS, status, summary, read, fix, false)
}

fn default_routes(snap: &Snapshot, exp: &Expectations) -> Check {
    let mut read = Vec::new();
    let mut missing = Vec::new();
    // The hybrid layout: an IPv6-only cluster whose container runtime pulls over the node's IPv4.
    let mut families = exp.families.clone();
    if exp.keep_ipv4_route && !families.contains(&Family::IPv4) {
        families.push(Family::IPv4);
        read.push(
            "hybrid layout: the node keeps IPv4 for the container runtime (image pulls) and node traffic"
                .to_string(),
        );
    }
    for &family in &families {
        match snap.interfaces.default_route(family) {
            Some(r) => read.push(format!(
                "{family} default via {} dev {} proto {} metric {}",
                r.gateway
                    .map(|g| g.to_string())
                    .unwrap_or_else(|| "-".into()),
                r.oif_name.as_deref().unwrap_or("?"),
                r.protocol,
                r.metric
            )),
            None => {
                read.push(format!("no {family} default route"));
                missing.push(family);
            }
        }
    }
    if missing.is_empty() {
        Check::new(
            &catalog::DEFAULT_ROUTE,
            CheckStatus::Pass,
            format!("default route for {}", families_to_string(&families)),
            read,
            None,
            false,
        )
    } else {
        Check::new(
            &catalog::DEFAULT_ROUTE,
            CheckStatus::Fail,
            format!("no default route for {}", families_to_string(&missing)),
            read,
            Some("configure a default route (statically, or from router advertisements with accept_ra = 2 when forwarding is on)".into()),
            false,
        )
    }
}

fn node_ips_check(ips: &NodeIps, exp: &Expectations) -> Check {
    let read: Vec<String> = ips
        .choices
        .iter()
        .map(|c| match (c.address, &c.problem) {
            (Some(a), None) => format!("{}: {a} ({})", c.family, c.reason),
            (Some(a), Some(p)) => format!("{}: {a}: {p}", c.family),
            (None, _) => format!("{}: none ({})", c.family, c.reason),
        })
        .collect();
    if ips.complete() {
        Check::new(
            &catalog::NODE_IPS,
            CheckStatus::Pass,
            format!("node IPs {}", ips.kubelet_value()),
            read,
            None,
            false,
        )
    } else {
        Check::new(
            &catalog::NODE_IPS,
            CheckStatus::Fail,
            format!(
                "no usable node IP for {}",
                ips.choices
                    .iter()
                    .filter(|c| !c.ok())
                    .map(|c| c.family.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            read,
            Some(if exp.node_ips.is_empty() {
                "configure a usable address for each family on the uplink, or pass --node-ip".into()
            } else {
                "pass node IPs that are configured on this host".into()
            }),
            false,
        )
    }
}

fn proxy_ndp(snap: &Snapshot) -> Check {
    let all = Key::ipv6_conf("all", "proxy_ndp");
    let mut read = vec![shown(snap, &all)];
    let mut on = snap.value(&all) == Some("1");
    let mut fix = None;
    if let Some(up) = &snap.uplink.name {
        let key = Key::ipv6_conf(up, "proxy_ndp");
        read.push(shown(snap, &key));
        on |= snap.value(&key) == Some("1");
        fix = Some(fix_with(&[(key, "1")]));
    }
    Check::new(
        &catalog::PROXY_NDP,
        if on {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        },
        if on {
            "NDP proxying is on".into()
        } else {
            "NDP proxying is off on the uplink".into()
        },
        read,
        if on { None } else { fix.clone() },
        !on && fix.is_some(),
    )
}

fn bridge_netfilter(snap: &Snapshot, exp: &Expectations) -> Check {
    if !snap.bridge_netfilter_loaded {
        return Check::new(
            &catalog::BRIDGE_NETFILTER,
            CheckStatus::Warn,
            "br_netfilter is not loaded".into(),
            vec!["/proc/sys/net/bridge does not exist".into()],
            Some("modprobe br_netfilter; echo br_netfilter > /etc/modules-load.d/kube6.conf; then kube6 host fix".into()),
            false,
        );
    }
    let mut keys = Vec::new();
    if exp.has(Family::IPv6) {
        keys.push(Key::parse("net.bridge.bridge-nf-call-ip6tables"));
    }
    if exp.has(Family::IPv4) {
        keys.push(Key::parse("net.bridge.bridge-nf-call-iptables"));
    }
    SysctlCheck {
        info: &catalog::BRIDGE_NETFILTER,
        wanted: "1",
        needs_fix: |v| v != Some("1"),
        pass: "bridged traffic goes through the packet filter".into(),
        fail: "bridged traffic bypasses the packet filter".into(),
        fail_status: CheckStatus::Warn,
    }
    .run(snap, &keys)
}

fn packet_filter(snap: &Snapshot, exp: &Expectations) -> Check {
    let wanted: &[&str] = if exp.has(Family::IPv6) {
        &["ip6tables", "nft"]
    } else {
        &["iptables", "nft"]
    };
    let found: Vec<&String> = snap
        .packet_filter_tools
        .iter()
        .filter(|t| wanted.contains(&t.as_str()))
        .collect();
    let read = vec![if snap.packet_filter_tools.is_empty() {
        "none of ip6tables, iptables, nft found".to_string()
    } else {
        format!("found: {}", snap.packet_filter_tools.join(", "))
    }];
    if found.is_empty() {
        Check::new(
            &catalog::PACKET_FILTER,
            CheckStatus::Warn,
            format!("neither {} found on the node", wanted.join(" nor ")),
            read,
            Some("install iptables (ip6tables) or nftables".into()),
            false,
        )
    } else {
        Check::new(
            &catalog::PACKET_FILTER,
            CheckStatus::Pass,
            format!(
                "{} available",
                found
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            read,
            None,
            false,
        )
    }
}

fn hostname(snap: &Snapshot, exp: &Expectations) -> Check {
    let name = &snap.hostname.name;
    let mut read = Vec::new();
    let answers = match &snap.hostname.result {
        Ok(list) => {
            read.push(format!(
                "{name} resolves to {}",
                if list.is_empty() {
                    "nothing".to_string()
                } else {
                    list.iter()
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ));
            list.clone()
        }
        Err(e) => {
            read.push(format!("{name} does not resolve: {e}"));
            Vec::new()
        }
    };
    let mut missing = Vec::new();
    for &family in &exp.families {
        let local = answers.iter().any(|a| {
            Family::of_addr(a) == family
                && snap
                    .interfaces
                    .find_address(*a)
                    .is_some_and(|found| unusable(&snap.interfaces, found).is_none())
        });
        if !local {
            missing.push(family);
        }
    }
    if missing.is_empty() {
        return Check::new(
            &catalog::HOSTNAME,
            CheckStatus::Pass,
            format!(
                "{name} resolves to this node's addresses in {}",
                families_to_string(&exp.families)
            ),
            read,
            None,
            false,
        );
    }
    Check::new(
        &catalog::HOSTNAME,
        if exp.dual_stack() {
            CheckStatus::Fail
        } else {
            CheckStatus::Warn
        },
        format!(
            "{name} does not resolve to a usable address of this node in {}",
            families_to_string(&missing)
        ),
        read,
        Some(format!(
            "add AAAA/A records (or /etc/hosts lines) for {name} with this node's addresses, or set the kubelet's --node-ip explicitly"
        )),
        false,
    )
}

fn dns64(snap: &Snapshot, exp: &Expectations) -> Check {
    let mut read = vec![match &snap.dns64.answers {
        Ok(a) if a.is_empty() => "ipv4only.arpa has no AAAA answer".to_string(),
        Ok(a) => format!(
            "ipv4only.arpa AAAA: {}",
            a.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Err(e) => format!("ipv4only.arpa lookup failed: {e}"),
    }];
    if !snap.dns64.prefixes.is_empty() {
        let prefixes: Vec<String> = snap.dns64.prefixes.iter().map(|p| p.to_string()).collect();
        read.push(format!("NAT64 prefix (RFC 7050): {}", prefixes.join(", ")));
        return Check::new(
            &catalog::DNS64,
            CheckStatus::Pass,
            format!("DNS64 present, NAT64 prefix {}", prefixes.join(", ")),
            read,
            None,
            false,
        );
    }
    let ipv6_only = !exp.has(Family::IPv4);
    let fix = "use a DNS64 resolver with a NAT64 gateway on the path, or run the nodes dual-stack with an IPv6-only cluster (hybrid: the node keeps IPv4 for pulling images, pods and services stay IPv6)";
    if exp.require_dns64 {
        Check::new(
            &catalog::DNS64,
            CheckStatus::Fail,
            "no DNS64: no NAT64 prefix found (required)".into(),
            read,
            Some(fix.into()),
            false,
        )
    } else if ipv6_only {
        Check::new(
            &catalog::DNS64,
            CheckStatus::Warn,
            "no DNS64: IPv4-only registries and hosts cannot be reached from an IPv6-only node"
                .into(),
            read,
            Some(fix.into()),
            false,
        )
    } else {
        Check::new(
            &catalog::DNS64,
            CheckStatus::Pass,
            "no DNS64, not needed: the cluster has IPv4".into(),
            read,
            None,
            false,
        )
    }
}

/// The families this node has: a default route in the family.
fn node_families(snap: &Snapshot) -> Vec<Family> {
    [Family::IPv6, Family::IPv4]
        .into_iter()
        .filter(|f| snap.interfaces.default_route(*f).is_some())
        .collect()
}

fn resolvers(snap: &Snapshot, exp: &Expectations) -> Check {
    let conf = &snap.resolv_conf;
    let mut read = Vec::new();
    if let Some(stub) = &conf.stub {
        read.push(format!(
            "{} lists only a local stub resolver; its upstream resolvers are in {}",
            stub.display(),
            conf.path.display()
        ));
    }
    let list = match &conf.nameservers {
        Ok(list) => list,
        Err(_) if !conf.exists => {
            return Check::skipped(
                &catalog::RESOLVERS,
                format!(
                    "{} does not exist (an image being built, or a --root without it)",
                    conf.path.display()
                ),
            );
        }
        Err(e) => {
            return Check::new(
                &catalog::RESOLVERS,
                CheckStatus::Fail,
                format!("{} cannot be read", conf.path.display()),
                vec![e.clone()],
                Some("configure the node's resolvers (/etc/resolv.conf)".into()),
                false,
            );
        }
    };
    let used: Vec<IpAddr> = list
        .iter()
        .copied()
        .take(crate::egress::MAX_NAMESERVERS)
        .collect();
    read.push(format!(
        "{}: nameserver {}",
        conf.path.display(),
        if list.is_empty() {
            "(none)".to_string()
        } else {
            list.iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        }
    ));
    let have = node_families(snap);
    read.push(format!(
        "this node has default routes for: {}",
        if have.is_empty() {
            "no family".to_string()
        } else {
            families_to_string(&have)
        }
    ));
    // A loopback resolver (a local cache) is reachable from the node, not from pods.
    let usable = |ip: &IpAddr| ip.is_loopback() || have.contains(&Family::of_addr(ip));
    let unreachable: Vec<String> = used
        .iter()
        .filter(|ip| !usable(ip))
        .map(|ip| format!("{ip} ({})", Family::of_addr(ip)))
        .collect();
    let ignored: Vec<String> = list
        .iter()
        .skip(crate::egress::MAX_NAMESERVERS)
        .map(|a| a.to_string())
        .collect();
    let ipv6_only = exp.families == [Family::IPv6];
    let ipv6_resolver = used
        .iter()
        .any(|ip| ip.is_ipv6() && !ip.is_loopback() && usable(ip));
    let fix_v6 = "list IPv6 resolvers (doing DNS64 when IPv4-only names must resolve) in the node's resolv.conf, or set spec.dns.forwarders for CoreDNS";
    if !used.iter().any(usable) {
        return Check::new(
            &catalog::RESOLVERS,
            CheckStatus::Fail,
            if used.is_empty() {
                "no resolver configured".to_string()
            } else {
                format!(
                    "no resolver reachable from this node: {}",
                    unreachable.join(", ")
                )
            },
            read,
            Some("list resolvers of the node's families in its resolv.conf".into()),
            false,
        );
    }
    if ipv6_only && !ipv6_resolver {
        return Check::new(
            &catalog::RESOLVERS,
            CheckStatus::Fail,
            "no IPv6 resolver: CoreDNS forwards to the node's resolvers from IPv6-only pods and cannot reach these"
                .into(),
            read,
            Some(fix_v6.into()),
            false,
        );
    }
    let mut problems = Vec::new();
    if !unreachable.is_empty() {
        problems.push(format!(
            "resolvers of a family this node lacks (each lookup waits for them to time out): {}",
            unreachable.join(", ")
        ));
    }
    if ipv6_only && used.iter().any(IpAddr::is_ipv4) {
        problems.push(
            "IPv4 resolvers are unreachable from the IPv6-only pods of CoreDNS, which forwards to this list"
                .to_string(),
        );
    }
    if !ignored.is_empty() {
        problems.push(format!(
            "only the first {} nameservers are used; ignored: {}",
            crate::egress::MAX_NAMESERVERS,
            ignored.join(", ")
        ));
    }
    if problems.is_empty() {
        Check::new(
            &catalog::RESOLVERS,
            CheckStatus::Pass,
            format!(
                "resolvers reachable: {}",
                used.iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            read,
            None,
            false,
        )
    } else {
        Check::new(
            &catalog::RESOLVERS,
            CheckStatus::Warn,
            problems.join("; "),
            read,
            Some(if ipv6_only {
                fix_v6.into()
            } else {
                "list only resolvers of the node's families, at most three".into()
            }),
            false,
        )
    }
}

fn nat64(snap: &Snapshot, exp: &Expectations) -> Check {
    let Some(probe) = &snap.nat64 else {
        let why = if exp.nat64_prefix.is_none() && snap.dns64.prefixes.is_empty() {
            "no NAT64 prefix known: DNS64 discovery found none and none was given (plan spec.nat64)"
        } else {
            "no target to connect to (--nat64-target HOST:PORT)"
        };
        return Check::skipped(&catalog::NAT64, why);
    };
    let mut read = vec![format!("NAT64 prefix {}", probe.prefix)];
    match &probe.ipv4 {
        Ok(list) => read.push(format!(
            "{}: IPv4 {}",
            probe.target,
            list.iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Err(e) => read.push(e.clone()),
    }
    for a in &probe.attempts {
        read.push(match &a.error {
            None => format!("connect {}: connected", a.address),
            Some(e) => format!("connect {}: {e}", a.address),
        });
    }
    if let Some(ok) = probe.connected() {
        return Check::new(
            &catalog::NAT64,
            CheckStatus::Pass,
            format!(
                "connected to {} through NAT64 at {}",
                probe.target, ok.address
            ),
            read,
            None,
            false,
        );
    }
    // Needed: an IPv6-only node, or a cluster that declares NAT64.
    let needed = exp.require_dns64 || snap.interfaces.default_route(Family::IPv4).is_none();
    let summary = match &probe.ipv4 {
        Err(_) => format!("{}: no IPv4 address to synthesize", probe.target),
        Ok(_) => format!(
            "no connection to {} through NAT64 {}: the NAT64 gateway does not translate, or the prefix is not routed to it",
            probe.target, probe.prefix
        ),
    };
    Check::new(
        &catalog::NAT64,
        if needed {
            CheckStatus::Fail
        } else {
            CheckStatus::Warn
        },
        summary,
        read,
        Some(format!(
            "route {} to a NAT64 gateway (TAYGA or Jool) with IPv4 connectivity; `ip -6 route get` on a synthesized address shows where it goes",
            probe.prefix
        )),
        false,
    )
}

fn attempt_text(attempt: &Option<crate::egress::Attempt>) -> String {
    match attempt {
        None => "-".into(),
        Some(a) => match &a.error {
            None => format!("ok ({})", a.address),
            Some(e) => format!("no ({}: {e})", a.address),
        },
    }
}

fn registries(snap: &Snapshot) -> Check {
    if snap.registries.is_empty() {
        return Check::skipped(
            &catalog::REGISTRIES,
            "no registries to look at: pass --registry NAME[,NAME...] or --plan FILE",
        );
    }
    let ipv4_route = snap.interfaces.default_route(Family::IPv4).is_some();
    let mut read = Vec::new();
    let mut unreachable = Vec::new();
    let mut ipv6_only_unpullable = Vec::new();
    for r in &snap.registries {
        let aaaa = if let Some(e) = &r.lookup_error {
            format!("lookup failed: {e}")
        } else if r.aaaa.is_empty() {
            "no".to_string()
        } else {
            format!(
                "yes ({})",
                r.aaaa
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        read.push(format!(
            "{} ({}:{}): AAAA {aaaa}; IPv6 {}; NAT64 {}; IPv4 {}",
            r.target.registry,
            r.target.host,
            r.target.port,
            attempt_text(&r.ipv6),
            attempt_text(&r.nat64),
            attempt_text(&r.ipv4),
        ));
        let pulls_here = r.pulls_ipv6_only() || (ipv4_route && r.ipv4_ok());
        let images = if r.target.images.is_empty() {
            r.target.registry.clone()
        } else {
            format!("{} ({})", r.target.registry, r.target.images.join(", "))
        };
        if !pulls_here {
            unreachable.push(images.clone());
        }
        if !r.pulls_ipv6_only() {
            ipv6_only_unpullable.push(images);
        }
    }
    if !ipv6_only_unpullable.is_empty() {
        read.push(format!(
            "an IPv6-only node (without IPv4) could not pull from: {}",
            ipv6_only_unpullable.join("; ")
        ));
    }
    if unreachable.is_empty() {
        Check::new(
            &catalog::REGISTRIES,
            CheckStatus::Pass,
            format!(
                "{} registr{} reachable{}",
                snap.registries.len(),
                if snap.registries.len() == 1 {
                    "y"
                } else {
                    "ies"
                },
                if ipv6_only_unpullable.is_empty() {
                    String::new()
                } else {
                    " (some over IPv4 only: the node keeps IPv4 for the container runtime)"
                        .to_string()
                }
            ),
            read,
            None,
            false,
        )
    } else {
        Check::new(
            &catalog::REGISTRIES,
            CheckStatus::Fail,
            format!("images will not pull from: {}", unreachable.join("; ")),
            read,
            Some(
                "provide DNS64 + NAT64 for this node (spec.nat64), mirror these images to a registry reachable over IPv6, \
                 or keep IPv4 on the node for the container runtime"
                    .into(),
            ),
            false,
        )
    }
}

fn persistence(snap: &Snapshot, exp: &Expectations) -> Check {
    let mut read = Vec::new();
    let mut runtime_only = Vec::new();
    for s in desired_settings(snap, exp) {
        let runtime = snap.value(&s.key);
        let persisted = snap.persisted.effective(&s.key);
        let at_boot = match (persisted, s.kernel_default()) {
            (Some(e), _) => format!("{} ({}:{})", e.value, e.file.display(), e.line),
            (None, Some(d)) => format!("{d} (kernel default)"),
            (None, None) => "not set".into(),
        };
        read.push(format!(
            "{}: runtime {}, at boot {at_boot}",
            s.key,
            runtime.unwrap_or("(absent)")
        ));
        if runtime == Some(s.value.as_str()) && !s.persisted(&snap.persisted) {
            runtime_only.push((s.key.clone(), s.value.clone()));
        }
    }
    if runtime_only.is_empty() {
        Check::new(
            &catalog::PERSISTENCE,
            CheckStatus::Pass,
            "the settings that are in place survive a reboot".into(),
            read,
            None,
            false,
        )
    } else {
        let pairs: Vec<(Key, &str)> = runtime_only
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str()))
            .collect();
        Check::new(
            &catalog::PERSISTENCE,
            CheckStatus::Warn,
            format!(
                "set at runtime only, lost on reboot: {}",
                runtime_only
                    .iter()
                    .map(|(k, _)| k.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            read,
            Some(fix_with(&pairs).replace("(sets", "(persists")),
            true,
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    /// IPv6 single-stack expectations with the plan's kernel settings (what the binary gives).
    pub(crate) fn exp() -> Expectations {
        let families = vec![Family::IPv6];
        Expectations {
            kernel: crate::expect::kernel_requirements(&families),
            families,
            ..Expectations::default()
        }
    }

    use super::*;
    use crate::dns::Dns64Probe;
    use crate::nodeip::HostnameLookup;
    use crate::snapshot::{Uplink, keys_to_read};
    use std::collections::BTreeMap;

    /// A ready IPv6 node: eth0 with a static global address and a static default route.
    pub(crate) fn snapshot() -> Snapshot {
        let mut sysctl = BTreeMap::new();
        for key in keys_to_read(Some("eth0")) {
            let v = match key.0.last().map(String::as_str) {
                Some("forwarding") | Some("ip_forward") => "1",
                Some("accept_ra") => "1",
                Some("proxy_ndp") | Some("disable_ipv6") => "0",
                _ => "1",
            };
            sysctl.insert(key, Some(v.to_string()));
        }
        let persisted = Persisted {
            entries: crate::sysctl::parse_file(
                "net.ipv6.conf.all.forwarding = 1\nnet.ipv4.ip_forward = 1\n",
                std::path::Path::new("/etc/sysctl.d/90-kube6.conf"),
            ),
        };
        let mut interfaces = crate::nodeip::tests::fixture();
        // Static configuration only: no autoconfigured (SLAAC) addresses.
        interfaces.addresses.retain(|a| a.flags.permanent);
        Snapshot {
            interfaces,
            uplink: Uplink {
                name: Some("eth0".into()),
                reason: "test".into(),
            },
            ipv6_available: true,
            runtime_unreadable: None,
            ipv6_disabled_at_boot: false,
            sysctl,
            persisted,
            hostname: HostnameLookup {
                name: "node1".into(),
                result: Ok(vec![
                    "2001:db8:1::10".parse().unwrap(),
                    "192.0.2.10".parse().unwrap(),
                ]),
            },
            dns64: Dns64Probe {
                answers: Ok(vec![]),
                prefixes: vec![],
            },
            resolv_conf: crate::egress::ResolvConf {
                path: "/etc/resolv.conf".into(),
                nameservers: Ok(vec!["2001:db8:1::53".parse().unwrap()]),
                stub: None,
                exists: true,
            },
            nat64: None,
            registries: Vec::new(),
            packet_filter_tools: vec!["nft".into()],
            bridge_netfilter_loaded: true,
        }
    }

    fn status(report: &Report, id: &str) -> CheckStatus {
        report.get(id).unwrap_or_else(|| panic!("no {id}")).status
    }

    fn set(snap: &mut Snapshot, key: &str, value: &str) {
        snap.sysctl.insert(Key::parse(key), Some(value.into()));
    }

    #[test]
    fn a_ready_node_passes_with_the_dns64_warning() {
        let exp = exp();
        let report = run_checks(&snapshot(), &exp);
        assert!(!report.failed(), "{report:#?}");
        assert_eq!(status(&report, "dns64"), CheckStatus::Warn);
        for id in [
            "ipv6-enabled",
            "forwarding",
            "accept-ra",
            "uplink-address",
            "node-ips",
            "hostname",
            "persistence",
        ] {
            assert_eq!(status(&report, id), CheckStatus::Pass, "{id}: {report:#?}");
        }
        assert_eq!(status(&report, "proxy-ndp"), CheckStatus::Skip);
        assert_eq!(
            report.checks.len(),
            catalog::ALL.len(),
            "every check is reported"
        );
    }

    #[test]
    fn disabled_ipv6_fails_and_boot_flag_is_recognised() {
        let mut snap = snapshot();
        set(&mut snap, "net.ipv6.conf.lo.disable_ipv6", "1");
        let report = run_checks(&snap, &exp());
        let c = report.get("ipv6-enabled").unwrap();
        assert_eq!(c.status, CheckStatus::Fail);
        assert!(c.fixable);
        snap.ipv6_available = false;
        snap.ipv6_disabled_at_boot = true;
        let c = run_checks(&snap, &exp());
        let c = c.get("ipv6-enabled").unwrap();
        assert!(c.summary.contains("ipv6.disable=1"), "{c:?}");
        assert!(!c.fixable);
    }

    #[test]
    fn ra_default_route_with_forwarding_needs_accept_ra_2() {
        let mut snap = snapshot();
        snap.interfaces.routes[0].protocol = "ra".into();
        let exp = exp();
        assert_eq!(
            status(&run_checks(&snap, &exp), "accept-ra"),
            CheckStatus::Fail
        );
        let wanted = desired_settings(&snap, &exp);
        let ra = wanted
            .iter()
            .position(|s| s.key == Key::ipv6_conf("eth0", "accept_ra"));
        let fwd = wanted
            .iter()
            .position(|s| s.key == Key::ipv6_conf("all", "forwarding"));
        assert!(ra.unwrap() < fwd.unwrap(), "accept_ra before forwarding");
        set(&mut snap, "net.ipv6.conf.eth0.accept_ra", "2");
        assert_eq!(
            status(&run_checks(&snap, &exp), "accept-ra"),
            CheckStatus::Pass
        );
        // Static routes and addresses: accept_ra = 1 is harmless.
        let snap = snapshot();
        assert_eq!(
            status(&run_checks(&snap, &exp), "accept-ra"),
            CheckStatus::Pass
        );
        assert!(
            !desired_settings(&snap, &exp).iter().any(|s| s
                .key
                .0
                .last()
                .is_some_and(|c| c == "accept_ra"))
        );
    }

    #[test]
    fn dual_stack_needs_ipv4_forwarding_and_hostname_in_both_families() {
        let mut snap = snapshot();
        let exp = Expectations {
            families: vec![Family::IPv6, Family::IPv4],
            ..exp()
        };
        assert!(!run_checks(&snap, &exp).failed());
        assert_eq!(status(&run_checks(&snap, &exp), "dns64"), CheckStatus::Pass);
        snap.hostname.result = Ok(vec!["2001:db8:1::10".parse().unwrap()]);
        assert_eq!(
            status(&run_checks(&snap, &exp), "hostname"),
            CheckStatus::Fail
        );
        assert_eq!(
            status(&run_checks(&snap, &super::tests::exp()), "hostname"),
            CheckStatus::Pass
        );
        set(&mut snap, "net.ipv4.ip_forward", "0");
        assert_eq!(
            status(&run_checks(&snap, &exp), "forwarding"),
            CheckStatus::Fail
        );
    }

    #[test]
    fn ula_only_uplink_warns_unless_allowed() {
        let mut snap = snapshot();
        snap.interfaces.addresses.retain(|a| {
            !(a.ifname == "eth0" && a.addr.is_ipv6() && !a.addr.to_string().starts_with("fe80"))
        });
        snap.interfaces.addresses.push(crate::netlink::Address {
            ifindex: 2,
            ifname: "eth0".into(),
            addr: "fd00:1::10".parse().unwrap(),
            prefix_len: 64,
            flags: crate::netlink::AddrFlags {
                permanent: true,
                ..Default::default()
            },
        });
        let mut exp = exp();
        assert_eq!(
            status(&run_checks(&snap, &exp), "uplink-address"),
            CheckStatus::Warn
        );
        exp.allow_ula = true;
        assert_eq!(
            status(&run_checks(&snap, &exp), "uplink-address"),
            CheckStatus::Pass
        );
        snap.interfaces
            .addresses
            .retain(|a| a.addr.to_string() != "fd00:1::10");
        assert_eq!(
            status(&run_checks(&snap, &exp), "uplink-address"),
            CheckStatus::Fail
        );
    }

    #[test]
    fn mtu_below_1280_fails() {
        let mut snap = snapshot();
        snap.interfaces.links[1].mtu = 1200;
        assert_eq!(
            status(&run_checks(&snap, &exp()), "uplink"),
            CheckStatus::Fail
        );
    }

    #[test]
    fn ndp_proxy_mode_needs_no_proxy_ndp_unless_the_kernel_proxies() {
        let mut snap = snapshot();
        // kube6 ndp-proxy and ndppd answer from user space: proxy_ndp is not needed.
        let user_space = Expectations {
            upstream: Some(Upstream::NdpProxy),
            ..exp()
        };
        let report = run_checks(&snap, &user_space);
        assert_eq!(status(&report, "proxy-ndp"), CheckStatus::Skip);
        assert!(
            report
                .get("proxy-ndp")
                .unwrap()
                .summary
                .contains("user space")
        );
        assert!(
            !desired_settings(&snap, &user_space)
                .iter()
                .any(|s| s.key.to_string().contains("proxy_ndp"))
        );
        // A plan whose kernel list asks for it (kernel proxy entries) is checked.
        let kernel = ndp_proxy_mode();
        assert_eq!(
            status(&run_checks(&snap, &kernel), "proxy-ndp"),
            CheckStatus::Fail
        );
        set(&mut snap, "net.ipv6.conf.eth0.proxy_ndp", "1");
        assert_eq!(
            status(&run_checks(&snap, &kernel), "proxy-ndp"),
            CheckStatus::Pass
        );
    }

    #[test]
    fn dns64_prefix_passes_and_required_dns64_fails_without_it() {
        let mut snap = snapshot();
        let exp = Expectations {
            require_dns64: true,
            ..exp()
        };
        assert_eq!(status(&run_checks(&snap, &exp), "dns64"), CheckStatus::Fail);
        snap.dns64 = Dns64Probe {
            answers: Ok(vec!["64:ff9b::c000:aa".parse().unwrap()]),
            prefixes: vec![crate::dns::nat64_prefix("64:ff9b::c000:aa".parse().unwrap()).unwrap()],
        };
        let report = run_checks(&snap, &exp);
        let c = report.get("dns64").unwrap();
        assert_eq!(c.status, CheckStatus::Pass);
        assert!(c.summary.contains("64:ff9b::/96"), "{c:?}");
    }

    #[test]
    fn runtime_only_settings_warn_and_kernel_defaults_need_no_file() {
        let mut snap = snapshot();
        snap.persisted = Persisted::default();
        let report = run_checks(&snap, &exp());
        let c = report.get("persistence").unwrap();
        assert_eq!(c.status, CheckStatus::Warn);
        assert!(c.summary.contains("net.ipv6.conf.all.forwarding"), "{c:?}");
        assert!(!c.summary.contains("disable_ipv6"), "{c:?}");
    }

    type Case = fn() -> (Snapshot, Expectations);

    fn ready() -> (Snapshot, Expectations) {
        (snapshot(), exp())
    }

    /// The kernel proxying neighbor solicitations itself: the plan asks for proxy_ndp.
    fn ndp_proxy_mode() -> Expectations {
        let mut e = Expectations {
            upstream: Some(Upstream::NdpProxy),
            ..exp()
        };
        e.kernel.push(crate::expect::KernelRequirement {
            key: ["net", "ipv6", "conf"]
                .iter()
                .map(|s| Segment::Text(s.to_string()))
                .chain([Segment::Uplink, Segment::Text("proxy_ndp".into())])
                .collect(),
            value: "1".into(),
            when: Condition::Always,
            why: "the kernel answers for its proxy entries".into(),
        });
        e
    }

    /// For every check of the catalog: a node where it passes and one where it does not.
    fn cases() -> Vec<(&'static str, Case, Case)> {
        vec![
            ("ipv6-enabled", ready, || {
                let mut snap = snapshot();
                set(&mut snap, "net.ipv6.conf.lo.disable_ipv6", "1");
                (snap, exp())
            }),
            ("forwarding", ready, || {
                let mut snap = snapshot();
                set(&mut snap, "net.ipv6.conf.all.forwarding", "0");
                (snap, exp())
            }),
            ("uplink", ready, || {
                let mut snap = snapshot();
                snap.interfaces.links[1].mtu = 1200;
                (snap, exp())
            }),
            ("accept-ra", ready, || {
                let mut snap = snapshot();
                snap.interfaces.routes[0].protocol = "ra".into();
                (snap, exp())
            }),
            ("uplink-address", ready, || {
                let mut snap = snapshot();
                snap.interfaces
                    .addresses
                    .retain(|a| !(a.ifname == "eth0" && a.addr.is_ipv6()));
                (snap, exp())
            }),
            ("default-route", ready, || {
                let mut snap = snapshot();
                snap.interfaces.routes.clear();
                (snap, exp())
            }),
            ("node-ips", ready, || {
                let exp = Expectations {
                    node_ips: vec!["2001:db8:9::9".parse().unwrap()],
                    ..exp()
                };
                (snapshot(), exp)
            }),
            (
                "proxy-ndp",
                || {
                    let mut snap = snapshot();
                    set(&mut snap, "net.ipv6.conf.eth0.proxy_ndp", "1");
                    (snap, ndp_proxy_mode())
                },
                || (snapshot(), ndp_proxy_mode()),
            ),
            ("bridge-netfilter", ready, || {
                let mut snap = snapshot();
                snap.bridge_netfilter_loaded = false;
                (snap, exp())
            }),
            ("packet-filter", ready, || {
                let mut snap = snapshot();
                snap.packet_filter_tools.clear();
                (snap, exp())
            }),
            ("hostname", ready, || {
                let mut snap = snapshot();
                snap.hostname.result = Ok(vec![]);
                (snap, exp())
            }),
            (
                "dns64",
                || {
                    let mut snap = snapshot();
                    let answer = "64:ff9b::c000:aa".parse().unwrap();
                    snap.dns64 = Dns64Probe {
                        answers: Ok(vec![answer]),
                        prefixes: vec![crate::dns::nat64_prefix(answer).unwrap()],
                    };
                    (snap, exp())
                },
                ready,
            ),
            ("resolvers", ready, || {
                let mut snap = snapshot();
                snap.resolv_conf.nameservers = Ok(vec!["192.0.2.53".parse().unwrap()]);
                (snap, exp())
            }),
            (
                "nat64",
                || {
                    let mut snap = snapshot();
                    snap.nat64 = Some(nat64_probe(None));
                    (snap, exp())
                },
                || {
                    let mut snap = snapshot();
                    snap.nat64 = Some(nat64_probe(Some("connection timed out")));
                    (snap, exp())
                },
            ),
            ("persistence", ready, || {
                let mut snap = snapshot();
                snap.persisted = Persisted::default();
                (snap, exp())
            }),
            (
                "registries",
                || {
                    let mut snap = snapshot();
                    snap.registries = vec![registry_probe(true, false)];
                    (snap, exp())
                },
                || {
                    let mut snap = snapshot();
                    // ghcr.io-like: no AAAA, no NAT64, and this node has no IPv4.
                    snap.registries = vec![registry_probe(false, false)];
                    snap.interfaces.routes.retain(|r| r.family != Family::IPv4);
                    (snap, exp())
                },
            ),
        ]
    }

    fn registry_probe(ipv6: bool, ipv4: bool) -> crate::egress::RegistryProbe {
        let attempt = |addr: &str, ok: bool| crate::egress::Attempt {
            address: addr.parse().unwrap(),
            error: (!ok).then(|| "connection timed out".to_string()),
        };
        crate::egress::RegistryProbe {
            target: crate::egress::RegistryTarget {
                registry: "ghcr.io".into(),
                host: "ghcr.io".into(),
                port: 443,
                images: vec!["ghcr.io/flannel-io/flannel".into()],
            },
            lookup_error: None,
            aaaa: if ipv6 {
                vec!["2001:db8:5::1".parse().unwrap()]
            } else {
                vec![]
            },
            synthesized: vec![],
            a: vec!["192.0.2.80".parse().unwrap()],
            ipv6: ipv6.then(|| attempt("[2001:db8:5::1]:443", true)),
            nat64: None,
            ipv4: Some(attempt("192.0.2.80:443", ipv4)),
        }
    }

    #[test]
    fn hybrid_nodes_keep_their_ipv4_default_route() {
        let mut snap = snapshot();
        snap.interfaces.routes.retain(|r| r.family != Family::IPv4);
        let mut e = exp();
        assert_eq!(
            run_checks(&snap, &e).get("default-route").unwrap().status,
            CheckStatus::Pass
        );
        e.keep_ipv4_route = true;
        let report = run_checks(&snap, &e);
        let c = report.get("default-route").unwrap();
        assert_eq!(c.status, CheckStatus::Fail, "{c:#?}");
        assert!(c.summary.contains("IPv4"), "{c:#?}");
        assert!(c.read.iter().any(|l| l.contains("hybrid")));
    }

    #[test]
    fn registries_reachable_only_over_ipv4_pass_on_a_dual_stack_node() {
        let mut snap = snapshot();
        snap.registries = vec![registry_probe(false, true)];
        let report = run_checks(&snap, &exp());
        let c = report.get("registries").unwrap();
        assert_eq!(c.status, CheckStatus::Pass, "{c:#?}");
        assert!(
            c.read
                .iter()
                .any(|l| l.contains("IPv6-only node") && l.contains("ghcr.io/flannel-io/flannel"))
        );
        snap.interfaces.routes.retain(|r| r.family != Family::IPv4);
        let report = run_checks(&snap, &exp());
        let c = report.get("registries").unwrap();
        assert_eq!(c.status, CheckStatus::Fail);
        assert!(c.summary.contains("ghcr.io/flannel-io/flannel"), "{c:#?}");
        assert_eq!(
            run_checks(&snapshot(), &exp())
                .get("registries")
                .unwrap()
                .status,
            CheckStatus::Skip
        );
    }

    fn nat64_probe(error: Option<&str>) -> crate::egress::Nat64Probe {
        crate::egress::Nat64Probe {
            target: "registry.v4.test:443".into(),
            prefix: crate::dns::nat64_prefix("2001:db8:64::c000:aa".parse().unwrap()).unwrap(),
            ipv4: Ok(vec!["192.0.2.10".parse().unwrap()]),
            attempts: vec![crate::egress::Attempt {
                address: "[2001:db8:64::c000:20a]:443".parse().unwrap(),
                error: error.map(str::to_string),
            }],
        }
    }

    #[test]
    fn resolvers_of_the_wrong_family_and_beyond_three() {
        let exp_v6 = exp();
        let mut snap = snapshot();
        // The fixture node has both default routes; an IPv6-only cluster still needs an IPv6
        // resolver for CoreDNS (hybrid layout).
        snap.resolv_conf.nameservers = Ok(vec!["192.0.2.53".parse().unwrap()]);
        let c = run_checks(&snap, &exp_v6);
        assert_eq!(c.get("resolvers").unwrap().status, CheckStatus::Fail);
        snap.resolv_conf.nameservers = Ok(vec![
            "2001:db8:1::53".parse().unwrap(),
            "192.0.2.53".parse().unwrap(),
        ]);
        let c = run_checks(&snap, &exp_v6);
        let r = c.get("resolvers").unwrap();
        assert_eq!(r.status, CheckStatus::Warn, "{r:#?}");
        assert!(r.summary.contains("CoreDNS"), "{r:#?}");
        // A node without IPv4: its IPv4 resolver costs a timeout.
        snap.interfaces.routes.retain(|r| r.family != Family::IPv4);
        let c = run_checks(&snap, &exp_v6);
        assert!(c.get("resolvers").unwrap().summary.contains("lacks"));
        snap.resolv_conf.nameservers = Ok((1..=4)
            .map(|i| format!("2001:db8:1::{i}").parse().unwrap())
            .collect());
        let c = run_checks(&snap, &exp_v6);
        assert!(
            c.get("resolvers")
                .unwrap()
                .summary
                .contains("ignored: 2001:db8:1::4")
        );
        snap.resolv_conf.nameservers = Ok(vec![]);
        assert_eq!(
            run_checks(&snap, &exp_v6).get("resolvers").unwrap().status,
            CheckStatus::Fail
        );
    }

    #[test]
    fn nat64_is_skipped_without_a_prefix_and_warns_on_a_dual_stack_node() {
        let snap = snapshot();
        assert_eq!(
            run_checks(&snap, &exp()).get("nat64").unwrap().status,
            CheckStatus::Skip
        );
        let mut snap = snapshot();
        snap.nat64 = Some(nat64_probe(Some("timed out")));
        // The fixture node has an IPv4 default route: NAT64 is not its only way out.
        assert_eq!(
            run_checks(&snap, &exp()).get("nat64").unwrap().status,
            CheckStatus::Warn
        );
        snap.interfaces.routes.retain(|r| r.family != Family::IPv4);
        assert_eq!(
            run_checks(&snap, &exp()).get("nat64").unwrap().status,
            CheckStatus::Fail
        );
    }

    #[test]
    fn every_check_has_a_passing_and_a_failing_case() {
        let cases = cases();
        for info in catalog::ALL {
            let (_, pass, fail) = cases
                .iter()
                .find(|(name, _, _)| *name == info.name)
                .unwrap_or_else(|| panic!("{} {} has no cases", info.id, info.name));
            let (snap, exp) = pass();
            let report = run_checks(&snap, &exp);
            let check = report.get(info.id).unwrap();
            assert_eq!(check.status, CheckStatus::Pass, "{}: {check:#?}", info.name);
            assert_eq!(check.why, info.why);
            let (snap, exp) = fail();
            let report = run_checks(&snap, &exp);
            let check = report.get(info.id).unwrap();
            assert!(
                matches!(check.status, CheckStatus::Warn | CheckStatus::Fail),
                "{}: {check:#?}",
                info.name
            );
            assert!(
                check.fix.is_some(),
                "{}: a check that does not pass says how to fix it",
                info.name
            );
        }
        assert_eq!(
            cases.len(),
            catalog::ALL.len(),
            "cases for checks not in the catalog"
        );
    }

    #[test]
    fn ignored_checks_are_reported_and_do_not_fail_the_node() {
        let mut snap = snapshot();
        set(&mut snap, "net.ipv6.conf.all.forwarding", "0");
        let mut report = run_checks(&snap, &exp());
        assert!(report.failed());
        report.ignore(&IgnoreSet::parse(["forwarding", "K6H012"]).unwrap());
        assert!(!report.failed(), "{report:#?}");
        let c = report.get("K6H002").unwrap();
        assert_eq!(c.status, CheckStatus::Ignored);
        assert_eq!(c.ignored_status, Some(CheckStatus::Fail));
        // dns64 warned: ignored too; a passing check named in --ignore stays a pass.
        assert_eq!(status(&report, "dns64"), CheckStatus::Ignored);
        let mut report = run_checks(&snapshot(), &exp());
        report.ignore(&IgnoreSet::parse(["all"]).unwrap());
        assert_eq!(status(&report, "forwarding"), CheckStatus::Pass);
        assert_eq!(report.status, CheckStatus::Pass);
    }

    #[test]
    fn unreadable_runtime_values_are_unknown_not_fine() {
        let mut snap = snapshot();
        for value in snap.sysctl.values_mut() {
            *value = None;
        }
        snap.runtime_unreadable = Some("/img/proc/sys does not exist".into());
        snap.bridge_netfilter_loaded = false;
        let report = run_checks(&snap, &exp());
        for id in [
            "ipv6-enabled",
            "forwarding",
            "accept-ra",
            "bridge-netfilter",
            "persistence",
        ] {
            let c = report.get(id).unwrap();
            assert_eq!(c.status, CheckStatus::Skip, "{id}: {c:#?}");
            assert!(c.summary.contains("/img/proc/sys does not exist"), "{c:?}");
        }
        assert!(!report.failed());
        assert!(
            report
                .get("ipv6-enabled")
                .unwrap()
                .summary
                .contains("--proc-sys")
        );
    }
}
