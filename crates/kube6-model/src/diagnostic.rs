//! Diagnostics: what is wrong (or worth knowing), where, which component would refuse it, and
//! the concrete change that fixes it.

use std::fmt;

use serde::Serialize;

use crate::rules::catalog::RuleInfo;
use crate::source::Origin;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The component that would reject (or be hurt by) a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Component {
    KubeApiserver,
    KubeControllerManager,
    Kubelet,
    KubeProxy,
    K0s,
    K3s,
    /// RKE2's own start-up checks (rancher/rke2), where they differ from k3s's.
    Rke2,
    Kubeadm,
    Kkp,
    Calico,
    Canal,
    Cilium,
    Flannel,
    KubeRouter,
    CoreDns,
    /// kube6's own cross-checks: nothing rejects these, but the cluster will not work as meant.
    Kube6,
}

impl Component {
    pub fn as_str(self) -> &'static str {
        match self {
            Component::KubeApiserver => "kube-apiserver",
            Component::KubeControllerManager => "kube-controller-manager",
            Component::Kubelet => "kubelet",
            Component::KubeProxy => "kube-proxy",
            Component::K0s => "k0s",
            Component::K3s => "k3s",
            Component::Rke2 => "rke2",
            Component::Kubeadm => "kubeadm",
            Component::Kkp => "kkp",
            Component::Calico => "calico",
            Component::Canal => "canal",
            Component::Cilium => "cilium",
            Component::Flannel => "flannel",
            Component::KubeRouter => "kube-router",
            Component::CoreDns => "coredns",
            Component::Kube6 => "kube6",
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding about the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    /// Stable rule id, e.g. `K6E012`.
    pub id: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Field path in the input format's terms, e.g. `spec.network.dualStack.IPv6podCIDR`.
    pub path: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub enforced_by: Component,
    /// The concrete change that fixes it.
    pub hint: String,
    /// The file the line and column are in, when it is not the cluster configuration itself (a
    /// CNI configuration file given next to it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

impl Diagnostic {
    /// A finding of `rule` about the value at `origin`.
    pub fn new(
        rule: &RuleInfo,
        origin: &Origin,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Diagnostic {
        let pos = origin.pos();
        Diagnostic {
            id: rule.id,
            severity: rule.severity,
            message: message.into(),
            path: origin.path().to_string(),
            line: pos.map(|p| p.line),
            column: pos.map(|p| p.column),
            enforced_by: rule.enforced_by,
            hint: hint.into(),
            file: None,
        }
    }
}

/// Sorts diagnostics for output: by line (unplaced last), then severity, then id.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (
            a.line.unwrap_or(u32::MAX),
            a.column.unwrap_or(0),
            a.severity,
            a.id,
            &a.message,
        )
            .cmp(&(
                b.line.unwrap_or(u32::MAX),
                b.column.unwrap_or(0),
                b.severity,
                b.id,
                &b.message,
            ))
    });
}
