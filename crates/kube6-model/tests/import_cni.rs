//! CNI configuration read next to a cluster configuration: each shape a CNI's files come in,
//! where the values point, and the plan's version-dependent parts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kube6_model::import::{ImportOptions, holds_only_cni_documents};
use kube6_model::model::Cni;
use kube6_net::Family;

const CLUSTER: &str = "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: kubeadm\n  pods: [fd00:10::/56]\n  services: [fd00:20::/112]\n";

fn analyze(text: &str) -> kube6_model::Analysis {
    kube6_model::analyze("t.yaml", text, &ImportOptions::default())
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn ids(a: &kube6_model::Analysis) -> Vec<&'static str> {
    a.plan.diagnostics.iter().map(|d| d.id).collect()
}

#[test]
fn a_cilium_values_file_names_the_cni_and_points_at_its_lines() {
    let text = format!(
        "{CLUSTER}---\nipv6:\n  enabled: true\nipam:\n  mode: kubernetes\nroutingMode: tunnel\n"
    );
    let a = analyze(&text);
    assert_eq!(a.network.cni.value, Cni::Cilium);
    let d = a
        .plan
        .diagnostics
        .iter()
        .find(|d| d.id == "K6E210" && d.path == "routingMode")
        .expect("tunnel on IPv6-only");
    assert_eq!(d.line, Some(12));
    // The chart's ipv4.enabled default is true: on an IPv6-only cluster that stops the agent.
    assert!(
        a.plan
            .diagnostics
            .iter()
            .any(|d| d.id == "K6E210" && d.path == "ipv4.enabled")
    );
}

#[test]
fn underlay_ipv6_needs_cilium_1_18() {
    let values = "---\nipv4: {enabled: false}\nipv6: {enabled: true}\nipam: {mode: kubernetes}\nunderlayProtocol: ipv6\n";
    let old = CLUSTER.replace(
        "distribution: kubeadm\n",
        "distribution: kubeadm\n  cni: {name: cilium, version: \"1.17.6\"}\n",
    );
    assert!(ids(&analyze(&format!("{old}{values}"))).contains(&"K6E210"));
    let new = CLUSTER.replace(
        "distribution: kubeadm\n",
        "distribution: kubeadm\n  cni: {name: cilium, version: \"1.18.0\"}\n",
    );
    assert!(!ids(&analyze(&format!("{new}{values}"))).contains(&"K6E210"));
}

#[test]
fn helm_chart_config_values_keep_outer_positions() {
    let text = format!(
        "{CLUSTER}---\napiVersion: helm.cattle.io/v1\nkind: HelmChartConfig\nmetadata:\n  name: rke2-cilium\n  namespace: kube-system\nspec:\n  valuesContent: |-\n    ipv4:\n      enabled: false\n    ipv6:\n      enabled: true\n    routingMode: tunnel\n"
    );
    let a = analyze(&text);
    let d = a
        .plan
        .diagnostics
        .iter()
        .find(|d| d.id == "K6E210")
        .expect("tunnel");
    assert_eq!(d.path, "spec.valuesContent.routingMode");
    assert_eq!(d.line, Some(19), "{d:?}");
}

#[test]
fn cilium_config_map_flags_are_read() {
    let text = format!(
        "{CLUSTER}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cilium-config\n  namespace: kube-system\ndata:\n  enable-ipv4: \"false\"\n  enable-ipv6: \"true\"\n  routing-mode: native\n  ipv6-native-routing-cidr: fd00:10::/56\n  auto-direct-node-routes: \"true\"\n  ipam: kubernetes\n"
    );
    let a = analyze(&text);
    assert_eq!(a.network.cni.value, Cni::Cilium);
    assert_eq!(
        a.network.cilium.routing_mode.as_ref().unwrap().value,
        "native"
    );
    assert!(a.plan.valid, "{:?}", a.plan.diagnostics);
}

#[test]
fn canal_config_map_reads_the_embedded_cni_configuration() {
    let dual = "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: kubeadm\n  cni: canal\n  pods: [10.244.0.0/16, fd00:10::/56]\n  services: [10.96.0.0/12, fd00:20::/112]\n";
    let config_map = |cni: &str| {
        format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: canal-config\n  namespace: kube-system\ndata:\n  masquerade: \"true\"\n  cni_network_config: |-\n    {cni}\n  net-conf.json: |\n    {{\"Network\": \"10.244.0.0/16\", \"IPv6Network\": \"fd00:10::/56\", \"EnableIPv6\": true, \"Backend\": {{\"Type\": \"vxlan\"}}}}\n"
        )
    };
    let v4 = r#"{"name": "k8s-pod-network", "cniVersion": "0.3.1", "plugins": [{"type": "calico", "ipam": {"type": "host-local", "subnet": "usePodCidr"}}]}"#;
    let a = analyze(&format!("{dual}{}", config_map(v4)));
    let d = a
        .plan
        .diagnostics
        .iter()
        .find(|d| d.id == "K6E213")
        .expect("no IPv6 range");
    assert_eq!(d.line, Some(17), "{d:?}");
    assert!(a.network.flannel.ip_masq.as_ref().unwrap().value);
    let both = r#"{"name": "k8s-pod-network", "cniVersion": "0.3.1", "plugins": [{"type": "calico", "ipam": {"type": "host-local", "ranges": [[{"subnet": "usePodCidr"}], [{"subnet": "usePodCidrIPv6"}]]}}]}"#;
    assert!(!ids(&analyze(&format!("{dual}{}", config_map(both)))).contains(&"K6E213"));
}

#[test]
fn daemon_set_patches_carry_kube_router_and_calico_node_settings() {
    let text = format!(
        "{CLUSTER}  upstream: {{IPv6: {{mode: routed}}}}\n---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: kube-router, namespace: kube-system}}\nspec:\n  template:\n    spec:\n      containers:\n        - name: kube-router\n          args: [\"--enable-ipv4=false\", \"--enable-ipv6=true\", \"--service-cluster-ip-range\", \"fd00:20::/112\"]\n"
    );
    let a = analyze(&text);
    assert_eq!(a.network.cni.value, Cni::KubeRouter);
    assert_eq!(a.network.kube_router.service_ranges.len(), 1);
    // No --enable-pod-egress: kube-router's default masquerades the routed range.
    assert!(ids(&a).contains(&"K6W217"), "{:?}", ids(&a));
    assert!(!ids(&a).contains(&"K6E218"), "{:?}", ids(&a));
}

#[test]
fn a_file_of_another_cni_is_refused() {
    let text = CLUSTER.replace(
        "distribution: kubeadm\n",
        "distribution: kubeadm\n  cni: calico\n",
    ) + "---\nipv6: {enabled: true}\nroutingMode: native\n";
    let err = kube6_model::analyze("t.yaml", &text, &ImportOptions::default()).unwrap_err();
    assert!(err.to_string().contains("cilium configuration"), "{err}");
}

#[test]
fn unknown_cilium_keys_get_suggestions() {
    let a = analyze(&format!(
        "{CLUSTER}---\nipv6: {{enabled: true}}\nroutingmode: native\n"
    ));
    let d = a
        .plan
        .diagnostics
        .iter()
        .find(|d| d.id == "K6W900")
        .unwrap();
    assert!(d.hint.contains("routingMode"), "{}", d.hint);
}

#[test]
fn files_of_cni_documents_only_are_recognised() {
    assert!(holds_only_cni_documents("ipv6: {enabled: true}\nroutingMode: native\n").unwrap());
    assert!(holds_only_cni_documents("{\"Network\": \"10.0.0.0/8\"}").unwrap());
    assert!(!holds_only_cni_documents(CLUSTER).unwrap());
    assert!(!holds_only_cni_documents("cluster-cidr: fd00::/56\n").unwrap());
}

#[test]
fn k0s_before_1_36_1_orders_node_blocks_ipv6_first() {
    let text = |version: &str| {
        format!(
            "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: {{name: k0s, version: {version}}}\n  pods: [10.244.0.0/16, fd00::/108]\n  services: [10.96.0.0/12, fd01::/108]\n  nodes: [{{name: a, addresses: [192.0.2.1, \"2001:db8::1\"]}}]\n"
        )
    };
    let old = analyze(&text("v1.35.7+k0s.0"));
    assert_eq!(old.plan.pod_cidr_order, vec![Family::IPv6, Family::IPv4]);
    assert_eq!(
        Family::of_net(&old.plan.nodes[0].pod_cidrs[0]),
        Family::IPv6
    );
    assert_eq!(old.plan.pods[0].family, Family::IPv4);
    assert_eq!(
        Family::of_net(&old.plan.pods[0].first_node_blocks[0]),
        Family::IPv4
    );
    let new = analyze(&text("v1.36.1+k0s.0"));
    assert!(new.plan.pod_cidr_order.is_empty());
    assert_eq!(
        Family::of_net(&new.plan.nodes[0].pod_cidrs[0]),
        Family::IPv4
    );
    // The same blocks either way: only the order differs.
    let mut a = old.plan.nodes[0].pod_cidrs.clone();
    let mut b = new.plan.nodes[0].pod_cidrs.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn the_plan_names_the_releases_it_assumed() {
    let a = analyze(&CLUSTER.replace(
        "distribution: kubeadm\n",
        "distribution: kubeadm\n  cni: cilium\n",
    ));
    let assumed: Vec<(&str, &str)> = a
        .plan
        .assumed_releases
        .iter()
        .map(|r| (r.component.as_str(), r.release.as_str()))
        .collect();
    assert!(assumed.contains(&("kubeadm", "v1.36.0")), "{assumed:?}");
    assert!(assumed.contains(&("cilium", "v1.19.4")), "{assumed:?}");
    let stated = analyze(&CLUSTER.replace(
        "distribution: kubeadm\n",
        "distribution: {name: kubeadm, version: v1.34.2}\n  cni: {name: cilium, version: 1.18.3}\n",
    ));
    assert!(
        stated.plan.assumed_releases.is_empty(),
        "{:?}",
        stated.plan.assumed_releases
    );
}
