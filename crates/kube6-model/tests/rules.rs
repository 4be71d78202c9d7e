//! Every rule in the catalog has a case where it fires and one where it does not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kube6_model::import::ImportOptions;
use kube6_model::model::FeatureGate;
use kube6_model::rules::catalog;
use kube6_model::source::{Located, Origin};

/// A kube6 ClusterNetwork for `dist` with the given spec lines (indented by two spaces).
fn kube6(dist: &str, spec: &str) -> String {
    format!(
        "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: {dist}\n{spec}"
    )
}

fn k0s(spec: &str) -> String {
    format!("apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nspec:\n{spec}")
}

fn kubeadm(cluster: &str, extra_docs: &str) -> String {
    format!("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n{cluster}{extra_docs}")
}

fn kkp(cluster_network: &str, extra: &str) -> String {
    format!(
        "apiVersion: kubermatic.k8c.io/v1\nkind: Cluster\nmetadata:\n  name: c\nspec:\n  clusterNetwork:\n{cluster_network}{extra}"
    )
}

struct Case {
    id: &'static str,
    fires: String,
    quiet: String,
    /// Feature gates passed as on the command line.
    gates: &'static [&'static str],
    /// A prefix passed as on the command line (`kube6 plan --prefix`).
    prefix: Option<&'static str>,
}

fn case(id: &'static str, fires: String, quiet: String) -> Case {
    Case {
        id,
        fires,
        quiet,
        gates: &[],
        prefix: None,
    }
}

fn gated(id: &'static str, fires: String, quiet: String) -> Case {
    Case {
        id,
        fires,
        quiet,
        gates: &["IPv6SingleStack"],
        prefix: None,
    }
}

/// A case run with `--prefix` on the command line.
fn with_prefix(id: &'static str, fires: String, quiet: String, prefix: &'static str) -> Case {
    Case {
        id,
        fires,
        quiet,
        gates: &[],
        prefix: Some(prefix),
    }
}

const V6: &str = "  pods: [fd00:10::/56]\n  services: [fd00:20::/112]\n";
const DUAL_V6_FIRST: &str =
    "  pods: [fd00:10::/56, 10.244.0.0/16]\n  services: [fd00:20::/112, 10.96.0.0/16]\n";

const V4: &str = "  pods: [10.244.0.0/16]\n  services: [10.96.0.0/16]\n";
const DUAL_V4_FIRST: &str =
    "  pods: [10.244.0.0/16, fd00:10::/56]\n  services: [10.96.0.0/16, fd00:20::/112]\n";
const METALLB_V6: &str =
    "    implementation: metallb\n    pools: [{addresses: [\"2001:db8:5::/120\"]}]\n";
const CILIUM_L2_V6: &str =
    "    implementation: cilium\n    pools: [{addresses: [\"2001:db8:5::/120\"]}]\n";
const CILIUM_L2_DUAL: &str =
    "    implementation: cilium\n    pools: [{addresses: [\"2001:db8:5::/120\", 192.0.2.0/28]}]\n";
const METALLB_DUAL: &str =
    "    implementation: metallb\n    pools: [{addresses: [\"2001:db8:5::/120\", 192.0.2.0/28]}]\n";

/// A kube6 ClusterNetwork with `ranges` and a `loadBalancer` section (`lb` indented by four).
fn lb(dist: &str, ranges: &str, lb: &str) -> String {
    kube6(dist, &format!("{ranges}  loadBalancer:\n{lb}"))
}

const V6_GLOBAL: &str = "  pods: [\"2001:db8:1::/104\"]\n  services: [fd00:20::/112]\n";

/// Canal's CNI configuration, host-local on the node's IPv4 podCIDR only.
const CANAL_V4_ONLY: &str = "{\"name\": \"k8s-pod-network\", \"cniVersion\": \"0.3.1\", \"plugins\": [{\"type\": \"calico\", \"ipam\": {\"type\": \"host-local\", \"subnet\": \"usePodCidr\"}}]}\n";
/// The same, with the IPv6 range.
const CANAL_DUAL: &str = "{\"name\": \"k8s-pod-network\", \"cniVersion\": \"0.3.1\", \"plugins\": [{\"type\": \"calico\", \"ipam\": {\"type\": \"host-local\", \"ranges\": [[{\"subnet\": \"usePodCidr\"}], [{\"subnet\": \"usePodCidrIPv6\"}]]}}]}\n";

fn calico_node_env(name: &str, value: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: canal, namespace: kube-system}}\nspec:\n  template:\n    spec:\n      containers:\n        - name: calico-node\n          env:\n            - {{name: {name}, value: {value}}}\n"
    )
}

fn kube_router_ds(args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: kube-router, namespace: kube-system}}\nspec:\n  template:\n    spec:\n      containers:\n        - name: kube-router\n          args: [{}]\n",
        args.join(", ")
    )
}

fn cases() -> Vec<Case> {
    vec![
        // Input.
        case("K6W900", kube6("kubeadm", &format!("{V6}  clusterDomian: cluster.local\n")), kube6("kubeadm", V6)),
        case(
            "K6W001",
            kube6("kubeadm", "  pods: [fd00:10::1/56]\n  services: [fd00:20::/112]\n"),
            kube6("kubeadm", V6),
        ),
        case(
            "K6E001",
            kube6("kubeadm", "  pods: [fd00:10::/129]\n  services: [fd00:20::/112]\n"),
            kube6("kubeadm", V6),
        ),
        case(
            "K6E002",
            kube6("kubeadm", &format!("{V6}  nodes: [{{name: a, addresses: [\"2001:db8::zz\"]}}]\n")),
            kube6("kubeadm", &format!("{V6}  nodes: [{{name: a, addresses: [\"2001:db8::10\"]}}]\n")),
        ),
        case(
            "K6E003",
            kube6("kubeadm", "  pods: [fd00:10::/56, fd00:11::/56]\n  services: [fd00:20::/112]\n"),
            kube6("kubeadm", V6),
        ),
        case(
            "K6W004",
            kubeadm("networking:\n  serviceSubnet: fd00:20::/112\n", ""),
            kubeadm("networking:\n  serviceSubnet: fd00:20::/112\n  podSubnet: fd00:10::/56\n", ""),
        ),
        case(
            "K6W005",
            kube6("kubeadm", "  pods: [10.244.0.0/16, fd00:10::/56]\n  services: [10.96.0.0/16]\n"),
            kube6("kubeadm", "  pods: [10.244.0.0/16]\n  services: [10.96.0.0/16]\n"),
        ),
        case(
            "K6W006",
            kube6("kubeadm", "  pods: [10.244.0.0/16, fd00:10::/56]\n  services: [fd00:20::/112, 10.96.0.0/16]\n"),
            kube6("kubeadm", "  pods: [10.244.0.0/16, fd00:10::/56]\n  services: [10.96.0.0/16, fd00:20::/112]\n"),
        ),
        case(
            "K6E007",
            kube6("kubeadm", &format!("{DUAL_V6_FIRST}  primaryFamily: IPv4\n")),
            kube6("kubeadm", &format!("{DUAL_V6_FIRST}  primaryFamily: IPv6\n")),
        ),
        case(
            "K6E008",
            kube6("kubeadm", &format!("{V6}  primaryFamily: ipv6\n")),
            kube6("kubeadm", &format!("{V6}  primaryFamily: IPv6\n")),
        ),
        case(
            "K6W009",
            kube6("kubeadm", &format!("{V6}  kubernetesVersion: stable-1.33\n")),
            kube6("kubeadm", &format!("{V6}  kubernetesVersion: v1.33.4\n")),
        ),
        // kube-apiserver.
        case(
            "K6E010",
            kube6("k3s", "  kubernetesVersion: v1.33.4\n  pods: [fd00:10::/56]\n  services: [fd00:20::/96]\n"),
            kube6("k3s", "  kubernetesVersion: v1.34.1\n  pods: [fd00:10::/56]\n  services: [fd00:20::/96]\n"),
        ),
        case(
            "K6E011",
            kube6("k3s", "  pods: [fd00:10::/56]\n  services: [fd00:20::/126]\n"),
            kube6("k3s", V6),
        ),
        case(
            "K6E012",
            kube6("kubeadm", &format!("{V6}  api: {{address: 192.0.2.10}}\n")),
            kube6("kubeadm", &format!("{V6}  api: {{address: \"2001:db8::10\"}}\n")),
        ),
        case(
            "K6E014",
            kube6("kubeadm", &format!("{V6}  nodes: [{{name: a, addresses: [\"2001:db8::10\", \"2001:db8::11\"]}}]\n")),
            kube6("kubeadm", &format!("{V6}  nodes: [{{name: a, addresses: [\"2001:db8::10\", 192.0.2.10]}}]\n")),
        ),
        case(
            "K6W013",
            kube6("kubeadm", "  pods: [fd00:10::/56]\n  services: [fd00:20::/108]\n"),
            kube6("kubeadm", V6),
        ),
        // kube-controller-manager.
        case(
            "K6E020",
            kube6("k3s", "  pods: [{cidr: \"fd00:10::/56\", nodeMaskSize: 48}]\n  services: [fd00:20::/112]\n"),
            kube6("k3s", "  pods: [{cidr: \"fd00:10::/56\", nodeMaskSize: 64}]\n  services: [fd00:20::/112]\n"),
        ),
        case(
            "K6E021",
            kube6("k3s", "  pods: [{cidr: \"fd00:10::/48\", nodeMaskSize: 120}]\n  services: [fd00:20::/112]\n"),
            kube6("k3s", "  pods: [{cidr: \"fd00:10::/104\", nodeMaskSize: 120}]\n  services: [fd00:20::/112]\n"),
        ),
        case(
            "K6E022",
            k0s("  controllerManager:\n    extraArgs:\n      node-cidr-mask-size: \"24\"\n  network:\n    dualStack:\n      enabled: true\n      IPv6podCIDR: fd00::/108\n      IPv6serviceCIDR: fd01::/108\n"),
            k0s("  controllerManager:\n    extraArgs:\n      node-cidr-mask-size-ipv4: \"24\"\n  network:\n    dualStack:\n      enabled: true\n      IPv6podCIDR: fd00::/108\n      IPv6serviceCIDR: fd01::/108\n"),
        ),
        case(
            "K6E023",
            k0s("  controllerManager:\n    extraArgs:\n      node-cidr-mask-size: \"24\"\n      node-cidr-mask-size-ipv4: \"24\"\n"),
            k0s("  controllerManager:\n    extraArgs:\n      node-cidr-mask-size: \"24\"\n"),
        ),
        case(
            "K6E024",
            k0s("  controllerManager:\n    extraArgs:\n      node-cidr-mask-size-ipv6: \"64\"\n"),
            k0s("  controllerManager:\n    extraArgs:\n      node-cidr-mask-size-ipv4: \"24\"\n"),
        ),
        case(
            "K6E025",
            kube6("k3s", "  pods: [{cidr: \"fd00:10::/56\", nodeMaskSize: sixty}]\n  services: [fd00:20::/112]\n"),
            kube6("k3s", "  pods: [{cidr: \"fd00:10::/56\", nodeMaskSize: 64}]\n  services: [fd00:20::/112]\n"),
        ),
        case(
            "K6W026",
            kube6("k3s", "  pods: [{cidr: \"fd00:10::/64\", nodeMaskSize: 64}]\n  services: [fd00:20::/112]\n"),
            kube6("k3s", "  pods: [{cidr: \"fd00:10::/64\", nodeMaskSize: 72}]\n  services: [fd00:20::/112]\n"),
        ),
        // kubeadm.
        case(
            "K6E030",
            kube6("kubeadm", "  pods: [fd00:10::/56]\n  services: [fd00:20::/125]\n"),
            kube6("kubeadm", V6),
        ),
        case(
            "K6E031",
            kube6("kubeadm", "  pods: [fd00:10::/104]\n  services: [fd00:20::/112]\n"),
            kube6("kubeadm", "  pods: [{cidr: \"fd00:10::/104\", nodeMaskSize: 120}]\n  services: [fd00:20::/112]\n"),
        ),
        case(
            "K6W032",
            kubeadm("networking:\n  podSubnet: fd00:10::/104\n  serviceSubnet: fd00:20::/112\ncontrollerManager:\n  extraArgs:\n  - name: node-cidr-mask-size\n    value: \"120\"\n", ""),
            kubeadm("networking:\n  podSubnet: fd00:10::/104\n  serviceSubnet: fd00:20::/112\ncontrollerManager:\n  extraArgs:\n  - name: node-cidr-mask-size-ipv6\n    value: \"120\"\n", ""),
        ),
        case(
            "K6E910",
            kube6("kubeadm", &format!("{V6}  nodes: [{{name: \"..\", addresses: [\"2001:db8::10\"]}}]\n")),
            kube6("kubeadm", &format!("{V6}  nodes: [{{name: worker-1.example.org, addresses: [\"2001:db8::10\"]}}]\n")),
        ),
        case(
            "K6E911",
            kube6("kubeadm", &format!("{V6}  nodes: [{{name: a, addresses: [\"2001:db8::10\"]}}, {{name: a, addresses: [\"2001:db8::11\"]}}]\n")),
            kube6("kubeadm", &format!("{V6}  nodes: [{{name: a, addresses: [\"2001:db8::10\"]}}, {{name: b, addresses: [\"2001:db8::11\"]}}]\n")),
        ),
        case(
            "K6E033",
            kube6("kubeadm", &format!("{V6}  clusterDomain: Cluster_Local\n")),
            kube6("kubeadm", &format!("{V6}  clusterDomain: cluster.local\n")),
        ),
        case(
            "K6W034",
            kubeadm(
                "networking:\n  podSubnet: fd00:10::/56\n  serviceSubnet: fd00:20::/112\n",
                "---\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: fd00:99::/56\n",
            ),
            kubeadm(
                "networking:\n  podSubnet: fd00:10::/56\n  serviceSubnet: fd00:20::/112\n",
                "---\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: fd00:10::/56\n",
            ),
        ),
        // k0s.
        case(
            "K6E040",
            k0s("  network:\n    podCIDR: fd00::/108\n    serviceCIDR: fd01::/108\n"),
            k0s("  network:\n    podCIDR: 10.244.0.0/16\n    serviceCIDR: 10.96.0.0/12\n"),
        ),
        gated(
            "K6E041",
            k0s("  network:\n    podCIDR: fd00::/108\n    serviceCIDR: fd01::/112\n"),
            k0s("  network:\n    podCIDR: fd00::/108\n    serviceCIDR: fd01::/108\n"),
        ),
        case(
            "K6E042",
            k0s("  network:\n    provider: calico\n    calico:\n      mode: vxlan\n    dualStack:\n      enabled: true\n      IPv6podCIDR: fd00::/108\n      IPv6serviceCIDR: fd01::/108\n"),
            k0s("  network:\n    provider: calico\n    calico:\n      mode: bird\n    dualStack:\n      enabled: true\n      IPv6podCIDR: fd00::/108\n      IPv6serviceCIDR: fd01::/108\n"),
        ),
        case(
            "K6E043",
            k0s("  network:\n    podCIDR: fd02::/108\n    dualStack:\n      enabled: true\n      IPv6podCIDR: fd00::/108\n      IPv6serviceCIDR: fd01::/108\n"),
            k0s("  network:\n    dualStack:\n      enabled: true\n      IPv6podCIDR: fd00::/108\n      IPv6serviceCIDR: fd01::/108\n"),
        ),
        gated(
            "K6W044",
            k0s("  network:\n    provider: calico\n    podCIDR: fd00::/108\n    serviceCIDR: fd01::/108\n"),
            k0s("  network:\n    provider: calico\n    primaryAddressFamily: IPv6\n    podCIDR: fd00::/108\n    serviceCIDR: fd01::/108\n"),
        ),
        case(
            "K6E045",
            k0s("  network:\n    serviceCIDR: 10.96.0.0/31\n"),
            k0s("  network:\n    serviceCIDR: 10.96.0.0/24\n"),
        ),
        case(
            "K6E046",
            kube6("k0s", "  pods: [10.244.0.0/16, fd00::/108]\n  services: [10.96.0.0/12, fd01::/108]\n  nodes: [{name: a, addresses: [192.0.2.10]}]\n"),
            kube6("k0s", "  pods: [10.244.0.0/16, fd00::/108]\n  services: [10.96.0.0/12, fd01::/108]\n  nodes: [{name: a, addresses: [192.0.2.10, \"2001:db8::10\"]}]\n"),
        ),
        case(
            "K6E047",
            k0s("  network:\n    podCIDR: fd00::/108\n    serviceCIDR: 10.96.0.0/12\n"),
            k0s("  network:\n    podCIDR: 10.244.0.0/16\n    serviceCIDR: 10.96.0.0/12\n"),
        ),
        // k3s.
        case(
            "K6E050",
            "cluster-cidr: fd00:42::/56,10.42.0.0/16\nservice-cidr: 10.43.0.0/16,fd00:43::/112\n".to_string(),
            "cluster-cidr: fd00:42::/56,10.42.0.0/16\nservice-cidr: fd00:43::/112,10.43.0.0/16\n".to_string(),
        ),
        case(
            "K6E051",
            "cluster-cidr: fd00:42::/56\nservice-cidr: fd00:43::/112\nnode-ip: 192.0.2.10\n".to_string(),
            "cluster-cidr: fd00:42::/56\nservice-cidr: fd00:43::/112\nnode-ip: 2001:db8::10\n".to_string(),
        ),
        case(
            "K6W052",
            "cluster-cidr: fd00:42::/56,10.42.0.0/16\nservice-cidr: fd00:43::/112,10.43.0.0/16\n".to_string(),
            "cluster-cidr: fd00:42::/56,10.42.0.0/16\nservice-cidr: fd00:43::/112,10.43.0.0/16\nnode-ip: 2001:db8::10,192.0.2.10\n".to_string(),
        ),
        case(
            "K6W053",
            kube6("kubeadm", &format!("{V6}  clusterDNS: [\"fd00:99::a\"]\n")),
            kube6("kubeadm", &format!("{V6}  clusterDNS: [\"fd00:20::a\"]\n")),
        ),
        // KKP.
        case(
            "K6E060",
            kkp("    pods:\n      cidrBlocks: [fd01::/48]\n    services:\n      cidrBlocks: [fd02::/108]\n", ""),
            kkp("    pods:\n      cidrBlocks: [172.25.0.0/16, fd01::/48]\n    services:\n      cidrBlocks: [10.240.16.0/20, fd02::/108]\n", ""),
        ),
        case(
            "K6E061",
            kkp("    pods:\n      cidrBlocks: [fd01::/48, 172.25.0.0/16]\n    services:\n      cidrBlocks: [fd02::/108, 10.240.16.0/20]\n", ""),
            kkp("    pods:\n      cidrBlocks: [172.25.0.0/16, fd01::/48]\n    services:\n      cidrBlocks: [10.240.16.0/20, fd02::/108]\n", ""),
        ),
        case(
            "K6E062",
            kkp("    pods:\n      cidrBlocks: [172.25.0.0/16, fd01::/48]\n    services:\n      cidrBlocks: [10.240.16.0/20]\n", ""),
            kkp("    pods:\n      cidrBlocks: [172.25.0.0/16]\n    services:\n      cidrBlocks: [10.240.16.0/20]\n", ""),
        ),
        case(
            "K6E063",
            kkp("    ipFamily: IPv4\n    pods:\n      cidrBlocks: [172.25.0.0/16, fd01::/48]\n    services:\n      cidrBlocks: [10.240.16.0/20, fd02::/108]\n", ""),
            kkp("    ipFamily: IPv4+IPv6\n    pods:\n      cidrBlocks: [172.25.0.0/16, fd01::/48]\n    services:\n      cidrBlocks: [10.240.16.0/20, fd02::/108]\n", ""),
        ),
        case(
            "K6E064",
            kkp("    pods:\n      cidrBlocks: [172.25.0.0/16]\n    services:\n      cidrBlocks: [10.240.16.0/20]\n    nodeCidrMaskSizeIPv4: 16\n", ""),
            kkp("    pods:\n      cidrBlocks: [172.25.0.0/16]\n    services:\n      cidrBlocks: [10.240.16.0/20]\n    nodeCidrMaskSizeIPv4: 24\n", ""),
        ),
        case(
            "K6E065",
            kkp("    dnsDomain: example.local\n", ""),
            kkp("    dnsDomain: cluster.local\n", ""),
        ),
        case(
            "K6W067",
            kkp("    ipFamily: IPv4+IPv6\n", "  cloud:\n    openstack: {}\n"),
            kkp("    ipFamily: IPv4+IPv6\n", "  cloud:\n    aws: {}\n"),
        ),
        // CNIs.
        case(
            "K6E066",
            kube6("kubeadm", "  cni: {name: canal, version: v3.21}\n  pods: [10.244.0.0/16, fd00:10::/56]\n  services: [10.96.0.0/16, fd00:20::/112]\n"),
            kube6("kubeadm", "  cni: {name: canal, version: v3.22}\n  pods: [10.244.0.0/16, fd00:10::/56]\n  services: [10.96.0.0/16, fd00:20::/112]\n"),
        ),
        case(
            "K6E070",
            kube6("kubeadm", &format!("{V6}  cni: {{name: calico, calico: {{pools: [{{cidr: \"fd00:10::/56\", blockSize: 112}}]}}}}\n")),
            kube6("kubeadm", &format!("{V6}  cni: {{name: calico, calico: {{pools: [{{cidr: \"fd00:10::/56\", blockSize: 122}}]}}}}\n")),
        ),
        case(
            "K6E071",
            kube6("kubeadm", "  pods: [fd00:10::/120]\n  services: [fd00:20::/112]\n  cni: {name: calico, calico: {pools: [{cidr: \"fd00:10::/124\", blockSize: 122}]}}\n"),
            kube6("kubeadm", "  pods: [fd00:10::/120]\n  services: [fd00:20::/112]\n  cni: {name: calico, calico: {pools: [{cidr: \"fd00:10::/120\", blockSize: 122}]}}\n"),
        ),
        case(
            "K6E072",
            kube6("kubeadm", &format!("{V6}  cni: {{name: calico, calico: {{pools: [{{cidr: \"fd00:10::/56\", ipipMode: Always}}]}}}}\n")),
            kube6("kubeadm", &format!("{V6}  cni: {{name: calico, calico: {{pools: [{{cidr: \"fd00:10::/56\", ipipMode: Never}}]}}}}\n")),
        ),
        case(
            "K6E073",
            kube6("kubeadm", "  pods: [10.244.0.0/16]\n  services: [10.96.0.0/16]\n  cni: {name: calico, calico: {pools: [{cidr: 10.244.0.0/16, ipipMode: Always, vxlanMode: Always}]}}\n"),
            kube6("kubeadm", "  pods: [10.244.0.0/16]\n  services: [10.96.0.0/16]\n  cni: {name: calico, calico: {pools: [{cidr: 10.244.0.0/16, ipipMode: Always, vxlanMode: Never}]}}\n"),
        ),
        case(
            "K6E074",
            kube6("kubeadm", &format!("{V6}  cni: {{name: calico, version: v3.22.1, calico: {{pools: [{{cidr: \"fd00:10::/56\", vxlanMode: Always}}]}}}}\n")),
            kube6("kubeadm", &format!("{V6}  cni: {{name: calico, version: v3.23.0, calico: {{pools: [{{cidr: \"fd00:10::/56\", vxlanMode: Always}}]}}}}\n")),
        ),
        case(
            "K6W075",
            kube6("kubeadm", &format!("{V6}  cni: {{name: calico, calico: {{pools: [{{cidr: \"fd00:99::/56\"}}]}}}}\n")),
            kube6("kubeadm", &format!("{V6}  cni: {{name: calico, calico: {{pools: [{{cidr: \"fd00:10::/56\"}}]}}}}\n")),
        ),
        case(
            "K6I076",
            kube6("kubeadm", "  pods: [{cidr: \"fd00:10::/104\", nodeMaskSize: 120}]\n  services: [fd00:20::/112]\n  cni: {name: calico, calico: {pools: [{cidr: \"fd00:10::/104\", blockSize: 122}]}}\n"),
            kube6("kubeadm", "  pods: [{cidr: \"fd00:10::/104\", nodeMaskSize: 120}]\n  services: [fd00:20::/112]\n  cni: {name: calico, calico: {pools: [{cidr: \"fd00:10::/104\", blockSize: 120}]}}\n"),
        ),
        case(
            "K6E080",
            kube6("k3s", "  pods: [{cidr: \"fd00:10::/125\", nodeMaskSize: 126}]\n  services: [fd00:20::/112]\n"),
            kube6("k3s", V6),
        ),
        case(
            "K6E085",
            kube6("kubeadm", &format!("{V6}  cni: {{name: cilium, cilium: {{ipamMode: cluster-pool, clusterPoolIPv6PodCIDRList: [\"fd00:10::/56\"], clusterPoolIPv6MaskSize: 120}}}}\n")),
            kube6("kubeadm", &format!("{V6}  cni: {{name: cilium, cilium: {{ipamMode: cluster-pool, clusterPoolIPv6PodCIDRList: [\"fd00:10::/56\"], clusterPoolIPv6MaskSize: 72}}}}\n")),
        ),
        case(
            "K6W086",
            kube6("kubeadm", &format!("{V6}  cni: {{name: cilium, cilium: {{ipamMode: cluster-pool}}}}\n")),
            kube6("kubeadm", &format!("{V6}  cni: {{name: cilium, cilium: {{ipamMode: cluster-pool, clusterPoolIPv6PodCIDRList: [\"fd00:10::/56\"], clusterPoolIPv6MaskSize: 64}}}}\n")),
        ),
        case(
            "K6E087",
            kube6("kubeadm", &format!("{V6}  cni: {{name: cilium, cilium: {{ipamMode: kubernetes, ipv6Enabled: false}}}}\n")),
            kube6("kubeadm", &format!("{V6}  cni: {{name: cilium, cilium: {{ipamMode: kubernetes, ipv6Enabled: true}}}}\n")),
        ),
        case(
            "K6E090",
            kube6("kubeadm", &format!("{V6}  cni: kube-router\n")),
            kube6("kubeadm", &format!("{V6}  cni: {{name: kube-router, kubeRouter: {{routerID: generate}}}}\n")),
        ),
        case(
            "K6I091",
            kube6("kubeadm", &format!("{V6}  cni: kube-router\n")),
            kube6("kubeadm", &format!("{DUAL_V6_FIRST}  cni: kube-router\n")),
        ),
        // What a target cannot express.
        case(
            "K6E201",
            kube6("kkp", "  cni: calico\n  pods: [172.25.0.0/16]\n  services: [10.240.16.0/20]\n"),
            kube6("kkp", "  cni: canal\n  pods: [172.25.0.0/16]\n  services: [10.240.16.0/20]\n"),
        ),
        case(
            "K6E202",
            kube6("k0s", &format!("  distribution: {{name: k0s, version: v1.35.7+k0s.0}}\n{DUAL_V6_FIRST}")).replace("  distribution: k0s\n", ""),
            kube6("k0s", &format!("  distribution: {{name: k0s, version: v1.36.1+k0s.0}}\n{DUAL_V6_FIRST}")).replace("  distribution: k0s\n", ""),
        ),
        case(
            "K6E203",
            kube6("kubeadm", &format!("{V6}  nodes: [{{name: a, role: controller}}, {{name: b, role: controller}}]\n")),
            kube6("kubeadm", &format!("{V6}  api: {{externalAddress: \"[2001:db8::100]:6443\"}}\n  nodes: [{{name: a, role: controller}}, {{name: b, role: controller}}]\n")),
        ),
        case(
            "K6E204",
            kkp("    pods:\n      cidrBlocks: [172.25.0.0/16]\n    services:\n      cidrBlocks: [10.240.16.0/20]\n", "  exposeStrategy: Ingress\n"),
            kkp("    pods:\n      cidrBlocks: [172.25.0.0/16]\n    services:\n      cidrBlocks: [10.240.16.0/20]\n", "  exposeStrategy: Tunneling\n"),
        ),
        case(
            "K6E222",
            kkp("    pods:\n      cidrBlocks: [172.25.0.0/16]\n    services:\n      cidrBlocks: [10.240.16.0/20]\n", ""),
            kkp("    pods:\n      cidrBlocks: [172.25.0.0/16]\n    services:\n      cidrBlocks: [10.240.16.0/20]\n", "  version: v1.35.7\n"),
        ),
        // The API endpoint.
        case(
            "K6E205",
            kube6("kubeadm", &format!("{V6}  api: {{externalAddress: 192.0.2.10}}\n")),
            kube6("kubeadm", &format!("{V6}  api: {{externalAddress: \"2001:db8::10\"}}\n")),
        ),
        case(
            "K6W206",
            kube6("kubeadm", &format!("{DUAL_V6_FIRST}  api: {{externalAddress: 192.0.2.10}}\n")),
            kube6("kubeadm", &format!("{DUAL_V6_FIRST}  api: {{externalAddress: api.example.com, endpointAddresses: [\"2001:db8::10\", 192.0.2.10]}}\n")),
        ),
        // CNI configuration files, given next to the cluster.
        case(
            "K6E210",
            kube6("kubeadm", &format!("{V6}---\nipv4: {{enabled: false}}\nipv6: {{enabled: true}}\nipam: {{mode: kubernetes}}\n")),
            kube6("kubeadm", &format!("{V6}---\nipv4: {{enabled: false}}\nipv6: {{enabled: true}}\nipam: {{mode: kubernetes}}\nroutingMode: native\nipv6NativeRoutingCIDR: fd00:10::/56\nautoDirectNodeRoutes: true\n")),
        ),
        case(
            "K6E211",
            kube6("kubeadm", &format!("{V6}---\nipv4: {{enabled: false}}\nipv6: {{enabled: true}}\nipam: {{mode: kubernetes}}\nroutingMode: native\nautoDirectNodeRoutes: true\n")),
            kube6("kubeadm", &format!("{V6}---\nipv4: {{enabled: false}}\nipv6: {{enabled: true}}\nipam: {{mode: kubernetes}}\nroutingMode: native\nenableIPv6Masquerade: false\nautoDirectNodeRoutes: true\n")),
        ),
        case(
            "K6W212",
            kube6("kubeadm", &format!("{V6}---\nipv4: {{enabled: false}}\nipv6: {{enabled: true}}\nroutingMode: native\nipv6NativeRoutingCIDR: fd00:10::/56\n")),
            kube6("kubeadm", &format!("{V6}  upstream: {{IPv6: {{mode: routed}}}}\n---\nipv4: {{enabled: false}}\nipv6: {{enabled: true}}\nroutingMode: native\nipv6NativeRoutingCIDR: fd00:10::/56\nenableIPv6Masquerade: false\n")),
        ),
        case(
            "K6E213",
            kube6("kubeadm", &format!("{DUAL_V6_FIRST}  cni: canal\n---\n{CANAL_V4_ONLY}")),
            kube6("kubeadm", &format!("{DUAL_V6_FIRST}  cni: canal\n---\n{CANAL_DUAL}")),
        ),
        case(
            "K6E214",
            kube6("kubeadm", &format!("{V6}  cni: canal\n---\n{}", calico_node_env("FELIX_IPV6SUPPORT", "\"false\""))),
            kube6("kubeadm", &format!("{V6}  cni: canal\n---\n{}", calico_node_env("FELIX_IPV6SUPPORT", "\"true\""))),
        ),
        case(
            "K6E215",
            kube6("kubeadm", &format!("{V6}  cni: flannel\n---\n{{\"Network\": \"10.244.0.0/16\", \"Backend\": {{\"Type\": \"vxlan\"}}}}\n")),
            kube6("kubeadm", &format!("{V6}  cni: flannel\n---\n{{\"EnableIPv4\": false, \"EnableIPv6\": true, \"IPv6Network\": \"fd00:10::/56\", \"Backend\": {{\"Type\": \"vxlan\"}}}}\n")),
        ),
        case(
            "K6E216",
            kube6("kubeadm", &format!("{V6}  cni: flannel\n---\n{{\"EnableIPv4\": false, \"EnableIPv6\": true, \"IPv6Network\": \"fd00:99::/56\"}}\n")),
            kube6("kubeadm", &format!("{V6}  cni: flannel\n---\n{{\"EnableIPv4\": false, \"EnableIPv6\": true, \"IPv6Network\": \"fd00:10::/48\"}}\n")),
        ),
        case(
            "K6W217",
            kube6("kubeadm", &format!("{V6_GLOBAL}  upstream: {{IPv6: {{mode: ndp-proxy}}}}\n---\n{}", kube_router_ds(&["--enable-ipv4=false", "--enable-ipv6=true"]))),
            kube6("kubeadm", &format!("{V6_GLOBAL}  upstream: {{IPv6: {{mode: ndp-proxy}}}}\n---\n{}", kube_router_ds(&["--enable-ipv4=false", "--enable-ipv6=true", "--enable-pod-egress=false"]))),
        ),
        case(
            "K6E218",
            kube6("kubeadm", &format!("{V6}---\n{}", kube_router_ds(&["--enable-pod-egress=true"]))),
            kube6("kubeadm", &format!("{V6}---\n{}", kube_router_ds(&["--enable-ipv4=false", "--enable-ipv6", "--service-cluster-ip-range=fd00:20::/112"]))),
        ),
        case(
            "K6I219",
            kube6("k0s", "  pods: [10.244.0.0/16, fd00::/108]\n  services: [10.96.0.0/12, fd01::/108]\n").replace("distribution: k0s", "distribution: {name: k0s, version: v1.35.7+k0s.0}"),
            kube6("k0s", "  pods: [10.244.0.0/16, fd00::/108]\n  services: [10.96.0.0/12, fd01::/108]\n"),
        ),
        case(
            "K6I220",
            kube6("kubeadm", &format!("{V6_GLOBAL}  cni: calico\n  upstream: {{IPv6: {{mode: ndp-proxy}}}}\n")),
            kube6("kubeadm", &format!("{V6_GLOBAL}  cni: {{name: calico, calico: {{ipam: HostLocal}}}}\n  upstream: {{IPv6: {{mode: ndp-proxy}}}}\n")),
        ),
        // Cross-checks.
        case(
            "K6W100",
            kube6("kubeadm", "  pods: [fd00:10::/56]\n  services: [fd00:10::/112]\n"),
            kube6("kubeadm", V6),
        ),
        case(
            "K6W101",
            kube6("kubeadm", &format!("{V6}  nodes: [{{name: a, addresses: [\"fd00:10::5\"]}}]\n")),
            kube6("kubeadm", &format!("{V6}  nodes: [{{name: a, addresses: [\"fd00:99::5\"]}}]\n")),
        ),
        case(
            "K6E102",
            kube6("kubeadm", "  pods: [fe80::/56]\n  services: [fd00:20::/112]\n"),
            kube6("kubeadm", V6),
        ),
        case(
            "K6W103",
            kube6("kubeadm", "  pods: [2001:db8:10::/56]\n  services: [fd00:20::/112]\n"),
            kube6("kubeadm", V6),
        ),
        case(
            "K6W104",
            kube6("kubeadm", &format!("{DUAL_V6_FIRST}  nodes: [{{name: a, addresses: [192.0.2.10, \"2001:db8::10\"]}}]\n")),
            kube6("kubeadm", &format!("{DUAL_V6_FIRST}  nodes: [{{name: a, addresses: [\"2001:db8::10\", 192.0.2.10]}}]\n")),
        ),
        case(
            "K6E105",
            kube6("k3s", "  pods: [{cidr: \"fd00:10::/64\", nodeMaskSize: 65}]\n  services: [fd00:20::/112]\n  nodes: [{name: a}, {name: b}, {name: c}]\n"),
            kube6("k3s", "  pods: [{cidr: \"fd00:10::/64\", nodeMaskSize: 66}]\n  services: [fd00:20::/112]\n  nodes: [{name: a}, {name: b}, {name: c}]\n"),
        ),
        case(
            "K6W106",
            kube6("kubeadm", V6),
            kube6("kubeadm", &format!("{V6}  upstream: {{IPv6: {{mode: masquerade}}}}\n")),
        ),
        case(
            "K6W107",
            kube6("kubeadm", "  pods: [\"2001:db8:10::/56\"]\n  services: [fd00:20::/112]\n"),
            kube6("kubeadm", "  pods: [\"2001:db8:10::/56\"]\n  services: [fd00:20::/112]\n  upstream: {IPv6: {mode: ndp-proxy}}\n"),
        ),
        case(
            "K6I108",
            kube6("kubeadm", "  pods: [\"2001:db8:2::/104\"]\n  services: [fd00:20::/112]\n  upstream: {IPv6: {mode: ndp-proxy}}\n  nodes: [{name: a, addresses: [\"2001:db8:1::10\"]}]\n"),
            kube6("kubeadm", "  pods: [\"2001:db8:1::/104\"]\n  services: [fd00:20::/112]\n  upstream: {IPv6: {mode: ndp-proxy}}\n  nodes: [{name: a, addresses: [\"2001:db8:1::10\"]}]\n"),
        ),
        // Carving a delegated prefix.
        case(
            "K6E700",
            kube6("k3s", "  prefix: 10.0.0.0/16\n"),
            kube6("k3s", "  prefix: \"2001:db8:1::/56\"\n"),
        ),
        case(
            "K6E701",
            kube6("k3s", "  prefix: {cidr: \"2001:db8::/120\", nodes: 300}\n"),
            kube6("k3s", "  prefix: {cidr: \"2001:db8::/56\", nodes: 300}\n"),
        ),
        case(
            "K6W702",
            kube6("k3s", "  prefix: \"2001:db8:1:2::/64\"\n"),
            kube6("k3s", "  prefix: \"2001:db8:1:2::/64\"\n  upstream: {IPv6: {mode: ndp-proxy}}\n"),
        ),
        case(
            "K6I703",
            kube6("k3s", "  prefix: \"2001:db8:1::/56\"\n"),
            kube6("k3s", V6_GLOBAL),
        ),
        case(
            "K6W704",
            kube6("k3s", "  prefix: {cidr: \"2001:db8:1::/56\", podsPerNode: 10}\n  upstream: {IPv6: {mode: ndp-proxy}}\n"),
            kube6("k3s", "  prefix: {cidr: \"2001:db8:1::/56\", podsPerNode: 200}\n  upstream: {IPv6: {mode: ndp-proxy}}\n"),
        ),
        case(
            "K6W708",
            kube6("k3s", "  prefix: {cidr: \"2001:db8:1::/56\", podsPerNode: 250}\n"),
            kube6("k3s", "  prefix: {cidr: \"2001:db8:1::/56\", podsPerNode: 110}\n"),
        ),
        case(
            "K6W709",
            kube6("k3s", "  prefix: {cidr: \"2001:db8:1::/56\", loadBalancerPools: {count: 1}}\n"),
            kube6("k3s", "  prefix: {cidr: \"2001:db8:1::/56\", loadBalancerPools: {count: 1}}\n  loadBalancer: {implementation: metallb}\n"),
        ),
        with_prefix(
            "K6I705",
            kube6("k3s", "  prefix: \"2001:db8:1::/56\"\n"),
            kube6("k3s", "  prefix: \"2001:db8:2::/56\"\n"),
            "2001:db8:2::/56",
        ),
        with_prefix(
            "K6E706",
            kube6("kubeadm", "  prefix: \"2001:db8:1::/48\"\n  pods: [\"2001:db8:1:ff00::/64\"]\n  services: [fd00:20::/112]\n"),
            kube6("kubeadm", "  prefix: \"2001:db8:1::/48\"\n  pods: [\"2001:db8:1:1::/64\"]\n  services: [fd00:20::/112]\n"),
            "2001:db8:2::/56",
        ),
        case(
            "K6I707",
            kube6("kubeadm", "  prefix: \"2001:db8:1::/56\"\n  pods: [\"2001:db8:1:1::/64\"]\n  services: [fd00:20::/112]\n"),
            kube6("kubeadm", "  prefix: \"2001:db8:1::/56\"\n  pods: [\"2001:db8:1:1::/64\"]\n"),
        ),
        case(
            "K6I109",
            kube6("kubeadm", V6),
            kube6("kubeadm", &format!("{V6}  nat64: {{prefix: \"64:ff9b::/96\"}}\n")),
        ),
        // LoadBalancer Services and ingress.
        case(
            "K6E400",
            lb("kubeadm", V6, "    implementation: metallb\n    pools: [{addresses: [\"2001:db8:5::zz/120\"]}]\n"),
            lb("kubeadm", V6, METALLB_V6),
        ),
        case(
            "K6E401",
            lb("kubeadm", V6, "    implementation: metallb\n    pools: [{addresses: [\"fd00:20::/120\"]}]\n"),
            lb("kubeadm", V6, METALLB_V6),
        ),
        case(
            "K6W402",
            lb("kubeadm", V6, "    implementation: metallb\n    pools: [{addresses: [\"2001:db8:5::/120\", 192.0.2.0/28]}]\n"),
            lb("kubeadm", V6, METALLB_V6),
        ),
        case(
            "K6E403",
            lb("kubeadm", V6, "    implementation: metallb\n"),
            lb("kubeadm", V6, METALLB_V6),
        ),
        case(
            "K6W404",
            lb("kubeadm", DUAL_V6_FIRST, METALLB_V6),
            lb("kubeadm", DUAL_V6_FIRST, METALLB_DUAL),
        ),
        case(
            "K6W405",
            lb("kubeadm", DUAL_V6_FIRST, "    implementation: metallb\n    pools:\n      - {name: v6, addresses: [\"2001:db8:5::/120\"]}\n      - {name: v4, addresses: [192.0.2.0/28]}\n"),
            lb("kubeadm", DUAL_V6_FIRST, METALLB_DUAL),
        ),
        case(
            "K6W406",
            lb("kubeadm", &format!("{V6}  nodes: [{{name: a, addresses: [\"2001:db8:1::10\"]}}]\n"), METALLB_V6),
            lb("kubeadm", &format!("{V6}  nodes: [{{name: a, addresses: [\"2001:db8:1::10\"]}}]\n"), "    implementation: metallb\n    pools: [{addresses: [\"2001:db8:1::ff00/120\"]}]\n"),
        ),
        case(
            "K6E407",
            lb("kubeadm", V6, "    implementation: metallb\n    pools: [{addresses: [\"2001:db8:5::/120\"], mode: bgp}]\n"),
            lb("kubeadm", V6, "    implementation: metallb\n    pools: [{addresses: [\"2001:db8:5::/120\"], mode: bgp}]\n    bgpPeers: [{peerAddress: \"2001:db8:1::1\", peerASN: 64500}]\n"),
        ),
        case(
            "K6W408",
            lb("kubeadm", V6, "    implementation: metallb\n    pools: [{addresses: [\"2001:db8:5::/120\"], mode: bgp}]\n    bgpPeers: [{peerAddress: \"2001:db8:1::1\", peerASN: 64500}]\n"),
            lb("kubeadm", V6, "    implementation: metallb\n    pools: [{addresses: [\"2001:db8:5::/120\"], mode: l2}]\n"),
        ),
        case(
            "K6E409",
            lb("kubeadm", &format!("{V6}  cni: {{name: cilium, version: 1.18.3}}\n"), "    implementation: cilium\n    pools: [{addresses: [\"2001:db8:5::/120\"]}]\n"),
            lb("kubeadm", &format!("{V6}  cni: {{name: cilium, version: 1.19.6}}\n"), "    implementation: cilium\n    pools: [{addresses: [\"2001:db8:5::/120\"]}]\n"),
        ),
        case(
            "K6W410",
            lb("kubeadm", &format!("{V6}  cni: {{name: cilium, version: 1.19.2}}\n"), "    implementation: cilium\n    pools: [{addresses: [\"2001:db8:5::/120\"]}]\n"),
            lb("kubeadm", &format!("{V6}  cni: {{name: cilium, version: 1.19.6}}\n"), "    implementation: cilium\n    pools: [{addresses: [\"2001:db8:5::/120\"]}]\n"),
        ),
        case(
            "K6E411",
            lb("kubeadm", &format!("{V4}  cni: {{name: cilium, version: 1.13.4}}\n"), "    implementation: cilium\n    pools: [{addresses: [192.0.2.0/28]}]\n"),
            lb("kubeadm", &format!("{V4}  cni: {{name: cilium, version: 1.14.0}}\n"), "    implementation: cilium\n    pools: [{addresses: [192.0.2.0/28]}]\n"),
        ),
        case(
            "K6E412",
            lb("kubeadm", &format!("{V6}  cni: calico\n"), "    implementation: cilium\n    pools: [{addresses: [\"2001:db8:5::/120\"]}]\n"),
            lb("kubeadm", &format!("{V6}  cni: {{name: cilium, version: 1.19.6}}\n"), "    implementation: cilium\n    pools: [{addresses: [\"2001:db8:5::/120\"]}]\n"),
        ),
        case(
            "K6W413",
            lb("k3s", V6, "    pools: [{addresses: [\"2001:db8:5::/120\"]}]\n"),
            kube6("k3s", V6),
        ),
        case(
            "K6W414",
            kube6("k3s", &format!("{DUAL_V4_FIRST}  nodes: [{{name: a, addresses: [192.0.2.10]}}]\n")),
            kube6("k3s", &format!("{DUAL_V4_FIRST}  nodes: [{{name: a, addresses: [192.0.2.10, \"2001:db8:1::10\"]}}]\n")),
        ),
        case(
            "K6E415",
            lb("kubeadm", V6, "    implementation: servicelb\n"),
            lb("kubeadm", V6, METALLB_V6),
        ),
        case(
            "K6W416",
            lb("kubeadm", V6, &format!("{METALLB_V6}    ingress: ingress-nginx\n")),
            lb("rke2", V6, "    ingress: ingress-nginx\n"),
        ),
        case(
            "K6I417",
            lb("kubeadm", DUAL_V6_FIRST, &format!("{METALLB_DUAL}    ingress: traefik\n")),
            kube6("k3s", DUAL_V6_FIRST),
        ),
        case(
            "K6W418",
            lb("kubeadm", V6, "    ingress: traefik\n"),
            lb("kubeadm", V6, &format!("{METALLB_V6}    ingress: traefik\n")),
        ),
        case(
            "K6W419",
            kkp("    ipFamily: IPv4\n", "  version: v1.35.7\n  cloud:\n    vsphere: {}\n"),
            kkp("    ipFamily: IPv4\n", "  version: v1.35.7\n  cloud:\n    aws: {}\n"),
        ),
        case(
            "K6W420",
            kkp("    ipFamily: IPv4+IPv6\n", "  version: v1.35.7\n  cloud:\n    aws: {}\n"),
            kkp("    ipFamily: IPv4\n", "  version: v1.35.7\n  cloud:\n    aws: {}\n"),
        ),
        case(
            "K6I421",
            kkp("    ipFamily: IPv4\n", "  version: v1.35.7\n  cloud:\n    hetzner: {}\n"),
            kkp("    ipFamily: IPv4\n", "  version: v1.35.7\n  cloud:\n    aws: {}\n"),
        ),
        case(
            "K6W422",
            kkp("    ipFamily: IPv4+IPv6\n", "  version: v1.24.9\n  cloud:\n    openstack: {}\n"),
            kkp("    ipFamily: IPv4+IPv6\n", "  version: v1.25.0\n  cloud:\n    openstack: {}\n"),
        ),
        case(
            "K6W423",
            lb("kubeadm", V6, "    implementation: none\n    pools: [{addresses: [\"2001:db8:5::/120\"]}]\n"),
            lb("kubeadm", V6, METALLB_V6),
        ),
        case(
            "K6E430",
            format!("{}---\nkubeProxyReplacement: false\nl2announcements: {{enabled: true}}\n", lb("kubeadm", &format!("{V6}  cni: {{name: cilium, version: 1.19.6}}\n"), CILIUM_L2_V6)),
            format!("{}---\nkubeProxyReplacement: true\nl2announcements: {{enabled: true}}\n", lb("kubeadm", &format!("{V6}  cni: {{name: cilium, version: 1.19.6}}\n"), CILIUM_L2_V6)),
        ),
        // KKP switches Cilium's kube-proxy replacement on only in proxyMode ebpf.
        case(
            "K6E430",
            lb("kkp", &format!("{DUAL_V6_FIRST}  cni: {{name: cilium, version: 1.19.6}}\n  kubeProxy: {{mode: ipvs}}\n"), CILIUM_L2_DUAL),
            lb("kkp", &format!("{DUAL_V6_FIRST}  cni: {{name: cilium, version: 1.19.6}}\n  kubeProxy: {{mode: ebpf}}\n"), CILIUM_L2_DUAL),
        ),
        case(
            "K6W431",
            lb("kubeadm", V6, "    implementation: kube-vip\n    pools:\n      - {addresses: [\"2001:db8:1::ff00/120\"]}\n      - {addresses: [\"2001:db8:7::/120\"], mode: bgp}\n    bgpPeers: [{peerAddress: \"2001:db8:1::1\", peerASN: 64500, localASN: 64512}]\n"),
            lb("kubeadm", V6, "    implementation: kube-vip\n    pools:\n      - {addresses: [\"2001:db8:1::ff00/120\"]}\n      - {addresses: [\"2001:db8:1::fe00/120\"]}\n"),
        ),
        case(
            "K6W440",
            lb("kubeadm", V6, &format!("{METALLB_V6}    ndpProxy: watch\n")),
            lb("kubeadm", &format!("{V6}  cni: {{name: cilium, version: 1.18.3}}\n  upstream: {{IPv6: {{mode: ndp-proxy, uplink: eth0}}}}\n"), "    implementation: cilium\n    ndpProxy: watch\n    pools: [{addresses: [\"2001:db8:5::/120\"]}]\n"),
        ),
        // Found by porting the components' own validation tests.
        case(
            "K6E300",
            k0s("  network:\n    provider: flannel\n"),
            k0s("  network:\n    provider: custom\n"),
        ),
        case(
            "K6E301",
            k0s("  network:\n    kubeProxy:\n      mode: foobar\n"),
            k0s("  network:\n    kubeProxy:\n      mode: foobar\n      disabled: true\n"),
        ),
        case(
            "K6E302",
            k0s("  network:\n    provider: calico\n    calico:\n      mode: BIRD\n"),
            k0s("  network:\n    provider: calico\n    calico:\n      mode: bird\n"),
        ),
        case(
            "K6E303",
            k0s("  network:\n    clusterDomain: .invalid-cluster-domain\n"),
            k0s("  network:\n    clusterDomain: Cluster_Local\n"),
        ),
        case(
            "K6W304",
            k0s("  network:\n    clusterDomain: Cluster_Local\n"),
            k0s("  network:\n    clusterDomain: cluster.local\n"),
        ),
        case(
            "K6E305",
            kkp("    proxyMode: none\n", ""),
            kkp("    proxyMode: nftables\n", ""),
        ),
        case(
            "K6E306",
            kkp("    ipFamily: IPv4\n", "  cniPlugin:\n    type: flannel\n"),
            kkp("    ipFamily: IPv4\n", "  cniPlugin:\n    type: none\n"),
        ),
        case(
            "K6E307",
            kube6("kubeadm", &format!("{V6}  kubernetesVersion: v1.30.2\n  kubeProxy: {{mode: nftables}}\n")),
            kube6("kubeadm", &format!("{V6}  kubernetesVersion: v1.31.0\n  kubeProxy: {{mode: nftables}}\n")),
        ),
        case(
            "K6E308",
            kubeadm("networking:\n  podSubnet: fd00:10::/56\n  serviceSubnet: fd00:20::/96\n", ""),
            kubeadm("networking:\n  podSubnet: fd00:10::/56\n  serviceSubnet: fd00:20::/108\n", ""),
        ),
        case(
            "K6W309",
            kube6("k3s", "  pods: [fd00:10::/56]\n  services: [fd00:20::/96]\n"),
            kube6("k3s", "  kubernetesVersion: v1.34.1\n  pods: [fd00:10::/56]\n  services: [fd00:20::/96]\n"),
        ),
        case(
            "K6E310",
            kube6("k3s", "  kubernetesVersion: v1.34.1\n  pods: [fd00:10::/56]\n  services: [\"fd00:20::/60\"]\n"),
            kube6("k3s", "  kubernetesVersion: v1.34.1\n  pods: [fd00:10::/56]\n  services: [\"fd00:20::/64\"]\n"),
        ),
        case(
            "K6W311",
            kubeadm_node_ip("2001:db8::10,not-an-address"),
            kubeadm_node_ip("2001:db8::10"),
        ),
        case(
            "K6E312",
            "cluster-cidr: fd00:42::/56\nservice-cidr: fd00:43::/125\n".to_string(),
            "cluster-cidr: fd00:42::/56\nservice-cidr: fd00:43::/124\n".to_string(),
        ),
        case(
            "K6E313",
            kube6("kubeadm", &format!("{V6}  cni: {{name: calico, calico: {{pools: [{{cidr: \"fd00:10::1/56\"}}]}}}}\n")),
            kube6("kubeadm", &format!("{V6}  cni: {{name: calico, calico: {{pools: [{{cidr: \"fd00:10::/56\"}}]}}}}\n")),
        ),
        case(
            "K6E314",
            kube6("kubeadm", &format!("{V6}  cni: {{name: calico, calico: {{pools: [{{cidr: \"fe80::/120\"}}]}}}}\n")),
            kube6("kubeadm", &format!("{V6}  cni: {{name: calico, calico: {{pools: [{{cidr: \"fd00:10::/120\"}}]}}}}\n")),
        ),
        case(
            "K6E315",
            kube6("kubeadm", &format!("{V6}  cni: {{name: calico, calico: {{pools: [{{cidr: \"fd00:10::/56\"}}, {{cidr: \"fd00:10::/64\"}}]}}}}\n")),
            kube6("kubeadm", &format!("{V6}  cni: {{name: calico, calico: {{pools: [{{cidr: \"fd00:10::/64\"}}, {{cidr: \"fd00:10:0:1::/64\"}}]}}}}\n")),
        ),
        case(
            "K6E316",
            kube6("kubeadm", "  pods: [10.244.0.0/16]\n  services: [10.96.0.0/16]\n  cni: {name: calico, calico: {pools: [{cidr: 10.244.0.0/16, ipipMode: never}]}}\n"),
            kube6("kubeadm", "  pods: [10.244.0.0/16]\n  services: [10.96.0.0/16]\n  cni: {name: calico, calico: {pools: [{cidr: 10.244.0.0/16, ipipMode: Never}]}}\n"),
        ),
        case(
            "K6E317",
            kube6("kubeadm", &format!("{V6}  cni: {{name: cilium, cilium: {{ipamMode: cluster-pool, clusterPoolIPv6PodCIDRList: [\"fd00:10::/100\", \"fd00:10::/96\"], clusterPoolIPv6MaskSize: 112}}}}\n")),
            kube6("kubeadm", &format!("{V6}  cni: {{name: cilium, cilium: {{ipamMode: cluster-pool, clusterPoolIPv6PodCIDRList: [\"fd00:10::/100\", \"fd00:10::1:0:0/96\"], clusterPoolIPv6MaskSize: 112}}}}\n")),
        ),
        case(
            "K6E318",
            kubeadm("networking:\n  podSubnet: 10.96.0.0/16\n  serviceSubnet: 10.96.0.0/12\n", ""),
            kubeadm("networking:\n  podSubnet: 10.96.0.0/16\n  serviceSubnet: 10.96.0.0/20\n", ""),
        ),
        case(
            "K6E319",
            kubeadm(
                "networking:\n  serviceSubnet: fd00:20::/112\ncontrollerManager:\n  extraArgs:\n  - name: allocate-node-cidrs\n    value: \"true\"\n",
                "",
            ),
            kubeadm(
                "networking:\n  serviceSubnet: fd00:20::/112\ncontrollerManager:\n  extraArgs:\n  - name: allocate-node-cidrs\n    value: \"false\"\n",
                "",
            ),
        ),
        case(
            "K6E320",
            k0s("  api:\n    address: 0.0.0.0\n"),
            k0s("  api:\n    address: 10.0.0.5\n"),
        ),
        // Egress: CoreDNS, NodeLocal DNSCache, DNS64/NAT64 (issue 15).
        case(
            "K6E500",
            kubeadm(KUBEADM_V6, &coredns_config_map("forward . 192.0.2.53 [2001:db8::53]:53")),
            kubeadm(KUBEADM_V6, &coredns_config_map("forward . [2001:db8::53]:53 /etc/resolv.conf")),
        ),
        case(
            "K6E501",
            format!("{}{}", kube6("rke2", V6), rke2_coredns("nodelocal:\n      enabled: true\n")),
            format!("{}{}", kube6("rke2", V6), rke2_coredns("nodelocal:\n      enabled: true\n      ip_address: \"fd00:53::10\"\n")),
        ),
        case(
            "K6W502",
            format!("{}{}", kube6("k3s", V6), k3s_coredns_custom("dns64 {\n      translate_all\n    }")),
            format!("{}{}", kube6("k3s", V6), k3s_coredns_custom("dns64 64:ff9b::/96")),
        ),
        case(
            "K6E503",
            kubeadm(KUBEADM_V6, &coredns_config_map("dns64 64:ff9b::/100")),
            kubeadm(KUBEADM_V6, &coredns_config_map("dns64 64:ff9b::/96")),
        ),
        case(
            "K6W504",
            format!("{}{}", kube6("k3s", &format!("{V6}  nat64: {{prefix: \"2001:db8:64::/96\"}}\n")), k3s_coredns_custom("dns64")),
            format!("{}{}", kube6("k3s", &format!("{V6}  nat64: {{prefix: \"2001:db8:64::/96\"}}\n")), k3s_coredns_custom("dns64 {\n      prefix 2001:db8:64::/96\n    }")),
        ),
        case(
            "K6E505",
            kube6("kubeadm", &format!("{V6}  nat64: {{prefix: \"2001:db8:64::/80\"}}\n")),
            kube6("kubeadm", &format!("{V6}  nat64: {{prefix: \"2001:db8:64::/64\"}}\n")),
        ),
        case(
            "K6E507",
            kube6("kubeadm", &format!("{V6}  nat64: {{prefix: \"2001:db8:64::/96\", gateway: {{pool4: 198.51.100.7/32}}}}\n")),
            kube6("kubeadm", &format!("{V6}  nat64: {{prefix: \"2001:db8:64::/96\", gateway: {{pool4: 198.51.100.0/24}}}}\n")),
        ),
        case(
            "K6I508",
            kube6("kubeadm", &format!("{V6}  nodes: [{{name: a, addresses: [\"2001:db8:1::10\", 192.0.2.10]}}]\n")),
            kube6("kubeadm", &format!("{V6}  nodes: [{{name: a, addresses: [\"2001:db8:1::10\"]}}]\n")),
        ),
        case(
            "K6W506",
            format!("{}{}", kube6("k3s", DUAL_V6_FIRST), k3s_coredns_custom("dns64 {\n      allow_ipv4\n    }")),
            format!("{}{}", kube6("k3s", V6), k3s_coredns_custom("dns64 {\n      allow_ipv4\n    }")),
        ),
        case(
            "K6E321",
            kubeadm(
                "networking:\n  podSubnet: fd00:10::/56\n  serviceSubnet: fd00:20::/112\n",
                "---\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: \"fd00:10::/56,\"\n",
            ),
            kubeadm(
                "networking:\n  podSubnet: fd00:10::/56\n  serviceSubnet: fd00:20::/112\n",
                "---\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: \"fd00:10::/56,\"\ndetectLocalMode: NodeCIDR\n",
            ),
        ),
        case(
            "K6E322",
            "cluster-cidr: fd00:42::/56\nservice-cidr: fd00:43::/112\nkube-proxy-arg: [detect-local-mode=Guess]\n".to_string(),
            "cluster-cidr: fd00:42::/56\nservice-cidr: fd00:43::/112\nkube-proxy-arg: [detect-local-mode=InterfaceNamePrefix]\n".to_string(),
        ),
        case(
            "K6E323",
            kube6("kubeadm", &format!("{V6}---\n{}", kube_router_ds(&["--enable-ipv4=false", "--enable-ipv6", "--service-cluster-ip-range=fd00:20::/112,"]))),
            kube6("kubeadm", &format!("{V6}---\n{}", kube_router_ds(&["--enable-ipv4=false", "--enable-ipv6", "--service-cluster-ip-range=fd00:20::/112"]))),
        ),
        case(
            "K6E325",
            "cni: \"canal,multus\"\ncluster-cidr: 10.42.0.0/16,fd00:42::/56\nservice-cidr: 10.43.0.0/16,fd00:43::/112\n".to_string(),
            "cni: \"multus,canal\"\ncluster-cidr: 10.42.0.0/16,fd00:42::/56\nservice-cidr: 10.43.0.0/16,fd00:43::/112\n".to_string(),
        ),
        case(
            "K6E326",
            kube6("kubeadm", &format!("{V6}  cni: {{name: cilium, cilium: {{routingMode: Native, ipv6NativeRoutingCIDR: \"fd00:10::/56\", autoDirectNodeRoutes: true}}}}\n")),
            kube6("kubeadm", &format!("{V6}  cni: {{name: cilium, cilium: {{routingMode: native, ipv6NativeRoutingCIDR: \"fd00:10::/56\", autoDirectNodeRoutes: true}}}}\n")),
        ),
        case(
            "K6W327",
            kubeadm("networking:\n  podSubnet: fd00:10::/56\n  serviceSubnet: fd00:20::/112\ncontrollerManager:\n  extraArgs:\n  - name: cluster-cidr\n    value: fd00:99::/56\n", ""),
            kubeadm("networking:\n  podSubnet: fd00:10::/56\n  serviceSubnet: fd00:20::/112\ncontrollerManager:\n  extraArgs:\n  - name: cluster-cidr\n    value: fd00:10::/56\n", ""),
        ),
        case(
            "K6W324",
            kube6("kubeadm", &format!("{V6}---\n{}", kube_router_ds(&["--enable-ipv4=false", "--enable-ipv6", "--service-cluster-ip-range=fd00:99::/112"]))),
            kube6("kubeadm", &format!("{V6}---\n{}", kube_router_ds(&["--enable-ipv4=false", "--enable-ipv6", "--service-cluster-ip-range=fd00:20::/112"]))),
        ),
    ]
}

const KUBEADM_V6: &str = "networking:\n  podSubnet: fd00:10::/56\n  serviceSubnet: fd00:20::/112\n";

/// kubeadm's coredns ConfigMap as `kubectl get cm coredns -o yaml` shows it, with `line` in its
/// server block.
fn coredns_config_map(line: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: coredns\n  namespace: kube-system\ndata:\n  Corefile: |\n    .:53 {{\n        errors\n        health {{\n           lameduck 5s\n        }}\n        ready\n        kubernetes cluster.local in-addr.arpa ip6.arpa {{\n           pods insecure\n           fallthrough in-addr.arpa ip6.arpa\n           ttl 30\n        }}\n        prometheus :9153\n        {line}\n        cache 30\n        loop\n        reload\n        loadbalance\n    }}\n"
    )
}

/// k3s's coredns-custom ConfigMap with one `.override` key.
fn k3s_coredns_custom(plugins: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: coredns-custom\n  namespace: kube-system\ndata:\n  dns64.override: |\n    {plugins}\n"
    )
}

/// RKE2's rke2-coredns HelmChartConfig with the given values (indented by four spaces).
fn rke2_coredns(values: &str) -> String {
    format!(
        "---\napiVersion: helm.cattle.io/v1\nkind: HelmChartConfig\nmetadata:\n  name: rke2-coredns\n  namespace: kube-system\nspec:\n  valuesContent: |-\n    {values}"
    )
}

/// A kubeadm InitConfiguration whose kubelet gets `--node-ip=<node_ip>`.
fn kubeadm_node_ip(node_ip: &str) -> String {
    format!(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: fd00:10::/56\n  serviceSubnet: fd00:20::/112\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration:\n  name: a\n  kubeletExtraArgs:\n  - name: node-ip\n    value: \"{node_ip}\"\n"
    )
}

fn ids(text: &str, gates: &[&str], prefix: Option<&str>) -> Vec<&'static str> {
    let options = ImportOptions {
        feature_gates: gates
            .iter()
            .map(|g| FeatureGate {
                name: Located::new(g.to_string(), Origin::input("--feature-gates", None)),
                enabled: Located::new(true, Origin::input("--feature-gates", None)),
            })
            .collect(),
        ..ImportOptions::default()
    };
    let prefix = kube6_model::prefix::PrefixOptions {
        cidr: prefix.map(str::to_string),
        ..Default::default()
    };
    let analysis = kube6_model::analyze_with_prefix("test.yaml", text, &options, &prefix)
        .unwrap_or_else(|e| panic!("input does not import: {e}\n{text}"));
    analysis.plan.diagnostics.iter().map(|d| d.id).collect()
}

#[test]
fn every_rule_fires_and_stays_quiet() {
    let mut failures = Vec::new();
    for case in cases() {
        let fired = ids(&case.fires, case.gates, case.prefix);
        if !fired.contains(&case.id) {
            failures.push(format!(
                "{} did not fire on:\n{}\n(got {fired:?})",
                case.id, case.fires
            ));
        }
        let quiet = ids(&case.quiet, case.gates, case.prefix);
        if quiet.contains(&case.id) {
            failures.push(format!(
                "{} fired on the quiet case:\n{}",
                case.id, case.quiet
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_rule_in_the_catalog_has_a_case() {
    let covered: Vec<&str> = cases().iter().map(|c| c.id).collect();
    let missing: Vec<&str> = catalog::ALL
        .iter()
        .map(|r| r.id)
        // Change rules (6xx) judge two configurations; kube6-diff's tests cover each of them.
        .filter(|id| !catalog::is_change_rule(id))
        .filter(|id| !covered.contains(id))
        .collect();
    assert!(missing.is_empty(), "rules without a test case: {missing:?}");
}

#[test]
fn diagnostics_point_at_the_offending_value() {
    let text = k0s("  network:\n    podCIDR: fd00::/108\n    serviceCIDR: fd01::/112\n");
    let options = ImportOptions {
        feature_gates: vec![FeatureGate {
            name: Located::new(
                "IPv6SingleStack".into(),
                Origin::input("--feature-gates", None),
            ),
            enabled: Located::new(true, Origin::input("--feature-gates", None)),
        }],
        ..ImportOptions::default()
    };
    let analysis = kube6_model::analyze("k0s.yaml", &text, &options).unwrap();
    let d = analysis
        .plan
        .diagnostics
        .iter()
        .find(|d| d.id == "K6E041")
        .unwrap();
    assert_eq!(d.path, "spec.network.serviceCIDR");
    assert_eq!((d.line, d.column), (Some(6), Some(18)));
    assert_eq!(d.enforced_by.as_str(), "k0s");
    assert!(d.hint.contains("fd01::/108"), "{}", d.hint);
    assert!(!analysis.plan.valid);
}

/// K6W044 fires where k0s reads the primary family in IPv6 single-stack (see the rule's source
/// comment for the k0s and kube-router code), not on k0s's own documented examples.
#[test]
fn k0s_primary_family_warning_only_where_k0s_reads_it() {
    let single = "    podCIDR: fd00::/108\n    serviceCIDR: fd01::/108\n";
    let gates = &["IPv6SingleStack"];
    let fires = |network: &str, api: &str| {
        ids(
            &k0s(&format!("{api}  network:\n{network}{single}")),
            gates,
            None,
        )
        .contains(&"K6W044")
    };
    // k0s's documented examples: kube-router, no API address. On an IPv6-only host k0s picks
    // IPv6; on a host with IPv4, kube-router takes its router id from the node's IP.
    assert!(!fires("", ""));
    assert!(!fires("    provider: kuberouter\n", ""));
    // Calico switches IPv6 off on any host with IPv4.
    assert!(fires("    provider: calico\n", ""));
    // The configuration makes IPv4 primary: kube-router gets no router id...
    assert!(fires("", "  api:\n    address: 192.0.2.10\n"));
    assert!(fires("    primaryAddressFamily: IPv4\n", ""));
    // ...unless its extraArgs give one.
    assert!(!fires(
        "    primaryAddressFamily: IPv4\n    kuberouter:\n      extraArgs:\n        router-id: 192.0.2.10\n",
        ""
    ));
    // A custom CNI reads nothing, but the API endpoint reconciler resolves a hostname external
    // address in IPv4.
    assert!(!fires(
        "    provider: custom\n    primaryAddressFamily: IPv4\n",
        ""
    ));
    assert!(fires(
        "    provider: custom\n",
        "  api:\n    address: 2001:db8::10\n    externalAddress: api.example.com\n"
    ));
    // An IPv6 API address or an explicit IPv6 primary family: never.
    assert!(!fires(
        "    provider: calico\n",
        "  api:\n    address: 2001:db8::10\n"
    ));
}

/// `ndpProxy: watch` where kube6's NDP proxy answers for no pool: K6W440 names why, at the
/// setting; where it does answer, the plan says which proxy answers for each pool.
#[test]
fn ndp_proxy_watch_says_why_it_does_not_apply() {
    const CILIUM_18: &str = "  cni: {name: cilium, version: 1.18.3}\n";
    const NDP_UPSTREAM: &str = "  upstream: {IPv6: {mode: ndp-proxy, uplink: eth0}}\n";
    const CILIUM_POOL: &str = "    implementation: cilium\n    ndpProxy: watch\n    pools: [{addresses: [\"2001:db8:5::/120\"]}]\n";
    let diagnose = |text: &str| {
        let analysis = kube6_model::analyze("test.yaml", text, &ImportOptions::default())
            .unwrap_or_else(|e| panic!("input does not import: {e}\n{text}"));
        analysis
            .plan
            .diagnostics
            .iter()
            .find(|d| d.id == "K6W440")
            .map(|d| (d.message.clone(), d.path.clone()))
    };
    for (spec, lb_section, why) in [
        (
            format!("{V6}{CILIUM_18}"),
            CILIUM_POOL.to_string(),
            "not ndp-proxy",
        ),
        (
            format!("{V6}  cni: {{name: cilium, version: 1.19.6}}\n{NDP_UPSTREAM}"),
            CILIUM_POOL.to_string(),
            "answers neighbor solicitations for its pools itself",
        ),
        (
            format!("{V6}{CILIUM_18}{NDP_UPSTREAM}"),
            "    implementation: cilium\n    ndpProxy: watch\n    pools: [{addresses: [\"2001:db8:5::/120\"], mode: bgp}]\n    bgpPeers: [{peerAddress: \"2001:db8:1::1\", peerASN: 64500}]\n".to_string(),
            "no pool holds IPv6 addresses in l2 mode",
        ),
        (
            format!("{V6}{NDP_UPSTREAM}"),
            "    implementation: none\n    ndpProxy: watch\n".to_string(),
            "no pool to answer for",
        ),
    ] {
        let text = lb("kubeadm", &spec, &lb_section);
        let (message, path) = diagnose(&text).unwrap_or_else(|| panic!("no K6W440 on:\n{text}"));
        assert!(message.contains(why), "{message}");
        assert_eq!(path, "spec.loadBalancer.ndpProxy");
    }
    // `static`, explicit or not, is never judged.
    let text = lb(
        "kubeadm",
        V6,
        "    implementation: metallb\n    ndpProxy: static\n    pools: [{addresses: [\"2001:db8:5::/120\"]}]\n",
    );
    assert_eq!(diagnose(&text), None);

    // The plan names who answers NDP for each IPv6 l2 pool.
    let answers = |lb_section: &str| {
        let text = lb(
            "kubeadm",
            &format!("{V6}{CILIUM_18}{NDP_UPSTREAM}"),
            lb_section,
        );
        let analysis = kube6_model::analyze("test.yaml", &text, &ImportOptions::default()).unwrap();
        analysis
            .plan
            .load_balancer
            .pools
            .iter()
            .map(|p| p.ndp_answer.map(|a| a.as_str()))
            .collect::<Vec<_>>()
    };
    let pools = "    pools:\n      - {name: a, addresses: [\"2001:db8:5::/120\"]}\n      - {name: b, addresses: [\"2001:db8:6::/120\"], mode: bgp}\n      - {name: c, addresses: [192.0.2.0/28]}\n    bgpPeers: [{peerAddress: \"2001:db8:1::1\", peerASN: 64500}]\n";
    assert_eq!(
        answers(&format!("    implementation: cilium\n{pools}")),
        [Some("ndp-proxy-static"), None, None]
    );
    assert_eq!(
        answers(&format!(
            "    implementation: cilium\n    ndpProxy: watch\n{pools}"
        )),
        [Some("ndp-proxy-watch"), None, None]
    );
    assert_eq!(
        answers(&format!("    implementation: metallb\n{pools}")),
        [Some("implementation"), None, None]
    );
}

/// A bad `ndpProxy` value is a located input error naming the valid ones.
#[test]
fn a_bad_ndp_proxy_mode_is_a_located_error() {
    let text = lb(
        "kubeadm",
        V6,
        &format!("{METALLB_V6}    ndpProxy: dynamic\n"),
    );
    let err = match kube6_model::analyze("test.yaml", &text, &ImportOptions::default()) {
        Ok(_) => panic!("ndpProxy: dynamic is refused"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("static or watch"), "{err}");
    assert!(err.contains("spec.loadBalancer.ndpProxy"), "{err}");
}

/// K6W410 (Cilium not joining the solicited-node groups) is left out only where kube6's NDP proxy
/// answers for the pool: with an ndp-proxy upstream, Cilium 1.19.0-1.19.5 answers NDP itself, so
/// the proxy stays out and the missing group joins still matter.
#[test]
fn cilium_mld_warning_follows_who_answers_ndp() {
    const NDP_UPSTREAM: &str = "  upstream: {IPv6: {mode: ndp-proxy, uplink: eth0}}\n";
    const CILIUM_POOL: &str =
        "    implementation: cilium\n    pools: [{addresses: [\"2001:db8:5::/120\"]}]\n";
    for (version, proxied_by_kube6, fires) in [
        ("1.19.2", false, true),
        ("1.19.6", false, false),
        ("1.18.3", true, false),
    ] {
        let text = lb(
            "kubeadm",
            &format!("{V6}  cni: {{name: cilium, version: {version}}}\n{NDP_UPSTREAM}"),
            CILIUM_POOL,
        );
        let found = ids(&text, &[], None);
        assert_eq!(
            found.contains(&"K6W410"),
            fires,
            "Cilium {version} with an ndp-proxy upstream (kube6's proxy answers: {proxied_by_kube6}): {found:?}"
        );
        assert!(!found.contains(&"K6E409"), "Cilium {version}: {found:?}");
    }
}
