//! kube-controller-manager's range allocator (`pkg/controller/nodeipam/ipam/range_allocator.go`):
//! one [`CidrSet`] per cluster CIDR, service ranges filtered out up front, and one block per
//! cluster CIDR for every node.
//!
//! This module owns the per-node view: what a node gets, in which order, and what happens when
//! one family runs out.

use ipnet::IpNet;

use crate::cidr::overlaps;
use crate::cidrset::{CidrSet, CidrSetError};

/// The node allocator: one [`CidrSet`] per cluster CIDR, index-aligned with a node's
/// `spec.podCIDRs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAllocator {
    sets: Vec<CidrSet>,
}

impl NodeAllocator {
    /// Creates one set per `(cluster CIDR, node mask)`, in order, then occupies every service CIDR
    /// in every set whose cluster CIDR it overlaps (kube's `filterOutServiceRange`: the test is
    /// plain overlap in either direction, never across families; a service CIDR that contains
    /// the whole cluster CIDR occupies every block of it). kube only logs a failure to occupy; with
    /// the overlap checked first, occupying cannot fail here.
    pub fn new(
        cluster: &[(IpNet, u8)],
        service_cidrs: &[IpNet],
    ) -> Result<NodeAllocator, CidrSetError> {
        if cluster.is_empty() {
            return Err(CidrSetError::NoClusterCidrs);
        }
        let mut sets = cluster
            .iter()
            .map(|(net, mask)| CidrSet::new(*net, *mask))
            .collect::<Result<Vec<_>, _>>()?;
        for service in service_cidrs {
            for set in &mut sets {
                if overlaps(&set.cluster(), service) {
                    set.occupy(service)?;
                }
            }
        }
        Ok(NodeAllocator { sets })
    }

    /// The sets, in cluster-CIDR order.
    pub fn sets(&self) -> &[CidrSet] {
        &self.sets
    }

    /// Allocates one block from each set, in cluster-CIDR order (a dual-stack node gets
    /// `[v4, v6]` or `[v6, v4]`). If any set is full, the blocks already taken for this node are
    /// released again and the error names the set (kube's "failed to allocate cidr from cluster
    /// cidr at idx:N"). Unlike kube, which leaves them allocated until the controller restarts,
    /// nothing stays allocated; as in kube, the earlier sets' round-robin candidates have moved on.
    pub fn allocate_node(&mut self) -> Result<Vec<IpNet>, CidrSetError> {
        let mut blocks = Vec::with_capacity(self.sets.len());
        for index in 0..self.sets.len() {
            match self.sets[index].allocate_next() {
                Ok(block) => blocks.push(block),
                Err(source) => {
                    for (set, block) in self.sets.iter_mut().zip(&blocks) {
                        // The block came from this set, so releasing it cannot fail.
                        let _ = set.release(block);
                    }
                    return Err(CidrSetError::AllocationFailed {
                        index,
                        source: Box::new(source),
                    });
                }
            }
        }
        Ok(blocks)
    }

    /// Frees a node's blocks (`blocks[i]` belongs to cluster CIDR `i`). Stops at the first error:
    /// a block outside its cluster CIDR or more blocks than cluster CIDRs.
    pub fn release_node(&mut self, blocks: &[IpNet]) -> Result<(), CidrSetError> {
        self.for_each_block(blocks, CidrSet::release)
    }

    /// Marks a node's existing blocks as used (a node that already has `spec.podCIDRs`), as kube
    /// does at start-up. Stops at the first error, like kube.
    pub fn occupy_node(&mut self, blocks: &[IpNet]) -> Result<(), CidrSetError> {
        self.for_each_block(blocks, CidrSet::occupy)
    }

    fn for_each_block(
        &mut self,
        blocks: &[IpNet],
        op: fn(&mut CidrSet, &IpNet) -> Result<(), CidrSetError>,
    ) -> Result<(), CidrSetError> {
        let cluster_cidrs = self.sets.len();
        for (index, block) in blocks.iter().enumerate() {
            let set = self
                .sets
                .get_mut(index)
                .ok_or(CidrSetError::ExtraNodeCidr {
                    cidr: *block,
                    index,
                    cluster_cidrs,
                })?;
            op(set, block)?;
        }
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
    fn dual_stack_order_follows_cluster_cidrs() {
        let mut a =
            NodeAllocator::new(&[(net("fd00::/108"), 117), (net("10.244.0.0/16"), 24)], &[])
                .unwrap();
        assert_eq!(
            a.allocate_node().unwrap(),
            vec![net("fd00::/117"), net("10.244.0.0/24")]
        );
        assert_eq!(
            a.allocate_node().unwrap(),
            vec![net("fd00::800/117"), net("10.244.1.0/24")]
        );
    }

    #[test]
    fn service_range_inside_cluster_is_skipped() {
        // The service range fd00::1000/116 covers blocks 2 and 3 of fd00::/108 with /117.
        let mut a = NodeAllocator::new(
            &[(net("fd00::/108"), 117)],
            &[net("fd00::1000/116"), net("10.96.0.0/12")],
        )
        .unwrap();
        assert_eq!(a.sets()[0].allocated(), 2);
        let got: Vec<IpNet> = (0..3).map(|_| a.allocate_node().unwrap()[0]).collect();
        assert_eq!(
            got,
            vec![
                net("fd00::/117"),
                net("fd00::800/117"),
                net("fd00::2000/117")
            ]
        );
    }

    #[test]
    fn service_range_containing_cluster_occupies_all() {
        let mut a =
            NodeAllocator::new(&[(net("10.244.0.0/16"), 24)], &[net("10.0.0.0/8")]).unwrap();
        let e = a.allocate_node().unwrap_err();
        assert!(
            e.to_string()
                .starts_with("failed to allocate cidr from cluster cidr at idx:0")
        );
    }

    #[test]
    fn rolls_back_when_one_family_is_full() {
        let mut a =
            NodeAllocator::new(&[(net("10.0.0.0/24"), 24), (net("fd00::/64"), 66)], &[]).unwrap();
        a.allocate_node().unwrap();
        let e = a.allocate_node().unwrap_err();
        assert!(matches!(e, CidrSetError::AllocationFailed { index: 0, .. }));
        let mut a =
            NodeAllocator::new(&[(net("fd00::/64"), 66), (net("10.0.0.0/24"), 24)], &[]).unwrap();
        a.allocate_node().unwrap();
        let e = a.allocate_node().unwrap_err();
        assert!(matches!(e, CidrSetError::AllocationFailed { index: 1, .. }));
        assert_eq!(a.sets()[0].allocated(), 1, "the IPv6 block was rolled back");
    }

    #[test]
    fn release_and_occupy_nodes() {
        let mut a = NodeAllocator::new(&[(net("10.244.0.0/16"), 24)], &[]).unwrap();
        a.occupy_node(&[net("10.244.0.0/24")]).unwrap();
        assert_eq!(a.allocate_node().unwrap(), vec![net("10.244.1.0/24")]);
        a.release_node(&[net("10.244.0.0/24")]).unwrap();
        assert_eq!(a.sets()[0].allocated(), 1);
        let e = a
            .release_node(&[net("10.244.1.0/24"), net("fd00::/64")])
            .unwrap_err();
        assert!(matches!(e, CidrSetError::ExtraNodeCidr { index: 1, .. }));
        assert!(a.occupy_node(&[net("192.168.0.0/24")]).is_err());
        assert!(matches!(
            NodeAllocator::new(&[], &[]),
            Err(CidrSetError::NoClusterCidrs)
        ));
        assert!(NodeAllocator::new(&[(net("fd00::/48"), 72)], &[]).is_err());
    }
}
