//! The checks: pure functions from a snapshot and expectations to findings.

use std::collections::HashMap;
use std::net::IpAddr;

use kube6_net::Family;
use serde::Serialize;

use crate::expect::Expectations;
use crate::snapshot::{Addr, Counts, Node, Pod, PodPhase, Service, Snapshot};

/// The outcome of a check or of one finding; the worst of its findings decides a check's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    /// Not done: the input lacks what the check needs (say, a plan for the ranges).
    Skip,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skip => "skip",
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
pub struct Check {
    /// Stable name, e.g. `node-pod-cidrs`.
    pub id: &'static str,
    pub title: &'static str,
    pub status: Status,
    /// How many objects the check looked at.
    pub checked: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub findings: Vec<Finding>,
}

impl Check {
    fn new(id: &'static str, title: &'static str) -> Check {
        Check {
            id,
            title,
            status: Status::Pass,
            checked: 0,
            note: None,
            findings: Vec::new(),
        }
    }

    fn add(&mut self, status: Status, objects: Vec<String>, message: String) {
        self.status = self.status.max(status);
        self.findings.push(Finding {
            status,
            objects,
            message,
        });
    }

    fn fail(&mut self, objects: Vec<String>, message: String) {
        self.add(Status::Fail, objects, message);
    }

    fn warn(&mut self, objects: Vec<String>, message: String) {
        self.add(Status::Warn, objects, message);
    }

    /// Marks a check that could not be done, unless it already found something.
    fn skip(mut self, note: impl Into<String>) -> Check {
        self.note = Some(note.into());
        if self.status == Status::Pass {
            self.status = Status::Skip;
        }
        self
    }

    fn note(mut self, note: impl Into<String>) -> Check {
        self.note = Some(note.into());
        self
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

/// The summary per family: nodes by InternalIP, pods (not hostNetwork, with addresses) by pod
/// IP, Services by ipFamilies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub nodes: Tally,
    pub pods: Tally,
    pub services: Tally,
}

/// Everything `kube6 verify` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The worst check status.
    pub status: Status,
    pub expectations: Expectations,
    pub objects: Counts,
    pub checks: Vec<Check>,
    pub summary: Summary,
}

impl Report {
    /// True when some check failed (exit status 1).
    pub fn failed(&self) -> bool {
        self.status == Status::Fail
    }

    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}

const V4: u8 = 1;
const V6: u8 = 2;

fn bit(family: Family) -> u8 {
    match family {
        Family::IPv4 => V4,
        Family::IPv6 => V6,
    }
}

fn families_text(families: &[Family]) -> String {
    families
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn node_ref(node: &Node) -> String {
    format!("node/{}", node.name)
}

fn pod_ref(pod: &Pod) -> String {
    format!("pod/{}/{}", pod.namespace, pod.name)
}

fn service_ref(service: &Service) -> String {
    format!("service/{}/{}", service.namespace, service.name)
}

/// `IPv4`/`IPv6` exactly as Kubernetes spells them.
fn k8s_family(text: &str) -> Option<Family> {
    match text {
        "IPv4" => Some(Family::IPv4),
        "IPv6" => Some(Family::IPv6),
        _ => None,
    }
}

/// Runs every check.
pub fn verify(snapshot: &Snapshot, expect: &Expectations) -> Report {
    let nodes_by_name: HashMap<&str, &Node> = snapshot
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n))
        .collect();
    let checks = vec![
        node_addresses(snapshot, expect),
        node_pod_cidrs(snapshot, expect),
        pod_ips(snapshot, expect, &nodes_by_name),
        pod_ips_unique(snapshot),
        host_network_pods(snapshot, expect, &nodes_by_name),
        service_ip_families(snapshot, expect),
        service_ranges(snapshot, expect),
        kubernetes_service(snapshot, expect),
        kube_dns_service(snapshot, expect),
        endpointslice_families(snapshot),
    ];
    let status = checks
        .iter()
        .map(|c| c.status)
        .filter(|s| *s != Status::Skip)
        .max()
        .unwrap_or(Status::Pass);
    Report {
        status,
        expectations: expect.clone(),
        objects: snapshot.counts(),
        checks,
        summary: summary(snapshot),
    }
}

fn node_addresses(snapshot: &Snapshot, expect: &Expectations) -> Check {
    let mut check = Check::new(
        "node-addresses",
        "Nodes have an InternalIP per family, primary first",
    );
    for node in &snapshot.nodes {
        check.checked += 1;
        let mut families = Vec::new();
        for addr in node.internal_ips() {
            match addr {
                Addr::Ip(ip) => families.push(Family::of_addr(&ip)),
                Addr::Invalid(text) => check.fail(
                    vec![node_ref(node)],
                    format!("InternalIP {text:?} is not an IP address"),
                ),
            }
        }
        let missing: Vec<Family> = expect
            .families
            .iter()
            .copied()
            .filter(|f| !families.contains(f))
            .collect();
        if !missing.is_empty() {
            check.fail(
                vec![node_ref(node)],
                format!(
                    "no {} InternalIP (has: {})",
                    families_text(&missing),
                    if families.is_empty() {
                        "none".to_string()
                    } else {
                        families_text(&families)
                    }
                ),
            );
        } else if let (Some(first), Some(primary)) = (families.first(), expect.primary())
            && *first != primary
        {
            check.fail(
                vec![node_ref(node)],
                format!(
                    "the first InternalIP is {first}, but the primary family is {primary}: \
                     give the kubelet --node-ip with the {primary} address first"
                ),
            );
        }
        let extra: Vec<Family> = families
            .iter()
            .copied()
            .filter(|f| !expect.expects(*f))
            .collect();
        if let Some(f) = extra.first() {
            check.warn(
                vec![node_ref(node)],
                format!("has an {f} InternalIP, but the cluster has no {f} ranges"),
            );
        }
    }
    check
}

fn node_pod_cidrs(snapshot: &Snapshot, expect: &Expectations) -> Check {
    let mut check = Check::new(
        "node-pod-cidrs",
        "Node podCIDRs: one per family, in the pod ranges, of the node mask, disjoint",
    );
    if snapshot.nodes.iter().all(|n| n.pod_cidrs.is_empty()) {
        if !snapshot.nodes.is_empty() {
            check.warn(
                Vec::new(),
                "no node has spec.podCIDRs: either the CNI assigns pod addresses itself, or \
                 kube-controller-manager runs without --allocate-node-cidrs"
                    .to_string(),
            );
        }
        return check;
    }
    // Per family: (first address, last address, node index) for the overlap sweep.
    let mut spans: [Vec<(u128, u128, usize)>; 2] = [Vec::new(), Vec::new()];
    for (index, node) in snapshot.nodes.iter().enumerate() {
        check.checked += 1;
        let me = vec![node_ref(node)];
        if node.pod_cidrs.is_empty() {
            check.fail(
                me,
                "has no spec.podCIDRs: kube-controller-manager gave it no pod range (is the \
                 cluster range full?)"
                    .to_string(),
            );
            continue;
        }
        let mut seen = 0u8;
        for (position, cidr) in node.pod_cidrs.iter().enumerate() {
            let Some(net) = cidr.net() else {
                check.fail(
                    me.clone(),
                    format!("podCIDR {cidr} is not a canonical CIDR"),
                );
                continue;
            };
            let family = Family::of_net(&net);
            if !expect.expects(family) {
                check.fail(
                    me.clone(),
                    format!("podCIDR {net} is {family}, but the cluster has no {family} pods"),
                );
                continue;
            }
            if seen & bit(family) != 0 {
                check.fail(
                    me.clone(),
                    format!("more than one {family} podCIDR ({net})"),
                );
                continue;
            }
            seen |= bit(family);
            if position == 0
                && let Some(first) = expect.first_pod_cidr_family()
                && family != first
            {
                let why = if expect.pod_cidr_order.is_empty() {
                    format!("the primary family is {first}")
                } else {
                    format!("kube-controller-manager gets the {first} pod range first")
                };
                check.fail(
                    me.clone(),
                    format!("the first podCIDR {net} is {family}, but {why}"),
                );
            }
            if let Some(range) = expect.pod_range(family) {
                if let Some(cluster) = range.cidr
                    && !cluster.contains(&net)
                {
                    check.fail(
                        me.clone(),
                        format!("podCIDR {net} is outside the {family} pod range {cluster}"),
                    );
                }
                if let Some(mask) = range.node_mask_size
                    && net.prefix_len() != mask
                {
                    check.fail(
                        me.clone(),
                        format!(
                            "podCIDR {net} is a /{}, but the {family} node mask size is /{mask}",
                            net.prefix_len()
                        ),
                    );
                }
            }
            let (first, last) = span(&net);
            spans[usize::from(family == Family::IPv6)].push((first, last, index));
        }
        for family in &expect.families {
            if seen & bit(*family) == 0 {
                check.fail(me.clone(), format!("has no {family} podCIDR"));
            }
        }
    }
    for family_spans in &mut spans {
        family_spans.sort_unstable();
        // The span reaching furthest so far; anything starting before its end overlaps it.
        let mut reach: Option<(u128, usize)> = None;
        for &(first, last, index) in family_spans.iter() {
            if let Some((end, other)) = reach
                && first <= end
            {
                let a = &snapshot.nodes[other];
                let b = &snapshot.nodes[index];
                check.fail(
                    vec![node_ref(a), node_ref(b)],
                    format!(
                        "podCIDRs overlap: {} and {}",
                        overlapping(a, b).unwrap_or_default(),
                        overlapping(b, a).unwrap_or_default()
                    ),
                );
            }
            if reach.is_none_or(|(end, _)| last > end) {
                reach = Some((last, index));
            }
        }
    }
    if expect.pods.iter().all(|p| p.cidr.is_none()) {
        check = check.note("without --plan the pod ranges are unknown; masks are the most common");
    }
    check
}

/// The first and last address of `net` as integers (IPv4 and IPv6 are kept apart by the caller).
fn span(net: &ipnet::IpNet) -> (u128, u128) {
    match net {
        ipnet::IpNet::V4(n) => (
            u128::from(u32::from(n.network())),
            u128::from(u32::from(n.broadcast())),
        ),
        ipnet::IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

/// `node`'s podCIDR of the family that overlaps `other`'s.
fn overlapping(node: &Node, other: &Node) -> Option<String> {
    node.pod_cidrs.iter().filter_map(|c| c.net()).find_map(|a| {
        other
            .pod_cidrs
            .iter()
            .filter_map(|c| c.net())
            .any(|b| a.contains(&b) || b.contains(&a))
            .then(|| a.to_string())
    })
}

/// Pods that are running or about to: finished pods keep addresses that were released.
fn live_pod(pod: &Pod) -> bool {
    pod.phase != PodPhase::Finished
}

fn pod_ips(snapshot: &Snapshot, expect: &Expectations, nodes: &HashMap<&str, &Node>) -> Check {
    let mut check = Check::new(
        "pod-ips",
        "Pods have one IP per family, inside their node's podCIDRs",
    );
    let nodes_have_cidrs = snapshot.nodes.iter().any(|n| !n.pod_cidrs.is_empty());
    let mut unknown_nodes = 0usize;
    let mut without_ips = 0usize;
    for pod in &snapshot.pods {
        if pod.host_network || !live_pod(pod) {
            continue;
        }
        if pod.pod_ips.is_empty() {
            if pod.phase == PodPhase::Running {
                check.fail(
                    vec![pod_ref(pod)],
                    "is Running but has no status.podIPs".to_string(),
                );
            } else {
                without_ips += 1;
            }
            continue;
        }
        check.checked += 1;
        let node = pod.node_name.as_deref().and_then(|n| nodes.get(n));
        if node.is_none() && !snapshot.nodes.is_empty() {
            unknown_nodes += 1;
        }
        let mut seen = 0u8;
        let mut first_family = None;
        for addr in &pod.pod_ips {
            let Addr::Ip(ip) = addr else {
                check.fail(
                    vec![pod_ref(pod)],
                    format!("pod IP {addr} is not an IP address"),
                );
                continue;
            };
            let family = Family::of_addr(ip);
            first_family.get_or_insert(family);
            if !expect.expects(family) {
                check.fail(
                    vec![pod_ref(pod)],
                    format!("has the {family} address {ip}, but the cluster has no {family} pods"),
                );
                continue;
            }
            if seen & bit(family) != 0 {
                check.fail(
                    vec![pod_ref(pod)],
                    format!("has more than one {family} address ({ip})"),
                );
                continue;
            }
            seen |= bit(family);
            if let Some(node) = node
                && nodes_have_cidrs
                && let Some(block) = node.pod_cidr(family)
                && !block.contains(ip)
            {
                check.fail(
                    vec![pod_ref(pod), node_ref(node)],
                    format!("pod IP {ip} is outside its node's podCIDR {block}"),
                );
            }
        }
        let missing: Vec<Family> = expect
            .families
            .iter()
            .copied()
            .filter(|f| seen & bit(*f) == 0)
            .collect();
        if !missing.is_empty() && seen != 0 {
            check.fail(
                vec![pod_ref(pod)],
                format!("has no {} address", families_text(&missing)),
            );
        }
        if let (Some(first), Some(primary)) = (first_family, expect.primary())
            && first != primary
            && missing.is_empty()
        {
            check.warn(
                vec![pod_ref(pod)],
                format!("the first pod IP is {first}, but the primary family is {primary}"),
            );
        }
    }
    let mut notes = Vec::new();
    if without_ips > 0 {
        notes.push(format!("{without_ips} pending pods have no addresses yet"));
    }
    if unknown_nodes > 0 {
        notes.push(format!(
            "{unknown_nodes} pods are on nodes the input does not hold"
        ));
    }
    if !nodes_have_cidrs && !snapshot.nodes.is_empty() {
        notes.push("nodes have no podCIDRs, so pod IPs were not compared with them".to_string());
    }
    if !notes.is_empty() {
        check = check.note(notes.join("; "));
    }
    check
}

fn pod_ips_unique(snapshot: &Snapshot) -> Check {
    let mut check = Check::new("pod-ips-unique", "Pod IPs are unique across the cluster");
    let mut owner: HashMap<IpAddr, u32> = HashMap::with_capacity(snapshot.pods.len() * 2);
    for (index, pod) in snapshot.pods.iter().enumerate() {
        if pod.host_network || !live_pod(pod) || pod.pod_ips.is_empty() {
            continue;
        }
        check.checked += 1;
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        for ip in pod.pod_ips.iter().filter_map(Addr::ip) {
            if let Some(&first) = owner.get(&ip) {
                if first == index {
                    continue;
                }
                let other = &snapshot.pods[first as usize];
                check.fail(
                    vec![pod_ref(other), pod_ref(pod)],
                    format!("both pods have the address {ip}"),
                );
            } else {
                owner.insert(ip, index);
            }
        }
    }
    check
}

fn host_network_pods(
    snapshot: &Snapshot,
    expect: &Expectations,
    nodes: &HashMap<&str, &Node>,
) -> Check {
    let mut check = Check::new(
        "host-network-pods",
        "hostNetwork pods carry their node's IPs",
    );
    for pod in &snapshot.pods {
        if !pod.host_network || !live_pod(pod) || pod.pod_ips.is_empty() {
            continue;
        }
        check.checked += 1;
        let Some(node) = pod.node_name.as_deref().and_then(|n| nodes.get(n)) else {
            if !snapshot.nodes.is_empty() {
                check.warn(
                    vec![pod_ref(pod)],
                    format!(
                        "its node {} is not in the input",
                        pod.node_name.as_deref().unwrap_or("(none)")
                    ),
                );
            }
            continue;
        };
        for addr in &pod.pod_ips {
            match addr {
                Addr::Ip(ip) if node.ips().any(|n| n == *ip) => {}
                Addr::Ip(ip) => check.fail(
                    vec![pod_ref(pod), node_ref(node)],
                    format!(
                        "hostNetwork pod has the address {ip}, which is not one of its node's ({})",
                        node.ips()
                            .map(|ip| ip.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                Addr::Invalid(text) => check.fail(
                    vec![pod_ref(pod)],
                    format!("pod IP {text:?} is not an IP address"),
                ),
            }
        }
        // The kubelet gives a hostNetwork pod the node's IP of every family the cluster uses.
        let has = pod
            .pod_ips
            .iter()
            .filter_map(Addr::ip)
            .fold(0u8, |m, ip| m | bit(Family::of_addr(&ip)));
        let missing: Vec<Family> = node
            .internal_ips()
            .filter_map(|a| a.ip())
            .map(|ip| Family::of_addr(&ip))
            .filter(|f| expect.expects(*f) && has & bit(*f) == 0)
            .collect();
        if !missing.is_empty() {
            check.warn(
                vec![pod_ref(pod), node_ref(node)],
                format!(
                    "hostNetwork pod lacks its node's {} address",
                    families_text(&missing)
                ),
            );
        }
    }
    check
}

fn service_ip_families(snapshot: &Snapshot, expect: &Expectations) -> Check {
    let mut check = Check::new(
        "service-ip-families",
        "Services: ipFamilies, ipFamilyPolicy and clusterIPs agree",
    );
    for service in &snapshot.services {
        if service.is_external_name() {
            continue;
        }
        check.checked += 1;
        let me = || vec![service_ref(service)];
        let mut families = Vec::new();
        for text in &service.ip_families {
            match k8s_family(text) {
                Some(f) if families.contains(&f) => {
                    check.fail(me(), format!("ipFamilies lists {f} twice"));
                }
                Some(f) => families.push(f),
                None => check.fail(me(), format!("ipFamilies has {text:?}")),
            }
        }
        for f in &families {
            if !expect.expects(*f) {
                check.fail(
                    me(),
                    format!("ipFamilies has {f}, but the cluster has no {f} service range"),
                );
            }
        }
        let policy = service.ip_family_policy.as_deref();
        let count = if service.is_headless() {
            families.len()
        } else {
            let ips = service.effective_cluster_ips();
            if let (Some(one), Some(first)) = (service.cluster_ip.as_deref(), ips.first())
                && one != *first
            {
                check.fail(
                    me(),
                    format!("clusterIP {one} is not clusterIPs[0] ({first})"),
                );
            }
            if ips.len() != families.len() {
                check.fail(
                    me(),
                    format!(
                        "clusterIPs has {} addresses ({}), ipFamilies {} ({})",
                        ips.len(),
                        ips.join(", "),
                        families.len(),
                        families_text(&families)
                    ),
                );
            }
            for (i, text) in ips.iter().enumerate() {
                match Addr::from(*text) {
                    Addr::Ip(ip) => {
                        let family = Family::of_addr(&ip);
                        if let Some(listed) = families.get(i)
                            && *listed != family
                        {
                            check.fail(
                                me(),
                                format!(
                                    "clusterIPs[{i}] {ip} is {family}, but ipFamilies[{i}] is {listed}"
                                ),
                            );
                        }
                    }
                    Addr::Invalid(_) => {
                        check.fail(
                            me(),
                            format!("clusterIPs[{i}] {text:?} is not an IP address"),
                        );
                    }
                }
            }
            ips.len()
        };
        match policy {
            Some("SingleStack") if count != 1 => check.fail(
                me(),
                format!("ipFamilyPolicy SingleStack with {count} families"),
            ),
            Some("RequireDualStack") if count != 2 => check.fail(
                me(),
                format!("ipFamilyPolicy RequireDualStack with {count} families"),
            ),
            Some("PreferDualStack") if count == 1 && expect.is_dual() => check.warn(
                me(),
                "ipFamilyPolicy PreferDualStack but only one family in a dual-stack cluster \
                 (created before the cluster became dual-stack?)"
                    .to_string(),
            ),
            Some("SingleStack" | "RequireDualStack" | "PreferDualStack") => {}
            Some(other) => check.fail(me(), format!("unknown ipFamilyPolicy {other:?}")),
            None => check.warn(me(), "has no ipFamilyPolicy".to_string()),
        }
    }
    check
}

fn service_ranges(snapshot: &Snapshot, expect: &Expectations) -> Check {
    let mut check = Check::new(
        "service-ranges",
        "Service clusterIPs are inside the service ranges",
    );
    if expect.service_ranges.is_empty() {
        return check.skip("the service ranges are unknown without --plan");
    }
    for service in &snapshot.services {
        if service.is_external_name() || service.is_headless() {
            continue;
        }
        check.checked += 1;
        for ip in service
            .effective_cluster_ips()
            .iter()
            .filter_map(|t| Addr::from(*t).ip())
        {
            if !expect.service_ranges.iter().any(|r| r.contains(&ip)) {
                check.fail(
                    vec![service_ref(service)],
                    format!(
                        "clusterIP {ip} is outside the service ranges ({})",
                        expect
                            .service_ranges
                            .iter()
                            .map(|r| r.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
    }
    check
}

fn kubernetes_service(snapshot: &Snapshot, expect: &Expectations) -> Check {
    let mut check = Check::new(
        "kubernetes-service",
        "The kubernetes Service has the first address of the primary service range",
    );
    let Some(service) = snapshot
        .services
        .iter()
        .find(|s| s.namespace == "default" && s.name == "kubernetes")
    else {
        if snapshot.services.is_empty() {
            return check.skip("the input has no Services");
        }
        check.fail(
            vec!["service/default/kubernetes".to_string()],
            "the input has no kubernetes Service in the default namespace".to_string(),
        );
        return check;
    };
    check.checked = 1;
    let first = service
        .effective_cluster_ips()
        .first()
        .and_then(|t| Addr::from(*t).ip());
    match (first, expect.api_server_ip) {
        (None, _) => check.fail(vec![service_ref(service)], "has no cluster IP".to_string()),
        (Some(ip), Some(want)) if ip != want => check.fail(
            vec![service_ref(service)],
            format!("has {ip}, but the first address of the primary service range is {want}"),
        ),
        (Some(ip), _) => {
            if let Some(primary) = expect.primary()
                && Family::of_addr(&ip) != primary
            {
                check.fail(
                    vec![service_ref(service)],
                    format!("has {ip}, but the primary family is {primary}"),
                );
            }
        }
    }
    if expect.api_server_ip.is_none() {
        check = check.note("the exact address is known only with --plan");
    }
    check
}

fn kube_dns_service(snapshot: &Snapshot, expect: &Expectations) -> Check {
    let mut check = Check::new(
        "kube-dns-service",
        "kube-dns has the distribution's address and a family policy that fits",
    );
    let found = snapshot
        .services
        .iter()
        .find(|s| s.namespace == "kube-system" && s.name == "kube-dns")
        .or_else(|| {
            snapshot.services.iter().find(|s| {
                s.namespace == "kube-system" && s.app_label.as_deref() == Some("kube-dns")
            })
        });
    let Some(service) = found else {
        if snapshot.services.is_empty() {
            return check.skip("the input has no Services");
        }
        check.warn(
            vec!["service/kube-system/kube-dns".to_string()],
            "no kube-dns Service in kube-system (nor one labelled k8s-app=kube-dns)".to_string(),
        );
        return check;
    };
    check.checked = 1;
    let me = || vec![service_ref(service)];
    let ips: Vec<IpAddr> = service
        .effective_cluster_ips()
        .iter()
        .filter_map(|t| Addr::from(*t).ip())
        .collect();
    let show = |ips: &[IpAddr]| {
        ips.iter()
            .map(|ip| ip.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let (Some(first), Some(primary)) = (ips.first(), expect.primary())
        && Family::of_addr(first) != primary
    {
        check.fail(
            me(),
            format!(
                "the first cluster IP {first} is {}, but the primary family is {primary}: pods \
                 get a DNS server of the other family",
                Family::of_addr(first)
            ),
        );
    }
    if !expect.dns_ips.is_empty() {
        if ips != expect.dns_ips {
            check.fail(
                me(),
                format!(
                    "has clusterIPs [{}], but the distribution uses [{}]",
                    show(&ips),
                    show(&expect.dns_ips)
                ),
            );
        }
        let policy = service.ip_family_policy.as_deref().unwrap_or("(none)");
        if expect.dns_ips.len() > 1 {
            match policy {
                "RequireDualStack" => {}
                "PreferDualStack" => check.warn(
                    me(),
                    "ipFamilyPolicy PreferDualStack: the distribution sets RequireDualStack"
                        .to_string(),
                ),
                other => check.fail(
                    me(),
                    format!(
                        "ipFamilyPolicy {other}, but both families are expected: \
                         RequireDualStack"
                    ),
                ),
            }
        } else if policy != "SingleStack" && ips.len() > 1 {
            check.warn(
                me(),
                format!(
                    "ipFamilyPolicy {policy} with {} addresses; the distribution gives kube-dns one",
                    ips.len()
                ),
            );
        }
    } else {
        check = check.note("the exact addresses are known only with --plan");
    }
    check
}

fn endpointslice_families(snapshot: &Snapshot) -> Check {
    let mut check = Check::new(
        "endpointslice-families",
        "Dual-stack Services have an EndpointSlice per family",
    );
    let mut have: HashMap<(&str, &str), u8> = HashMap::new();
    for slice in &snapshot.endpoint_slices {
        let Some(service) = slice.service_name.as_deref() else {
            continue;
        };
        let family = slice.address_type.as_deref().and_then(k8s_family);
        let entry = have.entry((slice.namespace.as_str(), service)).or_default();
        if let Some(f) = family {
            *entry |= bit(f);
        }
    }
    for service in &snapshot.services {
        if service.is_external_name() || !service.has_selector || service.ip_families.len() < 2 {
            continue;
        }
        check.checked += 1;
        let got = have
            .get(&(service.namespace.as_str(), service.name.as_str()))
            .copied()
            .unwrap_or(0);
        let missing: Vec<Family> = service
            .ip_families
            .iter()
            .filter_map(|t| k8s_family(t))
            .filter(|f| got & bit(*f) == 0)
            .collect();
        if !missing.is_empty() {
            check.fail(
                vec![service_ref(service)],
                format!(
                    "dual-stack Service without an {} EndpointSlice",
                    families_text(&missing)
                ),
            );
        }
    }
    if snapshot.endpoint_slices.is_empty() && check.checked > 0 {
        check = check.note("the input has no EndpointSlices");
    }
    check
}

fn summary(snapshot: &Snapshot) -> Summary {
    let mut summary = Summary::default();
    let mask_of = |ips: &mut dyn Iterator<Item = IpAddr>| {
        ips.fold(0u8, |m, ip| m | bit(Family::of_addr(&ip)))
    };
    for node in &snapshot.nodes {
        summary
            .nodes
            .count(mask_of(&mut node.internal_ips().filter_map(|a| a.ip())));
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
