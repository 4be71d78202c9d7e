#![allow(clippy::unwrap_used, clippy::expect_used)]
//! kubeadm importer: v1beta3 and v1beta4, multi-document, through the public API.

use kube6_model::import::{ImportOptions, Imported, import};
use kube6_model::model::{Cni, Distribution, Format, Role};
use kube6_model::source::Position;

fn read(text: &str) -> Imported {
    import(text, &ImportOptions::default()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn texts<T>(items: &[kube6_model::source::Located<T>], f: impl Fn(&T) -> String) -> Vec<String> {
    items.iter().map(|i| f(&i.value)).collect()
}

struct Case {
    name: &'static str,
    text: &'static str,
    pods: &'static [&'static str],
    services: &'static [&'static str],
    /// node-cidr-mask-size, -ipv4, -ipv6 as written.
    masks: [Option<&'static str>; 3],
    node_ips: &'static [&'static str],
    dns: &'static [&'static str],
}

const V1BETA4_IPV6: &str = "\
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
networking:
  podSubnet: fd00:10::/104
  serviceSubnet: fd00:20::/112
controllerManager:
  extraArgs:
    - name: node-cidr-mask-size-ipv6
      value: \"120\"
    - name: allocate-node-cidrs
      value: \"true\"
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: fd00::1
nodeRegistration:
  name: cp1
  kubeletExtraArgs:
    - name: node-ip
      value: fd00::1
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
clusterDNS:
  - fd00:20::a
";

const V1BETA3_DUAL: &str = "\
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
networking:
  podSubnet: fd00:10::/56,10.244.0.0/16
  serviceSubnet: fd00:20::/112,10.96.0.0/16
controllerManager:
  extraArgs:
    node-cidr-mask-size-ipv4: \"24\"
    node-cidr-mask-size-ipv6: \"64\"
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: JoinConfiguration
nodeRegistration:
  name: w1
  kubeletExtraArgs:
    node-ip: fd00::5,10.0.0.5
";

const CASES: &[Case] = &[
    Case {
        name: "v1beta4 IPv6 single-stack",
        text: V1BETA4_IPV6,
        pods: &["fd00:10::/104"],
        services: &["fd00:20::/112"],
        masks: [None, None, Some("120")],
        node_ips: &["fd00::1"],
        dns: &["fd00:20::a"],
    },
    Case {
        name: "v1beta3 dual-stack, IPv6 first",
        text: V1BETA3_DUAL,
        pods: &["fd00:10::/56", "10.244.0.0/16"],
        services: &["fd00:20::/112", "10.96.0.0/16"],
        masks: [None, Some("24"), Some("64")],
        node_ips: &["fd00::5", "10.0.0.5"],
        dns: &[],
    },
    Case {
        name: "legacy mask, cluster-cidr flag without podSubnet, kubelet cluster-dns flag",
        text: "\
apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
nodeRegistration:
  kubeletExtraArgs:
    cluster-dns: fd00:20::a
    node-ip: fd00::1
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
controllerManager:
  extraArgs:
    cluster-cidr: fd00:10::/104
    node-cidr-mask-size: \"120\"
apiServer:
  extraArgs:
    service-cluster-ip-range: fd00:20::/112
",
        pods: &["fd00:10::/104"],
        services: &["fd00:20::/112"],
        masks: [Some("120"), None, None],
        node_ips: &["fd00::1"],
        dns: &["fd00:20::a"],
    },
    Case {
        name: "nothing set: kubeadm's service default, no pod range",
        text: "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n",
        pods: &[],
        services: &["10.96.0.0/12"],
        masks: [None, None, None],
        node_ips: &[],
        dns: &[],
    },
];

#[test]
fn table() {
    for case in CASES {
        let imported = read(case.text);
        let net = &imported.network;
        assert!(
            imported.notes.is_empty(),
            "{}: {:?}",
            case.name,
            imported.notes
        );
        assert_eq!(net.format, Format::Kubeadm, "{}", case.name);
        assert_eq!(net.distribution.value, Distribution::Kubeadm);
        assert_eq!(net.cni.value, Cni::Custom, "{}", case.name);
        assert_eq!(
            texts(&net.pods, |c| c.text.clone()),
            case.pods,
            "{}",
            case.name
        );
        assert_eq!(
            texts(&net.services, |c| c.text.clone()),
            case.services,
            "{}",
            case.name
        );
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
        let ips: Vec<String> = net
            .nodes
            .iter()
            .flat_map(|n| n.addresses.iter().map(|a| a.value.text.clone()))
            .collect();
        assert_eq!(ips, case.node_ips, "{}", case.name);
        assert_eq!(
            texts(&net.cluster_dns, |a| a.text.clone()),
            case.dns,
            "{}",
            case.name
        );
    }
}

#[test]
fn positions_and_paths() {
    let net = read(V1BETA3_DUAL).network;
    let second = &net.pods[1];
    assert_eq!(second.origin.path(), "networking.podSubnet");
    assert_eq!(
        second.origin.pos(),
        Some(Position {
            line: 4,
            column: 27
        })
    );
    let raw = net.specific.raw_pod_list.as_ref().unwrap();
    assert_eq!(raw.value, "fd00:10::/56,10.244.0.0/16");
    assert_eq!(
        net.specific.raw_service_list.as_ref().unwrap().value,
        "fd00:20::/112,10.96.0.0/16"
    );
    let v6 = net.node_masks.ipv6.as_ref().unwrap();
    assert_eq!(
        v6.origin.path(),
        "controllerManager.extraArgs.node-cidr-mask-size-ipv6"
    );
    assert_eq!(v6.origin.pos().map(|p| p.line), Some(9));
    let node = &net.nodes[0];
    assert_eq!(node.name.value, "w1");
    assert_eq!(node.role.as_ref().unwrap().value, Role::Worker);
    assert_eq!(
        node.addresses[1].origin.path(),
        "nodeRegistration.kubeletExtraArgs.node-ip"
    );
    assert_eq!(
        node.addresses[1].origin.pos(),
        Some(Position {
            line: 16,
            column: 22
        })
    );

    let net = read(V1BETA4_IPV6).network;
    let v6 = net.node_masks.ipv6.as_ref().unwrap();
    assert_eq!(
        v6.origin.path(),
        "controllerManager.extraArgs.node-cidr-mask-size-ipv6"
    );
    assert_eq!(v6.origin.pos().map(|p| p.line), Some(9));
    assert_eq!(net.api.address.as_ref().unwrap().value, "fd00::1");
    assert_eq!(
        net.api.address.as_ref().unwrap().origin.path(),
        "localAPIEndpoint.advertiseAddress"
    );
    assert_eq!(net.nodes[0].role.as_ref().unwrap().value, Role::Controller);
    assert_eq!(net.cluster_dns[0].origin.path(), "clusterDNS[0]");
    assert_eq!(
        net.specific.allocate_node_cidrs.as_ref().unwrap().value,
        "true"
    );
}

#[test]
fn other_settings() {
    let net = read(
        "\
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.33.1
controlPlaneEndpoint: \"[fd00::100]:6443\"
networking:
  dnsDomain: example.internal
apiServer:
  certSANs: [a.example]
  extraArgs:
    - name: advertise-address
      value: fd00::2
    - name: endpoint-reconciler-type
      value: none
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
clusterCIDR: fd00:10::/104
",
    )
    .network;
    assert_eq!(net.cluster_domain.value, "example.internal");
    assert_eq!(net.api.external.as_ref().unwrap().value, "[fd00::100]:6443");
    assert_eq!(net.api.address.as_ref().unwrap().value, "fd00::2");
    assert_eq!(
        net.api.address.as_ref().unwrap().origin.path(),
        "apiServer.extraArgs.advertise-address"
    );
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
        "fd00:10::/104"
    );
    assert_eq!(net.distribution_version.as_ref().unwrap().value, "v1.33.1");
}

#[test]
fn join_as_control_plane_is_a_controller() {
    let net = read(
        "\
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
controlPlane:
  localAPIEndpoint:
    advertiseAddress: fd00::3
nodeRegistration:
  kubeletExtraArgs:
    - name: node-ip
      value: fd00::3
",
    )
    .network;
    assert_eq!(net.nodes[0].name.value, "this node");
    assert!(net.nodes[0].name.origin.is_default());
    assert_eq!(net.nodes[0].role.as_ref().unwrap().value, Role::Controller);
}

#[test]
fn calico_documents_in_the_same_file_name_the_cni() {
    let net = read(&format!(
        "{V1BETA4_IPV6}---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: p\nspec:\n  cidr: fd00:10::/104\n  blockSize: 120\n"
    ))
    .network;
    assert_eq!(net.cni.value, Cni::Calico);
    assert_eq!(net.calico.pools.len(), 1);
}

#[test]
fn unknown_fields_are_warned_with_suggestions() {
    let imported = read(
        "\
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
networking:
  podSubnets: fd00:10::/104
controllerManger:
  extraArgs: []
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
clusterDns: [fd00::a]
cgroupDriver: systemd
",
    );
    let mut notes = imported.notes.clone();
    notes.sort_by_key(|d| d.line);
    let found: Vec<(&str, &str)> = notes
        .iter()
        .map(|d| (d.path.as_str(), d.hint.as_str()))
        .collect();
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0].0, "networking.podSubnets");
    assert!(found[0].1.contains("`podSubnet`"), "{}", found[0].1);
    assert_eq!(found[1].0, "controllerManger");
    assert!(found[1].1.contains("`controllerManager`"), "{}", found[1].1);
    assert_eq!(found[2].0, "clusterDns");
    assert!(found[2].1.contains("`clusterDNS`"), "{}", found[2].1);
    assert!(notes.iter().all(|d| d.id == "K6W900"));
    assert_eq!(notes[0].line, Some(4));
    assert_eq!(notes[0].column, Some(3));
}

#[test]
fn wrong_shapes_are_errors() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "v1beta4 with the v1beta3 map form",
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncontrollerManager:\n  extraArgs:\n    node-cidr-mask-size-ipv6: \"120\"\n",
            "v1beta4",
        ),
        (
            "v1beta3 with the v1beta4 list form",
            "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\ncontrollerManager:\n  extraArgs:\n    - name: node-cidr-mask-size-ipv6\n      value: \"120\"\n",
            "v1beta3",
        ),
        (
            "kubeletExtraArgs in the wrong form",
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    node-ip: fd00::1\n",
            "list",
        ),
        (
            "unquoted number as a flag value",
            "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\ncontrollerManager:\n  extraArgs:\n    node-cidr-mask-size-ipv6: 120\n",
            "quote",
        ),
        (
            "podSubnet as a list",
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: [fd00::/104]\n",
            "expected a string",
        ),
        (
            "clusterDNS as a string",
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nclusterDNS: fd00::a\n",
            "expected a list",
        ),
        (
            "v1beta2",
            "apiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterConfiguration\n",
            "kubeadm config migrate",
        ),
        (
            "extraArgs entry without a name",
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\napiServer:\n  extraArgs:\n    - value: x\n",
            "name",
        ),
    ];
    for (name, text, needle) in cases {
        let err = import(text, &ImportOptions::default())
            .err()
            .unwrap_or_else(|| panic!("{name}: imported"));
        assert!(err.to_string().contains(needle), "{name}: {err}");
        assert!(err.pos().is_some(), "{name}: no position");
    }
}

#[test]
fn bad_values_are_left_to_the_rules() {
    let net = read(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: not-a-cidr,fd00::/300\n",
    )
    .network;
    assert_eq!(net.pods.len(), 2);
    assert!(net.pods.iter().all(|p| p.value.parsed.is_err()));
}

#[test]
fn examples_import_without_warnings() {
    for (file, pods) in [
        (
            "kubeadm-ipv6-calico.yaml",
            &["2001:db8:1234:5678:8:2::/104"][..],
        ),
        (
            "kubeadm-dual-stack-join.yaml",
            &["172.25.0.0/16", "fd01::/48"][..],
        ),
    ] {
        let path = format!("{}/../../examples/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let imported = read(&text);
        assert!(imported.notes.is_empty(), "{file}: {:?}", imported.notes);
        assert_eq!(texts(&imported.network.pods, |c| c.text.clone()), pods);
    }
    let path = format!(
        "{}/../../examples/kubeadm-ipv6-calico.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let net = read(&std::fs::read_to_string(path).unwrap()).network;
    assert_eq!(net.cni.value, Cni::Calico);
    assert_eq!(
        net.node_masks.ipv6.as_ref().unwrap().value.parsed,
        Some(120)
    );
    assert_eq!(
        net.calico.pools[0]
            .block_size
            .as_ref()
            .unwrap()
            .value
            .parsed,
        Some(120)
    );
    assert_eq!(net.cluster_dns[0].value.text, "2001:db8:1234:5678:8:3:0:a");
    assert_eq!(net.nodes[0].name.value, "node0001");
}

#[test]
fn truncated_examples_never_panic() {
    for file in ["kubeadm-ipv6-calico.yaml", "kubeadm-dual-stack-join.yaml"] {
        let path = format!("{}/../../examples/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).unwrap();
        for (i, _) in text.char_indices() {
            let _ = import(&text[..i], &ImportOptions::default());
        }
    }
}

#[test]
fn a_space_after_a_comma_is_what_kubeadm_refuses() {
    // kubeadm's ValidateIPNetFromString splits at commas and parses each part as it is
    // (kubernetes/kubernetes cmd/kubeadm/app/apis/kubeadm/validation/validation.go).
    let text = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n\
                networking:\n  podSubnet: fd00:10::/56, 10.244.0.0/16\n";
    let net = read(text).network;
    assert_eq!(net.pods[1].value.text, " 10.244.0.0/16");
    let analysis = kube6_model::analyze("kubeadm.yaml", text, &Default::default()).unwrap();
    assert!(!analysis.plan.valid);
    let d = analysis
        .plan
        .diagnostics
        .iter()
        .find(|d| d.id == "K6E001")
        .unwrap();
    assert!(d.message.contains("space"), "{}", d.message);
    assert_eq!((d.line, d.column), (Some(4), Some(27)));
}
