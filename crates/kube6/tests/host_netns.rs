//! `kube6 host check` and `kube6 host fix` against the real kernel, in namespaces the tests
//! create: runtime values are the namespace's own `/proc/sys/net`, and the persistence part
//! goes to a temporary root (`--root`), never to the host's `/etc`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;
use std::time::Duration;

use kube6_testnet::{Netns, describe, require, scratch_dir, stdout, veth, wait_for};

const KUBE6: &str = env!("CARGO_BIN_EXE_kube6");

const HOSTNAME: &str = "node1.kube6.test";

/// A node namespace whose uplink up0 faces a router namespace (r0), with static addresses and
/// default route, and the hostname mapped to the node's address in its own /etc/hosts.
fn static_topology() -> (Netns, Netns) {
    let node = Netns::new("hn");
    let router = Netns::new("hr");
    veth(&node, "up0", &router, "r0");
    node.ip("addr add 2001:db8:1::10/64 dev up0 nodad");
    node.ip("-6 route add default via 2001:db8:1::1 dev up0");
    router.ip("addr add 2001:db8:1::1/64 dev r0 nodad");
    node.etc_file(
        "hosts",
        &format!("127.0.0.1 localhost\n::1 localhost\n2001:db8:1::10 {HOSTNAME}\n"),
    );
    (node, router)
}

fn host(ns: &Netns, root: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["host"];
    all.extend_from_slice(args);
    all.extend_from_slice(&[
        "--root",
        root.to_str().unwrap(),
        "--proc-sys",
        "/proc/sys",
        "--hostname",
        HOSTNAME,
    ]);
    ns.exec(KUBE6, &all)
}

fn check_json(ns: &Netns, root: &Path, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut args = vec!["check", "-o", "json"];
    args.extend_from_slice(extra);
    let out = host(ns, root, &args);
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", describe(&out)));
    (out.status.code(), doc)
}

fn status<'a>(doc: &'a serde_json::Value, id: &str) -> &'a str {
    doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {doc:#}"))["status"]
        .as_str()
        .unwrap()
}

#[test]
fn disabled_ipv6_fails_fix_repairs_and_second_fix_is_a_noop() {
    if !require("host fix netns test", &["sysctl"]) {
        return;
    }
    let (node, _router) = static_topology();
    let root = scratch_dir("host");
    let other = root.path().join("etc/sysctl.d/50-other.conf");
    fs::create_dir_all(other.parent().unwrap()).unwrap();
    fs::write(&other, "net.ipv6.conf.all.forwarding = 0\n").unwrap();

    node.sysctl_set("net.ipv6.conf.lo.disable_ipv6", "1");
    node.sysctl_set("net.ipv6.conf.default.disable_ipv6", "1");

    let (code, doc) = check_json(&node, root.path(), &[]);
    assert_eq!(code, Some(1), "{doc:#}");
    assert_eq!(status(&doc, "ipv6-enabled"), "fail", "{doc:#}");
    assert_eq!(status(&doc, "forwarding"), "fail", "{doc:#}");

    // For people: the failing check with what was read, why and the fix.
    let text = host(&node, root.path(), &["check"]);
    assert_eq!(text.status.code(), Some(1), "{}", describe(&text));
    let text = stdout(&text);
    assert!(
        text.lines()
            .any(|l| l.starts_with("FAIL     K6H001  ipv6-enabled")),
        "{text}"
    );
    assert!(
        text.contains("read: net.ipv6.conf.lo.disable_ipv6 = 1"),
        "{text}"
    );
    assert!(text.contains("why:"), "{text}");
    assert!(
        text.contains("fix:  kube6 host fix (sets net.ipv6.conf.default.disable_ipv6 = 0, net.ipv6.conf.lo.disable_ipv6 = 0)"),
        "{text}"
    );
    assert!(text.contains("not ready:"), "{text}");
    // Ignored, the failures are still shown but no longer fail the node.
    let (code, doc) = check_json(&node, root.path(), &["--ignore", "all"]);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(status(&doc, "ipv6-enabled"), "ignored", "{doc:#}");
    let ipv6 = doc["checks"][0].clone();
    assert_eq!(ipv6["id"], "K6H001");
    assert_eq!(ipv6["ignoredStatus"], "fail", "{doc:#}");
    let yaml = host(&node, root.path(), &["check", "-o", "yaml"]);
    let yaml: serde_json::Value = serde_saphyr::from_str(&stdout(&yaml)).unwrap();
    assert_eq!(yaml["status"], "fail");

    // `check --fix` is `fix`.
    let fixed = host(&node, root.path(), &["check", "--fix"]);
    assert_eq!(fixed.status.code(), Some(0), "{}", describe(&fixed));
    assert_eq!(node.sysctl("net.ipv6.conf.lo.disable_ipv6"), "0");
    assert_eq!(node.sysctl("net.ipv6.conf.default.disable_ipv6"), "0");
    assert_eq!(node.sysctl("net.ipv6.conf.all.forwarding"), "1");
    let file = root.path().join("etc/sysctl.d/90-kube6.conf");
    let written = fs::read_to_string(&file).unwrap();
    assert!(
        written.contains("net.ipv6.conf.all.forwarding = 1"),
        "{written}"
    );
    assert!(
        stdout(&fixed).contains("+net.ipv6.conf.all.forwarding = 1"),
        "{}",
        describe(&fixed)
    );
    assert_eq!(
        fs::read_to_string(&other).unwrap(),
        "net.ipv6.conf.all.forwarding = 0\n",
        "another file was touched"
    );

    let (code, doc) = check_json(&node, root.path(), &[]);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(status(&doc, "ipv6-enabled"), "pass");
    assert_eq!(status(&doc, "forwarding"), "pass");
    assert_eq!(status(&doc, "persistence"), "pass", "{doc:#}");
    assert_eq!(status(&doc, "node-ips"), "pass", "{doc:#}");
    assert_eq!(status(&doc, "hostname"), "pass", "{doc:#}");

    let modified = fs::metadata(&file).unwrap().modified().unwrap();
    let again = host(&node, root.path(), &["fix"]);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
    assert!(
        stdout(&again).contains("nothing to change"),
        "{}",
        describe(&again)
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), written);
    assert_eq!(fs::metadata(&file).unwrap().modified().unwrap(), modified);
    let entries = fs::read_dir(file.parent().unwrap()).unwrap().count();
    assert_eq!(entries, 2, "only our file and the other one");
}

#[test]
fn dry_run_changes_nothing() {
    if !require("host fix netns test", &["sysctl"]) {
        return;
    }
    let (node, _router) = static_topology();
    let root = scratch_dir("host");
    let out = host(&node, root.path(), &["fix", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stdout(&out).contains("would set net.ipv6.conf.all.forwarding: 0 -> 1"),
        "{}",
        describe(&out)
    );
    assert_eq!(node.sysctl("net.ipv6.conf.all.forwarding"), "0");
    assert!(!root.path().join("etc/sysctl.d/90-kube6.conf").exists());
}

/// The radvd config: frequent unsolicited advertisements with a default route and a SLAAC prefix.
const RADVD_CONF: &str = "interface r0 {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    AdvDefaultLifetime 600;
    prefix 2001:db8:2::/64 {
        AdvOnLink on;
        AdvAutonomous on;
    };
};
";

#[test]
fn forwarding_drops_the_ra_default_route_and_fix_brings_it_back() {
    if !require("host radvd netns test", &["sysctl", "radvd"]) {
        return;
    }
    let node = Netns::new("an");
    let mut router = Netns::new("ar");
    let tmp = scratch_dir("host");
    let root = tmp.path().join("root");
    fs::create_dir_all(&root).unwrap();
    let conf = tmp.path().join("radvd.conf");
    fs::write(&conf, RADVD_CONF).unwrap();
    router.sysctl_set("net.ipv6.conf.all.forwarding", "1");
    veth(&node, "up0", &router, "r0");
    router.spawn(
        "radvd",
        &[
            "--nodaemon",
            "--config",
            conf.to_str().unwrap(),
            "--pidfile",
            tmp.path().join("radvd.pid").to_str().unwrap(),
            "--logmethod",
            "stderr",
        ],
        None,
    );

    // The node learns its default route and an address from the advertisements.
    wait_for(Duration::from_secs(20), "the RA default route", || {
        node.default_route6().contains("proto ra")
    });
    assert_eq!(node.sysctl("net.ipv6.conf.up0.accept_ra"), "1");

    // Forwarding on with accept_ra = 1: the kernel drops the route learned from RAs.
    node.sysctl_set("net.ipv6.conf.all.forwarding", "1");
    wait_for(Duration::from_secs(5), "the RA default route to go", || {
        node.default_route6().is_empty()
    });
    // And it stays gone although radvd keeps advertising.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(
        node.default_route6(),
        "",
        "route came back without accept_ra = 2"
    );

    let (code, doc) = check_json(&node, &root, &[]);
    assert_eq!(code, Some(1), "{doc:#}");
    assert_eq!(doc["uplink"], "up0", "{doc:#}");
    assert_eq!(status(&doc, "accept-ra"), "fail", "{doc:#}");
    assert_eq!(status(&doc, "default-route"), "fail", "{doc:#}");

    let fixed = host(&node, &root, &["fix"]);
    assert!(
        stdout(&fixed).contains("set net.ipv6.conf.up0.accept_ra: 1 -> 2"),
        "{}",
        describe(&fixed)
    );
    assert_eq!(node.sysctl("net.ipv6.conf.up0.accept_ra"), "2");
    let written = fs::read_to_string(root.join("etc/sysctl.d/90-kube6.conf")).unwrap();
    let ra_line = written
        .find("net.ipv6.conf.up0.accept_ra = 2")
        .expect("accept_ra persisted");
    let fwd_line = written
        .find("net.ipv6.conf.all.forwarding = 1")
        .expect("forwarding persisted");
    assert!(
        ra_line < fwd_line,
        "accept_ra must be applied before forwarding:\n{written}"
    );

    wait_for(
        Duration::from_secs(20),
        "the RA default route to come back",
        || node.default_route6().contains("proto ra"),
    );
    let (_, doc) = check_json(&node, &root, &[]);
    assert_eq!(status(&doc, "accept-ra"), "pass", "{doc:#}");
    assert_eq!(status(&doc, "default-route"), "pass", "{doc:#}");
    assert_eq!(status(&doc, "forwarding"), "pass", "{doc:#}");

    let again = host(&node, &root, &["fix"]);
    assert!(
        stdout(&again).contains("nothing to change"),
        "{}",
        describe(&again)
    );
}

#[test]
fn all_disabled_ipv6_on_a_slaac_uplink_recovers_after_fix() {
    if !require("host radvd netns test", &["sysctl", "radvd"]) {
        return;
    }
    let node = Netns::new("sn");
    let mut router = Netns::new("sr");
    let tmp = scratch_dir("host");
    let root = tmp.path().join("root");
    fs::create_dir_all(&root).unwrap();
    let conf = tmp.path().join("radvd.conf");
    fs::write(&conf, RADVD_CONF).unwrap();
    router.sysctl_set("net.ipv6.conf.all.forwarding", "1");
    // IPv6 off everywhere before the link comes up; a fixed MAC gives a known SLAAC address.
    node.sysctl_set("net.ipv6.conf.all.disable_ipv6", "1");
    node.sysctl_set("net.ipv6.conf.default.disable_ipv6", "1");
    veth(&node, "up0", &router, "r0");
    node.ip("link set up0 down");
    node.ip("link set up0 address 02:00:00:00:00:10");
    node.ip("link set up0 up");
    node.etc_file(
        "hosts",
        &format!("127.0.0.1 localhost\n::1 localhost\n2001:db8:2::ff:fe00:10 {HOSTNAME}\n"),
    );
    router.spawn(
        "radvd",
        &[
            "--nodaemon",
            "--config",
            conf.to_str().unwrap(),
            "--pidfile",
            tmp.path().join("radvd.pid").to_str().unwrap(),
            "--logmethod",
            "stderr",
        ],
        None,
    );

    let (code, doc) = check_json(&node, &root, &["--uplink", "up0"]);
    assert_eq!(code, Some(1), "{doc:#}");
    assert_eq!(status(&doc, "ipv6-enabled"), "fail", "{doc:#}");
    assert_eq!(status(&doc, "uplink-address"), "fail", "{doc:#}");

    let fixed = host(&node, &root, &["fix", "--uplink", "up0"]);
    assert!(fixed.status.code().is_some(), "{}", describe(&fixed));
    assert_eq!(node.sysctl("net.ipv6.conf.all.disable_ipv6"), "0");
    assert_eq!(node.sysctl("net.ipv6.conf.up0.disable_ipv6"), "0");
    assert_eq!(node.sysctl("net.ipv6.conf.up0.accept_ra"), "2");
    assert_eq!(node.sysctl("net.ipv6.conf.all.forwarding"), "1");

    // The link-local address, the solicitation, the advertisement and DAD of the SLAAC
    // address take a few seconds; then every check passes.
    let mut last = serde_json::Value::Null;
    wait_for(Duration::from_secs(30), "the checks to pass", || {
        let (code, doc) = check_json(&node, &root, &["--uplink", "up0"]);
        last = doc;
        code == Some(0)
    });
    assert_eq!(status(&last, "default-route"), "pass", "{last:#}");
    assert_eq!(status(&last, "hostname"), "pass", "{last:#}");

    let again = host(&node, &root, &["fix", "--uplink", "up0"]);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
    assert!(
        stdout(&again).contains("nothing to change"),
        "{}",
        describe(&again)
    );
}
