//! The real network: TCP connections whose errors are told apart (refused by the sender's own
//! kernel at once, or by ICMP later), DNS queries asked of each cluster DNS server directly with
//! hickory-resolver (never the C library's resolver, which a static binary in an empty image
//! cannot use), and ICMP echo and path MTU ([`super::icmp`]).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use kube6_net::Family;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::io::AsyncReadExt;

use super::icmp::{self, Echo, EchoSocket, IcmpError};
use super::{Greeting, Prober};
use crate::outcome::{Outcome, Unreachable};

/// The longest greeting read.
const GREETING_MAX: usize = 512;

/// The prober of a runner: one resolver per cluster DNS server, so that the answer names its
/// server.
pub struct SystemProber {
    resolvers: Vec<(IpAddr, TokioResolver)>,
}

impl SystemProber {
    /// A prober asking `dns_servers` (in order, the next one when one does not answer). Must be
    /// made inside a Tokio runtime.
    pub fn new(dns_servers: &[IpAddr], timeout: Duration) -> Result<SystemProber, String> {
        let mut resolvers = Vec::new();
        for server in dns_servers {
            let config =
                ResolverConfig::from_name_servers(vec![NameServerConfig::udp_and_tcp(*server)]);
            let mut opts = ResolverOpts::default();
            opts.timeout = timeout;
            opts.attempts = 2;
            opts.cache_size = 0;
            opts.ndots = 0;
            opts.use_hosts_file = ResolveHosts::Never;
            opts.try_tcp_on_error = true;
            opts.recursion_desired = true;
            let resolver =
                TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
                    .with_options(opts)
                    .build()
                    .map_err(|e| format!("cannot make a resolver for {server}: {e}"))?;
            resolvers.push((*server, resolver));
        }
        Ok(SystemProber { resolvers })
    }
}

/// A connect() error as an outcome; `local` when connect() itself failed (the sender's kernel
/// had no route), not the handshake.
fn connect_error(address: SocketAddr, error: &std::io::Error, local: bool) -> Outcome {
    let errno = error.raw_os_error().unwrap_or(0);
    if errno == libc::ECONNREFUSED {
        return Outcome::Refused { address };
    }
    if errno == libc::ETIMEDOUT {
        return Outcome::TimedOut {
            address: address.ip(),
        };
    }
    match Unreachable::from_errno(errno) {
        Some(why) => Outcome::Unreachable {
            address: address.ip(),
            why,
            local,
            from: None,
        },
        None => Outcome::Error {
            message: format!("connect to {address}: {error}"),
        },
    }
}

fn open_error(address: IpAddr, error: &std::io::Error) -> Outcome {
    let errno = error.raw_os_error().unwrap_or(0);
    match Unreachable::from_errno(errno) {
        Some(Unreachable::Prohibited) | None
            if matches!(errno, libc::EPERM | libc::EACCES | libc::EPROTONOSUPPORT) =>
        {
            Outcome::NotRun {
                reason: error.to_string(),
            }
        }
        Some(why) => Outcome::Unreachable {
            address,
            why,
            local: true,
            from: None,
        },
        None => Outcome::Error {
            message: format!("ICMP to {address}: {error}"),
        },
    }
}

fn echo_outcome(address: IpAddr, echo: Echo) -> Outcome {
    match echo {
        Echo::Reply => Outcome::Echoed {
            address,
            nat64: false,
        },
        Echo::TimedOut => Outcome::TimedOut { address },
        Echo::NotSent { errno, .. } => match Unreachable::from_errno(errno) {
            Some(why) => Outcome::Unreachable {
                address,
                why,
                local: true,
                from: None,
            },
            None => Outcome::Error {
                message: format!(
                    "cannot send to {address}: {}",
                    std::io::Error::from_raw_os_error(errno)
                ),
            },
        },
        Echo::Icmp(IcmpError::Unreachable { why, from }) => Outcome::Unreachable {
            address,
            why,
            local: false,
            from,
        },
        Echo::Icmp(IcmpError::TooBig { mtu, from }) => Outcome::Error {
            message: format!(
                "a small echo to {address} drew a Packet Too Big ({mtu}) from {}",
                from.map_or("an unknown router".to_string(), |f| f.to_string())
            ),
        },
        Echo::Icmp(IcmpError::Other { errno, from }) => Outcome::Error {
            message: format!(
                "ICMP error from {}: {}",
                from.map_or("an unknown router".to_string(), |f| f.to_string()),
                std::io::Error::from_raw_os_error(errno)
            ),
        },
    }
}

impl Prober for SystemProber {
    async fn connect(&self, address: SocketAddr, greet: bool, timeout: Duration) -> Outcome {
        let socket = match Socket::new(
            Domain::for_address(address),
            Type::STREAM,
            Some(Protocol::TCP),
        ) {
            Ok(s) => s,
            Err(e) => {
                return Outcome::Error {
                    message: format!("cannot open a TCP socket: {e}"),
                };
            }
        };
        if let Err(e) = socket.set_nonblocking(true) {
            return Outcome::Error {
                message: format!("cannot make a TCP socket non-blocking: {e}"),
            };
        }
        match socket.connect(&SockAddr::from(address)) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return connect_error(address, &e, true),
        }
        let stream = match tokio::net::TcpStream::from_std(std::net::TcpStream::from(socket)) {
            Ok(s) => s,
            Err(e) => {
                return Outcome::Error {
                    message: format!("cannot register a TCP socket: {e}"),
                };
            }
        };
        match tokio::time::timeout(timeout, stream.writable()).await {
            Err(_) => {
                return Outcome::TimedOut {
                    address: address.ip(),
                };
            }
            Ok(Err(e)) => return connect_error(address, &e, false),
            Ok(Ok(())) => {}
        }
        match stream.take_error() {
            Ok(Some(e)) | Err(e) => return connect_error(address, &e, false),
            Ok(None) => {}
        }
        if !greet {
            return Outcome::Connected {
                address,
                peer: None,
                nat64: false,
            };
        }
        let mut stream = stream;
        let mut line = Vec::new();
        let read = tokio::time::timeout(timeout, async {
            let mut buf = [0u8; GREETING_MAX];
            while line.len() < GREETING_MAX && !line.contains(&b'\n') {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => line.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        let text = String::from_utf8_lossy(&line).into_owned();
        match Greeting::parse(text.lines().next().unwrap_or_default()) {
            Some(g) => Outcome::Connected {
                address,
                peer: Some(g.agent),
                nat64: false,
            },
            None if read.is_err() && line.is_empty() => Outcome::Connected {
                address,
                peer: None,
                nat64: false,
            },
            None => Outcome::WrongPeer {
                address,
                expected: "a probe agent".to_string(),
                answered: text.chars().take(60).collect::<String>().trim().to_string(),
            },
        }
    }

    async fn lookup(&self, name: &str, family: Family, _timeout: Duration) -> Outcome {
        let record = match family {
            Family::IPv4 => RecordType::A,
            Family::IPv6 => RecordType::AAAA,
        };
        if self.resolvers.is_empty() {
            return Outcome::DnsError {
                server: None,
                message: "no DNS server: none in the spec and none in /etc/resolv.conf".into(),
            };
        }
        let fqdn = if name.ends_with('.') {
            name.to_string()
        } else {
            format!("{name}.")
        };
        let mut silent = Vec::new();
        for (server, resolver) in &self.resolvers {
            match resolver.lookup(fqdn.as_str(), record).await {
                Ok(lookup) => {
                    let addresses: Vec<IpAddr> = lookup
                        .answers()
                        .iter()
                        .filter_map(|r| match &r.data {
                            RData::A(a) if family == Family::IPv4 => Some(IpAddr::V4(a.0)),
                            RData::AAAA(a) if family == Family::IPv6 => Some(IpAddr::V6(a.0)),
                            _ => None,
                        })
                        .collect();
                    return if addresses.is_empty() {
                        Outcome::NoRecords {
                            server: *server,
                            other_family: None,
                        }
                    } else {
                        Outcome::Answered {
                            server: *server,
                            addresses,
                            synthesized: Vec::new(),
                        }
                    };
                }
                Err(NetError::Dns(DnsError::NoRecordsFound(no))) => {
                    return if no.response_code == ResponseCode::NXDomain {
                        Outcome::NoSuchName { server: *server }
                    } else {
                        Outcome::NoRecords {
                            server: *server,
                            other_family: None,
                        }
                    };
                }
                Err(NetError::Dns(DnsError::ResponseCode(code))) => {
                    return Outcome::DnsError {
                        server: Some(*server),
                        message: format!("{code}"),
                    };
                }
                Err(NetError::Timeout | NetError::NoConnections | NetError::Io(_)) => {
                    silent.push(*server);
                }
                Err(other) => {
                    return Outcome::DnsError {
                        server: Some(*server),
                        message: other.to_string(),
                    };
                }
            }
        }
        Outcome::DnsTimeout { servers: silent }
    }

    async fn echo(&self, address: IpAddr, timeout: Duration) -> Outcome {
        let work = tokio::task::spawn_blocking(move || {
            let mut socket = match EchoSocket::open(address) {
                Ok(s) => s,
                Err(e) => return open_error(address, &e),
            };
            match socket.ping(timeout) {
                Ok(echo) => echo_outcome(address, echo),
                Err(e) => Outcome::Error {
                    message: format!("echo to {address}: {e}"),
                },
            }
        });
        work.await.unwrap_or_else(|e| Outcome::Error {
            message: format!("the echo test stopped: {e}"),
        })
    }

    async fn path_mtu(&self, address: IpAddr, timeout: Duration) -> Outcome {
        let work = tokio::task::spawn_blocking(move || match icmp::path_mtu(address, timeout) {
            Ok(p) => Outcome::PathMtu(p),
            Err(e) => open_error(address, &e),
        });
        work.await.unwrap_or_else(|e| Outcome::Error {
            message: format!("the path MTU test stopped: {e}"),
        })
    }
}
