#![allow(clippy::unwrap_used, clippy::expect_used)]
//! k3s/RKE2 config.yaml and k3s command-line importer, through the public API.

use kube6_model::import::{ImportOptions, Imported, import, parse_command_line};
use kube6_model::model::{Cni, Distribution, Format, Role};
use kube6_model::source::Position;

fn read_as(text: &str, format: Option<Format>) -> Imported {
    import(
        text,
        &ImportOptions {
            format,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn pos(line: u32, column: u32) -> Option<Position> {
    Some(Position { line, column })
}

struct Case {
    name: &'static str,
    format: Option<Format>,
    text: &'static str,
    distribution: Distribution,
    cni: Cni,
    pods: &'static [&'static str],
    services: &'static [&'static str],
    /// node-cidr-mask-size, -ipv4, -ipv6 as written.
    masks: [Option<&'static str>; 3],
    node_ips: &'static [&'static str],
    dns: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "k3s IPv6-only, strings",
        format: None,
        text: "node-ip: 2001:db8::1\ncluster-cidr: 2001:db8:42::/56\nservice-cidr: 2001:db8:43::/112\nflannel-ipv6-masq: true\n",
        distribution: Distribution::K3s,
        cni: Cni::Flannel,
        pods: &["2001:db8:42::/56"],
        services: &["2001:db8:43::/112"],
        masks: [None, None, None],
        node_ips: &["2001:db8::1"],
        dns: &[],
    },
    Case {
        name: "k3s dual-stack, lists and comma strings mixed, IPv6 first",
        format: None,
        text: "\
node-ip: [2001:db8::1, 192.0.2.1]
cluster-cidr:
  - fd00:42::/56
  - 10.42.0.0/16
service-cidr: fd00:43::/112,10.43.0.0/16
cluster-dns: fd00:43::a
kube-controller-manager-arg:
  - node-cidr-mask-size-ipv6=120
  - \"--node-cidr-mask-size-ipv4=25\"
",
        distribution: Distribution::K3s,
        cni: Cni::Flannel,
        pods: &["fd00:42::/56", "10.42.0.0/16"],
        services: &["fd00:43::/112", "10.43.0.0/16"],
        masks: [None, Some("25"), Some("120")],
        node_ips: &["2001:db8::1", "192.0.2.1"],
        dns: &["fd00:43::a"],
    },
    Case {
        name: "k3s defaults from an IPv6 first node IP, flannel off",
        format: None,
        text: "node-ip: 2001:db8::1\nflannel-backend: none\ndisable-network-policy: true\n",
        distribution: Distribution::K3s,
        cni: Cni::Custom,
        pods: &["fd00:42::/56"],
        services: &["fd00:43::/112"],
        masks: [None, None, None],
        node_ips: &["2001:db8::1"],
        dns: &[],
    },
    Case {
        name: "k3s defaults without node IP are IPv4",
        format: Some(Format::K3s),
        text: "write-kubeconfig-mode: \"0644\"\n",
        distribution: Distribution::K3s,
        cni: Cni::Flannel,
        pods: &["10.42.0.0/16"],
        services: &["10.43.0.0/16"],
        masks: [None, None, None],
        node_ips: &[],
        dns: &[],
    },
    Case {
        name: "RKE2 default CNI is canal",
        format: Some(Format::Rke2),
        text: "cluster-cidr: 10.42.0.0/16,fd00:42::/56\nservice-cidr: 10.43.0.0/16,fd00:43::/112\n",
        distribution: Distribution::Rke2,
        cni: Cni::Canal,
        pods: &["10.42.0.0/16", "fd00:42::/56"],
        services: &["10.43.0.0/16", "fd00:43::/112"],
        masks: [None, None, None],
        node_ips: &[],
        dns: &[],
    },
    Case {
        name: "RKE2 cni list with multus",
        format: Some(Format::Rke2),
        text: "cni: [multus, calico]\nkube-controller-manager-arg: node-cidr-mask-size=120\n",
        distribution: Distribution::Rke2,
        cni: Cni::Calico,
        pods: &["10.42.0.0/16"],
        services: &["10.43.0.0/16"],
        masks: [Some("120"), None, None],
        node_ips: &[],
        dns: &[],
    },
    Case {
        name: "RKE2 cni none",
        format: Some(Format::Rke2),
        text: "cni: none\n",
        distribution: Distribution::Rke2,
        cni: Cni::Custom,
        pods: &["10.42.0.0/16"],
        services: &["10.43.0.0/16"],
        masks: [None, None, None],
        node_ips: &[],
        dns: &[],
    },
    Case {
        name: "command line from seed 004",
        format: Some(Format::K3sArgs),
        text: "server --node-ip 2001:db8::1 --cluster-cidr 2001:c0c0:42:0::/56 --service-cidr 2001:c0c0:43:1::/112 --flannel-ipv6-masq",
        distribution: Distribution::K3s,
        cni: Cni::Flannel,
        pods: &["2001:c0c0:42:0::/56"],
        services: &["2001:c0c0:43:1::/112"],
        masks: [None, None, None],
        node_ips: &["2001:db8::1"],
        dns: &[],
    },
    Case {
        name: "command line: k3s prefix, = form, repeated flags, quotes",
        format: Some(Format::K3sArgs),
        text: "k3s server --cluster-cidr=fd00:42::/56 --cluster-cidr '10.42.0.0/16' -i \"fd00::1,10.0.0.1\" --kube-controller-manager-arg=node-cidr-mask-size-ipv6=64 --flannel-backend=none",
        distribution: Distribution::K3s,
        cni: Cni::Custom,
        pods: &["fd00:42::/56", "10.42.0.0/16"],
        services: &["fd00:43::/112"],
        masks: [None, None, Some("64")],
        node_ips: &["fd00::1", "10.0.0.1"],
        dns: &[],
    },
];

#[test]
fn table() {
    for case in CASES {
        let imported = read_as(case.text, case.format);
        let net = &imported.network;
        assert!(
            imported.notes.is_empty(),
            "{}: {:?}",
            case.name,
            imported.notes
        );
        assert_eq!(net.distribution.value, case.distribution, "{}", case.name);
        assert_eq!(net.cni.value, case.cni, "{}", case.name);
        let pods: Vec<&str> = net.pods.iter().map(|p| p.value.text.as_str()).collect();
        assert_eq!(pods, case.pods, "{}", case.name);
        let services: Vec<&str> = net.services.iter().map(|p| p.value.text.as_str()).collect();
        assert_eq!(services, case.services, "{}", case.name);
        let masks = [
            &net.node_masks.single,
            &net.node_masks.ipv4,
            &net.node_masks.ipv6,
        ]
        .map(|m| m.as_ref().map(|m| m.value.text.clone()));
        assert_eq!(
            masks,
            case.masks.map(|m| m.map(str::to_string)),
            "{}",
            case.name
        );
        let ips: Vec<&str> = net
            .nodes
            .iter()
            .flat_map(|n| n.addresses.iter().map(|a| a.value.text.as_str()))
            .collect();
        assert_eq!(ips, case.node_ips, "{}", case.name);
        assert!(net.nodes.len() <= 1, "{}", case.name);
        let dns: Vec<&str> = net
            .cluster_dns
            .iter()
            .map(|a| a.value.text.as_str())
            .collect();
        assert_eq!(dns, case.dns, "{}", case.name);
    }
}

#[test]
fn config_positions_paths_and_settings() {
    let text = "\
node-name: srv1
node-ip: 2001:db8::1, 192.0.2.1
cluster-cidr:
  - fd00:42::/56
  - 10.42.0.0/16
cluster-domain: k3s.internal
advertise-address: 2001:db8::1
server: https://[2001:db8::1]:6443
flannel-backend: wireguard-native
flannel-ipv6-masq: \"true\"
kube-controller-manager-arg:
  - node-cidr-mask-size-ipv6=120
kube-apiserver-arg: [endpoint-reconciler-type=none]
kube-proxy-arg:
  - proxy-mode=nftables
  - cluster-cidr=fd00:42::/56
";
    let net = read_as(text, None).network;
    assert_eq!(net.format, Format::K3s);
    let node = &net.nodes[0];
    assert_eq!(node.name.value, "srv1");
    assert_eq!(node.role.as_ref().unwrap().value, Role::Controller);
    assert_eq!(node.addresses[1].origin.path(), "node-ip");
    assert_eq!(node.addresses[1].origin.pos(), pos(2, 23));
    assert_eq!(net.pods[1].origin.path(), "cluster-cidr[1]");
    assert_eq!(net.pods[1].origin.pos(), pos(5, 5));
    assert_eq!(
        net.specific.raw_pod_list.as_ref().unwrap().value,
        "fd00:42::/56,10.42.0.0/16"
    );
    assert_eq!(net.cluster_domain.value, "k3s.internal");
    assert_eq!(net.api.address.as_ref().unwrap().value, "2001:db8::1");
    assert_eq!(
        net.api.external.as_ref().unwrap().value,
        "https://[2001:db8::1]:6443"
    );
    assert_eq!(net.cni.value, Cni::Flannel);
    assert_eq!(
        net.flannel.backend.as_ref().unwrap().value,
        "wireguard-native"
    );
    assert!(net.flannel.ipv6_masquerade.as_ref().unwrap().value);
    let v6 = net.node_masks.ipv6.as_ref().unwrap();
    assert_eq!(
        v6.origin.path(),
        "kube-controller-manager-arg: node-cidr-mask-size-ipv6"
    );
    // "  - node-cidr-mask-size-ipv6=120": the value starts at column 30.
    assert_eq!(v6.origin.pos(), pos(12, 30));
    assert_eq!(v6.value.parsed, Some(120));
    assert_eq!(
        net.specific
            .endpoint_reconciler_type
            .as_ref()
            .unwrap()
            .value,
        "none"
    );
    assert_eq!(net.kube_proxy_mode.as_ref().unwrap().value, "nftables");
    assert_eq!(
        net.kube_proxy_cluster_cidr.as_ref().unwrap().value,
        "fd00:42::/56"
    );
}

#[test]
fn append_keys_add_to_the_list() {
    let net = read_as(
        "cluster-cidr: fd00:42::/56\ncluster-cidr+: 10.42.0.0/16\n",
        None,
    )
    .network;
    assert_eq!(net.pods.len(), 2);
}

#[test]
fn command_line_positions_and_roles() {
    let text = "server --node-ip 2001:db8::1 --cluster-cidr 2001:c0c0:42:0::/56 --service-cidr 2001:c0c0:43:1::/112 --flannel-ipv6-masq";
    let net = read_as(text, Some(Format::K3sArgs)).network;
    assert_eq!(net.format, Format::K3sArgs);
    assert_eq!(net.pods[0].origin.path(), "--cluster-cidr");
    assert_eq!(net.pods[0].origin.pos(), pos(1, 45));
    assert_eq!(net.services[0].origin.pos(), pos(1, 80));
    let node = &net.nodes[0];
    assert_eq!(node.name.value, "this node");
    assert_eq!(node.role.as_ref().unwrap().value, Role::Controller);
    assert_eq!(node.addresses[0].origin.path(), "--node-ip");
    assert_eq!(node.addresses[0].origin.pos(), pos(1, 18));
    let masq = net.flannel.ipv6_masquerade.as_ref().unwrap();
    assert!(masq.value);
    assert_eq!(masq.origin.pos(), pos(1, 101));

    // --flag=value, quotes, a second line, an agent.
    let text = "agent \\\n  --node-name=w1 --node-ip=\"fd00::5\" --kubelet-arg 'max-pods=200'";
    let net = read_as(text, Some(Format::K3sArgs)).network;
    let node = &net.nodes[0];
    assert_eq!(node.name.value, "w1");
    assert_eq!(node.name.origin.pos(), pos(2, 15));
    assert_eq!(node.role.as_ref().unwrap().value, Role::Worker);
    assert_eq!(node.addresses[0].origin.pos(), pos(2, 29));

    // The mask's column points at the value after `name=`.
    let text = "server --kube-controller-manager-arg node-cidr-mask-size-ipv6=120";
    let net = read_as(text, Some(Format::K3sArgs)).network;
    let mask = net.node_masks.ipv6.as_ref().unwrap();
    assert_eq!(mask.origin.pos(), pos(1, 63));
}

#[test]
fn command_line_words() {
    assert_eq!(
        parse_command_line(r#"server --a 'x y' --b "p\"q" c\ d # comment"#),
        ["server", "--a", "x y", "--b", "p\"q", "c d"]
    );
    assert_eq!(
        parse_command_line("# header\nserver \\\n --x=1\n"),
        ["server", "--x=1"]
    );
}

#[test]
fn unknown_flags_are_warned_with_suggestions() {
    let imported = read_as(
        "node-ip: 2001:db8::1\nclustr-cidr: fd00:42::/56\nfoo-bar-baz: 1\n",
        None,
    );
    let notes = &imported.notes;
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert_eq!(notes[0].path, "clustr-cidr");
    assert_eq!((notes[0].line, notes[0].column), (Some(2), Some(1)));
    assert!(
        notes[0].hint.contains("`cluster-cidr`"),
        "{}",
        notes[0].hint
    );
    assert_eq!(notes[1].path, "foo-bar-baz");
    assert!(notes.iter().all(|d| d.id == "K6W900"));

    let imported = read_as(
        "server --servce-cidr fd00:43::/112 --node-ip fd00::1",
        Some(Format::K3sArgs),
    );
    assert_eq!(imported.notes.len(), 1, "{:?}", imported.notes);
    assert_eq!(imported.notes[0].path, "--servce-cidr");
    assert!(imported.notes[0].hint.contains("`--service-cidr`"));
    // The unknown flag's value is skipped, the next flag is read.
    assert_eq!(imported.network.nodes[0].addresses.len(), 1);

    // `cni` tells an RKE2 file from a k3s one; forced to k3s, it is an unknown setting.
    let imported = read_as("node-ip: fd00::1\ncni: cilium\n", None);
    assert!(imported.notes.is_empty(), "{:?}", imported.notes);
    assert_eq!(imported.network.distribution.value, Distribution::Rke2);
    assert_eq!(imported.network.cni.value, Cni::Cilium);
    let imported = read_as("node-ip: fd00::1\ncni: cilium\n", Some(Format::K3s));
    assert_eq!(imported.notes.len(), 1);
    assert!(imported.notes[0].hint.contains("--format rke2"));
    assert_eq!(imported.network.cni.value, Cni::Flannel);
}

#[test]
fn wrong_shapes_are_errors() {
    let cases: &[(&str, Option<Format>, &str, &str)] = &[
        (
            "mapping value",
            None,
            "cluster-cidr:\n  a: b\n",
            "found a mapping",
        ),
        (
            "single-value flag twice",
            None,
            "cluster-domain: [a, b]\nnode-ip: fd00::1\n",
            "takes one value",
        ),
        (
            "non-boolean masquerade",
            None,
            "flannel-ipv6-masq: maybe\nnode-ip: fd00::1\n",
            "true or false",
        ),
        (
            "missing value on the command line",
            Some(Format::K3sArgs),
            "server --cluster-cidr",
            "needs a value",
        ),
        (
            "stray word on the command line",
            Some(Format::K3sArgs),
            "server fd00::/56",
            "expected a flag",
        ),
        (
            "unterminated quote",
            Some(Format::K3sArgs),
            "server --node-ip 'fd00::1",
            "unterminated",
        ),
        (
            "a list as config.yaml",
            Some(Format::K3s),
            "- node-ip\n",
            "mapping",
        ),
    ];
    for (name, format, text, needle) in cases {
        let err = import(
            text,
            &ImportOptions {
                format: *format,
                ..Default::default()
            },
        )
        .err()
        .unwrap_or_else(|| panic!("{name}: imported"));
        assert!(err.to_string().contains(needle), "{name}: {err}");
        assert!(err.pos().is_some(), "{name}: no position");
    }
}

#[test]
fn bad_values_are_left_to_the_rules() {
    let net = read_as(
        "node-ip: not-an-ip\ncluster-cidr: fd00::/300\nkube-controller-manager-arg: node-cidr-mask-size-ipv6=abc\n",
        None,
    )
    .network;
    assert!(net.pods[0].value.parsed.is_err());
    assert!(net.nodes[0].addresses[0].value.parsed.is_none());
    assert_eq!(net.node_masks.ipv6.as_ref().unwrap().value.parsed, None);
}

fn example(file: &str) -> String {
    let path = format!("{}/../../examples/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn examples_import_without_warnings() {
    let yaml = read_as(&example("k3s-ipv6-only.yaml"), None);
    let args = read_as(&example("k3s-ipv6-only.args"), Some(Format::K3sArgs));
    for imported in [&yaml, &args] {
        assert!(imported.notes.is_empty(), "{:?}", imported.notes);
        let net = &imported.network;
        assert_eq!(net.pods[0].value.text, "2001:c0c0:42:0::/56");
        assert_eq!(net.services[0].value.text, "2001:c0c0:43:1::/112");
        assert_eq!(net.nodes[0].addresses[0].value.text, "2001:db8::1");
        assert!(net.flannel.ipv6_masquerade.as_ref().unwrap().value);
        assert_eq!(net.cni.value, Cni::Flannel);
    }
    // The header comment moves the command to line 3.
    assert_eq!(args.network.pods[0].origin.pos().map(|p| p.line), Some(3));

    let rke2 = read_as(&example("rke2-dual-stack.yaml"), None);
    assert!(rke2.notes.is_empty(), "{:?}", rke2.notes);
    assert_eq!(rke2.network.format, Format::Rke2);
    let net = &rke2.network;
    assert_eq!(net.distribution.value, Distribution::Rke2);
    assert_eq!(net.cni.value, Cni::Cilium);
    assert_eq!(net.pods.len(), 2);
    assert_eq!(net.nodes[0].addresses.len(), 2);
    assert_eq!(net.node_masks.ipv6.as_ref().unwrap().value.parsed, Some(64));
}

#[test]
fn odd_command_lines_never_panic() {
    // A deterministic generator over the characters the tokenizer treats specially.
    let alphabet: Vec<char> = "ab=-- \t\n'\"\\#é:/,1i".chars().collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..3000 {
        let mut text = String::new();
        let len = (state % 40) as usize;
        for _ in 0..len {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            text.push(alphabet[(state >> 33) as usize % alphabet.len()]);
        }
        let _ = parse_command_line(&text);
        let _ = import(
            &text,
            &ImportOptions {
                format: Some(Format::K3sArgs),
                ..Default::default()
            },
        );
    }
}

#[test]
fn truncated_examples_never_panic() {
    for (file, format) in [
        ("k3s-ipv6-only.yaml", None),
        ("rke2-dual-stack.yaml", Some(Format::Rke2)),
        ("k3s-ipv6-only.args", Some(Format::K3sArgs)),
    ] {
        let text = example(file);
        for (i, _) in text.char_indices() {
            let _ = import(
                &text[..i],
                &ImportOptions {
                    format,
                    ..Default::default()
                },
            );
        }
    }
}

/// k3s's default `cluster-dns` by release: one address before v1.28.3 (and its backports),
/// one per service range since (k3s-io/k3s#8394, #8467); an explicit list is taken as written.
#[test]
fn the_plan_gives_kubelets_the_cluster_dns_of_the_release() {
    let plan = |text: &str| {
        kube6_model::analyze("cluster.yaml", text, &ImportOptions::default())
            .unwrap_or_else(|e| panic!("{e}\n{text}"))
            .plan
            .dns_ips
            .iter()
            .map(|ip| ip.to_string())
            .collect::<Vec<_>>()
    };
    let network = |version: &str| {
        format!(
            "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nmetadata:\n  name: k3s\nspec:\n  distribution:\n    name: k3s\n{version}  pods:\n  - 10.42.0.0/16\n  - fd00:42::/56\n  services:\n  - 10.43.0.0/16\n  - fd00:43::/112\n"
        )
    };
    assert_eq!(plan(&network("")), ["10.43.0.10", "fd00:43::a"]);
    assert_eq!(
        plan(&network("    version: v1.28.3+k3s1\n")),
        ["10.43.0.10", "fd00:43::a"]
    );
    assert_eq!(
        plan(&network("    version: v1.28.2+k3s1\n")),
        ["10.43.0.10"]
    );
    assert_eq!(
        plan(
            "cluster-cidr: 10.42.0.0/16,fd00:42::/56\nservice-cidr: 10.43.0.0/16,fd00:43::/112\ncluster-dns: 10.43.0.53\n"
        ),
        ["10.43.0.53"]
    );
}

/// The Tigera operator's `Installation` says which IPAM Calico's CNI plugin runs.
#[test]
fn the_calico_installation_names_its_ipam() {
    let text = "apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata:\n  name: default\nspec:\n  cni:\n    type: Calico\n    ipam:\n      type: HostLocal\n  calicoNetwork:\n    ipPools:\n    - cidr: 10.42.0.0/16\n---\ncluster-cidr: 10.42.0.0/16\nflannel-backend: none\n";
    let imported = read_as(text, None);
    assert_eq!(imported.network.cni.value, Cni::Calico);
    assert_eq!(
        imported
            .network
            .calico
            .ipam
            .as_ref()
            .map(|t| t.value.as_str()),
        Some("HostLocal")
    );
    assert!(imported.notes.is_empty(), "{:?}", imported.notes);
}
