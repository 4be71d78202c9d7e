//! The agent: `kube6 probe agent serve` answers on the probe port (the other end of every
//! test), and `kube6 probe agent run` runs one agent's tasks and prints what it observed.
//!
//! The runner's logic (which test sends what, how a name is resolved before an egress test,
//! what counts as the right peer) is here; the sockets are behind [`Prober`], implemented for
//! the real network by [`net::SystemProber`].

pub mod icmp;
pub mod net;
pub mod serve;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use ipnet::{IpNet, Ipv6Net};
use kube6_net::Family;
use serde::{Deserialize, Serialize};

use crate::outcome::{AgentResults, Outcome, TaskResult};
use crate::plan::{Action, Task};
use crate::spec::{Host, Spec, well_known_nat64};

/// The first line an agent writes on every connection: this prefix, then a JSON [`Greeting`].
pub const GREETING_PREFIX: &str = "kube6-probe ";

/// Who answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Greeting {
    /// The agent's id (`NODE/pod`, `NODE/host`), or a name given to `serve --id`.
    pub agent: String,
    pub version: String,
}

impl Greeting {
    pub fn line(&self) -> String {
        format!(
            "{GREETING_PREFIX}{}\n",
            serde_json::to_string(self).unwrap_or_default()
        )
    }

    /// The agent id in a greeting line, if it is one.
    pub fn parse(line: &str) -> Option<Greeting> {
        serde_json::from_str(line.trim().strip_prefix(GREETING_PREFIX)?).ok()
    }
}

/// The network operations a runner needs; the real one is [`net::SystemProber`].
pub trait Prober: Sync {
    /// A TCP connection to `address`; with `greet`, the agent's greeting is read. Gives
    /// `Connected` (its `peer` the greeting's agent, or what answered instead wrapped in
    /// `WrongPeer`), `Refused`, `Unreachable`, `TimedOut` or `Error`.
    fn connect(
        &self,
        address: SocketAddr,
        greet: bool,
        timeout: Duration,
    ) -> impl Future<Output = Outcome> + Send;

    /// The A (IPv4) or AAAA (IPv6) records of `name`, asked of the cluster DNS: `Answered`,
    /// `NoRecords`, `NoSuchName`, `DnsTimeout` or `DnsError`.
    fn lookup(
        &self,
        name: &str,
        family: Family,
        timeout: Duration,
    ) -> impl Future<Output = Outcome> + Send;

    /// An ICMP echo: `Echoed`, `Unreachable`, `TimedOut` or `NotRun` (no ICMP socket here).
    fn echo(&self, address: IpAddr, timeout: Duration) -> impl Future<Output = Outcome> + Send;

    /// The path MTU test: `PathMtu`, `Unreachable` or `NotRun`.
    fn path_mtu(&self, address: IpAddr, timeout: Duration) -> impl Future<Output = Outcome> + Send;
}

/// The cluster domain from a resolv.conf's search list: Kubernetes writes
/// `NAMESPACE.svc.DOMAIN svc.DOMAIN DOMAIN` for pods of `ClusterFirst` DNS.
pub fn domain_from_resolv_conf(text: &str) -> Option<String> {
    for line in text.lines() {
        let mut words = line.split_whitespace();
        if words.next() != Some("search") {
            continue;
        }
        for word in words {
            if let Some(domain) = word.strip_prefix("svc.") {
                let domain = domain.trim_end_matches('.');
                if !domain.is_empty() {
                    return Some(domain.to_string());
                }
            }
        }
    }
    None
}

/// The nameservers of a resolv.conf, in order.
pub fn nameservers_from_resolv_conf(text: &str) -> Vec<IpAddr> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver"))
                .then(|| words.next())
                .flatten()
                .and_then(|w| w.split('%').next())
                .and_then(|w| w.parse().ok())
        })
        .collect()
}

/// The domain a runner uses: the spec's, else its resolv.conf's, else `cluster.local`.
pub fn cluster_domain(spec: &Spec, resolv_conf: Option<&str>) -> String {
    spec.cluster_domain
        .clone()
        .or_else(|| resolv_conf.and_then(domain_from_resolv_conf))
        .unwrap_or_else(|| "cluster.local".to_string())
}

fn in_prefix(prefix: Ipv6Net, addr: &IpAddr) -> bool {
    IpNet::V6(prefix).contains(addr)
}

/// Runs `tasks` (one agent's), `parallel` at a time, and collects the results in task order.
pub async fn run<P: Prober>(
    spec: &Spec,
    agent: &str,
    domain: &str,
    dns_servers: &[IpAddr],
    tasks: &[Task],
    prober: &P,
) -> AgentResults {
    use futures_util::StreamExt;
    let timeout = Duration::from_millis(spec.options.timeout_ms.max(1));
    let nat64 = spec.nat64().unwrap_or_else(well_known_nat64);
    let results: Vec<TaskResult> = futures_util::stream::iter(tasks.iter())
        .map(|task| async move {
            let start = Instant::now();
            let outcome = run_task(task, prober, timeout, nat64).await;
            TaskResult {
                id: task.id.clone(),
                outcome,
                millis: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
            }
        })
        .buffered(spec.options.parallel.max(1))
        .collect()
        .await;
    AgentResults {
        agent: agent.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        cluster_domain: domain.to_string(),
        dns_servers: dns_servers.to_vec(),
        notes: Vec::new(),
        results,
    }
}

async fn run_task<P: Prober>(
    task: &Task,
    prober: &P,
    timeout: Duration,
    nat64: Ipv6Net,
) -> Outcome {
    match &task.action {
        Action::Connect { address, peer } => {
            if address.port() == 0 {
                return Outcome::NotRun {
                    reason: format!("the Service has no {} ClusterIP", task.family),
                };
            }
            let _ = peer;
            prober.connect(*address, true, timeout).await
        }
        Action::Lookup { name, .. } => {
            let outcome = prober.lookup(name, task.family, timeout).await;
            match outcome {
                Outcome::Answered {
                    server, addresses, ..
                } => {
                    let synthesized = addresses
                        .iter()
                        .copied()
                        .filter(|a| in_prefix(nat64, a))
                        .collect();
                    Outcome::Answered {
                        server,
                        addresses,
                        synthesized,
                    }
                }
                Outcome::NoRecords { server, .. } => {
                    // Does the name have records of the other family (an IPv4-only name)?
                    let other = prober.lookup(name, task.family.other(), timeout).await;
                    Outcome::NoRecords {
                        server,
                        other_family: match other {
                            Outcome::Answered { .. } => Some(true),
                            Outcome::NoRecords { .. } | Outcome::NoSuchName { .. } => Some(false),
                            _ => None,
                        },
                    }
                }
                other => other,
            }
        }
        Action::Egress { target } => {
            let address = match resolve(&target.host, task.family, prober, timeout).await {
                Ok(a) => a,
                Err(outcome) => return outcome,
            };
            let through_nat64 = in_prefix(nat64, &address);
            let outcome = match target.port {
                Some(port) => {
                    prober
                        .connect(SocketAddr::new(address, port), false, timeout)
                        .await
                }
                None => prober.echo(address, timeout).await,
            };
            match outcome {
                Outcome::Connected { address, peer, .. } => Outcome::Connected {
                    address,
                    peer,
                    nat64: through_nat64,
                },
                Outcome::Echoed { address, .. } => Outcome::Echoed {
                    address,
                    nat64: through_nat64,
                },
                other => other,
            }
        }
        Action::PathMtu { host } => {
            let address = match resolve(host, task.family, prober, timeout).await {
                Ok(a) => a,
                Err(outcome) => return outcome,
            };
            match prober.path_mtu(address, timeout).await {
                Outcome::PathMtu(mut p) => {
                    p.nat64 = in_prefix(nat64, &address);
                    Outcome::PathMtu(p)
                }
                other => other,
            }
        }
    }
}

/// An address of the family for a host: itself, or the first DNS answer. A name without one is
/// a test that cannot be made (the DNS checks say why).
async fn resolve<P: Prober>(
    host: &Host,
    family: Family,
    prober: &P,
    timeout: Duration,
) -> Result<IpAddr, Outcome> {
    match host {
        Host::Addr(a) => Ok(*a),
        Host::Name(name) => match prober.lookup(name, family, timeout).await {
            Outcome::Answered { addresses, .. } if !addresses.is_empty() => Ok(addresses[0]),
            other => Err(Outcome::NotRun {
                reason: format!(
                    "{name} did not resolve to an {family} address ({}): see dns-external",
                    crate::cause::describe(&other)
                ),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{PathMtu, Unreachable};
    use crate::plan::{all_tasks, tests::two_nodes};
    use crate::report::{Report, Status};
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// A network where everything works, except what a test breaks: pod addresses of node b
    /// are unreachable in IPv6 when `cross_v6_broken`, and the DNS has no AAAA for the outside
    /// name.
    struct Fake {
        agents: HashMap<IpAddr, String>,
        /// The agent whose tasks run now.
        me: Mutex<String>,
        cross_v6_broken: bool,
        no_aaaa: bool,
        seen: Mutex<Vec<String>>,
    }

    impl Fake {
        fn new(spec: &Spec) -> Fake {
            let mut agents = HashMap::new();
            for a in &spec.agents {
                for ip in &a.addresses {
                    agents.insert(*ip, a.id());
                }
            }
            for s in &spec.services {
                for ip in &s.cluster_ips {
                    agents.insert(*ip, "b/pod".to_string());
                }
            }
            for n in &spec.nodes {
                for ip in &n.addresses {
                    agents
                        .entry(*ip)
                        .or_insert_with(|| format!("{}/pod", n.name));
                }
            }
            Fake {
                agents,
                me: Mutex::new(String::new()),
                cross_v6_broken: false,
                no_aaaa: false,
                seen: Mutex::new(Vec::new()),
            }
        }
    }

    impl Prober for Fake {
        async fn connect(&self, address: SocketAddr, greet: bool, _: Duration) -> Outcome {
            self.seen.lock().unwrap().push(format!("connect {address}"));
            // Node a has no IPv6 route to node b's pods: a's packets to them are lost, and b's
            // pods' answers to a never come back.
            let me = self.me.lock().unwrap().clone();
            let to = address.ip().to_string();
            if self.cross_v6_broken
                && ((me.starts_with("a/") && to.starts_with("2001:db8:20:b:"))
                    || (me.starts_with("b/") && to.starts_with("2001:db8:20:a:")))
            {
                return Outcome::TimedOut {
                    address: address.ip(),
                };
            }
            Outcome::Connected {
                address,
                peer: greet
                    .then(|| self.agents.get(&address.ip()).cloned())
                    .flatten(),
                nat64: false,
            }
        }

        async fn lookup(&self, name: &str, family: Family, _: Duration) -> Outcome {
            let server: IpAddr = "2001:db8:30::a".parse().unwrap();
            if name == "dual.example" {
                return match family {
                    Family::IPv4 => Outcome::Answered {
                        server,
                        addresses: vec!["203.0.113.130".parse().unwrap()],
                        synthesized: vec![],
                    },
                    Family::IPv6 if self.no_aaaa => Outcome::NoRecords {
                        server,
                        other_family: None,
                    },
                    Family::IPv6 => Outcome::Answered {
                        server,
                        addresses: vec!["2001:db8:40::2".parse().unwrap()],
                        synthesized: vec![],
                    },
                };
            }
            let spec = two_nodes(&[Family::IPv4, Family::IPv6], false);
            let addresses: Vec<IpAddr> = if name.starts_with("kubernetes.") {
                spec.kubernetes_ips.clone()
            } else if name.starts_with("kube6-probe-headless.") {
                spec.agents
                    .iter()
                    .filter(|a| a.kind == crate::spec::AgentKind::Pod)
                    .flat_map(|a| a.addresses.clone())
                    .collect()
            } else {
                spec.services
                    .iter()
                    .find(|s| name.starts_with(&format!("{}.", s.name)))
                    .map(|s| s.cluster_ips.clone())
                    .unwrap_or_default()
            };
            let addresses: Vec<IpAddr> = addresses
                .into_iter()
                .filter(|a| Family::of_addr(a) == family)
                .collect();
            if addresses.is_empty() {
                Outcome::NoSuchName { server }
            } else {
                Outcome::Answered {
                    server,
                    addresses,
                    synthesized: vec![],
                }
            }
        }

        async fn echo(&self, address: IpAddr, _: Duration) -> Outcome {
            Outcome::Echoed {
                address,
                nat64: false,
            }
        }

        async fn path_mtu(&self, address: IpAddr, _: Duration) -> Outcome {
            Outcome::PathMtu(PathMtu {
                address,
                link_mtu: 1500,
                path_mtu: Some(1500),
                too_big_from: None,
                too_big_mtu: None,
                small: true,
                full: true,
                nat64: false,
                tried: vec![1500],
            })
        }
    }

    fn run_all(spec: &Spec, fake: &Fake) -> Report {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let tasks = all_tasks(spec, "cluster.local");
        let mut outputs = HashMap::new();
        for agent in &spec.agents {
            let mine: Vec<Task> = tasks
                .iter()
                .filter(|t| t.from == agent.id())
                .cloned()
                .collect();
            *fake.me.lock().unwrap() = agent.id();
            let results = runtime.block_on(run(
                spec,
                &agent.id(),
                "cluster.local",
                &spec.dns_servers,
                &mine,
                fake,
            ));
            outputs.insert(agent.id(), Ok(results));
        }
        Report::build("test", spec, &tasks, &[], &outputs)
    }

    #[test]
    fn a_working_network_passes_every_cell() {
        let spec = two_nodes(&[Family::IPv4, Family::IPv6], false);
        let report = run_all(&spec, &Fake::new(&spec));
        let failures: Vec<_> = report.failures().map(|(_, c)| c.clone()).collect();
        assert!(failures.is_empty(), "{failures:#?}");
        assert_eq!(report.status, Status::Pass);
        assert!(report.totals.passed > 50, "{:?}", report.totals);
        // The outside IPv4-only address has no IPv6 test; it is not a skip either.
        assert_eq!(report.totals.skipped, 0, "{:?}", report.totals);
    }

    #[test]
    fn a_broken_cross_node_route_fails_its_cells_with_the_route_cause() {
        let spec = two_nodes(&[Family::IPv4, Family::IPv6], false);
        let mut fake = Fake::new(&spec);
        fake.cross_v6_broken = true;
        let report = run_all(&spec, &fake);
        let cross = report.check("K6P003").unwrap();
        let a_to_b = cross
            .cells
            .iter()
            .find(|c| c.from == "a/pod" && c.to == "b" && c.family == Family::IPv6)
            .unwrap();
        assert_eq!(a_to_b.status, Status::Fail);
        let cause = a_to_b.cause.as_ref().unwrap();
        assert_eq!(
            cause.kind,
            crate::cause::CauseKind::RouteMissing,
            "{cause:?}"
        );
        assert!(
            cause.message.contains("between node a and node b"),
            "{cause:?}"
        );
        // IPv4 is untouched.
        assert!(
            report.failures().all(|(_, c)| c.family == Family::IPv6),
            "only IPv6 fails"
        );
    }

    #[test]
    fn a_dns_without_aaaa_fails_the_ipv6_lookup_of_an_outside_name() {
        let spec = two_nodes(&[Family::IPv4, Family::IPv6], false);
        let mut fake = Fake::new(&spec);
        fake.no_aaaa = true;
        let report = run_all(&spec, &fake);
        let dns = report.check("K6P011").unwrap();
        let v6: Vec<_> = dns
            .cells
            .iter()
            .filter(|c| c.family == Family::IPv6)
            .collect();
        assert!(!v6.is_empty());
        // The name has A records: it is an IPv4-only name now, and without NAT64 not
        // reachable over IPv6, which is a skip, not the cluster's failure.
        assert!(v6.iter().all(|c| c.status == Status::Skip), "{v6:#?}");
        // With NAT64 expected, the missing AAAA is DNS64's failure.
        let spec = two_nodes(&[Family::IPv6], true);
        let mut fake = Fake::new(&spec);
        fake.no_aaaa = true;
        let report = run_all(&spec, &fake);
        let dns = report.check("K6P011").unwrap();
        assert!(dns.cells.iter().all(|c| c.status == Status::Fail));
        assert_eq!(
            dns.cells[0].cause.as_ref().unwrap().kind,
            crate::cause::CauseKind::NoDns64
        );
    }

    #[test]
    fn a_service_without_an_address_of_a_family_is_not_connected_to() {
        let mut spec = two_nodes(&[Family::IPv4, Family::IPv6], false);
        spec.services[2].cluster_ips.retain(IpAddr::is_ipv4);
        let fake = Fake::new(&spec);
        let report = run_all(&spec, &fake);
        assert!(
            !fake
                .seen
                .lock()
                .unwrap()
                .iter()
                .any(|s| s.contains(":0") || s.contains("[::]"))
        );
        let cell = report
            .check("K6P006")
            .unwrap()
            .cells
            .iter()
            .find(|c| c.to == "kube6-probe-dual" && c.family == Family::IPv6)
            .unwrap()
            .clone();
        assert_eq!(cell.status, Status::Fail);
        assert_eq!(
            cell.cause.unwrap().kind,
            crate::cause::CauseKind::ServiceFamily
        );
    }

    #[test]
    fn resolv_conf_gives_the_domain_and_the_servers() {
        let text = "search kube6-probe-x.svc.k8s.example svc.k8s.example k8s.example\nnameserver fd01::a\nnameserver 10.43.0.10\noptions ndots:5\n";
        assert_eq!(
            domain_from_resolv_conf(text).as_deref(),
            Some("k8s.example")
        );
        assert_eq!(
            nameservers_from_resolv_conf(text),
            vec![
                "fd01::a".parse::<IpAddr>().unwrap(),
                "10.43.0.10".parse().unwrap()
            ]
        );
        assert_eq!(domain_from_resolv_conf("search example.org\n"), None);
        let _ = Unreachable::NoRoute;
    }

    #[test]
    fn greetings_round_trip() {
        let g = Greeting {
            agent: "a/pod".into(),
            version: "0.1.0".into(),
        };
        assert_eq!(Greeting::parse(&g.line()), Some(g));
        assert_eq!(Greeting::parse("SSH-2.0-OpenSSH\r\n"), None);
    }
}
