//! Thin wrappers over the few Linux system calls the proxy needs and no safe crate covers:
//! AF_PACKET sockets with a classic BPF filter and PACKET_ADD_MEMBERSHIP, NETLINK_ROUTE sockets,
//! eventfd, poll and signal masks. Every `unsafe` block is small and says why it is sound.

use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// EtherType of IPv6, as the packet socket wants it.
const ETH_P_IPV6: u16 = 0x86dd;

/// Turns a -1 return into the errno error.
fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `setsockopt` with a plain-old-data value.
fn setsockopt<T>(fd: RawFd, level: libc::c_int, name: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: `value` is a valid, initialised `T` for the duration of the call and the length
    // passed is exactly its size; the kernel only reads it.
    let ret = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    check(ret).map(|_| ())
}

/// Creates a socket and takes ownership of the descriptor.
fn socket(domain: libc::c_int, ty: libc::c_int, protocol: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: socket(2) takes only integers; on success the returned descriptor is new and ours.
    let fd = check(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, protocol) })?;
    // SAFETY: `fd` was just returned by socket(2) and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A classic BPF filter that accepts IPv6 ICMPv6 frames of one type on Ethernet
/// (EtherType at 12, next header at 14+6, ICMPv6 type at 14+40) and drops everything else.
/// Frames with extension headers are not passed (NDP never needs them).
pub fn icmpv6_type_filter(icmp_type: u8) -> [libc::sock_filter; 8] {
    const LD_H_ABS: u16 = 0x28;
    const LD_B_ABS: u16 = 0x30;
    const JEQ_K: u16 = 0x15;
    const RET_K: u16 = 0x06;
    let ins = |code, jt, jf, k| libc::sock_filter { code, jt, jf, k };
    [
        ins(LD_H_ABS, 0, 0, 12),
        ins(JEQ_K, 0, 5, u32::from(ETH_P_IPV6)),
        ins(LD_B_ABS, 0, 0, 20),
        ins(JEQ_K, 0, 3, 58),
        ins(LD_B_ABS, 0, 0, 54),
        ins(JEQ_K, 0, 1, u32::from(icmp_type)),
        ins(RET_K, 0, 0, 0x0004_0000),
        ins(RET_K, 0, 0, 0),
    ]
}

/// Whether this process may open packet sockets (CAP_NET_RAW in its network namespace): opens
/// one, bound to nothing, and closes it.
pub fn packet_sockets_allowed() -> io::Result<()> {
    socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_NONBLOCK, 0).map(drop)
}

/// Opens a non-blocking AF_PACKET raw socket that receives, on interface `ifindex` only, the
/// frames `filter` accepts. The filter is attached before the socket is bound, so nothing
/// unfiltered is ever queued.
pub fn packet_socket(ifindex: u32, filter: &[libc::sock_filter]) -> io::Result<OwnedFd> {
    // Protocol 0: the socket receives nothing until bind() names a protocol.
    let fd = socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_NONBLOCK, 0)?;
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    setsockopt(
        fd.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_ATTACH_FILTER,
        &prog,
    )?;
    let addr = libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as u16,
        sll_protocol: ETH_P_IPV6.to_be(),
        sll_ifindex: ifindex as libc::c_int,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    };
    // SAFETY: `addr` is a valid sockaddr_ll and the length passed is its size.
    let ret = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_ll).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    check(ret)?;
    Ok(fd)
}

/// Asks for all multicast frames on `ifindex` for as long as `fd` lives. The kernel counts this
/// membership per socket and drops it when the socket closes, also when the process is killed,
/// so the interface's allmulti state is never left behind.
pub fn add_allmulti(fd: &OwnedFd, ifindex: u32) -> io::Result<()> {
    let mreq = libc::packet_mreq {
        mr_ifindex: ifindex as libc::c_int,
        mr_type: libc::PACKET_MR_ALLMULTI as u16,
        mr_alen: 0,
        mr_address: [0; 8],
    };
    setsockopt(
        fd.as_raw_fd(),
        libc::SOL_PACKET,
        libc::PACKET_ADD_MEMBERSHIP,
        &mreq,
    )
}

/// Sets the receive buffer, beyond rmem_max when CAP_NET_ADMIN allows (SO_RCVBUFFORCE).
pub fn set_rcvbuf(fd: &OwnedFd, bytes: usize) -> io::Result<()> {
    let value = bytes.min(i32::MAX as usize) as libc::c_int;
    setsockopt(
        fd.as_raw_fd(),
        libc::SOL_SOCKET,
        libc::SO_RCVBUFFORCE,
        &value,
    )
    .or_else(|_| setsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF, &value))
}

/// Receives one datagram (non-blocking sockets return `WouldBlock` when empty).
pub fn recv(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: the buffer pointer and length describe writable memory we own.
    let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Sends one datagram (a whole frame on a bound packet socket).
pub fn send(fd: &OwnedFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: the buffer pointer and length describe readable memory we own.
    let n = unsafe { libc::send(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// A non-blocking eventfd used to wake the event loop from other threads.
pub fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd(2) takes only integers; on success the descriptor is new and ours.
    let fd = check(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) })?;
    // SAFETY: `fd` was just returned by eventfd(2) and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Adds 1 to an eventfd.
pub fn eventfd_signal(fd: &OwnedFd) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a local u64, as eventfd requires. A full counter only means a
    // wake-up is already pending, so the result does not matter.
    let _ = unsafe { libc::write(fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
}

/// Resets an eventfd.
pub fn eventfd_drain(fd: &OwnedFd) {
    let mut value: u64 = 0;
    // SAFETY: reads at most 8 bytes into a local u64.
    let _ = unsafe { libc::read(fd.as_raw_fd(), (&mut value as *mut u64).cast(), 8) };
}

/// poll(2) over `fds` with a timeout in milliseconds (-1: none). EINTR counts as 0 ready.
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> io::Result<usize> {
    // SAFETY: the pointer and count describe a mutable slice of pollfd we own.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if n < 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(err);
    }
    Ok(n as usize)
}

/// The signals the daemon handles: SIGHUP (reload), SIGTERM and SIGINT (stop).
fn handled_signals() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise and fill the local set; all zeroes is a valid
    // starting value for sigset_t.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGHUP);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        set
    }
}

/// Blocks SIGHUP, SIGTERM and SIGINT in the calling thread (and the threads it starts later),
/// so that [`wait_signal`] can take them synchronously.
pub fn block_signals() -> io::Result<()> {
    let set = handled_signals();
    // SAFETY: `set` is initialised; the old mask is not asked for.
    let ret = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if ret != 0 {
        return Err(io::Error::from_raw_os_error(ret));
    }
    Ok(())
}

/// Waits for one of the blocked signals and returns its number.
pub fn wait_signal() -> io::Result<libc::c_int> {
    let set = handled_signals();
    let mut sig: libc::c_int = 0;
    // SAFETY: `set` is initialised and `sig` is a valid place for the result.
    let ret = unsafe { libc::sigwait(&set, &mut sig) };
    if ret != 0 {
        return Err(io::Error::from_raw_os_error(ret));
    }
    Ok(sig)
}

/// Moves the calling thread into the network namespace at `path` (e.g. /var/run/netns/NAME).
/// Only this thread changes namespace; sockets it opens afterwards belong to that namespace.
pub fn enter_netns(path: &std::path::Path) -> io::Result<()> {
    let file = std::fs::File::open(path)?;
    // SAFETY: setns(2) takes a descriptor we keep open for the call and a namespace type.
    check(unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) }).map(|_| ())
}

/// Effective user id of this process.
pub fn euid() -> u32 {
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    unsafe { libc::geteuid() }
}
