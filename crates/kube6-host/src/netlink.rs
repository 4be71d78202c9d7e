//! Links, addresses and routes of the current network namespace, read over rtnetlink into plain
//! data ([`Interfaces`]) that the checks and node-IP detection work on.

use std::net::IpAddr;

use kube6_net::Family;
use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkInfo, LinkMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
use serde::{Deserialize, Serialize};

use crate::Error;

/// A network interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub index: u32,
    pub name: String,
    pub mtu: u32,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    pub loopback: bool,
    /// The link kind (`veth`, `bridge`, `vxlan`, ...), when the kernel reports one.
    pub kind: Option<String>,
}

/// The address flags that matter for choosing an address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddrFlags {
    /// IPv6 privacy (temporary) address.
    pub temporary: bool,
    /// IPv4 secondary address (often a VIP).
    pub secondary: bool,
    pub deprecated: bool,
    pub tentative: bool,
    pub dadfailed: bool,
    /// Configured statically; autoconfigured (SLAAC, DHCP) addresses lack it.
    pub permanent: bool,
}

/// An address on an interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub ifindex: u32,
    pub ifname: String,
    pub addr: IpAddr,
    pub prefix_len: u8,
    pub flags: AddrFlags,
}

/// A route of the main table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub family: Family,
    /// `None` for a default route.
    pub dst: Option<(IpAddr, u8)>,
    pub gateway: Option<IpAddr>,
    pub oif: Option<u32>,
    pub oif_name: Option<String>,
    /// `ra`, `kernel`, `boot`, `static`, `dhcp`, ...: who installed it.
    pub protocol: String,
    pub metric: u32,
    pub prefsrc: Option<IpAddr>,
}

impl Route {
    pub fn is_default(&self) -> bool {
        self.dst.is_none()
    }
}

/// Everything read over netlink.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interfaces {
    pub links: Vec<Link>,
    pub addresses: Vec<Address>,
    /// Unicast routes of the main table.
    pub routes: Vec<Route>,
}

impl Interfaces {
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }

    pub fn addresses_on<'a>(&'a self, ifname: &'a str) -> impl Iterator<Item = &'a Address> + 'a {
        self.addresses.iter().filter(move |a| a.ifname == ifname)
    }

    /// The default route of a family with the lowest metric.
    pub fn default_route(&self, family: Family) -> Option<&Route> {
        self.routes
            .iter()
            .filter(|r| r.family == family && r.is_default())
            .min_by_key(|r| r.metric)
    }

    /// Where an address is configured, if it is.
    pub fn find_address(&self, ip: IpAddr) -> Option<&Address> {
        self.addresses.iter().find(|a| a.addr == ip)
    }
}

/// Reads links, addresses and routes of the calling thread's network namespace.
pub fn read_interfaces() -> Result<Interfaces, Error> {
    let socket = open()?;
    let mut seq = 1;
    let links: Vec<Link> = dump(
        &socket,
        &mut seq,
        RouteNetlinkMessage::GetLink(LinkMessage::default()),
        "links",
    )?
    .into_iter()
    .filter_map(|m| match m {
        RouteNetlinkMessage::NewLink(link) => Some(convert_link(link)),
        _ => None,
    })
    .collect();
    let name_of = |index: u32| {
        links
            .iter()
            .find(|l| l.index == index)
            .map(|l| l.name.clone())
    };
    let addresses = dump(
        &socket,
        &mut seq,
        RouteNetlinkMessage::GetAddress(AddressMessage::default()),
        "addresses",
    )?
    .into_iter()
    .filter_map(|m| match m {
        RouteNetlinkMessage::NewAddress(addr) => convert_address(addr, &name_of),
        _ => None,
    })
    .collect();
    let mut routes = Vec::new();
    for family in [AddressFamily::Inet, AddressFamily::Inet6] {
        let mut request = RouteMessage::default();
        request.header.address_family = family;
        let answers = dump(
            &socket,
            &mut seq,
            RouteNetlinkMessage::GetRoute(request),
            "routes",
        )?;
        routes.extend(answers.into_iter().filter_map(|m| match m {
            RouteNetlinkMessage::NewRoute(route) => convert_route(route, &name_of),
            _ => None,
        }));
    }
    Ok(Interfaces {
        links,
        addresses,
        routes,
    })
}

fn open() -> Result<Socket, Error> {
    let err = |source: std::io::Error| Error::Netlink {
        what: "interfaces",
        source,
    };
    let mut socket = Socket::new(NETLINK_ROUTE).map_err(err)?;
    socket.bind_auto().map_err(err)?;
    socket.connect(&SocketAddr::new(0, 0)).map_err(err)?;
    Ok(socket)
}

fn dump(
    socket: &Socket,
    seq: &mut u32,
    request: RouteNetlinkMessage,
    what: &'static str,
) -> Result<Vec<RouteNetlinkMessage>, Error> {
    let err = |source: std::io::Error| Error::Netlink { what, source };
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    header.sequence_number = *seq;
    *seq += 1;
    let mut message = NetlinkMessage::new(header, NetlinkPayload::from(request));
    message.finalize();
    let mut buf = vec![0; message.header.length as usize];
    message.serialize(&mut buf[..]);
    socket.send(&buf, 0).map_err(err)?;

    let mut out = Vec::new();
    loop {
        let (data, _) = socket.recv_from_full().map_err(err)?;
        let mut offset = 0;
        while offset < data.len() {
            let parsed: NetlinkMessage<RouteNetlinkMessage> =
                NetlinkMessage::deserialize(&data[offset..])
                    .map_err(|e| err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
            let length = parsed.header.length as usize;
            match parsed.payload {
                NetlinkPayload::Done(_) => return Ok(out),
                NetlinkPayload::Error(e) => {
                    if e.code.is_none() {
                        return Ok(out);
                    }
                    return Err(err(e.to_io()));
                }
                NetlinkPayload::InnerMessage(inner) => out.push(inner),
                _ => {}
            }
            if length == 0 {
                break;
            }
            offset += length;
        }
    }
}

fn convert_link(message: LinkMessage) -> Link {
    let mut link = Link {
        index: message.header.index,
        name: String::new(),
        mtu: 0,
        up: message.header.flags.contains(LinkFlags::Up),
        loopback: message.header.flags.contains(LinkFlags::Loopback),
        kind: None,
    };
    for attribute in message.attributes {
        match attribute {
            LinkAttribute::IfName(name) => link.name = name,
            LinkAttribute::Mtu(mtu) => link.mtu = mtu,
            LinkAttribute::LinkInfo(infos) => {
                for info in infos {
                    if let LinkInfo::Kind(kind) = info {
                        link.kind = Some(kind.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    link
}

fn convert_address(
    message: AddressMessage,
    name_of: &dyn Fn(u32) -> Option<String>,
) -> Option<Address> {
    let header = &message.header;
    let mut local = None;
    let mut address = None;
    let mut label = None;
    let mut flags = AddressFlags::from_bits_retain(u32::from(header.flags.bits()));
    for attribute in &message.attributes {
        match attribute {
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Address(ip) => address = Some(*ip),
            AddressAttribute::Label(l) => label = Some(l.clone()),
            AddressAttribute::Flags(f) => flags = *f,
            _ => {}
        }
    }
    // For IPv4, IFA_LOCAL is the interface's own address and IFA_ADDRESS the peer on
    // point-to-point links; IPv6 sends only IFA_ADDRESS unless there is a peer.
    let addr = local.or(address)?;
    let ipv6 = addr.is_ipv6();
    Some(Address {
        ifindex: header.index,
        ifname: name_of(header.index)
            .or(label)
            .unwrap_or_else(|| header.index.to_string()),
        addr,
        prefix_len: header.prefix_len,
        flags: AddrFlags {
            temporary: ipv6 && flags.contains(AddressFlags::Secondary),
            secondary: !ipv6 && flags.contains(AddressFlags::Secondary),
            deprecated: flags.contains(AddressFlags::Deprecated),
            tentative: flags.contains(AddressFlags::Tentative),
            dadfailed: flags.contains(AddressFlags::Dadfailed),
            permanent: flags.contains(AddressFlags::Permanent),
        },
    })
}

const RT_TABLE_MAIN: u32 = 254;

fn convert_route(message: RouteMessage, name_of: &dyn Fn(u32) -> Option<String>) -> Option<Route> {
    let header: &RouteHeader = &message.header;
    let family = match header.address_family {
        AddressFamily::Inet => Family::IPv4,
        AddressFamily::Inet6 => Family::IPv6,
        _ => return None,
    };
    if u8::from(header.kind) != 1 {
        // Only unicast routes (RTN_UNICAST); local, broadcast, multicast entries are not paths.
        return None;
    }
    let mut table = u32::from(header.table);
    let mut dst = None;
    let mut gateway = None;
    let mut oif = None;
    let mut metric = 0;
    let mut prefsrc = None;
    for attribute in &message.attributes {
        match attribute {
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Destination(a) => dst = route_ip(a),
            RouteAttribute::Gateway(a) => gateway = route_ip(a),
            RouteAttribute::Oif(i) => oif = Some(*i),
            RouteAttribute::Priority(p) => metric = *p,
            RouteAttribute::PrefSource(a) => prefsrc = route_ip(a),
            RouteAttribute::MultiPath(hops) => {
                if let Some(hop) = hops.first() {
                    oif = oif.or(Some(hop.interface_index));
                    for a in &hop.attributes {
                        if let RouteAttribute::Gateway(g) = a {
                            gateway = gateway.or(route_ip(g));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if table != RT_TABLE_MAIN {
        return None;
    }
    let dst = if header.destination_prefix_length == 0 {
        None
    } else {
        dst.map(|ip| (ip, header.destination_prefix_length))
    };
    Some(Route {
        family,
        dst,
        gateway,
        oif,
        oif_name: oif.and_then(name_of),
        protocol: protocol_name(header.protocol),
        metric,
        prefsrc,
    })
}

fn route_ip(address: &RouteAddress) -> Option<IpAddr> {
    match address {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

/// The names `ip route` prints for route protocols.
fn protocol_name(protocol: RouteProtocol) -> String {
    match protocol {
        RouteProtocol::Unspec => "unspec".into(),
        RouteProtocol::IcmpRedirect => "redirect".into(),
        RouteProtocol::Kernel => "kernel".into(),
        RouteProtocol::Boot => "boot".into(),
        RouteProtocol::Static => "static".into(),
        RouteProtocol::Ra => "ra".into(),
        RouteProtocol::Dhcp => "dhcp".into(),
        RouteProtocol::Bird => "bird".into(),
        RouteProtocol::Zebra => "zebra".into(),
        RouteProtocol::Bgp => "bgp".into(),
        RouteProtocol::Ospf => "ospf".into(),
        RouteProtocol::KeepAlived => "keepalived".into(),
        RouteProtocol::Babel => "babel".into(),
        other => u8::from(other).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_namespace() {
        // Every namespace has a loopback interface; reading needs no privileges.
        let interfaces = read_interfaces().unwrap();
        assert!(
            interfaces.links.iter().any(|l| l.loopback),
            "{interfaces:?}"
        );
    }
}
