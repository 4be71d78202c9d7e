//! Renderers: the files each distribution, CNI and node needs, written from one valid plan.
//!
//! Renderers read the plan and the model and never validate: the caller refuses an invalid plan
//! before rendering. What a target cannot express at all (KKP with IPv6-only, k0s with an
//! IPv6-first kube-router cluster) is refused with the reason, as [`RenderError::Unsupported`].
//!
//! Each target, CNI and the host files implement [`Renderer`]; [`render`] picks them for a
//! request and [`convert`] returns the one document a target's format is read from.

pub mod cni;
pub mod context;
pub mod coredns;
pub mod exposure;
pub mod host;
pub mod k0s;
pub mod k3s;
pub mod kkp;
pub mod kube6;
pub mod kubeadm;
pub mod nat64;
pub mod yaml;

use std::fmt;
use std::str::FromStr;

use kube6_model::model::{ClusterNetwork, Cni, Distribution, Format};
use kube6_model::plan::Plan;

pub use context::Context;

/// Every finding of the target distribution's rules and the CNI's on `net` (the model's rules,
/// which also judge inputs for that distribution), with `cni` as the CNI and the command-line
/// settings the rendered files carry (k0s controllers of an IPv6 single-stack cluster start with
/// the IPv6SingleStack gate). What `kube6 validate --target` adds and render refuses on.
pub fn target_diagnostics(
    net: &ClusterNetwork,
    target: Target,
    cni: Option<Cni>,
) -> Vec<kube6_model::diagnostic::Diagnostic> {
    let mut net = net.clone();
    if let Some(cni) = cni
        && net.cni.value != cni
    {
        net.cni = kube6_model::source::Located::new(
            cni,
            kube6_model::source::Origin::input("--cni", None),
        );
    }
    net.feature_gates.extend(rendered_gates(&net, target));
    kube6_model::rules::check_target(&net, target.distribution())
}

/// The feature gates the rendered command lines give that the input does not: k0s controllers
/// of an IPv6 single-stack cluster start with IPv6SingleStack.
pub fn rendered_gates(
    net: &ClusterNetwork,
    target: Target,
) -> Vec<kube6_model::model::FeatureGate> {
    if target == Target::K0s
        && net.families() == [kube6_net::Family::IPv6]
        && net.feature_gate("IPv6SingleStack").is_none()
    {
        let origin = kube6_model::source::Origin::input("--feature-gates", None);
        return vec![kube6_model::model::FeatureGate {
            name: kube6_model::source::Located::new("IPv6SingleStack".to_string(), origin.clone()),
            enabled: kube6_model::source::Located::new(true, origin),
        }];
    }
    Vec::new()
}

/// The rendered CNI configuration read back and judged by the same rules as any input: the
/// cluster in kube6's own format for the target (with its upstream, which the target's files do
/// not carry) followed by every rendered file kube6 reads as CNI configuration (Cilium values,
/// Calico Installation and IPPools, Canal's ConfigMap and calico-node patch, flannel's
/// net-conf.json and flanneld patch, kube-router's patch, RKE2's HelmChartConfigs). Returns the
/// combined text with its analysis, or None when no rendered file is CNI configuration (the
/// distribution configures its CNI from its own file).
pub fn read_back(
    net: &ClusterNetwork,
    plan: &Plan,
    request: &Request,
    rendered: &Rendered,
) -> Result<Option<(String, kube6_model::Analysis)>, ReadBackError> {
    let cx = Context::new(
        net,
        plan,
        request.target.distribution(),
        request.cni,
        request.kubeadm_api,
    )
    .map_err(ReadBackError::Render)?;
    let cluster = kube6::document(&cx).map_err(ReadBackError::Render)?;
    let mut text: String = cluster.files.iter().map(|f| f.content.as_str()).collect();
    let mut read = 0;
    for file in &rendered.files {
        let cni_file = (file.path.ends_with(".yaml") || file.path.ends_with(".json"))
            && kube6_model::import::holds_only_cni_documents(&file.content).unwrap_or(false);
        if cni_file {
            text.push_str("---\n");
            text.push_str(&file.content);
            read += 1;
        }
    }
    if read == 0 {
        return Ok(None);
    }
    let options = kube6_model::import::ImportOptions {
        feature_gates: rendered_gates(net, request.target),
        ..Default::default()
    };
    let analysis = kube6_model::analyze("rendered CNI configuration", &text, &options)
        .map_err(ReadBackError::Import)?;
    Ok(Some((text, analysis)))
}

/// Why the rendered files could not be read back (an internal error: kube6 wrote something it
/// cannot read).
#[derive(Debug, thiserror::Error)]
pub enum ReadBackError {
    #[error("the rendered files cannot be planned")]
    Render(#[source] RenderError),
    #[error("the rendered CNI configuration does not read back")]
    Import(#[source] kube6_model::import::ImportError),
}

/// Refuses a cluster the target cannot express: every error of [`target_diagnostics`], each
/// with its rule id.
pub fn refuse_unless_expressible(cx: &Context<'_>, target: Target) -> Result<(), RenderError> {
    let errors: Vec<String> = target_diagnostics(cx.net, target, Some(cx.cni))
        .into_iter()
        .filter(|d| d.severity == kube6_model::diagnostic::Severity::Error)
        .map(|d| format!("{} [{}]; {}", d.message, d.id, d.hint))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(RenderError::unsupported(target, errors.join("\n  ")))
    }
}

/// A node name as one shell word: single-quoted, with single quotes escaped.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The lines of a per-node install script that stop it on any other host: the host name must be
/// the node's, or `KUBE6_NODE` must name it (when the node name is not the host name).
pub fn host_guard(node: &str) -> String {
    let quoted = shell_quote(node);
    format!(
        "\n# This script is for node {node} only: run on another host it would install that host with {node}'s\n\
         # configuration. Set KUBE6_NODE={node} where the host name differs from the node name.\n\
         if [ \"${{KUBE6_NODE:-$(hostname)}}\" != {quoted} ]; then\n  \
         echo \"this script is for node \"{quoted}\", not $(hostname); set KUBE6_NODE to run it here\" >&2\n  \
         exit 1\nfi\n"
    )
}

/// One file to write: a path relative to the output directory, its content and its mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    pub path: String,
    pub content: String,
    pub mode: u32,
}

impl RenderedFile {
    /// A configuration file (0644).
    pub fn config(path: impl Into<String>, content: impl Into<String>) -> RenderedFile {
        RenderedFile {
            path: path.into(),
            content: content.into(),
            mode: 0o644,
        }
    }

    /// A file that may hold secrets once filled in (0600).
    pub fn private(path: impl Into<String>, content: impl Into<String>) -> RenderedFile {
        RenderedFile {
            path: path.into(),
            content: content.into(),
            mode: 0o600,
        }
    }

    /// A shell script (0755).
    pub fn script(path: impl Into<String>, content: impl Into<String>) -> RenderedFile {
        RenderedFile {
            path: path.into(),
            content: content.into(),
            mode: 0o755,
        }
    }
}

/// What a renderer produced: files, and notes for the person running it (what was left out
/// and why, what to fill in).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    pub files: Vec<RenderedFile>,
    pub notes: Vec<String>,
}

impl Rendered {
    pub fn extend(&mut self, other: Rendered) {
        self.files.extend(other.files);
        self.notes.extend(other.notes);
    }
}

/// Why nothing could be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The target cannot express this cluster.
    #[error("{target} cannot express this cluster: {reason}")]
    Unsupported { target: String, reason: String },
    /// The plan has no range to render (an invalid plan slipped through).
    #[error("the plan has no {0} range to render")]
    Missing(&'static str),
    /// A workload running kube6 in the cluster is rendered, and no image was given for it.
    #[error(
        "{file} runs kube6 in the cluster ({why}), and kube6 has no published image: build one with deploy/probe/build.sh, push it where the nodes pull from and give it with --kube6-image IMAGE"
    )]
    Kube6ImageNeeded {
        file: &'static str,
        why: &'static str,
    },
}

impl RenderError {
    pub fn unsupported(target: impl fmt::Display, reason: impl Into<String>) -> RenderError {
        RenderError::Unsupported {
            target: target.to_string(),
            reason: reason.into(),
        }
    }
}

/// A distribution to render for (`--target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::VariantArray)]
pub enum Target {
    Kubeadm,
    K3s,
    Rke2,
    K0s,
    Kkp,
}

impl Target {
    /// Every variant, in declaration order (derived: a new variant cannot be left out).
    pub const ALL: &'static [Target] = <Target as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        match self {
            Target::Kubeadm => "kubeadm",
            Target::K3s => "k3s",
            Target::Rke2 => "rke2",
            Target::K0s => "k0s",
            Target::Kkp => "kkp",
        }
    }

    pub fn distribution(self) -> Distribution {
        match self {
            Target::Kubeadm => Distribution::Kubeadm,
            Target::K3s => Distribution::K3s,
            Target::Rke2 => Distribution::Rke2,
            Target::K0s => Distribution::K0s,
            Target::Kkp => Distribution::Kkp,
        }
    }

    /// The renderer for this target.
    pub fn renderer(self) -> Box<dyn TargetRenderer> {
        match self {
            Target::Kubeadm => Box::new(kubeadm::Kubeadm),
            Target::K3s => Box::new(k3s::K3s { rke2: false }),
            Target::Rke2 => Box::new(k3s::K3s { rke2: true }),
            Target::K0s => Box::new(k0s::K0s),
            Target::Kkp => Box::new(kkp::Kkp),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Target, String> {
        Target::ALL
            .iter()
            .copied()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown target {s:?}: use one of {}",
                    Target::ALL
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

/// The kubeadm API version to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, strum::VariantArray)]
pub enum KubeadmApi {
    /// `kubeadm.k8s.io/v1beta3`: extraArgs are mappings.
    V1beta3,
    /// `kubeadm.k8s.io/v1beta4`: extraArgs are lists of name/value entries.
    #[default]
    V1beta4,
}

impl KubeadmApi {
    /// Every version kube6 writes (derived).
    pub const ALL: &'static [KubeadmApi] = <KubeadmApi as strum::VariantArray>::VARIANTS;

    /// The short name `--kubeadm-api` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            KubeadmApi::V1beta3 => "v1beta3",
            KubeadmApi::V1beta4 => "v1beta4",
        }
    }
}

impl FromStr for KubeadmApi {
    type Err = String;
    fn from_str(s: &str) -> Result<KubeadmApi, String> {
        match s.trim() {
            "v1beta3" | "kubeadm.k8s.io/v1beta3" => Ok(KubeadmApi::V1beta3),
            "v1beta4" | "kubeadm.k8s.io/v1beta4" => Ok(KubeadmApi::V1beta4),
            other => Err(format!(
                "unknown kubeadm API {other:?}: use v1beta3 or v1beta4"
            )),
        }
    }
}

/// Something that turns a plan into files.
pub trait Renderer {
    /// A short name for messages ("kubeadm", "calico", "host files").
    fn name(&self) -> &'static str;
    fn render(&self, cx: &Context<'_>) -> Result<Rendered, RenderError>;
}

/// A distribution target: its files, and the one document `kube6 convert` writes.
pub trait TargetRenderer: Renderer {
    /// The document the target's own format is read from (kubeadm's init file, a k3s server's
    /// config.yaml, k0s.yaml, the KKP Cluster).
    fn document(&self, cx: &Context<'_>) -> Result<Rendered, RenderError>;
}

/// What to render.
#[derive(Debug, Clone)]
pub struct Request {
    pub target: Target,
    /// The CNI; the plan's when None.
    pub cni: Option<Cni>,
    pub kubeadm_api: KubeadmApi,
    /// The image of kube6 itself, for the workloads that run kube6 in the cluster (the NDP
    /// proxy's watch-mode DaemonSet). Required only where such a workload is rendered: kube6 has
    /// no published image, and a placeholder would leave the DaemonSet pulling forever.
    pub kube6_image: Option<String>,
}

/// Every file for `request`: the target's, the CNI's and the host files.
pub fn render(
    net: &ClusterNetwork,
    plan: &Plan,
    request: &Request,
) -> Result<Rendered, RenderError> {
    let mut cx = Context::new(
        net,
        plan,
        request.target.distribution(),
        request.cni,
        request.kubeadm_api,
    )?;
    cx.kube6_image = request.kube6_image.clone();
    let mut out = request.target.renderer().render(&cx)?;
    if let Some(cni) = cni::renderer(&cx) {
        out.extend(cni.render(&cx)?);
    }
    out.extend(exposure::Exposure.render(&cx)?);
    out.extend(host::HostFiles.render(&cx)?);
    nat64::render(&cx, &mut out);
    Ok(out)
}

/// The input format a target writes, if there is one.
pub fn target_of(format: Format) -> Option<Target> {
    match format {
        Format::Kubeadm => Some(Target::Kubeadm),
        Format::K3s | Format::K3sArgs => Some(Target::K3s),
        Format::Rke2 => Some(Target::Rke2),
        Format::K0s => Some(Target::K0s),
        Format::Kkp => Some(Target::Kkp),
        Format::Kube6 => None,
    }
}

/// The input format a target's files are read as.
pub fn format_of(target: Target) -> Format {
    match target {
        Target::Kubeadm => Format::Kubeadm,
        Target::K3s => Format::K3s,
        Target::Rke2 => Format::Rke2,
        Target::K0s => Format::K0s,
        Target::Kkp => Format::Kkp,
    }
}

/// `kube6 convert`: the cluster in `to`'s format, as one file's text (notes say what was
/// adapted). kube6's own format keeps the source distribution; the others become it.
pub fn convert(
    net: &ClusterNetwork,
    plan: &Plan,
    to: Format,
    kubeadm_api: KubeadmApi,
) -> Result<Rendered, RenderError> {
    match target_of(to) {
        Some(target) => {
            let cx = Context::new(net, plan, target.distribution(), None, kubeadm_api)?;
            target.renderer().document(&cx)
        }
        None => {
            let cx = Context::new(net, plan, plan.distribution, None, kubeadm_api)?;
            kube6::document(&cx)
        }
    }
}

#[cfg(test)]
mod target_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Every target (the list is derived) reads back from its name and renders a format.
    #[test]
    fn every_target_parses_from_its_name() {
        for target in Target::ALL {
            assert_eq!(target.as_str().parse::<Target>(), Ok(*target));
        }
        assert!(Target::ALL.contains(&Target::Kkp));
    }
}
