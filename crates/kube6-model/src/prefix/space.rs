//! IPv6 address-space arithmetic for carving: blocks as a start and a prefix length over `u128`,
//! aligned placement inside an area around what is taken, and the free space left over.

use std::net::Ipv6Addr;

use ipnet::{IpNet, Ipv6Net};

/// An aligned IPv6 block: `len` is its prefix length, `start` its network address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Block {
    pub start: u128,
    pub len: u8,
}

/// Addresses in a block of prefix length `len`, minus one (the offset of its last address), so
/// that a /0 does not overflow.
pub fn span(len: u8) -> u128 {
    if len == 0 {
        u128::MAX
    } else {
        (1u128 << (128 - u32::from(len.min(128)))) - 1
    }
}

/// Addresses in a block of prefix length `len` (saturating at `u128::MAX` for a /0).
pub fn size(len: u8) -> u128 {
    span(len).saturating_add(1)
}

impl Block {
    /// The block of `len` that holds `addr`.
    pub fn containing(addr: u128, len: u8) -> Block {
        Block {
            start: addr & !span(len),
            len,
        }
    }

    pub fn from_net(net: &Ipv6Net) -> Block {
        Block::containing(u128::from(net.network()), net.prefix_len())
    }

    /// A single address as a /128.
    pub fn address(addr: Ipv6Addr) -> Block {
        Block {
            start: u128::from(addr),
            len: 128,
        }
    }

    /// The last address (inclusive).
    pub fn end(&self) -> u128 {
        self.start | span(self.len)
    }

    pub fn net(&self) -> Ipv6Net {
        // A prefix length of at most 128 is always accepted.
        Ipv6Net::new(Ipv6Addr::from(self.start), self.len.min(128))
            .map(|n| n.trunc())
            .unwrap_or_default()
    }

    pub fn ip_net(&self) -> IpNet {
        IpNet::V6(self.net())
    }

    pub fn overlaps(&self, other: &Block) -> bool {
        self.start <= other.end() && other.start <= self.end()
    }

    pub fn contains(&self, other: &Block) -> bool {
        self.start <= other.start && other.end() <= self.end()
    }

    pub fn contains_addr(&self, addr: u128) -> bool {
        self.start <= addr && addr <= self.end()
    }

    /// The offset of `inner` from this block's start.
    pub fn offset_of(&self, inner: u128) -> u128 {
        inner - self.start
    }
}

/// Where a range may be placed: inside `block`, each range starting on its own `slot_len` slot
/// (a range larger than a slot takes whole aligned slots), the first slot left alone when
/// `skip_first_slot` (a node link's first /80 holds the nodes' own addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Area {
    pub block: Block,
    pub slot_len: u8,
    pub skip_first_slot: bool,
}

/// The first free place for a block of prefix length `len` in `area`, in address order, whose
/// slots hold nothing `taken`.
pub fn place(area: &Area, len: u8, taken: &[Block]) -> Option<Block> {
    if len < area.block.len || len > 128 {
        return None;
    }
    // A range smaller than a slot starts on a slot boundary and keeps the slot to itself; a
    // larger one is aligned to its own size.
    let claim_len = len.min(area.slot_len).max(area.block.len);
    let mut candidate = area.block.start;
    if area.skip_first_slot && area.slot_len > area.block.len {
        candidate = candidate.checked_add(size(area.slot_len))?;
        candidate = align_up(candidate, claim_len)?;
    }
    loop {
        let claim = Block {
            start: candidate,
            len: claim_len,
        };
        if claim.end() > area.block.end() || !area.block.contains_addr(candidate) {
            return None;
        }
        match taken
            .iter()
            .filter(|t| t.overlaps(&claim))
            .map(Block::end)
            .max()
        {
            None => {
                return Some(Block {
                    start: candidate,
                    len,
                });
            }
            Some(end) => candidate = align_up(end.checked_add(1)?, claim_len)?,
        }
    }
}

/// The block of `len` holding every address of `anchors`, if one does and it is free of
/// `taken` and inside `area`.
pub fn place_around(area: &Area, len: u8, anchors: &[Block], taken: &[Block]) -> Option<Block> {
    let first = anchors.first()?;
    let block = Block::containing(first.start, len);
    let fits = anchors.iter().all(|a| block.contains(a))
        && area.block.contains(&block)
        && !taken.iter().any(|t| t.overlaps(&block));
    fits.then_some(block)
}

/// `addr` rounded up to a multiple of the size of a `len` block.
fn align_up(addr: u128, len: u8) -> Option<u128> {
    let mask = span(len);
    if addr & mask == 0 {
        Some(addr)
    } else {
        (addr | mask).checked_add(1)
    }
}

/// `outer` minus the union of `taken`, as the fewest aligned blocks, in address order.
pub fn free_blocks(outer: Block, taken: &[Block]) -> Vec<Block> {
    let mut out = Vec::new();
    let inside: Vec<Block> = taken
        .iter()
        .copied()
        .filter(|t| t.overlaps(&outer))
        .collect();
    split_free(outer, &inside, &mut out);
    out
}

fn split_free(block: Block, taken: &[Block], out: &mut Vec<Block>) {
    if taken.iter().any(|t| t.contains(&block)) {
        return;
    }
    if !taken.iter().any(|t| t.overlaps(&block)) {
        out.push(block);
        return;
    }
    if block.len >= 128 {
        return;
    }
    let len = block.len + 1;
    let low = Block {
        start: block.start,
        len,
    };
    let high = Block {
        start: block.start | (1u128 << (127 - u32::from(block.len))),
        len,
    };
    split_free(low, taken, out);
    split_free(high, taken, out);
}

/// Whether `len` falls on a nibble (hex digit) boundary.
pub fn on_nibble(len: u8) -> bool {
    len.is_multiple_of(crate::facts::ipv6::NIBBLE_BITS)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn net(text: &str) -> Block {
        Block::from_net(&text.parse::<Ipv6Net>().unwrap())
    }

    #[test]
    fn places_on_slots_after_what_is_taken() {
        let link = Area {
            block: net("2001:db8:1:2::/64"),
            slot_len: 80,
            skip_first_slot: true,
        };
        let pods = place(&link, 104, &[]).unwrap();
        assert_eq!(pods.net().to_string(), "2001:db8:1:2:1::/104");
        // A node address in slot 2 pushes the next range to slot 3.
        let node = Block::address("2001:db8:1:2:2::10".parse().unwrap());
        let services = place(&link, 112, &[pods, node]).unwrap();
        assert_eq!(services.net().to_string(), "2001:db8:1:2:3::/112");
        // A range larger than a slot is aligned to its own size.
        let big = place(&link, 76, &[pods]).unwrap();
        assert_eq!(big.net().to_string(), "2001:db8:1:2:10::/76");
    }

    #[test]
    fn gives_up_when_the_area_is_full() {
        let area = Area {
            block: net("2001:db8::/126"),
            slot_len: 128,
            skip_first_slot: false,
        };
        let a = place(&area, 127, &[]).unwrap();
        let b = place(&area, 127, &[a]).unwrap();
        assert_eq!(place(&area, 127, &[a, b]), None);
        assert_eq!(place(&area, 124, &[]), None);
    }

    #[test]
    fn free_space_is_the_complement() {
        let outer = net("2001:db8::/62");
        let taken = [net("2001:db8:0:1::/64")];
        let free: Vec<String> = free_blocks(outer, &taken)
            .iter()
            .map(|b| b.net().to_string())
            .collect();
        assert_eq!(free, ["2001:db8::/64", "2001:db8:0:2::/63"]);
        assert_eq!(free_blocks(outer, &[outer]), []);
    }

    #[test]
    fn anchors_fix_the_place() {
        let area = Area {
            block: net("2001:db8::/56"),
            slot_len: 64,
            skip_first_slot: false,
        };
        let anchor = net("2001:db8:0:5:1::/80");
        let block = place_around(&area, 64, &[anchor], &[]).unwrap();
        assert_eq!(block.net().to_string(), "2001:db8:0:5::/64");
        assert_eq!(place_around(&area, 64, &[anchor], &[block]), None);
    }
}
