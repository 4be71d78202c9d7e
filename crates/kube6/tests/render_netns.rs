//! Rendered host files against the real programs, in throwaway network namespaces:
//! the sysctl.d file applied with `sysctl -p` gives its values; the BIRD 2 configuration passes
//! `bird -p` and a BIRD peer learns the node's pod block from it; the ndppd.conf run by Debian's
//! ndppd makes a pod address reachable from the upstream router.
//!
//! Namespaces come from kube6-testnet: named with the pid, removed on drop (also when a test
//! panics), with the processes started in them; only
//! 2001:db8::/32, fd00::/8 and 192.0.2.0/24 are used and nothing leaves the namespaces. A test
//! that lacks root or a program fails under `CI=true` and is skipped (with the reason) elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use kube6_testnet::{Netns, require, veth};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs a program outside any namespace (parsers such as `bird -p`), whatever its status.
fn run(args: &[&str]) -> Output {
    Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {args:?}: {e}"))
}

/// Renders `input` for kubeadm into a fresh directory.
fn render(input: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kube6"))
        .current_dir(root())
        .args([
            "render",
            &input.display().to_string(),
            "--target",
            "kubeadm",
            "--out",
        ])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "render failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// Dual-stack, IPv6 first, flannel (which speaks no BGP itself): each node runs BIRD to
/// announce its global IPv6 pod block to the upstream router.
const BGP_SPEC: &str = "apiVersion: kube6.dev/v1alpha1
kind: ClusterNetwork
spec:
  distribution: kubeadm
  cni: flannel
  pods:
    - cidr: 2001:db8:100::/56
      nodeMaskSize: 64
    - cidr: 10.244.0.0/16
      nodeMaskSize: 24
  services: [fd00:20::/112, 10.96.0.0/16]
  api:
    address: 2001:db8:5::10
  nodes:
    - name: cp1
      role: controller+worker
      addresses: [2001:db8:5::10, 192.0.2.10]
    - name: worker1
      role: worker
      addresses: [2001:db8:5::11, 192.0.2.11]
  upstream:
    IPv6:
      mode: bgp
      uplink: eth0
      bgp: {peerAddress: 2001:db8:5::1, peerASN: 64500, localASN: 64512}
    IPv4:
      mode: masquerade
";

/// BGP_SPEC in a file.
fn bgp_spec() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bgp.yaml");
    std::fs::write(&path, BGP_SPEC).unwrap();
    (dir, path)
}

fn layout(name: &str) -> PathBuf {
    root().join(format!("crates/kube6-render/tests/layouts/{name}.yaml"))
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> Option<String>) -> String {
    let start = Instant::now();
    loop {
        if let Some(v) = done() {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn sysctl_file_applied_in_a_namespace_gives_its_values() {
    if !require(
        "sysctl_file_applied_in_a_namespace_gives_its_values",
        &["sysctl"],
    ) {
        return;
    }
    let dir = render(&layout("dual-ipv4-first"));
    let file = dir.path().join("out/host/cp1/sysctl.d/90-kube6.conf");
    let ns = Netns::new("sysctl");
    let other = Netns::new("sysctl-peer");
    veth(&ns, "eth0", &other, "up0");
    // Start from the opposite of what the file sets.
    ns.exec_ok("sysctl", &["-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
    ns.exec_ok("sysctl", &["-qw", "net.ipv6.conf.all.forwarding=0"]);
    ns.exec_ok("sysctl", &["-qw", "net.ipv4.ip_forward=0"]);
    ns.exec_ok("sysctl", &["-qw", "net.ipv6.conf.eth0.accept_ra=0"]);
    ns.exec_ok("sysctl", &["-p", &file.display().to_string()]);
    for (key, want) in [
        ("net.ipv6.conf.all.disable_ipv6", "0"),
        ("net.ipv6.conf.default.disable_ipv6", "0"),
        ("net.ipv6.conf.all.forwarding", "1"),
        ("net.ipv6.conf.default.forwarding", "1"),
        ("net.ipv4.ip_forward", "1"),
        ("net.ipv6.conf.eth0.accept_ra", "2"),
    ] {
        assert_eq!(ns.sysctl(key), want, "{key}");
    }
}

#[test]
fn bird_configs_parse() {
    if !require("bird_configs_parse", &["bird"]) {
        return;
    }
    let mut checked = 0;
    let (_spec_dir, spec) = bgp_spec();
    for (name, input) in [("ipv4", layout("ipv4")), ("bgp", spec)] {
        let dir = render(&input);
        for node in ["cp1", "worker1"] {
            let conf = dir.path().join(format!("out/host/{node}/bird.conf"));
            let out = run(&["bird", "-p", "-c", &conf.display().to_string()]);
            assert!(
                out.status.success(),
                "{name}/{node}: bird -p: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 4);
}

#[test]
fn bird_peer_learns_the_node_pod_block() {
    if !require("bird_peer_learns_the_node_pod_block", &["bird", "birdc"]) {
        return;
    }
    let (_spec_dir, spec) = bgp_spec();
    let dir = render(&spec);
    let conf = dir.path().join("out/host/cp1/bird.conf");
    let plan = Command::new(env!("CARGO_BIN_EXE_kube6"))
        .args(["plan", &spec.display().to_string(), "-o", "json"])
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let block = plan["nodes"][0]["podCIDRs"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(block.starts_with("2001:db8:100:"), "{block}");

    let mut node = Netns::new("bnode");
    let mut peer = Netns::new("bpeer");
    veth(&node, "eth0", &peer, "up0");
    node.exec_ok(
        "ip",
        &["addr", "add", "2001:db8:5::10/64", "dev", "eth0", "nodad"],
    );
    peer.exec_ok(
        "ip",
        &["addr", "add", "2001:db8:5::1/64", "dev", "up0", "nodad"],
    );
    let peer_conf = dir.path().join("peer.conf");
    std::fs::write(
        &peer_conf,
        "router id 192.0.2.1;\nprotocol device {\n}\nprotocol bgp node {\n    local 2001:db8:5::1 as 64500;\n    neighbor 2001:db8:5::10 as 64512;\n    connect delay time 1;\n    connect retry time 2;\n    ipv6 {\n        import all;\n        export none;\n    };\n}\n",
    )
    .unwrap();
    let node_sock = dir.path().join("node.ctl");
    let peer_sock = dir.path().join("peer.ctl");
    let _node_bird = node.spawn(
        "bird",
        &[
            "-f",
            "-c",
            &conf.display().to_string(),
            "-s",
            &node_sock.display().to_string(),
            "-P",
            &dir.path().join("node.pid").display().to_string(),
        ],
        Some(&dir.path().join("node.log")),
    );
    let _peer_bird = peer.spawn(
        "bird",
        &[
            "-f",
            "-c",
            &peer_conf.display().to_string(),
            "-s",
            &peer_sock.display().to_string(),
            "-P",
            &dir.path().join("peer.pid").display().to_string(),
        ],
        Some(&dir.path().join("peer.log")),
    );
    let sock = peer_sock.display().to_string();
    let routes = wait_for(
        "the peer to learn the pod block",
        Duration::from_secs(60),
        || {
            let out = peer.exec("birdc", &["-s", &sock, "show", "route"]);
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            text.contains(&block).then_some(text)
        },
    );
    assert!(
        routes.contains("2001:db8:5::10"),
        "next hop is the node: {routes}"
    );
    // Only the node's own block is announced, not the whole pod range.
    assert!(!routes.contains("2001:db8:100::/56"), "{routes}");
}

#[test]
fn ndppd_with_the_rendered_config_makes_a_pod_reachable() {
    if !require(
        "ndppd_with_the_rendered_config_makes_a_pod_reachable",
        &["ndppd", "ping"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("ndp.yaml");
    // The provider routes 2001:db8:1::/64 to the node as on-link; the pod range sits inside it.
    std::fs::write(
        &input,
        "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: kubeadm\n  pods:\n    - cidr: 2001:db8:1::10:0/108\n      nodeMaskSize: 120\n  services: [fd01::/112]\n  api:\n    address: 2001:db8:1::2\n  nodes:\n    - name: node1\n      role: controller+worker\n      addresses: [2001:db8:1::2]\n  upstream:\n    IPv6:\n      mode: ndp-proxy\n      uplink: n0\n",
    )
    .unwrap();
    let out = render(&input);
    let conf = out.path().join("out/host/node1/ndppd.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(
        text.contains("proxy n0 {") && text.contains("rule 2001:db8:1::10:0/120 {"),
        "{text}"
    );

    let rtr = Netns::new("rtr");
    let mut node = Netns::new("node");
    let pod = Netns::new("pod");
    veth(&rtr, "r0", &node, "n0");
    veth(&node, "p0", &pod, "eth0");
    rtr.exec_ok(
        "ip",
        &["addr", "add", "2001:db8:1::1/64", "dev", "r0", "nodad"],
    );
    node.exec_ok(
        "ip",
        &["addr", "add", "2001:db8:1::2/64", "dev", "n0", "nodad"],
    );
    node.exec_ok("sysctl", &["-qw", "net.ipv6.conf.all.forwarding=1"]);
    node.exec_ok("ip", &["addr", "add", "fe80::1/64", "dev", "p0", "nodad"]);
    node.exec_ok(
        "ip",
        &["-6", "route", "add", "2001:db8:1::10:0/120", "dev", "p0"],
    );
    pod.exec_ok(
        "ip",
        &[
            "addr",
            "add",
            "2001:db8:1::10:5/128",
            "dev",
            "eth0",
            "nodad",
        ],
    );
    pod.exec_ok(
        "ip",
        &[
            "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0",
        ],
    );

    // Without the proxy nobody answers the router's solicitation.
    let before = rtr.exec("ping", &["-c", "1", "-W", "1", "2001:db8:1::10:5"]);
    assert!(
        !before.status.success(),
        "the pod answered without the proxy"
    );
    rtr.exec_ok("ip", &["-6", "neigh", "flush", "dev", "r0"]);

    let _ndppd = node.spawn(
        "ndppd",
        &[
            "-c",
            &conf.display().to_string(),
            // Its own pid file next to its configuration, never the host's.
            "-p",
            &out.path().join("ndppd.pid").display().to_string(),
        ],
        Some(&out.path().join("ndppd.log")),
    );
    wait_for("ping through ndppd", Duration::from_secs(20), || {
        let ping = rtr.exec("ping", &["-c", "1", "-W", "1", "2001:db8:1::10:5"]);
        ping.status.success().then(String::new)
    });
    let neigh = rtr.exec_ok("ip", &["-6", "neigh", "show", "dev", "r0"]);
    assert!(neigh.contains("2001:db8:1::10:5"), "{neigh}");
    // An address outside the node's block stays unanswered.
    let other = rtr.exec("ping", &["-c", "1", "-W", "1", "2001:db8:1::11:5"]);
    assert!(!other.status.success());
}

/// One node of an IPv6-only cluster whose global pods the NDP proxy answers for, on uplink up0.
const NDP_NODE_SPEC: &str = "apiVersion: kube6.dev/v1alpha1
kind: ClusterNetwork
spec:
  distribution: kubeadm
  cni: calico
  pods:
    - cidr: 2001:db8:1:a::/104
      nodeMaskSize: 120
  services: [fd00:20::/108]
  nodes:
    - name: node1.kube6.test
      role: controller+worker
      addresses: [2001:db8:1::10]
  upstream:
    IPv6:
      mode: ndp-proxy
      uplink: up0
";

/// The rendered sysctl.d file and `kube6 host check --plan` come from one list of kernel
/// settings: a node that applies the file (and keeps it in /etc/sysctl.d) passes the check.
#[test]
fn applied_sysctl_file_passes_host_check_of_the_same_plan() {
    if !require(
        "applied_sysctl_file_passes_host_check_of_the_same_plan",
        &["sysctl"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("cluster.yaml");
    std::fs::write(&spec, NDP_NODE_SPEC).unwrap();
    let rendered = render(&spec);
    let file = rendered
        .path()
        .join("out/host/node1.kube6.test/sysctl.d/90-kube6.conf");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("proxy_ndp"), "{text}");

    let node = Netns::new("hcnode");
    let router = Netns::new("hcrtr");
    veth(&node, "up0", &router, "r0");
    node.ip("addr add 2001:db8:1::10/64 dev up0 nodad");
    node.ip("-6 route add default via 2001:db8:1::1 dev up0");
    router.ip("addr add 2001:db8:1::1/64 dev r0 nodad");
    node.etc_file(
        "hosts",
        "127.0.0.1 localhost\n::1 localhost\n2001:db8:1::10 node1.kube6.test\n",
    );
    // Start from the opposite of what the cluster needs.
    node.sysctl_set("net.ipv6.conf.all.forwarding", "0");
    node.sysctl_set("net.ipv6.conf.default.forwarding", "0");
    node.sysctl_set("net.ipv6.conf.lo.disable_ipv6", "1");
    let root = kube6_testnet::scratch_dir("hcroot");
    let check = || {
        node.exec(
            env!("CARGO_BIN_EXE_kube6"),
            &[
                "host",
                "check",
                "--plan",
                &spec.display().to_string(),
                "--node",
                "node1.kube6.test",
                "--root",
                root.path().to_str().unwrap(),
                "--proc-sys",
                "/proc/sys",
                "-o",
                "json",
            ],
        )
    };
    let before = check();
    assert_eq!(
        before.status.code(),
        Some(1),
        "{}",
        kube6_testnet::describe(&before)
    );

    // Install and apply the rendered file as its header says.
    let installed = root.path().join("etc/sysctl.d/90-kube6.conf");
    std::fs::create_dir_all(installed.parent().unwrap()).unwrap();
    std::fs::copy(&file, &installed).unwrap();
    node.exec_ok("sysctl", &["-p", &installed.display().to_string()]);
    let after = check();
    let doc: serde_json::Value = serde_json::from_slice(&after.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", kube6_testnet::describe(&after)));
    assert_eq!(after.status.code(), Some(0), "{doc:#}");
    let status = |id: &str| {
        doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == id)
            .unwrap_or_else(|| panic!("no check {id} in {doc:#}"))["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for id in ["ipv6-enabled", "forwarding", "accept-ra", "persistence"] {
        assert_eq!(status(id), "pass", "{id}: {doc:#}");
    }
    // The NDP proxy answers from user space: no proxy_ndp is required of the node.
    assert_eq!(status("proxy-ndp"), "skip", "{doc:#}");
}
