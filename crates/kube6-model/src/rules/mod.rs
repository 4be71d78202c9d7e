//! Rules: each group reads the model and reports what a component would reject (or what would
//! not work), as diagnostics made from the catalog.

pub mod catalog;

use crate::diagnostic::Diagnostic;
use crate::model::ClusterNetwork;

/// Runs every rule that applies to `net`.
pub fn check(net: &ClusterNetwork) -> Vec<Diagnostic> {
    let _ = net;
    Vec::new()
}
