//! k3s and RKE2: a config.yaml per server and agent (`/etc/rancher/k3s/config.yaml` or
//! `/etc/rancher/rke2/config.yaml`) and the install commands. Ranges are comma lists, primary
//! first; the node IP lists the primary family first (k3s picks its defaults and the family
//! order from it); `flannel-ipv6-masq` when flannel carries ULA pods; node masks only when
//! they differ from kube-controller-manager's defaults (/24, /64), which k3s leaves in place.

use kube6_model::defaults::mask_flag;
use kube6_model::facts;
use kube6_model::model::Cni;
use kube6_net::{Family, indexed_ip};

use crate::context::{Context, NodeView};
use crate::yaml::{self, Yaml};
use crate::{RenderError, Rendered, RenderedFile, Renderer, TargetRenderer};

pub struct K3s {
    pub rke2: bool,
}

impl K3s {
    fn dist(&self) -> &'static str {
        if self.rke2 { "rke2" } else { "k3s" }
    }

    /// The supervisor port agents register on (RKE2 has its own, k3s shares the API port).
    fn join_port(&self) -> u16 {
        if self.rke2 {
            facts::k3s::RKE2_SUPERVISOR_PORT
        } else {
            facts::k3s::API_PORT
        }
    }

    /// The URL agents and joining servers register with: k3s serves registration on the API
    /// port (keep a port the external address gives); RKE2 on its supervisor port 9345 of the
    /// same host.
    fn join_url(&self, cx: &Context<'_>) -> Option<String> {
        let url = cx.server_url(self.join_port())?;
        if !self.rke2 {
            return Some(url);
        }
        let rest = url.trim_start_matches("https://");
        let host = match rest.rsplit_once(':') {
            Some((h, p))
                if p.chars().all(|c| c.is_ascii_digit())
                    && (h.ends_with(']') || !h.contains(':')) =>
            {
                h
            }
            _ => rest,
        };
        Some(format!(
            "https://{host}:{}",
            facts::k3s::RKE2_SUPERVISOR_PORT
        ))
    }

    fn header(&self, role: &str) -> String {
        format!(
            "# Rendered by kube6: the {role} config.yaml for {} (/etc/rancher/{}/config.yaml).\n",
            self.dist(),
            self.dist()
        )
    }

    /// Settings every server of the cluster must agree on, plus this server's own.
    fn server(&self, cx: &Context<'_>, node: Option<&NodeView>, join: bool) -> (Yaml, Vec<String>) {
        let mut notes = Vec::new();
        let mut doc = Yaml::map::<&str>([]);
        if let Some(node) = node {
            if node.named {
                doc.push("node-name", Yaml::str(&node.name));
            }
            if let Some(ip) = node.node_ip() {
                doc.push("node-ip", Yaml::str(ip));
            }
        }
        if join {
            if let Some(url) = self.join_url(cx) {
                doc.push("server", Yaml::str(url));
            }
            doc.push("token", Yaml::str("REPLACE-WITH-THE-SERVER-TOKEN"));
        } else if cx.nodes.iter().filter(|n| n.is_controller()).count() > 1 && !self.rke2 {
            doc.push("cluster-init", Yaml::Bool(true));
        }
        if let Some(addr) = cx.net.api.address.as_ref() {
            doc.push("advertise-address", Yaml::str(&addr.value));
        }
        // The HA endpoint (its name and virtual IPs) must be in every server's certificate.
        let sans = cx.api_sans();
        if !sans.is_empty() {
            doc.push("tls-san", Yaml::strs(sans));
        }
        doc.push("cluster-cidr", Yaml::str(cx.pod_list()));
        doc.push("service-cidr", Yaml::str(cx.service_list()));
        // k3s's own pick is the 10th address of each service range; say so only if the plan differs.
        let own: Vec<_> = cx
            .services()
            .iter()
            .filter_map(|s| indexed_ip(&s.cidr, 10))
            .collect();
        if cx.dns_ips() != own.as_slice() && !cx.dns_ips().is_empty() {
            doc.push("cluster-dns", Yaml::str(crate::context::join(cx.dns_ips())));
        }
        if cx.plan.cluster_domain != "cluster.local" {
            doc.push("cluster-domain", Yaml::str(&cx.plan.cluster_domain));
        }
        self.push_resolv_conf(cx, &mut doc);
        if self.rke2 {
            let cni = match cx.cni {
                Cni::Canal => "canal",
                Cni::Calico => "calico",
                Cni::Cilium => "cilium",
                Cni::Flannel => "flannel",
                Cni::KubeRouter | Cni::Custom => {
                    notes.push(format!(
                        "rke2: {} is not one of RKE2's bundled CNIs; `cni: none` is written, install it yourself",
                        cx.cni
                    ));
                    "none"
                }
            };
            doc.push("cni", Yaml::str(cni));
        } else if cx.cni == Cni::Flannel {
            if let Some(backend) = &cx.net.flannel.backend {
                doc.push("flannel-backend", Yaml::str(&backend.value));
            }
            let masq = cx
                .net
                .flannel
                .ipv6_masquerade
                .as_ref()
                .map(|m| m.value)
                .unwrap_or_else(|| cx.has(Family::IPv6) && cx.needs_masquerade(Family::IPv6));
            if masq {
                doc.push("flannel-ipv6-masq", Yaml::Bool(true));
            }
        } else {
            doc.push("flannel-backend", Yaml::str("none"));
            doc.push("disable-network-policy", Yaml::Bool(true));
        }
        self.exposure(cx, &mut doc);
        let mut kcm = Vec::new();
        for family in cx.families() {
            let default = facts::kubernetes::KCM_NODE_MASK.get(*family);
            if let Some(mask) = cx.mask(*family)
                && mask != default
            {
                kcm.push(format!("{}={mask}", mask_flag(cx.dual(), *family)));
            }
        }
        if !kcm.is_empty() {
            doc.push("kube-controller-manager-arg", Yaml::strs(kcm));
        }
        if let Some(mode) = &cx.net.kube_proxy_mode {
            doc.push(
                "kube-proxy-arg",
                Yaml::strs([format!("proxy-mode={}", mode.value)]),
            );
        }
        (doc, notes)
    }

    /// RKE2 installs Cilium, Calico and Canal from bundled charts; their values go in a
    /// HelmChartConfig in the servers' manifests directory (plus Calico IPPools when Canal
    /// masquerades one family and routes the other).
    fn rke2_chart_files(&self, cx: &Context<'_>, notes: &mut Vec<String>) -> Vec<RenderedFile> {
        if !self.rke2 {
            return Vec::new();
        }
        let mut files = Vec::new();
        let (chart, values) = match cx.cni {
            Cni::Cilium => {
                let (values, cilium_notes) = crate::cni::cilium_values(cx);
                notes.extend(cilium_notes);
                ("rke2-cilium", values)
            }
            Cni::Calico => {
                let (network, _, calico_notes) = crate::cni::calico_network(cx);
                notes.extend(calico_notes);
                (
                    "rke2-calico",
                    Yaml::map([("installation", Yaml::map([("calicoNetwork", network)]))]),
                )
            }
            Cni::Canal => {
                let (masq, nat) = crate::cni::canal_masquerade(cx);
                let mut args: Vec<String> = facts::k3s::RKE2_CANAL_FLANNEL_ARGS
                    .iter()
                    .map(|a| a.to_string())
                    .collect();
                if masq {
                    args.insert(0, "--ip-masq".to_string());
                }
                if nat.iter().any(|(_, n)| *n) {
                    files.push(RenderedFile::config(
                        "rke2/server-manifests/rke2-canal-ippools.yaml",
                        format!(
                            "# Rendered by kube6: Calico pools whose natOutgoing masquerades only the families the plan does not route\n\
                             # (/var/lib/rancher/rke2/server/manifests/rke2-canal-ippools.yaml on every server).\n{}",
                            yaml::documents(&crate::cni::canal_ippools(cx, &nat))
                        ),
                    ));
                    notes.push(
                        "rke2: flanneld's masquerading covers every family, so it is off; Calico pools with natOutgoing \
                         masquerade only the families the plan does not route (rke2-canal-ippools.yaml)"
                            .to_string(),
                    );
                }
                (
                    "rke2-canal",
                    Yaml::map([
                        ("calico", Yaml::map([("masquerade", Yaml::Bool(masq))])),
                        ("flannel", Yaml::map([("args", Yaml::strs(args))])),
                    ]),
                )
            }
            _ => return files,
        };
        let mut content = format!(
            "# Rendered by kube6: values for RKE2's bundled {chart} chart\n\
             # (/var/lib/rancher/rke2/server/manifests/{chart}-config.yaml on every server).\n\
             apiVersion: helm.cattle.io/v1\nkind: HelmChartConfig\nmetadata:\n  name: {chart}\n  \
             namespace: kube-system\nspec:\n  valuesContent: |-\n"
        );
        for line in yaml::to_string(&values).lines() {
            content.push_str("    ");
            content.push_str(line);
            content.push('\n');
        }
        files.insert(
            0,
            RenderedFile::config(
                format!("rke2/server-manifests/{chart}-config.yaml"),
                content,
            ),
        );
        files
    }

    /// What the server runs for LoadBalancer Services and ingress: k3s disables its ServiceLB
    /// and Traefik where the plan has another implementation or controller (`disable`); RKE2
    /// enables ServiceLB (`enable-servicelb`) and picks its ingress chart (`ingress-controller`,
    /// or `disable` of both charts for none). Cilium's L2 announcements replace kube-proxy.
    fn exposure(&self, cx: &Context<'_>, doc: &mut Yaml) {
        use kube6_model::model::{IngressController, LbImplementation};
        let implementation = crate::exposure::implementation(cx);
        let ingress = crate::exposure::ingress_controller(cx);
        let chosen = !cx.net.load_balancer.ingress.origin.is_default();
        let mut disable: Vec<&str> = Vec::new();
        if self.rke2 {
            if implementation == LbImplementation::Servicelb {
                doc.push("enable-servicelb", Yaml::Bool(true));
            }
            match ingress {
                IngressController::None if chosen => disable.extend([
                    facts::ingress::RKE2_INGRESS_NGINX_CHART,
                    facts::ingress::RKE2_TRAEFIK_CHART,
                ]),
                IngressController::None => {}
                other if chosen => {
                    doc.push("ingress-controller", Yaml::strs([other.as_str()]));
                }
                _ => {}
            }
        } else {
            if implementation != LbImplementation::Servicelb {
                disable.push("servicelb");
            }
            if ingress != IngressController::Traefik {
                disable.push("traefik");
            }
        }
        if !disable.is_empty() {
            doc.push("disable", Yaml::strs(disable));
        }
        if crate::exposure::replaces_kube_proxy(cx) {
            doc.push("disable-kube-proxy", Yaml::Bool(true));
        }
    }

    fn agent(&self, cx: &Context<'_>, node: Option<&NodeView>) -> Yaml {
        let mut doc = Yaml::map::<&str>([]);
        if let Some(url) = self.join_url(cx) {
            doc.push("server", Yaml::str(url));
        }
        doc.push("token", Yaml::str("REPLACE-WITH-THE-SERVER-TOKEN"));
        if let Some(node) = node {
            if node.named {
                doc.push("node-name", Yaml::str(&node.name));
            }
            if let Some(ip) = node.node_ip() {
                doc.push("node-ip", Yaml::str(ip));
            }
        }
        self.push_resolv_conf(cx, &mut doc);
        doc
    }

    /// k3s (not RKE2, whose CoreDNS forwards through its chart values) gives the kubelet the
    /// resolvers CoreDNS must forward to: CoreDNS's dnsPolicy is Default.
    fn push_resolv_conf(&self, cx: &Context<'_>, doc: &mut Yaml) {
        if !self.rke2 && crate::coredns::plan(cx).is_some_and(|p| !p.forwarders.is_empty()) {
            doc.push(
                kube6_model::facts::coredns::K3S_RESOLV_CONF_FLAG,
                Yaml::str(crate::coredns::k3s_resolv_conf_path(self.dist())),
            );
        }
    }

    /// The install script of one node: its config file, the bundled-chart values on servers, and
    /// the installer. A guard stops it on a host whose name is not the node's (override with
    /// KUBE6_NODE), so one node's steps never overwrite another's configuration.
    fn install(
        &self,
        node: Option<&NodeView>,
        file: &str,
        server: bool,
        manifests: &[String],
        resolv_conf: bool,
    ) -> String {
        let d = self.dist();
        let role = if server { "server" } else { "agent" };
        let mut s = format!(
            "#!/bin/sh\n# Rendered by kube6: install {d} as {} with {file}.\n\
             # Replace REPLACE-WITH-THE-SERVER-TOKEN in the file with the server's token\n\
             # (/var/lib/rancher/{d}/server/node-token on the first server).\nset -eu\n",
            match node {
                Some(n) => format!("the {role} {}", n.name),
                None => format!("a {role}"),
            }
        );
        if let Some(node) = node.filter(|n| n.named) {
            s.push_str(&crate::host_guard(&node.name));
        }
        s.push_str(&format!(
            "\ninstall -D -m 0600 {file} /etc/rancher/{d}/config.yaml\n"
        ));
        if resolv_conf {
            s.push_str(&format!(
                "install -D -m 0644 kube6-resolv.conf {}\n",
                crate::coredns::k3s_resolv_conf_path(d)
            ));
        }
        if server {
            for manifest in manifests {
                let base = manifest.trim_start_matches("server-manifests/");
                s.push_str(&format!(
                    "install -D -m 0600 {manifest} /var/lib/rancher/{d}/server/manifests/{base}\n"
                ));
            }
        }
        if self.rke2 {
            s.push_str(&format!(
                "curl -sfL https://get.rke2.io | INSTALL_RKE2_TYPE={role} sh -\nsystemctl enable --now rke2-{role}.service\n"
            ));
        } else {
            s.push_str(&format!("curl -sfL https://get.k3s.io | sh -s - {role}\n"));
        }
        s
    }
}

impl Renderer for K3s {
    fn name(&self) -> &'static str {
        self.dist()
    }

    fn render(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        let d = self.dist();
        self.document(cx)?;
        let mut out = Rendered::default();
        let mut charts = self.rke2_chart_files(cx, &mut out.notes);
        let mut dns = Rendered::default();
        crate::coredns::k3s(cx, self.rke2, &mut dns);
        out.notes.extend(dns.notes);
        let resolv_conf = dns
            .files
            .iter()
            .position(|f| f.path.ends_with("/kube6-resolv.conf"))
            .map(|i| dns.files.remove(i));
        charts.extend(dns.files);
        let prefix = format!("{d}/");
        let manifests: Vec<String> = charts
            .iter()
            .map(|f| f.path.trim_start_matches(prefix.as_str()).to_string())
            .collect();
        let push =
            |out: &mut Rendered, node: Option<&NodeView>, name: &str, doc: &Yaml, server: bool| {
                let role = if server { "server" } else { "agent" };
                let file = format!("{role}{name}.yaml");
                out.files.push(RenderedFile::private(
                    format!("{d}/{file}"),
                    self.header(role) + &yaml::to_string(doc),
                ));
                out.files.push(RenderedFile::script(
                    format!("{d}/install-{role}{name}.sh"),
                    self.install(node, &file, server, &manifests, resolv_conf.is_some()),
                ));
            };
        if cx.nodes.is_empty() {
            let (server, notes) = self.server(cx, None, false);
            out.notes.extend(notes);
            push(&mut out, None, "", &server, true);
            push(&mut out, None, "", &self.agent(cx, None), false);
        } else {
            if cx.first_controller().is_none() {
                // The spec lists only agents: the servers they join still need their config.
                let (server, notes) = self.server(cx, None, false);
                out.notes.extend(notes);
                push(&mut out, None, "", &server, true);
            }
            let first = cx.first_controller().map(|n| n.name.clone());
            for node in &cx.nodes {
                let name = format!("-{}", node.file_name());
                if node.is_controller() {
                    let join = Some(&node.name) != first.as_ref();
                    let (server, notes) = self.server(cx, Some(node), join);
                    if !join {
                        out.notes.extend(notes);
                    }
                    push(&mut out, Some(node), &name, &server, true);
                } else {
                    push(
                        &mut out,
                        Some(node),
                        &name,
                        &self.agent(cx, Some(node)),
                        false,
                    );
                }
            }
        }
        out.files.extend(charts);
        out.files.extend(resolv_conf);
        if cx.has(Family::IPv6) {
            out.notes.push(format!(
                "{d}: apply each node's host/*/sysctl.d file before installing (forwarding with accept_ra = 2 keeps the RA-learned default route)"
            ));
        }
        if cx.cni == Cni::Flannel && !self.rke2 && cx.has(Family::IPv4) && cx.routes(Family::IPv4) {
            out.notes.push(
                "k3s: its flannel always masquerades IPv4 pod traffic (only IPv6 has flannel-ipv6-masq); the routed IPv4 pod range leaves with the node's address".to_string(),
            );
        }
        Ok(out)
    }
}

impl TargetRenderer for K3s {
    fn document(&self, cx: &Context<'_>) -> Result<Rendered, RenderError> {
        let target = if self.rke2 {
            crate::Target::Rke2
        } else {
            crate::Target::K3s
        };
        crate::refuse_unless_expressible(cx, target)?;
        let (server, notes) = self.server(cx, cx.first_controller(), false);
        Ok(Rendered {
            files: vec![RenderedFile::private(
                format!("{}/config.yaml", self.dist()),
                self.header("server") + &yaml::to_string(&server),
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
    fn rke2_agents_register_on_the_supervisor_port() {
        let text = "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: rke2\n  pods: [fd00:42::/56]\n  services: [fd00:43::/112]\n  api:\n    externalAddress: \"[2001:db8::5]:6443\"\n";
        let a = kube6_model::analyze("t.yaml", text, &ImportOptions::default()).unwrap();
        let cx = Context::new(
            &a.network,
            &a.plan,
            Distribution::Rke2,
            None,
            crate::KubeadmApi::V1beta4,
        )
        .unwrap();
        assert_eq!(
            K3s { rke2: true }.join_url(&cx).as_deref(),
            Some("https://[2001:db8::5]:9345")
        );
        assert_eq!(
            K3s { rke2: false }.join_url(&cx).as_deref(),
            Some("https://[2001:db8::5]:6443")
        );
    }
}
