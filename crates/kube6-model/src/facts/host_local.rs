//! The host-local IPAM plugin (containernetworking/plugins plugins/ipam/host-local
//! backend/allocator/range.go `Canonicalize`), which hands out pod addresses from a node's pod
//! block for flannel, Canal, kube-router and Calico with HostLocal IPAM.

use kube6_net::Family;

/// Addresses of a block host-local never gives a pod: the network address, and the gateway it
/// claims (network + 1, unless configured); for IPv4 also the broadcast address (`lastIP`).
pub const fn reserved_per_block(family: Family) -> u128 {
    match family {
        Family::IPv4 => 3,
        Family::IPv6 => 2,
    }
}

/// host-local refuses a block with fewer than two host bits ("Network ... too small to
/// allocate from").
pub const MIN_HOST_BITS: u8 = 2;

/// The pod addresses host-local hands out from a `/prefix` block of `family`.
pub fn usable_addresses(family: Family, prefix: u8) -> u128 {
    let host_bits = family.bits().saturating_sub(prefix);
    if host_bits < MIN_HOST_BITS {
        return 0;
    }
    let size = if host_bits >= 128 {
        u128::MAX
    } else {
        1u128 << host_bits
    };
    size.saturating_sub(reserved_per_block(family))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_lose_their_network_and_gateway_addresses() {
        assert_eq!(usable_addresses(Family::IPv6, 120), 254);
        assert_eq!(usable_addresses(Family::IPv4, 24), 253);
        assert_eq!(usable_addresses(Family::IPv6, 127), 0);
        assert_eq!(usable_addresses(Family::IPv6, 0), u128::MAX - 2);
    }
}
