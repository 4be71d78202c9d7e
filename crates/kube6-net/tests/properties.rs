//! Property tests for the address math and the node-block allocator: the interval-based CidrSet
//! is checked against a plain bitmap model of kube's algorithm.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use kube6_net::{CidrSet, contains_addr, contains_net, nth_address, overlaps, range_size};
use proptest::prelude::*;

/// A network of either family from raw bits and a prefix length (host bits cleared).
fn make_net(v6: bool, raw: u128, prefix: u8) -> IpNet {
    let addr = if v6 {
        IpAddr::V6(Ipv6Addr::from(raw))
    } else {
        IpAddr::V4(Ipv4Addr::from(raw as u32))
    };
    IpNet::new(addr, prefix).unwrap().trunc()
}

/// Any CIDR of either family.
fn any_net() -> impl Strategy<Value = IpNet> {
    (any::<bool>(), any::<u128>(), 0u8..=128).prop_map(|(v6, raw, p)| {
        let p = if v6 { p } else { p % 33 };
        make_net(v6, raw, p)
    })
}

/// Two CIDRs that often overlap: `b` is derived from `a`'s address with another prefix.
fn net_pair() -> impl Strategy<Value = (IpNet, IpNet)> {
    (
        any::<bool>(),
        any::<u128>(),
        any::<u128>(),
        0u8..=128,
        0u8..=128,
        any::<bool>(),
    )
        .prop_map(|(v6, raw, other, pa, pb, related)| {
            let (pa, pb) = if v6 { (pa, pb) } else { (pa % 33, pb % 33) };
            let raw_b = if related { raw ^ (other >> 96) } else { other };
            (make_net(v6, raw, pa), make_net(v6, raw_b, pb))
        })
}

/// A cluster CIDR and a node mask at most 10 bits longer.
fn cluster_and_mask() -> impl Strategy<Value = (IpNet, u8)> {
    (any::<bool>(), any::<u128>(), 0u8..=128, 0u8..=10).prop_map(|(v6, raw, p, diff)| {
        let bits = if v6 { 128 } else { 32 };
        let p = p % (bits - diff + 1);
        (make_net(v6, raw, p), p + diff)
    })
}

#[derive(Debug, Clone)]
enum Op {
    Allocate,
    /// Release the n-th (mod len) block currently held.
    Release(usize),
    /// Occupy a sub-range: block index (mod max) and a prefix shortening (how many blocks, 2^k).
    Occupy(u128, u8),
    /// Release an arbitrary sub-range, same encoding as `Occupy`.
    ReleaseRange(u128, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Allocate),
        2 => any::<usize>().prop_map(Op::Release),
        1 => (any::<u128>(), 0u8..4).prop_map(|(i, k)| Op::Occupy(i, k)),
        1 => (any::<u128>(), 0u8..4).prop_map(|(i, k)| Op::ReleaseRange(i, k)),
    ]
}

/// kube's cidrset, literally: a bitmap, a counter and a round-robin candidate.
struct Model {
    used: Vec<bool>,
    allocated: usize,
    next: usize,
}

impl Model {
    fn allocate(&mut self) -> Option<usize> {
        let max = self.used.len();
        if self.allocated == max {
            return None;
        }
        let mut c = self.next;
        while self.used[c] {
            c = (c + 1) % max;
        }
        self.used[c] = true;
        self.allocated += 1;
        self.next = (c + 1) % max;
        Some(c)
    }

    fn set(&mut self, a: usize, b: usize, value: bool) {
        for i in a..=b {
            if self.used[i] != value {
                self.used[i] = value;
                if value {
                    self.allocated += 1;
                } else {
                    self.allocated -= 1;
                }
            }
        }
    }
}

/// The CIDR that covers `2^k` blocks starting at the aligned block index near `i`.
fn sub_range(set: &CidrSet, i: u128, k: u8) -> (IpNet, usize, usize) {
    let max = set.max_blocks().to_u128().unwrap();
    let k = k.min(set.max_blocks().log2());
    let count = 1u128 << k;
    let first = (i % max) / count * count;
    let block = set.block_at(first).unwrap();
    let net = IpNet::new(block.addr(), set.node_mask() - k).unwrap();
    (net, first as usize, (first + count - 1) as usize)
}

proptest! {
    #[test]
    fn allocator_matches_bitmap_model(
        (cluster, mask) in cluster_and_mask(),
        ops in proptest::collection::vec(op(), 1..200),
    ) {
        let mut set = CidrSet::new(cluster, mask).unwrap();
        let max = set.max_blocks().to_u128().unwrap() as usize;
        let mut model = Model { used: vec![false; max], allocated: 0, next: 0 };
        let mut held: Vec<IpNet> = Vec::new();
        for op in ops {
            match op {
                Op::Allocate => {
                    let got = set.allocate_next();
                    match model.allocate() {
                        Some(i) => {
                            let block = got.unwrap();
                            prop_assert_eq!(Some(block), set.block_at(i as u128));
                            prop_assert!(contains_net(&cluster, &block));
                            prop_assert_eq!(block.prefix_len(), mask);
                            prop_assert!(!held.contains(&block), "handed out twice: {}", block);
                            held.push(block);
                        }
                        None => prop_assert!(got.is_err()),
                    }
                }
                Op::Release(n) => {
                    if !held.is_empty() {
                        let block = held.swap_remove(n % held.len());
                        set.release(&block).unwrap();
                        let i = set.index_of(&block).unwrap() as usize;
                        model.set(i, i, false);
                    }
                }
                Op::Occupy(i, k) => {
                    let (net, a, b) = sub_range(&set, i, k);
                    set.occupy(&net).unwrap();
                    model.set(a, b, true);
                }
                Op::ReleaseRange(i, k) => {
                    let (net, a, b) = sub_range(&set, i, k);
                    set.release(&net).unwrap();
                    model.set(a, b, false);
                    held.retain(|h| {
                        let j = set.index_of(h).unwrap() as usize;
                        !(a..=b).contains(&j)
                    });
                }
            }
            prop_assert_eq!(set.allocated(), model.allocated as u128);
            prop_assert_eq!(set.next_candidate(), model.next as u128);
        }
    }

    #[test]
    fn allocated_is_handed_out_minus_released(
        (cluster, mask) in cluster_and_mask(),
        ops in proptest::collection::vec(any::<Option<usize>>(), 1..300),
    ) {
        let mut set = CidrSet::new(cluster, mask).unwrap();
        let mut held: Vec<IpNet> = Vec::new();
        let (mut handed_out, mut released) = (0u128, 0u128);
        for op in ops {
            match op {
                None => {
                    if let Ok(b) = set.allocate_next() {
                        handed_out += 1;
                        held.push(b);
                    } else {
                        prop_assert_eq!(set.allocated(), set.max_blocks().to_u128().unwrap());
                    }
                }
                Some(n) if !held.is_empty() => {
                    let b = held.swap_remove(n % held.len());
                    set.release(&b).unwrap();
                    released += 1;
                }
                Some(_) => {}
            }
            prop_assert_eq!(set.allocated(), handed_out - released);
            let distinct: HashSet<_> = held.iter().collect();
            prop_assert_eq!(distinct.len(), held.len());
        }
    }

    #[test]
    fn fills_every_block_once_and_released_block_comes_back(
        (cluster, mask) in cluster_and_mask(),
        pick in any::<u128>(),
        extra in 0usize..8,
    ) {
        let mut set = CidrSet::new(cluster, mask).unwrap();
        let max = set.max_blocks().to_u128().unwrap();
        let mut seen = HashSet::new();
        for _ in 0..max {
            let b = set.allocate_next().unwrap();
            prop_assert!(contains_net(&cluster, &b));
            prop_assert_eq!(b.prefix_len(), mask);
            prop_assert!(seen.insert(b));
        }
        prop_assert!(set.allocate_next().is_err());
        // Release one block and allocate a few more times around the ring: it comes back, and
        // the allocator wraps round-robin to find it.
        let victim = set.block_at(pick % max).unwrap();
        set.release(&victim).unwrap();
        prop_assert_eq!(set.allocated(), max - 1);
        prop_assert_eq!(set.allocate_next().unwrap(), victim);
        for _ in 0..extra {
            prop_assert!(set.allocate_next().is_err());
        }
    }

    #[test]
    fn overlaps_is_symmetric_and_agrees_with_contains((a, b) in net_pair()) {
        prop_assert_eq!(overlaps(&a, &b), overlaps(&b, &a));
        prop_assert_eq!(overlaps(&a, &b), contains_net(&a, &b) || contains_net(&b, &a));
        prop_assert!(overlaps(&a, &a));
        prop_assert!(contains_net(&a, &a));
    }

    #[test]
    fn overlaps_is_false_across_families(a in any_net(), b in any_net()) {
        if matches!(a, IpNet::V4(_)) != matches!(b, IpNet::V4(_)) {
            prop_assert!(!overlaps(&a, &b));
            prop_assert!(!contains_net(&a, &b));
        }
    }

    #[test]
    fn nth_address_inside_iff_below_size(net in any_net(), raw in any::<u128>(), near in any::<bool>(), delta in 0u128..4) {
        let size = range_size(&net);
        let n = match (near, size.to_u128()) {
            // Around the boundary: size - 2 .. size + 1.
            (true, Some(s)) => (s + delta).saturating_sub(2),
            _ => raw,
        };
        let inside = size.cmp_u128(n).is_gt();
        let got = nth_address(&net, n);
        prop_assert_eq!(got.is_some(), inside);
        if let Some(addr) = got {
            prop_assert!(contains_addr(&net, &addr));
        }
    }
}
