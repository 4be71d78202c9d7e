//! Following Services, EndpointSlices and Cilium's leases through the API with kube-rs
//! watchers (list, then watch from the list's resourceVersion; re-list when the server says the
//! version is gone; retried with back-off on errors), and handing the addresses this node
//! announces to the daemon whenever they change.

use std::collections::{BTreeMap, HashSet};
use std::net::Ipv6Addr;
use std::sync::Arc;

use futures_util::{StreamExt, stream};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::runtime::watcher::{self, Event};
use kube::runtime::{WatchStreamExt, watcher as watch};
use kube6_ndp::{Election, Metrics};
use tracing::{debug, info, warn};

use super::{Announcer, Applied, ServiceKey};

/// Objects per list page (kubectl's default chunk size): what one response holds at most.
pub const PAGE_SIZE: u32 = 500;

/// The addresses answered, with the Services they are answered for.
pub type Answers = BTreeMap<Ipv6Addr, Vec<ServiceKey>>;

enum Update {
    // Boxed: a Service is several times the size of the other objects.
    Service(Box<Result<Event<Service>, watcher::Error>>),
    Slice(Result<Event<EndpointSlice>, watcher::Error>),
    Lease(Result<Event<Lease>, watcher::Error>),
}

/// Which resource an update is about (for logs and the sync state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Services,
    EndpointSlices,
    Leases,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Services => "services",
            Kind::EndpointSlices => "endpointslices",
            Kind::Leases => "leases",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The watch loop's state: the followed objects, the lists being re-read, and what was last
/// handed to the daemon.
struct Follower {
    announcer: Announcer,
    /// A re-list in progress per kind (objects collected until `InitDone` replaces the
    /// followed ones at once, so answers for unchanged addresses never drop).
    staging: [Option<Announcer>; 3],
    /// Listed at least once since the start.
    listed: [bool; 3],
    /// Followed kinds (leases only with Cilium's election).
    wanted: [bool; 3],
    published: Option<Answers>,
    overflow_warned: [bool; 3],
    metrics: Arc<Metrics>,
}

impl Follower {
    fn new(announcer: Announcer, metrics: Arc<Metrics>) -> Follower {
        let leases = announcer.election == Election::CiliumLease;
        Follower {
            announcer,
            staging: [None, None, None],
            listed: [false; 3],
            wanted: [true, true, leases],
            published: None,
            overflow_warned: [false; 3],
            metrics,
        }
    }

    fn synced(&self) -> bool {
        (0..3).all(|i| !self.wanted[i] || (self.listed[i] && self.staging[i].is_none()))
    }

    fn target(&mut self, kind: Kind) -> &mut Announcer {
        match &mut self.staging[kind.index()] {
            Some(staging) => staging,
            None => &mut self.announcer,
        }
    }

    fn applied(&mut self, kind: Kind, result: Applied, name: Option<&str>) {
        if result == Applied::Overflow {
            self.metrics.watch_overflows.inc();
            if !self.overflow_warned[kind.index()] {
                self.overflow_warned[kind.index()] = true;
                warn!(
                    resource = kind.as_str(),
                    name = name.unwrap_or_default(),
                    max_services = self.announcer.max_services,
                    "too many objects to follow; further ones are not answered for (raise \
                     watch.max-services for Services)"
                );
            }
        }
    }

    fn begin(&mut self, kind: Kind) {
        // Only the map of the resource being re-read is filled in the staging copy.
        self.staging[kind.index()] = Some(self.announcer.empty_like());
        self.overflow_warned[kind.index()] = false;
    }

    fn done(&mut self, kind: Kind) {
        if let Some(staging) = self.staging[kind.index()].take() {
            match kind {
                Kind::Services => self.announcer.services = staging.services,
                Kind::EndpointSlices => self.announcer.slices = staging.slices,
                Kind::Leases => self.announcer.leases = staging.leases,
            }
        }
        self.listed[kind.index()] = true;
        debug!(resource = kind.as_str(), "listed");
    }

    fn error(&mut self, kind: Kind, error: &watcher::Error) {
        self.metrics.watch_errors.inc();
        self.metrics.watch_synced.set(0);
        warn!(
            resource = kind.as_str(),
            error = %crate::exit::Chain(error),
            "watching the API failed; retrying with back-off, the current answers stay"
        );
    }

    fn handle(&mut self, update: Update) {
        match update {
            Update::Service(result) if result.is_err() => {
                if let Err(e) = *result {
                    self.error(Kind::Services, &e);
                }
            }
            Update::Slice(Err(e)) => self.error(Kind::EndpointSlices, &e),
            Update::Lease(Err(e)) => self.error(Kind::Leases, &e),
            Update::Service(result) => {
                let Ok(event) = *result else { return };
                let kind = Kind::Services;
                match event {
                    Event::Init => self.begin(kind),
                    Event::InitDone => self.done(kind),
                    Event::Apply(s) | Event::InitApply(s) => {
                        let result = self.target(kind).apply_service(&s);
                        self.applied(kind, result, s.metadata.name.as_deref());
                    }
                    Event::Delete(s) => self.target(kind).delete_service(&s),
                }
            }
            Update::Slice(Ok(event)) => {
                let kind = Kind::EndpointSlices;
                match event {
                    Event::Init => self.begin(kind),
                    Event::InitDone => self.done(kind),
                    Event::Apply(s) | Event::InitApply(s) => {
                        let result = self.target(kind).apply_slice(&s);
                        self.applied(kind, result, s.metadata.name.as_deref());
                    }
                    Event::Delete(s) => self.target(kind).delete_slice(&s),
                }
            }
            Update::Lease(Ok(event)) => {
                let kind = Kind::Leases;
                match event {
                    Event::Init => self.begin(kind),
                    Event::InitDone => self.done(kind),
                    Event::Apply(l) | Event::InitApply(l) => {
                        let result = self.target(kind).apply_lease(&l);
                        self.applied(kind, result, l.metadata.name.as_deref());
                    }
                    Event::Delete(l) => self.target(kind).delete_lease(&l),
                }
            }
        }
    }

    /// The answers to hand over, when they changed (and every followed kind has been listed:
    /// before that, nothing is answered rather than a partial view).
    fn changes(&mut self) -> Option<Answers> {
        if !self.synced() {
            return None;
        }
        self.metrics.watch_synced.set(1);
        let now = self.announcer.announced();
        if self.published.as_ref() == Some(&now) {
            return None;
        }
        let before = self.published.take().unwrap_or_default();
        for (address, services) in &now {
            if before.get(address) != Some(services) {
                let names: Vec<String> = services.iter().map(ToString::to_string).collect();
                info!(%address, services = %names.join(","), "answering for a load-balancer address announced from this node");
            }
        }
        for (address, services) in &before {
            if !now.contains_key(address) {
                let why: Vec<String> = services
                    .iter()
                    .map(|key| match self.announcer.services.get(key) {
                        None => format!("{key}: gone or without this address"),
                        Some(view) => format!("{key}: {:?}", self.announcer.decide(key, view)),
                    })
                    .collect();
                info!(%address, why = %why.join("; "), "no longer answering for a load-balancer address");
            }
        }
        self.published = Some(now.clone());
        Some(now)
    }
}

/// Follows the API until the streams end (they do not: errors are retried), calling `publish`
/// with the full answer set each time it changes.
pub async fn follow<F>(
    client: kube::Client,
    announcer: Announcer,
    metrics: Arc<Metrics>,
    mut publish: F,
) where
    F: FnMut(&Answers),
{
    let config = watch::Config::default().page_size(PAGE_SIZE);
    let lease_namespace = announcer.lease_namespace.clone();
    let mut streams = vec![
        watch(Api::<Service>::all(client.clone()), config.clone())
            .default_backoff()
            .map(|r| Update::Service(Box::new(r)))
            .boxed(),
        watch(Api::<EndpointSlice>::all(client.clone()), config.clone())
            .default_backoff()
            .map(Update::Slice)
            .boxed(),
    ];
    if announcer.election == Election::CiliumLease {
        streams.push(
            watch(Api::<Lease>::namespaced(client, &lease_namespace), config)
                .default_backoff()
                .map(Update::Lease)
                .boxed(),
        );
    }
    let mut all = stream::select_all(streams);
    let mut follower = Follower::new(announcer, metrics);
    while let Some(update) = all.next().await {
        follower.handle(update);
        if let Some(answers) = follower.changes() {
            publish(&answers);
        }
    }
}

/// Runs [`follow`] on its own thread (a single-threaded runtime), handing each new answer set
/// to the daemon. The client is built first, so a kubeconfig that cannot be used is an error
/// before the proxy starts.
pub fn spawn(
    options: &kube6_verify::live::Options,
    announcer: Announcer,
    control: kube6_ndp::Control,
    metrics: Arc<Metrics>,
) -> Result<std::thread::JoinHandle<()>, anyhow::Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (client, cluster) = runtime.block_on(kube6_verify::live::client(options))?;
    info!(
        %cluster,
        node = %announcer.node,
        election = %announcer.election,
        pools = %announcer.pools.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
        "following LoadBalancer Services through the API"
    );
    let thread = std::thread::Builder::new()
        .name("ndp-watch".into())
        .spawn(move || {
            runtime.block_on(follow(client, announcer, metrics, |answers| {
                let set: HashSet<Ipv6Addr> = answers.keys().copied().collect();
                control.set_watched(set);
            }));
        })?;
    Ok(thread)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use kube6_testnet::kube_api::{ApiServer, ClusterShape, FakeKubelet};
    use serde_json::{Value, json};

    use super::*;

    fn server() -> ApiServer {
        let shape = ClusterShape {
            families: vec![kube6_net::Family::IPv6, kube6_net::Family::IPv4],
            nodes: vec![
                ("worker-1".into(), vec!["2001:db8:30::a1".parse().unwrap()]),
                ("worker-2".into(), vec!["2001:db8:30::a2".parse().unwrap()]),
            ],
            dns: Vec::new(),
        };
        ApiServer::start(
            shape,
            Arc::new(FakeKubelet::new(|_, _| String::new())),
            None,
        )
    }

    fn service(name: &str, policy: &str, ips: &[&str]) -> Value {
        let ingress: Vec<Value> = ips
            .iter()
            .map(|ip| json!({"ip": ip, "ipMode": "VIP"}))
            .collect();
        json!({
            "metadata": {"name": name, "namespace": "shop", "uid": format!("uid-{name}")},
            "spec": {"type": "LoadBalancer", "externalTrafficPolicy": policy,
                     "ipFamilies": ["IPv6", "IPv4"], "ipFamilyPolicy": "PreferDualStack",
                     "clusterIP": "2001:db8:1:0:1::4d2", "clusterIPs": ["2001:db8:1:0:1::4d2", "10.96.4.210"],
                     "ports": [{"port": 443, "protocol": "TCP", "targetPort": 8443, "nodePort": 31443}],
                     "selector": {"app": name}},
            "status": {"loadBalancer": if ingress.is_empty() { json!({}) } else { json!({"ingress": ingress}) }},
        })
    }

    fn slice(name: &str, service: &str, endpoints: &[(&str, bool)]) -> Value {
        json!({
            "metadata": {"name": name, "namespace": "shop",
                          "labels": {"kubernetes.io/service-name": service,
                                     "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
            "addressType": "IPv6",
            "endpoints": endpoints.iter().enumerate().map(|(i, (node, ready))| json!({
                "addresses": [format!("2001:db8:1:a::{:x}", 0x10 + i)],
                "conditions": {"ready": ready, "serving": ready, "terminating": false},
                "nodeName": node,
                "targetRef": {"kind": "Pod", "namespace": "shop", "name": format!("{service}-{i}")},
            })).collect::<Vec<_>>(),
            "ports": [{"port": 8443, "protocol": "TCP"}],
        })
    }

    fn lease(service: &str, holder: &str) -> Value {
        json!({
            "metadata": {"name": format!("cilium-l2announce-shop-{service}"), "namespace": "kube-system"},
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15, "leaseTransitions": 0,
                     "acquireTime": "2026-11-24T10:00:00.000000Z", "renewTime": "2026-11-24T10:00:05.000000Z"},
        })
    }

    /// Waits until the last published answer set is `want`; returns every set published on the
    /// way (to check that unchanged addresses were never dropped).
    fn wait_for(
        rx: &mpsc::Receiver<Vec<String>>,
        last: &mut Vec<String>,
        want: &[&str],
    ) -> Vec<Vec<String>> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        while *last != want {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(set) => {
                    seen.push(set.clone());
                    *last = set;
                }
                Err(_) => panic!("the answers stayed {last:?}, expected {want:?}"),
            }
        }
        seen
    }

    fn start(
        server: &ApiServer,
        election: Election,
        node: &str,
    ) -> (mpsc::Receiver<Vec<String>>, Arc<Metrics>) {
        let settings = kube6_ndp::WatchSettings {
            election,
            ..Default::default()
        };
        let announcer = Announcer::new(
            &settings,
            node.to_string(),
            vec!["2001:db8:5::ff00/120".parse().unwrap()],
        );
        let options = kube6_verify::live::Options {
            kubeconfig: Some(server.kubeconfig()),
            ..Default::default()
        };
        let metrics = Arc::new(Metrics::default());
        let (tx, rx) = mpsc::channel();
        let thread_metrics = metrics.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let (client, _) = kube6_verify::live::client(&options).await.unwrap();
                follow(client, announcer, thread_metrics, |answers| {
                    let set: Vec<String> = answers.keys().map(ToString::to_string).collect();
                    let _ = tx.send(set);
                })
                .await;
            });
        });
        (rx, metrics)
    }

    #[test]
    fn answers_follow_services_leases_and_endpoints_through_the_api() {
        let server = server();
        // Objects before the start: listed, not watched.
        server.apply("services", service("web", "Cluster", &[]));
        server.apply(
            "services",
            service("elsewhere", "Cluster", &["2001:db8:6::10"]),
        );
        let (rx, metrics) = start(&server, Election::CiliumLease, "worker-1");
        let mut last = vec!["(nothing published)".to_string()];
        wait_for(&rx, &mut last, &[]);
        assert_eq!(metrics.watch_synced.get(), 1);

        // The Service gets its address from LB-IPAM, then Cilium elects this node.
        server.apply(
            "services",
            service("web", "Cluster", &["2001:db8:5::ff10", "192.0.2.70"]),
        );
        server.apply("leases", lease("web", "worker-1"));
        wait_for(&rx, &mut last, &["2001:db8:5::ff10"]);

        // A Local Service elected here answers once it has a ready endpoint here; web's answer
        // never drops meanwhile.
        server.apply("services", service("api", "Local", &["2001:db8:5::ff20"]));
        server.apply("leases", lease("api", "worker-1"));
        server.apply(
            "endpointslices",
            slice("api-9zq7d", "api", &[("worker-2", true)]),
        );
        server.apply(
            "endpointslices",
            slice(
                "api-9zq7d",
                "api",
                &[("worker-2", true), ("worker-1", true)],
            ),
        );
        let seen = wait_for(&rx, &mut last, &["2001:db8:5::ff10", "2001:db8:5::ff20"]);
        assert!(
            seen.iter()
                .all(|s| s.contains(&"2001:db8:5::ff10".to_string())),
            "{seen:?}"
        );

        // The endpoint here stops being ready: api's answer goes, web's stays.
        server.apply(
            "endpointslices",
            slice(
                "api-9zq7d",
                "api",
                &[("worker-2", true), ("worker-1", false)],
            ),
        );
        wait_for(&rx, &mut last, &["2001:db8:5::ff10"]);

        // web moves to another node, and back after the watches break (an API server restart).
        server.apply("leases", lease("web", "worker-2"));
        wait_for(&rx, &mut last, &[]);
        server.break_watches();
        server.apply("leases", lease("web", "worker-1"));
        wait_for(&rx, &mut last, &["2001:db8:5::ff10"]);

        // The API fails for a while: the answers stay, the errors are counted, and what changed
        // meanwhile is seen once it answers again.
        server.fail("GET /api/v1/services");
        server.break_watches();
        let deadline = Instant::now() + Duration::from_secs(20);
        while metrics.watch_errors.get() == 0 {
            assert!(Instant::now() < deadline, "no API error was counted");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            rx.try_recv().is_err(),
            "the answers changed while the API failed"
        );
        server.apply("services", service("web", "Cluster", &["2001:db8:5::ff11"]));
        server.heal();
        wait_for(&rx, &mut last, &["2001:db8:5::ff11"]);

        // Deleted: no answer.
        server.remove("services", "shop", "web");
        wait_for(&rx, &mut last, &[]);
        let requests = server.requests();
        assert!(
            requests.iter().any(|r| r
                .starts_with("GET /apis/coordination.k8s.io/v1/namespaces/kube-system/leases?")),
            "{requests:?}"
        );
        assert!(
            requests.iter().any(|r| r.contains("watch=true")),
            "{requests:?}"
        );
    }

    #[test]
    fn without_an_elector_every_node_answers_cluster_services_and_reads_no_leases() {
        let server = server();
        server.apply("services", service("web", "Cluster", &["2001:db8:5::ff10"]));
        let (rx, _) = start(&server, Election::None, "worker-2");
        let mut last = vec!["(nothing published)".to_string()];
        wait_for(&rx, &mut last, &["2001:db8:5::ff10"]);
        server.apply("services", service("web", "Local", &["2001:db8:5::ff10"]));
        wait_for(&rx, &mut last, &[]);
        server.apply(
            "endpointslices",
            slice("web-1", "web", &[("worker-2", true)]),
        );
        wait_for(&rx, &mut last, &["2001:db8:5::ff10"]);
        assert!(!server.requests().iter().any(|r| r.contains("leases")));
    }
}
