//! What the plan's distribution does, at the version the plan states, where verification needs
//! it: the order of the nodes' podCIDRs and the kube-dns policy. The facts themselves live in
//! `kube6_model::facts`; this only picks the ones for the plan and says what was assumed.

use kube6_model::facts;
use kube6_model::model::{ClusterNetwork, Distribution};
use kube6_model::version::Version;
use kube6_net::Family;

/// The plan's distribution and version.
pub struct DistroRules {
    distribution: Distribution,
    version: Option<Version>,
}

impl DistroRules {
    /// Reads the plan's distribution; notes (for the report) when its version is not stated
    /// and the newest release's rules are assumed.
    pub fn new(net: &ClusterNetwork, notes: &mut Vec<String>) -> DistroRules {
        let distribution = net.distribution.value;
        let version = net.distribution_release();
        let assumed = match distribution {
            Distribution::K0s => Some(facts::k0s::ASSUMED_RELEASE),
            Distribution::K3s | Distribution::Rke2 => Some(facts::k3s::ASSUMED_RELEASE),
            Distribution::Kubeadm | Distribution::Kkp => None,
        };
        if version.is_none()
            && let Some(release) = assumed
        {
            let unreadable = net
                .distribution_version
                .as_ref()
                .map(|v| format!(" ({:?} is not a version)", v.value))
                .unwrap_or_default();
            notes.push(format!(
                "the plan states no {distribution} version{unreadable}: judged by the rules of \
                 {distribution} {release}; older releases set node masks, podCIDR order and \
                 kube-dns differently (a kube6 ClusterNetwork states it in \
                 spec.distribution.version)"
            ));
        }
        DistroRules {
            distribution,
            version,
        }
    }

    /// The order in which kube-controller-manager gives nodes their podCIDRs: its
    /// `--cluster-cidr` order. k0s before v1.36.1 passes the IPv6 range first whatever the
    /// primary family (`Network.BuildPodCIDR` in k0sproject/k0s pkg/apis/k0s/v1beta1/network.go);
    /// every other distribution passes the plan's order.
    pub fn pod_cidr_order(&self, families: &[Family]) -> Vec<Family> {
        if self.distribution == Distribution::K0s
            && families.len() == 2
            && facts::k0s::pod_cidrs_ipv6_first(self.version.as_ref())
        {
            return vec![Family::IPv6, Family::IPv4];
        }
        families.to_vec()
    }

    /// The `ipFamilyPolicy` the distribution gives kube-dns when kubelets get `dns_ips` cluster
    /// DNS addresses. k0s, kubeadm and KKP template a Service with one `clusterIP` and no
    /// policy, which the API server defaults to SingleStack.
    pub fn kube_dns_policy(&self, dns_ips: usize) -> Option<String> {
        let policy = match self.distribution {
            Distribution::K3s => facts::k3s::kube_dns_policy(self.version.as_ref(), dns_ips),
            Distribution::Rke2 => facts::k3s::rke2_kube_dns_policy(dns_ips),
            Distribution::K0s | Distribution::Kubeadm | Distribution::Kkp => {
                if dns_ips > 1 {
                    return None;
                }
                "SingleStack"
            }
        };
        Some(policy.to_string())
    }
}
