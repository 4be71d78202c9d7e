//! The NDP proxy: listens for neighbor solicitations on an uplink and answers those whose target
//! lies in a configured prefix (static, routed or probed), per RFC 4861.
