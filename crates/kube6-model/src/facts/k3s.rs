//! k3s and RKE2 share the server code that picks defaults (k3s-io/k3s pkg/util/net.go
//! `GetDefaultAddresses`, pkg/cli/server/server.go).

use crate::version::{Release, Version};

/// Defaults when the first node IP is IPv4.
pub const POD_CIDR_V4: &str = "10.42.0.0/16";
pub const SERVICE_CIDR_V4: &str = "10.43.0.0/16";
/// Defaults when the first node IP is IPv6 (IPv6-only mode is implicit in k3s).
pub const POD_CIDR_V6: &str = "fd00:42::/56";
pub const SERVICE_CIDR_V6: &str = "fd00:43::/112";

/// Without `--cluster-dns`, k3s takes `GetIndexedIP(serviceCIDR, 10)` of each service range.
pub const DNS_SERVICE_INDEX: u128 = 10;

/// `GetIndexedIP` fails when the index is outside the range, so k3s refuses to start without
/// `--cluster-dns` when a service range has no more addresses than this ("cannot configure default
/// cluster-dns address").
pub const MIN_SERVICE_ADDRESSES_FOR_DEFAULT_DNS: u128 = DNS_SERVICE_INDEX + 1;

/// flanneld's arguments in RKE2's rke2-canal chart (rancher/rke2-charts
/// packages/rke2-canal/charts/values.yaml `flannel.args`, at commit 262e21a4), without
/// `--ip-masq`. A HelmChartConfig that sets `flannel.args` replaces the whole list, so it keeps
/// these and adds `--ip-masq` only when every family masquerades. flanneld also masquerades when
/// `calico.masquerade` (FLANNELD_IP_MASQ) is true, the chart's default.
pub const RKE2_CANAL_FLANNEL_ARGS: &[&str] = &[
    "--kube-subnet-mgr",
    "--iptables-forward-rules=false",
    "--ip-blackhole-route",
];

/// RKE2's supervisor port, where agents and joining servers register (k3s shares the API port).
pub const RKE2_SUPERVISOR_PORT: u16 = 9345;
/// k3s's API and registration port.
pub const API_PORT: u16 = 6443;
/// The newest k3s/RKE2 release kube6's k3s facts were checked against (the flags in
/// shared/schemas/k3s-rke2-flags.tsv are of the 1.36.3 line).
pub const ASSUMED_RELEASE: Release = Release::new(1, 36, 3);

/// Whether `version` has a change that landed in the listed releases: one per minor line it was
/// backported to, in ascending order (k3s backports fixes to every supported minor line at
/// once). A version of a minor line before the first listed lacks it; one of a minor line after
/// the last listed has it; `None` (no version stated) is the newest release.
pub fn has_backported(version: Option<&Version>, releases: &[Release]) -> bool {
    let Some(version) = version else {
        return true;
    };
    let v = version.release();
    match releases
        .iter()
        .find(|r| r.major == v.major && r.minor == v.minor)
    {
        Some(first) => v >= *first,
        None => releases.first().is_some_and(|oldest| v > *oldest),
    }
}

/// Since k3s-io/k3s#8394 (issue #8393, merged with #8467: validated on v1.28.2+k3s-e82b3764 for
/// v1.28.3 and on v1.25.15-rc1 for the 1.25 line), k3s's default `cluster-dns` is the tenth
/// address of *every* service range and kube-dns gets all of them (`clusterIPs:
/// %{CLUSTER_DNS_LIST}%`); before, the default was one address, of the first service range, and
/// kube-dns was single-stack.
pub const DNS_PER_SERVICE_RANGE_SINCE: &[Release] = &[
    Release::new(1, 25, 15),
    Release::new(1, 26, 10),
    Release::new(1, 27, 7),
    Release::new(1, 28, 3),
];

/// Since k3s-io/k3s#8984 (issue #9152, backports #9269/#9270/#9271, validated on
/// v1.26.13-rc2, v1.27.10-rc2 and master after v1.29.0), pkg/server/server.go gives a dual-stack
/// kube-dns `ipFamilyPolicy: RequireDualStack`; between #8394 and it, `PreferDualStack`.
pub const KUBE_DNS_REQUIRE_DUAL_STACK_SINCE: &[Release] = &[
    Release::new(1, 26, 13),
    Release::new(1, 27, 10),
    Release::new(1, 28, 6),
    Release::new(1, 29, 1),
];

/// Whether k3s/RKE2 `version` defaults `cluster-dns` to one address per service range.
pub fn dns_per_service_range(version: Option<&Version>) -> bool {
    has_backported(version, DNS_PER_SERVICE_RANGE_SINCE)
}

/// The `ipFamilyPolicy` k3s gives kube-dns when the kubelets get `dns_ips` cluster DNS
/// addresses (pkg/server/server.go: `SingleStack` for one address; with more, `PreferDualStack`
/// or `RequireDualStack` by release).
pub fn kube_dns_policy(version: Option<&Version>, dns_ips: usize) -> &'static str {
    if dns_ips < 2 {
        "SingleStack"
    } else if has_backported(version, KUBE_DNS_REQUIRE_DUAL_STACK_SINCE) {
        "RequireDualStack"
    } else {
        "PreferDualStack"
    }
}

/// The `ipFamilyPolicy` RKE2's rke2-coredns chart gives its Service: `PreferDualStack` when
/// `global.clusterDNS` holds more than one address, else `SingleStack` (rancher/rke2-charts
/// packages/rke2-coredns/generated-changes/patch/templates/_helpers.tpl.patch, "ipFamilyPolicy";
/// rancher/rke2-charts#375).
pub fn rke2_kube_dns_policy(dns_ips: usize) -> &'static str {
    if dns_ips > 1 {
        "PreferDualStack"
    } else {
        "SingleStack"
    }
}

/// The primary CNIs RKE2's `cni` flag selects (rancher/rke2 pkg/cli/types.go `CNIItems`); `none`
/// deploys none, and `multus` may come first, in front of one of them.
pub const RKE2_CNI_ITEMS: &[&str] = &["calico", "canal", "cilium", "flannel"];

/// Why RKE2 refuses its `cni` list (each value split on commas, empty and case-sensitive entries
/// kept), as `validateCNI` and `disableExceptSelected` in rancher/rke2 pkg/cli/cmds/server.go
/// check it; `None` when it is accepted (an empty list means canal).
pub fn rke2_cni_problem(values: &[&str]) -> Option<String> {
    let selected: &[&str] = match values {
        [] => return None,
        ["multus"] => {
            return Some("multus must be used alongside another primary cni selection".into());
        }
        [one] => std::slice::from_ref(one),
        ["multus", rest @ ..] if rest.len() == 1 => rest,
        [_, _] => {
            return Some("may only provide multiple values if multus is the first value".into());
        }
        _ => return Some("must specify 1 or 2 values".into()),
    };
    selected
        .iter()
        .find(|v| **v != "none" && !RKE2_CNI_ITEMS.contains(v))
        .map(|v| {
            format!(
                "Invalid value {v:?}: must be one of none, {}",
                RKE2_CNI_ITEMS.join(",")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(text: &str) -> Option<Version> {
        Version::parse(text).ok()
    }

    #[test]
    fn kube_dns_follows_the_release_line() {
        assert_eq!(kube_dns_policy(None, 2), "RequireDualStack");
        assert_eq!(kube_dns_policy(None, 1), "SingleStack");
        for (text, policy) in [
            ("v1.29.1+k3s1", "RequireDualStack"),
            ("v1.28.6+k3s1", "RequireDualStack"),
            ("v1.28.5+k3s1", "PreferDualStack"),
            ("v1.27.10+k3s1", "RequireDualStack"),
            ("v1.27.9+k3s1", "PreferDualStack"),
            ("v1.26.13+k3s1", "RequireDualStack"),
            // 1.25 reached its end before #8984 was backported.
            ("v1.25.16+k3s4", "PreferDualStack"),
            ("v1.33.4+rke2r1", "RequireDualStack"),
        ] {
            assert_eq!(kube_dns_policy(version(text).as_ref(), 2), policy, "{text}");
        }
        assert!(dns_per_service_range(version("v1.28.3+k3s1").as_ref()));
        assert!(!dns_per_service_range(version("v1.28.2+k3s1").as_ref()));
        assert!(dns_per_service_range(version("v1.25.15+k3s1").as_ref()));
        assert!(!dns_per_service_range(version("v1.24.17+k3s1").as_ref()));
        assert!(dns_per_service_range(None));
        assert_eq!(rke2_kube_dns_policy(2), "PreferDualStack");
    }

    #[test]
    fn rke2_cni_lists_as_validate_cni_reads_them() {
        assert_eq!(rke2_cni_problem(&[]), None);
        assert_eq!(rke2_cni_problem(&["cilium"]), None);
        assert_eq!(rke2_cni_problem(&["none"]), None);
        assert_eq!(rke2_cni_problem(&["multus", "canal"]), None);
        assert!(rke2_cni_problem(&["multus"]).is_some());
        assert!(rke2_cni_problem(&["canal", "multus"]).is_some());
        assert!(rke2_cni_problem(&["multus", "multus"]).is_some());
        assert!(rke2_cni_problem(&["multus", "cilium", "canal"]).is_some());
        assert!(rke2_cni_problem(&["Cilium"]).is_some());
        assert!(rke2_cni_problem(&["cilium", ""]).is_some());
        assert!(rke2_cni_problem(&[""]).is_some());
    }
}
