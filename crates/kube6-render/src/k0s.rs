//! k0s: `k0s.yaml` (spec.api, spec.network, spec.controllerManager.extraArgs) and the
//! controller/worker command lines. k0s keeps the IPv4 ranges in podCIDR/serviceCIDR and the
//! IPv6 ones under dualStack, orders them by primaryAddressFamily (written explicitly), sets
//! node masks itself (/24, /117; extraArgs only when the plan's differ), and needs
//! `--feature-gates=IPv6SingleStack=true` on every controller for IPv6 single-stack.

use kube6_model::defaults::mask_flag;
use kube6_model::facts;
use kube6_model::model::Cni;
use kube6_model::model::Distribution;
use kube6_net::Family;

use crate::context::{Context, NodeView};
use crate::yaml::{self, Yaml};
use crate::{RenderError, Rendered, RenderedFile, Renderer, TargetRenderer};

pub struct K0s;

const HEADER: &str = "# Rendered by kube6: k0s cluster configuration (/etc/k0s/k0s.yaml).\n";

/// What k0s cannot express is found by the model's k0s rules (the same that `kube6 validate
/// --target k0s` runs); render refuses with the first of them.
fn check(cx: &Context<'_>) -> Result<(), RenderError> {
    crate::refuse_unless_expressible(cx, crate::Target::K0s)
}

fn config(cx: &Context<'_>) -> (Yaml, Vec<String>) {
    let mut notes = Vec::new();
    let mut spec = Yaml::map::<&str>([]);
    let mut api = Yaml::map::<&str>([]);
    if let Some(addr) = cx.api_address() {
        api.push("address", Yaml::str(addr.to_string()));
    }
    if let Some(host) = cx.net.api.external_host() {
        api.push("externalAddress", Yaml::str(host));
    }
    // k0s adds its addresses and externalAddress to the certificate itself; the endpoint's
    // virtual IPs and extra names go into sans.
    let external = cx.net.api.external_host();
    let sans: Vec<String> = cx
        .api_sans()
        .into_iter()
        .filter(|s| Some(s) != external.as_ref())
        .collect();
    if !sans.is_empty() {
        api.push("sans", Yaml::strs(sans));
    }
    if let Yaml::Map(entries) = &api
        && !entries.is_empty()
    {
        spec.push("api", api);
    }
    let mut masks = Vec::new();
    for family in cx.families() {
        // The version stated for k0s decides what k0s itself passes; another distribution's
        // version says nothing about the k0s release the files are for.
        let version = (cx.net.distribution.value == Distribution::K0s)
            .then(|| cx.net.distribution_release())
            .flatten();
        let default = facts::k0s::node_mask(version.as_ref(), cx.families().len() == 2, *family);
        if let Some(mask) = cx.mask(*family)
            && mask != default
        {
            masks.push((mask_flag(cx.dual(), *family), Yaml::str(mask.to_string())));
        }
    }
    if !masks.is_empty() {
        spec.push(
            "controllerManager",
            Yaml::map([("extraArgs", Yaml::map(masks))]),
        );
    }
    let mut network = Yaml::map::<&str>([]);
    let provider = match cx.cni {
        Cni::KubeRouter => "kuberouter",
        Cni::Calico => "calico",
        other => {
            notes.push(format!(
                "k0s: provider custom is written; install {other} yourself (see cni/)"
            ));
            "custom"
        }
    };
    network.push("provider", Yaml::str(provider));
    let peers = crate::host::bgp_peers(cx);
    if cx.cni == Cni::KubeRouter {
        let mut extra = Vec::new();
        if !peers.is_empty() {
            let ips: Vec<String> = peers.iter().map(|p| p.1.to_string()).collect();
            let asns: Vec<String> = peers.iter().map(|p| p.2.clone()).collect();
            extra.push(("cluster-asn", Yaml::str(&peers[0].3)));
            extra.push(("peer-router-ips", Yaml::str(ips.join(","))));
            extra.push(("peer-router-asns", Yaml::str(asns.join(","))));
        }
        // k0s leaves kube-router's pod-egress SNAT at its default (on); a plan that routes the
        // pod ranges turns it off.
        let (egress, note) = crate::cni::kube_router_pod_egress(cx);
        notes.extend(note);
        if !egress {
            extra.push((facts::kube_router::POD_EGRESS_FLAG, Yaml::str("false")));
        }
        if !extra.is_empty() {
            network.push("kuberouter", Yaml::map([("extraArgs", Yaml::map(extra))]));
        }
    }
    if cx.cni == Cni::Calico {
        let mode = cx
            .net
            .calico
            .mode
            .as_ref()
            .map(|m| m.value.clone())
            .filter(|m| !cx.dual() || m == "bird")
            .unwrap_or_else(|| {
                if cx.has(Family::IPv6) {
                    "bird"
                } else {
                    "vxlan"
                }
                .to_string()
            });
        network.push("calico", Yaml::map([("mode", Yaml::str(mode))]));
    }
    let (pod, svc) = if cx.dual() {
        (cx.pod(Family::IPv4), cx.service(Family::IPv4))
    } else {
        (cx.pods().first(), cx.services().first())
    };
    if let Some(pod) = pod {
        network.push("podCIDR", Yaml::str(pod.cidr.to_string()));
    }
    if let Some(svc) = svc {
        network.push("serviceCIDR", Yaml::str(svc.cidr.to_string()));
    }
    if cx.dual() {
        let mut dual = Yaml::map([("enabled", Yaml::Bool(true))]);
        if let Some(p) = cx.pod(Family::IPv6) {
            dual.push("IPv6podCIDR", Yaml::str(p.cidr.to_string()));
        }
        if let Some(s) = cx.service(Family::IPv6) {
            dual.push("IPv6serviceCIDR", Yaml::str(s.cidr.to_string()));
        }
        network.push("dualStack", dual);
    }
    network.push("primaryAddressFamily", Yaml::str(cx.primary().as_str()));
    let version = (cx.net.distribution.value == Distribution::K0s)
        .then(|| cx.net.distribution_release())
        .flatten();
    if cx.dual()
        && cx.cni == Cni::KubeRouter
        && !facts::k0s::kube_router_gets_both_service_ranges(version.as_ref())
    {
        notes.push(format!(
            "k0s: k0s {} gives kube-router only the IPv4 service range (its firewall and routes see no IPv6 services); {} and later give both",
            version.as_ref().map_or("", |v| v.as_str()),
            facts::k0s::POD_CIDRS_PRIMARY_FIRST_SINCE
        ));
    }
    if cx.dual() && cx.ipv6_primary() && cx.cni == Cni::KubeRouter && version.is_none() {
        notes.push(format!(
            "k0s: IPv6-first dual-stack with kube-router needs k0s {} or later (earlier releases set kube-router, \
             kube-proxy and the kubelet up IPv4 first, k0sproject/k0s#7321)",
            facts::k0s::IPV6_PRIMARY_KUBE_ROUTER_SINCE
        ));
    }
    network.push("clusterDomain", Yaml::str(&cx.plan.cluster_domain));
    if crate::exposure::replaces_kube_proxy(cx) {
        // k0s runs no kube-proxy (spec.network.kubeProxy.disabled, pkg/apis/k0s/v1beta1/
        // kubeproxy.go); Cilium's kube-proxy replacement takes the Services.
        network.push("kubeProxy", Yaml::map([("disabled", Yaml::Bool(true))]));
    } else if let Some(mode) = &cx.net.kube_proxy_mode {
        network.push("kubeProxy", Yaml::map([("mode", Yaml::str(&mode.value))]));
    }
    if let Some(coredns) = crate::coredns::k0s(cx, &mut notes) {
        network.push("coreDNS", coredns);
    }
    spec.push("network", network);
    let own_dns = cx
        .services()
        .first()
        .and_then(|s| kube6_model::k0s::dns_address(&s.cidr));
    if !cx.dns_ips().is_empty() && cx.dns_ips() != own_dns.as_slice() {
        notes.push(format!(
            "k0s: k0s gives the kubelet one DNS address ({}) and has no setting for {}",
            own_dns.map_or("-".to_string(), |d| d.to_string()),
            crate::context::join(cx.dns_ips())
        ));
    }
    let doc = Yaml::map([
        ("apiVersion", Yaml::str("k0s.k0sproject.io/v1beta1")),
        ("kind", Yaml::str("ClusterConfig")),
        ("metadata", Yaml::map([("name", Yaml::str("k0s"))])),
        ("spec", spec),
    ]);
    (doc, notes)
}

/// The flags a node's k0s command line needs.
fn node_flags(cx: &Context<'_>, node: Option<&NodeView>, controller: bool) -> String {
    let mut flags = Vec::new();
    if controller {
        flags.push("--config /etc/k0s/k0s.yaml".to_string());
        if cx.ipv6_only() {
            flags.push("--feature-gates=IPv6SingleStack=true".to_string());
        }
        if node.is_some_and(|n| n.role == kube6_model::model::Role::ControllerWorker) {
            // Without --no-taints the node keeps the control-plane taint and runs no workloads.
            flags.push("--enable-worker".to_string());
            flags.push(facts::k0s::NO_TAINTS_FLAG.to_string());
        }
    } else {
        flags.push("--token-file /etc/k0s/join-token".to_string());
    }
    if let Some(ip) = node.and_then(NodeView::node_ip)
        && (!controller
            || node.is_some_and(|n| n.role == kube6_model::model::Role::ControllerWorker))
    {
        flags.push(format!("--kubelet-extra-args=--node-ip={ip}"));
    }
    flags.join(" ")
}

/// One node's install script (a guard stops it on another host).
fn install(cx: &Context<'_>, node: Option<&NodeView>, controller: bool) -> String {
    let kind = if controller { "controller" } else { "worker" };
    let mut s = format!(
        "#!/bin/sh\n# Rendered by kube6: install k0s as {}.\n",
        match node {
            Some(n) => format!("the {kind} {}", n.name),
            None => format!("a {kind}"),
        }
    );
    if controller {
        s.push_str("# Copy k0s.yaml to /etc/k0s/k0s.yaml first.\n");
    } else {
        s.push_str(
            "# Put a token from `k0s token create --role=worker` into /etc/k0s/join-token first.\n",
        );
    }
    s.push_str("set -eu\n");
    if let Some(node) = node.filter(|n| n.named) {
        s.push_str(&crate::host_guard(&node.name));
    }
    s.push_str(&format!(
        "\nk0s install {kind} {}\nk0s start\n",
        node_flags(cx, node, controller)
    ));
    s
}

impl Renderer for K0s {
    fn name(&self) -> &'static str {
        "k0s"
    }

    fn render(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        let mut out = self.document(cx)?;
        if cx.nodes.is_empty() {
            out.files.push(RenderedFile::script(
                "k0s/install-controller.sh",
                install(cx, None, true),
            ));
            out.files.push(RenderedFile::script(
                "k0s/install-worker.sh",
                install(cx, None, false),
            ));
        }
        for node in &cx.nodes {
            let controller = node.is_controller();
            let kind = if controller { "controller" } else { "worker" };
            out.files.push(RenderedFile::script(
                format!("k0s/install-{kind}-{}.sh", node.file_name()),
                install(cx, Some(node), controller),
            ));
        }
        Ok(out)
    }
}

impl TargetRenderer for K0s {
    fn document(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        check(cx)?;
        let (doc, mut notes) = config(cx);
        if cx.ipv6_only() {
            notes.push(
                "k0s: start every controller with --feature-gates=IPv6SingleStack=true (the install-controller scripts do)"
                    .to_string(),
            );
        }
        Ok(Rendered {
            files: vec![RenderedFile::config(
                "k0s/k0s.yaml",
                format!("{HEADER}{}", yaml::to_string(&doc)),
            )],
            notes,
        })
    }
}
