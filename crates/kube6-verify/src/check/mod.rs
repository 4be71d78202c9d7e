//! The checks: pure functions from a snapshot and expectations to findings, one per entry of
//! the [catalog](crate::catalog).
//!
//! A check that has no evidence (the input lacks the objects it needs, or the plan the ranges)
//! skips and says why; it never fails for want of evidence. A check that looked at no object
//! skips too, rather than pass.

mod dns;
mod input;
mod ipam;
mod load_balancer;
mod nodes;
mod pods;
mod services;

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use kube6_net::Family;
use serde::Serialize;

use crate::catalog::{self, CheckInfo, IgnoreSet};
use crate::expect::Expectations;
use crate::snapshot::{Addr, Counts, Node, Pod, PodPhase, Service, Snapshot};

/// The outcome of a check or of one finding; the worst of its findings decides a check's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    /// Not done: the input lacks what the check needs (say, a plan for the ranges).
    Skip,
    /// Failed or warned, but `--ignore` names it: reported, without effect on the exit status.
    Ignored,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skip => "skip",
            Status::Ignored => "ignored",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One problem, naming the objects involved (`node/NAME`, `pod/NAMESPACE/NAME`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub status: Status,
    pub objects: Vec<String>,
    pub message: String,
}

/// One check and what it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// Stable id, e.g. `K6V003`.
    pub id: &'static str,
    /// Stable name, e.g. `node-pod-cidrs`.
    pub name: &'static str,
    pub title: &'static str,
    pub status: Status,
    /// For an ignored check, what it would have been.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored_status: Option<Status>,
    /// How many objects the check looked at.
    pub checked: usize,
    /// What the check could not look at, and what it assumed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub findings: Vec<Finding>,
}

impl Check {
    pub(crate) fn new(info: &CheckInfo) -> Check {
        Check {
            id: info.id,
            name: info.name,
            title: info.title,
            status: Status::Pass,
            ignored_status: None,
            checked: 0,
            notes: Vec::new(),
            findings: Vec::new(),
        }
    }

    pub(crate) fn add(&mut self, status: Status, objects: Vec<String>, message: String) {
        self.status = self.status.max(status);
        self.findings.push(Finding {
            status,
            objects,
            message,
        });
    }

    pub(crate) fn fail(&mut self, objects: Vec<String>, message: String) {
        self.add(Status::Fail, objects, message);
    }

    pub(crate) fn warn(&mut self, objects: Vec<String>, message: String) {
        self.add(Status::Warn, objects, message);
    }

    pub(crate) fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// Marks a check that could not be done, unless it already found something.
    pub(crate) fn skip(mut self, reason: impl Into<String>) -> Check {
        self.notes.insert(0, reason.into());
        if self.status == Status::Pass {
            self.status = Status::Skip;
        }
        self
    }

    /// Ends a check: one that looked at no object skips, saying why.
    pub(crate) fn done(self, nothing_checked: impl Into<String>) -> Check {
        if self.checked == 0 && self.status == Status::Pass {
            self.skip(nothing_checked)
        } else {
            self
        }
    }
}

/// How many objects have addresses of IPv4 only, IPv6 only, both, or none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    #[serde(rename = "ipv4Only")]
    pub ipv4_only: usize,
    #[serde(rename = "ipv6Only")]
    pub ipv6_only: usize,
    pub dual: usize,
    pub none: usize,
}

impl Tally {
    fn count(&mut self, mask: u8) {
        match mask {
            V4 => self.ipv4_only += 1,
            V6 => self.ipv6_only += 1,
            0 => self.none += 1,
            _ => self.dual += 1,
        }
    }
}

/// The summary per family: nodes by their IPs (as Kubernetes takes them), pods (not
/// hostNetwork, with addresses) by pod IP, Services by ipFamilies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub nodes: Tally,
    pub pods: Tally,
    pub services: Tally,
}

/// How many checks ended how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub passed: usize,
    pub warned: usize,
    pub failed: usize,
    pub skipped: usize,
    pub ignored: usize,
}

/// Everything `kube6 verify` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The worst status of the checks that were neither skipped nor ignored: pass, warn or
    /// fail.
    pub status: Status,
    pub expectations: Expectations,
    pub objects: Counts,
    pub checks: Vec<Check>,
    pub totals: Totals,
    pub summary: Summary,
}

impl Report {
    /// True when some check failed and is not ignored (exit status 1).
    pub fn failed(&self) -> bool {
        self.status == Status::Fail
    }

    /// The check with this id or name.
    pub fn check(&self, key: &str) -> Option<&Check> {
        let info = catalog::find(key)?;
        self.checks.iter().find(|c| c.id == info.id)
    }

    /// Marks the failing or warning checks `ignore` names as ignored: they stay in the report
    /// with their findings, but no longer decide its status.
    pub fn ignore(&mut self, ignore: &IgnoreSet) {
        for check in &mut self.checks {
            if ignore.contains(check.id) && matches!(check.status, Status::Warn | Status::Fail) {
                check.ignored_status = Some(check.status);
                check.status = Status::Ignored;
            }
        }
        self.settle();
    }

    fn settle(&mut self) {
        let mut totals = Totals::default();
        for check in &self.checks {
            match check.status {
                Status::Pass => totals.passed += 1,
                Status::Skip => totals.skipped += 1,
                Status::Ignored => totals.ignored += 1,
                Status::Warn => totals.warned += 1,
                Status::Fail => totals.failed += 1,
            }
        }
        self.totals = totals;
        self.status = self
            .checks
            .iter()
            .map(|c| c.status)
            .filter(|s| matches!(s, Status::Pass | Status::Warn | Status::Fail))
            .max()
            .unwrap_or(Status::Pass);
    }
}

/// What every check reads.
pub(crate) struct Context<'a> {
    pub snapshot: &'a Snapshot,
    pub expect: &'a Expectations,
    pub nodes: HashMap<&'a str, &'a Node>,
}

/// Runs every check.
pub fn verify(snapshot: &Snapshot, expect: &Expectations) -> Report {
    let ctx = Context {
        snapshot,
        expect,
        nodes: snapshot
            .nodes
            .iter()
            .map(|n| (n.name.as_str(), n))
            .collect(),
    };
    let checks = vec![
        input::input_coverage(&ctx),
        nodes::node_addresses(&ctx),
        nodes::node_pod_cidrs(&ctx),
        ipam::cni_ipam(&ctx),
        pods::pod_ips(&ctx),
        pods::pod_ips_unique(&ctx),
        pods::host_network_pods(&ctx),
        services::service_ip_families(&ctx),
        services::service_ranges(&ctx),
        services::kubernetes_service(&ctx),
        dns::kube_dns_service(&ctx),
        services::endpointslice_families(&ctx),
        load_balancer::load_balancer_addresses(&ctx),
    ];
    debug_assert!(
        checks
            .iter()
            .zip(catalog::ALL)
            .all(|(c, info)| c.id == info.id)
    );
    let mut report = Report {
        status: Status::Pass,
        expectations: expect.clone(),
        objects: snapshot.counts(),
        checks,
        totals: Totals::default(),
        summary: summary(snapshot),
    };
    report.settle();
    report
}

pub(crate) const V4: u8 = 1;
pub(crate) const V6: u8 = 2;

pub(crate) fn bit(family: Family) -> u8 {
    match family {
        Family::IPv4 => V4,
        Family::IPv6 => V6,
    }
}

pub(crate) fn families_text(families: &[Family]) -> String {
    families
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn nets_text(nets: &[IpNet]) -> String {
    nets.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn ips_text(ips: &[IpAddr]) -> String {
    ips.iter()
        .map(|ip| ip.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn node_ref(node: &Node) -> String {
    format!("node/{}", node.name)
}

pub(crate) fn pod_ref(pod: &Pod) -> String {
    format!("pod/{}/{}", pod.namespace, pod.name)
}

pub(crate) fn service_ref(service: &Service) -> String {
    format!("service/{}/{}", service.namespace, service.name)
}

/// `IPv4`/`IPv6` exactly as Kubernetes spells them.
pub(crate) fn k8s_family(text: &str) -> Option<Family> {
    match text {
        "IPv4" => Some(Family::IPv4),
        "IPv6" => Some(Family::IPv6),
        _ => None,
    }
}

/// Pods that are running or about to: finished pods keep addresses that were released.
pub(crate) fn live_pod(pod: &Pod) -> bool {
    pod.phase != PodPhase::Finished
}

/// The first and last address of `net` as integers (IPv4 and IPv6 are kept apart by the caller).
pub(crate) fn span(net: &IpNet) -> (u128, u128) {
    match net {
        IpNet::V4(n) => (
            u128::from(u32::from(n.network())),
            u128::from(u32::from(n.broadcast())),
        ),
        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

/// Reports every overlap among `spans` (first, last, owner index) of one family, by calling
/// `report(a, b)` with the owners of two overlapping ranges.
pub(crate) fn overlaps(spans: &mut [(u128, u128, usize)], mut report: impl FnMut(usize, usize)) {
    spans.sort_unstable();
    // The span reaching furthest so far; anything starting before its end overlaps it.
    let mut reach: Option<(u128, usize)> = None;
    for &(first, last, index) in spans.iter() {
        if let Some((end, other)) = reach
            && first <= end
        {
            report(other, index);
        }
        if reach.is_none_or(|(end, _)| last > end) {
            reach = Some((last, index));
        }
    }
}

/// For findings a release could explain: which release was assumed, when the plan states no
/// version of its distribution.
pub(crate) fn version_hint(expect: &Expectations) -> String {
    match &expect.assumed_release {
        Some(release) => format!(
            " (the plan states no version: judged by the rules of {release}, and older releases \
             differ)"
        ),
        None => String::new(),
    }
}

fn summary(snapshot: &Snapshot) -> Summary {
    let mut summary = Summary::default();
    let mask_of = |ips: &mut dyn Iterator<Item = IpAddr>| {
        ips.fold(0u8, |m, ip| m | bit(Family::of_addr(&ip)))
    };
    for node in &snapshot.nodes {
        summary
            .nodes
            .count(mask_of(&mut node.host_ips().into_iter()));
    }
    for pod in &snapshot.pods {
        if pod.host_network || !live_pod(pod) || pod.pod_ips.is_empty() {
            continue;
        }
        summary
            .pods
            .count(mask_of(&mut pod.pod_ips.iter().filter_map(Addr::ip)));
    }
    for service in &snapshot.services {
        if service.is_external_name() {
            continue;
        }
        let mask = service
            .ip_families
            .iter()
            .filter_map(|t| k8s_family(t))
            .fold(0u8, |m, f| m | bit(f));
        summary.services.count(mask);
    }
    summary
}
