//! Rules: each group reads the model and reports what a component would reject (or what would
//! not work), as diagnostics made from the catalog.

pub mod catalog;
mod cni;
mod cross;
pub(crate) mod distribution;
pub(crate) mod input;
mod kubernetes;

use ipnet::IpNet;

use crate::diagnostic::{self, Diagnostic};
use crate::model::{CidrValue, ClusterNetwork};
use crate::source::Located;

pub use input::is_dns_subdomain;
pub use kubernetes::allocates_node_cidrs;

/// Where rules put their findings.
pub type Out = Vec<Diagnostic>;

/// Runs every rule that applies to `net`, sorted by position.
pub fn check(net: &ClusterNetwork) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    input::check(net, &mut out);
    kubernetes::check(net, &mut out);
    distribution::check(net, &mut out);
    cni::check(net, &mut out);
    cross::check(net, &mut out);
    diagnostic::sort(&mut out);
    out.dedup();
    out
}

/// The ranges of a list that parsed, with their values.
pub(crate) fn ranges(list: &[Located<CidrValue>]) -> Vec<(&Located<CidrValue>, IpNet)> {
    list.iter()
        .filter_map(|v| v.value.net().map(|n| (v, n)))
        .collect()
}

/// `cidr`'s network address with another prefix length (host bits cleared).
pub(crate) fn with_prefix(cidr: &IpNet, prefix: u8) -> IpNet {
    IpNet::new(cidr.network(), prefix)
        .map(|n| n.trunc())
        .unwrap_or(*cidr)
}
