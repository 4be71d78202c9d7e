//! Just enough rtnetlink for the proxy: dumps and events of links, IPv6 addresses and IPv6
//! routes, decoded by `netlink-packet-route` over `netlink-sys` sockets (as kube6-host reads
//! them), and the tables the daemon keeps from them.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::os::fd::AsRawFd;

use ipnet::Ipv6Net;
use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use crate::packet::Mac;
use crate::sys;

/// The main routing table.
pub const RT_TABLE_MAIN: u32 = 254;
/// Route type unicast.
pub const RTN_UNICAST: u8 = 1;

/// Multicast groups: links, IPv6 addresses, IPv6 routes.
pub const GROUPS: u32 =
    (libc::RTMGRP_LINK | libc::RTMGRP_IPV6_IFADDR | libc::RTMGRP_IPV6_ROUTE) as u32;

/// One change (or dump entry) from the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Link {
        index: u32,
        name: String,
        mac: Option<Mac>,
        up: bool,
        deleted: bool,
    },
    Addr {
        index: u32,
        addr: Ipv6Addr,
        deleted: bool,
    },
    Route {
        route: Route,
        deleted: bool,
    },
    /// End of a dump.
    Done,
    /// An error reply (negative errno, 0 = ack).
    Error(i32),
    /// The kernel says messages were lost.
    Overrun,
}

/// An IPv6 route as far as routed mode cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Route {
    pub dst: Ipv6Net,
    pub table: u32,
    pub priority: u32,
    pub kind: u8,
    /// Output interface; `None` for multipath or interface-less routes.
    pub oif: Option<u32>,
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Decodes every message in one netlink datagram. Messages the proxy does not follow, and
/// messages that do not decode, are skipped; a header that does not fit ends the datagram.
pub fn parse(buf: &[u8]) -> Vec<Event> {
    let mut out = Vec::new();
    let mut offset = 0;
    while offset < buf.len() {
        let rest = &buf[offset..];
        let Ok(header) = NetlinkBuffer::new_checked(rest) else {
            break;
        };
        let len = header.length() as usize;
        let Some(message) = rest.get(..len) else {
            break;
        };
        if let Ok(message) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(message)
            && let Some(event) = event_of(message.payload)
        {
            out.push(event);
        }
        offset += align4(len.max(1));
    }
    out
}

fn event_of(payload: NetlinkPayload<RouteNetlinkMessage>) -> Option<Event> {
    match payload {
        NetlinkPayload::Done(_) => Some(Event::Done),
        NetlinkPayload::Overrun(_) => Some(Event::Overrun),
        NetlinkPayload::Error(e) => Some(Event::Error(e.raw_code())),
        NetlinkPayload::InnerMessage(message) => match message {
            RouteNetlinkMessage::NewLink(link) => link_event(link, false),
            RouteNetlinkMessage::DelLink(link) => link_event(link, true),
            RouteNetlinkMessage::NewAddress(addr) => addr_event(addr, false),
            RouteNetlinkMessage::DelAddress(addr) => addr_event(addr, true),
            RouteNetlinkMessage::NewRoute(route) => route_event(route, false),
            RouteNetlinkMessage::DelRoute(route) => route_event(route, true),
            _ => None,
        },
        _ => None,
    }
}

fn link_event(message: LinkMessage, deleted: bool) -> Option<Event> {
    let mut name = None;
    let mut mac = None;
    for attribute in message.attributes {
        match attribute {
            LinkAttribute::IfName(n) => name = Some(n),
            LinkAttribute::Address(a) => mac = <Mac>::try_from(a.as_slice()).ok(),
            _ => {}
        }
    }
    Some(Event::Link {
        index: message.header.index,
        name: name?,
        mac,
        up: message.header.flags.contains(LinkFlags::Up),
        deleted,
    })
}

fn addr_event(message: AddressMessage, deleted: bool) -> Option<Event> {
    if message.header.family != AddressFamily::Inet6 {
        return None;
    }
    let addr = message.attributes.iter().find_map(|a| match a {
        AddressAttribute::Address(IpAddr::V6(ip)) | AddressAttribute::Local(IpAddr::V6(ip)) => {
            Some(*ip)
        }
        _ => None,
    })?;
    Some(Event::Addr {
        index: message.header.index,
        addr,
        deleted,
    })
}

fn route_event(message: RouteMessage, deleted: bool) -> Option<Event> {
    let header = &message.header;
    if header.address_family != AddressFamily::Inet6 {
        return None;
    }
    let mut table = u32::from(header.table);
    let mut dst = Ipv6Addr::UNSPECIFIED;
    let mut oif = None;
    let mut priority = 0;
    for attribute in &message.attributes {
        match attribute {
            RouteAttribute::Destination(RouteAddress::Inet6(a)) => dst = *a,
            RouteAttribute::Oif(i) => oif = Some(*i),
            RouteAttribute::Priority(p) => priority = *p,
            RouteAttribute::Table(t) => table = *t,
            _ => {}
        }
    }
    let dst = Ipv6Net::new(dst, header.destination_prefix_length)
        .ok()?
        .trunc();
    Some(Event::Route {
        route: Route {
            dst,
            table,
            priority,
            kind: u8::from(header.kind),
            oif,
        },
        deleted,
    })
}

/// A dump request (`NLM_F_DUMP`) for `request`.
fn dump_request(request: RouteNetlinkMessage, seq: u32) -> Vec<u8> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    header.sequence_number = seq;
    let mut message = NetlinkMessage::new(header, NetlinkPayload::from(request));
    message.finalize();
    let mut buf = vec![0; message.header.length as usize];
    message.serialize(&mut buf[..]);
    buf
}

/// The three dumps the proxy needs: links, IPv6 addresses, IPv6 routes.
fn dump_requests() -> [RouteNetlinkMessage; 3] {
    let mut addresses = AddressMessage::default();
    addresses.header.family = AddressFamily::Inet6;
    let mut routes = RouteMessage::default();
    routes.header.address_family = AddressFamily::Inet6;
    [
        RouteNetlinkMessage::GetLink(LinkMessage::default()),
        RouteNetlinkMessage::GetAddress(addresses),
        RouteNetlinkMessage::GetRoute(routes),
    ]
}

/// A non-blocking NETLINK_ROUTE socket, bound to the multicast `groups` (0 for none).
fn open(groups: u32) -> io::Result<Socket> {
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    socket.bind(&SocketAddr::new(0, groups))?;
    socket.set_non_blocking(true)?;
    Ok(socket)
}

/// The socket the daemon follows the kernel's link, address and route changes on.
pub fn subscribe() -> io::Result<Socket> {
    let socket = open(GROUPS)?;
    // Bursts of route changes must not overflow it; an overflow costs a resync (ENOBUFS).
    let _ = socket.set_rx_buf_sz(4usize << 20);
    Ok(socket)
}

/// Reads one datagram from a non-blocking netlink socket into `buf`.
pub fn recv(socket: &Socket, buf: &mut [u8]) -> io::Result<usize> {
    let len = buf.len();
    let mut unfilled = buf;
    let n = socket.recv(&mut unfilled, 0)?;
    Ok(n.min(len))
}

/// Dumps links, IPv6 addresses and IPv6 routes on a fresh socket (blocking until each is done).
pub fn dump_all() -> io::Result<Vec<Event>> {
    let socket = open(0)?;
    let mut events = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    for (seq, request) in dump_requests().into_iter().enumerate() {
        socket.send(&dump_request(request, seq as u32 + 1), 0)?;
        'dump: loop {
            let n = recv_blocking(&socket, &mut buf)?;
            for ev in parse(&buf[..n]) {
                match ev {
                    Event::Done => break 'dump,
                    Event::Error(e) if e < 0 => {
                        return Err(io::Error::from_raw_os_error(-e));
                    }
                    Event::Error(_) => break 'dump,
                    other => events.push(other),
                }
            }
        }
    }
    Ok(events)
}

/// Receives on a non-blocking socket, waiting up to 5 s for data.
fn recv_blocking(socket: &Socket, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match recv(socket, buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let mut pfd = [libc::pollfd {
                    fd: socket.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                }];
                if sys::poll(&mut pfd, 5000)? == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "netlink dump timed out",
                    ));
                }
            }
            other => return other,
        }
    }
}

/// A network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub name: String,
    pub mac: Option<Mac>,
    pub up: bool,
}

/// Links, addresses and routes of this network namespace, kept from dumps and events.
#[derive(Debug, Default)]
pub struct KernelState {
    pub links: HashMap<u32, Link>,
    addrs: HashSet<(u32, Ipv6Addr)>,
    own: HashSet<Ipv6Addr>,
    routes: HashSet<Route>,
}

impl KernelState {
    /// Forgets everything (before a resynchronising dump).
    pub fn clear(&mut self) {
        *self = KernelState::default();
    }

    /// Applies one event; returns true if links changed.
    pub fn apply(&mut self, event: &Event) -> bool {
        match event {
            Event::Link {
                index,
                name,
                mac,
                up,
                deleted,
            } => {
                if *deleted {
                    self.links.remove(index);
                    self.addrs.retain(|(i, _)| i != index);
                    self.routes.retain(|r| r.oif != Some(*index));
                    self.rebuild_own();
                } else {
                    self.links.insert(
                        *index,
                        Link {
                            name: name.clone(),
                            mac: *mac,
                            up: *up,
                        },
                    );
                }
                true
            }
            Event::Addr {
                index,
                addr,
                deleted,
            } => {
                if *deleted {
                    self.addrs.remove(&(*index, *addr));
                } else {
                    self.addrs.insert((*index, *addr));
                }
                self.rebuild_own();
                false
            }
            Event::Route { route, deleted } => {
                if *deleted {
                    self.routes.remove(route);
                } else {
                    self.routes.insert(*route);
                }
                false
            }
            _ => false,
        }
    }

    fn rebuild_own(&mut self) {
        self.own = self.addrs.iter().map(|(_, a)| *a).collect();
    }

    /// The index of the interface called `name`.
    pub fn index_of(&self, name: &str) -> Option<u32> {
        self.links
            .iter()
            .find(|(_, l)| l.name == name)
            .map(|(i, _)| *i)
    }

    /// True if `addr` is assigned to any interface of this host.
    pub fn is_own(&self, addr: &Ipv6Addr) -> bool {
        self.own.contains(addr)
    }

    /// An address of interface `index` to send probes from: link-local preferred.
    pub fn probe_source(&self, index: u32) -> Option<Ipv6Addr> {
        let mut best = None;
        for (i, a) in &self.addrs {
            if *i != index {
                continue;
            }
            let link_local = (a.segments()[0] & 0xffc0) == 0xfe80;
            if link_local {
                return Some(*a);
            }
            best.get_or_insert(*a);
        }
        best
    }

    /// The main-table unicast route the kernel would pick for `target`: longest prefix, then
    /// lowest metric.
    pub fn route_for(&self, target: &Ipv6Addr) -> Option<&Route> {
        self.routes
            .iter()
            .filter(|r| r.table == RT_TABLE_MAIN && r.kind == RTN_UNICAST && r.dst.contains(target))
            .min_by_key(|r| (std::cmp::Reverse(r.dst.prefix_len()), r.priority))
    }

    /// Number of routes kept.
    pub fn route_count(&self) -> usize {
        self.routes.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use netlink_packet_route::route::{RouteHeader, RouteType};

    use super::*;

    /// A message as the kernel sends it, encoded by netlink-packet-route.
    fn wire(message: RouteNetlinkMessage) -> Vec<u8> {
        let mut message =
            NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::from(message));
        message.finalize();
        let mut buf = vec![0; message.header.length as usize];
        message.serialize(&mut buf[..]);
        buf
    }

    fn link(index: u32, name: &str, mac: [u8; 6]) -> Vec<u8> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.header.flags = LinkFlags::Up;
        m.attributes.push(LinkAttribute::IfName(name.into()));
        m.attributes.push(LinkAttribute::Address(mac.to_vec()));
        wire(RouteNetlinkMessage::NewLink(m))
    }

    fn address(index: u32, addr: &str) -> Vec<u8> {
        let mut m = AddressMessage::default();
        m.header.family = AddressFamily::Inet6;
        m.header.index = index;
        m.header.prefix_len = 64;
        m.attributes
            .push(AddressAttribute::Address(addr.parse().unwrap()));
        wire(RouteNetlinkMessage::NewAddress(m))
    }

    fn route(new: bool, dst: &str, len: u8, oif: u32) -> Vec<u8> {
        let mut m = RouteMessage::default();
        m.header = RouteHeader {
            address_family: AddressFamily::Inet6,
            destination_prefix_length: len,
            table: RouteHeader::RT_TABLE_MAIN,
            kind: RouteType::Unicast,
            ..RouteHeader::default()
        };
        m.attributes
            .push(RouteAttribute::Destination(RouteAddress::Inet6(
                dst.parse().unwrap(),
            )));
        m.attributes.push(RouteAttribute::Oif(oif));
        m.attributes.push(RouteAttribute::Priority(1024));
        wire(if new {
            RouteNetlinkMessage::NewRoute(m)
        } else {
            RouteNetlinkMessage::DelRoute(m)
        })
    }

    fn done() -> Vec<u8> {
        let mut message: NetlinkMessage<RouteNetlinkMessage> = NetlinkMessage::new(
            NetlinkHeader::default(),
            NetlinkPayload::Done(Default::default()),
        );
        message.finalize();
        let mut buf = vec![0; message.header.length as usize];
        message.serialize(&mut buf[..]);
        buf
    }

    #[test]
    fn parses_links_addrs_routes() {
        let a: Ipv6Addr = "2001:db8:1::2".parse().unwrap();
        let mut buf = link(7, "n0", [2, 0, 0, 0, 0, 9]);
        buf.extend(address(7, "2001:db8:1::2"));
        buf.extend(route(true, "2001:db8:1::a:0", 112, 8));
        buf.extend(route(true, "2001:db8:1::", 64, 7));
        buf.extend(done());
        let events = parse(&buf);
        assert_eq!(events.len(), 5, "{events:?}");
        assert_eq!(events[4], Event::Done);
        let mut state = KernelState::default();
        for e in &events {
            state.apply(e);
        }
        assert_eq!(state.index_of("n0"), Some(7));
        assert_eq!(state.links[&7].mac, Some([2, 0, 0, 0, 0, 9]));
        assert!(state.links[&7].up);
        assert!(state.is_own(&a));
        assert_eq!(state.probe_source(7), Some(a));
        let t: Ipv6Addr = "2001:db8:1::a:5".parse().unwrap();
        assert_eq!(state.route_for(&t).unwrap().oif, Some(8));
        let t2: Ipv6Addr = "2001:db8:1::b:5".parse().unwrap();
        assert_eq!(state.route_for(&t2).unwrap().oif, Some(7));
        state.apply(&parse(&route(false, "2001:db8:1::a:0", 112, 8))[0]);
        assert_eq!(state.route_for(&t).unwrap().oif, Some(7));
    }

    #[test]
    fn garbage_is_skipped() {
        assert!(parse(&[]).is_empty());
        assert!(parse(&[0xff; 40]).is_empty());
        let mut m = route(true, "2001:db8::", 32, 1);
        m.truncate(30);
        assert!(parse(&m).is_empty());
        // A message that does not decode is skipped; the ones after it still count.
        let mut buf = vec![0u8; 20];
        buf[0..4].copy_from_slice(&20u32.to_ne_bytes());
        buf[4..6].copy_from_slice(&24u16.to_ne_bytes());
        buf.extend(done());
        assert_eq!(parse(&buf), vec![Event::Done]);
    }

    #[test]
    fn dump_requests_are_well_formed() {
        let [_, _, routes] = dump_requests();
        let r = dump_request(routes, 3);
        let decoded = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&r).unwrap();
        assert_eq!(decoded.header.sequence_number, 3);
        assert_eq!(decoded.header.flags, NLM_F_REQUEST | NLM_F_DUMP);
        match decoded.payload {
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::GetRoute(m)) => {
                assert_eq!(m.header.address_family, AddressFamily::Inet6)
            }
            other => panic!("{other:?}"),
        }
    }
}
