//! `kube6 probe agent serve`: the other end of every TCP test. It accepts connections on the
//! probe port and writes one greeting line naming itself, so the sender knows who answered (the
//! right pod, another one, or something that is no agent). ICMP echo is the kernel's.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::Greeting;

/// A bound agent: its listeners and greeting.
pub struct Server {
    listeners: Vec<TcpListener>,
    greeting: String,
}

fn listener(address: SocketAddr, dual: bool) -> io::Result<TcpListener> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    if address.is_ipv6() {
        socket.set_only_v6(!dual)?;
    }
    socket.bind(&SockAddr::from(address))?;
    socket.listen(1024)?;
    Ok(socket.into())
}

impl Server {
    /// Binds `port` on every address (one dual-stack socket, or IPv4 alone where the kernel
    /// has no IPv6), or on `addresses` only.
    pub fn bind(agent: &str, port: u16, addresses: &[IpAddr]) -> io::Result<Server> {
        let mut listeners = Vec::new();
        if addresses.is_empty() {
            match listener(
                SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
                true,
            ) {
                Ok(l) => listeners.push(l),
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::EAFNOSUPPORT) | Some(libc::EADDRNOTAVAIL)
                    ) =>
                {
                    listeners.push(listener(
                        SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
                        false,
                    )?);
                }
                Err(e) => return Err(e),
            }
        } else {
            for a in addresses {
                listeners.push(listener(SocketAddr::new(*a, port), false)?);
            }
        }
        Ok(Server {
            listeners,
            greeting: Greeting {
                agent: agent.to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            }
            .line(),
        })
    }

    /// Where it listens.
    pub fn addresses(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Answers connections until the process ends.
    pub fn run(self) -> io::Result<()> {
        let greeting = self.greeting;
        std::thread::scope(|scope| {
            for listener in &self.listeners {
                let greeting = greeting.as_bytes();
                scope.spawn(move || {
                    loop {
                        match listener.accept() {
                            Ok((mut stream, _)) => {
                                let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
                                let _ = stream.write_all(greeting);
                                let _ = stream.shutdown(std::net::Shutdown::Both);
                            }
                            // Out of descriptors or the like: wait for connections to close.
                            Err(_) => std::thread::sleep(Duration::from_millis(50)),
                        }
                    }
                });
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_agent_greets_every_connection_with_its_id() {
        let server = Server::bind("n1/pod", 0, &["127.0.0.1".parse().unwrap()]).unwrap();
        let addr = server.addresses()[0];
        std::thread::spawn(move || server.run());
        for _ in 0..3 {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            let mut text = String::new();
            s.read_to_string(&mut text).unwrap();
            assert_eq!(Greeting::parse(&text).unwrap().agent, "n1/pod");
        }
    }

    #[test]
    fn the_prober_reads_the_greeting_and_tells_refusals_apart() {
        use crate::agent::Prober;
        use crate::agent::net::SystemProber;
        use crate::outcome::Outcome;
        let server = Server::bind("n2/host", 0, &["127.0.0.1".parse().unwrap()]).unwrap();
        let addr = server.addresses()[0];
        std::thread::spawn(move || server.run());
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let prober = SystemProber::new(&[], Duration::from_secs(1)).unwrap();
            let t = Duration::from_secs(2);
            match prober.connect(addr, true, t).await {
                Outcome::Connected { peer, .. } => assert_eq!(peer.as_deref(), Some("n2/host")),
                other => panic!("{other:?}"),
            }
            assert_eq!(
                prober.connect(closed, true, t).await,
                Outcome::Refused { address: closed }
            );
            assert!(matches!(
                prober.lookup("x.example", kube6_net::Family::IPv6, t).await,
                Outcome::DnsError { server: None, .. }
            ));
        });
    }
}
