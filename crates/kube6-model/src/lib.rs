//! The cluster-network model: one canonical `ClusterNetwork`, importers for every input format
//! (keeping the line and column of each value), distribution defaults, rules and the plan.

pub mod defaults;
pub mod diagnostic;
pub mod facts;
pub mod import;
pub mod k0s;
pub mod load_balancer;
pub mod model;
pub mod node_kernel;
pub mod plan;
pub mod prefix;
pub mod rules;
pub mod source;
pub mod version;
pub mod yaml;

use crate::diagnostic::Diagnostic;
use crate::import::{ImportError, ImportOptions};
use crate::model::ClusterNetwork;
use crate::plan::Plan;

/// The built-in example: k0s IPv6 single-stack from the k0s documentation (`kube6 plan` with no
/// file). The documentation tells users to start controllers with the IPv6SingleStack gate, so
/// callers pass it as a feature gate.
pub const BUILTIN_EXAMPLE: &str = include_str!("../../../examples/k0s-ipv6-single-stack.yaml");
/// The name the built-in example is shown under.
pub const BUILTIN_EXAMPLE_NAME: &str = "examples/k0s-ipv6-single-stack.yaml";

/// A file read, checked and planned.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub network: ClusterNetwork,
    pub plan: Plan,
}

impl Analysis {
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.plan.diagnostics
    }
}

/// Imports `text` (the content of `file`), carves its prefix (`spec.prefix`), runs every rule
/// and builds the plan.
pub fn analyze(file: &str, text: &str, options: &ImportOptions) -> Result<Analysis, ImportError> {
    analyze_with_prefix(file, text, options, &prefix::PrefixOptions::default())
}

/// `analyze`, with a prefix to carve (or settings for the file's) from the command line
/// (`kube6 plan --prefix`).
pub fn analyze_with_prefix(
    file: &str,
    text: &str,
    options: &ImportOptions,
    prefix_options: &prefix::PrefixOptions,
) -> Result<Analysis, ImportError> {
    let imported = import::import(text, options)?;
    let mut network = imported.network;
    let mut diagnostics = imported.notes;
    let carving = prefix::apply(&mut network, prefix_options);
    diagnostics.extend(carving.diagnostics);
    diagnostics.extend(rules::check(&network));
    diagnostic::sort(&mut diagnostics);
    diagnostics.dedup();
    let mut plan = plan::build(&network, file, diagnostics);
    plan.prefix = carving.plan;
    if let Some(before) = carving.before {
        let mut old = plan::build(&before.network, file, Vec::new());
        old.prefix = before.plan;
        plan.renumbering = Some(prefix::renumbering(&old, &plan, before.from, before.to));
    }
    Ok(Analysis { network, plan })
}

/// The JSON Schema of kube6's `ClusterNetwork` (`kube6 schema`).
pub const CLUSTER_NETWORK_SCHEMA: &str = include_str!("../schema/clusternetwork.schema.json");
