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

fn check(cx: &Context<'_>) -> Result<(), RenderError> {
    if cx.dual() && cx.ipv6_primary() && cx.cni == Cni::KubeRouter {
        return Err(RenderError::unsupported(
            "k0s",
            "an IPv6-first dual-stack cluster with kube-router: k0s sets kube-router's, \
             kube-proxy's and the kubelet's flags for IPv4-first dual-stack only, and the \
             IPv6-first order needs rawArgs on each of them (k0sproject/k0s#7321); use Calico \
             (mode bird), make IPv4 the primary family, or render for another target",
        ));
    }
    if cx.ipv6_only()
        && let Some(svc) = cx.service(Family::IPv6)
        && svc.cidr.prefix_len() > 108
    {
        return Err(RenderError::unsupported(
            "k0s",
            format!(
                "an IPv6 single-stack service range longer than /108 ({}): k0s's own check \
                 rejects it (\"IPv6 service CIDR prefix must be <= 108\") and kube-apiserver \
                 rejects anything shorter, so only a /108 works with k0s",
                svc.cidr
            ),
        ));
    }
    Ok(())
}

fn config(cx: &Context<'_>) -> (Yaml, Vec<String>) {
    let mut notes = Vec::new();
    let mut spec = Yaml::map::<&str>([]);
    let mut api = Yaml::map::<&str>([]);
    if let Some(addr) = cx.api_address() {
        api.push("address", Yaml::str(addr.to_string()));
    }
    if let Some(ext) = &cx.net.api.external {
        api.push(
            "externalAddress",
            Yaml::str(kube6_model::k0s::external_host(&ext.value)),
        );
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
    if cx.cni == Cni::KubeRouter && !peers.is_empty() {
        let ips: Vec<String> = peers.iter().map(|p| p.1.to_string()).collect();
        let asns: Vec<String> = peers.iter().map(|p| p.2.clone()).collect();
        network.push(
            "kuberouter",
            Yaml::map([(
                "extraArgs",
                Yaml::map([
                    ("cluster-asn", Yaml::str(&peers[0].3)),
                    ("peer-router-ips", Yaml::str(ips.join(","))),
                    ("peer-router-asns", Yaml::str(asns.join(","))),
                ]),
            )]),
        );
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
    network.push("clusterDomain", Yaml::str(&cx.plan.cluster_domain));
    if let Some(mode) = &cx.net.kube_proxy_mode {
        network.push("kubeProxy", Yaml::map([("mode", Yaml::str(&mode.value))]));
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
            flags.push("--enable-worker".to_string());
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

fn install(cx: &Context<'_>) -> String {
    let mut s = String::from(
        "#!/bin/sh\n# Rendered by kube6: install k0s on each node. Copy k0s.yaml to /etc/k0s/k0s.yaml on\n\
         # every controller; workers join with a token from `k0s token create --role=worker`.\nset -eu\n",
    );
    if cx.nodes.is_empty() {
        s.push_str(&format!(
            "\n# controller\nk0s install controller {}\nk0s start\n",
            node_flags(cx, None, true)
        ));
        s.push_str(&format!(
            "\n# worker\nk0s install worker {}\nk0s start\n",
            node_flags(cx, None, false)
        ));
    }
    for node in &cx.nodes {
        let (kind, controller) = if node.is_controller() {
            ("controller", true)
        } else {
            ("worker", false)
        };
        s.push_str(&format!(
            "\n# {}\nk0s install {kind} {}\nk0s start\n",
            node.name,
            node_flags(cx, Some(node), controller)
        ));
    }
    s
}

impl Renderer for K0s {
    fn name(&self) -> &'static str {
        "k0s"
    }

    fn render(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        let mut out = self.document(cx)?;
        out.files
            .push(RenderedFile::script("k0s/install.sh", install(cx)));
        Ok(out)
    }
}

impl TargetRenderer for K0s {
    fn document(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        check(cx)?;
        let (doc, mut notes) = config(cx);
        if cx.ipv6_only() {
            notes.push(
                "k0s: start every controller with --feature-gates=IPv6SingleStack=true (k0s/install.sh does)"
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
