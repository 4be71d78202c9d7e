//! Rules: each group reads the model and reports what a component would reject (or what would
//! not work), as diagnostics made from the catalog.

mod api;
pub mod catalog;
mod cni;
mod cni_config;
mod cross;
pub(crate) mod distribution;
mod dns;
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
    cni_config::check(net, &mut out);
    api::check(net, &mut out);
    cross::check(net, &mut out);
    dns::check(net, &mut out);
    diagnostic::sort(&mut out);
    out.dedup();
    out
}

/// Every rule of `distribution`, run on `net` as that distribution's configuration (whatever
/// the input's distribution): what a renderer for `distribution` checks before it writes
/// anything. The CNI's rules are left out: the renderer writes the CNI's configuration itself
/// and that configuration is read back and judged afterwards.
pub fn check_target(
    net: &ClusterNetwork,
    distribution: crate::model::Distribution,
) -> Vec<Diagnostic> {
    let mut as_target = net.clone();
    if distribution != net.distribution.value {
        as_target.distribution = crate::source::Located::new(
            distribution,
            crate::source::Origin::input("--target", None),
        );
    }
    let mut out = Vec::new();
    distribution::check_for(&as_target, distribution, &mut out);
    diagnostic::sort(&mut out);
    out.dedup();
    out
}

/// The rules `distribution` itself enforces, run on `net` as if it were that distribution's
/// configuration: what `kube6 validate --target` and `kube6 render --target` report. Findings
/// the input's own rules already make (`check`) are left out.
pub fn check_for(
    net: &ClusterNetwork,
    distribution: crate::model::Distribution,
) -> Vec<Diagnostic> {
    if distribution == net.distribution.value {
        return Vec::new();
    }
    let mut as_target = net.clone();
    as_target.distribution =
        crate::source::Located::new(distribution, crate::source::Origin::input("--target", None));
    let own = check(net);
    let mut out = Vec::new();
    distribution::check_for(&as_target, distribution, &mut out);
    cni::check(&as_target, &mut out);
    out.retain(|d| !own.contains(d));
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
