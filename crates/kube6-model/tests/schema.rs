//! The published JSON Schema and the kube6 importer agree on every object's fields, and every
//! kube6-format example conforms to the schema's required fields and enums where they matter.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use serde_json::Value;

fn schema() -> Value {
    serde_json::from_str(kube6_model::CLUSTER_NETWORK_SCHEMA).unwrap()
}

/// Follows `$ref` and picks the object variant of a `oneOf`.
fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    loop {
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            let name = reference.trim_start_matches("#/$defs/");
            node = &root["$defs"][name];
        } else if let Some(variants) = node.get("oneOf").and_then(Value::as_array) {
            node = variants
                .iter()
                .find(|v| {
                    v.get("properties").is_some()
                        || v.get("$ref").is_some() && resolve(root, v).get("properties").is_some()
                })
                .unwrap_or(&Value::Null);
        } else {
            return node;
        }
    }
}

/// The schema object at a dotted path such as `spec.cni.calico.pools[]`.
fn object_at<'a>(root: &'a Value, path: &str) -> &'a Value {
    let mut node = root;
    if path.is_empty() {
        return node;
    }
    for segment in path.split('.') {
        let (name, item) = match segment.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (segment, false),
        };
        node = resolve(root, node);
        node = &node["properties"][name];
        if item {
            node = &resolve(root, node)["items"];
        }
    }
    resolve(root, node)
}

#[test]
fn schema_lists_exactly_the_fields_the_importer_reads() {
    let root = schema();
    let mut mismatches = Vec::new();
    for (path, fields) in kube6_model::import::kube6_fields() {
        let object = object_at(&root, path);
        let in_schema: BTreeSet<&str> = object["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("schema has no object at {path:?}"))
            .keys()
            .map(String::as_str)
            .collect();
        let in_importer: BTreeSet<&str> = fields.iter().copied().collect();
        if in_schema != in_importer {
            mismatches.push(format!(
                "{path:?}: schema {in_schema:?} vs importer {in_importer:?}"
            ));
        }
        assert_eq!(
            object["additionalProperties"],
            Value::Bool(false),
            "{path:?} should refuse unknown fields"
        );
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn schema_enums_match_the_model() {
    let root = schema();
    let names = |def: &str| -> BTreeSet<String> {
        root["$defs"][def]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let distributions: BTreeSet<String> = kube6_model::model::Distribution::ALL
        .iter()
        .map(|d| d.as_str().to_string())
        .collect();
    assert_eq!(names("distributionName"), distributions);
    let cnis: BTreeSet<String> = kube6_model::model::Cni::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    assert_eq!(names("cniName"), cnis);
    let modes: BTreeSet<String> = kube6_model::model::UpstreamMode::ALL
        .iter()
        .map(|m| m.as_str().to_string())
        .collect();
    let schema_modes: BTreeSet<String> =
        resolve(&root, &root["$defs"]["upstream"])["properties"]["mode"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
    assert_eq!(schema_modes, modes);
    let implementations: BTreeSet<String> = kube6_model::model::LbImplementation::ALL
        .iter()
        .map(|i| i.as_str().to_string())
        .collect();
    assert_eq!(names("lbImplementation"), implementations);
    let pool_modes: BTreeSet<String> = kube6_model::model::LbMode::ALL
        .iter()
        .map(|m| m.as_str().to_string())
        .collect();
    assert_eq!(names("lbMode"), pool_modes);
    let ingress: BTreeSet<String> = kube6_model::model::IngressController::ALL
        .iter()
        .map(|i| i.as_str().to_string())
        .collect();
    assert_eq!(names("ingressController"), ingress);
    let ndp_proxy: BTreeSet<String> = kube6_model::model::NdpProxyMode::ALL
        .iter()
        .map(|m| m.as_str().to_string())
        .collect();
    assert_eq!(names("lbNdpProxy"), ndp_proxy);
}
