//! Upstream schemas for the documents kube6 writes: finds `shared/schemas/` (see its README for
//! what each file is and which version), picks the schema for each document, compiles it once
//! and validates with unknown fields as errors.
//!
//! | document | schema |
//! |---|---|
//! | CRD kinds (Calico, KKP, k0s, helm-controller, MetalLB, Cilium CRDs) | the CRD's served version, `openAPIV3Schema`, made strict by [`kube::strict`] |
//! | built-in kinds (DaemonSet, ConfigMap, ...) | swagger.json, found by `x-kubernetes-group-version-kind` |
//! | kubeadm, KubeletConfiguration, KubeProxyConfiguration | `kubeadm.schema.json` here (field sets read from the Go types, sources cited in it) |
//! | k3s/RKE2 config.yaml | `k3s-rke2-flags.tsv` (keys, role, value types) |
//! | Cilium Helm values, RKE2 rke2-cilium HelmChartConfig values | cilium/values.schema.json |
//! | RKE2 rke2-calico HelmChartConfig values | the Installation CRD's `spec` (tigera-operator chart: `installation` minus `enabled` becomes the spec) |
//! | flannel and Canal net-conf.json | `flannel.schema.json` here (flannel's Config type, source cited in it) |
//! | kube-router args, Canal calico-node env | the fields of core/v1 Container they are |
//! | kube6 ClusterNetwork | `kube6 schema` |

pub mod flags;
pub mod kube;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Map, Value, json};

use self::kube::{Dialect, OBJECT_META};

/// How to get the schemas when they are missing.
pub const WHERE: &str = "the upstream schemas live in the `shared/` directory next to the kube6 \
    repository (`../shared/schemas/`, as CI checks it out); copy or link it there, or point \
    KUBE6_SCHEMAS at a `schemas/` directory with the same layout (see its README.md for the \
    upstream file behind each schema)";

/// The schemas directory: `$KUBE6_SCHEMAS`, else `shared/schemas` beside the workspace root (or
/// beside one of its parents, for a git worktree under the repository's parent).
pub fn locate() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("KUBE6_SCHEMAS") {
        let dir = PathBuf::from(dir);
        return if dir.join("README.md").is_file() {
            Ok(dir)
        } else {
            Err(format!(
                "KUBE6_SCHEMAS={} has no README.md; {WHERE}",
                dir.display()
            ))
        };
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for dir in root.ancestors().skip(1) {
        let candidate = dir.join("shared/schemas");
        if candidate.join("README.md").is_file() {
            return Ok(candidate);
        }
    }
    Err(format!(
        "no shared/schemas/README.md beside {} or its parents; {WHERE}",
        root.display()
    ))
}

/// The schemas, or None outside CI when they are missing (after saying where to get them).
/// Under `CI=true` a missing directory fails the test: it never passes silently.
pub fn schemas_or_explain() -> Option<&'static Schemas> {
    static SCHEMAS: OnceLock<Result<Schemas, String>> = OnceLock::new();
    match SCHEMAS.get_or_init(|| locate().map(Schemas::new)) {
        Ok(s) => Some(s),
        Err(why) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true and the upstream schemas are missing: {why}");
            }
            eprintln!("SKIPPED (not in CI): {why}");
            None
        }
    }
}

/// One thing a schema rejects.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Finding {
    /// The schema file (relative to shared/schemas, or named for kube6's own).
    pub schema: String,
    /// Where in the document (a JSON pointer; for a HelmChartConfig's values, under
    /// `/spec/valuesContent`).
    pub path: String,
    pub message: String,
}

/// What was done with a document.
#[derive(Debug)]
pub enum Outcome {
    /// Validated against the named schemas; empty findings = valid.
    Checked {
        schemas: Vec<String>,
        findings: Vec<Finding>,
    },
    /// No upstream schema exists for it; the reason says what checks it instead.
    NoSchema(&'static str),
}

/// Files with no upstream schema, and what checks them instead.
const NO_SCHEMA: &[(&str, &str)] = &[
    (
        "*.sh",
        "shell script (install.sh, one per node or for all): its commands are covered by render_cli.rs",
    ),
    (
        "host/*",
        "host files (sysctl.d, ndppd.conf, BIRD, systemd unit, kube6-ndp-proxy.yaml): applied by render_netns.rs and `kube6 ndp-proxy --check`",
    ),
    (
        "nat64-gateway/*",
        "the NAT64 gateway's tayga.conf, sysctl.d file and setup script: run by TAYGA itself in nat64_netns.rs",
    ),
    (
        "*/kube6-resolv.conf",
        "the resolv.conf k3s gives the kubelet (resolv-conf): read by kube6-host's resolv.conf parser in its tests",
    ),
];

type Compiled = Arc<Result<jsonschema::Validator, String>>;

/// swagger.json's definitions (strict) and definition names by "apiVersion/kind".
type Swagger = (Map<String, Value>, HashMap<String, String>);

pub struct Schemas {
    dir: PathBuf,
    swagger: OnceLock<Result<Swagger, String>>,
    compiled: Mutex<HashMap<String, Compiled>>,
    flags: OnceLock<Result<flags::Flags, String>>,
}

/// CRDs by API group and kind.
const CRDS: &[(&str, &str, &str)] = &[
    (
        "operator.tigera.io",
        "Installation",
        "calico/operator.tigera.io_installations.yaml",
    ),
    (
        "crd.projectcalico.org",
        "IPPool",
        "calico/crd.projectcalico.org_ippools.yaml",
    ),
    (
        "crd.projectcalico.org",
        "BGPPeer",
        "calico/crd.projectcalico.org_bgppeers.yaml",
    ),
    (
        "crd.projectcalico.org",
        "BGPConfiguration",
        "calico/crd.projectcalico.org_bgpconfigurations.yaml",
    ),
    (
        "crd.projectcalico.org",
        "FelixConfiguration",
        "calico/crd.projectcalico.org_felixconfigurations.yaml",
    ),
    (
        "projectcalico.org",
        "IPPool",
        "calico/projectcalico.org_ippools.yaml",
    ),
    (
        "projectcalico.org",
        "BGPPeer",
        "calico/projectcalico.org_bgppeers.yaml",
    ),
    (
        "projectcalico.org",
        "BGPConfiguration",
        "calico/projectcalico.org_bgpconfigurations.yaml",
    ),
    (
        "projectcalico.org",
        "FelixConfiguration",
        "calico/projectcalico.org_felixconfigurations.yaml",
    ),
    (
        "kubermatic.k8c.io",
        "Cluster",
        "kubermatic/kubermatic.k8c.io_clusters.yaml",
    ),
    (
        "k0s.k0sproject.io",
        "ClusterConfig",
        "k0s/k0s.k0sproject.io_clusterconfigs.yaml",
    ),
    (
        "helm.cattle.io",
        "HelmChartConfig",
        "helm-controller/helm.cattle.io_helmchartconfigs.yaml",
    ),
    (
        "helm.cattle.io",
        "HelmChart",
        "helm-controller/helm.cattle.io_helmcharts.yaml",
    ),
    (
        "metallb.io",
        "IPAddressPool",
        "metallb/metallb.io_ipaddresspools.yaml",
    ),
    (
        "metallb.io",
        "L2Advertisement",
        "metallb/metallb.io_l2advertisements.yaml",
    ),
    (
        "metallb.io",
        "BGPAdvertisement",
        "metallb/metallb.io_bgpadvertisements.yaml",
    ),
    ("metallb.io", "BGPPeer", "metallb/metallb.io_bgppeers.yaml"),
    (
        "cilium.io",
        "CiliumLoadBalancerIPPool",
        "cilium/ciliumloadbalancerippools.yaml",
    ),
    (
        "cilium.io",
        "CiliumL2AnnouncementPolicy",
        "cilium/ciliuml2announcementpolicies.yaml",
    ),
    (
        "cilium.io",
        "CiliumBGPClusterConfig",
        "cilium/ciliumbgpclusterconfigs.yaml",
    ),
    (
        "cilium.io",
        "CiliumBGPPeerConfig",
        "cilium/ciliumbgppeerconfigs.yaml",
    ),
    (
        "cilium.io",
        "CiliumBGPAdvertisement",
        "cilium/ciliumbgpadvertisements.yaml",
    ),
];

/// Kinds whose field sets this test keeps itself (`kubeadm.schema.json`), by apiVersion and kind.
const OWN: &[(&str, &str, &str)] = &[
    (
        "kubeadm.k8s.io/v1beta4",
        "InitConfiguration",
        "v1beta4.InitConfiguration",
    ),
    (
        "kubeadm.k8s.io/v1beta4",
        "ClusterConfiguration",
        "v1beta4.ClusterConfiguration",
    ),
    (
        "kubeadm.k8s.io/v1beta4",
        "JoinConfiguration",
        "v1beta4.JoinConfiguration",
    ),
    (
        "kubeadm.k8s.io/v1beta3",
        "InitConfiguration",
        "v1beta3.InitConfiguration",
    ),
    (
        "kubeadm.k8s.io/v1beta3",
        "ClusterConfiguration",
        "v1beta3.ClusterConfiguration",
    ),
    (
        "kubeadm.k8s.io/v1beta3",
        "JoinConfiguration",
        "v1beta3.JoinConfiguration",
    ),
    (
        "kubelet.config.k8s.io/v1beta1",
        "KubeletConfiguration",
        "kubelet.v1beta1.KubeletConfiguration",
    ),
    (
        "kubeproxy.config.k8s.io/v1alpha1",
        "KubeProxyConfiguration",
        "kubeproxy.v1alpha1.KubeProxyConfiguration",
    ),
];

/// This test's own field sets for kubeadm and the component configs it carries.
const OWN_SCHEMA: &str = include_str!("kubeadm.schema.json");
const OWN_SCHEMA_NAME: &str = "crates/kube6/tests/upstream/kubeadm.schema.json";
/// flannel's net-conf.json field set (flannel publishes no schema).
const FLANNEL_SCHEMA: &str = include_str!("flannel.schema.json");
const FLANNEL_SCHEMA_NAME: &str = "crates/kube6/tests/upstream/flannel.schema.json";

/// `pattern` with at most one `*` matches `path`.
pub fn glob(pattern: &str, path: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == path,
        Some((head, tail)) => {
            path.len() >= head.len() + tail.len() && path.starts_with(head) && path.ends_with(tail)
        }
    }
}

/// Go's net.ParseCIDR, for `format: cidr`.
fn is_cidr(s: &str) -> bool {
    s.parse::<ipnet::IpNet>().is_ok()
}

fn is_base64(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    s.len().is_multiple_of(4)
        && s.len() - body.len() <= 2
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// The `x-kubernetes-list-map-keys` of a `x-kubernetes-list-type: map` list: no two items
/// may have the same values for the keys (the API server rejects duplicates).
struct ListMapKeys(Vec<String>);

impl<'i> jsonschema::Keyword<'i> for ListMapKeys {
    fn validate(&self, instance: &'i Value) -> Result<(), jsonschema::ValidationError<'i>> {
        match self.duplicate(instance) {
            None => Ok(()),
            Some(key) => Err(jsonschema::ValidationError::custom(format!(
                "duplicate entries for map-list keys {:?} = {key}",
                self.0
            ))),
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        self.duplicate(instance).is_none()
    }
}

impl ListMapKeys {
    fn duplicate(&self, instance: &Value) -> Option<String> {
        // Keys on a list that is not a map-list mean nothing.
        if self.0.is_empty() {
            return None;
        }
        let items = instance.as_array()?;
        let mut seen = std::collections::HashSet::new();
        for item in items {
            let key: Vec<Value> = self
                .0
                .iter()
                .map(|k| item.get(k).cloned().unwrap_or(Value::Null))
                .collect();
            let text = serde_json::to_string(&key).unwrap_or_default();
            if !seen.insert(text.clone()) {
                return Some(text);
            }
        }
        None
    }
}

fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    // Kubernetes' dialects are OpenAPI's JSON Schema subset, closest to draft 7; a schema
    // that names its own draft (kube6's, 2020-12) keeps it.
    let mut options = jsonschema::options();
    if schema.get("$schema").is_none() {
        options = options.with_draft(jsonschema::Draft::Draft7);
    }
    // Kubernetes evaluates `pattern` with Go's RE2 (inline flags anywhere, POSIX classes),
    // which the `regex` engine follows.
    options
        .with_pattern_options(jsonschema::PatternOptions::regex())
        .should_validate_formats(true)
        .with_format("cidr", is_cidr)
        .with_format("byte", is_base64)
        .with_keyword("x-kubernetes-list-map-keys", |parent, value, _| {
            let keys: Vec<String> = value
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|k| k.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let is_map =
                parent.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("map");
            let keys = if is_map { keys } else { Vec::new() };
            Ok(Box::new(ListMapKeys(keys)))
        })
        .build(schema)
        .map_err(|e| format!("the schema does not compile: {e}"))
}

/// Every error `validator` finds in `doc`, under `prefix`.
fn run(validator: &jsonschema::Validator, schema: &str, prefix: &str, doc: &Value) -> Vec<Finding> {
    let mut out: Vec<Finding> = validator
        .iter_errors(doc)
        .map(|e| {
            let mut message = e.to_string();
            if message.len() > 400 {
                let cut = (0..=400)
                    .rev()
                    .find(|i| message.is_char_boundary(*i))
                    .unwrap_or(0);
                message.truncate(cut);
                message.push_str("...");
            }
            Finding {
                schema: schema.to_string(),
                path: format!("{prefix}{}", e.instance_path()),
                message,
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

impl Schemas {
    pub fn new(dir: PathBuf) -> Schemas {
        Schemas {
            dir,
            swagger: OnceLock::new(),
            compiled: Mutex::new(HashMap::new()),
            flags: OnceLock::new(),
        }
    }

    fn read(&self, rel: &str) -> Result<String, String> {
        std::fs::read_to_string(self.dir.join(rel))
            .map_err(|e| format!("cannot read {}: {e}", self.dir.join(rel).display()))
    }

    /// swagger.json's definitions made strict, and definition names by "group/version/kind".
    fn swagger(&self) -> Result<&Swagger, String> {
        self.swagger
            .get_or_init(|| {
                let text = self.read("kubernetes/swagger.json")?;
                let doc: Value = serde_json::from_str(&text)
                    .map_err(|e| format!("kubernetes/swagger.json: {e}"))?;
                let mut gvk = HashMap::new();
                if let Some(defs) = doc.get("definitions").and_then(Value::as_object) {
                    for (name, def) in defs {
                        for g in def
                            .get("x-kubernetes-group-version-kind")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                        {
                            let group = g.get("group").and_then(Value::as_str).unwrap_or("");
                            let version = g.get("version").and_then(Value::as_str).unwrap_or("");
                            let kind = g.get("kind").and_then(Value::as_str).unwrap_or("");
                            let api = if group.is_empty() {
                                version.to_string()
                            } else {
                                format!("{group}/{version}")
                            };
                            gvk.insert(format!("{api}/{kind}"), name.clone());
                        }
                    }
                }
                Ok((kube::swagger_definitions(&doc), gvk))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    fn flags(&self) -> Result<&flags::Flags, String> {
        self.flags
            .get_or_init(|| {
                flags::Flags::parse(&self.read("k3s-rke2-flags.tsv")?)
                    .map_err(|e| format!("k3s-rke2-flags.tsv: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The validator for `key`, built by `build` the first time.
    fn validator(&self, key: &str, build: impl FnOnce() -> Result<Value, String>) -> Compiled {
        if let Some(v) = self.compiled.lock().ok().and_then(|m| m.get(key).cloned()) {
            return v;
        }
        let built = Arc::new(build().and_then(|schema| compile(&schema)));
        if let Ok(mut m) = self.compiled.lock() {
            m.insert(key.to_string(), built.clone());
        }
        built
    }

    /// `schema` with the swagger definitions its references (and ObjectMeta) reach.
    fn with_definitions(
        &self,
        mut schema: Value,
        extra: &Map<String, Value>,
    ) -> Result<Value, String> {
        let (defs, _) = self.swagger()?;
        let mut roots = Vec::new();
        kube::refs(&schema, &mut roots);
        for def in extra.values() {
            kube::refs(def, &mut roots);
        }
        roots.push(OBJECT_META.to_string());
        let roots: Vec<&str> = roots.iter().map(String::as_str).collect();
        let mut all = kube::reachable(defs, &roots);
        all.extend(extra.clone());
        if let Value::Object(map) = &mut schema {
            map.insert("definitions".into(), Value::Object(all));
        }
        Ok(schema)
    }

    /// The CRD's schema for `api_version` (group/version) as strict JSON Schema.
    fn crd_schema(&self, file: &str, api_version: &str, kind: &str) -> Result<Value, String> {
        let crd: Value =
            serde_saphyr::from_str(&self.read(file)?).map_err(|e| format!("{file}: {e}"))?;
        let version = api_version.rsplit('/').next().unwrap_or(api_version);
        let versions = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let served: Vec<&str> = versions
            .iter()
            .filter(|v| v.get("served").and_then(Value::as_bool) == Some(true))
            .filter_map(|v| v.get("name").and_then(Value::as_str))
            .collect();
        let Some(entry) = versions.iter().find(|v| {
            v.get("name").and_then(Value::as_str) == Some(version)
                && v.get("served").and_then(Value::as_bool) == Some(true)
        }) else {
            return Err(format!(
                "{api_version} {kind} is not served by {file} (served versions: {served:?})"
            ));
        };
        let root = entry
            .pointer("/schema/openAPIV3Schema")
            .ok_or_else(|| format!("{file}: version {version} has no openAPIV3Schema"))?;
        let mut schema = kube::strict(root, Dialect::Structural);
        // The API server validates metadata as ObjectMeta whatever the CRD says of it.
        if let Some(Value::Object(props)) = schema.get_mut("properties") {
            props.insert("metadata".into(), kube::object_meta_ref());
            props.insert("apiVersion".into(), json!({"const": api_version}));
            props.insert("kind".into(), json!({"const": kind}));
        }
        self.with_definitions(schema, &Map::new())
    }

    /// The built-in kind `api_version/kind` from swagger.json.
    fn builtin_schema(
        &self,
        definition: &str,
        api_version: &str,
        kind: &str,
    ) -> Result<Value, String> {
        let mut schema = json!({"$ref": format!("#/definitions/{definition}")});
        schema = self.with_definitions(schema, &Map::new())?;
        // apiVersion and kind must be exactly the document's.
        Ok(json!({
            "allOf": [schema.clone(), {"properties": {"apiVersion": {"const": api_version}, "kind": {"const": kind}}}],
            "definitions": schema["definitions"],
        }))
    }

    /// Validates a document with an apiVersion and kind.
    /// Validates a document with an apiVersion and kind. A `patch` (a strategic-merge patch
    /// for `kubectl patch --patch-file`) names only the fields it changes: every field must
    /// exist and be valid, but nothing is required.
    fn check_object(&self, doc: &Value, prefix: &str, patch: bool) -> (Vec<String>, Vec<Finding>) {
        let patched;
        let doc = if patch {
            patched = without_directives(doc);
            &patched
        } else {
            doc
        };
        let flavour = if patch { "#patch" } else { "" };
        let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
        let group = api.rsplit_once('/').map_or("", |(g, _)| g);
        let fail = |schema: &str, message: String| {
            (
                vec![schema.to_string()],
                vec![Finding {
                    schema: schema.to_string(),
                    path: prefix.to_string(),
                    message,
                }],
            )
        };
        if api == "kube6.dev/v1alpha1" && kind == "ClusterNetwork" {
            let name = "kube6 schema";
            let v = self.validator(name, kube6_schema);
            return match v.as_ref() {
                Ok(v) => (vec![name.into()], run(v, name, prefix, doc)),
                Err(e) => fail(name, e.clone()),
            };
        }
        if let Some((_, _, def)) = OWN.iter().find(|(a, k, _)| *a == api && *k == kind) {
            return self.check_own(OWN_SCHEMA, OWN_SCHEMA_NAME, def, prefix, doc);
        }
        if let Some((_, _, file)) = CRDS.iter().find(|(g, k, _)| *g == group && *k == kind) {
            let key = format!("{file}#{api}{flavour}");
            let v = self.validator(&key, || {
                self.crd_schema(file, api, kind)
                    .map(|s| if patch { kube::without_required(&s) } else { s })
            });
            let mut schemas = vec![file.to_string()];
            let mut findings = match v.as_ref() {
                Ok(v) => run(v, file, prefix, doc),
                Err(e) => return fail(file, e.clone()),
            };
            if kind == "HelmChartConfig" {
                let (s, f) = self.check_chart_values(doc, prefix);
                schemas.extend(s);
                findings.extend(f);
            }
            return (schemas, findings);
        }
        let definition = match self.swagger() {
            Ok((_, gvk)) => gvk.get(&format!("{api}/{kind}")).cloned(),
            Err(e) => return fail("kubernetes/swagger.json", e),
        };
        if let Some(def) = definition {
            let schema = "kubernetes/swagger.json";
            let v = self.validator(&format!("swagger/{api}/{kind}{flavour}"), || {
                self.builtin_schema(&def, api, kind)
                    .map(|s| if patch { kube::without_required(&s) } else { s })
            });
            return match v.as_ref() {
                Ok(v) => (vec![schema.into()], run(v, schema, prefix, doc)),
                Err(e) => fail(schema, e.clone()),
            };
        }
        fail(
            "none",
            format!(
                "no upstream schema for apiVersion {api:?} kind {kind:?}: add its schema to \
                 shared/schemas and to the table in tests/upstream/mod.rs"
            ),
        )
    }

    /// `doc` against the definition `def` of one of this test's own field-set files.
    fn check_own(
        &self,
        text: &'static str,
        name: &'static str,
        def: &str,
        prefix: &str,
        doc: &Value,
    ) -> (Vec<String>, Vec<Finding>) {
        let v = self.validator(&format!("{name}#{def}"), || {
            let own: Value = serde_json::from_str(text).map_err(|e| format!("{name}: {e}"))?;
            let defs: Map<String, Value> = own
                .get("definitions")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, kube::strict(&v, Dialect::OpenApiV2)))
                .collect();
            self.with_definitions(json!({"$ref": format!("#/definitions/{def}")}), &defs)
        });
        match v.as_ref() {
            Ok(v) => (vec![name.into()], run(v, name, prefix, doc)),
            Err(e) => (
                vec![name.into()],
                vec![Finding {
                    schema: name.into(),
                    path: prefix.into(),
                    message: e.clone(),
                }],
            ),
        }
    }

    /// A HelmChartConfig's `valuesContent` against the chart's values schema.
    fn check_chart_values(&self, doc: &Value, prefix: &str) -> (Vec<String>, Vec<Finding>) {
        let chart = doc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let prefix = format!("{prefix}/spec/valuesContent");
        let Some(text) = doc.pointer("/spec/valuesContent").and_then(Value::as_str) else {
            return (Vec::new(), Vec::new());
        };
        let values: Value = match serde_saphyr::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                return (
                    Vec::new(),
                    vec![Finding {
                        schema: "yaml".into(),
                        path: prefix,
                        message: format!("valuesContent is not YAML: {e}"),
                    }],
                );
            }
        };
        match chart {
            // rancher/rke2-charts packages the upstream cilium chart: same values.
            "rke2-cilium" => self.check_cilium_values(&values, &prefix),
            // The tigera-operator chart writes `installation` (less `enabled`) as the
            // Installation's spec (charts/tigera-operator/templates/crs/custom-resources.yaml).
            "rke2-calico" => {
                let mut findings = Vec::new();
                if let Some(map) = values.as_object() {
                    for key in map.keys().filter(|k| *k != "installation") {
                        findings.push(Finding {
                            schema: "rke2-calico chart".into(),
                            path: format!("{prefix}/{key}"),
                            message: format!(
                                "kube6 writes only `installation` for rke2-calico; {key} is not checked against a schema"
                            ),
                        });
                    }
                }
                let mut spec = values.get("installation").cloned().unwrap_or(json!({}));
                if let Value::Object(m) = &mut spec {
                    m.remove("enabled");
                }
                let installation = json!({
                    "apiVersion": "operator.tigera.io/v1",
                    "kind": "Installation",
                    "metadata": {"name": "default"},
                    "spec": spec,
                });
                let (schemas, f) = self.check_object(
                    &installation,
                    &format!("{prefix}/installation->Installation"),
                    false,
                );
                findings.extend(f);
                (schemas, findings)
            }
            // rancher/rke2-charts publishes no values.schema.json for rke2-canal; its values
            // are read back by kube6's own importer (the semantic round trip) instead.
            "rke2-canal" => {
                let findings = if values.is_object() {
                    Vec::new()
                } else {
                    vec![Finding {
                        schema: "rke2-canal chart".into(),
                        path: prefix,
                        message: "valuesContent must be a mapping of chart values".into(),
                    }]
                };
                (
                    vec!["rke2-canal values: no upstream schema".into()],
                    findings,
                )
            }
            // rancher/rke2-charts publishes no values.schema.json for rke2-coredns; the shape of
            // `servers` is the one its charts/values.yaml documents ("Complete example with all
            // the options": zones[].zone/scheme/use_tcp, port, plugins[].name/parameters/
            // configBlock), checked here key by key and type by type.
            "rke2-coredns" => (
                vec!["rke2-coredns values: charts/values.yaml `servers` shape".into()],
                check_coredns_servers(&values, &prefix),
            ),
            other => (
                Vec::new(),
                vec![Finding {
                    schema: "none".into(),
                    path: prefix,
                    message: format!("no values schema for the chart {other:?}"),
                }],
            ),
        }
    }

    fn check_cilium_values(&self, values: &Value, prefix: &str) -> (Vec<String>, Vec<Finding>) {
        let file = "cilium/values.schema.json";
        let v = self.validator(file, || {
            let schema: Value =
                serde_json::from_str(&self.read(file)?).map_err(|e| format!("{file}: {e}"))?;
            Ok(kube::strict(&schema, Dialect::HelmValues))
        });
        match v.as_ref() {
            Ok(v) => (vec![file.into()], run(v, file, prefix, values)),
            Err(e) => (
                vec![file.into()],
                vec![Finding {
                    schema: file.into(),
                    path: prefix.into(),
                    message: e.clone(),
                }],
            ),
        }
    }

    /// A fragment of core/v1 Container (`args`, `env`): each top-level key must be one of
    /// Container's fields and valid as that field.
    fn check_container_fragment(&self, doc: &Value) -> (Vec<String>, Vec<Finding>) {
        let schema_name = "kubernetes/swagger.json";
        let container = "io.k8s.api.core.v1.Container";
        let v = self.validator("swagger/Container-fragment", || {
            let (defs, _) = self.swagger()?;
            let fields = defs
                .get(container)
                .and_then(|c| c.get("properties"))
                .and_then(Value::as_object)
                .ok_or("swagger.json has no Container properties")?;
            let props: Map<String, Value> = fields
                .keys()
                .map(|k| {
                    (
                        k.clone(),
                        json!({"$ref": format!("#/definitions/{container}/properties/{k}")}),
                    )
                })
                .collect();
            self.with_definitions(
                json!({"type": "object", "additionalProperties": false, "properties": props}),
                &Map::new(),
            )
        });
        match v.as_ref() {
            Ok(v) => (vec![schema_name.into()], run(v, schema_name, "", doc)),
            Err(e) => (
                vec![schema_name.into()],
                vec![Finding {
                    schema: schema_name.into(),
                    path: String::new(),
                    message: e.clone(),
                }],
            ),
        }
    }

    /// Checks one written file: `path` is its path under the output directory (render) or
    /// `convert/FORMAT` (convert's standard output).
    pub fn check_file(&self, path: &str, content: &str) -> Outcome {
        if let Some((_, why)) = NO_SCHEMA.iter().find(|(p, _)| glob(p, path)) {
            return Outcome::NoSchema(why);
        }
        let docs: Vec<Value> = match serde_saphyr::from_multiple::<Value>(content) {
            Ok(d) => d.into_iter().filter(|d| !d.is_null()).collect(),
            Err(e) => {
                return Outcome::Checked {
                    schemas: vec!["yaml".into()],
                    findings: vec![Finding {
                        schema: "yaml".into(),
                        path: String::new(),
                        message: format!("not YAML: {e}"),
                    }],
                };
            }
        };
        let mut schemas = Vec::new();
        let mut findings = Vec::new();
        let many = docs.len() > 1;
        for (i, doc) in docs.iter().enumerate() {
            let prefix = if many {
                format!("[{i}]")
            } else {
                String::new()
            };
            let (s, f) = self.check_document(path, doc, &prefix);
            schemas.extend(s);
            findings.extend(f);
        }
        schemas.sort();
        schemas.dedup();
        Outcome::Checked { schemas, findings }
    }

    fn check_document(&self, path: &str, doc: &Value, prefix: &str) -> (Vec<String>, Vec<Finding>) {
        if doc.get("apiVersion").is_some() && doc.get("kind").is_some() {
            let patch = path.ends_with("-patch.yaml") || path.ends_with("-patch.json");
            return self.check_object(doc, prefix, patch);
        }
        let dist_role = |dir: &str| -> Option<flags::Role> {
            let name = path.strip_prefix(dir)?.strip_prefix('/')?;
            if name.contains('/') {
                return None;
            }
            if name.starts_with("agent") {
                Some(flags::Role::Agent)
            } else {
                Some(flags::Role::Server)
            }
        };
        for dist in ["k3s", "rke2"] {
            if let Some(role) = dist_role(dist) {
                let schema = "k3s-rke2-flags.tsv";
                let findings = match self.flags() {
                    Ok(flags) => flags
                        .check(dist, role, doc)
                        .into_iter()
                        .map(|(key, message)| Finding {
                            schema: schema.into(),
                            path: format!("{prefix}/{key}"),
                            message,
                        })
                        .collect(),
                    Err(e) => vec![Finding {
                        schema: schema.into(),
                        path: prefix.into(),
                        message: e.clone(),
                    }],
                };
                return (vec![schema.into()], findings);
            }
        }
        match path {
            "cni/cilium-values.yaml" => self.check_cilium_values(doc, prefix),
            "cni/flannel-net-conf.json" | "cni/canal-net-conf.json" => self.check_own(
                FLANNEL_SCHEMA,
                FLANNEL_SCHEMA_NAME,
                "flannel.NetConf",
                prefix,
                doc,
            ),
            "cni/kube-router-args.yaml" | "cni/canal-calico-node-env.yaml" => {
                self.check_container_fragment(doc)
            }
            _ => (
                vec!["none".into()],
                vec![Finding {
                    schema: "none".into(),
                    path: prefix.into(),
                    message: format!(
                        "no schema for {path}: give it one in tests/upstream/mod.rs, or list it in NO_SCHEMA with what checks it instead"
                    ),
                }],
            ),
        }
    }
}

/// `doc` without strategic-merge-patch directives (`$patch`, `$retainKeys`,
/// `$setElementOrder/...`, `$deleteFromPrimitiveList/...`): they are instructions to the
/// patch, not fields.
fn without_directives(doc: &Value) -> Value {
    match doc {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), without_directives(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_directives).collect()),
        other => other.clone(),
    }
}

/// What `kube6 schema` prints.
fn kube6_schema() -> Result<Value, String> {
    let bin = std::env::var_os("KUBE6_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_kube6").into());
    let out = std::process::Command::new(bin)
        .arg("schema")
        .output()
        .map_err(|e| format!("kube6 schema: {e}"))?;
    if !out.status.success() {
        return Err(format!("kube6 schema exited with {}", out.status));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("kube6 schema: {e}"))
}

/// Validates `doc` against an inline `schema` in `dialect` (for the harness's own tests).
pub fn check_inline(schema: &Value, dialect: Dialect, doc: &Value) -> Vec<Finding> {
    match compile(&kube::strict(schema, dialect)) {
        Ok(v) => run(&v, "inline", "", doc),
        Err(e) => vec![Finding {
            schema: "inline".into(),
            path: String::new(),
            message: e,
        }],
    }
}

/// rke2-coredns's `servers` (and `nodelocal`) as its charts/values.yaml documents them.
fn check_coredns_servers(values: &Value, prefix: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut bad = |path: String, message: &str| {
        findings.push(Finding {
            schema: "rke2-coredns chart".into(),
            path,
            message: message.into(),
        })
    };
    let Some(map) = values.as_object() else {
        bad(
            prefix.into(),
            "valuesContent must be a mapping of chart values",
        );
        return findings;
    };
    for key in map
        .keys()
        .filter(|k| !["servers", "nodelocal"].contains(&k.as_str()))
    {
        bad(
            format!("{prefix}/{key}"),
            "kube6 writes only servers and nodelocal for rke2-coredns",
        );
    }
    let Some(servers) = map.get("servers") else {
        return findings;
    };
    let Some(servers) = servers.as_array() else {
        bad(format!("{prefix}/servers"), "servers must be a list");
        return findings;
    };
    for (i, server) in servers.iter().enumerate() {
        let at = format!("{prefix}/servers/{i}");
        let Some(server) = server.as_object() else {
            bad(at, "a server must be a mapping");
            continue;
        };
        for key in server
            .keys()
            .filter(|k| !["zones", "port", "plugins"].contains(&k.as_str()))
        {
            bad(format!("{at}/{key}"), "unknown server key");
        }
        if server.get("port").is_some_and(|p| !p.is_u64()) {
            bad(format!("{at}/port"), "port must be a number");
        }
        for (j, zone) in server
            .get("zones")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let ok = zone.as_object().is_some_and(|z| {
                z.get("zone").is_some_and(Value::is_string)
                    && z.keys()
                        .all(|k| ["zone", "scheme", "use_tcp"].contains(&k.as_str()))
            });
            if !ok {
                bad(
                    format!("{at}/zones/{j}"),
                    "a zone is {zone, scheme?, use_tcp?} with zone a string",
                );
            }
        }
        let Some(plugins) = server.get("plugins").and_then(Value::as_array) else {
            bad(format!("{at}/plugins"), "plugins must be a list");
            continue;
        };
        for (j, plugin) in plugins.iter().enumerate() {
            let ok = plugin.as_object().is_some_and(|p| {
                p.get("name").is_some_and(Value::is_string)
                    && p.iter().all(|(k, v)| {
                        ["name", "parameters", "configBlock"].contains(&k.as_str()) && v.is_string()
                    })
            });
            if !ok {
                bad(
                    format!("{at}/plugins/{j}"),
                    "a plugin is {name, parameters?, configBlock?}, all strings",
                );
            }
        }
    }
    findings
}
