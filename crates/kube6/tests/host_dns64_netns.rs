//! The DNS64 check against a real DNS64 resolver: unbound with its dns64 module in a router
//! namespace, forwarding `ipv4only.arpa` to dnsmasq (which holds its two IPv4 addresses, as the
//! real zone does). Without it, an IPv6-only node gets the warning.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;

use kube6_testnet::{Netns, describe, require, scratch_dir, veth};
use tempfile::TempDir;

const KUBE6: &str = env!("CARGO_BIN_EXE_kube6");

const HOSTNAME: &str = "node1.kube6.test";

fn topology() -> (Netns, Netns) {
    let node = Netns::new("dn");
    let router = Netns::new("dr");
    veth(&node, "up0", &router, "r0");
    node.ip("addr add 2001:db8:1::10/64 dev up0 nodad");
    node.ip("-6 route add default via 2001:db8:1::1 dev up0");
    router.ip("addr add 2001:db8:1::1/64 dev r0 nodad");
    node.etc_file(
        "resolv.conf",
        "nameserver 2001:db8:1::1\noptions timeout:1 attempts:1\n",
    );
    (node, router)
}

fn dns64_check(node: &Netns, root: &TempDir, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut args = vec![
        "host",
        "check",
        "-o",
        "json",
        "--root",
        root.path().to_str().unwrap(),
        "--proc-sys",
        "/proc/sys",
        "--hostname",
        HOSTNAME,
    ];
    args.extend_from_slice(extra);
    let out = node.exec(KUBE6, &args);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", describe(&out)));
    let check = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "dns64")
        .unwrap_or_else(|| panic!("no dns64 check: {doc:#}"))
        .clone();
    (out.status.code(), check)
}

#[test]
fn without_dns64_an_ipv6_only_node_is_warned() {
    if !require("DNS64 netns test", &[]) {
        return;
    }
    let (node, _router) = topology();
    let root = scratch_dir("dns64");
    let (_, check) = dns64_check(&node, &root, &[]);
    assert_eq!(check["status"], "warn", "{check:#}");
    assert!(
        check["summary"].as_str().unwrap().contains("IPv4-only"),
        "{check:#}"
    );
    assert!(
        check["fix"].as_str().unwrap().contains("dual-stack"),
        "{check:#}"
    );

    let (code, check) = dns64_check(&node, &root, &["--require-dns64"]);
    assert_eq!(check["status"], "fail", "{check:#}");
    assert_eq!(code, Some(1));

    let (_, check) = dns64_check(&node, &root, &["--family", "dual6"]);
    assert_eq!(check["status"], "pass", "{check:#}");
}

#[test]
fn unbound_dns64_prefix_is_discovered() {
    if !require("DNS64 netns test", &["unbound", "dnsmasq", "ss"]) {
        return;
    }
    let (node, mut router) = topology();
    let root = scratch_dir("dns64");
    let dir = scratch_dir("unbound");
    let conf = dir.path().join("unbound.conf");
    fs::write(
        &conf,
        kube6_testnet::unbound::dns64_conf(
            &["2001:db8:1::1"],
            "2001:db8:64::/96",
            dir.path(),
            None,
            "  do-ip4: no\n",
            "forward-zone:\n  name: \"ipv4only.arpa.\"\n  forward-addr: 2001:db8:1::1@5353\n",
        ),
    )
    .unwrap();
    router.spawn(
        "dnsmasq",
        &[
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--pid-file",
            "--bind-interfaces",
            "--listen-address=2001:db8:1::1",
            "--port=5353",
            "--host-record=ipv4only.arpa,192.0.0.170",
            "--host-record=ipv4only.arpa,192.0.0.171",
        ],
        None,
    );
    router.spawn("unbound", &["-d", "-c", conf.to_str().unwrap()], None);
    router.wait_udp_listener(5353);
    router.wait_udp_listener(53);

    let (code, check) = dns64_check(&node, &root, &["--require-dns64"]);
    assert_eq!(check["status"], "pass", "{check:#}");
    assert!(
        check["summary"]
            .as_str()
            .unwrap()
            .contains("2001:db8:64::/96"),
        "{check:#}"
    );
    assert!(code.is_some());
}
