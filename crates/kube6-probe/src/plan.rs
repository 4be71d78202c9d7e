//! The tests of a run: derived from the [`Spec`] alone, the same way by the orchestrator (which
//! expects a result for each) and by every runner (which runs its own).

use std::net::{IpAddr, SocketAddr};

use kube6_net::Family;

use crate::catalog::{self, CheckInfo};
use crate::spec::{AgentKind, External, Host, ServiceRole, Spec, agent_id, embed_ipv4};

/// Who must answer a TCP connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// This agent (`NODE/pod`, `NODE/host`).
    Agent(String),
    /// Any probe agent (behind a Service).
    AnyAgent,
}

/// What a DNS answer must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Exactly these addresses (a Service's ClusterIPs of the family).
    Exactly(Vec<IpAddr>),
    /// At least one address, each one of these (a headless Service's ready pods).
    SubsetOf(Vec<IpAddr>),
    /// At least one address (an outside name).
    Any,
}

/// What a task does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A TCP connection, and the agent's greeting when `peer` is an agent.
    Connect { address: SocketAddr, peer: Peer },
    /// A DNS query of the task's family (A for IPv4, AAAA for IPv6) to the cluster DNS.
    Lookup { name: String, answer: Answer },
    /// An outside destination: resolved in the task's family when it is a name, then a TCP
    /// connection when it has a port, an ICMP echo otherwise.
    Egress { target: External },
    /// A full-size ICMP echo with don't-fragment to an address, or a name resolved first.
    PathMtu { host: Host },
}

/// One test: one cell of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Unique in the run: `CHECK:FAMILY:FROM>TO`.
    pub id: String,
    pub check: &'static CheckInfo,
    pub family: Family,
    /// The agent that runs it (`NODE/pod`, `NODE/host`, `local`).
    pub from: String,
    /// The column of the matrix: a node name, a Service, a DNS name or an outside target.
    pub to: String,
    /// The objects involved, for failures (`pod/NS/NAME`, `service/NS/NAME`, `node/NAME`).
    pub objects: Vec<String>,
    pub action: Action,
}

fn task(
    check: &'static CheckInfo,
    family: Family,
    from: &str,
    to: String,
    objects: Vec<String>,
    action: Action,
) -> Task {
    Task {
        id: format!("{}:{}:{from}>{to}", check.id, family),
        check,
        family,
        from: from.to_string(),
        to,
        objects,
        action,
    }
}

/// The DNS name of a probe Service.
pub fn service_name(spec: &Spec, service: &str, domain: &str) -> String {
    format!("{service}.{}.svc.{domain}", spec.namespace)
}

/// Every task of the run, in a stable order.
pub fn all_tasks(spec: &Spec, domain: &str) -> Vec<Task> {
    let mut out = Vec::new();
    for agent in &spec.agents {
        out.extend(tasks_for(spec, &agent.id(), domain));
    }
    out
}

/// The tasks the agent `from` runs. `domain` is the cluster domain (the spec's, or the one the
/// runner found in its resolv.conf).
pub fn tasks_for(spec: &Spec, from: &str, domain: &str) -> Vec<Task> {
    let Some(me) = spec.agent(from) else {
        return Vec::new();
    };
    let families: Vec<Family> = spec.expect.families.clone();
    let mut out = Vec::new();
    let nodes = spec.node_names();
    let port = spec.port;
    for &family in &families {
        if me.address(family).is_none() {
            // Without an address of the family the agent cannot test it; K6P001 says why.
            continue;
        }
        match me.kind {
            AgentKind::Pod => {
                for node in &nodes {
                    if let Some(peer) = spec.agent(&agent_id(node, AgentKind::Pod))
                        && let Some(addr) = peer.address(family)
                    {
                        let check = if *node == me.node {
                            &catalog::POD_TO_POD_SAME_NODE
                        } else {
                            &catalog::POD_TO_POD_CROSS_NODE
                        };
                        out.push(task(
                            check,
                            family,
                            from,
                            node.to_string(),
                            vec![me.object.clone(), peer.object.clone()],
                            Action::Connect {
                                address: SocketAddr::new(addr, port),
                                peer: Peer::Agent(peer.id()),
                            },
                        ));
                    }
                }
                for node in &nodes {
                    if let Some(peer) = spec.agent(&agent_id(node, AgentKind::Host))
                        && let Some(addr) = peer.address(family)
                    {
                        out.push(task(
                            &catalog::POD_TO_NODE,
                            family,
                            from,
                            node.to_string(),
                            vec![me.object.clone(), format!("node/{node}")],
                            Action::Connect {
                                address: SocketAddr::new(addr, port),
                                peer: Peer::Agent(peer.id()),
                            },
                        ));
                    }
                }
                cluster_ips(spec, from, &me.object, family, &mut out);
                node_ports(spec, from, &me.object, family, &mut out);
                lookups(spec, from, family, domain, &mut out);
                egress(spec, from, &me.object, family, &mut out);
                if spec.options.mtu {
                    for node in &nodes {
                        if *node == me.node {
                            continue;
                        }
                        if let Some(peer) = spec.agent(&agent_id(node, AgentKind::Pod))
                            && let Some(addr) = peer.address(family)
                        {
                            out.push(task(
                                &catalog::PATH_MTU,
                                family,
                                from,
                                node.to_string(),
                                vec![me.object.clone(), peer.object.clone()],
                                Action::PathMtu {
                                    host: Host::Addr(addr),
                                },
                            ));
                        }
                    }
                    external_mtu(spec, from, &me.object, family, &mut out);
                }
            }
            AgentKind::Host => {
                for node in &nodes {
                    if let Some(peer) = spec.agent(&agent_id(node, AgentKind::Pod))
                        && let Some(addr) = peer.address(family)
                    {
                        out.push(task(
                            &catalog::NODE_TO_POD,
                            family,
                            from,
                            node.to_string(),
                            vec![format!("node/{}", me.node), peer.object.clone()],
                            Action::Connect {
                                address: SocketAddr::new(addr, port),
                                peer: Peer::Agent(peer.id()),
                            },
                        ));
                    }
                }
                egress(spec, from, &format!("node/{}", me.node), family, &mut out);
            }
        }
    }
    out
}

fn cluster_ips(spec: &Spec, from: &str, object: &str, family: Family, out: &mut Vec<Task>) {
    for service in &spec.services {
        let wanted = match service.role {
            ServiceRole::SingleStack(f) => f == family,
            ServiceRole::PreferDualStack => true,
            ServiceRole::Headless | ServiceRole::NodePort => false,
        };
        if !wanted {
            continue;
        }
        let svc_object = format!("service/{}/{}", spec.namespace, service.name);
        let ips: Vec<&IpAddr> = service
            .cluster_ips
            .iter()
            .filter(|ip| Family::of_addr(ip) == family)
            .collect();
        if ips.is_empty() {
            // A PreferDualStack Service without an address of an expected family: the API
            // server has no service range of it. One task without an address reports that.
            out.push(task(
                &catalog::CLUSTER_IP,
                family,
                from,
                service.name.clone(),
                vec![object.to_string(), svc_object],
                Action::Connect {
                    address: SocketAddr::new(unspecified(family), 0),
                    peer: Peer::AnyAgent,
                },
            ));
            continue;
        }
        for ip in ips {
            out.push(task(
                &catalog::CLUSTER_IP,
                family,
                from,
                service.name.clone(),
                vec![object.to_string(), svc_object.clone()],
                Action::Connect {
                    address: SocketAddr::new(*ip, spec.port),
                    peer: Peer::AnyAgent,
                },
            ));
        }
    }
}

fn node_ports(spec: &Spec, from: &str, object: &str, family: Family, out: &mut Vec<Task>) {
    let Some(service) = spec.service(ServiceRole::NodePort) else {
        return;
    };
    let Some(port) = service.node_port else {
        return;
    };
    let svc_object = format!("service/{}/{}", spec.namespace, service.name);
    let mut nodes: Vec<_> = spec.nodes.iter().collect();
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    for node in nodes {
        for addr in node
            .addresses
            .iter()
            .filter(|a| Family::of_addr(a) == family)
        {
            out.push(task(
                &catalog::NODE_PORT,
                family,
                from,
                node.name.clone(),
                vec![
                    object.to_string(),
                    svc_object.clone(),
                    format!("node/{}", node.name),
                ],
                Action::Connect {
                    address: SocketAddr::new(*addr, port),
                    peer: Peer::AnyAgent,
                },
            ));
        }
    }
}

fn lookups(spec: &Spec, from: &str, family: Family, domain: &str, out: &mut Vec<Task>) {
    for service in &spec.services {
        let name = service_name(spec, &service.name, domain);
        let svc_object = format!("service/{}/{}", spec.namespace, service.name);
        let (check, answer) = match service.role {
            ServiceRole::Headless => {
                let pods: Vec<IpAddr> = spec
                    .agents
                    .iter()
                    .filter(|a| a.kind == AgentKind::Pod)
                    .filter_map(|a| a.address(family))
                    .collect();
                if pods.is_empty() {
                    continue;
                }
                (&catalog::DNS_HEADLESS, Answer::SubsetOf(pods))
            }
            ServiceRole::SingleStack(f) if f != family => continue,
            ServiceRole::NodePort => continue,
            _ => {
                let ips: Vec<IpAddr> = service
                    .cluster_ips
                    .iter()
                    .copied()
                    .filter(|ip| Family::of_addr(ip) == family)
                    .collect();
                if ips.is_empty() {
                    continue;
                }
                (&catalog::DNS_SERVICE, Answer::Exactly(ips))
            }
        };
        out.push(task(
            check,
            family,
            from,
            name.clone(),
            vec![svc_object],
            Action::Lookup { name, answer },
        ));
    }
    let kubernetes: Vec<IpAddr> = spec
        .kubernetes_ips
        .iter()
        .copied()
        .filter(|ip| Family::of_addr(ip) == family)
        .collect();
    if !kubernetes.is_empty() {
        let name = format!("kubernetes.default.svc.{domain}");
        out.push(task(
            &catalog::DNS_KUBERNETES,
            family,
            from,
            name.clone(),
            vec!["service/default/kubernetes".to_string()],
            Action::Lookup {
                name,
                answer: Answer::Exactly(kubernetes),
            },
        ));
    }
    let mut seen = Vec::new();
    for external in &spec.externals {
        if let Host::Name(name) = &external.host {
            if seen.contains(name) {
                continue;
            }
            seen.push(name.clone());
            out.push(task(
                &catalog::DNS_EXTERNAL,
                family,
                from,
                name.clone(),
                Vec::new(),
                Action::Lookup {
                    name: name.clone(),
                    answer: Answer::Any,
                },
            ));
        }
    }
}

fn egress(spec: &Spec, from: &str, object: &str, family: Family, out: &mut Vec<Task>) {
    for external in &spec.externals {
        let (check, target) = match &external.host {
            Host::Addr(addr) if Family::of_addr(addr) == family => {
                (&catalog::EGRESS, external.clone())
            }
            // An IPv4 address from an IPv6 agent: through NAT64 when the run expects it.
            Host::Addr(IpAddr::V4(v4)) if family == Family::IPv6 => match spec.nat64() {
                Some(prefix) => (
                    &catalog::NAT64,
                    External {
                        host: Host::Addr(IpAddr::V6(embed_ipv4(prefix, *v4))),
                        port: external.port,
                    },
                ),
                None => continue,
            },
            Host::Addr(_) => continue,
            Host::Name(_) => (&catalog::EGRESS, external.clone()),
        };
        out.push(task(
            check,
            family,
            from,
            external.to_string(),
            vec![object.to_string()],
            Action::Egress { target },
        ));
    }
}

fn external_mtu(spec: &Spec, from: &str, object: &str, family: Family, out: &mut Vec<Task>) {
    let mut seen: Vec<&Host> = Vec::new();
    for external in &spec.externals {
        if seen.contains(&&external.host) {
            continue;
        }
        seen.push(&external.host);
        let host = match &external.host {
            Host::Addr(addr) if Family::of_addr(addr) == family => external.host.clone(),
            Host::Addr(_) => continue,
            Host::Name(_) => external.host.clone(),
        };
        out.push(task(
            &catalog::PATH_MTU,
            family,
            from,
            external.host.to_string(),
            vec![object.to_string()],
            Action::PathMtu { host },
        ));
    }
}

/// The agent id of `probe local`.
pub const LOCAL: &str = "local";

/// The tests of `probe local`: for each target and family, the name's A or AAAA record (for
/// names), an ICMP echo, a TCP connection where a port is given, and with `mtu` the path MTU;
/// an IPv4 address in the IPv6 family goes through NAT64 when a prefix is given. `names` are
/// resolved in every family.
pub fn local_tasks(
    targets: &[External],
    names: &[String],
    families: &[Family],
    mtu: bool,
    nat64: Option<ipnet::Ipv6Net>,
) -> Vec<Task> {
    let mut out = Vec::new();
    let mut looked_up: Vec<String> = Vec::new();
    for target in targets {
        for &family in families {
            let host = match &target.host {
                Host::Addr(a) if Family::of_addr(a) == family => target.host.clone(),
                Host::Addr(IpAddr::V4(v4)) if family == Family::IPv6 => match nat64 {
                    Some(prefix) => Host::Addr(IpAddr::V6(embed_ipv4(prefix, *v4))),
                    None => continue,
                },
                Host::Addr(_) => continue,
                Host::Name(name) => {
                    if !looked_up.contains(&format!("{family}{name}")) {
                        looked_up.push(format!("{family}{name}"));
                        out.push(task(
                            &catalog::DNS_EXTERNAL,
                            family,
                            LOCAL,
                            name.clone(),
                            Vec::new(),
                            Action::Lookup {
                                name: name.clone(),
                                answer: Answer::Any,
                            },
                        ));
                    }
                    target.host.clone()
                }
            };
            let via_nat64 = host != target.host;
            let to = target.host.to_string();
            out.push(task(
                if via_nat64 {
                    &catalog::NAT64
                } else {
                    &catalog::ICMP_ECHO
                },
                family,
                LOCAL,
                to.clone(),
                Vec::new(),
                Action::Egress {
                    target: External {
                        host: host.clone(),
                        port: None,
                    },
                },
            ));
            if let Some(port) = target.port {
                out.push(task(
                    if via_nat64 {
                        &catalog::NAT64
                    } else {
                        &catalog::EGRESS
                    },
                    family,
                    LOCAL,
                    target.to_string(),
                    Vec::new(),
                    Action::Egress {
                        target: External {
                            host: host.clone(),
                            port: Some(port),
                        },
                    },
                ));
            }
            if mtu {
                out.push(task(
                    &catalog::PATH_MTU,
                    family,
                    LOCAL,
                    to,
                    Vec::new(),
                    Action::PathMtu { host },
                ));
            }
        }
    }
    for name in names {
        for &family in families {
            if looked_up.contains(&format!("{family}{name}")) {
                continue;
            }
            looked_up.push(format!("{family}{name}"));
            out.push(task(
                &catalog::DNS_EXTERNAL,
                family,
                LOCAL,
                name.clone(),
                Vec::new(),
                Action::Lookup {
                    name: name.clone(),
                    answer: Answer::Any,
                },
            ));
        }
    }
    // Two tasks of one check for one target (an echo with and without NAT64 cannot happen,
    // but a port given twice can): keep ids unique.
    let mut seen = std::collections::HashSet::new();
    out.retain(|t| seen.insert(t.id.clone()));
    out
}

fn unspecified(family: Family) -> IpAddr {
    match family {
        Family::IPv4 => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        Family::IPv6 => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::spec::*;

    /// Two dual-stack nodes, both agents on each, the five Services, one outside name and one
    /// IPv4-only address, as the orchestrator fills the spec in.
    pub(crate) fn two_nodes(families: &[Family], nat64: bool) -> Spec {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let pick = |v4: &str, v6: &str| {
            families
                .iter()
                .map(|f| match f {
                    Family::IPv4 => ip(v4),
                    Family::IPv6 => ip(v6),
                })
                .collect::<Vec<_>>()
        };
        let agent = |node: &str, kind: AgentKind, v4: &str, v6: &str| Agent {
            node: node.into(),
            kind,
            object: format!("pod/kube6-probe-x/{kind}-{node}"),
            addresses: pick(v4, v6),
        };
        Spec {
            version: SPEC_VERSION,
            namespace: "kube6-probe-x".into(),
            cluster_domain: Some("cluster.local".into()),
            port: DEFAULT_PORT,
            expect: Expectations {
                source: ExpectationSource::Cluster,
                families: families.to_vec(),
                nat64: nat64.then(well_known_nat64),
                upstream: Vec::new(),
                pod_ranges: Vec::new(),
                notes: Vec::new(),
            },
            nodes: vec![
                NodeInfo {
                    name: "a".into(),
                    addresses: pick("192.0.2.10", "2001:db8:10::a"),
                },
                NodeInfo {
                    name: "b".into(),
                    addresses: pick("192.0.2.11", "2001:db8:10::b"),
                },
            ],
            agents: vec![
                agent("a", AgentKind::Pod, "198.51.100.2", "2001:db8:20:a::2"),
                agent("a", AgentKind::Host, "192.0.2.10", "2001:db8:10::a"),
                agent("b", AgentKind::Pod, "198.51.100.130", "2001:db8:20:b::2"),
                agent("b", AgentKind::Host, "192.0.2.11", "2001:db8:10::b"),
            ],
            services: vec![
                ServiceInfo {
                    name: "kube6-probe-ipv4".into(),
                    role: ServiceRole::SingleStack(Family::IPv4),
                    cluster_ips: vec![ip("203.0.113.4")],
                    families: vec![Family::IPv4],
                    node_port: None,
                },
                ServiceInfo {
                    name: "kube6-probe-ipv6".into(),
                    role: ServiceRole::SingleStack(Family::IPv6),
                    cluster_ips: vec![ip("2001:db8:30::6")],
                    families: vec![Family::IPv6],
                    node_port: None,
                },
                ServiceInfo {
                    name: "kube6-probe-dual".into(),
                    role: ServiceRole::PreferDualStack,
                    cluster_ips: pick("203.0.113.5", "2001:db8:30::5"),
                    families: families.to_vec(),
                    node_port: None,
                },
                ServiceInfo {
                    name: "kube6-probe-headless".into(),
                    role: ServiceRole::Headless,
                    cluster_ips: Vec::new(),
                    families: families.to_vec(),
                    node_port: None,
                },
                ServiceInfo {
                    name: "kube6-probe-nodeport".into(),
                    role: ServiceRole::NodePort,
                    cluster_ips: pick("203.0.113.7", "2001:db8:30::7"),
                    families: families.to_vec(),
                    node_port: Some(30646),
                },
            ],
            kubernetes_ips: pick("203.0.113.1", "2001:db8:30::1"),
            dns_servers: pick("203.0.113.10", "2001:db8:30::a"),
            externals: vec![
                "dual.example:80".parse().unwrap(),
                "203.0.113.130:80".parse().unwrap(),
            ],
            options: Options::default(),
        }
    }

    fn count(tasks: &[Task], check: &CheckInfo, family: Family) -> usize {
        tasks
            .iter()
            .filter(|t| t.check.id == check.id && t.family == family)
            .count()
    }

    #[test]
    fn a_pod_agent_tests_every_peer_service_name_and_target_per_family() {
        let spec = two_nodes(&[Family::IPv6, Family::IPv4], false);
        let tasks = tasks_for(&spec, "a/pod", "cluster.local");
        for f in [Family::IPv4, Family::IPv6] {
            assert_eq!(count(&tasks, &catalog::POD_TO_POD_SAME_NODE, f), 1);
            assert_eq!(count(&tasks, &catalog::POD_TO_POD_CROSS_NODE, f), 1);
            assert_eq!(count(&tasks, &catalog::POD_TO_NODE, f), 2);
            // The single-stack Service of the family and the dual-stack one.
            assert_eq!(count(&tasks, &catalog::CLUSTER_IP, f), 2);
            assert_eq!(count(&tasks, &catalog::NODE_PORT, f), 2);
            assert_eq!(count(&tasks, &catalog::DNS_SERVICE, f), 2);
            assert_eq!(count(&tasks, &catalog::DNS_HEADLESS, f), 1);
            assert_eq!(count(&tasks, &catalog::DNS_KUBERNETES, f), 1);
            assert_eq!(count(&tasks, &catalog::DNS_EXTERNAL, f), 1);
        }
        // To the other node's pod, and to each outside host of the family.
        assert_eq!(count(&tasks, &catalog::PATH_MTU, Family::IPv4), 3);
        assert_eq!(count(&tasks, &catalog::PATH_MTU, Family::IPv6), 2);
        // The IPv4-only address is an IPv4 test only: no NAT64 expected.
        assert_eq!(count(&tasks, &catalog::EGRESS, Family::IPv4), 2);
        assert_eq!(count(&tasks, &catalog::EGRESS, Family::IPv6), 1);
        assert_eq!(count(&tasks, &catalog::NAT64, Family::IPv6), 0);
        let mut ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before, "task ids are unique");
        let same = tasks
            .iter()
            .find(|t| t.check.id == "K6P002" && t.family == Family::IPv6)
            .unwrap();
        assert_eq!(same.id, "K6P002:IPv6:a/pod>a");
        assert_eq!(
            same.action,
            Action::Connect {
                address: "[2001:db8:20:a::2]:9646".parse().unwrap(),
                peer: Peer::Agent("a/pod".into())
            }
        );
    }

    #[test]
    fn an_ipv6_only_run_with_nat64_reaches_ipv4_addresses_through_the_prefix() {
        let spec = two_nodes(&[Family::IPv6], true);
        let tasks = tasks_for(&spec, "b/pod", "cluster.local");
        assert!(tasks.iter().all(|t| t.family == Family::IPv6));
        let nat64: Vec<&Task> = tasks.iter().filter(|t| t.check.id == "K6P013").collect();
        assert_eq!(nat64.len(), 1);
        assert_eq!(
            nat64[0].action,
            Action::Egress {
                target: "[64:ff9b::cb00:7182]:80".parse().unwrap()
            }
        );
        assert_eq!(nat64[0].to, "203.0.113.130:80");
    }

    #[test]
    fn a_host_agent_tests_the_pods_of_every_node_and_egress() {
        let spec = two_nodes(&[Family::IPv4, Family::IPv6], false);
        let tasks = tasks_for(&spec, "a/host", "cluster.local");
        for f in [Family::IPv4, Family::IPv6] {
            assert_eq!(count(&tasks, &catalog::NODE_TO_POD, f), 2);
        }
        assert_eq!(count(&tasks, &catalog::EGRESS, Family::IPv4), 2);
        assert!(
            tasks
                .iter()
                .all(|t| ["K6P005", "K6P012"].contains(&t.check.id))
        );
        assert!(tasks_for(&spec, "nobody/pod", "cluster.local").is_empty());
    }

    #[test]
    fn an_agent_without_an_address_of_a_family_runs_nothing_in_it() {
        let mut spec = two_nodes(&[Family::IPv4, Family::IPv6], false);
        spec.agents[0].addresses.retain(IpAddr::is_ipv4);
        let tasks = tasks_for(&spec, "a/pod", "cluster.local");
        assert!(tasks.iter().all(|t| t.family == Family::IPv4));
        // Others still test it in IPv6... they cannot: it has no IPv6 address to test.
        let b = tasks_for(&spec, "b/pod", "cluster.local");
        assert_eq!(count(&b, &catalog::POD_TO_POD_CROSS_NODE, Family::IPv6), 0);
        assert_eq!(count(&b, &catalog::POD_TO_POD_CROSS_NODE, Family::IPv4), 1);
    }

    #[test]
    fn local_tasks_cover_every_target_and_family() {
        let targets: Vec<External> = vec![
            "dual.example:443".parse().unwrap(),
            "192.0.2.7".parse().unwrap(),
            "2001:db8::7:22".parse().unwrap(),
        ];
        let both = [Family::IPv4, Family::IPv6];
        let tasks = local_tasks(&targets, &["only.example".into()], &both, true, None);
        let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
        assert!(ids.contains(&"K6P011:IPv4:local>dual.example"), "{ids:#?}");
        assert!(ids.contains(&"K6P011:IPv6:local>dual.example"));
        assert!(ids.contains(&"K6P015:IPv6:local>dual.example"));
        assert!(ids.contains(&"K6P012:IPv6:local>dual.example:443"));
        assert!(ids.contains(&"K6P014:IPv4:local>192.0.2.7"));
        assert!(
            !ids.iter()
                .any(|i| i.starts_with("K6P015:IPv6:local>192.0.2.7"))
        );
        assert!(ids.contains(&"K6P011:IPv6:local>only.example"));
        // An IPv4 address over IPv6 through NAT64, when a prefix is given.
        let tasks = local_tasks(
            &targets,
            &[],
            &[Family::IPv6],
            false,
            Some(crate::spec::well_known_nat64()),
        );
        let nat = tasks.iter().find(|t| t.to == "192.0.2.7").unwrap();
        assert_eq!(nat.check.id, "K6P013");
        assert_eq!(
            nat.action,
            Action::Egress {
                target: "64:ff9b::c000:207".parse().unwrap()
            }
        );
    }

    #[test]
    fn a_dual_stack_service_without_an_address_of_a_family_still_gets_a_task() {
        let mut spec = two_nodes(&[Family::IPv4, Family::IPv6], false);
        spec.services[2].cluster_ips.retain(IpAddr::is_ipv4);
        let tasks = tasks_for(&spec, "a/pod", "cluster.local");
        let t = tasks
            .iter()
            .find(|t| {
                t.check.id == "K6P006" && t.to == "kube6-probe-dual" && t.family == Family::IPv6
            })
            .unwrap();
        assert!(matches!(&t.action, Action::Connect { address, .. } if address.port() == 0));
    }
}
