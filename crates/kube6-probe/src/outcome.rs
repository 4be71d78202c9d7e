//! What a runner observed for each task: the facts, without judgement. The report turns them into
//! pass, fail or skip and names the likeliest cause.

use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

/// Why the kernel (or a router on the way) said a destination cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unreachable {
    /// No route (ENETUNREACH; ICMPv6 destination unreachable code 0, ICMP net unreachable).
    NoRoute,
    /// The host or its neighbour does not answer (EHOSTUNREACH; ICMPv6 code 3, ICMP host
    /// unreachable; a neighbour that never answered NDP or ARP).
    HostUnreachable,
    /// A filter rejected it (EACCES/EPERM; ICMPv6 code 1, ICMP communication prohibited).
    Prohibited,
}

impl Unreachable {
    /// From a connect()/send() error number.
    pub fn from_errno(errno: i32) -> Option<Unreachable> {
        match errno {
            libc::ENETUNREACH => Some(Unreachable::NoRoute),
            libc::EHOSTUNREACH => Some(Unreachable::HostUnreachable),
            libc::EACCES | libc::EPERM => Some(Unreachable::Prohibited),
            _ => None,
        }
    }
}

/// What one task saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "result")]
pub enum Outcome {
    /// A TCP connection was made; `peer` is the agent that greeted (none for outside hosts).
    #[serde(rename_all = "camelCase")]
    Connected {
        address: SocketAddr,
        #[serde(skip_serializing_if = "Option::is_none")]
        peer: Option<String>,
        /// The address lies in the NAT64 prefix: the connection went through NAT64.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        nat64: bool,
    },
    /// An ICMP echo was answered.
    #[serde(rename_all = "camelCase")]
    Echoed {
        address: IpAddr,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        nat64: bool,
    },
    /// Connected, but another agent (or something else) answered.
    #[serde(rename_all = "camelCase")]
    WrongPeer {
        address: SocketAddr,
        expected: String,
        /// What answered: an agent id, or the first bytes of a greeting that is not an agent's.
        answered: String,
    },
    /// The destination answered with a TCP reset (nothing listens, or a filter rejects with a
    /// reset).
    #[serde(rename_all = "camelCase")]
    Refused { address: SocketAddr },
    /// The kernel or a router said the destination cannot be reached.
    #[serde(rename_all = "camelCase")]
    Unreachable {
        address: IpAddr,
        why: Unreachable,
        /// The kernel refused at once (no local route): the sender's own routing table.
        local: bool,
        /// Who sent the ICMP error, when it is known.
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<IpAddr>,
    },
    /// Nothing came back in time.
    #[serde(rename_all = "camelCase")]
    TimedOut { address: IpAddr },
    /// A DNS answer with addresses.
    #[serde(rename_all = "camelCase")]
    Answered {
        server: IpAddr,
        addresses: Vec<IpAddr>,
        /// Addresses in the NAT64 prefix (synthesized by DNS64).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        synthesized: Vec<IpAddr>,
    },
    /// The name exists but has no record of the family (NOERROR/NODATA).
    #[serde(rename_all = "camelCase")]
    NoRecords {
        server: IpAddr,
        /// Whether the name has records of the other family (a name with A but no AAAA).
        #[serde(skip_serializing_if = "Option::is_none")]
        other_family: Option<bool>,
    },
    /// The name does not exist (NXDOMAIN).
    #[serde(rename_all = "camelCase")]
    NoSuchName { server: IpAddr },
    /// The DNS servers did not answer.
    #[serde(rename_all = "camelCase")]
    DnsTimeout { servers: Vec<IpAddr> },
    /// The DNS server answered with an error (SERVFAIL, REFUSED, ...).
    #[serde(rename_all = "camelCase")]
    DnsError {
        #[serde(skip_serializing_if = "Option::is_none")]
        server: Option<IpAddr>,
        message: String,
    },
    /// Path MTU: what happened to a full-size packet with don't-fragment.
    #[serde(rename_all = "camelCase")]
    PathMtu(PathMtu),
    /// The test could not be made: nothing to send to (a Service without an address of the
    /// family, a name that did not resolve), or a resource missing here.
    #[serde(rename_all = "camelCase")]
    NotRun { reason: String },
    /// The runner failed locally (a socket it could not open).
    #[serde(rename_all = "camelCase")]
    Error { message: String },
}

/// The path MTU test's observations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PathMtu {
    pub address: IpAddr,
    /// The MTU of the route the packet leaves by (the sender's link MTU).
    pub link_mtu: u32,
    /// The path MTU that worked, if any size did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_mtu: Option<u32>,
    /// A Packet Too Big (fragmentation needed) came back, from this router, with this MTU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub too_big_from: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub too_big_mtu: Option<u32>,
    /// A small echo came back.
    pub small: bool,
    /// The full-size echo (at the link MTU) came back without any Packet Too Big.
    pub full: bool,
    /// The address lies in the NAT64 prefix.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nat64: bool,
    /// Sizes tried, in bytes on the wire, in order.
    pub tried: Vec<u32>,
}

/// One task's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskResult {
    pub id: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    pub millis: u64,
}

/// Everything one runner prints: one JSON document on one line, after [`RESULTS_MARKER`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentResults {
    /// The agent (`NODE/pod`, `NODE/host`, `local`).
    pub agent: String,
    /// The kube6 version of the runner.
    pub version: String,
    /// The cluster domain the runner used.
    pub cluster_domain: String,
    /// The DNS servers it asked.
    pub dns_servers: Vec<IpAddr>,
    /// What the runner noticed about itself (no raw sockets, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub results: Vec<TaskResult>,
}

/// The line prefix of a runner's results in its log (anything else there is ignored).
pub const RESULTS_MARKER: &str = "kube6-probe-results ";

impl AgentResults {
    /// The line a runner prints.
    pub fn to_line(&self) -> String {
        format!(
            "{RESULTS_MARKER}{}\n",
            serde_json::to_string(self).unwrap_or_default()
        )
    }

    /// The last results line of a runner's log.
    pub fn from_log(log: &str) -> Option<Result<AgentResults, serde_json::Error>> {
        log.lines()
            .rev()
            .find_map(|l| l.strip_prefix(RESULTS_MARKER))
            .map(serde_json::from_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_travel_through_a_log_line() {
        let results = AgentResults {
            agent: "a/pod".into(),
            version: "0.1.0".into(),
            cluster_domain: "cluster.local".into(),
            dns_servers: vec!["2001:db8:30::a".parse().unwrap()],
            notes: vec![],
            results: vec![
                TaskResult {
                    id: "K6P002:IPv6:a/pod>a".into(),
                    outcome: Outcome::Connected {
                        address: "[2001:db8::2]:9646".parse().unwrap(),
                        peer: Some("a/pod".into()),
                        nat64: false,
                    },
                    millis: 1,
                },
                TaskResult {
                    id: "x".into(),
                    outcome: Outcome::Unreachable {
                        address: "2001:db8::3".parse().unwrap(),
                        why: Unreachable::NoRoute,
                        local: true,
                        from: None,
                    },
                    millis: 0,
                },
            ],
        };
        let log = format!("starting\n{}other noise\n", results.to_line());
        let back = AgentResults::from_log(&log).unwrap().unwrap();
        assert_eq!(back, results);
        assert!(results.to_line().contains("\"result\":\"unreachable\""));
        assert!(results.to_line().contains("\"why\":\"no-route\""));
        assert!(AgentResults::from_log("nothing here").is_none());
    }
}
