//! kubeadm: InitConfiguration, ClusterConfiguration, KubeletConfiguration and
//! KubeProxyConfiguration for the first control-plane node, and a JoinConfiguration for every
//! other node. Follows seed 002 (kubeadm + Calico on IPv6 only): IPv6 advertise address, `::`
//! bind addresses and `::1` health checks for an IPv6-primary cluster, etcd URLs with the
//! address in brackets, pod/service ranges primary first, and the node masks spelled with the
//! family flags (kubeadm's own pod-subnet check reads only those).

use kube6_net::Family;

use crate::context::{Context, NodeView, host};
use crate::yaml::{self, Yaml};
use crate::{KubeadmApi, RenderError, Rendered, RenderedFile, Renderer, TargetRenderer};

pub struct Kubeadm;

/// A placeholder bootstrap token in kubeadm's format; `kubeadm token create` prints a real one.
const TOKEN: &str = "abcdef.0123456789abcdef";
/// A placeholder for the CA certificate hash; `kubeadm token create --print-join-command`
/// prints the real one. Left invalid on purpose so that kubeadm refuses it until replaced.
const CA_HASH: &str = "sha256:REPLACE-WITH-THE-CA-CERT-HASH";
const HEADER: &str =
    "# Rendered by kube6 from the cluster's network plan (kubeadm init --config init.yaml).\n";
const JOIN_HEADER: &str = "# Rendered by kube6 from the cluster's network plan (kubeadm join --config FILE).\n# Replace the bootstrap token and the CA certificate hash with what\n# `kubeadm token create --print-join-command` prints on a control-plane node.\n";
/// A placeholder for the key `kubeadm init --upload-certs` prints (or `kubeadm init phase
/// upload-certs --upload-certs` prints again later): joining control-plane nodes decrypt the
/// shared certificates with it. Not hex, so kubeadm refuses it until replaced.
const CERTIFICATE_KEY: &str = "REPLACE-WITH-THE-CERTIFICATE-KEY";
const CONTROL_PLANE_JOIN_HEADER: &str = "# Rendered by kube6 from the cluster's network plan (kubeadm join --config FILE).\n# This node joins the control plane (the controlPlane section; kubeadm does not let\n# --control-plane be mixed with --config). Replace the bootstrap token and the CA\n# certificate hash with what `kubeadm token create --print-join-command` prints, and the\n# certificate key with the one `kubeadm init --upload-certs` printed on the first node.\n";

impl Renderer for Kubeadm {
    fn name(&self) -> &'static str {
        "kubeadm"
    }

    fn render(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        let mut out = self.document(cx)?;
        crate::coredns::kubeadm(cx, &mut out);
        let first = cx.first_controller().map(|n| n.name.clone());
        let joining: Vec<&NodeView> = cx
            .nodes
            .iter()
            .filter(|n| Some(&n.name) != first.as_ref())
            .collect();
        if cx.nodes.is_empty() {
            out.files.push(RenderedFile::private(
                "kubeadm/join.yaml",
                format!("{JOIN_HEADER}{}", yaml::to_string(&join_doc(cx, None))),
            ));
        }
        let upload_certs = !single_control_plane(cx);
        if let Some(first) = cx.first_controller() {
            out.files.push(RenderedFile::script(
                format!("kubeadm/install-{}.sh", first.file_name()),
                install(first, "init.yaml", upload_certs),
            ));
        }
        for node in joining {
            let header = if node.is_controller() {
                CONTROL_PLANE_JOIN_HEADER
            } else {
                JOIN_HEADER
            };
            let file = format!("join-{}.yaml", node.file_name());
            out.files.push(RenderedFile::private(
                format!("kubeadm/{file}"),
                format!("{header}{}", yaml::to_string(&join_doc(cx, Some(node)))),
            ));
            out.files.push(RenderedFile::script(
                format!("kubeadm/install-{}.sh", node.file_name()),
                install(node, &file, false),
            ));
        }
        if upload_certs {
            out.notes.push(
                "kubeadm: several control-plane nodes; the first uploads the shared certificates (kubeadm init \
                 --upload-certs, for 2 hours) and the others fetch them with the certificate key it prints"
                    .to_string(),
            );
        }
        Ok(out)
    }
}

impl TargetRenderer for Kubeadm {
    fn document(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        crate::refuse_unless_expressible(cx, crate::Target::Kubeadm)?;
        let mut docs = vec![init_doc(cx), cluster_doc(cx), kubelet_doc(cx)];
        // Without kube-proxy (skipPhases), no KubeProxyConfiguration: nothing would read it.
        if !crate::exposure::replaces_kube_proxy(cx) {
            docs.push(kube_proxy_doc(cx));
        }
        let mut out = Rendered::default();
        out.files.push(RenderedFile::private(
            "kubeadm/init.yaml",
            format!("{HEADER}{}", yaml::documents(&docs)),
        ));
        if cluster_dns(cx) != cx.dns_ips() {
            out.notes.push(format!(
                "kubeadm: kubeadm gives the kubelet one DNS address ({}), the 10th of the first service range, where its single-stack CoreDNS Service is; the plan had {}",
                crate::context::join(&cluster_dns(cx)),
                crate::context::join(cx.dns_ips())
            ));
        }
        if cx.plan.pods.is_empty() {
            out.notes.push(
                "kubeadm: the plan has no pod range, so networking.podSubnet is left out and \
                 kube-controller-manager allocates no node blocks"
                    .to_string(),
            );
        }
        Ok(out)
    }
}

/// One node's script: `kubeadm init` on the first control-plane node (uploading the shared
/// certificates when others join the control plane), `kubeadm join` on the others. A guard stops
/// it on another host.
fn install(node: &NodeView, file: &str, upload_certs: bool) -> String {
    let mut s = format!(
        "#!/bin/sh\n# Rendered by kube6: set up node {} with kubeadm (copy {file} to /etc/kubernetes/kube6/ first).\nset -eu\n",
        node.name
    );
    if node.named {
        s.push_str(&crate::host_guard(&node.name));
    }
    if file == "init.yaml" {
        s.push_str(&format!(
            "\nkubeadm init --config /etc/kubernetes/kube6/{file}{}\n",
            if upload_certs {
                format!(" {}", kube6_model::facts::kubeadm::UPLOAD_CERTS_FLAG)
            } else {
                String::new()
            }
        ));
    } else {
        s.push_str(&format!(
            "\nkubeadm join --config /etc/kubernetes/kube6/{file}\n"
        ));
    }
    s
}

fn api_version(cx: &Context<'_>) -> &'static str {
    match cx.kubeadm_api {
        KubeadmApi::V1beta3 => "kubeadm.k8s.io/v1beta3",
        KubeadmApi::V1beta4 => "kubeadm.k8s.io/v1beta4",
    }
}

/// extraArgs in the form the API version wants: a list of name/value entries (v1beta4) or a
/// mapping (v1beta3). Values are strings either way.
fn extra_args(cx: &Context<'_>, args: &[(&str, String)]) -> Yaml {
    match cx.kubeadm_api {
        KubeadmApi::V1beta4 => Yaml::Seq(
            args.iter()
                .map(|(name, value)| {
                    Yaml::map([("name", Yaml::str(*name)), ("value", Yaml::str(value))])
                })
                .collect(),
        ),
        KubeadmApi::V1beta3 => Yaml::map(args.iter().map(|(n, v)| (*n, Yaml::str(v)))),
    }
}

fn node_registration(cx: &Context<'_>, node: Option<&NodeView>) -> Yaml {
    let mut reg = Yaml::map::<&str>([]);
    if let Some(node) = node.filter(|n| n.named) {
        reg.push("name", Yaml::str(&node.name));
    }
    reg.push(
        "criSocket",
        Yaml::str("unix:///run/containerd/containerd.sock"),
    );
    if let Some(ip) = node.and_then(NodeView::node_ip) {
        reg.push("kubeletExtraArgs", extra_args(cx, &[("node-ip", ip)]));
    }
    if node.is_some_and(|n| n.role == kube6_model::model::Role::ControllerWorker) {
        // A control-plane node that also runs workloads: no NoSchedule taint.
        reg.push("taints", Yaml::Seq(Vec::new()));
    }
    reg
}

fn init_doc(cx: &Context<'_>) -> Yaml {
    let node = cx.first_controller();
    let mut doc = Yaml::map([
        ("apiVersion", Yaml::str(api_version(cx))),
        ("kind", Yaml::str("InitConfiguration")),
    ]);
    if let Some(addr) = cx.api_address() {
        doc.push(
            "localAPIEndpoint",
            Yaml::map([
                ("advertiseAddress", Yaml::str(addr.to_string())),
                ("bindPort", Yaml::Int(6443)),
            ]),
        );
    }
    doc.push("nodeRegistration", node_registration(cx, node));
    if crate::exposure::replaces_kube_proxy(cx) {
        doc.push(
            "skipPhases",
            Yaml::strs([kube6_model::facts::kubeadm::KUBE_PROXY_PHASE]),
        );
    }
    doc
}

/// Whether at most one node runs the control plane.
fn single_control_plane(cx: &Context<'_>) -> bool {
    cx.nodes.iter().filter(|n| n.is_controller()).count() <= 1
}

fn cluster_doc(cx: &Context<'_>) -> Yaml {
    let v6 = cx.ipv6_primary();
    let mut doc = Yaml::map([
        ("apiVersion", Yaml::str(api_version(cx))),
        ("kind", Yaml::str("ClusterConfiguration")),
    ]);
    // kubeadm installs the Kubernetes version it is asked for; any distribution's stated
    // version implies one (k0s v1.34.1+k0s.0 ships 1.34.1), written as kubeadm expects (v1.34.1).
    if let Some(version) = &cx.net.kubernetes_version {
        doc.push("kubernetesVersion", Yaml::str(&version.value));
    } else if let Some(version) = cx.net.kubernetes_release() {
        doc.push(
            "kubernetesVersion",
            Yaml::str(format!("v{}", version.core())),
        );
    }
    // The HA endpoint: a DNS name or virtual IP in front of every control-plane node (kubeadm
    // refuses to join a second one without it; a model rule says so before render).
    if let Some(endpoint) = cx.endpoint(kube6_model::facts::kubeadm::API_PORT) {
        doc.push("controlPlaneEndpoint", Yaml::str(endpoint));
    }
    let mut networking = Yaml::map::<&str>([]);
    if !cx.pods().is_empty() {
        networking.push("podSubnet", Yaml::str(cx.pod_list()));
    }
    networking.push("serviceSubnet", Yaml::str(cx.service_list()));
    networking.push("dnsDomain", Yaml::str(&cx.plan.cluster_domain));
    doc.push("networking", networking);

    let api_addr = cx.api_address();
    let mut apiserver = Vec::new();
    // Each control-plane node advertises its localAPIEndpoint; the shared ClusterConfiguration
    // may name the address only when there is one such node (as seed 002 does).
    if let Some(addr) = api_addr.filter(|_| single_control_plane(cx)) {
        apiserver.push(("advertise-address", addr.to_string()));
    }
    if v6 {
        apiserver.push(("bind-address", "::".to_string()));
        if let Some(addr) = api_addr.filter(|_| single_control_plane(cx)) {
            apiserver.push(("etcd-servers", format!("https://{}:2379", host(&addr))));
        }
    }
    let sans = cx.api_sans();
    if !apiserver.is_empty() || !sans.is_empty() {
        let mut api = Yaml::map::<&str>([]);
        if !apiserver.is_empty() {
            api.push("extraArgs", extra_args(cx, &apiserver));
        }
        if !sans.is_empty() {
            api.push("certSANs", Yaml::strs(sans));
        }
        doc.push("apiServer", api);
    }

    let mut kcm = Vec::new();
    if !cx.pods().is_empty() {
        kcm.push(("allocate-node-cidrs", "true".to_string()));
    }
    if v6 {
        kcm.push(("bind-address", "::".to_string()));
    }
    for family in cx.families() {
        if let Some(mask) = cx.mask(*family) {
            let flag = match family {
                Family::IPv4 => "node-cidr-mask-size-ipv4",
                Family::IPv6 => "node-cidr-mask-size-ipv6",
            };
            kcm.push((flag, mask.to_string()));
        }
    }
    if !kcm.is_empty() {
        doc.push(
            "controllerManager",
            Yaml::map([("extraArgs", extra_args(cx, &kcm))]),
        );
    }
    if v6 {
        doc.push(
            "scheduler",
            Yaml::map([(
                "extraArgs",
                extra_args(cx, &[("bind-address", "::".to_string())]),
            )]),
        );
    }
    let mut local = Yaml::map([("dataDir", Yaml::str("/var/lib/etcd"))]);
    // The ClusterConfiguration is shared by every control-plane node, so address-specific
    // etcd URLs fit only one; with several, kubeadm derives each node's URLs from its own
    // advertise address (bracketing IPv6 itself).
    if v6
        && single_control_plane(cx)
        && let Some(addr) = api_addr
    {
        let h = host(&addr);
        local.push(
            "extraArgs",
            extra_args(
                cx,
                &[
                    (
                        "listen-client-urls",
                        format!("https://[::1]:2379,https://{h}:2379"),
                    ),
                    ("advertise-client-urls", format!("https://{h}:2379")),
                    ("listen-peer-urls", format!("https://{h}:2380")),
                    ("initial-advertise-peer-urls", format!("https://{h}:2380")),
                    ("listen-metrics-urls", "http://[::1]:2381".to_string()),
                ],
            ),
        );
    }
    doc.push("etcd", Yaml::map([("local", local)]));
    doc
}

/// What the kubelet gets: the input's explicit setting, else kubeadm's own pick (the 10th
/// address of the first service range, where kubeadm puts the single-stack CoreDNS Service).
fn cluster_dns(cx: &Context<'_>) -> Vec<std::net::IpAddr> {
    if !cx.net.cluster_dns.is_empty() {
        return cx.dns_ips().to_vec();
    }
    own_dns(cx).into_iter().collect()
}

fn own_dns(cx: &Context<'_>) -> Option<std::net::IpAddr> {
    cx.services()
        .first()
        .and_then(|s| kube6_net::indexed_ip(&s.cidr, 10))
}

fn kubelet_doc(cx: &Context<'_>) -> Yaml {
    let mut doc = Yaml::map([
        ("apiVersion", Yaml::str("kubelet.config.k8s.io/v1beta1")),
        ("kind", Yaml::str("KubeletConfiguration")),
        ("cgroupDriver", Yaml::str("systemd")),
        ("clusterDomain", Yaml::str(&cx.plan.cluster_domain)),
        (
            "clusterDNS",
            Yaml::strs(cluster_dns(cx).iter().map(ToString::to_string)),
        ),
    ]);
    if cx.ipv6_primary() {
        doc.push("healthzBindAddress", Yaml::str("::1"));
    }
    doc
}

fn kube_proxy_doc(cx: &Context<'_>) -> Yaml {
    let mut doc = Yaml::map([
        ("apiVersion", Yaml::str("kubeproxy.config.k8s.io/v1alpha1")),
        ("kind", Yaml::str("KubeProxyConfiguration")),
    ]);
    if let Some(mode) = &cx.net.kube_proxy_mode {
        doc.push("mode", Yaml::str(&mode.value));
    }
    if !cx.pods().is_empty() {
        doc.push("clusterCIDR", Yaml::str(cx.pod_list()));
    }
    if cx.ipv6_primary() {
        doc.push("bindAddress", Yaml::str("::"));
        doc.push("healthzBindAddress", Yaml::str("[::]:10256"));
        doc.push("metricsBindAddress", Yaml::str("[::1]:10249"));
    }
    doc
}

fn join_doc(cx: &Context<'_>, node: Option<&NodeView>) -> Yaml {
    let endpoint = cx
        .server_url(6443)
        .map(|u| u.trim_start_matches("https://").to_string())
        .unwrap_or_else(|| "API_SERVER:6443".to_string());
    let mut doc = Yaml::map([
        ("apiVersion", Yaml::str(api_version(cx))),
        ("kind", Yaml::str("JoinConfiguration")),
        (
            "discovery",
            Yaml::map([(
                "bootstrapToken",
                Yaml::map([
                    ("apiServerEndpoint", Yaml::str(endpoint)),
                    ("token", Yaml::str(TOKEN)),
                    ("caCertHashes", Yaml::strs([CA_HASH])),
                ]),
            )]),
        ),
        ("nodeRegistration", node_registration(cx, node)),
    ]);
    if let Some(node) = node.filter(|n| n.is_controller()) {
        let mut control_plane = Yaml::map::<&str>([]);
        if let Some(addr) = node.addresses.first() {
            control_plane.push(
                "localAPIEndpoint",
                Yaml::map([
                    ("advertiseAddress", Yaml::str(addr.to_string())),
                    ("bindPort", Yaml::Int(6443)),
                ]),
            );
        }
        control_plane.push("certificateKey", Yaml::str(CERTIFICATE_KEY));
        doc.push("controlPlane", control_plane);
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube6_model::import::ImportOptions;
    use kube6_model::model::Distribution;

    #[test]
    fn several_control_plane_nodes_keep_their_own_addresses() {
        let text = "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: kubeadm\n  pods: [fd00:10::/56]\n  services: [fd00:20::/112]\n  api:\n    externalAddress: \"[2001:db8::100]:6443\"\n  nodes:\n    - {name: cp1, role: controller, addresses: [2001:db8::1]}\n    - {name: cp2, role: controller, addresses: [2001:db8::2]}\n";
        let a = kube6_model::analyze("t.yaml", text, &ImportOptions::default()).unwrap();
        let cx = Context::new(
            &a.network,
            &a.plan,
            Distribution::Kubeadm,
            None,
            KubeadmApi::V1beta4,
        )
        .unwrap();
        let out = Kubeadm.render(&cx).unwrap();
        let init = &out.files[0].content;
        assert!(init.contains("advertiseAddress: \"2001:db8::1\""), "{init}");
        assert!(
            !init.contains("etcd-servers") && !init.contains("advertise-address"),
            "{init}"
        );
        assert!(!init.contains("listen-peer-urls"), "{init}");
        let join = out
            .files
            .iter()
            .find(|f| f.path == "kubeadm/join-cp2.yaml")
            .unwrap();
        assert!(join.content.contains("controlPlane:"), "{}", join.content);
        assert!(join.content.contains("advertiseAddress: \"2001:db8::2\""));
        assert!(
            join.content
                .contains("apiServerEndpoint: \"[2001:db8::100]:6443\"")
        );
    }
}
