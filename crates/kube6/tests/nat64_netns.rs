//! NAT64 for real: an IPv6-only node namespace reaches an IPv4-only server through the TAYGA
//! gateway `kube6 render` configures (its tayga.conf and setup.sh, run unchanged in a gateway
//! namespace), with unbound doing DNS64 for the plan's network-specific prefix. `kube6 host
//! check` then finds the prefix (dns64), connects through a synthesized address (nat64) and
//! judges the node's resolvers (resolvers); with TAYGA stopped, the NAT64 check fails.
//!
//! node (2001:db8:1::10, IPv6 only) ── gw (2001:db8:1::1 | 192.0.2.1, TAYGA, unbound) ── server
//! (192.0.2.10, IPv4 only: dnsmasq answering DNS over UDP and TCP, the "IPv4-only registry").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;
use std::time::Duration;

use kube6_testnet::{Netns, describe, require, scratch_dir, veth, wait_for};

const KUBE6: &str = env!("CARGO_BIN_EXE_kube6");

const LAYOUT: &str = "apiVersion: kube6.dev/v1alpha1
kind: ClusterNetwork
metadata: {name: nat64}
spec:
  distribution: kubeadm
  cni: calico
  pods: [{cidr: \"fd00:10::/56\", nodeMaskSize: 64}]
  services: [\"fd00:20::/112\"]
  nodes: [{name: node1, role: controller+worker, addresses: [\"2001:db8:1::10\"]}]
  upstream: {IPv6: {mode: masquerade}}
  nat64:
    prefix: 2001:db8:64::/96
    gateway: {pool4: 198.51.100.0/24}
  dns:
    forwarders: [\"2001:db8:1::1\"]
";

struct Lab {
    node: Netns,
    gw: Netns,
    _server: Netns,
    tayga: u32,
    root: tempfile::TempDir,
    _dir: tempfile::TempDir,
}

fn lab() -> Lab {
    let node = Netns::new("n64n");
    let mut gw = Netns::new("n64g");
    let mut server = Netns::new("n64s");
    veth(&node, "up0", &gw, "down0");
    veth(&gw, "v4", &server, "eth0");
    node.ip("addr add 2001:db8:1::10/64 dev up0 nodad");
    node.ip("-6 route add default via 2001:db8:1::1 dev up0");
    gw.ip("addr add 2001:db8:1::1/64 dev down0 nodad");
    gw.ip("addr add 192.0.2.1/24 dev v4");
    server.ip("addr add 192.0.2.10/24 dev eth0");
    // The server knows nothing of IPv6; TAYGA's pool is routed back through the gateway.
    server.ip("route add 198.51.100.0/24 via 192.0.2.1");

    let dir = scratch_dir("nat64");
    // The IPv4-only server: dnsmasq answers over UDP and TCP on 192.0.2.10:53, with the
    // records of a registry that has no AAAA and of ipv4only.arpa (RFC 7050).
    server.spawn(
        "dnsmasq",
        &[
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--pid-file",
            "--bind-interfaces",
            "--listen-address=192.0.2.10",
            "--host-record=registry.v4.test,192.0.2.10",
            // A registry with its own IPv6 address (the gateway's unbound answers TCP there),
            // and one whose IPv4 address nothing answers on.
            "--host-record=registry.v6.test,2001:db8:1::1",
            "--host-record=registry.none.test,192.0.2.99",
            "--host-record=ipv4only.arpa,192.0.0.170",
            "--host-record=ipv4only.arpa,192.0.0.171",
        ],
        None,
    );
    server.wait_udp_listener(53);

    // kube6 renders the gateway; its files run unchanged in the gateway namespace.
    let layout = dir.path().join("cluster.yaml");
    fs::write(&layout, LAYOUT).unwrap();
    let out_dir = dir.path().join("out");
    let rendered = std::process::Command::new(KUBE6)
        .args([
            "render",
            layout.to_str().unwrap(),
            "--target",
            "kubeadm",
            "--out",
        ])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(rendered.status.success(), "{}", describe(&rendered));
    let gateway = out_dir.join("nat64-gateway");
    let tayga = gw.spawn(
        "sh",
        &[
            gateway.join("setup.sh").to_str().unwrap(),
            gateway.join("tayga.conf").to_str().unwrap(),
        ],
        Some(&dir.path().join("tayga.log")),
    );
    wait_for(Duration::from_secs(10), "TAYGA's nat64 device", || {
        let out = gw.exec("ip", &["-6", "route", "show", "2001:db8:64::/96"]);
        String::from_utf8_lossy(&out.stdout).contains("nat64")
    });

    // unbound: DNS64 with the plan's prefix, resolving through the IPv4-only server.
    let conf = dir.path().join("unbound.conf");
    fs::write(
        &conf,
        kube6_testnet::unbound::dns64_conf(
            &["2001:db8:1::1"],
            "2001:db8:64::/96",
            dir.path(),
            None,
            // unbound answers the RFC 6761 test. zone itself unless told not to.
            "  local-zone: \"test.\" nodefault\n",
            "forward-zone:\n  name: \".\"\n  forward-addr: 192.0.2.10@53\n",
        ),
    )
    .unwrap();
    gw.spawn("unbound", &["-d", "-c", conf.to_str().unwrap()], None);
    gw.wait_udp_listener(53);

    node.etc_file(
        "resolv.conf",
        "nameserver 2001:db8:1::1\noptions timeout:1 attempts:2\n",
    );
    // host check reads <root>/etc/resolv.conf: the node's own.
    let root = scratch_dir("nat64-root");
    fs::create_dir_all(root.path().join("etc")).unwrap();
    fs::write(
        root.path().join("etc/resolv.conf"),
        "nameserver 2001:db8:1::1\n",
    )
    .unwrap();
    Lab {
        node,
        gw,
        _server: server,
        tayga,
        root,
        _dir: dir,
    }
}

fn host_check(lab: &Lab, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut args = vec![
        "host",
        "check",
        "-o",
        "json",
        "--root",
        lab.root.path().to_str().unwrap(),
        "--proc-sys",
        "/proc/sys",
        "--hostname",
        "node1",
        "--family",
        "IPv6",
        "--require-dns64",
    ];
    args.extend_from_slice(extra);
    let out = lab.node.exec(KUBE6, &args);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", describe(&out)));
    (out.status.code(), doc)
}

fn check<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check: {doc:#}"))
}

#[test]
fn an_ipv6_only_node_reaches_an_ipv4_only_server_through_tayga() {
    if !require(
        "NAT64 netns test",
        &["tayga", "unbound", "dnsmasq", "ss", "sh"],
    ) {
        return;
    }
    let mut lab = lab();
    let (_, doc) = host_check(&lab, &["--nat64-target", "registry.v4.test:53"]);
    let dns64 = check(&doc, "dns64");
    assert_eq!(dns64["status"], "pass", "{dns64:#}");
    assert!(
        dns64["summary"]
            .as_str()
            .unwrap()
            .contains("2001:db8:64::/96")
    );
    let resolvers = check(&doc, "resolvers");
    assert_eq!(resolvers["status"], "pass", "{resolvers:#}");
    let nat64 = check(&doc, "nat64");
    assert_eq!(nat64["status"], "pass", "{nat64:#}");
    // 192.0.2.10 written into the prefix (RFC 6052): 2001:db8:64::c000:20a.
    assert!(
        nat64["summary"]
            .as_str()
            .unwrap()
            .contains("[2001:db8:64::c000:20a]:53"),
        "{nat64:#}"
    );

    // Registries per family: one IPv4-only (through NAT64), one with AAAA (over IPv6), one
    // that answers nowhere; the first is also the default NAT64 target.
    let (code, doc) = host_check(
        &lab,
        &[
            "--registry",
            "registry.v4.test:53,registry.v6.test:53,registry.none.test:53",
        ],
    );
    let registries = check(&doc, "registries");
    assert_eq!(registries["status"], "fail", "{registries:#}");
    assert_eq!(code, Some(1));
    let summary = registries["summary"].as_str().unwrap();
    assert!(summary.contains("registry.none.test"), "{registries:#}");
    assert!(!summary.contains("registry.v4.test"), "{registries:#}");
    let read: Vec<&str> = registries["read"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let line = |name: &str| {
        *read
            .iter()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no line for {name}: {read:?}"))
    };
    assert!(
        line("registry.v4.test").contains("AAAA no; IPv6 -; NAT64 ok ([2001:db8:64::c000:20a]:53)"),
        "{read:?}"
    );
    assert!(
        line("registry.v6.test").contains("AAAA yes (2001:db8:1::1); IPv6 ok"),
        "{read:?}"
    );
    assert!(line("registry.none.test").contains("NAT64 no"), "{read:?}");
    assert_eq!(check(&doc, "nat64")["status"], "pass");

    // Without the gateway's translator, DNS64 still answers but nothing connects.
    lab.gw.kill(lab.tayga);
    let (code, doc) = host_check(&lab, &["--nat64-target", "registry.v4.test:53"]);
    let nat64 = check(&doc, "nat64");
    assert_eq!(nat64["status"], "fail", "{nat64:#}");
    assert_eq!(code, Some(1));
    assert!(
        nat64["fix"].as_str().unwrap().contains("TAYGA"),
        "{nat64:#}"
    );
    assert!(Path::new(lab.root.path()).exists());
}
