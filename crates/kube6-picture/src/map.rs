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
    /// Services: only the first addresses can be handed out (the ClusterIP bitmap).
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
        if family == Family::IPv6 {
            let size = kube6_net::range_size(&services.cidr).to_u128();
            if size
                .is_none_or(|s| s > u128::from(kube6_model::facts::kubernetes::SERVICE_BITMAP_MAX))
            {
                region.usable = Some(u128::from(
                    kube6_model::facts::kubernetes::SERVICE_BITMAP_MAX,
                ));
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
