//! kube-router (cloudnativelabs/kube-router pkg/options/options.go).

/// `--enable-pod-egress` defaults to true: pod traffic to destinations outside the cluster's
/// pod ranges is masqueraded to the node's address.
pub const POD_EGRESS_MASQUERADE_DEFAULT: bool = true;
