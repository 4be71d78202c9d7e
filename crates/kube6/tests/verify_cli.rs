//! `kube6 verify --dump`: exit statuses, text and JSON output, and what unreadable dumps get.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kube6_verify::synth::Shape;
use serde_json::{Value, json};

fn kube6(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kube6"))
        .args(args)
        .env("NO_COLOR", "1")
        // A live cluster must never be reached from these tests.
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        Files {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn write(&self, name: &str, content: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    fn dump(&self, name: &str, doc: &Value) -> PathBuf {
        self.write(name, serde_json::to_string_pretty(doc).unwrap().as_bytes())
    }

    fn plan(&self, shape: &Shape) -> PathBuf {
        self.write("config.yaml", shape.k3s_config().as_bytes())
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_clean_dump_passes_in_text_and_json() {
    let files = Files::new();
    let shape = Shape::dual_ipv6_first();
    let dump = files.dump("cluster.json", &shape.list());
    let plan = files.plan(&shape);

    let out = kube6(&["verify", "--dump", s(&dump), "--plan", s(&plan)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(text.contains("dual-stack, IPv6 primary"), "{text}");
    // cni-ipam has nothing to look at: Flannel uses the nodes' podCIDRs, judged by K6V003.
    assert!(text.contains("Result: 2 skipped, 11 passed"), "{text}");
    assert!(text.contains("kube-dns-service"), "{text}");

    let out = kube6(&[
        "verify",
        "--dump",
        s(&dump),
        "--plan",
        s(&plan),
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "pass");
    assert_eq!(report["checks"].as_array().unwrap().len(), 13);
    assert_eq!(report["checks"][0]["id"], "K6V001");
    assert_eq!(report["checks"][0]["name"], "input-coverage");
    assert_eq!(report["totals"]["passed"], 11);
    assert_eq!(report["expectations"]["ipam"]["mode"], "node-pod-cidrs");
    assert_eq!(report["expectations"]["families"], json!(["IPv6", "IPv4"]));
    assert_eq!(
        report["expectations"]["dns"]["clusterDNS"],
        json!(["fd00:43::a", "10.43.0.10"])
    );
    assert_eq!(report["objects"]["nodes"], 4);
    assert_eq!(report["summary"]["pods"]["dual"], 16);

    let out = kube6(&["verify", "--dump", s(&dump), "-o", "yaml"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("from: cluster"), "{}", stdout(&out));
}

#[test]
fn a_failed_check_exits_1_and_names_the_objects() {
    let files = Files::new();
    let shape = Shape::ipv6();
    let mut doc = shape.list();
    // Two pods with one address.
    let items = doc["items"].as_array_mut().unwrap();
    let ip = items
        .iter()
        .find(|i| i["metadata"]["name"] == "app-4-000004")
        .unwrap()["status"]["podIPs"]
        .clone();
    let other = items
        .iter_mut()
        .find(|i| i["metadata"]["name"] == "app-8-000008")
        .unwrap();
    other["status"]["podIPs"] = ip.clone();
    other["status"]["podIP"] = ip[0]["ip"].clone();
    let dump = files.dump("cluster.json", &doc);

    let out = kube6(&["verify", "--dump", s(&dump), "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "fail");
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "pod-ips-unique")
        .unwrap();
    assert_eq!(check["status"], "fail");
    assert_eq!(
        check["findings"][0]["objects"],
        json!(["pod/ns-4/app-4-000004", "pod/ns-8/app-8-000008"])
    );

    let out = kube6(&["verify", "--dump", s(&dump)]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("pod/ns-4/app-4-000004, pod/ns-8/app-8-000008: both pods have the address"),
        "{text}"
    );
    assert!(
        text.contains("Result: 1 failed, 4 skipped, 8 passed"),
        "{text}"
    );
}

#[test]
fn the_plan_decides_the_expected_addresses() {
    // The dump is IPv4 single-stack; a dual-stack plan expects IPv6 everywhere.
    let files = Files::new();
    let dump = files.dump("cluster.json", &Shape::ipv4().list());
    let plan = files.plan(&Shape::dual_ipv4_first());
    let out = kube6(&[
        "verify",
        "--dump",
        s(&dump),
        "--plan",
        s(&plan),
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let failed: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for id in [
        "node-addresses",
        "node-pod-cidrs",
        "pod-ips",
        "kube-dns-service",
    ] {
        assert!(failed.contains(&id), "{id} not in {failed:?}");
    }
}

#[test]
fn a_dump_split_over_files_is_one_cluster() {
    let files = Files::new();
    let shape = Shape::dual_ipv4_first();
    let items = shape.list()["items"].as_array().unwrap().clone();
    let (nodes, rest): (Vec<Value>, Vec<Value>) =
        items.into_iter().partition(|i| i["kind"] == "Node");
    let a = files.dump("nodes.json", &kube6_verify::synth::list(nodes));
    let b = files.dump("rest.json", &kube6_verify::synth::list(rest));
    let plan = files.plan(&shape);
    let out = kube6(&[
        "verify",
        "--dump",
        s(&a),
        s(&b),
        "--plan",
        s(&plan),
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["objects"]["nodes"], 4);
    assert_eq!(report["objects"]["pods"], 20);
    // Only the pods: a dump without Nodes cannot pass; what needs the Nodes skips.
    let out = kube6(&["verify", "--dump", s(&b), "--plan", s(&plan), "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let status = |name: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("input-coverage"), "fail");
    for name in ["node-addresses", "node-pod-cidrs", "host-network-pods"] {
        assert_eq!(status(name), "skip", "{name}");
    }
    assert_eq!(status("pod-ips"), "pass");
}

#[test]
fn unreadable_dumps_exit_2_with_file_and_reason() {
    let files = Files::new();
    let missing = files.dir.path().join("missing.json");
    let out = kube6(&["verify", "--dump", s(&missing)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(
        err,
        format!(
            "kube6: cannot read {}: No such file or directory (os error 2)\n",
            s(&missing)
        )
    );
    assert!(out.stdout.is_empty());

    let garbage = files.write(
        "garbage.json",
        b"{\n  \"kind\": \"List\",\n  \"items\": [oops]\n}\n",
    );
    let out = kube6(&["verify", "--dump", s(&garbage)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(
        err,
        format!(
            "kube6: cannot read {} as a kubectl dump: line 3, column 13: expected value\n",
            s(&garbage)
        )
    );

    let not_k8s = files.write("other.json", b"{\"hello\": \"world\"}");
    let out = kube6(&["verify", "--dump", s(&not_k8s)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "kube6: cannot read {} as a kubectl dump: neither a Kubernetes object",
            s(&not_k8s)
        )) && err.lines().count() == 1,
        "{err}"
    );

    let binary = files.write("binary.json", &[0x01, 0x80, 0xfe, 0x00, 0x01]);
    let out = kube6(&["verify", "--dump", s(&binary)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with(&format!(
            "kube6: cannot read {} as a kubectl dump: line 1, column 2: not UTF-8 text (byte 0x80)",
            s(&binary)
        )),
        "{}",
        stderr(&out)
    );

    // A good dump after a bad one still fails on the bad one.
    let good = files.dump("good.json", &Shape::ipv4().list());
    let out = kube6(&["verify", "--dump", s(&good), s(&garbage)]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn usage_errors_exit_2() {
    let files = Files::new();
    let dump = files.dump("cluster.json", &Shape::ipv4().list());
    let out = kube6(&["verify", "--dump", s(&dump), "--context", "prod"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not both"), "{}", stderr(&out));

    let out = kube6(&[
        "verify",
        "--dump",
        s(&dump),
        "--plan",
        "/nonexistent/plan.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/nonexistent/plan.yaml"));

    let out = kube6(&["verify", "--dump", s(&dump), "-o", "xml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_dump_on_standard_input() {
    use std::io::Write;
    use std::process::Stdio;
    let shape = Shape::dual_ipv4_first();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kube6"))
        .args(["verify", "--dump", "-", "-o", "json"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let text = serde_json::to_vec_pretty(&shape.list()).unwrap();
    child.stdin.take().unwrap().write_all(&text).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["objects"]["pods"], 20);
    assert_eq!(report["expectations"]["families"], json!(["IPv4", "IPv6"]));
}

#[test]
fn ignored_checks_are_reported_and_do_not_fail() {
    let files = Files::new();
    let shape = Shape::dual_ipv6_first();
    let mut doc = shape.list();
    // A dual-stack Service loses its IPv6 EndpointSlice.
    doc["items"]
        .as_array_mut()
        .unwrap()
        .retain(|i| i["metadata"]["name"] != "svc-00002-ipv6");
    let dump = files.dump("cluster.json", &doc);
    let plan = files.plan(&shape);
    let out = kube6(&["verify", "--dump", s(&dump), "--plan", s(&plan)]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    for ignore in ["K6V012", "endpointslice-families", "k6v012,pod-ips", "ALL"] {
        let out = kube6(&[
            "verify",
            "--dump",
            s(&dump),
            "--plan",
            s(&plan),
            "--ignore",
            ignore,
            "-o",
            "json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{ignore}: {}", stderr(&out));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let check = &report["checks"][11];
        assert_eq!(check["status"], "ignored", "{ignore}");
        assert_eq!(check["ignoredStatus"], "fail");
        assert!(!check["findings"].as_array().unwrap().is_empty());
        assert_eq!(report["totals"]["ignored"], 1);
        assert_eq!(report["status"], "pass");
        // Passing checks stay passed.
        assert_eq!(report["checks"][4]["status"], "pass", "{ignore}");
    }
    let out = kube6(&[
        "verify",
        "--dump",
        s(&dump),
        "--plan",
        s(&plan),
        "--ignore",
        "endpointslice-families",
    ]);
    let text = stdout(&out);
    assert!(
        text.contains("ignored  K6V012  endpointslice-families"),
        "{text}"
    );
    assert!(text.contains("(would fail)"), "{text}");
    assert!(
        text.contains("Result: 1 ignored, 2 skipped, 10 passed"),
        "{text}"
    );
    // --only: the one check named decides, every other is reported as ignored.
    let only = |check: &str| {
        let out = kube6(&[
            "verify",
            "--dump",
            s(&dump),
            "--plan",
            s(&plan),
            "--only",
            check,
            "-o",
            "json",
        ]);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), report)
    };
    let (code, report) = only("endpointslice-families");
    assert_eq!(code, Some(1));
    assert_eq!(report["checks"][11]["status"], "fail");
    // An ignored check that passes is reported as passed, as with --ignore.
    assert_eq!(report["checks"][4]["status"], "pass");
    let (code, report) = only("K6V005");
    assert_eq!(code, Some(0));
    assert_eq!(report["checks"][11]["status"], "ignored");
    assert_eq!(report["checks"][11]["ignoredStatus"], "fail");
    // --only and --ignore exclude each other.
    let out = kube6(&[
        "verify",
        "--dump",
        s(&dump),
        "--only",
        "K6V005",
        "--ignore",
        "K6V012",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // An unknown check is a usage error.
    let out = kube6(&["verify", "--dump", s(&dump), "--ignore", "pod-ip"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "kube6: unknown check \"pod-ip\": use a check id or name ({}) or `all`\n",
            kube6_verify::catalog::ALL
                .iter()
                .map(|c| format!("{} {}", c.id, c.name))
                .collect::<Vec<_>>()
                .join(", ")
        )
    );
}

/// docs/verify.md's check table is the catalog's.
#[test]
fn the_docs_hold_the_check_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let docs = std::fs::read_to_string(root.join("docs/verify.md")).unwrap();
    let marker = "<!-- The table is generated: `kube6 verify --list-checks --markdown`";
    let start = docs
        .find(marker)
        .expect("docs/verify.md has the generated table");
    let table: String = docs[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .map(|l| format!("{l}\n"))
        .collect();
    let generated = stdout(&kube6(&["verify", "--list-checks", "--markdown"]));
    assert!(
        table == generated,
        "docs/verify.md's check table is stale: replace it with `kube6 verify --list-checks --markdown`"
    );
}

#[test]
fn the_checks_are_listed() {
    let out = kube6(&["verify", "--list-checks"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("K6V004  cni-ipam"), "{text}");
    let out = kube6(&["verify", "--list-checks", "-o", "json"]);
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        kube6_verify::catalog::ALL.len()
    );
    assert!(list[0]["why"].as_str().unwrap().contains("Nodes"));
}

#[test]
fn yaml_dumps_utf8_marks_and_joined_documents_are_read() {
    let files = Files::new();
    let shape = Shape::dual_ipv4_first();
    let plan = files.plan(&shape);
    // kubectl -o yaml
    let yaml = serde_saphyr::to_string(&shape.list()).unwrap();
    let dump = files.write("cluster.yaml", yaml.as_bytes());
    let out = kube6(&[
        "verify",
        "--dump",
        s(&dump),
        "--plan",
        s(&plan),
        "-o",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["objects"]["pods"], 20);
    // PowerShell's `Out-File -Encoding utf8` writes a byte-order mark.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(serde_json::to_vec_pretty(&shape.list()).unwrap());
    let dump = files.write("bom.json", &bom);
    let out = kube6(&["verify", "--dump", s(&dump), "--plan", s(&plan)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    // Two kubectl outputs joined with cat.
    let items = shape.list()["items"].as_array().unwrap().clone();
    let (nodes, rest): (Vec<Value>, Vec<Value>) =
        items.into_iter().partition(|i| i["kind"] == "Node");
    let mut joined = serde_json::to_vec_pretty(&kube6_verify::synth::list(nodes)).unwrap();
    joined.push(b'\n');
    joined.extend(serde_json::to_vec_pretty(&kube6_verify::synth::list(rest)).unwrap());
    let dump = files.write("joined.json", &joined);
    let out = kube6(&[
        "verify",
        "--dump",
        s(&dump),
        "--plan",
        s(&plan),
        "-o",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["objects"]["nodes"], 4);
    assert_eq!(report["objects"]["pods"], 20);
}

#[test]
fn utf16_dumps_are_refused_with_a_way_out() {
    let files = Files::new();
    let text = serde_json::to_string_pretty(&Shape::ipv4().list()).unwrap();
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        utf16.extend(unit.to_le_bytes());
    }
    let dump = files.write("cluster.json", &utf16);
    let out = kube6(&["verify", "--dump", s(&dump)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(
        err,
        format!(
            "kube6: cannot read {} as a kubectl dump: the input is UTF-16 (little-endian, with a \
             byte-order mark), not UTF-8: Windows PowerShell writes UTF-16 when output is \
             redirected with `>`; kube6 reads UTF-8: in PowerShell write the dump with `kubectl \
             get nodes,pods,services,endpointslices -A -o json | Out-File -Encoding utf8 \
             cluster.json`, or from cmd or bash with `kubectl get nodes,pods,services,\
             endpointslices -A -o json > cluster.json`\n",
            s(&dump)
        )
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn cni_without_a_plan_names_the_ipam() {
    let files = Files::new();
    let dump = files.dump("cluster.json", &Shape::ipv4().list());
    let out = kube6(&[
        "verify",
        "--dump",
        s(&dump),
        "--cni",
        "calico",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["expectations"]["ipam"]["mode"], "calico-ipam");
    assert_eq!(report["expectations"]["ipam"]["cni"], "calico");
}

#[test]
fn joined_documents_and_yaml_on_standard_input() {
    use std::io::Write;
    use std::process::Stdio;
    let shape = Shape::dual_ipv6_first();
    let items = shape.list()["items"].as_array().unwrap().clone();
    let (nodes, rest): (Vec<Value>, Vec<Value>) =
        items.into_iter().partition(|i| i["kind"] == "Node");
    // `{ kubectl get nodes -o json; kubectl get pods,services,endpointslices -A -o json; }`
    let mut joined = serde_json::to_vec_pretty(&kube6_verify::synth::list(nodes)).unwrap();
    joined.push(b'\n');
    joined.extend(serde_json::to_vec_pretty(&kube6_verify::synth::list(rest)).unwrap());
    let yaml = serde_saphyr::to_string(&shape.list()).unwrap().into_bytes();
    for input in [joined, yaml] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kube6"))
            .args(["verify", "--dump", "-", "-o", "json"])
            .env("KUBECONFIG", "/nonexistent/kubeconfig")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["objects"]["nodes"], 4);
        assert_eq!(report["objects"]["pods"], 20);
    }
}
