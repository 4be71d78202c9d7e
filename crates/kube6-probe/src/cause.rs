//! The likeliest cause of each failure: first from what the cell itself saw (an ICMP error, a
//! reset, a DNS answer without records), then, for the silent failures (timeouts), from the
//! pattern of the other cells: a direction that works in reverse is filtered, a pair of nodes
//! whose pods reach their own node but not each other lacks routes, pods that fail where their
//! node succeeds are not routed back by the upstream.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::{IpNet, Ipv6Net};
use kube6_net::Family;
use serde::Serialize;

use crate::catalog;
use crate::outcome::{Outcome, PathMtu, Unreachable};
use crate::plan::{Action, Peer, Task};
use crate::report::{AgentState, Cell, CheckReport, Status, record};
use crate::spec::{AgentKind, Spec, well_known_nat64};

/// The kinds of cause, stable names for machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CauseKind {
    /// A route of the family is missing (at the sender, a router on the way, or back).
    RouteMissing,
    /// A packet filter (firewall, NetworkPolicy, security group) drops or rejects it.
    Filtered,
    /// Large packets are lost and no Packet Too Big comes back.
    Mtu,
    /// The DNS answers A but no AAAA.
    DnsNoAaaa,
    /// The DNS answers AAAA but no A.
    DnsNoA,
    /// The DNS does not know the name.
    DnsName,
    /// The DNS answers with other addresses than the Service has.
    DnsWrongAnswer,
    /// The DNS servers do not answer, or answer with an error.
    DnsUnreachable,
    /// NAT64 is expected but the DNS synthesizes no AAAA for an IPv4-only name.
    NoDns64,
    /// Nothing answers through the NAT64 prefix.
    NoNat64,
    /// Pods' packets leave, but the upstream does not route the pod range back.
    UpstreamNotRouting,
    /// kube-proxy (or the CNI) does not serve the Service in the family.
    ServiceProxy,
    /// A Service has no address of the family.
    ServiceFamily,
    /// Nothing listens (a reset came back).
    NotListening,
    /// Another endpoint answered than the one addressed.
    WrongPeer,
    /// An agent did not come up, or has no address of the family.
    Agent,
    /// No answer, and nothing else points at a cause.
    NoAnswer,
    /// The runner itself failed.
    Runner,
}

/// A failure's likeliest cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cause {
    pub kind: CauseKind,
    pub message: String,
}

fn cause(kind: CauseKind, message: impl Into<String>) -> Cause {
    Cause {
        kind,
        message: message.into(),
    }
}

pub(crate) fn agent_not_ready(state: &AgentState, why: &str) -> Cause {
    let hint = match state.kind {
        AgentKind::Pod => {
            "an image that cannot be pulled, or the CNI not ready on that node (`kubectl describe pod`)"
        }
        AgentKind::Host => {
            "an image that cannot be pulled, or admission refusing hostNetwork pods (`kubectl describe pod`)"
        }
    };
    cause(
        CauseKind::Agent,
        format!(
            "the {} agent on node {} is not ready ({why}): {hint}",
            state.kind, state.node
        ),
    )
}

pub(crate) fn agent_without_family(state: &AgentState, family: Family) -> Cause {
    let message = match state.kind {
        AgentKind::Pod => format!(
            "the CNI gave the pod on node {} no {family} address: the family is switched off in the CNI, or the node has no {family} podCIDR",
            state.node
        ),
        AgentKind::Host => format!(
            "node {} has no {family} address as Kubernetes sees it: give the kubelet --node-ip with one address per family",
            state.node
        ),
    };
    cause(CauseKind::Agent, message)
}

pub(crate) fn runner_silent(agent: &str, why: &str) -> Cause {
    let hint = if why.contains("forbidden") || why.contains("403") {
        "the credentials may not read pod logs (pods/log get, see docs/probe.md)"
    } else if why.contains("did not finish") {
        "the runner pod did not finish in time (`--timeout`, or the node is slow to start pods)"
    } else {
        "see the runner pod's log (`kubectl logs` with --keep)"
    };
    cause(
        CauseKind::Runner,
        format!("no results from {}: {hint}", agent_words(agent)),
    )
}

pub(crate) fn wrong_peer(want: &str, got: &str) -> Cause {
    cause(
        CauseKind::WrongPeer,
        format!(
            "{got} answered instead of {want}: the address is routed to another pod or host (a stale route, or two pods with one address)"
        ),
    )
}

pub(crate) fn dns_wrong_answer(name: &str) -> Cause {
    cause(
        CauseKind::DnsWrongAnswer,
        format!(
            "the cluster DNS's answer for {name} is not the Service's addresses: a stale cache, or a DNS that does not serve this cluster"
        ),
    )
}

pub(crate) fn no_dns64(name: &str, prefix: Option<Ipv6Net>) -> Cause {
    let prefix = prefix.unwrap_or_else(well_known_nat64);
    cause(
        CauseKind::NoDns64,
        format!(
            "{name} is IPv4-only and the cluster DNS synthesizes no AAAA in {prefix}: DNS64 is missing (CoreDNS's dns64 plugin, or a DNS64 resolver upstream)"
        ),
    )
}

pub(crate) fn service_without_family(task: &Task) -> Cause {
    cause(
        CauseKind::ServiceFamily,
        format!(
            "the Service got no {} ClusterIP: kube-apiserver has no {} --service-cluster-ip-range",
            task.family, task.family
        ),
    )
}

pub(crate) fn mtu(family: Family, p: &PathMtu) -> Cause {
    let icmp = match family {
        Family::IPv6 => "ICMPv6 Packet Too Big (type 2)",
        Family::IPv4 => "ICMP fragmentation-needed (type 3 code 4)",
    };
    let message = match (p.too_big_from, p.too_big_mtu) {
        (Some(from), Some(mtu)) => format!(
            "MTU: {from} reported a path MTU of {mtu}, yet packets of that size are lost further on: a second, smaller link whose {icmp} is filtered"
        ),
        _ => format!(
            "MTU black hole: a link on the way to {} has an MTU below {}, and its {icmp} is filtered (or a tunnel's overhead is not taken off the pods' MTU)",
            p.address, p.link_mtu
        ),
    };
    cause(CauseKind::Mtu, message)
}

/// What an outcome means, in a few words.
pub(crate) fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Connected { address, .. } => format!("connected to {address}"),
        Outcome::Echoed { address, .. } => format!("{address} answered echo"),
        Outcome::WrongPeer {
            address, answered, ..
        } => format!("{address} was answered by {answered}"),
        Outcome::Refused { address } => format!("{address} refused the connection (TCP reset)"),
        Outcome::Unreachable {
            address,
            why,
            local,
            from,
        } => {
            let what = match why {
                Unreachable::NoRoute => "no route",
                Unreachable::HostUnreachable => "host unreachable",
                Unreachable::Prohibited => "administratively prohibited",
            };
            match (local, from) {
                (true, _) => format!("{address}: {what} (refused by the sender's own kernel)"),
                (false, Some(r)) => format!("{address}: {what} (ICMP from {r})"),
                (false, None) => format!("{address}: {what}"),
            }
        }
        Outcome::TimedOut { address } => format!("no answer from {address}"),
        Outcome::Answered {
            server, addresses, ..
        } => format!(
            "{server} answered {}",
            addresses
                .iter()
                .map(IpAddr::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Outcome::NoRecords { server, .. } => format!("{server} answered with no records"),
        Outcome::NoSuchName { server } => format!("{server} answered NXDOMAIN"),
        Outcome::DnsTimeout { servers } => format!(
            "no answer from the DNS ({})",
            servers
                .iter()
                .map(IpAddr::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Outcome::DnsError { server, message } => match server {
            Some(s) => format!("{s}: {message}"),
            None => message.clone(),
        },
        Outcome::PathMtu(p) => format!("path MTU test to {}", p.address),
        Outcome::NotRun { reason } => reason.clone(),
        Outcome::Error { message } => format!("the runner failed: {message}"),
    }
}

/// The address an outcome was about.
fn address_of(outcome: &Outcome) -> Option<IpAddr> {
    match outcome {
        Outcome::Connected { address, .. }
        | Outcome::WrongPeer { address, .. }
        | Outcome::Refused { address } => Some(address.ip()),
        Outcome::Echoed { address, .. }
        | Outcome::Unreachable { address, .. }
        | Outcome::TimedOut { address } => Some(*address),
        Outcome::PathMtu(p) => Some(p.address),
        _ => None,
    }
}

/// Whether a failed outcome was about an address of the NAT64 prefix.
pub(crate) fn through_nat64(spec: &Spec, outcome: &Outcome) -> bool {
    let prefix = spec.nat64().unwrap_or_else(well_known_nat64);
    match outcome {
        Outcome::Connected { nat64, .. } | Outcome::Echoed { nat64, .. } => *nat64,
        other => match address_of(other) {
            Some(IpAddr::V6(a)) => IpNet::V6(prefix).contains(&IpAddr::V6(a)),
            _ => false,
        },
    }
}

fn agent_words(agent: &str) -> String {
    match agent.rsplit_once('/') {
        Some((node, "pod")) => format!("the pod on node {node}"),
        Some((node, "host")) => format!("node {node}"),
        _ => agent.to_string(),
    }
}

/// The cause a cell's own outcome points at.
pub(crate) fn first(spec: &Spec, task: &Task, outcome: &Outcome) -> Cause {
    let family = task.family;
    let from = agent_words(&task.from);
    let check = task.check.id;
    match outcome {
        Outcome::Refused { address } => {
            if check == catalog::CLUSTER_IP.id || check == catalog::NODE_PORT.id {
                cause(
                    CauseKind::ServiceProxy,
                    format!(
                        "{address} answered with a reset: kube-proxy rejects a Service without {family} endpoints, or nothing serves it in {family}"
                    ),
                )
            } else if matches!(
                task.action,
                Action::Connect {
                    peer: Peer::Agent(_),
                    ..
                }
            ) {
                cause(
                    CauseKind::NotListening,
                    format!(
                        "{address} answered with a reset: the agent does not listen there, or a filter rejects port {} with a reset",
                        address.port()
                    ),
                )
            } else {
                cause(
                    CauseKind::NotListening,
                    format!("nothing listens on {address}"),
                )
            }
        }
        Outcome::Unreachable {
            address,
            why: Unreachable::Prohibited,
            from: router,
            ..
        } => cause(
            CauseKind::Filtered,
            match router {
                Some(r) => {
                    format!("{r} rejects traffic to {address} (administratively prohibited)")
                }
                None => format!("a packet filter on {from} rejects traffic to {address}"),
            },
        ),
        Outcome::Unreachable {
            address,
            local: true,
            ..
        } if through_nat64(spec, outcome) => cause(
            CauseKind::NoNat64,
            format!(
                "{from} has no route to {address} in the NAT64 prefix: the prefix is not routed to a NAT64 gateway"
            ),
        ),
        Outcome::Unreachable {
            address,
            local: true,
            ..
        } => cause(
            CauseKind::RouteMissing,
            format!("{from} has no {family} route to {address}"),
        ),
        Outcome::Unreachable {
            address,
            from: router,
            ..
        } => cause(
            CauseKind::RouteMissing,
            match router {
                Some(r) => {
                    format!("{r} has no {family} route to {address} (it answered unreachable)")
                }
                None => {
                    format!("a router between {from} and {address} has no {family} route to it")
                }
            },
        ),
        Outcome::TimedOut { address } if through_nat64(spec, outcome) => cause(
            CauseKind::NoNat64,
            format!(
                "nothing answers through the NAT64 prefix ({address}): the NAT64 gateway is down or the prefix is not routed to it"
            ),
        ),
        Outcome::TimedOut { address } => cause(
            CauseKind::NoAnswer,
            format!(
                "no answer from {address} within {} ms: dropped on the way there or back",
                spec.options.timeout_ms
            ),
        ),
        Outcome::NoRecords { server, .. } => {
            let name = match &task.action {
                Action::Lookup { name, .. } => name.as_str(),
                _ => "the name",
            };
            match family {
                Family::IPv6 => cause(
                    CauseKind::DnsNoAaaa,
                    format!(
                        "the cluster DNS ({server}) answers no AAAA for {name}: DNS without AAAA (CoreDNS serves AAAA from the Service's IPv6 ClusterIPs or endpoints; a resolver filtering AAAA)"
                    ),
                ),
                Family::IPv4 => cause(
                    CauseKind::DnsNoA,
                    format!("the cluster DNS ({server}) answers no A for {name}"),
                ),
            }
        }
        Outcome::NoSuchName { server } => {
            let name = match &task.action {
                Action::Lookup { name, .. } => name.as_str(),
                _ => "the name",
            };
            cause(
                CauseKind::DnsName,
                format!(
                    "the cluster DNS ({server}) does not know {name}: another cluster domain, or CoreDNS does not watch this cluster's Services"
                ),
            )
        }
        Outcome::DnsTimeout { servers } => cause(
            CauseKind::DnsUnreachable,
            format!(
                "the cluster DNS ({}) does not answer {from}: kube-dns's ClusterIP is not served in that family, or CoreDNS is down",
                servers
                    .iter()
                    .map(IpAddr::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        Outcome::DnsError { message, .. } => cause(
            CauseKind::DnsUnreachable,
            format!(
                "the cluster DNS failed the {} query: {message}",
                record(family)
            ),
        ),
        Outcome::WrongPeer {
            expected, answered, ..
        } => wrong_peer(expected, answered),
        Outcome::Error { message } => cause(CauseKind::Runner, message.clone()),
        other => cause(CauseKind::NoAnswer, describe(other)),
    }
}

type Key<'a> = (&'static str, Family, &'a str, &'a str);

/// The node an agent id runs on.
fn node_of(agent: &str) -> &str {
    agent.rsplit_once('/').map_or(agent, |(n, _)| n)
}

fn kind_of(agent: &str) -> Option<AgentKind> {
    match agent.rsplit_once('/') {
        Some((_, "pod")) => Some(AgentKind::Pod),
        Some((_, "host")) => Some(AgentKind::Host),
        _ => None,
    }
}

/// Refines the causes of silent failures with the pattern of the other cells.
pub(crate) fn refine(spec: &Spec, checks: &mut [CheckReport]) {
    let mut status: HashMap<(String, Family, String, String), Status> = HashMap::new();
    // Routes known to be missing: (family, the sender's node, where it went, the message).
    let mut no_route: Vec<(Family, String, String, String)> = Vec::new();
    for check in checks.iter() {
        for cell in &check.cells {
            status.insert(
                (
                    check.id.to_string(),
                    cell.family,
                    cell.from.clone(),
                    cell.to.clone(),
                ),
                cell.status,
            );
            if let Some(c) = &cell.cause
                && c.kind == CauseKind::RouteMissing
                && matches!(cell.observed, Some(Outcome::Unreachable { .. }))
            {
                no_route.push((
                    cell.family,
                    node_of(&cell.from).to_string(),
                    cell.to.clone(),
                    c.message.clone(),
                ));
            }
        }
    }
    let get = |key: Key<'_>| -> Option<Status> {
        status
            .get(&(
                key.0.to_string(),
                key.1,
                key.2.to_string(),
                key.3.to_string(),
            ))
            .copied()
    };
    let passes = |key: Key<'_>| get(key) == Some(Status::Pass);
    let timeout_s = spec.options.timeout_ms as f64 / 1000.0;

    for check in checks.iter_mut() {
        let id = check.id;
        for cell in &mut check.cells {
            if cell.status != Status::Fail {
                continue;
            }
            let silent = matches!(
                cell.cause.as_ref().map(|c| c.kind),
                Some(CauseKind::NoAnswer)
            );
            if !silent {
                continue;
            }
            let f = cell.family;
            let x = node_of(&cell.from).to_string();
            let y = cell.to.clone();
            let xp = format!("{x}/pod");
            let xh = format!("{x}/host");
            let yp = format!("{y}/pod");
            let yh = format!("{y}/host");
            let refined = if id == catalog::POD_TO_POD_CROSS_NODE.id
                || id == catalog::NODE_TO_POD.id
                || id == catalog::POD_TO_NODE.id
            {
                // The reverse of this direction, and the evidence of a missing route.
                let reverse = if id == catalog::POD_TO_POD_CROSS_NODE.id {
                    passes((catalog::POD_TO_POD_CROSS_NODE.id, f, &yp, &x))
                } else if id == catalog::NODE_TO_POD.id {
                    passes((catalog::POD_TO_NODE.id, f, &yp, &x))
                } else {
                    passes((catalog::NODE_TO_POD.id, f, &yh, &x))
                };
                let evidence = no_route
                    .iter()
                    .find(|(fam, node, to, _)| {
                        *fam == f && ((*node == y && *to == x) || (*node == x && *to == y))
                    })
                    .map(|(_, _, _, m)| m.clone());
                if let Some(evidence) = evidence {
                    Some(cause(
                        CauseKind::RouteMissing,
                        format!(
                            "{f} route missing between node {x} and node {y}: {evidence}; the answers cannot come back"
                        ),
                    ))
                } else if reverse {
                    Some(cause(
                        CauseKind::Filtered,
                        format!(
                            "filtered: the other direction works, so routes exist both ways; a firewall or NetworkPolicy drops {f} traffic from {} to {} (port {})",
                            agent_words(&cell.from),
                            if id == catalog::POD_TO_NODE.id {
                                format!("node {y}")
                            } else {
                                format!("the pod on node {y}")
                            },
                            spec.port
                        ),
                    ))
                } else if passes((catalog::POD_TO_POD_SAME_NODE.id, f, &xp, &x))
                    && (x == y || passes((catalog::POD_TO_POD_SAME_NODE.id, f, &yp, &y)))
                {
                    Some(cause(
                        CauseKind::RouteMissing,
                        format!(
                            "{f} route missing between node {x} and node {y}: each node's pods work locally but get no answer across (the CNI does not route the other node's {f} pod block, or the upstream does not)"
                        ),
                    ))
                } else {
                    None
                }
            } else if id == catalog::EGRESS.id && kind_of(&cell.from) == Some(AgentKind::Pod) {
                if passes((catalog::EGRESS.id, f, &xh, &y)) {
                    let mode = spec
                        .expect
                        .upstream
                        .iter()
                        .find(|(fam, _)| *fam == f)
                        .map(|(_, m)| format!(" (the plan says `{m}`)"))
                        .unwrap_or_default();
                    Some(cause(
                        CauseKind::UpstreamNotRouting,
                        format!(
                            "node {x} reaches {y} over {f} but its pods do not: the pod range is not masqueraded and the upstream does not route it back{mode}; announce it (BGP), answer NDP for it (kube6 ndp-proxy), or masquerade"
                        ),
                    ))
                } else if get((catalog::EGRESS.id, f, &xh, &y)) == Some(Status::Fail) {
                    Some(cause(
                        CauseKind::RouteMissing,
                        format!(
                            "node {x} does not reach {y} over {f} either: the nodes have no working {f} route to it (default route, firewall, or the destination is down)"
                        ),
                    ))
                } else {
                    None
                }
            } else if id == catalog::NODE_PORT.id
                && get((catalog::POD_TO_NODE.id, f, &cell.from, &y)) == Some(Status::Fail)
            {
                // The node's own address gets no answer either: the way there (or back) is
                // broken, whatever serves the NodePort.
                Some(cause(
                    CauseKind::RouteMissing,
                    format!(
                        "{} gets no answer from node {y}'s {f} address directly either ({}): a route or filter between them, not the NodePort",
                        agent_words(&cell.from),
                        catalog::POD_TO_NODE.name
                    ),
                ))
            } else if (id == catalog::CLUSTER_IP.id
                && (passes((catalog::POD_TO_POD_SAME_NODE.id, f, &cell.from, &x))
                    || passes((catalog::POD_TO_POD_CROSS_NODE.id, f, &cell.from, &y))))
                || (id == catalog::NODE_PORT.id
                    && passes((catalog::POD_TO_NODE.id, f, &cell.from, &y)))
            {
                Some(cause(
                    CauseKind::ServiceProxy,
                    format!(
                        "the pods answer directly over {f} but not through the Service: kube-proxy (or the CNI's service handling) does not forward {f} {}",
                        if id == catalog::NODE_PORT.id {
                            "NodePorts on this address (--nodeport-addresses)"
                        } else {
                            "ClusterIPs"
                        }
                    ),
                ))
            } else {
                None
            };
            if let Some(c) = refined {
                cell.cause = Some(c);
            } else if let Some(c) = &mut cell.cause
                && !c.message.contains("within")
            {
                c.message = format!("{} (no answer within {timeout_s} s)", c.message);
            }
        }
    }
}

/// The causes of a report's failures, grouped: `(kind, message, cells)`, most cells first.
pub fn summary(checks: &[CheckReport]) -> Vec<(CauseKind, String, usize)> {
    let mut groups: Vec<(CauseKind, String, usize)> = Vec::new();
    for cell in checks
        .iter()
        .flat_map(|c| c.cells.iter())
        .filter(|c: &&Cell| c.status == Status::Fail)
    {
        if let Some(c) = &cell.cause {
            match groups
                .iter_mut()
                .find(|(k, m, _)| *k == c.kind && *m == c.message)
            {
                Some(g) => g.2 += 1,
                None => groups.push((c.kind, c.message.clone(), 1)),
            }
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.2));
    groups
}
