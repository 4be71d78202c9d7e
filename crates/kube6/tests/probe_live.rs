//! `kube6 probe`'s orchestration against a local API server (kube6-testnet's `kube_api`): the
//! namespace, Services, DaemonSets, ConfigMap and runner pods it creates, the wait with its
//! progress and timeout, the logs it collects, and the clean-up on success, failure, timeout,
//! Ctrl-C and SIGTERM, and `--cleanup` by label. Every request is authorized by the ClusterRole
//! in deploy/probe/rbac.yaml: one it does not allow fails the test. No processes run as pods here
//! (the fake kubelet makes the runners' results); the namespace tests (probe_netns.rs) run the
//! real agents.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube6_net::Family;
use kube6_testnet::kube_api::{
    ApiServer, ClusterShape, FakeKubelet, cluster_role_rules, perfect_log,
};
use serde_json::{Value, json};

fn rbac() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/probe/rbac.yaml")
}

fn shape(families: &[Family]) -> ClusterShape {
    let ip = |s: &str| s.parse().unwrap();
    let node = |name: &str, v4: &str, v6: &str| {
        let mut ips = Vec::new();
        for f in families {
            ips.push(match f {
                Family::IPv4 => ip(v4),
                Family::IPv6 => ip(v6),
            });
        }
        (name.to_string(), ips)
    };
    ClusterShape {
        families: families.to_vec(),
        nodes: vec![
            node("cp-1", "192.0.2.10", "2001:db8:10::a"),
            node("worker-1", "192.0.2.11", "2001:db8:10::b"),
        ],
        dns: families
            .iter()
            .map(|f| match f {
                Family::IPv4 => ip("203.0.113.10"),
                Family::IPv6 => ip("2001:db8:30::a"),
            })
            .collect(),
    }
}

fn perfect() -> FakeKubelet {
    FakeKubelet::new(|spec, agent| perfect_log(spec, agent, &|_| None))
}

fn start(kubelet: Arc<FakeKubelet>, families: &[Family]) -> ApiServer {
    ApiServer::start(shape(families), kubelet, Some(cluster_role_rules(&rbac())))
}

fn command(server: &ApiServer, args: &[&str]) -> Command {
    let home = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_kube6"));
    command
        .arg("probe")
        .args(["--kubeconfig", server.kubeconfig().to_str().unwrap()])
        .args(["--image", "registry.example/kube6-probe:test"])
        .args(args)
        .env("NO_COLOR", "1")
        .env("KUBE6_PROBE_POLL_MS", "50")
        .env("HOME", home.keep())
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy");
    command
}

fn kube6(server: &ApiServer, args: &[&str]) -> Output {
    command(server, args).output().unwrap()
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

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The failed cells of a check.
fn failed_cells<'a>(report: &'a Value, id: &str) -> Vec<&'a Value> {
    check(report, id)["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .collect()
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
}

#[test]
fn a_run_creates_waits_collects_and_cleans_up() {
    let kubelet = Arc::new(perfect());
    let server = start(kubelet.clone(), &[Family::IPv6, Family::IPv4]);
    let out = kube6(
        &server,
        &[
            "--external",
            "dual.example:443",
            "--timeout",
            "20s",
            "-o",
            "json",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let report = json_out(&out);
    assert_eq!(report["status"], "pass", "{report:#}");
    assert_eq!(report["expectations"]["from"], json!(null));
    assert_eq!(report["expectations"]["source"]["from"], "cluster");
    assert_eq!(report["expectations"]["families"], json!(["IPv6", "IPv4"]));
    assert_eq!(report["nodes"], json!(["cp-1", "worker-1"]));
    let agents = check(&report, "K6P001");
    assert_eq!(agents["status"], "pass");
    assert_eq!(
        agents["cells"].as_array().unwrap().len(),
        8,
        "2 nodes × 2 agents × 2 families"
    );
    assert_eq!(check(&report, "K6P003")["status"], "pass");
    // Every check ran and passed but the two that cannot apply here: NAT64 (not in the cluster)
    // and ICMP echo (`probe local` only).
    for c in report["checks"].as_array().unwrap() {
        let want = if c["id"] == "K6P013" || c["id"] == "K6P015" {
            "skip"
        } else {
            "pass"
        };
        assert_eq!(c["status"], want, "{c:#}");
    }
    let cells: usize = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cells"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        report["totals"]["passed"].as_u64(),
        Some(cells as u64),
        "{}",
        report["totals"]
    );
    assert_eq!(report["totals"]["failed"], 0);

    // What was created, and that it is gone.
    let namespace = report["namespace"].as_str().unwrap().to_string();
    assert!(namespace.starts_with("kube6-probe-"), "{namespace}");
    assert!(server.namespaces().is_empty(), "{:?}", server.namespaces());
    assert_eq!(kubelet.deleted(), vec![namespace.clone()]);
    let requests = server.requests();
    let count = |prefix: &str| requests.iter().filter(|r| r.starts_with(prefix)).count();
    assert_eq!(count("POST /api/v1/namespaces "), 0);
    assert_eq!(
        count("POST /api/v1/namespaces"),
        1 + 5 + 1 + 4,
        "{requests:#?}"
    );
    assert_eq!(
        count(&format!("POST /api/v1/namespaces/{namespace}/services")),
        5
    );
    assert_eq!(
        count(&format!(
            "POST /apis/apps/v1/namespaces/{namespace}/daemonsets"
        )),
        2
    );
    assert_eq!(
        count(&format!("POST /api/v1/namespaces/{namespace}/configmaps")),
        1
    );
    assert_eq!(
        count(&format!("POST /api/v1/namespaces/{namespace}/pods")),
        4
    );
    assert_eq!(count(&format!("DELETE /api/v1/namespaces/{namespace}")), 1);
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.starts_with("GET ") && r.contains("/log"))
            .count(),
        4
    );
    assert!(server.forbidden().is_empty(), "{:?}", server.forbidden());
    // Progress and clean-up on stderr.
    assert!(
        err.contains(&format!("created namespace/{namespace}")),
        "{err}"
    );
    assert!(err.contains("waiting: agents ready"), "{err}");
    assert!(
        err.contains(&format!("deleted namespace/{namespace}")),
        "{err}"
    );
}

#[test]
fn text_and_junit_show_the_matrix_and_every_cell() {
    let server = start(Arc::new(perfect()), &[Family::IPv4, Family::IPv6]);
    let out = kube6(&server, &["--timeout", "20s"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("pass     K6P003  pod-to-pod-cross-node"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("IPv6 ") && l.ends_with("cp-1  worker-1")),
        "{text}"
    );
    assert!(text.contains("cp-1 (pod)"), "{text}");
    assert!(text.contains("Result:"), "{text}");

    let out = kube6(&server, &["--timeout", "20s", "-o", "junit"]);
    assert_eq!(out.status.code(), Some(0));
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains("<testsuite name=\"K6P003 pod-to-pod-cross-node\""),
        "{xml}"
    );
    assert!(xml.contains("classname=\"K6P001.agents\""), "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
}

#[test]
fn failures_name_their_cause_and_make_the_exit_status_1_unless_ignored() {
    // The IPv6 ClusterIPs answer nothing: kube-proxy without IPv6.
    let kubelet = FakeKubelet::new(|spec, agent| {
        perfect_log(spec, agent, &|task| {
            use kube6_probe::plan::Action;
            match &task.action {
                Action::Connect { address, .. }
                    if task.check.id == "K6P006" && address.is_ipv6() =>
                {
                    Some(kube6_probe::Outcome::TimedOut {
                        address: address.ip(),
                    })
                }
                _ => None,
            }
        })
    });
    let server = start(Arc::new(kubelet), &[Family::IPv4, Family::IPv6]);
    let out = kube6(&server, &["--timeout", "20s", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json_out(&out);
    let cip = check(&report, "K6P006");
    assert_eq!(cip["status"], "fail");
    for cell in cip["cells"].as_array().unwrap() {
        if cell["family"] == "IPv6" {
            assert_eq!(cell["status"], "fail");
            assert_eq!(cell["cause"]["kind"], "service-proxy", "{cell:#}");
            assert!(
                cell["objects"][1]
                    .as_str()
                    .unwrap()
                    .starts_with("service/kube6-probe-")
            );
        } else {
            assert_eq!(cell["status"], "pass");
        }
    }
    assert_eq!(
        report["totals"]["failed"], 4,
        "2 agents × (SingleStack + dual)"
    );
    let text = kube6(&server, &["--timeout", "20s"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("likely cause (service-proxy)"), "{text}");

    let out = kube6(
        &server,
        &["--timeout", "20s", "--ignore", "cluster-ip", "-o", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json_out(&out);
    assert_eq!(check(&report, "K6P006")["status"], "ignored");
    assert_eq!(check(&report, "K6P006")["ignoredStatus"], "fail");
    assert_eq!(report["totals"]["ignored"], 4);

    let out = kube6(&server, &["--ignore", "no-such-check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown check \"no-such-check\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn agents_that_never_start_fail_their_check_and_the_rest_is_still_reported() {
    let mut kubelet = perfect();
    kubelet.never_ready = vec![("worker-1".to_string(), "ImagePullBackOff".to_string())];
    let kubelet = Arc::new(kubelet);
    let server = start(kubelet.clone(), &[Family::IPv6]);
    let started = Instant::now();
    let out = kube6(&server, &["--timeout", "2s", "-o", "json"]);
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("gave up waiting for agents ready after 2 s"),
        "{}",
        stderr(&out)
    );
    let report = json_out(&out);
    let agents = check(&report, "K6P001");
    assert_eq!(agents["status"], "fail");
    let failed: Vec<&Value> = agents["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .collect();
    assert_eq!(failed.len(), 2, "{agents:#}");
    assert!(failed.iter().all(|c| c["to"] == "worker-1"));
    assert!(
        failed[0]["detail"]
            .as_str()
            .unwrap()
            .contains("ImagePullBackOff"),
        "{:#}",
        failed[0]
    );
    assert_eq!(failed[0]["cause"]["kind"], "agent");
    // cp-1's agents still ran their tests.
    assert_eq!(check(&report, "K6P002")["status"], "pass");
    assert!(server.namespaces().is_empty());
}

#[test]
fn results_that_cannot_be_read_fail_rather_than_pass() {
    let mut rules = cluster_role_rules(&rbac());
    rules.retain(|r| !r.resources.iter().any(|x| x == "pods/log"));
    let server = ApiServer::start(shape(&[Family::IPv6]), Arc::new(perfect()), Some(rules));
    let out = kube6(&server, &["--timeout", "20s", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json_out(&out);
    let silent = failed_cells(&report, "K6P001");
    assert_eq!(silent.len(), 4, "{report:#}");
    assert!(
        silent[0]["cause"]["message"]
            .as_str()
            .unwrap()
            .contains("pods/log"),
        "{:#}",
        silent[0]
    );
    assert_eq!(server.forbidden().len(), 4);
    assert!(server.namespaces().is_empty());
}

/// A runner's log larger than --max-response-size is not read past the limit: its cells fail
/// naming the limit and the flag that raises it, and the namespace still goes.
#[test]
fn a_log_larger_than_the_response_limit_fails_its_cells_with_the_limit_named() {
    let noisy = FakeKubelet::new(|spec, agent| {
        let noise = "x".repeat(1023) + "\n";
        noise.repeat(2048) + &perfect_log(spec, agent, &|_| None)
    });
    let server = start(Arc::new(noisy), &[Family::IPv6]);
    let out = kube6(
        &server,
        &[
            "--timeout",
            "20s",
            "--max-response-size",
            "1Mi",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json_out(&out);
    let failed = failed_cells(&report, "K6P001");
    assert!(!failed.is_empty(), "{report:#}");
    for cell in failed {
        let detail = cell["detail"].as_str().unwrap();
        assert!(
            detail.contains("cannot read the log of pod/")
                && detail.contains(
                    "the answer is larger than 1 MiB, the most kube6 takes of one answer \
                     (raise it with --max-response-size)"
                ),
            "{cell:#}"
        );
    }
    assert!(server.namespaces().is_empty());
}

#[test]
fn a_refused_create_cleans_up_and_exits_1() {
    let server = start(Arc::new(perfect()), &[Family::IPv6]);
    server.fail("POST /apis/apps/v1/");
    let out = kube6(&server, &["--timeout", "20s"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("kube6: cannot create the probe's daemonset/kube6-probe-pod"),
        "{err}"
    );
    assert!(err.contains("deleted namespace/kube6-probe-"), "{err}");
    assert!(server.namespaces().is_empty());
}

/// Ctrl-C (SIGINT) and SIGTERM while waiting: the namespace goes, the exit status is 130.
#[test]
fn an_interrupted_run_removes_its_namespace() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let mut kubelet = perfect();
        // Runners that never finish: the run waits until it is interrupted.
        kubelet.runner_reads = u32::MAX;
        let server = start(Arc::new(kubelet), &[Family::IPv6]);
        let child = command(&server, &["--timeout", "60s"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while !server
            .requests()
            .iter()
            .any(|r| r.starts_with("GET ") && r.contains("probe-role%3Drunner"))
        {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{:?}",
                server.requests()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(server.namespaces().len(), 1);
        // SAFETY: the pid of a child this test started and has not reaped.
        unsafe { libc::kill(child.id() as i32, signal) };
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(130), "{err}");
        assert!(
            err.contains("interrupted; the probe's namespace kube6-probe-"),
            "{err}"
        );
        assert!(err.contains("was deleted"), "{err}");
        assert!(server.namespaces().is_empty(), "{:?}", server.namespaces());
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn cleanup_removes_what_earlier_runs_left_by_label() {
    let server = start(Arc::new(perfect()), &[Family::IPv6]);
    let labelled = |name: &str| {
        json!({"metadata": {"name": name, "labels": {
            "app.kubernetes.io/name": "kube6-probe", "app.kubernetes.io/managed-by": "kube6"}}})
    };
    server.add_namespace(labelled("kube6-probe-old1"));
    server.add_namespace(labelled("kube6-probe-old2"));
    server.add_namespace(json!({"metadata": {"name": "kube6-probe-lookalike", "labels": {}}}));
    server.add_namespace(json!({"metadata": {"name": "default"}}));
    let out = kube6(&server, &["--cleanup"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text,
        "namespace/kube6-probe-old1 deleted\nnamespace/kube6-probe-old2 deleted\n"
    );
    assert_eq!(
        server.namespaces(),
        vec!["default".to_string(), "kube6-probe-lookalike".to_string()]
    );
    let out = kube6(&server, &["--cleanup"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("nothing to clean up"));
    assert!(server.forbidden().is_empty(), "{:?}", server.forbidden());
}

#[test]
fn an_ipv6_only_plan_with_nat64_sets_the_expectations() {
    let server = start(Arc::new(perfect()), &[Family::IPv6, Family::IPv4]);
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("cluster.yaml");
    std::fs::write(
        &plan,
        "apiVersion: kube6.dev/v1alpha1
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
",
    )
    .unwrap();
    let out = kube6(
        &server,
        &[
            "--plan",
            plan.to_str().unwrap(),
            "--external",
            "203.0.113.130:80",
            "--timeout",
            "20s",
            "-o",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json_out(&out);
    let e = &report["expectations"];
    assert_eq!(e["source"]["from"], "plan");
    assert_eq!(e["families"], json!(["IPv6"]));
    assert_eq!(e["nat64"], "2001:db8:64::/96");
    // Only the IPv6 single-stack Service is made; IPv4 is not tested, and the agents' IPv4
    // addresses are noted.
    let services = server.requests();
    assert!(!services.iter().any(|r| r.contains("kube6-probe-ipv4")));
    let agents = check(&report, "K6P001");
    assert!(
        agents["notes"][0]
            .as_str()
            .unwrap()
            .contains("IPv4 is not tested")
    );
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["cells"].as_array().unwrap())
            .all(|c| c["family"] == "IPv6")
    );
    // The IPv4-only address is reached through the NAT64 prefix.
    let nat64 = check(&report, "K6P013");
    assert_eq!(nat64["status"], "pass");
    assert_eq!(nat64["cells"][0]["to"], "203.0.113.130:80");
}

#[test]
fn no_cluster_is_a_usage_error_naming_probe_local() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kube6"))
        .arg("probe")
        .env("HOME", home.path())
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("kube6 probe local"),
        "{}",
        stderr(&out)
    );
}

/// docs/probe.md's check table is the catalog's.
#[test]
fn the_docs_hold_the_check_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let docs = std::fs::read_to_string(root.join("docs/probe.md")).unwrap();
    let marker = "<!-- The table is generated: `kube6 probe --list-checks --markdown`";
    let start = docs
        .find(marker)
        .expect("docs/probe.md has the generated table");
    let table: String = docs[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .map(|l| format!("{l}\n"))
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_kube6"))
        .args(["probe", "--list-checks", "--markdown"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        table == String::from_utf8_lossy(&out.stdout),
        "docs/probe.md's check table is stale: replace it with `kube6 probe --list-checks --markdown`"
    );
    // Every check is in it once.
    for check in kube6_probe::catalog::ALL {
        assert_eq!(
            table.matches(&format!("| {} |", check.id)).count(),
            1,
            "{}",
            check.id
        );
    }
}

/// Runners that never finish: the run gives up after --timeout, fails each agent's check with
/// the reason, and still removes its namespace.
#[test]
fn runners_that_do_not_finish_in_time_fail_and_the_namespace_goes() {
    let mut kubelet = perfect();
    kubelet.runner_reads = u32::MAX;
    let kubelet = Arc::new(kubelet);
    let server = start(kubelet.clone(), &[Family::IPv6]);
    let started = Instant::now();
    let out = kube6(&server, &["--timeout", "2s", "-o", "json"]);
    assert!(started.elapsed() < Duration::from_secs(20));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let report = json_out(&out);
    let silent = failed_cells(&report, "K6P001");
    assert_eq!(silent.len(), 4, "{report:#}");
    for cell in &silent {
        assert_eq!(cell["cause"]["kind"], "runner", "{cell:#}");
        assert!(
            cell["cause"]["message"]
                .as_str()
                .unwrap()
                .contains("did not finish in time"),
            "{cell:#}"
        );
    }
    // Nothing was judged from results that never came: no other check passed or failed.
    for c in report["checks"].as_array().unwrap() {
        if c["id"] != "K6P001" {
            assert!(
                c["cells"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|cell| cell["status"] != "pass"),
                "{c:#}"
            );
        }
    }
    assert!(server.namespaces().is_empty(), "{:?}", server.namespaces());
    assert_eq!(kubelet.deleted().len(), 1);
    assert!(err.contains("deleted namespace/kube6-probe-"), "{err}");
}
