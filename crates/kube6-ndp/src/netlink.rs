//! Just enough rtnetlink for the proxy: dumps and events of links, IPv6 addresses and IPv6
//! routes, parsed by a small bounds-checked parser, and the tables the daemon keeps from them.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::Ipv6Addr;
use std::os::fd::OwnedFd;

use ipnet::Ipv6Net;

use crate::packet::Mac;
use crate::sys;

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_OVERRUN: u16 = 4;
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
const RTM_GETADDR: u16 = 22;
const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;
const RTM_GETROUTE: u16 = 26;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_DUMP: u16 = 0x300;
const AF_INET6: u8 = 10;
const IFF_UP: u32 = 1;
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_PRIORITY: u16 = 6;
const RTA_TABLE: u16 = 15;
/// The main routing table.
pub const RT_TABLE_MAIN: u32 = 254;
/// Route type unicast.
pub const RTN_UNICAST: u8 = 1;

/// Multicast groups: links, IPv6 addresses, IPv6 routes.
pub const GROUPS: u32 = 0x1 | 0x100 | 0x400;

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

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Iterates (type, payload) over rtattrs.
fn attrs(mut buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let len = usize::from(u16_at(buf, 0)?);
        let kind = u16_at(buf, 2)? & 0x3fff;
        if len < 4 || len > buf.len() {
            return None;
        }
        let payload = &buf[4..len];
        buf = buf.get(align4(len)..).unwrap_or(&[]);
        Some((kind, payload))
    })
}

/// Parses every message in one netlink datagram. Unknown or malformed messages are skipped.
pub fn parse(buf: &[u8]) -> Vec<Event> {
    let mut out = Vec::new();
    let mut rest = buf;
    while rest.len() >= NLMSG_HDRLEN {
        let Some(len) = u32_at(rest, 0).map(|l| l as usize) else {
            break;
        };
        if len < NLMSG_HDRLEN || len > rest.len() {
            break;
        }
        let kind = u16_at(rest, 4).unwrap_or_default();
        let body = &rest[NLMSG_HDRLEN..len];
        if let Some(ev) = parse_one(kind, body) {
            out.push(ev);
        }
        rest = rest.get(align4(len)..).unwrap_or(&[]);
    }
    out
}

fn parse_one(kind: u16, body: &[u8]) -> Option<Event> {
    match kind {
        NLMSG_DONE => Some(Event::Done),
        NLMSG_OVERRUN => Some(Event::Overrun),
        NLMSG_ERROR => Some(Event::Error(u32_at(body, 0)? as i32)),
        RTM_NEWLINK | RTM_DELLINK => {
            let index = u32_at(body, 4)?;
            let flags = u32_at(body, 8)?;
            let mut name = None;
            let mut mac = None;
            for (t, p) in attrs(body.get(16..)?) {
                match t {
                    IFLA_IFNAME => {
                        let end = p.iter().position(|&b| b == 0).unwrap_or(p.len());
                        name = Some(String::from_utf8_lossy(&p[..end]).into_owned());
                    }
                    IFLA_ADDRESS if p.len() == 6 => mac = p.try_into().ok(),
                    _ => {}
                }
            }
            Some(Event::Link {
                index,
                name: name?,
                mac,
                up: flags & IFF_UP != 0,
                deleted: kind == RTM_DELLINK,
            })
        }
        RTM_NEWADDR | RTM_DELADDR => {
            if *body.first()? != AF_INET6 {
                return None;
            }
            let index = u32_at(body, 4)?;
            let mut addr = None;
            for (t, p) in attrs(body.get(8..)?) {
                if (t == IFA_ADDRESS || t == IFA_LOCAL) && p.len() == 16 {
                    let bytes: [u8; 16] = p.try_into().ok()?;
                    addr = Some(Ipv6Addr::from(bytes));
                }
            }
            Some(Event::Addr {
                index,
                addr: addr?,
                deleted: kind == RTM_DELADDR,
            })
        }
        RTM_NEWROUTE | RTM_DELROUTE => {
            if *body.first()? != AF_INET6 {
                return None;
            }
            let dst_len = *body.get(1)?;
            let mut table = u32::from(*body.get(4)?);
            let kind_byte = *body.get(7)?;
            let mut dst = Ipv6Addr::UNSPECIFIED;
            let mut oif = None;
            let mut priority = 0;
            for (t, p) in attrs(body.get(12..)?) {
                match t {
                    RTA_DST if p.len() == 16 => {
                        let bytes: [u8; 16] = p.try_into().ok()?;
                        dst = Ipv6Addr::from(bytes);
                    }
                    RTA_OIF => oif = u32_at(p, 0),
                    RTA_PRIORITY => priority = u32_at(p, 0).unwrap_or_default(),
                    RTA_TABLE => table = u32_at(p, 0).unwrap_or(table),
                    _ => {}
                }
            }
            let dst = Ipv6Net::new(dst, dst_len).ok()?.trunc();
            Some(Event::Route {
                route: Route {
                    dst,
                    table,
                    priority,
                    kind: kind_byte,
                    oif,
                },
                deleted: kind == RTM_DELROUTE,
            })
        }
        _ => None,
    }
}

/// A dump request for links, IPv6 addresses or IPv6 routes.
fn dump_request(kind: u16, seq: u32) -> Vec<u8> {
    let body_len = match kind {
        RTM_GETLINK => 16,
        RTM_GETADDR => 8,
        _ => 12,
    };
    let len = NLMSG_HDRLEN + body_len;
    let mut msg = Vec::with_capacity(len);
    msg.extend_from_slice(&(len as u32).to_ne_bytes());
    msg.extend_from_slice(&kind.to_ne_bytes());
    msg.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    msg.extend_from_slice(&seq.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    let mut body = vec![0u8; body_len];
    if kind != RTM_GETLINK {
        body[0] = AF_INET6;
    }
    msg.extend_from_slice(&body);
    msg
}

/// Dumps links, IPv6 addresses and IPv6 routes on a fresh socket (blocking until each is done).
pub fn dump_all() -> io::Result<Vec<Event>> {
    let fd = sys::netlink_socket(0)?;
    let mut events = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    for (seq, kind) in [RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE]
        .into_iter()
        .enumerate()
    {
        sys::send(&fd, &dump_request(kind, seq as u32 + 1))?;
        'dump: loop {
            let n = recv_blocking(&fd, &mut buf)?;
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
fn recv_blocking(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    loop {
        match sys::recv(fd, buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let mut pfd = [libc::pollfd {
                    fd: fd.as_raw_fd(),
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
    use super::*;

    fn msg(kind: u16, body: &[u8]) -> Vec<u8> {
        let len = NLMSG_HDRLEN + body.len();
        let mut m = Vec::new();
        m.extend_from_slice(&(len as u32).to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend_from_slice(body);
        while m.len() % 4 != 0 {
            m.push(0);
        }
        m
    }

    fn attr(kind: u16, payload: &[u8]) -> Vec<u8> {
        let mut a = Vec::new();
        a.extend_from_slice(&((4 + payload.len()) as u16).to_ne_bytes());
        a.extend_from_slice(&kind.to_ne_bytes());
        a.extend_from_slice(payload);
        while a.len() % 4 != 0 {
            a.push(0);
        }
        a
    }

    fn route_msg(kind: u16, dst: &str, len: u8, oif: u32) -> Vec<u8> {
        let mut body = vec![AF_INET6, len, 0, 0, 254, 3, 0, RTN_UNICAST, 0, 0, 0, 0];
        let d: Ipv6Addr = dst.parse().unwrap();
        body.extend(attr(RTA_DST, &d.octets()));
        body.extend(attr(RTA_OIF, &oif.to_ne_bytes()));
        body.extend(attr(RTA_PRIORITY, &1024u32.to_ne_bytes()));
        msg(kind, &body)
    }

    #[test]
    fn parses_links_addrs_routes() {
        let mut link = vec![0u8; 16];
        link[4..8].copy_from_slice(&7u32.to_ne_bytes());
        link[8..12].copy_from_slice(&1u32.to_ne_bytes());
        link.extend(attr(IFLA_IFNAME, b"n0\0"));
        link.extend(attr(IFLA_ADDRESS, &[2, 0, 0, 0, 0, 9]));
        let mut addr = vec![AF_INET6, 64, 0, 0];
        addr.extend_from_slice(&7u32.to_ne_bytes());
        let a: Ipv6Addr = "2001:db8:1::2".parse().unwrap();
        addr.extend(attr(IFA_ADDRESS, &a.octets()));
        let mut buf = msg(RTM_NEWLINK, &link);
        buf.extend(msg(RTM_NEWADDR, &addr));
        buf.extend(route_msg(RTM_NEWROUTE, "2001:db8:1::a:0", 112, 8));
        buf.extend(route_msg(RTM_NEWROUTE, "2001:db8:1::", 64, 7));
        buf.extend(msg(NLMSG_DONE, &[0; 4]));
        let events = parse(&buf);
        assert_eq!(events.len(), 5);
        let mut state = KernelState::default();
        for e in &events {
            state.apply(e);
        }
        assert_eq!(state.index_of("n0"), Some(7));
        assert_eq!(state.links[&7].mac, Some([2, 0, 0, 0, 0, 9]));
        assert!(state.is_own(&a));
        assert_eq!(state.probe_source(7), Some(a));
        let t: Ipv6Addr = "2001:db8:1::a:5".parse().unwrap();
        assert_eq!(state.route_for(&t).unwrap().oif, Some(8));
        let t2: Ipv6Addr = "2001:db8:1::b:5".parse().unwrap();
        assert_eq!(state.route_for(&t2).unwrap().oif, Some(7));
        state.apply(&parse(&route_msg(RTM_DELROUTE, "2001:db8:1::a:0", 112, 8))[0]);
        assert_eq!(state.route_for(&t).unwrap().oif, Some(7));
    }

    #[test]
    fn garbage_is_skipped() {
        assert!(parse(&[]).is_empty());
        assert!(parse(&[0xff; 40]).is_empty());
        let mut m = route_msg(RTM_NEWROUTE, "2001:db8::", 32, 1);
        m.truncate(30);
        assert!(parse(&m).is_empty());
    }

    #[test]
    fn dump_requests_are_well_formed() {
        let r = dump_request(RTM_GETROUTE, 3);
        assert_eq!(r.len(), 28);
        assert_eq!(u32_at(&r, 0), Some(28));
        assert_eq!(r[16], AF_INET6);
    }
}
