//! `kube6 node-ip` against the real kernel: a node namespace with an uplink carrying a global,
//! a link-local and a deprecated address, a cni0-like bridge and lo; a router namespace on the
//! other end of the uplink, optionally running dnsmasq to answer the node's hostname.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kube6_testnet::{Netns, describe, require, stdout, veth};

const KUBE6: &str = env!("CARGO_BIN_EXE_kube6");

struct Topology {
    node: Netns,
    router: Netns,
}

const HOSTNAME: &str = "node1.kube6.test";

fn topology() -> Topology {
    let node = Netns::new("n");
    let router = Netns::new("r");
    veth(&node, "up0", &router, "r0");
    // The kernel lists IPv6 addresses newest first: the deprecated address is added last so
    // that it comes first and would be picked if it were not filtered out.
    node.ip("addr add 2001:db8:1::20/64 dev up0 nodad");
    node.ip("addr add 2001:db8:1::10/64 dev up0 nodad");
    node.ip("addr add 2001:db8:1::d/64 dev up0 nodad preferred_lft 0");
    node.ip("addr add 192.0.2.10/24 dev up0");
    node.ip("addr add 192.0.2.20/24 dev up0");
    node.ip("link add cni0 type bridge");
    node.ip("link set cni0 up");
    node.ip("addr add fd00:10::1/64 dev cni0 nodad");
    node.ip("addr add 198.51.100.1/24 dev cni0");
    node.ip("-6 route add default via 2001:db8:1::1 dev up0");
    node.ip("-4 route add default via 192.0.2.1 dev up0");
    node.etc_file(
        "resolv.conf",
        "nameserver 2001:db8:1::1\noptions timeout:1 attempts:1\n",
    );
    router.ip("addr add 2001:db8:1::1/64 dev r0 nodad");
    router.ip("addr add 192.0.2.1/24 dev r0");
    Topology { node, router }
}

/// dnsmasq in the router namespace, answering the node's hostname with one usable address per
/// family and decoys: an address on cni0 and one that is on no interface.
fn start_dnsmasq(t: &mut Topology) {
    t.router.spawn(
        "dnsmasq",
        &[
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--pid-file",
            "--bind-interfaces",
            "--listen-address=2001:db8:1::1",
            "--port=53",
            &format!("--host-record={HOSTNAME},fd00:10::1"),
            &format!("--host-record={HOSTNAME},2001:db8:99::1"),
            &format!("--host-record={HOSTNAME},192.0.2.20,2001:db8:1::20"),
        ],
        None,
    );
    t.router.wait_udp_listener(53);
}

fn node_ip(t: &Topology, args: &[&str]) -> (String, serde_json::Value) {
    let mut all = vec!["node-ip", "--hostname", HOSTNAME];
    all.extend_from_slice(args);
    let text = t.node.exec(KUBE6, &all);
    assert!(text.status.success(), "{}", describe(&text));
    all.extend_from_slice(&["-o", "json"]);
    let json = t.node.exec(KUBE6, &all);
    assert!(json.status.success(), "{}", describe(&json));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    (stdout(&text).trim().to_string(), doc)
}

#[test]
fn ipv6_only_without_dns_uses_the_default_route_interface() {
    if !require("node-ip netns test", &["sysctl"]) {
        return;
    }
    let t = topology();
    let (text, doc) = node_ip(&t, &["--family", "IPv6"]);
    assert_eq!(text, "2001:db8:1::10");
    let choice = &doc["choices"][0];
    assert_eq!(choice["source"], "default-route", "{doc:#}");
    assert_eq!(choice["interface"], "up0");
    let rejected = choice["rejected"].to_string();
    assert!(rejected.contains("2001:db8:1::d"), "{doc:#}");
    assert!(rejected.contains("deprecated"), "{doc:#}");
    assert!(rejected.contains("fe80::"), "{doc:#}");
}

#[test]
fn dual_stack_without_dns_in_both_orders() {
    if !require("node-ip netns test", &["sysctl"]) {
        return;
    }
    let t = topology();
    let (text, _) = node_ip(&t, &["--family", "dual6"]);
    assert_eq!(text, "2001:db8:1::10,192.0.2.10");
    let (text, doc) = node_ip(&t, &["--family", "dual"]);
    assert_eq!(text, "192.0.2.10,2001:db8:1::10");
    assert_eq!(doc["nodeIp"], "192.0.2.10,2001:db8:1::10");
    assert_eq!(doc["choices"][0]["family"], "IPv4");
}

#[test]
fn hostname_answers_win_when_local_and_usable() {
    if !require("node-ip netns test", &["sysctl", "dnsmasq", "ss"]) {
        return;
    }
    let mut t = topology();
    start_dnsmasq(&mut t);
    let (text, doc) = node_ip(&t, &["--family", "IPv6"]);
    assert_eq!(text, "2001:db8:1::20", "{doc:#}");
    let choice = &doc["choices"][0];
    assert_eq!(choice["source"], "hostname", "{doc:#}");
    let rejected = choice["rejected"].to_string();
    assert!(
        rejected.contains("fd00:10::1"),
        "cni0 address not rejected: {doc:#}"
    );
    assert!(
        rejected.contains("2001:db8:99::1"),
        "foreign address not rejected: {doc:#}"
    );

    let (text, doc) = node_ip(&t, &["--family", "IPv6,IPv4"]);
    assert_eq!(text, "2001:db8:1::20,192.0.2.20", "{doc:#}");
    assert_eq!(doc["choices"][1]["source"], "hostname", "{doc:#}");
}

#[test]
fn explicit_node_ip_must_be_on_this_host() {
    if !require("node-ip netns test", &["sysctl"]) {
        return;
    }
    let t = topology();
    let ok = t.node.exec(
        KUBE6,
        &[
            "node-ip",
            "--node-ip",
            "2001:db8:1::20",
            "--hostname",
            HOSTNAME,
        ],
    );
    assert!(ok.status.success(), "{}", describe(&ok));
    assert_eq!(stdout(&ok).trim(), "2001:db8:1::20");
    let bad = t.node.exec(
        KUBE6,
        &[
            "node-ip",
            "--node-ip",
            "2001:db8:99::9",
            "--hostname",
            HOSTNAME,
        ],
    );
    assert_eq!(bad.status.code(), Some(1), "{}", describe(&bad));
    assert!(stdout(&bad).is_empty(), "{}", describe(&bad));
    let usage = t.node.exec(KUBE6, &["node-ip", "--family", "IPv5"]);
    assert_eq!(usage.status.code(), Some(2), "{}", describe(&usage));
}
