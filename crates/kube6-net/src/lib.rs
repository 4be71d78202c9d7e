//! Address math for kube6: address families, CIDR parsing and canonical form, range sizes as
//! exact integers, containment and overlap, special-purpose ranges, and a node-block allocator
//! with kube-controller-manager's cidrset semantics. Pure functions and data, no I/O.

#![warn(missing_docs)]

pub mod cidr;
pub mod cidrset;
mod family;
pub mod node_allocator;
pub mod special;

pub use cidr::{
    AddressCount, CidrError, ParsedCidr, add_to_last_byte, canonical_text, contains_addr,
    contains_net, indexed_ip, last_address, nth_address, overlaps, parse_cidr, parse_cidr_list,
    parse_ip, range_size,
};
pub use cidrset::{CLUSTER_SUBNET_MAX_DIFF, CidrSet, CidrSetError};
pub use family::{Family, FamilyParseError};
pub use node_allocator::NodeAllocator;
pub use special::{SpecialRange, is_global_unicast_v6, is_private_v4, is_ula, special_overlaps};
