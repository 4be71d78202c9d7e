//! The address space of each family as a tree of regions: what the plan puts where, what holds
//! what (a prefix holds the node link, the link the pod range, ...), and the single addresses
//! that matter (nodes, the API server's and DNS service addresses).

use std::net::IpAddr;

use ipnet::IpNet;
use kube6_model::plan::Plan;
use kube6_model::prefix::RangeRole;
use kube6_net::{Family, contains_net};

/// What a region is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Prefix,
    NodeSubnet,
    Hosts,
    Pods,
    Services,
    LbPool,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Prefix => "delegated prefix",
            Kind::NodeSubnet => "node subnet",
            Kind::Hosts => "node addresses",
            Kind::Pods => "pods",
            Kind::Services => "services",
            Kind::LbPool => "load-balancer pool",
        }
    }

    /// Ranges that hold addresses of one use only: anything else inside them overlaps.
    fn exclusive(self) -> bool {
        matches!(
            self,
            Kind::Hosts | Kind::Pods | Kind::Services | Kind::LbPool
        )
    }
}

/// A single address worth pointing at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MarkKind {
    Node,
    ApiServer,
    Dns,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub addr: IpAddr,
    pub kind: MarkKind,
    pub label: String,
}

/// The node blocks of a pod range: their size, and those handed to declared nodes (or the first
/// ones kube-controller-manager would hand out, when the input declares none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocks {
    pub mask: u8,
    pub assigned: Vec<(IpNet, String)>,
    /// The assigned blocks are only the first ones the allocator would hand out.
    pub upcoming: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub kind: Kind,
    pub net: IpNet,
    /// What the plan says about it ("carved", "kept", "default", "derived from node cp1").
    pub note: String,
    pub children: Vec<Region>,
    pub marks: Vec<Mark>,
    pub blocks: Option<Blocks>,
    /// The exclusive range it lies in, when it should not.
    pub overlaps: Option<(Kind, IpNet)>,
    /// Services: only the first addresses can be handed out (the ClusterIP bitmap of
    /// Kubernetes before 1.34).
    pub usable: Option<u128>,
}

impl Region {
    fn new(kind: Kind, net: IpNet, note: impl Into<String>) -> Region {
        Region {
            kind,
            net,
            note: note.into(),
            children: Vec::new(),
            marks: Vec::new(),
            blocks: None,
            overlaps: None,
            usable: None,
        }
    }

    /// Inserts `region` as deep as it fits (a range equal to this one goes inside it).
    fn insert(&mut self, mut region: Region) {
        if self.kind.exclusive() && region.overlaps.is_none() {
            region.overlaps = Some((self.kind, self.net));
        }
        if let Some(child) = self
            .children
            .iter_mut()
            .find(|c| contains_net(&c.net, &region.net))
        {
            child.insert(region);
            return;
        }
        // Children the new region holds move inside it.
        let (inside, outside): (Vec<Region>, Vec<Region>) = std::mem::take(&mut self.children)
            .into_iter()
            .partition(|c| contains_net(&region.net, &c.net) && c.net != region.net);
        self.children = outside;
        for child in inside {
            region.insert(child);
        }
        self.children.push(region);
        self.children
            .sort_by_key(|c| (start(&c.net), c.net.prefix_len()));
    }

    fn insert_mark(&mut self, mark: Mark) {
        match self
            .children
            .iter_mut()
            .find(|c| c.net.contains(&mark.addr))
        {
            Some(child) => child.insert_mark(mark),
            None => {
                self.marks.push(mark);
                self.marks.sort_by_key(|m| (addr_value(&m.addr), m.kind));
            }
        }
    }
}

/// One family's regions, and the addresses that lie in none of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyMap {
    pub family: Family,
    pub roots: Vec<Region>,
    pub loose: Vec<Mark>,
}

pub fn start(net: &IpNet) -> u128 {
    match net {
        IpNet::V4(n) => u128::from(u32::from(n.network())),
        IpNet::V6(n) => u128::from(n.network()),
    }
}

pub fn addr_value(addr: &IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(*a)),
        IpAddr::V6(a) => u128::from(*a),
    }
}

/// The CIDRs that cover FIRST..=LAST exactly (none when the two are of different families).
fn covering_cidrs(first: IpAddr, last: IpAddr) -> Vec<IpNet> {
    match (first, last) {
        (IpAddr::V4(a), IpAddr::V4(b)) => ipnet::Ipv4Subnets::new(a, b, 0).map(IpNet::V4).collect(),
        (IpAddr::V6(a), IpAddr::V6(b)) => ipnet::Ipv6Subnets::new(a, b, 0).map(IpNet::V6).collect(),
        _ => Vec::new(),
    }
}

/// The maps of the plan's families, primary first.
pub fn build(plan: &Plan) -> Vec<FamilyMap> {
    let mut families: Vec<Family> = plan.families.clone();
    if let Some(prefix) = &plan.prefix
        && !families.contains(&Family::of_net(&prefix.cidr))
    {
        families.push(Family::of_net(&prefix.cidr));
    }
    families
        .into_iter()
        .map(|family| build_family(plan, family))
        .collect()
}

fn build_family(plan: &Plan, family: Family) -> FamilyMap {
    let mut regions: Vec<Region> = Vec::new();
    let of_family = |net: &IpNet| Family::of_net(net) == family;
    if let Some(prefix) = plan.prefix.as_ref().filter(|p| of_family(&p.cidr)) {
        regions.push(Region::new(
            Kind::Prefix,
            prefix.cidr,
            prefix.source.clone(),
        ));
        for range in &prefix.ranges {
            let kind = match range.role {
                RangeRole::NodeSubnet => Kind::NodeSubnet,
                RangeRole::Hosts => Kind::Hosts,
                RangeRole::LoadBalancerPool => Kind::LbPool,
                // Pods and services come from the plan's own lists below.
                RangeRole::Pods | RangeRole::Services => continue,
            };
            let note = if range.fixed { "kept" } else { "carved" };
            regions.push(Region::new(kind, range.cidr, note));
        }
    }
    // Pools declared in spec.loadBalancer, as the CIDRs that cover each block exactly (a
    // FIRST-LAST range may take several); a pool the prefix carving placed is drawn once.
    for pool in &plan.load_balancer.pools {
        for block in pool.blocks.iter().filter(|b| b.family == family) {
            for net in covering_cidrs(block.first, block.last) {
                if !regions
                    .iter()
                    .any(|r| r.kind == Kind::LbPool && r.net == net)
                {
                    regions.push(Region::new(
                        Kind::LbPool,
                        net,
                        format!("pool {}", pool.name),
                    ));
                }
            }
        }
    }
    for pods in plan.pods.iter().filter(|p| p.family == family) {
        let mut region = Region::new(
            Kind::Pods,
            pods.cidr,
            origin_note(pods.carved, pods.defaulted),
        );
        if let Some(mask) = pods.node_mask_size.filter(|m| *m >= pods.cidr.prefix_len()) {
            let mut assigned: Vec<(IpNet, String)> = Vec::new();
            for (i, node) in plan.nodes.iter().enumerate() {
                for block in node
                    .pod_cidrs
                    .iter()
                    .filter(|b| Family::of_net(b) == family)
                {
                    let name = node
                        .name
                        .clone()
                        .unwrap_or_else(|| format!("node {} (host name)", i + 1));
                    assigned.push((*block, name));
                }
            }
            let upcoming = assigned.is_empty();
            if upcoming {
                assigned = pods
                    .first_node_blocks
                    .iter()
                    .enumerate()
                    .map(|(i, b)| (*b, format!("block {}", i + 1)))
                    .collect();
            }
            region.blocks = Some(Blocks {
                mask,
                assigned,
                upcoming,
            });
        }
        regions.push(region);
    }
    for services in plan.services.iter().filter(|s| s.family == family) {
        let mut region = Region::new(
            Kind::Services,
            services.cidr,
            origin_note(services.carved, services.defaulted),
        );
        // The plan's allocatable count says whether the release's ClusterIP allocator is the
        // bitmap (65,536 addresses at most, before Kubernetes 1.34) or uses the whole range.
        let bitmap = u128::from(kube6_model::facts::kubernetes::SERVICE_BITMAP_MAX);
        if family == Family::IPv6 && u128::from(services.allocatable) + 1 == bitmap {
            let size = kube6_net::range_size(&services.cidr).to_u128();
            if size.is_none_or(|s| s > bitmap) {
                region.usable = Some(bitmap);
            }
        }
        regions.push(region);
    }
    // The nodes' links, where no prefix names them: an IPv6 link is a /64.
    let explicit_links = regions.iter().any(|r| r.kind == Kind::NodeSubnet);
    if family == Family::IPv6 && !explicit_links {
        for node in &plan.nodes {
            for addr in node
                .addresses
                .iter()
                .filter(|a| Family::of_addr(a) == family)
            {
                let Ok(link) =
                    IpNet::new(*addr, kube6_model::facts::ipv6::LINK_PREFIX_LEN).map(|n| n.trunc())
                else {
                    continue;
                };
                if !regions.iter().any(|r| r.net == link) {
                    let name = node.name.clone().unwrap_or_else(|| "a node".to_string());
                    regions.push(Region::new(
                        Kind::NodeSubnet,
                        link,
                        format!("the /64 of {name}'s address"),
                    ));
                }
            }
        }
    }

    // Largest first, so that each range finds what holds it.
    regions.sort_by_key(|r| (r.net.prefix_len(), start(&r.net), r.kind));
    let mut roots: Vec<Region> = Vec::new();
    for region in regions {
        match roots.iter_mut().find(|r| contains_net(&r.net, &region.net)) {
            Some(root) => root.insert(region),
            None => {
                let (inside, outside): (Vec<Region>, Vec<Region>) = std::mem::take(&mut roots)
                    .into_iter()
                    .partition(|r| contains_net(&region.net, &r.net));
                roots = outside;
                let mut region = region;
                for child in inside {
                    region.insert(child);
                }
                roots.push(region);
            }
        }
    }
    roots.sort_by_key(|r| (start(&r.net), r.net.prefix_len()));

    let mut marks: Vec<Mark> = Vec::new();
    for (i, node) in plan.nodes.iter().enumerate() {
        for addr in node
            .addresses
            .iter()
            .filter(|a| Family::of_addr(a) == family)
        {
            marks.push(Mark {
                addr: *addr,
                kind: MarkKind::Node,
                label: node
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("node {}", i + 1)),
            });
        }
    }
    for services in plan.services.iter().filter(|s| s.family == family) {
        if let Some(ip) = services.api_server_ip {
            marks.push(Mark {
                addr: ip,
                kind: MarkKind::ApiServer,
                label: "API server".to_string(),
            });
        }
    }
    for ip in plan.dns_ips.iter().filter(|a| Family::of_addr(a) == family) {
        if !marks.iter().any(|m| m.addr == *ip) {
            marks.push(Mark {
                addr: *ip,
                kind: MarkKind::Dns,
                label: "cluster DNS".to_string(),
            });
        }
    }
    let mut loose = Vec::new();
    for mark in marks {
        match roots.iter_mut().find(|r| r.net.contains(&mark.addr)) {
            Some(root) => root.insert_mark(mark),
            None => loose.push(mark),
        }
    }
    loose.sort_by_key(|m| addr_value(&m.addr));
    FamilyMap {
        family,
        roots,
        loose,
    }
}

fn origin_note(carved: bool, defaulted: bool) -> &'static str {
    if carved {
        "carved"
    } else if defaulted {
        "default"
    } else {
        "as set"
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn regions(map: &FamilyMap) -> Vec<(Kind, String, String)> {
        fn walk(region: &Region, out: &mut Vec<(Kind, String, String)>) {
            out.push((region.kind, region.net.to_string(), region.note.clone()));
            for child in &region.children {
                walk(child, out);
            }
        }
        let mut out = Vec::new();
        for root in &map.roots {
            walk(root, &mut out);
        }
        out
    }

    /// Pools declared in spec.loadBalancer are drawn, a FIRST-LAST range as the CIDRs that
    /// cover it exactly.
    #[test]
    fn declared_load_balancer_pools_are_drawn() {
        let text = "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: kubeadm\n  pods: [2001:db8:100::/56, 10.244.0.0/16]\n  services: [fd00:20::/112, 10.96.0.0/16]\n  nodes:\n  - {name: cp1, addresses: [2001:db8:5::10, 192.0.2.10]}\n  loadBalancer:\n    implementation: metallb\n    pools:\n    - {name: public, addresses: [\"2001:db8:5::ff00/120\", 192.0.2.64-192.0.2.79, 192.0.2.80-192.0.2.82]}\n";
        let plan = kube6_model::analyze("t.yaml", text, &Default::default())
            .unwrap()
            .plan;
        let maps = build(&plan);
        let pools = |family: Family| -> Vec<String> {
            let map = maps.iter().find(|m| m.family == family).unwrap();
            regions(map)
                .into_iter()
                .filter(|(kind, _, note)| *kind == Kind::LbPool && note == "pool public")
                .map(|(_, net, _)| net)
                .collect()
        };
        assert_eq!(pools(Family::IPv6), ["2001:db8:5::ff00/120"]);
        assert_eq!(
            pools(Family::IPv4),
            ["192.0.2.64/28", "192.0.2.80/31", "192.0.2.82/32"]
        );
        assert!(covering_cidrs("192.0.2.1".parse().unwrap(), "::1".parse().unwrap()).is_empty());
    }

    /// A pool carved from the prefix is one of spec.loadBalancer's pools too, and a declared
    /// pool inside the prefix is one of its kept ranges: each is drawn once.
    #[test]
    fn pools_in_the_prefix_are_drawn_once() {
        let lb_pools = |text: &str| -> Vec<String> {
            let plan = kube6_model::analyze("t.yaml", text, &Default::default())
                .unwrap()
                .plan;
            let maps = build(&plan);
            let map = maps.iter().find(|m| m.family == Family::IPv6).unwrap();
            regions(map)
                .into_iter()
                .filter(|(kind, _, _)| *kind == Kind::LbPool)
                .map(|(_, net, _)| net)
                .collect()
        };
        let head = "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: kubeadm\n  prefix: 2001:db8:7::/56\n  nodes:\n  - {name: cp1, addresses: [2001:db8:7::10]}\n";
        let carved = lb_pools(&format!(
            "{head}  loadBalancer: {{implementation: metallb}}\n"
        ));
        assert_eq!(carved, ["2001:db8:7:0:1::/112"]);
        let declared = lb_pools(&format!(
            "{head}  loadBalancer:\n    implementation: metallb\n    pools: [{{name: web, addresses: [\"2001:db8:7::ff00-2001:db8:7::ff0f\"]}}]\n"
        ));
        assert_eq!(declared, ["2001:db8:7::ff00/124"]);
    }
}
