//! Address math for kube6: address families, CIDR parsing and canonical form, range sizes as
//! exact integers, containment and overlap, special-purpose ranges, and a node-block allocator
//! with kube-controller-manager's cidrset semantics. Pure functions and data, no I/O.

pub mod cidr;
mod family;

pub use cidr::{
    AddressCount, CidrError, ParsedCidr, add_to_last_byte, canonical_text, contains_addr,
    contains_net, indexed_ip, last_address, nth_address, overlaps, parse_cidr, parse_cidr_list,
    parse_ip, range_size,
};
pub use family::{Family, FamilyParseError};
