//! CoreDNS for a cluster that reaches the IPv4 world through NAT64, in the form each
//! distribution takes it: the dns64 plugin for the plan's NAT64 prefix (never `translate_all`:
//! names with their own AAAA records keep them) and `forward` to the resolvers of
//! `spec.dns.forwarders`. Written only where it changes something: an IPv6-only cluster with
//! `spec.nat64`, or forwarders given.
//!
//! - kubeadm: the whole `coredns` ConfigMap (kubeadm writes it once at init and leaves it to the
//!   cluster afterwards), applied with kubectl after `kubeadm init`.
//! - k3s: k3s owns the `coredns` ConfigMap; the dns64 plugin goes in the optional
//!   `coredns-custom` ConfigMap as a `.override` key, auto-deployed from the servers' manifests
//!   directory. `forward` cannot be overridden there (a plugin may appear once per server block),
//!   so forwarders go to the kubelet as `resolv-conf` (CoreDNS's dnsPolicy is Default).
//! - RKE2: a HelmChartConfig for rke2-coredns whose `servers` (a list, replaced as a whole)
//!   repeat the chart's default plugins plus dns64 and the forwarders.
//! - k0s: `spec.network.coreDNS.patches` (k0s ≥ 1.36.1), a merge patch of the Corefile of the
//!   ConfigMap k0s generates.
//! - KKP manages CoreDNS in user clusters itself: a note only.

use kube6_model::facts::coredns as facts;
use kube6_model::model::Distribution;
use kube6_net::Family;

use crate::context::Context;
use crate::yaml::{self, Yaml};
use crate::{Rendered, RenderedFile};

/// What CoreDNS needs in this plan: the dns64 prefix and the forwarders (empty: the node's
/// resolv.conf). None when the distribution's own CoreDNS configuration is right as it is.
pub struct CoreDnsPlan {
    pub dns64_prefix: Option<String>,
    pub forwarders: Vec<String>,
}

pub fn plan(cx: &Context<'_>) -> Option<CoreDnsPlan> {
    let dns64_prefix = (cx.families() == [Family::IPv6])
        .then_some(cx.net.nat64.as_ref())
        .flatten()
        .and_then(|n| n.prefix.value.net())
        .map(|p| p.trunc().to_string());
    let forwarders: Vec<String> = cx
        .net
        .dns
        .forwarders
        .iter()
        .filter_map(|f| f.value.parsed)
        .map(|ip| match ip {
            // A forward target with a port is `[addr]:port`; a bare IPv6 address is fine as is.
            std::net::IpAddr::V6(v6) => v6.to_string(),
            std::net::IpAddr::V4(v4) => v4.to_string(),
        })
        .collect();
    (dns64_prefix.is_some() || !forwarders.is_empty()).then_some(CoreDnsPlan {
        dns64_prefix,
        forwarders,
    })
}

fn corefile(cx: &Context<'_>, p: &CoreDnsPlan) -> String {
    facts::corefile(&facts::server_block(
        &cx.plan.cluster_domain,
        &p.forwarders,
        p.dns64_prefix.as_deref(),
    ))
}

fn config_map(name: &str, data: Vec<(String, Yaml)>) -> Yaml {
    Yaml::map([
        ("apiVersion", Yaml::str("v1")),
        ("kind", Yaml::str("ConfigMap")),
        (
            "metadata",
            Yaml::map([
                ("name", Yaml::str(name)),
                ("namespace", Yaml::str(facts::NAMESPACE)),
            ]),
        ),
        ("data", Yaml::map(data)),
    ])
}

fn what(p: &CoreDnsPlan) -> String {
    let mut parts = Vec::new();
    if let Some(prefix) = &p.dns64_prefix {
        parts.push(format!("dns64 for {prefix}"));
    }
    if !p.forwarders.is_empty() {
        parts.push(format!("forwarding to {}", p.forwarders.join(", ")));
    }
    parts.join(", ")
}

/// kubeadm: the coredns ConfigMap, applied after `kubeadm init`.
pub fn kubeadm(cx: &Context<'_>, out: &mut Rendered) {
    let Some(p) = plan(cx) else { return };
    let doc = config_map(
        facts::CONFIG_MAP,
        vec![("Corefile".to_string(), Yaml::str(corefile(cx, &p)))],
    );
    out.files.push(RenderedFile::config(
        "kubeadm/coredns.yaml",
        format!(
            "# Rendered by kube6: CoreDNS with {} for this cluster.\n\
             # After `kubeadm init`: kubectl apply -f coredns.yaml (CoreDNS reloads its Corefile by itself).\n{}",
            what(&p),
            yaml::to_string(&doc)
        ),
    ));
    out.notes.push(format!(
        "kubeadm: apply kubeadm/coredns.yaml after kubeadm init (CoreDNS with {})",
        what(&p)
    ));
}

/// The path of the kubelet resolv.conf k3s is given when forwarders are set.
pub fn k3s_resolv_conf_path(dist: &str) -> String {
    format!("/etc/rancher/{dist}/kube6-resolv.conf")
}

/// k3s/RKE2: the manifests for the servers' manifests directory (paths under
/// `{dist}/server-manifests/`), and for k3s the resolv.conf file for the kubelet.
pub fn k3s(cx: &Context<'_>, rke2: bool, out: &mut Rendered) {
    let Some(p) = plan(cx) else { return };
    let dist = if rke2 { "rke2" } else { "k3s" };
    if rke2 {
        let mut plugins = Vec::new();
        for plugin in facts::server_block(
            &cx.plan.cluster_domain,
            &p.forwarders,
            p.dns64_prefix.as_deref(),
        ) {
            let mut entry = Yaml::map([("name", Yaml::str(plugin.name))]);
            let args = if plugin.name == "prometheus" {
                // The chart's own default listens on every address.
                "0.0.0.0:9153".to_string()
            } else {
                plugin.args.clone()
            };
            if !args.is_empty() {
                entry.push("parameters", Yaml::str(args));
            }
            if !plugin.block.is_empty() {
                entry.push("configBlock", Yaml::str(plugin.block.join("\n")));
            }
            plugins.push(entry);
        }
        let values = Yaml::map([(
            "servers",
            Yaml::Seq(vec![Yaml::map([
                (
                    "zones",
                    Yaml::Seq(vec![Yaml::map([("zone", Yaml::str("."))])]),
                ),
                ("port", Yaml::Int(53)),
                ("plugins", Yaml::Seq(plugins)),
            ])]),
        )]);
        let mut content = format!(
            "# Rendered by kube6: values for RKE2's bundled {chart} chart: CoreDNS with {what}\n\
             # (/var/lib/rancher/rke2/server/manifests/{chart}-config.yaml on every server). Helm replaces the\n\
             # servers list as a whole, so it repeats the chart's default plugins.\n\
             apiVersion: helm.cattle.io/v1\nkind: HelmChartConfig\nmetadata:\n  name: {chart}\n  \
             namespace: kube-system\nspec:\n  valuesContent: |-\n",
            chart = facts::RKE2_CHART,
            what = what(&p)
        );
        for line in yaml::to_string(&values).lines() {
            content.push_str("    ");
            content.push_str(line);
            content.push('\n');
        }
        out.files.push(RenderedFile::config(
            format!("rke2/server-manifests/{}-config.yaml", facts::RKE2_CHART),
            content,
        ));
        return;
    }
    if let Some(prefix) = &p.dns64_prefix {
        let doc = config_map(
            facts::K3S_CUSTOM_CONFIG_MAP,
            vec![(
                format!("kube6-dns64{}", facts::K3S_OVERRIDE_SUFFIX),
                Yaml::str(format!("dns64 {{\n  prefix {prefix}\n}}\n")),
            )],
        );
        out.files.push(RenderedFile::config(
            format!("{dist}/server-manifests/coredns-custom.yaml"),
            format!(
                "# Rendered by kube6: the dns64 plugin for k3s's CoreDNS, imported into its .:53 server block\n\
                 # ({}/coredns-custom.yaml on every server; k3s applies it).\n{}",
                facts::K3S_MANIFESTS_DIR,
                yaml::to_string(&doc)
            ),
        ));
    }
    if !p.forwarders.is_empty() {
        let mut text = format!(
            "# Rendered by kube6: the resolvers CoreDNS forwards to (k3s gives this file to the kubelet\n\
             # with resolv-conf; CoreDNS and other pods with dnsPolicy Default use it). {}\n",
            k3s_resolv_conf_path(dist)
        );
        for f in &p.forwarders {
            text.push_str(&format!("nameserver {f}\n"));
        }
        out.files.push(RenderedFile::config(
            format!("{dist}/kube6-resolv.conf"),
            text,
        ));
    }
}

/// k0s: the `spec.network.coreDNS` section with a merge patch of the Corefile, or None with a
/// note when the k0s version has no patches.
pub fn k0s(cx: &Context<'_>, notes: &mut Vec<String>) -> Option<Yaml> {
    let p = plan(cx)?;
    if cx.net.distribution.value == Distribution::K0s
        && let Some(release) = cx.net.distribution_release()
        && release.release() < facts::K0S_PATCHES_SINCE
    {
        notes.push(format!(
            "k0s: {release} cannot patch its CoreDNS (spec.network.coreDNS.patches needs k0s {}); CoreDNS needs {} \
             — upgrade k0s, or disable k0s's CoreDNS (--disable-components coredns) and deploy your own",
            facts::K0S_PATCHES_SINCE,
            what(&p)
        ));
        return None;
    }
    let patch = Yaml::map([(
        "data",
        Yaml::map([("Corefile", Yaml::str(corefile(cx, &p)))]),
    )]);
    notes.push(format!(
        "k0s: CoreDNS's Corefile is patched through spec.network.coreDNS.patches (k0s {} or newer): {}",
        facts::K0S_PATCHES_SINCE,
        what(&p)
    ));
    Some(Yaml::map([(
        "patches",
        Yaml::Seq(vec![Yaml::map([
            (
                "target",
                Yaml::map([
                    ("kind", Yaml::str("ConfigMap")),
                    ("name", Yaml::str(facts::CONFIG_MAP)),
                    ("namespace", Yaml::str(facts::NAMESPACE)),
                ]),
            ),
            (
                "patch",
                Yaml::map([
                    ("type", Yaml::str("MergePatch")),
                    ("content", Yaml::str(yaml::to_string(&patch))),
                ]),
            ),
        ])]),
    )]))
}

/// KKP: a note (KKP deploys and configures CoreDNS in user clusters).
pub fn kkp(cx: &Context<'_>, notes: &mut Vec<String>) {
    if let Some(p) = plan(cx) {
        notes.push(format!(
            "kkp: KKP manages CoreDNS in the user cluster; configure {} there (not rendered)",
            what(&p)
        ));
    }
}
