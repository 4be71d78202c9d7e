//! Running the probe in a cluster: a namespace of its own (unique name, labelled), the two agent
//! DaemonSets (pod network, host network; every taint tolerated, so control-plane nodes take
//! part), the Services in front of the pod agents, then one short-lived runner pod per agent
//! (pinned to the agent's node and network, with the spec mounted from a ConfigMap) whose log
//! holds its results, and the clean-up: always, on success, failure, timeout and interruption.
//!
//! The API calls sit behind [`Api`] (JSON in, JSON out): kube-rs implements it for a live
//! cluster (`live` feature), and tests drive the same code against a local API server.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use kube6_net::Family;
use serde_json::{Value, json};

use crate::outcome::AgentResults;
use crate::plan;
use crate::report::{AgentState, Report, RunnerOutput};
use crate::spec::{
    self, Agent, AgentKind, Expectations, External, NodeInfo, Options, ServiceInfo, ServiceRole,
    Spec,
};

/// `app.kubernetes.io/name` of everything the probe creates.
pub const NAME: &str = "kube6-probe";
/// The label `--cleanup` looks for: `app.kubernetes.io/managed-by=kube6` with the name above.
pub const SELECTOR: &str = "app.kubernetes.io/name=kube6-probe,app.kubernetes.io/managed-by=kube6";
/// The label that tells the probe's pods apart: `agent-pod`, `agent-host`, `runner`.
pub const ROLE: &str = "kube6.dev/probe-role";
/// The annotation naming the agent a runner runs for.
pub const AGENT_ANNOTATION: &str = "kube6.dev/probe-agent";
/// Where runners find the spec.
pub const SPEC_DIR: &str = "/etc/kube6-probe";
pub const SPEC_KEY: &str = "spec.json";

/// An API request that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{method} {path}: {message}")]
pub struct ApiError {
    pub method: &'static str,
    pub path: String,
    /// The HTTP status (0 when the server was not reached).
    pub code: u16,
    pub message: String,
}

/// `outer: inner: innermost`, for errors of other crates.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut cause = err.source();
    while let Some(e) = cause {
        let text = e.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = e.source();
    }
    line
}

/// The API operations the probe needs. Paths are the API server's (`/api/v1/namespaces`);
/// objects are JSON as the API server sends and takes them.
pub trait Api: Sync {
    /// `POST` an object to a collection; the API server's answer (with generated names, cluster
    /// IPs, node ports filled in).
    fn create(
        &self,
        path: &str,
        object: &Value,
    ) -> impl Future<Output = Result<Value, ApiError>> + Send;
    /// `GET` an object or a list (`?labelSelector=...` in the path).
    fn get(&self, path: &str) -> impl Future<Output = Result<Value, ApiError>> + Send;
    /// `DELETE` an object; one already gone is not an error.
    fn delete(&self, path: &str) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// A pod's log (`/api/v1/namespaces/NS/pods/NAME/log`), as text.
    fn logs(
        &self,
        namespace: &str,
        pod: &str,
    ) -> impl Future<Output = Result<String, ApiError>> + Send;
}

/// What the run is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOptions {
    /// The agent image (`kube6 probe agent` is its command).
    pub image: String,
    pub image_pull_policy: Option<String>,
    pub port: u16,
    /// How long to wait for the agents to become ready, and then for the runners to finish.
    pub wait: Duration,
    /// How often to look (2 s against a cluster).
    pub poll: Duration,
    pub externals: Vec<External>,
    /// The cluster domain, when known (the plan's); else each runner takes it from its
    /// resolv.conf.
    pub cluster_domain: Option<String>,
    pub tests: Options,
    /// Leave the namespace behind (for debugging).
    pub keep: bool,
}

/// What happens, for a progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Created {
        what: String,
    },
    /// Waiting for agents or runners: how many are done of how many, and since when.
    Waiting {
        what: &'static str,
        done: usize,
        total: usize,
        elapsed: Duration,
    },
    /// Gave up waiting; the report says for which.
    TimedOut {
        what: &'static str,
    },
    CleanedUp {
        namespace: String,
    },
    Kept {
        namespace: String,
    },
}

/// Why a run could not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot read the cluster")]
    Read(#[source] ApiError),
    #[error(
        "cannot create the probe's {what} (see docs/probe.md for the permissions the probe needs)"
    )]
    Create {
        what: String,
        #[source]
        source: ApiError,
    },
    #[error("interrupted; the probe's namespace {namespace} was {cleanup}")]
    Interrupted { namespace: String, cleanup: String },
    #[error("the cluster has no nodes")]
    NoNodes,
}

/// The result of a run: the report, and the clean-up's outcome.
#[derive(Debug)]
pub struct Finished {
    pub report: Report,
    pub namespace: String,
    /// An error deleting the namespace (the report is still good).
    pub cleanup_error: Option<ApiError>,
}

/// How expectations are made once the cluster is read.
#[derive(Debug, Clone)]
pub enum Expect {
    /// From a plan (`--plan`).
    Plan(Expectations),
    /// From the cluster, with NAT64 expected when a prefix is given (`--nat64-prefix`).
    Infer { nat64: Option<ipnet::Ipv6Net> },
}

fn labels(role: Option<&str>) -> Value {
    let mut l = json!({
        "app.kubernetes.io/name": NAME,
        "app.kubernetes.io/managed-by": "kube6",
    });
    if let Some(role) = role {
        l[ROLE] = json!(role);
    }
    l
}

/// The IPs of a node as Kubernetes takes them (`GetNodeHostIPs`, kubernetes/kubernetes
/// pkg/util/node/node.go): its InternalIPs, then its ExternalIPs; every one of them is a NodePort
/// address kube-proxy may serve, so all are kept, InternalIPs first.
pub fn node_info(node: &Value) -> Option<NodeInfo> {
    let name = node["metadata"]["name"].as_str()?.to_string();
    let mut addresses: Vec<IpAddr> = Vec::new();
    let list = node["status"]["addresses"].as_array();
    for wanted in ["InternalIP", "ExternalIP"] {
        for a in list.into_iter().flatten() {
            if a["type"] == wanted
                && let Some(ip) = a["address"].as_str().and_then(|s| s.parse::<IpAddr>().ok())
                && !addresses.contains(&ip)
            {
                // ExternalIPs only for families the InternalIPs lack: a cloud's public address
                // is often NAT in front of the node, not reachable from inside.
                if wanted == "ExternalIP"
                    && addresses
                        .iter()
                        .any(|x| Family::of_addr(x) == Family::of_addr(&ip))
                {
                    continue;
                }
                addresses.push(ip);
            }
        }
    }
    Some(NodeInfo { name, addresses })
}

/// Whether a node's Ready condition is True.
fn node_ready(node: &Value) -> bool {
    node["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

fn ips(value: &Value) -> Vec<IpAddr> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().or_else(|| v["ip"].as_str()))
        .filter_map(|s| s.parse().ok())
        .collect()
}

fn items(list: &Value) -> impl Iterator<Item = &Value> {
    list["items"].as_array().into_iter().flatten()
}

/// A pod as the probe sees it: node, readiness, addresses, and why it is not ready.
pub fn pod_state(pod: &Value, kind: AgentKind) -> Option<AgentState> {
    let node = pod["spec"]["nodeName"].as_str()?.to_string();
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let ready = pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True");
    let mut addresses = ips(&pod["status"]["podIPs"]);
    if addresses.is_empty()
        && let Some(ip) = pod["status"]["podIP"].as_str().and_then(|s| s.parse().ok())
    {
        addresses.push(ip);
    }
    let problem = (!ready).then(|| pod_problem(pod));
    Some(AgentState {
        node,
        kind,
        object: Some(format!("pod/{ns}/{name}")),
        ready,
        addresses,
        problem,
    })
}

/// Why a pod is not ready, from its container statuses and conditions.
fn pod_problem(pod: &Value) -> String {
    for status in pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for state in ["waiting", "terminated"] {
            let s = &status["state"][state];
            if let Some(reason) = s["reason"].as_str() {
                return match s["message"].as_str() {
                    Some(m) if !m.is_empty() => format!("{reason}: {m}"),
                    _ => reason.to_string(),
                };
            }
        }
    }
    for c in pod["status"]["conditions"].as_array().into_iter().flatten() {
        if c["status"] == "False"
            && let Some(m) = c["message"].as_str().or_else(|| c["reason"].as_str())
        {
            return m.to_string();
        }
    }
    match pod["status"]["phase"].as_str() {
        Some(phase) => format!("phase {phase}"),
        None => "not ready".to_string(),
    }
}

fn security_context() -> Value {
    // Root in the container for CAP_NET_RAW (raw ICMP when ping sockets are not allowed);
    // nothing else: no privilege escalation, a read-only root file system.
    json!({
        "runAsUser": 0,
        "allowPrivilegeEscalation": false,
        "readOnlyRootFilesystem": true,
        "capabilities": {"drop": ["ALL"], "add": ["NET_RAW"]},
    })
}

fn agent_container(options: &RunOptions, args: Vec<String>) -> Value {
    let mut c = json!({
        "name": "agent",
        "image": options.image,
        "args": args,
        "env": [
            {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        ],
        "securityContext": security_context(),
        "resources": {
            "requests": {"cpu": "10m", "memory": "16Mi"},
            "limits": {"memory": "128Mi"},
        },
    });
    if let Some(policy) = &options.image_pull_policy {
        c["imagePullPolicy"] = json!(policy);
    }
    c
}

/// One of the agent DaemonSets.
pub fn daemonset(kind: AgentKind, options: &RunOptions) -> Value {
    let role = format!("agent-{kind}");
    let mut container = agent_container(
        options,
        vec![
            "probe".into(),
            "agent".into(),
            "serve".into(),
            "--agent".into(),
            format!("$(NODE_NAME)/{kind}"),
            "--port".into(),
            options.port.to_string(),
        ],
    );
    container["ports"] =
        json!([{"name": "probe", "containerPort": options.port, "protocol": "TCP"}]);
    container["readinessProbe"] = json!({
        "tcpSocket": {"port": options.port},
        "periodSeconds": 2,
        "failureThreshold": 1,
    });
    let mut pod_spec = json!({
        "containers": [container],
        "tolerations": [{"operator": "Exists"}],
        "automountServiceAccountToken": false,
        "terminationGracePeriodSeconds": 1,
        "enableServiceLinks": false,
    });
    if kind == AgentKind::Host {
        pod_spec["hostNetwork"] = json!(true);
        pod_spec["dnsPolicy"] = json!("ClusterFirstWithHostNet");
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": format!("{NAME}-{kind}"), "labels": labels(Some(&role))},
        "spec": {
            "selector": {"matchLabels": {ROLE: role}},
            "template": {
                "metadata": {"labels": labels(Some(&role))},
                "spec": pod_spec,
            },
        },
    })
}

/// The Services in front of the pod agents, with the role each plays. Single-stack ones only
/// for the expected families (the API server refuses a family it has no range of).
pub fn services(families: &[Family], port: u16) -> Vec<(ServiceRole, Value)> {
    let mut out = Vec::new();
    let svc = |name: &str, spec: Value| {
        let mut spec = spec;
        spec["selector"] = json!({ROLE: "agent-pod"});
        spec["ports"] =
            json!([{"name": "probe", "port": port, "targetPort": port, "protocol": "TCP"}]);
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "labels": labels(None)},
            "spec": spec,
        })
    };
    for f in families {
        let name = match f {
            Family::IPv4 => "kube6-probe-ipv4",
            Family::IPv6 => "kube6-probe-ipv6",
        };
        out.push((
            ServiceRole::SingleStack(*f),
            svc(
                name,
                json!({"ipFamilyPolicy": "SingleStack", "ipFamilies": [f.as_str()]}),
            ),
        ));
    }
    out.push((
        ServiceRole::PreferDualStack,
        svc(
            "kube6-probe-dual",
            json!({"ipFamilyPolicy": "PreferDualStack"}),
        ),
    ));
    out.push((
        ServiceRole::Headless,
        svc(
            "kube6-probe-headless",
            json!({"clusterIP": "None", "ipFamilyPolicy": "PreferDualStack"}),
        ),
    ));
    out.push((
        ServiceRole::NodePort,
        svc(
            "kube6-probe-nodeport",
            json!({"type": "NodePort", "ipFamilyPolicy": "PreferDualStack"}),
        ),
    ));
    out
}

/// A Service as the API server filled it in.
pub fn service_info(role: ServiceRole, svc: &Value) -> ServiceInfo {
    let spec = &svc["spec"];
    ServiceInfo {
        name: svc["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        role,
        cluster_ips: ips(&spec["clusterIPs"]),
        families: spec["ipFamilies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| match f.as_str() {
                Some("IPv4") => Some(Family::IPv4),
                Some("IPv6") => Some(Family::IPv6),
                _ => None,
            })
            .collect(),
        node_port: spec["ports"][0]["nodePort"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok()),
    }
}

/// The runner pod for one agent: pinned to its node (and network), the spec mounted.
pub fn runner(agent: &Agent, options: &RunOptions, deadline: Duration) -> Value {
    let kind = agent.kind;
    let container = agent_container(
        options,
        vec![
            "probe".into(),
            "agent".into(),
            "run".into(),
            "--spec".into(),
            format!("{SPEC_DIR}/{SPEC_KEY}"),
            "--agent".into(),
            agent.id(),
        ],
    );
    let mut container = container;
    container["volumeMounts"] = json!([{"name": "spec", "mountPath": SPEC_DIR, "readOnly": true}]);
    let mut pod_spec = json!({
        "nodeName": agent.node,
        "restartPolicy": "Never",
        "containers": [container],
        "volumes": [{"name": "spec", "configMap": {"name": format!("{NAME}-spec")}}],
        "tolerations": [{"operator": "Exists"}],
        "automountServiceAccountToken": false,
        "terminationGracePeriodSeconds": 1,
        "enableServiceLinks": false,
        "activeDeadlineSeconds": deadline.as_secs().max(30),
    });
    if kind == AgentKind::Host {
        pod_spec["hostNetwork"] = json!(true);
        pod_spec["dnsPolicy"] = json!("ClusterFirstWithHostNet");
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": format!("{NAME}-run-{kind}-"),
            "labels": labels(Some("runner")),
            "annotations": {AGENT_ANNOTATION: agent.id()},
        },
        "spec": pod_spec,
    })
}

fn create_err(what: impl Into<String>) -> impl FnOnce(ApiError) -> RunError {
    let what = what.into();
    move |source| RunError::Create { what, source }
}

/// Waits until one ready agent of each kind runs on every node, or `limit` passes.
async fn wait_agents<A: Api>(
    api: &A,
    path: &str,
    nodes: &[NodeInfo],
    options: &RunOptions,
    progress: &mut (dyn FnMut(Event) + Send),
) -> Result<HashMap<(String, AgentKind), AgentState>, ApiError> {
    let start = Instant::now();
    let total = nodes.len() * 2;
    loop {
        let list = api.get(path).await?;
        let mut states: HashMap<(String, AgentKind), AgentState> = HashMap::new();
        for pod in items(&list) {
            let kind = match pod["metadata"]["labels"][ROLE].as_str() {
                Some("agent-pod") => AgentKind::Pod,
                Some("agent-host") => AgentKind::Host,
                _ => continue,
            };
            if let Some(state) = pod_state(pod, kind) {
                let key = (state.node.clone(), kind);
                // A ready pod wins over one being replaced.
                if states.get(&key).is_none_or(|s| !s.ready) {
                    states.insert(key, state);
                }
            }
        }
        let ready = nodes
            .iter()
            .flat_map(|n| [AgentKind::Pod, AgentKind::Host].map(|k| (n.name.clone(), k)))
            .filter(|key| states.get(key).is_some_and(|s| s.ready))
            .count();
        progress(Event::Waiting {
            what: "agents ready",
            done: ready,
            total,
            elapsed: start.elapsed(),
        });
        if ready == total {
            return Ok(states);
        }
        if start.elapsed() >= options.wait {
            progress(Event::TimedOut {
                what: "agents ready",
            });
            return Ok(states);
        }
        tokio::time::sleep(options.poll).await;
    }
}

/// A finished runner: its agent, pod name and phase.
type FinishedRunner = (String, String, String);

/// Waits until `want` runner pods have finished (Succeeded or Failed), or `limit` passes.
async fn wait_runners<A: Api>(
    api: &A,
    path: &str,
    want: usize,
    options: &RunOptions,
    progress: &mut (dyn FnMut(Event) + Send),
) -> Result<Vec<FinishedRunner>, ApiError> {
    let start = Instant::now();
    loop {
        let list = api.get(path).await?;
        let finished: Vec<FinishedRunner> = items(&list)
            .filter_map(|pod| {
                let phase = pod["status"]["phase"].as_str()?;
                if phase != "Succeeded" && phase != "Failed" {
                    return None;
                }
                Some((
                    pod["metadata"]["annotations"][AGENT_ANNOTATION]
                        .as_str()?
                        .to_string(),
                    pod["metadata"]["name"].as_str()?.to_string(),
                    phase.to_string(),
                ))
            })
            .collect();
        progress(Event::Waiting {
            what: "runners finished",
            done: finished.len(),
            total: want,
            elapsed: start.elapsed(),
        });
        if finished.len() >= want {
            return Ok(finished);
        }
        if start.elapsed() >= options.wait {
            progress(Event::TimedOut {
                what: "runners finished",
            });
            return Ok(finished);
        }
        tokio::time::sleep(options.poll).await;
    }
}

/// The probe in a cluster: everything from reading it to cleaning up. `cancel` resolves when
/// the user interrupts (Ctrl-C, SIGTERM): the namespace is removed and the run ends with
/// [`RunError::Interrupted`].
pub async fn run<A: Api>(
    api: &A,
    origin: &str,
    options: &RunOptions,
    expect: Expect,
    progress: &mut (dyn FnMut(Event) + Send),
    cancel: impl Future<Output = ()>,
) -> Result<Finished, RunError> {
    // Reading first: nothing to clean up if it fails.
    let nodes_list = api.get("/api/v1/nodes").await.map_err(RunError::Read)?;
    let mut nodes: Vec<NodeInfo> = items(&nodes_list).filter_map(node_info).collect();
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    if nodes.is_empty() {
        return Err(RunError::NoNodes);
    }
    let not_ready: Vec<String> = items(&nodes_list)
        .filter(|n| !node_ready(n))
        .filter_map(|n| n["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    let kubernetes_ips = match api
        .get("/api/v1/namespaces/default/services/kubernetes")
        .await
    {
        Ok(svc) => ips(&svc["spec"]["clusterIPs"]),
        Err(e) if e.code == 404 || e.code == 403 => Vec::new(),
        Err(e) => return Err(RunError::Read(e)),
    };
    let dns_servers = match api
        .get("/api/v1/namespaces/kube-system/services/kube-dns")
        .await
    {
        Ok(svc) => ips(&svc["spec"]["clusterIPs"]),
        Err(e) if e.code == 404 || e.code == 403 => Vec::new(),
        Err(e) => return Err(RunError::Read(e)),
    };
    let expectations = match expect {
        Expect::Plan(e) => e,
        Expect::Infer { nat64 } => Expectations::infer(&kubernetes_ips, &nodes, nat64),
    };

    let namespace_object = json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "generateName": format!("{NAME}-"),
            "labels": {
                "app.kubernetes.io/name": NAME,
                "app.kubernetes.io/managed-by": "kube6",
                // hostNetwork agents and NET_RAW: the privileged Pod Security level.
                "pod-security.kubernetes.io/enforce": "privileged",
                "pod-security.kubernetes.io/warn": "privileged",
            },
        },
    });
    let created = api
        .create("/api/v1/namespaces", &namespace_object)
        .await
        .map_err(create_err("namespace"))?;
    let namespace = created["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    progress(Event::Created {
        what: format!("namespace/{namespace}"),
    });

    let work = in_namespace(
        api,
        origin,
        options,
        &namespace,
        nodes,
        &not_ready,
        kubernetes_ips,
        dns_servers,
        expectations,
        progress,
    );
    let outcome = tokio::select! {
        r = work => Some(r),
        () = cancel => None,
    };
    // Clean-up, whatever happened (unless asked to keep it).
    let cleanup = if options.keep && outcome.is_some() {
        progress(Event::Kept {
            namespace: namespace.clone(),
        });
        Ok(())
    } else {
        api.delete(&format!("/api/v1/namespaces/{namespace}")).await
    };
    if cleanup.is_ok() && !(options.keep && outcome.is_some()) {
        progress(Event::CleanedUp {
            namespace: namespace.clone(),
        });
    }
    match outcome {
        None => Err(RunError::Interrupted {
            namespace,
            cleanup: match cleanup {
                Ok(()) => "deleted".to_string(),
                Err(e) => {
                    format!("not deleted ({e}): run `kube6 probe --cleanup` to remove what is left")
                }
            },
        }),
        Some(Err(e)) => Err(e),
        Some(Ok(report)) => Ok(Finished {
            report,
            namespace,
            cleanup_error: cleanup.err(),
        }),
    }
}

#[allow(clippy::too_many_arguments)]
async fn in_namespace<A: Api>(
    api: &A,
    origin: &str,
    options: &RunOptions,
    namespace: &str,
    nodes: Vec<NodeInfo>,
    not_ready: &[String],
    kubernetes_ips: Vec<IpAddr>,
    dns_servers: Vec<IpAddr>,
    expectations: Expectations,
    progress: &mut (dyn FnMut(Event) + Send),
) -> Result<Report, RunError> {
    let ns_path = format!("/api/v1/namespaces/{namespace}");
    let mut service_infos = Vec::new();
    for (role, svc) in services(&expectations.families, options.port) {
        let name = svc["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        match api.create(&format!("{ns_path}/services"), &svc).await {
            Ok(created) => {
                progress(Event::Created {
                    what: format!("service/{name}"),
                });
                service_infos.push(service_info(role, &created));
            }
            // A family the API server has no service range of: the Service is refused, and
            // the cluster-ip check reports it.
            Err(e) if e.code == 422 && matches!(role, ServiceRole::SingleStack(_)) => {
                service_infos.push(ServiceInfo {
                    name,
                    role,
                    cluster_ips: Vec::new(),
                    families: Vec::new(),
                    node_port: None,
                });
            }
            Err(e) => return Err(create_err(format!("service/{name}"))(e)),
        }
    }
    for kind in [AgentKind::Pod, AgentKind::Host] {
        let ds = daemonset(kind, options);
        api.create(
            &format!("/apis/apps/v1/namespaces/{namespace}/daemonsets"),
            &ds,
        )
        .await
        .map_err(create_err(format!("daemonset/{NAME}-{kind}")))?;
        progress(Event::Created {
            what: format!("daemonset/{NAME}-{kind}"),
        });
    }

    // Wait for one ready agent of each kind on every node.
    let pods_path = format!("{ns_path}/pods?labelSelector={ROLE}%20in%20(agent-pod,agent-host)");
    let states = wait_agents(api, &pods_path, &nodes, options, progress)
        .await
        .map_err(RunError::Read)?;
    let mut agent_states: Vec<AgentState> = Vec::new();
    for node in &nodes {
        for kind in [AgentKind::Pod, AgentKind::Host] {
            let state = states
                .get(&(node.name.clone(), kind))
                .cloned()
                .unwrap_or_else(|| AgentState {
                    node: node.name.clone(),
                    kind,
                    object: None,
                    ready: false,
                    addresses: Vec::new(),
                    problem: Some(if not_ready.contains(&node.name) {
                        "no agent pod: the node is NotReady".to_string()
                    } else {
                        "no agent pod was scheduled on this node".to_string()
                    }),
                });
            agent_states.push(state);
        }
    }
    let agents: Vec<Agent> = agent_states
        .iter()
        .filter(|s| s.ready)
        .map(|s| Agent {
            node: s.node.clone(),
            kind: s.kind,
            object: s.object.clone().unwrap_or_default(),
            addresses: s.addresses.clone(),
        })
        .collect();

    let spec = Spec {
        version: spec::SPEC_VERSION,
        namespace: namespace.to_string(),
        cluster_domain: options.cluster_domain.clone(),
        port: options.port,
        expect: expectations,
        nodes,
        agents,
        services: service_infos,
        kubernetes_ips,
        dns_servers,
        externals: options.externals.clone(),
        options: options.tests.clone(),
    };
    let configmap = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": format!("{NAME}-spec"), "labels": labels(None)},
        "data": {SPEC_KEY: spec.to_json()},
    });
    api.create(&format!("{ns_path}/configmaps"), &configmap)
        .await
        .map_err(create_err("configmap with the spec"))?;

    // One runner per ready agent.
    for agent in &spec.agents {
        let pod = runner(agent, options, options.wait);
        api.create(&format!("{ns_path}/pods"), &pod)
            .await
            .map_err(create_err(format!("runner pod for {}", agent.id())))?;
    }
    let runners_path = format!("{ns_path}/pods?labelSelector={ROLE}%3Drunner");
    let want = spec.agents.len();
    let finished = wait_runners(api, &runners_path, want, options, progress)
        .await
        .map_err(RunError::Read)?;
    let mut outputs: HashMap<String, RunnerOutput> = HashMap::new();
    for (agent, pod, phase) in finished {
        let output = match api.logs(namespace, &pod).await {
            Ok(log) => match AgentResults::from_log(&log) {
                Some(Ok(r)) => Ok(r),
                Some(Err(e)) => Err(format!("its results are not readable: {e}")),
                None => Err(format!(
                    "pod/{namespace}/{pod} ({phase}) printed no results{}",
                    log.lines()
                        .last()
                        .map(|l| format!(": {}", l.chars().take(200).collect::<String>()))
                        .unwrap_or_default()
                )),
            },
            Err(e) => Err(format!("cannot read the log of pod/{namespace}/{pod}: {e}")),
        };
        outputs.insert(agent, output);
    }
    for agent in &spec.agents {
        outputs.entry(agent.id()).or_insert_with(|| {
            Err(format!(
                "its runner did not finish within {} s",
                options.wait.as_secs()
            ))
        });
    }
    let domain = spec
        .cluster_domain
        .clone()
        .or_else(|| {
            outputs
                .values()
                .find_map(|o| o.as_ref().ok().map(|r| r.cluster_domain.clone()))
        })
        .unwrap_or_else(|| "cluster.local".to_string());
    let tasks = plan::all_tasks(&spec, &domain);
    Ok(Report::build(
        origin,
        &spec,
        &tasks,
        &agent_states,
        &outputs,
    ))
}

/// `kube6 probe --cleanup`: deletes every namespace an earlier run left behind (found by its
/// labels), and returns their names. Namespaces already being deleted are listed too.
pub async fn cleanup<A: Api>(api: &A) -> Result<Vec<String>, ApiError> {
    let selector = SELECTOR.replace('=', "%3D").replace(',', "%2C");
    let list = api
        .get(&format!("/api/v1/namespaces?labelSelector={selector}"))
        .await?;
    let mut names = Vec::new();
    for ns in items(&list) {
        if let Some(name) = ns["metadata"]["name"].as_str() {
            api.delete(&format!("/api/v1/namespaces/{name}")).await?;
            names.push(name.to_string());
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_addresses_are_internal_first_and_external_only_for_a_missing_family() {
        let node = json!({
            "metadata": {"name": "n1"},
            "status": {"addresses": [
                {"type": "Hostname", "address": "n1"},
                {"type": "ExternalIP", "address": "203.0.113.9"},
                {"type": "ExternalIP", "address": "2001:db8::9"},
                {"type": "InternalIP", "address": "192.0.2.9"},
            ]},
        });
        let info = node_info(&node).unwrap();
        assert_eq!(info.name, "n1");
        assert_eq!(
            info.addresses,
            vec![
                "192.0.2.9".parse::<IpAddr>().unwrap(),
                "2001:db8::9".parse().unwrap()
            ]
        );
    }

    #[test]
    fn a_pod_that_is_not_ready_says_why() {
        let pod = json!({
            "metadata": {"name": "p", "namespace": "ns"},
            "spec": {"nodeName": "n1"},
            "status": {
                "phase": "Pending",
                "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
                "containerStatuses": [{"state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"x\""}}}],
            },
        });
        let s = pod_state(&pod, AgentKind::Pod).unwrap();
        assert!(!s.ready);
        assert_eq!(s.object.as_deref(), Some("pod/ns/p"));
        assert_eq!(
            s.problem.as_deref(),
            Some("ImagePullBackOff: Back-off pulling image \"x\"")
        );
        let ready = json!({
            "metadata": {"name": "p", "namespace": "ns"},
            "spec": {"nodeName": "n1"},
            "status": {
                "conditions": [{"type": "Ready", "status": "True"}],
                "podIPs": [{"ip": "2001:db8::5"}, {"ip": "192.0.2.5"}],
            },
        });
        let s = pod_state(&ready, AgentKind::Host).unwrap();
        assert!(s.ready && s.problem.is_none());
        assert_eq!(s.addresses.len(), 2);
    }

    #[test]
    fn the_services_are_single_stack_per_expected_family_plus_the_others() {
        let svcs = services(&[Family::IPv6], 9646);
        let names: Vec<&str> = svcs
            .iter()
            .map(|(_, s)| s["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "kube6-probe-ipv6",
                "kube6-probe-dual",
                "kube6-probe-headless",
                "kube6-probe-nodeport"
            ]
        );
        assert!(
            svcs.iter()
                .all(|(_, s)| s["spec"]["selector"][ROLE] == "agent-pod")
        );
        assert_eq!(svcs[2].1["spec"]["clusterIP"], "None");
        assert_eq!(svcs[3].1["spec"]["type"], "NodePort");
    }

    #[test]
    fn agents_tolerate_every_taint_and_runners_are_pinned_to_their_node() {
        let options = RunOptions {
            image: "registry.example/kube6:1".into(),
            image_pull_policy: None,
            port: 9646,
            wait: Duration::from_secs(60),
            poll: Duration::from_secs(2),
            externals: vec![],
            cluster_domain: None,
            tests: Options::default(),
            keep: false,
        };
        let ds = daemonset(AgentKind::Host, &options);
        let pod = &ds["spec"]["template"]["spec"];
        assert_eq!(pod["tolerations"], json!([{"operator": "Exists"}]));
        assert_eq!(pod["hostNetwork"], true);
        assert_eq!(pod["dnsPolicy"], "ClusterFirstWithHostNet");
        assert_eq!(
            pod["containers"][0]["args"][4], "$(NODE_NAME)/host",
            "the kubelet expands the node name"
        );
        let agent = Agent {
            node: "cp-1".into(),
            kind: AgentKind::Pod,
            object: "pod/x/y".into(),
            addresses: vec![],
        };
        let r = runner(&agent, &options, Duration::from_secs(60));
        assert_eq!(r["spec"]["nodeName"], "cp-1");
        assert_eq!(r["spec"]["restartPolicy"], "Never");
        assert!(r["spec"].get("hostNetwork").is_none());
        assert_eq!(r["metadata"]["annotations"][AGENT_ANNOTATION], "cp-1/pod");
    }
}
