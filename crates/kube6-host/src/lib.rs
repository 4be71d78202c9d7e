//! The Linux node: reads and fixes IPv6 sysctls, checks addresses and routes over netlink,
//! detects this node's IPs per family, and probes DNS64/NAT64.
