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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use kube6_model::analyze;
    use kube6_model::import::ImportOptions;

    use super::*;

    fn rules(distribution: &str) -> (DistroRules, Vec<String>) {
        let text = format!(
            "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nmetadata:\n  name: x\nspec:\n  distribution:\n{distribution}  pods:\n  - 10.244.0.0/16\n  - fd00:10::/104\n  services:\n  - 10.96.0.0/12\n  - fd00:20::/108\n"
        );
        let analysis = analyze("plan.yaml", &text, &ImportOptions::default()).unwrap();
        let mut notes = Vec::new();
        (DistroRules::new(&analysis.network, &mut notes), notes)
    }

    const DUAL: [Family; 2] = [Family::IPv4, Family::IPv6];

    #[test]
    fn k0s_orders_pod_cidrs_by_release() {
        let (old, notes) = rules("    name: k0s\n    version: v1.35.7+k0s.0\n");
        assert!(notes.is_empty());
        assert_eq!(old.pod_cidr_order(&DUAL), [Family::IPv6, Family::IPv4]);
        assert_eq!(old.pod_cidr_order(&[Family::IPv4]), [Family::IPv4]);
        let (new, _) = rules("    name: k0s\n    version: v1.36.1+k0s.0\n");
        assert_eq!(new.pod_cidr_order(&DUAL), DUAL);
        let (unstated, notes) = rules("    name: k0s\n");
        assert_eq!(unstated.pod_cidr_order(&DUAL), DUAL);
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].contains("judged by the rules of k0s v1.36.3"),
            "{notes:?}"
        );
        let (kubeadm, notes) = rules("    name: kubeadm\n");
        assert_eq!(
            kubeadm.pod_cidr_order(&[Family::IPv6, Family::IPv4]),
            [Family::IPv6, Family::IPv4]
        );
        assert!(notes.is_empty());
    }

    #[test]
    fn kube_dns_policy_by_distribution_and_release() {
        let policy = |d: &str, n| rules(d).0.kube_dns_policy(n);
        assert_eq!(
            policy("    name: k3s\n", 2).as_deref(),
            Some("RequireDualStack")
        );
        assert_eq!(
            policy("    name: k3s\n    version: v1.28.5+k3s1\n", 2).as_deref(),
            Some("PreferDualStack")
        );
        assert_eq!(
            policy("    name: rke2\n", 2).as_deref(),
            Some("PreferDualStack")
        );
        assert_eq!(policy("    name: k0s\n", 1).as_deref(), Some("SingleStack"));
        assert_eq!(policy("    name: kubeadm\n", 2), None);
    }
}
