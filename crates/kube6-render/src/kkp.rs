//! Kubermatic KKP: the user Cluster's `spec.clusterNetwork` and `spec.cniPlugin`. KKP's API has
//! only `IPv4` and `IPv4+IPv6` as IP families, and its validation requires the IPv4 range
//! first, so IPv6-only and IPv6-first clusters are refused with that reason.

use kube6_model::facts;
use kube6_model::model::Cni;
use kube6_net::Family;

use crate::context::Context;
use crate::yaml::{self, Yaml};
use crate::{RenderError, Rendered, RenderedFile, Renderer, TargetRenderer};

pub struct Kkp;

/// What KKP cannot express (IPv6-only, IPv6 first, a CNI it does not install, another cluster
/// domain) is found by the model's KKP rules; render refuses with the first of them.
fn check(cx: &Context<'_>) -> Result<(), RenderError> {
    crate::refuse_unless_expressible(cx, crate::Target::Kkp)
}

/// The Cluster's name: the KKP input's, else "kube6".
fn name(cx: &Context<'_>) -> String {
    cx.net
        .specific
        .kkp_name
        .as_ref()
        .map_or_else(|| "kube6".to_string(), |n| n.value.clone())
}

fn cluster(cx: &Context<'_>, notes: &mut Vec<String>) -> Yaml {
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
    if crate::exposure::replaces_kube_proxy(cx) && cx.net.kube_proxy_mode.is_none() {
        // KKP runs no kube-proxy and turns Cilium's kube-proxy replacement on in ebpf mode.
        network.push("proxyMode", Yaml::str(facts::kkp::PROXY_MODE_EBPF));
    } else if let Some(mode) = &cx.net.kube_proxy_mode {
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
    // The CRD requires `version` (kubermatic.k8c.io_clusters.yaml, cniPlugin.required); KKP
    // knows "" as the one version of type none, and defaults the others (pkg/cni/version.go).
    let version = match &cx.plan.cni_version {
        Some(v) if cx.cni == cx.plan.cni => v.clone(),
        _ => {
            let default = match cx.cni {
                Cni::Cilium => facts::kkp::DEFAULT_CILIUM_VERSION,
                Cni::Canal => facts::kkp::DEFAULT_CANAL_VERSION,
                _ => "",
            };
            if !default.is_empty() {
                notes.push(format!(
                    "kkp: the input names no {} version, so cniPlugin.version is KKP's default \
                     ({default}); set one your KKP release supports",
                    cx.cni
                ));
            }
            default.to_string()
        }
    };
    cni.push("version", Yaml::str(version));
    let specific = &cx.net.specific;
    let human = specific
        .kkp_human_readable_name
        .as_ref()
        .map_or_else(|| name(cx), |h| h.value.clone());
    let mut spec = Yaml::map([("humanReadableName", Yaml::str(human))]);
    // `spec.version` is the user cluster's Kubernetes version; the CRD requires it and no
    // webhook fills it in.
    match cx.net.kubernetes_release() {
        Some(version) => spec.push("version", Yaml::str(version.as_str())),
        None => {
            spec.push("version", Yaml::str(facts::kkp::DEFAULT_KUBERNETES_VERSION));
            notes.push(format!(
                "kkp: the input states no Kubernetes version; spec.version is {}, the default of KKP {} \
                 (use one your KubermaticConfiguration offers)",
                facts::kkp::DEFAULT_KUBERNETES_VERSION,
                facts::kkp::ASSUMED_RELEASE
            ));
        }
    }
    let expose = match &specific.kkp_expose_strategy {
        Some(e) => e.value.clone(),
        None => {
            notes.push(format!(
                "kkp: spec.exposeStrategy is {}, KKP's default; set the one your Seed uses",
                facts::kkp::DEFAULT_EXPOSE_STRATEGY
            ));
            facts::kkp::DEFAULT_EXPOSE_STRATEGY.to_string()
        }
    };
    spec.push("exposeStrategy", Yaml::str(expose));
    spec.push(
        "cloud",
        // `providerName` is required and must name the provider whose spec is set.
        Yaml::map([
            ("dc", Yaml::str("DATACENTER")),
            ("providerName", Yaml::str("bringyourown")),
            ("bringyourown", Yaml::map::<&str>([])),
        ]),
    );
    spec.push("cniPlugin", cni);
    spec.push("clusterNetwork", network);
    Yaml::map([
        ("apiVersion", Yaml::str("kubermatic.k8c.io/v1")),
        ("kind", Yaml::str("Cluster")),
        ("metadata", Yaml::map([("name", Yaml::str(name(cx)))])),
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
        let cluster = cluster(cx, &mut notes);
        crate::coredns::kkp(cx, &mut notes);
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
                    yaml::to_string(&cluster)
                ),
            )],
            notes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube6_model::import::ImportOptions;
    use kube6_model::model::Distribution;

    #[test]
    fn a_kkp_cluster_keeps_its_name_expose_strategy_and_version() {
        let text = "apiVersion: kubermatic.k8c.io/v1\nkind: Cluster\nmetadata:\n  name: prod-eu\nspec:\n  humanReadableName: Production EU\n  version: 1.34.3\n  exposeStrategy: Tunneling\n  cloud:\n    dc: fra\n    bringyourown: {}\n  cniPlugin:\n    type: cilium\n  clusterNetwork:\n    ipFamily: IPv4+IPv6\n    pods:\n      cidrBlocks: [172.25.0.0/16, fd01::/48]\n    services:\n      cidrBlocks: [10.240.16.0/20, fd02::/108]\n";
        let a = kube6_model::analyze("c.yaml", text, &ImportOptions::default()).unwrap();
        assert!(a.plan.valid, "{:?}", a.plan.diagnostics);
        let cx = Context::new(
            &a.network,
            &a.plan,
            Distribution::Kkp,
            None,
            crate::KubeadmApi::V1beta4,
        )
        .unwrap();
        let out = Kkp.document(&cx).unwrap();
        let doc = &out.files[0].content;
        for want in [
            "name: prod-eu",
            "humanReadableName: \"Production EU\"",
            "version: \"1.34.3\"",
            "exposeStrategy: Tunneling",
        ] {
            assert!(doc.contains(want), "{want}: {doc}");
        }
        assert!(
            !out.notes.iter().any(|n| n.contains("spec.version")),
            "{:?}",
            out.notes
        );
    }
}
