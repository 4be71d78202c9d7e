//! What every renderer reads: the plan's ranges, masks, DNS and nodes, in the shapes the
//! targets need them (primary family first, node addresses filtered to the cluster's families).

use std::net::IpAddr;

use ipnet::IpNet;
use kube6_model::model::{ClusterNetwork, Cni, Distribution, Role, UpstreamMode};
use kube6_model::plan::{Plan, PodRange, ServiceRange};
use kube6_net::Family;

use crate::{KubeadmApi, RenderError};

/// A node to render files for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    /// The node's name; `node1`, `node2`, ... when the input gives none (a k3s or kubeadm file
    /// without a node name means "the host name", which is not known here).
    pub name: String,
    /// Whether the input named the node (else the name is not written into configuration).
    pub named: bool,
    pub role: Role,
    /// The node's addresses in the cluster's families, primary family first.
    pub addresses: Vec<IpAddr>,
    /// The pod blocks kube-controller-manager would give it, in the cluster's family order.
    pub pod_cidrs: Vec<IpNet>,
}

impl NodeView {
    pub fn is_controller(&self) -> bool {
        matches!(self.role, Role::Controller | Role::ControllerWorker)
    }

    pub fn address(&self, family: Family) -> Option<IpAddr> {
        self.addresses
            .iter()
            .copied()
            .find(|a| Family::of_addr(a) == family)
    }

    pub fn pod_cidr(&self, family: Family) -> Option<IpNet> {
        self.pod_cidrs
            .iter()
            .copied()
            .find(|n| Family::of_net(n) == family)
    }

    /// `node-ip` as the kubelet takes it: comma-separated, primary first.
    pub fn node_ip(&self) -> Option<String> {
        (!self.addresses.is_empty()).then(|| join(&self.addresses))
    }

    /// A name safe in a file name.
    pub fn file_name(&self) -> String {
        self.name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    }
}

/// The plan and model, seen by a renderer.
pub struct Context<'a> {
    pub net: &'a ClusterNetwork,
    pub plan: &'a Plan,
    /// The distribution the files are for (the target's, which may differ from the input's).
    pub distribution: Distribution,
    pub cni: Cni,
    pub kubeadm_api: KubeadmApi,
    pub nodes: Vec<NodeView>,
    /// The image for workloads that run kube6 itself (`Request::kube6_image`).
    pub kube6_image: Option<String>,
}

impl<'a> Context<'a> {
    pub fn new(
        net: &'a ClusterNetwork,
        plan: &'a Plan,
        distribution: Distribution,
        cni: Option<Cni>,
        kubeadm_api: KubeadmApi,
    ) -> Result<Context<'a>, RenderError> {
        if plan.pods.is_empty() && distribution != Distribution::Kubeadm {
            return Err(RenderError::Missing("pod"));
        }
        if plan.services.is_empty() {
            return Err(RenderError::Missing("service"));
        }
        let families = plan.families.clone();
        let nodes = plan
            .nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let role = net
                    .nodes
                    .get(i)
                    .and_then(|n| n.role.as_ref())
                    .map(|r| r.value)
                    .unwrap_or(if i == 0 {
                        Role::ControllerWorker
                    } else {
                        Role::Worker
                    });
                let mut addresses: Vec<IpAddr> = Vec::new();
                for family in &families {
                    addresses.extend(
                        node.addresses
                            .iter()
                            .copied()
                            .filter(|a| Family::of_addr(a) == *family)
                            .take(1),
                    );
                }
                NodeView {
                    name: node
                        .name
                        .clone()
                        .unwrap_or_else(|| format!("node{}", i + 1)),
                    named: node.name.is_some(),
                    role,
                    addresses,
                    pod_cidrs: node.pod_cidrs.clone(),
                }
            })
            .collect();
        Ok(Context {
            net,
            plan,
            distribution,
            cni: cni.unwrap_or(plan.cni),
            kubeadm_api,
            nodes,
            kube6_image: None,
        })
    }

    pub fn families(&self) -> &[Family] {
        &self.plan.families
    }

    pub fn primary(&self) -> Family {
        self.plan.primary_family.unwrap_or(Family::IPv4)
    }

    pub fn dual(&self) -> bool {
        self.plan.families.len() == 2
    }

    pub fn has(&self, family: Family) -> bool {
        self.plan.families.contains(&family)
    }

    pub fn ipv6_primary(&self) -> bool {
        self.primary() == Family::IPv6
    }

    pub fn ipv6_only(&self) -> bool {
        self.plan.families == [Family::IPv6]
    }

    pub fn pods(&self) -> &[PodRange] {
        &self.plan.pods
    }

    pub fn services(&self) -> &[ServiceRange] {
        &self.plan.services
    }

    pub fn pod(&self, family: Family) -> Option<&PodRange> {
        self.plan.pods.iter().find(|p| p.family == family)
    }

    pub fn service(&self, family: Family) -> Option<&ServiceRange> {
        self.plan.services.iter().find(|s| s.family == family)
    }

    /// The pod ranges, comma-separated, primary first.
    pub fn pod_list(&self) -> String {
        join(&self.plan.pods.iter().map(|p| p.cidr).collect::<Vec<_>>())
    }

    /// The service ranges, comma-separated, primary first.
    pub fn service_list(&self) -> String {
        join(
            &self
                .plan
                .services
                .iter()
                .map(|s| s.cidr)
                .collect::<Vec<_>>(),
        )
    }

    /// The node mask of a family's pod range.
    pub fn mask(&self, family: Family) -> Option<u8> {
        self.pod(family).and_then(|p| p.node_mask_size)
    }

    /// The DNS addresses the kubelet gets.
    pub fn dns_ips(&self) -> &[IpAddr] {
        &self.plan.dns_ips
    }

    /// The API server's advertise address: the input's, else the first controller's primary
    /// address.
    pub fn api_address(&self) -> Option<IpAddr> {
        self.net
            .api
            .address
            .as_ref()
            .and_then(|a| a.value.parse::<IpAddr>().ok())
            .or_else(|| {
                self.first_controller()
                    .and_then(|n| n.addresses.first().copied())
            })
    }

    /// The first node that runs the control plane, if the spec lists one.
    pub fn first_controller(&self) -> Option<&NodeView> {
        self.nodes.iter().find(|n| n.is_controller())
    }

    /// `https://host:port` for clients: the input's external address, else the API address
    /// (bracketed when IPv6).
    pub fn server_url(&self, port: u16) -> Option<String> {
        if let Some(external) = &self.net.api.external {
            let text = external.value.trim();
            let text = text
                .strip_prefix("https://")
                .unwrap_or(text)
                .trim_end_matches('/');
            if let Ok(ip) = text.parse::<IpAddr>() {
                return Some(format!("https://{}:{port}", host(&ip)));
            }
            let has_port = text.rsplit_once(':').is_some_and(|(h, p)| {
                !h.is_empty()
                    && p.chars().all(|c| c.is_ascii_digit())
                    && (!h.contains(':') || h.ends_with(']'))
            });
            return Some(if has_port {
                format!("https://{text}")
            } else {
                format!("https://{text}:{port}")
            });
        }
        self.api_address()
            .map(|ip| format!("https://{}:{port}", host(&ip)))
    }

    /// How a family's pods reach the outside, if the input says.
    pub fn upstream(&self, family: Family) -> Option<UpstreamMode> {
        self.net.upstream_for(family).map(|u| u.mode.value)
    }

    /// Whether pods get their addresses from the plan's node blocks, with the CNI configured as
    /// rendered: Calico IPAM (unless the input asks for HostLocal) and Cilium's cluster-pool
    /// (KKP installs Cilium that way; elsewhere kube6 writes `kubernetes` IPAM unless the input
    /// names a mode) hand out blocks of their own.
    pub fn pods_in_node_blocks(&self) -> bool {
        match self.cni {
            Cni::Calico => self
                .net
                .calico
                .ipam
                .as_ref()
                .is_some_and(|i| i.value.eq_ignore_ascii_case("HostLocal")),
            Cni::Cilium => match &self.net.cilium.ipam_mode {
                Some(mode) => mode.value == "kubernetes",
                None => self.distribution != Distribution::Kkp,
            },
            Cni::Canal | Cni::Flannel | Cni::KubeRouter | Cni::Custom => true,
        }
    }

    /// Whether the plan routes `family`'s pod addresses to the nodes (routed, NDP proxy or BGP
    /// upstream): the CNI must not masquerade them.
    pub fn routes(&self, family: Family) -> bool {
        matches!(
            self.upstream(family),
            Some(UpstreamMode::Routed | UpstreamMode::NdpProxy | UpstreamMode::Bgp)
        )
    }

    /// Whether every family of the cluster wants the same: all masqueraded, or none. CNIs with
    /// one masquerading switch for both families (flannel's `--ip-masq`, kube-router's
    /// `--enable-pod-egress`) can express only that.
    pub fn masquerade_uniform(&self) -> Option<bool> {
        let wanted: Vec<bool> = self
            .families()
            .iter()
            .map(|f| self.needs_masquerade(*f))
            .collect();
        match wanted.as_slice() {
            [first, rest @ ..] if rest.iter().all(|w| w == first) => Some(*first),
            _ => None,
        }
    }

    /// The HA endpoint as `host:port` (IPv6 literals bracketed), when the input names one.
    pub fn endpoint(&self, default_port: u16) -> Option<String> {
        self.net.api.external.as_ref()?;
        self.server_url(default_port)
            .map(|u| u.trim_start_matches("https://").to_string())
    }

    /// The names and addresses the API server certificate must hold besides its own: the
    /// endpoint's host, its virtual IPs and the input's extra SANs, each once.
    pub fn api_sans(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |s: String| {
            if !s.is_empty() && !out.contains(&s) {
                out.push(s);
            }
        };
        if let Some(host) = self.net.api.external_host() {
            add(host);
        }
        for vip in &self.net.api.endpoint_addresses {
            add(vip
                .value
                .parsed
                .map_or_else(|| vip.value.text.clone(), |ip| ip.to_string()));
        }
        for san in &self.net.api.sans {
            add(san.value.clone());
        }
        out
    }

    /// Whether pods of `family` need their source address translated when leaving the
    /// cluster: the input says masquerade, or (when it says nothing) the range is private
    /// (ULA for IPv6, RFC 1918 / shared space for IPv4).
    pub fn needs_masquerade(&self, family: Family) -> bool {
        match self.upstream(family) {
            Some(UpstreamMode::Masquerade) => true,
            Some(_) => false,
            None => self.pod(family).is_some_and(|p| is_private(&p.cidr)),
        }
    }
}

/// An address as a URL host: IPv6 in brackets.
pub fn host(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => format!("[{v6}]"),
        IpAddr::V4(v4) => v4.to_string(),
    }
}

/// Items joined with commas.
pub fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// ULA (fc00::/7) or private/shared IPv4 space: addresses the internet does not route back.
pub fn is_private(net: &IpNet) -> bool {
    match net {
        IpNet::V6(v6) => (v6.network().segments()[0] & 0xfe00) == 0xfc00,
        IpNet::V4(v4) => {
            let o = v4.network().octets();
            v4.network().is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube6_model::import::ImportOptions;

    fn analyze(spec: &str) -> kube6_model::Analysis {
        let text = format!(
            "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: kubeadm\n  pods: [fd00:10::/56]\n  services: [fd00:20::/112]\n{spec}"
        );
        kube6_model::analyze("t.yaml", &text, &ImportOptions::default()).unwrap()
    }

    fn url(spec: &str) -> Option<String> {
        let a = analyze(spec);
        let cx = Context::new(
            &a.network,
            &a.plan,
            Distribution::K3s,
            None,
            KubeadmApi::V1beta4,
        )
        .unwrap();
        cx.server_url(6443)
    }

    #[test]
    fn server_urls_bracket_ipv6_and_keep_given_ports() {
        assert_eq!(
            url("  api:\n    address: 2001:db8::10\n").as_deref(),
            Some("https://[2001:db8::10]:6443")
        );
        assert_eq!(
            url("  api:\n    externalAddress: 2001:db8::20\n").as_deref(),
            Some("https://[2001:db8::20]:6443")
        );
        assert_eq!(
            url("  api:\n    externalAddress: \"[2001:db8::20]:7443\"\n").as_deref(),
            Some("https://[2001:db8::20]:7443")
        );
        assert_eq!(
            url("  api:\n    externalAddress: lb.example.com:7443\n").as_deref(),
            Some("https://lb.example.com:7443")
        );
        assert_eq!(
            url("  api:\n    externalAddress: lb.example.com\n").as_deref(),
            Some("https://lb.example.com:6443")
        );
        assert_eq!(url(""), None);
    }

    #[test]
    fn private_ranges() {
        for (net, private) in [
            ("fd00:10::/56", true),
            ("fc00::/7", true),
            ("2001:db8::/64", false),
            ("10.244.0.0/16", true),
            ("100.64.0.0/10", true),
            ("192.0.2.0/24", false),
        ] {
            assert_eq!(is_private(&net.parse().unwrap()), private, "{net}");
        }
    }

    #[test]
    fn node_addresses_keep_the_cluster_families_primary_first() {
        let a = analyze(
            "  nodes:\n    - name: a\n      addresses: [192.0.2.1, 2001:db8::1, 2001:db8::2]\n    - name: b\n      role: controller\n      addresses: [2001:db8::3]\n",
        );
        let cx = Context::new(
            &a.network,
            &a.plan,
            Distribution::Kubeadm,
            None,
            KubeadmApi::V1beta4,
        )
        .unwrap();
        assert_eq!(cx.nodes[0].node_ip().as_deref(), Some("2001:db8::1"));
        assert_eq!(cx.nodes[0].role, Role::ControllerWorker);
        assert_eq!(cx.first_controller().map(|n| n.name.as_str()), Some("a"));
        assert_eq!(cx.nodes[1].pod_cidrs.len(), 1);
        assert_ne!(cx.nodes[0].pod_cidrs, cx.nodes[1].pod_cidrs);
    }
}
