//! The command-line contract: exit statuses, output formats, and what bad input gets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn kube6(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kube6"))
        .current_dir(root())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// A file in a fresh temporary directory.
fn temp_file(name: &str, content: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    (dir, path)
}

#[test]
fn plan_without_a_file_plans_the_builtin_example() {
    let out = kube6(&["plan"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("fd00::/108") && text.contains("512") && text.contains("2,048"),
        "{text}"
    );
    let out = kube6(&["plan", "-o", "json"]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["primaryFamily"], "IPv6");
    assert_eq!(plan["distribution"], "k0s");
    assert_eq!(plan["cni"], "kube-router");
}

#[test]
fn plan_yaml_output_is_yaml() {
    let out = kube6(&["plan", "-o", "yaml"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("primaryFamily: IPv6"), "{text}");
    assert!(text.contains("maxNodes: 512"), "{text}");
}

#[test]
fn invalid_input_still_prints_the_plan_with_exit_1() {
    let (_dir, path) = temp_file(
        "k0s.yaml",
        b"apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nspec:\n  network:\n    podCIDR: fd00::/108\n    serviceCIDR: fd01::/112\n",
    );
    let out = kube6(&["plan", path.to_str().unwrap(), "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["valid"], false);
    assert_eq!(
        plan["pods"][0]["maxNodes"], 512,
        "the computable parts are still there"
    );
    let ids: Vec<&str> = plan["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"K6E040") && ids.contains(&"K6E041"),
        "{ids:?}"
    );
    let d = plan["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "K6E041")
        .unwrap();
    for field in [
        "severity",
        "message",
        "path",
        "line",
        "column",
        "enforcedBy",
        "hint",
    ] {
        assert!(!d[field].is_null(), "diagnostic lacks {field}: {d}");
    }
}

#[test]
fn the_gate_on_the_command_line_makes_k0s_ipv6_valid() {
    let out = kube6(&["validate", "examples/k0s-ipv6-single-stack.yaml"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "without the gate k0s refuses IPv6 single-stack"
    );
    assert!(stdout(&out).contains("K6E040"));
    let out = kube6(&[
        "validate",
        "examples/k0s-ipv6-single-stack.yaml",
        "--feature-gates",
        "IPv6SingleStack=true",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn text_diagnostics_quote_the_offending_line() {
    let (_dir, path) = temp_file(
        "k0s.yaml",
        b"apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nspec:\n  network:\n    podCIDR: fd00::/108\n    serviceCIDR: fd01::/112\n",
    );
    let out = kube6(&[
        "validate",
        path.to_str().unwrap(),
        "--feature-gates",
        "IPv6SingleStack=true",
    ]);
    let text = stdout(&out);
    assert!(text.contains("error[K6E041]"), "{text}");
    assert!(text.contains(":6:18"), "{text}");
    assert!(text.contains("    serviceCIDR: fd01::/112"), "{text}");
    assert!(text.contains("fix: use fd01::/108"), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour when not on a terminal");
}

fn assert_usage_error(out: &Output, expect: &[&str]) {
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    for e in expect {
        assert!(err.contains(e), "{err:?} lacks {e:?}");
    }
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

#[test]
fn bad_input_exits_2_with_file_line_column_and_one_line() {
    let cases: &[(&str, &[u8], &[&str])] = &[
        ("syntax.yaml", b"spec:\n  network: [a, b\n  x: y\n", &["syntax.yaml:"]),
        ("empty.yaml", b"", &["empty.yaml", "no YAML document"]),
        ("comment.yaml", b"# nothing here\n", &["comment.yaml", "no YAML document"]),
        (
            "wrongtype.yaml",
            b"apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nspec:\n  network:\n    podCIDR: [fd00::/108]\n",
            &["wrongtype.yaml:5:14", "spec.network.podCIDR", "expected a string"],
        ),
        ("unknown.yaml", b"apiVersion: example.com/v1\nkind: Widget\n", &["unknown.yaml:2:7", "Widget"]),
        ("noformat.yaml", b"hello: world\n", &["noformat.yaml:1:1", "--format"]),
        ("scalar.yaml", b"just a string\n", &["scalar.yaml", "--format"]),
        (
            "dupkey.yaml",
            b"apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nkind: ClusterConfig\n",
            &["dupkey.yaml:3"],
        ),
        ("binary.yaml", b"\x7fELF\x02\x01\x01\x00garbage", &["binary.yaml", "not text"]),
        ("latin1.yaml", b"name: caf\xe9\n", &["latin1.yaml", "not UTF-8"]),
    ];
    for (name, content, expect) in cases {
        let (_dir, path) = temp_file(name, content);
        for command in ["plan", "validate"] {
            let out = kube6(&[command, path.to_str().unwrap()]);
            assert_usage_error(&out, expect);
        }
    }
}

#[test]
fn yaml_bombs_and_oversized_files_are_refused() {
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..15 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let (_dir, path) = temp_file("bomb.yaml", bomb.as_bytes());
    let started = std::time::Instant::now();
    assert_usage_error(&kube6(&["plan", path.to_str().unwrap()]), &["bomb.yaml"]);
    assert!(
        started.elapsed().as_secs() < 10,
        "a bomb must be refused quickly"
    );

    let big = "# padding\n".repeat(1_700_000);
    let (_dir, path) = temp_file("big.yaml", big.as_bytes());
    assert_usage_error(
        &kube6(&["plan", path.to_str().unwrap()]),
        &["big.yaml", "larger than 16 MiB"],
    );

    let deep = "[".repeat(10_000);
    let (_dir, path) = temp_file("deep.yaml", deep.as_bytes());
    assert_usage_error(&kube6(&["plan", path.to_str().unwrap()]), &["deep.yaml"]);
}

#[test]
fn missing_files_and_directories_exit_2() {
    assert_usage_error(
        &kube6(&["plan", "does/not/exist.yaml"]),
        &["does/not/exist.yaml"],
    );
    assert_usage_error(
        &kube6(&["validate", "examples"]),
        &["examples", "directory"],
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        kube6(&["plan", "--feature-gates", "IPv6SingleStack=maybe"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        kube6(&["plan", "--format", "yamlish"]).status.code(),
        Some(2)
    );
    assert_eq!(kube6(&["validate"]).status.code(), Some(2));
    assert_eq!(kube6(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn validate_checks_every_file_and_reports_the_worst() {
    let out = kube6(&[
        "validate",
        "examples/k0s-dual-stack.yaml",
        "examples/kkp-dual-stack.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = kube6(&[
        "validate",
        "examples/k0s-dual-stack.yaml",
        "examples/k0s-ipv6-single-stack.yaml",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(report["files"].as_array().unwrap().len(), 2);
    let out = kube6(&["validate", "examples/k0s-dual-stack.yaml", "missing.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("k0s-dual-stack.yaml: valid"),
        "the readable file is still checked"
    );
}

#[test]
fn format_override_and_unknown_field_warnings() {
    let (_dir, path) = temp_file("config.yaml", b"cluster-cidr: fd00:42::/56\nservice-cidr: fd00:43::/112\nnode-ip: 2001:db8::10\nflanel-ipv6-masq: true\n");
    let out = kube6(&[
        "validate",
        path.to_str().unwrap(),
        "--format",
        "k3s",
        "-o",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warning = report["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "K6W900")
        .cloned();
    let warning = warning.expect("an unknown-field warning");
    assert!(
        warning["hint"]
            .as_str()
            .unwrap()
            .contains("flannel-ipv6-masq"),
        "{warning}"
    );
    assert_eq!(warning["line"], 4);
    let out = kube6(&["validate", path.to_str().unwrap(), "--format", "k0s"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "forcing the wrong format is refused: {}",
        stderr(&out)
    );
}

#[test]
fn rules_lists_every_rule_and_docs_are_current() {
    let out = kube6(&["rules", "-o", "json"]);
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = rules.as_array().unwrap();
    assert!(rules.len() >= 50, "{}", rules.len());
    assert!(
        rules.iter().all(|r| r["id"].is_string()
            && r["enforcedBy"].is_string()
            && r["summary"].is_string())
    );
    let text = stdout(&kube6(&["rules"]));
    assert!(text.contains("K6E041") && text.contains("kube-apiserver"));
    let markdown = stdout(&kube6(&["rules", "--markdown"]));
    let docs = std::fs::read_to_string(root().join("docs/rules.md")).unwrap_or_default();
    assert!(
        docs == markdown,
        "docs/rules.md is stale: regenerate it with `cargo run -q -p kube6 -- rules --markdown > docs/rules.md`"
    );
}

#[test]
fn schema_is_json_schema_for_the_kube6_format() {
    let out = kube6(&["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        schema["properties"]["apiVersion"]["const"],
        "kube6.dev/v1alpha1"
    );
}

#[test]
fn node_ip_takes_expectations_from_a_plan() {
    // A node name the plan does not declare is a usage error that lists the declared ones.
    let out = kube6(&[
        "node-ip",
        "--plan",
        "examples/kube6-ipv6-single-stack.yaml",
        "--node",
        "nope",
    ]);
    assert_usage_error(&out, &["nope", "cp1, worker1, worker2"]);
    // The plan's address for cp1 is a documentation address this host does not have: the
    // explicit choice is reported as unusable (exit 1), with the plan's family.
    let out = kube6(&[
        "node-ip",
        "--plan",
        "examples/kube6-ipv6-single-stack.yaml",
        "--node",
        "cp1",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["families"], serde_json::json!(["IPv6"]));
    assert_eq!(doc["choices"][0]["source"], "explicit");
    assert_eq!(doc["choices"][0]["address"], "2001:db8:7:1::10");
}

#[test]
fn completions_and_man_pages() {
    // kubectl's spelling; the old one still works but is not advertised.
    let out = kube6(&["completion", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("_kube6()"));
    let old = kube6(&["completions", "bash"]);
    assert_eq!(old.status.code(), Some(0));
    assert_eq!(old.stdout, out.stdout);
    let help = stdout(&kube6(&["--help"]));
    assert!(help.contains("  completion "), "{help}");
    assert!(!help.contains("completions"), "{help}");
    // The script completes the enum-valued flags with their values.
    let script = stdout(&kube6(&["completion", "bash"]));
    assert!(
        script.contains("kubeadm k3s rke2 k0s kkp"),
        "--target values"
    );
    let out = kube6(&["man"]);
    assert!(stdout(&out).contains(".TH kube6 1"));
    let out = kube6(&["man", "plan"]);
    assert!(stdout(&out).contains(".TH kube6-plan 1"));
    assert_usage_error(&kube6(&["man", "nope"]), &["nope"]);
}

#[test]
fn ndp_proxy_takes_its_prefixes_from_a_plan() {
    let plan = "examples/kube6-ipv6-single-stack.yaml";
    // One node: its own pod block, answered at once, as `kube6 render` writes it.
    let out = kube6(&["ndp-proxy", "--plan", plan, "--node", "worker1", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("uplink eth0"), "{text}");
    assert!(text.contains("2001:db8:7:1:a::800/117=static"), "{text}");
    // No node: the whole pod range, answered when the route leads away from the uplink.
    let out = kube6(&["ndp-proxy", "--plan", plan, "--check", "--uplink", "ens3"]);
    assert!(
        stdout(&out).contains("uplink ens3")
            && stdout(&out).contains("2001:db8:7:1:a::/108=routed")
    );
    assert_usage_error(
        &kube6(&["ndp-proxy", "--plan", plan, "--node", "nope", "--check"]),
        &["nope"],
    );
    assert_usage_error(
        &kube6(&[
            "ndp-proxy",
            "--plan",
            "examples/k0s-dual-stack.yaml",
            "--check",
        ]),
        &["--uplink"],
    );
}

/// `--help` lists what every enum-valued flag accepts, from the same derived lists the parsers
/// use: a new format, CNI or target shows up without anyone editing a help text.
#[test]
fn help_lists_the_accepted_values() {
    use kube6_model::model::{Cni, Format};
    use kube6_render::{KubeadmApi, Target};
    let names = |list: Vec<&str>| format!("[possible values: {}]", list.join(", "));
    let formats = names(Format::ALL.iter().map(|f| f.as_str()).collect());
    let written = names(
        Format::ALL
            .iter()
            .filter(|f| **f != Format::K3sArgs)
            .map(|f| f.as_str())
            .collect(),
    );
    let cnis = names(Cni::ALL.iter().map(|c| c.as_str()).collect());
    let targets = names(Target::ALL.iter().map(|t| t.as_str()).collect());
    let apis = names(KubeadmApi::ALL.iter().map(|a| a.as_str()).collect());
    let upstreams = names(
        kube6_host::expect::Upstream::ALL
            .iter()
            .map(|u| u.as_str())
            .collect(),
    );
    // The help is wrapped to the terminal's width: compare with the words rejoined.
    let help = |args: &[&str]| {
        let mut all = args.to_vec();
        all.push("-h");
        let out = kube6(&all);
        assert_eq!(out.status.code(), Some(0));
        stdout(&out)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    for command in [
        &["validate"][..],
        &["plan"],
        &["verify"],
        &["host", "check"],
    ] {
        let text = help(command);
        assert!(text.contains(&formats), "{command:?} --format: {text}");
        assert!(text.contains(&cnis), "{command:?} --cni: {text}");
    }
    let render = help(&["render"]);
    for expected in [&targets, &formats, &cnis, &apis] {
        assert!(
            render.contains(expected.as_str()),
            "render lacks {expected}: {render}"
        );
    }
    let convert = help(&["convert"]);
    assert!(convert.contains(&written), "convert --to: {convert}");
    assert!(convert.contains(&apis), "convert --kubeadm-api: {convert}");
    let host = help(&["host", "check"]);
    assert!(host.contains(&upstreams), "host check --upstream: {host}");
    for command in [
        &["ndp-proxy"][..],
        &["plan"],
        &["host", "fix"],
        &["node-ip"],
    ] {
        let text = help(command);
        assert!(text.contains("[possible values:"), "{command:?}: {text}");
    }
}

/// docs/host.md's check table is the catalog's, and `--ignore` refuses names it does not know.
#[test]
fn host_check_catalog_docs_and_ignore() {
    let docs = std::fs::read_to_string(root().join("docs/host.md")).unwrap();
    let marker = "<!-- The table is generated: `kube6 host check --list-checks --markdown`";
    let start = docs
        .find(marker)
        .expect("docs/host.md has the generated table");
    let table: String = docs[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .map(|l| format!("{l}\n"))
        .collect();
    let generated = stdout(&kube6(&["host", "check", "--list-checks", "--markdown"]));
    assert!(
        table == generated,
        "docs/host.md's check table is stale: replace it with `kube6 host check --list-checks --markdown`"
    );
    let out = kube6(&["host", "check", "--list-checks", "-o", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["id"], "K6H001");
    assert_eq!(list[0]["name"], "ipv6-enabled");
    assert_usage_error(
        &kube6(&["host", "check", "--ignore", "forwarding,nope"]),
        &["unknown check \"nope\"", "K6H002 forwarding"],
    );
    assert_usage_error(&kube6(&["host", "fix", "--ignore", "nope"]), &["nope"]);
}

/// What the text and JSON say (issue 12, item 8).
#[test]
fn the_builtin_example_says_what_it_adds() {
    let text = stdout(&kube6(&["plan"]));
    let head: Vec<&str> = text.lines().take(4).collect();
    assert_eq!(
        head[0],
        "Plan for the built-in example  valid  (1 warning, 2 notes)"
    );
    assert_eq!(
        head[1],
        "  examples/k0s-ipv6-single-stack.yaml with --feature-gates IPv6SingleStack=true"
    );
    assert!(
        head[3].ends_with(
            "kube6 plan examples/k0s-ipv6-single-stack.yaml --feature-gates IPv6SingleStack=true"
        ),
        "{text}"
    );
    let plan: serde_json::Value =
        serde_json::from_slice(&kube6(&["plan", "-o", "json"]).stdout).unwrap();
    assert_eq!(plan["source"]["builtin"], true);
    assert_eq!(
        plan["source"]["featureGates"],
        serde_json::json!(["IPv6SingleStack=true"])
    );
    // The same plan from the file, with the gate given; without it the file is not valid.
    let out = kube6(&[
        "plan",
        "examples/k0s-ipv6-single-stack.yaml",
        "--feature-gates",
        "IPv6SingleStack=true",
        "-o",
        "json",
    ]);
    let from_file: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(from_file["pods"], plan["pods"]);
    assert!(from_file["source"].get("builtin").is_none());
    assert_eq!(
        kube6(&["plan", "examples/k0s-ipv6-single-stack.yaml"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn pods_per_node_are_bounded_by_max_pods_and_labelled() {
    let text = stdout(&kube6(&["plan", "examples/k3s-ipv6-only.yaml"]));
    let header = text
        .lines()
        .find(|l| l.contains("node mask") && l.contains("family"))
        .unwrap();
    assert!(
        header.contains("addresses/node") && header.contains("pods/node"),
        "{header}"
    );
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("IPv6"))
        .unwrap();
    assert!(
        row.contains("18,446,744,073,709,551,616") && row.contains(" 110 "),
        "{row}"
    );
    assert!(
        text.contains("at most the kubelet's maxPods (110, kubelet default)"),
        "{text}"
    );
    let plan: serde_json::Value = serde_json::from_slice(
        &kube6(&["plan", "examples/k3s-ipv6-only.yaml", "-o", "json"]).stdout,
    )
    .unwrap();
    assert_eq!(plan["maxPods"], 110);
    assert_eq!(plan["pods"][0]["podsPerNode"], 110);
    assert_eq!(plan["pods"][0]["addressesPerNode"], "18446744073709551616");
}

#[test]
fn k3s_defaults_flannel_with_vxlan() {
    let plan: serde_json::Value = serde_json::from_slice(
        &kube6(&["plan", "examples/k3s-ipv6-only.yaml", "-o", "json"]).stdout,
    )
    .unwrap();
    let backend = plan["defaults"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"] == "flannel-backend")
        .unwrap();
    assert_eq!(backend["value"], "vxlan");
    assert_eq!(plan["cni"], "flannel");
}

#[test]
fn unnamed_nodes_are_null_in_json() {
    let (_dir, path) = temp_file(
        "config.yaml",
        b"node-ip: 2001:db8::10\ncluster-cidr: fd00:42::/56\nservice-cidr: fd00:43::/112\n",
    );
    let out = kube6(&["plan", path.to_str().unwrap(), "-o", "json"]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        plan["nodes"][0]["name"],
        serde_json::Value::Null,
        "{plan:#}"
    );
    assert_eq!(plan["nodes"][0]["addresses"][0], "2001:db8::10");
    let text = stdout(&kube6(&["plan", path.to_str().unwrap()]));
    assert!(text.contains("(the host name)  2001:db8::10"), "{text}");
    assert!(!text.contains("this node"), "{text}");
}

#[test]
fn a_k3s_agent_plan_says_the_servers_set_the_ranges() {
    let line = "agent --server https://[2001:db8::1]:6443 --node-ip 2001:db8::5";
    let text = stdout(&kube6(&["plan", "--k3s-args", line]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[1],
        "  a k3s agent: the servers set the cluster's ranges, agents do not. These values are k3s's defaults,"
    );
    assert!(
        lines[2].contains("cluster-cidr") && lines[2].contains("service-cidr"),
        "{text}"
    );
    let plan: serde_json::Value =
        serde_json::from_slice(&kube6(&["plan", "--k3s-args", line, "-o", "json"]).stdout).unwrap();
    assert_eq!(plan["source"]["agent"], true);
    // A server's command line sets them: no such note.
    let server = stdout(&kube6(&[
        "plan",
        "--k3s-args",
        "server --node-ip 2001:db8::1 --cluster-cidr fd00:42::/56 --service-cidr fd00:43::/112",
    ]));
    assert!(!server.contains("a k3s agent"), "{server}");
}

#[test]
fn ndp_proxy_check_of_an_invalid_plan_is_exit_1() {
    let out = kube6(&[
        "ndp-proxy",
        "--plan",
        "examples/k0s-ipv6-single-stack.yaml",
        "--uplink",
        "eth0",
        "--check",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.lines().any(|l| l
            .starts_with("kube6: ndp-proxy: examples/k0s-ipv6-single-stack.yaml:")
            && l.contains("error[K6E040]")),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

/// `--registry` without names takes the plan's registries, so it needs a plan; a registry is a
/// host name (with a port), never an image reference.
#[test]
fn host_check_registry_flag_usage() {
    assert_usage_error(&kube6(&["host", "check", "--registry"]), &["--plan"]);
    // Values clap refuses: exit 2 with the reason.
    for (args, why) in [
        (
            ["--registry", "ghcr.io/flannel-io/flannel"],
            "not an image reference",
        ),
        (["--nat64-target", "registry.k8s.io"], "HOST:PORT"),
    ] {
        let out = kube6(&["host", "check", args[0], args[1]]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(why), "{}", stderr(&out));
    }
}

/// `verify`, `probe`, `diff` and `ndp-proxy` (watch mode) reach a cluster through one set of flags: the same help, and the
/// same refusal of a kubeconfig on standard input (read once, and kept for dumps and plans).
#[test]
fn every_command_that_reaches_a_cluster_has_the_same_connection_flags() {
    let flag_help = |command: &str, flag: &str| {
        let out = kube6(&[command, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{command}");
        let text = stdout(&out);
        let start = text
            .find(&format!("      --{flag} <"))
            .unwrap_or_else(|| panic!("{command} --help has no --{flag}: {text}"));
        // The flag's lines, up to a blank line or the next flag (help is compact where no
        // flag has a long text).
        let mut lines = text[start..].lines();
        let first = lines.next().unwrap_or_default();
        let block: String =
            std::iter::once(first)
                .chain(lines.take_while(|line| {
                    !line.trim().is_empty() && !line.trim_start().starts_with('-')
                }))
                .collect::<Vec<_>>()
                .join(" ");
        block.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    for flag in ["kubeconfig", "context"] {
        let verify = flag_help("verify", flag);
        for command in ["probe", "diff", "ndp-proxy"] {
            assert_eq!(flag_help(command, flag), verify, "{command} --{flag}");
        }
    }
    assert!(
        flag_help("probe", "kubeconfig").contains("in-cluster service account"),
        "the fallback kubectl uses is named"
    );
    for args in [
        &["verify", "--kubeconfig", "-"][..],
        &["probe", "--kubeconfig", "-"],
        &[
            "diff",
            "--kubeconfig",
            "-",
            "examples/kubeadm-ipv6-calico.yaml",
        ],
    ] {
        let out = kube6(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out),
            "kube6: --kubeconfig takes a file, not standard input\n",
            "{args:?}"
        );
    }
}
