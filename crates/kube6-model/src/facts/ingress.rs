//! Ingress controllers and the Services their Helm charts create: the ingress-nginx chart
//! (kubernetes/ingress-nginx charts/ingress-nginx/values.yaml), the Traefik chart
//! (traefik/traefik-helm-chart traefik/values.yaml and templates/_service.tpl) and what k3s and
//! RKE2 bundle of them (k3s-io/k3s manifests/traefik.yaml; rancher/rke2 pkg/cli/cmds/server.go,
//! rancher/rke2-charts packages/rke2-traefik and packages/rke2-ingress-nginx values patches).

use crate::load_balancer::IngressController;
use crate::model::Distribution;
use crate::version::{Release, Version};

/// The ingress-nginx chart asks for `controller.service.ipFamilyPolicy: SingleStack` and
/// `controller.service.ipFamilies: [IPv4]` (and the same for `controller.service.internal`)
/// since chart 4.0.6 (001ce778b, "Support ipFamilyPolicy and ipFamilies fields in Helm Chart";
/// unchanged up to chart 4.15.1): on an IPv6-only cluster the API server refuses the Service
/// (`spec.ipFamilies[0]: Invalid value: "IPv4": not configured on this cluster`, kube-apiserver
/// pkg/registry/core/service/ipallocator), and on a dual-stack cluster it gets no IPv6 address.
/// Charts before 4.0.6 set neither field: the Service takes the cluster's primary family.
pub const INGRESS_NGINX_DEFAULT_POLICY: &str = "SingleStack";
pub const INGRESS_NGINX_DEFAULT_FAMILIES: &[&str] = &["IPv4"];

/// The Traefik chart sets neither: the Service is SingleStack in the cluster's primary family
/// (Kubernetes' default). Up to chart v39 the chart takes `service.ipFamilyPolicy` and
/// `service.ipFamilies`; from v40 every Service field is under `service.spec`.
pub const TRAEFIK_SERVICE_SPEC_SINCE_CHART: u64 = 40;

/// k3s's bundled Traefik HelmChart sets `service.ipFamilyPolicy: PreferDualStack` (and the
/// chart it ships is of the v39 line or older: `service.ipFamilyPolicy`): the Service takes
/// every family the cluster has.
pub const K3S_TRAEFIK_POLICY: &str = "PreferDualStack";

/// The k3s HelmChart names: `traefik` (kube-system).
pub const K3S_TRAEFIK_CHART: &str = "traefik";
pub const RKE2_TRAEFIK_CHART: &str = "rke2-traefik";
pub const RKE2_INGRESS_NGINX_CHART: &str = "rke2-ingress-nginx";

/// RKE2's ingress charts run as a DaemonSet on host ports 80 and 443 with their Service
/// disabled (rke2-ingress-nginx `controller.service.enabled: false`, `hostPort.enabled: true`)
/// or of type ClusterIP (rke2-traefik `service.type: ClusterIP`, `hostPort: 80/443`): traffic
/// comes in on every node's addresses, of every family the node has.
pub const RKE2_INGRESS_ON_HOST_PORTS: bool = true;

/// RKE2 v1.36.0 (rancher/rke2 003f022f, "Make traefik default") installs Traefik unless
/// `ingress-controller` says otherwise (clusters that already run rke2-ingress-nginx keep it);
/// before, ingress-nginx.
pub const RKE2_TRAEFIK_DEFAULT_SINCE: Release = Release::new(1, 36, 0);

/// The ingress controller a distribution installs when the input does not say.
pub fn default_for(distribution: Distribution, version: Option<&Version>) -> IngressController {
    match distribution {
        Distribution::K3s => IngressController::Traefik,
        Distribution::Rke2 => {
            if version.is_some_and(|v| v.is_before(RKE2_TRAEFIK_DEFAULT_SINCE)) {
                IngressController::IngressNginx
            } else {
                IngressController::Traefik
            }
        }
        Distribution::K0s | Distribution::Kubeadm | Distribution::Kkp => IngressController::None,
    }
}

/// Where the Traefik chart of `chart_major` takes the Service's family fields: `service` up to
/// v39, `service.spec` from v40.
pub fn traefik_uses_service_spec(chart_major: u64) -> bool {
    chart_major >= TRAEFIK_SERVICE_SPEC_SINCE_CHART
}

/// The Traefik chart line a k3s or RKE2 release bundles: RKE2 from v1.36 packages chart v41
/// (rancher/rke2 charts/chart_versions.yaml `rke2-traefik` 41.2.001); k3s ships the v39 line
/// (`traefik-39.0.701+up39.0.7`) and older.
pub fn bundled_traefik_chart_major(distribution: Distribution, version: Option<&Version>) -> u64 {
    match distribution {
        Distribution::Rke2 if version.is_none_or(|v| v.is_at_least(RKE2_TRAEFIK_DEFAULT_SINCE)) => {
            41
        }
        _ => 39,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_by_release() {
        let v = |t: &str| Version::parse(t).ok();
        assert_eq!(
            default_for(Distribution::Rke2, v("v1.35.4+rke2r1").as_ref()),
            IngressController::IngressNginx
        );
        assert_eq!(
            default_for(Distribution::Rke2, v("v1.36.0+rke2r1").as_ref()),
            IngressController::Traefik
        );
        assert_eq!(
            default_for(Distribution::Rke2, None),
            IngressController::Traefik
        );
        assert_eq!(
            default_for(Distribution::K0s, None),
            IngressController::None
        );
        assert!(traefik_uses_service_spec(bundled_traefik_chart_major(
            Distribution::Rke2,
            None
        )));
        assert!(!traefik_uses_service_spec(bundled_traefik_chart_major(
            Distribution::K3s,
            None
        )));
    }
}
