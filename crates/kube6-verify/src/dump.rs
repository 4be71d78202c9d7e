//! Reading `kubectl get nodes,pods,services,endpointslices -A -o json` (a v1 `List`), a list of
//! one kind (`NodeList`, or the API server's answer to a list request) or a single object.
//!
//! Only the fields the checks need are kept; everything else is skipped while parsing, so a dump
//! of a large cluster costs little more memory than its own bytes.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::snapshot::{
    Addr, Cidr, EndpointSlice, Node, NodeAddress, Pod, PodPhase, Service, Snapshot,
};

/// A dump that could not be read as Kubernetes JSON.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// Not JSON, or JSON of the wrong shape.
    #[error("line {line}, column {column}: {reason}")]
    Syntax {
        line: usize,
        column: usize,
        reason: String,
    },
    /// JSON, but not a Kubernetes object or list.
    #[error("{0}")]
    NotKubernetes(String),
    /// Standard input broke off or broke its JSON among the items, which were already read
    /// and cannot be read again to place the error.
    #[error(
        "the JSON breaks (or is cut off) among its items; save it to a file and give that to \
         --dump to see the line and column"
    )]
    Broken,
}

impl DumpError {
    fn from_json(err: serde_json::Error) -> DumpError {
        // serde_json appends " at line L column C"; keep the reason alone, in Kubernetes terms
        // rather than the names of kube6's own types.
        let text = err.to_string();
        let reason = match text.rfind(" at line ") {
            Some(i) => text[..i].to_string(),
            None => text,
        };
        let reason = reason
            .replace("struct RawObject", "a Kubernetes object")
            .replace("struct RawMeta", "an object's metadata")
            .replace("struct RawSpec", "an object's spec")
            .replace("struct RawStatus", "an object's status")
            .replace("struct RawNodeAddress", "a node address")
            .replace("struct RawPodIp", "a pod IP")
            .replace("struct Labels", "labels");
        DumpError::Syntax {
            line: err.line(),
            column: err.column(),
            reason,
        }
    }
}

/// Parses one dump document into a snapshot.
pub fn parse(bytes: &[u8]) -> Result<Snapshot, DumpError> {
    let doc: RawObject = serde_json::from_slice(bytes).map_err(DumpError::from_json)?;
    snapshot_of(doc)
}

/// Parses one dump document from a reader, without holding its bytes.
pub fn parse_reader<R: std::io::Read>(reader: R) -> Result<Snapshot, DumpError> {
    let doc: RawObject =
        serde_json::from_reader(std::io::BufReader::with_capacity(1 << 20, reader))
            .map_err(DumpError::from_json)?;
    snapshot_of(doc)
}

fn snapshot_of(doc: RawObject) -> Result<Snapshot, DumpError> {
    let mut snapshot = Snapshot::default();
    let list_kind = doc.kind.as_deref().unwrap_or("");
    match doc.items {
        Some(items) => {
            // `NodeList` → `Node`; kubectl's `List` names the kind on every item.
            let item_kind = list_kind.strip_suffix("List").unwrap_or("");
            for item in items {
                add(&mut snapshot, item, item_kind);
            }
        }
        None if doc.kind.is_some() => {
            let kind = list_kind.to_string();
            add(&mut snapshot, doc, &kind);
        }
        None => {
            return Err(DumpError::NotKubernetes(
                "neither a Kubernetes object (no \"kind\") nor a list (no \"items\"); \
                 expected the output of `kubectl get nodes,pods,services,endpointslices -A -o json`"
                    .to_string(),
            ));
        }
    }
    Ok(snapshot)
}

/// Parses one page of a list of `kind` (the API server leaves `kind` off the items) and returns
/// the `metadata.continue` token for the next page.
pub fn parse_page(
    bytes: &[u8],
    kind: &str,
    into: &mut Snapshot,
) -> Result<Option<String>, DumpError> {
    let doc: RawObject = serde_json::from_slice(bytes).map_err(DumpError::from_json)?;
    let token = doc
        .metadata
        .as_ref()
        .and_then(|m| m.continue_.clone())
        .filter(|t| !t.is_empty());
    for item in doc.items.unwrap_or_default() {
        add(into, item, kind);
    }
    Ok(token)
}

pub(crate) fn add(snapshot: &mut Snapshot, item: RawObject, default_kind: &str) {
    let kind = item.kind.as_deref().unwrap_or(default_kind);
    let meta = item.metadata.unwrap_or_default();
    let spec = item.spec.unwrap_or_default();
    let status = item.status.unwrap_or_default();
    match kind {
        "Node" => {
            let mut pod_cidrs = spec.pod_cidrs.unwrap_or_default();
            if pod_cidrs.is_empty()
                && let Some(one) = spec.pod_cidr
            {
                pod_cidrs.push(one);
            }
            snapshot.nodes.push(Node {
                name: meta.name.unwrap_or_default(),
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
        "Pod" => {
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
                name: meta.name.unwrap_or_default(),
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
        "Service" => snapshot.services.push(Service {
            namespace: meta.namespace.unwrap_or_default(),
            name: meta.name.unwrap_or_default(),
            type_: spec.type_,
            cluster_ip: spec.cluster_ip,
            cluster_ips: spec.cluster_ips.unwrap_or_default(),
            ip_families: spec.ip_families.unwrap_or_default(),
            ip_family_policy: spec.ip_family_policy,
            has_selector: spec.selector.is_some(),
            app_label: meta.labels.app,
        }),
        "EndpointSlice" => snapshot.endpoint_slices.push(EndpointSlice {
            namespace: meta.namespace.unwrap_or_default(),
            name: meta.name.unwrap_or_default(),
            service_name: meta.labels.service_name,
            address_type: item.address_type,
        }),
        _ => snapshot.ignored += 1,
    }
}

/// The union of the fields of every kind verification reads (and of a list around them).
#[derive(Deserialize)]
pub(crate) struct RawObject {
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
    #[serde(rename = "continue")]
    continue_: Option<String>,
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
                 "spec": {"nodeName": "n1", "containers": [{"name": "c"}]},
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
        assert_eq!(s.ignored, 1);
    }

    #[test]
    fn reads_a_typed_list_and_a_single_object() {
        let list = r#"{"kind": "NodeList", "metadata": {"continue": "abc"},
                       "items": [{"metadata": {"name": "n1"}}]}"#;
        assert_eq!(parse(list.as_bytes()).unwrap().nodes[0].name, "n1");
        let mut s = Snapshot::default();
        let token = parse_page(list.as_bytes(), "Node", &mut s).unwrap();
        assert_eq!(token.as_deref(), Some("abc"));
        let one = r#"{"kind": "Pod", "metadata": {"name": "p", "namespace": "d"}, "spec": {"hostNetwork": true}}"#;
        assert!(parse(one.as_bytes()).unwrap().pods[0].host_network);
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
}
