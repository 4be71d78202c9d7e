//! Reading what `kubectl get` prints: `-o json` (a v1 `List`, a list of one kind such as
//! `NodeList`, the API server's answer to a list request, or a single object; several documents
//! one after the other, as `cat` joins them) and `-o yaml` (the same, with `---` between
//! documents). A UTF-8 byte-order mark is skipped; UTF-16 and UTF-32 are refused with a way to
//! write a usable dump.
//!
//! Only the fields the checks need are kept; everything else is skipped while parsing, so a dump
//! of a large cluster costs little more memory than its own bytes.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::encoding::{self, Foreign, Sniffed, Syntax};
use crate::snapshot::{
    Addr, CalicoBlock, CalicoPool, Cidr, CiliumNode, CiliumPool, EndpointSlice, LbPoolObject, Node,
    NodeAddress, Pod, PodPhase, Service, ServiceCidr, Snapshot,
};

/// The largest YAML dump read: YAML is parsed whole (JSON dumps of any size are streamed).
pub const MAX_YAML_BYTES: usize = 1 << 30;
/// The most YAML documents in one dump.
pub const MAX_YAML_DOCUMENTS: usize = 100_000;
/// The deepest nesting of a YAML dump (Kubernetes objects, managedFields included, stay far below).
pub const MAX_YAML_DEPTH: usize = 256;

/// What `kubectl` command makes a usable dump, for messages.
pub const DUMP_COMMAND: &str = "kubectl get nodes,pods,services,endpointslices -A -o json";

/// A dump that could not be read as Kubernetes objects.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// Not JSON or YAML, or of the wrong shape.
    #[error("line {line}, column {column}: {reason}")]
    Syntax {
        line: usize,
        column: usize,
        reason: String,
    },
    /// Not JSON or YAML, where the parser cannot say where.
    #[error("{0}")]
    Invalid(String),
    /// Valid, but not a Kubernetes object or list.
    #[error("{0}")]
    NotKubernetes(String),
    /// Nothing but white space.
    #[error("the input is empty; expected the output of `{DUMP_COMMAND}` (or -o yaml)")]
    Empty,
    /// Text in an encoding kube6 does not read.
    #[error("the input is {}, not UTF-8: {}", .0.describe(), .0.advice())]
    Encoding(Foreign),
    /// A YAML dump larger than kube6 parses whole.
    #[error(
        "the YAML dump is larger than {} MiB; write the dump with -o json, which kube6 reads in a stream whatever its size",
        MAX_YAML_BYTES >> 20
    )]
    TooLarge,
}

impl DumpError {
    fn from_json(err: serde_json::Error) -> DumpError {
        // serde_json appends " at line L column C"; keep the reason alone, in Kubernetes terms
        // rather than the names of kube6's own types ("expected struct RawObject").
        let text = err.to_string();
        let reason = match text.rfind(" at line ") {
            Some(i) => text[..i].to_string(),
            None => text,
        };
        let reason = kubernetes_terms(&reason);
        DumpError::Syntax {
            line: err.line(),
            column: err.column(),
            reason,
        }
    }

    fn from_yaml(err: serde_saphyr::Error) -> DumpError {
        let location = err
            .location()
            .map(|l| (l.line() as usize, l.column() as usize))
            .filter(|(line, _)| *line > 0);
        // serde-saphyr starts with "error: line L column C: "; the position is printed once.
        let first = err.to_string();
        let first = first.lines().next().unwrap_or_default();
        let mut reason = first.trim_start_matches("error: ").to_string();
        if let Some((head, rest)) = reason.split_once(": ")
            && head.starts_with("line ")
        {
            reason = rest.to_string();
        }
        if let Some(i) = reason.find(" at line ") {
            reason.truncate(i);
        }
        // In the words of the input, not advice to programmers ("set DuplicateKeyPolicy in
        // Options if acceptable"), nor kube6's type names.
        if let serde_saphyr::Error::DuplicateMappingKey { key, .. } = err.without_snippet() {
            reason = match key {
                Some(key) => format!("duplicate key `{key}`: a mapping holds each key once"),
                None => "duplicate key: a mapping holds each key once".to_string(),
            };
        }
        reason = kubernetes_terms(&reason);
        if reason.starts_with("budget breached") {
            reason = format!(
                "refused: {reason}; kubectl never writes such YAML (aliases, deep nesting or \
                 more than {MAX_YAML_DOCUMENTS} documents)"
            );
        }
        match location {
            Some((line, column)) => DumpError::Syntax {
                line,
                column,
                reason,
            },
            None => DumpError::Invalid(reason),
        }
    }
}

/// A parser's message with kube6's internal type names said in Kubernetes terms.
fn kubernetes_terms(reason: &str) -> String {
    let mut out = reason.to_string();
    for (internal, words) in [
        ("struct RawObject", "a Kubernetes object"),
        ("struct RawMeta", "an object's metadata"),
        ("struct RawSpec", "an object's spec"),
        ("struct RawStatus", "an object's status"),
        ("struct RawNodeAddress", "a node address"),
        ("struct RawPodIp", "a pod IP"),
        (
            "struct RawLoadBalancerStatus",
            "a Service's load-balancer status",
        ),
        (
            "struct RawLoadBalancerIngress",
            "a load-balancer ingress entry",
        ),
        ("struct RawCiliumIpam", "Cilium's IPAM settings"),
        ("struct RawCiliumPools", "Cilium's pools"),
        ("struct RawCiliumAllocation", "a Cilium pool allocation"),
        ("struct RawCiliumPoolFamily", "a Cilium pool family"),
        ("struct Labels", "labels"),
    ] {
        out = out.replace(internal, words);
    }
    out
}

/// Whether the start of an input already shows it is no dump: an encoding kube6 does not read,
/// binary data, or text whose first line is neither JSON nor a YAML mapping (kubectl's output
/// starts with `{`, `apiVersion:`, `items:`, `kind:` or `---`). None: it may be one.
pub fn not_a_dump(head: &[u8]) -> Option<DumpError> {
    let (skip, syntax) = match encoding::sniff(head) {
        Sniffed::Text { skip, syntax } => (skip, syntax),
        Sniffed::Empty => return None,
        Sniffed::Foreign(foreign) => return Some(DumpError::Encoding(foreign)),
    };
    let text = &head[skip..];
    // Binary: a NUL byte before any invalid UTF-8 (which the parser places by line and column).
    let valid_up_to = std::str::from_utf8(text).map_or_else(|e| e.valid_up_to(), |_| text.len());
    if let Some(nul) = text[..valid_up_to].iter().position(|b| *b == 0) {
        return Some(DumpError::Invalid(format!(
            "binary data (a NUL byte at offset {nul}); expected the output of `{DUMP_COMMAND}`"
        )));
    }
    if syntax == Syntax::Json {
        return None;
    }
    let mut lines = text[..valid_up_to]
        .split(|b| *b == b'\n')
        .enumerate()
        .peekable();
    while let Some((index, line)) = lines.next() {
        // A line cut off by invalid UTF-8: the parser places the error.
        if lines.peek().is_none() && valid_up_to < text.len() {
            return None;
        }
        let line = line.trim_ascii();
        if line.is_empty() || line.starts_with(b"#") {
            continue;
        }
        let mapping = line.starts_with(b"---")
            || line.starts_with(b"%")
            || line.iter().position(|b| *b == b':').is_some_and(|colon| {
                line[..colon]
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'"' | b'\''))
            });
        if mapping {
            return None;
        }
        let shown: String = String::from_utf8_lossy(&line[..line.len().min(40)]).into_owned();
        return Some(DumpError::Syntax {
            line: index + 1,
            column: 1,
            reason: format!(
                "{shown:?} is neither JSON nor a YAML mapping; expected the output of `{DUMP_COMMAND}`"
            ),
        });
    }
    None
}

/// Parses a whole dump (JSON or YAML, one document or several) into a snapshot.
pub fn parse(bytes: &[u8]) -> Result<Snapshot, DumpError> {
    if let Some(refused) = not_a_dump(&bytes[..bytes.len().min(64 << 10)]) {
        return Err(refused);
    }
    let (skip, syntax) = match encoding::sniff(bytes) {
        Sniffed::Text { skip, syntax } => (skip, syntax),
        Sniffed::Empty => return Err(DumpError::Empty),
        Sniffed::Foreign(foreign) => return Err(DumpError::Encoding(foreign)),
    };
    let bytes = &bytes[skip..];
    let mut snapshot = Snapshot::default();
    match syntax {
        Syntax::Json => {
            for doc in serde_json::Deserializer::from_slice(bytes).into_iter::<RawObject>() {
                add_document(&mut snapshot, doc.map_err(DumpError::from_json)?)?;
            }
        }
        Syntax::Yaml => {
            if bytes.len() > MAX_YAML_BYTES {
                return Err(DumpError::TooLarge);
            }
            if let Err(e) = std::str::from_utf8(bytes) {
                let at = e.valid_up_to();
                let before = &bytes[..at];
                let line = before.iter().filter(|b| **b == b'\n').count() + 1;
                let column = at
                    - before
                        .iter()
                        .rposition(|b| *b == b'\n')
                        .map_or(0, |i| i + 1)
                    + 1;
                return Err(DumpError::Syntax {
                    line,
                    column,
                    reason: format!(
                        "not UTF-8 text (byte 0x{:02x}); expected the output of `{DUMP_COMMAND}`",
                        bytes[at]
                    ),
                });
            }
            let docs: Vec<Option<RawObject>> =
                serde_saphyr::from_slice_multiple_with_options(bytes, yaml_options())
                    .map_err(DumpError::from_yaml)?;
            let mut any = false;
            for doc in docs.into_iter().flatten() {
                any = true;
                add_document(&mut snapshot, doc)?;
            }
            if !any {
                return Err(DumpError::Empty);
            }
        }
    }
    Ok(snapshot)
}

/// serde-saphyr's limits for dumps: room for clusters of any size kubectl prints, none for
/// alias bombs (kubectl never writes anchors or aliases).
fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_YAML_DEPTH;
    budget.max_documents = MAX_YAML_DOCUMENTS;
    budget.max_reader_input_bytes = Some(MAX_YAML_BYTES);
    // A node or event takes at least two bytes of input: these follow from the size limit.
    budget.max_nodes = MAX_YAML_BYTES / 2;
    budget.max_events = MAX_YAML_BYTES;
    budget.max_total_scalar_bytes = MAX_YAML_BYTES;
    budget.max_aliases = 0;
    budget.max_anchors = 0;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.with_snippet = false;
    options
}

/// Adds one top-level document: a list (its items) or a single object.
pub(crate) fn add_document(snapshot: &mut Snapshot, doc: RawObject) -> Result<(), DumpError> {
    match doc.items {
        Some(items) => {
            // `NodeList` → `Node`; kubectl's `List` names the kind on every item.
            let list_kind = doc.kind.as_deref().unwrap_or("");
            let item_kind = list_kind.strip_suffix("List").unwrap_or("");
            let api_version = doc.api_version.as_deref().unwrap_or("");
            for item in items {
                add(snapshot, item, item_kind, api_version);
            }
            Ok(())
        }
        None if doc.kind.is_some() => {
            add(snapshot, doc, "", "");
            Ok(())
        }
        None => Err(DumpError::NotKubernetes(format!(
            "neither a Kubernetes object (no \"kind\") nor a list (no \"items\"); expected the \
             output of `{DUMP_COMMAND}`"
        ))),
    }
}

/// Parses one page of a list of `kind` (the API server leaves `kind` off the items) and returns
/// the `metadata.continue` token for the next page.
pub fn parse_page(
    bytes: &[u8],
    kind: &str,
    api_version: &str,
    into: &mut Snapshot,
) -> Result<Option<String>, DumpError> {
    let doc: RawObject = serde_json::from_slice(bytes).map_err(DumpError::from_json)?;
    let token = doc
        .metadata
        .as_ref()
        .and_then(|m| m.continue_.clone())
        .filter(|t| !t.is_empty());
    for item in doc.items.unwrap_or_default() {
        add(into, item, kind, api_version);
    }
    Ok(token)
}

/// The API group of an `apiVersion` (`crd.projectcalico.org/v1` → `crd.projectcalico.org`;
/// the core group `v1` → "").
fn group(api_version: &str) -> &str {
    api_version.split_once('/').map_or("", |(g, _)| g)
}

/// Adds one object; `default_kind` and `default_api_version` come from the list around it, for
/// items that do not name their own (the API server's list answers).
pub(crate) fn add(
    snapshot: &mut Snapshot,
    item: RawObject,
    default_kind: &str,
    default_api_version: &str,
) {
    let kind = item.kind.as_deref().unwrap_or(default_kind);
    // An object without any apiVersion (hand-made) is taken by its kind alone where the kind is
    // unambiguous; `IPPool` is not (Calico, whereabouts, kube-ovn each have one).
    let api_version = item
        .api_version
        .as_deref()
        .or(Some(default_api_version).filter(|v| !v.is_empty()));
    let group = match api_version {
        Some(v) => group(v),
        None if kind == "EndpointSlice" => "discovery.k8s.io",
        None if kind == "IPAMBlock" => "crd.projectcalico.org",
        None if kind.starts_with("Cilium") => "cilium.io",
        None => "",
    };
    let meta = item.metadata.unwrap_or_default();
    let spec = item.spec.unwrap_or_default();
    let status = item.status.unwrap_or_default();
    let name = meta.name.unwrap_or_default();
    match (group, kind) {
        ("", "Node") => {
            let mut pod_cidrs = spec.pod_cidrs.unwrap_or_default();
            if pod_cidrs.is_empty()
                && let Some(one) = spec.pod_cidr
            {
                pod_cidrs.push(one);
            }
            snapshot.nodes.push(Node {
                name,
                addresses: status
                    .addresses
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| NodeAddress {
                        kind: a.type_.unwrap_or_default(),
                        address: a.address.unwrap_or_default(),
                    })
                    .collect(),
                pod_cidrs,
            });
        }
        ("", "Pod") => {
            let mut pod_ips: Vec<Addr> = status
                .pod_ips
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| p.ip)
                .collect();
            if pod_ips.is_empty()
                && let Some(one) = status.pod_ip
            {
                pod_ips.push(one);
            }
            snapshot.pods.push(Pod {
                namespace: meta.namespace.unwrap_or_default(),
                name,
                node_name: spec.node_name.filter(|n| !n.is_empty()),
                host_network: spec.host_network.unwrap_or(false),
                phase: match status.phase.as_deref() {
                    Some("Pending") => PodPhase::Pending,
                    Some("Running") => PodPhase::Running,
                    Some("Succeeded" | "Failed") => PodPhase::Finished,
                    _ => PodPhase::Unknown,
                },
                pod_ips,
            });
        }
        ("", "Service") => snapshot.services.push(Service {
            namespace: meta.namespace.unwrap_or_default(),
            name,
            type_: spec.type_,
            cluster_ip: spec.cluster_ip,
            cluster_ips: spec.cluster_ips.unwrap_or_default(),
            ip_families: spec.ip_families.unwrap_or_default(),
            ip_family_policy: spec.ip_family_policy,
            has_selector: spec.selector.is_some(),
            app_label: meta.labels.app,
            load_balancer_ips: status
                .load_balancer
                .iter()
                .flat_map(|lb| lb.ingress.iter().flatten())
                .filter_map(|i| i.ip.clone())
                .collect(),
            load_balancer_hostnames: status
                .load_balancer
                .iter()
                .flat_map(|lb| lb.ingress.iter().flatten())
                .filter_map(|i| i.hostname.clone())
                .collect(),
            load_balancer_class: spec.load_balancer_class.0.filter(|c| !c.is_empty()),
            load_balancer_requests: spec
                .load_balancer_ip
                .0
                .filter(|ip| !ip.is_empty())
                .map(|ip| ("spec.loadBalancerIP".to_string(), ip))
                .into_iter()
                .chain(meta.annotations.0)
                .collect(),
        }),
        // metallb/metallb api/v1beta1/ipaddresspool_types.go: `autoAssign` (default true) and
        // `serviceAllocation` (namespaces, namespaceSelectors, serviceSelectors).
        ("metallb.io", "IPAddressPool") => {
            let allocation = spec.service_allocation.filter(|a| !a.is_null());
            let list = |key: &str| -> Vec<serde_json::Value> {
                allocation
                    .as_ref()
                    .and_then(|a| a.get(key))
                    .and_then(|v| v.as_array())
                    .cloned()
                    .unwrap_or_default()
            };
            snapshot.lb_pools.push(LbPoolObject {
                kind: "IPAddressPool".to_string(),
                name,
                auto_assign: spec
                    .auto_assign
                    .as_ref()
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(true),
                disabled: false,
                restricted: allocation.is_some(),
                namespaces: list("namespaces")
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_string))
                    .collect(),
                selects_by_label: !list("namespaceSelectors").is_empty()
                    || !list("serviceSelectors").is_empty(),
            });
        }
        // cilium/cilium pkg/k8s/apis/cilium.io/v2 lbipam_types.go: `disabled`, and
        // `serviceSelector` (none: every Service).
        ("cilium.io", "CiliumLoadBalancerIPPool") => {
            let selects = spec.service_selector.is_some_and(|s| !s.is_null());
            snapshot.lb_pools.push(LbPoolObject {
                kind: "CiliumLoadBalancerIPPool".to_string(),
                name,
                auto_assign: true,
                disabled: spec.disabled.unwrap_or(false),
                restricted: selects,
                namespaces: Vec::new(),
                selects_by_label: selects,
            });
        }
        ("discovery.k8s.io", "EndpointSlice") => snapshot.endpoint_slices.push(EndpointSlice {
            namespace: meta.namespace.unwrap_or_default(),
            name,
            service_name: meta.labels.service_name,
            address_type: item.address_type,
        }),
        // Calico's own API (projectcalico.org/v3, served by its API server) and the CRDs it
        // stores them in (crd.projectcalico.org/v1); libcalico-go api/pkg/apis/projectcalico/v3.
        ("crd.projectcalico.org" | "projectcalico.org", "IPPool") => {
            snapshot.cni.calico_pools.push(CalicoPool {
                name,
                cidr: spec.cidr.unwrap_or_default(),
                block_size: spec.block_size.and_then(|b| u8::try_from(b).ok()),
                disabled: spec.disabled.unwrap_or(false),
            })
        }
        ("crd.projectcalico.org", "IPAMBlock") => snapshot.cni.calico_blocks.push(CalicoBlock {
            name,
            cidr: spec.cidr.unwrap_or_default(),
            // libcalico-go: affinity is "host:<node>" for blocks claimed by a node.
            node: spec
                .affinity
                .0
                .and_then(|a| a.strip_prefix("host:").map(str::to_string)),
        }),
        // cilium/cilium pkg/k8s/apis/cilium.io/v2 CiliumNode, pkg/ipam/types IPAMSpec.
        ("cilium.io", "CiliumNode") => {
            let ipam = spec.ipam.unwrap_or_default();
            snapshot.cni.cilium_nodes.push(CiliumNode {
                name,
                pod_cidrs: ipam.pod_cidrs.unwrap_or_default(),
                pool_cidrs: ipam
                    .pools
                    .and_then(|p| p.allocated)
                    .unwrap_or_default()
                    .into_iter()
                    .flat_map(|a| {
                        let pool = a.pool.unwrap_or_default();
                        a.cidrs
                            .unwrap_or_default()
                            .into_iter()
                            .map(move |c| (pool.clone(), c))
                    })
                    .collect(),
            });
        }
        // cilium/cilium pkg/k8s/apis/cilium.io/v2alpha1 CiliumPodIPPool (multi-pool IPAM).
        ("cilium.io", "CiliumPodIPPool") => {
            let v4 = spec.ipv4.unwrap_or_default();
            let v6 = spec.ipv6.unwrap_or_default();
            let mask = |m: Option<u32>| m.and_then(|m| u8::try_from(m).ok());
            snapshot.cni.cilium_pools.push(CiliumPool {
                name,
                ipv4_mask: mask(v4.mask_size),
                ipv6_mask: mask(v6.mask_size),
                cidrs: v4
                    .cidrs
                    .unwrap_or_default()
                    .into_iter()
                    .chain(v6.cidrs.unwrap_or_default())
                    .collect(),
            });
        }
        // kubernetes/kubernetes staging/src/k8s.io/api/networking/v1 (GA in 1.33) and v1beta1
        // (1.31, 1.32): spec.cidrs, the Ready condition, and deletion held by a finalizer.
        ("networking.k8s.io", "ServiceCIDR") => {
            let ready = status
                .conditions
                .and_then(Lenient::into_value)
                .unwrap_or_default()
                .into_iter()
                .find(|c| c.type_.as_deref() == Some("Ready"));
            snapshot.service_cidrs.push(ServiceCidr {
                name,
                cidrs: spec.cidrs.and_then(Lenient::into_value).unwrap_or_default(),
                deleting: meta.deletion_timestamp.is_some(),
                ready: ready
                    .as_ref()
                    .and_then(|c| c.status.as_deref())
                    .and_then(|s| match s {
                        "True" => Some(true),
                        "False" => Some(false),
                        _ => None,
                    }),
                reason: ready.and_then(|c| c.reason).filter(|r| !r.is_empty()),
            });
        }
        _ => snapshot.ignore(kind),
    }
}

/// A field some kinds share a name for with another shape (Cilium's old LB pools have
/// `spec.cidrs` of objects, ServiceCIDR of strings): the shape wanted, or nothing, never an
/// error for an object of another kind.
#[derive(Deserialize)]
#[serde(untagged)]
enum Lenient<T> {
    Value(T),
    Other(IgnoredAny),
}

impl<T> Lenient<T> {
    fn into_value(self) -> Option<T> {
        match self {
            Lenient::Value(v) => Some(v),
            Lenient::Other(_) => None,
        }
    }
}

/// A `metav1.Condition` (ServiceCIDR status).
#[derive(Deserialize)]
struct RawCondition {
    #[serde(rename = "type")]
    type_: Option<String>,
    status: Option<String>,
    reason: Option<String>,
}

/// The union of the fields of every kind verification reads (and of a list around them).
#[derive(Deserialize)]
pub(crate) struct RawObject {
    #[serde(rename = "apiVersion")]
    pub(crate) api_version: Option<String>,
    pub(crate) kind: Option<String>,
    metadata: Option<RawMeta>,
    spec: Option<RawSpec>,
    status: Option<RawStatus>,
    #[serde(rename = "addressType")]
    address_type: Option<String>,
    pub(crate) items: Option<Vec<RawObject>>,
}

#[derive(Deserialize, Default)]
struct RawMeta {
    name: Option<String>,
    namespace: Option<String>,
    #[serde(default)]
    labels: Labels,
    #[serde(default)]
    annotations: LbAnnotations,
    #[serde(rename = "continue")]
    continue_: Option<String>,
    #[serde(rename = "deletionTimestamp")]
    deletion_timestamp: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
struct RawSpec {
    // Node
    #[serde(rename = "podCIDR")]
    pod_cidr: Option<Cidr>,
    #[serde(rename = "podCIDRs")]
    pod_cidrs: Option<Vec<Cidr>>,
    // Pod
    #[serde(rename = "nodeName")]
    node_name: Option<String>,
    #[serde(rename = "hostNetwork")]
    host_network: Option<bool>,
    // Service
    #[serde(rename = "type")]
    type_: Option<String>,
    #[serde(rename = "clusterIP")]
    cluster_ip: Option<String>,
    #[serde(rename = "clusterIPs")]
    cluster_ips: Option<Vec<String>>,
    #[serde(rename = "ipFamilies")]
    ip_families: Option<Vec<String>>,
    #[serde(rename = "ipFamilyPolicy")]
    ip_family_policy: Option<String>,
    selector: Option<IgnoredAny>,
    #[serde(rename = "loadBalancerClass", default)]
    load_balancer_class: TextOnly,
    #[serde(rename = "loadBalancerIP", default)]
    load_balancer_ip: TextOnly,
    // MetalLB IPAddressPool, Cilium CiliumLoadBalancerIPPool (kept loose: other kinds may use
    // the same names for other shapes)
    #[serde(rename = "autoAssign")]
    auto_assign: Option<serde_json::Value>,
    #[serde(rename = "serviceAllocation")]
    service_allocation: Option<serde_json::Value>,
    #[serde(rename = "serviceSelector")]
    service_selector: Option<serde_json::Value>,
    // Calico IPPool, IPAMBlock
    cidr: Option<Cidr>,
    #[serde(rename = "blockSize")]
    block_size: Option<u32>,
    disabled: Option<bool>,
    /// IPAMBlock's `host:NAME`; a Pod's `affinity` is a mapping and is skipped.
    #[serde(default)]
    affinity: TextOnly,
    // CiliumNode
    ipam: Option<RawCiliumIpam>,
    // CiliumPodIPPool
    ipv4: Option<RawCiliumPoolFamily>,
    ipv6: Option<RawCiliumPoolFamily>,
    // ServiceCIDR
    cidrs: Option<Lenient<Vec<Cidr>>>,
}

#[derive(Deserialize, Default)]
struct RawCiliumIpam {
    #[serde(rename = "podCIDRs")]
    pod_cidrs: Option<Vec<Cidr>>,
    pools: Option<RawCiliumPools>,
}

#[derive(Deserialize, Default)]
struct RawCiliumPools {
    allocated: Option<Vec<RawCiliumAllocation>>,
}

#[derive(Deserialize, Default)]
struct RawCiliumAllocation {
    pool: Option<String>,
    cidrs: Option<Vec<Cidr>>,
}

#[derive(Deserialize, Default)]
struct RawCiliumPoolFamily {
    cidrs: Option<Vec<Cidr>>,
    #[serde(rename = "maskSize")]
    mask_size: Option<u32>,
}

#[derive(Deserialize, Default)]
struct RawStatus {
    // Node
    addresses: Option<Vec<RawNodeAddress>>,
    // Pod
    phase: Option<String>,
    #[serde(rename = "podIP")]
    pod_ip: Option<Addr>,
    #[serde(rename = "podIPs")]
    pod_ips: Option<Vec<RawPodIp>>,
    // Service
    #[serde(rename = "loadBalancer")]
    load_balancer: Option<RawLoadBalancerStatus>,
    // ServiceCIDR (Pods and Nodes have conditions of the same shape)
    conditions: Option<Lenient<Vec<RawCondition>>>,
}

#[derive(Deserialize)]
struct RawLoadBalancerStatus {
    ingress: Option<Vec<RawLoadBalancerIngress>>,
}

#[derive(Deserialize)]
struct RawLoadBalancerIngress {
    ip: Option<String>,
    hostname: Option<String>,
}

#[derive(Deserialize)]
struct RawNodeAddress {
    #[serde(rename = "type")]
    type_: Option<String>,
    address: Option<String>,
}

#[derive(Deserialize)]
struct RawPodIp {
    ip: Option<Addr>,
}

/// A field that is a string in one kind and something else in another: the string is kept,
/// anything else skipped.
#[derive(Default)]
struct TextOnly(Option<String>);

impl<'de> Deserialize<'de> for TextOnly {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TextOnly, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TextOnly;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("anything")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TextOnly, E> {
                Ok(TextOnly(Some(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<TextOnly, E> {
                Ok(TextOnly(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<TextOnly, E> {
                Ok(TextOnly(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<TextOnly, E> {
                Ok(TextOnly(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<TextOnly, E> {
                Ok(TextOnly(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<TextOnly, E> {
                Ok(TextOnly(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<TextOnly, E> {
                Ok(TextOnly(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TextOnly, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(TextOnly(None))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<TextOnly, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(TextOnly(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// The two labels verification reads; every other label is skipped without being copied.
#[derive(Default)]
struct Labels {
    service_name: Option<String>,
    app: Option<String>,
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Labels, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Labels;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of labels")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Labels, E> {
                Ok(Labels::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Labels, A::Error> {
                let mut labels = Labels::default();
                while let Some(key) = map.next_key::<LabelKey>()? {
                    match key {
                        LabelKey::ServiceName => labels.service_name = map.next_value()?,
                        LabelKey::App => labels.app = map.next_value()?,
                        LabelKey::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(labels)
            }
        }
        d.deserialize_any(V)
    }
}

/// The Service annotations that ask a load-balancer implementation for addresses or a pool, as
/// (annotation, value); every other annotation is skipped without being copied.
#[derive(Default)]
struct LbAnnotations(Vec<(String, String)>);

impl<'de> Deserialize<'de> for LbAnnotations {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LbAnnotations, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LbAnnotations;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of annotations")
            }
            fn visit_unit<E: de::Error>(self) -> Result<LbAnnotations, E> {
                Ok(LbAnnotations::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LbAnnotations, A::Error> {
                let mut kept = LbAnnotations::default();
                while let Some(key) = map.next_key::<AnnotationKey>()? {
                    match key {
                        AnnotationKey::Request(name) => {
                            if let TextOnly(Some(value)) = map.next_value()? {
                                kept.0.push((name.to_string(), value));
                            }
                        }
                        AnnotationKey::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(kept)
            }
        }
        d.deserialize_any(V)
    }
}

enum AnnotationKey {
    Request(&'static str),
    Other,
}

impl<'de> Deserialize<'de> for AnnotationKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<AnnotationKey, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AnnotationKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an annotation key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AnnotationKey, E> {
                Ok(kube6_model::facts::lb_service::REQUEST_ANNOTATIONS
                    .iter()
                    .find(|a| **a == v)
                    .map_or(AnnotationKey::Other, |a| AnnotationKey::Request(a)))
            }
        }
        d.deserialize_str(V)
    }
}

enum LabelKey {
    ServiceName,
    App,
    Other,
}

impl<'de> Deserialize<'de> for LabelKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LabelKey, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LabelKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a label key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LabelKey, E> {
                Ok(match v {
                    "kubernetes.io/service-name" => LabelKey::ServiceName,
                    "k8s-app" => LabelKey::App,
                    _ => LabelKey::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn reads_a_list_of_mixed_kinds() {
        let text = r#"{
            "apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
            "items": [
                {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "labels": {"a": "b"}},
                 "spec": {"podCIDR": "10.42.0.0/24", "podCIDRs": ["10.42.0.0/24", "fd00:42::/64"]},
                 "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.1"},
                                          {"type": "Hostname", "address": "n1"}]}},
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "d"},
                 "spec": {"nodeName": "n1", "containers": [{"name": "c"}],
                          "affinity": {"nodeAffinity": {"x": [1, 2]}}},
                 "status": {"phase": "Running", "podIP": "10.42.0.5",
                            "podIPs": [{"ip": "10.42.0.5"}, {"ip": "fd00:42::5"}]}},
                {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "d",
                  "labels": {"k8s-app": "kube-dns"}},
                 "spec": {"clusterIP": "10.43.0.10", "clusterIPs": ["10.43.0.10"],
                          "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                          "selector": {"k8s-app": "kube-dns"}, "type": "ClusterIP"}},
                {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv6",
                 "metadata": {"name": "s-abc", "namespace": "d",
                              "labels": {"kubernetes.io/service-name": "s"}}, "endpoints": null},
                {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}}
            ]}"#;
        let s = parse(text.as_bytes()).unwrap();
        assert_eq!(s.nodes.len(), 1);
        assert_eq!(s.nodes[0].pod_cidrs.len(), 2);
        assert_eq!(s.pods[0].pod_ips.len(), 2);
        assert_eq!(s.pods[0].phase, PodPhase::Running);
        assert_eq!(s.services[0].app_label.as_deref(), Some("kube-dns"));
        assert!(s.services[0].has_selector);
        assert_eq!(s.endpoint_slices[0].service_name.as_deref(), Some("s"));
        assert_eq!(s.endpoint_slices[0].address_type.as_deref(), Some("IPv6"));
        assert_eq!(s.ignored.get("Deployment"), Some(&1));
    }

    #[test]
    fn reads_a_typed_list_and_a_single_object() {
        let list = r#"{"kind": "NodeList", "apiVersion": "v1", "metadata": {"continue": "abc"},
                       "items": [{"metadata": {"name": "n1"}}]}"#;
        assert_eq!(parse(list.as_bytes()).unwrap().nodes[0].name, "n1");
        let mut s = Snapshot::default();
        let token = parse_page(list.as_bytes(), "Node", "v1", &mut s).unwrap();
        assert_eq!(token.as_deref(), Some("abc"));
        let one = r#"{"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p", "namespace": "d"}, "spec": {"hostNetwork": true}}"#;
        assert!(parse(one.as_bytes()).unwrap().pods[0].host_network);
    }

    #[test]
    fn reads_concatenated_json_documents() {
        let nodes =
            r#"{"kind": "NodeList", "apiVersion": "v1", "items": [{"metadata": {"name": "n1"}}]}"#;
        let pods = r#"{"apiVersion": "v1", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "d"}}], "kind": "List"}"#;
        for joined in [
            format!("{nodes}{pods}"),
            format!("{nodes}\n{pods}\n"),
            format!("\u{feff}{nodes}\n\n{pods}"),
        ] {
            let s = parse(joined.as_bytes()).unwrap();
            assert_eq!((s.nodes.len(), s.pods.len()), (1, 1), "{joined}");
        }
        // A broken second document is reported where it breaks.
        let err = parse(format!("{nodes}\n{{\"kind\": ").as_bytes()).unwrap_err();
        assert!(matches!(err, DumpError::Syntax { line: 2, .. }), "{err}");
    }

    #[test]
    fn reads_yaml_dumps_as_kubectl_prints_them() {
        let text = r#"apiVersion: v1
items:
- apiVersion: v1
  kind: Node
  metadata:
    annotations:
      node.alpha.kubernetes.io/ttl: "0"
    labels:
      kubernetes.io/hostname: n1
    managedFields:
    - apiVersion: v1
      fieldsType: FieldsV1
      fieldsV1:
        f:spec:
          f:podCIDR: {}
          f:podCIDRs:
            .: {}
            v:"fd00:42::/64": {}
      manager: kube-controller-manager
      operation: Update
    name: n1
  spec:
    podCIDR: fd00:42::/64
    podCIDRs:
    - fd00:42::/64
    - 10.42.0.0/24
  status:
    addresses:
    - address: 2001:db8::10
      type: InternalIP
    - address: n1
      type: Hostname
- apiVersion: v1
  kind: Service
  metadata:
    labels:
      k8s-app: kube-dns
    name: kube-dns
    namespace: kube-system
  spec:
    clusterIP: fd00:43::a
    clusterIPs:
    - fd00:43::a
    ipFamilies:
    - IPv6
    ipFamilyPolicy: SingleStack
    selector:
      k8s-app: kube-dns
kind: List
metadata:
  resourceVersion: ""
---
apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: d
spec:
  nodeName: n1
status:
  podIPs:
  - ip: fd00:42::5
"#;
        let s = parse(text.as_bytes()).unwrap();
        assert_eq!(s.nodes[0].pod_cidrs.len(), 2);
        assert_eq!(s.nodes[0].addresses[0].address, "2001:db8::10");
        assert_eq!(s.services[0].cluster_ips, vec!["fd00:43::a"]);
        assert_eq!(s.pods[0].pod_ips.len(), 1);
        // Broken YAML says where.
        let err = parse(b"apiVersion: v1\nkind: List\nitems: [\n").unwrap_err();
        assert!(
            matches!(err, DumpError::Syntax { line, .. } if line >= 3),
            "{err}"
        );
        // Anchors and aliases are not kubectl's: refused.
        let err = parse(b"kind: Pod\nmetadata: &m {name: a}\nstatus: *m\n").unwrap_err();
        assert!(err.to_string().contains("refused"), "{err}");
        // Only comments: empty.
        assert!(matches!(
            parse(b"# nothing\n").unwrap_err(),
            DumpError::Empty
        ));
    }

    #[test]
    fn reads_the_cni_ipam_objects() {
        let text = r#"{"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPPool",
             "metadata": {"name": "default-ipv6-ippool"},
             "spec": {"cidr": "fd00:10::/48", "blockSize": 122, "ipipMode": "Never",
                      "nodeSelector": "all()", "vxlanMode": "Never"}},
            {"apiVersion": "crd.projectcalico.org/v1", "kind": "IPAMBlock",
             "metadata": {"name": "fd00-10--ffc0-122"},
             "spec": {"cidr": "fd00:10::ffc0/122", "affinity": "host:node-1",
                      "allocations": [0, null], "unallocated": [1, 2], "attributes": []}},
            {"apiVersion": "cilium.io/v2", "kind": "CiliumNode", "metadata": {"name": "node-1"},
             "spec": {"ipam": {"podCIDRs": ["10.0.1.0/24", "fd00::100/120"],
                               "pools": {"allocated": [{"pool": "blue", "cidrs": ["10.20.0.0/27"]}]}}}},
            {"apiVersion": "cilium.io/v2alpha1", "kind": "CiliumPodIPPool", "metadata": {"name": "blue"},
             "spec": {"ipv4": {"cidrs": ["10.20.0.0/16"], "maskSize": 27}}},
            {"apiVersion": "whereabouts.cni.cncf.io/v1alpha1", "kind": "IPPool",
             "metadata": {"name": "other"}, "spec": {"range": "192.0.2.0/24"}}
        ]}"#;
        let s = parse(text.as_bytes()).unwrap();
        assert_eq!(s.cni.calico_pools[0].block_size, Some(122));
        assert_eq!(s.cni.calico_blocks[0].node.as_deref(), Some("node-1"));
        assert_eq!(s.cni.cilium_nodes[0].pod_cidrs.len(), 2);
        assert_eq!(s.cni.cilium_nodes[0].pool_cidrs[0].0, "blue");
        assert_eq!(s.cni.cilium_pools[0].ipv4_mask, Some(27));
        // Another project's IPPool is not Calico's.
        assert_eq!(s.cni.calico_pools.len(), 1);
        assert_eq!(s.ignored.get("IPPool"), Some(&1));
    }

    #[test]
    fn refuses_utf16_with_a_way_out_and_takes_a_utf8_mark() {
        let text = r#"{"kind": "NodeList", "apiVersion": "v1", "items": []}"#;
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            utf16.extend(unit.to_le_bytes());
        }
        let err = parse(&utf16).unwrap_err().to_string();
        assert!(
            err.contains("UTF-16 (little-endian, with a byte-order mark)"),
            "{err}"
        );
        assert!(err.contains("Out-File -Encoding utf8"), "{err}");
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert!(parse(&bom).is_ok());
        assert!(matches!(parse(b" \n").unwrap_err(), DumpError::Empty));
    }

    #[test]
    fn reports_where_a_dump_breaks() {
        let err = parse(b"{\n  \"kind\": \"List\",\n  \"items\": [}").unwrap_err();
        match err {
            DumpError::Syntax { line, .. } => assert_eq!(line, 3),
            other => panic!("{other}"),
        }
        assert!(matches!(
            parse(b"{\"a\": 1}").unwrap_err(),
            DumpError::NotKubernetes(_)
        ));
        assert!(parse(b"[1, 2]").is_err());
    }

    /// `kubectl get servicecidrs -o yaml`: the default object, one an operator added, and one
    /// being deleted; Cilium's LB pool with its old `spec.cidrs` of objects next to them is read as
    /// its own kind, without upsetting the ServiceCIDRs.
    #[test]
    fn service_cidrs_are_read_with_their_state() {
        let yaml = r#"apiVersion: v1
items:
- apiVersion: networking.k8s.io/v1
  kind: ServiceCIDR
  metadata:
    creationTimestamp: "2026-05-01T10:00:00Z"
    finalizers:
    - networking.k8s.io/service-cidr-finalizer
    name: kubernetes
    resourceVersion: "312"
  spec:
    cidrs:
    - fd01::/108
    - 10.96.0.0/16
  status:
    conditions:
    - lastTransitionTime: "2026-05-01T10:00:00Z"
      message: Kubernetes Service CIDR is ready
      reason: ""
      status: "True"
      type: Ready
- apiVersion: networking.k8s.io/v1beta1
  kind: ServiceCIDR
  metadata:
    name: extra-v6
  spec:
    cidrs:
    - fd01:1::/112
- apiVersion: networking.k8s.io/v1
  kind: ServiceCIDR
  metadata:
    deletionGracePeriodSeconds: 0
    deletionTimestamp: "2026-11-20T08:00:00Z"
    finalizers:
    - networking.k8s.io/service-cidr-finalizer
    name: old-range
  spec:
    cidrs:
    - fd01:2::/112
  status:
    conditions:
    - lastTransitionTime: "2026-11-20T08:00:00Z"
      message: There are still IPAddresses referencing the ServiceCIDR, please remove them or create a new ServiceCIDR
      reason: Terminating
      status: "False"
      type: Ready
- apiVersion: cilium.io/v2alpha1
  kind: CiliumLoadBalancerIPPool
  metadata:
    name: lb
  spec:
    cidrs:
    - cidr: 2001:db8:lb::/120
  status:
    conditions:
    - type: cilium.io/IPsExhausted
      status: "False"
kind: List
metadata:
  resourceVersion: ""
"#;
        let s = parse(yaml.as_bytes()).unwrap();
        assert_eq!(s.service_cidrs.len(), 3, "{s:#?}");
        let [default, added, old] = &s.service_cidrs[..] else {
            unreachable!()
        };
        assert!(default.is_default() && default.allocates());
        assert_eq!(
            default.nets().map(|n| n.to_string()).collect::<Vec<_>>(),
            ["fd01::/108", "10.96.0.0/16"]
        );
        assert_eq!(
            (default.ready, default.reason.as_deref()),
            (Some(true), None)
        );
        // No status yet (just created): allocates once the controller marks it; not refused.
        assert!(!added.is_default() && added.allocates() && added.ready.is_none());
        assert!(old.deleting && !old.allocates());
        assert_eq!(
            (old.ready, old.reason.as_deref()),
            (Some(false), Some("Terminating"))
        );
        assert_eq!(s.lb_pools.len(), 1, "{s:#?}");
    }
}
