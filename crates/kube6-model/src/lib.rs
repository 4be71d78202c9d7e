//! The cluster-network model: one canonical `ClusterNetwork`, importers for every input format
//! (keeping the line and column of each value), distribution defaults, rules and the plan.
