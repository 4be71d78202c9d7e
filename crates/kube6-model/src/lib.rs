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

/// Imports `text` (the content of `file`), runs every rule and builds the plan.
pub fn analyze(file: &str, text: &str, options: &ImportOptions) -> Result<Analysis, ImportError> {
    let imported = import::import(text, options)?;
    let mut diagnostics = imported.notes;
    diagnostics.extend(rules::check(&imported.network));
    diagnostic::sort(&mut diagnostics);
    let plan = plan::build(&imported.network, file, diagnostics);
    Ok(Analysis {
        network: imported.network,
        plan,
    })
}

/// The JSON Schema of kube6's `ClusterNetwork` (`kube6 schema`).
pub const CLUSTER_NETWORK_SCHEMA: &str = include_str!("../schema/clusternetwork.schema.json");
