//! What a LoadBalancer Service asks of the implementation that serves it: which
//! `spec.loadBalancerClass` each implementation takes, and the annotations that ask for
//! addresses or a pool. Verification reads these to judge a Service only by the controller
//! that really serves it.

use crate::load_balancer::LbImplementation;

/// Annotations (and the core field) by which a Service asks for its addresses or a pool:
/// MetalLB `metallb.io/loadBalancerIPs`, `metallb.io/address-pool` and their deprecated
/// `metallb.universe.tf/` spellings (metallb/metallb controller/service.go `getDesiredLbIPs`,
/// which also reads `spec.loadBalancerIP`); Cilium LB-IPAM `lbipam.cilium.io/ips` and the older
/// `io.cilium/lb-ipam-ips` (Documentation/network/lb-ipam.rst "Requesting IPs"); kube-vip
/// `kube-vip.io/loadbalancerIPs` (kube-vip pkg/kubevip annotations).
pub const REQUEST_ANNOTATIONS: &[&str] = &[
    "metallb.io/loadBalancerIPs",
    "metallb.universe.tf/loadBalancerIPs",
    "metallb.io/address-pool",
    "metallb.universe.tf/address-pool",
    "lbipam.cilium.io/ips",
    "io.cilium/lb-ipam-ips",
    "kube-vip.io/loadbalancerIPs",
];

/// The `spec.loadBalancerClass` values Cilium's LB-IPAM serves besides none
/// (Documentation/network/lb-ipam.rst "LoadBalancerClass": a Service of any other class is
/// ignored entirely, "not even setting a condition in the status").
pub const CILIUM_CLASSES: &[&str] = &["io.cilium/bgp-control-plane", "io.cilium/l2-announcer"];

/// kube-vip's cloud provider class (`kube-vip.io/kube-vip-class`); kube-vip serves Services of
/// no class too unless it runs with `lb_class_only`.
pub const KUBE_VIP_CLASS: &str = "kube-vip.io/kube-vip-class";

/// Whether `implementation` serves a Service of `class` (None: no `spec.loadBalancerClass`).
///
/// MetalLB serves only Services without a class unless started with `--lb-class`
/// (internal/k8s/controllers/service_controller.go `filterByLoadBalancerClass`); ServiceLB and
/// the cloud controllers run in the cloud-provider service controller, which skips every Service
/// with a class (k8s.io/cloud-provider controllers/service `wantsLoadBalancer`). A Service of
/// another class is served by another controller: its addresses are that controller's to give.
pub fn serves_class(implementation: LbImplementation, class: Option<&str>) -> bool {
    match class {
        None => implementation != LbImplementation::None,
        Some(class) => match implementation {
            LbImplementation::Cilium => CILIUM_CLASSES.contains(&class),
            LbImplementation::KubeVip => class == KUBE_VIP_CLASS,
            _ => false,
        },
    }
}

/// Whether an address a Service asks for explicitly must lie in one of the implementation's
/// pools: MetalLB and Cilium LB-IPAM allocate a requested address only from a pool (MetalLB
/// `AllocateFromPool`/`Assign` refuse one "not allowed in config"); kube-vip announces whatever
/// `loadBalancerIP` or `kube-vip.io/loadbalancerIPs` names.
pub fn requested_address_needs_pool(implementation: LbImplementation) -> bool {
    matches!(
        implementation,
        LbImplementation::Metallb | LbImplementation::Cilium
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_implementation() {
        assert!(serves_class(LbImplementation::Metallb, None));
        assert!(!serves_class(
            LbImplementation::Metallb,
            Some("io.cilium/l2-announcer")
        ));
        assert!(serves_class(
            LbImplementation::Cilium,
            Some("io.cilium/l2-announcer")
        ));
        assert!(!serves_class(
            LbImplementation::Cilium,
            Some("service.k8s.aws/nlb")
        ));
        assert!(!serves_class(
            LbImplementation::Servicelb,
            Some("tailscale")
        ));
        assert!(serves_class(
            LbImplementation::KubeVip,
            Some(KUBE_VIP_CLASS)
        ));
        assert!(!serves_class(LbImplementation::None, None));
        assert!(requested_address_needs_pool(LbImplementation::Metallb));
        assert!(!requested_address_needs_pool(LbImplementation::KubeVip));
    }
}
