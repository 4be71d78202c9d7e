//! The proxy's event loop: one thread polls the uplink packet socket, the probe sockets, a
//! netlink socket (links, addresses, routes) and a wake-up eventfd for reloads and shutdown.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::Ipv6Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::{debug, info, warn};

use crate::config::{Config, Mode, RateLimit};
use crate::metrics::{Metrics, MetricsServer, PrefixCounters};
use crate::netlink::{self, Event, KernelState};
use crate::packet::{self, AnswerParams, DropReason, Mac, NeighborSolicit, NsSpec};
use crate::sys;

/// Errors that stop the daemon.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Packet sockets need CAP_NET_RAW; without it no solicitation can ever be read.
    #[error(
        "cannot open packet sockets: the NDP proxy needs CAP_NET_RAW (run it as root, or grant \
         it: `setcap cap_net_raw+ep` on the binary, AmbientCapabilities=CAP_NET_RAW in a systemd unit)"
    )]
    NoPermission(#[source] io::Error),
    #[error("cannot follow the kernel's links, addresses and routes over netlink")]
    Netlink(#[source] io::Error),
    #[error("cannot serve metrics on {0}")]
    Metrics(std::net::SocketAddr, #[source] io::Error),
    #[error(transparent)]
    Io(#[from] io::Error),
}

struct ControlInner {
    wake: OwnedFd,
    shutdown: AtomicBool,
    reload: Mutex<Option<Config>>,
    watched: Mutex<Option<Arc<HashSet<Ipv6Addr>>>>,
}

/// Handle to a running (or about to run) proxy: stop it, or give it a new configuration.
#[derive(Clone)]
pub struct Control {
    inner: Arc<ControlInner>,
}

impl Control {
    pub fn new() -> io::Result<Control> {
        Ok(Control {
            inner: Arc::new(ControlInner {
                wake: sys::eventfd()?,
                shutdown: AtomicBool::new(false),
                reload: Mutex::new(None),
                watched: Mutex::new(None),
            }),
        })
    }

    /// Asks the proxy to stop; [`run`] returns soon after.
    pub fn shutdown(&self) {
        self.inner.shutdown.store(true, Ordering::SeqCst);
        sys::eventfd_signal(&self.inner.wake);
    }

    /// Hands the proxy a new configuration. It is applied between two packets: sockets on an
    /// unchanged uplink stay open, so no solicitation goes unanswered during the switch.
    pub fn reload(&self, config: Config) {
        *self
            .inner
            .reload
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Some(config);
        sys::eventfd_signal(&self.inner.wake);
    }

    /// Hands the proxy the addresses its watch-mode prefixes answer for now (the whole set, which
    /// replaces the previous one between two packets; addresses in both stay answered without a
    /// gap). Addresses outside every watch-mode prefix are never answered through this set.
    pub fn set_watched(&self, addresses: HashSet<Ipv6Addr>) {
        *self
            .inner
            .watched
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Some(Arc::new(addresses));
        sys::eventfd_signal(&self.inner.wake);
    }

    fn take_watched(&self) -> Option<Arc<HashSet<Ipv6Addr>>> {
        self.inner
            .watched
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .take()
    }

    fn take_reload(&self) -> Option<Config> {
        self.inner
            .reload
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .take()
    }

    fn stopping(&self) -> bool {
        self.inner.shutdown.load(Ordering::SeqCst)
    }
}

/// Blocks SIGHUP/SIGTERM/SIGINT in this thread (call it before starting other threads) and
/// starts a thread that turns SIGTERM/SIGINT into [`Control::shutdown`] and SIGHUP into
/// [`Control::reload`] with whatever `reload` returns (`None`: keep the current configuration).
pub fn handle_signals<F>(control: Control, reload: F) -> io::Result<()>
where
    F: Fn() -> Option<Config> + Send + 'static,
{
    sys::block_signals()?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            loop {
                match sys::wait_signal() {
                    Ok(libc::SIGHUP) => {
                        info!("SIGHUP: reloading configuration");
                        if let Some(config) = reload() {
                            control.reload(config);
                        }
                    }
                    Ok(sig) => {
                        // Stop first: logging may fail (e.g. stderr is a closed pipe).
                        control.shutdown();
                        info!(signal = sig, "stopping");
                        break;
                    }
                    Err(e) => {
                        warn!(error = %e, "sigwait failed");
                        break;
                    }
                }
            }
        })?;
    Ok(())
}

/// A configured prefix with its counters.
struct Rule {
    prefix: ipnet::Ipv6Net,
    mode: Mode,
    counters: Arc<PrefixCounters>,
}

/// Token buckets per (source address, source MAC).
struct RateLimiter {
    limit: RateLimit,
    buckets: HashMap<(Ipv6Addr, Mac), (f64, Instant)>,
}

const MAX_BUCKETS: usize = 16_384;

impl RateLimiter {
    fn allow(&mut self, src: Ipv6Addr, mac: Mac, now: Instant) -> bool {
        if self.limit.per_second == 0 {
            return true;
        }
        let rate = f64::from(self.limit.per_second);
        let burst = f64::from(self.limit.burst);
        if self.buckets.len() >= MAX_BUCKETS && !self.buckets.contains_key(&(src, mac)) {
            // Forget sources whose bucket has refilled anyway.
            let full_after = Duration::from_secs_f64(burst / rate);
            self.buckets
                .retain(|_, (_, last)| now.duration_since(*last) < full_after);
            if self.buckets.len() >= MAX_BUCKETS {
                return false;
            }
        }
        let (tokens, last) = self.buckets.entry((src, mac)).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Probe mode: what is known about one target.
enum ProbeState {
    /// An NS went downstream; these solicitors wait for the owner's answer.
    Pending {
        deadline: Instant,
        waiters: Vec<(NeighborSolicit, Arc<PrefixCounters>)>,
    },
    /// The owner answered; answer at once until then.
    Valid { until: Instant },
}

const MAX_WAITERS: usize = 16;
/// Receive buffer of the packet sockets: room for a burst of ~40k solicitations. Kernel memory,
/// used only while frames are queued.
const UPLINK_RCVBUF: usize = 32 << 20;
const MAX_PROBES: usize = 65_536;

/// An open packet socket on one interface.
struct LinkSocket {
    index: u32,
    mac: Mac,
    fd: OwnedFd,
}

struct Daemon {
    config: Config,
    rules: Vec<Rule>,
    metrics: Arc<Metrics>,
    kernel: KernelState,
    netlink: netlink_sys::Socket,
    uplink: Option<LinkSocket>,
    probe_sockets: HashMap<String, LinkSocket>,
    probes: HashMap<Ipv6Addr, ProbeState>,
    limiter: RateLimiter,
    retry_at: Instant,
    /// The uplink was found missing and that was logged (logged again when it comes and goes).
    uplink_missing_logged: bool,
    /// Watch mode: the addresses answered (given by [`Control::set_watched`]).
    watched: Arc<HashSet<Ipv6Addr>>,
}

/// Runs the proxy until `control` asks it to stop. `metrics` receives the counters (pass a
/// fresh `Arc<Metrics>` unless you want to read them in-process).
pub fn run(config: Config, control: &Control, metrics: Arc<Metrics>) -> Result<(), Error> {
    let errors = config.validate();
    if !errors.is_empty() {
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        return Err(Error::Config(text.join("; ")));
    }
    // Checked once, up front: without the capability the proxy would retry forever.
    if let Err(e) = sys::packet_sockets_allowed()
        && matches!(e.raw_os_error(), Some(libc::EPERM | libc::EACCES))
    {
        return Err(Error::NoPermission(e));
    }
    let _server = match config.metrics {
        Some(addr) => {
            let server =
                MetricsServer::start(addr, metrics.clone()).map_err(|e| Error::Metrics(addr, e))?;
            info!(addr = %server.addr(), "serving metrics");
            Some(server)
        }
        None => None,
    };
    // Subscribe first, then dump: events that race with the dump are applied after it, and
    // applying an event twice is harmless.
    let nl = netlink::subscribe().map_err(Error::Netlink)?;
    let mut daemon = Daemon {
        rules: Vec::new(),
        limiter: RateLimiter {
            limit: config.rate_limit,
            buckets: HashMap::new(),
        },
        config,
        metrics,
        kernel: KernelState::default(),
        netlink: nl,
        uplink: None,
        probe_sockets: HashMap::new(),
        probes: HashMap::new(),
        retry_at: Instant::now(),
        uplink_missing_logged: false,
        watched: Arc::new(HashSet::new()),
    };
    daemon.set_rules();
    daemon.resync().map_err(Error::Netlink)?;
    info!(
        uplink = %daemon.config.uplink,
        prefixes = %daemon.config.prefixes.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(","),
        "ndp proxy started"
    );
    daemon.main_loop(control)
}

impl Daemon {
    fn set_rules(&mut self) {
        self.rules = self
            .config
            .prefixes
            .iter()
            .map(|r| Rule {
                prefix: r.prefix,
                mode: r.mode.clone(),
                counters: self
                    .metrics
                    .prefix(&r.prefix.to_string(), &r.mode.to_string()),
            })
            .collect();
        // Longest prefix first, so the first match is the most specific.
        self.rules
            .sort_by_key(|r| std::cmp::Reverse(r.prefix.prefix_len()));
        self.limiter.limit = self.config.rate_limit;
    }

    fn resync(&mut self) -> io::Result<()> {
        let events = netlink::dump_all()?;
        self.kernel.clear();
        for e in &events {
            self.kernel.apply(e);
        }
        debug!(
            links = self.kernel.links.len(),
            routes = self.kernel.route_count(),
            "netlink state loaded"
        );
        self.sync_sockets();
        Ok(())
    }

    /// Opens, reopens or closes the packet sockets so they match the interfaces that exist now.
    fn sync_sockets(&mut self) {
        let now = Instant::now();
        let want = self.kernel.index_of(&self.config.uplink);
        let current = self.uplink.as_ref().map(|s| s.index);
        match want {
            None if !self.uplink_missing_logged => {
                warn!(
                    uplink = %self.config.uplink,
                    "the uplink does not exist; no solicitation is answered until it appears"
                );
                self.uplink_missing_logged = true;
            }
            None => debug!(uplink = %self.config.uplink, "the uplink still does not exist"),
            Some(_) => self.uplink_missing_logged = false,
        }
        if let Some(sock) = &mut self.uplink
            && Some(sock.index) == want
        {
            if let Some(mac) = self.kernel.links.get(&sock.index).and_then(|l| l.mac) {
                sock.mac = mac;
            }
        } else {
            if current.is_some() {
                info!(uplink = %self.config.uplink, "uplink gone; closing its socket");
                self.uplink = None;
                self.metrics.uplink_up.set(0);
            }
            if let Some(index) = want
                && now >= self.retry_at
            {
                match self.open_link(index, packet::ICMPV6_NS, true) {
                    Ok(sock) => {
                        info!(uplink = %self.config.uplink, index, "listening on uplink");
                        self.uplink = Some(sock);
                        self.metrics.uplink_up.set(1);
                    }
                    Err(e) => {
                        warn!(uplink = %self.config.uplink, error = %e, "cannot open the uplink; retrying in 1 s");
                        self.retry_at = now + Duration::from_secs(1);
                    }
                }
            }
        }
        let wanted = self.config.probe_interfaces();
        self.probe_sockets.retain(|name, _| wanted.contains(name));
        for name in wanted {
            let want = self.kernel.index_of(&name);
            let ok = match (self.probe_sockets.get_mut(&name), want) {
                (Some(s), Some(i)) if s.index == i => {
                    if let Some(mac) = self.kernel.links.get(&i).and_then(|l| l.mac) {
                        s.mac = mac;
                    }
                    true
                }
                _ => false,
            };
            if ok {
                continue;
            }
            self.probe_sockets.remove(&name);
            if let Some(index) = want {
                match self.open_link(index, packet::ICMPV6_NA, false) {
                    Ok(sock) => {
                        info!(interface = %name, index, "probing on interface");
                        self.probe_sockets.insert(name, sock);
                    }
                    Err(e) => warn!(interface = %name, error = %e, "cannot open probe interface"),
                }
            }
        }
    }

    fn open_link(&self, index: u32, icmp_type: u8, allmulti: bool) -> io::Result<LinkSocket> {
        let mac = self
            .kernel
            .links
            .get(&index)
            .and_then(|l| l.mac)
            .ok_or_else(|| io::Error::other("interface has no Ethernet address"))?;
        let fd = sys::packet_socket(index, &sys::icmpv6_type_filter(icmp_type))?;
        if allmulti {
            sys::add_allmulti(&fd, index)?;
        }
        let _ = sys::set_rcvbuf(&fd, UPLINK_RCVBUF);
        Ok(LinkSocket { index, mac, fd })
    }

    fn apply_reload(&mut self, config: Config) {
        let errors = config.validate();
        if !errors.is_empty() {
            for e in errors {
                warn!(error = %e, "new configuration rejected; keeping the current one");
            }
            return;
        }
        if config.metrics != self.config.metrics {
            warn!("a new metrics address takes effect only after a restart");
        }
        let uplink_changed = config.uplink != self.config.uplink;
        self.config = config;
        self.set_rules();
        if uplink_changed {
            // Open the new uplink before the old socket is dropped.
            let old = self.uplink.take();
            self.sync_sockets();
            drop(old);
        } else {
            self.sync_sockets();
        }
        self.probes.clear();
        self.metrics.reloads.inc();
        info!(
            uplink = %self.config.uplink,
            prefixes = %self.config.prefixes.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(","),
            "configuration reloaded"
        );
    }

    fn set_watched(&mut self, watched: Arc<HashSet<Ipv6Addr>>) {
        // Only addresses inside a watch-mode prefix are ever answered from the set; the gauge
        // counts those.
        let answered = watched
            .iter()
            .filter(|a| {
                self.rule_for(a)
                    .is_some_and(|i| self.rules[i].mode == Mode::Watch)
            })
            .count();
        self.metrics
            .watched_addresses
            .set(i64::try_from(answered).unwrap_or(i64::MAX));
        debug!(
            addresses = watched.len(),
            answered, "watched addresses updated"
        );
        self.watched = watched;
    }

    fn main_loop(&mut self, control: &Control) -> Result<(), Error> {
        let mut buf = vec![0u8; 65_536];
        loop {
            if control.stopping() {
                info!("ndp proxy stopped");
                return Ok(());
            }
            let mut fds = vec![pollfd(&control.inner.wake), pollfd(&self.netlink)];
            let uplink_slot = self.uplink.as_ref().map(|s| {
                fds.push(pollfd(&s.fd));
                fds.len() - 1
            });
            let probe_names: Vec<String> = self.probe_sockets.keys().cloned().collect();
            for name in &probe_names {
                if let Some(s) = self.probe_sockets.get(name) {
                    fds.push(pollfd(&s.fd));
                }
            }
            let timeout = self.poll_timeout();
            sys::poll(&mut fds, timeout)?;
            if fds[0].revents != 0 {
                sys::eventfd_drain(&control.inner.wake);
                if let Some(config) = control.take_reload() {
                    self.apply_reload(config);
                }
                if let Some(watched) = control.take_watched() {
                    self.set_watched(watched);
                }
                continue;
            }
            if fds[1].revents != 0 {
                self.read_netlink(&mut buf);
            }
            if let Some(slot) = uplink_slot
                && fds[slot].revents != 0
            {
                self.read_uplink(&mut buf);
            }
            let base = uplink_slot.map_or(2, |s| s + 1);
            for (i, name) in probe_names.iter().enumerate() {
                if fds.get(base + i).is_some_and(|f| f.revents != 0) {
                    self.read_probe(name, &mut buf);
                }
            }
            self.expire_probes(Instant::now());
            if self.uplink.is_none() && Instant::now() >= self.retry_at {
                self.sync_sockets();
            }
        }
    }

    fn poll_timeout(&self) -> i32 {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        for p in self.probes.values() {
            if let ProbeState::Pending { deadline, .. } = p {
                next = Some(next.map_or(*deadline, |n| n.min(*deadline)));
            }
        }
        if self.uplink.is_none() && self.kernel.index_of(&self.config.uplink).is_some() {
            next = Some(next.map_or(self.retry_at, |n| n.min(self.retry_at)));
        }
        match next {
            None => -1,
            Some(t) => t
                .saturating_duration_since(now)
                .as_millis()
                .saturating_add(1)
                .min(60_000) as i32,
        }
    }

    fn read_netlink(&mut self, buf: &mut [u8]) {
        let mut links_changed = false;
        loop {
            match netlink::recv(&self.netlink, buf) {
                Ok(n) => {
                    for ev in netlink::parse(&buf[..n]) {
                        if ev == Event::Overrun {
                            self.lost_events();
                            return;
                        }
                        if let Event::Link {
                            name, up, deleted, ..
                        } = &ev
                            && *name == self.config.uplink
                        {
                            info!(uplink = %name, up, deleted, "uplink changed");
                        }
                        links_changed |= self.kernel.apply(&ev);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    self.lost_events();
                    return;
                }
                Err(e) => {
                    warn!(error = %e, "netlink receive failed");
                    break;
                }
            }
        }
        if links_changed {
            self.sync_sockets();
        }
    }

    fn lost_events(&mut self) {
        warn!("netlink events were lost; reloading links, addresses and routes");
        self.metrics.netlink_resyncs.inc();
        if let Err(e) = self.resync() {
            warn!(error = %e, "netlink resync failed");
        }
    }

    fn read_uplink(&mut self, buf: &mut [u8]) {
        // With busy polling, keep reading for `busy_poll` after the last frame instead of going
        // back to sleep: the next solicitation of a burst then costs no wake-up. The whole call
        // is bounded so netlink and control events are never starved.
        let spin = self.config.busy_poll;
        let started = Instant::now();
        let mut last = started;
        let mut handled = 0usize;
        loop {
            let Some(sock) = &self.uplink else { return };
            match sys::recv(&sock.fd, buf) {
                Ok(n) => {
                    self.handle_ns(&buf[..n]);
                    handled += 1;
                    if !spin.is_zero() {
                        last = Instant::now();
                    }
                    if handled >= 4096 {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if spin.is_zero() {
                        return;
                    }
                    let now = Instant::now();
                    if now.duration_since(last) >= spin
                        || now.duration_since(started) >= Duration::from_millis(10)
                    {
                        return;
                    }
                    std::hint::spin_loop();
                }
                Err(e) if e.raw_os_error() == Some(libc::ENETDOWN) => {
                    debug!(uplink = %self.config.uplink, "uplink is down");
                    return;
                }
                Err(e) => {
                    warn!(uplink = %self.config.uplink, error = %e, "uplink receive failed; reopening");
                    self.uplink = None;
                    self.metrics.uplink_up.set(0);
                    self.retry_at = Instant::now() + Duration::from_secs(1);
                    return;
                }
            }
        }
    }

    fn rule_for(&self, target: &Ipv6Addr) -> Option<usize> {
        self.rules.iter().position(|r| r.prefix.contains(target))
    }

    fn handle_ns(&mut self, frame: &[u8]) {
        self.metrics.ns_received.inc();
        let ns = match packet::parse_ns_frame(frame) {
            Ok(ns) => ns,
            Err(reason) => {
                self.metrics.count_drop(reason);
                debug!(%reason, "dropped malformed neighbor solicitation");
                return;
            }
        };
        let Some(i) = self.rule_for(&ns.target) else {
            self.metrics.count_drop(DropReason::OutsidePrefix);
            return;
        };
        let counters = self.rules[i].counters.clone();
        counters.ns_received.inc();
        let reject = |me: &Self, reason: DropReason| {
            me.metrics.count_drop(reason);
            counters.count_drop(reason);
            debug!(target = %ns.target, source = %ns.src, %reason, "not answering");
        };
        if self.kernel.is_own(&ns.target) {
            return reject(self, DropReason::OwnAddress);
        }
        if !ns.src.is_unspecified() && self.kernel.is_own(&ns.src) {
            return reject(self, DropReason::OwnSource);
        }
        let now = Instant::now();
        if !self.limiter.allow(ns.src, ns.eth_src, now) {
            return reject(self, DropReason::RateLimited);
        }
        match self.rules[i].mode.clone() {
            Mode::Static => self.answer(&ns, &counters),
            Mode::Routed => {
                let uplink = self.uplink.as_ref().map(|s| s.index);
                match self.kernel.route_for(&ns.target) {
                    Some(route) if route.oif.is_none() || route.oif != uplink => {
                        self.answer(&ns, &counters)
                    }
                    _ => reject(self, DropReason::NoRoute),
                }
            }
            Mode::Watch => {
                if self.watched.contains(&ns.target) {
                    self.answer(&ns, &counters)
                } else {
                    reject(self, DropReason::NotAnnounced)
                }
            }
            Mode::Probe { interface } => self.probe(ns, counters, &interface, now),
        }
    }

    fn answer(&self, ns: &NeighborSolicit, counters: &PrefixCounters) {
        let Some(sock) = &self.uplink else {
            self.metrics.count_drop(DropReason::UplinkUnavailable);
            counters.count_drop(DropReason::UplinkUnavailable);
            return;
        };
        let frame = packet::build_proxy_na(
            ns,
            AnswerParams {
                mac: sock.mac,
                router: self.config.router,
            },
        );
        match sys::send(&sock.fd, &frame) {
            Ok(_) => {
                self.metrics.na_sent.inc();
                counters.na_sent.inc();
                debug!(target = %ns.target, to = %ns.src, dad = ns.is_dad(), "answered");
            }
            Err(e) => {
                self.metrics.count_drop(DropReason::SendFailed);
                counters.count_drop(DropReason::SendFailed);
                debug!(target = %ns.target, error = %e, "send failed");
            }
        }
    }

    fn probe(
        &mut self,
        ns: NeighborSolicit,
        counters: Arc<PrefixCounters>,
        interface: &str,
        now: Instant,
    ) {
        match self.probes.get_mut(&ns.target) {
            Some(ProbeState::Valid { until }) if *until > now => {
                return self.answer(&ns, &counters);
            }
            Some(ProbeState::Pending { waiters, deadline }) if *deadline > now => {
                if waiters.len() < MAX_WAITERS && !waiters.iter().any(|(w, _)| w.src == ns.src) {
                    waiters.push((ns, counters));
                }
                return;
            }
            _ => {}
        }
        let unavailable = |me: &Self| {
            me.metrics.count_drop(DropReason::ProbeUnavailable);
            counters.count_drop(DropReason::ProbeUnavailable);
        };
        let Some(sock) = self.probe_sockets.get(interface) else {
            return unavailable(self);
        };
        let Some(src) = self.kernel.probe_source(sock.index) else {
            return unavailable(self);
        };
        if self.probes.len() >= MAX_PROBES {
            self.probes.retain(|_, p| match p {
                ProbeState::Valid { until } => *until > now,
                ProbeState::Pending { .. } => true,
            });
            if self.probes.len() >= MAX_PROBES {
                return unavailable(self);
            }
        }
        let frame = packet::build_ns(NsSpec {
            eth_src: sock.mac,
            src,
            dst: None,
            target: ns.target,
            source_lla: Some(sock.mac),
        });
        if sys::send(&sock.fd, &frame).is_err() {
            return unavailable(self);
        }
        self.metrics.probes_sent.inc();
        debug!(target = %ns.target, %interface, "probing");
        self.probes.insert(
            ns.target,
            ProbeState::Pending {
                deadline: now + self.config.probe_timeout,
                waiters: vec![(ns, counters)],
            },
        );
    }

    fn read_probe(&mut self, name: &str, buf: &mut [u8]) {
        for _ in 0..1024 {
            let Some(sock) = self.probe_sockets.get(name) else {
                return;
            };
            let n = match sys::recv(&sock.fd, buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.raw_os_error() == Some(libc::ENETDOWN) => continue,
                Err(e) => {
                    warn!(interface = %name, error = %e, "probe receive failed");
                    self.probe_sockets.remove(name);
                    return;
                }
            };
            let Ok(na) = packet::parse_na_frame(&buf[..n]) else {
                continue;
            };
            // Only owners behind this interface, for targets of a probe rule on it.
            let on_this = self.rule_for(&na.target).is_some_and(
                |i| matches!(&self.rules[i].mode, Mode::Probe { interface } if interface == name),
            );
            if !on_this {
                continue;
            }
            let now = Instant::now();
            let previous = self.probes.insert(
                na.target,
                ProbeState::Valid {
                    until: now + self.config.probe_ttl,
                },
            );
            debug!(target = %na.target, interface = %name, "owner answered");
            if let Some(ProbeState::Pending { waiters, .. }) = previous {
                for (ns, counters) in waiters {
                    self.answer(&ns, &counters);
                }
            }
        }
    }

    fn expire_probes(&mut self, now: Instant) {
        let metrics = &self.metrics;
        self.probes.retain(|_, p| match p {
            ProbeState::Pending { deadline, waiters } => {
                if *deadline <= now {
                    for (_, c) in waiters.iter() {
                        metrics.count_drop(DropReason::ProbeTimeout);
                        c.count_drop(DropReason::ProbeTimeout);
                    }
                    false
                } else {
                    true
                }
            }
            ProbeState::Valid { until } => *until > now,
        });
    }
}

fn pollfd(fd: &impl AsRawFd) -> libc::pollfd {
    libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_refills() {
        let mut rl = RateLimiter {
            limit: RateLimit {
                per_second: 10,
                burst: 3,
            },
            buckets: HashMap::new(),
        };
        let t0 = Instant::now();
        let a: Ipv6Addr = "fe80::1".parse().unwrap();
        let b: Ipv6Addr = "fe80::2".parse().unwrap();
        assert!(rl.allow(a, [0; 6], t0));
        assert!(rl.allow(a, [0; 6], t0));
        assert!(rl.allow(a, [0; 6], t0));
        assert!(!rl.allow(a, [0; 6], t0));
        assert!(rl.allow(b, [0; 6], t0), "sources are limited separately");
        assert!(rl.allow(a, [0; 6], t0 + Duration::from_millis(150)));
        rl.limit.per_second = 0;
        for _ in 0..100 {
            assert!(rl.allow(a, [0; 6], t0));
        }
    }

    #[test]
    fn control_flags() {
        let c = Control::new().unwrap();
        assert!(!c.stopping());
        c.reload(Config::new("n0", vec![]));
        assert!(c.take_reload().is_some());
        assert!(c.take_reload().is_none());
        c.set_watched(HashSet::from(["2001:db8:5::ff01".parse().unwrap()]));
        assert_eq!(c.take_watched().map(|w| w.len()), Some(1));
        assert!(c.take_watched().is_none());
        c.shutdown();
        assert!(c.stopping());
    }
}
