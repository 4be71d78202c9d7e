//! `kube6 probe` on real kernels and real CNI plugins, no cluster: the local API server
//! (kube6-testnet's `kube_api`) with the namespace kubelet, which runs the agents and runners as
//! `kube6 probe agent` processes in pod namespaces attached by Debian's containernetworking-plugins
//! (`bridge` + `host-local`, both families) on two node namespaces routed to each other, Services
//! as nftables DNAT, unbound as the cluster DNS (with DNS64), TAYGA as NAT64, and an outside
//! namespace with IPv4-only and IPv6 servers (see kube6-testnet's `probe` module for the picture).
//!
//! Each test injects one fault and asserts that the right cells fail with the right cause and
//! every other cell passes; the first test injects none. Root, the namespaces and the programs
//! are required: under `CI=true` a missing one fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use kube6_net::Family;
use kube6_testnet::kube_api::{ApiServer, ClusterShape, NetKubelet, cluster_role_rules};
use kube6_testnet::probe::{self, ProbeNet, Stack};
use serde_json::Value;

fn rbac() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/probe/rbac.yaml")
}

/// Whether the test can run here (see [`kube6_testnet::probe::require`]).
fn can_run(test: &str) -> bool {
    probe::require(test)
}

/// The network and the API server in front of it.
struct Cluster {
    server: ApiServer,
    net: Arc<ProbeNet>,
}

/// The test network, its agents and outside servers running this build's kube6.
fn network(stack: Stack) -> ProbeNet {
    probe::set_kube6_bin(Path::new(env!("CARGO_BIN_EXE_kube6")));
    ProbeNet::build(stack)
}

fn cluster(stack: Stack) -> Cluster {
    let kube6 = Path::new(env!("CARGO_BIN_EXE_kube6"));
    let net = Arc::new(network(stack));
    let families = match stack {
        Stack::Dual => vec![Family::IPv4, Family::IPv6],
        Stack::Ipv6Only => vec![Family::IPv6],
    };
    let shape = ClusterShape {
        families,
        nodes: net
            .nodes
            .iter()
            .map(|n| (n.name.clone(), net.node_addresses(&n.name)))
            .collect(),
        dns: net
            .dns_servers()
            .iter()
            .map(|s| s.parse::<IpAddr>().unwrap())
            .collect(),
    };
    let kubelet = Arc::new(NetKubelet::new(net.clone(), kube6));
    let server = ApiServer::start(shape, kubelet, Some(cluster_role_rules(&rbac())));
    Cluster { server, net }
}

impl Cluster {
    fn probe(&self, args: &[&str]) -> Output {
        let home = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_kube6"))
            .arg("probe")
            .args(["--kubeconfig", self.server.kubeconfig().to_str().unwrap()])
            .args(["--image", "registry.example/kube6-probe:test"])
            .args(["--timeout", "60s", "--test-timeout", "2s", "-o", "json"])
            .args(args)
            .env("NO_COLOR", "1")
            .env("KUBE6_PROBE_POLL_MS", "100")
            .env("HOME", home.path())
            .env_remove("KUBECONFIG")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .output()
            .unwrap();
        // Whatever happened, the probe's namespace is gone and its processes with it.
        assert!(
            self.server
                .namespaces()
                .iter()
                .all(|n| !n.starts_with("kube6-probe-")),
            "{:?}",
            self.server.namespaces()
        );
        out
    }

    fn report(&self, args: &[&str], status: i32) -> Value {
        let out = self.probe(args);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("{e}: {}", kube6_testnet::describe(&out));
        });
        assert_eq!(
            out.status.code(),
            Some(status),
            "{report:#}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        report
    }
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

fn cells<'a>(report: &'a Value, id: &str) -> &'a Vec<Value> {
    check(report, id)["cells"].as_array().unwrap()
}

/// Every failed cell of the report, as (check id, cell).
fn failures(report: &Value) -> Vec<(String, Value)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            c["cells"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|cell| cell["status"] == "fail")
                .map(move |cell| (c["id"].as_str().unwrap().to_string(), cell.clone()))
        })
        .collect()
}

fn ids(failures: &[(String, Value)]) -> Vec<&str> {
    let mut ids: Vec<&str> = failures.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[test]
fn a_healthy_dual_stack_cluster_passes_every_check_with_real_traffic() {
    if !can_run("a_healthy_dual_stack_cluster_passes_every_check_with_real_traffic") {
        return;
    }
    let c = cluster(Stack::Dual);
    let report = c.report(
        &[
            "--external",
            "dual.example:80,203.0.113.130:80,[2001:db8:40::2]:80",
        ],
        0,
    );
    assert!(failures(&report).is_empty(), "{report:#}");
    assert_eq!(report["nodes"], serde_json::json!(["a", "b"]));
    for (id, families) in [
        ("K6P001", 2),
        ("K6P002", 2),
        ("K6P003", 2),
        ("K6P004", 2),
        ("K6P005", 2),
        ("K6P006", 2),
        ("K6P007", 2),
        ("K6P008", 2),
        ("K6P009", 2),
        ("K6P010", 2),
        ("K6P011", 2),
        ("K6P012", 2),
        ("K6P014", 2),
    ] {
        let check = check(&report, id);
        assert_eq!(check["status"], "pass", "{check:#}");
        let mut seen: Vec<&str> = cells(&report, id)
            .iter()
            .map(|c| c["family"].as_str().unwrap())
            .collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), families, "{id}: {check:#}");
    }
    // The agents answered from where they are: a pod's address of the node's pod block.
    let same_node = cells(&report, "K6P002");
    assert!(
        same_node
            .iter()
            .any(|c| c["observed"].to_string().contains("2001:db8:20:a:")),
        "{same_node:#?}"
    );
    assert_eq!(check(&report, "K6P013")["status"], "skip");
}

#[test]
fn a_lost_ipv4_route_between_nodes_fails_only_ipv4_cross_node_cells() {
    if !can_run("a_lost_ipv4_route_between_nodes_fails_only_ipv4_cross_node_cells") {
        return;
    }
    let c = cluster(Stack::Dual);
    // Node a forgets how to reach node b's IPv4 pods (a CNI that programmed one family).
    c.net.drop_pod_route("a", "b", false);
    let report = c.report(&["--no-mtu"], 1);
    let failed = failures(&report);
    // a's pods get no answer from b's; b's pods none from a (a's replies to them take the
    // default route to the router, which does not hairpin): not from a's pods, a's address,
    // nor a NodePort on it; a's host agent gets none from b's pods. Everything else passes:
    // IPv6, ClusterIPs (served on the sender's node), DNS, and b's host reaching a's pods (a
    // answers it on-link).
    let mut cells: Vec<(String, String, String)> = failed
        .iter()
        .map(|(id, cell)| {
            assert_eq!(cell["family"], "IPv4", "{id}: {cell:#}\n{report:#}");
            assert_eq!(
                cell["cause"]["kind"], "route-missing",
                "{id}: {cell:#}\n{report:#}"
            );
            (
                id.clone(),
                cell["from"].as_str().unwrap().to_string(),
                cell["to"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    cells.sort();
    let want = |id: &str, from: &str, to: &str| (id.to_string(), from.to_string(), to.to_string());
    assert_eq!(
        cells,
        vec![
            want("K6P003", "a/pod", "b"),
            want("K6P003", "b/pod", "a"),
            want("K6P004", "b/pod", "a"),
            want("K6P005", "a/host", "b"),
            want("K6P007", "b/pod", "a"),
        ],
        "{report:#}"
    );
    let message = failed[0].1["cause"]["message"].as_str().unwrap();
    assert!(message.contains("IPv4 route missing"), "{message}");
}

#[test]
fn a_smaller_mtu_on_the_way_with_packet_too_big_filtered_fails_path_mtu() {
    if !can_run("a_smaller_mtu_on_the_way_with_packet_too_big_filtered_fails_path_mtu") {
        return;
    }
    let c = cluster(Stack::Ipv6Only);
    // Healthy first: the pods' 1500 bytes cross, or PMTUD lowers them.
    c.net.uplink_mtu(1400);
    let report = c.report(&[], 0);
    let mtu = cells(&report, "K6P014");
    assert!(!mtu.is_empty());
    assert!(mtu.iter().all(|c| c["status"] == "pass"), "{mtu:#?}");
    assert!(
        mtu.iter()
            .any(|c| c["observed"].to_string().contains("1400")),
        "a Packet Too Big from the node lowered the path MTU: {mtu:#?}"
    );
    // Node a drops the Packet Too Big it should send: its pods' full-size packets vanish.
    c.net.filter_packet_too_big("a");
    let report = c.report(&[], 1);
    let failed = failures(&report);
    assert_eq!(ids(&failed), vec!["K6P014"], "{report:#}");
    for (_, cell) in &failed {
        assert_eq!(cell["from"], "a/pod", "{cell:#}");
        assert_eq!(cell["cause"]["kind"], "mtu", "{cell:#}");
    }
}

#[test]
fn a_cluster_dns_without_aaaa_fails_the_ipv6_name_checks() {
    if !can_run("a_cluster_dns_without_aaaa_fails_the_ipv6_name_checks") {
        return;
    }
    let c = cluster(Stack::Dual);
    c.net.dns_without_aaaa();
    let report = c.report(&["--no-mtu"], 1);
    let failed = failures(&report);
    assert_eq!(
        ids(&failed),
        vec!["K6P008", "K6P009", "K6P010"],
        "{report:#}"
    );
    for (id, cell) in &failed {
        assert_eq!(cell["family"], "IPv6", "{id}: {cell:#}");
        assert_eq!(cell["cause"]["kind"], "dns-no-aaaa", "{id}: {cell:#}");
    }
    for id in ["K6P008", "K6P009", "K6P010"] {
        assert!(
            cells(&report, id)
                .iter()
                .filter(|c| c["family"] == "IPv4")
                .all(|c| c["status"] == "pass")
        );
    }
}

const IPV6_ONLY_PLAN: &str = "apiVersion: kube6.dev/v1alpha1
kind: ClusterNetwork
metadata:
  name: lab
spec:
  distribution: kubeadm
  cni: calico
  pods:
    - cidr: 2001:db8:20::/56
      nodeMaskSize: 64
  services:
    - cidr: 2001:db8:30::/112
  clusterDomain: cluster.local
  nat64:
    prefix: 2001:db8:64::/96
";

#[test]
fn an_ipv6_only_cluster_reaches_ipv4_only_names_through_dns64_and_nat64_until_nat64_stops() {
    if !can_run(
        "an_ipv6_only_cluster_reaches_ipv4_only_names_through_dns64_and_nat64_until_nat64_stops",
    ) {
        return;
    }
    let c = cluster(Stack::Ipv6Only);
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("cluster.yaml");
    std::fs::write(&plan, IPV6_ONLY_PLAN).unwrap();
    let args = [
        "--plan",
        plan.to_str().unwrap(),
        "--external",
        "ipv4only.example:80,[2001:db8:40::2]:80",
        "--no-mtu",
    ];
    let report = c.report(&args, 0);
    assert!(failures(&report).is_empty(), "{report:#}");
    assert_eq!(report["expectations"]["nat64"], "2001:db8:64::/96");
    let nat64 = cells(&report, "K6P013");
    assert!(!nat64.is_empty());
    assert!(nat64.iter().all(|c| c["status"] == "pass"), "{nat64:#?}");
    // The IPv4-only name's AAAA is synthesized by DNS64 in the NAT64 prefix.
    let external = cells(&report, "K6P011");
    assert!(
        external
            .iter()
            .any(|c| c["observed"].to_string().contains("2001:db8:64::")),
        "{external:#?}"
    );

    c.net.stop_nat64();
    let report = c.report(&args, 1);
    let failed = failures(&report);
    assert!(!failed.is_empty());
    for (id, cell) in &failed {
        assert!(
            cell["to"].as_str().unwrap().contains("ipv4only.example"),
            "only the IPv4-only destination fails: {id}: {cell:#}"
        );
        assert_eq!(cell["cause"]["kind"], "no-nat64", "{id}: {cell:#}");
    }
    // The IPv6 destination is still reached.
    assert!(
        cells(&report, "K6P012")
            .iter()
            .filter(|c| c["to"].as_str().unwrap().starts_with("[2001:db8:40::2]"))
            .all(|c| c["status"] == "pass")
    );
}

#[test]
fn an_upstream_that_does_not_route_the_ipv6_pod_range_fails_pod_egress_only() {
    if !can_run("an_upstream_that_does_not_route_the_ipv6_pod_range_fails_pod_egress_only") {
        return;
    }
    let c = cluster(Stack::Dual);
    c.net.upstream_forgets_ipv6_pods();
    let report = c.report(
        &[
            "--external",
            "[2001:db8:40::2]:80,203.0.113.130:80",
            "--no-mtu",
        ],
        1,
    );
    let failed = failures(&report);
    assert_eq!(ids(&failed), vec!["K6P012"], "{report:#}");
    for (_, cell) in &failed {
        assert_eq!(cell["family"], "IPv6", "{cell:#}");
        assert!(cell["from"].as_str().unwrap().ends_with("/pod"), "{cell:#}");
        assert_eq!(cell["cause"]["kind"], "upstream-not-routing", "{cell:#}");
    }
    // The nodes themselves still reach the IPv6 server.
    assert!(
        cells(&report, "K6P012")
            .iter()
            .filter(|c| c["from"].as_str().unwrap().ends_with("/host"))
            .all(|c| c["status"] == "pass")
    );
}

/// `probe local`'s entries of one check.
fn local_results<'a>(report: &'a Value, id: &str) -> Vec<&'a Value> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["id"] == id)
        .collect()
}

/// `kube6 probe local` on node a, as an operator runs it on a node or a jump host.
fn probe_local(net: &ProbeNet, args: &[&str]) -> (Option<i32>, Value, String) {
    let out = net.nodes[0]
        .ns
        .command(env!("CARGO_BIN_EXE_kube6"))
        .args(["probe", "local", "--test-timeout", "2s", "-o", "json"])
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", kube6_testnet::describe(&out)));
    (
        out.status.code(),
        report,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn probe_local_tests_each_target_per_family_and_finds_a_path_mtu_black_hole() {
    if !can_run("probe_local_tests_each_target_per_family_and_finds_a_path_mtu_black_hole") {
        return;
    }
    let net = network(Stack::Dual);
    let targets = "dual.example:80,[2001:db8:40::2]:80,203.0.113.130:80";
    let (status, report, err) = probe_local(&net, &["--target", targets, "--mtu"]);
    assert_eq!(status, Some(0), "{report:#}\n{err}");
    assert_eq!(report["status"], "pass", "{report:#}");
    // One entry per target, family and test: the name resolved (A and AAAA from the DNS in
    // /etc/resolv.conf), connected, echoed, and the full 1500 bytes crossed; nothing else.
    let entries = report["results"].as_array().unwrap();
    assert_eq!(entries.len(), 2 + 4 + 4 + 4, "{report:#}");
    for (id, test, count) in [
        ("K6P011", "dns-external", 2),
        ("K6P012", "egress", 4),
        ("K6P014", "path-mtu", 4),
        ("K6P015", "icmp-echo", 4),
    ] {
        let cells = local_results(&report, id);
        assert_eq!(cells.len(), count, "{id}: {cells:#?}");
        assert!(
            cells
                .iter()
                .all(|c| c["status"] == "pass" && c["test"] == test && c["reason"].is_string()),
            "{cells:#?}"
        );
    }
    let families = |target: &str| {
        let mut f: Vec<&str> = entries
            .iter()
            .filter(|e| e["target"] == target && e["test"] == "egress")
            .map(|e| e["family"].as_str().unwrap())
            .collect();
        f.sort_unstable();
        f
    };
    assert_eq!(families("dual.example:80"), vec!["IPv4", "IPv6"]);
    assert_eq!(families("[2001:db8:40::2]:80"), vec!["IPv6"]);
    assert_eq!(families("203.0.113.130:80"), vec!["IPv4"]);

    // An IPv6 address in brackets without a port (as in a URL) is the address: echoed, as the
    // bare address is.
    for target in ["[2001:db8:40::2]", "2001:db8:40::2"] {
        let (status, report, err) = probe_local(&net, &["--target", target]);
        assert_eq!(status, Some(0), "{target}: {report:#}\n{err}");
        let echo = local_results(&report, "K6P015");
        assert_eq!(echo.len(), 1, "{target}: {report:#}");
        assert_eq!(echo[0]["status"], "pass", "{target}: {report:#}");
        assert_eq!(echo[0]["target"], "2001:db8:40::2", "{target}: {report:#}");
        assert_eq!(echo[0]["family"], "IPv6", "{target}: {report:#}");
    }

    // A link of MTU 1400 in the middle (the router's uplink): the router's Packet Too Big
    // (IPv6) and fragmentation-needed (IPv4) lower the path MTU, which is a pass.
    net.rtr.ip("link set out0 mtu 1400");
    net.outside.ip("link set eth0 mtu 1400");
    let (status, report, err) =
        probe_local(&net, &["--target", "2001:db8:40::2,203.0.113.130", "--mtu"]);
    assert_eq!(status, Some(0), "{report:#}\n{err}");
    let mtu = local_results(&report, "K6P014");
    assert_eq!(mtu.len(), 2, "{mtu:#?}");
    for cell in &mtu {
        assert_eq!(cell["status"], "pass", "{cell:#}");
        assert_eq!(cell["observed"]["pathMtu"], 1400, "{cell:#}");
    }
    let v6 = mtu.iter().find(|c| c["family"] == "IPv6").unwrap();
    assert_eq!(v6["observed"]["tooBigFrom"], "2001:db8:10::1", "{v6:#}");

    // The router filters ICMPv6 Packet Too Big: a black hole for full-size IPv6 packets. The
    // node forgets the path MTUs it learnt above (they would otherwise hold for ten minutes).
    net.nodes[0].ns.ip("-6 route flush cache");
    net.nodes[0].ns.ip("-4 route flush cache");
    probe::nft(
        &net.rtr,
        "table inet k6filter {\n  chain k6output {\n    type filter hook output priority 0; policy accept;\n    icmpv6 type packet-too-big drop\n  }\n}\n",
    );
    let (status, report, err) = probe_local(
        &net,
        &[
            "--target",
            "[2001:db8:40::2]:80,203.0.113.130:80,[2001:db8:40::2]:81",
            "--mtu",
        ],
    );
    assert_eq!(status, Some(1), "{report:#}\n{err}");
    let mut failed: Vec<(String, String, String, String)> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["family"].as_str().unwrap().to_string(),
                c["target"].as_str().unwrap().to_string(),
                c["cause"]["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    failed.sort();
    let row = |id: &str, to: &str, kind: &str| {
        (
            id.to_string(),
            "IPv6".to_string(),
            to.to_string(),
            kind.to_string(),
        )
    };
    assert_eq!(
        failed,
        vec![
            // Small packets and TCP's handshake still pass: only the full size vanishes.
            row("K6P012", "[2001:db8:40::2]:81", "not-listening"),
            row("K6P014", "2001:db8:40::2", "mtu"),
        ],
        "{report:#}"
    );
}
