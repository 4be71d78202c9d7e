//! The cluster-network model: one canonical `ClusterNetwork`, importers for every input format
//! (keeping the line and column of each value), distribution defaults, rules and the plan.

pub mod defaults;
pub mod diagnostic;
pub mod import;
pub mod k0s;
pub mod model;
pub mod rules;
pub mod source;
pub mod yaml;
