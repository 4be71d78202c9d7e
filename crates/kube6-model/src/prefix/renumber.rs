//! When the delegated prefix changes (dynamic ISP prefixes): what the input fixes inside the old
//! prefix keeps its offset in the new one (the way a renumbered network keeps its subnet and
//! interface numbers), carved ranges are carved again, and the plan lists every range and
//! address before and after (`renumbering` in `kube6 plan -o json`, for `kube6 diff`).

use std::net::{IpAddr, Ipv6Addr};

use ipnet::{IpNet, Ipv6Net};
use kube6_net::Family;
use serde::Serialize;

use super::space::{Block, span};
use super::{PrefixPlan, RangeRole};
use crate::diagnostic::Diagnostic;
use crate::load_balancer::AddressBlock;
use crate::model::{AddrValue, CidrValue, ClusterNetwork};
use crate::plan::Plan;
use crate::rules::catalog as r;
use crate::source::{Located, Origin};

/// One range or address of the plan, before and after the prefix changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// What it is: `pods`, `services`, `apiServerIP`, `dnsIP`, `nodeMaskSize`, `nodeSubnet`,
    /// `nodeAddresses`, `loadBalancerPool`, `nodeAddress`, `nodePodCIDR`.
    pub what: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    /// The node it belongs to (by name, or `#2` for the second node without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The value under the old prefix (null: it did not exist).
    pub before: Option<String>,
    /// The value under the new prefix (null: it is gone).
    pub after: Option<String>,
    /// `before` and `after` differ.
    pub changed: bool,
}

/// The plan's renumbering: the old and new prefix and every range and address of both plans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Renumbering {
    pub from: IpNet,
    pub to: IpNet,
    pub changes: Vec<Change>,
}

/// `addr` moved from `old` to the same offset in `new`; None when it is not in `old`, and
/// Err when its offset lies beyond the end of `new`.
fn move_addr(addr: Ipv6Addr, old: &Block, new: &Block) -> Option<Result<Ipv6Addr, ()>> {
    let a = u128::from(addr);
    if !old.contains_addr(a) {
        return None;
    }
    let offset = old.offset_of(a);
    Some(if offset <= span(new.len) {
        Ok(Ipv6Addr::from(new.start + offset))
    } else {
        Err(())
    })
}

fn move_net(net: &Ipv6Net, old: &Block, new: &Block) -> Option<Result<Ipv6Net, ()>> {
    let block = Block::from_net(net);
    if !old.contains(&block) {
        return None;
    }
    if block.len < new.len {
        return Some(Err(()));
    }
    Some(match move_addr(net.network(), old, new)? {
        Ok(start) => {
            let moved = Block {
                start: u128::from(start),
                len: block.len,
            };
            if new.contains(&moved) {
                Ok(moved.net())
            } else {
                Err(())
            }
        }
        Err(()) => Err(()),
    })
}

/// Moves every value the input fixes inside `old` to the same place in `new`.
pub(crate) fn translate(
    net: &mut ClusterNetwork,
    old: Ipv6Net,
    new: Ipv6Net,
    origin: &Origin,
) -> Vec<Diagnostic> {
    let mut mover = Mover {
        old: Block::from_net(&old),
        new: Block::from_net(&new),
        moved: 0,
        out: Vec::new(),
    };
    let m = &mut mover;
    for v in net.pods.iter_mut().chain(net.services.iter_mut()) {
        m.cidr(v);
    }
    for node in &mut net.nodes {
        for a in &mut node.addresses {
            m.addr(a);
        }
    }
    for a in net
        .cluster_dns
        .iter_mut()
        .chain(net.api.endpoint_addresses.iter_mut())
    {
        m.addr(a);
    }
    for text in net
        .api
        .address
        .iter_mut()
        .chain(net.api.external.iter_mut())
        .chain(net.api.sans.iter_mut())
    {
        m.text(text);
    }
    for upstream in &mut net.upstream {
        if let Some(peer) = upstream.bgp.as_mut().and_then(|b| b.peer_address.as_mut()) {
            m.addr(peer);
        }
    }
    for peer in &mut net.load_balancer.bgp_peers {
        if let Some(address) = &mut peer.peer_address {
            m.addr(address);
        }
    }
    for pool in &mut net.calico.pools {
        m.cidr(&mut pool.cidr);
    }
    // Load-balancer pools the input declares inside the old prefix: its addresses are no
    // longer routed to the cluster, so they follow the prefix like every other fixed value;
    // pools outside it (ULA, another provider's range) stay as they are.
    for pool in &mut net.load_balancer.pools {
        for block in pool.addresses.iter_mut().filter(|a| !a.origin.is_derived()) {
            m.pool_block(block);
        }
    }
    for v in net
        .cilium
        .ipv6_pools
        .iter_mut()
        .chain(net.cilium.ipv6_native_routing_cidr.iter_mut())
        .chain(net.kube_router.service_ranges.iter_mut())
        .chain(net.nat64.iter_mut().map(|n| &mut n.prefix))
    {
        m.cidr(v);
    }
    if let Some(conf) = &mut net.flannel.net_conf {
        for v in conf.ipv6_network.iter_mut() {
            m.cidr(v);
        }
    }
    let s = &mut net.specific;
    for v in [
        &mut s.k0s_pod_cidr,
        &mut s.k0s_service_cidr,
        &mut s.k0s_ipv6_pod_cidr,
        &mut s.k0s_ipv6_service_cidr,
    ]
    .into_iter()
    .flatten()
    {
        m.cidr(v);
    }
    for list in [
        &mut s.raw_pod_list,
        &mut s.raw_service_list,
        &mut net.kube_proxy_cluster_cidr,
    ]
    .into_iter()
    .flatten()
    {
        m.list(list);
    }
    let moved = mover.moved;
    let mut out = mover.out;
    out.push(Diagnostic::new(
        &r::PREFIX_RENUMBERED,
        origin,
        format!(
            "the prefix changes from {old} to {new}: {moved} value(s) the input sets inside {old} keep their place in \
             {new}, and the carved ranges are carved again; the plan's renumbering lists every range and address before \
             and after"
        ),
        format!(
            "write the new values into the configuration (for a kube6 ClusterNetwork: spec.prefix: {new}), and check with \
             kube6 diff what the running cluster can change"
        ),
    ));
    out
}

struct Mover {
    old: Block,
    new: Block,
    moved: usize,
    out: Vec<Diagnostic>,
}

impl Mover {
    fn misfit(&mut self, origin: &Origin, what: &str) {
        self.out.push(Diagnostic::new(
            &r::PREFIX_RENUMBER_DOES_NOT_FIT,
            origin,
            format!(
                "{what} lies at an offset of {} that the new prefix {} does not reach: it keeps its old value",
                self.old.net(),
                self.new.net()
            ),
            format!(
                "set it inside {} yourself, or leave it out and let kube6 carve it",
                self.new.net()
            ),
        ));
    }

    fn cidr(&mut self, value: &mut Located<CidrValue>) {
        let Some(IpNet::V6(net)) = value.value.net() else {
            return;
        };
        match move_net(&net, &self.old, &self.new) {
            None => {}
            Some(Ok(moved)) => {
                value.value = CidrValue::new(moved.to_string());
                self.moved += 1;
            }
            Some(Err(())) => self.misfit(&value.origin.clone(), &net.to_string()),
        }
    }

    fn addr(&mut self, value: &mut Located<AddrValue>) {
        let Some(IpAddr::V6(ip)) = value.value.parsed else {
            return;
        };
        match move_addr(ip, &self.old, &self.new) {
            None => {}
            Some(Ok(moved)) => {
                value.value = AddrValue::new(moved.to_string());
                self.moved += 1;
            }
            Some(Err(())) => self.misfit(&value.origin.clone(), &ip.to_string()),
        }
    }

    /// A load-balancer pool's block: a CIDR, or FIRST-LAST with both ends moved.
    fn pool_block(&mut self, value: &mut Located<AddressBlock>) {
        let Some(block) = value.value.block() else {
            return;
        };
        let (IpAddr::V6(first), IpAddr::V6(last)) = (block.first, block.last) else {
            return;
        };
        let moved = match block.cidr {
            Some(IpNet::V6(net)) => {
                move_net(&net, &self.old, &self.new).map(|r| r.map(|n| n.to_string()))
            }
            Some(IpNet::V4(_)) => return,
            None => match (
                move_addr(first, &self.old, &self.new),
                move_addr(last, &self.old, &self.new),
            ) {
                (None, None) => None,
                (Some(Ok(a)), Some(Ok(b))) => Some(Ok(format!("{a}-{b}"))),
                // Half in the old prefix, or beyond the end of the new one.
                _ => Some(Err(())),
            },
        };
        match moved {
            None => {}
            Some(Ok(text)) => {
                value.value = AddressBlock::new(text);
                self.moved += 1;
            }
            Some(Err(())) => self.misfit(&value.origin.clone(), &block.to_string()),
        }
    }

    /// An address written as text, bare or as `[addr]:port` (with or without https://).
    fn text(&mut self, value: &mut Located<String>) {
        let text = value.value.trim();
        let (scheme, rest) = match text.strip_prefix("https://") {
            Some(rest) => ("https://", rest),
            None => ("", text),
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        };
        let Ok(ip) = host.parse::<Ipv6Addr>() else {
            return;
        };
        match move_addr(ip, &self.old, &self.new) {
            None => {}
            Some(Ok(moved)) => {
                value.value = match port {
                    Some(port) => format!("{scheme}[{moved}]{port}"),
                    None => format!("{scheme}{moved}"),
                };
                self.moved += 1;
            }
            Some(Err(())) => self.misfit(&value.origin.clone(), &ip.to_string()),
        }
    }

    /// A comma-separated list of CIDRs.
    fn list(&mut self, value: &mut Located<String>) {
        let mut changed = false;
        let items: Vec<String> = value
            .value
            .split(',')
            .map(|item| {
                let trimmed = item.trim();
                match kube6_net::parse_cidr(trimmed).map(|p| p.net) {
                    Ok(IpNet::V6(net)) => match move_net(&net, &self.old, &self.new) {
                        Some(Ok(moved)) => {
                            changed = true;
                            moved.to_string()
                        }
                        _ => trimmed.to_string(),
                    },
                    _ => trimmed.to_string(),
                }
            })
            .collect();
        if changed {
            value.value = items.join(",");
        }
    }
}

/// Every range and address of `before` and `after`, side by side.
pub fn renumbering(before: &Plan, after: &Plan, from: Ipv6Net, to: Ipv6Net) -> Renumbering {
    let mut changes = Vec::new();
    let mut push = |what: &str,
                    family: Option<Family>,
                    node: Option<String>,
                    before: Option<String>,
                    after: Option<String>| {
        if before.is_none() && after.is_none() {
            return;
        }
        changes.push(Change {
            what: what.to_string(),
            family,
            node,
            changed: before != after,
            before,
            after,
        });
    };
    let text = |v: Option<&dyn ToString>| v.map(|v| v.to_string());
    let families: Vec<Family> = {
        let mut f = before.families.clone();
        for family in &after.families {
            if !f.contains(family) {
                f.push(*family);
            }
        }
        f
    };
    for &family in &families {
        let pods = |p: &Plan| p.pods.iter().find(|r| r.family == family).cloned();
        let (b, a) = (pods(before), pods(after));
        push(
            "pods",
            Some(family),
            None,
            b.as_ref().map(|p| p.cidr.to_string()),
            a.as_ref().map(|p| p.cidr.to_string()),
        );
        push(
            "nodeMaskSize",
            Some(family),
            None,
            b.and_then(|p| p.node_mask_size).map(|m| format!("/{m}")),
            a.and_then(|p| p.node_mask_size).map(|m| format!("/{m}")),
        );
        let services = |p: &Plan| p.services.iter().find(|r| r.family == family).cloned();
        let (b, a) = (services(before), services(after));
        push(
            "services",
            Some(family),
            None,
            b.as_ref().map(|s| s.cidr.to_string()),
            a.as_ref().map(|s| s.cidr.to_string()),
        );
        push(
            "apiServerIP",
            Some(family),
            None,
            b.as_ref()
                .and_then(|s| s.api_server_ip)
                .map(|i| i.to_string()),
            a.as_ref()
                .and_then(|s| s.api_server_ip)
                .map(|i| i.to_string()),
        );
        push(
            "dnsIP",
            Some(family),
            None,
            b.and_then(|s| s.dns_ip).map(|i| i.to_string()),
            a.and_then(|s| s.dns_ip).map(|i| i.to_string()),
        );
    }
    for role in [
        RangeRole::NodeSubnet,
        RangeRole::Hosts,
        RangeRole::LoadBalancerPool,
    ] {
        let of = |p: &Plan| -> Vec<String> {
            p.prefix.as_ref().map_or_else(Vec::new, |pp: &PrefixPlan| {
                pp.ranges_of(role).map(|r| r.cidr.to_string()).collect()
            })
        };
        let (b, a) = (of(before), of(after));
        let what = match role {
            RangeRole::NodeSubnet => "nodeSubnet",
            RangeRole::Hosts => "nodeAddresses",
            _ => "loadBalancerPool",
        };
        for i in 0..b.len().max(a.len()) {
            push(
                what,
                Some(Family::IPv6),
                None,
                b.get(i).cloned(),
                a.get(i).cloned(),
            );
        }
    }
    let nodes = before.nodes.len().max(after.nodes.len());
    for i in 0..nodes {
        let (b, a) = (before.nodes.get(i), after.nodes.get(i));
        let name = a
            .or(b)
            .and_then(|n| n.name.clone())
            .unwrap_or_else(|| format!("#{}", i + 1));
        let count = |n: Option<&crate::plan::NodePlan>, addresses: bool| {
            n.map_or(0, |n| {
                if addresses {
                    n.addresses.len()
                } else {
                    n.pod_cidrs.len()
                }
            })
        };
        for j in 0..count(b, true).max(count(a, true)) {
            push(
                "nodeAddress",
                None,
                Some(name.clone()),
                text(
                    b.and_then(|n| n.addresses.get(j))
                        .map(|x| x as &dyn ToString),
                ),
                text(
                    a.and_then(|n| n.addresses.get(j))
                        .map(|x| x as &dyn ToString),
                ),
            );
        }
        for j in 0..count(b, false).max(count(a, false)) {
            push(
                "nodePodCIDR",
                None,
                Some(name.clone()),
                text(
                    b.and_then(|n| n.pod_cidrs.get(j))
                        .map(|x| x as &dyn ToString),
                ),
                text(
                    a.and_then(|n| n.pod_cidrs.get(j))
                        .map(|x| x as &dyn ToString),
                ),
            );
        }
    }
    for (i, (b, a)) in before.dns_ips.iter().zip(&after.dns_ips).enumerate() {
        if i > 0 || b != a {
            push(
                "kubeletDNS",
                None,
                None,
                Some(b.to_string()),
                Some(a.to_string()),
            );
        }
    }
    Renumbering {
        from: IpNet::V6(from),
        to: IpNet::V6(to),
        changes,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn block(text: &str) -> Block {
        Block::from_net(&text.parse().unwrap())
    }

    #[test]
    fn values_keep_their_offset() {
        let (old, new) = (block("2001:db8:1:100::/56"), block("2001:db8:2:200::/56"));
        let moved = move_net(&"2001:db8:1:101::/64".parse().unwrap(), &old, &new);
        assert_eq!(moved.unwrap().unwrap().to_string(), "2001:db8:2:201::/64");
        let ip = move_addr("2001:db8:1:100::10".parse().unwrap(), &old, &new);
        assert_eq!(ip.unwrap().unwrap().to_string(), "2001:db8:2:200::10");
        // Outside the old prefix: untouched.
        assert!(move_net(&"fd00::/108".parse().unwrap(), &old, &new).is_none());
    }

    #[test]
    fn a_smaller_new_prefix_cannot_take_what_lies_beyond_it() {
        let (old, new) = (block("2001:db8:1::/48"), block("2001:db8:2::/56"));
        assert!(
            move_net(&"2001:db8:1:ff00::/64".parse().unwrap(), &old, &new)
                .unwrap()
                .is_err()
        );
        assert!(
            move_net(&"2001:db8:1:1::/64".parse().unwrap(), &old, &new)
                .unwrap()
                .is_ok()
        );
        // A range larger than the new prefix cannot move either.
        assert!(
            move_net(&"2001:db8:1::/52".parse().unwrap(), &old, &new)
                .unwrap()
                .is_err()
        );
    }
}
