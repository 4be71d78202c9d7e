#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `kube6 ndp-proxy` in watch mode, end to end: the local API server of kube6-testnet runs in
//! the node's network namespace (its loopback), the real binary runs there with a load-balancer
//! pool in watch mode, and the router namespace sends neighbor solicitations for a Service's
//! address: unanswered before the Service has it, answered while this node holds the Service's
//! Cilium lease, unanswered after the lease moves and after the Service is deleted. Needs root;
//! fails under CI=true without it.

use std::net::Ipv6Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube6_ndp::packet;
use kube6_testnet::kube_api::{ApiServer, ClusterShape, FakeKubelet, rbac_rules};
use kube6_testnet::ndp::{self as testnet, Prober, Topology, in_netns, metric};
use serde_json::json;

const PORT: u16 = 9467;
const ADDRESS: &str = "2001:db8:1::ff10";

fn answered(topo: &Topology, target: Ipv6Addr) -> bool {
    let mac = topo.mac(&topo.rtr, "r0").unwrap();
    let router: Ipv6Addr = testnet::ROUTER.parse().unwrap();
    let frame = packet::build_ns(packet::NsSpec {
        eth_src: mac,
        src: router,
        dst: None,
        target,
        source_lla: Some(mac),
    });
    in_netns(&topo.rtr, move || {
        let p = Prober::open("r0").unwrap();
        p.ask(&frame, target, Duration::from_millis(300))
            .unwrap()
            .is_some()
    })
    .unwrap()
}

/// Waits until solicitations for `target` are answered (or not).
fn wait_answered(topo: &Topology, target: Ipv6Addr, want: bool, log: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while answered(topo, target) != want {
        assert!(
            Instant::now() < deadline,
            "{target} still {} after 20 s; proxy log:\n{}",
            if want { "unanswered" } else { "answered" },
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn service(ips: &[&str]) -> serde_json::Value {
    json!({
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Cluster",
                 "ipFamilies": ["IPv6"], "ipFamilyPolicy": "SingleStack",
                 "ports": [{"port": 443, "protocol": "TCP", "nodePort": 31443}]},
        "status": {"loadBalancer": {"ingress": ips.iter().map(|ip| json!({"ip": ip})).collect::<Vec<_>>()}},
    })
}

fn lease(holder: &str) -> serde_json::Value {
    json!({
        "metadata": {"name": "cilium-l2announce-shop-web", "namespace": "kube-system"},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15},
    })
}

/// The API server, listening on the node namespace's loopback (where the proxy runs).
fn api_server(topo: &Topology, rules: Option<Vec<kube6_testnet::kube_api::Rule>>) -> ApiServer {
    in_netns(&topo.node, || {
        let shape = ClusterShape {
            families: vec![kube6_net::Family::IPv6],
            nodes: vec![("worker-1".into(), vec![testnet::NODE.parse().unwrap()])],
            dns: Vec::new(),
        };
        ApiServer::start(
            shape,
            Arc::new(FakeKubelet::new(|_, _| String::new())),
            rules,
        )
    })
    .unwrap()
}

/// A plan whose node is the topology's node, with a Cilium 1.18 L2 pool on its link answered in
/// watch mode.
const PLAN: &str = "apiVersion: kube6.dev/v1alpha1
kind: ClusterNetwork
metadata: {name: watch}
spec:
  distribution: kubeadm
  cni: {name: cilium, version: 1.18.3}
  pods: [{cidr: \"2001:db8:100::/56\", nodeMaskSize: 64}]
  services: [fd00:20::/112]
  nodes: [{name: worker-1, role: controller+worker, addresses: [\"2001:db8:1::2\"]}]
  upstream: {IPv6: {mode: ndp-proxy, uplink: n0}}
  loadBalancer:
    implementation: cilium
    ndpProxy: watch
    pools: [{addresses: [\"2001:db8:1::ff00/120\"]}]
";

#[test]
fn the_rendered_watch_daemonset_runs_with_its_own_permissions() {
    if !kube6_testnet::require(
        "the_rendered_watch_daemonset_runs_with_its_own_permissions",
        &[],
    ) {
        return;
    }
    let mut topo = Topology::create("wrender").unwrap();
    let plan = topo.scratch.join("plan.yaml");
    std::fs::write(&plan, PLAN).unwrap();
    let out = topo.scratch.join("render");
    let render = std::process::Command::new(env!("CARGO_BIN_EXE_kube6"))
        .args([
            "render",
            plan.to_str().unwrap(),
            "--target",
            "kubeadm",
            "--kube6-image",
            "registry.example/kube6:0.1.0",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        render.status.success(),
        "{}",
        String::from_utf8_lossy(&render.stderr)
    );
    let manifest = out.join("load-balancer/kube6-ndp-proxy-watch.yaml");
    // The proxy runs as the DaemonSet says, with only the permissions its RBAC grants.
    let server = api_server(&topo, Some(rbac_rules(&manifest)));
    let text = std::fs::read_to_string(&manifest).unwrap();
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).unwrap();
    let daemonset = docs.iter().find(|d| d["kind"] == "DaemonSet").unwrap();
    let container = &daemonset["spec"]["template"]["spec"]["containers"][0];
    let mut args: Vec<String> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        container["env"][0]["valueFrom"]["fieldRef"]["fieldPath"],
        "spec.nodeName"
    );
    // Out of the cluster: the test's kubeconfig instead of the service account, NODE_NAME as
    // the downward API would set it.
    args.extend([
        "--kubeconfig".to_string(),
        server.kubeconfig().display().to_string(),
    ]);
    let log = topo.scratch.join("proxy.log");
    let node = topo.node.clone();
    let mut with_env = vec![
        "NODE_NAME=worker-1".to_string(),
        env!("CARGO_BIN_EXE_kube6").to_string(),
    ];
    with_env.extend(args);
    let with_env: Vec<&str> = with_env.iter().map(String::as_str).collect();
    topo.spawn(&node, "env", &with_env, Some(log.clone()))
        .unwrap();
    topo.wait_proxy_up(&node, 9466).unwrap_or_else(|e| {
        panic!(
            "{e}; log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    let target: Ipv6Addr = ADDRESS.parse().unwrap();
    server.apply("services", service(&[ADDRESS]));
    server.apply("leases", lease("worker-1"));
    wait_answered(&topo, target, true, &log);
    server.apply("leases", lease("worker-2"));
    wait_answered(&topo, target, false, &log);
    assert_eq!(
        server.forbidden(),
        Vec::<String>::new(),
        "the rendered RBAC is not enough"
    );
    // The server's threads live in the node namespace: stop it from there (its Drop wakes the
    // accept loop over that namespace's loopback).
    in_netns(&node, move || drop(server)).unwrap();
}

#[test]
fn the_proxy_answers_a_watched_address_only_while_this_node_announces_it() {
    if !kube6_testnet::require(
        "the_proxy_answers_a_watched_address_only_while_this_node_announces_it",
        &[],
    ) {
        return;
    }
    let mut topo = Topology::create("watch").unwrap();
    let server = api_server(&topo, None);
    server.apply("services", service(&[]));
    let log = topo.scratch.join("proxy.log");
    let kubeconfig = server.kubeconfig();
    let node = topo.node.clone();
    let metrics = format!("127.0.0.1:{PORT}");
    let pid = topo
        .spawn(
            &node,
            env!("CARGO_BIN_EXE_kube6"),
            &[
                "ndp-proxy",
                "--uplink",
                "n0",
                "--prefix",
                "2001:db8:1::ff00/120=watch",
                "--node-name",
                "worker-1",
                "--kubeconfig",
                kubeconfig.to_str().unwrap(),
                "--metrics",
                &metrics,
                "--rate-limit",
                "0",
                "-v",
            ],
            Some(log.clone()),
        )
        .unwrap();
    topo.wait_proxy_up(&node, PORT).unwrap_or_else(|e| {
        panic!(
            "{e}; log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    let target: Ipv6Addr = ADDRESS.parse().unwrap();

    // No address yet, then an address but no lease: nobody announces the Service.
    assert!(!answered(&topo, target));
    server.apply("services", service(&[ADDRESS, "192.0.2.70"]));
    std::thread::sleep(Duration::from_millis(500));
    assert!(!answered(&topo, target), "answered without a lease");

    // This node holds the lease: answered; another address of the pool is not.
    server.apply("leases", lease("worker-1"));
    wait_answered(&topo, target, true, &log);
    assert!(!answered(&topo, "2001:db8:1::ff11".parse().unwrap()));
    let page = topo.metrics(&node, PORT).unwrap();
    assert_eq!(
        metric(&page, "kube6_ndp_watched_addresses"),
        Some(1),
        "{page}"
    );
    assert_eq!(metric(&page, "kube6_ndp_watch_synced"), Some(1), "{page}");
    assert!(
        metric(&page, "kube6_ndp_drops_total{reason=\"not_announced\"}").unwrap_or(0) >= 1,
        "{page}"
    );

    // The lease moves to another node, comes back, and the Service is deleted.
    server.apply("leases", lease("worker-2"));
    wait_answered(&topo, target, false, &log);
    server.apply("leases", lease("worker-1"));
    wait_answered(&topo, target, true, &log);
    server.remove("services", "shop", "web");
    wait_answered(&topo, target, false, &log);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains("answering for a load-balancer address announced from this node"),
        "{text}"
    );
    assert!(
        topo.signal(pid, libc::SIGTERM),
        "proxy did not stop on SIGTERM"
    );
    // The server's threads live in the node namespace: stop it from there.
    in_netns(&node, move || drop(server)).unwrap();
}
