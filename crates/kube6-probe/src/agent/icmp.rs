//! ICMP and ICMPv6 echo, and path MTU discovery with don't-fragment, on blocking sockets.
//!
//! An unprivileged ping socket (`SOCK_DGRAM`, allowed by `net.ipv4.ping_group_range`) is tried
//! first, a raw socket (CAP_NET_RAW) second. Errors ICMP brings back (destination unreachable,
//! Packet Too Big, fragmentation needed) are read from the socket's error queue
//! (`IP_RECVERR`/`IPV6_RECVERR`), with the router that sent them. Full-size packets are sent
//! with `IP_PMTUDISC_DO` (the DF bit) or `IPV6_PMTUDISC_DO` and `IPV6_DONTFRAG` (no local
//! fragmentation): a packet larger than the path MTU the kernel knows fails at once with
//! EMSGSIZE, and a router's Packet Too Big lowers it.

use std::io;
use std::mem::{MaybeUninit, size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::outcome::{PathMtu, Unreachable};

/// IPv4 and IPv6 header sizes (no options, no extension headers) and the ICMP echo header.
const IPV4_HEADER: u32 = 20;
const IPV6_HEADER: u32 = 40;
const ECHO_HEADER: u32 = 8;
/// The size of the small echo: the minimum MTU of IPv4 links holds it everywhere.
const SMALL: u32 = 96;
/// Attempts at each size: one lost packet is not a black hole.
const ATTEMPTS: u32 = 2;

/// An error ICMP brought back for something this socket sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpError {
    /// Packet Too Big (ICMPv6 type 2) or fragmentation needed (ICMP type 3 code 4).
    TooBig { mtu: u32, from: Option<IpAddr> },
    /// Destination unreachable.
    Unreachable {
        why: Unreachable,
        from: Option<IpAddr>,
    },
    /// Anything else (time exceeded, parameter problem).
    Other { errno: i32, from: Option<IpAddr> },
}

/// What one echo request got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    Reply,
    /// The kernel refused to send it (no route: ENETUNREACH; larger than the known path MTU:
    /// EMSGSIZE, with that MTU).
    NotSent {
        errno: i32,
        mtu: Option<u32>,
    },
    Icmp(IcmpError),
    TimedOut,
}

/// A connected echo socket.
pub struct EchoSocket {
    socket: Socket,
    v6: bool,
    raw: bool,
    ident: u16,
    seq: u16,
    peer: IpAddr,
}

fn setsockopt_int(fd: RawFd, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: a valid fd, a pointer to a live c_int and its size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const i32).cast(),
            size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn getsockopt_int(fd: RawFd, level: i32, name: i32) -> io::Result<i32> {
    let mut value: i32 = 0;
    let mut len = size_of::<i32>() as libc::socklen_t;
    // SAFETY: a valid fd, a pointer to a live c_int and its size.
    let rc =
        unsafe { libc::getsockopt(fd, level, name, (&mut value as *mut i32).cast(), &mut len) };
    if rc == 0 {
        Ok(value)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The Internet checksum (RFC 1071), for ICMP over raw IPv4 sockets (the kernel computes it
/// for ping sockets and for ICMPv6).
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in data.chunks(2) {
        let word = match chunk {
            [a, b] => u16::from_be_bytes([*a, *b]),
            [a] => u16::from_be_bytes([*a, 0]),
            _ => 0,
        };
        sum = sum.wrapping_add(u32::from(word));
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

impl EchoSocket {
    /// Opens and connects a socket to `peer` (no route: the error is returned at once), with
    /// don't-fragment and the error queue on.
    pub fn open(peer: IpAddr) -> io::Result<EchoSocket> {
        let (domain, protocol, v6) = match peer {
            IpAddr::V4(_) => (Domain::IPV4, Protocol::ICMPV4, false),
            IpAddr::V6(_) => (Domain::IPV6, Protocol::ICMPV6, true),
        };
        let (socket, raw) = match Socket::new(domain, Type::DGRAM, Some(protocol)) {
            Ok(s) => (s, false),
            Err(dgram) => match Socket::new(domain, Type::RAW, Some(protocol)) {
                Ok(s) => (s, true),
                Err(_) => {
                    return Err(io::Error::new(
                        dgram.kind(),
                        format!(
                            "cannot open an ICMP socket: ping sockets are not allowed for this group (net.ipv4.ping_group_range) and raw sockets need CAP_NET_RAW ({dgram})"
                        ),
                    ));
                }
            },
        };
        let fd = socket.as_raw_fd();
        if v6 {
            setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVERR, 1)?;
            setsockopt_int(
                fd,
                libc::IPPROTO_IPV6,
                libc::IPV6_MTU_DISCOVER,
                libc::IPV6_PMTUDISC_DO,
            )?;
            setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_DONTFRAG, 1)?;
        } else {
            setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_RECVERR, 1)?;
            setsockopt_int(
                fd,
                libc::IPPROTO_IP,
                libc::IP_MTU_DISCOVER,
                libc::IP_PMTUDISC_DO,
            )?;
        }
        socket.connect(&SockAddr::from(SocketAddr::new(peer, 0)))?;
        // Ping sockets get their identifier from the kernel (the local "port"); raw sockets use
        // one of their own, from the process id and the descriptor (several runs at once).
        let ident = (std::process::id() as u16) ^ ((fd as u16) << 8);
        Ok(EchoSocket {
            socket,
            v6,
            raw,
            ident,
            seq: 0,
            peer,
        })
    }

    /// The path MTU the kernel knows for the peer (`IP_MTU`/`IPV6_MTU` of a connected socket).
    pub fn known_mtu(&self) -> Option<u32> {
        let (level, name) = if self.v6 {
            (libc::IPPROTO_IPV6, libc::IPV6_MTU)
        } else {
            (libc::IPPROTO_IP, libc::IP_MTU)
        };
        getsockopt_int(self.socket.as_raw_fd(), level, name)
            .ok()
            .and_then(|m| u32::try_from(m).ok())
    }

    /// The local address the kernel chose for the peer.
    pub fn local_ip(&self) -> Option<IpAddr> {
        self.socket
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map(|s| s.ip())
    }

    fn header(&self) -> u32 {
        if self.v6 { IPV6_HEADER } else { IPV4_HEADER }
    }

    /// Sends one echo request of `size` bytes on the wire (IP header included) and waits for
    /// its reply, an ICMP error about it, or the deadline.
    pub fn echo(&mut self, size: u32, timeout: Duration) -> io::Result<Echo> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let payload = size.saturating_sub(self.header() + ECHO_HEADER).max(8) as usize;
        let mut packet = vec![0u8; ECHO_HEADER as usize + payload];
        packet[0] = if self.v6 { 128 } else { 8 };
        packet[4..6].copy_from_slice(&self.ident.to_be_bytes());
        packet[6..8].copy_from_slice(&seq.to_be_bytes());
        for (i, b) in packet[8..].iter_mut().enumerate() {
            *b = (i % 251) as u8;
        }
        if self.raw && !self.v6 {
            let sum = checksum(&packet);
            packet[2..4].copy_from_slice(&sum.to_be_bytes());
        }
        // Errors queued by earlier packets are not about this one.
        while self.read_error(None).is_some() {}
        if let Err(e) = self.socket.send(&packet) {
            let errno = e.raw_os_error().unwrap_or(0);
            let mtu = (errno == libc::EMSGSIZE)
                .then(|| self.known_mtu())
                .flatten();
            return Ok(Echo::NotSent { errno, mtu });
        }
        let deadline = Instant::now() + timeout;
        let mut buf = vec![MaybeUninit::<u8>::uninit(); 70_000];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Echo::TimedOut);
            }
            let mut pfd = libc::pollfd {
                fd: self.socket.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = i32::try_from(left.as_millis().max(1)).unwrap_or(i32::MAX);
            // SAFETY: one valid pollfd.
            let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
            if rc < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if rc == 0 {
                continue;
            }
            if pfd.revents & libc::POLLERR != 0 {
                match self.read_error(Some(seq)) {
                    Some(Queued::Ours(err)) => return Ok(Echo::Icmp(err)),
                    Some(Queued::Foreign) => continue,
                    None => {}
                }
            }
            if pfd.revents & libc::POLLIN != 0 {
                let n = match self.socket.recv_from(&mut buf) {
                    Ok((n, _)) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    // A pending ICMP error is also reported through recv.
                    Err(_) => {
                        if let Some(Queued::Ours(err)) = self.read_error(Some(seq)) {
                            return Ok(Echo::Icmp(err));
                        }
                        continue;
                    }
                };
                // SAFETY: recv_from initialised the first n bytes.
                let data: &[u8] =
                    unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n) };
                if self.is_reply(data, seq) {
                    return Ok(Echo::Reply);
                }
            }
        }
    }

    fn is_reply(&self, data: &[u8], seq: u16) -> bool {
        // Raw IPv4 sockets deliver the IP header too.
        let icmp = if self.raw && !self.v6 {
            let ihl = data.first().map_or(0, |b| usize::from(b & 0x0f) * 4);
            match data.get(ihl..) {
                Some(rest) => rest,
                None => return false,
            }
        } else {
            data
        };
        let reply_type = if self.v6 { 129 } else { 0 };
        if icmp.len() < 8 || icmp[0] != reply_type {
            return false;
        }
        let got_seq = u16::from_be_bytes([icmp[6], icmp[7]]);
        let ident_ok = !self.raw || u16::from_be_bytes([icmp[4], icmp[5]]) == self.ident;
        ident_ok && got_seq == seq
    }

    /// One entry of the socket's error queue, if there is one. A raw socket connected to a peer
    /// is handed the ICMP errors about every packet to that peer (Linux `rawv6_err`, `raw_err`),
    /// such as the Packet Too Big another probe's full-size packet drew at the same moment; the
    /// error's payload quotes the echo it is about, so an error about another identifier, or
    /// about an earlier echo than `seq`, is [`Queued::Foreign`]. Ping sockets only get their own.
    fn read_error(&self, seq: Option<u16>) -> Option<Queued> {
        let mut data = [0u8; 512];
        let mut control = [0u64; 64];
        let mut iov = libc::iovec {
            iov_base: data.as_mut_ptr().cast(),
            iov_len: data.len(),
        };
        // SAFETY: a zeroed msghdr is valid; every pointer set below outlives the call.
        let mut msg: libc::msghdr = unsafe { zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of::<[u64; 64]>() as _;
        // SAFETY: a valid fd and msghdr.
        let n = unsafe {
            libc::recvmsg(
                self.socket.as_raw_fd(),
                &mut msg,
                libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            return None;
        }
        // SAFETY: walking the control messages the kernel wrote, within msg_controllen.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            while !cmsg.is_null() {
                let level = (*cmsg).cmsg_level;
                let kind = (*cmsg).cmsg_type;
                if (level == libc::IPPROTO_IP && kind == libc::IP_RECVERR)
                    || (level == libc::IPPROTO_IPV6 && kind == libc::IPV6_RECVERR)
                {
                    let ee = libc::CMSG_DATA(cmsg).cast::<libc::sock_extended_err>();
                    let err = std::ptr::read_unaligned(ee);
                    let offender = libc::SO_EE_OFFENDER(ee);
                    let from = sockaddr_ip(offender);
                    let about_icmp = err.ee_origin == libc::SO_EE_ORIGIN_ICMP
                        || err.ee_origin == libc::SO_EE_ORIGIN_ICMP6;
                    let quoted = data.get(..usize::try_from(n).unwrap_or(0)).unwrap_or(&data);
                    if self.raw && about_icmp && !quotes_echo(quoted, self.v6, self.ident, seq) {
                        return Some(Queued::Foreign);
                    }
                    return Some(Queued::Ours(classify(&err, from)));
                }
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
        }
        None
    }

    /// The small echo (`SMALL` bytes), up to [`ATTEMPTS`] times.
    pub fn ping(&mut self, timeout: Duration) -> io::Result<Echo> {
        let mut last = Echo::TimedOut;
        for _ in 0..ATTEMPTS {
            last = self.echo(SMALL, timeout)?;
            if last != Echo::TimedOut {
                break;
            }
        }
        Ok(last)
    }

    pub fn peer(&self) -> IpAddr {
        self.peer
    }
}

/// The address in an offender sockaddr (AF_UNSPEC when the kernel has none).
///
/// # Safety
/// `sa` points into a control message the kernel wrote, followed by a sockaddr of its family.
unsafe fn sockaddr_ip(sa: *const libc::sockaddr) -> Option<IpAddr> {
    // SAFETY: the caller guarantees a sockaddr; the family says which one.
    unsafe {
        match i32::from(std::ptr::read_unaligned(sa).sa_family) {
            libc::AF_INET => {
                let sin = std::ptr::read_unaligned(sa.cast::<libc::sockaddr_in>());
                Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                    sin.sin_addr.s_addr,
                ))))
            }
            libc::AF_INET6 => {
                let sin6 = std::ptr::read_unaligned(sa.cast::<libc::sockaddr_in6>());
                Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
            }
            _ => None,
        }
    }
}

/// Whether an ICMP error's payload (the echo request it quotes, from its ICMP header on) is an
/// echo request with identifier `ident`, and sequence `seq` when given. A payload too short to
/// tell is taken as a match.
fn quotes_echo(quoted: &[u8], v6: bool, ident: u16, seq: Option<u16>) -> bool {
    let request_type = if v6 { 128 } else { 8 };
    match quoted.get(..8) {
        Some(head) => {
            head[0] == request_type
                && u16::from_be_bytes([head[4], head[5]]) == ident
                && seq.is_none_or(|s| u16::from_be_bytes([head[6], head[7]]) == s)
        }
        None => true,
    }
}

/// An entry of a socket's error queue.
enum Queued {
    /// About the echo being waited for.
    Ours(IcmpError),
    /// About a packet this socket did not send, or an earlier one.
    Foreign,
}

fn classify(err: &libc::sock_extended_err, from: Option<IpAddr>) -> IcmpError {
    let errno = err.ee_errno as i32;
    let icmp =
        err.ee_origin == libc::SO_EE_ORIGIN_ICMP || err.ee_origin == libc::SO_EE_ORIGIN_ICMP6;
    if errno == libc::EMSGSIZE {
        return IcmpError::TooBig {
            mtu: err.ee_info,
            from: if icmp { from } else { None },
        };
    }
    let from = if icmp { from } else { None };
    match Unreachable::from_errno(errno) {
        Some(why) => IcmpError::Unreachable { why, from },
        None => IcmpError::Other { errno, from },
    }
}

/// The MTU of the interface holding `local` (the link a packet to the peer leaves by).
pub fn interface_mtu(local: IpAddr) -> Option<u32> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list freed below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return None;
    }
    let mut name: Option<[libc::c_char; libc::IFNAMSIZ]> = None;
    let mut cur = head;
    // SAFETY: walking the list getifaddrs returned; names are NUL-terminated.
    unsafe {
        while !cur.is_null() {
            let ifa = &*cur;
            if !ifa.ifa_addr.is_null() && sockaddr_ip(ifa.ifa_addr) == Some(local) {
                let mut buf = [0 as libc::c_char; libc::IFNAMSIZ];
                let src = std::ffi::CStr::from_ptr(ifa.ifa_name).to_bytes();
                for (i, b) in src.iter().take(libc::IFNAMSIZ - 1).enumerate() {
                    buf[i] = *b as libc::c_char;
                }
                name = Some(buf);
                break;
            }
            cur = ifa.ifa_next;
        }
        libc::freeifaddrs(head);
    }
    let name = name?;
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, None)
        .or_else(|_| Socket::new(Domain::IPV6, Type::DGRAM, None))
        .ok()?;
    // SAFETY: a zeroed ifreq with the name set; SIOCGIFMTU fills ifru_mtu.
    unsafe {
        let mut req: libc::ifreq = zeroed();
        req.ifr_name = name;
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFMTU, &mut req) != 0 {
            return None;
        }
        u32::try_from(req.ifr_ifru.ifru_mtu).ok()
    }
}

/// The path MTU test: a small echo, then full-size echoes with don't-fragment at the link MTU,
/// lowered by every Packet Too Big (or EMSGSIZE) until one is answered or one size is lost
/// without a word.
pub fn path_mtu(peer: IpAddr, timeout: Duration) -> io::Result<PathMtu> {
    let mut socket = EchoSocket::open(peer)?;
    let route_mtu = socket.known_mtu().unwrap_or(1500);
    // Loopback's 65536 is more than one IP packet holds.
    let link_mtu = socket
        .local_ip()
        .and_then(interface_mtu)
        .unwrap_or(route_mtu)
        .min(65_535);
    let mut result = PathMtu {
        address: peer,
        link_mtu,
        path_mtu: None,
        too_big_from: None,
        too_big_mtu: None,
        small: false,
        full: false,
        nat64: false,
        tried: Vec::new(),
    };
    result.small = socket.ping(timeout)? == Echo::Reply;
    if !result.small {
        return Ok(result);
    }
    let minimum = if peer.is_ipv6() { 1280 } else { 576 };
    let mut size = link_mtu;
    // At most a few rounds: each Packet Too Big must lower the size.
    for _ in 0..6 {
        result.tried.push(size);
        let mut outcome = Echo::TimedOut;
        for _ in 0..ATTEMPTS {
            outcome = socket.echo(size, timeout)?;
            if outcome != Echo::TimedOut {
                break;
            }
        }
        let lower = match outcome {
            Echo::Reply => {
                if size == link_mtu && result.too_big_mtu.is_none() {
                    result.full = true;
                }
                result.path_mtu = Some(size);
                return Ok(result);
            }
            Echo::Icmp(IcmpError::TooBig { mtu, from }) => {
                result.too_big_mtu = Some(mtu);
                if from.is_some() {
                    result.too_big_from = from;
                }
                mtu
            }
            Echo::NotSent {
                errno: libc::EMSGSIZE,
                mtu,
            } => {
                let mtu = mtu.unwrap_or(size.saturating_sub(8));
                result.too_big_mtu.get_or_insert(mtu);
                mtu
            }
            // Lost without a word (the black hole), or another error: stop here.
            _ => return Ok(result),
        };
        if lower >= size || lower < minimum {
            return Ok(result);
        }
        size = lower;
    }
    Ok(result)
}

/// The address of a socket address, unmapping IPv4-mapped IPv6 addresses.
pub fn plain_ip(addr: SocketAddr) -> IpAddr {
    match addr {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(*v6.ip()),
        },
        SocketAddr::V4(v4) => IpAddr::V4(*v4.ip()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw socket sees the errors about every echo to its peer: only the ones quoting its own
    /// identifier (and the sequence it waits for) are its answer.
    #[test]
    fn errors_about_other_echoes_are_not_ours() {
        let echo = |kind: u8, ident: u16, seq: u16| {
            let mut p = vec![kind, 0, 0, 0];
            p.extend_from_slice(&ident.to_be_bytes());
            p.extend_from_slice(&seq.to_be_bytes());
            p.extend_from_slice(&[0; 32]);
            p
        };
        assert!(quotes_echo(&echo(128, 7, 3), true, 7, Some(3)));
        assert!(quotes_echo(&echo(128, 7, 3), true, 7, None));
        assert!(!quotes_echo(&echo(128, 8, 3), true, 7, Some(3)));
        assert!(!quotes_echo(&echo(128, 7, 2), true, 7, Some(3)));
        assert!(!quotes_echo(&echo(8, 7, 3), true, 7, Some(3)));
        assert!(quotes_echo(&echo(8, 7, 3), false, 7, Some(3)));
        assert!(quotes_echo(&[128, 0], true, 7, Some(3)));
    }

    #[test]
    fn the_internet_checksum_matches_rfc1071() {
        // RFC 1071 section 3's example: the sum of these words is ddf2, the checksum 220d.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), 0x220d);
        let mut packet = [8u8, 0, 0, 0, 0x12, 0x34, 0, 1, 0xab];
        let sum = checksum(&packet);
        packet[2..4].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(checksum(&packet), 0);
    }

    #[test]
    fn mapped_addresses_are_unmapped() {
        assert_eq!(
            plain_ip("[::ffff:192.0.2.1]:80".parse().unwrap()),
            "192.0.2.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            plain_ip("[2001:db8::1]:80".parse().unwrap()),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
    }

    /// Echo on loopback, where both kinds of socket work for root and ping sockets may work for
    /// others; a machine that allows neither reports why.
    #[test]
    fn loopback_answers_echo_and_its_path_mtu_is_its_link_mtu() {
        for peer in ["127.0.0.1", "::1"] {
            let peer: IpAddr = peer.parse().unwrap();
            let mut socket = match EchoSocket::open(peer) {
                Ok(s) => s,
                Err(e) if peer.is_ipv6() && e.raw_os_error() == Some(libc::EADDRNOTAVAIL) => {
                    continue;
                }
                Err(e) => {
                    assert!(
                        std::env::var("CI").as_deref() != Ok("true"),
                        "cannot open an echo socket: {e}"
                    );
                    return;
                }
            };
            assert_eq!(
                socket.ping(Duration::from_secs(1)).unwrap(),
                Echo::Reply,
                "{peer}"
            );
            let p = path_mtu(peer, Duration::from_secs(1)).unwrap();
            assert!(p.small && p.full, "{p:?}");
            assert_eq!(p.path_mtu, Some(p.link_mtu));
            assert!(p.link_mtu >= 1280, "{p:?}");
        }
    }
}
