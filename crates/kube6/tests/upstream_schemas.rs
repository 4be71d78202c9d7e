//! Every document `kube6 render` and `kube6 convert` write, validated against the upstream
//! schema of the tool that reads it (`shared/schemas/`, see tests/upstream/mod.rs for which
//! schema checks which document, and docs/render.md for the upstream versions).
//!
//! The matrix: every example in `examples/` and every layout in
//! `crates/kube6-render/tests/layouts/` (IPv4, IPv6, dual-stack IPv4-first and IPv6-first), the
//! layouts with one and with three control-plane nodes, rendered for every target with every
//! CNI (and the input's own), kubeadm in v1beta4 and v1beta3, and converted to every format.
//! The real binary writes the files (`--out DIR`, or convert's standard output), so what is
//! validated is exactly what a user gets; combinations kube6 refuses write nothing and are
//! counted, not validated.
//!
//! Unknown fields are errors. A finding is a defect of render/convert unless it is listed in
//! [`EXPECTED`]: known defects another branch owns. The list is checked both ways: a listed
//! failure that no longer happens fails the test too, so the list only shrinks.
//!
//! Without the schemas (no `../shared`), the tests say where to get them and stop; under
//! `CI=true` they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod upstream;

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};
use upstream::{Finding, Outcome, Schemas, glob};

/// A failure this test knows about and another branch fixes. Every field must match a finding:
/// `scope` is "render TARGET" or "convert FORMAT" (`*` matches any run), `file` a path glob,
/// `path` a JSON-pointer prefix, `message` a substring of the schema's message.
struct Expected {
    scope: &'static str,
    file: &'static str,
    schema: &'static str,
    path: &'static str,
    message: &'static str,
    /// Why it fails, and who fixes it.
    reason: &'static str,
}

/// Known failures, each owned by the render helper (issue 9's list of defects). Remove an
/// entry when its fix lands: the test fails while a listed failure no longer happens.
// Empty: the KKP `spec.version` and `spec.exposeStrategy` failures were fixed on main (the
// render helper's KKP commit) and their entries removed.
const EXPECTED: &[Expected] = &[];

/// The binary under test: this build's, or `KUBE6_BIN` (a release build, or another
/// branch's, to see what it would change).
fn bin() -> OsString {
    std::env::var_os("KUBE6_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_kube6").into())
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One input file (or k3s command line) of the matrix.
struct Input {
    name: String,
    args: Vec<OsString>,
}

/// The layout with two more control-plane nodes (cp2, cp3) next to its first one, addresses
/// derived from the first controller's (+0x10, +0x20 in the last octet or hextet).
fn three_control_planes(text: &str) -> String {
    let mut doc: Value = serde_saphyr::from_str(text).unwrap();
    let nodes = doc
        .pointer_mut("/spec/nodes")
        .and_then(Value::as_array_mut)
        .expect("layouts list their nodes");
    let first = nodes
        .iter()
        .find(|n| {
            n.get("role")
                .and_then(Value::as_str)
                .is_some_and(|r| r.starts_with("controller"))
        })
        .cloned()
        .expect("layouts have a controller");
    let addresses: Vec<std::net::IpAddr> = first["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().parse().unwrap())
        .collect();
    for i in 1..=2u8 {
        let shifted: Vec<String> = addresses
            .iter()
            .map(|a| match a {
                std::net::IpAddr::V4(v4) => {
                    let mut o = v4.octets();
                    o[3] = o[3].wrapping_add(0x10 * i);
                    std::net::Ipv4Addr::from(o).to_string()
                }
                std::net::IpAddr::V6(v6) => {
                    let mut s = v6.segments();
                    s[7] = s[7].wrapping_add(0x10 * u16::from(i));
                    std::net::Ipv6Addr::from(s).to_string()
                }
            })
            .collect();
        nodes.insert(
            usize::from(i),
            json!({"name": format!("cp{}", i + 1), "role": "controller", "addresses": shifted}),
        );
    }
    serde_json::to_string_pretty(&doc).unwrap()
}

fn inputs(scratch: &Path) -> Vec<Input> {
    let mut out = Vec::new();
    let examples = repo().join("examples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml") => out.push(Input {
                name,
                args: vec![path.into()],
            }),
            Some("args") => {
                let line: String = std::fs::read_to_string(&path)
                    .unwrap()
                    .lines()
                    .filter(|l| !l.trim_start().starts_with('#'))
                    .collect::<Vec<_>>()
                    .join(" ");
                out.push(Input {
                    name,
                    args: vec!["--k3s-args".into(), line.into()],
                });
            }
            _ => {}
        }
    }
    let layouts = repo().join("crates/kube6-render/tests/layouts");
    for layout in [
        "ipv4",
        "ipv6",
        "dual-ipv4-first",
        "dual-ipv6-first",
        "ipv6-nat64",
    ] {
        let path = layouts.join(format!("{layout}.yaml"));
        let three = scratch.join(format!("{layout}-3cp.yaml"));
        std::fs::write(
            &three,
            three_control_planes(&std::fs::read_to_string(&path).unwrap()),
        )
        .unwrap();
        out.push(Input {
            name: format!("layout {layout}"),
            args: vec![path.into()],
        });
        out.push(Input {
            name: format!("layout {layout} (3 control-plane nodes)"),
            args: vec![three.into()],
        });
    }
    // Settings the layouts leave at their defaults, so that every field the renderers can
    // write reaches a schema: Cilium cluster-pool IPAM with masks, Calico VXLAN with explicit
    // pools, kube-proxy's mode, a cluster domain of its own, flannel's backend.
    // And every load-balancer and ingress document: MetalLB pools in both modes with peers of
    // both families and ingress-nginx; Cilium LB-IPAM with L2 and BGP pools and Traefik.
    let variants: [(&str, &str, Value); 10] = [
        (
            "dual-ipv4-first",
            "Cilium cluster-pool",
            json!({"cni": {"name": "cilium", "cilium": {"ipamMode": "cluster-pool",
                "clusterPoolIPv4PodCIDRList": ["10.244.0.0/16"], "clusterPoolIPv4MaskSize": 24,
                "clusterPoolIPv6PodCIDRList": ["fd00:10::/56"], "clusterPoolIPv6MaskSize": 64}},
                "kubeProxy": {"mode": "ipvs"}}),
        ),
        (
            "ipv4",
            "Calico VXLAN pools, cluster domain",
            json!({"cni": {"name": "calico", "version": "v3.30.2", "calico": {"mode": "vxlan",
                "pools": [{"cidr": "10.244.0.0/16", "blockSize": 26, "natOutgoing": true}]}},
                "clusterDomain": "cluster.example", "kubeProxy": {"mode": "nftables"}}),
        ),
        (
            "dual-ipv6-first",
            "flannel wireguard-native",
            json!({"cni": {"name": "flannel", "flannel": {"backend": "wireguard-native"}}}),
        ),
        (
            "dual-ipv6-first",
            "MetalLB l2 and bgp pools, ingress-nginx",
            json!({"loadBalancer": {"implementation": "metallb", "ingress": "ingress-nginx",
                "pools": [{"name": "public", "addresses": ["2001:db8:5::ff00/120", "192.0.2.64/28"]},
                          {"name": "routed", "mode": "bgp",
                           "addresses": ["2001:db8:7::/120", "198.51.100.10-198.51.100.20"]}],
                "bgpPeers": [{"peerAddress": "2001:db8:5::1", "peerASN": 64500, "localASN": 64512},
                             {"peerAddress": "192.0.2.1", "peerASN": 64500, "localASN": 64512}]}}),
        ),
        (
            "dual-ipv6-first",
            "Cilium LB-IPAM l2 and bgp pools, Traefik",
            json!({"cni": {"name": "cilium", "version": "1.19.6"},
                "loadBalancer": {"implementation": "cilium", "ingress": "traefik",
                "pools": [{"name": "public", "addresses": ["2001:db8:5::ff00/120", "192.0.2.64-192.0.2.79"]},
                          {"name": "routed", "mode": "bgp", "addresses": ["2001:db8:7::/120"]}]}}),
        ),
        (
            "ipv6",
            "Cilium LB-IPAM l2 pools only (no kube-proxy)",
            json!({"cni": {"name": "cilium", "version": "1.19.6"},
                "loadBalancer": {"implementation": "cilium",
                "pools": [{"name": "public", "addresses": ["2001:db8:5::ff00/120"]}]}}),
        ),
        (
            "dual-ipv6-first",
            "kube-vip in ARP/NDP mode, ranges of both families",
            json!({"loadBalancer": {"implementation": "kube-vip", "version": "v1.2.3",
                "pools": [{"addresses": ["2001:db8:5::ff00/120", "192.0.2.64-192.0.2.79"]}]}}),
        ),
        (
            "dual-ipv4-first",
            "kube-vip in BGP mode, CIDRs, peers of both families",
            json!({"loadBalancer": {"implementation": "kube-vip",
                "pools": [{"mode": "bgp", "addresses": ["2001:db8:7::/120", "198.51.100.0/28"]}],
                "bgpPeers": [{"peerAddress": "2001:db8:5::1", "peerASN": 64500, "localASN": 64512},
                             {"peerAddress": "192.0.2.1", "peerASN": 64500, "localASN": 64512}]}}),
        ),
        (
            "dual-ipv6-first",
            "Cilium 1.18 L2 pool answered by kube6's NDP proxy (static mode)",
            json!({"cni": {"name": "cilium", "version": "1.18.3"},
                "upstream": {"IPv6": {"mode": "ndp-proxy", "uplink": "eth0"}, "IPv4": {"mode": "masquerade"}},
                "loadBalancer": {"implementation": "cilium", "ingress": "none",
                "pools": [{"name": "public", "addresses": ["2001:db8:5::ff00/120", "192.0.2.64-192.0.2.79"]}]}}),
        ),
        (
            "dual-ipv6-first",
            "Cilium 1.18 L2 pool answered by kube6's NDP proxy (watch mode: the DaemonSet)",
            json!({"cni": {"name": "cilium", "version": "1.18.3"},
                "upstream": {"IPv6": {"mode": "ndp-proxy", "uplink": "eth0"}, "IPv4": {"mode": "masquerade"}},
                "loadBalancer": {"implementation": "cilium", "ingress": "none", "ndpProxy": "watch",
                "pools": [{"name": "public", "addresses": ["2001:db8:5::ff00/120", "192.0.2.64-192.0.2.79"]}]}}),
        ),
    ];
    for (layout, what, patch) in variants {
        let text = std::fs::read_to_string(layouts.join(format!("{layout}.yaml"))).unwrap();
        let mut doc: Value = serde_saphyr::from_str(&text).unwrap();
        let spec = doc
            .pointer_mut("/spec")
            .and_then(Value::as_object_mut)
            .unwrap();
        for (k, v) in patch.as_object().unwrap() {
            spec.insert(k.clone(), v.clone());
        }
        let path = scratch.join(format!("{layout}-{}.yaml", out.len()));
        std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        let check = Command::new(bin())
            .arg("validate")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "variant {layout} ({what}) is not valid:\n{}",
            String::from_utf8_lossy(&check.stdout)
        );
        out.push(Input {
            name: format!("layout {layout} ({what})"),
            args: vec![path.into()],
        });
    }
    out
}

/// What one run of the binary wrote: (path, content) per file, or why nothing was written.
enum Run {
    Wrote(Vec<(String, String)>),
    Refused(String),
}

fn files_under(dir: &Path, base: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, base, out);
        } else {
            let rel = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .to_string();
            out.push((rel, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

fn run(args: &[OsString], out_dir: Option<&Path>, what: &str) -> Run {
    let mut cmd = Command::new(bin());
    cmd.args(args);
    if let Some(dir) = out_dir {
        cmd.arg("--out").arg(dir);
    }
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    match output.status.code() {
        Some(0) => {
            let mut files = Vec::new();
            match out_dir {
                Some(dir) => {
                    files_under(dir, dir, &mut files);
                    let _ = std::fs::remove_dir_all(dir);
                }
                None => files.push((
                    String::new(),
                    String::from_utf8_lossy(&output.stdout).to_string(),
                )),
            }
            files.sort();
            Run::Wrote(files)
        }
        // A refusal says why; an internal error is a defect, not a refusal.
        Some(1) if !stderr.contains("internal error") => {
            Run::Refused(stderr.lines().last().unwrap_or_default().to_string())
        }
        other => panic!("{what}: exit status {other:?}\n{stderr}"),
    }
}

/// One finding in one written file.
#[derive(Debug, Clone)]
struct Seen {
    scope: String,
    case: String,
    file: String,
    finding: Finding,
}

fn matches(e: &Expected, s: &Seen) -> bool {
    glob(e.scope, &s.scope)
        && glob(e.file, &s.file)
        && e.schema == s.finding.schema
        && s.finding.path.starts_with(e.path)
        && s.finding.message.contains(e.message)
}

/// Counts for the summary line.
#[derive(Default)]
struct Tally {
    runs: usize,
    refused: usize,
    files: usize,
    checked: usize,
    no_schema: usize,
    schemas: BTreeMap<String, usize>,
    /// The last line of each refusal, counted.
    refusals: BTreeMap<String, usize>,
}

/// Validates every written file of `runs` (scope, case label, binary arguments, --out or not)
/// and compares the findings with [`EXPECTED`] for `scopes`.
fn check_runs(schemas: &Schemas, name: &str, runs: Vec<(String, String, Vec<OsString>, bool)>) {
    let start = Instant::now();
    let scratch = tempfile::tempdir().unwrap();
    let mut tally = Tally::default();
    let mut seen: Vec<Seen> = Vec::new();
    let mut cache: HashMap<(String, String), Vec<Finding>> = HashMap::new();
    let mut scopes: Vec<String> = Vec::new();
    for (i, (scope, case, args, out)) in runs.into_iter().enumerate() {
        if !scopes.contains(&scope) {
            scopes.push(scope.clone());
        }
        tally.runs += 1;
        let dir = scratch.path().join(format!("run{i}"));
        let written = match run(&args, out.then_some(dir.as_path()), &case) {
            Run::Wrote(files) => files,
            Run::Refused(why) => {
                tally.refused += 1;
                *tally.refusals.entry(why).or_default() += 1;
                continue;
            }
        };
        for (path, content) in written {
            tally.files += 1;
            // convert writes one document to stdout: name it by the format it is in.
            let path = if path.is_empty() {
                scope.replace("convert ", "convert/")
            } else {
                path
            };
            let schema_path = match path.strip_prefix("convert/") {
                // A converted k3s/RKE2 file is the first server's config.yaml.
                Some(f @ ("k3s" | "rke2")) => format!("{f}/server.yaml"),
                Some(_) => "converted".to_string(),
                None => path.clone(),
            };
            let key = (schema_path.clone(), content.clone());
            let findings = match cache.get(&key) {
                Some(f) => f.clone(),
                None => {
                    let f = match schemas.check_file(&schema_path, &content) {
                        Outcome::Checked {
                            schemas: used,
                            findings,
                        } => {
                            tally.checked += 1;
                            for s in used {
                                *tally.schemas.entry(s).or_default() += 1;
                            }
                            findings
                        }
                        Outcome::NoSchema(_) => {
                            tally.no_schema += 1;
                            Vec::new()
                        }
                    };
                    cache.insert(key, f.clone());
                    f
                }
            };
            for finding in findings {
                seen.push(Seen {
                    scope: scope.clone(),
                    case: case.clone(),
                    file: path.clone(),
                    finding,
                });
            }
        }
    }

    let expected: Vec<&Expected> = EXPECTED
        .iter()
        .filter(|e| scopes.iter().any(|s| glob(e.scope, s)))
        .collect();
    let mut unexpected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in &seen {
        if !expected.iter().any(|e| matches(e, s)) {
            unexpected
                .entry(format!(
                    "{} {} [{}] {}: {}",
                    s.scope, s.file, s.finding.schema, s.finding.path, s.finding.message
                ))
                .or_default()
                .push(s.case.clone());
        }
    }
    let stale: Vec<String> = expected
        .iter()
        .filter(|e| !seen.iter().any(|s| matches(e, s)))
        .map(|e| {
            format!(
                "{} {} [{}] {}: {:?} ({})",
                e.scope, e.file, e.schema, e.path, e.message, e.reason
            )
        })
        .collect();
    let elapsed = start.elapsed();
    eprintln!(
        "{name}: {} runs ({} refused), {} files, {} validated ({} documents without an upstream schema), {} findings ({} expected), {:.1}s; schemas used: {:?}",
        tally.runs,
        tally.refused,
        tally.files,
        tally.checked,
        tally.no_schema,
        seen.len(),
        seen.len() - unexpected.values().map(Vec::len).sum::<usize>(),
        elapsed.as_secs_f64(),
        tally.schemas
    );
    for (why, n) in &tally.refusals {
        eprintln!("  refused {n}x: {why}");
    }
    let mut report = String::new();
    for (what, cases) in &unexpected {
        report.push_str(&format!(
            "\n- {what}\n  in {} run(s), e.g. {}",
            cases.len(),
            cases.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
        ));
    }
    assert!(
        unexpected.is_empty(),
        "{name}: {} kind(s) of document the upstream schemas reject (fix the renderer, or if \
         another branch owns the defect, list it in EXPECTED with the reason):{report}",
        unexpected.len()
    );
    assert!(
        stale.is_empty(),
        "{name}: these expected failures no longer happen; remove them from EXPECTED:\n{}",
        stale.join("\n")
    );
    assert!(
        tally.checked > 0 && tally.runs > tally.refused,
        "{name}: nothing was validated"
    );
}

const CNIS: [Option<&str>; 7] = [
    None,
    Some("calico"),
    Some("cilium"),
    Some("flannel"),
    Some("kube-router"),
    Some("canal"),
    Some("custom"),
];

fn gate() -> [OsString; 2] {
    // The k0s IPv6 single-stack examples need the gate their controllers are started with.
    ["--feature-gates".into(), "IPv6SingleStack=true".into()]
}

/// `kube6 render --target TARGET` for every input and CNI (and `extra` arguments).
fn render_matrix(target: &str, extra: &[&str]) {
    let Some(schemas) = upstream::schemas_or_explain() else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for input in inputs(scratch.path()) {
        for cni in CNIS {
            let mut args: Vec<OsString> = vec!["render".into()];
            args.extend(input.args.iter().cloned());
            // The watch-mode NDP proxy DaemonSet runs kube6 and needs its image.
            args.extend([
                "--kube6-image".into(),
                "registry.example/kube6:0.1.0".into(),
            ]);
            args.extend(["--target".into(), target.into()]);
            args.extend(gate());
            args.extend(extra.iter().map(OsString::from));
            if let Some(c) = cni {
                args.extend(["--cni".into(), c.into()]);
            }
            let case = format!(
                "{} --target {target}{}{}",
                input.name,
                cni.map(|c| format!(" --cni {c}")).unwrap_or_default(),
                extra.iter().map(|a| format!(" {a}")).collect::<String>()
            );
            runs.push((format!("render {target}"), case, args, true));
        }
    }
    check_runs(schemas, &format!("render --target {target}"), runs);
}

#[test]
fn render_kubeadm_matches_kubeadm_and_cni_schemas() {
    render_matrix("kubeadm", &[]);
}

#[test]
fn render_kubeadm_v1beta3_matches_kubeadm_schemas() {
    render_matrix("kubeadm", &["--kubeadm-api", "v1beta3"]);
}

#[test]
fn render_k3s_matches_k3s_flags_and_cni_schemas() {
    render_matrix("k3s", &[]);
}

#[test]
fn render_rke2_matches_rke2_flags_and_chart_schemas() {
    render_matrix("rke2", &[]);
}

#[test]
fn render_k0s_matches_the_clusterconfig_crd() {
    render_matrix("k0s", &[]);
}

#[test]
fn render_kkp_matches_the_cluster_crd() {
    render_matrix("kkp", &[]);
}

#[test]
fn convert_to_every_format_matches_its_schema() {
    let Some(schemas) = upstream::schemas_or_explain() else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for input in inputs(scratch.path()) {
        for (to, extra) in [
            ("kubeadm", None),
            ("kubeadm", Some("v1beta3")),
            ("k3s", None),
            ("rke2", None),
            ("k0s", None),
            ("kkp", None),
            ("kube6", None),
        ] {
            let mut args: Vec<OsString> = vec!["convert".into()];
            args.extend(input.args.iter().cloned());
            args.extend(["--to".into(), to.into()]);
            args.extend(gate());
            if let Some(api) = extra {
                args.extend(["--kubeadm-api".into(), api.into()]);
            }
            let case = format!(
                "{} --to {to}{}",
                input.name,
                extra
                    .map(|a| format!(" --kubeadm-api {a}"))
                    .unwrap_or_default()
            );
            runs.push((format!("convert {to}"), case, args, false));
        }
    }
    check_runs(schemas, "convert --to", runs);
}

/// The Kubernetes extensions behave as the API server does: each has a case that is
/// accepted and one that is refused.
#[test]
fn kubernetes_extensions_validate_like_the_api_server() {
    use upstream::kube::Dialect::Structural;
    let reject = |schema: Value, doc: Value| {
        let found = upstream::check_inline(&schema, Structural, &doc);
        assert!(!found.is_empty(), "accepted {doc} under {schema}");
        found
    };
    let accept = |schema: Value, doc: Value| {
        let found = upstream::check_inline(&schema, Structural, &doc);
        assert!(found.is_empty(), "{doc} under {schema}: {found:#?}");
    };
    // Unknown fields are errors; an object without properties prunes (rejects) everything.
    let s =
        json!({"type": "object", "properties": {"a": {"type": "string"}, "o": {"type": "object"}}});
    accept(s.clone(), json!({"a": "x", "o": {}}));
    let found = reject(s.clone(), json!({"a": "x", "b": 1}));
    assert!(found[0].message.contains("'b'"), "{found:?}");
    reject(s, json!({"o": {"x": 1}}));
    // preserve-unknown-fields keeps unknown fields, but known ones are still typed, and
    // nested objects without it are closed again.
    let s = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true,
        "properties": {"a": {"type": "string"}, "n": {"type": "object", "properties": {"k": {"type": "string"}}}}});
    accept(s.clone(), json!({"a": "x", "anything": {"goes": 1}}));
    reject(s.clone(), json!({"a": 1}));
    reject(s, json!({"n": {"k": "v", "extra": true}}));
    // Maps (additionalProperties with a schema) take any key.
    let s = json!({"type": "object", "additionalProperties": {"type": "string"}});
    accept(s.clone(), json!({"any": "x"}));
    reject(s, json!({"any": 1}));
    // int-or-string.
    let s = json!({"type": "object", "properties": {"p": {"x-kubernetes-int-or-string": true,
        "anyOf": [{"type": "integer"}, {"type": "string"}]}}});
    accept(s.clone(), json!({"p": 8080}));
    accept(s.clone(), json!({"p": "http"}));
    reject(s, json!({"p": true}));
    // nullable: null only where the schema says so.
    let s = json!({"type": "object", "properties": {"n": {"type": "string", "nullable": true},
        "e": {"type": "string", "enum": ["A"], "nullable": true}, "s": {"type": "string"}}});
    accept(s.clone(), json!({"n": null, "e": null}));
    reject(s, json!({"s": null}));
    // A required field with a default is defaulted before validation.
    let s = json!({"type": "object", "required": ["d", "r"], "properties": {
        "d": {"type": "string", "default": "x"}, "r": {"type": "string"}}});
    accept(s.clone(), json!({"r": "y"}));
    reject(s, json!({"d": "y"}));
    // int32 is a range.
    let s = json!({"type": "object", "properties": {"i": {"type": "integer", "format": "int32"}}});
    accept(s.clone(), json!({"i": 2147483647}));
    reject(s, json!({"i": 2147483648_i64}));
    // format: cidr.
    let s = json!({"type": "object", "properties": {"c": {"type": "string", "format": "cidr"}}});
    accept(s.clone(), json!({"c": "fd00::/108"}));
    reject(s, json!({"c": "fd00::/129"}));
    // list-type set and map.
    let s = json!({"type": "object", "properties": {
        "set": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
        "map": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
            "items": {"type": "object", "properties": {"name": {"type": "string"}, "v": {"type": "string"}}}}}});
    accept(
        s.clone(),
        json!({"set": ["a", "b"], "map": [{"name": "a"}, {"name": "b"}]}),
    );
    reject(s.clone(), json!({"set": ["a", "a"]}));
    reject(
        s,
        json!({"map": [{"name": "a", "v": "1"}, {"name": "a", "v": "2"}]}),
    );
    // Map keys on a list that is not a map-list constrain nothing.
    let s = json!({"type": "object", "properties": {"l": {"type": "array",
        "x-kubernetes-list-map-keys": ["name"],
        "items": {"type": "object", "properties": {"name": {"type": "string"}}}}}});
    accept(s, json!({"l": [{"name": "a"}, {"name": "a"}]}));
    // An embedded resource needs apiVersion and kind, and its metadata is ObjectMeta.
    let s = json!({"type": "object", "properties": {"r": {"type": "object",
        "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}},
        "definitions": {upstream::kube::OBJECT_META: {"type": "object",
            "properties": {"name": {"type": "string", "pattern": upstream::kube::DNS1123_SUBDOMAIN}}}}});
    accept(
        s.clone(),
        json!({"r": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {}}}),
    );
    reject(s.clone(), json!({"r": {"kind": "ConfigMap"}}));
    reject(
        s.clone(),
        json!({"r": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "A_b"}}}),
    );
    reject(
        s,
        json!({"r": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"labelz": {}}}}),
    );
}

/// The real schemas refuse what the real tools refuse: a mistake in each kind of document
/// kube6 writes is found, and the correct document passes.
#[test]
fn upstream_schemas_refuse_what_upstream_refuses() {
    let Some(schemas) = upstream::schemas_or_explain() else {
        return;
    };
    let check = |path: &str, text: &str| -> Vec<Finding> {
        match schemas.check_file(path, text) {
            Outcome::Checked { findings, .. } => findings,
            Outcome::NoSchema(why) => panic!("{path}: no schema: {why}"),
        }
    };
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "cni/calico-installation.yaml",
            "apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata: {name: default}\nspec:\n  calicoNetwork:\n    bgp: Enabled\n    ipPools: [{cidr: 'fd00::/56', blockSize: 122, encapsulation: None, natOutgoing: Enabled, nodeSelector: all()}]\n",
            "    bgp: Enabled\n",
            "    bgp: Enabled\n    bogus: 1\n",
        ),
        (
            "cni/calico-ippools.yaml",
            "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: 'fd00::/56', blockSize: 122, natOutgoing: false}\n",
            "blockSize: 122",
            "blockSize: '122'",
        ),
        (
            "kkp/cluster.yaml",
            "apiVersion: kubermatic.k8c.io/v1\nkind: Cluster\nmetadata: {name: abcdefghij}\nspec:\n  humanReadableName: x\n  version: 1.33.4\n  exposeStrategy: NodePort\n  cloud: {dc: d, providerName: bringyourown, bringyourown: {}}\n  cniPlugin: {type: cilium, version: 1.19.4}\n  clusterNetwork: {ipFamily: IPv4, pods: {cidrBlocks: [10.0.0.0/16]}, services: {cidrBlocks: [10.1.0.0/16]}, dnsDomain: cluster.local}\n",
            "metadata: {name: abcdefghij}",
            "metadata: {name: Not_A_Name}",
        ),
        (
            "k0s/k0s.yaml",
            "apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nmetadata: {name: k0s}\nspec:\n  network:\n    podCIDR: 10.244.0.0/16\n    dualStack: {enabled: true, IPv6podCIDR: 'fd00::/108'}\n",
            "IPv6podCIDR:",
            "IPv6PodCIDR:",
        ),
        (
            "rke2/server-manifests/rke2-cilium-config.yaml",
            "apiVersion: helm.cattle.io/v1\nkind: HelmChartConfig\nmetadata: {name: rke2-cilium, namespace: kube-system}\nspec:\n  valuesContent: |-\n    ipv6:\n      enabled: true\n",
            "enabled: true",
            "enabled: true\n    ipv6NativeRoutingCIDRs: x",
        ),
        (
            "rke2/server-manifests/rke2-calico-config.yaml",
            "apiVersion: helm.cattle.io/v1\nkind: HelmChartConfig\nmetadata: {name: rke2-calico, namespace: kube-system}\nspec:\n  valuesContent: |-\n    installation:\n      calicoNetwork:\n        bgp: Enabled\n",
            "bgp: Enabled",
            "bgp: On",
        ),
        (
            "cni/cilium-values.yaml",
            "ipam:\n  mode: kubernetes\nenableIPv6Masquerade: false\n",
            "enableIPv6Masquerade: false",
            "enableIPv6Masquerade: \"false\"",
        ),
        (
            "kubeadm/init.yaml",
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking: {podSubnet: 'fd00::/56'}\ncontrollerManager:\n  extraArgs: [{name: bind-address, value: '::'}]\n",
            "podSubnet",
            "podSubnets",
        ),
        (
            "kubeadm/init.yaml",
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncontrollerManager:\n  extraArgs: [{name: bind-address, value: '::'}]\n",
            "[{name: bind-address, value: '::'}]",
            "{bind-address: '::'}",
        ),
        (
            "kubeadm/join-w.yaml",
            "apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\ndiscovery: {bootstrapToken: {token: abcdef.0123456789abcdef, caCertHashes: ['sha256:x']}}\nnodeRegistration: {taints: []}\n",
            "taints: []",
            "taints: [{key: a, value: b}]",
        ),
        (
            "kubeadm/init.yaml",
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nclusterDNS: ['fd01::a']\nhealthzBindAddress: '::1'\n",
            "clusterDNS",
            "clusterDns",
        ),
        (
            "kubeadm/init.yaml",
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 'fd00::/56'\n",
            "clusterCIDR",
            "clusterCidr",
        ),
        (
            "k3s/agent-w.yaml",
            "server: https://[2001:db8::1]:6443\ntoken: t\nnode-ip: 2001:db8::2\n",
            "node-ip: 2001:db8::2\n",
            "node-ip: 2001:db8::2\ncluster-cidr: fd00::/56\n",
        ),
        (
            "rke2/server-a.yaml",
            "cni: cilium\ncluster-cidr: fd00::/56\n",
            "cni: cilium\n",
            "cni: cilium\ncluster-init: true\n",
        ),
        (
            "cni/kube-router-args.yaml",
            "args:\n  - --run-router=true\n",
            "args:",
            "argv:",
        ),
        (
            "cni/canal-calico-node-env.yaml",
            "env:\n  - {name: IP6, value: autodetect}\n",
            "{name: IP6, value: autodetect}",
            "{name: IP6, value: autodetect}\n  - {name: IP6, value: none}",
        ),
        (
            "convert/kube6",
            "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: k0s\n  pods: ['fd00::/108']\n  services: ['fd01::/108']\n",
            "distribution: k0s",
            "distribution: k0s\n  podz: []",
        ),
        (
            "cni/flannel-net-conf.json",
            "{\"EnableIPv6\": true, \"IPv6Network\": \"fd00::/56\", \"IPv6SubnetLen\": 64, \"Backend\": {\"Type\": \"vxlan\", \"VNI\": 4096}}",
            "\"IPv6SubnetLen\"",
            "\"IPv6SubnetLength\"",
        ),
        (
            "cni/kube-router-patch.yaml",
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: kube-router, namespace: kube-system}\nspec:\n  template:\n    spec:\n      containers:\n        - name: kube-router\n          args: [--enable-ipv6=true]\n",
            "containers:",
            "containerz:",
        ),
        (
            "cni/extra.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-flannel-cfg, namespace: kube-flannel}\ndata: {net-conf.json: '{}'}\n",
            "data:",
            "datas:",
        ),
    ];
    for (path, good, from, to) in cases {
        assert!(
            good.contains(from),
            "{path}: {from:?} not in the good document"
        );
        let found = check(path, good);
        assert!(
            found.is_empty(),
            "{path}: the correct document is refused: {found:#?}\n{good}"
        );
        let bad = good.replacen(from, to, 1);
        assert!(
            !check(path, &bad).is_empty(),
            "{path}: the mistake is not found:\n{bad}"
        );
    }
    // A kind without a schema is a finding, not a pass.
    let found = check("cni/x.yaml", "apiVersion: example.com/v1\nkind: Thing\n");
    assert!(found[0].message.contains("no upstream schema"), "{found:?}");
    // A CRD version that is not served is named.
    let found = check(
        "cni/x.yaml",
        "apiVersion: projectcalico.org/v9\nkind: IPPool\nmetadata: {name: p}\n",
    );
    assert!(found[0].message.contains("not served"), "{found:?}");
}

/// The examples users copy are real configurations too: each validates against the schema of
/// the tool that reads it (a k3s/RKE2 example as a server's config.yaml).
#[test]
fn examples_match_their_upstream_schemas() {
    let Some(schemas) = upstream::schemas_or_explain() else {
        return;
    };
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        // k3s/RKE2 files carry no apiVersion; they are a server's config.yaml.
        let as_path = if name.starts_with("k3s-") {
            "k3s/server.yaml".to_string()
        } else if name.starts_with("rke2-") {
            "rke2/server.yaml".to_string()
        } else {
            format!("examples/{name}")
        };
        match schemas.check_file(&as_path, &text) {
            Outcome::Checked { findings, .. } => {
                checked += 1;
                for f in findings {
                    problems.push(format!("{name} [{}] {}: {}", f.schema, f.path, f.message));
                }
            }
            Outcome::NoSchema(why) => problems.push(format!("{name}: no schema ({why})")),
        }
    }
    assert!(checked >= 10, "only {checked} examples checked");
    assert!(
        problems.is_empty(),
        "examples the upstream schemas reject:\n{}",
        problems.join("\n")
    );
}

/// The manifests `kube6 diff` runbooks tell users to apply (a ServiceCIDR, Calico IPPools) pass
/// the upstream schemas of the API server and of Calico.
#[test]
fn diff_runbook_manifests_match_their_upstream_schemas() {
    let Some(schemas) = upstream::schemas_or_explain() else {
        return;
    };
    let dir = repo().join("crates/kube6/tests/diff");
    let runs: &[&[&str]] = &[
        &["kubeadm-ipv4.yaml", "kubeadm-ipv4-services-extended.yaml"],
        &[
            "kubeadm-ipv4.yaml",
            "kubeadm-dual-stack.yaml",
            "--cni",
            "calico",
        ],
        &[
            "kubeadm-ipv4.yaml",
            "kubeadm-ipv4-pods-extended.yaml",
            "--cni",
            "calico",
        ],
    ];
    let mut checked = 0;
    let mut problems = Vec::new();
    for args in runs {
        let out = Command::new(bin())
            .current_dir(&dir)
            .arg("diff")
            .args(*args)
            .args(["-o", "json"])
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        for step in doc["runbook"]["steps"].as_array().unwrap() {
            for command in step["commands"].as_array().unwrap() {
                let command = command.as_str().unwrap();
                let Some((_, rest)) = command.split_once("<<'EOF'\n") else {
                    continue;
                };
                let manifest = rest.strip_suffix("\nEOF").unwrap_or(rest);
                match schemas.check_file("diff/manifest.yaml", manifest) {
                    Outcome::Checked { findings, .. } if findings.is_empty() => checked += 1,
                    other => problems.push(format!("{args:?}: {manifest}\n{other:?}")),
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    assert!(checked >= 3, "only {checked} manifests checked");
}
