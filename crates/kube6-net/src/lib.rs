//! Address math for kube6: address families, CIDR parsing and canonical form, range sizes as
//! exact integers, containment and overlap, special-purpose ranges, and a node-block allocator
//! with kube-controller-manager's cidrset semantics. Pure functions and data, no I/O.

mod family;

pub use family::{Family, FamilyParseError};
