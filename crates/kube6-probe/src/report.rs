//! The report: every task's result as a cell of a matrix per check and family (rows: the agent
//! that sent, columns: the node, Service, name or target it went to), judged against the
//! expectations, with the likeliest cause of every failure ([`crate::cause`]).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use kube6_net::Family;
use serde::Serialize;

use crate::catalog::{self, CheckInfo, IgnoreSet};
use crate::cause::{self, Cause};
use crate::outcome::{AgentResults, Outcome};
use crate::plan::{Action, Answer, Peer, Task};
use crate::spec::{AgentKind, Expectations, Host, Spec};

/// The outcome of a cell, a check or the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    /// Not tested: the expectations rule it out, or there was nothing to test it with.
    Skip,
    /// Failed, but `--ignore` names the check: reported, without effect on the exit status.
    Ignored,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skip => "skip",
            Status::Ignored => "ignored",
            Status::Fail => "fail",
        }
    }
}

/// One test: a cell of a check's matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cell {
    pub family: Family,
    /// The agent that sent (`NODE/pod`, `NODE/host`, `local`).
    pub from: String,
    /// The node, Service, name or target it went to.
    pub to: String,
    pub status: Status,
    /// What happened, for people.
    pub detail: String,
    /// For a failure, the likeliest cause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    /// The objects involved (`pod/NS/NAME`, `service/NS/NAME`, `node/NAME`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<String>,
    /// What the runner observed (absent when it gave no result).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<Outcome>,
    /// How long the test took, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub millis: Option<u64>,
}

/// One check and its cells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    pub id: &'static str,
    pub name: &'static str,
    pub title: &'static str,
    pub status: Status,
    /// For an ignored check, what it would have been.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored_status: Option<Status>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub cells: Vec<Cell>,
}

impl CheckReport {
    fn new(info: &'static CheckInfo) -> CheckReport {
        CheckReport {
            id: info.id,
            name: info.name,
            title: info.title,
            status: Status::Skip,
            ignored_status: None,
            notes: Vec::new(),
            cells: Vec::new(),
        }
    }

    /// The families with cells, in order.
    pub fn families(&self) -> Vec<Family> {
        let mut out: Vec<Family> = Vec::new();
        for c in &self.cells {
            if !out.contains(&c.family) {
                out.push(c.family);
            }
        }
        out
    }

    fn settle(&mut self) {
        self.status = if self.cells.iter().any(|c| c.status == Status::Fail) {
            Status::Fail
        } else if self.cells.iter().any(|c| c.status == Status::Pass) {
            Status::Pass
        } else {
            Status::Skip
        };
    }
}

/// How an agent came up, as the orchestrator saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentState {
    pub node: String,
    pub kind: AgentKind,
    /// `pod/NS/NAME`, when a pod exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    pub ready: bool,
    pub addresses: Vec<IpAddr>,
    /// Why it is not ready (the pod's waiting reason and message, or "no pod on this node").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// A runner's results, or why there are none.
pub type RunnerOutput = Result<AgentResults, String>;

/// Totals over the checks' cells.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub ignored: usize,
}

/// The run's report (the document `-o json` prints).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// `pass` or `fail` (skipped and ignored cells do not count).
    pub status: Status,
    /// What was probed: the API server's URL, or `local`.
    pub origin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub expectations: Expectations,
    /// The cluster domain and DNS servers the runners used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_domain: Option<String>,
    #[serde(rename = "dnsServers", skip_serializing_if = "Vec::is_empty")]
    pub dns_servers: Vec<IpAddr>,
    pub nodes: Vec<String>,
    pub checks: Vec<CheckReport>,
    pub totals: Totals,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// `probe local`'s report for machines: one entry per target, family and test, in the order
/// they were tested, without the cluster checks that cannot apply to one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalReport {
    pub status: Status,
    pub expectations: Expectations,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_servers: Vec<IpAddr>,
    pub results: Vec<LocalResult>,
    pub totals: Totals,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One target, family and test of `probe local`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalResult {
    pub target: String,
    pub family: Family,
    /// The check's name (`egress`, `path-mtu`, ...) and id.
    pub test: &'static str,
    pub id: &'static str,
    pub status: Status,
    /// What happened, for people.
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub millis: Option<u64>,
}

impl From<&Report> for LocalReport {
    fn from(report: &Report) -> LocalReport {
        let results = report
            .checks
            .iter()
            .flat_map(|check| {
                check.cells.iter().map(move |cell| LocalResult {
                    target: cell.to.clone(),
                    family: cell.family,
                    test: check.name,
                    id: check.id,
                    status: cell.status,
                    reason: cell.detail.clone(),
                    cause: cell.cause.clone(),
                    observed: cell.observed.clone(),
                    millis: cell.millis,
                })
            })
            .collect();
        let mut notes = report.notes.clone();
        for check in &report.checks {
            if !check.cells.is_empty() {
                notes.extend(check.notes.iter().map(|n| format!("{}: {n}", check.name)));
            }
        }
        LocalReport {
            status: report.status,
            expectations: report.expectations.clone(),
            dns_servers: report.dns_servers.clone(),
            results,
            totals: report.totals,
            notes,
        }
    }
}

impl Report {
    /// Judges every task's result. `states` are the agents as the orchestrator saw them (empty
    /// for `probe local`), `outputs` each runner's results by agent id.
    pub fn build(
        origin: &str,
        spec: &Spec,
        tasks: &[Task],
        states: &[AgentState],
        outputs: &HashMap<String, RunnerOutput>,
    ) -> Report {
        let mut checks: BTreeMap<&'static str, CheckReport> = catalog::ALL
            .iter()
            .map(|c| (c.id, CheckReport::new(c)))
            .collect();
        let mut notes = Vec::new();
        let mut domain = None;
        let mut dns_servers: Vec<IpAddr> = Vec::new();
        let mut results: HashMap<&str, (&Outcome, u64)> = HashMap::new();
        for (agent, output) in outputs {
            match output {
                Ok(r) => {
                    if domain.is_none() {
                        domain = Some(r.cluster_domain.clone());
                    }
                    for s in &r.dns_servers {
                        if !dns_servers.contains(s) {
                            dns_servers.push(*s);
                        }
                    }
                    for n in &r.notes {
                        let note = format!("{agent}: {n}");
                        if !notes.contains(&note) {
                            notes.push(note);
                        }
                    }
                    for t in &r.results {
                        results.insert(t.id.as_str(), (&t.outcome, t.millis));
                    }
                }
                Err(why) => notes.push(format!("{agent}: no results: {why}")),
            }
        }
        if !states.is_empty()
            && let Some(check) = checks.get_mut(catalog::AGENTS.id)
        {
            agents_check(spec, states, check);
            // An agent whose runner gave nothing tested nothing: that is no pass.
            let mut silent: Vec<(&String, &String)> = outputs
                .iter()
                .filter_map(|(agent, o)| o.as_ref().err().map(|why| (agent, why)))
                .collect();
            silent.sort();
            for (agent, why) in silent {
                let node = agent.rsplit_once('/').map_or(agent.as_str(), |(n, _)| n);
                check.cells.push(Cell {
                    family: spec
                        .expect
                        .families
                        .first()
                        .copied()
                        .unwrap_or(Family::IPv6),
                    from: agent.clone(),
                    to: node.to_string(),
                    status: Status::Fail,
                    detail: format!("its runner gave no results: {why}"),
                    cause: Some(cause::runner_silent(agent, why)),
                    objects: vec![format!("node/{node}")],
                    observed: None,
                    millis: None,
                });
            }
        }
        for task in tasks {
            let runner = outputs.get(&task.from);
            let (outcome, millis) = match results.get(task.id.as_str()) {
                Some((o, ms)) => (Some(*o), Some(*ms)),
                None => (None, None),
            };
            let mut cell = judge(spec, task, outcome, runner);
            cell.millis = millis;
            // A name resolved into the NAT64 prefix makes an egress test a NAT64 test.
            let info = match &cell.observed {
                Some(o) if task.check.id == catalog::EGRESS.id && cause::through_nat64(spec, o) => {
                    &catalog::NAT64
                }
                _ => task.check,
            };
            if let Some(check) = checks.get_mut(info.id) {
                check.cells.push(cell);
            }
        }
        let mut checks: Vec<CheckReport> = checks.into_values().collect();
        cause::refine(spec, &mut checks);
        for check in &mut checks {
            check.settle();
            skip_notes(spec, check);
        }
        let mut report = Report {
            status: Status::Pass,
            origin: origin.to_string(),
            namespace: (!spec.namespace.is_empty()).then(|| spec.namespace.clone()),
            expectations: spec.expect.clone(),
            cluster_domain: domain.or_else(|| spec.cluster_domain.clone()),
            dns_servers,
            nodes: spec.node_names().iter().map(|s| s.to_string()).collect(),
            checks,
            totals: Totals::default(),
            notes,
        };
        report.total();
        report
    }

    fn total(&mut self) {
        let mut t = Totals::default();
        for c in &self.checks {
            for cell in &c.cells {
                match cell.status {
                    Status::Pass => t.passed += 1,
                    Status::Fail => t.failed += 1,
                    Status::Skip => t.skipped += 1,
                    Status::Ignored => t.ignored += 1,
                }
            }
        }
        self.totals = t;
        self.status = if t.failed > 0 {
            Status::Fail
        } else {
            Status::Pass
        };
    }

    /// Marks the failures of the checks in `ignore` as ignored.
    pub fn ignore(&mut self, ignore: &IgnoreSet) {
        for check in &mut self.checks {
            if !ignore.contains(check.id) {
                continue;
            }
            if check.status == Status::Fail {
                check.ignored_status = Some(Status::Fail);
                check.status = Status::Ignored;
            }
            for cell in &mut check.cells {
                if cell.status == Status::Fail {
                    cell.status = Status::Ignored;
                }
            }
        }
        self.total();
    }

    pub fn failed(&self) -> bool {
        self.status == Status::Fail
    }

    pub fn check(&self, id: &str) -> Option<&CheckReport> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// Every failed cell, with its check.
    pub fn failures(&self) -> impl Iterator<Item = (&CheckReport, &Cell)> {
        self.checks
            .iter()
            .flat_map(|c| c.cells.iter().map(move |cell| (c, cell)))
            .filter(|(_, cell)| cell.status == Status::Fail)
    }
}

fn skip_notes(spec: &Spec, check: &mut CheckReport) {
    if !check.cells.is_empty() {
        return;
    }
    let why = match check.id {
        id if id == catalog::AGENTS.id => "the agents were not started (probe local)",
        id if id == catalog::DNS_EXTERNAL.id || id == catalog::EGRESS.id => {
            "no --external targets were given"
        }
        id if id == catalog::NAT64.id => {
            if spec.expect.nat64.is_some() {
                "no IPv4-only --external target was given"
            } else {
                "NAT64 is not expected (no NAT64 in the plan, no --nat64-prefix)"
            }
        }
        id if id == catalog::PATH_MTU.id && !spec.options.mtu => {
            "path MTU tests were not asked for"
        }
        id if id == catalog::ICMP_ECHO.id => "only `probe local` sends echo requests",
        id if id == catalog::POD_TO_POD_CROSS_NODE.id || id == catalog::PATH_MTU.id => {
            "fewer than two nodes with a pod agent"
        }
        _ => "nothing to test",
    };
    check.notes.push(why.to_string());
}

/// K6P001: both agents on every node, ready, with an address of every expected family.
fn agents_check(spec: &Spec, states: &[AgentState], check: &mut CheckReport) {
    for state in states {
        let id = crate::spec::agent_id(&state.node, state.kind);
        let mut objects: Vec<String> = state.object.iter().cloned().collect();
        objects.push(format!("node/{}", state.node));
        for &family in &spec.expect.families {
            let has = state.addresses.iter().any(|a| Family::of_addr(a) == family);
            let (status, detail, cause) = if !state.ready {
                let why = state
                    .problem
                    .clone()
                    .unwrap_or_else(|| "not ready".to_string());
                (
                    Status::Fail,
                    format!("not ready: {why}"),
                    Some(cause::agent_not_ready(state, &why)),
                )
            } else if has {
                (
                    Status::Pass,
                    format!(
                        "ready, {}",
                        state
                            .addresses
                            .iter()
                            .filter(|a| Family::of_addr(a) == family)
                            .map(IpAddr::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    None,
                )
            } else {
                (
                    Status::Fail,
                    format!("ready, but without an {family} address"),
                    Some(cause::agent_without_family(state, family)),
                )
            };
            check.cells.push(Cell {
                family,
                from: id.clone(),
                to: state.node.clone(),
                status,
                detail,
                cause,
                objects: objects.clone(),
                observed: None,
                millis: None,
            });
        }
        for family in Family::ALL {
            if !spec.expect.expects(*family)
                && state
                    .addresses
                    .iter()
                    .any(|a| Family::of_addr(a) == *family)
            {
                let note = format!(
                    "{id} has {family} addresses, which the expectations do not include: {family} is not tested"
                );
                if !check.notes.contains(&note) {
                    check.notes.push(note);
                }
            }
        }
    }
}

fn fmt_addrs(addrs: &[IpAddr]) -> String {
    if addrs.is_empty() {
        return "nothing".to_string();
    }
    addrs
        .iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn same_set(a: &[IpAddr], b: &[IpAddr]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort();
    a.dedup();
    b.sort();
    b.dedup();
    a == b
}

/// One task's cell: pass, fail or skip, and the first cause (refined later with the others).
fn judge(
    spec: &Spec,
    task: &Task,
    outcome: Option<&Outcome>,
    runner: Option<&RunnerOutput>,
) -> Cell {
    let mut cell = Cell {
        family: task.family,
        from: task.from.clone(),
        to: task.to.clone(),
        status: Status::Fail,
        detail: String::new(),
        cause: None,
        objects: task.objects.clone(),
        observed: outcome.cloned(),
        millis: None,
    };
    let Some(outcome) = outcome else {
        cell.status = Status::Skip;
        cell.detail = match runner {
            None => format!("the runner of {} did not run", task.from),
            Some(Err(why)) => format!("the runner of {} gave no results: {why}", task.from),
            Some(Ok(_)) => format!(
                "the runner of {} gave no result for this test (another kube6 version?)",
                task.from
            ),
        };
        return cell;
    };
    let pass = |cell: &mut Cell, detail: String| {
        cell.status = Status::Pass;
        cell.detail = detail;
    };
    let skip = |cell: &mut Cell, detail: String| {
        cell.status = Status::Skip;
        cell.detail = detail;
    };
    match (&task.action, outcome) {
        (
            Action::Connect { peer, .. },
            Outcome::Connected {
                address, peer: got, ..
            },
        ) => match (peer, got) {
            (Peer::Agent(want), Some(got)) if want != got => {
                cell.detail = format!("{address} was answered by {got}, not {want}");
                cell.cause = Some(cause::wrong_peer(want, got));
            }
            (_, Some(got)) => pass(&mut cell, format!("{address} answered by {got}")),
            (_, None) => {
                cell.detail = format!("{address} accepted the connection but no agent greeted");
                cell.cause = Some(cause::wrong_peer("a probe agent", "something else"));
            }
        },
        (Action::Egress { .. }, Outcome::Connected { address, nat64, .. }) => pass(
            &mut cell,
            if *nat64 {
                format!("connected to {address} through NAT64")
            } else {
                format!("connected to {address}")
            },
        ),
        (_, Outcome::Echoed { address, nat64 }) => pass(
            &mut cell,
            if *nat64 {
                format!("{address} answered echo through NAT64")
            } else {
                format!("{address} answered echo")
            },
        ),
        (
            Action::Lookup { answer, name },
            Outcome::Answered {
                server,
                addresses,
                synthesized,
            },
        ) => {
            let ok = match answer {
                Answer::Exactly(want) => same_set(want, addresses),
                Answer::SubsetOf(allowed) => {
                    !addresses.is_empty() && addresses.iter().all(|a| allowed.contains(a))
                }
                Answer::Any => !addresses.is_empty(),
            };
            let via = if synthesized.is_empty() {
                String::new()
            } else {
                " (synthesized by DNS64)".to_string()
            };
            if ok {
                pass(
                    &mut cell,
                    format!("{server} answered {}{via}", fmt_addrs(addresses)),
                );
            } else {
                let want = match answer {
                    Answer::Exactly(w) | Answer::SubsetOf(w) => fmt_addrs(w),
                    Answer::Any => "an address".to_string(),
                };
                cell.detail = format!(
                    "{server} answered {} for {name}, expected {want}",
                    fmt_addrs(addresses)
                );
                cell.cause = Some(cause::dns_wrong_answer(name));
            }
        }
        (
            Action::Lookup { name, .. },
            Outcome::NoRecords {
                server,
                other_family,
            },
        ) if task.check.id == catalog::DNS_EXTERNAL.id && *other_family == Some(true) => {
            let rr = record(task.family);
            if task.family == Family::IPv6 && spec.nat64().is_some() {
                cell.detail = format!("{server} has no {rr} record for {name}, only A records");
                cell.cause = Some(cause::no_dns64(name, spec.nat64()));
            } else {
                skip(
                    &mut cell,
                    format!(
                        "{name} has no {rr} record, only {} records: it is not reachable over {}",
                        record(task.family.other()),
                        task.family
                    ),
                );
            }
        }
        (_, Outcome::NotRun { reason }) => {
            if matches!(&task.action, Action::Connect { address, .. } if address.port() == 0) {
                cell.detail = reason.clone();
                cell.cause = Some(cause::service_without_family(task));
            } else {
                skip(&mut cell, reason.clone());
            }
        }
        (_, Outcome::PathMtu(p)) => {
            let nat = if p.nat64 { " (through NAT64)" } else { "" };
            if p.full {
                pass(
                    &mut cell,
                    format!(
                        "{} bytes with don't-fragment reached {}{nat}",
                        p.link_mtu, p.address
                    ),
                );
            } else if let (Some(mtu), Some(from)) = (p.path_mtu, p.too_big_from) {
                pass(
                    &mut cell,
                    format!(
                        "path MTU {mtu} < link MTU {}: Packet Too Big from {from} was handled{nat}",
                        p.link_mtu
                    ),
                );
            } else if let Some(mtu) = p.path_mtu {
                pass(
                    &mut cell,
                    format!(
                        "path MTU {mtu} (the route's MTU; the link MTU is {}){nat}",
                        p.link_mtu
                    ),
                );
            } else if !p.small {
                skip(
                    &mut cell,
                    format!(
                        "{} answers no echo at all (filtered or unreachable): the path MTU cannot be measured",
                        p.address
                    ),
                );
            } else {
                cell.detail = match (p.too_big_from, p.too_big_mtu) {
                    (Some(from), Some(mtu)) => format!(
                        "Packet Too Big from {from} said {mtu}, but {}-byte packets to {} are lost too",
                        p.tried.last().copied().unwrap_or(mtu),
                        p.address
                    ),
                    _ => format!(
                        "{}-byte packets with don't-fragment to {} are lost, small ones arrive, and no Packet Too Big came back{nat}",
                        p.link_mtu, p.address
                    ),
                };
                cell.cause = Some(cause::mtu(task.family, p));
            }
        }
        (_, other) => {
            cell.detail = cause::describe(other);
            cell.cause = Some(cause::first(spec, task, other));
        }
    }
    cell
}

/// `A` or `AAAA`.
pub fn record(family: Family) -> &'static str {
    match family {
        Family::IPv4 => "A",
        Family::IPv6 => "AAAA",
    }
}

/// The target of an egress or MTU task, as a host.
pub fn egress_host(task: &Task) -> Option<&Host> {
    match &task.action {
        Action::Egress { target } => Some(&target.host),
        Action::PathMtu { host } => Some(host),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    //! The causes the report gives, from the whole matrix: each with a network where it fires
    //! and one where the same cell fails for another reason.
    use std::net::SocketAddr;

    use super::*;
    use crate::cause::CauseKind;
    use crate::outcome::{PathMtu, TaskResult};
    use crate::plan::{self, tests::two_nodes};

    /// What a healthy network answers to a task.
    fn healthy(spec: &Spec, task: &Task) -> Outcome {
        let v4 = |a: [u8; 4]| IpAddr::from(a);
        let outside = |f: Family| match f {
            Family::IPv4 => v4([203, 0, 113, 130]),
            Family::IPv6 => "2001:db8:40::2".parse().unwrap_or(v4([0; 4])),
        };
        let server = spec.dns_servers[0];
        match &task.action {
            Action::Connect { address, peer } => Outcome::Connected {
                address: *address,
                peer: Some(match peer {
                    Peer::Agent(a) => a.clone(),
                    Peer::AnyAgent => "a/pod".to_string(),
                }),
                nat64: false,
            },
            Action::Lookup { answer, .. } => Outcome::Answered {
                server,
                addresses: match answer {
                    Answer::Exactly(a) | Answer::SubsetOf(a) => a.clone(),
                    Answer::Any => vec![outside(task.family)],
                },
                synthesized: Vec::new(),
            },
            Action::Egress { target } => Outcome::Connected {
                address: SocketAddr::new(
                    match &target.host {
                        Host::Addr(a) => *a,
                        Host::Name(_) => outside(task.family),
                    },
                    target.port.unwrap_or(80),
                ),
                peer: None,
                nat64: false,
            },
            Action::PathMtu { host } => Outcome::PathMtu(PathMtu {
                address: match host {
                    Host::Addr(a) => *a,
                    Host::Name(_) => outside(task.family),
                },
                link_mtu: 1500,
                path_mtu: Some(1500),
                too_big_from: None,
                too_big_mtu: None,
                small: true,
                full: true,
                nat64: false,
                tried: vec![1500],
            }),
        }
    }

    /// The report of a run where `broken` replaces the outcome of the tasks it matches.
    fn run(spec: &Spec, broken: &dyn Fn(&Task) -> Option<Outcome>) -> Report {
        let domain = "cluster.local";
        let tasks = plan::all_tasks(spec, domain);
        let mut outputs: HashMap<String, RunnerOutput> = HashMap::new();
        for agent in &spec.agents {
            let id = agent.id();
            let results = tasks
                .iter()
                .filter(|t| t.from == id)
                .map(|t| TaskResult {
                    id: t.id.clone(),
                    outcome: broken(t).unwrap_or_else(|| healthy(spec, t)),
                    millis: 1,
                })
                .collect();
            outputs.insert(
                id.clone(),
                Ok(AgentResults {
                    agent: id,
                    version: "test".into(),
                    cluster_domain: domain.into(),
                    dns_servers: spec.dns_servers.clone(),
                    notes: Vec::new(),
                    results,
                }),
            );
        }
        let states: Vec<AgentState> = spec
            .agents
            .iter()
            .map(|a| AgentState {
                node: a.node.clone(),
                kind: a.kind,
                object: Some(a.object.clone()),
                ready: true,
                addresses: a.addresses.clone(),
                problem: None,
            })
            .collect();
        Report::build("https://test", spec, &tasks, &states, &outputs)
    }

    /// (check id, family, from, to) → cause kind of every failed cell.
    fn failed(report: &Report) -> Vec<(&'static str, Family, String, String, Option<CauseKind>)> {
        let mut out: Vec<_> = report
            .checks
            .iter()
            .flat_map(|c| {
                c.cells
                    .iter()
                    .filter(|cell| cell.status == Status::Fail)
                    .map(move |cell| {
                        (
                            c.id,
                            cell.family,
                            cell.from.clone(),
                            cell.to.clone(),
                            cell.cause.as_ref().map(|k| k.kind),
                        )
                    })
            })
            .collect();
        out.sort_by(|a, b| (a.0, &a.2, &a.3).cmp(&(b.0, &b.2, &b.3)));
        out
    }

    fn silent(task: &Task) -> Outcome {
        Outcome::TimedOut {
            address: match &task.action {
                Action::Connect { address, .. } => address.ip(),
                _ => IpAddr::from([192, 0, 2, 99]),
            },
        }
    }

    fn is_connect_to(task: &Task, to: &[IpAddr]) -> bool {
        matches!(&task.action, Action::Connect { address, .. } if to.contains(&address.ip()))
    }

    const BOTH: [Family; 2] = [Family::IPv4, Family::IPv6];

    #[test]
    fn a_healthy_network_has_no_failures() {
        let spec = two_nodes(&BOTH, false);
        let report = run(&spec, &|_| None);
        assert!(failed(&report).is_empty(), "{:?}", failed(&report));
        assert_eq!(report.status, Status::Pass);
    }

    #[test]
    fn silence_both_ways_across_nodes_is_a_missing_route_and_one_way_is_a_filter() {
        let spec = two_nodes(&BOTH, false);
        let a_pod: IpAddr = "198.51.100.2".parse().unwrap();
        let b_pod: IpAddr = "198.51.100.130".parse().unwrap();
        // Both directions between the nodes' IPv4 pods are silent.
        let report = run(&spec, &|t| {
            (t.check.id == catalog::POD_TO_POD_CROSS_NODE.id && is_connect_to(t, &[a_pod, b_pod]))
                .then(|| silent(t))
        });
        let f = failed(&report);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(
            f.iter()
                .all(|c| c.1 == Family::IPv4 && c.4 == Some(CauseKind::RouteMissing)),
            "{f:?}"
        );
        // Only a → b: the reverse works, so routes exist; something drops this direction.
        let report = run(&spec, &|t| {
            (t.check.id == catalog::POD_TO_POD_CROSS_NODE.id && is_connect_to(t, &[b_pod]))
                .then(|| silent(t))
        });
        let f = failed(&report);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].4, Some(CauseKind::Filtered), "{f:?}");
    }

    #[test]
    fn a_silent_node_port_is_the_proxy_only_when_the_node_answers_directly() {
        let spec = two_nodes(&BOTH, false);
        let node_b: IpAddr = "2001:db8:10::b".parse().unwrap();
        // The NodePort on b's IPv6 address is silent, b's address itself answers.
        let nodeport =
            |t: &Task| t.check.id == catalog::NODE_PORT.id && is_connect_to(t, &[node_b]);
        let report = run(&spec, &|t| nodeport(t).then(|| silent(t)));
        let f = failed(&report);
        assert!(!f.is_empty());
        assert!(
            f.iter()
                .all(|c| c.0 == catalog::NODE_PORT.id && c.4 == Some(CauseKind::ServiceProxy)),
            "{f:?}"
        );
        // b's address is silent to pods as well: the way there, not the NodePort.
        let report = run(&spec, &|t| {
            (nodeport(t) || (t.check.id == catalog::POD_TO_NODE.id && is_connect_to(t, &[node_b])))
                .then(|| silent(t))
        });
        let f = failed(&report);
        let ports: Vec<_> = f.iter().filter(|c| c.0 == catalog::NODE_PORT.id).collect();
        assert!(!ports.is_empty());
        assert!(
            ports.iter().all(|c| c.4 == Some(CauseKind::RouteMissing)),
            "{f:?}"
        );
    }

    #[test]
    fn pods_without_egress_where_their_node_has_it_blame_the_upstream() {
        let spec = two_nodes(&BOTH, false);
        let pods_v6_egress = |t: &Task| {
            t.check.id == catalog::EGRESS.id && t.family == Family::IPv6 && t.from.ends_with("/pod")
        };
        let report = run(&spec, &|t| {
            pods_v6_egress(t).then(|| Outcome::TimedOut {
                address: "2001:db8:40::2".parse().unwrap_or(IpAddr::from([0; 4])),
            })
        });
        let f = failed(&report);
        assert!(!f.is_empty());
        assert!(
            f.iter()
                .all(|c| c.0 == catalog::EGRESS.id && c.4 == Some(CauseKind::UpstreamNotRouting)),
            "{f:?}"
        );
        // The nodes cannot get out either: not the pod range's routing.
        let report = run(&spec, &|t| {
            (t.check.id == catalog::EGRESS.id && t.family == Family::IPv6).then(|| {
                Outcome::TimedOut {
                    address: "2001:db8:40::2".parse().unwrap_or(IpAddr::from([0; 4])),
                }
            })
        });
        let f = failed(&report);
        assert!(
            f.iter().all(|c| c.4 != Some(CauseKind::UpstreamNotRouting)),
            "{f:?}"
        );
    }

    #[test]
    fn a_full_size_packet_lost_without_packet_too_big_is_mtu() {
        let spec = two_nodes(&BOTH, false);
        let black_hole = |t: &Task| match &t.action {
            Action::PathMtu {
                host: Host::Addr(a),
            } if t.family == Family::IPv6 => Some(Outcome::PathMtu(PathMtu {
                address: *a,
                link_mtu: 1500,
                path_mtu: None,
                too_big_from: None,
                too_big_mtu: None,
                small: true,
                full: false,
                nat64: false,
                tried: vec![1500],
            })),
            _ => None,
        };
        let f = failed(&run(&spec, &black_hole));
        assert!(!f.is_empty());
        assert!(
            f.iter()
                .all(|c| c.0 == catalog::PATH_MTU.id && c.4 == Some(CauseKind::Mtu)),
            "{f:?}"
        );
        // A Packet Too Big came back and the path MTU was lowered: that is a pass.
        let lowered = |t: &Task| match &t.action {
            Action::PathMtu {
                host: Host::Addr(a),
            } if t.family == Family::IPv6 => Some(Outcome::PathMtu(PathMtu {
                address: *a,
                link_mtu: 1500,
                path_mtu: Some(1400),
                too_big_from: "2001:db8:10::1".parse().ok(),
                too_big_mtu: Some(1400),
                small: true,
                full: false,
                nat64: false,
                tried: vec![1500, 1400],
            })),
            _ => None,
        };
        assert!(failed(&run(&spec, &lowered)).is_empty());
    }

    #[test]
    fn a_dns_without_aaaa_fails_the_ipv6_names_only() {
        let spec = two_nodes(&BOTH, false);
        let report = run(&spec, &|t| match &t.action {
            Action::Lookup { .. } if t.family == Family::IPv6 => Some(Outcome::NoRecords {
                server: spec.dns_servers[0],
                other_family: Some(true),
            }),
            _ => None,
        });
        let f = failed(&report);
        assert!(!f.is_empty());
        for c in &f {
            assert_eq!(c.1, Family::IPv6, "{f:?}");
            assert_eq!(c.4, Some(CauseKind::DnsNoAaaa), "{f:?}");
        }
    }
}
