//! What the plan's distribution does, at the version the plan states, where verification needs
//! it: the order of the nodes' podCIDRs and the kube-dns policy. The facts themselves live in
//! `kube6_model::facts`; this only picks the ones for the plan and says what was assumed.

use kube6_model::facts;
use kube6_model::model::{ClusterNetwork, Distribution};
use kube6_model::version::Version;

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
    use kube6_net::Family;

    fn rules(distribution: &str) -> (DistroRules, Vec<String>) {
        let text = format!(
            "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nmetadata:\n  name: x\nspec:\n  distribution:\n{distribution}  pods:\n  - 10.244.0.0/16\n  - fd00:10::/104\n  services:\n  - 10.96.0.0/12\n  - fd00:20::/108\n"
        );
        let analysis = analyze("plan.yaml", &text, &ImportOptions::default()).unwrap();
        let mut notes = Vec::new();
        (DistroRules::new(&analysis.network, &mut notes), notes)
    }

    const DUAL: [Family; 2] = [Family::IPv4, Family::IPv6];

    /// The podCIDR order comes from the plan (kube6_model::plan::pod_cidr_order), so plan,
    /// render and verify agree: k0s before v1.36.1 puts IPv6 first whatever the primary family.
    #[test]
    fn k0s_orders_pod_cidrs_by_release() {
        let order = |distribution: &str| {
            let text = format!(
                "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nmetadata:\n  name: x\nspec:\n  distribution:\n{distribution}  pods:\n  - 10.244.0.0/16\n  - fd00:10::/104\n  services:\n  - 10.96.0.0/12\n  - fd00:20::/108\n"
            );
            let analysis = analyze("plan.yaml", &text, &ImportOptions::default()).unwrap();
            crate::Expectations::from_analysis(&analysis).pod_cidr_order
        };
        assert_eq!(
            order("    name: k0s\n    version: v1.35.7+k0s.0\n"),
            Some(vec![Family::IPv6, Family::IPv4])
        );
        assert_eq!(
            order("    name: k0s\n    version: v1.36.1+k0s.0\n"),
            Some(DUAL.to_vec())
        );
        assert_eq!(order("    name: k0s\n"), Some(DUAL.to_vec()));
        let (_, notes) = rules("    name: k0s\n");
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].contains("judged by the rules of k0s v1.36.3"),
            "{notes:?}"
        );
        assert_eq!(order("    name: kubeadm\n"), Some(DUAL.to_vec()));
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
