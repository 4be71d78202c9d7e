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
use kube6_testnet::kube_api::{ApiServer, ClusterShape, FakeKubelet};
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

#[test]
fn the_proxy_answers_a_watched_address_only_while_this_node_announces_it() {
    if !kube6_testnet::require(
        "the_proxy_answers_a_watched_address_only_while_this_node_announces_it",
        &[],
    ) {
        return;
    }
    let mut topo = Topology::create("watch").unwrap();
    // The API server listens on the node namespace's loopback, where the proxy runs.
    let server = in_netns(&topo.node, || {
        let shape = ClusterShape {
            families: vec![kube6_net::Family::IPv6],
            nodes: vec![("worker-1".into(), vec![testnet::NODE.parse().unwrap()])],
            dns: Vec::new(),
        };
        ApiServer::start(
            shape,
            Arc::new(FakeKubelet::new(|_, _| String::new())),
            None,
        )
    })
    .unwrap();
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
