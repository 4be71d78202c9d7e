//! `kube6 diff`: what a running cluster can change in its network, and how.
//!
//! Two sides (a configuration in any format kube6 reads, or a running cluster) become
//! [`NetworkState`]s; [`change::detect`] lists every network change between them,
//! [`classify::classify`] asks each component what it does with each change (allowed live,
//! allowed with steps, refused, unsafe: one catalog rule per behaviour, 6xx), and
//! [`runbook::build`] orders the steps for the distribution with the `kube6 verify` and
//! `kube6 probe` checks that show each one worked.

pub mod change;
pub mod classify;
pub mod runbook;
pub mod state;

use serde::Serialize;

pub use change::{Change, ChangeKind, RangeChange};
pub use classify::{Class, Classified, Context, Verdict};
pub use runbook::{Files, Runbook, Step};
pub use state::NetworkState;

/// Options of a diff.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The kubeadm cluster is managed by Cluster API (KubeadmControlPlane).
    pub cluster_api: bool,
}

/// How many changes of each class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub allowed_live: usize,
    pub allowed_with_steps: usize,
    #[serde(rename = "unsafe")]
    pub unsafe_: usize,
    pub refused: usize,
}

/// The diff document (`kube6 diff -o json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// True when every change is allowed (live or with steps): exit status 0.
    pub allowed: bool,
    pub current: NetworkState,
    pub proposed: NetworkState,
    pub changes: Vec<Classified>,
    pub totals: Totals,
    pub runbook: Runbook,
    /// Errors in the proposed configuration itself (what `kube6 validate` reports): a proposal
    /// a component would refuse at start is not allowed, whatever its changes.
    #[serde(rename = "proposedErrors", skip_serializing_if = "Vec::is_empty")]
    pub proposed_errors: Vec<kube6_model::diagnostic::Diagnostic>,
    /// What the comparison could not see (a running cluster's configured ranges, an assumed
    /// version).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Report {
    /// Adds the proposed configuration's own errors; any makes the proposal not allowed.
    pub fn with_proposed_errors(
        mut self,
        errors: Vec<kube6_model::diagnostic::Diagnostic>,
    ) -> Report {
        if !errors.is_empty() {
            self.allowed = false;
        }
        self.proposed_errors = errors;
        self
    }

    /// Whether any change is refused or unsafe (exit status 1).
    pub fn blocked(&self) -> bool {
        !self.allowed
    }
}

/// Compares `current` with `proposed`.
pub fn diff(
    current: NetworkState,
    proposed: NetworkState,
    files: &Files,
    options: &Options,
) -> Report {
    let ctx = Context::new(&current, &proposed, options.cluster_api);
    let changes = classify::classify(change::detect(&current, &proposed), &ctx);
    let mut totals = Totals::default();
    for c in &changes {
        match c.class {
            Class::AllowedLive => totals.allowed_live += 1,
            Class::AllowedWithSteps => totals.allowed_with_steps += 1,
            Class::Unsafe => totals.unsafe_ += 1,
            Class::Refused => totals.refused += 1,
        }
    }
    let runbook = runbook::build(&changes, &ctx, &current, &proposed, files);
    let mut notes = Vec::new();
    if current.is_cluster() {
        notes.push(if current.service_cidrs.iter().any(|c| c.default) {
            "the running cluster does not show its configured pod ranges: they were judged against the node blocks in use; its service ranges are its ServiceCIDR objects".to_string()
        } else {
            "the running cluster does not show its configured ranges: pod and service ranges were judged against the node blocks and cluster IPs in use".to_string()
        });
        if current.cni.is_none() {
            notes.push("the CNI was not named (--cni): pod addresses were judged by the IPAM the cluster's objects show".to_string());
        }
    }
    if ctx.kubernetes.is_none() {
        notes.push(format!(
            "no Kubernetes version stated: the behaviour of Kubernetes {} is assumed",
            kube6_model::facts::kubernetes::ASSUMED_RELEASE
        ));
    }
    Report {
        allowed: !changes.iter().any(|c| c.class.blocks()),
        current,
        proposed,
        changes,
        totals,
        runbook,
        proposed_errors: Vec::new(),
        notes,
    }
}
