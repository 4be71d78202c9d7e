//! k3s and RKE2 share the server code that picks defaults (k3s-io/k3s pkg/util/net.go
//! `GetDefaultAddresses`, pkg/cli/server/server.go).

use crate::version::Release;

/// The k3s/RKE2 line kube6's k3s facts were read at (k3s 1.36.3, the line RKE2 v1.36.3+rke2r1
/// pins; shared/schemas/k3s-rke2-flags.tsv lists its flags).
pub const ASSUMED_RELEASE: Release = Release::new(1, 36, 3);

/// Defaults when the first node IP is IPv4.
pub const POD_CIDR_V4: &str = "10.42.0.0/16";
pub const SERVICE_CIDR_V4: &str = "10.43.0.0/16";
/// Defaults when the first node IP is IPv6 (IPv6-only mode is implicit in k3s).
pub const POD_CIDR_V6: &str = "fd00:42::/56";
pub const SERVICE_CIDR_V6: &str = "fd00:43::/112";

/// Without `--cluster-dns`, k3s takes `GetIndexedIP(serviceCIDR, 10)` of each service range.
pub const DNS_SERVICE_INDEX: u128 = 10;

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
