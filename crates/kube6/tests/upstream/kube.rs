//! Kubernetes' schema dialects turned into plain JSON Schema (draft 7) that validates the way
//! the API server does with strict field validation (`kubectl apply --validate=strict`, the
//! default since Kubernetes 1.27):
//!
//! - CRD `openAPIV3Schema` (a structural schema, k8s.io/apiextensions-apiserver
//!   pkg/apis/apiextensions/v1 types_jsonschema.go): `nullable`, `x-kubernetes-int-or-string`,
//!   `x-kubernetes-preserve-unknown-fields`, `x-kubernetes-embedded-resource`,
//!   `x-kubernetes-list-type`/`-list-map-keys`, `default`, and formats. A structural schema
//!   prunes every field it does not specify unless preserve-unknown-fields says otherwise
//!   (apiextensions-apiserver pkg/apiserver/schema/pruning/algorithm.go); strict field
//!   validation turns each pruned field into an error, so every object here is closed with
//!   `additionalProperties: false` unless the schema keeps unknown fields or gives a map's
//!   `additionalProperties`.
//! - The Kubernetes OpenAPI v2 document (`swagger.json`): `#/definitions/...` references,
//!   `IntOrString` and `Quantity` (which accept numbers as well as strings), built-in types
//!   closed to their declared fields as the API server's strict decoding does.
//!
//! What is not evaluated: `x-kubernetes-validations` (CEL rules; see docs/render.md for the
//! ones in the schemas we use and why they hold for rendered documents).

use serde_json::{Map, Value, json};

/// Where a schema node sits: junctors (`allOf`/`anyOf`/`oneOf`/`not`) of a structural schema
/// may only restate constraints of the fields around them, so they are never closed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Field,
    Junctor,
}

/// Which dialect a schema is written in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dialect {
    /// A CRD's structural `openAPIV3Schema`: an object without properties prunes everything.
    Structural,
    /// OpenAPI v2 definitions: an object without properties is free-form (RawExtension).
    OpenApiV2,
    /// A Helm chart's values.schema.json: objects that list properties are closed, free-form
    /// objects (annotations, labels) stay open.
    HelmValues,
}

/// The DNS-1123 subdomain every object name must be (k8s.io/apimachinery
/// pkg/util/validation/validation.go IsDNS1123Subdomain), at most 253 characters.
pub const DNS1123_SUBDOMAIN: &str =
    "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

pub const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// `schema` rewritten for strict validation in `dialect`.
pub fn strict(schema: &Value, dialect: Dialect) -> Value {
    convert(schema, dialect, Place::Field)
}

fn is_true(map: &Map<String, Value>, key: &str) -> bool {
    map.get(key).and_then(Value::as_bool) == Some(true)
}

fn convert(schema: &Value, dialect: Dialect, place: Place) -> Value {
    let Value::Object(input) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in input {
        let converted = match key.as_str() {
            "properties" | "patternProperties" | "definitions" | "$defs" => match value {
                Value::Object(children) => Value::Object(
                    children
                        .iter()
                        .map(|(name, child)| (name.clone(), convert(child, dialect, Place::Field)))
                        .collect(),
                ),
                other => other.clone(),
            },
            "items" | "additionalProperties" | "additionalItems" => match value {
                Value::Array(items) => Value::Array(
                    items
                        .iter()
                        .map(|i| convert(i, dialect, Place::Field))
                        .collect(),
                ),
                Value::Object(_) => convert(value, dialect, Place::Field),
                other => other.clone(),
            },
            "allOf" | "anyOf" | "oneOf" => match value {
                Value::Array(items) => {
                    // Helm values schemas use anyOf for real alternatives (an object or
                    // null); a structural schema's junctors only restate constraints.
                    let inner = if dialect == Dialect::HelmValues {
                        Place::Field
                    } else {
                        Place::Junctor
                    };
                    Value::Array(items.iter().map(|i| convert(i, dialect, inner)).collect())
                }
                other => other.clone(),
            },
            "not" => convert(value, dialect, Place::Junctor),
            "pattern" => match value.as_str() {
                Some(p) => Value::String(ecma_pattern(p)),
                None => value.clone(),
            },
            // Annotations only; some upstream defaults are not valid against the draft-7
            // meta-schema's idea of the keyword (e.g. `default` on a `$ref`).
            "description" | "example" | "examples" => continue,
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }

    let nullable = is_true(input, "nullable");
    let preserve = is_true(input, "x-kubernetes-preserve-unknown-fields");
    let int_or_string = is_true(input, "x-kubernetes-int-or-string")
        || input.get("format").and_then(Value::as_str) == Some("int-or-string");

    if int_or_string {
        out.remove("format");
        out.insert("type".into(), json!(["integer", "string"]));
    }
    // Integer formats are ranges (apiextensions validates int32/int64 like Go's types).
    let is_integer = input.get("type").and_then(Value::as_str) == Some("integer");
    if is_integer {
        match input.get("format").and_then(Value::as_str) {
            Some("int32") => {
                out.entry("minimum").or_insert(json!(i32::MIN));
                out.entry("maximum").or_insert(json!(i32::MAX));
            }
            Some("int64") => {
                out.entry("minimum").or_insert(json!(i64::MIN));
                out.entry("maximum").or_insert(json!(i64::MAX));
            }
            _ => {}
        }
        out.remove("format");
    }
    if nullable {
        match out.get("type").cloned() {
            Some(Value::String(t)) => {
                out.insert("type".into(), json!([t, "null"]));
            }
            Some(Value::Array(mut types)) => {
                types.push(json!("null"));
                out.insert("type".into(), Value::Array(types));
            }
            _ => {}
        }
        if let Some(Value::Array(values)) = out.get_mut("enum") {
            values.push(Value::Null);
        }
    }
    if input.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("set") {
        out.insert("uniqueItems".into(), Value::Bool(true));
    }

    // An embedded resource has apiVersion, kind and metadata even when its schema does not
    // list them; the API server requires the first two and validates metadata as ObjectMeta.
    if is_true(input, "x-kubernetes-embedded-resource") {
        let props = out
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(props) = props {
            props
                .entry("apiVersion")
                .or_insert(json!({"type": "string", "minLength": 1}));
            props
                .entry("kind")
                .or_insert(json!({"type": "string", "minLength": 1}));
            props.insert("metadata".into(), object_meta_ref());
        }
        out.insert("required".into(), json!(["apiVersion", "kind"]));
    }

    // A required field with a default is filled in before validation (structural defaulting
    // runs first, apiextensions-apiserver pkg/apiserver/schema/defaulting).
    if let (Some(Value::Array(required)), Some(Value::Object(props))) =
        (out.get("required").cloned(), input.get("properties"))
    {
        let kept: Vec<Value> = required
            .into_iter()
            .filter(|name| {
                name.as_str()
                    .and_then(|n| props.get(n))
                    .is_none_or(|p| p.get("default").is_none())
            })
            .collect();
        out.insert("required".into(), Value::Array(kept));
    }

    let is_object = match input.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
        None => input.contains_key("properties"),
        _ => false,
    };
    let has_properties = input
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    let close = place == Place::Field
        && is_object
        && !preserve
        && !input.contains_key("additionalProperties")
        && !input.contains_key("patternProperties")
        && !input.contains_key("$ref")
        && match dialect {
            Dialect::Structural => true,
            Dialect::OpenApiV2 | Dialect::HelmValues => has_properties,
        };
    if close {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    Value::Object(out)
}

/// A Go (RE2) `pattern` in the ECMA 262 syntax JSON Schema requires, same meaning: POSIX
/// classes (`[[:xdigit:]]`) spelled out, and a `(?i)` flag turned into letter classes
/// (`[tT]`), since ECMA patterns have no inline flags.
pub fn ecma_pattern(pattern: &str) -> String {
    const POSIX: &[(&str, &str)] = &[
        ("[:xdigit:]", "0-9A-Fa-f"),
        ("[:alnum:]", "0-9A-Za-z"),
        ("[:alpha:]", "A-Za-z"),
        ("[:digit:]", "0-9"),
        ("[:upper:]", "A-Z"),
        ("[:lower:]", "a-z"),
        ("[:space:]", "\\t\\n\\v\\f\\r "),
        ("[:word:]", "0-9A-Za-z_"),
    ];
    let mut p = pattern.to_string();
    for (class, ascii) in POSIX {
        p = p.replace(class, ascii);
    }
    if !p.contains("(?i)") {
        return p;
    }
    let p = p.replace("(?i)", "");
    let mut out = String::new();
    let mut chars = p.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            c if c.is_ascii_alphabetic() && !in_class => {
                out.push('[');
                out.push(c.to_ascii_lowercase());
                out.push(c.to_ascii_uppercase());
                out.push(']');
            }
            // Letters inside a class stay as written (a range like a-z cannot simply be
            // doubled); none of the schemas used combine (?i) with a class.
            c => out.push(c),
        }
    }
    out
}

/// `schema` with every `required` list removed (for patches, which name only what they change).
/// Keywords whose values are maps of schemas are walked by value, so a property that happens to
/// be called `required` stays.
pub fn without_required(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, v)| !(*k == "required" && v.is_array()))
                .map(|(k, v)| {
                    let child = match (k.as_str(), v) {
                        (
                            "properties" | "patternProperties" | "definitions" | "$defs",
                            Value::Object(m),
                        ) => Value::Object(
                            m.iter()
                                .map(|(name, s)| (name.clone(), without_required(s)))
                                .collect(),
                        ),
                        _ => without_required(v),
                    };
                    (k.clone(), child)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_required).collect()),
        other => other.clone(),
    }
}

/// A reference to ObjectMeta in the definitions every built validator carries.
pub fn object_meta_ref() -> Value {
    json!({"$ref": format!("#/definitions/{OBJECT_META}")})
}

/// The swagger.json definitions for strict validation: IntOrString and Quantity take numbers
/// too (their UnmarshalJSON accepts them), object names must be DNS-1123 subdomains.
pub fn swagger_definitions(swagger: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(defs) = swagger.get("definitions").and_then(Value::as_object) else {
        return out;
    };
    for (name, def) in defs {
        let mut converted = strict(def, Dialect::OpenApiV2);
        match name.as_str() {
            "io.k8s.apimachinery.pkg.util.intstr.IntOrString" => {
                converted = json!({"type": ["integer", "string"]});
            }
            // resource.Quantity reads "1", 1 and 1.5 alike.
            "io.k8s.apimachinery.pkg.api.resource.Quantity" => {
                converted = json!({"type": ["string", "number"]});
            }
            OBJECT_META => {
                if let Some(Value::Object(name)) = converted.pointer_mut("/properties/name") {
                    name.insert("pattern".into(), json!(DNS1123_SUBDOMAIN));
                    name.insert("maxLength".into(), json!(253));
                }
            }
            _ => {}
        }
        out.insert(name.clone(), converted);
    }
    out
}

/// The names of the definitions `roots` reach through `#/definitions/...` references.
pub fn reachable(defs: &Map<String, Value>, roots: &[&str]) -> Map<String, Value> {
    let mut seen = Map::new();
    let mut todo: Vec<String> = roots.iter().map(|r| r.to_string()).collect();
    while let Some(name) = todo.pop() {
        if seen.contains_key(&name) {
            continue;
        }
        let Some(def) = defs.get(&name) else { continue };
        refs(def, &mut todo);
        seen.insert(name, def.clone());
    }
    seen
}

/// Every `#/definitions/NAME` reference under `value`, as NAME.
pub fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref"
                    && let Some(name) = v.as_str().and_then(|r| r.strip_prefix("#/definitions/"))
                {
                    out.push(name.split('/').next().unwrap_or(name).to_string());
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| refs(i, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_require_nothing_but_keep_fields_named_required() {
        let s = json!({"type": "object", "required": ["a"], "properties": {
            "required": {"type": "object", "required": ["x"], "properties": {"x": {"type": "string"}}},
            "a": {"type": "string"}}});
        let p = without_required(&s);
        assert!(p.get("required").is_none());
        assert!(p["properties"]["required"].get("required").is_none());
        assert_eq!(
            p["properties"]["required"]["properties"]["x"],
            json!({"type": "string"})
        );
    }

    #[test]
    fn go_patterns_become_ecma_patterns() {
        assert_eq!(
            ecma_pattern("^(?i)(Info|Debug)?$"),
            "^([iI][nN][fF][oO]|[dD][eE][bB][uU][gG])?$"
        );
        assert_eq!(ecma_pattern("^[[:xdigit:]]{32,}$"), "^[0-9A-Fa-f]{32,}$");
        assert_eq!(ecma_pattern("^\\w+$"), "^\\w+$");
    }

    #[test]
    fn helm_objects_without_properties_stay_open() {
        let s = strict(
            &json!({"type": "object", "properties": {"a": {"type": "object"}}}),
            Dialect::HelmValues,
        );
        assert_eq!(s["additionalProperties"], json!(false));
        assert!(s["properties"]["a"].get("additionalProperties").is_none());
    }
}
