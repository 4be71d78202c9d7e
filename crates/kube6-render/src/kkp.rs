//! Kubermatic KKP: the user Cluster's `spec.clusterNetwork` and `spec.cniPlugin`. KKP's API has
//! only `IPv4` and `IPv4+IPv6` as IP families, and its validation requires the IPv4 range
//! first, so IPv6-only and IPv6-first clusters are refused with that reason.

use kube6_model::model::Cni;
use kube6_net::Family;

use crate::context::Context;
use crate::yaml::{self, Yaml};
use crate::{RenderError, Rendered, RenderedFile, Renderer, TargetRenderer};

pub struct Kkp;

fn check(cx: &Context<'_>) -> Result<(), RenderError> {
    if !cx.has(Family::IPv4) {
        return Err(RenderError::unsupported(
            "kkp",
            "IPv6-only: KKP's clusterNetwork.ipFamily is IPv4 or IPv4+IPv6 only (\"IPv6-only is \
             not supported yet and not allowed by cluster validation\"); add an IPv4 range as \
             the primary family, or render for another target",
        ));
    }
    if cx.ipv6_primary() {
        return Err(RenderError::unsupported(
            "kkp",
            "IPv6 as the primary family: KKP's validation requires the IPv4 range first (\"invalid \
             address family for primary CIDR: has to be IPv4\"); list the IPv4 pod and service \
             ranges first",
        ));
    }
    if !matches!(cx.cni, Cni::Cilium | Cni::Canal | Cni::Custom) {
        return Err(RenderError::unsupported(
            "kkp",
            format!(
                "the CNI {}: KKP installs cilium or canal, or none (cniPlugin.type none) for \
                 a CNI you bring; pass --cni cilium, canal or custom",
                cx.cni
            ),
        ));
    }
    if cx.plan.cluster_domain != "cluster.local" {
        return Err(RenderError::unsupported(
            "kkp",
            format!(
                "the cluster domain {}: KKP requires dnsDomain cluster.local",
                cx.plan.cluster_domain
            ),
        ));
    }
    Ok(())
}

fn cluster(cx: &Context<'_>) -> Yaml {
    let mut network = Yaml::map([
        (
            "ipFamily",
            Yaml::str(if cx.dual() { "IPv4+IPv6" } else { "IPv4" }),
        ),
        (
            "pods",
            Yaml::map([(
                "cidrBlocks",
                Yaml::strs(cx.pods().iter().map(|p| p.cidr.to_string())),
            )]),
        ),
        (
            "services",
            Yaml::map([(
                "cidrBlocks",
                Yaml::strs(cx.services().iter().map(|s| s.cidr.to_string())),
            )]),
        ),
    ]);
    if let Some(m) = cx.mask(Family::IPv4) {
        network.push("nodeCidrMaskSizeIPv4", Yaml::Int(i64::from(m)));
    }
    if let Some(m) = cx.mask(Family::IPv6) {
        network.push("nodeCidrMaskSizeIPv6", Yaml::Int(i64::from(m)));
    }
    network.push("dnsDomain", Yaml::str("cluster.local"));
    if let Some(mode) = &cx.net.kube_proxy_mode {
        network.push("proxyMode", Yaml::str(&mode.value));
    }
    network.push("konnectivityEnabled", Yaml::Bool(true));
    let mut cni = Yaml::map([(
        "type",
        Yaml::str(match cx.cni {
            Cni::Canal => "canal",
            Cni::Cilium => "cilium",
            _ => "none",
        }),
    )]);
    if let Some(version) = &cx.plan.cni_version
        && cx.cni == cx.plan.cni
    {
        cni.push("version", Yaml::str(version));
    }
    let mut spec = Yaml::map([("humanReadableName", Yaml::str("kube6"))]);
    // `spec.version` is the user cluster's Kubernetes version.
    if let Some(version) = cx.net.kubernetes_release() {
        spec.push("version", Yaml::str(version.as_str()));
    }
    spec.push(
        "cloud",
        Yaml::map([
            ("dc", Yaml::str("DATACENTER")),
            ("bringyourown", Yaml::map::<&str>([])),
        ]),
    );
    spec.push("cniPlugin", cni);
    spec.push("clusterNetwork", network);
    Yaml::map([
        ("apiVersion", Yaml::str("kubermatic.k8c.io/v1")),
        ("kind", Yaml::str("Cluster")),
        ("metadata", Yaml::map([("name", Yaml::str("kube6"))])),
        ("spec", spec),
    ])
}

impl Renderer for Kkp {
    fn name(&self) -> &'static str {
        "kkp"
    }

    fn render(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        self.document(cx)
    }
}

impl TargetRenderer for Kkp {
    fn document(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        check(cx)?;
        let mut notes = vec![
            "kkp: set spec.cloud to your provider and datacenter (bringyourown/DATACENTER is a placeholder)"
                .to_string(),
        ];
        if cx.dns_ips().len() > 1 {
            notes.push(
                "kkp: KKP gives the kubelet one DNS address, in the first service range"
                    .to_string(),
            );
        }
        Ok(Rendered {
            files: vec![RenderedFile::config(
                "kkp/cluster.yaml",
                format!(
                    "# Rendered by kube6: a Kubermatic KKP user cluster (kubectl apply on the seed).\n{}",
                    yaml::to_string(&cluster(cx))
                ),
            )],
            notes,
        })
    }
}
