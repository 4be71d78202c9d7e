//! `kube6 verify` against a live cluster: a small HTTPS API server on 127.0.0.1 (its own CA,
//! made for the test) that answers list requests with `limit` and `continue` as the API server
//! does, reached through a kubeconfig written to a temporary directory. Only loopback is used.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use kube6_verify::synth::Shape;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};

const TOKEN: &str = "kube6-test-token";

/// The API server: objects per resource path, and every request it saw.
struct ApiServer {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

/// Splits a kubectl dump into what the API server lists per path (items without kind and
/// apiVersion, as in a real list answer).
fn resources(dump: &Value) -> HashMap<&'static str, (&'static str, &'static str, Vec<Value>)> {
    let mut out: HashMap<&'static str, (&'static str, &'static str, Vec<Value>)> = HashMap::new();
    for (path, kind, api_version) in [
        ("/api/v1/nodes", "Node", "v1"),
        ("/api/v1/pods", "Pod", "v1"),
        ("/api/v1/services", "Service", "v1"),
        (
            "/apis/discovery.k8s.io/v1/endpointslices",
            "EndpointSlice",
            "discovery.k8s.io/v1",
        ),
        (
            "/apis/crd.projectcalico.org/v1/ippools",
            "IPPool",
            "crd.projectcalico.org/v1",
        ),
        (
            "/apis/crd.projectcalico.org/v1/ipamblocks",
            "IPAMBlock",
            "crd.projectcalico.org/v1",
        ),
        (
            "/apis/networking.k8s.io/v1/servicecidrs",
            "ServiceCIDR",
            "networking.k8s.io/v1",
        ),
        (
            "/apis/networking.k8s.io/v1beta1/servicecidrs",
            "ServiceCIDR",
            "networking.k8s.io/v1beta1",
        ),
    ] {
        // A server serves the ServiceCIDR API in the version its objects are in (v1 from
        // Kubernetes 1.33, v1beta1 in 1.31 and 1.32 with the gate on), and 404 for the other.
        if kind == "ServiceCIDR"
            && !dump["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["apiVersion"] == api_version)
        {
            continue;
        }
        let items = dump["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| {
                i["kind"] == kind && (kind != "ServiceCIDR" || i["apiVersion"] == api_version)
            })
            .map(|i| {
                let mut i = i.clone();
                let map = i.as_object_mut().unwrap();
                map.remove("kind");
                map.remove("apiVersion");
                i
            })
            .collect();
        out.insert(path, (kind, api_version, items));
    }
    out
}

fn status(code: u16, reason: &str, message: &str) -> (u16, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": reason, "code": code}),
    )
}

fn answer(
    resources: &HashMap<&'static str, (&'static str, &'static str, Vec<Value>)>,
    method: &str,
    target: &str,
    headers: &str,
) -> (u16, Value) {
    let authorized = headers.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("authorization:")
            && l.trim_end().ends_with(&format!("Bearer {TOKEN}"))
    });
    if !authorized {
        return status(401, "Unauthorized", "Unauthorized");
    }
    if method != "GET" {
        return status(405, "MethodNotAllowed", "read-only test server");
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    // Credentials made for the core resources only: the CNI's CRDs are forbidden.
    if path == "/apis/cilium.io/v2/ciliumnodes" {
        return status(403, "Forbidden", "ciliumnodes.cilium.io is forbidden");
    }
    let Some((kind, api_version, items)) = resources.get(path) else {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource",
        );
    };
    let params: HashMap<&str, &str> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let limit: usize = params
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(usize::MAX);
    // The continue token is opaque to clients; here it is the offset of the next item.
    let start: usize = match params.get("continue") {
        None => 0,
        Some(token) => match token.strip_prefix("offset-").and_then(|o| o.parse().ok()) {
            Some(o) => o,
            None => return status(400, "BadRequest", "invalid continue token"),
        },
    };
    let end = start.saturating_add(limit).min(items.len());
    let mut metadata = json!({"resourceVersion": "4242"});
    if end < items.len() {
        metadata["continue"] = json!(format!("offset-{end}"));
        metadata["remainingItemCount"] = json!(items.len() - end);
    }
    (
        200,
        json!({
            "kind": format!("{kind}List"),
            "apiVersion": api_version,
            "metadata": metadata,
            "items": items[start.min(end)..end],
        }),
    )
}

fn serve(
    tls: rustls::ServerConnection,
    tcp: TcpStream,
    resources: &HashMap<&'static str, (&'static str, &'static str, Vec<Value>)>,
    requests: &Mutex<Vec<String>>,
    flood: bool,
) {
    let mut stream = rustls::StreamOwned::new(tls, tcp);
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        // One request head (list requests have no body).
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
        let mut first = head.lines().next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("").to_string();
        let target = first.next().unwrap_or("").to_string();
        requests.lock().unwrap().push(format!("{method} {target}"));
        if flood {
            // A server (or something posing as one) that never stops answering: a list whose
            // items never end, in chunks, until the client hangs up.
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
            let item = br#"{"metadata":{"name":"n"}},"#.repeat(2048);
            let mut chunk = format!("{:x}\r\n", item.len()).into_bytes();
            chunk.extend_from_slice(&item);
            chunk.extend_from_slice(b"\r\n");
            let start = b"{\"kind\":\"NodeList\",\"apiVersion\":\"v1\",\"items\":[";
            let mut first = format!("{:x}\r\n", start.len()).into_bytes();
            first.extend_from_slice(start);
            first.extend_from_slice(b"\r\n");
            if stream.write_all(head.as_bytes()).is_err() || stream.write_all(&first).is_err() {
                return;
            }
            while stream.write_all(&chunk).is_ok() {}
            return;
        }
        let (code, body) = answer(resources, &method, &target, &head);
        let body = serde_json::to_vec(&body).unwrap();
        let reason = if code == 200 { "OK" } else { "Error" };
        let response = format!(
            "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if stream.write_all(response.as_bytes()).is_err()
            || stream.write_all(&body).is_err()
            || stream.flush().is_err()
        {
            return;
        }
    }
}

/// Starts the server on 127.0.0.1 with a certificate for 127.0.0.1 signed by a fresh CA, and
/// writes the CA to `dir/ca.crt`.
fn start(dump: &Value, dir: &Path) -> ApiServer {
    start_with(dump, dir, false)
}

/// The server, answering every request with an endless list when `flood` is set.
fn start_with(dump: &Value, dir: &Path, flood: bool) -> ApiServer {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    std::fs::write(dir.join("ca.crt"), ca.pem()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let cert = params.signed_by(&key, &ca).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    let config = Arc::new(config);

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let resources = Arc::new(resources(dump));
    {
        let requests = requests.clone();
        std::thread::spawn(move || {
            for tcp in listener.incoming() {
                let Ok(tcp) = tcp else { continue };
                let (config, resources, requests) =
                    (config.clone(), resources.clone(), requests.clone());
                std::thread::spawn(move || {
                    if let Ok(tls) = rustls::ServerConnection::new(config) {
                        serve(tls, tcp, &resources, &requests, flood);
                    }
                });
            }
        });
    }
    ApiServer { port, requests }
}

/// A port on 127.0.0.1 where nothing listens.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A kubeconfig with the context `test` (the server) and `broken` (nothing listening), the
/// current one being `current`.
fn kubeconfig(dir: &Path, port: u16, current: &str) -> PathBuf {
    let ca = dir.join("ca.crt");
    let text = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:{port}
    certificate-authority: {ca}
- name: broken
  cluster:
    server: https://127.0.0.1:{closed}
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
- name: broken
  context:
    cluster: broken
    user: tester
current-context: {current}
",
        ca = ca.display(),
        closed = closed_port(),
    );
    let path = dir.join("kubeconfig");
    std::fs::write(&path, text).unwrap();
    path
}

fn kube6(args: &[&str], kubeconfig_env: Option<&Path>) -> Output {
    let home = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_kube6"));
    command.args(args);
    isolate(&mut command, home.path());
    match kubeconfig_env {
        Some(path) => command.env("KUBECONFIG", path),
        None => command.env_remove("KUBECONFIG"),
    };
    command.output().unwrap()
}

/// The environment of a run: no ~/.kube/config, no in-cluster account, no proxy, only what the
/// test writes.
fn isolate(command: &mut Command, home: &Path) {
    command
        .env("NO_COLOR", "1")
        // No ~/.kube/config, no in-cluster account, no proxy: only what the test writes.
        .env("HOME", home)
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy");
}

fn json_out(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_live_cluster_is_read_page_by_page() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape::new(
        &[kube6_net::Family::IPv6, kube6_net::Family::IPv4],
        3,
        25,
        7,
    );
    let server = start(&shape.list(), dir.path());
    let config = kubeconfig(dir.path(), server.port, "test");
    let plan = dir.path().join("config.yaml");
    std::fs::write(&plan, shape.k3s_config()).unwrap();

    let out = kube6(
        &[
            "verify",
            "--kubeconfig",
            s(&config),
            "--plan",
            s(&plan),
            "--chunk-size",
            "10",
            "-o",
            "json",
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_out(&out);
    assert_eq!(report["status"], "pass", "{report:#}");
    assert_eq!(report["objects"]["nodes"], 3);
    assert_eq!(report["objects"]["pods"], 25);
    assert_eq!(report["objects"]["services"], 7);
    assert_eq!(report["objects"]["endpointSlices"], 11);

    let requests = server.requests.lock().unwrap().clone();
    assert!(
        requests.iter().all(|r| r.starts_with("GET ")),
        "{requests:?}"
    );
    let pods: Vec<&String> = requests
        .iter()
        .filter(|r| r.starts_with("GET /api/v1/pods?"))
        .collect();
    assert_eq!(pods.len(), 3, "{requests:?}");
    assert!(pods[0].contains("limit=10") && !pods[0].contains("continue"));
    assert!(pods[1].contains("limit=10") && pods[1].contains("continue=offset-10"));
    assert!(pods[2].contains("continue=offset-20"));
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET /apis/discovery.k8s.io/v1/endpointslices?"))
    );
}

#[test]
fn the_context_and_kubeconfig_are_chosen_as_kubectl_does() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape::ipv6();
    let server = start(&shape.list(), dir.path());
    // The current context points where nothing listens.
    let config = kubeconfig(dir.path(), server.port, "broken");

    let out = kube6(&["verify", "--kubeconfig", s(&config)], None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("kube6: cannot list /api/v1/nodes on https://127.0.0.1:"),
        "{err}"
    );

    let out = kube6(
        &["verify", "--kubeconfig", s(&config), "--context", "test"],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("IPv6 single-stack"), "{text}");

    // KUBECONFIG instead of --kubeconfig.
    let out = kube6(
        &["verify", "--context", "test", "-o", "json"],
        Some(&config),
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_out(&out)["objects"]["pods"], 20);

    // A context that does not exist is a usage error.
    let out = kube6(
        &["verify", "--kubeconfig", s(&config), "--context", "nope"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_fault_in_the_live_cluster_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape::dual_ipv4_first();
    let mut dump = shape.list();
    // kube-dns lost its IPv6 address.
    let dns = dump["items"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|i| i["kind"] == "Service" && i["metadata"]["name"] == "kube-dns")
        .unwrap();
    dns["spec"]["ipFamilyPolicy"] = json!("SingleStack");
    dns["spec"]["ipFamilies"] = json!(["IPv4"]);
    dns["spec"]["clusterIPs"] = json!(["10.43.0.10"]);
    let server = start(&dump, dir.path());
    let config = kubeconfig(dir.path(), server.port, "test");
    let plan = dir.path().join("config.yaml");
    std::fs::write(&plan, shape.k3s_config()).unwrap();
    let out = kube6(
        &[
            "verify",
            "--kubeconfig",
            s(&config),
            "--plan",
            s(&plan),
            "-o",
            "json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let report = json_out(&out);
    let dns = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "kube-dns-service")
        .unwrap();
    assert_eq!(dns["status"], "fail");
}

#[test]
fn a_wrong_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&Shape::ipv4().list(), dir.path());
    let config = kubeconfig(dir.path(), server.port, "test");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(TOKEN, "wrong");
    std::fs::write(&config, text).unwrap();
    let out = kube6(&["verify", "--kubeconfig", s(&config)], None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Unauthorized"), "{err}");
}

#[test]
fn no_kubeconfig_at_all_is_a_usage_error() {
    let out = kube6(&["verify"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no cluster to read"), "{err}");
    assert!(err.contains("--dump FILE"), "{err}");
}

#[test]
fn the_cni_ipam_objects_are_read_when_the_cluster_has_them() {
    use kube6_verify::synth::Layout;
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape::new(
        &[kube6_net::Family::IPv6, kube6_net::Family::IPv4],
        3,
        20,
        5,
    )
    .with_layout(Layout::kubeadm_calico());
    let server = start(&shape.list(), dir.path());
    let config = kubeconfig(dir.path(), server.port, "test");
    let plan = dir.path().join("cluster.yaml");
    std::fs::write(&plan, shape.cluster_network("kubeadm", "calico")).unwrap();
    let out = kube6(
        &[
            "verify",
            "--kubeconfig",
            s(&config),
            "--plan",
            s(&plan),
            "-o",
            "json",
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report = json_out(&out);
    assert_eq!(report["objects"]["calicoIPPools"], 2);
    assert!(report["objects"]["calicoIPAMBlocks"].as_u64().unwrap() >= 6);
    assert_eq!(report["objects"]["ciliumNodes"], 0);
    let cni = &report["checks"][3];
    assert_eq!(cni["name"], "cni-ipam");
    assert_eq!(cni["status"], "pass");
    let requests = server.requests.lock().unwrap().clone();
    for path in [
        "/apis/crd.projectcalico.org/v1/ippools?",
        "/apis/crd.projectcalico.org/v1/ipamblocks?",
        // Forbidden (403) and not found (404): verify goes on without them.
        "/apis/cilium.io/v2/ciliumnodes?",
        "/apis/cilium.io/v2alpha1/ciliumpodippools?",
    ] {
        assert!(
            requests
                .iter()
                .any(|r| r.starts_with(&format!("GET {path}"))),
            "{path}: {requests:?}"
        );
    }
}

/// `kube6 diff --cluster` reads the live cluster as `kube6 verify` does (the same loading): the
/// node blocks and Service addresses it holds decide what the proposal may change.
#[test]
fn diff_reads_the_live_cluster_as_its_current_side() {
    let dir = tempfile::tempdir().unwrap();
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diff");
    let dump: Value =
        serde_json::from_str(&std::fs::read_to_string(tests.join("cluster-dump.json")).unwrap())
            .unwrap();
    let server = start(&dump, dir.path());
    let config = kubeconfig(dir.path(), server.port, "test");

    // Adding IPv6 keeps every node block and cluster IP: allowed with steps.
    let out = kube6(
        &[
            "diff",
            "--cluster",
            s(&tests.join("kubeadm-dual-stack.yaml")),
            "--cni",
            "flannel",
            "-o",
            "json",
        ],
        Some(&config),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json_out(&out);
    assert_eq!(doc["current"]["origin"]["from"], "cluster");
    assert_eq!(doc["changes"][0]["kind"], "family-added");
    let steps = doc["runbook"]["steps"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .any(|s| s["title"] == "Register node w1 again to get its new podCIDRs"),
        "{steps:?}"
    );

    // Moving the pod range leaves both nodes' blocks outside it: refused.
    let out = kube6(
        &[
            "diff",
            "--kubeconfig",
            s(&config),
            s(&tests.join("kubeadm-ipv4-pods-moved.yaml")),
            "-o",
            "json",
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = json_out(&out);
    assert_eq!(doc["changes"][0]["rangeChange"], "in-use-outside");
    assert_eq!(
        doc["changes"][0]["affected"]["nodeBlocks"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// An answer larger than --max-response-size stops the read with exit 2 and a message that says
/// which page was too large and what to do; with smaller pages the same cluster is read.
#[test]
fn an_answer_larger_than_the_limit_is_refused_with_a_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape::ipv6();
    let server = start(&shape.list(), dir.path());
    let config = kubeconfig(dir.path(), server.port, "test");
    let verify = |chunk: &str| {
        kube6(
            &[
                "verify",
                "--kubeconfig",
                s(&config),
                "--max-response-size",
                "6Ki",
                "--chunk-size",
                chunk,
            ],
            None,
        )
    };
    let out = verify("500");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let cluster = format!("https://127.0.0.1:{}/", server.port);
    let line = stderr.trim_end();
    assert!(
        line.starts_with("kube6: a list page of /api/v1/")
            && line.ends_with(&format!(
                "(500 objects) from {cluster} is larger than 6 KiB, the most kube6 takes of one \
                 answer: give a smaller --chunk-size (fewer objects per page) or a larger \
                 --max-response-size"
            )),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // One object per page fits: the way out the message names works.
    let out = verify("1");
    assert_ne!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A server that never stops answering: kube6 stops at the limit, in seconds, with its memory
/// bounded by the limit rather than by what the server sends (peak RSS from GNU time).
#[test]
fn an_endless_answer_stops_at_the_limit_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(&Shape::ipv6().list(), dir.path(), true);
    let config = kubeconfig(dir.path(), server.port, "test");
    let rss = dir.path().join("rss");
    let home = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let mut command = Command::new("timeout");
    command
        .args(["60", "/usr/bin/time", "-f", "%M", "-o", s(&rss)])
        .arg(env!("CARGO_BIN_EXE_kube6"))
        .args(["verify", "--kubeconfig", s(&config)])
        .args(["--max-response-size", "32Mi"]);
    isolate(&mut command, home.path());
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("kube6: a list page of /api/v1/nodes (500 objects) from ")
            && stderr.contains("is larger than 32 MiB"),
        "{stderr}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let peak_kb: u64 = std::fs::read_to_string(&rss)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The body held (32 MiB) and its copy into text, plus the program: well under what an
    // unbounded read reaches in the same time (gigabytes).
    assert!(peak_kb < 160 * 1024, "peak RSS {peak_kb} kB");
}

/// A 1.32 cluster with MultiCIDRServiceAllocator on serves ServiceCIDRs as v1beta1 only: diff
/// asks for v1, then v1beta1, takes the default ServiceCIDR as the configured range (so that an
/// extension shows at all), and judges it by the API the objects prove (live, through a
/// ServiceCIDR) rather than by the version's default (a flag edit, K6W606).
#[test]
fn diff_reads_service_cidrs_of_the_version_the_cluster_serves() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diff");
    let mut dump: Value =
        serde_json::from_str(&std::fs::read_to_string(tests.join("cluster-dump.json")).unwrap())
            .unwrap();
    let extended = tests.join("kubeadm-1.32-ipv4-services-extended.yaml");
    let verdict_rules = |dump: &Value| {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dump, dir.path());
        let config = kubeconfig(dir.path(), server.port, "test");
        let out = kube6(
            &[
                "diff",
                "--cluster",
                s(&extended),
                "--cni",
                "flannel",
                "-o",
                "json",
            ],
            Some(&config),
        );
        let requests = server.requests.lock().unwrap().clone();
        (json_out(&out), requests)
    };
    // Without ServiceCIDR objects the configured range does not show: every address in use
    // fits the proposal, and nothing is known to change.
    let (doc, requests) = verdict_rules(&dump);
    assert_eq!(doc["changes"], json!([]), "{doc:#}");
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET /apis/networking.k8s.io/v1beta1/servicecidrs")),
        "{requests:?}"
    );

    dump["items"].as_array_mut().unwrap().push(json!({
        "apiVersion": "networking.k8s.io/v1beta1", "kind": "ServiceCIDR",
        "metadata": {"name": "kubernetes", "finalizers": ["networking.k8s.io/service-cidr-finalizer"]},
        "spec": {"cidrs": ["10.96.0.0/16"]},
        "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "",
            "message": "Kubernetes Service CIDR is ready", "lastTransitionTime": "2026-01-10T09:00:00Z"}]}
    }));
    let (doc, requests) = verdict_rules(&dump);
    let change = &doc["changes"][0];
    assert_eq!(change["kind"], "service-range", "{doc:#}");
    assert_eq!(change["current"], "10.96.0.0/16", "{doc:#}");
    assert_eq!(change["rangeChange"], "extended", "{doc:#}");
    assert_eq!(doc["current"]["serviceCIDRs"][0]["name"], "kubernetes");
    let rules: Vec<&str> = change["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        [kube6_model::rules::catalog::SERVICE_RANGE_EXTENDED_SERVICECIDR.id],
        "{doc:#}"
    );
    let v1 = requests
        .iter()
        .position(|r| r.starts_with("GET /apis/networking.k8s.io/v1/servicecidrs"));
    let beta = requests
        .iter()
        .position(|r| r.starts_with("GET /apis/networking.k8s.io/v1beta1/servicecidrs"));
    assert!(v1.is_some() && beta > v1, "{requests:?}");
}
