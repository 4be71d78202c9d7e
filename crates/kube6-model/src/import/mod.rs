//! Importers: one per input format, each turning documents into the canonical `ClusterNetwork`.
//!
//! Importers know about input formats and nothing else: they record values with their positions
//! and leave judging them to the rules. What they refuse is input whose shape they cannot read
//! (a list where a string belongs), which is a usage error (exit status 2).

mod calico;
pub mod cni;
mod coredns;
mod k0s;
mod k3s;
mod kkp;
mod kube6;
mod kubeadm;
pub mod walk;

use crate::defaults;
use crate::diagnostic::Diagnostic;
use crate::model::{ClusterNetwork, Cni, FeatureGate, Format};
use crate::source::Position;
use crate::yaml::{self, Node};

pub use k3s::parse_command_line;

/// The fields kube6's own format knows, per object (its JSON Schema must list the same).
pub fn kube6_fields() -> Vec<(&'static str, &'static [&'static str])> {
    kube6::FIELDS.to_vec()
}
pub use walk::ShapeError;

/// What the caller knows besides the file.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The format, when detection should not guess (`--format`).
    pub format: Option<Format>,
    /// Gates given on a command line in the real distribution (`k0s controller --feature-gates`).
    pub feature_gates: Vec<FeatureGate>,
    /// The CNI, for formats that do not name one (kubeadm) or to override it (`--cni`).
    pub cni: Option<Cni>,
}

/// Why a file could not be imported (exit status 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("{message}")]
    Yaml {
        pos: Option<Position>,
        message: String,
    },
    #[error("the file holds no YAML document; expected a cluster network configuration")]
    Empty,
    #[error(transparent)]
    Shape(#[from] ShapeError),
    #[error("{message}")]
    Format {
        pos: Option<Position>,
        message: String,
    },
}

impl ImportError {
    /// Where in the file the problem is, if known.
    pub fn pos(&self) -> Option<Position> {
        match self {
            ImportError::Yaml { pos, .. } | ImportError::Format { pos, .. } => *pos,
            ImportError::Shape(e) => e.pos,
            ImportError::Empty => None,
        }
    }
}

/// A cluster network read from a file, with the warnings found while reading it.
#[derive(Debug, Clone)]
pub struct Imported {
    pub network: ClusterNetwork,
    pub notes: Vec<Diagnostic>,
}

/// Reads `text` (the content of one file) as the format given or detected.
pub fn import(text: &str, options: &ImportOptions) -> Result<Imported, ImportError> {
    let mut notes = walk::Notes::default();
    let mut network = if options.format == Some(Format::K3sArgs) {
        k3s::import_command_line(text, &mut notes)?
    } else {
        let docs = yaml::parse_documents(text).map_err(|e| ImportError::Yaml {
            pos: e.pos,
            message: e.message,
        })?;
        match docs.as_slice() {
            [] => return Err(ImportError::Empty),
            // A k3s command line (`server --cluster-cidr ...`) reads as one YAML string.
            [doc] if options.format.is_none() && looks_like_command_line(doc) => {
                k3s::import_command_line(text, &mut notes)?
            }
            _ => import_documents(&docs, options, &mut notes)?,
        }
    };
    network
        .feature_gates
        .extend(options.feature_gates.iter().cloned());
    if let Some(cni) = options.cni {
        network.cni = crate::source::Located::new(cni, crate::source::Origin::input("--cni", None));
    }
    defaults::fill_ranges(&mut network);
    Ok(Imported {
        network,
        notes: notes.diagnostics,
    })
}

/// A document that is a single string starting like a k3s/RKE2 command line.
fn looks_like_command_line(doc: &Node) -> bool {
    let crate::yaml::Kind::Str(text) = &doc.kind else {
        return false;
    };
    let first = text.split_whitespace().next().unwrap_or_default();
    matches!(first, "server" | "agent" | "k3s" | "rke2")
        || first.starts_with("--")
        || first.ends_with("/k3s")
        // The install script's line, as guides give it (curl ... | INSTALL_K3S_EXEC="..." sh -).
        || text.contains("INSTALL_K3S_EXEC=")
}

/// The kind of a document, from its apiVersion and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DocKind {
    Kube6,
    K0s,
    Kubeadm,
    Kubelet,
    KubeProxy,
    Kkp,
    CalicoPool,
    CalicoInstallation,
    K3sConfig,
    /// Cilium's Helm values (a document without kind).
    CiliumValues,
    /// flannel's net-conf.json.
    FlannelNetConf,
    /// A CNI network configuration (`*.conflist`).
    CniConf,
    /// A ConfigMap of a CNI (canal-config, kube-flannel-cfg, cilium-config).
    ConfigMap,
    /// A CNI's DaemonSet, or a strategic-merge patch of one.
    DaemonSet,
    /// A HelmChartConfig/HelmChart of one of RKE2's bundled CNI charts.
    HelmChartConfig,
}

impl DocKind {
    /// Documents that configure the CNI rather than the cluster.
    fn is_cni(self) -> bool {
        matches!(
            self,
            DocKind::CalicoPool
                | DocKind::CalicoInstallation
                | DocKind::CiliumValues
                | DocKind::FlannelNetConf
                | DocKind::CniConf
                | DocKind::ConfigMap
                | DocKind::DaemonSet
                | DocKind::HelmChartConfig
        )
    }
}

/// Whether every document of `text` configures a CNI (Calico pools, Cilium values, a net-conf.json,
/// a CNI's ConfigMap or DaemonSet, ...) and none describes a cluster: such a file accompanies a
/// cluster configuration (`kube6 validate cluster.yaml cilium-values.yaml`).
pub fn holds_only_cni_documents(text: &str) -> Result<bool, ImportError> {
    let docs = yaml::parse_documents(text).map_err(|e| ImportError::Yaml {
        pos: e.pos,
        message: e.message,
    })?;
    if docs.is_empty() {
        return Ok(false);
    }
    Ok(docs
        .iter()
        .all(|d| doc_kind(d, None).is_ok_and(DocKind::is_cni)))
}

/// Every kind kube6 reads, with the API versions the component that reads it accepts; another
/// version of a known group is refused, as the component refuses it.
///
/// - kube6.dev: kube6's own format (`kube6 schema`).
/// - k0s.k0sproject.io: the ClusterConfig CRD serves v1beta1 only (k0sproject/k0s
///   static/_crds/k0s/k0s.k0sproject.io_clusterconfigs.yaml).
/// - kubeadm.k8s.io: v1beta3 and v1beta4 (older versions are no longer read by kubeadm).
/// - kubelet.config.k8s.io v1beta1 and kubeproxy.config.k8s.io v1alpha1: the component configs
///   kubeadm passes on (kubernetes/kubernetes cmd/kubeadm/app/componentconfigs/kubelet.go and
///   kubeproxy.go import k8s.io/kubelet/config/v1beta1 and k8s.io/kube-proxy/config/v1alpha1).
/// - kubermatic.k8c.io: the Cluster CRD serves v1 (kubermatic/kubermatic
///   pkg/crd/k8c.io/kubermatic.k8c.io_clusters.yaml).
/// - Calico: IPPool projectcalico.org/v3 (calicoctl, the API server) and
///   crd.projectcalico.org/v1 (the CRD); the operator's Installation operator.tigera.io/v1.
const KINDS: &[(&str, &str, &[&str], DocKind, &str)] = &[
    (
        "kube6.dev",
        "ClusterNetwork",
        &["v1alpha1"],
        DocKind::Kube6,
        "kube6",
    ),
    (
        "k0s.k0sproject.io",
        "ClusterConfig",
        &["v1beta1"],
        DocKind::K0s,
        "k0s",
    ),
    (
        "kubeadm.k8s.io",
        "InitConfiguration",
        &["v1beta3", "v1beta4"],
        DocKind::Kubeadm,
        "kubeadm",
    ),
    (
        "kubeadm.k8s.io",
        "ClusterConfiguration",
        &["v1beta3", "v1beta4"],
        DocKind::Kubeadm,
        "kubeadm",
    ),
    (
        "kubeadm.k8s.io",
        "JoinConfiguration",
        &["v1beta3", "v1beta4"],
        DocKind::Kubeadm,
        "kubeadm",
    ),
    (
        "kubelet.config.k8s.io",
        "KubeletConfiguration",
        &["v1beta1"],
        DocKind::Kubelet,
        "kubeadm",
    ),
    (
        "kubeproxy.config.k8s.io",
        "KubeProxyConfiguration",
        &["v1alpha1"],
        DocKind::KubeProxy,
        "kubeadm",
    ),
    (
        "kubermatic.k8c.io",
        "Cluster",
        &["v1"],
        DocKind::Kkp,
        "Kubermatic",
    ),
    (
        "projectcalico.org",
        "IPPool",
        &["v3"],
        DocKind::CalicoPool,
        "Calico",
    ),
    (
        "crd.projectcalico.org",
        "IPPool",
        &["v1"],
        DocKind::CalicoPool,
        "Calico",
    ),
    (
        "operator.tigera.io",
        "Installation",
        &["v1"],
        DocKind::CalicoInstallation,
        "the Tigera operator",
    ),
    // A CNI's ConfigMap and DaemonSet (core v1, apps/v1), an RKE2 chart's HelmChartConfig or
    // HelmChart (helm.cattle.io/v1, k3s-io/helm-controller pkg/crds).
    ("", "ConfigMap", &["v1"], DocKind::ConfigMap, "Kubernetes"),
    (
        "apps",
        "DaemonSet",
        &["v1"],
        DocKind::DaemonSet,
        "Kubernetes",
    ),
    (
        "helm.cattle.io",
        "HelmChartConfig",
        &["v1"],
        DocKind::HelmChartConfig,
        "helm-controller",
    ),
    (
        "helm.cattle.io",
        "HelmChart",
        &["v1"],
        DocKind::HelmChartConfig,
        "helm-controller",
    ),
];

/// The main kind of a format, for a document that names none (`--format`).
fn main_kind(format: Format) -> Option<DocKind> {
    match format {
        Format::Kube6 => Some(DocKind::Kube6),
        Format::K0s => Some(DocKind::K0s),
        Format::Kkp => Some(DocKind::Kkp),
        Format::K3s | Format::Rke2 => Some(DocKind::K3sConfig),
        // kubeadm tells its documents apart by kind and refuses one without ("kind and
        // apiVersion is mandatory information that must be specified", SplitConfigDocuments).
        Format::Kubeadm | Format::K3sArgs => None,
    }
}

fn doc_kind(doc: &Node, forced: Option<Format>) -> Result<DocKind, ImportError> {
    let api = doc.get("apiVersion").and_then(Node::scalar_text);
    let kind = doc.get("kind").and_then(Node::scalar_text);
    let (Some(api), Some(kind)) = (api, kind) else {
        // Documents without kind, by shape; the CNI shapes have keys k3s never uses.
        if cni::looks_like_cilium_values(doc) {
            return Ok(DocKind::CiliumValues);
        }
        if cni::looks_like_net_conf(doc) {
            return Ok(DocKind::FlannelNetConf);
        }
        if cni::looks_like_cni_conf(doc) {
            return Ok(DocKind::CniConf);
        }
        if doc.as_map().is_some() && k3s::looks_like_config(doc) {
            return Ok(DocKind::K3sConfig);
        }
        // Excerpts in guides leave apiVersion and kind out; --format says what the document is.
        if let Some(format) = forced
            && doc.as_map().is_some()
            && doc.get("apiVersion").is_none()
        {
            return main_kind(format).ok_or_else(|| ImportError::Format {
                pos: Some(doc.pos),
                message: "kubeadm needs apiVersion and kind in every document (kubeadm refuses a \
                          document without them); add them, e.g. apiVersion: \
                          kubeadm.k8s.io/v1beta4 and kind: ClusterConfiguration"
                    .into(),
            });
        }
        return Err(ImportError::Format {
            pos: Some(doc.pos),
            message: "cannot tell the format: the document has no apiVersion/kind, no k3s/RKE2 \
                      config keys and is no Cilium values file, net-conf.json or CNI \
                      configuration; pass --format kube6|k0s|kubeadm|k3s|rke2|k3s-args|kkp"
                .into(),
        });
    };
    let (group, version) = api.split_once('/').unwrap_or(("", api.as_str()));
    let known_group = KINDS.iter().any(|(g, ..)| *g == group);
    let entry = KINDS.iter().find(|(g, k, ..)| *g == group && *k == kind);
    match entry {
        Some((_, _, versions, doc_kind, _)) if versions.contains(&version) => Ok(*doc_kind),
        Some((_, _, versions, _, reader)) => {
            let known = versions
                .iter()
                .map(|v| {
                    if group.is_empty() {
                        v.to_string()
                    } else {
                        format!("{group}/{v}")
                    }
                })
                .collect::<Vec<_>>()
                .join(" or ");
            let refused = match (*reader, group) {
                ("kube6", _) => String::new(),
                (_, "kubeadm.k8s.io") => "; kubeadm refuses the file: convert it with \
                                          `kubeadm config migrate`"
                    .to_string(),
                _ => format!("; {reader} refuses the file"),
            };
            Err(ImportError::Format {
                pos: doc.get("apiVersion").map(|n| n.pos),
                message: format!(
                    "{api} is not a version of {kind}: {reader} reads {known}{refused}"
                ),
            })
        }
        None if known_group => Err(ImportError::Format {
            pos: doc.get("kind").map(|n| n.pos),
            message: format!(
                "{} has no kind {kind} that kube6 reads; it reads {}",
                if group.is_empty() {
                    api.as_str()
                } else {
                    group
                },
                KINDS
                    .iter()
                    .filter(|(g, ..)| *g == group)
                    .map(|(_, k, ..)| *k)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
        None => Err(ImportError::Format {
            pos: doc.get("kind").map(|n| n.pos),
            message: format!(
                "kube6 does not read {kind} documents of {api}; it reads kube6.dev ClusterNetwork, \
                 k0s ClusterConfig, kubeadm (v1beta3/v1beta4), KubeletConfiguration, \
                 KubeProxyConfiguration, k3s/RKE2 config.yaml, Kubermatic Cluster, and CNI configuration: \
                 Calico IPPool/Installation, CNI ConfigMaps and DaemonSets, RKE2 HelmChartConfigs, \
                 Cilium values, net-conf.json, CNI network configurations"
            ),
        }),
    }
}

/// kubeadm reads each kind once and refuses a file that repeats one, whatever the versions
/// (kubernetes/kubernetes cmd/kubeadm/app/util/marshal.go, SplitConfigDocuments: "invalid
/// configuration: kind %q is specified twice in YAML file"); the last one does not win.
fn refuse_repeated_kinds(docs: &[Node], main: &[(usize, DocKind)]) -> Result<(), ImportError> {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for &(i, _) in main {
        let kind = docs[i]
            .get("kind")
            .and_then(Node::scalar_text)
            .unwrap_or_default();
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == kind) {
            return Err(ImportError::Format {
                pos: docs[i].get("kind").map(|n| n.pos),
                message: format!(
                    "kind {kind} is specified twice (documents {} and {}); kubeadm refuses such a \
                     file rather than pick one: merge them into one",
                    first + 1,
                    i + 1
                ),
            });
        }
        seen.push((kind, i));
    }
    Ok(())
}

fn import_documents(
    docs: &[Node],
    options: &ImportOptions,
    notes: &mut walk::Notes,
) -> Result<ClusterNetwork, ImportError> {
    let forced = options.format;
    if let Some(format @ (Format::K3s | Format::Rke2)) = forced {
        let [doc] = docs else {
            return Err(ImportError::Format {
                pos: docs.get(1).map(|d| d.pos),
                message: format!(
                    "a {format} config.yaml is one document; this file has {}",
                    docs.len()
                ),
            });
        };
        return Ok(k3s::import_config(doc, format, notes)?);
    }
    let kinds = docs
        .iter()
        .map(|d| doc_kind(d, forced))
        .collect::<Result<Vec<_>, _>>()?;
    let main_kinds: Vec<(usize, DocKind)> = kinds
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, k)| !k.is_cni())
        .collect();
    let Some(&(first_index, first_kind)) = main_kinds.first() else {
        return Err(ImportError::Format {
            pos: Some(docs[0].pos),
            message: "the file holds only CNI documents; add the cluster's configuration \
                      (a kube6 ClusterNetwork, k0s ClusterConfig, kubeadm, k3s or KKP document)"
                .into(),
        });
    };
    let family_of = |k: DocKind| match k {
        DocKind::Kubeadm | DocKind::Kubelet | DocKind::KubeProxy => Format::Kubeadm,
        DocKind::Kube6 => Format::Kube6,
        DocKind::K0s => Format::K0s,
        DocKind::Kkp => Format::Kkp,
        DocKind::K3sConfig => Format::K3s,
        _ => Format::Kube6,
    };
    let mut format = family_of(first_kind);
    // RKE2's config.yaml is k3s's plus a few keys of its own; `cni` is the one that tells.
    if first_kind == DocKind::K3sConfig && docs[first_index].get("cni").is_some() {
        format = Format::Rke2;
    }
    if let Some(wanted) = forced
        && wanted != format
        && !(wanted == Format::Rke2 && format == Format::K3s)
    {
        return Err(ImportError::Format {
            pos: Some(docs[first_index].pos),
            message: format!("--format {wanted} was given, but the document is {format}"),
        });
    }
    for &(i, k) in &main_kinds[1..] {
        if family_of(k) != family_of(first_kind)
            || matches!(
                k,
                DocKind::Kube6 | DocKind::K0s | DocKind::Kkp | DocKind::K3sConfig
            )
        {
            return Err(ImportError::Format {
                pos: Some(docs[i].pos),
                message: format!(
                    "document {} describes another cluster configuration ({}); kube6 reads one cluster per file",
                    i + 1,
                    family_of(k)
                ),
            });
        }
    }
    if format == Format::Kubeadm {
        refuse_repeated_kinds(docs, &main_kinds)?;
    }
    let main_docs: Vec<(&Node, DocKind)> = main_kinds.iter().map(|&(i, k)| (&docs[i], k)).collect();
    let mut network = match format {
        Format::Kube6 => kube6::import(main_docs[0].0, notes)?,
        Format::K0s => k0s::import(main_docs[0].0, notes)?,
        Format::Kkp => kkp::import(main_docs[0].0, notes)?,
        Format::K3s | Format::Rke2 | Format::K3sArgs => {
            k3s::import_config(main_docs[0].0, format, notes)?
        }
        Format::Kubeadm => kubeadm::import(&main_docs, notes)?,
    };
    for (doc, kind) in docs.iter().zip(&kinds) {
        match kind {
            DocKind::CalicoPool => calico::import_pool(doc, &mut network, notes)?,
            DocKind::CalicoInstallation => calico::import_installation(doc, &mut network, notes)?,
            DocKind::CiliumValues => cni::import_cilium_values(doc, "", &mut network, notes)?,
            DocKind::FlannelNetConf => cni::import_net_conf(doc, "", &mut network, notes)?,
            DocKind::CniConf => cni::import_cni_conf(doc, "", &mut network)?,
            DocKind::ConfigMap => cni::import_config_map(doc, &mut network, notes)?,
            DocKind::DaemonSet => cni::import_daemon_set(doc, &mut network)?,
            DocKind::HelmChartConfig => cni::import_helm_chart_config(doc, &mut network, notes)?,
            _ => {}
        }
    }
    Ok(network)
}
