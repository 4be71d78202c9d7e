//! kube-controller-manager's node CIDR set (`pkg/controller/nodeipam/ipam/cidrset`): one cluster
//! CIDR cut into equal blocks of `/node_mask`, handed out round-robin.
//!
//! This module owns the block arithmetic and the used/free bookkeeping. Used blocks are kept as
//! a set of disjoint index intervals instead of kube's bitmap, so a set with 2^32 blocks, or
//! occupying a service range that covers millions of blocks, costs O(log n) per operation.

use std::collections::BTreeMap;

use ipnet::IpNet;

use crate::Family;
use crate::cidr::{AddressCount, host_bits, net_end, net_start, overlaps, u128_to_addr};

/// The largest difference between an IPv6 cluster prefix and the node mask that kube accepts
/// (`clusterSubnetMaxDiff`, a limit of kube's uncompressed bitmap).
pub const CLUSTER_SUBNET_MAX_DIFF: u8 = 16;

/// Errors of [`CidrSet`] and [`crate::NodeAllocator`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrSetError {
    /// The node mask is shorter than the cluster prefix.
    #[error(
        "the node mask /{node_mask} is shorter than the cluster CIDR's /{prefix} ({cluster}): \
         each node block must fit inside the cluster CIDR; use a node mask between /{prefix} and /{bits}"
    )]
    NodeMaskTooShort {
        /// The cluster CIDR.
        cluster: IpNet,
        /// Its prefix length.
        prefix: u8,
        /// The node mask given.
        node_mask: u8,
        /// 32 or 128.
        bits: u8,
    },

    /// The node mask is longer than the address width.
    #[error("the node mask /{node_mask} is out of range for {family}; use /{prefix} to /{bits}")]
    NodeMaskTooLong {
        /// The cluster CIDR's family.
        family: Family,
        /// The cluster prefix.
        prefix: u8,
        /// The node mask given.
        node_mask: u8,
        /// 32 or 128.
        bits: u8,
    },

    /// kube's `ErrCIDRSetSubNetTooBig`: for IPv6, node mask minus cluster prefix exceeds 16.
    #[error(
        "New CIDR set failed; the node CIDR size is too big (kube-controller-manager allows at most \
         16 bits between the IPv6 cluster CIDR {cluster} and the node mask /{node_mask}, i.e. at most \
         65536 node blocks; use a node mask of /{max_mask} or shorter, or a cluster CIDR of /{min_prefix} or longer)"
    )]
    SubNetTooBig {
        /// The cluster CIDR.
        cluster: IpNet,
        /// The node mask given.
        node_mask: u8,
        /// cluster prefix + 16.
        max_mask: u8,
        /// node mask - 16.
        min_prefix: u8,
    },

    /// kube's `ErrCIDRRangeNoCIDRsRemaining`: every block is in use.
    #[error(
        "CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range \
         (cluster CIDR {cluster}: all {max_blocks} block(s) of /{node_mask} are in use)"
    )]
    NoCidrsRemaining {
        /// The cluster CIDR.
        cluster: IpNet,
        /// The node mask.
        node_mask: u8,
        /// The number of blocks.
        max_blocks: AddressCount,
    },

    /// The CIDR given to `occupy`/`release` does not overlap the cluster CIDR (kube's wording).
    #[error("cidr {cidr} is out the range of cluster cidr {cluster}")]
    OutOfRange {
        /// The CIDR given.
        cidr: IpNet,
        /// The cluster CIDR.
        cluster: IpNet,
    },

    /// No cluster CIDR was given to the node allocator.
    #[error(
        "Controller: Must specify --cluster-cidr if --allocate-node-cidrs is set \
         (no cluster CIDR was given to the node allocator)"
    )]
    NoClusterCidrs,

    /// A node's block list is longer than the list of cluster CIDRs.
    #[error(
        "node has an allocated cidr {cidr} at index {index} that does not exist in the cluster cidrs \
         configuration (there are {cluster_cidrs} cluster CIDRs)"
    )]
    ExtraNodeCidr {
        /// The node's block.
        cidr: IpNet,
        /// Its position in the node's list.
        index: usize,
        /// How many cluster CIDRs there are.
        cluster_cidrs: usize,
    },

    /// Allocation from one cluster CIDR failed (kube's wording), with the cause.
    #[error("failed to allocate cidr from cluster cidr at idx:{index}")]
    AllocationFailed {
        /// The position of the cluster CIDR.
        index: usize,
        /// What went wrong in that set.
        source: Box<CidrSetError>,
    },
}

/// A set of disjoint, non-adjacent, inclusive index intervals (start → end).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct IntervalSet {
    map: BTreeMap<u128, u128>,
}

impl IntervalSet {
    /// The interval containing `i`, if any.
    fn containing(&self, i: u128) -> Option<(u128, u128)> {
        self.map
            .range(..=i)
            .next_back()
            .filter(|(_, e)| **e >= i)
            .map(|(s, e)| (*s, *e))
    }

    /// Adds `[a, b]`; returns how many indices were newly added.
    fn insert(&mut self, a: u128, b: u128) -> u128 {
        let (mut start, mut end) = (a, b);
        let mut already = 0u128;
        // Intervals that overlap or touch [a, b]: start <= b+1 and end+1 >= a.
        let upper = b.saturating_add(1);
        let touching: Vec<(u128, u128)> = self
            .map
            .range(..=upper)
            .rev()
            .take_while(|(_, e)| e.saturating_add(1) >= a)
            .map(|(s, e)| (*s, *e))
            .collect();
        for (s, e) in touching {
            self.map.remove(&s);
            let (lo, hi) = (s.max(a), e.min(b));
            if lo <= hi {
                already += hi - lo + 1;
            }
            start = start.min(s);
            end = end.max(e);
        }
        self.map.insert(start, end);
        (b - a + 1) - already
    }

    /// Removes `[a, b]`; returns how many indices were removed.
    fn remove(&mut self, a: u128, b: u128) -> u128 {
        let overlapping: Vec<(u128, u128)> = self
            .map
            .range(..=b)
            .rev()
            .take_while(|(_, e)| **e >= a)
            .map(|(s, e)| (*s, *e))
            .collect();
        let mut removed = 0u128;
        for (s, e) in overlapping {
            self.map.remove(&s);
            let (lo, hi) = (s.max(a), e.min(b));
            removed += hi - lo + 1;
            if s < lo {
                self.map.insert(s, lo - 1);
            }
            if hi < e {
                self.map.insert(hi + 1, e);
            }
        }
        removed
    }

    /// The first index `>= from` and `< max` that is not in the set.
    fn first_free_from(&self, from: u128, max: u128) -> Option<u128> {
        let candidate = match self.containing(from) {
            Some((_, e)) => e.checked_add(1)?,
            None => from,
        };
        (candidate < max).then_some(candidate)
    }
}

/// A cluster CIDR divided into blocks of `/node_mask`, with kube's allocation order: round-robin
/// from the block after the last one handed out, wrapping at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CidrSet {
    cluster: IpNet,
    node_mask: u8,
    max: u128,
    used: IntervalSet,
    allocated: u128,
    next_candidate: u128,
}

impl CidrSet {
    /// A set over `cluster` (host bits are ignored) with blocks of `/node_mask`.
    ///
    /// Errors: the node mask is shorter than the cluster prefix or longer than the address width,
    /// or (IPv6 only, as in kube) it is more than 16 bits longer than the cluster prefix.
    pub fn new(cluster: IpNet, node_mask: u8) -> Result<CidrSet, CidrSetError> {
        let cluster = cluster.trunc();
        let prefix = cluster.prefix_len();
        let bits = cluster.max_prefix_len();
        if node_mask > bits {
            return Err(CidrSetError::NodeMaskTooLong {
                family: Family::of_net(&cluster),
                prefix,
                node_mask,
                bits,
            });
        }
        if node_mask < prefix {
            return Err(CidrSetError::NodeMaskTooShort {
                cluster,
                prefix,
                node_mask,
                bits,
            });
        }
        let diff = node_mask - prefix;
        if matches!(cluster, IpNet::V6(_)) && diff > CLUSTER_SUBNET_MAX_DIFF {
            return Err(CidrSetError::SubNetTooBig {
                cluster,
                node_mask,
                max_mask: prefix + CLUSTER_SUBNET_MAX_DIFF,
                min_prefix: node_mask - CLUSTER_SUBNET_MAX_DIFF,
            });
        }
        // diff <= 32 for IPv4 and <= 16 for IPv6, so this fits.
        Ok(CidrSet {
            cluster,
            node_mask,
            max: 1u128 << diff,
            used: IntervalSet::default(),
            allocated: 0,
            next_candidate: 0,
        })
    }

    /// The cluster CIDR (canonical).
    pub fn cluster(&self) -> IpNet {
        self.cluster
    }

    /// The node mask (prefix length of every block).
    pub fn node_mask(&self) -> u8 {
        self.node_mask
    }

    /// The number of blocks: 2^(node_mask - cluster prefix) (kube's maxCIDRs).
    pub fn max_blocks(&self) -> AddressCount {
        AddressCount::pow2(self.node_mask - self.cluster.prefix_len())
    }

    /// The number of addresses in one block.
    pub fn block_size(&self) -> AddressCount {
        AddressCount::pow2(self.cluster.max_prefix_len() - self.node_mask)
    }

    /// How many blocks are in use (allocated or occupied).
    pub fn allocated(&self) -> u128 {
        self.allocated
    }

    /// How many blocks are free.
    pub fn free(&self) -> u128 {
        self.max - self.allocated
    }

    /// The index the next allocation starts searching from.
    pub fn next_candidate(&self) -> u128 {
        self.next_candidate
    }

    /// True when block `index` is in use.
    pub fn is_used(&self, index: u128) -> bool {
        self.used.containing(index).is_some()
    }

    /// The block at `index`, or `None` if `index >= max_blocks`.
    pub fn block_at(&self, index: u128) -> Option<IpNet> {
        if index >= self.max {
            return None;
        }
        let shift =
            u32::from(host_bits(&self.cluster) - (self.node_mask - self.cluster.prefix_len()));
        // shift is 128 only for a ::/0 set with /0 blocks, where the only index is 0.
        let offset = index.checked_shl(shift).unwrap_or(0);
        let addr = u128_to_addr(
            Family::of_net(&self.cluster),
            net_start(&self.cluster) + offset,
        );
        IpNet::new(addr, self.node_mask).ok()
    }

    /// The index of the block holding the first address of `cidr`, or `None` when `cidr` does not
    /// overlap the cluster CIDR or is larger than it.
    pub fn index_of(&self, cidr: &IpNet) -> Option<u128> {
        if !overlaps(&self.cluster, cidr) || cidr.prefix_len() < self.cluster.prefix_len() {
            return None;
        }
        Some(self.index_of_value(net_start(cidr)))
    }

    fn index_of_value(&self, value: u128) -> u128 {
        let shift = u32::from(self.cluster.max_prefix_len() - self.node_mask);
        (value - net_start(&self.cluster))
            .checked_shr(shift)
            .unwrap_or(0)
    }

    /// Hands out the next free block: the first free index at or after the next candidate,
    /// wrapping at the end; the candidate then moves to the block after it (kube's round-robin,
    /// so a released block is reused only after the allocator has wrapped around).
    pub fn allocate_next(&mut self) -> Result<IpNet, CidrSetError> {
        if self.allocated >= self.max {
            return Err(self.full_error());
        }
        let found = self
            .used
            .first_free_from(self.next_candidate, self.max)
            .or_else(|| self.used.first_free_from(0, self.max));
        let Some(index) = found else {
            return Err(self.full_error());
        };
        self.used.insert(index, index);
        self.allocated += 1;
        self.next_candidate = (index + 1) % self.max;
        self.block_at(index).ok_or_else(|| self.full_error())
    }

    fn full_error(&self) -> CidrSetError {
        CidrSetError::NoCidrsRemaining {
            cluster: self.cluster,
            node_mask: self.node_mask,
            max_blocks: self.max_blocks(),
        }
    }

    /// The inclusive block index range `cidr` covers, as kube's `getBeginningAndEndIndices`:
    /// - `cidr` must overlap the cluster CIDR, else [`CidrSetError::OutOfRange`];
    /// - a `cidr` whose prefix is shorter than or equal to the cluster prefix (it contains the
    ///   whole cluster CIDR) covers every block, exactly as kube does: the service range
    ///   `10.0.0.0/8` over a cluster CIDR `10.244.0.0/16` occupies the whole set;
    /// - otherwise the blocks from the one holding its first address to the one holding its last
    ///   address (one block when `cidr` is smaller than a block).
    ///
    /// Host bits of `cidr` are ignored (kube receives CIDRs parsed by `net.ParseCIDR`, which
    /// clears them).
    pub fn indices(&self, cidr: &IpNet) -> Result<(u128, u128), CidrSetError> {
        let cidr = cidr.trunc();
        if !overlaps(&self.cluster, &cidr) {
            return Err(CidrSetError::OutOfRange {
                cidr,
                cluster: self.cluster,
            });
        }
        if cidr.prefix_len() <= self.cluster.prefix_len() {
            return Ok((0, self.max - 1));
        }
        Ok((
            self.index_of_value(net_start(&cidr)),
            self.index_of_value(net_end(&cidr)),
        ))
    }

    /// Marks every block `cidr` covers as used (see [`CidrSet::indices`]). Blocks already used
    /// stay used and are not counted twice.
    pub fn occupy(&mut self, cidr: &IpNet) -> Result<(), CidrSetError> {
        let (a, b) = self.indices(cidr)?;
        self.allocated += self.used.insert(a, b);
        Ok(())
    }

    /// Marks every block `cidr` covers as free (see [`CidrSet::indices`]). The next candidate
    /// does not move, as in kube.
    pub fn release(&mut self, cidr: &IpNet) -> Result<(), CidrSetError> {
        let (a, b) = self.indices(cidr)?;
        self.allocated -= self.used.remove(a, b);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn sizes_table() {
        // (cluster, node mask, blocks, addresses per block)
        let cases = [
            ("fd00::/108", 117, "512", "2,048"),
            ("fd00::/108", 120, "4,096", "256"),
            ("2001:db8:1234:5678:8:2::/104", 120, "65,536", "256"),
            ("fd00:42::/56", 64, "256", "18,446,744,073,709,551,616"),
            ("10.244.0.0/16", 24, "256", "256"),
            ("2001:db8::/64", 64, "1", "18,446,744,073,709,551,616"),
            ("0.0.0.0/0", 32, "4,294,967,296", "1"),
            (
                "::/0",
                0,
                "1",
                "340,282,366,920,938,463,463,374,607,431,768,211,456",
            ),
        ];
        for (cluster, mask, blocks, per) in cases {
            let s = CidrSet::new(net(cluster), mask).unwrap();
            assert_eq!(s.max_blocks().human(), blocks, "{cluster} /{mask}");
            assert_eq!(s.block_size().human(), per, "{cluster} /{mask}");
        }
    }

    #[test]
    fn construction_errors() {
        let e = CidrSet::new(net("fd00::/108"), 100).unwrap_err();
        assert!(matches!(e, CidrSetError::NodeMaskTooShort { .. }));
        assert!(
            e.to_string()
                .contains("/100 is shorter than the cluster CIDR's /108"),
            "{e}"
        );
        assert!(matches!(
            CidrSet::new(net("10.0.0.0/8"), 33),
            Err(CidrSetError::NodeMaskTooLong { .. })
        ));
        let e = CidrSet::new(net("fd00::/56"), 80).unwrap_err();
        assert!(matches!(e, CidrSetError::SubNetTooBig { max_mask: 72, .. }));
        assert!(
            e.to_string()
                .starts_with("New CIDR set failed; the node CIDR size is too big")
        );
        // IPv6 with exactly 16 bits is fine; IPv4 has no limit.
        assert!(CidrSet::new(net("fd00::/48"), 64).is_ok());
        assert!(CidrSet::new(net("10.0.0.0/8"), 32).is_ok());
    }

    #[test]
    fn hands_out_blocks_in_order() {
        let mut s = CidrSet::new(net("fd00::/108"), 117).unwrap();
        let got: Vec<IpNet> = (0..4).map(|_| s.allocate_next().unwrap()).collect();
        let want: Vec<IpNet> = [
            "fd00::/117",
            "fd00::800/117",
            "fd00::1000/117",
            "fd00::1800/117",
        ]
        .iter()
        .map(|s| net(s))
        .collect();
        assert_eq!(got, want);
        assert_eq!(s.allocated(), 4);
        assert_eq!(s.block_at(511), Some(net("fd00::f:f800/117")));
        assert_eq!(s.block_at(512), None);

        let mut s = CidrSet::new(net("10.244.0.0/16"), 24).unwrap();
        assert_eq!(s.allocate_next().unwrap(), net("10.244.0.0/24"));
        assert_eq!(s.allocate_next().unwrap(), net("10.244.1.0/24"));

        // Blocks that cross the 64-bit halves of an IPv6 address.
        let s = CidrSet::new(net("fd00:42::/56"), 64).unwrap();
        assert_eq!(s.block_at(255), Some(net("fd00:42:0:ff::/64")));
        let s = CidrSet::new(net("fd00::/60"), 68).unwrap();
        assert_eq!(s.block_at(0x1f), Some(net("fd00:0:0:1:f000::/68")));
    }

    #[test]
    fn exhausts_and_errors() {
        let mut s = CidrSet::new(net("10.0.0.0/30"), 31).unwrap();
        s.allocate_next().unwrap();
        s.allocate_next().unwrap();
        let e = s.allocate_next().unwrap_err();
        assert!(matches!(e, CidrSetError::NoCidrsRemaining { .. }));
        assert!(e.to_string().starts_with(
            "CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range"
        ));
        let mut one = CidrSet::new(net("2001:db8::/64"), 64).unwrap();
        assert_eq!(one.allocate_next().unwrap(), net("2001:db8::/64"));
        assert!(one.allocate_next().is_err());
    }

    #[test]
    fn occupy_skips_blocks_and_counts_once() {
        let mut s = CidrSet::new(net("fd00::/108"), 117).unwrap();
        // A range covering blocks 2 and 3.
        s.occupy(&net("fd00::1000/116")).unwrap();
        assert_eq!(s.allocated(), 2);
        s.occupy(&net("fd00::1800/117")).unwrap();
        assert_eq!(s.allocated(), 2);
        // Smaller than a block: the block holding it.
        s.occupy(&net("fd00::2001/128")).unwrap();
        assert_eq!(s.allocated(), 3);
        assert!(s.is_used(4));
        assert_eq!(s.allocate_next().unwrap(), net("fd00::/117"));
        assert_eq!(s.allocate_next().unwrap(), net("fd00::800/117"));
        assert_eq!(s.allocate_next().unwrap(), net("fd00::2800/117"));
    }

    #[test]
    fn occupy_out_of_range_and_bigger_than_cluster() {
        let mut s = CidrSet::new(net("10.244.0.0/16"), 24).unwrap();
        let e = s.occupy(&net("10.96.0.0/12")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cidr 10.96.0.0/12 is out the range of cluster cidr 10.244.0.0/16"
        );
        assert!(s.occupy(&net("fd00::/64")).is_err());
        // A CIDR containing the cluster CIDR covers every block (kube does the same).
        s.occupy(&net("10.0.0.0/8")).unwrap();
        assert_eq!(s.allocated(), 256);
        assert!(s.allocate_next().is_err());
        s.release(&net("10.244.0.0/16")).unwrap();
        assert_eq!(s.allocated(), 0);
    }

    #[test]
    fn huge_sets_are_cheap() {
        let mut s = CidrSet::new(net("0.0.0.0/0"), 32).unwrap();
        s.occupy(&net("10.0.0.0/8")).unwrap();
        assert_eq!(s.allocated(), 1 << 24);
        assert_eq!(s.allocate_next().unwrap(), net("0.0.0.0/32"));
        s.occupy(&net("0.0.0.0/5")).unwrap();
        // 0.0.0.0/5 covers 0.0.0.0 - 7.255.255.255, adjacent to nothing used; 10/8 separate.
        assert_eq!(s.allocated(), (1 << 24) + (1 << 27));
        assert_eq!(s.allocate_next().unwrap(), net("8.0.0.0/32"));
        s.release(&net("10.128.0.0/9")).unwrap();
        assert_eq!(s.allocated(), (1 << 23) + (1 << 27) + 1);
        assert!(!s.is_used(u128::from(u32::from(std::net::Ipv4Addr::new(
            10, 128, 0, 0
        )))));
    }

    #[test]
    fn round_robin_after_release() {
        let mut s = CidrSet::new(net("10.0.0.0/28"), 30).unwrap(); // 4 blocks
        let b0 = s.allocate_next().unwrap();
        let b1 = s.allocate_next().unwrap();
        s.release(&b0).unwrap();
        // The released block 0 is not reused before the allocator wraps.
        assert_eq!(s.allocate_next().unwrap(), net("10.0.0.8/30"));
        assert_eq!(s.allocate_next().unwrap(), net("10.0.0.12/30"));
        assert_eq!(s.allocate_next().unwrap(), b0);
        assert!(s.allocate_next().is_err());
        s.release(&b1).unwrap();
        assert_eq!(s.allocate_next().unwrap(), b1);
    }

    #[test]
    fn interval_set_basics() {
        let mut i = IntervalSet::default();
        assert_eq!(i.insert(5, 9), 5);
        assert_eq!(i.insert(10, 12), 3);
        assert_eq!(i.map.len(), 1, "adjacent intervals merge");
        assert_eq!(i.insert(0, 20), 21 - 8);
        assert_eq!(i.remove(3, 4), 2);
        assert_eq!(i.containing(3), None);
        assert_eq!(i.containing(5), Some((5, 20)));
        assert_eq!(i.first_free_from(0, 100), Some(3));
        assert_eq!(i.first_free_from(6, 100), Some(21));
        assert_eq!(i.first_free_from(6, 21), None);
        assert_eq!(i.remove(0, u128::MAX), 3 + 16);
        assert!(i.map.is_empty());
        assert_eq!(i.insert(u128::MAX - 1, u128::MAX), 2);
        assert_eq!(i.insert(0, 0), 1);
    }
}
