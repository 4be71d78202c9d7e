//! The NDP proxy's test network, shared by its namespace tests and the benchmark: the
//! router ↔ node ↔ pod topology of docs/ndp-proxy.md, processes started inside it, and a raw
//! packet prober that sends neighbor solicitations from the router and records the answers.
//!
//! Only documentation (2001:db8::/32) and link-local addresses are used, only inside namespaces
//! created here, and everything is removed on drop (also when a test panics).

use std::io;
use std::net::Ipv6Addr;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use kube6_ndp::netlink::{self, Event};
use kube6_ndp::packet::{self, Mac, NeighborAdvert, NsSpec};
use kube6_ndp::sys;

/// Checks that the topology can be built here: root (namespaces, raw sockets) and `ip`.
pub fn check_environment() -> Result<(), String> {
    match crate::missing(&[]) {
        None => Ok(()),
        Some(why) => Err(format!("needs {why}")),
    }
}

/// The address every test pod gets.
pub const POD: &str = "2001:db8:1::a:5";
/// The router's address on the shared /64.
pub const ROUTER: &str = "2001:db8:1::1";
/// The node's address on the shared /64.
pub const NODE: &str = "2001:db8:1::2";

/// Three namespaces: `rtr` (r0) ↔ (n0) `node` (p0) ↔ (eth0) `pod`, as in the reference:
/// the router has 2001:db8:1::/64 on-link, the node routes 2001:db8:1::a:0/112 to the pod.
pub struct Topology {
    pub rtr: String,
    pub node: String,
    pub pod: String,
    /// A directory for configuration files and logs, removed with the topology.
    pub scratch: PathBuf,
    children: Vec<Child>,
}

fn run_cmd(program: &str, args: &[&str]) -> io::Result<Output> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out)
}

impl Topology {
    /// Creates the namespaces and links; names contain the pid and a counter, so tests can run
    /// in parallel.
    pub fn create(tag: &str) -> io::Result<Topology> {
        let base = crate::netns::unique_name(tag);
        let topo = Topology {
            rtr: format!("{base}-rtr"),
            node: format!("{base}-node"),
            pod: format!("{base}-pod"),
            scratch: std::env::temp_dir().join(&base),
            children: Vec::new(),
        };
        std::fs::create_dir_all(&topo.scratch)?;
        for ns in [&topo.rtr, &topo.node, &topo.pod] {
            run_cmd("ip", &["netns", "add", ns])?;
            topo.sysctl(ns, "net.ipv6.conf.all.accept_dad", "0")?;
            topo.sysctl(ns, "net.ipv6.conf.default.accept_dad", "0")?;
            topo.ip(ns, &["link", "set", "lo", "up"])?;
        }
        topo.make_uplink()?;
        run_cmd(
            "ip",
            &[
                "link", "add", "p0", "netns", &topo.node, "type", "veth", "peer", "name", "eth0",
                "netns", &topo.pod,
            ],
        )?;
        topo.ip(&topo.node, &["link", "set", "p0", "up"])?;
        topo.ip(&topo.pod, &["link", "set", "eth0", "up"])?;
        topo.sysctl(&topo.node, "net.ipv6.conf.all.forwarding", "1")?;
        topo.ip(
            &topo.node,
            &["addr", "add", "fe80::1/64", "dev", "p0", "nodad"],
        )?;
        topo.ip(
            &topo.node,
            &["-6", "route", "add", "2001:db8:1::a:0/112", "dev", "p0"],
        )?;
        topo.ip(
            &topo.pod,
            &["addr", "add", &format!("{POD}/128"), "dev", "eth0", "nodad"],
        )?;
        topo.ip(
            &topo.pod,
            &[
                "-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0",
            ],
        )?;
        Ok(topo)
    }

    /// (Re)creates the r0 ↔ n0 link with its addresses.
    pub fn make_uplink(&self) -> io::Result<()> {
        run_cmd(
            "ip",
            &[
                "link", "add", "r0", "netns", &self.rtr, "type", "veth", "peer", "name", "n0",
                "netns", &self.node,
            ],
        )?;
        self.ip(&self.rtr, &["link", "set", "r0", "up"])?;
        self.ip(&self.node, &["link", "set", "n0", "up"])?;
        self.ip(
            &self.rtr,
            &["addr", "add", &format!("{ROUTER}/64"), "dev", "r0", "nodad"],
        )?;
        self.ip(
            &self.node,
            &["addr", "add", &format!("{NODE}/64"), "dev", "n0", "nodad"],
        )?;
        Ok(())
    }

    /// `ip -n NS ARGS...`.
    pub fn ip(&self, ns: &str, args: &[&str]) -> io::Result<Output> {
        let mut all = vec!["-n", ns];
        all.extend_from_slice(args);
        run_cmd("ip", &all)
    }

    /// `sysctl -w KEY=VALUE` inside NS.
    pub fn sysctl(&self, ns: &str, key: &str, value: &str) -> io::Result<()> {
        run_cmd(
            "ip",
            &[
                "netns",
                "exec",
                ns,
                "sysctl",
                "-qw",
                &format!("{key}={value}"),
            ],
        )
        .map(|_| ())
    }

    /// Runs a program inside NS and returns its output (whatever the exit status).
    pub fn exec(&self, ns: &str, program: &str, args: &[&str]) -> io::Result<Output> {
        Command::new("ip")
            .args(["netns", "exec", ns, program])
            .args(args)
            .stdin(Stdio::null())
            .output()
    }

    /// Starts a program inside NS; it is killed when the topology is dropped. Returns its pid.
    pub fn spawn(
        &mut self,
        ns: &str,
        program: impl AsRef<std::ffi::OsStr>,
        args: &[&str],
        log: Option<PathBuf>,
    ) -> io::Result<u32> {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns]).arg(program).args(args);
        cmd.stdin(Stdio::null()).stdout(Stdio::null());
        match log {
            Some(path) => {
                cmd.stderr(std::fs::File::create(path)?);
            }
            None => {
                cmd.stderr(Stdio::null());
            }
        }
        let child = cmd.spawn()?;
        let pid = child.id();
        self.children.push(child);
        Ok(pid)
    }

    /// Sends `signal` to a process started with [`Topology::spawn`]. For SIGKILL/SIGTERM it waits
    /// up to 5 s for the process to exit, kills it if it did not, and returns whether it exited by
    /// itself. Other signals return true.
    pub fn signal(&mut self, pid: u32, signal: i32) -> bool {
        // `ip netns exec` execs the program, so the pid is the program's.
        let _ = Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status();
        if (signal == libc::SIGKILL || signal == libc::SIGTERM)
            && let Some(pos) = self.children.iter().position(|c| c.id() == pid)
        {
            let mut child = self.children.remove(pos);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        true
    }

    /// The MAC of IFNAME in NS.
    pub fn mac(&self, ns: &str, ifname: &str) -> io::Result<Mac> {
        let ns = ns.to_string();
        let ifname = ifname.to_string();
        in_netns(&ns, move || link_by_name(&ifname).map(|(_, mac)| mac))?
    }

    /// The flags line of `ip -d link show IFNAME` (to look for "allmulti N").
    pub fn allmulti(&self, ns: &str, ifname: &str) -> io::Result<u32> {
        let out = self.ip(ns, &["-d", "link", "show", ifname])?;
        let text = String::from_utf8_lossy(&out.stdout);
        let value = text
            .split_whitespace()
            .skip_while(|w| *w != "allmulti")
            .nth(1)
            .and_then(|v| v.parse().ok());
        value.ok_or_else(|| io::Error::other(format!("no allmulti in: {text}")))
    }

    /// GET http://127.0.0.1:PORT/metrics from inside NS.
    pub fn metrics(&self, ns: &str, port: u16) -> io::Result<String> {
        let ns = ns.to_string();
        in_netns(&ns, move || {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n")?;
            let mut body = String::new();
            s.read_to_string(&mut body)?;
            Ok(body)
        })?
    }

    /// Waits until the metrics endpoint in NS reports the uplink socket open.
    pub fn wait_proxy_up(&self, ns: &str, port: u16) -> io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(m) = self.metrics(ns, port)
                && m.contains("kube6_ndp_uplink_up 1")
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(io::Error::other("proxy did not come up within 10 s"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in [&self.rtr, &self.node, &self.pod] {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
        if std::env::var_os("KUBE6_NDP_KEEP_LOGS").is_none() {
            let _ = std::fs::remove_dir_all(&self.scratch);
        }
    }
}

/// Reads one counter (with its exact label set, e.g. `kube6_ndp_drops_total{reason="checksum"}`)
/// from a Prometheus text page.
pub fn metric(page: &str, name: &str) -> Option<u64> {
    page.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Runs `f` on a thread that has entered network namespace `ns`.
pub fn in_netns<T, F>(ns: &str, f: F) -> io::Result<T>
where
    T: Send,
    F: FnOnce() -> T + Send,
{
    let path = PathBuf::from("/var/run/netns").join(ns);
    std::thread::scope(|s| {
        s.spawn(move || {
            sys::enter_netns(&path)?;
            Ok(f())
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("namespace thread panicked")))
    })
}

/// Index and MAC of an interface in the calling thread's namespace.
pub fn link_by_name(name: &str) -> io::Result<(u32, Mac)> {
    for ev in netlink::dump_all()? {
        if let Event::Link {
            index,
            name: n,
            mac: Some(mac),
            deleted: false,
            ..
        } = ev
            && n == name
        {
            return Ok((index, mac));
        }
    }
    Err(io::Error::other(format!("no interface {name}")))
}

/// A raw-socket NS sender and NA receiver on one interface. Create it on a thread inside the
/// namespace (see [`in_netns`]).
pub struct Prober {
    fd: OwnedFd,
    /// MAC of the interface (Ethernet source of the NS).
    pub mac: Mac,
}

/// One received advertisement.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub na: NeighborAdvert,
    pub eth_dst: Mac,
    pub hop_limit: u8,
    pub frame: Vec<u8>,
}

impl Prober {
    pub fn open(ifname: &str) -> io::Result<Prober> {
        let (index, mac) = link_by_name(ifname)?;
        let fd = sys::packet_socket(index, &sys::icmpv6_type_filter(packet::ICMPV6_NA))?;
        sys::set_rcvbuf(&fd, 256 << 20)?;
        Ok(Prober { fd, mac })
    }

    /// An NS for `target` from `src`, to the target's solicited-node address, with the source
    /// link-layer option (none for a DAD NS from ::).
    pub fn ns(&self, src: Ipv6Addr, target: Ipv6Addr) -> Vec<u8> {
        packet::build_ns(NsSpec {
            eth_src: self.mac,
            src,
            dst: None,
            target,
            source_lla: (!src.is_unspecified()).then_some(self.mac),
        })
    }

    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        loop {
            match sys::send(&self.fd, frame) {
                Ok(_) => return Ok(()),
                Err(e)
                    if e.raw_os_error() == Some(libc::ENOBUFS)
                        || e.kind() == io::ErrorKind::WouldBlock =>
                {
                    std::thread::yield_now();
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Receives advertisements until `quiet` passes without one or `until` is reached.
    pub fn collect(&self, until: Instant, quiet: Option<Duration>) -> io::Result<Vec<Received>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 2048];
        let mut last = Instant::now();
        loop {
            let now = Instant::now();
            if now >= until || quiet.is_some_and(|q| now.duration_since(last) >= q) {
                return Ok(out);
            }
            if let Some(r) = self.recv_one(&mut buf)? {
                last = r.at;
                out.push(r);
                continue;
            }
            let wait = until
                .saturating_duration_since(now)
                .min(Duration::from_millis(5));
            self.wait(wait)?;
        }
    }

    /// Receives one advertisement if one is queued.
    pub fn recv_one(&self, buf: &mut [u8]) -> io::Result<Option<Received>> {
        loop {
            match sys::recv(&self.fd, buf) {
                Ok(n) => {
                    let at = Instant::now();
                    if let Ok(na) = packet::parse_na_frame(&buf[..n]) {
                        let mut eth_dst = [0u8; 6];
                        eth_dst.copy_from_slice(&buf[..6]);
                        return Ok(Some(Received {
                            at,
                            na,
                            eth_dst,
                            hop_limit: buf[packet::ETH_HLEN + 7],
                            frame: buf[..n].to_vec(),
                        }));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits until a frame is queued or `timeout` passes.
    pub fn wait(&self, timeout: Duration) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let mut pfd = [libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        sys::poll(&mut pfd, timeout.as_millis().max(1) as i32).map(|_| ())
    }

    /// Sends one NS and returns the first NA for `target` within `timeout`.
    pub fn ask(
        &self,
        frame: &[u8],
        target: Ipv6Addr,
        timeout: Duration,
    ) -> io::Result<Option<Received>> {
        let mut buf = vec![0u8; 2048];
        while self.recv_one(&mut buf)?.is_some() {}
        self.send(frame)?;
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(r) = self.recv_one(&mut buf)? {
                if r.na.target == target {
                    return Ok(Some(r));
                }
                continue;
            }
            self.wait(deadline.saturating_duration_since(Instant::now()))?;
        }
        Ok(None)
    }
}
