//! kube-router (cloudnativelabs/kube-router pkg/options/options.go).

use crate::version::Release;

/// The kube-router release kube6's facts were read at (v2.11.0, the reference notes' HEAD).
pub const ASSUMED_RELEASE: Release = Release::new(2, 11, 0);

/// `--enable-pod-egress` defaults to true ("SNAT traffic from Pods to destinations outside the
/// cluster."): pod traffic to destinations outside the cluster's pod ranges leaves with the
/// node's address, in every family kube-router runs.
pub const POD_EGRESS_MASQUERADE_DEFAULT: bool = true;

/// The flag that turns pod-egress masquerading off.
pub const POD_EGRESS_FLAG: &str = "enable-pod-egress";

/// `--enable-ipv4` defaults to true, `--enable-ipv6` to false.
pub const ENABLE_IPV4_DEFAULT: bool = true;
pub const ENABLE_IPV6_DEFAULT: bool = false;
