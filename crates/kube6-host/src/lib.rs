//! The Linux node: reads and fixes IPv6 sysctls, checks addresses and routes over netlink,
//! detects this node's IPs per family, and probes DNS64/NAT64.
//!
//! The crate is split the way the data flows:
//!
//! - [`expect`]: what the cluster expects of this node ([`Expectations`]), from flags today and
//!   from a kube6 plan later.
//! - Readers, one per source, each returning plain data: [`sysctl`] (runtime values under
//!   `/proc/sys` and persisted ones under `/etc/sysctl.d`), [`netlink`] (links, addresses, routes),
//!   [`dns`] (hostname lookups, RFC 7050 NAT64 prefix discovery), [`egress`] (resolv.conf, a
//!   connection through NAT64).
//! - Pure functions over what was read: [`nodeip`] (choose node IPs) and [`checks`] (the readiness
//!   report). They take a [`Snapshot`] and never touch the system, so they are tested with fixtures.
//! - [`fix`]: turns the settings the checks want into one sysctl.d file and runtime writes.

pub mod catalog;
pub mod checks;
pub mod dns;
pub mod egress;
pub mod error;
pub mod expect;
pub mod fix;
pub mod netlink;
pub mod nodeip;
pub mod snapshot;
pub mod sysctl;

pub use catalog::{CheckInfo, IgnoreSet};
pub use checks::{Check, CheckStatus, Report};
pub use error::Error;
pub use expect::{Expectations, Upstream};
pub use nodeip::{NodeIpChoice, NodeIps};
pub use snapshot::{HostPaths, Snapshot};
