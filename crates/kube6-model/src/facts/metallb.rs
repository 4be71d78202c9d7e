//! MetalLB (metallb/metallb, read at v0.16.1, 791dfcc6): how it allocates addresses to a
//! Service, where its speakers answer NDP, and what its BGP implementations can announce.

use crate::version::{Release, Version};

/// The MetalLB release kube6's MetalLB facts were read at (the CRDs in shared/schemas/metallb
/// are v0.16.1's).
pub const ASSUMED_RELEASE: Release = Release::new(0, 16, 1);

/// A dual-stack Service gets both its addresses from ONE pool: `findBestPoolForService`
/// (internal/allocator/allocator.go) takes the first pool with a free address of the Service's
/// family, or, for two families, of both; `selectIPsForFamilyAndPolicy`
/// (internal/allocator/allocation.go) then returns both for RequireDualStack and falls back to
/// one family only for PreferDualStack. Two single-family pools never serve one
/// RequireDualStack Service ("no available IPs").
pub const DUAL_STACK_NEEDS_ONE_POOL: bool = true;

/// PreferDualStack Services are allocated since v0.14.9 (#2587); before, MetalLB handled only
/// SingleStack and RequireDualStack families.
pub const PREFER_DUAL_STACK_SINCE: Release = Release::new(0, 14, 9);

/// `ServiceL2Status` (metallb.io/v1beta1, api/v1beta1/servicel2status_types.go) names the node
/// whose speaker answers ARP/NDP for a Service in L2 mode; since v0.14.4 (0a618873, "layer2
/// status api"). internal/k8s/controllers/layer2_status_controller.go creates one per Service
/// on the announcing node, in MetalLB's namespace, with these labels (values.go).
pub const L2_STATUS_SINCE: Release = Release::new(0, 14, 4);
pub const L2_STATUS_GROUP: &str = "metallb.io";
pub const L2_STATUS_VERSION: &str = "v1beta1";
pub const L2_STATUS_PLURAL: &str = "servicel2statuses";
pub const L2_STATUS_KIND: &str = "ServiceL2Status";
pub const LABEL_ANNOUNCE_NODE: &str = "metallb.io/node";
pub const LABEL_SERVICE_NAME: &str = "metallb.io/service-name";
pub const LABEL_SERVICE_NAMESPACE: &str = "metallb.io/service-namespace";

/// The NDP responder (internal/layer2/announcer.go `updateInterfaces`) runs on every interface
/// that is up, not enslaved to a bond or bridge, without NOARP, and with an IPv6 link-local
/// address; it answers for every L2 address on all of them unless the L2Advertisement lists
/// `interfaces`. It joins the solicited-node multicast group of every address it announces
/// (internal/layer2/ndp.go `Watch`), so switches with MLD snooping deliver the solicitations
/// (unlike Cilium before 1.19.6, K6W410). The upstream router solicits only addresses it
/// considers on-link, so an IPv6 pool answered by NDP must lie in the nodes' on-link prefix.
pub const NDP_ON_EVERY_LINK_LOCAL_INTERFACE: bool = true;

/// The native BGP implementation refuses IPv6 pools that a BGPAdvertisement announces ("pool
/// %q has ipv6 CIDR %s, native bgp mode does not support ipv6", internal/config/validation.go
/// `findIPv6BGPAdvertisement`); IPv6 over BGP needs the FRR or FRR-K8s mode
/// (website/content/installation: "Native mode ... no BFD, no IPv6 BGP").
pub const NATIVE_BGP_IPV6: bool = false;

/// Since v0.15.0 (d5f5a4916, "FRR: deprecate disableMP", metallb/metallb#2704) a BGP session
/// carries only its own family unless the BGPPeer sets `dualStackAddressFamily: true`
/// (api/v1beta2/bgppeer_types.go): an IPv6 pool needs an IPv6 peer (or a peer with that flag).
pub const SESSION_FAMILY_ONLY_SINCE: Release = Release::new(0, 15, 0);

/// Only v0.15.0 refused an IPAddressPool holding a node's IP (2e27f1c87, "Detect and reject
/// configurations where the service IP range overlaps with node IPs"); v0.15.1 reverted it
/// (4d56a9917: ranges given as FIRST-LAST were not evaluated properly). Every other release
/// accepts such a pool and may hand a node's own address to a Service, whose speaker then
/// answers ARP/NDP for it against the node: kube6 refuses it (K6E401) for that reason.
pub const NODE_IP_OVERLAP_REFUSED_ONLY_IN: Release = Release::new(0, 15, 0);

/// `poolsFor` (internal/config/config.go) refuses the whole configuration when a CIDR of one
/// pool overlaps any other CIDR ("CIDR %q in pool %q overlaps with already defined CIDR %q");
/// a FIRST-LAST range counts as the CIDRs that cover it (`ParseCIDR`, `ipaddr.Summarize`).
pub const OVERLAPPING_POOLS_REFUSED: bool = true;

/// Whether `version` allocates PreferDualStack Services (None: the newest release).
pub fn has_prefer_dual_stack(version: Option<&Version>) -> bool {
    version.is_none_or(|v| v.is_at_least(PREFER_DUAL_STACK_SINCE))
}

/// Whether `version` publishes ServiceL2Status objects (None: the newest release).
pub fn has_l2_status(version: Option<&Version>) -> bool {
    version.is_none_or(|v| v.is_at_least(L2_STATUS_SINCE))
}

/// Whether `version` keeps each BGP session to its own family by default.
pub fn sessions_carry_own_family_only(version: Option<&Version>) -> bool {
    version.is_none_or(|v| v.is_at_least(SESSION_FAMILY_ONLY_SINCE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases() {
        let v = |t: &str| Version::parse(t).ok();
        assert!(!has_prefer_dual_stack(v("v0.14.8").as_ref()));
        assert!(has_prefer_dual_stack(v("v0.14.9").as_ref()));
        assert!(has_prefer_dual_stack(None));
        assert!(!has_l2_status(v("0.14.3").as_ref()));
        assert!(has_l2_status(v("0.14.4").as_ref()));
        assert!(sessions_carry_own_family_only(v("0.15.0").as_ref()));
        assert!(!sessions_carry_own_family_only(v("0.14.9").as_ref()));
    }
}
