//! A small Kubernetes API server for the probe's orchestration tests: HTTPS on 127.0.0.1 with a
//! CA made for the test, bearer-token authentication, authorization by the rules of a
//! ClusterRole (the one docs/probe.md documents: a request it does not allow is refused with
//! 403 and recorded), and the behaviour of the objects the probe uses: namespaces with
//! `generateName` and label selectors, Services with ClusterIPs and node ports allocated per
//! `ipFamilyPolicy`, DaemonSets that place one pod on every node, pods whose status and logs come
//! from a [`Kubelet`], ConfigMaps, and namespace deletion that removes everything in it.
//!
//! Watchable resources for `kube6 ndp-proxy`'s watch mode: Services (cluster-wide),
//! EndpointSlices and Leases, listed with a `resourceVersion` and watched
//! (`?watch=true&resourceVersion=N`) as a chunked stream of `ADDED`/`MODIFIED`/`DELETED`
//! events, as the API server sends them; the test changes them with [`ApiServer::apply`] and
//! [`ApiServer::remove`], and can cut every open watch with [`ApiServer::break_watches`].
//!
//! Two kubelets: [`FakeKubelet`] (no processes: agents become ready or not as the test says, and
//! runners print results the test makes) and [`NetKubelet`] (processes in the
//! [`crate::probe::ProbeNet`] namespaces: pods attached by the CNI plugin, agents and runners
//! running the real `kube6 probe agent`, Services as nftables DNAT, names in the cluster DNS).

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};

pub const TOKEN: &str = "kube6-probe-test-token";

/// What a kubelet says about a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodPhase {
    /// Not started: the container waits (`ImagePullBackOff`, ...).
    Waiting {
        reason: String,
        message: String,
    },
    Running {
        ready: bool,
    },
    Succeeded,
    Failed,
}

/// Runs pods for the API server.
pub trait Kubelet: Send + Sync {
    /// Starts a pod on `node`; `files` are the ConfigMap files mounted into it (mount path →
    /// content). Returns the pod's IPs.
    fn run_pod(
        &self,
        namespace: &str,
        name: &str,
        node: &str,
        pod: &Value,
        files: &HashMap<String, String>,
    ) -> Vec<IpAddr>;
    fn phase(&self, namespace: &str, name: &str) -> PodPhase;
    fn log(&self, namespace: &str, name: &str) -> String;
    /// Services or their endpoints changed in a namespace.
    fn services(&self, namespace: &str, services: &[Value], pods: &[Value]);
    fn namespace_deleted(&self, namespace: &str);
}

/// A rule of a ClusterRole.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    #[serde(default)]
    pub api_groups: Vec<String>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub verbs: Vec<String>,
}

/// The rules of the ClusterRole in a YAML file (the other documents in it are skipped).
pub fn cluster_role_rules(path: &Path) -> Vec<Rule> {
    #[derive(serde::Deserialize)]
    struct Doc {
        kind: String,
        #[serde(default)]
        rules: Vec<Rule>,
    }
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let docs: Vec<Doc> = serde_saphyr::from_multiple(&text)
        .unwrap_or_else(|e| panic!("{} is not YAML documents: {e}", path.display()));
    docs.into_iter()
        .filter(|d| d.kind == "ClusterRole")
        .flat_map(|d| d.rules)
        .collect()
}

/// The rules of every ClusterRole and Role in a YAML file (a Role's namespace is not checked:
/// the server authorizes by resource and verb).
pub fn rbac_rules(path: &Path) -> Vec<Rule> {
    #[derive(serde::Deserialize)]
    struct Doc {
        kind: String,
        #[serde(default)]
        rules: Vec<Rule>,
    }
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let docs: Vec<Doc> = serde_saphyr::from_multiple(&text)
        .unwrap_or_else(|e| panic!("{} is not YAML documents: {e}", path.display()));
    docs.into_iter()
        .filter(|d| d.kind == "ClusterRole" || d.kind == "Role")
        .flat_map(|d| d.rules)
        .collect()
}

/// The cluster the server pretends to be.
pub struct ClusterShape {
    /// Families, primary first.
    pub families: Vec<kube6_net::Family>,
    /// Nodes: name and InternalIPs.
    pub nodes: Vec<(String, Vec<IpAddr>)>,
    /// kube-dns's ClusterIPs (none: no kube-dns Service).
    pub dns: Vec<IpAddr>,
}

#[derive(Default)]
struct Store {
    namespaces: BTreeMap<String, Value>,
    /// (namespace, resource, name) → object.
    objects: BTreeMap<(String, String, String), Value>,
    next_name: u32,
    next_ip4: u32,
    next_ip6: u32,
    next_port: u16,
    /// The last resourceVersion given out (watchable resources).
    resource_version: u64,
    /// Every change of a watchable resource: (resourceVersion, resource, namespace, type,
    /// object).
    events: Vec<(u64, String, String, &'static str, Value)>,
    /// Bumped by [`ApiServer::break_watches`]: open watches end when it changes.
    watch_epoch: u64,
}

/// The resources [`ApiServer::apply`] takes, with their apiVersion and kind.
const WATCHABLE: [(&str, &str, &str); 3] = [
    ("services", "v1", "Service"),
    ("endpointslices", "discovery.k8s.io/v1", "EndpointSlice"),
    ("leases", "coordination.k8s.io/v1", "Lease"),
];

fn watchable(resource: &str) -> Option<(&'static str, &'static str)> {
    WATCHABLE
        .iter()
        .find(|(r, _, _)| *r == resource)
        .map(|(_, v, k)| (*v, *k))
}

struct State {
    shape: ClusterShape,
    kubelet: Arc<dyn Kubelet>,
    rules: Option<Vec<Rule>>,
    store: Mutex<Store>,
    requests: Mutex<Vec<String>>,
    forbidden: Mutex<Vec<String>>,
    /// Fail requests whose "METHOD path" starts with one of these with 500.
    fail: Mutex<Vec<String>>,
    stop: AtomicBool,
}

/// A running API server; stopped on drop.
pub struct ApiServer {
    pub port: u16,
    pub dir: tempfile::TempDir,
    state: Arc<State>,
    thread: Option<JoinHandle<()>>,
}

fn status(code: u16, reason: &str, message: &str) -> (u16, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": reason, "code": code}),
    )
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `labels` match a label selector (`k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k`).
pub fn selects(selector: &str, labels: &Value) -> bool {
    let mut terms = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in selector.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    terms.push(current);
    terms
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .all(|term| {
            if let Some((k, rest)) = term.split_once(" in ") {
                let values: Vec<&str> = rest
                    .trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .split(',')
                    .map(str::trim)
                    .collect();
                return labels[k.trim()]
                    .as_str()
                    .is_some_and(|v| values.contains(&v));
            }
            if let Some((k, v)) = term.split_once("!=") {
                return labels[k.trim()].as_str() != Some(v.trim());
            }
            if let Some((k, v)) = term.split_once('=') {
                let v = v.trim_start_matches('=');
                return labels[k.trim()].as_str() == Some(v.trim());
            }
            labels.get(term).is_some()
        })
}

/// (apiGroup, resource with subresource, namespace, name) of a request path.
fn parse_path(path: &str) -> Option<(String, String, Option<String>, Option<String>)> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, rest) = match parts.as_slice() {
        ["api", "v1", rest @ ..] => (String::new(), rest),
        ["apis", group, _version, rest @ ..] => ((*group).to_string(), rest),
        _ => return None,
    };
    match rest {
        ["namespaces", ns, resource, name, sub] => Some((
            group,
            format!("{resource}/{sub}"),
            Some((*ns).to_string()),
            Some((*name).to_string()),
        )),
        ["namespaces", ns, resource, name] => Some((
            group,
            (*resource).to_string(),
            Some((*ns).to_string()),
            Some((*name).to_string()),
        )),
        ["namespaces", ns, resource] => Some((
            group,
            (*resource).to_string(),
            Some((*ns).to_string()),
            None,
        )),
        [resource, name] => Some((
            group,
            (*resource).to_string(),
            None,
            Some((*name).to_string()),
        )),
        [resource] => Some((group, (*resource).to_string(), None, None)),
        _ => None,
    }
}

impl State {
    fn allowed(
        &self,
        method: &str,
        group: &str,
        resource: &str,
        has_name: bool,
        watch: bool,
    ) -> bool {
        let Some(rules) = &self.rules else {
            return true;
        };
        let verb = match (method, has_name) {
            ("GET", false) if watch => "watch",
            ("GET", true) => "get",
            ("GET", false) => "list",
            ("POST", _) => "create",
            ("DELETE", _) => "delete",
            ("PUT", _) => "update",
            ("PATCH", _) => "patch",
            _ => "unknown",
        };
        rules.iter().any(|r| {
            (r.api_groups.iter().any(|g| g == group || g == "*"))
                && r.resources.iter().any(|x| x == resource || x == "*")
                && r.verbs.iter().any(|v| v == verb || v == "*")
        })
    }

    fn cluster_objects(&self) -> Vec<((String, String, String), Value)> {
        let mut out = Vec::new();
        let families: Vec<&str> = self.shape.families.iter().map(|f| f.as_str()).collect();
        let first_ip = |f: kube6_net::Family| -> IpAddr {
            match f {
                kube6_net::Family::IPv4 => "203.0.113.1".parse().unwrap_or(IpAddr::from([0; 4])),
                kube6_net::Family::IPv6 => {
                    "2001:db8:30::1".parse().unwrap_or(IpAddr::from([0; 16]))
                }
            }
        };
        let ips: Vec<String> = self
            .shape
            .families
            .iter()
            .map(|f| first_ip(*f).to_string())
            .collect();
        out.push((
            ("default".into(), "services".into(), "kubernetes".into()),
            json!({"metadata": {"name": "kubernetes", "namespace": "default"},
                   "spec": {"clusterIP": ips[0], "clusterIPs": ips, "ipFamilies": families,
                            "ipFamilyPolicy": if families.len() > 1 {"RequireDualStack"} else {"SingleStack"}}}),
        ));
        if !self.shape.dns.is_empty() {
            let dns: Vec<String> = self.shape.dns.iter().map(IpAddr::to_string).collect();
            out.push((
                ("kube-system".into(), "services".into(), "kube-dns".into()),
                json!({"metadata": {"name": "kube-dns", "namespace": "kube-system"},
                       "spec": {"clusterIP": dns[0], "clusterIPs": dns}}),
            ));
        }
        out
    }

    fn node_objects(&self) -> Vec<Value> {
        self.shape
            .nodes
            .iter()
            .map(|(name, ips)| {
                json!({
                    "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
                    "spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]},
                    "status": {
                        "addresses": ips.iter().map(|ip| json!({"type": "InternalIP", "address": ip.to_string()}))
                            .chain(std::iter::once(json!({"type": "Hostname", "address": name})))
                            .collect::<Vec<_>>(),
                        "conditions": [{"type": "Ready", "status": "True"}],
                    },
                })
            })
            .collect()
    }

    fn allocate_ip(&self, store: &mut Store, family: kube6_net::Family) -> String {
        match family {
            kube6_net::Family::IPv4 => {
                store.next_ip4 += 1;
                format!("203.0.113.{}", 10 + store.next_ip4)
            }
            kube6_net::Family::IPv6 => {
                store.next_ip6 += 1;
                format!("2001:db8:30::{:x}", 0x10 + store.next_ip6)
            }
        }
    }

    fn pod_view(&self, pod: &Value) -> Value {
        let mut pod = pod.clone();
        let ns = pod["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
        let phase = self.kubelet.phase(&ns, &name);
        let (phase_text, ready, container) = match &phase {
            PodPhase::Waiting { reason, message } => (
                "Pending",
                false,
                json!({"name": "agent", "ready": false, "state": {"waiting": {"reason": reason, "message": message}}}),
            ),
            PodPhase::Running { ready } => (
                "Running",
                *ready,
                json!({"name": "agent", "ready": ready, "state": {"running": {}}}),
            ),
            PodPhase::Succeeded => (
                "Succeeded",
                false,
                json!({"name": "agent", "ready": false, "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}),
            ),
            PodPhase::Failed => (
                "Failed",
                false,
                json!({"name": "agent", "ready": false, "state": {"terminated": {"reason": "Error", "exitCode": 1}}}),
            ),
        };
        pod["status"]["phase"] = json!(phase_text);
        pod["status"]["conditions"] =
            json!([{"type": "Ready", "status": if ready {"True"} else {"False"}}]);
        pod["status"]["containerStatuses"] = json!([container]);
        pod
    }

    /// Starts a pod: stores it and hands it to the kubelet.
    fn start_pod(&self, store: &mut Store, ns: &str, mut pod: Value) -> Value {
        let name = match pod["metadata"]["name"].as_str() {
            Some(n) => n.to_string(),
            None => {
                store.next_name += 1;
                format!(
                    "{}{:05x}",
                    pod["metadata"]["generateName"].as_str().unwrap_or("pod-"),
                    0x1000 + store.next_name
                )
            }
        };
        pod["metadata"]["name"] = json!(name);
        pod["metadata"]["namespace"] = json!(ns);
        let node = pod["spec"]["nodeName"].as_str().unwrap_or("").to_string();
        // ConfigMap volumes, as files under their mount paths.
        let mut files = HashMap::new();
        let volumes = pod["spec"]["volumes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for mount in pod["spec"]["containers"][0]["volumeMounts"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let vol = volumes.iter().find(|v| v["name"] == mount["name"]);
            let cm = vol.and_then(|v| v["configMap"]["name"].as_str());
            let path = mount["mountPath"].as_str().unwrap_or("/");
            if let Some(cm) = cm
                && let Some(obj) =
                    store
                        .objects
                        .get(&(ns.to_string(), "configmaps".to_string(), cm.to_string()))
            {
                for (k, v) in obj["data"].as_object().into_iter().flatten() {
                    files.insert(format!("{path}/{k}"), v.as_str().unwrap_or("").to_string());
                }
            }
        }
        let ips = self.kubelet.run_pod(ns, &name, &node, &pod, &files);
        if !ips.is_empty() {
            pod["status"]["podIP"] = json!(ips[0].to_string());
            pod["status"]["podIPs"] = json!(
                ips.iter()
                    .map(|ip| json!({"ip": ip.to_string()}))
                    .collect::<Vec<_>>()
            );
        }
        store
            .objects
            .insert((ns.to_string(), "pods".to_string(), name), pod.clone());
        pod
    }

    fn sync_services(&self, store: &Store, ns: &str) {
        let services: Vec<Value> = store
            .objects
            .iter()
            .filter(|((n, r, _), _)| n == ns && r == "services")
            .map(|(_, v)| v.clone())
            .collect();
        let pods: Vec<Value> = store
            .objects
            .iter()
            .filter(|((n, r, _), _)| n == ns && r == "pods")
            .map(|(_, v)| v.clone())
            .collect();
        self.kubelet.services(ns, &services, &pods);
    }

    fn handle(&self, method: &str, target: &str, body: &[u8]) -> (u16, Value) {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let params: HashMap<String, String> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), decode(v)))
            .collect();
        if self
            .fail
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|f| format!("{method} {path}").starts_with(f.as_str()))
        {
            return status(500, "InternalError", "the test made this request fail");
        }
        let Some((group, resource, ns, name)) = parse_path(path) else {
            return status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            );
        };
        let watch = matches!(params.get("watch").map(String::as_str), Some("true" | "1"));
        if !self.allowed(method, &group, &resource, name.is_some(), watch) {
            self.forbidden
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(format!("{method} {target}"));
            return status(
                403,
                "Forbidden",
                &format!("{resource} is forbidden: the ClusterRole does not allow it"),
            );
        }
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        let body: Value = if body.is_empty() {
            Value::Null
        } else {
            match serde_json::from_slice(body) {
                Ok(v) => v,
                Err(e) => return status(400, "BadRequest", &e.to_string()),
            }
        };
        let list = |items: Vec<Value>| {
            (
                200,
                json!({"kind": "List", "apiVersion": "v1", "metadata": {}, "items": items}),
            )
        };
        let selector = params.get("labelSelector").cloned().unwrap_or_default();
        if method == "GET"
            && name.is_none()
            && let Some((api_version, kind)) = watchable(&resource)
            && !(resource == "services" && ns.is_some())
        {
            let items: Vec<Value> = store
                .objects
                .iter()
                .filter(|((n, r, _), _)| *r == resource && ns.as_ref().is_none_or(|ns| ns == n))
                .map(|(_, o)| o.clone())
                .collect();
            return (
                200,
                json!({"kind": format!("{kind}List"), "apiVersion": api_version,
                       "metadata": {"resourceVersion": store.resource_version.to_string()},
                       "items": items}),
            );
        }
        match (method, resource.as_str(), ns.as_deref(), name.as_deref()) {
            ("GET", "nodes", None, None) => list(self.node_objects()),
            ("GET", "namespaces", None, None) => list(
                store
                    .namespaces
                    .values()
                    .filter(|n| selects(&selector, &n["metadata"]["labels"]))
                    .cloned()
                    .collect(),
            ),
            ("POST", "namespaces", None, None) => {
                let mut obj = body;
                let name = match obj["metadata"]["name"].as_str() {
                    Some(n) => n.to_string(),
                    None => {
                        store.next_name += 1;
                        format!(
                            "{}{:05x}",
                            obj["metadata"]["generateName"].as_str().unwrap_or("ns-"),
                            0x2000 + store.next_name
                        )
                    }
                };
                if store.namespaces.contains_key(&name) {
                    return status(409, "AlreadyExists", "namespace exists");
                }
                obj["metadata"]["name"] = json!(name);
                store.namespaces.insert(name, obj.clone());
                (201, obj)
            }
            ("DELETE", "namespaces", None, Some(n)) => {
                if store.namespaces.remove(n).is_none() {
                    return status(404, "NotFound", "namespaces not found");
                }
                store.objects.retain(|(ns, _, _), _| ns != n);
                drop(store);
                self.kubelet.namespace_deleted(n);
                (200, json!({"kind": "Status", "status": "Success"}))
            }
            ("GET", "services", Some(ns), Some(n)) => {
                for (key, obj) in self.cluster_objects() {
                    if key.0 == ns && key.2 == n {
                        return (200, obj);
                    }
                }
                match store
                    .objects
                    .get(&(ns.to_string(), "services".into(), n.to_string()))
                {
                    Some(o) => (200, o.clone()),
                    None => status(404, "NotFound", &format!("services \"{n}\" not found")),
                }
            }
            (_, _, Some(ns), _) if !store.namespaces.contains_key(ns) => {
                status(404, "NotFound", &format!("namespaces \"{ns}\" not found"))
            }
            ("POST", "services", Some(ns), None) => {
                let mut obj = body;
                let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
                let policy = obj["spec"]["ipFamilyPolicy"]
                    .as_str()
                    .unwrap_or("SingleStack");
                let cluster = &self.shape.families;
                let families: Vec<kube6_net::Family> = match policy {
                    "SingleStack" => {
                        let asked: Vec<kube6_net::Family> = obj["spec"]["ipFamilies"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|f| match f.as_str() {
                                Some("IPv4") => Some(kube6_net::Family::IPv4),
                                Some("IPv6") => Some(kube6_net::Family::IPv6),
                                _ => None,
                            })
                            .collect();
                        let f = asked.first().copied().unwrap_or(cluster[0]);
                        if !cluster.contains(&f) {
                            return status(
                                422,
                                "Invalid",
                                &format!(
                                    "Service \"{name}\" is invalid: spec.ipFamilies[0]: Invalid value: \"{f}\": not configured on this cluster"
                                ),
                            );
                        }
                        vec![f]
                    }
                    _ => cluster.clone(),
                };
                let ips: Vec<String> = if obj["spec"]["clusterIP"] == "None" {
                    vec!["None".to_string()]
                } else {
                    families
                        .iter()
                        .map(|f| self.allocate_ip(&mut store, *f))
                        .collect()
                };
                obj["metadata"]["namespace"] = json!(ns);
                obj["spec"]["clusterIP"] = json!(ips[0]);
                obj["spec"]["clusterIPs"] = json!(ips);
                obj["spec"]["ipFamilies"] =
                    json!(families.iter().map(|f| f.as_str()).collect::<Vec<_>>());
                if obj["spec"]["type"] == "NodePort" {
                    store.next_port += 1;
                    obj["spec"]["ports"][0]["nodePort"] = json!(30000 + store.next_port);
                }
                store
                    .objects
                    .insert((ns.to_string(), "services".into(), name), obj.clone());
                self.sync_services(&store, ns);
                (201, obj)
            }
            ("POST", "configmaps", Some(ns), None) => {
                let name = body["metadata"]["name"].as_str().unwrap_or("").to_string();
                store
                    .objects
                    .insert((ns.to_string(), "configmaps".into(), name), body.clone());
                (201, body)
            }
            ("POST", "daemonsets", Some(ns), None) => {
                let name = body["metadata"]["name"].as_str().unwrap_or("").to_string();
                store.objects.insert(
                    (ns.to_string(), "daemonsets".into(), name.clone()),
                    body.clone(),
                );
                // Every taint tolerated: one pod on every node.
                let tolerates_all = body["spec"]["template"]["spec"]["tolerations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|t| t["operator"] == "Exists" && t.get("key").is_none());
                for (node, _) in &self.shape.nodes {
                    if !tolerates_all {
                        continue;
                    }
                    let mut pod = json!({
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {
                            "name": format!("{name}-{node}"),
                            "labels": body["spec"]["template"]["metadata"]["labels"],
                        },
                        "spec": body["spec"]["template"]["spec"],
                    });
                    pod["spec"]["nodeName"] = json!(node);
                    self.start_pod(&mut store, ns, pod);
                }
                self.sync_services(&store, ns);
                (201, body)
            }
            ("POST", "pods", Some(ns), None) => {
                let pod = self.start_pod(&mut store, ns, body);
                (201, pod)
            }
            ("GET", "pods", Some(ns), None) => {
                let pods: Vec<Value> = store
                    .objects
                    .iter()
                    .filter(|((n, r, _), o)| {
                        n == ns && r == "pods" && selects(&selector, &o["metadata"]["labels"])
                    })
                    .map(|(_, o)| self.pod_view(o))
                    .collect();
                list(pods)
            }
            ("GET", "pods/log", Some(ns), Some(n)) => {
                if !store
                    .objects
                    .contains_key(&(ns.to_string(), "pods".into(), n.to_string()))
                {
                    return status(404, "NotFound", &format!("pods \"{n}\" not found"));
                }
                (200, Value::String(self.kubelet.log(ns, n)))
            }
            _ => status(
                405,
                "MethodNotAllowed",
                "not implemented by the test server",
            ),
        }
    }
}

/// A watch request: which resource, in which namespace (all when `None`), from which
/// resourceVersion, for how long.
struct WatchRequest {
    resource: String,
    namespace: Option<String>,
    since: u64,
    timeout: std::time::Duration,
}

impl State {
    /// The watch this request asks for, if it is one (and allowed).
    fn watch_request(&self, method: &str, target: &str) -> Option<WatchRequest> {
        let (path, query) = target.split_once('?')?;
        let params: HashMap<String, String> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), decode(v)))
            .collect();
        if method != "GET" || !matches!(params.get("watch").map(String::as_str), Some("true" | "1"))
        {
            return None;
        }
        let failing = self
            .fail
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|f| format!("{method} {path}").starts_with(f.as_str()));
        if failing {
            // Answered by `handle`, with the 500 the test asked for.
            return None;
        }
        let (group, resource, namespace, name) = parse_path(path)?;
        watchable(&resource)?;
        if name.is_some() || !self.allowed(method, &group, &resource, false, true) {
            return None;
        }
        Some(WatchRequest {
            resource,
            namespace,
            since: params
                .get("resourceVersion")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            timeout: std::time::Duration::from_secs(
                params
                    .get("timeoutSeconds")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(290),
            ),
        })
    }

    /// Streams the events after `watch.since`, then new ones as they happen, as chunks of one
    /// JSON line each, until the timeout, [`ApiServer::break_watches`] or the server stops.
    fn stream_watch(&self, stream: &mut impl Write, watch: &WatchRequest) -> std::io::Result<()> {
        stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        )?;
        stream.flush()?;
        let deadline = std::time::Instant::now() + watch.timeout;
        let epoch = self
            .store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .watch_epoch;
        let mut since = watch.since;
        loop {
            let (lines, now_epoch) = {
                let store = self.store.lock().unwrap_or_else(|e| e.into_inner());
                let lines: Vec<(u64, String)> = store
                    .events
                    .iter()
                    .filter(|(rv, resource, ns, _, _)| {
                        *rv > since
                            && *resource == watch.resource
                            && watch.namespace.as_ref().is_none_or(|want| want == ns)
                    })
                    .map(|(rv, _, _, kind, object)| {
                        (*rv, json!({"type": kind, "object": object}).to_string())
                    })
                    .collect();
                (lines, store.watch_epoch)
            };
            for (rv, line) in lines {
                let chunk = format!("{:x}\r\n{line}\n\r\n", line.len() + 1);
                stream.write_all(chunk.as_bytes())?;
                since = rv;
            }
            stream.flush()?;
            if self.stop.load(Ordering::SeqCst)
                || now_epoch != epoch
                || std::time::Instant::now() >= deadline
            {
                stream.write_all(b"0\r\n\r\n")?;
                return stream.flush();
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

fn serve(tls: rustls::ServerConnection, tcp: TcpStream, state: &State) {
    let mut stream = rustls::StreamOwned::new(tls, tcp);
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        let head_end = loop {
            if let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
            }
        };
        let head = String::from_utf8_lossy(&pending[..head_end]).to_string();
        pending.drain(..head_end);
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        while pending.len() < length {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
            }
        }
        let body: Vec<u8> = pending.drain(..length).collect();
        let mut first = head.lines().next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("").to_string();
        let target = first.next().unwrap_or("").to_string();
        state
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(format!("{method} {target}"));
        let authorized = head.lines().any(|l| {
            l.to_ascii_lowercase().starts_with("authorization:")
                && l.trim_end().ends_with(&format!("Bearer {TOKEN}"))
        });
        if authorized && let Some(watch) = state.watch_request(&method, &target) {
            // A watch holds the connection until it times out or the server stops.
            let _ = state.stream_watch(&mut stream, &watch);
            return;
        }
        let (code, body) = if authorized {
            state.handle(&method, &target, &body)
        } else {
            status(401, "Unauthorized", "Unauthorized")
        };
        let (content_type, bytes) = match body {
            Value::String(text) => ("text/plain", text.into_bytes()),
            other => (
                "application/json",
                serde_json::to_vec(&other).unwrap_or_default(),
            ),
        };
        let reason = if code < 300 { "OK" } else { "Error" };
        let response = format!(
            "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            bytes.len()
        );
        if stream.write_all(response.as_bytes()).is_err()
            || stream.write_all(&bytes).is_err()
            || stream.flush().is_err()
        {
            return;
        }
        if state.stop.load(Ordering::SeqCst) {
            return;
        }
    }
}

impl ApiServer {
    /// Starts the server on 127.0.0.1 (a port of its own), with `rules` (a ClusterRole's) as
    /// the only permissions when given.
    pub fn start(
        shape: ClusterShape,
        kubelet: Arc<dyn Kubelet>,
        rules: Option<Vec<Rule>>,
    ) -> ApiServer {
        let dir = crate::scratch_dir("apiserver");
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("a CA");
        std::fs::write(dir.path().join("ca.crt"), ca.pem()).expect("write the CA");
        let key = KeyPair::generate().expect("a key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_string()]).expect("certificate params");
        params
            .subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().expect("an address")));
        let cert = params.signed_by(&key, &ca).expect("a certificate");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .expect("a TLS configuration");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("an address").port();
        let state = Arc::new(State {
            shape,
            kubelet,
            rules,
            store: Mutex::new(Store::default()),
            requests: Mutex::new(Vec::new()),
            forbidden: Mutex::new(Vec::new()),
            fail: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let thread_state = state.clone();
        let thread = std::thread::spawn(move || {
            for tcp in listener.incoming() {
                if thread_state.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(tcp) = tcp else { continue };
                let (config, state) = (config.clone(), thread_state.clone());
                std::thread::spawn(move || {
                    if let Ok(tls) = rustls::ServerConnection::new(config) {
                        serve(tls, tcp, &state);
                    }
                });
            }
        });
        ApiServer {
            port,
            dir,
            state,
            thread: Some(thread),
        }
    }

    /// A kubeconfig for this server (context `test`, the current one).
    pub fn kubeconfig(&self) -> PathBuf {
        let path = self.dir.path().join("kubeconfig");
        let text = format!(
            "apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:{port}
    certificate-authority: {ca}
users:
- name: tester
  user:
    token: {TOKEN}
contexts:
- name: test
  context:
    cluster: test
    user: tester
current-context: test
",
            port = self.port,
            ca = self.dir.path().join("ca.crt").display(),
        );
        std::fs::write(&path, text).expect("write the kubeconfig");
        path
    }

    /// Creates or replaces a Service, EndpointSlice or Lease (its `metadata.namespace` and
    /// `metadata.name`), giving it the next resourceVersion; open watches see it.
    pub fn apply(&self, resource: &str, mut object: Value) {
        let Some((api_version, kind)) = watchable(resource) else {
            panic!("{resource} is not a watchable resource of the test server");
        };
        let ns = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let mut store = self.state.store.lock().unwrap_or_else(|e| e.into_inner());
        store.resource_version += 1;
        let rv = store.resource_version;
        object["apiVersion"] = json!(api_version);
        object["kind"] = json!(kind);
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        let key = (ns.clone(), resource.to_string(), name);
        let kind = if store.objects.contains_key(&key) {
            "MODIFIED"
        } else {
            "ADDED"
        };
        store.objects.insert(key, object.clone());
        store
            .events
            .push((rv, resource.to_string(), ns, kind, object));
    }

    /// Deletes a Service, EndpointSlice or Lease; open watches see a `DELETED` event.
    pub fn remove(&self, resource: &str, namespace: &str, name: &str) {
        let mut store = self.state.store.lock().unwrap_or_else(|e| e.into_inner());
        let key = (
            namespace.to_string(),
            resource.to_string(),
            name.to_string(),
        );
        let Some(mut object) = store.objects.remove(&key) else {
            return;
        };
        store.resource_version += 1;
        let rv = store.resource_version;
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        store.events.push((
            rv,
            resource.to_string(),
            namespace.to_string(),
            "DELETED",
            object,
        ));
    }

    /// Ends every open watch (as an API server restart or a load balancer's idle timeout
    /// does); clients must watch again from their last resourceVersion.
    pub fn break_watches(&self) {
        self.state
            .store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .watch_epoch += 1;
    }

    /// Lets every request through again.
    pub fn heal(&self) {
        self.state
            .fail
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Every request, as `METHOD target`.
    pub fn requests(&self) -> Vec<String> {
        self.state
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Requests the ClusterRole refused.
    pub fn forbidden(&self) -> Vec<String> {
        self.state
            .forbidden
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Namespaces that exist now.
    pub fn namespaces(&self) -> Vec<String> {
        self.state
            .store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .namespaces
            .keys()
            .cloned()
            .collect()
    }

    /// Objects of a resource in a namespace, as stored.
    pub fn objects(&self, namespace: &str, resource: &str) -> Vec<Value> {
        self.state
            .store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .objects
            .iter()
            .filter(|((n, r, _), _)| n == namespace && r == resource)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Adds a namespace as an earlier, interrupted run would have left it.
    pub fn add_namespace(&self, object: Value) {
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        self.state
            .store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .namespaces
            .insert(name, object);
    }

    /// Makes requests starting with `prefix` (`"POST /api/v1/namespaces/"`) fail with 500.
    pub fn fail(&self, prefix: &str) {
        self.state
            .fail
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(prefix.to_string());
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// Makes a runner's log from the spec file's content and the agent id.
pub type RunnerLog = Box<dyn Fn(&str, &str) -> String + Send + Sync>;

/// What the fake kubelet does with the agents and runners.
pub struct FakeKubelet {
    /// Nodes whose agents never start, with the waiting reason.
    pub never_ready: Vec<(String, String)>,
    /// Makes a runner's log from the spec file's content and the agent id.
    pub runner_log: RunnerLog,
    /// How many status reads a runner stays Running before it has Succeeded.
    pub runner_reads: u32,
    state: Mutex<FakeState>,
}

#[derive(Default)]
struct FakeState {
    /// (ns, name) → (ips, is runner, agent, spec text, reads so far, node)
    pods: HashMap<(String, String), FakePod>,
    next: u32,
    deleted: Vec<String>,
}

struct FakePod {
    runner: bool,
    agent: String,
    spec: String,
    reads: u32,
    node: String,
}

impl FakeKubelet {
    pub fn new(runner_log: impl Fn(&str, &str) -> String + Send + Sync + 'static) -> FakeKubelet {
        FakeKubelet {
            never_ready: Vec::new(),
            runner_log: Box::new(runner_log),
            runner_reads: 1,
            state: Mutex::new(FakeState::default()),
        }
    }

    /// Namespaces deleted so far.
    pub fn deleted(&self) -> Vec<String> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .deleted
            .clone()
    }
}

/// The value of `--agent` in a pod's args, with `$(NODE_NAME)` expanded as the kubelet does.
fn agent_arg(pod: &Value, node: &str) -> String {
    let args: Vec<&str> = pod["spec"]["containers"][0]["args"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    args.iter()
        .position(|a| *a == "--agent")
        .and_then(|i| args.get(i + 1))
        .map(|a| a.replace("$(NODE_NAME)", node))
        .unwrap_or_default()
}

impl Kubelet for FakeKubelet {
    fn run_pod(
        &self,
        namespace: &str,
        name: &str,
        node: &str,
        pod: &Value,
        files: &HashMap<String, String>,
    ) -> Vec<IpAddr> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.next += 1;
        let n = st.next;
        let runner = pod["metadata"]["labels"]["kube6.dev/probe-role"] == "runner";
        let agent = agent_arg(pod, node);
        st.pods.insert(
            (namespace.to_string(), name.to_string()),
            FakePod {
                runner,
                agent,
                spec: files.values().next().cloned().unwrap_or_default(),
                reads: 0,
                node: node.to_string(),
            },
        );
        if self.never_ready.iter().any(|(n, _)| n == node) {
            return Vec::new();
        }
        vec![
            format!("2001:db8:aa::{n:x}")
                .parse()
                .unwrap_or(IpAddr::from([0; 16])),
            format!("198.51.100.{}", n % 250 + 1)
                .parse()
                .unwrap_or(IpAddr::from([0; 4])),
        ]
    }

    fn phase(&self, namespace: &str, name: &str) -> PodPhase {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let Some(pod) = st.pods.get_mut(&(namespace.to_string(), name.to_string())) else {
            return PodPhase::Failed;
        };
        if let Some((_, reason)) = self.never_ready.iter().find(|(n, _)| *n == pod.node) {
            return PodPhase::Waiting {
                reason: reason.clone(),
                message: "Back-off pulling image \"kube6-probe:test\"".to_string(),
            };
        }
        if pod.runner {
            pod.reads += 1;
            if pod.reads > self.runner_reads {
                PodPhase::Succeeded
            } else {
                PodPhase::Running { ready: true }
            }
        } else {
            PodPhase::Running { ready: true }
        }
    }

    fn log(&self, namespace: &str, name: &str) -> String {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match st.pods.get(&(namespace.to_string(), name.to_string())) {
            Some(p) if p.runner => (self.runner_log)(&p.spec, &p.agent),
            Some(p) => format!("kube6 probe agent {} listening\n", p.agent),
            None => String::new(),
        }
    }

    fn services(&self, _: &str, _: &[Value], _: &[Value]) {}

    fn namespace_deleted(&self, namespace: &str) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.deleted.push(namespace.to_string());
        st.pods.retain(|(ns, _), _| ns != namespace);
    }
}

// ---------------------------------------------------------------------------------------------

/// The kubelet of the [`crate::probe::ProbeNet`]: real processes in real namespaces.
pub struct NetKubelet {
    net: Arc<crate::probe::ProbeNet>,
    kube6: PathBuf,
    /// (ns/name) → (node, ips, host network, runner, port)
    pods: Mutex<HashMap<String, NetPod>>,
}

struct NetPod {
    node: String,
    ips: Vec<IpAddr>,
    host: bool,
    runner: bool,
    port: Option<u16>,
    log: PathBuf,
}

impl NetKubelet {
    pub fn new(net: Arc<crate::probe::ProbeNet>, kube6: &Path) -> NetKubelet {
        NetKubelet {
            net,
            kube6: kube6.to_path_buf(),
            pods: Mutex::new(HashMap::new()),
        }
    }

    fn listening(&self, key: &str, host: bool, node: &str, port: u16) -> bool {
        let check = |ns: &crate::Netns| {
            let out = ns.exec("ss", &["-Htln", &format!("sport = :{port}")]);
            !String::from_utf8_lossy(&out.stdout).trim().is_empty()
        };
        if host {
            check(&self.net.node(node).ns)
        } else {
            self.net.with_pod(key, check).unwrap_or(false)
        }
    }
}

impl Kubelet for NetKubelet {
    fn run_pod(
        &self,
        namespace: &str,
        name: &str,
        node: &str,
        pod: &Value,
        files: &HashMap<String, String>,
    ) -> Vec<IpAddr> {
        let key = format!("{namespace}/{name}");
        let host = pod["spec"]["hostNetwork"] == true;
        let runner = pod["metadata"]["labels"]["kube6.dev/probe-role"] == "runner";
        // The volume mounts: the files under a directory of this pod, and the container's
        // arguments pointed there.
        let root = self.net.scratch().join("pods").join(name);
        let mut args: Vec<String> = pod["spec"]["containers"][0]["args"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(|s| s.replace("$(NODE_NAME)", node)))
            .collect();
        for (path, content) in files {
            let local = root.join(path.trim_start_matches('/'));
            if let Some(parent) = local.parent() {
                std::fs::create_dir_all(parent).expect("create the pod's volume directory");
            }
            std::fs::write(&local, content).expect("write a volume file");
            for a in &mut args {
                if a == path {
                    *a = local.display().to_string();
                }
            }
        }
        let ips = if host {
            self.net.node_addresses(node)
        } else {
            self.net.add_pod(node, &key)
        };
        let port = args
            .iter()
            .position(|a| a == "--port")
            .and_then(|i| args.get(i + 1))
            .and_then(|p| p.parse().ok());
        let log = self.net.log_path(&key);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let bin = self.kube6.display().to_string();
        if host {
            let ns = &self.net.node(node).ns;
            self.net.spawn_in(ns, &key, &bin, &args, &log);
        } else {
            let net = &self.net;
            net.with_pod(&key, |ns| net.spawn_in(ns, &key, &bin, &args, &log));
        }
        self.pods.lock().unwrap_or_else(|e| e.into_inner()).insert(
            key,
            NetPod {
                node: node.to_string(),
                ips: ips.clone(),
                host,
                runner,
                port,
                log,
            },
        );
        ips
    }

    fn phase(&self, namespace: &str, name: &str) -> PodPhase {
        let key = format!("{namespace}/{name}");
        let (runner, host, node, port) = {
            let pods = self.pods.lock().unwrap_or_else(|e| e.into_inner());
            match pods.get(&key) {
                Some(p) => (p.runner, p.host, p.node.clone(), p.port),
                None => return PodPhase::Failed,
            }
        };
        match self.net.pod_exit(&key) {
            Some(Some(true)) => PodPhase::Succeeded,
            Some(Some(false)) => PodPhase::Failed,
            _ if runner => PodPhase::Running { ready: true },
            _ => PodPhase::Running {
                ready: port.is_some_and(|p| self.listening(&key, host, &node, p)),
            },
        }
    }

    fn log(&self, namespace: &str, name: &str) -> String {
        let pods = self.pods.lock().unwrap_or_else(|e| e.into_inner());
        pods.get(&format!("{namespace}/{name}"))
            .and_then(|p| std::fs::read_to_string(&p.log).ok())
            .unwrap_or_default()
    }

    fn services(&self, namespace: &str, services: &[Value], pods: &[Value]) {
        let domain = crate::probe::DOMAIN;
        // Endpoints: the ready pod agents selected, per node.
        let known = self.pods.lock().unwrap_or_else(|e| e.into_inner());
        let mut rules: HashMap<String, Vec<String>> = HashMap::new();
        for svc in services {
            let name = svc["metadata"]["name"].as_str().unwrap_or("");
            let selector = &svc["spec"]["selector"];
            let port = svc["spec"]["ports"][0]["port"].as_u64().unwrap_or(0);
            let target = svc["spec"]["ports"][0]["targetPort"]
                .as_u64()
                .unwrap_or(port);
            let backends: Vec<(&NetPod, &Value)> = pods
                .iter()
                .filter(|p| {
                    selector.as_object().is_some_and(|sel| {
                        sel.iter()
                            .all(|(k, v)| p["metadata"]["labels"][k.as_str()] == *v)
                    })
                })
                .filter_map(|p| {
                    let key = format!(
                        "{namespace}/{}",
                        p["metadata"]["name"].as_str().unwrap_or("")
                    );
                    known.get(&key).map(|np| (np, p))
                })
                .collect();
            let fqdn = format!("{name}.{namespace}.svc.{domain}");
            let cluster_ips: Vec<IpAddr> = svc["spec"]["clusterIPs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|ip| ip.as_str()?.parse().ok())
                .collect();
            self.net.dns_forget(&fqdn);
            if cluster_ips.is_empty() {
                // Headless: the pods' addresses.
                let ips: Vec<IpAddr> = backends.iter().flat_map(|(np, _)| np.ips.clone()).collect();
                self.net.dns_records(&fqdn, &ips);
                continue;
            }
            self.net.dns_records(&fqdn, &cluster_ips);
            let node_port = svc["spec"]["ports"][0]["nodePort"].as_u64();
            for node in &self.net.nodes {
                let Some((local, _)) = backends.iter().find(|(np, _)| np.node == node.name) else {
                    continue;
                };
                let entry = rules.entry(node.name.clone()).or_default();
                for ip in &cluster_ips {
                    let Some(backend) = local.ips.iter().find(|b| b.is_ipv4() == ip.is_ipv4())
                    else {
                        continue;
                    };
                    let (fam, to) = match ip {
                        IpAddr::V4(_) => ("ip", format!("{backend}:{target}")),
                        IpAddr::V6(_) => ("ip6", format!("[{backend}]:{target}")),
                    };
                    entry.push(format!(
                        "{fam} daddr {ip} tcp dport {port} dnat {fam} to {to}"
                    ));
                }
                if let Some(np) = node_port {
                    for addr in self.net.node_addresses(&node.name) {
                        let Some(backend) =
                            local.ips.iter().find(|b| b.is_ipv4() == addr.is_ipv4())
                        else {
                            continue;
                        };
                        let (fam, to) = match addr {
                            IpAddr::V4(_) => ("ip", format!("{backend}:{target}")),
                            IpAddr::V6(_) => ("ip6", format!("[{backend}]:{target}")),
                        };
                        entry.push(format!(
                            "{fam} daddr {addr} tcp dport {np} dnat {fam} to {to}"
                        ));
                    }
                }
            }
        }
        drop(known);
        for node in &self.net.nodes {
            let lines = rules.get(&node.name).cloned().unwrap_or_default();
            let body: String = lines.iter().map(|l| format!("    {l}\n")).collect();
            let table = format!(
                "table inet k6svc {{\n  chain k6prerouting {{\n    type nat hook prerouting priority -100; policy accept;\n{body}  }}\n  chain k6output {{\n    type nat hook output priority -100; policy accept;\n{body}  }}\n}}\n"
            );
            self.net.node_nft(&node.name, &table);
        }
    }

    fn namespace_deleted(&self, namespace: &str) {
        self.net.remove_pods(&format!("{namespace}/"));
        for node in &self.net.nodes {
            self.net.node_nft(&node.name, "table inet k6svc {\n}\n");
        }
        let mut pods = self.pods.lock().unwrap_or_else(|e| e.into_inner());
        pods.retain(|k, _| !k.starts_with(&format!("{namespace}/")));
    }
}

// ---------------------------------------------------------------------------------------------

/// What a runner prints on a perfect network, for the orchestration tests: every task of the
/// agent answered as expected (`broken` may replace the outcome of tasks whose id it matches).
pub fn perfect_log(
    spec_text: &str,
    agent: &str,
    broken: &dyn Fn(&kube6_probe::plan::Task) -> Option<kube6_probe::Outcome>,
) -> String {
    use kube6_probe::Outcome;
    use kube6_probe::outcome::{AgentResults, PathMtu, TaskResult};
    use kube6_probe::plan::{Action, Answer, Peer};
    let Ok(spec) = kube6_probe::Spec::from_json(spec_text) else {
        return "kube6: cannot read the spec\n".to_string();
    };
    let domain = spec
        .cluster_domain
        .clone()
        .unwrap_or_else(|| "cluster.local".into());
    let tasks = kube6_probe::plan::tasks_for(&spec, agent, &domain);
    let server: IpAddr = spec
        .dns_servers
        .first()
        .copied()
        .unwrap_or(IpAddr::from([192, 0, 2, 53]));
    let results = tasks
        .iter()
        .map(|t| {
            let outcome = broken(t).unwrap_or_else(|| match &t.action {
                Action::Connect { address, peer } => Outcome::Connected {
                    address: *address,
                    peer: Some(match peer {
                        Peer::Agent(a) => a.clone(),
                        Peer::AnyAgent => format!("{}/pod", spec.agents[0].node),
                    }),
                    nat64: false,
                },
                Action::Lookup { answer, .. } => Outcome::Answered {
                    server,
                    addresses: match answer {
                        Answer::Exactly(a) | Answer::SubsetOf(a) => a.clone(),
                        Answer::Any => vec![match t.family {
                            kube6_net::Family::IPv4 => IpAddr::from([203, 0, 113, 130]),
                            kube6_net::Family::IPv6 => IpAddr::from([
                                0x20, 0x01, 0x0d, 0xb8, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
                            ]),
                        }],
                    },
                    synthesized: Vec::new(),
                },
                Action::Egress { target } => Outcome::Connected {
                    address: std::net::SocketAddr::new(
                        match &target.host {
                            kube6_probe::spec::Host::Addr(a) => *a,
                            kube6_probe::spec::Host::Name(_) => server,
                        },
                        target.port.unwrap_or(80),
                    ),
                    peer: None,
                    nat64: false,
                },
                Action::PathMtu { host } => Outcome::PathMtu(PathMtu {
                    address: match host {
                        kube6_probe::spec::Host::Addr(a) => *a,
                        kube6_probe::spec::Host::Name(_) => server,
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
            });
            TaskResult {
                id: t.id.clone(),
                outcome,
                millis: 1,
            }
        })
        .collect();
    let results = AgentResults {
        agent: agent.to_string(),
        version: "test".to_string(),
        cluster_domain: domain,
        dns_servers: spec.dns_servers.clone(),
        notes: Vec::new(),
        results,
    };
    format!("starting\n{}", results.to_line())
}
